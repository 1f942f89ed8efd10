"""OfflineExtractor: the deterministic rules documented in docs/hooks.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashflow_core.adapters.base import (
    ExtractionInput,
    HookFamily,
    ScreenText,
    Segment,
    Transcript,
    VisualSummary,
)
from bench.hook_eval.cases import CASES, Case
from flashflow_core.adapters.extract_offline import OfflineExtractor, sentences
from flashflow_core.adapters.extract_rules import RULES
from flashflow_core.adapters.extract_openai import FAMILY_DEFINITIONS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "hooks.md"
BUSY_OPEN = VisualSummary(cuts_first_2s=3, motion_first_2s=0.25, text_overlay_first_2s=True, mean_brightness=0.6,
                          description="Close-up of flaky skin, then a hand opens the cream jar.")
CALM_OPEN = VisualSummary(cuts_first_2s=0, motion_first_2s=0.02, text_overlay_first_2s=False, mean_brightness=0.5,
                          description="A product on a table.")


def _transcript(*lines: str, start: float = 0.0, seconds_each: float = 2.0, language: str = "en") -> Transcript:
    """One segment per line, back to back from `start`."""
    segments = [Segment(start + i * seconds_each, start + (i + 1) * seconds_each, text) for i, text in enumerate(lines)]
    return Transcript(text=" ".join(lines), language=language, segments=segments, engine="test")


NO_SPEECH = Transcript(text="", language=None)


def _extract(
    transcript: Transcript = NO_SPEECH,
    screen: list[ScreenText] | None = None,
    visual: VisualSummary | None = None,
) -> ExtractionInput:
    return ExtractionInput(transcript=transcript, screen_text=screen or [], visual=visual)


def test_dry_skin_example() -> None:
    source = _extract(
        _transcript(
            "Stop scrolling if you have dry skin.",
            "This cream fixed my face in three days.",
            "Tap the orange cart to get yours today.",
        ),
        [ScreenText(0.5, "DRY SKIN FIX", 0.95), ScreenText(6.0, "SHOP NOW", 0.9)],
        BUSY_OPEN,
    )

    package = OfflineExtractor().extract(source)

    assert package.spoken_hook == "Stop scrolling if you have dry skin."
    assert package.on_screen_hook == "DRY SKIN FIX"
    assert "Tap the orange cart" in package.cta
    assert package.hook_family is HookFamily.PATTERN_INTERRUPT
    assert package.visual_hook == BUSY_OPEN.description
    assert package.structure_tags == [
        "has_speech", "on_screen_text", "on_screen_hook", "reinforced_hook", "cta_spoken", "cta_on_screen",
        "fast_cut_open", "high_motion_open", "text_overlay_open", "short_hook",
    ]
    # every item of the documented formula applies: 25+10+10+20+10+5+10+10
    assert package.quality_score == 100


def test_no_speech_never_invents_a_spoken_hook() -> None:
    source = _extract(NO_SPEECH, [ScreenText(0.2, "3 HACKS FOR TINY KITCHENS", 0.9), ScreenText(9.0, "LINK IN BIO", 0.9)])

    package = OfflineExtractor().extract(source)

    assert package.spoken_hook == ""
    assert package.on_screen_hook == "3 HACKS FOR TINY KITCHENS"
    assert package.cta == "LINK IN BIO"
    assert package.hook_family is HookFamily.LISTICLE
    assert package.visual_hook is None
    assert package.structure_tags == ["no_speech", "on_screen_text", "on_screen_hook", "cta_on_screen", "short_hook"]
    # early on-screen hook 25 + on-screen hook 10 + CTA 20 + short hook 10 + rule matched 10
    assert package.quality_score == 75


def test_nothing_at_all_scores_zero() -> None:
    package = OfflineExtractor().extract(_extract())

    assert package.spoken_hook == ""
    assert package.on_screen_hook is None
    assert package.cta == ""
    assert package.visual_hook is None
    assert package.hook_family is HookFamily.PATTERN_INTERRUPT  # documented fallback without any hook text
    assert package.structure_tags == ["no_speech"]
    assert package.quality_score == 0


@pytest.mark.parametrize(
    ("spoken", "on_screen", "family"),
    [
        ("Stop scrolling, this is for you.", None, HookFamily.PATTERN_INTERRUPT),
        ("Wait, you need to see this.", None, HookFamily.PATTERN_INTERRUPT),
        ("", "DON'T SCROLL", HookFamily.PATTERN_INTERRUPT),
        ("Unpopular opinion: retinol is overrated.", None, HookFamily.CONTRARIAN),
        ("Stop using makeup wipes on your face.", None, HookFamily.CONTRARIAN),
        ("Before and after one week of this serum.", None, HookFamily.BEFORE_AFTER),
        ("After 7 days my skin looked brand new.", None, HookFamily.BEFORE_AFTER),
        ("POV: you finally found jeans that fit.", None, HookFamily.POV_STORYTIME),
        ("Storytime about my neighbour's dog.", None, HookFamily.POV_STORYTIME),
        ("Unboxing the new air fryer.", None, HookFamily.UNBOXING_REACTION),
        ("It just arrived and I'm so excited.", None, HookFamily.UNBOXING_REACTION),
        ("This blender is 50% off today only.", None, HookFamily.OFFER_URGENCY),
        ("Look at this.", "FLASH SALE", HookFamily.OFFER_URGENCY),
        ("Everyone is buying this water bottle right now.", None, HookFamily.SOCIAL_PROOF),
        ("Over 10k reviews on this little lamp.", None, HookFamily.SOCIAL_PROOF),
        ("It sold out three times last month.", None, HookFamily.SOCIAL_PROOF),
        ("3 kitchen gadgets you need.", None, HookFamily.LISTICLE),
        ("Five things I wish I knew sooner.", None, HookFamily.LISTICLE),
        ("How to get rid of blackheads in one minute.", None, HookFamily.HOW_TO),
        ("Here's how I clean my sneakers.", None, HookFamily.HOW_TO),
        ("Nobody talks about this skincare trick.", None, HookFamily.CURIOSITY_GAP),
        ("Here's why your plants keep dying.", None, HookFamily.CURIOSITY_GAP),
        ("If you struggle with frizzy hair, listen up.", None, HookFamily.RELATABLE_PAIN),
        ("I am so tired of tangled cables.", None, HookFamily.RELATABLE_PAIN),
        ("Why is nobody using this?", None, HookFamily.QUESTION),
        ("Do you wake up with puffy eyes every day.", None, HookFamily.QUESTION),
        ("This is the best mascara I have ever used.", None, HookFamily.BOLD_CLAIM),
        ("This serum changed my life.", None, HookFamily.BOLD_CLAIM),
    ],
)
def test_family_rules(spoken: str, on_screen: str | None, family: HookFamily) -> None:
    transcript = _transcript(spoken, "More words follow here.") if spoken else NO_SPEECH
    screen = [ScreenText(1.0, on_screen, 0.9)] if on_screen else []

    package = OfflineExtractor().extract(_extract(transcript, screen))

    assert package.hook_family is family
    assert package.spoken_hook == spoken
    assert 0 <= package.quality_score <= 100


@pytest.mark.parametrize(
    ("spoken", "family"),
    [
        ("Wait, did you know this?", HookFamily.PATTERN_INTERRUPT),
        ("Stop using this cleanser, it's the worst?", HookFamily.CONTRARIAN),
        ("How to fix dry skin?", HookFamily.HOW_TO),
        ("Are you tired of frizzy hair?", HookFamily.RELATABLE_PAIN),
        ("5 secrets nobody talks about.", HookFamily.LISTICLE),
        ("The best deal: 40% off today only.", HookFamily.OFFER_URGENCY),
        ("Is this the best serum ever?", HookFamily.QUESTION),
    ],
)
def test_family_precedence(spoken: str, family: HookFamily) -> None:
    """When several rules match, the documented order decides."""
    assert OfflineExtractor().extract(_extract(_transcript(spoken))).hook_family is family


def test_only_the_first_sentence_is_classified() -> None:
    package = OfflineExtractor().extract(_extract(_transcript("My morning routine.", "Wait, how to do it?")))

    assert package.spoken_hook == "My morning routine."
    # no rule matches "My morning routine.": the documented fallback for hook text is bold_claim
    assert package.hook_family is HookFamily.BOLD_CLAIM


def test_fallback_family_earns_no_rule_points() -> None:
    unmatched = OfflineExtractor().extract(_extract(_transcript("My morning routine.")))
    matched = OfflineExtractor().extract(_extract(_transcript("My best morning routine.")))

    assert (unmatched.hook_family, matched.hook_family) == (HookFamily.BOLD_CLAIM, HookFamily.BOLD_CLAIM)
    assert matched.quality_score - unmatched.quality_score == 10


def test_sentence_spanning_segments_is_joined() -> None:
    transcript = _transcript("Stop scrolling if you", "have dry skin. This cream", "is amazing.")

    assert OfflineExtractor().extract(_extract(transcript)).spoken_hook == "Stop scrolling if you have dry skin."


def test_unpunctuated_transcript_uses_first_segment() -> None:
    transcript = _transcript(
        "so this is the thing i have been using every single morning",
        *["and it keeps going without any punctuation at all for a long while"] * 4,
    )

    hook = OfflineExtractor().extract(_extract(transcript)).spoken_hook

    assert hook == "so this is the thing i have been using every single morning"


def test_long_first_segment_is_cut_at_a_word() -> None:
    words = " ".join(f"word{i}" for i in range(60))  # ~400 characters, no punctuation
    transcript = _transcript(words)

    hook = OfflineExtractor().extract(_extract(transcript)).spoken_hook

    assert 0 < len(hook) <= 160
    assert words.startswith(hook)
    assert words[len(hook)] == " "  # the cut falls between words


def test_on_screen_hook_is_earliest_frame_within_three_seconds() -> None:
    screen = [
        ScreenText(2.0, "LATER LINE", 0.9),
        ScreenText(0.8, "DRY SKIN", 0.9),
        ScreenText(0.8, "FIX", 0.9),
        ScreenText(3.5, "TOO LATE", 0.9),
    ]

    package = OfflineExtractor().extract(_extract(NO_SPEECH, screen))

    assert package.on_screen_hook == "DRY SKIN FIX"


def test_on_screen_text_after_three_seconds_is_no_hook() -> None:
    package = OfflineExtractor().extract(_extract(NO_SPEECH, [ScreenText(3.2, "DRY SKIN FIX", 0.9)]))

    assert package.on_screen_hook is None
    assert "on_screen_text" in package.structure_tags
    assert "on_screen_hook" not in package.structure_tags


def test_cta_is_last_matching_sentence_then_latest_screen_line() -> None:
    spoken = _transcript("Link in bio for the full list.", "Seriously, use code GLOW10 at checkout.", "Bye.")
    screen = [ScreenText(0.5, "BUY NOW", 0.9), ScreenText(8.0, "ADD TO CART", 0.9), ScreenText(9.0, "thanks", 0.9)]

    # The sentence from its clause that asks: the interjection before the comma is not the call to action.
    assert OfflineExtractor().extract(_extract(spoken, screen)).cta == "Use code GLOW10 at checkout."
    assert OfflineExtractor().extract(_extract(_transcript("Hello there."), screen)).cta == "ADD TO CART"
    assert OfflineExtractor().extract(_extract(_transcript("Hello there."))).cta == ""


@pytest.mark.parametrize(
    ("text", "is_cta"),
    [
        ("Link in my bio.", True),
        ("Tap the yellow basket.", True),
        ("Shop now before it's gone.", True),
        ("Grab yours today.", True),
        ("Add it to your cart.", True),
        ("Comment \"YES\" and I'll send it.", True),
        ("Comment LINK for the link.", True),
        ("Follow for part 2.", True),
        ("Limited time only.", True),
        ("Leave a comment about it.", False),
        ("I love this shopping cart.", False),
        ("My biography is boring.", False),
    ],
)
def test_cta_phrases(text: str, is_cta: bool) -> None:
    assert bool(RULES["en"].cta.search(text)) is is_cta


def test_late_spoken_hook_earns_no_early_hook_points() -> None:
    early = OfflineExtractor().extract(_extract(_transcript("This serum changed my life.", start=0.4)))
    late = OfflineExtractor().extract(_extract(_transcript("This serum changed my life.", start=4.0)))

    assert early.structure_tags == late.structure_tags
    assert early.quality_score - late.quality_score == 25


def test_visual_features_tags_and_points() -> None:
    transcript = _transcript("This serum changed my life.")
    calm = OfflineExtractor().extract(_extract(transcript, visual=CALM_OPEN))
    busy = OfflineExtractor().extract(_extract(transcript, visual=BUSY_OPEN))

    assert calm.visual_hook == "A product on a table."
    assert not {"fast_cut_open", "high_motion_open", "text_overlay_open"} & set(calm.structure_tags)
    assert {"fast_cut_open", "high_motion_open", "text_overlay_open"} <= set(busy.structure_tags)
    assert busy.quality_score - calm.quality_score == 15


def test_question_open_tag() -> None:
    package = OfflineExtractor().extract(_extract(_transcript("Why is nobody using this?")))

    assert "question_open" in package.structure_tags


def test_same_input_same_package() -> None:
    source = _extract(_transcript("If you have dry skin, watch this.", "Tap the orange cart."),
                      [ScreenText(0.3, "DRY SKIN?", 0.9)], BUSY_OPEN)

    assert OfflineExtractor().extract(source) == OfflineExtractor().extract(source)


def test_docs_describe_every_family() -> None:
    taxonomy = DOCS.read_text(encoding="utf-8").split("## Taxonomy", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", taxonomy, re.MULTILINE))

    assert documented == {family.value for family in HookFamily}
    assert set(FAMILY_DEFINITIONS) == set(HookFamily)


# ---- spoken hook: meaningful clauses, agreement with the screen -------------------------------

@pytest.mark.parametrize(("speech", "hook"), [
    ("Wow! This blender is the best thing I bought all year. It crushes ice.",
     "Wow! This blender is the best thing I bought all year."),
    ("Nossa! Este liquidificador é a melhor coisa que comprei. Ele tritura gelo.",
     "Nossa! Este liquidificador é a melhor coisa que comprei."),
    ("Oh wow. Okay. This changed everything for my skin. Link in bio.",
     "Oh wow. Okay. This changed everything for my skin."),
    # A clause cut must not leave a fragment either.
    ("Wait, wait, this cream fixed my face in three days and my sister wants one too.",
     "Wait, wait, this cream fixed my face in three days and my sister wants one too."),
])
def test_a_fragment_is_joined_with_what_follows(speech: str, hook: str) -> None:
    assert OfflineExtractor().extract(_extract(_transcript(speech))).spoken_hook == hook


def test_a_misheard_acronym_takes_the_on_screen_wording() -> None:
    source = _extract(_transcript("The O.V. you finally found a cream that works. Link in bio."),
                      [ScreenText(0.3, "POV: you finally found a cream that works", 0.99)])

    package = OfflineExtractor().extract(source)

    assert package.spoken_hook == "POV you finally found a cream that works."
    assert package.hook_family is HookFamily.POV_STORYTIME


def test_a_paraphrase_on_screen_leaves_the_spoken_hook_alone() -> None:
    source = _extract(_transcript("Dieses Serum gibt es nur heute zum halben Preis.", language="de"),
                      [ScreenText(0.3, "Nur heute halber Preis", 0.99)])

    assert OfflineExtractor().extract(source).spoken_hook == "Dieses Serum gibt es nur heute zum halben Preis."


# ---- languages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "hook", "family", "cta"), [
    ("es", "Deja de deslizar si tienes la piel seca.", "pattern_interrupt",
     "Toca el carrito naranja para conseguir la tuya."),
    ("es", "Nadie habla de este truco de cocina.", "curiosity_gap", "El enlace está en mi perfil."),
    ("pt", "Você ainda dobra suas camisas assim?", "question", "Me siga para mais dicas."),
    ("pt", "Este sérum está pela metade do preço só hoje.", "offer_urgency", "Compre agora antes que acabe."),
    ("de", "Drei Tricks, damit deine Sneaker weiß bleiben.", "listicle",
     "Schreib in die Kommentare, wenn du Teil zwei willst."),
    ("de", "Hör auf zu scrollen, wenn du trockene Haut hast.", "pattern_interrupt",
     "Tippe auf den orangen Warenkorb und hol dir deine."),
    ("fr", "Personne ne parle de cette astuce de cuisine.", "curiosity_gap", "Le lien est dans ma bio."),
    ("fr", "Ce mixeur est le meilleur achat de mon année.", "bold_claim", "Commande le tien avant la rupture."),
    ("id", "Serum ini diskon setengah harga hanya hari ini.", "offer_urgency", "Beli sekarang sebelum habis."),
    ("id", "Tidak ada yang membahas trik dapur ini.", "curiosity_gap", "Link ada di bio."),
])
def test_each_language_has_its_cta_and_family_rules(language: str, hook: str, family: str, cta: str) -> None:
    source = _extract(_transcript(hook, "Something in between.", cta, language=language))

    package = OfflineExtractor().extract(source)

    assert (package.spoken_hook, package.hook_family.value, package.cta) == (hook, family, cta)
    assert "cta_spoken" in package.structure_tags


def test_the_speech_language_is_tried_before_english() -> None:
    # "Sale" is English for a sale; in this Spanish sentence it is the verb "comes out".
    source = _extract(_transcript("¿Sabías que sale más barato hacerlo en casa?", language="es"))

    assert OfflineExtractor().extract(source).hook_family is HookFamily.QUESTION


def test_without_trusted_speech_every_language_reads_the_screen() -> None:
    source = _extract(NO_SPEECH, [ScreenText(0.2, "Trois astuces à connaître", 0.99), ScreenText(4.0, "Lien en bio", 0.99)])

    package = OfflineExtractor().extract(source)

    assert (package.hook_family, package.cta) == (HookFamily.LISTICLE, "Lien en bio")


def test_unclear_speech_is_tagged_so() -> None:
    source = ExtractionInput(transcript=NO_SPEECH, screen_text=[ScreenText(0.2, "Peau sèche", 0.99)], visual=None,
                             speech_unclear=True)

    package = OfflineExtractor().extract(source)

    assert package.spoken_hook == "" and package.structure_tags[0] == "speech_unclear"
    assert "no_speech" not in package.structure_tags


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_evaluation_case_is_right_from_a_perfect_transcript(case: Case) -> None:
    """What the rules can do, apart from what Whisper hears: the evaluation set's words as said, its
    captions as shown, give the labelled hook, CTA and family (bench/hook_eval/cases.py). A miss in the
    benchmark is then the transcript's, not the rules'."""
    lines = sentences(case.speech)
    transcript = _transcript(*lines, language=case.language) if lines else NO_SPEECH
    screen = [ScreenText(0.0, text, 0.9) for text in (case.on_screen_hook,) if text]
    screen += [ScreenText(8.0, text, 0.9) for text in (case.on_screen_cta,) if text]

    package = OfflineExtractor().extract(_extract(transcript, screen))

    assert package.spoken_hook == case.spoken_hook
    assert package.cta == case.cta
    assert package.hook_family == case.family


def test_a_spoken_cta_starts_at_the_clause_that_asks() -> None:
    """tiny.en heard "There is a much faster way, follow for more tips." (en-4 of the evaluation set)."""
    said = _transcript("Do you still fold your shirts like this?", "There is a much faster way, follow for more tips.")
    assert OfflineExtractor().extract(_extract(said)).cta == "Follow for more tips."
    whole = _transcript("Do you fold shirts like this?", "Comment below, if you want part two.")
    assert OfflineExtractor().extract(_extract(whole)).cta == "Comment below, if you want part two."
