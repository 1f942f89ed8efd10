"""Indonesian rules."""

from __future__ import annotations

import re

from flashflow_core.adapters.base import HookFamily as F
from flashflow_core.adapters.extract_rules import RuleSet, compile_families

_N = r"(?:\d+|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|dua belas|lima belas|dua puluh)"

RULES = RuleSet(
    language="id",
    cta=re.compile(
        r"link (?:ada )?di bio|\blink di (?:bawah|profil)|\b(?:klik|tap|ketuk|cek) (?:keranjang|link|tombol)"
        r"|keranjang (?:kuning|oranye)|\b(?:beli|checkout|co|order|pesan) sekarang|\bburuan (?:beli|checkout|order)"
        r"|\bdapatkan (?:punyamu|sekarang)|\bpakai kode|\bkode \w+|\bmasukkan ke keranjang|waktu terbatas"
        r"|\bkomen(?:tar)? (?:di bawah|di sini|[\"'“])|\bfollow (?:untuk|buat|aku)",
        re.IGNORECASE,
    ),
    families=compile_families([
        (F.PATTERN_INTERRUPT, r"\bberhenti (?:scroll|menggulir)\b|\bjangan (?:di)?scroll\b|^(?:tunggu|stop|eh|woi)\b"),
        (F.CONTRARIAN, r"opini tidak populer|\bberhenti (?:pakai|beli|menggunakan)\b|kamu salah (?:cara|pakai)"
                       r"|\bjangan beli\b|\bmitos\b|penipuan|\bbohong\b"),
        (F.BEFORE_AFTER, rf"\bsebelum (?:dan|&|/|vs\.?) sesudah\b|\btransformasi\b|\bhari ke-?{_N} vs\.?"
                         rf"|\bsetelah {_N} (?:hari|minggu|bulan)\b"),
        (F.POV_STORYTIME, r"\bpov\b|\bstory ?time\b|\baku mau cerita\b|kisah nyata|\bhari (?:di )?mana aku\b"),
        (F.UNBOXING_REACTION, r"\bunboxing\b|\bbaru (?:datang|sampai)\b|\bakhirnya (?:datang|sampai)"
                              r"|reaksi (?:jujur|pertama)|kesan pertama|\bayo buka\b"),
        (F.OFFER_URGENCY, r"\d+ ?% (?:off|diskon)|\bdiskon\b|\bpromo\b|hari ini saja|hanya hari ini|waktu terbatas"
                          r"|kesempatan terakhir|\bberakhir (?:hari ini|malam ini|tengah malam)|setengah harga"
                          r"|gratis ongkir|sebelum (?:habis|kehabisan)"),
        (F.SOCIAL_PROOF, r"semua orang (?:beli|pakai|ngomongin)|\bsold out\b|\bhabis terjual\b|\bjutaan\b|\bviral\b"
                         r"|\b\d[\d,.]*k?\+? (?:ulasan|terjual|pembeli|orang)\b|terlaris"
                         r"|direkomendasikan dokter kulit"),
        (F.LISTICLE, rf"\b{_N} (?:\w+ )?(?:trik|tips|cara|hal|alasan|produk|kesalahan|rahasia|langkah|barang)\b"),
        (F.HOW_TO, r"\bcara (?:membuat|bikin|membersihkan|pakai|menggunakan|melipat)\b|\bbegini caranya\b"
                   r"|\btutorial\b|langkah demi langkah|aku tunjukin caranya"),
        (F.CURIOSITY_GAP, r"\btidak ada yang (?:membahas|ngomongin|tahu|kasih tahu)\b|\bgak ada yang\b|\brahasia\b"
                          r"|ini alasannya|kamu gak bakal percaya|alasan (?:sebenarnya|sesungguhnya)|yang terjadi"
                          r"|\btersembunyi\b|belum tahu|kebenaran tentang|kamu harus tahu"),
        (F.RELATABLE_PAIN, r"\bkalau kamu (?:punya|sering|benci|capek|tidak bisa|gak bisa|selalu)|\bcapek\b"
                           r"|\bbosan dengan\b|ada yang (?:sama|juga)|cuma aku yang"),
        (F.QUESTION, r"\?|^(?:apakah|apa|kenapa|mengapa|bagaimana|gimana|kapan|di mana|siapa|kamu tahu)\b"),
        (F.BOLD_CLAIM, r"\bterbaik\b|\bpaling (?:bagus|murah|cepat|mudah|ampuh)\b|mengubah hidupku|\bajaib\b"
                       r"|dijamin|\bterobsesi\b|gak bakal balik"),
    ], multiline=(F.PATTERN_INTERRUPT, F.QUESTION)),
    stopwords=frozenset("yang dan di ke dari ini itu untuk dengan aku kamu mu ku ada tidak gak juga saja sudah "
                        "akan bisa lebih".split()),
)
