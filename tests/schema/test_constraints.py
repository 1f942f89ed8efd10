"""CHECK constraints, UNIQUE keys, NOT NULL columns and foreign keys reject what they should,
one test per table; plus the worker indexes and the updated_at trigger."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from tests.schema.conftest import insert

pytestmark = pytest.mark.embedded


def rejects(conn: psycopg.Connection, error: type[Exception], constraint: str | None, table: str, **values) -> None:
    """The insert fails with `error`, naming `constraint` when one is given."""
    with pytest.raises(error) as info:
        insert(conn, table, **values)
    if constraint is not None:
        assert info.value.diag.constraint_name == constraint


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM public.{table}").fetchone()["n"]


def new_reference_video(conn: psycopg.Connection) -> dict:
    return insert(conn, "reference_videos", url=f"https://www.tiktok.com/@a/video/{uuid.uuid4().int}", submitted_by="t")


@pytest.fixture
def user(make_user: Callable[..., uuid.UUID]) -> uuid.UUID:
    return make_user()


def test_products(conn: psycopg.Connection) -> None:
    row = insert(conn, "products", name="Sleep gummies", benefits=["calm", "deep sleep"])
    assert row["benefits"] == ["calm", "deep sleep"]
    rejects(conn, errors.NotNullViolation, None, "products", brand="NoName")


def test_videos(conn: psycopg.Connection) -> None:
    row = insert(conn, "videos")
    assert (row["recording_status"], row["assignment_state"], row["work_priority"]) == ("NOT_RECORDED", "AVAILABLE", 0)
    for status in ("NOT_RECORDED", "RECORDED", "EDITED", "READY_TO_POST", "POSTED", "REJECTED"):
        insert(conn, "videos", recording_status=status)
    rejects(conn, errors.CheckViolation, "videos_recording_status_check", "videos", recording_status="recorded")
    rejects(conn, errors.CheckViolation, "videos_assignment_state_check", "videos", assignment_state="TAKEN")
    rejects(conn, errors.CheckViolation, "videos_assigned_role_check", "videos", assigned_role="admin")
    rejects(conn, errors.CheckViolation, "videos_posted_platform_check", "videos", posted_platform="myspace")
    rejects(conn, errors.ForeignKeyViolation, "videos_script_library_id_fkey", "videos", script_library_id=uuid.uuid4())
    rejects(conn, errors.ForeignKeyViolation, "videos_assigned_to_fkey", "videos", assigned_to=uuid.uuid4())


def test_concepts(conn: psycopg.Connection) -> None:
    product = insert(conn, "products", name="P")
    concept = insert(conn, "concepts", product_id=product["id"], hook_options=["a", "b"])
    rejects(conn, errors.ForeignKeyViolation, "concepts_product_id_fkey", "concepts", product_id=uuid.uuid4())
    conn.execute("DELETE FROM public.products WHERE id = %s", (product["id"],))
    row = conn.execute("SELECT product_id FROM public.concepts WHERE id = %s", (concept["id"],)).fetchone()
    assert row["product_id"] is None


def test_saved_skits(conn: psycopg.Connection, user: uuid.UUID) -> None:
    base = {"title": "Skit", "skit_data": Jsonb({"beats": []}), "user_id": user}
    assert insert(conn, "saved_skits", **base)["status"] == "draft"
    for status in ("draft", "approved", "produced", "posted", "archived"):
        insert(conn, "saved_skits", **base, status=status)
    insert(conn, "saved_skits", **base, user_rating=1)
    insert(conn, "saved_skits", **base, user_rating=5)
    rejects(conn, errors.CheckViolation, "saved_skits_status_check", "saved_skits", **base, status="deleted")
    rejects(conn, errors.CheckViolation, "saved_skits_user_rating_check", "saved_skits", **base, user_rating=0)
    rejects(conn, errors.CheckViolation, "saved_skits_user_rating_check", "saved_skits", **base, user_rating=6)
    rejects(conn, errors.NotNullViolation, None, "saved_skits", title="No data", user_id=user)
    rejects(conn, errors.ForeignKeyViolation, "saved_skits_user_id_fkey", "saved_skits", **{**base, "user_id": uuid.uuid4()})
    conn.execute("DELETE FROM auth.users WHERE id = %s", (user,))
    assert count(conn, "saved_skits") == 0


def test_skit_ratings(conn: psycopg.Connection, user: uuid.UUID) -> None:
    base = {"skit_data": Jsonb({}), "user_id": user}
    insert(conn, "skit_ratings", **base, rating=1)
    insert(conn, "skit_ratings", **base, rating=5)
    rejects(conn, errors.CheckViolation, "skit_ratings_rating_check", "skit_ratings", **base, rating=0)
    rejects(conn, errors.CheckViolation, "skit_ratings_rating_check", "skit_ratings", **base, rating=6)
    rejects(conn, errors.NotNullViolation, None, "skit_ratings", **base)


def test_skit_budget(conn: psycopg.Connection, user: uuid.UUID) -> None:
    org = uuid.uuid4()
    assert insert(conn, "skit_budget", org_id=org, user_id=user)["points"] == 300
    rejects(conn, errors.UniqueViolation, "skit_budget_pkey", "skit_budget", org_id=org, user_id=user)
    rejects(conn, errors.CheckViolation, "skit_budget_points_check", "skit_budget", org_id=uuid.uuid4(), user_id=user, points=-1)


def test_audience_personas(conn: psycopg.Connection) -> None:
    row = insert(conn, "audience_personas", name="Stressed Mom", phrases_they_use=["me time"])
    assert (row["pain_points"], row["times_used"]) == ([], 0)
    rejects(conn, errors.NotNullViolation, None, "audience_personas", tone="casual")
    rejects(conn, errors.CheckViolation, "audience_personas_times_used_check", "audience_personas", name="X", times_used=-1)


def test_pain_points(conn: psycopg.Connection) -> None:
    for intensity in ("low", "medium", "high", "extreme"):
        insert(conn, "pain_points", pain_point="Can't sleep", intensity=intensity)
    rejects(conn, errors.CheckViolation, "pain_points_intensity_check", "pain_points", pain_point="x", intensity="mild")
    rejects(conn, errors.NotNullViolation, None, "pain_points", category="sleep")


def test_language_patterns(conn: psycopg.Connection) -> None:
    persona = insert(conn, "audience_personas", name="Skeptical Buyer")
    row = insert(conn, "language_patterns", pattern_type="cta", pattern_text="Link in bio", persona_id=persona["id"],
                 success_rate=99.5)
    assert (row["is_recommended"], row["is_avoid"], row["times_used"]) == (True, False, 0)
    rejects(conn, errors.CheckViolation, "language_patterns_success_rate_check", "language_patterns",
            pattern_type="cta", pattern_text="x", success_rate=100.5)
    rejects(conn, errors.NotNullViolation, None, "language_patterns", pattern_type="cta")
    conn.execute("DELETE FROM public.audience_personas WHERE id = %s", (persona["id"],))
    assert conn.execute("SELECT persona_id FROM public.language_patterns").fetchone()["persona_id"] is None


def test_reference_videos(conn: psycopg.Connection) -> None:
    row = new_reference_video(conn)
    assert row["status"] == "queued"
    for status in ("queued", "needs_file", "needs_transcription", "processing", "ready", "failed"):
        conn.execute("UPDATE public.reference_videos SET status = %s WHERE id = %s", (status, row["id"]))
    rejects(conn, errors.UniqueViolation, "reference_videos_url_key", "reference_videos", url=row["url"], submitted_by="t")
    rejects(conn, errors.CheckViolation, "reference_videos_status_check", "reference_videos",
            url="https://example.test/1", submitted_by="t", status="done")
    rejects(conn, errors.NotNullViolation, None, "reference_videos", url="https://example.test/2")


def test_reference_assets(conn: psycopg.Connection) -> None:
    video = new_reference_video(conn)
    for asset_type in ("mp4", "audio", "transcript"):
        insert(conn, "reference_assets", reference_video_id=video["id"], asset_type=asset_type)
    rejects(conn, errors.UniqueViolation, "reference_assets_video_type_key", "reference_assets",
            reference_video_id=video["id"], asset_type="mp4")
    rejects(conn, errors.CheckViolation, "reference_assets_asset_type_check", "reference_assets",
            reference_video_id=new_reference_video(conn)["id"], asset_type="gif")
    # The key a stage upserts on.
    conn.execute(
        """
        INSERT INTO public.reference_assets (reference_video_id, asset_type, storage_path) VALUES (%s, 'mp4', 'a/b.mp4')
        ON CONFLICT (reference_video_id, asset_type) DO UPDATE SET storage_path = EXCLUDED.storage_path
        """,
        (video["id"],),
    )
    row = conn.execute(
        "SELECT storage_path FROM public.reference_assets WHERE reference_video_id = %s AND asset_type = 'mp4'",
        (video["id"],),
    ).fetchone()
    assert row["storage_path"] == "a/b.mp4"
    conn.execute("DELETE FROM public.reference_videos WHERE id = %s", (video["id"],))
    assert count(conn, "reference_assets") == 0


def test_reference_extracts(conn: psycopg.Connection) -> None:
    video = new_reference_video(conn)
    base = {"spoken_hook": "Stop scrolling", "cta": "Link in bio", "hook_family": "pattern_interrupt"}
    insert(conn, "reference_extracts", reference_video_id=video["id"], **base, quality_score=0)
    rejects(conn, errors.UniqueViolation, "reference_extracts_pkey", "reference_extracts",
            reference_video_id=video["id"], **base)
    other = new_reference_video(conn)["id"]
    insert(conn, "reference_extracts", reference_video_id=other, **base, quality_score=100)
    third = new_reference_video(conn)["id"]
    for score in (-1, 101):
        rejects(conn, errors.CheckViolation, "reference_extracts_quality_score_check", "reference_extracts",
                reference_video_id=third, **base, quality_score=score)
    rejects(conn, errors.NotNullViolation, None, "reference_extracts",
            reference_video_id=third, spoken_hook="x", hook_family="y")
    rejects(conn, errors.ForeignKeyViolation, "reference_extracts_reference_video_id_fkey", "reference_extracts",
            reference_video_id=uuid.uuid4(), **base)


def test_imported_videos(conn: psycopg.Connection) -> None:
    row = insert(conn, "imported_videos", video_url="https://www.tiktok.com/@a/video/1", platform="tiktok")
    assert (row["status"], row["metadata"]) == ("pending", {})
    rejects(conn, errors.UniqueViolation, "imported_videos_video_url_key", "imported_videos", video_url=row["video_url"])
    rejects(conn, errors.CheckViolation, "imported_videos_status_check", "imported_videos",
            video_url="https://example.test/2", status="queued")
    rejects(conn, errors.CheckViolation, "imported_videos_platform_check", "imported_videos",
            video_url="https://example.test/3", platform="vine")


def test_proven_hooks(conn: psycopg.Connection) -> None:
    base = {"brand_name": "Acme", "hook_text": "Wait for it", "hook_hash": "h1"}
    assert insert(conn, "proven_hooks", **base, hook_type="spoken")["used_count"] == 1
    insert(conn, "proven_hooks", **base, hook_type="text")
    rejects(conn, errors.UniqueViolation, "proven_hooks_brand_name_hook_type_hook_hash_key", "proven_hooks",
            **base, hook_type="spoken")
    rejects(conn, errors.CheckViolation, "proven_hooks_hook_type_check", "proven_hooks", **base, hook_type="audio")
    rejects(conn, errors.NotNullViolation, None, "proven_hooks", brand_name="Acme", hook_type="text", hook_text="x")


def test_hook_suggestions(conn: psycopg.Connection) -> None:
    video = insert(conn, "videos")
    base = {"source_video_id": video["id"], "hook_text": "Wait for it", "hook_hash": "h1"}
    assert insert(conn, "hook_suggestions", **base, hook_type="spoken")["status"] == "pending"
    insert(conn, "hook_suggestions", **base, hook_type="visual")
    rejects(conn, errors.UniqueViolation, "hook_suggestions_video_hook_key", "hook_suggestions", **base, hook_type="spoken")
    rejects(conn, errors.CheckViolation, "hook_suggestions_hook_type_check", "hook_suggestions", **base, hook_type="sound")
    rejects(conn, errors.CheckViolation, "hook_suggestions_status_check", "hook_suggestions",
            **{**base, "hook_hash": "h2"}, hook_type="text", status="maybe")
    rejects(conn, errors.NotNullViolation, None, "hook_suggestions", hook_type="text", hook_text="x", hook_hash="h3")
    conn.execute("DELETE FROM public.videos WHERE id = %s", (video["id"],))
    assert count(conn, "hook_suggestions") == 0


def test_script_library(conn: psycopg.Connection) -> None:
    base = {"brand_name": "Acme", "script_text": "Hook. Body. CTA.", "script_hash": "s1"}
    row = insert(conn, "script_library", **base)
    assert (row["is_winner"], row["used_count"]) == (False, 0)
    insert(conn, "script_library", **{**base, "brand_name": "Other"})
    rejects(conn, errors.UniqueViolation, "script_library_brand_name_script_hash_key", "script_library", **base)
    rejects(conn, errors.NotNullViolation, None, "script_library", brand_name="Acme", script_hash="s2")
    video = insert(conn, "videos", script_library_id=row["id"])
    assert video["script_library_id"] == row["id"]


def test_subscription_plans(conn: psycopg.Connection) -> None:
    rejects(conn, errors.UniqueViolation, "subscription_plans_pkey", "subscription_plans", id="free", name="Again")
    rejects(conn, errors.CheckViolation, "subscription_plans_price_monthly_check", "subscription_plans",
            id="test_negative", name="Bad", price_monthly=-1)
    rejects(conn, errors.CheckViolation, "subscription_plans_max_products_check", "subscription_plans",
            id="test_negative", name="Bad", max_products=-2)
    rejects(conn, errors.NotNullViolation, None, "subscription_plans", id="test_nameless")


def test_subscription_plans_are_seeded(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        """
        SELECT id, price_monthly, price_yearly, credits_per_month, max_products, max_team_members, max_saved_skits,
               is_active, sort_order
        FROM public.subscription_plans WHERE id IN ('free', 'starter', 'pro', 'team') ORDER BY sort_order
        """
    ).fetchall()
    # The numbers documented in docs/schema.md.
    assert [tuple(r.values()) for r in rows] == [
        ("free", 0, 0, 5, 3, 1, 3, True, 0),
        ("starter", 900, 9000, 75, 10, 1, 25, True, 1),
        ("pro", 2900, 29000, 300, -1, 1, -1, True, 2),
        ("team", 9900, 99000, 1000, -1, 10, -1, True, 3),
    ]


def test_user_subscriptions(conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]) -> None:
    user = make_user()
    row = insert(conn, "user_subscriptions", user_id=user)
    assert (row["plan_id"], row["status"]) == ("free", "active")
    rejects(conn, errors.UniqueViolation, "user_subscriptions_user_id_key", "user_subscriptions", user_id=user)
    other = make_user()
    rejects(conn, errors.CheckViolation, "user_subscriptions_status_check", "user_subscriptions",
            user_id=other, status="expired")
    rejects(conn, errors.CheckViolation, "user_subscriptions_billing_period_check", "user_subscriptions",
            user_id=other, billing_period="weekly")
    rejects(conn, errors.ForeignKeyViolation, "user_subscriptions_plan_id_fkey", "user_subscriptions",
            user_id=other, plan_id="gold")
    conn.execute("UPDATE public.user_subscriptions SET stripe_subscription_id = 'sub_1' WHERE user_id = %s", (user,))
    rejects(conn, errors.UniqueViolation, "user_subscriptions_stripe_subscription_id_key", "user_subscriptions",
            user_id=other, stripe_subscription_id="sub_1")


def test_user_credits(conn: psycopg.Connection, user: uuid.UUID) -> None:
    row = insert(conn, "user_credits", user_id=user)
    assert (row["credits_remaining"], row["free_credits_total"]) == (5, 5)
    assert row["period_start"] < row["period_end"]
    rejects(conn, errors.UniqueViolation, "user_credits_user_id_key", "user_credits", user_id=user)
    with pytest.raises(errors.CheckViolation) as info:
        conn.execute("UPDATE public.user_credits SET credits_remaining = -1 WHERE user_id = %s", (user,))
    assert info.value.diag.constraint_name == "user_credits_credits_remaining_check"


def test_credit_transactions(conn: psycopg.Connection, user: uuid.UUID) -> None:
    base = {"user_id": user, "amount": 1, "balance_after": 6}
    for kind in ("generation", "refund", "purchase", "bonus", "reset", "subscription_renewal"):
        assert insert(conn, "credit_transactions", **base, type=kind)["metadata"] == {}
    rejects(conn, errors.CheckViolation, "credit_transactions_type_check", "credit_transactions", **base, type="gift")
    rejects(conn, errors.NotNullViolation, None, "credit_transactions", user_id=user, type="bonus", amount=1)
    rejects(conn, errors.ForeignKeyViolation, "credit_transactions_skit_id_fkey", "credit_transactions",
            **base, type="bonus", skit_id=uuid.uuid4())


def test_video_events(conn: psycopg.Connection) -> None:
    video = insert(conn, "videos")
    assert insert(conn, "video_events", video_id=video["id"], event_type="recorded")["payload"] == {}
    rejects(conn, errors.NotNullViolation, None, "video_events", event_type="recorded")
    rejects(conn, errors.ForeignKeyViolation, "video_events_video_id_fkey", "video_events",
            video_id=uuid.uuid4(), event_type="recorded")
    conn.execute("DELETE FROM public.videos WHERE id = %s", (video["id"],))
    assert count(conn, "video_events") == 0


def test_notifications(conn: psycopg.Connection, user: uuid.UUID) -> None:
    assert insert(conn, "notifications", user_id=user, type="assigned")["is_read"] is False
    rejects(conn, errors.NotNullViolation, None, "notifications", type="assigned")
    rejects(conn, errors.NotNullViolation, None, "notifications", user_id=user)


def test_audit_log(conn: psycopg.Connection) -> None:
    base = {"correlation_id": "c1", "event_type": "video.posted", "entity_type": "video", "summary": "posted"}
    assert insert(conn, "audit_log", **base)["details"] == {}
    for column in ("correlation_id", "event_type", "entity_type", "summary"):
        rejects(conn, errors.NotNullViolation, None, "audit_log", **{k: v for k, v in base.items() if k != column})


def test_user_roles(conn: psycopg.Connection, user: uuid.UUID) -> None:
    insert(conn, "user_roles", user_id=user, role="editor")
    rejects(conn, errors.UniqueViolation, "user_roles_user_id_key", "user_roles", user_id=user, role="recorder")
    rejects(conn, errors.CheckViolation, "user_roles_role_check", "user_roles", user_id=uuid.uuid4(), role="owner")


def test_user_profiles(conn: psycopg.Connection, user: uuid.UUID) -> None:
    insert(conn, "user_profiles", user_id=user, role="admin")
    rejects(conn, errors.UniqueViolation, "user_profiles_pkey", "user_profiles", user_id=user)
    rejects(conn, errors.CheckViolation, "user_profiles_role_check", "user_profiles", user_id=uuid.uuid4(), role="owner")
    conn.execute("DELETE FROM auth.users WHERE id = %s", (user,))
    assert count(conn, "user_profiles") == 0


WORKER_INDEXES = [
    ("videos", ["recording_status"]),
    ("videos", ["assigned_to"]),
    ("videos", ["work_lane"]),
    ("videos", ["last_status_changed_at"]),
    ("videos", ["assignment_state", "assigned_expires_at"]),
    ("reference_videos", ["status", "updated_at"]),
    ("reference_assets", ["reference_video_id", "asset_type"]),
    ("hook_suggestions", ["source_video_id"]),
    ("user_subscriptions", ["status", "current_period_end"]),
]


@pytest.mark.parametrize(("table", "columns"), WORKER_INDEXES)
def test_index_exists(conn: psycopg.Connection, table: str, columns: list[str]) -> None:
    rows = conn.execute(
        """
        SELECT array_agg(a.attname ORDER BY k.ord) AS cols
        FROM pg_index AS i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass(%s)
        GROUP BY i.indexrelid
        """,
        (f"public.{table}",),
    ).fetchall()
    assert any(r["cols"][: len(columns)] == columns for r in rows), f"no index on {table}({', '.join(columns)})"


def test_updated_at_trigger_sets_now_unless_given(conn: psycopg.Connection) -> None:
    product = insert(conn, "products", name="P")
    past = datetime(2020, 1, 1, tzinfo=UTC)
    conn.execute("UPDATE public.products SET updated_at = %s WHERE id = %s", (past, product["id"]))
    assert conn.execute("SELECT updated_at FROM public.products").fetchone()["updated_at"] == past
    conn.execute("UPDATE public.products SET notes = 'changed' WHERE id = %s", (product["id"],))
    row = conn.execute("SELECT updated_at, now() AS now FROM public.products").fetchone()
    assert row["updated_at"] > past and row["updated_at"] <= row["now"]
