"""Local storage: safe keys, atomic writes, files land under the root."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from flashflow_core.adapters.storage import LocalStorage, check_key


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "root")


def test_put_bytes_then_read_back(storage: LocalStorage) -> None:
    key = f"reference/{uuid.uuid4()}/transcript.json"
    assert not storage.exists(key)
    assert storage.put_bytes(key, b'{"text": "hi"}') == key
    assert storage.exists(key)
    assert storage.local_path(key) == storage.root / key
    assert storage.local_path(key).read_bytes() == b'{"text": "hi"}'


def test_put_file_copies_and_keeps_the_source(storage: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "incoming.mp4"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    key = f"reference/{uuid.uuid4()}/video.mp4"
    assert storage.put_file(key, src) == key
    assert storage.local_path(key).read_bytes() == src.read_bytes()
    assert src.is_file()


def test_replacing_a_file_leaves_no_temporary_files(storage: LocalStorage) -> None:
    key = "reference/abc/audio.wav"
    storage.put_bytes(key, b"first")
    storage.put_bytes(key, b"second")
    assert storage.local_path(key).read_bytes() == b"second"
    assert sorted(p.name for p in storage.local_path(key).parent.iterdir()) == ["audio.wav"]


def test_failed_copy_keeps_the_old_file_and_cleans_up(storage: LocalStorage, tmp_path: Path) -> None:
    key = "reference/abc/video.mp4"
    storage.put_bytes(key, b"old")
    with pytest.raises(FileNotFoundError, match="no such file"):
        storage.put_file(key, tmp_path / "missing.mp4")
    unreadable = tmp_path / "folder.mp4"
    unreadable.mkdir()
    with pytest.raises(FileNotFoundError):
        storage.put_file(key, unreadable)
    assert storage.local_path(key).read_bytes() == b"old"
    assert [p.name for p in storage.local_path(key).parent.iterdir()] == ["video.mp4"]


def test_error_while_writing_removes_the_temporary_file(
    storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def copy_fails(*args: object, **kwargs: object) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(shutil, "copyfileobj", copy_fails)
    src = tmp_path / "src.bin"
    src.write_bytes(b"x")
    key = "reference/abc/video.mp4"
    with pytest.raises(OSError, match="disk went away"):
        storage.put_file(key, src)
    assert not storage.exists(key)
    assert list(storage.local_path(key).parent.iterdir()) == []


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("../etc/passwd", r"'\.\.' segment"),
        ("reference/../../etc/passwd", r"'\.\.' segment"),
        ("reference/./video.mp4", r"'\.' or '\.\.' segment"),
        ("reference//video.mp4", "empty"),
        ("reference/abc/", "empty"),
        ("/etc/passwd", "absolute path"),
        ("reference/abc/my video.mp4", r"characters outside .* \(' '\)"),
        ("reference/abc/vidéo.mp4", "characters outside"),
        ("reference\\abc\\video.mp4", "characters outside"),
        ("reference/abc/video.mp4\x00", "characters outside"),
    ],
)
def test_unsafe_keys_are_refused(storage: LocalStorage, key: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_key(key)
    with pytest.raises(ValueError, match=problem):
        storage.put_bytes(key, b"x")
    with pytest.raises(ValueError):
        storage.exists(key)
    assert not storage.root.exists() or not any(storage.root.rglob("*"))


def test_remove_tree_removes_a_folder_or_a_file_and_ignores_what_is_absent(storage: LocalStorage) -> None:
    storage.put_bytes("reference/abc/a7/video.mp4", b"v")
    storage.put_bytes("reference/abc/a7/.video.mp4.x.tmp", b"partial")
    storage.put_bytes("reference/abc/a8/audio.wav", b"a")
    storage.remove_tree("reference/abc/a7")
    storage.remove_tree("reference/abc/a8/audio.wav")
    storage.remove_tree("reference/abc/a9")
    assert sorted(p.name for p in (storage.root / "reference/abc").iterdir()) == ["a8"]
    assert list((storage.root / "reference/abc/a8").iterdir()) == []
    with pytest.raises(ValueError):
        storage.remove_tree("reference/../..")
