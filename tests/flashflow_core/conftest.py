"""Fixtures for the domain tests: a connection pool on the test database, as the workers use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from flashflow_core.config import Settings
from flashflow_core.db.pool import make_pool


@pytest.fixture
def pool(settings: Settings) -> Iterator[ConnectionPool]:
    """A connection pool on the test database, closed after the test."""
    the_pool = make_pool(settings, name="flashflow-test")
    yield the_pool
    the_pool.close()
