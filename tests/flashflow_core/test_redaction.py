"""The redaction helper: every shape of password and remembered secret is hidden, nothing else."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from flashflow_core import redaction
from flashflow_core.config import Settings
from flashflow_core.logs import JsonFormatter, TextFormatter
from flashflow_core.redaction import MASK, is_secret_setting, redact, redact_setting, redact_url
from tests.conftest import ROOT


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql://postgres:s3cr3t-pw@db:5432/app?sslmode=require",
     "postgresql://postgres:****@db:5432/app?sslmode=require"),
    ("redis://:p@ss:w0rd@cache:6379/0", "redis://:****@cache:6379/0"),
    ("rediss://default:tok3n@cache.example.com:6380", "rediss://default:****@cache.example.com:6380"),
    ("postgresql:///app?host=db&password=abc%20123&user=u", "postgresql:///app?host=db&password=****&user=u"),
    ("host=db password='a b c' dbname=app", "host=db password=**** dbname=app"),
    ("connect failed (got 'mysql://app:hunter22@db/x')", "connect failed (got 'mysql://app:****@db/x')"),
    ("call https://api.example.com/v1?api_key=AKIA1234", "call https://api.example.com/v1?api_key=****"),
])
def test_passwords_in_urls_and_conninfo_are_masked(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize("text", [
    "http://user@host/path", "postgresql://postgres@127.0.0.1:5432/db", "http://host:8080/a@b",
    "fencing token=3 attempt=2", "mailto a@b.c: 10:30 ok",
])
def test_text_without_secrets_is_unchanged(text):
    assert redact(text) == text


def test_remembered_values_are_masked_anywhere_also_percent_decoded():
    redaction.remember("sk-remembered-0001", "pw%2Fwith%2Fslashes")
    assert redact("Bearer sk-remembered-0001 was refused") == f"Bearer {MASK} was refused"
    assert redact("password pw/with/slashes echoed") == f"password {MASK} echoed"
    redaction.remember("abc")  # too short to replace as free text: it would mangle words
    assert redact("abcdef") == "abcdef"


def test_settings_remember_their_secrets_when_built():
    Settings(openai_api_key="sk-settings-0002", database_url="postgresql://u:settingspw77@h/db")
    assert redact("key sk-settings-0002, pw settingspw77") == f"key {MASK}, pw {MASK}"


def test_secret_settings_are_recognised_by_name_or_marker():
    assert is_secret_setting("openai_api_key") and is_secret_setting("FLASHFLOW_CONSOLE_TOKEN")
    assert is_secret_setting("webhook", {"secret": True})
    assert not is_secret_setting("fetch_socket_timeout_s") and not is_secret_setting("broker_namespace")
    assert redact_setting("openai_api_key", "sk-x") == MASK
    assert redact_setting("database_url", "postgresql://u:pw@h/db") == "postgresql://u:****@h/db"
    assert redact_setting("openai_api_key", None) == "None"
    assert redact_url(None) is None


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("flashflow.test", logging.WARNING, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_log_lines_are_redacted_before_json_escaping():
    secret = 'q"uo\\te-pw'  # JSON escapes it, so only redaction before encoding finds it
    redaction.remember(secret)
    record = _record("connecting to redis://:hunter2hunter@cache:6379/0",
                     error=f"auth with {secret} failed", urls=["postgresql://u:listpw123@h/db"])
    line = JsonFormatter().format(record)
    event = json.loads(line)
    assert event["event"] == "connecting to redis://:****@cache:6379/0"
    assert event["error"] == f"auth with {MASK} failed"
    assert event["urls"] == ["postgresql://u:****@h/db"]
    text = TextFormatter().format(_record("dsn host=db password=textpw99 x"))
    assert "textpw99" not in text and "password=****" in text


def test_uncaught_exceptions_are_printed_redacted():
    code = ("from flashflow_core.redaction import install_excepthooks; import threading; install_excepthooks(); "
            "t = threading.Thread(target=lambda: 1 / 0 if False else (_ for _ in ()).throw("
            "ValueError('thread redis://:threadpw1@h:1/0'))); t.start(); t.join(); "
            "raise RuntimeError('main postgresql://u:mainpw22@h/db')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "threadpw1" not in done.stderr and "mainpw22" not in done.stderr
    assert "redis://:****@h:1/0" in done.stderr and "postgresql://u:****@h/db" in done.stderr


def test_secretstr_settings_are_remembered_too():
    from pydantic import BaseModel, SecretStr

    class Holder(BaseModel):
        console_token: SecretStr

    redaction.remember_settings(Holder(console_token=SecretStr("tok-secretstr-0003")))
    assert redact("Authorization: Bearer tok-secretstr-0003") == f"Authorization: Bearer {MASK}"


def test_passwords_inside_mapping_settings_are_remembered():
    from pydantic import BaseModel

    class Holder(BaseModel):
        fetch_site_proxies: dict[str, str]

    redaction.remember_settings(Holder(fetch_site_proxies={"tiktok.com": "http://u:proxypw-0004@10.0.0.5:3128"}))
    assert redact("proxy refused proxypw-0004") == f"proxy refused {MASK}"
    assert redact_setting("fetch_site_proxies", {"tiktok.com": "http://u:pw@h:1"}) == "tiktok.com=http://u:****@h:1"
