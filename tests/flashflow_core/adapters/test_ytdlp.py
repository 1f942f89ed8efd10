"""The yt-dlp downloader against real yt-dlp and loopback HTTP servers.

127.0.0.1 is allowlisted (the tests' stand-in for a public host); a second server on 127.0.0.2 is
not, and plays the private address a fetch must never reach.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError

from flashflow_core.adapters.base import PermanentError, SiteThrottled, TransientError
from flashflow_core.adapters.netguard import AddressRefused
from flashflow_core.adapters.ytdlp import YtDlpDownloader
from flashflow_core.adapters.ytdlp_errors import download_error
from flashflow_core.config import Settings
from tests.conftest import FIXTURES
from tests.media_server import MediaServer, Route, serve

SHORT = FIXTURES / "no_speech_no_text.mp4"  # 3.0 s, ~4.5 KB
LONG = FIXTURES / "hook_speech_text.mp4"  # 9.0 s, ~80 KB


def make_downloader(**overrides: object) -> YtDlpDownloader:
    values: dict[str, object] = {
        "fetch_allow_hosts": ["127.0.0.1"],
        "fetch_socket_timeout_s": 2.0,
        "fetch_retries": 0,
    }
    values.update(overrides)
    return YtDlpDownloader(Settings(**values))


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[MediaServer]:
    """A server on 127.0.0.2, which no test allowlists."""
    with serve(tmp_path / "private", host="127.0.0.2") as server:
        server.add_file("v.mp4", SHORT)
        yield server


def fetch_error(downloader: YtDlpDownloader, url: str, dest: Path) -> Exception:
    with pytest.raises((PermanentError, TransientError)) as caught:
        downloader.fetch(url, dest)
    assert not dest.exists() or not list(dest.glob("video.*")), "a failed fetch left files behind"
    return caught.value


# ---- success -------------------------------------------------------------------------------

def test_good_mp4_is_saved_under_a_fixed_name(
    media_server: MediaServer, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = media_server.add_file("clips/My Clip (1).mp4", SHORT)
    dest = tmp_path / "dest"
    with caplog.at_level(logging.DEBUG, logger="flashflow_core.adapters.ytdlp"):
        media = make_downloader().fetch(url, dest)
    assert media.path == (dest / "video.mp4").resolve()
    assert media.path.read_bytes() == SHORT.read_bytes()
    assert media.filesize == SHORT.stat().st_size
    assert media.ytdlp_extractor == "Generic"
    assert media.info.duration_s == pytest.approx(3.0, abs=0.1) and media.info.has_video
    assert media.webpage_url == url
    assert [p.name for p in dest.iterdir()] == ["video.mp4"]
    assert media_server.hits == [("GET", urlsplit(url).path)] * 2  # the extractor's look, then the download
    assert capfd.readouterr() == ("", ""), "yt-dlp wrote to the console"
    assert any(r.getMessage().startswith("yt-dlp: [generic]") for r in caplog.records)


def test_server_error_during_download_is_retried(media_server: MediaServer, tmp_path: Path) -> None:
    good = Route(200, SHORT.read_bytes(), {"Content-Type": "video/mp4"})
    failing = Route(503, b"busy", {"Content-Type": "text/plain"})
    url = media_server.add("flaky.mp4", good, failing, good)
    media = make_downloader(fetch_retries=1).fetch(url, tmp_path / "dest")
    assert media.path.read_bytes() == SHORT.read_bytes()
    assert media_server.hit_count("flaky.mp4") == 3


def test_server_error_during_download_without_retries_is_transient(media_server: MediaServer, tmp_path: Path) -> None:
    good = Route(200, SHORT.read_bytes(), {"Content-Type": "video/mp4"})
    url = media_server.add("flaky.mp4", good, Route(503, b"busy", {"Content-Type": "text/plain"}), good)
    error = fetch_error(make_downloader(fetch_retries=0), url, tmp_path / "dest")
    assert type(error) is TransientError
    assert "503 Service Unavailable" in str(error)
    assert media_server.hit_count("flaky.mp4") == 2


def test_chunked_mp4_without_content_length_downloads(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_file("v.mp4", SHORT, send_length=False, chunked=True)
    media = make_downloader().fetch(url, tmp_path / "dest")
    assert media.path.read_bytes() == SHORT.read_bytes()


# ---- answers from the server ---------------------------------------------------------------

def test_404_is_permanent(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_status("gone.mp4", 404)
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == "the server answered 404 Not Found: the video is gone or the URL is wrong"


def test_403_is_permanent(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_status("private.mp4", 403)
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == (
        "the server answered 403 Forbidden: access is refused (the video is private, or the site blocks us)"
    )


def test_500_is_transient(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_status("boom.mp4", 500)
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is TransientError
    assert str(error).startswith("the server answered 500 Internal Server Error: a problem on the server's side")


def test_429_is_site_throttled_with_retry_after(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_status("slow-down.mp4", 429, headers={"Retry-After": "120"})
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert isinstance(error, SiteThrottled)
    assert error.site == "127.0.0.1"
    assert error.retry_after_s == 120
    assert "429 Too Many Requests" in str(error) and "wait 120 s" in str(error)


def test_html_page_is_not_a_video(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_html("page", "<html><head><title>Shop</title></head><body><p>Hi</p></body></html>")
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == "the page is HTML, not a video (no video found on it)"


def test_empty_file(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_bytes("empty.mp4", b"")
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == "the file is empty"


def test_truncated_mp4(media_server: MediaServer, tmp_path: Path) -> None:
    data = LONG.read_bytes()
    url = media_server.add_bytes("cut.mp4", data[: len(data) // 2])
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error).startswith("the file is not a playable video (truncated: its data stops at ")
    assert str(error).endswith("of 9.0 s)")


def test_bytes_that_are_not_a_video(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_bytes("noise.mp4", bytes(range(256)) * 64)
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error).startswith("the file is not a playable video (")


def test_slow_server_times_out_as_transient(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add("slow.mp4", Route(200, SHORT.read_bytes(), {"Content-Type": "video/mp4"}, delay_s=3))
    error = fetch_error(make_downloader(fetch_socket_timeout_s=0.5), url, tmp_path / "dest")
    assert type(error) is TransientError
    assert str(error).startswith("the connection to 127.0.0.1 timed out")


def test_a_server_that_never_answers_times_out_as_transient(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_hang("hung.mp4")
    started = time.monotonic()
    error = fetch_error(make_downloader(fetch_socket_timeout_s=0.5), url, tmp_path / "dest")
    assert type(error) is TransientError
    assert str(error).startswith("the connection to 127.0.0.1 timed out")
    assert time.monotonic() - started < 3
    assert media_server.hit_count("hung.mp4") == 1


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fetch_error(make_downloader(), f"http://127.0.0.1:{port}/v.mp4", tmp_path / "dest")
    assert type(error) is TransientError
    assert str(error).startswith("the connection to 127.0.0.1 failed")


# ---- limits --------------------------------------------------------------------------------

def test_video_longer_than_the_limit(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_file("long.mp4", LONG)
    error = fetch_error(make_downloader(fetch_max_duration_s=5), url, tmp_path / "dest")
    assert str(error) == "the video is 9 s long; the limit is 5 s (FLASHFLOW_FETCH_MAX_DURATION_S)"


def test_duration_from_the_page_is_checked_before_downloading(media_server: MediaServer, tmp_path: Path) -> None:
    video_url = media_server.add_file("long.mp4", LONG)
    ld = {"@context": "https://schema.org", "@type": "VideoObject", "name": "Long one", "duration": "PT15M",
          "contentUrl": video_url, "uploadDate": "2026-01-01", "thumbnailUrl": video_url + ".jpg"}
    page = media_server.add_html(
        "watch", f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body></body></html>'
    )
    error = fetch_error(make_downloader(), page, tmp_path / "dest")
    assert str(error) == "the video is 900 s long; the limit is 600 s (FLASHFLOW_FETCH_MAX_DURATION_S)"
    # The generic extractor looks at the media URL once (headers); the download would be a second GET.
    assert media_server.hit_count("long.mp4") <= 1


@pytest.mark.parametrize(
    "options",
    [{}, {"send_length": False, "chunked": True}, {"send_length": False, "chunked": False}],
    ids=["content-length", "chunked", "until-close"],
)
def test_file_over_the_size_limit(media_server: MediaServer, tmp_path: Path, options: dict[str, bool]) -> None:
    url = media_server.add_bytes("big.mp4", LONG.read_bytes() * 8, **options)  # ~640 KB
    error = fetch_error(make_downloader(fetch_max_filesize_mb=0.1), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == "the file is larger than the 0.1 MB limit (FLASHFLOW_FETCH_MAX_FILESIZE_MB)"


def test_download_that_takes_too_long_is_stopped(media_server: MediaServer, tmp_path: Path) -> None:
    body = LONG.read_bytes() * 8  # ten 64 KiB chunks, 0.3 s apart
    url = media_server.add("drip.mp4", Route(200, body, {"Content-Type": "video/mp4"}, chunk_delay_s=0.3))
    error = fetch_error(make_downloader(fetch_timeout_s=1.0), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error) == "timed out: the download took longer than 1 s (FLASHFLOW_FETCH_TIMEOUT_S)"


def test_a_page_that_never_ends_is_stopped_at_the_deadline(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_trickle("watch", b"<html><body>" + b"<p>hello</p>" * 10, bytes_per_s=20,
                                   content_type="text/html", endless=True, send_length=False, chunked=False)
    started = time.monotonic()
    error = fetch_error(make_downloader(fetch_timeout_s=1.5), url, tmp_path / "dest")
    assert str(error) == "timed out: the download took longer than 1.5 s (FLASHFLOW_FETCH_TIMEOUT_S)"
    assert time.monotonic() - started < 3, "the blocked read was not interrupted"
    assert media_server.peak_in_flight("watch") == 1


def test_a_download_that_stalls_stops_early(media_server: MediaServer, tmp_path: Path) -> None:
    # The extractor's look gets its first bytes at once, then one byte a second: yt-dlp's first
    # block of the download (1,024 bytes) would take minutes.
    url = media_server.add_trickle("stall.mp4", SHORT.read_bytes(), bytes_per_s=1, fast_bytes=600)
    started = time.monotonic()
    error = fetch_error(make_downloader(fetch_stall_s=1.0, fetch_timeout_s=60), url, tmp_path / "dest")
    assert type(error) is PermanentError
    assert str(error).startswith("stalled: the download received nothing for 1 s")
    assert str(error).endswith("(FLASHFLOW_FETCH_STALL_S)")
    assert time.monotonic() - started < 6


def test_an_announced_size_over_the_limit_is_refused_before_any_byte(media_server: MediaServer,
                                                                      tmp_path: Path) -> None:
    # 1 GB announced, sent at one byte a second: no need to wait for the first 1,024 bytes.
    url = media_server.add_trickle("huge.mp4", SHORT.read_bytes(), bytes_per_s=1, declared_length=10**9)
    started = time.monotonic()
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert str(error) == "the file is larger than the 200 MB limit (FLASHFLOW_FETCH_MAX_FILESIZE_MB)"
    assert time.monotonic() - started < 3
    assert media_server.hit_count("huge.mp4") == 1


# ---- refused addresses ---------------------------------------------------------------------

def test_file_url_is_refused(tmp_path: Path) -> None:
    error = fetch_error(make_downloader(), "file:///etc/passwd", tmp_path / "dest")
    assert isinstance(error, AddressRefused)
    assert str(error) == "refused: only http and https URLs are accepted (got file)"


def test_cloud_metadata_url_is_refused(tmp_path: Path) -> None:
    error = fetch_error(make_downloader(), "http://169.254.169.254/latest/meta-data/", tmp_path / "dest")
    assert str(error) == "refused: 169.254.169.254 is a cloud metadata address"


def test_redirect_to_a_private_address_is_refused_before_any_request(
    media_server: MediaServer, private_server: MediaServer, tmp_path: Path
) -> None:
    url = media_server.add_redirect("go", private_server.url("v.mp4"))
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert isinstance(error, AddressRefused)
    assert str(error).startswith("refused: 127.0.0.2 is a loopback address")
    assert f"(the URL redirected to {private_server.url('v.mp4')})" in str(error)
    assert media_server.hit_count("go") == 1
    assert private_server.hits == []


def test_redirect_to_a_file_url_is_refused(media_server: MediaServer, tmp_path: Path) -> None:
    url = media_server.add_redirect("go", "file:///etc/passwd")
    error = fetch_error(make_downloader(), url, tmp_path / "dest")
    assert str(error).startswith("refused: only http and https URLs are accepted (got file)")


def test_allowed_redirect_is_followed(media_server: MediaServer, tmp_path: Path) -> None:
    target = media_server.add_file("v.mp4", SHORT)
    url = media_server.add_redirect("go", target, status=301)
    media = make_downloader().fetch(url, tmp_path / "dest")
    assert media.path.read_bytes() == SHORT.read_bytes()


def test_media_url_on_a_page_pointing_at_a_private_address_is_refused(
    media_server: MediaServer, private_server: MediaServer, tmp_path: Path
) -> None:
    ld = {"@context": "https://schema.org", "@type": "VideoObject", "name": "Sneaky",
          "contentUrl": private_server.url("v.mp4"), "uploadDate": "2026-01-01"}
    page = media_server.add_html(
        "watch", f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body></body></html>'
    )
    error = fetch_error(make_downloader(), page, tmp_path / "dest")
    assert str(error).startswith("refused: 127.0.0.2 is a loopback address")
    assert private_server.hits == []


def test_dns_answer_that_changes_to_a_private_address_is_refused(
    media_server: MediaServer, private_server: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first lookup says 127.0.0.1, every later one 127.0.0.2."""
    private_server.add_file("v.mp4", SHORT)
    real_lookup = socket.getaddrinfo
    calls = []

    def rebinding_lookup(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host != "rebind.example":
            return real_lookup(host, port, *args, **kwargs)
        calls.append(host)
        address = "127.0.0.1" if len(calls) == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_lookup)
    downloader = make_downloader(fetch_allowed_extractors=["Generic"])
    error = fetch_error(downloader, f"http://rebind.example:{private_server.port}/v.mp4", tmp_path / "dest")
    assert str(error).startswith("refused: rebind.example (127.0.0.2) is a loopback address")
    assert len(calls) >= 2
    assert private_server.hits == []


