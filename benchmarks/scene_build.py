"""What building shapes once and measuring a slide once save (scenes/kit/shapes.py's rounded
boxes, scenes/kit/motion.py's _Box): the scene checks' render of every catalog scene
(tests/scene_checks.py: a small frame, animations skipped, the last frame drawn) on
nano-sort ("CBABBC", 6 greedy tokens), in English and Japanese, warm, once with every
RoundedRectangle built afresh and every slide measured by Mobject.move_to each frame (as
before), once with the prototypes and _Box, in one process. Prints the CPU seconds of each
and their ratio, and checks that both drew the same last frames.

    .venv/bin/python benchmarks/scene_build.py [--scenes map,tokens,loop]
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from manim import RoundedRectangle  # noqa: E402  (after the path: run from anywhere)
from text_glyphs import before_and_after, demo_scenes, render_all  # noqa: E402  (the same renders and demo)

from scenes.kit import motion, shapes  # noqa: E402


def built_each_time(width, height, corner_radius, style):
    """A prototype that is never kept: every box rounds its own corners."""
    return RoundedRectangle(corner_radius=corner_radius, width=width, height=height, **dict(style))


class MeasuredEachFrame(motion._Box):
    """A slide that measures its part with Mobject.move_to every frame."""

    def move_to(self, point):
        self.part.move_to(point)


def use_prototypes(on, kept=(shapes._rounded_prototype, motion._Box)):
    shapes._rounded_prototype, motion._Box = kept if on else (built_each_time, MeasuredEachFrame)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", help="comma-separated catalog names (default: every scene)")
    args = parser.parse_args()

    trace, infos = demo_scenes(args.scenes)
    render_all(infos, trace, ["en", "ja"])  # texts, fonts and Pango warmed for both, as in a test worker
    afresh, kept, renders, same = before_and_after(infos, trace, lambda: use_prototypes(False),
                                                   lambda: use_prototypes(True))
    print(f"{renders} warm check renders (nano-sort, en and ja): shapes built and slides measured "
          f"each time {afresh:.1f} s CPU, prototypes and _Box {kept:.1f} s CPU: {kept / afresh:.2f} of the time; "
          f"last frames {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
