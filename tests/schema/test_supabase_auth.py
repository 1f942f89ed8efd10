"""The Supabase compatibility migration: API roles, auth.users and the auth.* JWT functions."""

from __future__ import annotations

import re
import threading
import time
import uuid

import psycopg
import pytest

from flashflow_core.db.migrate import discover

pytestmark = pytest.mark.embedded


def auth_migration() -> str:
    (found,) = [m for m in discover() if m.name == "supabase_auth"]
    return found.sql


def test_api_roles_exist(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles"
        " WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY rolname"
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        ("anon", False, False),
        ("authenticated", False, False),
        ("service_role", False, True),
    ]


def test_auth_users_has_a_supabase_shape(conn: psycopg.Connection) -> None:
    user = conn.execute(
        "INSERT INTO auth.users (email, raw_user_meta_data) VALUES ('a@example.test', %s) RETURNING *",
        (psycopg.types.json.Jsonb({"full_name": "A"}),),
    ).fetchone()
    assert isinstance(user["id"], uuid.UUID)
    assert user["raw_user_meta_data"] == {"full_name": "A"} and user["raw_app_meta_data"] == {}
    assert {"aud", "role", "encrypted_password", "email_confirmed_at", "last_sign_in_at", "created_at"} <= set(user)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("request.jwt.claims", '{"sub": "%s", "role": "authenticated", "email": "a@example.test"}'),
        ("request.jwt.claim.sub", "%s"),
    ],
)
def test_auth_uid_reads_the_jwt_claims(conn: psycopg.Connection, setting: str, value: str) -> None:
    user = uuid.uuid4()
    with conn.transaction():
        conn.execute("SELECT set_config(%s, %s, true)", (setting, value.replace("%s", str(user))))
        assert conn.execute("SELECT auth.uid() AS uid").fetchone()["uid"] == user
    with conn.transaction():
        conn.execute("SELECT set_config(%s, '', true)", (setting,))
        assert conn.execute("SELECT auth.uid() AS uid").fetchone()["uid"] is None


def test_auth_role_and_jwt(conn: psycopg.Connection) -> None:
    claims = '{"sub": "00000000-0000-0000-0000-000000000001", "role": "anon", "app": 1}'
    with conn.transaction():
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        row = conn.execute("SELECT auth.role() AS role, auth.jwt() AS jwt").fetchone()
    assert row["role"] == "anon"
    assert row["jwt"] == {"sub": "00000000-0000-0000-0000-000000000001", "role": "anon", "app": 1}
    with conn.transaction():
        conn.execute("SELECT set_config('request.jwt.claim.role', 'service_role', true)")
        assert conn.execute("SELECT auth.role() AS role").fetchone()["role"] == "service_role"


def test_existing_supabase_objects_are_left_alone(conn: psycopg.Connection) -> None:
    """On a Supabase project auth.* already exists: rerunning the migration replaces nothing."""
    marker = uuid.uuid4()
    with pytest.raises(_RolledBack):
        with conn.transaction():
            conn.execute(f"CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS $$ SELECT '{marker}'::uuid $$")
            conn.execute("ALTER TABLE auth.users ADD COLUMN supabase_only text")
            conn.execute(auth_migration().encode())
            assert conn.execute("SELECT auth.uid() AS uid").fetchone()["uid"] == marker
            assert conn.execute(
                "SELECT count(*) AS n FROM information_schema.columns"
                " WHERE table_schema = 'auth' AND table_name = 'users' AND column_name = 'supabase_only'"
            ).fetchone()["n"] == 1
            raise _RolledBack


class _RolledBack(Exception):
    """Raised to roll the block's transaction back."""


def test_role_creation_tolerates_a_concurrent_creator(admin_url: str) -> None:
    """Two databases migrating at once both try to create the (cluster-wide) roles."""
    (block,) = re.findall(r"DO \$roles\$.*?\$roles\$;", auth_migration(), re.S)
    suffix = uuid.uuid4().hex[:8]
    names = [f"test_anon_{suffix}", f"test_authenticated_{suffix}", f"test_service_role_{suffix}"]
    block = block.replace("'anon'", f"'{names[0]}'").replace("'authenticated'", f"'{names[1]}'")
    block = block.replace("'service_role'", f"'{names[2]}'")
    failures: list[BaseException] = []
    try:
        with (
            psycopg.connect(admin_url) as first,
            psycopg.connect(admin_url, autocommit=True) as second,
            psycopg.connect(admin_url, autocommit=True) as monitor,
        ):
            first.execute(block)  # created, not yet committed: the second creator waits on it

            def run_second() -> None:
                try:
                    second.execute(block)
                except BaseException as exc:
                    failures.append(exc)

            thread = threading.Thread(target=run_second)
            thread.start()
            deadline = time.monotonic() + 10
            while not _waiting_on_lock(monitor, second.info.backend_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _waiting_on_lock(monitor, second.info.backend_pid), "the second creator never waited"
            first.commit()
            thread.join(timeout=30)
        assert not failures, failures
        with psycopg.connect(admin_url) as check:
            rows = check.execute(
                "SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname", (names,)
            ).fetchall()
        assert rows == [(names[0], False), (names[1], False), (names[2], True)]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as cleanup:
            for name in names:
                cleanup.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(name)))


def _waiting_on_lock(conn: psycopg.Connection, pid: int) -> bool:
    row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == "Lock"
