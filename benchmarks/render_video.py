"""How long does the whole video take to render, with one worker process and with two?

nano-sort on "CBABBC" with 6 generated tokens (greedy), every scene of the storyboard, low
quality (854x480, 15 fps). The trace is made once and saved; each render then runs
`render.py video --trace ...` in a subprocess, as a user would, so the wall time covers
starting the workers, rendering every scene, joining the clips and writing the files.

Prints the video's duration, each wall time, the real-time factor (render time / video
duration; below 1 renders faster than it plays) and the parallel speedup. Last line: the
low-quality real-time factor with 2 jobs. Timings are noisy on a shared machine.

    .venv/bin/python benchmarks/render_video.py [--quality low] [--jobs 1 2]
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

from scenes import catalog  # noqa: E402  (after the path: run from anywhere)
from renderer.presets import QUALITIES  # noqa: E402
from renderer.video import video_info  # noqa: E402

RENDER = [sys.executable, str(ROOT / "render.py")]


def run(*args):
    started = time.perf_counter()
    result = subprocess.run([*RENDER, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="low", choices=list(QUALITIES))
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    args.jobs = list(dict.fromkeys(args.jobs))  # each setting once

    with tempfile.TemporaryDirectory() as directory:
        trace = os.path.join(directory, "sort.safetensors")
        seconds = run("trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6",
                      "--temperature", "0", "--out", trace)
        print(f"nano-sort 'CBABBC' + 6 tokens, scenes: {', '.join(catalog.names())}; "
              f"quality {QUALITIES[args.quality].label}; {os.cpu_count()} CPU cores")
        print(f"trace (load the model, run it, save): {seconds:.1f} s")

        walls, durations = {}, {}
        for jobs in args.jobs:
            out = os.path.join(directory, f"jobs{jobs}.mp4")
            walls[jobs] = run("video", "--trace", trace, "--quality", args.quality, "--jobs", str(jobs), "--out", out)
            durations[jobs] = video_info(out).duration
        duration = durations[args.jobs[0]]
        assert all(abs(d - duration) < 0.01 for d in durations.values()), durations  # the same video each time
        print(f"video duration: {duration:.1f} s")
        for jobs in args.jobs:
            print(f"jobs {jobs}: wall {walls[jobs]:.1f} s, real-time factor {walls[jobs] / duration:.2f}")
        if 1 in walls and 2 in walls:
            print(f"parallel speedup, 2 jobs over 1: {walls[1] / walls[2]:.2f}x")
        last = 2 if 2 in walls else args.jobs[-1]
        print(f"{args.quality}-quality real-time factor with {last} jobs: {walls[last] / duration:.2f}")


if __name__ == "__main__":
    main()
