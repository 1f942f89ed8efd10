"""English rules."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"

RULES = RuleSet(
    language="en",
    cta=re.compile(
        r"link in (?:my |the )?bio|link below|click the link|check out the link|swipe up"
        r"|\btap (?:on )?(?:the |that |this )?(?:little )?(?:orange |yellow )?(?:cart|basket|link|button)"
        r"|\b(?:orange|yellow) (?:cart|basket)"
        r"|\b(?:shop|buy|order) (?:it |yours |them )?now|\bshop (?:the|my) (?:link|storefront)"
        r"|\bget (?:yours|one|it now)|\bgrab (?:yours|one)|\buse (?:my |the )?code|\bcode \w+ for"
        r"|\badd (?:it |this |them )?to (?:your )?cart|limited time"
        r"|\bcomment (?:[\"'“][^\"'”]+[\"'”]|(?:down )?below|\w+ (?:for|and i'?ll|to get))"
        r"|\bfollow (?:me )?for (?:more|part)|\bdm me",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT,
         r"\bstop scrolling\b|\bdon'?t scroll\b|^(?:wait|hold up|hold on|psst|hey you|omg)\b|^stop[.!,]"),
        (F.CONTRARIAN,
         r"unpopular opinion|hot take|controversial|\bstop (?:doing|using|buying|wasting|putting|washing|applying)\b"
         r"|doing it wrong|\bdon'?t (?:buy|use|waste)\b|overrated|\bmyths?\b|is a scam|is a lie"),
        (F.BEFORE_AFTER,
         r"\bbefore (?:and|&|/|vs\.?) after\b|\bbefore/after\b|transformation|\bwent from\b.+\bto\b"
         rf"|\bday {_N} vs\.? day\b|\bafter (?:just |only )?{_N} (?:days?|weeks?|months?)\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|let me tell you (?:about|a story)|\btrue story\b|\bthe day i\b"),
        (F.UNBOXING_REACTION,
         r"\bunbox(?:ing)?\b|just arrived|\bit'?s (?:finally )?here\b|finally (?:came|arrived|got here)"
         r"|\bmy (?:honest )?reaction\b|first impressions?|\blet'?s open\b|open (?:this|it) with me|\bhaul\b"),
        (F.OFFER_URGENCY,
         r"\d+ ?% off|\bsale\b|today only|limited time|last chance|\bends (?:today|tonight|soon|at midnight)\b"
         r"|\bdiscount|half price|free shipping|price drop|\bonly \$\d|before it'?s gone"
         r"|while (?:supplies|stock) lasts?"),
        (F.SOCIAL_PROOF,
         r"everyone(?:'s| is) (?:buying|obsessed|talking|using|getting)|sold out|\bmillions?\b|\bviral\b"
         r"|\b\d[\d,.]*k?\+? (?:reviews|sold|customers|people)\b|made me buy|best-?sellers?\b"
         r"|dermatologists? (?:recommend|approved)"),
        (F.LISTICLE,
         rf"\b{_N} (?:\w+ )?(?:hacks|ways|things|reasons|tips|tricks|products|items|mistakes|secrets|signs|steps"
         r"|finds|must-haves|gadgets)\b"),
        (F.HOW_TO,
         r"\bhow to\b|\bhere'?s how\b|\bhow i (?:got|made|fixed|clean|cleaned|use|get)\b|\btutorial\b"
         r"|step by step|show you how|the right way to"),
        (F.CURIOSITY_GAP,
         r"\bno ?(?:body|one) (?:talks|tells|told|knows)\b|\bsecrets?\b|here'?s why|here is why|won'?t believe"
         r"|the (?:real )?reason|what happens|\bhidden\b|didn'?t know|don'?t know about|the truth about"
         r"|little-known|you need to know"),
        (F.RELATABLE_PAIN,
         r"\bif you (?:have|struggle|suffer|hate|are tired|'re tired|can'?t|deal|keep|always|never)"
         r"|\bstruggl|tired of|sick of|anyone else|can'?t stand|i used to hate|\bam i the only\b"),
        (F.QUESTION,
         r"\?|^(?:do|does|did|have|has|are|is|was|were|can|could|would|will|should|why|what|who|where|when"
         r"|which)\b"),
        (F.BOLD_CLAIM,
         r"\b(?:best|greatest|easiest|fastest|cheapest|strongest|softest|most)\b|\bever\b|#1\b|number one"
         r"|game ?changer|changed my life|\bfixed my\b|obsessed|holy grail|\bmiracle\b|guaranteed"
         r"|the only \w+ you(?:'ll)? (?:ever )?need|never going back"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset(
        "the and for you your this that with have has are was its it's not but all can get got out now how why what"
        " our my me i a an to of in on is".split()
    ),
)
