"""What narration costs, and how well it is heard.

1. Synthesis real-time factor per voice: CPU-free wall seconds of synthesis over seconds of
   speech (below 1 speaks faster than it plays), over the English and the Japanese demo's
   caption lines (the first --lines of each, spoken forms as the scenes hand them to a voice).
2. The narrated render's wall time over the silent one's: nano-sort "CBABBC", 6 tokens, every
   scene, --quality low (default), each `render.py video --trace ... --no-cache` in a
   subprocess; the narrated one starts with an empty speech cache (every line synthesised).
   Target: at most 1.2 for English at low quality. Also the narrated re-render from the cache.
3. The ASR round trip (needs `make test-tools`): Whisper base's word error rate over the narrated
   English video's sound, and its character error rate over the Japanese lines spoken.

Timings are noisy on a shared machine: the renders run back to back in one run.

    .venv/bin/python benchmarks/narration.py [--quality low] [--lines 12] [--no-asr]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

RENDER = [sys.executable, str(ROOT / "render.py")]
DEMO = ["--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6"]


def render(env, *args):
    started = time.perf_counter()
    result = subprocess.run([*RENDER, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started


def synthesis_rtf(voice_name, lines):
    from renderer.voices import RATE, VOICES, synthesise

    voice = VOICES[voice_name]
    synthesise(voice, lines[0])  # load the engine once: a worker does it once per render
    started, seconds = time.perf_counter(), 0.0
    for line in lines:
        seconds += len(synthesise(voice, line)) / RATE
    return (time.perf_counter() - started) / seconds, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="low")
    parser.add_argument("--lines", type=int, default=12, help="caption lines per voice for the synthesis factor")
    parser.add_argument("--no-asr", action="store_true", help="skip the ASR round trip")
    args = parser.parse_args()

    from narration_checks import (asr_installed, caption_lines, character_error_rate, reading_error_rate, transcribe,
                                  word_error_rate)

    from renderer.sound import read_sound
    from renderer.video import video_info
    from renderer.voices import RATE, VOICES, Speaker
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    with tempfile.TemporaryDirectory() as work:
        recorded = trace_prompt(load_model("nano-sort"), "CBABBC", generate=6, sampling=Sampling())
        trace = os.path.join(work, "demo.safetensors")
        recorded.save(trace)
        lines = {language: [spoken for _, _, spoken in caption_lines(recorded, language)] for language in ("en", "ja")}

        print("synthesis real-time factor (wall seconds per second of speech, one process):")
        for voice, language in (("heart", "en"), ("jf_alpha", "ja")):
            rtf, seconds = synthesis_rtf(voice, lines[language][: args.lines])
            print(f"  {voice:<9} ({language}) {rtf:.3f}  over {seconds:.1f} s of speech")

        env = dict(os.environ, GPT2_EXPLAINER_CACHE=os.path.join(work, "cache"))
        common = ["video", "--trace", trace, "--quality", args.quality]
        silent = render(env, *common, "--no-cache", "--out", os.path.join(work, "silent.mp4"))
        narrated = render(env, *common, "--narrate", "--out", os.path.join(work, "narrated.mp4"))  # empty cache
        again = render(env, *common, "--narrate", "--out", os.path.join(work, "again.mp4"))
        shown = {name: video_info(os.path.join(work, name + ".mp4")).duration for name in ("silent", "narrated")}
        print(f"silent render {silent:.1f} s ({shown['silent']:.1f} s of video); narrated {narrated:.1f} s "
              f"({shown['narrated']:.1f} s of video, every line synthesised and every clip rendered)")
        print(f"narrated re-render from the cache: {again:.1f} s")
        print(f"narrated / silent wall time at {args.quality}: {narrated / silent:.2f} (target <= 1.2)")

        if args.no_asr or not asr_installed():
            print("ASR round trip skipped" + ("" if args.no_asr else ": run `make test-tools` to install it"))
            return
        samples, rate = read_sound(os.path.join(work, "narrated.mp4"))
        wer = word_error_rate([" ".join(lines["en"])], [transcribe(samples, rate, "en")])
        speaker = Speaker(VOICES["jf_alpha"])
        import numpy as np

        pause = np.zeros(int(0.4 * RATE), np.float32)
        spoken = np.concatenate([part for line in lines["ja"] for part in (speaker.speak(line), pause)])
        heard = transcribe(spoken, RATE, "ja")
        cer = character_error_rate(["".join(lines["ja"])], [heard])
        by_reading = reading_error_rate(["".join(lines["ja"])], [heard])
        print(f"ASR (Whisper base): English WER {wer:.3f} (target <= 0.15); Japanese CER {by_reading:.3f} of the "
              f"readings (target <= 0.10), {cer:.3f} of the characters as written")


if __name__ == "__main__":
    main()
