"""How much memory does a render take for a long trace? Peak RSS of stills and of a video's workers.

A GPT-2-small-shaped model (12 layers, 12 heads, 768 wide, random weights, GPT-2's real
tokenizer) traces a 511-token prompt plus 1 generated token: 512 tokens traced, the
trace file about 770 MB. Then, each in its own subprocess, as a user would run them:

- `render.py still --trace T --scene S --quality low` for each scene;
- `render.py video --trace T --quality low`: the parent and each worker process.

Each process's peak resident memory is the kernel's own high-water mark (VmHWM in
/proc/PID/status, polled every 50 ms while the process lives; it only grows). As a cross-check,
the largest over the process tree from os.wait4 (ru_maxrss covers every descendant waited
for; Linux counts in it the memory of the process it was forked from, so the trace is
recorded in a subprocess of its own and this process stays small: its own peak is printed).

Targets (issue 12): a still peaks under 0.5 GB; no worker holds more than the tensors its
scene reads (compare a worker's peak with the stills' peaks and the trace's size).

    .venv/bin/python benchmarks/trace_memory.py [--tokens 512] [--scenes a,b] [--video-scenes a,b]
        [--jobs N] [--no-video] [--trace FILE (reuse one; else built in a temporary folder)]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenes import catalog  # noqa: E402  (after the path: run from anywhere)

RENDER = [sys.executable, str(ROOT / "render.py")]
STILL_TARGET_GB = 0.5
TEXT = ("The quick brown fox jumps over the lazy dog while the teacher explains, slowly and with care, "
        "how a transformer reads every token of the sentence before it guesses the next word of the text. ")


def build_trace_in_subprocess(path, n_tokens, directory):
    """build_trace in a process of its own: this one stays small (see the docstring)."""
    subprocess.run([sys.executable, __file__, "--tokens", str(n_tokens), "--build-only", path,
                    "--model-dir", directory], check=True)


def build_trace(path, n_tokens, directory):
    """Record a GPT-2-small-shaped model on n_tokens - 1 prompt tokens plus one generated token."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling
    from tracer.testing import GPT2_SMALL_SHAPE, build_random_checkpoint, real_gpt2_tokenizer

    loaded = load_model(str(build_random_checkpoint(os.path.join(directory, "model"), real_gpt2_tokenizer(),
                                                    **GPT2_SMALL_SHAPE)))
    ids = loaded.tokens.encode(TEXT * (n_tokens // 20 + 2))[: n_tokens - 1]
    prompt = b"".join(loaded.tokens.piece_bytes(ids)).decode("utf-8")
    trace = trace_prompt(loaded, prompt, generate=1, sampling=Sampling(temperature=0.8, top_k=40, top_p=0.95, seed=0))
    assert trace.n_traced == n_tokens, f"the prompt gave {trace.n_traced} tokens, not {n_tokens}"
    trace.save(path)
    return trace


def high_water_mark(pid):
    """The kernel's peak resident memory of a live process, in bytes (VmHWM); None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def descendants(pid):
    """Every live process under `pid` (children of children too), from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, its_parent in parents.items() if its_parent == parent]
        found += children
        frontier += children
    return found


def role(pid):
    """What a process under render.py is, from its command line: a scene worker (multiprocessing's
    spawn), or a helper (multiprocessing's resource tracker, a process not yet started)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().decode(errors="replace")
    except OSError:
        return "gone"
    return "worker" if "spawn_main" in words else "helper"


def run_measured(args, poll_seconds=0.05):
    """Run render.py `args`; returns (seconds, peak RSS over the process tree from wait4,
    {(role, pid): peak RSS} of the process ("parent") and each descendant, from their VmHWM while they lived)."""
    started = time.perf_counter()
    process = subprocess.Popen([*RENDER, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks, roles, done = {}, {}, threading.Event()

    def watch():
        while not done.is_set():
            for pid in [process.pid, *descendants(process.pid)]:
                mark = high_water_mark(pid)
                if mark is not None:  # the role again each time: a process just forked still has its parent's command line
                    roles[pid] = "parent" if pid == process.pid else role(pid)
                    peaks[pid] = max(peaks.get(pid, 0), mark)
            done.wait(poll_seconds)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    watcher.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"render.py {' '.join(args)} failed (status {process.returncode}):\n{stderr.decode()}")
    by_role = {(roles[pid], pid): peak for pid, peak in peaks.items()}
    return time.perf_counter() - started, usage.ru_maxrss * 1024, by_role  # ru_maxrss: KiB on Linux


def gb(size):
    return f"{size / 1e9:.2f} GB"


def describe(path):
    """(tokens traced, tensors) from the file's header alone (works for any version of Trace.load)."""
    from safetensors import safe_open

    with safe_open(path, framework="np") as file:
        return file.get_slice("hook_embed").get_shape()[0], len(file.keys())


def own_peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--trace", default=None, help="a trace file to measure (default: build one)")
    parser.add_argument("--scenes", default=",".join(catalog.names()), help="the scenes to still")
    parser.add_argument("--video-scenes", default=None, help="the video's scenes (default: all)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--build-only", default=None, help=argparse.SUPPRESS)  # the subprocess that records
    parser.add_argument("--model-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build_trace(args.build_only, args.tokens, args.model_dir)
        return

    with tempfile.TemporaryDirectory() as directory:
        trace_path = args.trace or os.path.join(directory, "long.safetensors")
        if not args.trace:
            started = time.perf_counter()
            build_trace_in_subprocess(trace_path, args.tokens, directory)
            print(f"trace: {args.tokens} tokens of a GPT-2-small-shaped model recorded and saved in "
                  f"{time.perf_counter() - started:.0f} s")
        n_traced, n_tensors = describe(trace_path)
        print(f"trace file: {n_traced} tokens traced, {n_tensors} tensors, {gb(os.path.getsize(trace_path))} on disk")

        stills = {}
        for name in args.scenes.split(","):
            out = os.path.join(directory, f"{name}.png")
            seconds, tree_peak, peaks = run_measured(["still", "--trace", trace_path, "--scene", name,
                                                      "--quality", "low", "--out", out])
            stills[name] = max(peak for (kind, _), peak in peaks.items() if kind == "parent")
            print(f"still {name:<16} peak RSS {gb(stills[name])}  (wait4: {gb(tree_peak)}; {seconds:.0f} s)",
                  flush=True)
        heaviest = max(stills, key=stills.get)
        holds = stills[heaviest] < STILL_TARGET_GB * 1e9
        print(f"stills: heaviest {heaviest} at {gb(stills[heaviest])}; target < {STILL_TARGET_GB} GB: "
              f"{'holds' if holds else 'DOES NOT HOLD'}")

        if not args.no_video:
            video = ["video", "--trace", trace_path, "--quality", "low", "--no-cache",  # render, not copy
                     "--out", os.path.join(directory, "v.mp4")]
            if args.video_scenes:
                video += ["--scenes", args.video_scenes]
            if args.jobs:
                video += ["--jobs", str(args.jobs)]
            seconds, tree_peak, peaks = run_measured(video)
            parent = max((peak for (kind, _), peak in peaks.items() if kind == "parent"), default=0)
            workers = sorted((peak for (kind, _), peak in peaks.items() if kind == "worker"), reverse=True)
            print(f"video (low quality, {len(workers)} worker processes), {seconds:.0f} s: "
                  f"parent peak RSS {gb(parent)}; worker peaks {', '.join(gb(w) for w in workers)}; "
                  f"largest over the process tree (wait4) {gb(tree_peak)}")
            print(f"video: largest worker peak {gb(workers[0] if workers else 0)} against the heaviest still's "
                  f"{gb(stills[heaviest])} and the trace's {gb(os.path.getsize(trace_path))}")
        print(f"(this benchmark process's own peak RSS: {gb(own_peak())}; wait4's figures are at least that)")


if __name__ == "__main__":
    main()
