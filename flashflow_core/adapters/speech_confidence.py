"""How sure Whisper was of a transcript, as one number from 0 to 1, from what it reports.

Per segment (docs/hooks.md, "Speech confidence"):

    exp(avg_logprob)                       the geometric-mean probability of its tokens
    × (1 − no_speech_prob)                 Whisper's own belief that the window held speech
    × (1 − FALLBACK_PENALTY × temperature) decoding fell back to sampling: greedy decoding failed
    × repetition factor                    1 up to a compression ratio of REPETITION_START, falling
                                           linearly to 0 at REPETITION_LIMIT (Whisper's own loop limit)

The transcript's confidence is the mean over its segments weighted by their duration. Engines that
report only token log-probabilities (OpenAI's gpt-4o-*-transcribe) get exp(mean log-probability).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from flashflow_core.adapters.base import Segment

FALLBACK_PENALTY = 0.5
REPETITION_START = 2.0
REPETITION_LIMIT = 2.4
MIN_WEIGHT_S = 0.1  # a zero-length segment still counts a little


def segment_components(segment: Segment) -> dict[str, float] | None:
    """The four factors of a segment's confidence (tokens, speech, fallback, repetition); None when the
    engine reported no log-probability for it."""
    if segment.avg_logprob is None:
        return None
    ratio = segment.compression_ratio or 0.0
    return {
        "tokens": math.exp(min(segment.avg_logprob, 0.0)),
        "speech": 1.0 - min(max(segment.no_speech_prob or 0.0, 0.0), 1.0),
        "fallback": max(0.0, 1.0 - FALLBACK_PENALTY * (segment.temperature or 0.0)),
        "repetition": min(1.0, max(0.0, (REPETITION_LIMIT - ratio) / (REPETITION_LIMIT - REPETITION_START))),
    }


def segment_confidence(segment: Segment) -> float | None:
    """0-1 for one segment: the product of its components; None when they cannot be judged."""
    components = segment_components(segment)
    return None if components is None else round(math.prod(components.values()), 4)


def weighted_components(segments: Sequence[Segment]) -> dict[str, float]:
    """Each component's duration-weighted mean over the segments (what the benchmark's gate report shows)."""
    totals: dict[str, float] = {}
    weight = 0.0
    for segment in segments:
        components = segment_components(segment)
        if components is None:
            continue
        w = max(segment.end - segment.start, MIN_WEIGHT_S)
        for name, value in components.items():
            totals[name] = totals.get(name, 0.0) + value * w
        weight += w
    return {name: round(total / weight, 4) for name, total in totals.items()} if weight else {}


def transcript_confidence(segments: Sequence[Segment]) -> float | None:
    """The duration-weighted mean of the segments' confidences; None when none can be judged."""
    total = weight = 0.0
    for segment in segments:
        confidence = segment_confidence(segment)
        if confidence is None:
            continue
        w = max(segment.end - segment.start, MIN_WEIGHT_S)
        total += confidence * w
        weight += w
    return round(total / weight, 4) if weight else None


def confidence_from_logprobs(logprobs: Iterable[float]) -> float | None:
    """exp(mean token log-probability), for engines that report nothing per segment."""
    values = [min(lp, 0.0) for lp in logprobs]
    return round(math.exp(sum(values) / len(values)), 4) if values else None
