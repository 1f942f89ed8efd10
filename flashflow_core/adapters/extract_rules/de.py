"""German rules."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|zwei|drei|vier|f[üu]nf|sechs|sieben|acht|neun|zehn|zw[öo]lf|f[üu]nfzehn|zwanzig)"

RULES = RuleSet(
    language="de",
    cta=re.compile(
        r"link (?:ist )?in (?:meiner |der )?bio|\bder link ist|\blink unten"
        r"|\btipp(?:e)? auf (?:den |das |die )?(?:(?:orangen|gelben) )?(?:warenkorb|link|button|korb)"
        r"|(?:orange[nr]?|gelbe[nr]?) (?:warenkorb|korb)|\bjetzt (?:kaufen|bestellen|sichern)"
        r"|\bkauf(?:e)? (?:es |ihn |sie )?jetzt|\bbestell(?:e)? (?:es |ihn |sie )?jetzt"
        r"|\bhol (?:dir|euch) (?:deine[nrs]?|eure[nrs]?|ihn|sie|es|jetzt)|\bsichere? dir|\bcode \w+"
        r"|\bin den warenkorb|nur f[üu]r kurze zeit|\bschreib(?:t)? (?:es )?in die kommentare|\bkommentier(?:e|t)?\b"
        r"|\bfolg(?:e|t)? mir f[üu]r",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT, r"\bh[öo]r auf zu scrollen\b|\bnicht (?:weiter)?scrollen\b|^(?:warte|stopp?|moment)\b"),
        (F.CONTRARIAN, r"unpopul[äa]re meinung|\bh[öo]r auf,? (?:\w+ )?zu (?:benutzen|kaufen|waschen)\b"
                       r"|du machst (?:es|das) falsch|\bkauf(?:t)? (?:das|kein)|[üu]berbewertet|\bmythos\b"
                       r"|ist abzocke|ist eine l[üu]ge"),
        (F.BEFORE_AFTER, rf"\bvorher (?:und|&|/|vs\.?) nachher\b|verwandlung|transformation|\btag {_N} vs\.?"
                         rf"|\bnach (?:nur )?{_N} (?:tagen|wochen|monaten)\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|lass mich (?:dir )?erz[äa]hlen|wahre geschichte"
                          r"|\bder tag,? an dem\b"),
        (F.UNBOXING_REACTION, r"\bunboxing\b|\bauspacken\b|gerade angekommen|\bist (?:endlich )?da\b"
                              r"|meine (?:ehrliche )?reaktion|erste(?:r)? eindruck|\blass uns (?:es )?[öo]ffnen"),
        (F.OFFER_URGENCY, r"\d+ ?% (?:rabatt|reduziert|off)|\brabatt|\bangebot\b|\bsale\b|nur heute|halbe[nr]? preis"
                          r"|letzte chance|\bendet (?:heute|um mitternacht)|versandkostenfrei|solange der vorrat"
                          r"|bevor es weg ist"),
        (F.SOCIAL_PROOF, r"alle (?:kaufen|reden|lieben)|ausverkauft|\bmillionen\b|\bviral\b"
                         r"|\b\d[\d,.]*k?\+? (?:bewertungen|verkauft|kunden|leute)\b|bestseller"
                         r"|von dermatologen empfohlen"),
        (F.LISTICLE, rf"\b{_N} (?:\w+ )?(?:tricks|tipps|hacks|wege|dinge|gr[üu]nde|produkte|fehler|geheimnisse"
                     r"|schritte|funde)\b"),
        (F.HOW_TO, r"\bwie (?:man|du) (?:\w+ )?(?:machst|machen|reinigst|benutzt|bekommst)\b|\bso geht'?s\b"
                   r"|\btutorial\b|schritt f[üu]r schritt|ich zeige dir,? wie"),
        (F.CURIOSITY_GAP, r"\bniemand (?:spricht|redet|sagt|wei[ßs])\b|\bgeheim|deshalb|du wirst nicht glauben"
                          r"|der (?:wahre )?grund|was passiert|\bversteckt|wusstest du nicht|die wahrheit [üu]ber"
                          r"|musst du wissen"),
        (F.RELATABLE_PAIN, r"\bwenn du (?:\w+ ){0,3}(?:hast|leidest|hasst|m[üu]de bist|nicht kannst)"
                           r"|\bgenervt von|\bsatt\b|noch jemand|bin ich (?:die|der) einzige"),
        (F.QUESTION, r"\?|^(?:was|warum|wieso|wie|welche[rs]?|wann|wo|wer|hast|bist|kennst|wusstest|faltest"
                     r"|machst|benutzt)\b"),
        (F.BOLD_CLAIM, r"\b(?:das|die|der) beste\b|\bam (?:besten|einfachsten|schnellsten|g[üu]nstigsten)\b"
                       r"|hat mein leben ver[äa]ndert|\bwunder|garantiert|\bbesessen\b|nie wieder (?:ohne|zur[üu]ck)"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset("der die das den dem des ein eine einen und oder in im mit für fur ist du dein deine ich "
                        "mein meine es er sie zu auf von so noch nicht".split()),
)
