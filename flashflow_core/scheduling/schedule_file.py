"""`schedules.yaml`: the model of each schedule entry, and loading the file with errors that
name the entry and the field at fault.

The file holds `defaults` (timezone, grace) and a list `schedules`; each entry has a unique
`name`, the Dramatiq `actor` to send, exactly one of `cron` (a crontab line) or `every`
(an interval such as `90s`, `5m`, `1h30m`), and optional `timezone`, `kwargs`, `enabled`
and `grace` (how late a tick may still be sent, e.g. after every scheduler was down).
"""

from __future__ import annotations

import re
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.base import BaseTrigger
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from flashflow_core.scheduling.cron import CronError, crontab_trigger, interval_trigger, parse_crontab

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ScheduleError(ValueError):
    """schedules.yaml cannot be used; the message names the entry and what is wrong."""


def parse_duration(value: object) -> int:
    """Seconds from an int or a string like `90s`, `5m`, `2h`, `1d`, `1h30m`."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            d, h, m, s = (int(g or 0) for g in match.groups())
            return ((d * 24 + h) * 60 + m) * 60 + s
    raise ValueError(f"{value!r} is not a duration (a number of seconds, or like 90s, 5m, 2h, 1d, 1h30m)")


def format_duration(seconds: int) -> str:
    """The shortest `1h30m`-style spelling of a number of seconds."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


Duration = Annotated[int, BeforeValidator(parse_duration), Field(ge=1)]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like UTC or Europe/London)") from exc


class Defaults(BaseModel):
    """Values an entry takes when it does not set them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = "UTC"
    grace: Duration = 600

    @field_validator("timezone")
    @classmethod
    def _tz(cls, name: str) -> str:
        _zone(name)
        return name


class ScheduleEntry(BaseModel):
    """One schedule: when to send which actor's message, with what keyword arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)
    actor: str = Field(min_length=1)
    cron: str | None = None
    every: Duration | None = None
    timezone: str = "UTC"
    kwargs: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    grace: Duration = 600

    @field_validator("timezone")
    @classmethod
    def _tz(cls, name: str) -> str:
        _zone(name)
        return name

    @field_validator("cron")
    @classmethod
    def _cron(cls, expr: str | None) -> str | None:
        if expr is not None:
            try:
                parse_crontab(expr)
            except CronError as exc:
                raise ValueError(str(exc)) from exc
        return expr

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleEntry:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of `cron` (a crontab line) or `every` (an interval like 5m)")
        return self

    @property
    def tz(self) -> tzinfo:
        return _zone(self.timezone)

    @cached_property
    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger for this entry (the same fire times in every process)."""
        if self.cron is not None:
            return crontab_trigger(self.cron, self.tz)
        assert self.every is not None
        return interval_trigger(self.every, self.tz)

    @property
    def when(self) -> str:
        """`cron 0 9 * * 1-5` or `every 5m`, for people."""
        return f"cron {self.cron}" if self.cron is not None else f"every {format_duration(self.every or 0)}"


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        (".".join(str(p) for p in err["loc"]) + ": " if err["loc"] else "") + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    )


def parse_schedules(document: object, source: str = "schedules.yaml") -> list[ScheduleEntry]:
    """Validate a loaded YAML document; raise ScheduleError naming the entry at fault."""
    if not isinstance(document, dict) or not isinstance(document.get("schedules"), list):
        raise ScheduleError(f"{source}: expected a mapping with a `schedules:` list")
    unknown = sorted(set(document) - {"defaults", "schedules"})
    if unknown:
        raise ScheduleError(f"{source}: unknown top-level key(s) {', '.join(unknown)} (allowed: defaults, schedules)")
    try:
        defaults = Defaults.model_validate(document.get("defaults") or {})
    except ValidationError as exc:
        raise ScheduleError(f"{source}: defaults: {_describe(exc)}") from exc
    entries: list[ScheduleEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(document["schedules"], start=1):
        label = f"entry {index}" + (f" ({raw['name']!r})" if isinstance(raw, dict) and "name" in raw else "")
        if not isinstance(raw, dict):
            raise ScheduleError(f"{source}: {label}: expected a mapping with name, actor, cron or every")
        try:
            entry = ScheduleEntry.model_validate(
                {"timezone": defaults.timezone, "grace": defaults.grace, **raw})
        except ValidationError as exc:
            raise ScheduleError(f"{source}: {label}: {_describe(exc)}") from exc
        if entry.name in seen:
            raise ScheduleError(f"{source}: {label}: the name {entry.name!r} is used twice")
        seen.add(entry.name)
        entries.append(entry)
    return entries


def load_schedules(path: Path) -> list[ScheduleEntry]:
    """Read and validate a schedules file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot read the schedules file: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{path}: not valid YAML: {exc}") from exc
    return parse_schedules(document, str(path))
