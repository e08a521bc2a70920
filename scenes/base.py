"""The scene base classes: TraceScene -> LayerScene -> HeadScene.

- TraceScene draws one Trace, with the furniture every scene shares: the theme, a
  heading, a caption line, the pace, words from the string table, cheap show/hide/swap.
- LayerScene follows one layer (the user's --layer, or the layer of the head the stated
  rule picks) on the prompt's tokens, shown whole or through a window.
- HeadScene follows one head of that layer, and owns the grid of scores that the dot
  product, mask and softmax scenes share.

Rendering cost grows with the glyphs Manim redraws each frame, and Manim redraws every
frame everything from the first animated mobject onwards, counting a group with one
animated member as animated. So scenes keep large tables flat in the scene (each cell its
own top-level mobject: see `show`, `hide`, `swap`) and bring the few things they animate
to the front.
"""

import os
import re
from dataclasses import dataclass

import numpy as np
from manim import LEFT, UL, UP, Group, Scene, Wait, config

from scenes.catalog import entry_of
from scenes.kit.colour import blend, colour_limit, diverging_rgb, scale_legend
from scenes.kit.diagram import CornerMap, config_sizes
from scenes.kit.grid import TokenGrid
from scenes.kit.motion import CheapShowing, Fade
from scenes.kit.numbers import MINUS_INFINITY, fmt_value
from scenes.kit.text import display_text, fit_within, words, wrap_columns
from scenes.kit.tokens import piece_label, window
from scenes.kit.vectors import VectorRow
from scenes.spoken import spoken_form
from scenes.strings import say_both
from scenes.theme import get_theme
from scenes.views import LayerView, choose_head, head_behaviour


@dataclass(frozen=True)
class SceneOptions:
    language: str = "en"  # key of the string table (scenes/strings.py)
    theme: str = "dark"  # "dark" or "light"
    layer: int | None = None  # the layer and head the attention deep dive follows
    head: int | None = None  # (None: chosen by a stated rule)
    pace: float = 1.0  # multiplies every run_time and wait
    on_screen_captions: bool = True  # False: the caption line is not drawn (it still times the caption files)
    corner_map: bool = True  # False (--no-map): no small map of the forward pass in the corner


SPEECH_PAUSE = 0.4  # seconds of quiet after a spoken line before its beat may end


def shown_model_name(model):
    """A model as named on screen and slide: a path shows its folder's name, hub names as they are."""
    name = os.path.basename(os.path.normpath(model)) if os.sep in model else model
    return wrap_columns(display_text(name), 40, 1)[0]


