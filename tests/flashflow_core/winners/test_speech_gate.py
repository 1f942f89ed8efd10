"""The quality gate and language ID on real media: one video per language from the evaluation set
(tests/fixtures/languages/, made by bench/hook_eval/make_set.py), through the real transcribers,
and the Winners Bank stages on real Postgres with yt-dlp, PyAV, Whisper and rapidocr.

These fail when language identification or the gate regresses: no wrong-language transcript may
pass the gate, English passes it with either model, and with the English-only tiny.en every other
language is held back. Figures for the whole set: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import imageio_ffmpeg
import pytest

from flashflow_core.adapters import media
from flashflow_core.adapters.base import Transcript
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.adapters.transcribe_faster_whisper import FasterWhisperTranscriber
from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool
from flashflow_core.winners import speech_gate
from flashflow_core.winners.pipeline import Pipeline
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from tests.conftest import FIXTURES

pytestmark = pytest.mark.timeout(600)

LANGUAGES = FIXTURES / "languages"
LABELS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(LANGUAGES.glob("*.json"))}
GATE = Settings().speech_min_confidence
# What base identifies today on these espeak-ng voices, choosing among the market languages; the
# Portuguese and Indonesian voices are heard as other languages (docs/benchmarks.md), and must then be
# held back by the gate instead.
BASE_IDENTIFIES = {"en", "es", "de", "fr"}


@pytest.fixture(scope="module")
def transcripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Transcript]]:
    """{model: {video: transcript}} for base and tiny.en over the six videos."""
    folder = tmp_path_factory.mktemp("languages")
    out: dict[str, dict[str, Transcript]] = {}
    for model in ("base", "tiny.en"):
        transcriber = FasterWhisperTranscriber(Settings(whisper_model=model, worker_threads=1))
        out[model] = {}
        for name in LABELS:
            wav = folder / f"{name}.wav"
            if not wav.exists():
                media.write_audio_wav(LANGUAGES / f"{name}.mp4", wav)
            out[model][name] = transcriber.transcribe(wav)
    return out


def test_the_set_has_one_video_per_language() -> None:
    assert sorted(label["language"] for label in LABELS.values()) == ["de", "en", "es", "fr", "id", "pt"]


@pytest.mark.parametrize("model", ["base", "tiny.en"])
def test_no_wrong_language_transcript_passes_the_gate(transcripts, model: str) -> None:
    for name, transcript in transcripts[model].items():
        if speech_gate.is_clear(transcript, GATE):
            assert transcript.language == LABELS[name]["language"], (name, transcript)


def test_base_identifies_the_languages_it_should(transcripts) -> None:
    found = {LABELS[name]["language"]: t.language for name, t in transcripts["base"].items()}
    assert {lang for lang, code in found.items() if lang == code} >= BASE_IDENTIFIES, found
    for transcript in transcripts["base"].values():
        assert transcript.language_probability is not None and 0 < transcript.language_probability <= 1
        assert transcript.confidence is not None and 0 <= transcript.confidence <= 1


def test_english_passes_the_gate_with_its_words(transcripts) -> None:
    for model in ("base", "tiny.en"):
        english = transcripts[model]["en-1"]
        assert speech_gate.is_clear(english, GATE), (model, english.confidence)
        heard = english.text.lower()
        assert all(word in heard for word in ("scrolling", "skin", "face")), (model, heard)


def test_tiny_en_holds_back_every_other_language(transcripts) -> None:
    for name, transcript in transcripts["tiny.en"].items():
        if LABELS[name]["language"] != "en" and transcript.has_speech:
            assert transcript.language == "en" and transcript.language_probability == 1.0
            assert not speech_gate.is_clear(transcript, GATE), (name, transcript.confidence, transcript.text)


# ---- through the stages ---------------------------------------------------------------------------

@pytest.fixture
def run(settings: Settings, media_server) -> Iterator:
    """run(video_file, **settings) -> (row, transcript asset, extract) after the three real stages."""
    pools = []

    def _run(video: Path, **overrides: object) -> tuple[dict, dict | None, dict | None]:
        chosen = settings.model_copy(update=overrides)
        pool = make_pool(chosen)
        pools.append(pool)
        pipeline = Pipeline(pool, chosen, Toolkit(chosen))
        shutil.copy(video, media_server.root / video.name)
        rid: UUID = submit_reference(pool, ReferenceSubmission(url=media_server.url(f"files/{video.name}"),
                                                               submitted_by="test")).id
        for stage in Stage:
            if pipeline.run_stage(stage, rid, f"m-{stage}").outcome != "advanced":
                break
        with pool.connection() as conn:
            row = conn.execute("SELECT * FROM reference_videos WHERE id = %s", (rid,)).fetchone()
            asset = conn.execute("SELECT * FROM reference_assets WHERE reference_video_id = %s "
                                 "AND asset_type = 'transcript'", (rid,)).fetchone()
            extract = conn.execute("SELECT * FROM reference_extracts WHERE reference_video_id = %s",
                                   (rid,)).fetchone()
        return row, asset, extract

    yield _run
    for pool in pools:
        pool.close()


def test_clear_speech_stores_language_and_confidence(run) -> None:
    row, asset, extract = run(LANGUAGES / "es-1.mp4")

    assert row["status"] == "ready", row["error_message"]
    assert asset["language"] == "es" and 0.5 < asset["language_probability"] <= 1
    assert GATE <= asset["confidence"] <= 1
    assert "piel seca" in extract["spoken_hook"].lower()
    assert "has_speech" in extract["structure_tags"] and "speech_unclear" not in extract["structure_tags"]


def test_unclear_speech_with_on_screen_text_is_ready_without_a_spoken_hook(run) -> None:
    row, asset, extract = run(LANGUAGES / "de-1.mp4", whisper_model="tiny.en")

    assert row["status"] == "ready", row["error_message"]
    assert asset["transcript_text"] and asset["language"] == "en" and asset["confidence"] < GATE
    assert extract["spoken_hook"] == "" and extract["structure_tags"][0] == "speech_unclear"
    assert extract["on_screen_hook"] == "Trockene Haut"
    assert extract["cta"] == "Jetzt kaufen"  # from the screen: the speech gives no CTA


def test_unclear_speech_without_on_screen_text_fails_naming_language_and_confidence(run, tmp_path: Path) -> None:
    plain = tmp_path / "de-1-no-text.mp4"  # the same sound under a picture without text
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(LANGUAGES / "de-1.mp4"),
                    "-f", "lavfi", "-i", "color=c=0x2e4a3a:s=360x640:r=15", "-map", "1:v", "-map", "0:a",
                    "-c:a", "copy", "-c:v", "libx264", "-shortest", str(plain)], check=True, timeout=120)

    row, asset, extract = run(plain, whisper_model="tiny.en")

    assert row["status"] == "failed" and row["failed_stage"] == "extract"
    assert row["error_message"].startswith("extract: the speech could not be understood (language English (en, "
                                           "probability 1.00), confidence 0.")
    assert f"below FLASHFLOW_SPEECH_MIN_CONFIDENCE {GATE:g}" in row["error_message"]
    assert extract is None and asset["confidence"] < GATE  # the transcript is kept


def test_speech_in_a_language_not_allowed_fails_naming_it(run) -> None:
    row, asset, _ = run(LANGUAGES / "de-1.mp4", transcribe_languages=["en", "es"])

    assert row["status"] == "failed" and row["failed_stage"] == "transcribe"
    assert row["error_message"].startswith("transcribe: the speech is in German (de, probability ")
    assert row["error_message"].endswith("and FLASHFLOW_TRANSCRIBE_LANGUAGES allows only en, es")
    assert asset is None  # nothing half-stored
