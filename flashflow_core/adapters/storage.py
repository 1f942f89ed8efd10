"""Media files on the local disk under one root folder, addressed by keys like `reference/<uuid>/video.mp4`.

Keys are checked before any path is built: only [A-Za-z0-9._/-], relative, no `.`/`..` or empty
segments, so a key can never name a file outside the root. Writes go to a temporary file in the
target folder and are renamed into place, so a reader never sees half a file. A write the disk
refuses (full, read-only, no permission) raises StorageUnavailable, a TransientError in plain
words: the stage is retried, and the temporary file is gone.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from flashflow_core.adapters.base import TransientError

_KEY = re.compile(r"[A-Za-z0-9._/-]+")
# What a disk says when it cannot take a write: full, over quota, read-only, not ours, failing.
_REFUSED = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}


def check_key(key: str) -> str:
    """Return `key` when it is a safe storage key; raise ValueError naming the problem otherwise."""
    if not key:
        raise ValueError("storage key is empty")
    bad = sorted(set(_KEY.sub("", key)))
    if bad:
        raise ValueError(f"storage key {key!r} has characters outside A-Z a-z 0-9 . _ / - ({''.join(bad)!r})")
    if key.startswith("/"):
        raise ValueError(f"storage key {key!r} is an absolute path; keys are relative to the storage root")
    segments = key.split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"storage key {key!r} has an empty, '.' or '..' segment")
    return key


class StorageUnavailable(TransientError):
    """The storage refused a write (full, read-only...); may work once an operator steps in."""


class LocalStorage:
    """Implements the Storage protocol on a folder; `put_*` return the key they stored under."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def local_path(self, key: str) -> Path:
        """Where the file for `key` lives (whether or not it exists yet)."""
        return self.root / check_key(key)

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        """The stored file's content."""
        return self.local_path(key).read_bytes()

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store `data` under `key`, replacing any earlier file atomically."""
        with self._writing(key) as target, _atomic_write(target) as out:
            out.write(data)
        return key

    def delete(self, key: str) -> None:
        """Remove the file under `key` (nothing when there is none) and its folder once empty."""
        path = self.local_path(key)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # a version folder emptied by the swap
        except OSError:
            pass  # not empty, or the root's own folder: keep it

    def put_file(self, key: str, src: Path) -> str:
        """Copy `src` into place under `key` atomically; the source is left for its owner to remove."""
        if not Path(src).is_file():
            raise FileNotFoundError(f"cannot store {src}: no such file")
        with open(src, "rb") as source, self._writing(key) as target, _atomic_write(target) as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        return key

    def remove_tree(self, key: str) -> None:
        """Remove the folder `key` names, with everything in it (nothing when it is absent)."""
        path = self.local_path(key)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    @contextmanager
    def _writing(self, key: str) -> Iterator[Path]:
        target = self.local_path(key)
        try:
            yield target
        except OSError as exc:
            if exc.errno not in _REFUSED:
                raise
            raise StorageUnavailable(f"the storage refused to write {key}: {exc.strerror} "
                                     f"(FLASHFLOW_STORAGE_ROOT {self.root})") from exc


@contextmanager
def _atomic_write(target: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside `target`, fsync it, then rename it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