# ---- extractor allowlist -------------------------------------------------------------------

def test_generic_extractor_only_for_allowlisted_hosts() -> None:
    downloader = make_downloader()
    assert "generic" in downloader.extractors_for("http://127.0.0.1:8000/v.mp4")
    with pytest.raises(PermanentError, match=r"^refused: example\.com is not a supported video site"):
        downloader.extractors_for("https://example.com/v.mp4")
    known = downloader.extractors_for("https://www.tiktok.com/@scout2015/video/6718335390845095173")
    assert "tiktok" in known and "generic" not in known


def test_extractor_outside_the_allowlist_is_refused() -> None:
    downloader = make_downloader(fetch_allowed_extractors=["Youtube"])
    assert "youtube" in downloader.extractors_for("https://youtu.be/dQw4w9WgXcQ")
    with pytest.raises(PermanentError, match=r"needs yt-dlp's TikTok extractor, which FLASHFLOW_FETCH_ALLOWED_"):
        downloader.extractors_for("https://www.tiktok.com/@scout2015/video/6718335390845095173")


def test_channel_pages_are_refused_by_default() -> None:
    with pytest.raises(PermanentError, match=r"needs yt-dlp's YoutubeTab extractor"):
        make_downloader().extractors_for("https://www.youtube.com/@somechannel/videos")


