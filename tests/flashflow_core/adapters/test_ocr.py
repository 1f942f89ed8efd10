"""On-screen text read by the real rapidocr engine from the fixture videos."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashflow_core.adapters import ocr
from flashflow_core.adapters.base import PermanentError, ScreenText
from flashflow_core.config import Settings
from tests.conftest import FIXTURES
from tests.flashflow_core.adapters.offline import no_network


@pytest.fixture(scope="module")
def reader() -> ocr.RapidOcrReader:
    return ocr.RapidOcrReader(Settings(worker_threads=1))


def _texts(found: list[ScreenText]) -> list[str]:
    return [ocr.normalise(s.text) for s in found]


def test_reads_the_hook_caption_at_the_start_and_the_cta_at_the_end(reader: ocr.RapidOcrReader) -> None:
    found = reader.read_screen(FIXTURES / "hook_speech_text.mp4", head_s=3.0, tail_s=2.0)
    assert _texts(found) == ["dry skin fix", "shop now"]  # six and four frames, one entry each
    caption, cta = found
    assert caption.text == "DRY SKIN FIX" and caption.t == 0.0
    assert cta.text == "SHOP NOW" and cta.t == pytest.approx(7.0, abs=0.07)
    assert min(caption.confidence, cta.confidence) >= ocr.MIN_CONFIDENCE


def test_head_only_misses_the_cta(reader: ocr.RapidOcrReader) -> None:
    found = reader.read_screen(FIXTURES / "hook_speech_text.mp4", head_s=2.0, tail_s=0.0)
    assert _texts(found) == ["dry skin fix"]


def test_reads_text_of_a_silent_video(reader: ocr.RapidOcrReader) -> None:
    found = reader.read_screen(FIXTURES / "silent_text.mp4", head_s=3.0, tail_s=2.0)
    assert [s.text for s in found] == ["3 HACKS YOU NEED"]


@pytest.mark.parametrize("name", ["no_speech_no_text.mp4", "speech_only.mp4"])
def test_reads_nothing_where_there_is_no_text(reader: ocr.RapidOcrReader, name: str) -> None:
    assert reader.read_screen(FIXTURES / name, head_s=3.0, tail_s=2.0) == []


def test_a_broken_file_is_permanent(reader: ocr.RapidOcrReader, tmp_path: Path) -> None:
    page = tmp_path / "video.mp4"
    page.write_text("<html>not a video</html>")
    with pytest.raises(PermanentError, match="not a playable video"):
        reader.read_screen(page, 3.0, 2.0)


def test_the_engine_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_engines", {})  # force a fresh load of the models
    with no_network(monkeypatch) as attempts:
        with pytest.raises(OSError, match="network access attempted"):
            __import__("socket").create_connection(("127.0.0.1", 9))  # the guard is armed
        attempts.clear()
        found = ocr.RapidOcrReader(Settings(worker_threads=2)).read_screen(FIXTURES / "silent_text.mp4", 1.0, 0.0)
    assert attempts == []
    assert [s.text for s in found] == ["3 HACKS YOU NEED"]


def test_sample_times_cover_head_and_tail() -> None:
    assert ocr.sample_times(9.0, 3.0, 2.0) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 7.0, 7.5, 8.0, 8.5]
    assert ocr.sample_times(2.0, 3.0, 2.0) == [0.0, 0.5, 1.0, 1.5]  # overlap read once
    assert ocr.sample_times(9.0, 0.0, 0.0) == []


def test_merge_folds_variants_of_one_caption() -> None:
    readings = [
        (0.5, "DRY SKlN FIX", 0.81),
        (0.0, "DRY SKIN FIX", 0.97),
        (1.0, "dry skin fix!", 0.9),
        (1.5, "DRY SKIN FIX", 0.95),
        (7.0, "SHOP NOW", 0.99),
        (7.5, "SH0P NOW", 0.8),
    ]
    merged = ocr.merge_readings(readings)
    assert merged == [ScreenText(0.0, "DRY SKIN FIX", 0.97), ScreenText(7.0, "SHOP NOW", 0.99)]


def test_merge_keeps_different_captions_apart() -> None:
    merged = ocr.merge_readings([(0.0, "3 HACKS YOU NEED", 0.99), (0.0, "FOR DRY SKIN", 0.98),
                                 (2.0, "LINK IN BIO", 0.97), (2.5, "...", 0.99)])
    assert [m.text for m in merged] == ["3 HACKS YOU NEED", "FOR DRY SKIN", "LINK IN BIO"]
