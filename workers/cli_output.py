"""How commands print results: tables for people, tab-separated lines or JSON for scripts.

On a terminal a listing is a table whose long values fold onto the next line (never cut).
Piped or redirected, the same rows are tab-separated lines with full values and no header
(tabs, newlines and backslashes inside a value are written as `\\t`, `\\n` and `\\\\`, as
PostgreSQL's COPY text format does). `--json` prints one JSON document whose fields are the
table's columns, under the same names. A command builds its rows once as dicts keyed by the
columns, so the three forms cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Column:
    """One column: the key of the row dict (also its JSON field) and how a person sees it."""

    key: str
    header: str = ""
    show: Callable[[Any], str] | None = None  # display text for the table and TSV; default str()
    style: Callable[[Mapping[str, Any]], str | None] | None = None  # rich style of the cell on a terminal
    whole: bool = False  # never broken across lines on a terminal (ids a person copies)

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")

    def text(self, row: Mapping[str, Any]) -> str:
        value = row.get(self.key)
        if value is None:
            return ""
        return self.show(value) if self.show is not None else str(value)


def is_terminal(stream: IO[str]) -> bool:
    """Whether output goes to a person (a real terminal); FORCE_COLOR and the like do not count."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def tsv_field(text: str) -> str:
    """A value made safe for one tab-separated field."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Output:
    """Writes a command's results to standard output in the form its reader wants."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @property
    def terminal(self) -> bool:
        return is_terminal(self.console.file)

    def json(self, data: Any) -> None:
        """One JSON document (indented on a terminal, one line otherwise)."""
        text = json.dumps(data, default=str, ensure_ascii=False, indent=2 if self.terminal else None)
        self._write(text + "\n")

    def line(self, *fields: object) -> None:
        """One tab-separated line, whatever the output is."""
        self._write("\t".join(tsv_field("" if f is None else str(f)) for f in fields) + "\n")

    def text(self, message: str) -> None:
        """A sentence for a person, printed as it is."""
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def rows(self, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], *, title: str | None = None,
             section: str | None = None) -> None:
        """A table on a terminal; otherwise one tab-separated line per row (first field `section`
        when given, so a command that prints several tables can be split by it)."""
        rows = list(rows)
        if not self.terminal:
            for row in rows:
                self.line(*([section] if section else []), *(c.text(row) for c in columns))
            return
        table = Table(*[c.title for c in columns], title=title, title_justify="left")
        for column, spec in zip(table.columns, columns):
            column.overflow = "fold"
            if spec.whole:
                column.no_wrap = True
                column.min_width = max([len(spec.text(row)) for row in rows] + [len(spec.title)])
        for row in rows:
            table.add_row(*[Text(c.text(row) or "-", style=(c.style(row) or "") if c.style else "")
                            for c in columns])
        self.console.print(table)

    def _write(self, text: str) -> None:
        # Straight to the file: rich would expand tabs and wrap long lines.
        self.console.file.write(text)
        self.console.file.flush()


def json_rows(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows as JSON objects with exactly the table's fields, in the table's order."""
    return [{c.key: row.get(c.key) for c in columns} for row in rows]
