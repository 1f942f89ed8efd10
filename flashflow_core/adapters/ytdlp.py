"""The Downloader behind yt-dlp: fetches one video within size and duration limits; its failures
come out classified by `ytdlp_errors` (PermanentError, TransientError or SiteThrottled, in plain words).

Every request goes through the guarded handlers of `ytdlp_guard` (SSRF: see netguard). Proxies
from the environment are ignored and ffmpeg is hidden from yt-dlp, because either would make
requests outside those handlers; a site's cookies and proxy come from `fetch_access`. The
generic extractor (any web page) is only used for hosts that FLASHFLOW_FETCH_ALLOW_HOSTS lists;
other hosts need an extractor from FLASHFLOW_FETCH_ALLOWED_EXTRACTORS. Limit of the guard: a host
listed by name is trusted whatever it resolves to.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yt_dlp
from yt_dlp.downloader import get_suitable_downloader
from yt_dlp.downloader.dash import DashSegmentsFD
from yt_dlp.downloader.hls import HlsFD
from yt_dlp.downloader.http import HttpFD
from yt_dlp.extractor import gen_extractor_classes

from flashflow_core.adapters.base import AdapterError, FetchedMedia, MediaInfo, PermanentError
from flashflow_core.adapters.fetch_access import FetchAccess
from flashflow_core.adapters.media import probe
from flashflow_core.adapters.netguard import AddressPolicy, check_scheme
from flashflow_core.adapters.sites import site_of
from flashflow_core.adapters.ytdlp_errors import download_error
from flashflow_core.adapters.ytdlp_guard import GuardError
from flashflow_core.adapters.ytdlp_watch import DownloadWatch, WatchedYoutubeDL, too_large
from flashflow_core.config import Settings

log = logging.getLogger(__name__)

# The smallest file with picture and sound, plain HTTP(S) first. On a bare file URL yt-dlp knows
# no codecs and only the `!=?none` clause (unknown passes) or the last one matches.
FORMAT = (
    "worst[acodec!=none][vcodec!=none][protocol^=http]/worst[acodec!=none][vcodec!=none]"
    "/worst[acodec!=?none][vcodec!=?none]/worst[acodec!=none]/worst"
)
VIDEO_NAME = "video"
_NATIVE_DOWNLOADERS = (HttpFD, HlsFD, DashSegmentsFD)
_MB = 1024 * 1024


class _YtDlpLog:
    """Routes yt-dlp's messages to Python logging; its errors also arrive as exceptions."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    info = debug
    error = debug

    def warning(self, msg: str) -> None:
        log.warning("yt-dlp: %s", msg)


# ---- the downloader ------------------------------------------------------------------------

