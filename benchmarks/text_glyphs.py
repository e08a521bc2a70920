"""What converting each glyph once saves (scenes/kit/text.py's GlyphText): the scene checks'
render of every catalog scene (tests/scene_checks.py: a small frame, animations skipped, the
last frame drawn) on nano-sort ("CBABBC", 6 greedy tokens), in English and Japanese, once
with GlyphText and once with Manim's own Text in its place, in one process, each from empty
text caches. Prints the CPU seconds of each and their ratio, and checks that both drew the
same last frames.

    .venv/bin/python benchmarks/text_glyphs.py [--scenes title,tokens,sampling]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from manim import Text  # noqa: E402  (after the path: run from anywhere)
from scene_checks import render  # noqa: E402

from scenes import catalog  # noqa: E402
from scenes.base import SceneOptions  # noqa: E402
from scenes.kit import numbers, text  # noqa: E402


def use_text_class(text_class):
    """Build every text of the kit with `text_class`, from empty caches."""
    text.GlyphText = numbers.GlyphText = text_class
    for cached in (text._words_prototype, numbers._mono_prototype, numbers._NumberGlyphs.at):
        cached.cache_clear()
    text.GLYPH_TEMPLATES.clear()


def render_all(infos, trace, languages):
    """(CPU seconds, last frames) of the check renders of `infos` on `trace` in `languages`."""
    frames = []
    start = time.process_time()
    with tempfile.TemporaryDirectory() as work:
        for language in languages:
            for info in infos:
                scene = render(info.load().bind(trace, SceneOptions(language=language)), work)
                frames.append(np.array(scene.renderer.get_frame()))
    return time.process_time() - start, frames


def before_and_after(infos, trace, before, after, languages=("en", "ja")):
    """The check renders of `infos` on `trace` once with the code as `before()` sets it up, then
    as `after()` does: (CPU seconds before, after, how many renders each, whether their last
    frames are identical)."""
    before()
    first, first_frames = render_all(infos, trace, languages)
    after()
    second, second_frames = render_all(infos, trace, languages)
    same = all(np.array_equal(a, b) for a, b in zip(first_frames, second_frames, strict=True))
    return first, second, len(second_frames), same


def demo_scenes(scenes):
    """The nano-sort demo's trace ("CBABBC", 6 greedy tokens) and the catalog entries named in
    `scenes` (comma-separated; None: every scene)."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    trace = trace_prompt(load_model("nano-sort"), "CBABBC", generate=6, sampling=Sampling(temperature=0))
    names = scenes.split(",") if scenes else [info.name for info in catalog.CATALOG]
    return trace, [catalog.get(name) for name in names]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", help="comma-separated catalog names (default: every scene)")
    args = parser.parse_args()

    trace, infos = demo_scenes(args.scenes)
    glyph_text = text.GlyphText
    render_all(infos[:1], trace, ["en"])  # imports, fonts and Pango warmed for both
    manims, glyphs, renders, same = before_and_after(infos, trace, lambda: use_text_class(Text),
                                                     lambda: use_text_class(glyph_text))
    print(f"{renders} check renders (nano-sort, en and ja): Manim's Text {manims:.1f} s CPU, "
          f"GlyphText {glyphs:.1f} s CPU: {glyphs / manims:.2f} of the time; last frames "
          f"{'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
