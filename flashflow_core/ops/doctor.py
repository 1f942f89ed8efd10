"""Checks that every outside part FlashFlow needs is present and answering, for `flashflow doctor`.

Each check returns a row: what was looked at, found or missing, its version, and a detail a
person can act on. A check never raises: a failure is reported in its row.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import redis

from flashflow_core.db import migrate
from flashflow_core.ops import outages
from flashflow_core.config import ConfigError, Settings
from flashflow_core.embedded.postgres import server_version as postgres_version
from flashflow_core.embedded.valkey import server_version as redis_version
from flashflow_core.adapters.base import AdapterError, PermanentError
from flashflow_core.adapters.fetch_access import FetchAccess, load_cookies
from flashflow_core.redaction import redact, redact_url


# Sites change weekly and yt-dlp follows; an older yt-dlp is the first suspect when fetches fail.
YTDLP_MAX_AGE_DAYS = 30


@dataclass(frozen=True)
class Check:
    """One row of the doctor's report; `warning` marks a part that works but needs attention."""

    name: str
    ok: bool
    version: str = ""
    detail: str = ""
    required: bool = True
    warning: bool = False

    @property
    def state(self) -> str:
        if not self.ok:
            return "missing"
        return "warning" if self.warning else "found"


def healthy(checks: list[Check]) -> bool:
    """True when every required check passed."""
    return all(check.ok for check in checks if check.required)


def _package_version(name: str) -> str:
    return importlib.metadata.version(name)


def check_postgres(settings: Settings) -> list[Check]:
    """Postgres reachable, its version, and how many migrations are pending."""
    if not settings.database_url:
        return [Check("postgres", False, detail="DATABASE_URL unset and no embedded server running")]
    try:
        version = postgres_version(settings.database_url)
        with psycopg.connect(settings.database_url, connect_timeout=3, autocommit=True) as conn:
            waiting = migrate.pending(conn)
    except psycopg.Error as exc:
        return [Check("postgres", False, detail=str(outages.postgres_unavailable(settings.database_url, exc)))]
    except migrate.MigrationError as exc:
        return [Check("postgres", True, version), Check("migrations", False, detail=str(exc))]
    known = len(migrate.discover())
    if waiting:
        pending_detail = f"{len(waiting)} of {known} pending, first {waiting[0].filename}: run `flashflow migrate`"
    else:
        pending_detail = f"none of {known} pending"
    return [
        Check("postgres", True, version, redact_url(settings.database_url)),
        Check("migrations", not waiting, detail=pending_detail),
    ]


def check_redis(settings: Settings) -> list[Check]:
    """Redis (or Valkey) reachable and its version."""
    if not settings.redis_url:
        return [Check("redis", False, detail="REDIS_URL unset and no embedded server running")]
    try:
        return [Check("redis", True, redis_version(settings.redis_url), redact_url(settings.redis_url))]
    except redis.RedisError as exc:
        return [Check("redis", False, detail=str(outages.redis_unavailable(settings.redis_url, exc)))]


def _ffmpeg_version(exe: str) -> str:
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20, check=True).stdout
    first = out.splitlines()[0] if out else ""
    return first.split()[2] if first.startswith("ffmpeg version") else first


