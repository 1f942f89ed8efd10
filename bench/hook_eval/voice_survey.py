"""Which espeak-ng voices Whisper base can tell apart: language ID per voice, variant and speed.

    python -m bench.hook_eval.voice_survey [--languages pt,id] [--variants ,m3,m7] [--speeds 150,175]
                                           [--every 1] [--transcribe]

For each language, each voice given by VOICE_CANDIDATES joined with each variant ("" is the voice's
own) and each speed, the evaluation set's sentences in that language (bench/hook_eval/cases.py,
every `--every`-th one) are spoken by espeak-ng into a WAV and put through Whisper base's language
detection (faster-whisper, voice-activity filter on, as the transcriber does). Printed per voice:
how many sentences were identified, over all Whisper's languages and among TikTok Shop's market
languages (the default FLASHFLOW_LANGUAGE_CANDIDATES), the mean probability of the right language,
and what was heard instead. `--transcribe` also decodes each sentence in the detected language and
prints the mean word error rate (slower). The set's VOICES were chosen from this table
(docs/benchmarks.md, "Evaluation voices").
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bench.bench_hook_quality import wer
from bench.hook_eval.cases import CASES
from flashflow_core.adapters.languages import MARKET_LANGUAGES, choose_language
from flashflow_core.adapters.whisper_models import resolve_model
from flashflow_core.config import load_settings

# espeak-ng's voices for the set's languages (`espeak-ng --voices`): regional ones where it has them.
VOICE_CANDIDATES = {"en": ["en-us", "en-gb"], "es": ["es", "es-419"], "pt": ["pt-br", "pt"], "de": ["de"],
                    "fr": ["fr", "fr-be"], "id": ["id", "ms"]}
DEFAULT_VARIANTS = ["", "m3", "m7", "f2", "f4", "klatt"]


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def survey(languages: list[str], variants: list[str], speeds: list[int], every: int, transcribe: bool) -> None:
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    settings = load_settings()
    model = WhisperModel(resolve_model(settings.model_copy(update={"whisper_model": "base"})).source,
                         device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True)
    print("| language | voice | wpm | identified (any language) | identified (market languages) "
          f"| p(right) | heard instead |{' WER |' if transcribe else ''}")
    print(f"|---|---|---|---|---|---|---|{'---|' if transcribe else ''}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        wav = Path(tmp_dir) / "speech.wav"
        for language in languages:
            sentences = [c.speech for c in CASES if c.language == language and c.speech][::every]
            for voice in VOICE_CANDIDATES[language]:
                for variant in variants:
                    name = f"{voice}+{variant}" if variant else voice
                    for speed in speeds:
                        raw, market, p_right, wers, others = 0, 0, [], [], Counter()
                        for text in sentences:
                            subprocess.run(["espeak-ng", "-v", name, "-s", str(speed), "-w", str(wav), text],
                                           check=True, timeout=60)
                            audio = decode_audio(str(wav))
                            top, _, heard = model.detect_language(audio, vad_filter=True)
                            probabilities = dict(heard)
                            chosen, _ = choose_language(probabilities, MARKET_LANGUAGES)
                            raw += top == language
                            market += chosen == language
                            p_right.append(probabilities.get(language, 0.0))
                            if top != language:
                                others[top] += 1
                            if transcribe:
                                pieces, _ = model.transcribe(audio, language=chosen, beam_size=5, vad_filter=True)
                                wers.append(wer(text, " ".join(p.text for p in pieces)))
                        n = len(sentences)
                        print(f"| {language} | {name} | {speed} | {raw}/{n} | {market}/{n} | "
                              f"{statistics.mean(p_right):.2f} | "
                              f"{', '.join(f'{code} {count}' for code, count in others.most_common()) or '—'} |"
                              + (f" {100 * statistics.mean(wers):.0f} % |" if transcribe else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", type=_csv, default=list(VOICE_CANDIDATES))
    parser.add_argument("--variants", type=_csv, default=DEFAULT_VARIANTS, help="espeak-ng variants; '' the voice's own")
    parser.add_argument("--speeds", type=lambda t: [int(x) for x in _csv(t)], default=[150, 175])
    parser.add_argument("--every", type=int, default=1, help="use every n-th sentence (1: all six)")
    parser.add_argument("--transcribe", action="store_true", help="also the word error rate (slower)")
    args = parser.parse_args()
    survey(args.languages, args.variants, args.speeds, args.every, args.transcribe)


if __name__ == "__main__":
    main()
