"""Cookies and proxies on real yt-dlp against loopback servers: a site's cookies reach it (the media
server refuses without them) and the operator's file is never written; a fetch through a proxy
(tests/proxy_server.py, which would connect anywhere) is tunnelled to the address the guard
checked, and the guard still refuses private targets, redirects to them and the proxy itself.

127.0.0.1 is allowlisted (the stand-in for a public site); the proxy listens on 127.0.0.2, which is
not, so only naming it as the proxy lets the fetcher reach it.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flashflow_core.adapters.base import PermanentError, TransientError
from flashflow_core.adapters.fetch_access import FetchAccess, ProxyRoute, parse_site_proxies
from flashflow_core.adapters.netguard import AddressPolicy, AddressRefused
from flashflow_core.adapters.ytdlp_guard import _GuardedCurlSession, guarded_connection
from flashflow_core.config import ConfigError, load_settings
from tests.conftest import FIXTURES
from tests.flashflow_core.adapters.test_ytdlp import make_downloader
from tests.media_server import MediaServer, Route
from tests.proxy_server import Proxy, serve_proxy

CLIP = FIXTURES / "no_speech_no_text.mp4"
SESSION = "sessionid=0123456789abcdef"


@pytest.fixture
def proxy():
    with serve_proxy(host="127.0.0.2") as running:
        yield running


def cookies_file(folder: Path, site: str, name: str = "sessionid", value: str = "0123456789abcdef") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{site}.txt"
    path.write_text("# Netscape HTTP Cookie File\n"
                    f"{site}\tFALSE\t/\tFALSE\t0\t{name}\t{value}\n", encoding="utf-8")
    return path


# ---- cookies -------------------------------------------------------------------------------

def test_a_sites_cookies_are_sent_and_the_operators_file_is_left_alone(media_server: MediaServer, tmp_path):
    url = media_server.add("members/v.mp4", Route(200, CLIP.read_bytes(), {"Content-Type": "video/mp4"},
                                                   require_cookie=SESSION))
    folder = tmp_path / "cookies"
    with pytest.raises(PermanentError, match="403"):  # no cookies file for the site yet
        make_downloader(fetch_cookies_dir=folder).fetch(url, tmp_path / "without")

    path = cookies_file(folder, "127.0.0.1")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    media = make_downloader(fetch_cookies_dir=folder).fetch(url, tmp_path / "with")
    assert media.path.read_bytes() == CLIP.read_bytes()
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert [p.name for p in (tmp_path / "with").iterdir()] == ["video.mp4"]  # no cookies beside the media


def test_a_file_that_is_not_netscape_cookies_is_named(media_server: MediaServer, tmp_path):
    url = media_server.add_file("v.mp4", CLIP)
    folder = tmp_path / "cookies"
    folder.mkdir()
    (folder / "127.0.0.1.txt").write_text('{"cookies": "exported as JSON by mistake"}', encoding="utf-8")
    with pytest.raises(PermanentError, match=r"127\.0\.0\.1\.txt is not a cookies file in Netscape format"):
        make_downloader(fetch_cookies_dir=folder).fetch(url, tmp_path / "dest")
    assert media_server.hit_count() == 0


# ---- proxies -------------------------------------------------------------------------------

def test_a_fetch_through_the_proxy_is_tunnelled_to_the_checked_address(media_server, proxy: Proxy, tmp_path):
    url = media_server.add_file("v.mp4", CLIP)
    media = make_downloader(fetch_proxy=proxy.url).fetch(url, tmp_path / "dest")
    assert media.path.read_bytes() == CLIP.read_bytes()
    assert proxy.tunnels == [f"127.0.0.1:{media_server.port}"] * 2  # the extractor's look, then the download
    assert media_server.hit_count("v.mp4") == 2


def test_the_guard_still_checks_every_target_behind_the_proxy(media_server, proxy: Proxy, tmp_path):
    downloader = make_downloader(fetch_proxy=proxy.url)
    with pytest.raises(AddressRefused, match="127.0.0.3 is a loopback address"):
        downloader.fetch("http://127.0.0.3:8080/v.mp4", tmp_path / "a")
    with pytest.raises(AddressRefused, match="127.0.0.2 is a loopback address"):  # the proxy is no target
        downloader.fetch(f"http://127.0.0.2:{proxy.port}/v.mp4", tmp_path / "b")
    assert proxy.tunnels == []

    hop = media_server.add_redirect("hop.mp4", "http://127.0.0.3:8080/v.mp4")
    with pytest.raises(AddressRefused, match="redirected to http://127.0.0.3"):
        downloader.fetch(hop, tmp_path / "c")
    assert set(proxy.tunnels) == {f"127.0.0.1:{media_server.port}"}


def test_proxy_credentials_and_their_refusal(media_server, tmp_path):
    url = media_server.add_file("v.mp4", CLIP)
    with serve_proxy(host="127.0.0.2", user="ops", password="p@ss:word") as proxy:
        make_downloader(fetch_proxy=proxy.url).fetch(url, tmp_path / "ok")
        assert len(proxy.tunnels) == 2
        wrong = proxy.url.replace("p%40ss%3Aword", "guess")
        with pytest.raises(PermanentError, match=r"proxy 127\.0\.0\.2:\d+ refused our credentials \(407\)") as err:
            make_downloader(fetch_proxy=wrong).fetch(url, tmp_path / "refused")
        assert "guess" not in str(err.value)


def test_a_proxy_that_does_not_answer_is_a_transient_error(media_server, tmp_path):
    url = media_server.add_file("v.mp4", CLIP)
    with serve_proxy(host="127.0.0.2") as gone:
        dead = gone.url
    with pytest.raises(TransientError, match=r"proxy 127\.0\.0\.2:\d+ does not answer"):
        make_downloader(fetch_proxy=dead).fetch(url, tmp_path / "dest")


def test_per_site_proxies_override_the_default(media_server, proxy: Proxy, tmp_path):
    url = media_server.add_file("v.mp4", CLIP)
    make_downloader(fetch_proxy=proxy.url, fetch_site_proxies={"127.0.0.1": "direct"}).fetch(url, tmp_path / "a")
    assert proxy.tunnels == []
    make_downloader(fetch_site_proxies={"127.0.0.1": proxy.url, "tiktok.com": "direct"}).fetch(url, tmp_path / "b")
    assert len(proxy.tunnels) == 2


def test_libcurl_is_tunnelled_to_the_checked_address_too(media_server, proxy: Proxy):
    """The impersonating handler (curl_cffi, used for TikTok) through the proxy: CONNECT goes to the
    address the guard checked, while the request keeps the host name."""
    if {info[4][0] for info in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)} != {"127.0.0.1"}:
        pytest.skip("localhost does not resolve to 127.0.0.1 alone on this machine")
    url = media_server.add_redirect("first", media_server.url("second").replace("127.0.0.1", "localhost"))
    media_server.add_bytes("second", b"hello", content_type="text/plain")
    session = _GuardedCurlSession(AddressPolicy.from_entries(["localhost"]), ProxyRoute.parse(proxy.url))
    try:
        response = session.request("GET", url.replace("127.0.0.1", "localhost"))
        assert (response.status_code, response.content) == (200, b"hello")
    finally:
        session.close()
    assert set(proxy.tunnels) == {f"127.0.0.1:{media_server.port}"}  # libcurl may reuse the tunnel for hop 2
    assert (media_server.hit_count("first"), media_server.hit_count("second")) == (1, 1)


def test_proxy_settings_are_refused_clearly(monkeypatch):
    monkeypatch.setenv("FLASHFLOW_FETCH_PROXY", "socks5://10.0.0.5:1080")
    with pytest.raises(ConfigError, match="FLASHFLOW_FETCH_PROXY.*only http:// proxies"):
        load_settings()
    monkeypatch.delenv("FLASHFLOW_FETCH_PROXY")
    monkeypatch.setenv("FLASHFLOW_FETCH_SITE_PROXIES", "tiktok.com")
    with pytest.raises(ConfigError, match="FLASHFLOW_FETCH_SITE_PROXIES.*'tiktok.com' is not site=URL"):
        load_settings()
    monkeypatch.setenv("FLASHFLOW_FETCH_SITE_PROXIES", "TikTok.com=http://u:p@10.0.0.5:3128, youtube.com=Direct")
    assert load_settings().fetch_site_proxies == {"tiktok.com": "http://u:p@10.0.0.5:3128", "youtube.com": "direct"}
    access = FetchAccess(None, None, parse_site_proxies("tiktok.com=http://u:p@10.0.0.5:3128"))
    assert str(access.proxy_for("https://vm.tiktok.com/ZM123/")) == "proxy 10.0.0.5:3128"
    assert access.proxy_for("https://www.youtube.com/watch?v=x") is None


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate for `localhost` (made with the openssl tool)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (it makes the test's certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_tls_runs_through_the_tunnel_and_is_checked_against_the_host_name(tls_server, proxy: Proxy):
    """The proxy is asked for the checked address, yet the certificate is verified for the name in the URL."""
    if {info[4][0] for info in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)} != {"127.0.0.1"}:
        pytest.skip("localhost does not resolve to 127.0.0.1 alone on this machine")
    port, cert = tls_server
    policy, route = AddressPolicy.from_entries(["localhost"]), ProxyRoute.parse(proxy.url)
    trusted = ssl.create_default_context(cafile=str(cert))
    with trusted.wrap_socket(guarded_connection(policy, ("localhost", port), 5, proxy=route),
                             server_hostname="localhost") as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := tls.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"hello")
    assert proxy.tunnels == [f"127.0.0.1:{port}"]
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        trusted.wrap_socket(guarded_connection(policy, ("localhost", port), 5, proxy=route),
                            server_hostname="other.example")
