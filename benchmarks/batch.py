"""How long does a batch of videos take on the embedded Dask cluster, with one worker and with two?

N nano-sort prompts (6 letters each, 2 generated tokens, greedy), a few scenes each, low
quality (854x480, 15 fps), written to one job file and rendered by `render.py batch` in a
subprocess, as a user would: the wall time covers starting the cluster, tracing, rendering
every scene, joining and publishing. Prints the number of prompts, the total seconds of
video, each wall time, the real-time factor (wall / video seconds) and the speedup of 2
workers over 1 (these runs with --no-cache); then the same batch twice with a fresh clip
cache (renderer/cache.py): cold, then warm, and the warm/cold ratio. Timings are noisy on
a shared machine.

    .venv/bin/python benchmarks/batch.py [--prompts 4] [--scenes title,tokens,embeddings,qkv] [--workers 1 2]
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

from renderer.video import video_info  # noqa: E402  (after the path: run from anywhere)

RENDER = [sys.executable, str(ROOT / "render.py")]
PROMPTS = ("CBABBC", "ABCABC", "CCBBAA", "BACBCA", "AABBCC", "CABCAB", "BBCAAC", "ACBACB")
def batch(job_file, out_dir, settings, *extra, cache=None):
    """Run `render.py batch` once (with the clip cache in the folder `cache`, else --no-cache);
    returns its wall time in seconds."""
    os.makedirs(out_dir)
    environment = dict(os.environ, GPT2_EXPLAINER_CACHE=cache or "")
    started = time.perf_counter()
    result = subprocess.run([*RENDER, "batch", job_file, *settings, "--out-dir", out_dir, *extra,
                             *([] if cache else ["--no-cache"])],
                            capture_output=True, text=True, cwd=ROOT, env=environment)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"render.py batch failed (exit status {result.returncode}):\n{result.stderr}")
    return wall


def video_seconds(out_dir):
    return sum(video_info(os.path.join(out_dir, name)).duration
               for name in os.listdir(out_dir) if name.endswith(".mp4"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4, choices=range(1, len(PROMPTS) + 1), metavar="N")
    parser.add_argument("--scenes", default="title,tokens,embeddings,qkv")
    parser.add_argument("--quality", default="low")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = ["--model", "nano-sort", "--generate", "2", "--temperature", "0", "--quality", args.quality,
                "--scenes", args.scenes]

    with tempfile.TemporaryDirectory() as directory:
        job_file = os.path.join(directory, "jobs.txt")
        with open(job_file, "w", encoding="utf-8") as file:
            file.write("\n".join(PROMPTS[:args.prompts]) + "\n")
        n_scenes = len(args.scenes.split(","))
        print(f"{args.prompts} nano-sort prompts x {n_scenes} scenes ({args.scenes}), quality {args.quality}, "
              f"{os.cpu_count()} CPU cores")

        walls, seconds = {}, {}
        for workers in dict.fromkeys(args.workers):
            out_dir = os.path.join(directory, f"workers{workers}")
            walls[workers] = batch(job_file, out_dir, settings, "--workers", str(workers))
            seconds[workers] = video_seconds(out_dir)
        total = next(iter(seconds.values()))
        assert all(abs(value - total) < 0.01 for value in seconds.values()), seconds  # the same videos each time
        print(f"total video: {total:.1f} s in {args.prompts} videos")
        for workers, wall in walls.items():
            print(f"embedded cluster, {workers} worker{'s' * (workers > 1)}: wall {wall:.1f} s, "
                  f"real-time factor {wall / total:.2f}")
        if 1 in walls and 2 in walls:
            print(f"speedup, 2 workers over 1: {walls[1] / walls[2]:.2f}x")

        workers = max(walls)
        cache = os.path.join(directory, "cache")  # a fresh clip cache: the first run fills it
        cold = batch(job_file, os.path.join(directory, "cold"), settings, "--workers", str(workers), cache=cache)
        warm = batch(job_file, os.path.join(directory, "warm"), settings, "--workers", str(workers), cache=cache)
        print(f"cache, {workers} workers: cold {cold:.1f} s, warm {warm:.1f} s, warm/cold ratio {warm / cold:.2f}")


if __name__ == "__main__":
    main()
