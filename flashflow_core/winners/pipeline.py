"""Runs one Winners Bank stage for one reference video, owning its transactions.

Each attempt: take the row's lease (a conditional UPDATE from the statuses the stage starts
from), which gives the attempt the row's next lease token; run the stage's work (`stage_work`) in
a supervised child process, outside any transaction, while the lease keeper renews the lease;
then in one statement store what it made and move the row on (`transitions`), only if the row
still holds the attempt's token. The work stores its files in the attempt's own folder, named
after the token, which the finishing statement switches the row's assets to; an attempt that ends
any other way removes that folder, so an attempt that lost its lease changes nothing the row
shows. A duplicate or stale message finds nothing to claim and stops quietly; a message that
comes back after its worker died counts as a crash, and too many crashes fail the row.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool
from pydantic import ValidationError

from flashflow_core.adapters.base import PermanentError, SiteThrottled, TransientError
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.config import Settings
from flashflow_core.db.sql import load_queries
from flashflow_core.supervised import (
    ChildCancelled,
    ChildDied,
    ChildOutOfMemory,
    ChildTimedOut,
    Context,
    InThread,
    Runner,
)
from flashflow_core.winners import storage_keys, transitions
from flashflow_core.winners.leases import Held, LeaseKeeper
from flashflow_core.winners.limits import StageLimits, stage_limits
from flashflow_core.winners.stage_work import STAGE_WORK, Work
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


class Pipeline:
    """The Winners Bank stages over a connection pool, settings and a toolkit of adapters."""

    def __init__(self, pool: ConnectionPool, settings: Settings, tools: Toolkit, runner: Runner | None = None,
                 leases: LeaseKeeper | None = None,
                 work: Mapping[Stage, Callable[[Context, dict[str, Any], str], Work]] = STAGE_WORK) -> None:
        self.pool = pool
        self.settings = settings
        self.tools = tools
        #: Where the work runs: the worker's stage child processes (jobs.runtime), else this thread.
        self.runner = runner or InThread(settings, tools)
        self.leases = leases or LeaseKeeper(pool, settings.stage_lease_s)
        #: The stage table: what each stage does with a claimed row, in its child process.
        self.stages = dict(work)

    # ---- the attempt ---------------------------------------------------------------------

    def run_stage(self, stage: Stage, reference_id: UUID, message_id: str) -> StageResult:
        """Do one attempt at `stage` for `reference_id`; never raises for the row's own problems."""
        row = self._claim(stage, reference_id, message_id)
        if row is None:
            return StageResult(reference_id, stage, "skipped", self._why_skipped(stage, reference_id))
        row["message_id"] = message_id
        self._remove_left_behind(row)
        version = storage_keys.attempt_version(row["lease_token"])
        result: StageResult | None = None
        try:
            if row["crash_count"] >= self.settings.stage_max_attempts:
                result = self._fail(
                    stage, row, f"the {stage} stage stopped its worker {row['crash_count']} times "
                    "(killed or crashed mid-stage), so it was not tried again",
                )
            else:
                limits = stage_limits(self.settings, stage)
                with self.leases.hold(row["id"], row["lease_token"], limits.attempt_s) as held:
                    result = self._attempt(stage, row, version, limits, held)
            return result
        finally:
            if result is None or result.outcome != "advanced":
                self.tools.storage.remove_tree(storage_keys.folder(row["id"], version))

    def _attempt(self, stage: Stage, row: dict[str, Any], version: str, limits: StageLimits,
                 held: Held) -> StageResult:
        reference_id = row["id"]
        try:
            work = self.runner.run(self.stages[stage], row, version, wall_s=limits.timeout_s, cancel=held.lost,
                                   log_fields={"reference_id": str(reference_id), "stage": str(stage),
                                               "lease_token": row["lease_token"]})
        except ChildTimedOut as exc:
            return self._fail(stage, row, f"timed out: the stage {exc} ({limits.timeout_setting})")
        except ChildOutOfMemory as exc:
            return self._fail(stage, row, f"the stage {exc} (FLASHFLOW_STAGE_MAX_MEMORY_MB)")
        except ChildCancelled as exc:
            log.warning("stage stopped", extra={"stage": str(stage), "reference_id": str(reference_id),
                                                "reason": str(exc)})
            return StageResult(reference_id, stage, "skipped", f"stopped: {exc}")
        except ChildDied as exc:
            return self._retry_or_fail(stage, row, str(exc))
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

    def _remove_left_behind(self, row: dict[str, Any]) -> None:
        """Remove the previous attempt's folder unless the row's files are in it: what an attempt
        whose worker died (or that lost its lease) left, half-written files included."""
        previous = row["lease_token"] - 1
        if previous < 1:
            return
        folder = storage_keys.folder(row["id"], storage_keys.attempt_version(previous))
        if not any((a["storage_path"] or "").startswith(folder + "/") for a in row["assets"].values()):
            self.tools.storage.remove_tree(folder)

    # ---- state changes ---------------------------------------------------------------------

    def _claim(self, stage: Stage, reference_id: UUID, message_id: str) -> dict[str, Any] | None:
        with self.pool.connection() as conn:
            return transitions.claim(conn, stage, reference_id, message_id,
                                     lease_s=stage_limits(self.settings, stage).lease_s)

    def _advance(self, stage: Stage, row: dict[str, Any], work: Work) -> StageResult:
        meta = {k: v for k, v in work.meta.items() if v is not None}
        with self.pool.connection() as conn:
            superseded = transitions.finish(conn, stage, row, meta=meta, assets=work.assets, extract=work.extract)
        if superseded is None:
            # Someone else finished or failed this stage meanwhile, or took the row over: keep theirs.
            return StageResult(row["id"], stage, "skipped", "another attempt already moved the row on")
        for path in superseded:  # files of an earlier version the row no longer points at
            self.tools.storage.delete(path)
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


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"


def reference_url(pool: ConnectionPool, reference_id: UUID) -> str | None:
    """The URL of a reference row (None when there is no such row), for per-site limits."""
    with pool.connection() as conn:
        row = conn.execute(Q["get_reference_url"], {"id": reference_id}).fetchone()
    return row["url"] if row else None
