"""Runs one Winners Bank stage for one reference video, owning its transactions.

Each attempt: take the row's lease (a conditional UPDATE from the statuses the stage starts
from), do the work outside any transaction, then in one statement store what it made and move
the row on (`transitions`). A duplicate or stale message finds nothing to claim and stops
quietly; a message that comes back after its worker died counts as a crash, and too many crashes
fail the row. `Pipeline.stages` maps each stage to the method that does its work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool
from pydantic import ValidationError

from flashflow_core.adapters.base import (
    ExtractionInput,
    PermanentError,
    Segment,
    SiteThrottled,
    Transcript,
    TransientError,
)
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.sql import load_queries
from flashflow_core.winners import speech_gate, storage_keys, transitions
from flashflow_core.winners.limits import stage_limits
from flashflow_core.winners.states import NEXT_STAGE, STAGE_LEADS_TO, STAGE_WORKS_IN, Stage

log = logging.getLogger(__name__)
Q = load_queries("flashflow_core.winners", "queries.sql")

Outcome = Literal["advanced", "skipped", "failed", "retry", "throttled"]


@dataclass(frozen=True)
class StageResult:
    """What one attempt at a stage came to; the actor acts on it (send the next stage, retry...)."""

    reference_id: UUID
    stage: Stage
    outcome: Outcome
    detail: str = ""
    next_stage: Stage | None = None
    site: str | None = None
    retry_after_s: float | None = None
    correlation_id: str | None = None


@dataclass
class _Work:
    """What a stage produced, stored in the finishing transaction."""

    assets: list[dict[str, Any]] = field(default_factory=list)
    extract: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Pipeline:
    """The Winners Bank stages over a connection pool, settings and a toolkit of adapters."""

    def __init__(self, pool: ConnectionPool, settings: Settings, tools: Toolkit) -> None:
        self.pool = pool
        self.settings = settings
        self.tools = tools
        #: The stage table: what each stage does with a claimed row and a scratch directory.
        self.stages: dict[Stage, Callable[[dict[str, Any], Path], _Work]] = {
            Stage.FETCH: self._fetch,
            Stage.TRANSCRIBE: self._transcribe,
            Stage.EXTRACT: self._extract,
        }

    # ---- the attempt ---------------------------------------------------------------------

    def run_stage(self, stage: Stage, reference_id: UUID, message_id: str) -> StageResult:
        """Do one attempt at `stage` for `reference_id`; never raises for the row's own problems."""
        row = self._claim(stage, reference_id, message_id)
        if row is None:
            return StageResult(reference_id, stage, "skipped", self._why_skipped(stage, reference_id))
        row["message_id"] = message_id
        if row["crash_count"] >= self.settings.stage_max_attempts:
            return self._fail(
                stage, row, f"the {stage} stage stopped its worker {row['crash_count']} times "
                "(killed or crashed mid-stage), so it was not tried again",
            )
        try:
            with tempfile.TemporaryDirectory(prefix=f"ff-{stage}-") as tmp:
                work = self.stages[stage](row, Path(tmp))
        except SiteThrottled as exc:
            if row["throttle_count"] + 1 >= self.settings.fetch_max_throttles:
                return self._fail(stage, row, f"the site kept throttling us ({row['throttle_count'] + 1} times, "
                                  f"FLASHFLOW_FETCH_MAX_THROTTLES): {exc}; retry later with `flashflow retry`")
            self._release(stage, row, str(exc), throttled=True)
            return StageResult(reference_id, stage, "throttled", str(exc), site=exc.site,
                               retry_after_s=exc.retry_after_s)
        except PermanentError as exc:
            return self._fail(stage, row, str(exc))
        except ValidationError as exc:
            return self._fail(stage, row, f"the hook package did not match its schema ({_first_error(exc)})")
        except TransientError as exc:
            return self._retry_or_fail(stage, row, str(exc))
        except Exception as exc:  # a bug or an unclassified failure: bounded retries, then failed
            log.exception("unexpected error in stage", extra={"stage": str(stage), "reference_id": str(reference_id)})
            return self._retry_or_fail(stage, row, f"unexpected error: {exc!r}", trace=traceback.format_exc(limit=5))
        try:
            return self._advance(stage, row, work)
        except psycopg.OperationalError:
            # Give the lease back if the database is still there, so the retry of this message
            # is not mistaken for a worker that died mid-stage.
            with contextlib.suppress(psycopg.Error):
                self._release(stage, row, "the database connection failed while finishing the stage")
            raise

    # ---- stages ----------------------------------------------------------------------------

    def _fetch(self, row: dict[str, Any], tmp: Path) -> _Work:
        media = self.tools.downloader.fetch(row["url"], tmp)  # probed and checked against the limits
        info = media.info
        key = storage_keys.video(row["id"], media.path.suffix)
        path = self.tools.storage.put_file(key, media.path)
        meta = {
            "ytdlp_extractor": media.ytdlp_extractor,
            "site_video_id": media.video_id,
            "title": media.title,
            "duration_s": info.duration_s,
            "filesize": media.filesize,
            "has_audio": info.has_audio,
        }
        return _Work(assets=[_asset("mp4", path)], meta=meta)

    def _transcribe(self, row: dict[str, Any], tmp: Path) -> _Work:
        video = self._asset_path(row, "mp4")
        info = self.tools.media.probe(video)
        if info.has_audio:
            wav = tmp / "audio.wav"
            self.tools.media.write_audio_wav(video, wav)
            audio_path = self.tools.storage.put_file(storage_keys.audio(row["id"]), wav)
            transcript = self.tools.transcriber.transcribe(self.tools.storage.local_path(audio_path))
            assets = [_asset("audio", audio_path)]
        else:
            transcript = Transcript(text="", language=None, segments=[], engine="none: no audio track")
            assets = []
        refusal = speech_gate.language_refusal(transcript, self.settings.transcribe_languages)
        if refusal:
            raise PermanentError(refusal)
        assets.append(self._transcript_asset(row["id"], transcript))
        return _Work(assets=assets, meta={"has_speech": transcript.has_speech, "language": transcript.language,
                                          "speech_confidence": transcript.confidence})

    def _extract(self, row: dict[str, Any], tmp: Path) -> _Work:
        transcript = self._load_transcript(row)
        video = self._asset_path(row, "mp4", required=False)
        screen, visual, frames = [], None, []
        if video is not None:
            screen = self.tools.ocr.read_screen(
                video, self.settings.ocr_seconds_head, self.settings.ocr_seconds_tail
            )
            visual = self.tools.media.visual_summary(video, text_overlay=any(s.t <= 2.0 for s in screen))
            frames = self.tools.media.key_frames(video, tmp, 3)
        if not transcript.has_speech and not screen:
            raise PermanentError("the video has no speech and no on-screen text, so there is no hook to extract")
        min_confidence = self.settings.speech_min_confidence
        unclear = transcript.has_speech and not speech_gate.is_clear(transcript, min_confidence)
        if unclear and not screen:
            raise PermanentError(speech_gate.unclear_failure(transcript, min_confidence))
        heard = speech_gate.withheld(transcript) if unclear else transcript
        package = self.tools.extractor.extract(
            ExtractionInput(transcript=heard, screen_text=screen, visual=visual, key_frames=frames,
                            url=row["url"], category=row.get("category"), speech_unclear=unclear)
        )
        if not heard.has_speech:
            package = package.model_copy(update={"spoken_hook": ""})
        if unclear and speech_gate.UNCLEAR_TAG not in package.structure_tags:
            package = package.model_copy(update={"structure_tags": [speech_gate.UNCLEAR_TAG, *package.structure_tags]})
        return _Work(extract=package.model_dump(mode="json"), meta={"extractor": self.tools.extractor.name,
                                            "screen_text": [s.text for s in screen]})

    # ---- helpers for stages ----------------------------------------------------------------

    def _transcript_asset(self, reference_id: UUID, transcript: Transcript) -> dict[str, Any]:
        found = {"language": transcript.language, "language_probability": transcript.language_probability,
                 "confidence": transcript.confidence}
        body = {
            "text": transcript.text,
            "engine": transcript.engine,
            **found,
            "segments": [asdict(s) for s in transcript.segments],
        }
        path = self.tools.storage.put_bytes(
            storage_keys.transcript(reference_id), json.dumps(body, ensure_ascii=False, indent=1).encode()
        )
        details = {"engine": transcript.engine, "segments": len(transcript.segments)}
        return {**_asset("transcript", path, transcript.text, details), **found}

    def _asset_path(self, row: dict[str, Any], asset_type: str, required: bool = True) -> Path | None:
        asset = row["assets"].get(asset_type)
        if asset is None or not asset["storage_path"] or not self.tools.storage.exists(asset["storage_path"]):
            if required:
                raise PermanentError(f"the stored {asset_type} file is missing; attach it with `flashflow attach-file`")
            return None
        return self.tools.storage.local_path(asset["storage_path"])

    def _load_transcript(self, row: dict[str, Any]) -> Transcript:
        asset = row["assets"].get("transcript")
        if asset is None:
            raise PermanentError("there is no transcript; attach one with `flashflow attach-transcript`")
        body: dict[str, Any] = {}
        path = asset["storage_path"]
        if path and self.tools.storage.exists(path):
            body = json.loads(self.tools.storage.read_bytes(path))
        fields = {f.name for f in dataclass_fields(Segment)}
        segments = [Segment(**{k: v for k, v in s.items() if k in fields}) for s in body.get("segments", [])]
        return Transcript(text=asset["transcript_text"] or "", language=body.get("language"), segments=segments,
                          engine=body.get("engine", ""), language_probability=body.get("language_probability"),
                          confidence=body.get("confidence"))

    # ---- state changes ---------------------------------------------------------------------

    def _claim(self, stage: Stage, reference_id: UUID, message_id: str) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return transitions.claim(conn, stage, reference_id, message_id,
                                     lease_s=stage_limits(self.settings, stage).lease_s)

    def _advance(self, stage: Stage, row: dict[str, Any], work: _Work) -> StageResult:
        meta = {k: v for k, v in work.meta.items() if v is not None}
        with self.pool.connection() as conn:
            moved = transitions.finish(conn, stage, row, meta=meta, assets=work.assets, extract=work.extract)
        if not moved:
            # Someone else finished or failed this stage meanwhile: keep their outcome.
            return StageResult(row["id"], stage, "skipped", "another attempt already moved the row on")
        return StageResult(row["id"], stage, "advanced", str(STAGE_LEADS_TO[stage]), next_stage=NEXT_STAGE[stage],
                           correlation_id=row["correlation_id"])

    def _fail(self, stage: Stage, row: dict[str, Any], cause: str) -> StageResult:
        message = f"{stage}: {cause}"
        with self.pool.connection() as conn:
            failed = transitions.fail(conn, stage, row, message)
        if not failed:
            return StageResult(row["id"], stage, "skipped", "another attempt already moved the row on")
        log.warning("reference failed", extra={"reference_id": str(row["id"]), "stage": str(stage), "error": message})
        return StageResult(row["id"], stage, "failed", message)

    def _retry_or_fail(self, stage: Stage, row: dict[str, Any], cause: str,
                       trace: str | None = None) -> StageResult:
        attempts = row["stage_attempts"]
        if attempts > self.settings.stage_max_retries:
            return self._fail(stage, row, f"gave up after {attempts} attempts: {cause}")
        self._release(stage, row, cause if trace is None else f"{cause}\n{trace}")
        return StageResult(row["id"], stage, "retry", cause)

    def _release(self, stage: Stage, row: dict[str, Any], error: str, throttled: bool = False) -> None:
        with self.pool.connection() as conn:
            transitions.release(conn, stage, row, error, throttled)

    def _why_skipped(self, stage: Stage, reference_id: UUID) -> str:
        with self.pool.connection() as conn:
            row = conn.execute(Q["get_reference"], {"id": reference_id}).fetchone()
        if row is None:
            return "no such reference video"
        if row["status"] == str(STAGE_WORKS_IN[stage]) and row["lease_until"] is not None:
            return f"another worker holds the {stage} lease until {row['lease_until']:%H:%M:%S}"
        return f"status is {row['status']}; nothing for the {stage} stage to do"


def _asset(asset_type: str, path: str, text: str | None = None,
           details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"asset_type": asset_type, "storage_path": path, "transcript_text": text, "details": details or {}}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"


def reference_url(pool: ConnectionPool, reference_id: UUID) -> str | None:
    """The URL of a reference row (None when there is no such row), for per-site limits."""
    with pool.connection() as conn:
        row = conn.execute(Q["get_reference_url"], {"id": reference_id}).fetchone()
    return row["url"] if row else None
