"""Dead letters per queue with their reasons and payloads; requeue or purge one message or all of
one reason, after a confirmation page that lists exactly what will be done."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from flashflow_console.auth import action, actor
from flashflow_console.web import done, path, render, state
from flashflow_core.ops.dlq import DeadLetterError, DeadMessage, reasons, record_operator_action
from flashflow_core.redaction import redact

LIMIT_PER_QUEUE = 500
NO_REASON = "(no reason recorded)"
VERBS = {"requeue": "Requeue", "purge": "Purge"}


def _queues(request: Request) -> list[dict[str, Any]]:
    """[{name, size, groups: [{reason, messages}]}] for every queue that has dead letters."""
    console = state(request)
    found = []
    for queue in console.dlq.queues():
        messages = console.dlq.entries(queue, LIMIT_PER_QUEUE)
        if not messages:
            continue
        why = _reasons(request, messages)
        groups: dict[str, list[DeadMessage]] = {}
        for m in messages:
            groups.setdefault(why.get(m.redis_message_id, NO_REASON), []).append(m)
        found.append({"name": queue, "size": console.dlq.size(queue),
                      "groups": [{"reason": r, "messages": ms} for r, ms in groups.items()]})
    return found


def _reasons(request: Request, messages: list[DeadMessage]) -> dict[str, str]:
    """{redis id: its recorded reason, redacted}: the text shown, and the key "all of a reason" uses."""
    with state(request).pool.connection() as conn:
        return {rid: redact(why) for rid, why in reasons(conn, [m.redis_message_id for m in messages]).items()}


def payload_text(message: DeadMessage) -> str:
    fields = message.fields
    return json.dumps(fields, indent=2) if fields is not None else message.payload.decode("utf-8", "replace")


def dead_letters(request: Request) -> HTMLResponse:
    """Every queue's dead letters, grouped by reason."""
    return render(request, "dead_letters.html", queues=_queues(request), payload_text=payload_text)


def _selected(request: Request, queue: str, ids: list[str], reason: str | None) -> list[DeadMessage]:
    console = state(request)
    if reason is not None:
        messages = console.dlq.entries(queue, LIMIT_PER_QUEUE)
        why = _reasons(request, messages)
        return [m for m in messages if why.get(m.redis_message_id, NO_REASON) == reason]
    return [m for m in (console.dlq.get(queue, rid) for rid in ids) if m is not None]


def confirm(request: Request) -> HTMLResponse:
    """The confirmation page: the messages an action would touch, and the button that does it."""
    q = request.query_params
    verb = q.get("action")
    if verb not in VERBS or not q.get("queue"):
        return render(request, "error.html", status_code=400, message="choose requeue or purge, and a queue")
    messages = _selected(request, q["queue"], q.getlist("id"), q.get("reason"))
    return render(request, "dead_letters_confirm.html", verb=verb, label=VERBS[verb], queue=q["queue"],
                  reason=q.get("reason"), messages=messages, payload_text=payload_text)


def _act(request: Request, form: FormData, verb: str) -> Response:
    console, who = state(request), actor(request)
    queue = str(form.get("queue") or "")
    ids = [str(i) for i in form.getlist("id")]
    here = path(request, "dead_letters")
    if not queue or not ids:
        return done(request, here, f"nothing to {verb}", ok=False)
    changed, problems = 0, []
    with console.pool.connection() as conn:
        for rid in ids:
            message = console.dlq.get(queue, rid)
            if message is None:
                problems.append(f"{rid} is no longer in {queue}'s dead letters")
                continue
            if verb == "requeue":
                try:
                    console.dlq.requeue(message)
                except DeadLetterError as exc:
                    problems.append(str(exc))
                    continue
                record_operator_action(conn, "message.requeued", message,
                                       f"requeued on {queue} from its dead-letter queue", actor=who)
            else:
                if not console.dlq.purge(queue, [rid]):
                    continue
                record_operator_action(conn, "message.purged", message,
                                       f"purged from the dead-letter queue of {queue}", actor=who)
            changed += 1
    past = "requeued" if verb == "requeue" else "purged"
    text = f"{past} {changed} message(s) of {queue}" + (": " + "; ".join(problems) if problems else "")
    return done(request, here, text, ok=not problems)


@action
async def requeue(request: Request, form: FormData) -> Response:
    """Put the confirmed messages back on their queue with fresh retries (audited)."""
    return await run_in_threadpool(_act, request, form, "requeue")


@action
async def purge(request: Request, form: FormData) -> Response:
    """Delete the confirmed messages for good (audited)."""
    return await run_in_threadpool(_act, request, form, "purge")
