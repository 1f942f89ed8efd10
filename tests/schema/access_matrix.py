"""Who may do what to every table: the expected access matrix, the probes that measure it, and
its Markdown.

`EXPECTED` is the one source. `test_access_matrix.py` lists every table the migrated schema has,
builds one subject row in each (user A's where the table has a `user_id`; the team member's in
`user_roles`), and as each actor tries each operation on it:

- SELECT: the subject row is visible;
- INSERT: a copy of the subject row (owned by the actor where the table has `user_id`; anon's
  copy stays A's) passes privileges and Row Level Security (a unique or foreign-key error after
  those checks still counts as allowed: the database let the row through to them);
- UPDATE / DELETE: the statement reaches the subject row (UPDATE sets a column the actor may
  update to itself);
- TRUNCATE / TRIGGER: `TRUNCATE ONLY` and `CREATE TRIGGER ... EXECUTE FUNCTION set_updated_at()`
  pass the privilege check.

Every probe runs in a transaction that is rolled back. `python -m tests.schema.access_matrix`
prints the Markdown that docs/schema.md carries between its access-matrix markers (a test keeps
them equal).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql
from psycopg.rows import tuple_row

ACTORS = ("anon", "user A", "user B", "team member", "admin")
OPERATIONS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")

NOBODY: frozenset[str] = frozenset()
OWNER = frozenset({"user A"})
ADMIN = frozenset({"admin"})
TEAM = frozenset({"team member", "admin"})  # an admin is a team member too (user_profiles.role)
SIGNED_IN = frozenset({"user A", "user B", "team member", "admin"})
EVERYONE = SIGNED_IN | {"anon"}


def access(select: frozenset[str] = NOBODY, insert: frozenset[str] = NOBODY, update: frozenset[str] = NOBODY,
           delete: frozenset[str] = NOBODY) -> dict[str, frozenset[str]]:
    """One table's expected access; TRUNCATE and TRIGGER belong to nobody on any table."""
    return {"SELECT": select, "INSERT": insert, "UPDATE": update, "DELETE": delete,
            "TRUNCATE": NOBODY, "TRIGGER": NOBODY}


OWN_ROWS = access(OWNER, SIGNED_IN, OWNER, OWNER)
READ_OWN = access(OWNER)
SHARED_LIBRARY = access(SIGNED_IN, SIGNED_IN, SIGNED_IN, SIGNED_IN)
READ_ALL_ADMIN_WRITES = access(SIGNED_IN, ADMIN, ADMIN, ADMIN)
WORKERS_ONLY = access()

EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "saved_skits": OWN_ROWS,
    "skit_ratings": OWN_ROWS,
    "notifications": OWN_ROWS,
    "user_credits": READ_OWN,
    "user_subscriptions": READ_OWN,
    "credit_transactions": READ_OWN,
    "skit_budget": READ_OWN,
    "subscription_plans": access(EVERYONE, ADMIN, ADMIN, ADMIN),
    "user_profiles": access(SIGNED_IN, SIGNED_IN, OWNER),
    "user_roles": access(TEAM, ADMIN, ADMIN, ADMIN),
    "audience_personas": SHARED_LIBRARY,
    "pain_points": SHARED_LIBRARY,
    "products": READ_ALL_ADMIN_WRITES,
    "concepts": READ_ALL_ADMIN_WRITES,
    "script_library": READ_ALL_ADMIN_WRITES,
    "language_patterns": READ_ALL_ADMIN_WRITES,
    "reference_videos": READ_ALL_ADMIN_WRITES,
    "reference_assets": READ_ALL_ADMIN_WRITES,
    "reference_extracts": READ_ALL_ADMIN_WRITES,
    "imported_videos": READ_ALL_ADMIN_WRITES,
    "proven_hooks": READ_ALL_ADMIN_WRITES,
    "hook_suggestions": READ_ALL_ADMIN_WRITES,
    "videos": access(SIGNED_IN, ADMIN, TEAM, ADMIN),
    "video_events": access(SIGNED_IN, TEAM, ADMIN, ADMIN),
    "audit_log": access(ADMIN),
}
# Worker tables (`flashflow_*`) are the workers' alone, whatever their name.
WORKER_TABLE_PREFIX = "flashflow_"
# Whose row the subject row is, where it is not user A's.
SUBJECT_OWNER = {"user_roles": "team member"}


def expected(table: str) -> dict[str, frozenset[str]] | None:
    """The expected access of a table; None when the matrix does not know it."""
    if table in EXPECTED:
        return EXPECTED[table]
    return WORKERS_ONLY if table.startswith(WORKER_TABLE_PREFIX) else None


# --- probing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actors:
    """The users behind the actors (anon has none)."""

    ids: dict[str, uuid.UUID]

    @classmethod
    def create(cls, conn: psycopg.Connection) -> Actors:
        """user A, user B, a team member (user_roles editor) and an admin (user_profiles admin)."""
        ids = {name: uuid.uuid4() for name in ACTORS if name != "anon"}
        for name, user_id in ids.items():
            conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                         (user_id, f"{name.replace(' ', '-')}-{user_id.hex[:6]}@example.test"))
        conn.execute("INSERT INTO public.user_roles (user_id, role) VALUES (%s, 'editor')", (ids["team member"],))
        conn.execute("INSERT INTO public.user_profiles (user_id, role) VALUES (%s, 'admin')", (ids["admin"],))
        return cls(ids)


