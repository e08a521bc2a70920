"""What each clip format costs: render time and file size against plain MP4, and the decks.

nano-sort on "CBABBC" (greedy, 6 generated tokens), the scenes given (default tokens and
softmax), one worker process per scene, run as `render.py video --trace ... --format F`
(and `render.py slides --to pptx|html`) in subprocesses, as a user would. Prints, per
format, the wall time and the joined video's size, each also as a ratio to MP4's.
Timings are noisy on a shared machine.

    .venv/bin/python benchmarks/clip_formats.py [--quality low|medium|high] [--scenes tokens,softmax]
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

from renderer.presets import QUALITIES  # noqa: E402  (after the path: run from anywhere)

RENDER = [sys.executable, str(ROOT / "render.py")]
RUNS = [("mp4", []), ("webm", ["--format", "webm"]), ("webm, transparent", ["--format", "webm", "--transparent"]),
        ("mov, transparent (ProRes 4444)", ["--format", "mov", "--transparent"]), ("gif", ["--format", "gif"]),
        ("gif, transparent", ["--format", "gif", "--transparent"]), ("mp4 --beats", ["--beats"])]


def run(*args):
    started = time.perf_counter()
    result = subprocess.run([*RENDER, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="medium", choices=list(QUALITIES))
    parser.add_argument("--scenes", default="tokens,softmax")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        trace = os.path.join(directory, "sort.safetensors")
        run("trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6", "--temperature", "0",
            "--out", trace)
        # --no-cache: every render is timed as rendered, never copied from an earlier run's clips
        common = ["--trace", trace, "--scenes", args.scenes, "--quality", args.quality, "--no-cache"]
        print(f"scenes {args.scenes} at {args.quality}, {len(args.scenes.split(','))} worker processes")
        print(f"{'':32} {'seconds':>8} {'x mp4':>6} {'MB':>8} {'x mp4':>6}")
        base = None
        for label, options in RUNS:
            suffix = options[options.index("--format") + 1] if "--format" in options else "mp4"
            out = os.path.join(directory, f"v{RUNS.index((label, options))}.{suffix}")
            seconds = run("video", *common, *options, "--out", out)
            size = os.path.getsize(out) / 1e6
            base = base or (seconds, size)
            print(f"{label:32} {seconds:8.1f} {seconds / base[0]:6.2f} {size:8.2f} {size / base[1]:6.2f}")
        for kind in ("pptx", "html"):
            out = os.path.join(directory, f"deck.{kind}")
            seconds = run("slides", *common, "--to", kind, "--out", out)
            size = os.path.getsize(out) / 1e6
            print(f"{'slides --to ' + kind:32} {seconds:8.1f} {seconds / base[0]:6.2f} {size:8.2f} {size / base[1]:6.2f}")


if __name__ == "__main__":
    main()
