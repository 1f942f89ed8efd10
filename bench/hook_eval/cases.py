"""The evaluation set's cases: what each video says and shows, and the package it should give.

Seven cases per language, in six languages (42 videos). In each language: slow (150 words a minute)
and fast (175) espeak-ng speech, a music bed under some, one opening with a one-word interjection,
one with on-screen text only (music, no speech), on-screen text in the video's language. `ci` marks
the one video per language that the test suite runs (tests/fixtures/languages/).

Labels: `words` a good transcript must hold; `spoken_hook`, `on_screen_hook` and `cta` as a person
would write them down ("" when there is none); `family` from the taxonomy in docs/hooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass

# Short-form video speech runs fast: 150 and 175 words a minute (espeak-ng's default) bracket it.
SLOW, FAST = 150, 175
# espeak-ng voice and variant per language, chosen by bench/hook_eval/voice_survey.py (docs/benchmarks.md,
# "Evaluation voices"): the male3 variant is the one Whisper base identifies best for es, de and fr;
# male7 for pt and id, whose voices base mostly does not recognise in any variant. `fr`, not `fr-fr`:
# espeak-ng ignores a variant after the `fr-fr` alias.
VOICES = {"en": "en-us", "es": "es+m3", "pt": "pt-br+m7", "de": "de+m3", "fr": "fr+m3", "id": "id+m7"}


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    speech: str  # what the voice says; "" for on-screen text only
    on_screen_hook: str  # shown for the first 3 s
    on_screen_cta: str  # shown for the last 2 s
    spoken_hook: str
    cta: str
    family: str
    words: tuple[str, ...]
    speed: int = SLOW
    music: bool = False
    ci: bool = False


def _c(id_: str, language: str, speech: str, screen: str, screen_cta: str, hook: str, cta: str, family: str,
       words: str, speed: int = SLOW, music: bool = False, ci: bool = False) -> Case:
    return Case(id_, language, speech, screen, screen_cta, hook, cta, family, tuple(words.split()), speed, music, ci)


CASES: list[Case] = [
    # ---- English --------------------------------------------------------------------------------
    _c("en-1", "en", "Stop scrolling if you have dry skin. This cream fixed my face in three days. "
       "Tap the orange cart to get yours today.", "Dry skin fix", "Shop now",
       "Stop scrolling if you have dry skin.", "Tap the orange cart to get yours today.", "pattern_interrupt",
       "scrolling dry skin cream face", ci=True),
    _c("en-2", "en", "Nobody talks about this kitchen trick. It saves me ten minutes every morning. Link in bio.",
       "The secret kitchen trick", "", "Nobody talks about this kitchen trick.", "Link in bio.", "curiosity_gap",
       "kitchen trick minutes morning", speed=FAST, music=True),
    _c("en-3", "en", "Wow! This blender is the best thing I bought all year. It crushes ice in seconds. "
       "Grab yours before it sells out.", "Best buy of the year", "",
       "Wow! This blender is the best thing I bought all year.", "Grab yours before it sells out.", "bold_claim",
       "blender bought year ice seconds", music=True),
    _c("en-4", "en", "Do you still fold your shirts like this? There is a much faster way. Follow for more tips.",
       "Still folding like this?", "", "Do you still fold your shirts like this?", "Follow for more tips.",
       "question", "fold shirts faster way", speed=FAST),
    _c("en-5", "en", "Three hacks to keep your sneakers white. First, use a soft brush with soap. "
       "Comment below if you want part two.", "Three sneaker hacks", "Comment below",
       "Three hacks to keep your sneakers white.", "Comment below if you want part two.", "listicle",
       "hacks sneakers white brush soap"),
    _c("en-6", "en", "This serum is half price today only. The sale ends at midnight. Shop now before it is gone.",
       "Half price today", "Shop now", "This serum is half price today only.",
       "Shop now before it is gone.", "offer_urgency", "serum price today midnight", speed=FAST),
    _c("en-7", "en", "", "Three hacks you need", "Link in bio", "", "Link in bio", "listicle", "", music=True),
    # ---- Spanish --------------------------------------------------------------------------------
    _c("es-1", "es", "Deja de deslizar si tienes la piel seca. Esta crema me cambió la cara en tres días. "
       "Toca el carrito naranja para conseguir la tuya.", "Piel seca", "Compra ahora",
       "Deja de deslizar si tienes la piel seca.", "Toca el carrito naranja para conseguir la tuya.",
       "pattern_interrupt", "piel seca crema cara", ci=True),
    _c("es-2", "es", "Nadie habla de este truco de cocina. Me ahorra diez minutos cada mañana. "
       "El enlace está en mi perfil.", "El truco secreto", "", "Nadie habla de este truco de cocina.",
       "El enlace está en mi perfil.", "curiosity_gap", "truco cocina minutos mañana", speed=FAST, music=True),
    _c("es-3", "es", "¡Guau! Esta licuadora es lo mejor que compré este año. Tritura el hielo en segundos. "
       "Consigue la tuya antes de que se agote.", "Lo mejor del año", "",
       "¡Guau! Esta licuadora es lo mejor que compré este año.", "Consigue la tuya antes de que se agote.",
       "bold_claim", "licuadora compré año hielo", music=True),
    _c("es-4", "es", "¿Todavía doblas tus camisas así? Hay una forma mucho más rápida. Sígueme para más trucos.",
       "¿Todavía doblas así?", "", "¿Todavía doblas tus camisas así?", "Sígueme para más trucos.", "question",
       "camisas forma rápida", speed=FAST),
    _c("es-5", "es", "Tres trucos para mantener tus zapatillas blancas. Primero, usa un cepillo suave con jabón. "
       "Comenta abajo si quieres la segunda parte.", "Tres trucos", "Comenta abajo",
       "Tres trucos para mantener tus zapatillas blancas.", "Comenta abajo si quieres la segunda parte.",
       "listicle", "trucos zapatillas blancas cepillo jabón"),
    _c("es-6", "es", "Este sérum está a mitad de precio solo hoy. La oferta termina a medianoche. "
       "Compra ahora antes de que se acabe.", "Mitad de precio hoy", "Compra ahora",
       "Este sérum está a mitad de precio solo hoy.", "Compra ahora antes de que se acabe.", "offer_urgency",
       "precio hoy oferta medianoche", speed=FAST),
    _c("es-7", "es", "", "Tres trucos que necesitas", "Enlace en la bio", "", "Enlace en la bio", "listicle", "",
       music=True),
    # ---- Portuguese (Brazil) --------------------------------------------------------------------
    _c("pt-1", "pt", "Pare de rolar se você tem pele seca. Este creme mudou meu rosto em três dias. "
       "Toque no carrinho laranja para garantir o seu.", "Pele seca", "Compre agora",
       "Pare de rolar se você tem pele seca.", "Toque no carrinho laranja para garantir o seu.",
       "pattern_interrupt", "pele seca creme rosto", ci=True),
    _c("pt-2", "pt", "Ninguém fala sobre esse truque de cozinha. Ele me poupa dez minutos toda manhã. "
       "O link está na bio.", "O truque secreto", "", "Ninguém fala sobre esse truque de cozinha.",
       "O link está na bio.", "curiosity_gap", "truque cozinha minutos manhã", speed=FAST, music=True),
    _c("pt-3", "pt", "Nossa! Este liquidificador é a melhor coisa que comprei este ano. Ele tritura gelo em segundos. "
       "Garanta o seu antes que acabe.", "O melhor do ano", "",
       "Nossa! Este liquidificador é a melhor coisa que comprei este ano.", "Garanta o seu antes que acabe.",
       "bold_claim", "liquidificador comprei ano gelo", music=True),
    _c("pt-4", "pt", "Você ainda dobra suas camisas assim? Existe um jeito muito mais rápido. Me siga para mais dicas.",
       "Ainda dobra assim?", "", "Você ainda dobra suas camisas assim?", "Me siga para mais dicas.", "question",
       "camisas jeito rápido", speed=FAST),
    _c("pt-5", "pt", "Três dicas para deixar seu tênis branco. Primeiro, use uma escova macia com sabão. "
       "Comente aqui se você quer a parte dois.", "Três dicas", "Comente aqui",
       "Três dicas para deixar seu tênis branco.", "Comente aqui se você quer a parte dois.", "listicle",
       "dicas tênis branco escova sabão"),
    _c("pt-6", "pt", "Este sérum está pela metade do preço só hoje. A promoção acaba à meia-noite. "
       "Compre agora antes que acabe.", "Metade do preço hoje", "Compre agora",
       "Este sérum está pela metade do preço só hoje.", "Compre agora antes que acabe.", "offer_urgency",
       "metade preço hoje promoção", speed=FAST),
    _c("pt-7", "pt", "", "Três dicas que você precisa", "Link na bio", "", "Link na bio", "listicle", "", music=True),
    # ---- German ---------------------------------------------------------------------------------
    _c("de-1", "de", "Hör auf zu scrollen, wenn du trockene Haut hast. Diese Creme hat mein Gesicht in drei Tagen "
       "verändert. Tippe auf den orangen Warenkorb und hol dir deine.", "Trockene Haut", "Jetzt kaufen",
       "Hör auf zu scrollen, wenn du trockene Haut hast.", "Tippe auf den orangen Warenkorb und hol dir deine.",
       "pattern_interrupt", "trockene haut creme gesicht", ci=True),
    _c("de-2", "de", "Niemand spricht über diesen Küchentrick. Er spart mir jeden Morgen zehn Minuten. "
       "Der Link ist in meiner Bio.", "Der geheime Trick", "", "Niemand spricht über diesen Küchentrick.",
       "Der Link ist in meiner Bio.", "curiosity_gap", "küchentrick morgen minuten", speed=FAST, music=True),
    _c("de-3", "de", "Wow! Dieser Mixer ist das Beste, was ich dieses Jahr gekauft habe. Er zerkleinert Eis in "
       "Sekunden. Hol dir deinen, bevor er ausverkauft ist.", "Das Beste des Jahres", "",
       "Wow! Dieser Mixer ist das Beste, was ich dieses Jahr gekauft habe.",
       "Hol dir deinen, bevor er ausverkauft ist.", "bold_claim", "mixer jahr gekauft eis sekunden", music=True),
    _c("de-4", "de", "Faltest du deine Hemden immer noch so? Es gibt einen viel schnelleren Weg. "
       "Folge mir für mehr Tipps.", "Faltest du noch so?", "", "Faltest du deine Hemden immer noch so?",
       "Folge mir für mehr Tipps.", "question", "hemden schnelleren weg", speed=FAST),
    _c("de-5", "de", "Drei Tricks, damit deine Sneaker weiß bleiben. Erstens, nimm eine weiche Bürste mit Seife. "
       "Schreib in die Kommentare, wenn du Teil zwei willst.", "Drei Sneaker Tricks", "Kommentiere jetzt",
       "Drei Tricks, damit deine Sneaker weiß bleiben.", "Schreib in die Kommentare, wenn du Teil zwei willst.",
       "listicle", "tricks sneaker weiß bürste seife"),
    _c("de-6", "de", "Dieses Serum gibt es nur heute zum halben Preis. Das Angebot endet um Mitternacht. "
       "Kauf jetzt, bevor es weg ist.", "Nur heute halber Preis", "Jetzt kaufen",
       "Dieses Serum gibt es nur heute zum halben Preis.", "Kauf jetzt, bevor es weg ist.", "offer_urgency",
       "serum heute preis angebot mitternacht", speed=FAST),
    _c("de-7", "de", "", "Drei Tricks, die du brauchst", "Link in der Bio", "", "Link in der Bio", "listicle", "",
       music=True),
    # ---- French ---------------------------------------------------------------------------------
    _c("fr-1", "fr", "Arrête de scroller si tu as la peau sèche. Cette crème a changé mon visage en trois jours. "
       "Clique sur le panier orange pour avoir la tienne.", "Peau sèche", "Achète maintenant",
       "Arrête de scroller si tu as la peau sèche.", "Clique sur le panier orange pour avoir la tienne.",
       "pattern_interrupt", "peau sèche crème visage", ci=True),
    _c("fr-2", "fr", "Personne ne parle de cette astuce de cuisine. Elle me fait gagner dix minutes chaque matin. "
       "Le lien est dans ma bio.", "L'astuce secrète", "", "Personne ne parle de cette astuce de cuisine.",
       "Le lien est dans ma bio.", "curiosity_gap", "astuce cuisine minutes matin", speed=FAST, music=True),
    _c("fr-3", "fr", "Waouh ! Ce mixeur est le meilleur achat de mon année. Il broie la glace en quelques secondes. "
       "Commande le tien avant la rupture.", "Le meilleur achat", "",
       "Waouh ! Ce mixeur est le meilleur achat de mon année.", "Commande le tien avant la rupture.", "bold_claim",
       "mixeur meilleur achat glace secondes", music=True),
    _c("fr-4", "fr", "Tu plies encore tes chemises comme ça ? Il existe une méthode beaucoup plus rapide. "
       "Abonne-toi pour plus d'astuces.", "Tu plies encore comme ça ?", "",
       "Tu plies encore tes chemises comme ça ?", "Abonne-toi pour plus d'astuces.", "question",
       "chemises méthode rapide", speed=FAST),
    _c("fr-5", "fr", "Trois astuces pour garder tes baskets blanches. D'abord, prends une brosse douce avec du savon. "
       "Commente ici si tu veux la deuxième partie.", "Trois astuces", "Commente ici",
       "Trois astuces pour garder tes baskets blanches.", "Commente ici si tu veux la deuxième partie.",
       "listicle", "astuces baskets blanches brosse savon"),
    _c("fr-6", "fr", "Ce sérum est à moitié prix aujourd'hui seulement. La promo se termine à minuit. "
       "Achète maintenant avant qu'il n'y en ait plus.", "Moitié prix aujourd'hui", "Achète maintenant",
       "Ce sérum est à moitié prix aujourd'hui seulement.", "Achète maintenant avant qu'il n'y en ait plus.",
       "offer_urgency", "moitié prix promo minuit", speed=FAST),
    _c("fr-7", "fr", "", "Trois astuces à connaître", "Lien en bio", "", "Lien en bio", "listicle", "", music=True),
    # ---- Indonesian -----------------------------------------------------------------------------
    _c("id-1", "id", "Berhenti scroll kalau kulitmu kering. Krim ini mengubah wajahku dalam tiga hari. "
       "Klik keranjang kuning untuk dapatkan punyamu.", "Kulit kering", "Beli sekarang",
       "Berhenti scroll kalau kulitmu kering.", "Klik keranjang kuning untuk dapatkan punyamu.",
       "pattern_interrupt", "kulit kering krim wajah", ci=True),
    _c("id-2", "id", "Tidak ada yang membahas trik dapur ini. Trik ini menghemat sepuluh menit setiap pagi. "
       "Link ada di bio.", "Trik rahasia dapur", "", "Tidak ada yang membahas trik dapur ini.", "Link ada di bio.",
       "curiosity_gap", "trik dapur menit pagi", speed=FAST, music=True),
    _c("id-3", "id", "Wah! Blender ini barang terbaik yang aku beli tahun ini. Es hancur dalam hitungan detik. "
       "Checkout sekarang sebelum kehabisan.", "Terbaik tahun ini", "",
       "Wah! Blender ini barang terbaik yang aku beli tahun ini.", "Checkout sekarang sebelum kehabisan.",
       "bold_claim", "blender terbaik tahun detik", music=True),
    _c("id-4", "id", "Apakah kamu masih melipat baju seperti ini? Ada cara yang jauh lebih cepat. "
       "Follow untuk tips lainnya.", "Masih melipat begini?", "", "Apakah kamu masih melipat baju seperti ini?",
       "Follow untuk tips lainnya.", "question", "melipat baju cara cepat", speed=FAST),
    _c("id-5", "id", "Tiga tips agar sepatu putihmu tetap bersih. Pertama, pakai sikat lembut dan sabun. "
       "Komen di bawah kalau mau bagian kedua.", "Tiga tips sepatu", "Komen di bawah",
       "Tiga tips agar sepatu putihmu tetap bersih.", "Komen di bawah kalau mau bagian kedua.", "listicle",
       "tips sepatu putih sikat sabun"),
    _c("id-6", "id", "Serum ini diskon setengah harga hanya hari ini. Promo berakhir tengah malam. "
       "Beli sekarang sebelum habis.", "Diskon hari ini", "Beli sekarang",
       "Serum ini diskon setengah harga hanya hari ini.", "Beli sekarang sebelum habis.", "offer_urgency",
       "serum diskon harga hari promo", speed=FAST),
    _c("id-7", "id", "", "Tiga trik yang kamu butuhkan", "Link di bio", "", "Link di bio", "listicle", "",
       music=True),
]