def public_tables(conn: psycopg.Connection) -> list[str]:
    """Every ordinary or partitioned table of schema public."""
    rows = _tuples(conn).execute("SELECT c.relname FROM pg_catalog.pg_class AS c WHERE c.relnamespace = "
                                 "'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def _tuples(conn: psycopg.Connection) -> psycopg.Cursor:
    return conn.cursor(row_factory=tuple_row)


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    has_default: bool
    references: tuple[str, str] | None  # (schema.table, column)


def _columns(conn: psycopg.Connection, table: str) -> list[Column]:
    rows = _tuples(conn).execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
               (SELECT format('%%s.%%s', fn.nspname, f.relname) || '|' || fa.attname
                FROM pg_catalog.pg_constraint AS k
                JOIN pg_catalog.pg_class AS f ON f.oid = k.confrelid
                JOIN pg_catalog.pg_namespace AS fn ON fn.oid = f.relnamespace
                JOIN pg_catalog.pg_attribute AS fa ON fa.attrelid = k.confrelid
                     AND fa.attnum = k.confkey[array_position(k.conkey, a.attnum)]
                WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND a.attnum = ANY (k.conkey)
                LIMIT 1)
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """, (f"public.{table}",)).fetchall()
    return [Column(name, typ, notnull, hasdef, tuple(ref.split("|")) if ref else None)
            for name, typ, notnull, hasdef, ref in rows]


def _primary_key(conn: psycopg.Connection, table: str) -> list[str]:
    rows = _tuples(conn).execute("SELECT a.attname FROM pg_catalog.pg_index AS i JOIN pg_catalog.pg_attribute AS a "
                        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
                        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
                        (f"public.{table}",)).fetchall()
    return [r[0] for r in rows]


_ANY_ARRAY = re.compile(r"\((\w+) = ANY \(ARRAY\['([^']*)'")


def _allowed_values(conn: psycopg.Connection, table: str) -> dict[str, str]:
    """The first value each `col IN (...)` CHECK of the table allows."""
    found: dict[str, str] = {}
    for (definition,) in _tuples(conn).execute("SELECT pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint "
                                      "WHERE conrelid = %s::regclass AND contype = 'c'", (f"public.{table}",)):
        for column, value in _ANY_ARRAY.findall(definition):
            found.setdefault(column, value)
    return found


def _synthesised(column: Column, table: str, allowed: dict[str, str]) -> object:
    if column.name in allowed:
        return allowed[column.name]
    kind = column.type
    if kind == "uuid":
        return uuid.uuid4()
    if kind.startswith(("text", "character")):
        return f"probe-{table}-{column.name}"
    if kind in ("integer", "bigint", "smallint") or kind.startswith("numeric"):
        return 1
    if kind.startswith("timestamp"):
        return "2026-01-01T00:00:00Z"
    if kind == "date":
        return "2026-01-01"
    if kind == "boolean":
        return False
    if kind in ("jsonb", "json"):
        return json.dumps({})
    if kind.endswith("[]"):
        return []
    raise LookupError(f"{table}.{column.name} ({kind}): add a subject value for this type to access_matrix.py")


def make_subject_rows(conn: psycopg.Connection, actors: Actors, tables: list[str]) -> dict[str, dict]:
    """One row per table, parents before children (a dict_row connection as the owner); returns
    each table's subject row."""
    subjects: dict[str, dict] = {}
    pending = list(tables)
    while pending:
        progressed = False
        for table in list(pending):
            columns = _columns(conn, table)
            parents = {c.references[0].removeprefix("public.") for c in columns
                       if c.references and c.references[0].startswith("public.") and c.not_null}
            if parents - {table} - subjects.keys():
                continue
            subjects[table] = _subject_row(conn, actors, table, columns, subjects)
            pending.remove(table)
            progressed = True
        if not progressed:
            raise LookupError(f"cannot order subject rows for {pending} (foreign-key cycle)")
    return subjects


def _subject_row(conn: psycopg.Connection, actors: Actors, table: str, columns: list[Column],
                 subjects: dict[str, dict]) -> dict:
    owner = actors.ids[SUBJECT_OWNER.get(table, "user A")]
    names = {c.name for c in columns}
    target = sql.Identifier("public", table)
    if "user_id" in names:
        existing = conn.execute(sql.SQL("SELECT * FROM {} WHERE user_id = %s").format(target), (owner,)).fetchone()
        if existing is not None:
            return existing
    allowed = _allowed_values(conn, table)
    values: dict[str, object] = {}
    for column in columns:
        if column.name == "user_id":
            values[column.name] = owner
        elif column.references and column.references[0] == "auth.users":
            values[column.name] = owner
        elif column.references and column.references[0].startswith("public.") and column.not_null:
            parent = column.references[0].removeprefix("public.")
            values[column.name] = subjects[parent][column.references[1]]
        elif column.not_null and not column.has_default:
            values[column.name] = _synthesised(column, table, allowed)
    return conn.execute(_insert(table, values) + sql.SQL(" RETURNING *"), list(values.values())).fetchone()


def _insert(table: str, values: dict[str, object]) -> sql.Composed:
    target = sql.Identifier("public", table)
    if not values:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target)
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        target, sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(sql.Placeholder() * len(values)))


