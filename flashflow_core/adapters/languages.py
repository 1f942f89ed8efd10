"""Names of the spoken languages FlashFlow meets, by ISO 639-1 code (as Whisper reports them).

The TikTok Shop markets' languages and their neighbours that Whisper confuses them with. Used to
name a language in messages and prompts, and to read OpenAI's whisper-1, which names languages in
English words. A code not listed is shown as the code itself.

Language detection chooses among candidate languages (FLASHFLOW_LANGUAGE_CANDIDATES, by default
MARKET_LANGUAGES): a product decision, since a TikTok Shop video is spoken in one of its markets'
languages and never in, say, Latin, which Whisper base names for synthetic or unclear Portuguese.
Whisper's probabilities over all its languages are renormalised over the candidates (docs/hooks.md,
"Language").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# TikTok Shop's markets: US and UK, Spain and Mexico, Brazil, Germany, France, Italy, Indonesia,
# Malaysia, Thailand, Vietnam, the Philippines, Japan.
MARKET_LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "de", "fr", "it", "id", "ms", "th", "vi", "tl", "ja")

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "de": "German", "fr": "French", "id": "Indonesian",
    "it": "Italian", "ms": "Malay", "th": "Thai", "vi": "Vietnamese", "tl": "Tagalog", "ja": "Japanese",
    "zh": "Chinese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "ru": "Russian",
    "ar": "Arabic", "hi": "Hindi", "la": "Latin", "jw": "Javanese", "cs": "Czech", "hu": "Hungarian",
}
CODES_BY_NAME: dict[str, str] = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}


def language_name(code: str | None) -> str:
    """'German' for 'de'; the code itself when not listed; 'unknown' for None."""
    if not code:
        return "unknown"
    return LANGUAGE_NAMES.get(code, code)


def choose_language(probabilities: Mapping[str, float], candidates: Iterable[str]) -> tuple[str, float]:
    """(code, probability) of the most probable candidate language, its probability renormalised over
    the candidates Whisper knows; over every language when `candidates` is empty or names none it knows."""
    allowed = {code: p for code, p in probabilities.items() if code in set(candidates)} or dict(probabilities)
    language = max(allowed, key=allowed.__getitem__)
    total = sum(allowed.values())
    return language, round(allowed[language] / total, 4) if total > 0 else 0.0
