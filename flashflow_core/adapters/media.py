"""Decoding helpers for downloaded videos: probe, audio to WAV, frame sampling, key frames and
the measurable facts of a video's opening. Also the one place that runs a killable subprocess.

Probing and frames use PyAV in process (fast, header-level work, nothing to kill). Audio extraction
runs the ffmpeg binary shipped by imageio-ffmpeg in a subprocess instead: it is the one step that
reads the whole file, so it gets its own timeout, its own process group that is killed on timeout,
and memory that is returned when it exits; a Dramatiq time limit cannot interrupt a C call in PyAV.
The group stays in the caller's session, so a stage child killed with its session
(`flashflow_core.supervised`) takes its ffmpeg along.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
from PIL import Image

from flashflow_core.adapters.base import MediaInfo, PermanentError, TransientError, VisualSummary
from flashflow_core.config import Settings

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
OPENING_S = 2.0
# Frames of the opening are compared 10 times a second, whatever the frame rate, so numbers
# from 24, 30 and 60 fps videos mean the same thing.
_SUMMARY_STEP_S = 0.1
_SUMMARY_SIDE = 96
# Mean absolute RGB difference (0..1) between two samples 0.1 s apart above which the picture
# changed too much at once to be motion: a hard cut. Within one shot it rarely passes 0.1.
CUT_THRESHOLD = 0.15
# Decoding forward is cheaper than seeking when the next wanted time is this close.
_SEEK_GAP_S = 3.0
# A file whose packets stop this much before its declared duration is truncated.
_TRUNCATION_TOLERANCE_S = 1.0


class SubprocessTimeout(TransientError):
    """A subprocess ran past its timeout; its whole process group was killed."""


def run_subprocess(cmd: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run `cmd` in its own process group (in the caller's session), capturing output; kill the
    group on timeout."""
    proc = subprocess.Popen(
        list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise SubprocessTimeout(f"{Path(cmd[0]).name} did not finish within {timeout:g} s and was stopped") from None
    except BaseException:
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


# ---- opening files ----------------------------------------------------------------------------

@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError) as exc:
        raise PermanentError(f"the file is not a playable video ({_reason(exc)})") from exc
    try:
        yield container
    finally:
        container.close()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, av.error.InvalidDataError):
        return "its data is not in a format ffmpeg can read"
    return text


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]
        raise PermanentError(f"not a video: the file has no video stream ({', '.join(kinds)})")
    return container.streams.video[0]


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


# ---- probe ------------------------------------------------------------------------------------

def probe(path: Path) -> MediaInfo:
    """Check that the file is a decodable video and measure it; PermanentError otherwise.

    Every packet is read (not decoded) so a truncated download is caught even when its index,
    written at the start by `faststart`, still promises the full length.
    """
    with _open(path) as container:
        video = _video_stream(container)
        declared = container.duration / av.time_base if container.duration else None
        starts: list[float] = []
        ends: list[float] = []
        pictures = 0
        try:
            for packet in container.demux():
                pictures += packet.stream.type == "video" and packet.size > 0
                start = _seconds(packet.pts, packet.time_base)
                if start is None:
                    continue
                starts.append(start)
                ends.append(start + (_seconds(packet.duration, packet.time_base) or 0.0))
        except av.error.FFmpegError as exc:
            raise PermanentError(f"the file is not a playable video (reading failed: {_reason(exc)})") from exc
        if not ends:
            raise PermanentError("the file is not a playable video (it holds no media data)")
        if pictures < 2:  # a PNG or JPEG demuxes as a one-frame "video"
            raise PermanentError(f"not a video: a single picture ({video.codec_context.name})")
        # Encoder priming (AAC) gives the first audio packets negative times that players skip.
        duration = max(ends) - max(min(starts), 0.0)
        if declared is not None and duration < declared - max(_TRUNCATION_TOLERANCE_S, 0.05 * declared):
            raise PermanentError(
                f"the file is not a playable video (truncated: its data stops at {duration:.1f} s "
                f"of {declared:.1f} s)"
            )
        _decode_first_frame(container, video)
        return MediaInfo(
            duration_s=round(duration, 3),
            has_audio=bool(container.streams.audio),
            has_video=True,
            width=video.codec_context.width or None,
            height=video.codec_context.height or None,
        )


