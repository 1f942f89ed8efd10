"""The public job contract: checked-in JSON Schemas and the doc's job table match the code, and
hand-written payload models match their actors' signatures."""

from __future__ import annotations

import inspect
import json

import jsonschema
import pytest

from jobs.public import (
    PAYLOAD_MODELS,
    arguments_model,
    job_schema,
    public_actors,
    render_jobs_table,
    render_schemas,
    splice_jobs_table,
    validate_arguments,
)
from tests.conftest import ROOT

REGENERATE = "run `python -m jobs.public` and commit the result"


def test_checked_in_schemas_match_the_models(broker):
    rendered = render_schemas(broker)
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "schemas").glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), REGENERATE
    for name, text in rendered.items():
        assert on_disk[name] == text, f"schemas/{name} drifted from the code; {REGENERATE}"


def test_producer_doc_lists_every_public_job(broker):
    doc = (ROOT / "docs" / "producers.md").read_text(encoding="utf-8")
    assert splice_jobs_table(doc, render_jobs_table(broker)) == doc, f"docs/producers.md job table drifted; {REGENERATE}"
    for name in public_actors(broker):
        assert f"`{name}`" in doc


def test_the_issue_s_public_jobs_are_public(broker):
    assert {"enqueue_reference", "extract_hook_suggestions", "review_hook_suggestion", "expire_assignments",
            "renew_credits"} <= set(public_actors(broker))


@pytest.mark.parametrize("actor_name", sorted(PAYLOAD_MODELS))
def test_hand_written_models_have_the_actor_s_parameters(broker, actor_name):
    actor = broker.get_actor(actor_name)
    assert set(arguments_model(actor).model_fields) == set(inspect.signature(actor.fn).parameters)


def test_schemas_and_the_worker_agree_on_what_is_valid(broker):
    actor = broker.get_actor("enqueue_reference")
    schema = job_schema(actor)
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {"url": "https://www.tiktok.com/@a/video/7300000000000000001", "submitted_by": "web-app"}
    jsonschema.validate(good, schema)
    validate_arguments(actor, [], good)
    for bad in ({}, {**good, "colour": "red"}, {"url": "x" * 3000}, {"url": 5}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
        with pytest.raises(Exception, match="arguments"):
            validate_arguments(actor, [], bad)
    envelope = json.loads((ROOT / "schemas" / "message.json").read_text())
    jsonschema.Draft202012Validator.check_schema(envelope)
    assert sorted(envelope["required"]) == sorted(
        ["queue_name", "actor_name", "args", "kwargs", "options", "message_id", "message_timestamp"])
