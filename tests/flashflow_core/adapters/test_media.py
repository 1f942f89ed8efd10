"""Media helpers on the real fixture videos: probing, audio to WAV, frames and the opening summary."""

from __future__ import annotations

import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flashflow_core.adapters import media
from flashflow_core.adapters.base import PermanentError
from flashflow_core.config import Settings
from tests.conftest import FIXTURES

HOOK = FIXTURES / "hook_speech_text.mp4"
PLAIN = FIXTURES / "no_speech_no_text.mp4"
NAVY = np.array([0x1B, 0x1F, 0x3B])
TEAL = np.array([0x00, 0x8C, 0x8C])


def _wav(path: Path) -> tuple[int, int, float, np.ndarray]:
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return w.getframerate(), w.getnchannels(), w.getnframes() / w.getframerate(), samples


# ---- probe ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "duration"), [
    ("hook_speech_text.mp4", 9.0), ("silent_text.mp4", 4.0), ("speech_only.mp4", 5.2), ("no_speech_no_text.mp4", 3.0),
])
def test_probe_measures_the_fixtures(name: str, duration: float) -> None:
    info = media.probe(FIXTURES / name)
    assert info.duration_s == pytest.approx(duration, abs=0.05)
    assert (info.has_video, info.has_audio, info.width, info.height) == (True, True, 360, 640)


def test_probe_rejects_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "video.mp4"
    empty.touch()
    with pytest.raises(PermanentError, match="not a playable video"):
        media.probe(empty)


def test_probe_rejects_an_html_page(tmp_path: Path) -> None:
    page = tmp_path / "video.mp4"
    page.write_text("<!doctype html><html><head><title>Log in</title></head><body>Please log in</body></html>")
    with pytest.raises(PermanentError, match="not a playable video"):
        media.probe(page)


@pytest.mark.parametrize("keep", [0.05, 0.4, 0.8])
def test_probe_rejects_a_truncated_download(tmp_path: Path, keep: float) -> None:
    data = HOOK.read_bytes()
    cut = tmp_path / "video.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(PermanentError, match="not a playable video"):
        media.probe(cut)


def test_probe_rejects_audio_without_picture(tmp_path: Path) -> None:
    wav = tmp_path / "audio.wav"
    media.write_audio_wav(HOOK, wav)
    with pytest.raises(PermanentError, match="not a video"):
        media.probe(wav)


def test_probe_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="no such file"):
        media.probe(tmp_path / "gone.mp4")


# ---- audio ------------------------------------------------------------------------------------

def test_write_audio_wav_writes_16k_mono_wav_of_the_full_length(tmp_path: Path) -> None:
    wav = tmp_path / "audio.wav"
    media.write_audio_wav(HOOK, wav)
    rate, channels, seconds, samples = _wav(wav)
    assert (rate, channels) == (16_000, 1)
    assert seconds == pytest.approx(9.0, abs=0.05)
    assert np.abs(samples).max() > 3000  # speech, not silence


def test_write_audio_wav_of_a_silent_track_is_silent(tmp_path: Path) -> None:
    wav = tmp_path / "audio.wav"
    media.write_audio_wav(PLAIN, wav)
    rate, _, seconds, samples = _wav(wav)
    assert rate == 16_000 and seconds == pytest.approx(3.0, abs=0.05)
    assert np.abs(samples).max() < 50


def test_write_audio_wav_without_an_audio_track(tmp_path: Path) -> None:
    picture_only = tmp_path / "picture.mp4"
    import imageio_ffmpeg

    done = media.run_subprocess([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(HOOK),
                                 "-an", "-c", "copy", str(picture_only)], timeout=30)
    assert done.returncode == 0, done.stderr
    assert media.probe(picture_only).has_audio is False
    with pytest.raises(PermanentError, match="no audio track"):
        media.write_audio_wav(picture_only, tmp_path / "audio.wav")
    assert not (tmp_path / "audio.wav").exists()


def test_write_audio_wav_of_garbage_is_permanent(tmp_path: Path) -> None:
    junk = tmp_path / "video.mp4"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(PermanentError, match="audio could not be decoded"):
        media.write_audio_wav(junk, tmp_path / "audio.wav")


def test_decode_audio_gives_16k_float_samples() -> None:
    samples = media.decode_audio(HOOK)
    assert samples.dtype == np.float32
    assert len(samples) / 16_000 == pytest.approx(9.0, abs=0.1)
    assert 0.1 < np.abs(samples).max() <= 1.0


