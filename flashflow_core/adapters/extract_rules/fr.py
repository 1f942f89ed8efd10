"""French rules."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt)"

RULES = RuleSet(
    language="fr",
    cta=re.compile(
        r"lien (?:est )?(?:en|dans (?:ma|la)) bio|\ble lien est|\blien en description"
        r"|\b(?:clique|appuie|tape) sur (?:le |la )?(?:panier|lien|bouton)|panier (?:orange|jaune)"
        r"|\bach[èe]te(?:-le|-la)? (?:maintenant|ici|vite)|\bcommande(?:-le|-la)? (?:maintenant|vite|le tien|la tienne)"
        r"|\bcommande le tien|\bcommande la tienne|\bfonce\b|\butilise (?:mon |le )?code|\bcode \w+"
        r"|\bajoute(?:-le|-la)? au panier|dur[ée]e limit[ée]e|\bcommente (?:ici|en bas|[\"'“«])"
        r"|\babonne-toi (?:pour|si)|\bsuis-moi pour",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT, r"\barr[êe]te de (?:scroller|d[ée]filer)\b|\bne scrolle pas\b"
                              r"|^(?:attends|stop|minute|h[ée] toi)\b"),
        (F.CONTRARIAN, r"avis impopulaire|\barr[êe]te (?:d'acheter|d'utiliser|de faire|de mettre|de laver)\b"
                       r"|tu (?:le )?fais mal|\bn'ach[èe]te pas\b|sur[ée]valu[ée]|\bmythes?\b|c'est une arnaque"
                       r"|c'est un mensonge"),
        (F.BEFORE_AFTER, rf"\bavant (?:et|/) apr[èe]s\b|transformation|\bjour {_N} vs\.?"
                         rf"|\bapr[èe]s (?:seulement )?{_N} (?:jours|semaines|mois)\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|laisse-moi te raconter|histoire vraie|\ble jour o[ùu]\b"),
        (F.UNBOXING_REACTION, r"\bunboxing\b|\bd[ée]ballage|vient d'arriver|\best (?:enfin )?arriv[ée]"
                              r"|ma (?:premi[èe]re |vraie )?r[ée]action|premi[èe]re impression|\bon ouvre\b"),
        (F.OFFER_URGENCY, r"\d+ ?% (?:de r[ée]duction|off)|\br[ée]duction|\bpromo\b|\bsoldes?\b"
                          r"|aujourd'hui seulement|seulement aujourd'hui|dur[ée]e limit[ée]e|derni[èe]re chance"
                          r"|\bse termine (?:ce soir|aujourd'hui|[àa] minuit)|moiti[ée] prix|livraison gratuite"
                          r"|avant la rupture"),
        (F.SOCIAL_PROOF, r"tout le monde (?:ach[èe]te|en parle|l'utilise)|\b[ée]puis[ée]|\bmillions?\b|\bviral\b"
                         r"|\b\d[\d,.]*k?\+? (?:avis|vendus|clients|personnes)\b|meilleure vente"
                         r"|recommand[ée] par les dermatologues"),
        (F.LISTICLE, rf"\b{_N} (?:\w+ )?(?:astuces|fa[çc]ons|choses|raisons|conseils|produits|erreurs|secrets"
                     r"|[ée]tapes|trouvailles)\b"),
        (F.HOW_TO, r"\bcomment (?:faire|nettoyer|utiliser|enlever|avoir)\b|\bvoici comment\b|\btuto(?:riel)?\b"
                   r"|[ée]tape par [ée]tape|je te montre comment"),
        (F.CURIOSITY_GAP, r"\bpersonne ne (?:parle|dit|sait)\b|\bsecrets?\b|\bsecr[èe]te?\b|voici pourquoi"
                          r"|tu ne vas pas (?:le )?croire|la (?:vraie )?raison|ce qui se passe|\bcach[ée]e?\b"
                          r"|tu ne savais pas|la v[ée]rit[ée] sur|il faut (?:que tu )?sav"),
        (F.RELATABLE_PAIN, r"\bsi tu (?:as|souffres|d[ée]testes|en as marre|n'arrives pas|toujours|jamais)"
                           r"|marre de|quelqu'un d'autre|je suis (?:la|le) seul"),
        (F.QUESTION, r"\?|^(?:est-ce que|pourquoi|comment|quel(?:le)?s?|quand|o[ùu]|qui|tu savais)\b"),
        (F.BOLD_CLAIM, r"\b(?:le|la) meilleure?\b|\b(?:le|la) plus (?:facile|rapide|efficace)\b"
                       r"|a chang[ée] ma vie|\bmiracle|garanti|\bobs[ée]d[ée]|je ne reviens (?:pas|jamais)"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset("le la les un une de des du et en est pour avec ton ta tes mon ma mes ce cette ça ca "
                        "que qui se sur au aux plus tu je il".split()),
)
