"""Every setting is checked when it is read: a bad value stops every process at start, naming the
variable (its value shown without a password), instead of failing every job later."""

from __future__ import annotations

import typing

import pytest

from flashflow_core.config import ConfigError, Settings, load_settings


def _refused(monkeypatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    return str(refused.value)


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("FLASHFLOW_FETCH_ALLOWED_EXTRACTORS", "TikTok,(", "'(' is not a valid regular expression"),
    ("DATABASE_URL", "mysql://u:pw@h/db", "must start with postgresql://"),
    ("DATABASE_URL", "postgresql://u:pw@h:notaport/db", "port must be a number from 1 to 65535"),
    ("DATABASE_URL", "postgresql://u@h:70000/db", "port must be a number from 1 to 65535"),
    ("DATABASE_URL", "postgresql://u@h/db?sslmode=sometimes", "sslmode must be one of"),
    ("DATABASE_URL", "postgresql://u@h/db?colour=blue", "is not a valid Postgres URL"),
    ("REDIS_URL", "redis://h:notaport/0", "is not a valid Redis URL"),
    ("REDIS_URL", "redis://h:6379/queue", "the database after the host must be a number"),
    ("REDIS_URL", "http://h:6379/0", "must start with redis://"),
    ("OPENAI_BASE_URL", "api.openai.com/v1", "must be an http:// or https:// URL with a host"),
    ("OPENAI_BASE_URL", "https://h:port/v1", "has an invalid port"),
    ("FLASHFLOW_METRICS_ADDR", "every interface", "must be an IP address"),
    ("FLASHFLOW_CONSOLE_HOST", "-bad-.example", "must be an IP address"),
    ("FLASHFLOW_BROKER_NAMESPACE", "dramatiq:*", "becomes part of every Redis key"),
    ("FLASHFLOW_CONSOLE_ROOT_PATH", "console/", "a leading '/', no trailing '/'"),
    ("FLASHFLOW_FETCH_TIMEOUT_S", "0", "greater than 0"),
    ("FLASHFLOW_FETCH_MAX_FILESIZE_MB", "inf", "finite number"),
])
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, name, value, reason):
    message = _refused(monkeypatch, **{name: value})
    assert f"{name}: " in message and reason in message
    assert "pw@" not in message and "\n" in message  # the value is shown redacted, one line per problem


@pytest.mark.parametrize(("env", "reason"), [
    ({"FLASHFLOW_DB_POOL_MIN": "10", "FLASHFLOW_DB_POOL_MAX": "4"}, "FLASHFLOW_DB_POOL_MIN (10) is above"),
    ({"FLASHFLOW_HEARTBEAT_TIMEOUT_S": "8"}, "FLASHFLOW_HEARTBEAT_TIMEOUT_S (8) must be at least twice"),
])
def test_settings_that_contradict_each_other_are_refused(monkeypatch, env, reason):
    assert reason in _refused(monkeypatch, **env)


def _numbers() -> list[str]:
    found = []
    for name, field in Settings.model_fields.items():
        kinds = {a for a in (typing.get_args(field.annotation) or (field.annotation,))}
        if kinds & {int, float}:
            found.append(name)
    return found


@pytest.mark.parametrize("name", _numbers())
def test_every_number_has_a_lower_bound(monkeypatch, name):
    """No limit, interval, size or count may be negative (a new setting without bounds fails here)."""
    variable = f"FLASHFLOW_{name.upper()}"
    assert f"{variable}: Input should be greater than" in _refused(monkeypatch, **{variable: "-1"})


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", "postgresql:///flashflow?host=/var/run/postgresql"),
    ("DATABASE_URL", "postgres://app:p%40ss@db.example.com:6543,db2.example.com:5432/app?sslmode=verify-full"),
    ("REDIS_URL", "rediss://default:pw@cache.example.com:6380/3"),
    ("REDIS_URL", "unix:///run/redis/redis.sock?db=2"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1"),
    ("FLASHFLOW_METRICS_ADDR", "::"),
    ("FLASHFLOW_CONSOLE_HOST", "localhost"),
    ("FLASHFLOW_FETCH_ALLOWED_EXTRACTORS", r"TikTok,Youtube(Shorts)?\w*"),
])
def test_good_values_are_accepted(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    load_settings()
