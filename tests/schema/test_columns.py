"""Every table of the FlashFlow schema document exists with each documented column's type,
nullability and default (docs/schema.md lists the choices made where the document is vague).

Columns are written `name type [not null] [= default]`, the default as Postgres prints it.
Later migrations may add columns; only the documented ones are checked.
"""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.embedded

UUID_PK = "id uuid not null = gen_random_uuid()"
CREATED = "created_at timestamptz not null = now()"
UPDATED = "updated_at timestamptz not null = now()"

TABLES: dict[str, str] = {
    "products": f"""
        {UUID_PK}
        name text not null
        brand text
        description text
        benefits text[]
        ingredients text
        category text
        category_risk text
        tiktok_showcase_url text
        notes text
        {CREATED}
        {UPDATED}
    """,
    "videos": f"""
        {UUID_PK}
        concept_id uuid
        product_id uuid
        script_library_id uuid
        script_locked_text text
        script_locked_version integer
        script_locked_json jsonb
        recording_status text not null = 'NOT_RECORDED'::text
        recorded_at timestamptz
        edited_at timestamptz
        ready_to_post_at timestamptz
        posted_at timestamptz
        rejected_at timestamptz
        last_status_changed_at timestamptz
        recording_notes text
        editor_notes text
        uploader_notes text
        posted_url text
        posted_platform text
        posted_account text
        posting_error text
        assigned_to uuid
        assigned_at timestamptz
        assigned_role text
        assignment_state text not null = 'AVAILABLE'::text
        assigned_expires_at timestamptz
        claimed_by text
        claimed_at timestamptz
        claim_expires_at timestamptz
        claim_role text
        work_lane text
        work_priority integer not null = 0
        {CREATED}
        {UPDATED}
    """,
    "concepts": f"""
        {UUID_PK}
        product_id uuid
        angle text
        proof_type text
        hypothesis text
        hook_options text[]
        visual_hook text
        on_screen_text_hook text
        on_screen_text_mid text[]
        on_screen_text_cta text
        hook_type text
        reference_script text
        reference_video_url text
        tone_preset text
        {CREATED}
        {UPDATED}
    """,
    "saved_skits": f"""
        {UUID_PK}
        title text not null
        skit_data jsonb not null
        generation_config jsonb
        product_id uuid
        product_name text
        product_brand text
        status text not null = 'draft'::text
        user_id uuid not null
        org_id uuid
        user_rating integer
        ai_score jsonb
        {CREATED}
        {UPDATED}
    """,
    "skit_ratings": f"""
        {UUID_PK}
        skit_data jsonb not null
        rating integer not null
        feedback text
        user_id uuid not null
        org_id uuid
        generation_config jsonb
        product_id uuid
        product_name text
        product_brand text
        {CREATED}
        {UPDATED}
    """,
    "skit_budget": f"""
        org_id uuid not null
        user_id uuid not null
        points numeric not null = 300
        {UPDATED}
    """,
    "audience_personas": f"""
        {UUID_PK}
        name text not null
        description text
        age_range text
        gender text
        lifestyle text
        pain_points jsonb not null = '[]'::jsonb
        phrases_they_use text[]
        phrases_to_avoid text[]
        tone text
        humor_style text
        common_objections text[]
        beliefs jsonb
        content_they_engage_with text[]
        platforms text[]
        product_categories text[]
        product_ids uuid[]
        times_used integer not null = 0
        created_by uuid
        {CREATED}
        {UPDATED}
    """,
    "pain_points": f"""
        {UUID_PK}
        pain_point text not null
        category text
        when_it_happens text
        emotional_state text
        intensity text
        how_they_describe_it text[]
        related_searches text[]
        what_they_want text
        objections_to_solutions text[]
        product_ids uuid[]
        times_used integer not null = 0
        created_by uuid
        {CREATED}
        {UPDATED}
    """,
    "language_patterns": f"""
        {UUID_PK}
        pattern_type text not null
        pattern_text text not null
        persona_id uuid
        category text
        times_used integer not null = 0
        success_rate numeric(5,2)
        source text
        source_video_id uuid
        is_recommended boolean not null = true
        is_avoid boolean not null = false
        {CREATED}
    """,
    "reference_videos": f"""
        {UUID_PK}
        url text not null
        submitted_by text not null
        notes text
        category text
        status text not null = 'queued'::text
        error_message text
        {CREATED}
        {UPDATED}
    """,
    "reference_assets": f"""
        {UUID_PK}
        reference_video_id uuid not null
        asset_type text not null
        storage_path text
        transcript_text text
        {CREATED}
        {UPDATED}
    """,
    "reference_extracts": f"""
        reference_video_id uuid not null
        spoken_hook text not null
        on_screen_hook text
        visual_hook text
        cta text not null
        hook_family text not null
        structure_tags jsonb
        quality_score integer
        {CREATED}
        {UPDATED}
    """,
    "proven_hooks": f"""
        {UUID_PK}
        brand_name text not null
        product_id uuid
        hook_type text not null
        hook_text text not null
        hook_hash text not null
        hook_family text
        source_video_id uuid
        used_count integer not null = 1
        approved_count integer not null = 0
        posted_count integer not null = 0
        winner_count integer not null = 0
        last_used_at timestamptz
        approved_by text
        {CREATED}
        {UPDATED}
    """,
    "hook_suggestions": f"""
        {UUID_PK}
        source_video_id uuid not null
        product_id uuid
        brand_name text
        hook_type text not null
        hook_text text not null
        hook_hash text not null
        status text not null = 'pending'::text
        reviewed_at timestamptz
        reviewed_by uuid
        review_note text
        {CREATED}
    """,
    "script_library": f"""
        {UUID_PK}
        product_id uuid
        brand_name text not null
        concept_id uuid
        source_video_id uuid
        script_text text not null
        script_hash text not null
        hook_spoken text
        hook_visual text
        hook_text text
        hook_family text
        tone_preset text
        is_winner boolean not null = false
        used_count integer not null = 0
        approved_count integer not null = 0
        posted_count integer not null = 0
        approved_by text
        {CREATED}
        {UPDATED}
    """,
    "subscription_plans": f"""
        id text not null
        name text not null
        description text
        price_monthly integer not null = 0
        price_yearly integer not null = 0
        credits_per_month integer not null = 0
        max_products integer not null = 10
        max_team_members integer not null = 1
        max_saved_skits integer not null = 3
        features jsonb not null = '[]'::jsonb
        stripe_price_id_monthly text
        stripe_price_id_yearly text
        is_active boolean not null = true
        sort_order integer not null = 0
        {CREATED}
        {UPDATED}
    """,
    "user_subscriptions": f"""
        {UUID_PK}
        user_id uuid not null
        plan_id text not null = 'free'::text
        status text not null = 'active'::text
        billing_period text
        stripe_customer_id text
        stripe_subscription_id text
        current_period_start timestamptz
        current_period_end timestamptz
        canceled_at timestamptz
        trial_end timestamptz
        {CREATED}
        {UPDATED}
    """,
    "user_credits": f"""
        {UUID_PK}
        user_id uuid not null
        credits_remaining integer not null = 5
        credits_used_this_period integer not null = 0
        lifetime_credits_used integer not null = 0
        free_credits_total integer not null = 5
        free_credits_used integer not null = 0
        period_start timestamptz = now()
        period_end timestamptz = (now() + '1 mon'::interval)
        {CREATED}
        {UPDATED}
    """,
    "credit_transactions": f"""
        {UUID_PK}
        user_id uuid not null
        type text not null
        amount integer not null
        balance_after integer not null
        description text
        metadata jsonb not null = '{{}}'::jsonb
        skit_id uuid
        {CREATED}
    """,
    "video_events": f"""
        {UUID_PK}
        video_id uuid not null
        event_type text not null
        actor text
        payload jsonb not null = '{{}}'::jsonb
        {CREATED}
    """,
    "notifications": f"""
        {UUID_PK}
        user_id uuid not null
        type text not null
        video_id uuid
        payload jsonb
        is_read boolean not null = false
        {CREATED}
    """,
    "audit_log": f"""
        {UUID_PK}
        correlation_id text not null
        event_type text not null
        entity_type text not null
        entity_id text
        actor text
        summary text not null
        details jsonb not null = '{{}}'::jsonb
        {CREATED}
    """,
    "user_roles": """
        id uuid not null = gen_random_uuid()
        user_id uuid not null
        role text not null
        assigned_by text
        assigned_at timestamptz not null = now()
    """,
    "user_profiles": f"""
        user_id uuid not null
        role text
        display_name text
        avatar_url text
        {CREATED}
        {UPDATED}
    """,
    "imported_videos": f"""
        {UUID_PK}
        video_url text not null
        platform text
        title text
        creator_handle text
        transcript text
        status text not null = 'pending'::text
        error_message text
        metadata jsonb not null = '{{}}'::jsonb
        reference_video_id uuid
        product_id uuid
        imported_by uuid
        {CREATED}
        {UPDATED}
    """,
}

