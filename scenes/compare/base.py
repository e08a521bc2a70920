"""CompareScene: a scene that reads two Traces of one model (A = `trace`, B = `other`) and
follows one token in both (scenes/compare/pair.py). Two columns, A on the left and B on the
right, each headed by its letter and its prompt; every number says which trace it reads
(kit.numbers.from_trace)."""

from manim import LEFT, RIGHT, VGroup

from scenes.base import SceneOptions, TraceScene
from scenes.compare.pair import Pair
from scenes.kit.text import display_text, fit_within, shorten, words
from scenes.kit.tokens import piece_label


class CompareScene(TraceScene):
    other = None  # trace B (`trace` is A)
    word = None  # the user's --word, or None: the longest piece the prompts share
    column_gap = 0.5  # between the two columns
    prompt_columns = 34  # a prompt is cut to this many monospace columns in its column's header

    @classmethod
    def bind_pair(cls, a, b, options=SceneOptions(), word=None, narrator=None):
        """A subclass of this scene that draws traces `a` and `b` (Manim builds scenes without arguments),
        its caption lines spoken by `narrator` when given (as TraceScene.bind)."""
        return type(cls.__name__, (cls,), {"trace": a, "other": b, "options": options, "word": word,
                                           "narrator": narrator})

    def setup(self):
        if self.other is None:
            raise ValueError(f"{type(self).__name__} needs two traces: build it with "
                             f"{type(self).__name__}.bind_pair(a, b)")
        super().setup()
        self.pair = Pair(self.trace, self.other, self.word, self.options.layer, self.options.head)
        self.followed = self.pair.followed

    def tear_down(self):
        self.other.forget()
        super().tear_down()

    def add_corner_map(self):
        return None  # the map follows one prompt's forward pass

    def catalog_name(self):
        """Its name in the compare storyboard ("compare-tokens"): what its lines' IDs begin with, so
        a lecturer's recording (--narration DIR) is named after the scene as `compare` lists it."""
        from scenes.compare.catalog import entry_of

        info = self.info or entry_of(type(self))
        return None if info is None else info.name

    # -- facts -------------------------------------------------------------------------------------

    def traces(self):
        return {"a": self.trace, "b": self.other}

    def position(self, side):
        return self.pair.positions[side]

    def word_piece(self):
        """The followed token as a chip shows it (the same piece in both prompts)."""
        return piece_label(self.trace.token_text(self.position("a")))

    def side_piece(self, side, index):
        return piece_label(self.traces()[side].token_text(index))

    def label_of(self, entry):
        """A predicted token's label: its piece, or its ID when the trace has no piece for it."""
        return self.candidate_label(entry)

    # -- the two columns ---------------------------------------------------------------------------

    @property
    def column_width(self):
        return (self.content_width - self.column_gap) / 2

    def column_x(self, side):
        """The centre of column `side` ("a" left, "b" right)."""
        offset = (self.column_width + self.column_gap) / 2
        return -offset if side == "a" else offset

    def column_left(self, side):
        return self.column_x(side) - self.column_width / 2

    def side_header(self, side, y, size=24):
        """ "A  The bank of the river" at the top of column `side`: the letter in its colour, the
        prompt cut to fit."""
        colour = self.side_colour(side)
        letter = self.words(f"compare.side_{side}", size=size + 4, color=colour)
        prompt = words(self.theme, shorten(display_text(self.traces()[side].prompt), self.prompt_columns),
                       size=size, color=self.theme.muted)
        header = VGroup(letter, prompt).arrange(RIGHT, buff=0.25)
        fit_within(header, width=self.column_width)
        header.move_to([self.column_left(side), y, 0], aligned_edge=LEFT)
        return header

    def side_colour(self, side):
        return self.theme.accent if side == "a" else self.theme.accent_2

    def place_in_column(self, mob, side, top, bottom, max_scale=1.0):
        """Centre `mob` in column `side` between `top` and `bottom`, scaled to fit (grown by at most max_scale)."""
        scale = min((top - bottom) / mob.height, self.column_width / mob.width, max_scale)
        mob.scale(scale)
        mob.move_to([self.column_x(side), (top + bottom) / 2, 0])
        return mob

