"""Deterministic hook-package extraction from the transcript, on-screen text and visual summary.

Used when no OpenAI API key is set. Every rule here is documented in docs/hooks.md
("Offline rules"); change both together. Speech is never invented: with no speech the
spoken hook is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flashflow_core.adapters.base import ExtractionInput, HookFamily, HookPackage, ScreenText, Transcript
from flashflow_core.config import Settings

HOOK_WINDOW_S = 3.0
SAME_FRAME_S = 0.05
MAX_HOOK_CHARS = 160
PUNCHY_MAX_WORDS = 12
FAST_CUTS_FIRST_2S = 2
HIGH_MOTION = 0.10

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:–—])\s+")
_WORD = re.compile(r"[a-z0-9']+")
_N = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"

CTA_PATTERN = re.compile(
    r"link in (?:my |the )?bio|link below|click the link|check out the link|swipe up"
    r"|\btap (?:on )?(?:the |that |this )?(?:little )?(?:orange |yellow )?(?:cart|basket|link|button)"
    r"|\b(?:orange|yellow) (?:cart|basket)"
    r"|\b(?:shop|buy|order) (?:it |yours |them )?now|\bshop (?:the|my) (?:link|storefront)"
    r"|\bget (?:yours|one|it now)|\bgrab (?:yours|one)|\buse (?:my |the )?code|\bcode \w+ for"
    r"|\badd (?:it |this |them )?to (?:your )?cart|limited time"
    r"|\bcomment (?:[\"'“][^\"'”]+[\"'”]|(?:down )?below|\w+ (?:for|and i'?ll|to get))"
    r"|\bfollow (?:me )?for (?:more|part)|\bdm me",
    re.IGNORECASE,
)

# Checked in this order; the first family whose pattern matches the hook text wins.
FAMILY_RULES: list[tuple[HookFamily, re.Pattern[str]]] = [
    (HookFamily.PATTERN_INTERRUPT, re.compile(
        r"\bstop scrolling\b|\bdon'?t scroll\b|^(?:wait|hold up|hold on|psst|hey you|omg)\b|^stop[.!,]",
        re.IGNORECASE | re.MULTILINE)),
    (HookFamily.CONTRARIAN, re.compile(
        r"unpopular opinion|hot take|controversial|\bstop (?:doing|using|buying|wasting|putting|washing|applying)\b"
        r"|doing it wrong|\bdon'?t (?:buy|use|waste)\b|overrated|\bmyths?\b|is a scam|is a lie",
        re.IGNORECASE)),
    (HookFamily.BEFORE_AFTER, re.compile(
        r"\bbefore (?:and|&|/|vs\.?) after\b|\bbefore/after\b|transformation|\bwent from\b.+\bto\b"
        rf"|\bday {_N} vs\.? day\b|\bafter (?:just |only )?{_N} (?:days?|weeks?|months?)\b",
        re.IGNORECASE)),
    (HookFamily.POV_STORYTIME, re.compile(
        r"\bpov\b|\bstory ?time\b|let me tell you (?:about|a story)|\btrue story\b|\bthe day i\b",
        re.IGNORECASE)),
    (HookFamily.UNBOXING_REACTION, re.compile(
        r"\bunbox(?:ing)?\b|just arrived|\bit'?s (?:finally )?here\b|finally (?:came|arrived|got here)"
        r"|\bmy (?:honest )?reaction\b|first impressions?|\blet'?s open\b|open (?:this|it) with me|\bhaul\b",
        re.IGNORECASE)),
    (HookFamily.OFFER_URGENCY, re.compile(
        r"\d+ ?% off|\bsale\b|today only|limited time|last chance|\bends (?:today|tonight|soon|at midnight)\b"
        r"|\bdiscount|half price|free shipping|price drop|\bonly \$\d|before it'?s gone|while (?:supplies|stock) lasts?",
        re.IGNORECASE)),
    (HookFamily.SOCIAL_PROOF, re.compile(
        r"everyone(?:'s| is) (?:buying|obsessed|talking|using|getting)|sold out|\bmillions?\b|\bviral\b"
        r"|\b\d[\d,.]*k?\+? (?:reviews|sold|customers|people)\b|made me buy|best-?sellers?\b"
        r"|dermatologists? (?:recommend|approved)",
        re.IGNORECASE)),
    (HookFamily.LISTICLE, re.compile(
        rf"\b{_N} (?:\w+ )?(?:hacks|ways|things|reasons|tips|tricks|products|items|mistakes|secrets|signs|steps"
        r"|finds|must-haves|gadgets)\b",
        re.IGNORECASE)),
    (HookFamily.HOW_TO, re.compile(
        r"\bhow to\b|\bhere'?s how\b|\bhow i (?:got|made|fixed|clean|cleaned|use|get)\b|\btutorial\b"
        r"|step by step|show you how|the right way to",
        re.IGNORECASE)),
    (HookFamily.CURIOSITY_GAP, re.compile(
        r"\bno ?(?:body|one) (?:talks|tells|told|knows)\b|\bsecrets?\b|here'?s why|here is why|won'?t believe"
        r"|the (?:real )?reason|what happens|\bhidden\b|didn'?t know|don'?t know about|the truth about"
        r"|little-known|you need to know",
        re.IGNORECASE)),
    (HookFamily.RELATABLE_PAIN, re.compile(
        r"\bif you (?:have|struggle|suffer|hate|are tired|'re tired|can'?t|deal|keep|always|never)"
        r"|\bstruggl|tired of|sick of|anyone else|can'?t stand|i used to hate|\bam i the only\b",
        re.IGNORECASE)),
    (HookFamily.QUESTION, re.compile(
        r"\?|^(?:do|does|did|have|has|are|is|was|were|can|could|would|will|should|why|what|who|where|when|which)\b",
        re.IGNORECASE | re.MULTILINE)),
    (HookFamily.BOLD_CLAIM, re.compile(
        r"\b(?:best|greatest|easiest|fastest|cheapest|strongest|softest|most)\b|\bever\b|#1\b|number one"
        r"|game ?changer|changed my life|\bfixed my\b|obsessed|holy grail|\bmiracle\b|guaranteed"
        r"|the only \w+ you(?:'ll)? (?:ever )?need|never going back",
        re.IGNORECASE)),
]

_STOPWORDS = frozenset(
    "the and for you your this that with have has are was its it's not but all can get got out now how why what"
    " our my me i a an to of in on is".split()
)


@dataclass(frozen=True)
class _SpokenHook:
    text: str
    start_s: float | None  # None when the transcript has no timed segments


def _trim(text: str, limit: int = MAX_HOOK_CHARS) -> str:
    """`text` stripped and, when longer than `limit`, cut at the last whole word that fits."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _spoken_text(transcript: Transcript) -> str:
    joined = " ".join(s.text.strip() for s in transcript.segments if s.text.strip())
    return joined or transcript.text.strip()