PRIMARY_KEYS = {
    "skit_budget": ["org_id", "user_id"],
    "reference_extracts": ["reference_video_id"],
    "subscription_plans": ["id"],
    "user_profiles": ["user_id"],
}


def parse_columns(spec: str) -> dict[str, tuple[str, bool, str | None]]:
    """{column: (type, not_null, default)} from the `name type [not null] [= default]` lines."""
    columns = {}
    for line in filter(None, (raw.strip() for raw in spec.splitlines())):
        head, _, default = line.partition(" = ")
        name, type_, *rest = head.split()
        assert rest in ([], ["not", "null"]), f"bad spec line: {line!r}"
        columns[name] = (type_, bool(rest), default or None)
    return columns


def actual_columns(conn: psycopg.Connection, table: str) -> dict[str, tuple[str, bool, str | None]]:
    rows = conn.execute(
        """
        SELECT a.attname AS name,
               replace(format_type(a.atttypid, a.atttypmod), 'timestamp with time zone', 'timestamptz') AS type,
               a.attnotnull AS not_null,
               pg_get_expr(d.adbin, d.adrelid) AS default
        FROM pg_attribute AS a
        LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        """,
        (f"public.{table}",),
    ).fetchall()
    return {r["name"]: (r["type"], r["not_null"], r["default"]) for r in rows}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_table_has_documented_columns(conn: psycopg.Connection, table: str) -> None:
    expected = parse_columns(TABLES[table])
    actual = actual_columns(conn, table)
    assert actual, f"table public.{table} does not exist"
    missing = sorted(set(expected) - set(actual))
    assert not missing, f"{table} lacks columns {missing}"
    wrong = {name: (actual[name], want) for name, want in expected.items() if actual[name] != want}
    assert not wrong, f"{table}: (actual, expected) differ: {wrong}"

    (pk,) = conn.execute(
        """
        SELECT array_agg(a.attname ORDER BY array_position(c.conkey, a.attnum)) AS cols
        FROM pg_constraint AS c JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p'
        """,
        (f"public.{table}",),
    ).fetchone().values()
    assert pk == PRIMARY_KEYS.get(table, ["id"])


@pytest.mark.parametrize("table", sorted(TABLES))
def test_table_has_row_level_security(conn: psycopg.Connection, table: str) -> None:
    (enabled,) = conn.execute(
        "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(%s)", (f"public.{table}",)
    ).fetchone().values()
    assert enabled is True


@pytest.mark.parametrize("table", sorted(t for t, spec in TABLES.items() if "updated_at" in parse_columns(spec)))
def test_table_with_updated_at_has_the_trigger(conn: psycopg.Connection, table: str) -> None:
    rows = conn.execute(
        """
        SELECT p.proname FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid
        WHERE t.tgrelid = to_regclass(%s) AND NOT t.tgisinternal
        """,
        (f"public.{table}",),
    ).fetchall()
    assert "set_updated_at" in [r["proname"] for r in rows]
