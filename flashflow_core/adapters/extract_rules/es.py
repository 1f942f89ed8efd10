"""Spanish rules."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|quince|veinte)"

RULES = RuleSet(
    language="es",
    cta=re.compile(
        r"enlace (?:est[áa] )?en (?:mi |la )?(?:bio|perfil)|link en (?:mi |la )?bio|\bel enlace est[áa]"
        r"|\btoca (?:el |la )?(?:carrito|cesta|enlace|bot[óo]n)|carrito (?:naranja|amarillo)"
        r"|\bc[óo]mpra(?:lo|la|los)? (?:ya|ahora|aqu[íi])|\bcompra ahora|\bp[íi]de(?:lo|la)? (?:ya|ahora)"
        r"|\bconsigue (?:el tuyo|la tuya|los tuyos|uno|una)|\bhazte con\b|\busa (?:mi |el )?c[óo]digo"
        r"|\ba[ñn][áa]de(?:lo|la)? al carrito|tiempo limitado|\bcomenta (?:abajo|aqu[íi]|[\"'“])"
        r"|\bs[íi]gueme para|\bdesliza hacia arriba",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT,
         r"\bdeja de (?:deslizar|scrollear|pasar)\b|\bno (?:deslices|pases)\b|^(?:¡\s*)?(?:espera|para|ojo|oye)\b"),
        (F.CONTRARIAN,
         r"opini[óo]n impopular|\bdeja de (?:usar|comprar|hacer|poner|lavar)\b|lo est[áa]s haciendo mal"
         r"|\bno (?:compres|uses)\b|sobrevalorad[oa]|\bmitos?\b|es una estafa|es mentira"),
        (F.BEFORE_AFTER, rf"\bantes y despu[ée]s\b|transformaci[óo]n|\bd[íi]a {_N} vs\.?|\bdespu[ée]s de {_N} "
                         r"(?:d[íi]as|semanas|meses)\b|\bpas[ée] de\b.+\ba\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|d[ée]jame contarte|historia real|\bel d[íi]a que\b"),
        (F.UNBOXING_REACTION, r"\bunboxing\b|\bdesempaque|acaba de llegar|\bya lleg[óo]|mi (?:primera |sincera )?"
                              r"reacci[óo]n|primera impresi[óo]n|\babramos\b|\babre conmigo"),
        (F.OFFER_URGENCY, r"\d+ ?% (?:de descuento|off)|\bdescuento|\boferta\b|solo hoy|tiempo limitado"
                          r"|[úu]ltima oportunidad|\btermina (?:hoy|esta noche|a medianoche)|mitad de precio"
                          r"|env[íi]o gratis|antes de que se (?:acabe|agote)"),
        (F.SOCIAL_PROOF, r"todo el mundo (?:est[áa] )?(?:comprando|habla|usa)|\bagotad[oa]|\bmillones\b|\bviral\b"
                         r"|\b\d[\d,.]*k?\+? (?:rese[ñn]as|vendidos|clientes|personas)\b|m[áa]s vendid[oa]"
                         r"|recomendad[oa] por dermat[óo]logos"),
        (F.LISTICLE, rf"\b{_N} (?:\w+ )?(?:trucos|formas|cosas|razones|consejos|tips|productos|errores|secretos"
                     r"|pasos|hallazgos)\b"),
        (F.HOW_TO, r"\bc[óo]mo (?:hacer|limpiar|usar|conseguir|quitar)\b|\bas[íi] se hace\b|\btutorial\b"
                   r"|paso a paso|te ense[ñn]o (?:a|c[óo]mo)"),
        (F.CURIOSITY_GAP, r"\bnadie (?:habla|te dice|sabe)\b|\bsecretos?\b|por esto|no vas a creer|la (?:verdadera )?"
                          r"raz[óo]n|lo que pasa|\bocult[oa]\b|no sab[íi]as|la verdad sobre|tienes que saber"),
        (F.RELATABLE_PAIN, r"\bsi (?:tienes|sufres|odias|est[áa]s cansad[oa]|no puedes|siempre|nunca)"
                           r"|cansad[oa] de|hart[oa] de|\balguien m[áa]s\b|soy (?:la|el) [úu]nic[oa]"),
        (F.QUESTION, r"[?¿]|^(?:qu[ée]|por qu[ée]|c[óo]mo|cu[áa]l|cu[áa]ndo|d[óo]nde|qui[ée]n|sab[íi]as|has)\b"),
        (F.BOLD_CLAIM, r"\blo mejor\b|\bel mejor\b|\bla mejor\b|\bm[áa]s (?:f[áa]cil|r[áa]pid[oa]|barat[oa])\b"
                       r"|cambi[óo] mi vida|\bmilagro|garantizad[oa]|\bobsesionad[oa]|\bnunca (?:vuelvo|volver[ée])"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset("el la los las un una de del que y en es por para con tu tus mi mis lo se su al este esta "
                        "esto muy más mas".split()),
)
