"""TraceScene: a Manim Scene that draws one Trace, with the options every scene shares."""

from dataclasses import dataclass

from manim import Wait, LEFT, UL, UP, Group, Scene, config

from scenes import helpers
from scenes.helpers import Fade
from scenes.strings import say
from scenes.theme import get_theme


@dataclass(frozen=True)
class SceneOptions:
    language: str = "en"  # key of the string table (scenes/strings.py)
    theme: str = "dark"  # "dark" or "light"
    layer: int | None = None  # the layer and head the attention deep dive follows
    head: int | None = None  # (None: chosen by a stated rule)
    pace: float = 1.0  # multiplies every run_time and wait


class TraceScene(Scene):
    """Subclasses draw `self.trace` (a tracer.trace.Trace) in `construct`, one Manim section per beat.

    Shared furniture: the theme's background, a heading at the top left, a caption line
    at the bottom (what the current beat says), and `play`/`wait` that honour the pace.
    """

    trace = None
    options = SceneOptions()

    # Layout shared by every scene (Manim units; the frame is 14.2 x 8).
    margin = 0.45
    heading_size = 40
    caption_size = 26

    @classmethod
    def bind(cls, trace, options=SceneOptions()):
        """A subclass of this scene that draws `trace` with `options` (Manim builds scenes without arguments)."""
        return type(cls.__name__, (cls,), {"trace": trace, "options": options})

    def setup(self):
        if self.trace is None:
            raise ValueError(f"{type(self).__name__} has no trace: build it with {type(self).__name__}.bind(trace)")
        self.theme = get_theme(self.options.theme)
        self.camera.background_color = self.theme.background
        self.caption = None

    # -- time: every run_time and wait scales with the pace ------------------------------

    def play(self, *animations, run_time=None, **kwargs):
        """Scene.play with run_time (default 1 s) multiplied by options.pace.

        Manim's `wait` comes through here too, with a Wait animation whose duration
        `wait` below has already scaled: that one keeps its own run_time.
        """
        if run_time is None and any(isinstance(animation, Wait) for animation in animations):
            return super().play(*animations, **kwargs)
        return super().play(*animations, run_time=(1.0 if run_time is None else run_time) * self.options.pace,
                            **kwargs)

    def wait(self, duration=1.0, *args, **kwargs):
        super().wait(duration * self.options.pace, *args, **kwargs)

    # -- words ---------------------------------------------------------------------------

    def say(self, key, **values):
        """The string table's text for `key` in this scene's language."""
        return say(self.options.language, key, **values)

    def words(self, key, size=28, color=None, **values):
        """A Text of the string table's `key` in the theme's text font."""
        return helpers.words(self.theme, self.say(key, **values), size=size, color=color)

    def rank_notes(self, entries):
        """Per chart row: "rank 29" for a chosen token sampled from outside the top, else None."""
        return [self.say("prediction.rank", rank=e["rank"]) if e.get("outside") and e["rank"] else None
                for e in entries]

    # -- furniture -----------------------------------------------------------------------

    @property
    def content_width(self):
        return config.frame_width - 2 * self.margin

    @property
    def top(self):
        return config.frame_height / 2 - self.margin

    @property
    def bottom(self):
        return -config.frame_height / 2 + self.margin

    def show_heading(self, key):
        """The scene's name at the top left; stays for the whole scene."""
        heading = self.words(key, size=self.heading_size, color=self.theme.muted)
        heading.to_corner(UL, buff=self.margin)
        self.add(heading)
        return heading

    def set_caption(self, text, run_time=0.7):
        """Say what the beat is about: replace the bottom caption line with `text` (the old
        one leaves before the new one comes, so two sentences never blur together)."""
        new = helpers.words(self.theme, text, size=self.caption_size, color=self.theme.text)
        helpers.fit_within(new, width=self.content_width)
        new.move_to([0, self.bottom + new.height / 2, 0])
        if self.caption is not None:
            self.play(Fade(self.caption, appear=False), run_time=run_time * 0.4)
        self.play(Fade(new, shift=0.15 * UP), run_time=run_time * 0.6)
        self.caption = new
        return new

    def caption_top(self):
        """The y above which content must stay clear of the caption line."""
        return self.bottom + 0.85

    def window_note(self, shown, total):
        """A note like "showing 24 of 40 tokens" at the top right when a long prompt is
        windowed (a list, empty when everything is shown, to splat into a group)."""
        if shown >= total:
            return []
        note = self.words("window_note", size=20, color=self.theme.muted, shown=shown, total=total)
        return [note.move_to([self.right_edge() - note.width / 2, self.top - note.height / 2, 0])]

    def place_below(self, mob, anchor, buff=0.4, floor=None, max_scale=1.0):
        """Put `mob` under `anchor` (a mobject, or a y coordinate), centred, shrunk if
        needed to stay above `floor` (default: the caption line) and within the content
        width; or grown, up to `max_scale`, when it leaves much of the room empty."""
        floor = self.caption_top() if floor is None else floor
        ceiling = (anchor if isinstance(anchor, (int, float)) else anchor.get_bottom()[1]) - buff
        mob.scale(min(self.content_width / mob.width, (ceiling - floor) / mob.height, max_scale))
        mob.move_to([0, ceiling - mob.height / 2, 0])
        return mob

    def fill_region(self, mob, top, bottom, max_scale=1.0):
        """Centre `mob` between the heights `top` and `bottom`, scaled to fit the region and
        the content width, growing by at most `max_scale` (a 3-row chart need not look lost)."""
        scale = min((top - bottom) / mob.height, self.content_width / mob.width, max_scale)
        mob.scale(scale)
        mob.move_to([0, (top + bottom) / 2, 0])
        return mob

    def beat(self, name):
        """Start a new beat: one Manim section (one slide)."""
        self.next_section(f"{type(self).__name__}.{name}")

    def left_edge(self):
        return -config.frame_width / 2 + self.margin

    def right_edge(self):
        return config.frame_width / 2 - self.margin

    def scale_legend(self, limit, key, top_gap, size):
        """The colour scale's legend (key's words, with the limit), at the top right, top_gap below the top."""
        ramp, caption = helpers.scale_legend(self.theme, limit, self.say(key, limit=helpers.fmt_value(limit)),
                                             size=size)
        legend = Group(ramp, caption)
        return legend.move_to([self.right_edge() - legend.width / 2, self.top - top_gap, 0])

    def align_left(self, mob, y):
        mob.move_to([self.left_edge(), y, 0], aligned_edge=LEFT)
        return mob
