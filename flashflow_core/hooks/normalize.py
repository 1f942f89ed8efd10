"""The one normalisation behind `hook_hash`, so the same hook written two ways is one hook.

`normalize_hook(text)`:

1. Unicode NFKC, case folding (`str.casefold`: "ß" → "ss"), NFKC again: full-width,
   ligature and other compatibility forms become their plain letters and digits, and case
   is gone. Accents are kept ("café" ≠ "cafe"): in some languages they change the word.
2. Apostrophes (' ’ ‘ ʼ ` ′) are deleted, so "don't", "don’t" and "dont" are one word.
3. Every other punctuation mark (Unicode category P*), symbol (S*: emoji, currency, maths,
   arrows) and control or format character (C*: zero-width joiners and the like) becomes a
   space; emoji variation selectors and the enclosing keycap mark are deleted.
4. White space of any kind is collapsed to single spaces and trimmed.

`hook_hash(text)` is the SHA-256 of the normalised text's UTF-8 bytes, in lowercase hex
(64 characters). A hook that normalises to nothing (only emoji or punctuation) has no hash.
"""

from __future__ import annotations

import hashlib
import unicodedata

_APOSTROPHES = frozenset("'\u2019\u2018\u02bc`\u2032")
# Variation selectors 1-16 and the combining enclosing keycap: parts of emoji, not letters.
_EMOJI_PARTS = frozenset(chr(c) for c in range(0xFE00, 0xFE10)) | {"\u20e3"}


def _map_char(ch: str) -> str:
    if ch in _APOSTROPHES or ch in _EMOJI_PARTS or "\U000e0100" <= ch <= "\U000e01ef":
        return ""
    if ch.isspace() or unicodedata.category(ch)[0] in "PSC":
        return " "
    return ch


def normalize_hook(text: str) -> str:
    """The normalised form of a hook's text (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join("".join(_map_char(ch) for ch in folded).split())


def hook_hash(text: str) -> str | None:
    """SHA-256 hex of the normalised text, or None when nothing is left of it."""
    normalized = normalize_hook(text)
    if not normalized:
        return None
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
