"""The attacks a signed-in user (or anon) could make on credits, plans and the worker's role, each
tried as that role: none may work. Balances, plans and periods are written only by the server
(service_role, the workers' connection) and the SQL functions; a user spends through deduct_credit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from flashflow_core.credits.renewal import renew_credits
from flashflow_core.db.pool import make_pool
from flashflow_core.config import Settings
from tests.schema.conftest import acting_as, insert

pytestmark = pytest.mark.embedded

DENIED = (errors.InsufficientPrivilege,)


def _balance(conn: psycopg.Connection, user: uuid.UUID) -> int | None:
    row = conn.execute("SELECT credits_remaining FROM public.user_credits WHERE user_id = %s", (user,)).fetchone()
    return row["credits_remaining"] if row else None


def test_a_user_cannot_raise_their_own_balance(conn, make_user: Callable[..., uuid.UUID]):
    user = make_user()
    insert(conn, "user_credits", user_id=user)
    with pytest.raises(DENIED):
        with acting_as(conn, "authenticated", user) as as_user:
            as_user.execute("UPDATE public.user_credits SET credits_remaining = 1000 WHERE user_id = %s", (user,))
    with pytest.raises(DENIED):
        with acting_as(conn, "authenticated", user) as as_user:
            as_user.execute("DELETE FROM public.user_credits WHERE user_id = %s", (user,))
    other = make_user()
    with pytest.raises(DENIED):  # nor start with a balance of their choosing
        with acting_as(conn, "authenticated", other) as as_other:
            insert(as_other, "user_credits", user_id=other, credits_remaining=1000)
    assert _balance(conn, user) == 5 and _balance(conn, other) is None
    with acting_as(conn, "authenticated", user) as as_user:  # reading their own balance still works
        assert _balance(as_user, user) == 5


def test_a_user_cannot_give_themselves_a_paid_plan(conn, make_user: Callable[..., uuid.UUID]):
    user = make_user()
    with pytest.raises(DENIED):
        with acting_as(conn, "authenticated", user) as as_user:
            insert(as_user, "user_subscriptions", user_id=user, plan_id="team", status="active")
    insert(conn, "user_subscriptions", user_id=user, plan_id="free")
    with pytest.raises(DENIED):
        with acting_as(conn, "authenticated", user) as as_user:
            as_user.execute("UPDATE public.user_subscriptions SET plan_id = 'team' WHERE user_id = %s", (user,))
    assert conn.execute("SELECT plan_id FROM public.user_subscriptions WHERE user_id = %s",
                        (user,)).fetchone()["plan_id"] == "free"


def test_moving_the_period_back_never_buys_a_renewal(conn, db_url, make_user: Callable[..., uuid.UUID]):
    user = make_user()
    now = datetime.now(UTC)
    insert(conn, "user_subscriptions", user_id=user, plan_id="team", status="active", billing_period="monthly",
           current_period_start=now - timedelta(days=3), current_period_end=now + timedelta(days=27))
    insert(conn, "user_credits", user_id=user, credits_remaining=2)
    with pytest.raises(DENIED):
        with acting_as(conn, "authenticated", user) as as_user:
            as_user.execute("UPDATE public.user_subscriptions SET current_period_end = now() - interval '1 day' "
                            "WHERE user_id = %s", (user,))
    with make_pool(Settings(database_url=db_url), name="flashflow-test") as pool:
        result = renew_credits(pool, batch_size=10, message_id="lockdown-test")
    assert result.renewed == 0
    assert _balance(conn, user) == 2


def test_a_user_spends_only_their_own_credits_through_deduct_credit(conn, make_user: Callable[..., uuid.UUID]):
    user, other, admin = make_user(), make_user(), make_user(role="admin")
    insert(conn, "user_credits", user_id=other)
    with acting_as(conn, "authenticated", user) as as_user:
        spent = as_user.execute("SELECT * FROM public.deduct_credit(%s, 'a skit')", (user,)).fetchone()
    assert spent == {"success": True, "credits_remaining": 4, "admin_bypass": False}
    with pytest.raises(DENIED, match="only their own credits"):
        with acting_as(conn, "authenticated", user) as as_user:
            as_user.execute("SELECT * FROM public.deduct_credit(%s, 'on someone else')", (other,))
    with pytest.raises(DENIED, match="signed-in user"):  # a JWT without a user
        with acting_as(conn, "authenticated") as as_nobody:
            as_nobody.execute("SELECT * FROM public.deduct_credit(%s, 'x')", (other,))
    with pytest.raises(DENIED, match="permission denied for function"):
        with acting_as(conn, "anon") as as_anon:
            as_anon.execute("SELECT * FROM public.deduct_credit(%s, 'x')", (other,))
    with acting_as(conn, "authenticated", admin) as as_admin:  # admins may charge anyone
        assert as_admin.execute("SELECT * FROM public.deduct_credit(%s, 'support')", (other,)).fetchone()["success"]
    with acting_as(conn, "service_role") as as_service:  # and so may the server
        assert as_service.execute("SELECT * FROM public.deduct_credit(%s, 'job')", (other,)).fetchone()["success"]
    assert _balance(conn, user) == 4 and _balance(conn, other) == 3


def test_is_admin_answers_non_admins_only_about_themselves(conn, make_user: Callable[..., uuid.UUID]):
    user, admin = make_user(), make_user(role="admin")
    editor = make_user()
    insert(conn, "user_roles", user_id=editor, role="editor")
    with acting_as(conn, "authenticated", user) as as_user:
        answers = as_user.execute(
            "SELECT public.is_admin() AS me, public.is_admin(%(admin)s) AS admin, "
            "public.is_team_member(%(editor)s) AS editor", {"admin": admin, "editor": editor}).fetchone()
    assert answers == {"me": False, "admin": False, "editor": False}
    with acting_as(conn, "authenticated", admin) as as_admin:
        answers = as_admin.execute(
            "SELECT public.is_admin() AS me, public.is_admin(%(admin)s) AS admin, "
            "public.is_team_member(%(editor)s) AS editor", {"admin": admin, "editor": editor}).fetchone()
    assert answers == {"me": True, "admin": True, "editor": True}
    with acting_as(conn, "authenticated", editor) as as_editor:
        assert as_editor.execute("SELECT public.is_team_member() AS me").fetchone() == {"me": True}
    with pytest.raises(DENIED):
        with acting_as(conn, "anon") as as_anon:
            as_anon.execute("SELECT public.is_admin(%s)", (admin,))
    assert conn.execute("SELECT public.is_admin(%s) AS admin", (admin,)).fetchone() == {"admin": True}


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_api_roles_cannot_truncate(conn, make_user: Callable[..., uuid.UUID], role: str):
    user = make_user()
    insert(conn, "user_credits", user_id=user)
    for table in ("user_credits", "reference_videos", "audit_log"):
        with pytest.raises(DENIED):
            with acting_as(conn, role, user) as as_role:
                as_role.execute(f"TRUNCATE public.{table} CASCADE")
    assert _balance(conn, user) == 5


def test_a_planted_trigger_can_never_run_as_the_worker(db_url, conn):
    """anon creates a function in its temp schema and hangs it on a table as a trigger: the next
    insert by the worker would run it as the worker's role (a superuser on plain Postgres, which
    is how anon was made SUPERUSER). Creating the trigger must be refused."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as attacker:
        attacker.execute("SET ROLE anon")
        attacker.execute(
            "CREATE FUNCTION pg_temp.escalate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'planted trigger ran as % (superuser: %)', current_user, "
            "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user); END $$")
        for role in ("anon", "authenticated"):
            attacker.execute(f"SET ROLE {role}")
            for table in ("reference_videos", "user_credits", "audit_log"):
                with pytest.raises(DENIED, match="permission denied"):
                    attacker.execute(f"CREATE TRIGGER escalate BEFORE INSERT ON public.{table} "
                                     "FOR EACH ROW EXECUTE FUNCTION pg_temp.escalate()")
        # While the attacker's session (and its temp function) lives, the worker writes as usual.
        insert(conn, "reference_videos", url=f"https://example.com/{uuid.uuid4()}", submitted_by="cli")
