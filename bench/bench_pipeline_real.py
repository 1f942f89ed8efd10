"""The real Winners Bank pipeline on the fixture videos: seconds per video, the share of each
stage, and transcription speed as a multiple of real time (audio seconds per second of work).

    .venv/bin/python -m bench.bench_pipeline_real [--rounds 3]

Stages run one after another in this process (no broker), with the real toolkit: yt-dlp
against a loopback server, PyAV + ffmpeg, faster-whisper tiny.en (int8, CPU), rapidocr and
the offline extractor. Models are loaded once before timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.common import scratch_settings, time_stages
from flashflow_core.adapters.toolkit import Toolkit
from flashflow_core.db.pool import make_pool
from flashflow_core.winners.pipeline import Pipeline
from flashflow_core.winners.states import Stage
from flashflow_core.winners.submit import ReferenceSubmission, submit_reference
from workers.demo import serve_folder

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
VIDEOS = ["hook_speech_text.mp4", "speech_only.mp4", "silent_text.mp4"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as media, scratch_settings(
        storage_root=Path(media), fetch_allow_hosts=["127.0.0.1"], log_level="WARNING"
    ) as settings, make_pool(settings) as pool, serve_folder(FIXTURES) as base:
        tools = Toolkit(settings)
        pipeline = Pipeline(pool, settings, tools)
        warm = tools.transcriber, tools.ocr  # load the models outside the timings
        print(f"models loaded: {[type(t).__name__ for t in warm]}")
        stage_times: dict[str, list[float]] = {str(s): [] for s in Stage}
        per_video: list[float] = []
        audio_s = transcribe_s = 0.0
        for round_ in range(args.rounds):
            for name in VIDEOS:
                url = f"{base}/{name}?round={round_}"
                rid = submit_reference(pool, ReferenceSubmission(url=url, submitted_by="bench")).id
                took, last = time_stages(pipeline, rid)
                if last.outcome != "advanced":
                    raise SystemExit(f"{name}: {last.stage} {last.outcome}: {last.detail}")
                for stage, seconds in took.items():
                    stage_times[stage].append(seconds)
                with pool.connection() as conn:
                    row = conn.execute("SELECT source_meta FROM reference_videos WHERE id = %s", (rid,)).fetchone()
                audio_s += float(row["source_meta"]["duration_s"])
                transcribe_s += took[str(Stage.TRANSCRIBE)]
                per_video.append(sum(took.values()))
    all_time = sum(per_video)
    print(f"videos={len(per_video)} ({args.rounds} rounds of {', '.join(VIDEOS)})")
    print(f"seconds per video: median {statistics.median(per_video):.2f}, mean {statistics.mean(per_video):.2f}")
    for stage, times in stage_times.items():
        print(f"  {stage:10} median {statistics.median(times):6.2f} s  share {sum(times) / all_time:6.1%}")
    print(f"transcribe stage speed: {audio_s / transcribe_s:.1f}x real time "
          f"({audio_s:.1f} s of video in {transcribe_s:.1f} s, audio to WAV included)")


if __name__ == "__main__":
    main()