def sentences(text: str) -> list[str]:
    """`text` split after sentence punctuation (. ! ? …)."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def clauses(sentence: str) -> list[str]:
    """`sentence` split after clause punctuation (, ; : dashes)."""
    return [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]


def spoken_hook(transcript: Transcript) -> _SpokenHook:
    """The first spoken sentence. Speech recognisers often join sentences with commas: a first
    sentence longer than PUNCHY_MAX_WORDS is cut to its first clause (when that has 3+ words),
    and one with no end within MAX_HOOK_CHARS falls back to the first segment."""
    if not transcript.has_speech:
        return _SpokenHook("", None)
    spoken = [s for s in transcript.segments if s.text.strip()]
    start = spoken[0].start if spoken else None
    first = sentences(_spoken_text(transcript))[0]
    if len(first.split()) > PUNCHY_MAX_WORDS:
        lead = clauses(first)[0].rstrip(",;:–— ")
        if len(lead.split()) >= 3 and lead != first:
            first = lead
    if len(first) > MAX_HOOK_CHARS and spoken:
        first = spoken[0].text
    return _SpokenHook(_trim(first), start)


def on_screen_hook(screen_text: list[ScreenText]) -> str | None:
    """The lines first seen at the earliest time within the first HOOK_WINDOW_S seconds, joined."""
    early = sorted((line for line in screen_text if line.t <= HOOK_WINDOW_S and line.text.strip()), key=lambda s: s.t)
    if not early:
        return None
    first_t = early[0].t
    return _trim(" ".join(line.text.strip() for line in early if line.t - first_t <= SAME_FRAME_S))


def _spoken_cta(transcript: Transcript) -> str:
    if not transcript.has_speech:
        return ""
    matching = [s for s in sentences(_spoken_text(transcript)) if CTA_PATTERN.search(s)]
    if not matching:
        return ""
    cta = matching[-1]
    if len(cta.split()) > PUNCHY_MAX_WORDS:
        # A long run-on sentence: keep it from the first clause that asks for the action.
        parts = clauses(cta)
        first = next((i for i, part in enumerate(parts) if CTA_PATTERN.search(part)), 0)
        cta = " ".join(parts[first:])
    return _trim(cta)


def _on_screen_cta(screen_text: list[ScreenText]) -> str:
    matching = sorted((line for line in screen_text if CTA_PATTERN.search(line.text)), key=lambda s: s.t)
    return _trim(matching[-1].text) if matching else ""


def classify(spoken: str, on_screen: str | None) -> tuple[HookFamily, bool]:
    """(family, whether a rule matched) for the spoken hook and on-screen hook."""
    text = "\n".join(part for part in (spoken, on_screen or "") if part)
    for family, pattern in FAMILY_RULES:
        if pattern.search(text):
            return family, True
    return (HookFamily.BOLD_CLAIM if text else HookFamily.PATTERN_INTERRUPT), False


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOPWORDS}


class OfflineExtractor:
    """Rule-based extractor; the same input always gives the same HookPackage."""

    name = "offline"

    def __init__(self, settings: Settings | None = None) -> None:
        """`settings` is accepted so the factory builds every extractor alike; no rule depends on it."""

    def extract(self, source: ExtractionInput) -> HookPackage:
        """Apply the rules of docs/hooks.md to `source`."""
        hook = spoken_hook(source.transcript)
        screen_hook = on_screen_hook(source.screen_text)
        cta_spoken = _spoken_cta(source.transcript)
        cta_screen = _on_screen_cta(source.screen_text)
        family, rule_matched = classify(hook.text, screen_hook)
        visual = source.visual

        reinforced = bool(hook.text and screen_hook and _content_words(hook.text) & _content_words(screen_hook))
        hook_words = len((hook.text or screen_hook or "").split())
        fast_cut = visual is not None and visual.cuts_first_2s >= FAST_CUTS_FIRST_2S
        high_motion = visual is not None and visual.motion_first_2s >= HIGH_MOTION
        early_hook = bool(screen_hook) or (
            hook.start_s is not None and bool(hook.text) and hook.start_s <= HOOK_WINDOW_S
        )

        tags = [
            "has_speech" if source.transcript.has_speech else "no_speech",
            *(["on_screen_text"] if source.screen_text else []),
            *(["on_screen_hook"] if screen_hook else []),
            *(["reinforced_hook"] if reinforced else []),
            *(["cta_spoken"] if cta_spoken else []),
            *(["cta_on_screen"] if cta_screen else []),
            *(["fast_cut_open"] if fast_cut else []),
            *(["high_motion_open"] if high_motion else []),
            *(["text_overlay_open"] if visual is not None and visual.text_overlay_first_2s else []),
            *(["question_open"] if "?" in f"{hook.text} {screen_hook or ''}" else []),
            *(["short_hook"] if 0 < hook_words <= PUNCHY_MAX_WORDS else []),
        ]
        score = (
            25 * early_hook
            + 10 * bool(screen_hook)
            + 10 * reinforced
            + 20 * bool(cta_spoken or cta_screen)
            + 10 * fast_cut
            + 5 * high_motion
            + 10 * (0 < hook_words <= PUNCHY_MAX_WORDS)
            + 10 * rule_matched
        )
        return HookPackage(
            spoken_hook=hook.text,
            on_screen_hook=screen_hook,
            visual_hook=(visual.description.strip() or None) if visual is not None else None,
            cta=cta_spoken or cta_screen,
            hook_family=family,
            structure_tags=tags,
            quality_score=max(0, min(100, score)),
        )
