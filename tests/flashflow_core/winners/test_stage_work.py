"""What the transcribe stage's work does with a claimed row, called as its stage child calls it,
on a real stored fixture video: it trusts what the fetch (or attach-file) recorded about the
file's sound, and probes the file only for a row stored before that was recorded."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from flashflow_core.adapters.fakes import InstantTranscriber
from flashflow_core.adapters.media import PyAvMedia
from flashflow_core.adapters.storage import LocalStorage
from flashflow_core.config import Settings
from flashflow_core.supervised import Context
from flashflow_core.winners import stage_work, storage_keys
from tests.conftest import FIXTURES


class CountingMedia(PyAvMedia):
    """The real media tools, counting the probes and the audio extractions."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.probes = 0
        self.wavs = 0

    def probe(self, path: Path):
        self.probes += 1
        return super().probe(path)

    def write_audio_wav(self, src: Path, dest_wav: Path) -> None:
        self.wavs += 1
        super().write_audio_wav(src, dest_wav)


@pytest.fixture
def ctx(settings: Settings, tmp_path: Path) -> Context:
    """The stage child's context: real storage and media tools, the instant transcriber."""
    (tmp_path / "job").mkdir()
    tools = SimpleNamespace(storage=LocalStorage(settings.media_root), media=CountingMedia(settings),
                            transcriber=InstantTranscriber())
    return Context(settings, tools, tmp_path / "job")


def _row(ctx: Context, source_meta: dict) -> dict:
    """A claimed row whose stored video is speech_only.mp4 (which has a sound track)."""
    rid = uuid.uuid4()
    key = ctx.tools.storage.put_file(storage_keys.video(rid, ".mp4", version="a1"), FIXTURES / "speech_only.mp4")
    return {"id": rid, "url": "https://example.com/v.mp4", "source_meta": source_meta,
            "assets": {"mp4": {"storage_path": key, "transcript_text": None}}}


def test_a_row_recorded_without_sound_is_not_probed_again(ctx):
    work = stage_work.transcribe(ctx, _row(ctx, {"has_audio": False, "duration_s": 5.2}), "a2")
    assert ctx.tools.media.probes == 0 and ctx.tools.media.wavs == 0
    [transcript] = work.assets
    assert transcript["asset_type"] == "transcript" and transcript["transcript_text"] == ""
    assert json.loads(ctx.tools.storage.read_bytes(transcript["storage_path"]))["engine"] == "none: no audio track"
    assert work.meta["has_speech"] is False


def test_a_row_recorded_with_sound_is_transcribed_without_a_probe(ctx):
    work = stage_work.transcribe(ctx, _row(ctx, {"has_audio": True, "duration_s": 5.2}), "a2")
    assert ctx.tools.media.probes == 0 and ctx.tools.media.wavs == 1
    assert [a["asset_type"] for a in work.assets] == ["audio", "transcript"]
    assert work.meta["has_speech"] is True


def test_a_row_stored_before_sound_was_recorded_is_probed_once(ctx):
    work = stage_work.transcribe(ctx, _row(ctx, {"duration_s": 5.2}), "a2")
    assert ctx.tools.media.probes == 1 and ctx.tools.media.wavs == 1
    assert [a["asset_type"] for a in work.assets] == ["audio", "transcript"]
