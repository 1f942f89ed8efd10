"""The guarded yt-dlp request handlers, driven through YoutubeDL.urlopen against loopback servers.

127.0.0.1 is allowlisted; the server on 127.0.0.2 is not and must never receive a request.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from yt_dlp.networking.common import Request
from yt_dlp.networking.impersonate import ImpersonateTarget

from flashflow_core.adapters.base import PermanentError
from flashflow_core.adapters.netguard import AddressPolicy, AddressRefused
from flashflow_core.adapters.ytdlp_guard import GuardedYoutubeDL, GuardError, guarded_connection
from tests.conftest import FIXTURES
from tests.media_server import MediaServer, serve

CLIP = FIXTURES / "no_speech_no_text.mp4"
POLICY = AddressPolicy.from_entries(["127.0.0.1"])


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[MediaServer]:
    with serve(tmp_path / "private", host="127.0.0.2") as server:
        server.add_file("v.mp4", CLIP)
        yield server


@pytest.fixture
def ydl() -> Iterator[GuardedYoutubeDL]:
    with GuardedYoutubeDL({"quiet": True, "proxy": "", "socket_timeout": 5}, POLICY) as instance:
        yield instance


def impersonated(url: str) -> Request:
    """A request that only the curl_cffi handler can serve."""
    return Request(url, extensions={"impersonate": ImpersonateTarget()})


def plain(url: str) -> Request:
    return Request(url)


def test_only_guarded_handlers_are_installed(ydl: GuardedYoutubeDL) -> None:
    assert sorted(type(h).__name__ for h in ydl._request_director.handlers.values()) == [
        "_GuardedCurlCFFIRH", "_GuardedUrllibRH",
    ]


@pytest.mark.parametrize("make", [plain, impersonated], ids=["urllib", "curl_cffi"])
def test_allowed_address_and_redirect_are_served(ydl: GuardedYoutubeDL, media_server: MediaServer, make) -> None:
    url = media_server.add_file("v.mp4", CLIP)
    hop = media_server.add_redirect("hop", url, status=307)
    with ydl.urlopen(make(hop)) as response:
        assert response.read() == CLIP.read_bytes()
        assert ("impersonate" in response.extensions) == (make is impersonated)
    assert [path for _, path in media_server.hits] == ["/hop", "/v.mp4"]


@pytest.mark.parametrize("make", [plain, impersonated], ids=["urllib", "curl_cffi"])
def test_redirect_to_private_address_is_refused(
    ydl: GuardedYoutubeDL, media_server: MediaServer, private_server: MediaServer, make
) -> None:
    hop = media_server.add_redirect("hop", private_server.url("v.mp4"))
    with pytest.raises(GuardError) as caught:
        ydl.urlopen(make(hop))
    assert isinstance(caught.value.error, AddressRefused)
    assert str(caught.value.error).startswith("refused: 127.0.0.2 is a loopback address")
    assert "(the URL redirected to http://127.0.0.2:" in str(caught.value.error)
    assert private_server.hits == []


@pytest.mark.parametrize("make", [plain, impersonated], ids=["urllib", "curl_cffi"])
def test_direct_request_to_private_address_is_refused(
    ydl: GuardedYoutubeDL, private_server: MediaServer, make
) -> None:
    with pytest.raises(GuardError, match=r"127\.0\.0\.2 is a loopback address"):
        ydl.urlopen(make(private_server.url("v.mp4")))
    assert private_server.hits == []


@pytest.mark.parametrize("make", [plain, impersonated], ids=["urllib", "curl_cffi"])
def test_redirect_to_file_url_is_refused(ydl: GuardedYoutubeDL, media_server: MediaServer, make) -> None:
    hop = media_server.add_redirect("hop", "file:///etc/passwd")
    with pytest.raises(GuardError, match=r"only http and https URLs are accepted \(got file\)"):
        ydl.urlopen(make(hop))


def test_curl_redirect_loop_ends(ydl: GuardedYoutubeDL, media_server: MediaServer) -> None:
    loop = media_server.add_redirect("loop", "/loop")
    with pytest.raises(GuardError) as caught:
        ydl.urlopen(impersonated(loop))
    assert isinstance(caught.value.error, PermanentError)
    assert str(caught.value.error) == "the URL redirected more than 5 times"
    assert media_server.hit_count("loop") == 6


@pytest.mark.parametrize("make", [plain, impersonated], ids=["urllib", "curl_cffi"])
def test_connection_uses_the_addresses_that_were_checked(
    ydl: GuardedYoutubeDL, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch, make
) -> None:
    """`pinned.example` exists only in our (patched) lookup: the request works only if the handler
    connects to the address the guard resolved and checked, not to one it looks up again itself."""
    url = media_server.add_file("v.mp4", CLIP)
    real_lookup = socket.getaddrinfo

    def lookup(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host == "pinned.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return real_lookup(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    with GuardedYoutubeDL({"quiet": True, "proxy": ""}, AddressPolicy.from_entries(["pinned.example"])) as pinned:
        with pinned.urlopen(make(url.replace("127.0.0.1", "pinned.example"))) as response:
            assert response.read() == CLIP.read_bytes()


def test_guarded_connection_checks_the_fresh_answer(
    media_server: MediaServer, private_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with guarded_connection(POLICY, ("127.0.0.1", media_server.port), 2.0) as sock:
        assert sock.getpeername() == ("127.0.0.1", media_server.port)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", private_server.port))])
    with pytest.raises(GuardError) as caught:
        guarded_connection(POLICY, ("innocent.example", private_server.port), 2.0)
    assert isinstance(caught.value.error, AddressRefused)
    assert str(caught.value.error).startswith("refused: innocent.example (127.0.0.2) is a loopback address")
