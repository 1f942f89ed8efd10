"""Crontab expressions as crontab means them, turned into APScheduler 3 triggers.

APScheduler 3's `CronTrigger` numbers days of the week from 0 = Monday, and its
`from_crontab` passes the field through unchanged, so `0` there means Monday, not Sunday.
This module parses each crontab field itself (numbers, names, ranges, lists, steps; day of
week 0 and 7 = Sunday) and hands APScheduler explicit values, with days of the week as
names. Like Vixie cron, when both day of month and day of week are restricted (neither
starts with `*`) a day matching either fires; otherwise both must match.

Interval schedules fire at whole multiples of the interval since a fixed anchor, so every
scheduler process computes the same fire times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=timezone.utc)

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


class CronError(ValueError):
    """A crontab expression is malformed; the message names the field and the problem."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)}),
    # 7 is Sunday as well as 0; folded to 0 after parsing.
    _Field("day of week", 0, 7, {n: i for i, n in enumerate(_DAYS)}),
)


def _value(token: str, field: _Field) -> int:
    if token.isdigit():
        number = int(token)
    elif token.lower() in field.names:
        number = field.names[token.lower()]
    else:
        allowed = f"{field.low}-{field.high}" + (" or a name like " + next(iter(field.names)) if field.names else "")
        raise CronError(f"{field.name}: {token!r} is not a value ({allowed})")
    if not field.low <= number <= field.high:
        raise CronError(f"{field.name}: {number} is out of range {field.low}-{field.high}")
    return number


def _element(element: str, field: _Field) -> set[int]:
    base, slash, step_text = element.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"{field.name}: step {step_text!r} in {element!r} must be a positive number")
        step = int(step_text)
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field), _value(last, field)
        if low > high:
            raise CronError(f"{field.name}: range {base!r} runs backwards")
    else:
        if slash:
            raise CronError(f"{field.name}: a step needs a range or '*' before it, got {element!r}")
        return {_value(base, field)}
    return set(range(low, high + 1, step))


def parse_field(text: str, index: int) -> set[int]:
    """The set of values one crontab field allows (field index 0 = minute ... 4 = day of week)."""
    field = _FIELDS[index]
    if not text:
        raise CronError(f"{field.name}: empty field")
    values: set[int] = set()
    for element in text.split(","):
        if not element:
            raise CronError(f"{field.name}: empty list element in {text!r}")
        values |= _element(element, field)
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return values


@dataclass(frozen=True)
class CronSpec:
    """A parsed crontab line: the allowed values of each field, and which day fields were `*`."""

    minute: frozenset[int]
    hour: frozenset[int]
    day: frozenset[int]
    month: frozenset[int]
    day_of_week: frozenset[int]
    day_star: bool
    dow_star: bool


def parse_crontab(expr: str) -> CronSpec:
    """Parse a five-field crontab line or an @macro; raise CronError naming the bad field."""
    text = MACROS.get(expr.strip().lower(), expr.strip())
    if text.startswith("@"):
        raise CronError(f"unknown macro {expr!r} (use one of {', '.join(MACROS)})")
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"{expr!r} has {len(parts)} fields; crontab needs 5: "
                        "minute hour day-of-month month day-of-week")
    sets = [frozenset(parse_field(part, i)) for i, part in enumerate(parts)]
    return CronSpec(*sets, day_star=parts[2].startswith("*"), dow_star=parts[4].startswith("*"))


def _join(values: frozenset[int], field: _Field) -> str:
    full = set(range(field.low, field.high + 1))
    if field is _FIELDS[4]:
        full = set(range(0, 7))
    if set(values) == full:
        return "*"
    if field is _FIELDS[4]:
        return ",".join(_DAYS[v] for v in sorted(values))
    return ",".join(str(v) for v in sorted(values))


class CrontabTrigger(BaseTrigger):
    """A crontab line's APScheduler trigger(s), firing once on the day daylight saving time
    ends: when the hour field is fixed, the second pass through a repeated wall-clock hour is
    skipped, as cron does. (A time the clocks skip fires once, just after the jump.)"""

    def __init__(self, expr: str, inner: BaseTrigger, tz: tzinfo, fixed_hours: bool) -> None:
        self.expr = expr
        self.inner = inner
        self.tz = tz
        self.fixed_hours = fixed_hours

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        candidate = self.inner.get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is None or not self.fixed_hours:
            return candidate
        last_wall = previous_fire_time.astimezone(self.tz).replace(tzinfo=None)
        while candidate is not None and candidate.astimezone(self.tz).replace(tzinfo=None) <= last_wall:
            candidate = self.inner.get_next_fire_time(candidate, candidate)
        return candidate

    def __str__(self) -> str:
        return f"crontab[{self.expr}]"


def crontab_trigger(expr: str, tz: tzinfo) -> CrontabTrigger:
    """An APScheduler trigger firing exactly when crontab would for `expr` in time zone `tz`."""
    spec = parse_crontab(expr)
    common = {
        "minute": _join(spec.minute, _FIELDS[0]),
        "hour": _join(spec.hour, _FIELDS[1]),
        "month": _join(spec.month, _FIELDS[3]),
        "second": "0",
        "timezone": tz,
    }
    day = _join(spec.day, _FIELDS[2])
    dow = _join(spec.day_of_week, _FIELDS[4])
    inner: BaseTrigger
    if spec.day_star or spec.dow_star:
        inner = CronTrigger(day=day, day_of_week=dow, **common)
    else:
        inner = OrTrigger([CronTrigger(day=day, day_of_week="*", **common),
                           CronTrigger(day="*", day_of_week=dow, **common)])
    return CrontabTrigger(expr, inner, tz, fixed_hours=common["hour"] != "*")


def interval_trigger(seconds: int, tz: tzinfo) -> IntervalTrigger:
    """Every `seconds`, at whole multiples of the interval since INTERVAL_ANCHOR."""
    if seconds < 1:
        raise CronError(f"an interval must be at least 1 second, got {seconds}")
    return IntervalTrigger(seconds=seconds, start_date=INTERVAL_ANCHOR, timezone=tz)
