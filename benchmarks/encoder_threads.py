"""What x264's threads cost: encoding real frames with one thread (the presets' choice)
against x264's own thread count ("auto": 1.5 per core), at every quality preset.

The frames are a rendered nano-sort video's ("CBABBC", 6 greedy tokens; the scenes given,
default tokens and softmax), decoded back to RGBA and scaled to each preset's size, then
encoded the way Manim encodes a clip (PyAV, RGBA frames in, yuv420p H.264 out) with the
preset's options, with threads=1 and with threads=auto, in turn, keeping each one's best. Prints, per preset, the
wall and CPU milliseconds per frame and the file size of each, and one thread's ratios to
auto's. A render runs one worker per core, so the CPU figure is what the other workers lose.

    .venv/bin/python benchmarks/encoder_threads.py [--scenes tokens,softmax] [--frames 300] [--repeat 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renderer.presets import QUALITIES  # noqa: E402  (after the path: run from anywhere)

RENDER = [sys.executable, str(ROOT / "render.py")]


def rendered_frames(directory, scenes, count):
    """Up to `count` RGBA frames of the low-quality video of `scenes`, evenly spread over it."""
    trace, video = os.path.join(directory, "sort.safetensors"), os.path.join(directory, "sort.mp4")
    for args in (("trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6", "--temperature", "0",
                  "--out", trace),
                 ("video", "--trace", trace, "--quality", "low", "--scenes", scenes, "--no-cache", "--out", video)):
        subprocess.run([*RENDER, *args], check=True, capture_output=True, cwd=ROOT)
    with av.open(video) as source:
        frames = list(source.decode(video=0))
    step = max(1, len(frames) // count)
    return frames[::step][:count]


def encode(frames, quality, options, path):
    """Encode `frames` (PyAV frames) at `quality`'s size and rate with x264 `options`;
    returns (wall seconds, CPU seconds, bytes). The scaling to size is not timed."""
    pictures = [frame.reformat(width=quality.width, height=quality.height).to_ndarray(format="rgba")
                for frame in frames]
    with av.open(path, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=int(quality.fps), options=options)
        stream.pix_fmt, stream.width, stream.height = "yuv420p", quality.width, quality.height
        started, cpu = time.perf_counter(), os.times()
        for number, picture in enumerate(pictures):  # as Manim's VideoSegmentEncoder does
            frame = av.VideoFrame.from_ndarray(picture, format="rgba")
            frame.pts = number
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        wall, after = time.perf_counter() - started, os.times()
    return wall, (after.user + after.system) - (cpu.user + cpu.system), os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="tokens,softmax")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="encodes of each setting; the best is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        frames = rendered_frames(directory, args.scenes, args.frames)
        print(f"{len(frames)} frames of nano-sort's {args.scenes.replace(',', ', ')}; {os.cpu_count()} CPU cores")
        for quality in QUALITIES.values():
            options = dict(quality.encoder_options)
            runs = {"1": [], "auto": []}
            for _ in range(args.repeat):  # interleaved, each setting's best: the machine is noisy
                for threads, times in runs.items():
                    times.append(encode(frames, quality, {**options, "threads": threads},
                                        os.path.join(directory, f"{quality.name}-{threads}.mp4")))
            results = {}
            for threads, times in runs.items():
                wall, cpu, size = results[threads] = (min(t[0] for t in times), min(t[1] for t in times), times[0][2])
                print(f"{quality.label:28s} threads={threads:4s}: {1000 * wall / len(frames):6.1f} ms/frame wall, "
                      f"{1000 * cpu / len(frames):6.1f} ms/frame CPU, {size / 1e6:6.2f} MB")
            (wall1, cpu1, size1), (wall_auto, cpu_auto, size_auto) = results["1"], results["auto"]
            print(f"{quality.label:28s} one thread / auto: wall {wall1 / wall_auto:.2f}, CPU {cpu1 / cpu_auto:.2f}, "
                  f"size {size1 / size_auto:.2f}")


if __name__ == "__main__":
    main()
