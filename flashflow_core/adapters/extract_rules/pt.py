"""Portuguese rules (Brazil and Portugal)."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|dois|duas|tr[êe]s|quatro|cinco|seis|sete|oito|nove|dez|doze|quinze|vinte)"

RULES = RuleSet(
    language="pt",
    cta=re.compile(
        r"link (?:est[áa] )?na (?:minha )?bio|\bo link est[áa]|\blink no perfil"
        r"|\btoque no (?:carrinho|bot[ãa]o|link)|carrinho (?:laranja|amarelo)"
        r"|\bcompre (?:j[áa]|agora|aqui)|\bgaranta (?:o seu|a sua|j[áa]|agora)|\bpe[çc]a (?:j[áa]|agora|o seu)"
        r"|\bpegue o seu|\buse (?:meu |o )?cupom|\bcupom \w+|\badicione ao carrinho|tempo limitado"
        r"|\bcomente (?:aqui|abaixo|[\"'“])|\bme siga para|\bsiga para mais|\barrasta pra cima",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT, r"\bpare de (?:rolar|passar|scrollar)\b|\bn[ãa]o (?:role|passe)\b"
                              r"|^(?:espera|para tudo|olha|ei)\b"),
        (F.CONTRARIAN, r"opini[ãa]o impopular|\bpare de (?:usar|comprar|fazer|passar|lavar)\b"
                       r"|voc[êe] (?:est[áa] fazendo|faz) errado|\bn[ãa]o (?:compre|use)\b|superestimad[oa]"
                       r"|\bmitos?\b|[ée] golpe|[ée] mentira"),
        (F.BEFORE_AFTER, rf"\bantes e depois\b|transforma[çc][ãa]o|\bdia {_N} vs\.?|\bdepois de {_N} "
                         r"(?:dias|semanas|meses)\b|\bsa[íi] de\b.+\bpara\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|deixa eu te contar|hist[óo]ria real|\bo dia em que\b"),
        (F.UNBOXING_REACTION, r"\bunboxing\b|\bacabou de chegar|\bchegou\b|minha (?:primeira |sincera )?rea[çc][ãa]o"
                              r"|primeira impress[ãa]o|\bvamos abrir\b|abre comigo"),
        (F.OFFER_URGENCY, r"\d+ ?% (?:de desconto|off)|\bdesconto|\bpromo[çc][ãa]o|s[óo] hoje|tempo limitado"
                          r"|[úu]ltima chance|\bacaba (?:hoje|[àa] meia-noite)|metade do pre[çc]o|frete gr[áa]tis"
                          r"|antes que acabe"),
        (F.SOCIAL_PROOF, r"todo mundo (?:est[áa] )?(?:comprando|falando|usando)|\besgotad[oa]|\bmilh[õo]es\b"
                         r"|\bviral\b|\b\d[\d,.]*k?\+? (?:avalia[çc][õo]es|vendidos|clientes|pessoas)\b"
                         r"|mais vendid[oa]|recomendad[oa] por dermatologistas"),
        (F.LISTICLE, rf"\b{_N} (?:\w+ )?(?:truques|dicas|jeitos|formas|coisas|motivos|produtos|erros|segredos"
                     r"|passos|achados)\b"),
        (F.HOW_TO, r"\bcomo (?:fazer|limpar|usar|tirar|conseguir)\b|\bveja como\b|\btutorial\b|passo a passo"
                   r"|vou te ensinar|te ensino"),
        (F.CURIOSITY_GAP, r"\bningu[ée]m (?:fala|te conta|sabe)\b|\bsegredos?\b|[ée] por isso|voc[êe] n[ãa]o vai "
                          r"acreditar|o (?:verdadeiro )?motivo|o que acontece|\bescondid[oa]\b|voc[êe] n[ãa]o sabia"
                          r"|a verdade sobre|voc[êe] precisa saber"),
        (F.RELATABLE_PAIN, r"\bse voc[êe] (?:tem|sofre|odeia|est[áa] cansad[oa]|n[ãa]o consegue|sempre|nunca)"
                           r"|cansad[oa] de|\bmais algu[ée]m\b|s[óo] eu que"),
        (F.QUESTION, r"\?|^(?:o que|por que|como|qual|quando|onde|quem|voc[êe] sabia)\b"),
        (F.BOLD_CLAIM, r"\b(?:o|a) melhor\b|\bmais (?:f[áa]cil|r[áa]pid[oa]|barat[oa])\b|mudou minha vida"
                       r"|\bmilagre|garantid[oa]|\bobcecad[oa]|nunca mais (?:volto|largo)"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset("o a os as um uma de do da dos das que e em no na por para com seu sua meu minha se ao "
                        "este esta esse essa isso muito mais".split()),
)
