"""A guard that makes any attempt to open a network connection fail loudly, and records it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class NetworkBlocked(OSError):
    """Raised instead of connecting while the guard is on."""


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Block name lookups and socket connections; yield the list of attempts made."""
    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args: object, **kwargs: object) -> None:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkBlocked(f"network access attempted: {what}")

        return blocked

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)  # prove the code does not rely on them
    yield attempts