def probe(conn: psycopg.Connection, actor: str, actors: Actors, table: str, operation: str, subject: dict) -> bool:
    """Whether `actor` may do `operation` to the subject row of `table` (rolled back either way)."""
    role = "anon" if actor == "anon" else "authenticated"
    user_id = actors.ids.get(actor)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            claims = {"role": role, **({"sub": str(user_id)} if user_id else {})}
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            return _attempt(conn, role, table, operation, subject, user_id)
    except errors.InsufficientPrivilege:
        return False


def _attempt(conn: psycopg.Connection, role: str, table: str, operation: str, subject: dict,
             user_id: uuid.UUID | None) -> bool:
    target = sql.Identifier("public", table)
    key = _primary_key(conn, table) if operation in ("SELECT", "UPDATE", "DELETE") else []
    where = sql.SQL(" AND ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(subject[k])) for k in key)
    if operation == "SELECT":
        return conn.execute(sql.SQL("SELECT 1 FROM {} WHERE {}").format(target, where)).fetchone() is not None
    if operation == "DELETE":
        try:
            with conn.transaction():
                return conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(target, where)).rowcount == 1
        except errors.ForeignKeyViolation:
            return True  # the row was reachable; a referencing row kept it
    if operation == "UPDATE":
        column = _updatable_column(conn, role, table, key)
        if column is None:
            return False
        statement = sql.SQL("UPDATE {} SET {} = {} WHERE {}").format(
            target, sql.Identifier(column), sql.Identifier(column), where)
        return conn.execute(statement).rowcount == 1
    if operation == "INSERT":
        return _insert_copy(conn, table, subject, user_id)
    if operation == "TRUNCATE":
        try:
            with conn.transaction():
                conn.execute(sql.SQL("TRUNCATE ONLY {}").format(target))
        except errors.FeatureNotSupported:
            pass  # "referenced in a foreign key constraint": raised after the privilege check passed
        return True
    if operation == "TRIGGER":
        conn.execute(sql.SQL("CREATE TRIGGER flashflow_access_probe BEFORE UPDATE ON {} FOR EACH ROW "
                             "EXECUTE FUNCTION public.set_updated_at()").format(target))
        return True
    raise ValueError(operation)


def _updatable_column(conn: psycopg.Connection, role: str, table: str, key: list[str]) -> str | None:
    rows = _tuples(conn).execute(
        "SELECT a.attname FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attgenerated = '' AND has_column_privilege(%s, a.attrelid, a.attnum, 'UPDATE') "
        "ORDER BY a.attname = ANY (%s), a.attnum LIMIT 1", (f"public.{table}", role, key)).fetchone()
    return rows[0] if rows else None


def _insert_copy(conn: psycopg.Connection, table: str, subject: dict, user_id: uuid.UUID | None) -> bool:
    columns = _columns(conn, table)
    values = {c.name: subject[c.name] for c in columns if subject[c.name] is not None and not c.has_default}
    if user_id is not None and "user_id" in values:
        values["user_id"] = user_id
    values = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in values.items()}
    try:
        with conn.transaction():
            conn.execute(_insert(table, values), list(values.values()))
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.NotNullViolation, errors.CheckViolation):
        pass  # raised after the privilege and row-level security checks let the row through
    return True


def measure(conn: psycopg.Connection, actors: Actors, subjects: dict[str, dict]) -> dict[str, dict[str, frozenset]]:
    """The access every actor has to every subject row."""
    return {table: {op: frozenset(a for a in ACTORS if probe(conn, a, actors, table, op, subject))
                    for op in OPERATIONS}
            for table, subject in subjects.items()}


# --- the Markdown ---------------------------------------------------------------------------

_SHORT = {"anon": "anon", "user A": "A", "user B": "B", "team member": "team", "admin": "admin"}


def cell(allowed: frozenset[str]) -> str:
    """How one cell of the matrix reads in docs/schema.md."""
    if allowed == EVERYONE:
        return "everyone"
    if allowed == SIGNED_IN:
        return "signed in"
    if not allowed:
        return "—"
    return ", ".join(_SHORT[a] for a in ACTORS if a in allowed)


def markdown() -> str:
    """The matrix as docs/schema.md shows it."""
    lines = ["| table | " + " | ".join(OPERATIONS) + " |", "|---|" + "---|" * len(OPERATIONS)]
    for table in sorted(EXPECTED):
        lines.append(f"| `{table}` | " + " | ".join(cell(EXPECTED[table][op]) for op in OPERATIONS) + " |")
    lines.append(f"| `{WORKER_TABLE_PREFIX}*` (worker tables) | " + " | ".join(cell(NOBODY) for _ in OPERATIONS) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
