"""The documented hook normalisation, case by case."""

from __future__ import annotations

import hashlib

import pytest

from flashflow_core.hooks.normalize import hook_hash, normalize_hook


@pytest.mark.parametrize(("text", "normalized"), [
    ("STOP scrolling!!! 🛑 You NEED this…", "stop scrolling you need this"),       # case, punctuation, emoji
    ("ｓｔｏｐ　Scrolling — you need THIS", "stop scrolling you need this"),         # full-width (NFKC), dash
    ("Don’t buy this", "dont buy this"),                                          # typographic apostrophe
    ("don't buy this", "dont buy this"),
    ("Straße", "strasse"),                                                        # case folding
    ("ﬁnally it works", "finally it works"),                                      # ligature (NFKC)
    ("café", "café"),                                                             # accents kept
    ("  many\t\n  spaces\u00a0here ", "many spaces here"),                        # any white space
    ("👍🏽 👨\u200d👩\u200d👧 works", "works"),                                    # skin tone, ZWJ family
    ("1️⃣ step", "1 step"),                                                        # keycap: the digit stays
    ("self-care 100% $27", "self care 100 27"),                                   # hyphen, symbols
    ("¿Sabías que…?", "sabías que"),
])
def test_normalize(text, normalized):
    assert normalize_hook(text) == normalized


def test_hash_is_sha256_of_the_normalized_text():
    assert hook_hash("Don’t BUY this!!") == hashlib.sha256(b"dont buy this").hexdigest()
    assert hook_hash("don't buy this") == hook_hash("DON'T   buy this 🔥")


def test_different_words_hash_differently():
    assert hook_hash("self-care") != hook_hash("selfcare")
    assert hook_hash("café") != hook_hash("cafe")


@pytest.mark.parametrize("text", ["", "   ", "🔥🔥", "!!!", "\u200d"])
def test_nothing_left_means_no_hash(text):
    assert hook_hash(text) is None
