"""How long does the whole video take to render, with one worker process and with two?

nano-sort on "CBABBC" with 6 generated tokens (greedy), every scene of the storyboard, low
quality (854x480, 15 fps). The trace is made once and saved; each render then runs
`render.py video --trace ... --no-cache` in a subprocess, as a user would, so the wall
time covers starting the workers, rendering every scene (none from the clip cache),
joining the clips and writing the files. The scenes are handed out longest first
(renderer/balance.py). The machine is shared and noisy, so the renders run in rounds
(--repeat, default 3), each round every --jobs setting back to back; the speedup is the
median of the rounds' own ratios, and each wall time the median over the rounds.

Prints the video's duration, each wall time, the real-time factor (render time / video
duration; below 1 renders faster than it plays) and the parallel speedup of 2 jobs over 1
(the target: at least 1.8x), with the longest scene's share of the one-job time (above
1/2 it alone would bound the 2-job wall time) and the CPU time each render used: one job
already keeps more than one core busy part of the time (Manim encodes in a thread beside
the drawing), which bounds what a second job can add on 2 cores. Last line: the low-quality real-time
factor with 2 jobs. Timings are noisy on a shared machine.

    .venv/bin/python benchmarks/render_video.py [--quality low] [--jobs 1 2] [--scenes a,b,...] [--repeat 3]
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from statistics import median
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenes import catalog  # noqa: E402  (after the path: run from anywhere)
from renderer.presets import QUALITIES  # noqa: E402
from renderer.video import video_info  # noqa: E402

RENDER = [sys.executable, str(ROOT / "render.py")]


def children_cpu():
    """CPU seconds of the finished child processes (render.py and the workers it waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(*args):
    """Run render.py; returns (wall seconds, its stderr). CPU seconds go to CPU[args]."""
    started, cpu = time.perf_counter(), children_cpu()
    result = subprocess.run([*RENDER, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed:\n{result.stderr}")
    CPU[args] = children_cpu() - cpu
    return time.perf_counter() - started, result.stderr


CPU = {}


def longest_scene(stderr):
    """(name, seconds) of the scene that took longest, from a one-job render's progress lines
    ("scene k of n done (name), m:ss elapsed": with one worker, the gaps are the scenes' times)."""
    done = [(name, int(m) * 60 + int(s)) for name, m, s in re.findall(r"done \(([a-z-]+)\), (\d+):(\d\d) elapsed", stderr)]
    gaps = [(name, elapsed - (done[k - 1][1] if k else 0)) for k, (name, elapsed) in enumerate(done)]
    return max(gaps, key=lambda gap: gap[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="low", choices=list(QUALITIES))
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scenes", default=",".join(catalog.names()), help="a smaller run, to check the script")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each renders every --jobs setting once")
    args = parser.parse_args()
    args.jobs = list(dict.fromkeys(args.jobs))  # each setting once

    with tempfile.TemporaryDirectory() as directory:
        trace = os.path.join(directory, "sort.safetensors")
        seconds, _ = run("trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6",
                      "--temperature", "0", "--out", trace)
        print(f"nano-sort 'CBABBC' + 6 tokens, scenes: {args.scenes.replace(',', ', ')}; "
              f"quality {QUALITIES[args.quality].label}; {os.cpu_count()} CPU cores")
        print(f"trace (load the model, run it, save): {seconds:.1f} s")

        rounds = []  # per round: jobs -> (wall, CPU seconds)
        durations, longest = set(), None
        for number in range(1, args.repeat + 1):  # each round renders every setting, back to back
            measured = {}
            for jobs in args.jobs:
                out = os.path.join(directory, f"jobs{jobs}.mp4")
                command = ("video", "--trace", trace, "--quality", args.quality, "--jobs", str(jobs),
                           "--scenes", args.scenes, "--no-cache", "--out", out)
                wall, stderr = run(*command)
                measured[jobs] = wall, CPU[command]
                durations.add(round(video_info(out).duration, 2))
                if jobs == 1 and longest is None:
                    longest = longest_scene(stderr)
            rounds.append(measured)
            print(f"round {number}: " + ", ".join(f"jobs {jobs} {wall:.1f} s" for jobs, (wall, _) in measured.items())
                  + (f", speedup {measured[1][0] / measured[2][0]:.2f}x" if {1, 2} <= set(measured) else ""))
        assert len(durations) == 1, durations  # the same video each time
        duration = durations.pop()
        print(f"video duration: {duration:.1f} s")
        walls = {jobs: median(r[jobs][0] for r in rounds) for jobs in args.jobs}
        for jobs in args.jobs:
            cpu = median(r[jobs][1] for r in rounds)
            print(f"jobs {jobs}: wall {walls[jobs]:.1f} s (median of {len(rounds)}), real-time factor "
                  f"{walls[jobs] / duration:.2f}, CPU {cpu:.1f} s ({cpu / walls[jobs]:.2f} cores busy on average)")
        if longest is not None:
            name, seconds = longest
            print(f"longest scene with 1 job: {name}, {seconds:.0f} s, {seconds / rounds[0][1][0]:.0%} of the wall time")
        if 1 in walls and 2 in walls:
            speedups = [r[1][0] / r[2][0] for r in rounds]
            speedup = median(speedups)
            print(f"parallel speedup, 2 jobs over 1: {speedup:.2f}x, the median of {len(rounds)} rounds "
                  f"({', '.join(f'{s:.2f}' for s in speedups)}) (target 1.8x: "
                  f"{'met' if speedup >= 1.8 else 'NOT met'}; {os.cpu_count()} cores)")
            # One job already runs Manim's encoder thread beside its drawing; with the same
            # CPU work, 2 jobs on 2 cores cannot beat 2 x (1-job wall) / (2-job CPU).
            if os.cpu_count() == 2:
                ceiling = median(2 * r[1][0] / r[2][1] for r in rounds)
                print(f"ceiling on 2 cores for this work: {ceiling:.2f}x")
        last = 2 if 2 in walls else args.jobs[-1]
        print(f"{args.quality}-quality real-time factor with {last} jobs: {walls[last] / duration:.2f}")


if __name__ == "__main__":
    main()
