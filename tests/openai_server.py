"""A loopback stand-in for OpenAI's HTTP API, for tests of code that uses the `openai` SDK.

It speaks the wire format of `POST /v1/chat/completions`, answers from a queue each test
fills, and records every request so tests can assert what the SDK actually sent.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # decoded JSON, or the raw text when it was not JSON


@dataclass(frozen=True)
class FakeResponse:
    """What the server sends back for one request."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering, to provoke client timeouts


def chat_completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "",
) -> dict[str, Any]:
    """A `chat.completion` object with one choice; `model` empty echoes the request's model."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    }


def error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out and hung up is expected in tests; anything else is reported.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """A real HTTP server on 127.0.0.1 with a programmable queue of responses.

    Queue answers with the `answer`, `refuse`, `cut_off`, `content_filtered`, `rate_limited`
    and `server_error` methods; each request takes the next one. `always(...)` sets the
    response used once the queue is empty (by default a 400 saying nothing was queued).
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._fallback = FakeResponse(
            400,
            error_body("fake OpenAI server: no response queued for this request", "invalid_request_error"),
            {"x-should-retry": "false"},
        )
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        """The URL to give the SDK as `base_url`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded requests to the chat completions endpoint."""
        return [r for r in self.requests if r.path == CHAT_PATH]

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---- programming the answers ------------------------------------------------------------

    def enqueue(self, response: FakeResponse, times: int = 1) -> None:
        """Queue `response` for the next `times` requests."""
        with self._lock:
            self._queue.extend([response] * times)

    def always(self, response: FakeResponse) -> None:
        """Answer every request with `response` once the queue is empty."""
        with self._lock:
            self._fallback = response

    def answer(self, payload: dict[str, Any] | str, *, times: int = 1) -> None:
        """Queue a structured answer: `payload` serialised as the message content (a str is sent as is)."""
        content = payload if isinstance(payload, str) else json.dumps(payload)
        self.enqueue(FakeResponse(200, chat_completion(content)), times)

    def slow(self, delay_s: float, payload: dict[str, Any] | str = "{}") -> None:
        """Queue an answer sent only after `delay_s` seconds."""
        content = payload if isinstance(payload, str) else json.dumps(payload)
        self.enqueue(FakeResponse(200, chat_completion(content), delay_s=delay_s))

    def refuse(self, refusal: str = "I'm sorry, I can't help with that.") -> None:
        """Queue a refusal: content null, `refusal` set."""
        self.enqueue(FakeResponse(200, chat_completion(None, refusal=refusal)))

    def cut_off(self, partial: str = '{"spoken_hook": "Stop scro') -> None:
        """Queue an answer cut off by the token limit (finish_reason "length")."""
        self.enqueue(FakeResponse(200, chat_completion(partial, finish_reason="length")))

    def content_filtered(self) -> None:
        """Queue an answer stopped by the content filter."""
        self.enqueue(FakeResponse(200, chat_completion(None, finish_reason="content_filter")))

    def rate_limited(self, *, retry_after_s: int = 0, retry_after_ms: int = 1, times: int = 1) -> None:
        """Queue HTTP 429 with Retry-After headers (milliseconds keep the SDK's wait short)."""
        self.enqueue(self.rate_limit_response(retry_after_s=retry_after_s, retry_after_ms=retry_after_ms), times)

    def server_error(self, status: int = 500, *, retry_after_ms: int = 1, times: int = 1) -> None:
        """Queue a 5xx error."""
        self.enqueue(
            FakeResponse(
                status,
                error_body("The server had an error while processing your request.", "server_error"),
                {"retry-after-ms": str(retry_after_ms)},
            ),
            times,
        )

    @staticmethod
    def rate_limit_response(*, retry_after_s: int = 0, retry_after_ms: int = 1) -> FakeResponse:
        """A 429 response, for `enqueue` or `always`."""
        return FakeResponse(
            429,
            error_body("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
            {"retry-after": str(retry_after_s), "retry-after-ms": str(retry_after_ms)},
        )

    # ---- serving ----------------------------------------------------------------------------

    def _next_response(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            if request.method != "POST" or request.path != CHAT_PATH:
                return FakeResponse(404, error_body(f"no route {request.method} {request.path}", "not_found"))
            return self._queue.popleft() if self._queue else self._fallback

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._serve()

            def do_GET(self) -> None:  # noqa: N802
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                try:
                    body: Any = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw
                recorded = RecordedRequest(
                    method=self.command,
                    path=self.path.split("?", 1)[0],
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = server._next_response(recorded)
                if response.delay_s:
                    time.sleep(response.delay_s)
                data = dict(response.body)
                if data.get("object") == "chat.completion" and not data.get("model") and isinstance(body, dict):
                    data["model"] = body.get("model", "")
                payload = json.dumps(data).encode("utf-8")
                self.send_response(response.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
                pass

        return Handler


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake OpenAI API on a loopback port, stopped after the test."""
    server = FakeOpenAIServer().start()
    yield server
    server.stop()
