"""The transcription backends: faster-whisper on the bundled base (the default) and tiny.en weights,
openai-whisper on tiny.en converted, and OpenAI's hosted endpoint against a loopback server
speaking its wire format."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from difflib import SequenceMatcher
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flashflow_core.adapters import media, transcribe_faster_whisper as fw
from flashflow_core.adapters.base import PermanentError, Transcript, TransientError
from flashflow_core.adapters.languages import choose_language
from flashflow_core.adapters.transcribe_openai import OpenAITranscriber, response_format_for
from flashflow_core.config import ConfigError, Settings
from flashflow_core.adapters.whisper_models import resolve_model
from tests.conftest import FIXTURES, SHARED_TOOLS
from tests.flashflow_core.adapters.offline import no_network

CONVERTER = SHARED_TOOLS / "ct2_whisper_to_pt.py"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """16 kHz WAVs of the fixtures, made by the real extraction."""
    folder = tmp_path_factory.mktemp("audio")
    out = {}
    for name in ("hook_speech_text", "speech_only", "no_speech_no_text"):
        out[name] = folder / f"{name}.wav"
        media.write_audio_wav(FIXTURES / f"{name}.mp4", out[name])
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _assert_hook_transcript(transcript: Transcript) -> None:
    text = " ".join(_words(transcript.text))
    assert "stop scrolling" in text
    assert "dry skin" in text
    assert "three days" in text or "3 days" in text
    assert transcript.language == "en"
    assert transcript.segments
    previous_end = 0.0
    for segment in transcript.segments:
        assert previous_end <= segment.start < segment.end <= 9.1
        previous_end = segment.end
    assert " ".join(s.text for s in transcript.segments) == transcript.text


# ---- faster-whisper ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faster() -> fw.FasterWhisperTranscriber:
    """The default model: the bundled multilingual base."""
    return fw.FasterWhisperTranscriber(Settings(worker_threads=1))


@pytest.fixture(scope="module")
def faster_tiny() -> fw.FasterWhisperTranscriber:
    return fw.FasterWhisperTranscriber(Settings(worker_threads=1, whisper_model="tiny.en"))


def test_faster_whisper_transcribes_the_hook(faster: fw.FasterWhisperTranscriber, audio: dict[str, Path]) -> None:
    transcript = faster.transcribe(audio["hook_speech_text"])
    _assert_hook_transcript(transcript)
    assert transcript.engine == faster.name == "faster-whisper:base"


def test_tiny_en_transcribes_the_hook(faster_tiny: fw.FasterWhisperTranscriber, audio: dict[str, Path]) -> None:
    transcript = faster_tiny.transcribe(audio["hook_speech_text"])
    _assert_hook_transcript(transcript)
    assert transcript.engine == "faster-whisper:tiny.en"


def test_faster_whisper_transcribes_speech_only(faster: fw.FasterWhisperTranscriber, audio: dict[str, Path]) -> None:
    text = " ".join(_words(faster.transcribe(audio["speech_only"]).text))
    assert "nobody talks about this trick" in text
    assert "link in bio" in text


def test_faster_whisper_returns_nothing_for_silence(faster: fw.FasterWhisperTranscriber,
                                                    audio: dict[str, Path]) -> None:
    transcript = faster.transcribe(audio["no_speech_no_text"])
    assert (transcript.text, transcript.segments, transcript.has_speech) == ("", [], False)


def test_choose_language_renormalises_over_the_candidates() -> None:
    heard = {"la": 0.5, "pt": 0.2, "es": 0.2, "it": 0.1}
    assert choose_language(heard, ["en", "es", "pt"]) == ("pt", 0.5)  # 0.2 / (0.2 + 0.2), the first on a tie
    assert choose_language(heard, []) == ("la", 0.5)  # no candidates: any language
    assert choose_language(heard, ["ko"]) == ("la", 0.5)  # none of the candidates heard at all: any language


def test_the_language_is_chosen_among_the_candidates(audio: dict[str, Path]) -> None:
    """English speech, with English not a candidate, is named as one of the candidates; the languages
    FLASHFLOW_TRANSCRIBE_LANGUAGES allows are always candidates, so English is found again."""
    limited = Settings(worker_threads=1, language_candidates=["de", "fr"])
    elsewhere = fw.FasterWhisperTranscriber(limited).detect_language(audio["hook_speech_text"])
    assert elsewhere is not None and elsewhere[0] in ("de", "fr") and 0 < elsewhere[1] <= 1
    allowed = fw.FasterWhisperTranscriber(limited.model_copy(update={"transcribe_languages": ["en"]}))
    language, probability = allowed.detect_language(audio["hook_speech_text"])
    assert language == "en" and probability > 0.9
    assert fw.FasterWhisperTranscriber(limited).detect_language(audio["no_speech_no_text"]) is None


def test_the_language_is_detected_over_the_first_windows_of_speech(audio: dict[str, Path], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Speech longer than 30 s is heard in 30 s windows, up to FLASHFLOW_LANGUAGE_DETECTION_WINDOWS of them."""
    import wave

    import numpy as np

    speech = media.decode_audio(audio["hook_speech_text"])
    long_wav = tmp_path / "long.wav"  # the hook four times: about 36 s, so a second window of 6 s
    with wave.open(str(long_wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((np.tile(speech, 4) * 32767).astype("<i2").tobytes())
    heard: list[int] = []
    for windows in (1, 2):
        transcriber = fw.FasterWhisperTranscriber(Settings(worker_threads=1, language_detection_windows=windows))
        model = transcriber.model()
        real = model.detect_language
        monkeypatch.setattr(model, "detect_language", lambda window, real=real: heard.append(window.size) or real(window))
        assert transcriber.detect_language(long_wav)[0] == "en"
        monkeypatch.undo()
    assert heard[0] == 30 * 16_000 and heard[1] == 30 * 16_000 and 5 * 16_000 <= heard[2] < 30 * 16_000
    assert len(heard) == 3


def test_faster_whisper_reads_the_video_file_directly(faster: fw.FasterWhisperTranscriber) -> None:
    _assert_hook_transcript(faster.transcribe(FIXTURES / "hook_speech_text.mp4"))


def test_undecodable_audio_is_permanent(faster: fw.FasterWhisperTranscriber, tmp_path: Path) -> None:
    junk = tmp_path / "audio.wav"
    junk.write_text("<html>Access denied</html>")
    with pytest.raises(PermanentError, match="audio could not be decoded"):
        faster.transcribe(junk)


def test_the_bundled_model_loads_without_network(monkeypatch: pytest.MonkeyPatch, audio: dict[str, Path]) -> None:
    monkeypatch.setattr(fw, "_models", {})  # force a fresh load from the model cache
    with no_network(monkeypatch) as attempts:
        with pytest.raises(OSError, match="network access attempted"):
            __import__("socket").create_connection(("127.0.0.1", 9))  # the guard is armed
        attempts.clear()
        transcript = fw.FasterWhisperTranscriber(Settings(worker_threads=2)).transcribe(audio["speech_only"])
    assert attempts == []
    assert "link in bio" in " ".join(_words(transcript.text))


def test_the_model_is_loaded_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fw, "_models", {})
    first = fw.FasterWhisperTranscriber(Settings(worker_threads=1))
    second = fw.FasterWhisperTranscriber(Settings(worker_threads=1))
    assert first.model() is second.model()
    assert len(fw._models) == 1


def test_a_model_has_one_replica_and_its_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stage child transcribes one file at a time: a replica per worker thread would sit idle."""
    import faster_whisper

    built: list[dict[str, Any]] = []

    class RecordedModel:
        def __init__(self, model: str, **options: Any) -> None:
            built.append(options)

    monkeypatch.setattr(faster_whisper, "WhisperModel", RecordedModel)
    monkeypatch.setattr(fw, "_models", {})
    monkeypatch.setattr(fw.os, "cpu_count", lambda: 8)
    fw.FasterWhisperTranscriber(Settings(worker_threads=4)).load()
    assert len(built) == 1
    assert (built[0]["num_workers"], built[0]["cpu_threads"], built[0]["local_files_only"]) == (1, 2, True)


def test_worker_threads_share_a_model(audio: dict[str, Path]) -> None:
    transcriber = fw.FasterWhisperTranscriber(Settings(worker_threads=2))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(transcriber.transcribe, [audio["hook_speech_text"], audio["speech_only"]]))
    _assert_hook_transcript(results[0])
    assert "link in bio" in " ".join(_words(results[1].text))


def test_cpu_threads_are_shared_out_between_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fw.os, "cpu_count", lambda: 8)
    assert fw.cpu_threads_for(Settings(worker_threads=4)) == 2
    assert fw.cpu_threads_for(Settings(worker_threads=16)) == 1
    assert fw.cpu_threads_for(Settings(worker_threads=4, whisper_cpu_threads=3)) == 3


# ---- openai-whisper ---------------------------------------------------------------------------

def _openai_whisper_missing() -> str | None:
    missing = [name for name in ("torch", "whisper") if importlib.util.find_spec(name) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (pip install 'flashflow-workers[openai-whisper]')"
    if not CONVERTER.is_file():
        return f"the checkpoint converter {CONVERTER} is absent"
    return None


@pytest.fixture(scope="session")
def whisper_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.en converted from the bundled CTranslate2 folder into an openai-whisper checkpoint."""
    reason = _openai_whisper_missing()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("whisper") / "tiny.en.pt"
    done = subprocess.run([sys.executable, str(CONVERTER), resolve_model(Settings(whisper_model="tiny.en")).source,
                           str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def test_openai_whisper_agrees_with_faster_whisper(whisper_checkpoint: Path, audio: dict[str, Path],
                                                   faster_tiny: fw.FasterWhisperTranscriber) -> None:
    from flashflow_core.adapters.transcribe_openai_whisper import OpenAIWhisperTranscriber

    # One torch thread: on a busy 2-core machine two spinning OpenMP threads are five times slower.
    transcriber = OpenAIWhisperTranscriber(Settings(whisper_model=str(whisper_checkpoint), whisper_cpu_threads=1))
    assert transcriber.name == "openai-whisper:tiny.en"
    transcript = transcriber.transcribe(audio["hook_speech_text"])
    _assert_hook_transcript(transcript)
    reference = faster_tiny.transcribe(audio["hook_speech_text"])
    # Same weights; int8 against float32 may change a word or two, not the sentence.
    assert SequenceMatcher(None, _words(transcript.text), _words(reference.text)).ratio() > 0.85
    silent = transcriber.transcribe(audio["no_speech_no_text"])
    assert (silent.text, silent.segments) == ("", [])


def test_openai_whisper_needs_a_checkpoint_file(tmp_path: Path) -> None:
    if importlib.util.find_spec("whisper") is None:
        pytest.skip("openai-whisper not installed")
    from flashflow_core.adapters.transcribe_openai_whisper import OpenAIWhisperTranscriber

    with pytest.raises(ConfigError, match="FLASHFLOW_WHISPER_MODEL must name an openai-whisper checkpoint"):
        OpenAIWhisperTranscriber(Settings(whisper_model=str(tmp_path / "missing.pt")))


def test_openai_whisper_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from flashflow_core.adapters.transcribe_openai_whisper import OpenAIWhisperTranscriber

    monkeypatch.setitem(sys.modules, "whisper", None)  # makes `import whisper` fail
    with pytest.raises(ConfigError, match=r"pip install 'flashflow-workers\[openai-whisper\]'"):
        OpenAIWhisperTranscriber(Settings(whisper_model="x.pt"))


# ---- OpenAI's hosted endpoint -----------------------------------------------------------------

TRANSCRIPTIONS = "/v1/audio/transcriptions"


class _TranscriptionServer(ThreadingHTTPServer):
    """POST /v1/audio/transcriptions in OpenAI's wire format: multipart in, JSON out.

    Each request takes the next (status, body, delay) from `replies`; the parsed form is recorded.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TranscriptionHandler)
        self.replies: list[tuple[int, dict[str, Any], float]] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _TranscriptionHandler(BaseHTTPRequestHandler):
    server: _TranscriptionServer
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        form: dict[str, Any] = {"path": self.path, "authorization": self.headers.get("authorization")}
        envelope = f"Content-Type: {self.headers.get('content-type')}\r\n\r\n".encode() + body
        for part in message_from_bytes(envelope, policy=HTTP).iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                form[name] = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                              "data": part.get_payload(decode=True)}
            else:
                form[name] = part.get_payload(decode=True).decode()
        with self.server.lock:
            self.server.requests.append(form)
            status, reply, delay = self.server.replies.pop(0)
        if delay:
            threading.Event().wait(delay)
        payload = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.send_header("retry-after-ms", "1")
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeout tests)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def transcription_server() -> Iterator[_TranscriptionServer]:
    server = _TranscriptionServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": None}}


def _hosted(server: _TranscriptionServer, **overrides: Any) -> OpenAITranscriber:
    values: dict[str, Any] = {"openai_api_key": "sk-test", "openai_base_url": server.base_url,
                              "openai_max_retries": 0, "openai_timeout_s": 5.0}
    values.update(overrides)
    return OpenAITranscriber(Settings(**values))


def test_hosted_gpt4o_model_sends_json_format_and_the_audio(transcription_server: _TranscriptionServer,
                                                          audio: dict[str, Path]) -> None:
    transcription_server.replies.append((200, {"text": " Stop scrolling if you have dry skin. ",
                                               "usage": {"type": "duration", "seconds": 9}}, 0))
    transcript = _hosted(transcription_server, openai_transcribe_model="gpt-4o-mini-transcribe").transcribe(
        audio["hook_speech_text"])
    # The answer names no language: it is detected locally, with the bundled base.
    assert transcript == Transcript("Stop scrolling if you have dry skin.", "en", [], "openai:gpt-4o-mini-transcribe",
                                    language_probability=transcript.language_probability)
    assert 0.5 < transcript.language_probability <= 1
    (sent,) = transcription_server.requests
    assert sent["path"] == TRANSCRIPTIONS and sent["authorization"] == "Bearer sk-test"
    assert (sent["model"], sent["response_format"], sent["include[]"]) == ("gpt-4o-mini-transcribe", "json", "logprobs")
    assert sent["file"]["filename"] == "hook_speech_text.wav"
    assert sent["file"]["data"] == audio["hook_speech_text"].read_bytes()


def test_hosted_whisper_model_returns_segments(transcription_server: _TranscriptionServer,
                                               audio: dict[str, Path]) -> None:
    segments = [
        {"id": 0, "seek": 0, "start": 0.0, "end": 5.6, "text": " Stop scrolling if you have dry skin.", "tokens": [1],
         "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01},
        {"id": 1, "seek": 0, "start": 5.6, "end": 8.3, "text": " Tap the orange cart.", "tokens": [2],
         "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01},
    ]
    transcription_server.replies.append((200, {"task": "transcribe", "language": "english", "duration": 9.0,
                                               "text": "Stop scrolling if you have dry skin. Tap the orange cart.",
                                               "segments": segments}, 0))
    transcript = _hosted(transcription_server, openai_transcribe_model="whisper-1").transcribe(
        audio["hook_speech_text"])
    assert transcription_server.requests[0]["response_format"] == "verbose_json"
    assert [(s.start, s.end, s.text) for s in transcript.segments] == [
        (0.0, 5.6, "Stop scrolling if you have dry skin."), (5.6, 8.3, "Tap the orange cart.")]
    assert (transcript.language, transcript.engine) == ("en", "openai:whisper-1")
    # exp(-0.2) x (1 - 0.01), both segments alike
    assert transcript.confidence == pytest.approx(0.8105, abs=1e-4)


def test_hosted_logprobs_and_language_codes_give_confidence_and_language(
        transcription_server: _TranscriptionServer, audio: dict[str, Path]) -> None:
    transcription_server.replies.append((200, {"text": "Hör auf zu scrollen.", "languages": [{"code": "de"}],
                                               "logprobs": [{"token": "Hör", "logprob": -0.1, "bytes": [72]},
                                                            {"token": " auf", "logprob": -0.3, "bytes": [32]}]}, 0))
    transcript = _hosted(transcription_server, openai_transcribe_model="gpt-4o-transcribe").transcribe(
        audio["speech_only"])
    assert (transcript.language, transcript.language_probability) == ("de", None)
    assert transcript.confidence == pytest.approx(0.8187, abs=1e-4)  # exp(mean(-0.1, -0.3))


@pytest.mark.parametrize(("status", "error", "expected"), [
    (429, _error("Rate limit reached", "requests"), TransientError),
    (500, _error("The server had an error", "server_error"), TransientError),
    (503, _error("Overloaded", "server_error"), TransientError),
    (400, _error("Audio file might be corrupted or unsupported", "invalid_request_error"), PermanentError),
    (401, _error("Incorrect API key provided", "invalid_request_error"), PermanentError),
    (404, _error("The model `gpt-x` does not exist", "invalid_request_error"), PermanentError),
])
def test_hosted_errors_are_classified(transcription_server: _TranscriptionServer, audio: dict[str, Path],
                                      status: int, error: dict[str, Any], expected: type[Exception]) -> None:
    transcription_server.replies.append((status, error, 0))
    with pytest.raises(expected) as caught:
        _hosted(transcription_server).transcribe(audio["speech_only"])
    assert type(caught.value) is expected
    if expected is PermanentError:
        assert f"({status}): {error['error']['message']}" in str(caught.value)


def test_hosted_retries_a_server_error_then_succeeds(transcription_server: _TranscriptionServer,
                                                     audio: dict[str, Path]) -> None:
    transcription_server.replies += [(500, _error("boom", "server_error"), 0), (200, {"text": "Link in bio."}, 0)]
    transcript = _hosted(transcription_server, openai_max_retries=1).transcribe(audio["speech_only"])
    assert transcript.text == "Link in bio."
    assert len(transcription_server.requests) == 2


def test_hosted_timeout_is_transient(transcription_server: _TranscriptionServer, audio: dict[str, Path]) -> None:
    transcription_server.replies.append((200, {"text": "too late"}, 2.0))
    with pytest.raises(TransientError, match="did not answer in time"):
        _hosted(transcription_server, openai_timeout_s=0.3).transcribe(audio["speech_only"])


def test_hosted_unreachable_is_transient(audio: dict[str, Path]) -> None:
    with socket_closed_port() as port:
        transcriber = OpenAITranscriber(Settings(openai_api_key="sk-test", openai_base_url=f"http://127.0.0.1:{port}/v1",
                                                 openai_max_retries=0))
        with pytest.raises(TransientError, match="could not reach OpenAI"):
            transcriber.transcribe(audio["speech_only"])


def test_hosted_refuses_oversized_audio_before_uploading(transcription_server: _TranscriptionServer,
                                                         tmp_path: Path) -> None:
    big = tmp_path / "audio.wav"
    with big.open("wb") as f:
        f.truncate(26 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(PermanentError, match="at most 25 MB"):
        _hosted(transcription_server).transcribe(big)
    assert transcription_server.requests == []


def test_hosted_needs_an_api_key() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAITranscriber(Settings(openai_api_key=None))


def test_response_format_follows_the_model() -> None:
    assert [response_format_for(m) for m in ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
                                             "gpt-transcribe")] == ["verbose_json", "json", "json", "json"]


class socket_closed_port:  # noqa: N801 - used as a context manager
    """A loopback port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return self._sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
