"""The offline extractor's language rules: per language, the call-to-action phrases, the hook-family
markers (tried in order, the first match wins) and the words too common to show that on-screen text
reinforces the spoken hook. Documented in docs/hooks.md ("Offline rules"); change both together.

A video is read with its transcript's language first and English after it (on-screen text and
loanwords such as "POV" are often English); without a trustworthy language (no speech, or speech
below the quality gate) every language is tried, English first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flashflow_core.adapters.base import HookFamily


@dataclass(frozen=True)
class RuleSet:
    language: str
    cta: re.Pattern[str]
    families: list[tuple[HookFamily, re.Pattern[str]]]
    stopwords: frozenset[str]


def compile_families(rules: list[tuple[HookFamily, str]], multiline: tuple[HookFamily, ...] = ()) -> list[
        tuple[HookFamily, re.Pattern[str]]]:
    """Family patterns, case-insensitive; those in `multiline` anchor `^` at each line (spoken, on-screen)."""
    return [(family, re.compile(pattern, re.IGNORECASE | (re.MULTILINE if family in multiline else 0)))
            for family, pattern in rules]


def _load() -> dict[str, RuleSet]:
    from flashflow_core.adapters.extract_rules import de, en, es, fr, id as id_, pt

    return {module.RULES.language: module.RULES for module in (en, es, pt, de, fr, id_)}


RULES: dict[str, RuleSet] = _load()


def rules_for(language: str | None) -> list[RuleSet]:
    """The rule sets to try, in order, for speech in `language` (None: unknown or not trusted)."""
    if language in RULES and language != "en":
        return [RULES[language], RULES["en"]]
    if language == "en":
        return [RULES["en"]]
    return list(RULES.values())
