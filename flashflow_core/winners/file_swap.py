"""Replacing a row's file so that the row and the file it names never disagree.

The new file goes under a key no row names yet (`storage_keys` with a version); then one database
transaction switches the row to it. If anything fails before that transaction commits, the new
file is removed and the row and its old file are as they were; once it has committed, the file
the row named before is removed (a leftover after a crash is only an unreferenced file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flashflow_core.adapters.base import Storage

log = logging.getLogger(__name__)


def swap_in(storage: Storage, new_key: str, write: Callable[[str], object],
            switch: Callable[[str], str | None]) -> None:
    """`write(new_key)` stores the file; `switch(new_key)` points the row at it in one transaction
    and returns the key the row named before (None if none). On any error the new file is removed
    and the error raised again."""
    try:
        write(new_key)
        previous = switch(new_key)
    except BaseException:
        try:
            storage.delete(new_key)
        except OSError as exc:  # the original error matters more; the orphan is only disk space
            log.warning("could not remove a file no row names", extra={"key": new_key, "error": str(exc)})
        raise
    if previous and previous != new_key:
        try:
            storage.delete(previous)
        except OSError as exc:
            log.warning("could not remove a replaced file", extra={"key": previous, "error": str(exc)})