class TraceScene(CheapShowing, Scene):
    """Subclasses draw `self.trace` (a tracer.trace.Trace) in `construct`, one Manim section per beat."""

    trace = None
    options = SceneOptions()
    info = None  # its catalog entry (scenes/catalog.py), when it is not in CATALOG itself (a test's scene)
    # Bound by the renderer for a narrated clip (renderer/narration.py): speak(line_id, text)
    # returns the line's speech, mono samples at `narrator.rate`. None: a silent clip, timed as ever.
    narrator = None

    # Layout shared by every scene (Manim units; the frame is 14.2 x 8).
    margin = 0.45
    heading_size = 40
    caption_size = 26

    @classmethod
    def bind(cls, trace, options=SceneOptions(), narrator=None):
        """A subclass of this scene that draws `trace` with `options` (Manim builds scenes without
        arguments), spoken by `narrator` when given."""
        return type(cls.__name__, (cls,), {"trace": trace, "options": options, "narrator": narrator})

    def setup(self):
        if self.trace is None:
            raise ValueError(f"{type(self).__name__} has no trace: build it with {type(self).__name__}.bind(trace)")
        self.theme = get_theme(self.options.theme)
        self.camera.background_color = self.theme.background
        self.caption = None
        self.caption_cues = []  # (time it appears, text) of every caption line: the caption files' cues
        self.speech_cues = []  # (time it starts, samples) of every spoken line: the clip's sound
        self.script = []  # (line ID, written, spoken) of every caption line: the narration script
        self.speech_until = 0.0  # when the last line's speech (and its pause) ends
        self.beat_number, self.beat_title, self.line_number = 0, "start", 0  # for each line's stable ID
        self.corner_map = self.add_corner_map() if self.options.corner_map else None

    def tear_down(self):
        """Done drawing: the last line's speech waited out, then drop what this scene read from a
        trace file (a worker renders its next scene with the same Trace, and that scene reads its
        own tensors)."""
        self.hold_for_speech()
        self.trace.forget()
        super().tear_down()

    def catalog_name(self):
        """This scene's name in the catalog ("tokens"), or None for a scene outside it."""
        info = self.info or entry_of(type(self))  # bound and test subclasses too
        return None if info is None else info.name

    def add_corner_map(self):
        """The small map of the forward pass, this scene's part lit, in the top right margin
        (scenes/kit/diagram.py; None for a scene its catalog line puts on no part: title, map)."""
        info = self.info or entry_of(type(self))
        if info is None or not info.lights:
            return None
        corner = CornerMap(self.theme, config_sizes(self.trace), info.lights).place(self)
        self.add(corner)  # first in the scene, never animated: drawn once into the background
        return corner

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

    def beat(self, name):
        """Start a new beat: one Manim section (one slide), once the last one's speech has ended."""
        self.hold_for_speech()
        self.next_section(f"{type(self).__name__}.{name}")
        self.beat_number, self.beat_title, self.line_number = self.beat_number + 1, name, 0

    # -- narration: the voice sets the beat's length when it is longer than the animation ----

    def hold_for_speech(self):
        """The one place a narrated scene waits for its voice (manim-voiceover's pattern: a beat
        lasts as long as the longer of its animations and its speech): called where a beat, a
        caption line or the scene ends. Not scaled by the pace: the speech sets this time.
        Without a narrator, nothing is ever waited for."""
        remaining = self.speech_until - self.renderer.time
        if remaining >= 1 / config.frame_rate:  # less than a frame would draw nothing
            Scene.wait(self, remaining)

    def line_id(self):
        """The stable ID of the line being spoken: scene, beat and line ("tokens.02_pieces.1"),
        what a lecturer's recording of it is named (renderer/narration.py). The beat part is
        the one its beat clip is named by (02_tokens.02_pieces.mp4: renderer.beats.safe_name's
        rule, so "step 1" is "step-1"), a file name's characters only."""
        scene = self.catalog_name() or type(self).__name__
        beat = re.sub(r"[^A-Za-z0-9_-]+", "-", self.beat_title).strip("-") or "beat"
        return f"{scene}.{self.beat_number:02d}_{beat}.{self.line_number}"

    def speak(self, text):
        """Hand the caption `text`'s spoken form to the narrator, starting now; the beat holds
        until it has ended, plus SPEECH_PAUSE."""
        self.line_number += 1
        spoken = spoken_form(text, self.options.language, self.__dict__.get("spoken_lines", {}).get(text))
        self.script.append((self.line_id(), text, spoken))
        if self.narrator is None:
            return
        samples = self.narrator.speak(self.line_id(), spoken)
        start = self.renderer.time
        self.speech_cues.append((start, samples))
        if len(samples):
            self.speech_until = start + len(samples) / self.narrator.rate + SPEECH_PAUSE

    # -- words ---------------------------------------------------------------------------

    def say(self, key, **values):
        """The string table's text for `key` in this scene's language (its spoken form, where the
        table has one, is remembered for when the line becomes a caption: see speak)."""
        written, spoken = say_both(self.options.language, key, **values)
        if spoken is not None:
            self.__dict__.setdefault("spoken_lines", {})[written] = spoken
        return written

    def words(self, key, size=28, color=None, strut=False, **values):
        """A Text of the string table's `key` in the theme's text font."""
        return words(self.theme, self.say(key, **values), size=size, color=color, strut=strut)

    def piece(self, index, whole=False):
        """Token `index` as chips and labels show it (spaces as ␣, emoji as code points; a
        long piece cut with "…" unless `whole`: see kit.tokens.PIECE_COLUMNS)."""
        return piece_label(self.trace.token_text(index), whole=whole)

    def candidate_label(self, entry):
        """A predicted token's label: its piece, or its ID when the Trace never saw the piece."""
        if entry["piece"] is None:
            return self.say("token_id", token_id=entry["id"])
        return piece_label(entry["piece"])

    def rank_notes(self, entries):
        """Per chart row: "rank 29" for a chosen token sampled from outside the top, else None."""
        return [self.say("prediction.rank", rank=e["rank"]) if e.get("outside") and e["rank"] else None
                for e in entries]

    def model_name(self):
        """The model as named on screen (shown_model_name)."""
        return shown_model_name(self.trace.model)

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

    def left_edge(self):
        return -config.frame_width / 2 + self.margin

    def right_edge(self):
        return config.frame_width / 2 - self.margin

    def content_top(self):
        """The y below which a scene's main picture goes (under the heading's line)."""
        return self.top - 0.85

    def caption_top(self):
        """The y above which content must stay clear of the caption line."""
        return self.bottom + 0.85

    def show_heading(self, key):
        """The scene's name at the top left; stays for the whole scene."""
        heading = self.words(key, size=self.heading_size, color=self.theme.muted)
        heading.to_corner(UL, buff=self.margin)
        self.add(heading)
        return heading

    def set_caption(self, text, run_time=0.7):
        """Say what the beat is about: replace the bottom caption line with `text` (the old
        one leaves before the new one comes, so two sentences never blur together). The
        line is recorded with the time it appears, for the caption files, and spoken from then
        on when the scene is narrated (the old line's speech ends first); without on-screen
        captions it takes the same time and draws nothing, so both videos run alike."""
        drawn = self.options.on_screen_captions
        self.hold_for_speech()
        if self.caption_cues:
            if drawn:
                self.play(Fade(self.caption, appear=False), run_time=run_time * 0.4)
            else:
                self.wait(run_time * 0.4)
        self.caption_cues.append((self.renderer.time, text))
        self.speak(text)
        if not drawn:
            self.wait(run_time * 0.6)
            return None
        new = words(self.theme, text, size=self.caption_size, color=self.theme.text)
        fit_within(new, width=self.content_width)
        new.move_to([0, self.bottom + new.height / 2, 0])
        self.play(Fade(new, shift=0.15 * UP), run_time=run_time * 0.6)
        self.caption = new
        return new

    def window_note(self, shown, total, under=None, left_of=None):
        """ "showing 24 of 40 tokens" when a long prompt is windowed (a list, empty when
        everything is shown, to splat into a group): at the top right, or at the right
        under `under`, or on the line of `left_of`, just left of it."""
        if shown >= total:
            return []
        note = self.words("window_note", size=20, color=self.theme.muted, shown=shown, total=total)
        if left_of is not None:
            return [note.move_to([left_of.get_left()[0] - 0.4 - note.width / 2, left_of.get_y(), 0])]
        y = self.top - note.height / 2 if under is None else under.get_bottom()[1] - 0.1 - note.height / 2
        return [note.move_to([self.right_edge() - note.width / 2, y, 0])]

    def scale_legend(self, limit, top_gap, size):
        """The colour scale's legend (with its limit) at the top right, top_gap below the top."""
        ramp, caption = scale_legend(self.theme, limit, self.say("scale_legend", limit=fmt_value(limit)), size=size)
        legend = Group(ramp, caption)
        return legend.move_to([self.right_edge() - legend.width / 2, self.top - top_gap, 0])

    def vector_rows(self, rows, top=None, pitch=1.55, n_values=6, limit=None):
        """Labelled vectors one under another on one colour scale: for each (label, vector,
        trace name[, row]) the label, the first values (each the Trace's name[row, d]; row:
        the prompt's last token unless given) and the whole vector as a strip. Returns each
        row's parts, a list."""
        limit = colour_limit(*[row[1] for row in rows]) if limit is None else limit
        top = self.content_top() - 0.2 if top is None else top
        shown = []
        for k, (label, vector, name, *index) in enumerate(rows):
            index = index[0] if index else self.trace.n_prompt_tokens - 1
            y = top - k * pitch
            self.align_left(label, y)
            meanings = [("trace", name, (index, d)) for d in range(n_values)]
            more = self.words("values_more", size=20, color=self.theme.muted, n_more=len(vector) - n_values)
            row = VectorRow(self.theme, vector, meanings, size=24, more=more, limit=limit,
                            strip_width=self.content_width, strip_height=0.28)
            row.shift([self.left_edge(), y - 0.48, 0])
            shown.append([label, *row])
        return shown

    # -- placing -----------------------------------------------------------------------------

    def align_left(self, mob, y):
        mob.move_to([self.left_edge(), y, 0], aligned_edge=LEFT)
        return mob

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

    def row_pitch(self, width, n_rows, row_height, max_growth=1.6, max_scale=1.4):
        """A table's nominal row height: `row_height`, or taller (up to `max_growth` times)
        when the table, once fitted to the frame's width, would leave the height half empty."""
        scale = min(self.content_width / width, max_scale)
        room = (self.content_top() - self.caption_top()) / scale
        return min(max(row_height, room / n_rows), max_growth * row_height)


