"""TraceScene: a Manim Scene that draws one Trace, with the options every scene shares."""

from dataclasses import dataclass

from manim import Scene


@dataclass(frozen=True)
class SceneOptions:
    language: str = "en"  # key of the string table (scenes/strings.py)
    theme: str = "dark"  # "dark" or "light"
    layer: int | None = None  # the layer and head the attention deep dive follows
    head: int | None = None  # (None: chosen by a stated rule)
    pace: float = 1.0  # multiplies every run_time and wait


class TraceScene(Scene):
    """Subclasses draw `self.trace` (a tracer.trace.Trace) in `construct`, one Manim section per beat."""

    trace = None
    options = SceneOptions()

    @classmethod
    def bind(cls, trace, options=SceneOptions()):
        """A subclass of this scene that draws `trace` with `options` (Manim builds scenes without arguments)."""
        return type(cls.__name__, (cls,), {"trace": trace, "options": options})
