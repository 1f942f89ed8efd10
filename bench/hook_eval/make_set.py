"""Renders the evaluation set (cases.py) into short videos with a label file each, and caches them.

    python -m bench.hook_eval.make_set [--out DIR] [--ci-fixtures]

Speech comes from espeak-ng (`make eval-deps` installs it: apt-get install espeak-ng
fonts-dejavu-core); pictures, captions, the music bed and encoding from the ffmpeg that
imageio-ffmpeg bundles. Videos are 360x640 H.264 + AAC mono, like tests/fixtures; encoding is
single-threaded and bitexact, so a run is reproducible with the same espeak-ng and ffmpeg.
The default folder is FLASHFLOW_HOME/hook-eval/<hash of the cases and this script>, so a
changed case makes a new set. `--ci-fixtures` writes the one case per language the test suite
runs into tests/fixtures/languages/ (committed, so tests need no espeak-ng).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict
from pathlib import Path

import imageio_ffmpeg

from bench.hook_eval.cases import CASES, VOICES, Case

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CI_FIXTURES = ROOT / "tests" / "fixtures" / "languages"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SIZE, FPS = "360x640", 15
TEXT_ONLY_S = 5.0
BACKGROUNDS = ["0x1b1f3b", "0x008c8c", "0x5b2a86", "0x8a7f72", "0x2e4a3a", "0x7a2e2e", "0x2c5282"]
# A soft three-note pad with a slow pulse, well under the voice: a "music bed", not a song.
MUSIC = ("aevalsrc='(0.5+0.5*sin(2*PI*1.5*t))*(0.05*sin(2*PI*220*t)+0.04*sin(2*PI*277.2*t)"
         "+0.04*sin(2*PI*329.6*t)+0.03*sin(2*PI*110*t))':s=22050:c=mono")


def missing_tools() -> list[str]:
    """What rendering needs and this machine lacks."""
    missing = [] if shutil.which("espeak-ng") else ["espeak-ng"]
    return missing + ([] if FONT.is_file() else [f"the font {FONT} (fonts-dejavu-core)"])


def set_hash() -> str:
    """Identifies the set: its cases and how they are rendered."""
    digest = hashlib.sha256(json.dumps([asdict(c) for c in CASES], ensure_ascii=False).encode())
    digest.update((HERE / "make_set.py").read_bytes())
    digest.update((HERE / "cases.py").read_bytes())  # the voices
    return digest.hexdigest()[:12]


def label(case: Case) -> dict:
    """The label file's content."""
    return {"id": case.id, "language": case.language, "speech": case.speech, "words": list(case.words),
            "spoken_hook": case.spoken_hook, "on_screen_hook": case.on_screen_hook, "cta": case.cta,
            "family": case.family, "voice": VOICES[case.language] if case.speech else None,
            "speed_wpm": case.speed if case.speech else None, "music": case.music}


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=120)


def wrap(text: str, width: int = 16) -> str:
    """`text` on lines of at most `width` characters (longer words stand alone), so captions fit 360 px."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _caption(textfile: Path, size: int, y: str, enable: str) -> str:
    return (f"drawtext=fontfile={FONT}:textfile={textfile}:fontsize={size}:fontcolor=white:borderw=3:"
            f"bordercolor=black:box=1:boxcolor=black@0.55:boxborderw=14:x=(w-text_w)/2:y={y}:enable='{enable}'")


def render(case: Case, out: Path, audio_kbps: int = 48) -> Path:
    """Write `out/<id>.mp4` and `out/<id>.json` for one case."""
    out.mkdir(parents=True, exist_ok=True)
    video = out / f"{case.id}.mp4"
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        inputs: list[str] = []
        if case.speech:
            speech = tmp / "speech.wav"
            subprocess.run(["espeak-ng", "-v", VOICES[case.language], "-s", str(case.speed), "-w", str(speech),
                            case.speech], check=True, timeout=60)
            with wave.open(str(speech)) as w:
                duration = round(w.getnframes() / w.getframerate() + 1.0, 2)
            inputs += ["-i", str(speech)]
        else:
            duration = TEXT_ONLY_S
        hook_file, cta_file = tmp / "hook.txt", tmp / "cta.txt"
        hook_file.write_text(wrap(case.on_screen_hook), encoding="utf-8")
        cta_file.write_text(wrap(case.on_screen_cta), encoding="utf-8")
        colour = BACKGROUNDS[sum(map(ord, case.id)) % len(BACKGROUNDS)]
        captions = [_caption(hook_file, 30, "140", "lt(t,3)")] if case.on_screen_hook else []
        if case.on_screen_cta:
            captions.append(_caption(cta_file, 30, "320", f"gte(t,{duration - 2:.2f})"))
        video_chain = f"[0:v]{','.join(captions) or 'null'}[v]"
        sources = ["-f", "lavfi", "-i", f"color=c={colour}:s={SIZE}:r={FPS}:d={duration}"]
        if case.music:
            sources += ["-f", "lavfi", "-t", str(duration), "-i", MUSIC]
        audio_inputs = [f"[{i + 1}:a]" for i in range(len(inputs) // 2)]
        music_input = f"[{len(inputs) // 2 + 1}:a]" if case.music else None
        if audio_inputs and music_input:
            audio_chain = f"{audio_inputs[0]}apad[s];{music_input}volume=0.5[m];[s][m]amix=inputs=2:duration=longest:normalize=0[a]"
        elif audio_inputs:
            audio_chain = f"{audio_inputs[0]}apad[a]"
        elif music_input:
            audio_chain = f"{music_input}anull[a]"
        else:
            audio_chain = "anullsrc=r=22050:cl=mono[a]"
        _ffmpeg(*sources[:4], *inputs, *sources[4:],
                "-filter_complex", f"{video_chain};{audio_chain}", "-map", "[v]", "-map", "[a]", "-t", str(duration),
                "-c:v", "libx264", "-preset", "veryslow", "-crf", "32", "-threads", "1", "-pix_fmt", "yuv420p",
                "-g", "30", "-c:a", "aac", "-b:a", f"{audio_kbps}k", "-ar", "22050", "-ac", "1",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                "-movflags", "+faststart", str(video))
    (out / f"{case.id}.json").write_text(json.dumps(label(case), ensure_ascii=False, indent=1) + "\n",
                                         encoding="utf-8")
    return video


def default_folder(home: Path) -> Path:
    return home / "hook-eval" / set_hash()


def ensure_set(folder: Path, progress: bool = True) -> Path:
    """Render every case not yet in `folder` (a finished set is reused as it is)."""
    todo = [c for c in CASES if not (folder / f"{c.id}.json").is_file()]
    if todo and missing_tools():
        raise SystemExit(f"the evaluation set needs {', '.join(missing_tools())}: run `make eval-deps` (as root)")
    for n, case in enumerate(todo, 1):
        render(case, folder)
        if progress:
            print(f"rendered {case.id} ({n}/{len(todo)})", flush=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder (default FLASHFLOW_HOME/hook-eval/<hash>)")
    parser.add_argument("--ci-fixtures", action="store_true", help=f"write the CI cases into {CI_FIXTURES}")
    args = parser.parse_args()
    if args.ci_fixtures:
        if missing_tools():
            raise SystemExit(f"needs {', '.join(missing_tools())}: run `make eval-deps` (as root)")
        for case in (c for c in CASES if c.ci):
            print(render(case, CI_FIXTURES, audio_kbps=32))
        return
    from flashflow_core.config import load_settings

    print(ensure_set(args.out or default_folder(load_settings().home)))


if __name__ == "__main__":
    main()
