"""The jobs other systems may enqueue, the model of each one's arguments, and their JSON Schemas.

Every declared actor is public unless it is listed in INTERNAL_ACTORS, so a new actor module
is picked up by `python -m jobs.public` (and by the drift test) without being registered here.
An actor's arguments are described by its model in PAYLOAD_MODELS, or else by a model
built from its signature and type hints (`Annotated[int, Field(ge=1)]` constraints included).
Defaults always come from the signature, because that is what the actor does when one is left out.
"""

from __future__ import annotations

import inspect
import json
import typing
from functools import cache
from pathlib import Path
from typing import Any

import dramatiq
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from flashflow_core.winners.submit import ReferenceSubmission
from jobs import assignments, credits, hooks, winners

# Sent only by the pipeline itself, each right after the stage before it committed.
INTERNAL_ACTORS = frozenset({"fetch_reference", "transcribe_reference", "extract_reference"})

# Actors whose arguments have a hand-written model; field names must equal the actor's parameter
# names (a test checks).
PAYLOAD_MODELS: dict[str, type[BaseModel]] = {
    "enqueue_reference": ReferenceSubmission,
    "rescue_stuck_references": winners.RescuePayload,
    "fetch_reference": winners.ReferencePayload,
    "transcribe_reference": winners.ReferencePayload,
    "extract_reference": winners.ReferencePayload,
    "expire_assignments": assignments.ExpirePayload,
    "renew_credits": credits.RenewPayload,
    "extract_hook_suggestions": hooks.ExtractPayload,
    "sweep_hook_suggestions": hooks.SweepPayload,
    "review_hook_suggestion": hooks.ReviewPayload,
}

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ArgumentsInvalid(Exception):
    """A message's arguments do not fit its actor; the text names each problem."""


