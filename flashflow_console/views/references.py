"""The Winners Bank list and each row's page: timeline, video, transcript, hook package, and the
actions a person takes on a row (retry, attach a file or a transcript), through the same core
functions as the CLI."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from flashflow_console.auth import action, actor
from flashflow_console.web import done, path, render, state
from flashflow_core.winners import manual
from flashflow_core.winners.browse import ListFilter, list_references, reference_story, sites, video_key
from flashflow_core.winners.states import (
    ATTACH_FILE,
    ATTACH_TRANSCRIPT,
    CANCEL,
    FINAL,
    RETRY,
    ReferenceStatus,
    Stage,
)

PER_PAGE = 50


def _reference_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["reference_id"])
    except ValueError:
        raise HTTPException(404, "no such reference video") from None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def reference_list(request: Request) -> HTMLResponse:
    """Rows filtered by status, site, date and text (part of the URL, or an id prefix), paged."""
    console = state(request)
    q = request.query_params
    status = q.get("status") if q.get("status") in set(ReferenceStatus) else None
    where = ListFilter(status=ReferenceStatus(status) if status else None, site=q.get("site") or None,
                       since=_day(q.get("since")), until=_day(q.get("until")), text=q.get("q") or None)
    page = int(q["page"]) if q.get("page", "").isdigit() else 1
    found = list_references(console.pool, where, page, PER_PAGE)
    keep = {k: v for k, v in q.items() if k != "page" and v}
    return render(request, "references.html", found=found, where=where, sites=sites(console.pool),
                  statuses=list(ReferenceStatus), keep=keep)


def _story_context(request: Request) -> dict:
    console = state(request)
    reference_id = _reference_id(request)
    story = reference_story(console.pool, console.storage, reference_id)
    if story is None:
        raise HTTPException(404, f"no reference video with id {reference_id}")
    row = story.detail.row
    status = ReferenceStatus(row["status"])
    failed_at = Stage(row["failed_stage"]) if row["failed_stage"] else None
    return {  # the buttons shown are the moves states.py allows from here; the core functions check again
        "story": story, "row": row, "final": status in FINAL,
        "can_retry": failed_at is not None and RETRY[failed_at].allows(status, failed_at),
        "can_attach_file": ATTACH_FILE.allows(status, failed_at),
        "can_attach_transcript": ATTACH_TRANSCRIPT.allows(status, failed_at),
        "can_cancel": CANCEL.allows(status),
        "has_video": "mp4" in story.assets,
    }


def reference_page(request: Request) -> HTMLResponse:
    """One row: its state, actions, video, transcript, hook package and timeline."""
    return render(request, "reference.html", **_story_context(request))


def reference_live(request: Request) -> HTMLResponse:
    """The row's state and timeline, refreshed by htmx while the row is still moving."""
    return render(request, "_reference_live.html", **_story_context(request))


def reference_video(request: Request) -> Response:
    """The stored video, with range requests (seeking). The file is found from the row id alone."""
    console = state(request)
    reference_id = _reference_id(request)
    key = video_key(console.pool, reference_id)
    if key is None:
        raise HTTPException(404, "this row has no stored video")
    if not key.startswith(f"reference/{reference_id}/"):  # keys are built from the row's id; anything else is not served
        raise HTTPException(404, "this row's video is not stored under its id")
    try:
        file = console.storage.local_path(key)  # refuses keys that could leave the storage root
    except ValueError:
        raise HTTPException(404, "this row's video key is not a storage key") from None
    if not file.is_file():
        raise HTTPException(404, "the stored video file is missing")
    return FileResponse(file, media_type="video/mp4" if file.suffix == ".mp4" else None,
                        headers={"Cache-Control": "private, max-age=60"})


def _after_step_in(request: Request, reference_id: UUID, stage: Stage, what: str) -> Response:
    from jobs.winners import send_owed

    goes_on = f"the {stage} stage runs next"
    if not send_owed(stage, reference_id):
        goes_on += " once Redis answers again (a worker sends its message then)"
    return done(request, path(request, "reference", reference_id=reference_id), f"{what}: {goes_on}")


@action
async def retry(request: Request, form: FormData) -> Response:
    """Start a failed row again from the stage that failed."""
    reference_id, who = _reference_id(request), actor(request)
    console = state(request)

    def run() -> Response:
        try:
            stage = manual.retry(console.pool, reference_id, actor=who)
        except manual.CannotStepIn as exc:
            return done(request, path(request, "reference", reference_id=reference_id), str(exc), ok=False)
        return _after_step_in(request, reference_id, stage, "Retry sent")

    return await run_in_threadpool(run)


@action
async def attach_file(request: Request, form: FormData) -> Response:
    """Store an uploaded video for a row the fetcher could not get; it resumes at transcription."""
    reference_id, who = _reference_id(request), actor(request)
    console = state(request)
    upload = form.get("file")
    here = path(request, "reference", reference_id=reference_id)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return done(request, here, "choose a video file to attach", ok=False)
    suffix = Path(upload.filename).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".mp4"  # the rest of the name is not used

    def run() -> Response:
        with tempfile.TemporaryDirectory(prefix="ff-console-upload-") as tmp:
            saved = Path(tmp) / f"upload{suffix}"
            with saved.open("wb") as out:
                upload.file.seek(0)
                while chunk := upload.file.read(1024 * 1024):
                    out.write(chunk)
            if saved.stat().st_size > console.upload_limit_bytes:
                return done(request, here, "the file is larger than FLASHFLOW_FETCH_MAX_FILESIZE_MB", ok=False)
            try:
                stage = manual.attach_file(console.pool, console.runtime.tools, reference_id, saved, actor=who)
            except manual.CannotStepIn as exc:
                return done(request, here, str(exc).replace(str(saved), upload.filename or "the file"), ok=False)
        return _after_step_in(request, reference_id, stage, f"Attached {upload.filename}")

    return await run_in_threadpool(run)


@action
async def attach_transcript(request: Request, form: FormData) -> Response:
    """Store a transcript typed or pasted in (text, or JSON with segments); the row resumes at extraction."""
    reference_id, who = _reference_id(request), actor(request)
    console = state(request)
    text = form.get("transcript")
    here = path(request, "reference", reference_id=reference_id)
    if not isinstance(text, str) or not text.strip():
        return done(request, here, "the transcript is empty", ok=False)

    def run() -> Response:
        try:
            stage = manual.attach_transcript(console.pool, console.runtime.tools, reference_id, text, actor=who)
        except manual.CannotStepIn as exc:
            return done(request, here, str(exc), ok=False)
        return _after_step_in(request, reference_id, stage, "Transcript attached")

    return await run_in_threadpool(run)


@action
async def cancel(request: Request, form: FormData) -> Response:
    """Stop a queued or waiting row: it fails, "canceled by console:NAME" (audited)."""
    reference_id, who = _reference_id(request), actor(request)
    console = state(request)

    def run() -> Response:
        here = path(request, "reference", reference_id=reference_id)
        try:
            stage = manual.cancel(console.pool, reference_id, actor=who)
        except manual.CannotStepIn as exc:
            return done(request, here, str(exc), ok=False)
        return done(request, here, f"Canceled: the row failed at {stage}, canceled by {who}; Retry starts it again")

    return await run_in_threadpool(run)
