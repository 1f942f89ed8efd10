"""The toolkit's tables cover every setting: each toolkit builds every adapter the pipeline uses,
each FLASHFLOW_TRANSCRIBER / FLASHFLOW_EXTRACTOR value has a constructor, and `auto` picks OpenAI
only when a key is set."""

from __future__ import annotations

import typing

from flashflow_core.adapters import fakes
from flashflow_core.adapters.extract_offline import OfflineExtractor
from flashflow_core.adapters.extract_openai import OpenAIExtractor
from flashflow_core.adapters.toolkit import EXTRACTORS, TOOLKITS, TRANSCRIBERS, Toolkit, extractor_name
from flashflow_core.config import Settings

ADAPTERS = {"storage", "downloader", "media", "transcriber", "ocr", "extractor"}


def _choices(field: str) -> set[str]:
    return set(typing.get_args(Settings.model_fields[field].annotation))


def test_every_setting_value_has_a_constructor():
    assert set(TOOLKITS) == _choices("toolkit")
    assert all(set(adapters) == ADAPTERS for adapters in TOOLKITS.values())
    assert set(TRANSCRIBERS) == _choices("transcriber")
    assert {extractor_name(Settings(extractor=choice, openai_api_key=key))
            for choice in _choices("extractor") for key in (None, "sk-test")} == set(EXTRACTORS)


def test_the_instant_toolkit_builds_the_stand_ins_once(tmp_path):
    tools = Toolkit(Settings(toolkit="instant", home=tmp_path))
    assert isinstance(tools.downloader, fakes.InstantDownloader) and isinstance(tools.storage, fakes.InstantStorage)
    assert tools.storage is tools.storage


def test_auto_extractor_is_openai_only_with_a_key(tmp_path):
    offline = Toolkit(Settings(home=tmp_path, extractor="auto", openai_api_key=None)).extractor
    online = Toolkit(Settings(home=tmp_path, extractor="auto", openai_api_key="sk-test",
                              openai_base_url="http://127.0.0.1:9")).extractor
    assert isinstance(offline, OfflineExtractor) and isinstance(online, OpenAIExtractor)
