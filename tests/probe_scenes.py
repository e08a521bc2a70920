"""Small scenes the rendering tests bind themselves: quick to render, independent of the real scenes.

Worker processes import this module by name (it is on sys.path through the tests directory),
so it imports only Manim and the scene base class, never torch.
"""

import errno
import os
import signal

from manim import BLUE, UP, Circle, Create, FadeIn, Square, Text

from scenes.base import TraceScene
from scenes.catalog import SceneInfo


class ProbeScene(TraceScene):
    """Draws the trace's prompt: 1 s + 0.5 s of plays (15 + 8 frames at 15 fps; no wait, see below)."""

    def construct(self):
        prompt = Text(self.trace.prompt, font_size=40)
        self.play(FadeIn(prompt), run_time=1.0)
        self.play(prompt.animate.shift(UP), run_time=0.5)


class ShapesScene(TraceScene):
    """A circle then a square, one per layer of the trace (so its length depends on the trace)."""

    def construct(self):
        for _ in range(self.trace.n_layers):
            self.play(Create(Circle(color=BLUE)), run_time=0.4)
            self.play(Create(Square()), run_time=0.4)


class ManyPlaysScene(TraceScene):
    """21 short plays (5 frames each at 15 fps): Manim joins as many segments into this clip,
    whose timestamps then drift a few ticks off the frame rate, as in the real tokens scene
    on a 21-token GPT-2 trace (its average rate reads 15.0004, not 15)."""

    def construct(self):
        for index in range(21):
            self.play(Create(Square(side_length=0.2 + 0.1 * index)), run_time=0.3)


class BrokenScene(TraceScene):
    """Fails halfway, after one animation has been encoded."""

    def construct(self):
        self.play(Create(Circle()), run_time=0.4)
        raise RuntimeError("this scene is broken on purpose")


class DiskFullScene(TraceScene):
    """Runs out of disk space halfway, as writing a frame or a segment on a full disk does."""

    def construct(self):
        self.play(Create(Circle()), run_time=0.4)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "segment.mp4")


class KilledScene(TraceScene):
    """Its process dies mid-render, as if killed from outside (out of memory, a signal)."""

    def construct(self):
        self.play(Create(Circle()), run_time=0.4)
        os.kill(os.getpid(), signal.SIGKILL)


class StaticScene(TraceScene):
    """Adds a text and never plays: a video needs at least one animation or wait."""

    def construct(self):
        self.add(Text("still"))


PROBE = SceneInfo("probe", __name__, "ProbeScene", "The prompt, faded in.")
SHAPES = SceneInfo("shapes", __name__, "ShapesScene", "A circle and a square per layer.")
BROKEN = SceneInfo("broken", __name__, "BrokenScene", "Raises halfway.")
DISK_FULL = SceneInfo("disk-full", __name__, "DiskFullScene", "Its disk fills up halfway.")
KILLED = SceneInfo("killed", __name__, "KilledScene", "Its process dies halfway.")
