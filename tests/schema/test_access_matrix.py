"""Every table of the schema, every operation, every kind of caller: the access each one has is
measured and compared with the expected matrix (tests/schema/access_matrix.py), on plain Postgres
and on a database set up with Supabase's roles (a non-superuser owner)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.schema import access_matrix as matrix

pytestmark = pytest.mark.embedded

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
BEGIN, END = "<!-- access-matrix:begin (python -m tests.schema.access_matrix) -->", "<!-- access-matrix:end -->"


@pytest.fixture(params=["plain postgres", "supabase roles"])
def matrix_db(request) -> str:
    if request.param == "plain postgres":
        return request.getfixturevalue("db_url")
    return request.getfixturevalue("supabase_db_url")


def test_every_table_has_the_expected_access(matrix_db: str) -> None:
    with psycopg.connect(matrix_db, autocommit=True, row_factory=dict_row) as conn:
        tables = matrix.public_tables(conn)
        unknown = [t for t in tables if matrix.expected(t) is None]
        assert not unknown, f"tables missing from tests/schema/access_matrix.py EXPECTED: {unknown}"
        with conn.transaction(force_rollback=True):  # the subject rows go when the test ends
            actors = matrix.Actors.create(conn)
            subjects = matrix.make_subject_rows(conn, actors, tables)
            measured = matrix.measure(conn, actors, subjects)
    differences = [
        f"{table} {op}: expected {matrix.cell(matrix.expected(table)[op])}, measured {matrix.cell(got)}"
        for table, ops in measured.items() for op, got in ops.items() if got != matrix.expected(table)[op]
    ]
    assert not differences, "\n".join(differences)
    assert measured["saved_skits"]["SELECT"] == matrix.OWNER  # the probes do see allowed rows


def test_docs_show_the_expected_matrix() -> None:
    text = DOCS.read_text()
    assert BEGIN in text and END in text, f"docs/schema.md lacks the markers {BEGIN} ... {END}"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert shown == matrix.markdown(), "docs/schema.md's access matrix drifted: regenerate it with " \
                                       "`python -m tests.schema.access_matrix`"
