"""What each Winners Bank stage does with a claimed row: the heavy part, run in a stage child process.

Each function takes the child's Context (settings, the adapters with their models loaded, a
private temp folder), the row as the claim returned it and the attempt's storage version, and
returns the Work the finishing statement stores. None touches the database. Every file stored
goes into the attempt's own folder (`storage_keys.folder(row id, version)`), which nothing reads
until the finishing statement points the row's assets at it, and which the pipeline removes when
the attempt ends any other way: an attempt that lost its lease never changes what the row shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from flashflow_core.adapters.base import ExtractionInput, PermanentError, Segment, Transcript
from flashflow_core.supervised import Context
from flashflow_core.winners import speech_gate, storage_keys
from flashflow_core.winners.states import Stage


@dataclass
class Work:
    """What a stage produced, stored by the finishing statement."""

    assets: list[dict[str, Any]] = field(default_factory=list)
    extract: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def fetch(ctx: Context, row: dict[str, Any], version: str) -> Work:
    """Download the video (the downloader probes it and checks the limits) and store it."""
    media = ctx.tools.downloader.fetch(row["url"], ctx.tmp)
    info = media.info
    key = storage_keys.video(row["id"], media.path.suffix, version=version)
    path = ctx.tools.storage.put_file(key, media.path)
    meta = {
        "ytdlp_extractor": media.ytdlp_extractor,
        "site_video_id": media.video_id,
        "title": media.title,
        "duration_s": info.duration_s,
        "filesize": media.filesize,
        "has_audio": info.has_audio,
    }
    return Work(assets=[_asset("mp4", path)], meta=meta)


def transcribe(ctx: Context, row: dict[str, Any], version: str) -> Work:
    """Write the audio track as WAV and transcribe it; a video without sound gets an empty transcript."""
    video = _asset_path(ctx, row, "mp4")
    if _has_audio(ctx, row, video):
        wav = ctx.tmp / "audio.wav"
        ctx.tools.media.write_audio_wav(video, wav)
        audio_path = ctx.tools.storage.put_file(storage_keys.audio(row["id"], version=version), wav)
        transcript = ctx.tools.transcriber.transcribe(ctx.tools.storage.local_path(audio_path))
        assets = [_asset("audio", audio_path)]
    else:
        transcript = Transcript(text="", language=None, segments=[], engine="none: no audio track")
        assets = []
    refusal = speech_gate.language_refusal(transcript, ctx.settings.transcribe_languages)
    if refusal:
        raise PermanentError(refusal)
    assets.append(_transcript_asset(ctx, row["id"], version, transcript))
    return Work(assets=assets, meta={"has_speech": transcript.has_speech, "language": transcript.language,
                                     "speech_confidence": transcript.confidence})


def extract(ctx: Context, row: dict[str, Any], version: str) -> Work:
    """Read the on-screen text, measure the opening, and extract the hook package."""
    transcript = _load_transcript(ctx, row)
    video = _asset_path(ctx, row, "mp4", required=False)
    screen, visual, frames = [], None, []
    if video is not None:
        screen = ctx.tools.ocr.read_screen(video, ctx.settings.ocr_seconds_head, ctx.settings.ocr_seconds_tail)
        visual = ctx.tools.media.visual_summary(video, text_overlay=any(s.t <= 2.0 for s in screen))
        frames = ctx.tools.media.key_frames(video, ctx.tmp, 3)
    if not transcript.has_speech and not screen:
        raise PermanentError("the video has no speech and no on-screen text, so there is no hook to extract")
    min_confidence = ctx.settings.speech_min_confidence
    unclear = transcript.has_speech and not speech_gate.is_clear(transcript, min_confidence)
    if unclear and not screen:
        raise PermanentError(speech_gate.unclear_failure(transcript, min_confidence))
    heard = speech_gate.withheld(transcript) if unclear else transcript
    package = ctx.tools.extractor.extract(
        ExtractionInput(transcript=heard, screen_text=screen, visual=visual, key_frames=frames,
                        url=row["url"], category=row.get("category"), speech_unclear=unclear)
    )
    if not heard.has_speech:
        package = package.model_copy(update={"spoken_hook": ""})
    if unclear and speech_gate.UNCLEAR_TAG not in package.structure_tags:
        package = package.model_copy(update={"structure_tags": [speech_gate.UNCLEAR_TAG, *package.structure_tags]})
    return Work(extract=package.model_dump(mode="json"), meta={"extractor": ctx.tools.extractor.name,
                                                               "screen_text": [s.text for s in screen]})


def warm(ctx: Context, stages: list[str]) -> None:
    """Load what `stages` need before the first row (run in each child at the worker's start): a
    Whisper model that cannot be loaded stops the worker with its ConfigError, not each row later."""
    if Stage.TRANSCRIBE in stages:
        ctx.tools.transcriber.load()


#: The stage table's work: what runs in the child for each stage.
STAGE_WORK: dict[Stage, Callable[[Context, dict[str, Any], str], Work]] = {
    Stage.FETCH: fetch,
    Stage.TRANSCRIBE: transcribe,
    Stage.EXTRACT: extract,
}


def _transcript_asset(ctx: Context, reference_id: Any, version: str, transcript: Transcript) -> dict[str, Any]:
    found = {"language": transcript.language, "language_probability": transcript.language_probability,
             "confidence": transcript.confidence}
    body = {
        "text": transcript.text,
        "engine": transcript.engine,
        **found,
        "segments": [asdict(s) for s in transcript.segments],
    }
    path = ctx.tools.storage.put_bytes(storage_keys.transcript(reference_id, version=version),
                                       json.dumps(body, ensure_ascii=False, indent=1).encode())
    details = {"engine": transcript.engine, "segments": len(transcript.segments)}
    return {**_asset("transcript", path, transcript.text, details), **found}


def _has_audio(ctx: Context, row: dict[str, Any], video: Path) -> bool:
    """Whether the stored video has a sound track. The fetch and attach-file probed the file when they
    stored it and recorded the answer in source_meta; reading every packet again costs seconds on a
    long video, so the file is probed here only for a row stored before that was recorded."""
    recorded = (row.get("source_meta") or {}).get("has_audio")
    if isinstance(recorded, bool):
        return recorded
    return ctx.tools.media.probe(video).has_audio


def _asset_path(ctx: Context, row: dict[str, Any], asset_type: str, required: bool = True) -> Path | None:
    asset = row["assets"].get(asset_type)
    if asset is None or not asset["storage_path"] or not ctx.tools.storage.exists(asset["storage_path"]):
        if required:
            raise PermanentError(f"the stored {asset_type} file is missing; attach it with `flashflow attach-file`")
        return None
    return ctx.tools.storage.local_path(asset["storage_path"])


def _load_transcript(ctx: Context, row: dict[str, Any]) -> Transcript:
    asset = row["assets"].get("transcript")
    if asset is None:
        raise PermanentError("there is no transcript; attach one with `flashflow attach-transcript`")
    body: dict[str, Any] = {}
    path = asset["storage_path"]
    if path and ctx.tools.storage.exists(path):
        body = json.loads(ctx.tools.storage.read_bytes(path))
    fields = {f.name for f in dataclass_fields(Segment)}
    segments = [Segment(**{k: v for k, v in s.items() if k in fields}) for s in body.get("segments", [])]
    return Transcript(text=asset["transcript_text"] or "", language=body.get("language"), segments=segments,
                      engine=body.get("engine", ""), language_probability=body.get("language_probability"),
                      confidence=body.get("confidence"))


def _asset(asset_type: str, path: str, text: str | None = None,
           details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"asset_type": asset_type, "storage_path": path, "transcript_text": text, "details": details or {}}