def check_ffmpeg(settings: Settings) -> list[Check]:
    """The ffmpeg bundled by imageio-ffmpeg (required) and a system ffmpeg on PATH (optional)."""
    checks = []
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        checks.append(Check("ffmpeg (imageio-ffmpeg)", True, _ffmpeg_version(exe), exe))
    except (ImportError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        checks.append(Check("ffmpeg (imageio-ffmpeg)", False, detail=str(exc)))
    system = shutil.which("ffmpeg")
    if system is None:
        checks.append(Check("ffmpeg (system)", False, detail="not on PATH (optional)", required=False))
    else:
        try:
            checks.append(Check("ffmpeg (system)", True, _ffmpeg_version(system), system, required=False))
        except (OSError, subprocess.SubprocessError) as exc:
            checks.append(Check("ffmpeg (system)", False, detail=str(exc), required=False))
    return checks


def check_pyav(settings: Settings) -> list[Check]:
    """PyAV, which faster-whisper decodes audio with."""
    try:
        import av

        return [Check("PyAV", True, av.__version__)]
    except ImportError as exc:
        return [Check("PyAV", False, detail=str(exc))]


def check_whisper(settings: Settings) -> list[Check]:
    """faster-whisper and its model (FLASHFLOW_WHISPER_MODEL, base by default): bundled files verified
    against their pinned hashes, and the model actually loaded, from local files only."""
    from flashflow_core.adapters.transcribe_faster_whisper import FasterWhisperTranscriber

    required = settings.transcriber == "faster-whisper"
    try:
        package = Check("faster-whisper", True, _package_version("faster-whisper"), required=required)
    except importlib.metadata.PackageNotFoundError:
        return [Check("faster-whisper", False, detail="not installed", required=required)]
    try:
        transcriber = FasterWhisperTranscriber(settings.model_copy(update={"worker_threads": 1}))
        transcriber.load()
    except ConfigError as exc:
        return [package, Check("whisper model", False, detail=str(exc), required=required)]
    model = transcriber.model_source
    return [package, Check("whisper model", True, model.label, model.source, required=required)]


def rapidocr_model_files() -> list[Path]:
    """The ONNX files rapidocr's default configuration loads (det, cls, rec), in its models folder."""
    import rapidocr
    from omegaconf import OmegaConf
    from rapidocr.inference_engine.base import FileInfo, InferSession
    from rapidocr.utils.typings import EngineType, ModelType, OCRVersion, TaskType

    root = Path(rapidocr.__file__).parent
    config = OmegaConf.load(root / "config.yaml")
    files = []
    for section in ("Det", "Cls", "Rec"):
        part = config[section]
        info = InferSession.get_model_url(
            FileInfo(
                engine_type=EngineType(part.engine_type),
                ocr_version=OCRVersion(part.ocr_version),
                task_type=TaskType(part.task_type),
                lang_type=part.lang_type,
                model_type=ModelType(part.model_type),
            )
        )
        files.append(root / "models" / Path(info["model_dir"]).name)
    return files


def check_rapidocr(settings: Settings) -> list[Check]:
    """rapidocr and the model files its default configuration needs (it would download missing ones)."""
    try:
        version = _package_version("rapidocr")
        files = rapidocr_model_files()
    except Exception as exc:  # noqa: BLE001 - an import or config error of any kind means "not usable"
        return [Check("rapidocr", False, detail=str(exc))]
    absent = [f.name for f in files if not f.is_file()]
    if absent:
        return [Check("rapidocr", False, version, f"missing model files: {', '.join(absent)}")]
    return [Check("rapidocr", True, version, ", ".join(f.name for f in files))]


def check_ytdlp(settings: Settings) -> list[Check]:
    """yt-dlp, its release date (a warning past YTDLP_MAX_AGE_DAYS), the JavaScript runtime it needs
    for YouTube, and the cookies files and proxies of FLASHFLOW_FETCH_*."""
    try:
        from yt_dlp.version import __version__
    except ImportError as exc:
        return [Check("yt-dlp", False, detail=str(exc))]
    return [ytdlp_age(__version__, date.today()), _js_runtime(), *_cookies_files(settings), *_proxies(settings)]


def ytdlp_age(version: str, today: date) -> Check:
    """yt-dlp's row: its version is its release date (2026.10.26); old means older than the limit."""
    try:
        released = date(*(int(part) for part in version.split(".")[:3]))
    except (TypeError, ValueError):
        return Check("yt-dlp", True, version, "release date unknown (not a date-style version)")
    age = (today - released).days
    detail = f"released {released.isoformat()}, {age} days ago"
    if age <= YTDLP_MAX_AGE_DAYS:
        return Check("yt-dlp", True, version, detail)
    return Check("yt-dlp", True, version, f"{detail}: older than {YTDLP_MAX_AGE_DAYS} days; sites change often, "
                 "upgrade it (docs/operations.md, 'Upgrading yt-dlp')", warning=True)


def _js_runtime() -> Check:
    """deno, which yt-dlp runs YouTube's player JavaScript with (found as yt-dlp itself finds it)."""
    from yt_dlp.utils._jsruntime import DenoJsRuntime

    name = "JavaScript runtime (deno)"
    try:
        info = DenoJsRuntime().info
    except Exception as exc:  # noqa: BLE001 - a broken binary of any kind means "not usable"
        return Check(name, False, detail=f"deno does not run: {exc}", required=False)
    if info is None:
        return Check(name, False, detail="not found: YouTube fetches fail without it; install the [deno] extra "
                     "(pip install 'flashflow-workers[deno]') or deno on PATH", required=False)
    if not info.supported:
        return Check(name, False, info.version, f"{info.path}: too old for yt-dlp", required=False)
    return Check(name, True, info.version, info.path, required=False)


def _cookies_files(settings: Settings) -> list[Check]:
    """Each site's cookies file: readable, how many cookies, how many expired."""
    folder = settings.fetch_cookies_dir
    if folder is None:
        return []
    if not folder.is_dir():
        return [Check("cookies", False, detail=f"FLASHFLOW_FETCH_COOKIES_DIR {folder} is not a folder")]
    rows = []
    for path in sorted(folder.glob("*.txt")):
        try:
            jar = load_cookies(path)
        except PermanentError as exc:
            rows.append(Check(f"cookies {path.stem}", False, detail=str(exc)))
            continue
        expired = sum(1 for cookie in jar if cookie.is_expired())
        rows.append(Check(f"cookies {path.stem}", True, detail=f"{len(jar)} cookies, {expired} expired",
                          warning=bool(expired) and expired == len(jar)))
    return rows or [Check("cookies", True, detail=f"no <site>.txt files in {folder}", required=False)]


def _proxies(settings: Settings) -> list[Check]:
    """Each configured proxy accepts connections (within CONNECT_TIMEOUT_S)."""
    routes = {str(route): route for route in
              [FetchAccess(None, settings.fetch_proxy, {}).proxy,
               *FetchAccess(None, None, settings.fetch_site_proxies).site_proxies.values()] if route is not None}
    rows = []
    for shown, route in routes.items():
        try:
            socket.create_connection((route.host, route.port), timeout=outages.CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            rows.append(Check(shown, False, detail=f"does not answer: {exc.strerror or exc}"))
        else:
            rows.append(Check(shown, True, detail="accepts connections"))
    return rows


def canary(settings: Settings, url: str) -> Check:
    """Fetch one URL's metadata as a worker would (guard, cookies, proxy, limits); store nothing."""
    from flashflow_core.adapters.ytdlp import YtDlpDownloader

    downloader = YtDlpDownloader(settings)
    try:
        info = downloader.inspect(url)
    except AdapterError as exc:
        return Check("canary", False, detail=f"{redact(url)}: {exc}")
    route = downloader.access.proxy_for(url)
    duration = f"{info['duration_s']:.0f} s, " if info["duration_s"] else ""
    how = f"through {route}" if route else "direct"
    cookies = ", with cookies" if downloader.access.cookies_file(url) else ""
    return Check("canary", True, info["extractor"], f"{info['title']!r}: {duration}{info['formats']} format(s), "
                 f"{how}{cookies}")


def check_openai(settings: Settings) -> list[Check]:
    """An OpenAI key when a setting needs one; otherwise the offline extractor is used."""
    needs_key = settings.extractor == "openai" or settings.transcriber == "openai"
    if settings.openai_api_key:
        return [Check("openai", True, _package_version("openai"), "API key configured", required=needs_key)]
    if needs_key:
        return [Check("openai", False, detail="FLASHFLOW_EXTRACTOR/TRANSCRIBER is openai but OPENAI_API_KEY is unset")]
    return [Check("openai", True, detail="no API key: offline extractor", required=False)]


CHECKS: tuple[Callable[[Settings], list[Check]], ...] = (
    check_postgres,
    check_redis,
    check_ffmpeg,
    check_pyav,
    check_whisper,
    check_rapidocr,
    check_ytdlp,
    check_openai,
)


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order, against settings whose URLs are already resolved."""
    rows: list[Check] = []
    for check in CHECKS:
        rows.extend(check(settings))
    return rows
