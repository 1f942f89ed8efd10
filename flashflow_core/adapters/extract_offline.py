"""Deterministic hook-package extraction from the transcript, on-screen text and visual summary.

Used when no OpenAI API key is set. Every rule here is documented in docs/hooks.md
("Offline rules"); change both together. Speech is never invented: with no speech the
spoken hook is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from flashflow_core.adapters.base import ExtractionInput, HookFamily, HookPackage, ScreenText, Transcript
from flashflow_core.adapters.extract_rules import RuleSet, rules_for
from flashflow_core.config import Settings

HOOK_WINDOW_S = 3.0
SAME_FRAME_S = 0.05
MAX_HOOK_CHARS = 160
PUNCHY_MAX_WORDS = 12
FAST_CUTS_FIRST_2S = 2
HIGH_MOTION = 0.10

# Sentence ends, but not the dot of an initial ("O.V."): a misheard acronym must not end a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?<!\b\w\.)\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:–—])\s+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
MIN_HOOK_WORDS = 3  # fewer is a fragment ("Wow!", "The O.V."): it is joined with what follows
AGREEMENT_SHARE = 0.8  # share of the on-screen hook's words the spoken hook must repeat, in order


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


def _is_fragment(sentence: str) -> bool:
    return len(_WORD.findall(sentence)) < MIN_HOOK_WORDS


def spoken_hook(transcript: Transcript) -> _SpokenHook:
    """The first meaningful spoken sentence. A fragment ("Wow!", a misheard "The O.V.") is joined
    with what follows. Speech recognisers often join sentences with commas: a first sentence longer
    than PUNCHY_MAX_WORDS is cut to its first clause (when that is no fragment), and one with no end
    within MAX_HOOK_CHARS falls back to the first segment."""
    if not transcript.has_speech:
        return _SpokenHook("", None)
    spoken = [s for s in transcript.segments if s.text.strip()]
    start = spoken[0].start if spoken else None
    said = sentences(_spoken_text(transcript))
    first, rest = said[0], said[1:]
    piece = first
    while _is_fragment(piece) and rest:  # until a sentence of its own says something
        piece = rest.pop(0)
        first = f"{first} {piece}"
    if len(first.split()) > PUNCHY_MAX_WORDS:
        parts = clauses(first)
        lead = parts.pop(0).rstrip(",;:–— ")
        while _is_fragment(lead) and parts:
            lead = f"{lead}, {parts.pop(0).rstrip(',;:–— ')}"
        if not _is_fragment(lead) and lead != first and len(lead.split()) <= PUNCHY_MAX_WORDS:
            first = lead
    if len(first) > MAX_HOOK_CHARS and spoken:
        first = spoken[0].text
    return _SpokenHook(_trim(first), start)


def agree_with_screen(hook: str, screen_hook: str | None) -> str:
    """`hook` with the words it shares with the on-screen hook, and a misheard stretch between them
    replaced by what the screen shows ("The O.V. you found it" + "POV: you found it" -> "POV you
    found it"): when both say the same thing in different words, the agreement wins."""
    if not hook or not screen_hook:
        return hook
    spoken = list(_WORD.finditer(hook))
    shown = _WORD.findall(screen_hook)
    said, seen = [m.group().casefold() for m in spoken], [w.casefold() for w in shown]
    matcher = SequenceMatcher(None, said, seen, autojunk=False)
    shared = sum(block.size for block in matcher.get_matching_blocks())
    if len(seen) < MIN_HOOK_WORDS or shared < AGREEMENT_SHARE * len(seen):
        return hook
    out, cursor = [], 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        # Only a stretch inside the shared text, of similar letters, is a mishearing to mend.
        if op != "replace" or i1 == 0 and j1 > 0 or i2 == len(said) and j2 < len(seen):
            continue
        heard, written = "".join(said[i1:i2]), "".join(seen[j1:j2])
        if SequenceMatcher(None, heard, written).ratio() < 0.5:
            continue
        words = [w if w.isupper() and len(w) <= 4 else w.lower() for w in shown[j1:j2]]
        if i1 == 0:
            words[0] = words[0][:1].upper() + words[0][1:]
        out.append(hook[cursor:spoken[i1].start()] + " ".join(words))
        cursor = spoken[i2 - 1].end()
        if hook[cursor:cursor + 1] == "." and not hook[cursor + 1:].strip() == "":
            cursor += 1  # the initial's own dot ("O.V.") goes with it
    return " ".join((("".join(out) + hook[cursor:]).split()))


def on_screen_hook(screen_text: list[ScreenText]) -> str | None:
    """The lines first seen at the earliest time within the first HOOK_WINDOW_S seconds, joined."""
    early = sorted((line for line in screen_text if line.t <= HOOK_WINDOW_S and line.text.strip()), key=lambda s: s.t)
    if not early:
        return None
    first_t = early[0].t
    return _trim(" ".join(line.text.strip() for line in early if line.t - first_t <= SAME_FRAME_S))


def _is_cta(text: str, rules: list[RuleSet]) -> bool:
    return any(r.cta.search(text) for r in rules)


def _spoken_cta(transcript: Transcript, rules: list[RuleSet]) -> str:
    if not transcript.has_speech:
        return ""
    matching = [s for s in sentences(_spoken_text(transcript)) if _is_cta(s, rules)]
    if not matching:
        return ""
    # Recognisers join sentences with commas ("There is a faster way, follow for more tips."): the CTA
    # starts at the first clause that asks for the action (the whole sentence when no clause alone does).
    parts = clauses(matching[-1])
    first = next((i for i, part in enumerate(parts) if _is_cta(part, rules)), 0)
    cta = " ".join(parts[first:])
    return _trim(cta[:1].upper() + cta[1:])


def _on_screen_cta(screen_text: list[ScreenText], rules: list[RuleSet]) -> str:
    """The latest matching on-screen text; lines first seen in the same frame are one caption."""
    by_time: dict[float, list[str]] = {}
    for line in sorted(screen_text, key=lambda s: s.t):
        key = next((t for t in by_time if line.t - t <= SAME_FRAME_S), line.t)
        by_time.setdefault(key, []).append(line.text.strip())
    captions = [" ".join(lines) for _, lines in sorted(by_time.items())]
    matching = [caption for caption in captions if _is_cta(caption, rules)]
    return _trim(matching[-1]) if matching else ""


def hook_family_of(spoken: str, on_screen: str | None, rules: list[RuleSet] | None = None) -> tuple[HookFamily, bool]:
    """(family, whether a rule matched) for the spoken hook and on-screen hook."""
    text = "\n".join(part for part in (spoken, on_screen or "") if part)
    for rule_set in rules or rules_for(None):
        for family, pattern in rule_set.families:
            if pattern.search(text):
                return family, True
    return (HookFamily.BOLD_CLAIM if text else HookFamily.PATTERN_INTERRUPT), False


def _content_words(text: str, rules: list[RuleSet]) -> set[str]:
    stop = frozenset().union(*(r.stopwords for r in rules))
    return {w for w in _WORD.findall(text.casefold()) if len(w) >= 3 and w not in stop}


class OfflineExtractor:
    """Rule-based extractor; the same input always gives the same HookPackage."""

    name = "offline"

    def __init__(self, settings: Settings | None = None) -> None:
        """`settings` is accepted so the factory builds every extractor alike; no rule depends on it."""

    def extract(self, source: ExtractionInput) -> HookPackage:
        """Apply the rules of docs/hooks.md to `source`."""
        rules = rules_for(source.transcript.language if source.transcript.has_speech else None)
        screen_hook = on_screen_hook(source.screen_text)
        first = spoken_hook(source.transcript)
        hook = _SpokenHook(agree_with_screen(first.text, screen_hook), first.start_s)
        cta_spoken = _spoken_cta(source.transcript, rules)
        cta_screen = _on_screen_cta(source.screen_text, rules)
        family, rule_matched = hook_family_of(hook.text, screen_hook, rules)
        visual = source.visual

        reinforced = bool(hook.text and screen_hook
                          and _content_words(hook.text, rules) & _content_words(screen_hook, rules))
        hook_words = len((hook.text or screen_hook or "").split())
        fast_cut = visual is not None and visual.cuts_first_2s >= FAST_CUTS_FIRST_2S
        high_motion = visual is not None and visual.motion_first_2s >= HIGH_MOTION
        early_hook = bool(screen_hook) or (
            hook.start_s is not None and bool(hook.text) and hook.start_s <= HOOK_WINDOW_S
        )

        tags = [
            "has_speech" if source.transcript.has_speech else ("speech_unclear" if source.speech_unclear else "no_speech"),
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
