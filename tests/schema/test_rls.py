"""Row Level Security as the API roles see it.

Tests connect as the server superuser and `SET LOCAL ROLE` to anon / authenticated /
service_role (they are NOLOGIN), with Supabase-style JWT claims in `request.jwt.claims`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from tests.schema.conftest import acting_as, insert

pytestmark = pytest.mark.embedded


@dataclass(frozen=True)
class People:
    a: uuid.UUID
    b: uuid.UUID
    outsider: uuid.UUID  # has no rows anywhere
    admin: uuid.UUID


def own_rows(conn: psycopg.Connection, user: uuid.UUID) -> None:
    insert(conn, "saved_skits", title=f"skit of {user}", skit_data=Jsonb({}), user_id=user)
    insert(conn, "skit_ratings", skit_data=Jsonb({}), rating=4, user_id=user)
    insert(conn, "user_credits", user_id=user)
    insert(conn, "user_subscriptions", user_id=user)
    insert(conn, "notifications", user_id=user, type="assigned")
    insert(conn, "credit_transactions", user_id=user, type="bonus", amount=1, balance_after=6)


@pytest.fixture
def people(conn: psycopg.Connection, make_user: Callable[..., uuid.UUID]) -> People:
    found = People(a=make_user(), b=make_user(), outsider=make_user(), admin=make_user(role="admin"))
    own_rows(conn, found.a)
    own_rows(conn, found.b)
    return found


@pytest.fixture
def inactive_plan(conn: psycopg.Connection) -> Iterator[str]:
    plan_id = f"test_{uuid.uuid4().hex[:8]}"
    insert(conn, "subscription_plans", id=plan_id, name="Retired", is_active=False)
    yield plan_id
    conn.execute("DELETE FROM public.subscription_plans WHERE id = %s", (plan_id,))


def user_ids(conn: psycopg.Connection, table: str) -> set[uuid.UUID]:
    query = sql.SQL("SELECT user_id FROM {}").format(sql.Identifier("public", table))
    return {r["user_id"] for r in conn.execute(query).fetchall()}


def run(conn: psycopg.Connection, query: str, *params: object) -> int:
    """Execute and return the number of rows affected."""
    return conn.execute(query, params).rowcount


# table: (an UPDATE setting a column, the values of a new row for a user, whether users may DELETE)
OWN_ROW_TABLES = {
    "saved_skits": ("SET title = 'renamed'", {"title": "t", "skit_data": Jsonb({})}, True),
    "skit_ratings": ("SET feedback = 'changed'", {"skit_data": Jsonb({}), "rating": 2}, True),
    "notifications": ("SET is_read = true", {"type": "handoff"}, True),
}
# Own rows a user reads but only the server writes (migration 20261201002000; test_credit_lockdown.py).
READ_ONLY_OWN_TABLES = ("user_credits", "user_subscriptions", "credit_transactions")


@pytest.mark.parametrize("table", sorted(OWN_ROW_TABLES))
def test_users_read_and_change_only_their_own_rows(conn: psycopg.Connection, people: People, table: str) -> None:
    update, new_row, may_delete = OWN_ROW_TABLES[table]
    target = f"public.{table}"
    with acting_as(conn, "authenticated", people.a) as as_a:
        assert user_ids(as_a, table) == {people.a}
        assert run(as_a, f"UPDATE {target} {update}") == 1
    untouched = conn.execute(f"SELECT user_id FROM {target} WHERE ({update.removeprefix('SET ')}) IS NOT TRUE").fetchall()
    assert {r["user_id"] for r in untouched} == {people.b}

    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        with acting_as(conn, "authenticated", people.a) as as_a:
            insert(as_a, table, **new_row, user_id=people.outsider)
    with acting_as(conn, "authenticated", people.outsider) as as_outsider:
        insert(as_outsider, table, **new_row, user_id=people.outsider)

    with acting_as(conn, "authenticated", people.a) as as_a:
        deleted = run(as_a, f"DELETE FROM {target}")
    assert deleted == (1 if may_delete else 0)
    assert people.b in user_ids(conn, table)


@pytest.mark.parametrize("table", READ_ONLY_OWN_TABLES)
def test_credit_tables_are_read_only_and_own(conn: psycopg.Connection, people: People, table: str) -> None:
    with acting_as(conn, "authenticated", people.a) as as_a:
        assert user_ids(as_a, table) == {people.a}
    for statement in (f"UPDATE public.{table} SET user_id = user_id", f"DELETE FROM public.{table}"):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with acting_as(conn, "authenticated", people.a) as as_a:
                as_a.execute(statement)
    assert user_ids(conn, table) == {people.a, people.b}


def test_credit_functions_are_for_the_server_only(conn: psycopg.Connection, people: People) -> None:
    for call in (
        "SELECT public.add_credits(%s, 100, 'bonus', 'free money')",
        "SELECT public.reset_monthly_credits(%s)",
        "SELECT * FROM public.apply_skit_budget(gen_random_uuid(), %s, 1)",
    ):
        for role in ("anon", "authenticated"):
            with pytest.raises(errors.InsufficientPrivilege, match="permission denied for function"):
                with acting_as(conn, role, people.a) as as_role:
                    as_role.execute(call, (people.a,))
    with acting_as(conn, "service_role") as as_service:
        assert as_service.execute("SELECT public.add_credits(%s, 1, 'bonus', NULL)", (people.a,)).fetchone()
    assert conn.execute("SELECT credits_remaining FROM public.user_credits WHERE user_id = %s", (people.a,)).fetchone() == {
        "credits_remaining": 6
    }


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_anyone_reads_active_plans_only(conn: psycopg.Connection, inactive_plan: str, role: str) -> None:
    with acting_as(conn, role) as as_role:
        visible = {r["id"] for r in as_role.execute("SELECT id FROM public.subscription_plans").fetchall()}
    assert {"free", "starter", "pro", "team"} <= visible
    assert inactive_plan not in visible
    assert inactive_plan in {r["id"] for r in conn.execute("SELECT id FROM public.subscription_plans").fetchall()}


def test_anon_sees_no_user_data(conn: psycopg.Connection, people: People) -> None:
    insert(conn, "products", name="P")
    with acting_as(conn, "anon") as as_anon:
        for table in (*OWN_ROW_TABLES, *READ_ONLY_OWN_TABLES):
            assert user_ids(as_anon, table) == set()
        assert as_anon.execute("SELECT count(*) AS n FROM public.products").fetchone()["n"] == 0
    with pytest.raises(errors.InsufficientPrivilege):
        with acting_as(conn, "anon") as as_anon:
            insert(as_anon, "saved_skits", title="t", skit_data=Jsonb({}), user_id=people.a)


def test_products_are_read_by_users_and_written_by_admins(conn: psycopg.Connection, people: People) -> None:
    product = insert(conn, "products", name="Sleep gummies")
    with acting_as(conn, "authenticated", people.a) as as_a:
        assert [r["name"] for r in as_a.execute("SELECT name FROM public.products").fetchall()] == ["Sleep gummies"]
        assert run(as_a, "UPDATE public.products SET name = 'hacked'") == 0
        assert run(as_a, "DELETE FROM public.products") == 0
        assert as_a.execute("SELECT public.is_admin() AS admin").fetchone()["admin"] is False
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        with acting_as(conn, "authenticated", people.a) as as_a:
            insert(as_a, "products", name="Mine")

    with acting_as(conn, "authenticated", people.admin) as as_admin:
        assert as_admin.execute("SELECT public.is_admin() AS admin").fetchone()["admin"] is True
        insert(as_admin, "products", name="Energy drops")
        assert run(as_admin, "UPDATE public.products SET brand = 'Acme' WHERE id = %s", product["id"]) == 1
        assert run(as_admin, "DELETE FROM public.products WHERE name = 'Energy drops'") == 1
    rows = conn.execute("SELECT name, brand FROM public.products").fetchall()
    assert rows == [{"name": "Sleep gummies", "brand": "Acme"}]


def test_service_role_sees_everything(conn: psycopg.Connection, people: People, inactive_plan: str) -> None:
    (rolbypassrls,) = conn.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'service_role'").fetchone().values()
    assert rolbypassrls is True
    everyone = {people.a, people.b}
    with acting_as(conn, "service_role") as as_service:
        for table in (*OWN_ROW_TABLES, *READ_ONLY_OWN_TABLES):
            assert user_ids(as_service, table) == everyone
        assert inactive_plan in {r["id"] for r in as_service.execute("SELECT id FROM public.subscription_plans")}
        insert(as_service, "notifications", user_id=people.outsider, type="assigned")
    assert people.outsider in user_ids(conn, "notifications")


def test_users_edit_their_profile_but_not_their_role(conn: psycopg.Connection, people: People) -> None:
    insert(conn, "user_profiles", user_id=people.a, display_name="A")
    with acting_as(conn, "authenticated", people.a) as as_a:
        assert run(as_a, "UPDATE public.user_profiles SET display_name = 'Ann'") == 1
        assert {r["user_id"] for r in as_a.execute("SELECT user_id FROM public.user_profiles")} == {people.a, people.admin}
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        with acting_as(conn, "authenticated", people.a) as as_a:
            as_a.execute("UPDATE public.user_profiles SET role = 'admin' WHERE user_id = %s", (people.a,))
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        with acting_as(conn, "authenticated", people.b) as as_b:
            insert(as_b, "user_profiles", user_id=people.b, role="admin")
    rows = conn.execute("SELECT user_id, role, display_name FROM public.user_profiles ORDER BY role NULLS FIRST").fetchall()
    assert rows == [
        {"user_id": people.a, "role": None, "display_name": "Ann"},
        {"user_id": people.admin, "role": "admin", "display_name": None},
    ]


def test_audience_library_is_shared_by_signed_in_users(conn: psycopg.Connection, people: People) -> None:
    with acting_as(conn, "authenticated", people.a) as as_a:
        insert(as_a, "audience_personas", name="Stressed Mom", created_by=people.a)
        insert(as_a, "pain_points", pain_point="Can't sleep")
    with acting_as(conn, "authenticated", people.b) as as_b:
        assert run(as_b, "UPDATE public.audience_personas SET tone = 'casual'") == 1
        assert run(as_b, "UPDATE public.pain_points SET intensity = 'high'") == 1
    with acting_as(conn, "anon") as as_anon:
        assert as_anon.execute("SELECT count(*) AS n FROM public.audience_personas").fetchone()["n"] == 0


def test_team_tables_are_read_by_users_and_videos_moved_by_the_team(
    conn: psycopg.Connection, people: People, make_user: Callable[..., uuid.UUID]
) -> None:
    video = insert(conn, "videos")
    insert(conn, "audit_log", correlation_id="c", event_type="video.posted", entity_type="video", summary="s")
    editor = make_user()
    insert(conn, "user_roles", user_id=editor, role="editor")
    with acting_as(conn, "authenticated", people.a) as as_a:
        assert [r["id"] for r in as_a.execute("SELECT id FROM public.videos")] == [video["id"]]
        assert run(as_a, "UPDATE public.videos SET recording_status = 'RECORDED'") == 0
        assert as_a.execute("SELECT count(*) AS n FROM public.audit_log").fetchone()["n"] == 0
    with acting_as(conn, "authenticated", editor) as as_editor:
        assert run(as_editor, "UPDATE public.videos SET recording_status = 'RECORDED'") == 1
        insert(as_editor, "video_events", video_id=video["id"], event_type="recorded", actor="editor")
    with acting_as(conn, "authenticated", people.admin) as as_admin:
        assert as_admin.execute("SELECT count(*) AS n FROM public.audit_log").fetchone()["n"] == 1
