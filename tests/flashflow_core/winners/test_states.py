"""The state machine is one table: the moves the code carries out are the moves `ALLOWED` is
derived from, every stage's moves fit together, and no product code (Python, SQL, the console's
Jinja templates) spells a status itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
from jinja2 import nodes

from flashflow_core.winners.states import (
    ABANDON,
    CANCEL,
    ALLOWED,
    ATTACH_FILE,
    ATTACH_TRANSCRIPT,
    CLAIM,
    FAIL,
    FINAL,
    FINISH,
    MOVES,
    NEXT_STAGE,
    RETRY,
    RETRY_STATUS,
    STAGE_FOR_STATUS,
    STAGE_LEADS_TO,
    STAGE_STARTS_FROM,
    STAGE_WORKS_IN,
    ReferenceStatus,
    Stage,
    can_move,
)
from tests.conftest import ROOT

S = ReferenceStatus


def test_allowed_is_exactly_the_moves():
    pairs = {(source, m.target) for m in MOVES for source in m.sources if source != m.target}
    assert {(s, t) for s, targets in ALLOWED.items() for t in targets} == pairs
    assert len({m.name for m in MOVES}) == len(MOVES)


def test_every_stage_move_fits_the_stage_table():
    for stage in Stage:
        claim, finish, fail = CLAIM[stage], FINISH[stage], FAIL[stage]
        assert claim.sources == STAGE_STARTS_FROM[stage] and claim.target == STAGE_WORKS_IN[stage]
        assert finish.sources == fail.sources == (STAGE_WORKS_IN[stage],)
        assert finish.target == STAGE_LEADS_TO[stage] and fail.target == S.FAILED
        assert all(STAGE_FOR_STATUS[s] == stage for s in claim.sources)
        following = NEXT_STAGE[stage]
        assert finish.target in (CLAIM[following].sources if following else FINAL)
        assert RETRY[stage].target == RETRY_STATUS[stage] and RETRY[stage].target in CLAIM[stage].sources
        assert finish.fresh and RETRY[stage].fresh and not claim.fresh and not fail.fresh


def test_people_and_the_rescue_move_rows_only_where_the_table_says():
    assert ATTACH_FILE.target == STAGE_LEADS_TO[Stage.FETCH]
    assert ATTACH_TRANSCRIPT.target == STAGE_LEADS_TO[Stage.TRANSCRIBE]
    assert ATTACH_FILE.allows(S.FAILED, Stage.FETCH) and not ATTACH_FILE.allows(S.FAILED, Stage.EXTRACT)
    assert not ATTACH_FILE.allows(S.READY) and not ATTACH_TRANSCRIPT.allows(S.PROCESSING)
    assert set(ABANDON.sources) == set(STAGE_FOR_STATUS) and ABANDON.target == S.FAILED and not ABANDON.fresh
    assert set(CANCEL.sources) == set(STAGE_FOR_STATUS) and CANCEL.target == S.FAILED and not CANCEL.fresh


def test_ready_is_the_end_and_nothing_skips_back():
    assert ALLOWED[S.READY] == frozenset()
    assert FINAL == {S.READY, S.FAILED}
    assert not can_move(S.PROCESSING, S.NEEDS_FILE) and not can_move(S.NEEDS_TRANSCRIPTION, S.QUEUED)
    assert can_move(S.FAILED, S.QUEUED) and can_move(S.QUEUED, S.PROCESSING)


# ---- statuses are spelled only in states.py ----------------------------------------------------------

PRODUCT_DIRS = ("flashflow_core", "flashflow_console", "jobs", "workers", "bench")
STATUSES = [str(s) for s in S]
SQL_LITERAL = re.compile(r"'(" + "|".join(STATUSES) + r")'")
# Words that are only ever statuses; "ready" and "failed" also name outcomes, so for those only
# comparisons and SQL count.
STATUS_ONLY_WORDS = {str(s) for s in S if s not in FINAL}


def _product_files(suffix: str) -> list[Path]:
    files = []
    for folder in PRODUCT_DIRS:
        for path in (ROOT / folder).rglob(f"*{suffix}"):
            if "migrations" in path.parts or path.name == "states.py":
                continue
            files.append(path)
    return files


def _template_literals(text: str) -> list[tuple[int, str]]:
    """(line, status) of each status a Jinja template spells: any string of a status-only word, and
    a status string in a comparison (`row.status != 'failed'`, `in ['ready', 'failed']`)."""
    tree = jinja2.Environment().parse(text)
    spelled = {(c.lineno, c.value) for c in tree.find_all(nodes.Const) if c.value in STATUS_ONLY_WORDS}
    for compare in tree.find_all(nodes.Compare):
        for side in [compare.expr, *(op.expr for op in compare.ops)]:
            consts = [side] if isinstance(side, nodes.Const) else list(side.find_all(nodes.Const))
            spelled |= {(c.lineno, c.value) for c in consts if c.value in STATUSES}
    return sorted(spelled)


def status_literals(path: Path, root: Path = ROOT) -> list[str]:
    """Where `path` spells a status itself: `file:line: text`."""
    text = path.read_text(encoding="utf-8")
    found = []
    if path.suffix == ".html":
        return [f"{path.relative_to(root)}:{line}: {value!r}" for line, value in _template_literals(text)]
    if path.suffix == ".sql":
        for number, line in enumerate(text.splitlines(), 1):
            if SQL_LITERAL.search(line.split("--")[0]):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
        return found
    for node in ast.walk(ast.parse(text)):
        spelled = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in STATUS_ONLY_WORDS or SQL_LITERAL.search(node.value):
                spelled = node.value
        elif isinstance(node, ast.Compare):
            spelled = next((c.value for c in [node.left, *node.comparators]
                            if isinstance(c, ast.Constant) and c.value in STATUSES), None)
        if spelled is not None:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {spelled!r}")
    return found


def test_no_product_code_spells_a_status():
    files = _product_files(".sql") + _product_files(".py") + _product_files(".html")
    assert any(path.suffix == ".html" for path in files)  # the console's templates are scanned
    found = [hit for path in files for hit in status_literals(path)]
    assert found == [], "statuses come from flashflow_core/winners/states.py:\n" + "\n".join(found)


def test_the_scan_finds_a_spelled_status(tmp_path):
    sample_sql = ROOT / "flashflow_core" / "winners" / "queries.sql"
    assert status_literals(sample_sql) == []
    bad_py = tmp_path / "bad.py"
    bad_py.write_text('done = row["status"] == "ready"\nq = "SELECT 1 WHERE status = \'failed\'"\nx = "queued"\n')
    bad_sql = tmp_path / "bad.sql"
    bad_sql.write_text("-- 'ready' in a comment is fine\nSELECT 1 WHERE status <> 'processing';\n")
    assert len(status_literals(bad_py, tmp_path)) == 3
    assert len(status_literals(bad_sql, tmp_path)) == 1
    bad_html = tmp_path / "bad.html"
    bad_html.write_text("<p>failed rows are ready to retry</p>\n"  # prose is not a status
                        "{% if row.status != 'failed' %}x{% endif %}\n"
                        "{% if row.status in ['ready', 'processing'] %}y{% endif %}\n"
                        "{{ status('needs_file') }} {% if row.status == ReferenceStatus.FAILED %}z{% endif %}\n")
    assert [hit.split(":", 1)[1] for hit in status_literals(bad_html, tmp_path)] == [
        "2: 'failed'", "3: 'processing'", "3: 'ready'", "4: 'needs_file'"]


# ---- docs/architecture.md shows the same table ------------------------------------------------------

MOVES_BEGIN = "<!-- BEGIN MOVES: checked by tests/flashflow_core/winners/test_states.py -->\n"
MOVES_END = "<!-- END MOVES -->"


def moves_table() -> str:
    """The moves table of docs/architecture.md, rendered from states.py."""
    lines = ["| move | from | to | audit event | fresh |", "|---|---|---|---|---|"]
    for move in MOVES:
        sources = [str(s) for s in move.sources if s != S.FAILED]
        if S.FAILED in move.sources:
            sources.append(f"failed (at {', '.join(str(s) for s in move.failed_stages)})")
        lines.append(f"| `{move.name}` | {', '.join(sources)} | {move.target} | `{move.event}` | "
                     f"{'yes' if move.fresh else 'no'} |")
    return "\n".join(lines) + "\n"


def test_architecture_doc_shows_the_moves_of_states_py():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    shown = doc[doc.index(MOVES_BEGIN) + len(MOVES_BEGIN):doc.index(MOVES_END)]
    assert shown == moves_table(), "docs/architecture.md's moves table should read:\n" + moves_table()