class LayerScene(TraceScene):
    """A scene that follows one layer on the prompt's tokens: the user's --layer, or the
    layer of the head the stated rule picks (scenes.views.choose_head), so the whole deep
    dive stays in one layer. `self.layer_view` holds that layer's numbers."""

    max_tokens = 16  # prompts up to this many tokens are shown whole ...
    window_tail = 11  # ... longer ones as the first token, an ellipsis and the last 11
    tag_size = 24
    tag_key = "attention.tag_layer"  # the tag at the top right: "layer L"

    def setup(self):
        super().setup()
        self.choice = choose_head(self.trace, self.options.layer, self.options.head)
        self.layer_view = LayerView(self.trace, self.choice.layer)
        self.indices = window(self.n_tokens, self.max_tokens, head=1, tail=self.window_tail)

    @property
    def layer(self):
        return self.choice.layer

    @property
    def head(self):
        return self.choice.head

    @property
    def n_tokens(self):
        return self.trace.n_prompt_tokens

    @property
    def last(self):
        """The prompt's last token: the one whose prediction the video follows."""
        return self.n_tokens - 1

    @property
    def hidden(self):
        """Token positions the window leaves out."""
        shown = set(self.indices)
        return [i for i in range(self.n_tokens) if i not in shown]

    def labels(self):
        return [self.piece(i) if i is not None else None for i in self.indices]

    def show_heading(self, key):
        heading = super().show_heading(key)
        tag = self.words(self.tag_key, size=self.tag_size, color=self.theme.accent_2, layer=self.layer,
                         head=self.head)
        tag.move_to([self.right_edge() - tag.width / 2, heading.get_y(), 0])
        self.add(tag)
        self.tag = tag
        return heading

    def why_line(self):
        """Which layer and head the deep dive follows, why (the rule, or the user's choice),
        and what the head does: under the heading of the deep dive's first scenes."""
        key = "attention.why_rule" if self.choice.by_rule else "attention.why_user"
        word, share = head_behaviour(self.layer_view.head_square("attn.hook_pattern", self.head),
                                     self.trace.token_ids[: self.n_tokens])
        does = self.say(f"head.{word}", percent=f"{round(100 * share)}%")
        line = self.words(key, size=22, color=self.theme.muted, layer=self.layer, head=self.head, does=does)
        fit_within(line, width=self.content_width)
        return self.align_left(line, self.top - 0.85)

    def adding_rows(self, keys, vectors, names):
        """The last token's vector, what is added to it, and their sum: three labelled rows
        (string keys, vectors, this layer's trace names), in the text, second and accent colours."""
        colours = (self.theme.text, self.theme.accent_2, self.theme.accent)
        labels = [self.words(key, size=22, color=colour, layer=self.layer) for key, colour in zip(keys, colours)]
        return self.vector_rows([(label, vector, f"blocks.{self.layer}.{name}")
                                 for label, vector, name in zip(labels, vectors, names)])

    def window_notice(self, beside_tag=False):
        """ "showing 12 of 40 tokens" under the tag, or on its line just left of it."""
        shown = sum(i is not None for i in self.indices)
        place = {"left_of": self.tag} if beside_tag else {"under": self.tag}
        return self.window_note(shown, self.n_tokens, **place)