@cache
def _signature_model(fn: typing.Callable[..., Any]) -> type[BaseModel]:
    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints.get(name, Any), default)
    return create_model(f"{fn.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def arguments_model(actor: dramatiq.Actor) -> type[BaseModel]:
    """The pydantic model of `actor`'s arguments."""
    model = PAYLOAD_MODELS.get(actor.actor_name)
    return model if model is not None else _signature_model(actor.fn)


def validate_arguments(actor: dramatiq.Actor, args: list[Any] | tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise ArgumentsInvalid unless `actor` can be called with these arguments."""
    signature = inspect.signature(actor.fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ArgumentsInvalid(f"the arguments do not fit {actor.actor_name}{signature}: {exc}") from None
    bound.apply_defaults()
    try:
        arguments_model(actor).model_validate(dict(bound.arguments))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                             for err in exc.errors())
        raise ArgumentsInvalid(f"invalid arguments for {actor.actor_name}: {problems}") from None


def public_actors(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """{name: actor} of the declared actors other systems may enqueue."""
    return {name: broker.get_actor(name) for name in sorted(broker.get_declared_actors())
            if name not in INTERNAL_ACTORS}


def job_schema(actor: dramatiq.Actor) -> dict[str, Any]:
    """The JSON Schema of `actor`'s keyword arguments (`kwargs` of its message)."""
    schema = arguments_model(actor).model_json_schema()
    properties = schema.get("properties", {})
    required = []
    for name, param in inspect.signature(actor.fn).parameters.items():
        if name not in properties:
            continue
        if param.default is inspect.Parameter.empty:
            required.append(name)
            properties[name].pop("default", None)
        else:
            properties[name]["default"] = param.default
    doc = inspect.getdoc(actor.fn) or ""
    ordered: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": f"{actor.actor_name} arguments",
        "description": doc.splitlines()[0] if doc else f"Arguments of {actor.actor_name}.",
        "x-flashflow-actor": actor.actor_name,
        "x-flashflow-queue": actor.queue_name,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if "$defs" in schema:
        ordered["$defs"] = schema["$defs"]
    return ordered


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of the message envelope every job is wrapped in."""
    from jobs.poison import Envelope

    schema = Envelope.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **schema}


def render_schemas(broker: dramatiq.Broker) -> dict[str, str]:
    """{file name: text} of every schema file under schemas/."""
    files = {f"{name}.json": job_schema(actor) for name, actor in public_actors(broker).items()}
    files["message.json"] = envelope_schema()
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n" for name, schema in files.items()}


def render_jobs_table(broker: dramatiq.Broker) -> str:
    """The generated job reference of docs/producers.md (between its JOBS markers)."""
    lines = ["| job (actor_name) | queue_name | kwargs | schema |", "| --- | --- | --- | --- |"]
    for name, actor in public_actors(broker).items():
        schema = job_schema(actor)
        args = []
        for arg, prop in schema["properties"].items():
            kind = _shown_type(prop)
            shown = f"`{arg}` ({kind})" if arg in schema["required"] else f"`{arg}` ({kind}, default `{json.dumps(prop.get('default'))}`)"
            args.append(shown)
        lines.append(f"| `{name}` | `{actor.queue_name}` | {', '.join(args) or 'none'} | "
                     f"[schemas/{name}.json](../schemas/{name}.json) |")
    return "\n".join(lines) + "\n"


def _shown_type(prop: dict[str, Any]) -> str:
    """An argument's type for the job table: its JSON type with its format, choices and bounds, so a
    producer sees a uuid, a URI or a range without opening the schema."""
    if "enum" in prop:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_shown_type(p) for p in prop["anyOf"])
    parts = [prop.get("type", "see schema")]
    if "format" in prop:
        parts.append(prop["format"])
    length = _bounds(prop.get("minLength"), prop.get("maxLength"))
    if length:
        parts.append(f"{length} characters")
    value = _bounds(prop.get("minimum"), prop.get("maximum"), prop.get("exclusiveMinimum"),
                    prop.get("exclusiveMaximum"))
    if value:
        parts.append(value)
    return ", ".join(parts)


def _bounds(low: Any, high: Any, low_open: Any = None, high_open: Any = None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    shown = [f"at least {low}" if low is not None else "", f"more than {low_open}" if low_open is not None else "",
             f"at most {high}" if high is not None else "", f"less than {high_open}" if high_open is not None else ""]
    return ", ".join(part for part in shown if part)


JOBS_BEGIN = "<!-- BEGIN GENERATED JOBS: python -m jobs.public -->\n"
JOBS_END = "<!-- END GENERATED JOBS -->"


def splice_jobs_table(doc: str, table: str) -> str:
    """`doc` with the text between its JOBS markers replaced by `table`."""
    start, end = doc.index(JOBS_BEGIN) + len(JOBS_BEGIN), doc.index(JOBS_END)
    return doc[:start] + table + doc[end:]


def _loaded_broker() -> dramatiq.Broker:
    from dramatiq.brokers.stub import StubBroker

    from jobs.registry import declare_actors

    broker = StubBroker()
    declare_actors(broker)
    return broker


def write_all(root: Path) -> list[Path]:
    """Regenerate schemas/*.json and the job table of docs/producers.md under `root`."""
    broker = _loaded_broker()
    written = []
    schema_dir = root / "schemas"
    schema_dir.mkdir(exist_ok=True)
    rendered = render_schemas(broker)
    for stale in schema_dir.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    for name, text in rendered.items():
        (schema_dir / name).write_text(text, encoding="utf-8")
        written.append(schema_dir / name)
    doc = root / "docs" / "producers.md"
    doc.write_text(splice_jobs_table(doc.read_text(encoding="utf-8"), render_jobs_table(broker)), encoding="utf-8")
    written.append(doc)
    return written


if __name__ == "__main__":
    import logging

    logging.basicConfig(level="INFO", format="%(message)s")
    for path in write_all(Path(__file__).resolve().parent.parent):
        logging.getLogger("jobs.public").info("wrote %s", path)
