"""Settings for every FlashFlow process, read once from the environment at start.

`DATABASE_URL` and `REDIS_URL` keep their conventional names; everything else is `FLASHFLOW_*`.
An unknown `FLASHFLOW_*` variable or a bad value is refused with a message naming the variable.
A setting whose name says key, token, secret or password (or one marked
`json_schema_extra={"secret": True}`) is a secret: it is shown only as `****`, and its value, like
every password in a URL setting, is hidden from all output and logs (`flashflow_core.redaction`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flashflow_core import config_checks as checks
from flashflow_core.adapters.languages import MARKET_LANGUAGES
from flashflow_core.redaction import redact, redact_setting, remember_settings

ENV_PREFIX = "FLASHFLOW_"

DEFAULT_ALLOWED_EXTRACTORS = ["TikTok", "TikTokVM", "vm.tiktok", "Instagram", "Youtube", "YoutubeShortsAudioPivot"]

# Default paths come from the project, never from the folder a command happens to run in: in a
# source checkout (pyproject.toml beside the packages) HOME is <checkout>/.flashflow and the
# schedules are <checkout>/schedules.yaml; an installed copy keeps HOME in ~/.flashflow and needs
# FLASHFLOW_SCHEDULES_FILE (the Docker image sets it).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()
DEFAULT_HOME = PROJECT_ROOT / ".flashflow" if _IN_CHECKOUT else Path.home() / ".flashflow"
DEFAULT_SCHEDULES_FILE = PROJECT_ROOT / "schedules.yaml"


class ConfigError(Exception):
    """A setting could not be read; the message names the variable and what it accepts."""


def _literal_choices(annotation: object) -> list[str]:
    """The string choices of a Literal annotation (also inside `Literal[...] | None`)."""
    if typing.get_origin(annotation) is Literal:
        return [a for a in typing.get_args(annotation) if isinstance(a, str)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(annotation) for c in _literal_choices(arg)]
    return []


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All configuration of FlashFlow Workers. Built by `load_settings()`, then passed down."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True, allow_inf_nan=False)

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "FLASHFLOW_DATABASE_URL"),
        description="PostgreSQL URL (postgresql://user:pass@host:port/db). Unset: the embedded server.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "FLASHFLOW_REDIS_URL"),
        description="Redis URL (redis://host:port/db). Unset: the embedded Valkey server.",
    )
    home: Path = Field(default=DEFAULT_HOME, description="Folder for embedded servers' data and local storage "
                       "(default: .flashflow in the project checkout, else ~/.flashflow).")
    storage_root: Path | None = Field(default=None, description="Where media files are stored (default HOME/storage).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        default=None, description="json or text; unset: text when stderr is a terminal, json otherwise.")

    db_pool_min: int = Field(default=1, ge=0, le=100)
    db_pool_max: int = Field(default=8, ge=1, le=200)

    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts, addresses or networks the fetcher may reach even though private.",
    )
    fetch_allowed_extractors: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ALLOWED_EXTRACTORS),
        description="Comma-separated yt-dlp extractor names allowed for public hosts.",
    )
    fetch_max_filesize_mb: float = Field(default=200.0, gt=0)
    fetch_max_duration_s: float = Field(default=600.0, gt=0)
    fetch_socket_timeout_s: float = Field(default=20.0, gt=0)
    fetch_retries: int = Field(default=3, ge=0, le=20)
    fetch_concurrency_per_site: int = Field(default=4, ge=1, le=100)
    fetch_throttle_pause_s: int = Field(default=300, ge=1)
    fetch_max_throttles: int = Field(default=12, ge=1, le=1000,
                                     description="Throttled fetches of one video before it fails.")
    # Reaching real sites (docs/operations.md, "Fetching from real sites"): cookies and proxies.
    fetch_cookies_dir: Path | None = Field(
        default=None, description="Folder of per-site cookies files in Netscape format, named after the site "
        "(tiktok.com.txt, instagram.com.txt); a fetch sends its site's cookies.")
    fetch_proxy: str | None = Field(
        default=None, description="HTTP proxy for every fetch (http://user:password@host:port). Naming it allows "
        "connecting to it as a proxy only; each target is still checked and tunnelled to by its checked address.")
    fetch_site_proxies: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="Per-site proxy overrides: comma-separated site=URL pairs, "
        "site=direct for none (tiktok.com=http://10.0.0.5:3128,youtube.com=direct).")

    transcriber: Literal["faster-whisper", "openai-whisper", "openai"] = "faster-whisper"
    whisper_model: str = Field(
        default="base",
        description="base (multilingual, bundled), tiny.en (English only, bundled), a CTranslate2 folder, "
        "or a model name already in the local Hugging Face cache (nothing is downloaded).",
    )
    model_cache: Path | None = Field(
        default=None, description="Where bundled Whisper models are reassembled (default HOME/models).",
    )
    transcribe_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated ISO 639-1 codes (e.g. en,es,pt): speech in another language fails. "
        "Empty: any language.",
    )
    language_candidates: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(MARKET_LANGUAGES),
        description="Comma-separated ISO 639-1 codes language detection chooses among (default: TikTok Shop's "
        "market languages; those FLASHFLOW_TRANSCRIBE_LANGUAGES allows are always added). Empty: any language.",
    )
    language_detection_windows: int = Field(
        default=2, ge=1, le=20,
        description="30 s windows of speech whose language probabilities are averaged to detect the language.",
    )
    speech_min_confidence: float = Field(
        default=0.45, ge=0, le=1,
        description="Transcripts below this confidence never give a spoken hook or CTA (docs/hooks.md).",
    )
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_cpu_threads: int = Field(default=0, ge=0, le=256, description="0: cores / worker threads.")
    whisper_beam_size: int = Field(default=5, ge=1, le=20)

    extractor: Literal["auto", "openai", "offline"] = "auto"
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "FLASHFLOW_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "FLASHFLOW_OPENAI_BASE_URL")
    )
    openai_extract_model: str = "gpt-4o-mini"
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"
    openai_timeout_s: float = Field(default=60.0, gt=0)
    openai_max_retries: int = Field(default=3, ge=0, le=10)

    toolkit: Literal["real", "instant"] = Field(
        default="real", description="real: yt-dlp, Whisper, OCR, extractor; instant: stand-ins for benchmarks."
    )
    ocr_seconds_head: float = Field(default=3.0, ge=0)
    ocr_seconds_tail: float = Field(default=2.0, ge=0)
    subprocess_timeout_s: float = Field(default=300.0, gt=0)

    worker_threads: int = Field(
        default=2, ge=1, le=64,
        description="Messages a worker process runs at once; each runs its stages in a stage child process "
        "with its own models (one Whisper replica each), and the cores are shared out between them.",
    )
    worker_processes: int = Field(default=1, ge=1, le=64)
    broker_namespace: str = "dramatiq"
    heartbeat_timeout_s: int = Field(default=60, ge=1)
    stage_max_retries: int = Field(default=5, ge=0, le=15)
    stage_max_attempts: int = Field(default=3, ge=1, le=50)

    # Stage limits. flashflow_core/winners/limits.py derives the leases, Dramatiq's time limits
    # and the per-site slot TTL from these; nothing else states a duration for a stage.
    fetch_timeout_s: float = Field(
        default=300.0, gt=0, le=86_400,
        description="The whole fetch stage (download, check, store); its child process is killed after this.",
    )
    fetch_stall_s: float = Field(
        default=30.0, gt=0, le=3600, description="A download that receives nothing for this long stops as stalled.",
    )
    transcribe_timeout_s: float = Field(
        default=1500.0, gt=0, le=86_400,
        description="The whole transcribe stage (audio to WAV, Whisper); its child process is killed after this.",
    )
    extract_timeout_s: float = Field(
        default=600.0, gt=0, le=86_400,
        description="The whole extract stage (OCR, frames, extractor); its child process is killed after this.",
    )
    stage_lease_s: float = Field(
        default=60.0, ge=3, le=3600,
        description="A stage's claim on its row lapses this long after its last renewal (renewed every third of it).",
    )
    stage_max_memory_mb: int = Field(
        default=4096, ge=0, le=1_048_576,
        description="A stage's child process is stopped when its resident memory passes this; 0: no cap.",
    )
    stage_child_max_jobs: int = Field(
        default=1000, ge=1, le=1_000_000,
        description="A stage child process is replaced after this many stages (its replacement reloads the models).",
    )

    # A person stepping in (flashflow attach-file / attach-transcript, the console).
    transcript_max_bytes: int = Field(
        default=1_048_576, ge=1, le=104_857_600,
        description="Largest transcript a person may attach, in bytes (a 10-minute video's is about 10-50 KB).",
    )

    broker_maintenance_chance: int = Field(
        default=10_000, ge=0, le=1_000_000,
        description="Broker calls per million that also return dead workers' messages to their queues.",
    )
    broker_maintenance_interval_s: float = Field(
        default=5.0, gt=0, le=300,
        description="Each worker also runs that maintenance on every queue this often, and sends its heartbeat.",
    )
    dead_letter_ttl_days: float = Field(default=7.0, gt=0, description="How long dead-lettered messages are kept.")
    intake_sweep_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="Workers look for reference_videos rows inserted without a message this often (besides NOTIFY).",
    )
    health_file: Path | None = Field(
        default=None, description="File a worker touches with each heartbeat (default HOME/worker.heartbeat).",
    )

    metrics_port: int = Field(default=0, ge=0, le=65535, description="0 disables the Prometheus endpoint.")
    metrics_addr: str = Field(default="0.0.0.0", description="Address the Prometheus endpoint listens on.")
    schedules_file: Path = Field(default=DEFAULT_SCHEDULES_FILE,
                                 description="The schedules (default: schedules.yaml of the project checkout).")

    @field_validator("*", mode="before")
    @classmethod
    def _choice_any_case(cls, value: object, info: ValidationInfo) -> object:
        """`warning` for WARNING, `JSON` for json: a choice matches whatever its case, when only one does."""
        if not isinstance(value, str) or info.field_name is None:
            return value
        choices = _literal_choices(cls.model_fields[info.field_name].annotation)
        matches = [c for c in choices if c.lower() == value.strip().lower()]
        return matches[0] if len(matches) == 1 else value

    # The operator console (`flashflow console`, docs/console.md).
    console_host: str = Field(default="127.0.0.1", description="Address the console listens on; anything but "
                              "loopback needs FLASHFLOW_CONSOLE_TOKEN.")
    console_port: int = Field(default=8484, ge=1, le=65535, description="Port the console listens on.")
    console_token: SecretStr | None = Field(
        default=None, description="Console sign-in: one SECRET, or NAME:SECRET pairs separated by commas (secrets "
        "of 16+ characters); the audit trail names console:NAME. Unset: loopback only, no sign-in.")
    console_root_path: str = Field(default="", description="Path prefix when a reverse proxy serves the console "
                                   "under a sub-path (e.g. /console).")

    @field_validator("fetch_proxy")
    @classmethod
    def _proxy(cls, url: str | None) -> str | None:
        from flashflow_core.adapters.fetch_access import ProxyRoute

        if url:
            ProxyRoute.parse(url)
        return url or None

    @field_validator("fetch_site_proxies", mode="before")
    @classmethod
    def _site_proxies(cls, value: object) -> object:
        from flashflow_core.adapters.fetch_access import parse_site_proxies

        return parse_site_proxies(value) if isinstance(value, str) else value

    @field_validator("fetch_allow_hosts", "fetch_allowed_extractors", "transcribe_languages",
                     "language_candidates", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if "/" in host:
                try:
                    ipaddress.ip_network(host, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{host!r} is not a network in CIDR form (e.g. 10.0.0.0/8)") from exc
        return [h.lower() for h in hosts]

    @field_validator("transcribe_languages", "language_candidates")
    @classmethod
    def _languages(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.fullmatch(r"[a-z]{2}", code.lower()):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (two letters, e.g. en, es, pt)")
        return [c.lower() for c in codes]

    @field_validator("database_url")
    @classmethod
    def _pg_url(cls, url: str | None) -> str | None:
        return None if url is None else checks.postgres_url(url)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        return None if url is None else checks.redis_url(url)

    @field_validator("openai_base_url")
    @classmethod
    def _openai_url(cls, url: str | None) -> str | None:
        return None if url is None else checks.http_url(url)

    @field_validator("fetch_allowed_extractors")
    @classmethod
    def _extractor_patterns(cls, values: list[str]) -> list[str]:
        return checks.patterns(values)

    @field_validator("metrics_addr", "console_host")
    @classmethod
    def _address(cls, host: str) -> str:
        return checks.listen_address(host)

    @field_validator("broker_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return checks.namespace(value)

    @field_validator("console_root_path")
    @classmethod
    def _root_path(cls, path: str) -> str:
        if path and (not path.startswith("/") or path.endswith("/")):
            raise ValueError("must be empty or a path like /console (a leading '/', no trailing '/')")
        return path

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Settings that are each fine alone but not together."""
        if self.db_pool_min > self.db_pool_max:
            raise ValueError(f"FLASHFLOW_DB_POOL_MIN ({self.db_pool_min}) is above FLASHFLOW_DB_POOL_MAX "
                             f"({self.db_pool_max})")
        if self.heartbeat_timeout_s < 2 * self.broker_maintenance_interval_s:
            raise ValueError(f"FLASHFLOW_HEARTBEAT_TIMEOUT_S ({self.heartbeat_timeout_s}) must be at least twice "
                             f"FLASHFLOW_BROKER_MAINTENANCE_INTERVAL_S ({self.broker_maintenance_interval_s:g}): "
                             "live workers would look dead and their messages run twice")
        return self

    def model_post_init(self, context: object) -> None:
        """Remember this object's secrets, so redaction hides them wherever they turn up."""
        remember_settings(self)

    @property
    def media_root(self) -> Path:
        """Root folder of stored media."""
        return self.storage_root or self.home / "storage"

    @property
    def worker_health_file(self) -> Path:
        """The file `flashflow healthcheck --worker` reads."""
        return self.health_file or self.home / "worker.heartbeat"


def _env_name(loc: tuple[object, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.isupper():
        return field
    known = Settings.model_fields.get(field)
    if known is not None and isinstance(known.validation_alias, AliasChoices):
        return str(known.validation_alias.choices[0])
    return ENV_PREFIX + field.upper()


def describe_error(exc: ValidationError) -> str:
    """Turn a pydantic error about settings into lines naming each environment variable."""
    lines = []
    for err in exc.errors():
        if not err["loc"]:  # a rule across settings: its message names them
            lines.append(redact(err["msg"].removeprefix("Value error, ")))
            continue
        name = _env_name(err["loc"])
        got = err.get("input")
        shown = f" (got {redact_setting(name, got)!r})" if isinstance(got, (str, int, float)) else ""
        lines.append(redact(f"{name}: {err['msg']}{shown}"))
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ConfigError naming the bad variable."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise ConfigError(
            "invalid configuration:\n  "
            + "\n  ".join(f"{k}: not a FlashFlow setting (see `flashflow config`)" for k in unknown)
        )
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc)) from exc
