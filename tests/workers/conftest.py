"""Fixtures of the process-level tests: groups of real `flashflow worker` processes, and a private
Postgres a test may restart."""

from tests.postgres_server import private_postgres  # noqa: F401 - fixture
from tests.workers.processes import workers  # noqa: F401 - fixture