def _decode_first_frame(container: av.container.InputContainer, video: av.VideoStream) -> None:
    try:
        container.seek(0)
        for _frame in container.decode(video):
            return
    except av.error.FFmpegError as exc:
        raise PermanentError(f"the file is not a playable video (its picture does not decode: {_reason(exc)})") from exc
    raise PermanentError("the file is not a playable video (no picture could be decoded)")


# ---- audio ------------------------------------------------------------------------------------

def write_audio_wav(src: Path, dest_wav: Path, timeout_s: float = 300.0) -> None:
    """Write the first audio track of `src` as 16 kHz mono 16-bit WAV to `dest_wav`."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(src), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-c:a", "pcm_s16le", "-f", "wav", str(dest_wav),
    ]
    result = run_subprocess(cmd, timeout_s)
    if result.returncode != 0:
        dest_wav.unlink(missing_ok=True)
        if b"matches no streams" in result.stderr:
            raise PermanentError("the file has no audio track")
        detail = _last_line(result.stderr) or f"ffmpeg exit {result.returncode}"
        raise PermanentError(f"the audio could not be decoded ({detail})")


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def decode_audio(path: Path) -> np.ndarray:
    """Decode the first audio track to 16 kHz mono float32 samples in -1..1."""
    chunks: list[np.ndarray] = []
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise PermanentError("the file has no audio track")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, OSError) as exc:
        raise PermanentError(f"the audio could not be decoded ({_reason(exc)})") from exc
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


# ---- frames -----------------------------------------------------------------------------------

def sample_frames(path: Path, times: Sequence[float], max_side: int | None = None) -> list[tuple[float, np.ndarray]]:
    """Decode the frames shown at `times` (seconds) as RGB arrays, each at most `max_side` pixels long.

    Returns (frame time, array) pairs in time order; a time past the end yields the last frame,
    and a frame wanted for several times is returned once.
    """
    wanted = sorted({max(0.0, float(t)) for t in times})
    out: list[tuple[float, np.ndarray]] = []
    if not wanted:
        return out
    with _open(path) as container:
        video = _video_stream(container)
        video.thread_type = "AUTO"
        origin = _seconds(video.start_time, video.time_base) or 0.0
        size = _scaled_size(video.codec_context.width, video.codec_context.height, max_side)
        seen: set[int | None] = set()
        try:
            for frame in _frames_at(container, video, [origin + t for t in wanted]):
                if frame.pts in seen:
                    continue
                seen.add(frame.pts)
                scale = {"width": size[0], "height": size[1]} if size else {}
                array = frame.to_ndarray(format="rgb24", **scale)
                out.append((round((frame.time or 0.0) - origin, 3), array))
        except av.error.FFmpegError as exc:
            raise PermanentError(f"the file is not a playable video (decoding failed: {_reason(exc)})") from exc
    return out


def _frames_at(container: av.container.InputContainer, video: av.VideoStream,
               targets: list[float]) -> Iterator[av.VideoFrame]:
    """For each target time (ascending), yield the first frame at or after it, seeking only for long jumps."""
    half_frame = 0.5 / float(video.average_rate) if video.average_rate else 0.0
    decoder: Iterator[av.VideoFrame] | None = None
    current: av.VideoFrame | None = None
    for target in targets:
        if decoder is None or (current is not None and target - (current.time or 0.0) > _SEEK_GAP_S):
            container.seek(int(target / video.time_base), stream=video, backward=True)
            decoder, current = container.decode(video), None
        while current is None or (current.time or 0.0) < target - half_frame:
            following = next(decoder, None)
            if following is None:
                break
            current = following
        if current is not None:
            yield current


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    if not max_side or not width or not height or max(width, height) <= max_side:
        return None
    scale = max_side / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def key_frames(path: Path, dest_dir: Path, count: int, span_s: float = 3.0, max_side: int = 768) -> list[Path]:
    """Write `count` JPEGs spread over the first `span_s` seconds (for vision models); return their paths."""
    if count < 1:
        raise ValueError("count must be at least 1")
    times = [span_s * i / count for i in range(count)]
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (t, array) in enumerate(sample_frames(path, times, max_side=max_side), start=1):
        target = dest_dir / f"key_frame_{index:02d}.jpg"
        Image.fromarray(array).save(target, format="JPEG", quality=85)
        log.debug("key frame written", extra={"path": str(target), "t": t})
        paths.append(target)
    return paths


# ---- the opening --------------------------------------------------------------------------------

def visual_summary(path: Path, text_overlay: bool = False) -> VisualSummary:
    """Measure the first two seconds: hard cuts, motion, brightness; `text_overlay` comes from OCR."""
    times = [i * _SUMMARY_STEP_S for i in range(round(OPENING_S / _SUMMARY_STEP_S))]
    frames = sample_frames(path, times, max_side=_SUMMARY_SIDE)
    if not frames:
        raise PermanentError("the file is not a playable video (no picture could be decoded)")
    pictures = [array.astype(np.float32) / 255.0 for _, array in frames]
    luma = [p @ np.array([0.299, 0.587, 0.114], dtype=np.float32) for p in pictures]
    brightness = float(np.mean([y.mean() for y in luma]))
    cut_times: list[float] = []
    motion: list[float] = []
    for (t, _), before, after in zip(frames[1:], pictures, pictures[1:]):
        change = float(np.abs(after - before).mean())
        if change > CUT_THRESHOLD:
            cut_times.append(t)
        else:
            motion.append(change)
    mean_motion = float(np.mean(motion)) if motion else 0.0
    return VisualSummary(
        cuts_first_2s=len(cut_times),
        motion_first_2s=round(mean_motion, 4),
        text_overlay_first_2s=text_overlay,
        mean_brightness=round(brightness, 4),
        description=describe_opening(cut_times, mean_motion, brightness, text_overlay),
    )


def describe_opening(cut_times: list[float], motion: float, brightness: float, text_overlay: bool) -> str:
    """A short plain description of the opening built from its measurements."""
    if not cut_times:
        cuts = "one continuous shot"
    elif len(cut_times) == 1:
        cuts = "fast cut within the first second" if cut_times[0] <= 1.0 else f"a cut at {cut_times[0]:.1f} s"
    else:
        cuts = f"{len(cut_times)} cuts in the first two seconds"
    light = "dark" if brightness < 0.3 else "bright" if brightness > 0.6 else "evenly lit"
    pace = "static" if motion < 0.005 else "low-motion" if motion < 0.03 else "high-motion"
    text = " with on-screen text" if text_overlay else ""
    return f"{cuts}; {light}, {pace} opening{text}"


class PyAvMedia:
    """MediaTools for the pipeline: PyAV decoding with the subprocess timeout from settings."""

    def __init__(self, settings: Settings) -> None:
        self.timeout_s = settings.subprocess_timeout_s

    def probe(self, path: Path) -> MediaInfo:
        return probe(path)

    def write_audio_wav(self, src: Path, dest_wav: Path) -> None:
        write_audio_wav(src, dest_wav, timeout_s=self.timeout_s)

    def visual_summary(self, path: Path, text_overlay: bool = False) -> VisualSummary:
        return visual_summary(path, text_overlay=text_overlay)

    def key_frames(self, path: Path, dest_dir: Path, count: int) -> list[Path]:
        return key_frames(path, dest_dir, count)
