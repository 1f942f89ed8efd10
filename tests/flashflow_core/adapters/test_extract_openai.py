"""OpenAIExtractor against the loopback fake OpenAI server: what it sends, how it reads answers and errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from PIL import Image

from flashflow_core.adapters.base import (
    ExtractionInput,
    HookFamily,
    HookPackage,
    PermanentError,
    ScreenText,
    Segment,
    Transcript,
    TransientError,
    VisualSummary,
)
from flashflow_core.adapters.extract_openai import OpenAIExtractor
from flashflow_core.config import ConfigError, Settings
from tests.openai_server import CHAT_PATH, FakeOpenAIServer, FakeResponse

MODEL = "test-extract-model"
ANSWER: dict[str, Any] = {
    "spoken_hook": "Stop scrolling if you have dry skin.",
    "on_screen_hook": "DRY SKIN FIX",
    "visual_hook": "A close-up of flaky skin, then the cream jar.",
    "cta": "Tap the orange cart to get yours today.",
    "hook_family": "pattern_interrupt",
    "structure_tags": ["problem_solution", "demo"],
    "quality_score": 82,
}


def _source(**overrides: Any) -> ExtractionInput:
    values: dict[str, Any] = {
        "transcript": Transcript(
            text="Stop scrolling if you have dry skin. This cream fixed my face in three days.",
            language="en",
            segments=[
                Segment(0.0, 2.2, "Stop scrolling if you have dry skin."),
                Segment(2.2, 5.0, "This cream fixed my face in three days."),
            ],
        ),
        "screen_text": [ScreenText(6.0, "SHOP NOW", 0.9), ScreenText(0.5, "DRY SKIN FIX", 0.95)],
        "visual": VisualSummary(2, 0.31, True, 0.55, "Close-up of flaky skin, cut to the cream jar."),
        "url": "https://www.tiktok.com/@shop/video/123",
        "category": "beauty",
    }
    values.update(overrides)
    return ExtractionInput(**values)


def _settings(server: FakeOpenAIServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "openai_api_key": "sk-test",
        "openai_base_url": server.base_url,
        "openai_extract_model": MODEL,
        "openai_max_retries": 2,
        "openai_timeout_s": 10.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def extractor(openai_server: FakeOpenAIServer) -> Iterator[OpenAIExtractor]:
    ext = OpenAIExtractor(_settings(openai_server))
    yield ext
    ext.close()


def _user_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    user = [m for m in body["messages"] if m["role"] == "user"]
    assert len(user) == 1
    return user[0]["content"]


def _jpeg(path: Path, color: tuple[int, int, int]) -> Path:
    Image.new("RGB", (32, 24), color).save(path, "JPEG")
    return path


def test_parses_structured_answer_and_sends_schema(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.answer(ANSWER)

    package = extractor.extract(_source())

    assert package == HookPackage.model_validate(ANSWER)
    assert package.hook_family is HookFamily.PATTERN_INTERRUPT
    [request] = openai_server.requests
    assert request.method == "POST" and request.path == CHAT_PATH
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == MODEL
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "HookPackage"
    schema = fmt["json_schema"]["schema"]
    assert sorted(schema["required"]) == sorted(HookPackage.model_fields)
    assert schema["additionalProperties"] is False
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    for family in HookFamily:
        assert family.value in system
    [text] = [p["text"] for p in _user_parts(body) if p["type"] == "text"]
    assert "[0.0-2.2s] Stop scrolling if you have dry skin." in text
    assert "[2.2-5.0s] This cream fixed my face in three days." in text
    # on-screen text in time order, with times
    assert text.index("[0.5s] DRY SKIN FIX") < text.index("[6.0s] SHOP NOW")
    assert "Close-up of flaky skin, cut to the cream jar." in text
    assert "cuts in first 2 s: 2" in text
    assert "beauty" in text and "https://www.tiktok.com/@shop/video/123" in text


def test_retries_429_then_succeeds(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.rate_limited()
    openai_server.answer(ANSWER)

    package = extractor.extract(_source())

    assert package.spoken_hook == ANSWER["spoken_hook"]
    assert len(openai_server.chat_requests) == 2
    assert openai_server.chat_requests[1].headers["x-stainless-retry-count"] == "1"
    assert openai_server.chat_requests[0].body == openai_server.chat_requests[1].body


@pytest.mark.parametrize("status", [500, 503])
def test_retries_server_error_then_succeeds(
    openai_server: FakeOpenAIServer, extractor: OpenAIExtractor, status: int
) -> None:
    openai_server.server_error(status)
    openai_server.answer(ANSWER)

    assert extractor.extract(_source()).cta == ANSWER["cta"]
    assert len(openai_server.chat_requests) == 2


def test_rate_limited_forever_is_transient_after_all_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.always(FakeOpenAIServer.rate_limit_response())
    ext = OpenAIExtractor(_settings(openai_server, openai_max_retries=3))
    try:
        with pytest.raises(TransientError, match="rate limit") as caught:
            ext.extract(_source())
    finally:
        ext.close()
    assert not isinstance(caught.value, PermanentError)
    assert len(openai_server.chat_requests) == 3 + 1


def test_server_error_forever_is_transient(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.server_error(500, times=3)

    with pytest.raises(TransientError, match="HTTP 500"):
        extractor.extract(_source())
    assert len(openai_server.chat_requests) == 3


def test_refusal_is_permanent(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.refuse("I can't help with that request.")

    with pytest.raises(PermanentError, match="the model refused: I can't help with that request."):
        extractor.extract(_source())
    assert len(openai_server.chat_requests) == 1


def test_cut_off_answer_is_permanent(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.cut_off()

    with pytest.raises(PermanentError, match="the model's answer was cut off"):
        extractor.extract(_source())
    assert len(openai_server.chat_requests) == 1


def test_content_filter_is_permanent(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.content_filtered()

    with pytest.raises(PermanentError, match="content filter"):
        extractor.extract(_source())


def test_invalid_json_raises_validation_error(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.answer('{"spoken_hook": "Stop scrolling", oops}')

    with pytest.raises(pydantic.ValidationError, match="Invalid JSON"):
        extractor.extract(_source())


@pytest.mark.parametrize(
    ("field", "value"),
    [("hook_family", "dance_trend"), ("quality_score", 140), ("structure_tags", "demo")],
)
def test_answer_not_matching_schema_raises_validation_error(
    openai_server: FakeOpenAIServer, extractor: OpenAIExtractor, field: str, value: object
) -> None:
    openai_server.answer({**ANSWER, field: value})

    with pytest.raises(pydantic.ValidationError) as caught:
        extractor.extract(_source())
    assert [err["loc"][0] for err in caught.value.errors()] == [field]


def test_no_speech_forces_empty_spoken_hook(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.answer(ANSWER)  # the model invents a spoken hook anyway

    package = extractor.extract(_source(transcript=Transcript(text="  ", language=None)))

    assert package.spoken_hook == ""
    assert package.on_screen_hook == ANSWER["on_screen_hook"]
    [text] = [p["text"] for p in _user_parts(openai_server.chat_requests[0].body) if p["type"] == "text"]
    assert "(no speech)" in text


def test_key_frames_sent_as_image_parts(
    openai_server: FakeOpenAIServer, extractor: OpenAIExtractor, tmp_path: Path
) -> None:
    frames = [_jpeg(tmp_path / "f0.jpg", (255, 0, 0)), _jpeg(tmp_path / "f1.jpg", (0, 0, 255))]
    openai_server.answer(ANSWER)

    extractor.extract(_source(key_frames=frames))

    images = [p for p in _user_parts(openai_server.chat_requests[0].body) if p["type"] == "image_url"]
    assert len(images) == 2
    for part, frame in zip(images, frames, strict=True):
        prefix = "data:image/jpeg;base64,"
        assert part["image_url"]["url"].startswith(prefix)
        assert base64.b64decode(part["image_url"]["url"][len(prefix):]) == frame.read_bytes()
        assert part["image_url"]["detail"] == "low"


def test_key_frames_limited_and_spread(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    frames = [_jpeg(tmp_path / f"f{i}.jpg", (i * 40, 10, 10)) for i in range(5)]
    openai_server.answer(ANSWER)
    ext = OpenAIExtractor(_settings(openai_server), max_key_frames=3)
    try:
        ext.extract(_source(key_frames=frames))
    finally:
        ext.close()

    images = [p for p in _user_parts(openai_server.chat_requests[0].body) if p["type"] == "image_url"]
    sent = [base64.b64decode(p["image_url"]["url"].split(",", 1)[1]) for p in images]
    assert sent == [frames[0].read_bytes(), frames[2].read_bytes(), frames[4].read_bytes()]


def test_no_key_frames_means_text_only(openai_server: FakeOpenAIServer, extractor: OpenAIExtractor) -> None:
    openai_server.answer(ANSWER)

    extractor.extract(_source())

    assert {p["type"] for p in _user_parts(openai_server.chat_requests[0].body)} == {"text"}


def test_key_frame_not_jpeg_is_permanent_and_sends_nothing(
    openai_server: FakeOpenAIServer, extractor: OpenAIExtractor, tmp_path: Path
) -> None:
    bad = tmp_path / "frame.jpg"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot a jpeg")

    with pytest.raises(PermanentError, match=r"frame\.jpg is not a JPEG"):
        extractor.extract(_source(key_frames=[bad]))
    with pytest.raises(PermanentError, match=r"missing\.jpg cannot be read"):
        extractor.extract(_source(key_frames=[tmp_path / "missing.jpg"]))
    assert openai_server.requests == []


def test_bad_credentials_are_permanent_without_retry(
    openai_server: FakeOpenAIServer, extractor: OpenAIExtractor
) -> None:
    openai_server.enqueue(
        FakeResponse(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
    )

    with pytest.raises(PermanentError, match="Incorrect API key provided"):
        extractor.extract(_source())
    assert len(openai_server.chat_requests) == 1


def test_unreachable_server_is_transient(openai_server: FakeOpenAIServer) -> None:
    settings = _settings(openai_server, openai_max_retries=0)
    openai_server.stop()
    ext = OpenAIExtractor(settings)
    try:
        with pytest.raises(TransientError, match="could not reach the OpenAI API"):
            ext.extract(_source())
    finally:
        ext.close()


def test_slow_server_is_transient(openai_server: FakeOpenAIServer) -> None:
    openai_server.slow(1.0, ANSWER)
    ext = OpenAIExtractor(_settings(openai_server, openai_max_retries=0, openai_timeout_s=0.2))
    try:
        with pytest.raises(TransientError, match="did not answer within 0.2 s"):
            ext.extract(_source())
    finally:
        ext.close()


def test_missing_api_key_is_refused(openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("FLASHFLOW_OPENAI_API_KEY", raising=False)

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIExtractor(_settings(openai_server, openai_api_key=None))


def test_the_model_is_told_the_language_and_answers_in_it(openai_server: FakeOpenAIServer,
                                                           extractor: OpenAIExtractor) -> None:
    german = {**ANSWER, "spoken_hook": "Hör auf zu scrollen, wenn du trockene Haut hast.",
              "on_screen_hook": "Trockene Haut", "visual_hook": "Nahaufnahme trockener Haut, dann die Creme.",
              "cta": "Tippe auf den orangen Warenkorb."}
    openai_server.answer(german)
    transcript = Transcript(text="Hör auf zu scrollen, wenn du trockene Haut hast. Tippe auf den orangen Warenkorb.",
                            language="de", segments=[Segment(0.0, 3.0, "Hör auf zu scrollen, wenn du trockene Haut hast."),
                                                     Segment(3.0, 5.0, "Tippe auf den orangen Warenkorb.")],
                            language_probability=0.96, confidence=0.71)

    package = extractor.extract(_source(transcript=transcript, screen_text=[ScreenText(0.4, "Trockene Haut", 0.99)]))

    assert package == HookPackage.model_validate(german)
    body = openai_server.chat_requests[0].body
    text = _user_parts(body)[0]["text"]
    assert "Spoken language: German (de, detected with probability 0.96): answer in German" in text
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    assert "answer in the video's language" in system and "never translated" in system


def test_unclear_speech_reaches_the_model_as_unusable(openai_server: FakeOpenAIServer,
                                                       extractor: OpenAIExtractor) -> None:
    openai_server.answer({**ANSWER, "spoken_hook": "", "cta": ""})
    unclear = Transcript(text="", language=None)

    extractor.extract(_source(transcript=unclear, speech_unclear=True))

    text = _user_parts(openai_server.chat_requests[0].body)[0]["text"]
    assert "there is speech, but it could not be understood" in text
    assert "Spoken language: unknown" in text
