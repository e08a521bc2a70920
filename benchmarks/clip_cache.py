"""What does the clip cache save? An unchanged video again, and one option changed.

nano-sort on "CBABBC" with 6 generated tokens (greedy), every scene of the storyboard, low
quality. The trace is made once; each render runs `render.py video --trace ...` in a
subprocess with a fresh cache folder of its own (GPT2_EXPLAINER_CACHE), as a user would:

1. cold: an empty cache, every scene rendered (and stored);
2. warm: the same video again: every clip from the cache (target: at most 10% of cold);
3. --layer 0: only the scenes that follow a layer or head render again, the rest come
   from the cache.

Prints each wall time, the warm/cold ratio, and how many scenes each render took from the
cache. Timings are noisy on a shared machine.

    .venv/bin/python benchmarks/clip_cache.py [--quality low] [--jobs N] [--scenes a,b,...]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenes import catalog  # noqa: E402  (after the path: run from anywhere)
from renderer.presets import QUALITIES  # noqa: E402

RENDER = [sys.executable, str(ROOT / "render.py")]


def run(*args, env=None):
    """Run render.py; returns (wall seconds, its stderr)."""
    started = time.perf_counter()
    result = subprocess.run([*RENDER, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started, result.stderr


def rendered_and_cached(stderr, total):
    """(scenes rendered, scenes from the cache), from the render's first line on stderr."""
    if f"All {total} scene" in stderr:
        return 0, total
    rendered = int(re.search(r"Rendering (\d+) scene", stderr).group(1))
    return rendered, total - rendered


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="low", choices=list(QUALITIES))
    parser.add_argument("--jobs", type=int, default=None, help="worker processes [default: one per core]")
    parser.add_argument("--scenes", default=",".join(catalog.names()), help="a smaller run, to check the script")
    args = parser.parse_args()
    names = args.scenes.split(",")
    following = [name for name in names if catalog.get(name).follows is not None]

    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "GPT2_EXPLAINER_CACHE": os.path.join(directory, "cache")}
        env.pop("GPT2_EXPLAINER_CACHE_SIZE", None)  # the default limit, 2 GB: the whole video fits
        trace = os.path.join(directory, "sort.safetensors")
        run("trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6", "--temperature", "0",
            "--out", trace)
        print(f"nano-sort 'CBABBC' + 6 tokens, {len(names)} scenes, quality {QUALITIES[args.quality].label}, "
              f"{'one job per core' if args.jobs is None else f'{args.jobs} jobs'}; {os.cpu_count()} CPU cores")

        def video(label, *options):
            out = os.path.join(directory, f"{label}.mp4")
            jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
            seconds, stderr = run("video", "--trace", trace, "--quality", args.quality, "--scenes", args.scenes,
                                  *jobs, "--out", out, *options, env=env)
            rendered, cached = rendered_and_cached(stderr, len(names))
            print(f"{label}: wall {seconds:.1f} s, {rendered} scenes rendered, {cached} from the cache")
            return seconds, rendered

        cold, _ = video("cold")
        warm, rendered = video("warm")
        assert rendered == 0, "an unchanged video rendered scenes again"
        layer, rendered = video("--layer 0", "--layer", "0")
        print(f"--layer 0 re-rendered {rendered} of {len(names)} scenes; {len(following)} follow a layer or head "
              f"({', '.join(following) or 'none'}){'' if rendered == len(following) else ': MISMATCH'}")
        ratio = warm / cold
        print(f"warm/cold ratio: {ratio:.3f} (target at most 0.10: {'met' if ratio <= 0.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