class HeadScene(LayerScene):
    """A scene that follows one head of the layer; `self.head_view` holds its numbers."""

    tag_key = "attention.tag"  # "layer L · head H"
    min_grid_scale = 0.6  # a TokenGrid scaled below this (number size 24 -> 14.4) gets a narrower window
    tile_strength = 0.5  # how strongly the grid's tiles take the colour scale (1: fully)

    def setup(self):
        super().setup()
        self.head_view = self.layer_view.head(self.choice.head)

    # -- the grid of scores, shared by the dot product, mask and softmax scenes ---------------

    def token_grid(self, widest, sum_header=None):
        """A TokenGrid over the window, filling the room between the heading and the caption.
        When its numbers are so wide that every token would not fit legibly (a trained
        model's large dot products), the window narrows to the first and the last tokens,
        two fewer at a time, until the grid is legible (or only the first and 3 last remain)."""
        region = (self.left_edge(), self.right_edge(), self.content_top(), self.caption_top() + 0.05)

        def build():
            return TokenGrid(self.theme, self.labels(), widest, region, corner_text=self.say("attention.corner"),
                             sum_header=sum_header)

        grid = build()
        tail = min(self.window_tail, self.n_tokens - 2)
        while grid.scale < self.min_grid_scale and tail >= 3:
            narrower = window(self.n_tokens, 0, head=1, tail=tail)
            if len(narrower) < len(self.indices):
                self.indices = narrower
                grid = build()
            tail -= 2
        return grid

    def grid_numbers(self, grid, matrix, kind, where=None, fmt=fmt_value, color=None):
        """{(row, column): number} for the shown cells of a (T, T) matrix, each meaning
        (kind, layer, head, query, key); `where(i, j)` picks which cells (default: all)."""

        def make(row, column):
            i, j = self.indices[row], self.indices[column]
            if i is None or j is None or (where is not None and not where(i, j)):
                return None
            return grid.number(row, column, matrix[i, j], (kind, self.layer, self.head, i, j), fmt=fmt,
                               color=color)

        return grid.fill(make)

    def minus_infinity(self, grid, row, column):
        """−∞ in a masked cell (the Trace's own score there: hook_attn_scores holds -inf)."""
        text = grid.text(row, column, MINUS_INFINITY, color=self.theme.muted)
        text.value = float("-inf")
        text.meaning = ("masked", self.layer, self.head, self.indices[row], self.indices[column])
        return text

    def score_tiles(self, grid, matrix, masked=False):
        """Tiles coloured by value on the diverging scale (blue negative, orange positive),
        softened so the numbers on them stay readable; masked future cells left dark."""
        shown = np.array([[matrix[i, j] if i is not None and j is not None else np.nan for j in self.indices]
                          for i in self.indices])
        if masked:
            future = np.array([[i is not None and j is not None and j > i for j in self.indices]
                               for i in self.indices])
            shown = np.where(future, np.nan, shown)
        limit = colour_limit(shown[np.isfinite(shown)]) if np.isfinite(shown).any() else 1.0
        return grid.tiles(blend(self.theme, diverging_rgb(self.theme, shown, limit), self.tile_strength))

    def last_seen(self):
        """For each shown row, the last shown column it may look at (itself): the staircase."""
        columns = {i: c for c, i in enumerate(self.indices) if i is not None}
        return [None if i is None else columns[i] for i in self.indices]