class YtDlpDownloader:
    """Downloads the smallest file with sound for one video URL, within size and duration limits."""

    def __init__(self, settings: Settings) -> None:
        self.policy = AddressPolicy.from_entries(settings.fetch_allow_hosts)
        self.allowed_extractors = list(settings.fetch_allowed_extractors)
        # Settings refuse a pattern that does not compile (config_checks.patterns), at start.
        self._extractor_patterns = [re.compile(p, re.IGNORECASE) for p in self.allowed_extractors]
        self.max_bytes = int(settings.fetch_max_filesize_mb * _MB)
        self.max_mb = settings.fetch_max_filesize_mb
        self.max_duration_s = settings.fetch_max_duration_s
        self.socket_timeout_s = settings.fetch_socket_timeout_s
        self.retries = settings.fetch_retries
        self.timeout_s = settings.fetch_timeout_s
        self.stall_s = settings.fetch_stall_s
        self.access = FetchAccess(settings.fetch_cookies_dir, settings.fetch_proxy, settings.fetch_site_proxies)

    def fetch(self, url: str, dest_dir: Path) -> FetchedMedia:
        """Download `url` into `dest_dir` as video.<ext>; raise a classified AdapterError on failure."""
        url = url.strip()
        check_scheme(url)
        self.policy.check_url(url)
        extractors = self.extractors_for(url)
        dest_dir.mkdir(parents=True, exist_ok=True)
        site = site_of(url)
        try:
            info = self._download(url, dest_dir, extractors)
            path = self._downloaded_file(info, dest_dir)
            probed = self._check_file(path)
        except Exception as exc:
            _remove_partials(dest_dir)
            if isinstance(exc, AdapterError):
                raise
            raise download_error(exc, site) from exc
        return FetchedMedia(
            path=path,
            ytdlp_extractor=str(info.get("extractor_key") or info.get("extractor") or "unknown"),
            video_id=info.get("id"),
            title=info.get("title"),
            info=probed,
            filesize=path.stat().st_size,
            webpage_url=str(info.get("webpage_url") or url),
        )

    def extractors_for(self, url: str) -> list[str]:
        """yt-dlp's names of the extractors this URL may use; PermanentError when none (no network)."""
        host = urlsplit(url).hostname or ""
        generic_ok = self.policy.host_allowlisted(host)
        allowed = [ie for ie in gen_extractor_classes() if self._extractor_allowed(ie, generic_ok)]
        first = next((ie for ie in gen_extractor_classes() if ie.suitable(url)), None)
        if first is None or first not in allowed:
            if first is None or first.ie_key() == "Generic":
                raise PermanentError(
                    f"refused: {host} is not a supported video site (allowed: "
                    f"{', '.join(self.allowed_extractors)}); pages of other hosts are only read when "
                    "FLASHFLOW_FETCH_ALLOW_HOSTS lists the host"
                )
            raise PermanentError(
                f"refused: this URL needs yt-dlp's {first.ie_key()} extractor, which "
                "FLASHFLOW_FETCH_ALLOWED_EXTRACTORS does not list (is it a channel, playlist or profile "
                "rather than one video?)"
            )
        return [re.escape(ie.IE_NAME.lower()) for ie in allowed]

    def _extractor_allowed(self, ie: Any, generic_ok: bool) -> bool:
        if ie.ie_key() == "Generic" and generic_ok:
            return True
        return any(p.fullmatch(name) for p in self._extractor_patterns for name in (ie.ie_key(), ie.IE_NAME))

    def _params(self, dest_dir: Path, extractors: list[str], hook: Any) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "outtmpl": {"default": str(dest_dir / f"{VIDEO_NAME}.%(ext)s")},
            "restrictfilenames": True,
            "noplaylist": True,
            "allowed_extractors": extractors,
            "socket_timeout": self.socket_timeout_s,
            "retries": self.retries,
            "fragment_retries": self.retries,
            "extractor_retries": self.retries,
            "file_access_retries": 0,
            "logger": _YtDlpLog(),
            "quiet": True,
            "noprogress": True,
            "no_warnings": False,
            "color": {"stdout": "never", "stderr": "never"},
            "consoletitle": False,
            "progress_hooks": [hook],
            "overwrites": True,
            "continuedl": False,
            "cachedir": False,
            "fixup": "never",
            # ffmpeg and yt-dlp's own proxy support would open connections outside the guarded
            # handlers: no proxy here (a configured one is the guard's, see _session), and point
            # yt-dlp at a folder without ffmpeg (HLS would otherwise fall back to it).
            "proxy": "",
            "ffmpeg_location": str(dest_dir),
            "external_downloader": {"default": "native"},
            "hls_prefer_native": True,
        }

    def _download(self, url: str, dest_dir: Path, extractors: list[str]) -> dict[str, Any]:
        with DownloadWatch(self.timeout_s, self.stall_s, self.max_mb) as watch:
            def hook(progress: dict[str, Any]) -> None:
                if progress.get("status") != "downloading":
                    return
                received = progress.get("downloaded_bytes") or 0
                watch.progressed(received)
                if max(progress.get("total_bytes") or 0, received) > self.max_bytes:
                    raise GuardError(too_large(self.max_mb))

            try:
                with self._session(url, self._params(dest_dir, extractors, hook), watch) as ydl:
                    info = ydl.extract_info(url, download=False)
                    if info is None:
                        raise PermanentError("yt-dlp found nothing to download at this URL")
                    self._check_metadata(info, ydl)
                    watch.download_started()
                    return ydl.process_ie_result(info, download=True)
            except Exception as exc:
                if watch.reason is not None:  # what the blocked read raised says less than why it stopped
                    raise watch.reason from exc
                raise

    @contextmanager
    def _session(self, url: str, params: dict[str, Any], watch: DownloadWatch) -> Iterator[WatchedYoutubeDL]:
        """yt-dlp on the guarded, watched handlers, with the site's cookies (a private copy) and proxy."""
        with self.access.cookies_copy(url) as cookies:
            if cookies is not None:
                params = {**params, "cookiefile": str(cookies)}
            with WatchedYoutubeDL(params, self.policy, watch, self.access.proxy_for(url)) as ydl:
                yield ydl

    def inspect(self, url: str) -> dict[str, Any]:
        """What the site says about one video, through the same guard, cookies, proxy and limits as
        a fetch, without downloading or storing anything (`flashflow doctor --canary`); a
        classified AdapterError when that fails."""
        url = url.strip()
        check_scheme(url)
        self.policy.check_url(url)
        extractors = self.extractors_for(url)
        with tempfile.TemporaryDirectory(prefix="flashflow-canary-") as scratch, \
                DownloadWatch(self.timeout_s, self.stall_s, self.max_mb) as watch:
            try:
                with self._session(url, self._params(Path(scratch), extractors, lambda _: None), watch) as ydl:
                    info = ydl.extract_info(url, download=False)
                    if info is None:
                        raise PermanentError("yt-dlp found nothing at this URL")
                    self._check_metadata(info, ydl)
            except Exception as exc:
                if watch.reason is not None:
                    raise watch.reason from exc
                if isinstance(exc, AdapterError):
                    raise
                raise download_error(exc, site_of(url)) from exc
        return {"extractor": str(info.get("extractor_key") or info.get("extractor") or "unknown"),
                "id": info.get("id"), "title": info.get("title"), "duration_s": info.get("duration"),
                "formats": len(info.get("formats") or [info]), "webpage_url": str(info.get("webpage_url") or url)}

    def _check_metadata(self, info: dict[str, Any], ydl: yt_dlp.YoutubeDL) -> None:
        """Refuse from what the site says, before the download starts."""
        if info.get("_type", "video") != "video":
            raise PermanentError("the URL is a playlist or profile, not a single video")
        if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
            raise PermanentError("the URL is a live stream, not a recorded video")
        duration = info.get("duration")
        if duration and duration > self.max_duration_s:
            raise PermanentError(self._too_long(duration))
        size = info.get("filesize") or info.get("filesize_approx")
        if size and size > self.max_bytes:
            raise PermanentError(f"the file is larger than the {self.max_mb:g} MB limit "
                                 f"(the site says {size / _MB:.0f} MB; FLASHFLOW_FETCH_MAX_FILESIZE_MB)")
        for fmt in info.get("requested_formats") or [info]:
            if get_suitable_downloader(dict(fmt), ydl.params) not in _NATIVE_DOWNLOADERS:
                raise PermanentError(f"the video is only offered over {fmt.get('protocol')}, "
                                     "which this fetcher does not download")

    def _too_long(self, duration: float) -> str:
        return (f"the video is {duration:.0f} s long; the limit is {self.max_duration_s:g} s "
                "(FLASHFLOW_FETCH_MAX_DURATION_S)")

    def _downloaded_file(self, info: dict[str, Any], dest_dir: Path) -> Path:
        files = [Path(d["filepath"]) for d in info.get("requested_downloads") or [] if d.get("filepath")]
        if not files or not files[0].is_file():
            raise PermanentError("yt-dlp skipped the download without an error (nothing was saved)")
        path = files[0].resolve()
        if path.parent != dest_dir.resolve() or not path.name.startswith(VIDEO_NAME + "."):
            raise PermanentError(f"yt-dlp saved an unexpected file name: {path.name}")
        return path

    def _check_file(self, path: Path) -> MediaInfo:
        """Check the saved file's size, then probe it (the one probe: a decodable, whole video) and
        its real duration; return what the probe found."""
        size = path.stat().st_size
        if size == 0:
            raise PermanentError("the file is empty")
        if size > self.max_bytes:
            raise too_large(self.max_mb)
        info = probe(path)
        if info.duration_s > self.max_duration_s:
            raise PermanentError(self._too_long(info.duration_s))
        return info


def _remove_partials(dest_dir: Path) -> None:
    for leftover in dest_dir.glob(f"{VIDEO_NAME}.*"):
        leftover.unlink(missing_ok=True)
