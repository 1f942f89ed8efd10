"""Loads named SQL queries from `.sql` files that sit beside the code using them.

A file holds blocks introduced by `-- name: query_name`; each block is one statement with
`%(param)s` placeholders only. Loaded once at import through importlib.resources.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a .sql file into {name: statement}."""
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";")
    return queries


def load_queries(package: str, filename: str) -> dict[str, str]:
    """Read `filename` from `package` and return its named queries."""
    return parse_queries(resources.files(package).joinpath(filename).read_text(encoding="utf-8"))
