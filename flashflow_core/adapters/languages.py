"""Names of the spoken languages FlashFlow meets, by ISO 639-1 code (as Whisper reports them).

The TikTok Shop markets' languages and their neighbours that Whisper confuses them with. Used to
name a language in messages and prompts, and to read OpenAI's whisper-1, which names languages in
English words. A code not listed is shown as the code itself.
"""

from __future__ import annotations

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