def test_host_not_allowlisted_gets_no_request_for_the_generic_extractor(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """The addresses are allowed, but the name is not listed, so the generic extractor may not read it."""
    url = media_server.add_file("v.mp4", SHORT).replace("127.0.0.1", "localhost")
    downloader = make_downloader(fetch_allow_hosts=["127.0.0.0/8", "::1"])
    error = fetch_error(downloader, url, tmp_path / "dest")
    assert str(error).startswith("refused: localhost is not a supported video site")
    assert media_server.hits == []


# ---- classification of yt-dlp's own errors --------------------------------------------------

def _http_error(status: int, headers: dict[str, str] | None = None) -> HTTPError:
    import io

    return HTTPError(Response(io.BytesIO(b""), "https://www.tiktok.com/x", headers or {}, status=status))


def _wrapped(cause: BaseException) -> DownloadError:
    """What YoutubeDL raises: a DownloadError carrying the cause in exc_info."""
    try:
        raise cause
    except BaseException as exc:  # noqa: BLE001 - building the wrapper yt-dlp builds
        import sys

        return DownloadError(f"ERROR: {exc}", sys.exc_info())


@pytest.mark.parametrize(
    ("cause", "kind", "words"),
    [
        (ExtractorError("Sign in to confirm you’re not a bot. Use --cookies", expected=True), SiteThrottled,
         "blocking or rate-limiting"),
        (ExtractorError("Your IP address is blocked from accessing this post", expected=True), SiteThrottled,
         "blocking or rate-limiting"),
        (ExtractorError("Private video. Sign in if you've been granted access", expected=True), PermanentError,
         "the video is private"),
        (ExtractorError("This video has been removed by the uploader", expected=True), PermanentError,
         "the video was removed"),
        (ExtractorError("This post is only available to logged in users", expected=True), PermanentError,
         "needs a logged-in account"),
        (GeoRestrictedError("The uploader has not made this video available in your country"), PermanentError,
         "geo-blocked"),
        (ExtractorError("Unable to extract video data"), TransientError, "the site may have changed"),
        (TransportError("timed out"), TransientError, "timed out"),
        (_http_error(410), PermanentError, "410 Gone: the video was removed"),
        (_http_error(503), TransientError, "503 Service Unavailable"),
    ],
)
def test_classify(cause: BaseException, kind: type, words: str) -> None:
    error = download_error(_wrapped(cause), "tiktok.com")
    assert type(error) is kind
    assert words in str(error)


def test_classify_429_reads_an_http_date_retry_after() -> None:
    error = download_error(_wrapped(_http_error(429, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})), "tiktok.com")
    assert isinstance(error, SiteThrottled)
    assert error.site == "tiktok.com"
    assert error.retry_after_s is not None and error.retry_after_s > 3600


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        ("ERROR: [download] Got error: HTTP Error 503: Service Unavailable", TransientError,
         "the server answered 503 Service Unavailable"),
        ("ERROR: [download] Got error: HTTP Error 404: Not Found", PermanentError, "the video is gone"),
        ("ERROR: [download] Got error: <urlopen error [Errno 104] Connection reset by peer>", TransientError,
         "the connection to tiktok.com failed"),
        ("ERROR: [download] Got error: The read operation timed out", TransientError,
         "the connection to tiktok.com timed out"),
        ("ERROR: [download] Did not get any data blocks", PermanentError, "the file is empty"),
    ],
)
def test_classify_errors_reported_only_as_text(message: str, kind: type, words: str) -> None:
    """After its own retries, yt-dlp's downloader reports the last error as a message, without the cause."""
    error = download_error(DownloadError(message), "tiktok.com")
    assert type(error) is kind
    assert words in str(error)