# ---- subprocesses -----------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_run_subprocess_returns_output() -> None:
    done = media.run_subprocess([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], timeout=30)
    assert (done.returncode, done.stdout.strip()) == (3, b"out")


def test_run_subprocess_kills_the_whole_group_on_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    with pytest.raises(media.SubprocessTimeout, match="within 0.5 s"):
        media.run_subprocess(["sh", "-c", script], timeout=0.5)
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the grandchild outlived the timeout"


# ---- frames -----------------------------------------------------------------------------------

def test_sample_frames_shows_the_cut() -> None:
    frames = media.sample_frames(HOOK, [2.0, 0.5])
    assert [round(t, 1) for t, _ in frames] == [0.5, 2.0]
    (_, before), (_, after) = frames
    assert before.shape == (640, 360, 3) and before.dtype == np.uint8
    assert np.abs(before[620, 10].astype(int) - NAVY).max() < 12
    assert np.abs(after[620, 10].astype(int) - TEAL).max() < 12


def test_sample_frames_downscales_and_clamps_past_the_end() -> None:
    frames = media.sample_frames(HOOK, [20.0, 30.0], max_side=320)
    assert len(frames) == 1  # both late times resolve to the last frame, returned once
    t, frame = frames[0]
    assert t == pytest.approx(9.0 - 1 / 15, abs=0.01)
    assert frame.shape == (320, 180, 3)


def test_key_frames_writes_jpegs_of_the_opening(tmp_path: Path) -> None:
    paths = media.key_frames(HOOK, tmp_path / "frames", 3)
    assert [p.name for p in paths] == ["key_frame_01.jpg", "key_frame_02.jpg", "key_frame_03.jpg"]
    colours = []
    for path in paths:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("JPEG", (360, 640))
            colours.append(np.asarray(image.convert("RGB"))[620, 10].astype(int))
    assert np.abs(colours[0] - NAVY).max() < 12  # t=0: before the cut
    assert np.abs(colours[1] - TEAL).max() < 12  # t=1: after it


def test_key_frames_refuses_zero(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        media.key_frames(HOOK, tmp_path, 0)


# ---- the opening ------------------------------------------------------------------------------

def test_visual_summary_finds_the_cut_and_the_motion() -> None:
    summary = media.visual_summary(HOOK, text_overlay=True)
    assert summary.cuts_first_2s == 1
    assert summary.motion_first_2s > 0.001  # the sliding square
    assert summary.text_overlay_first_2s is True
    assert summary.description == "fast cut within the first second; dark, low-motion opening with on-screen text"


def test_visual_summary_of_a_still_plain_picture() -> None:
    summary = media.visual_summary(PLAIN)
    assert (summary.cuts_first_2s, summary.motion_first_2s, summary.text_overlay_first_2s) == (0, 0.0, False)
    assert summary.mean_brightness == pytest.approx(0.24, abs=0.03)  # 0x2e4a3a
    assert summary.description == "one continuous shot; dark, static opening"


def test_visual_summary_brightness_follows_the_picture() -> None:
    grey = media.visual_summary(FIXTURES / "speech_only.mp4")  # warm grey 0x8a7f72
    assert grey.mean_brightness == pytest.approx(0.5, abs=0.03)
    assert grey.mean_brightness > media.visual_summary(PLAIN).mean_brightness


@pytest.mark.parametrize(("cuts", "motion", "brightness", "expected"), [
    ([], 0.0, 0.7, "one continuous shot; bright, static opening"),
    ([1.4], 0.05, 0.45, "a cut at 1.4 s; evenly lit, high-motion opening"),
    ([0.3, 0.9, 1.5], 0.01, 0.2, "3 cuts in the first two seconds; dark, low-motion opening"),
])
def test_describe_opening(cuts: list[float], motion: float, brightness: float, expected: str) -> None:
    assert media.describe_opening(cuts, motion, brightness, False) == expected


def test_pyav_media_uses_the_subprocess_timeout(tmp_path: Path) -> None:
    tools = media.PyAvMedia(Settings(subprocess_timeout_s=0.001))
    with pytest.raises(media.SubprocessTimeout):
        tools.write_audio_wav(HOOK, tmp_path / "audio.wav")
    assert media.PyAvMedia(Settings()).probe(HOOK).duration_s == pytest.approx(9.0, abs=0.05)
