"""Scenes defined in the test suite, to show that a scene added to the catalog is checked
like every other (tests/test_catalog.py), and that the checks catch what is wrong.

POSITIONS is a new scene as a contributor adds one: this file stands for its file, its
catalog line is POSITIONS, and its strings are POSITIONS_STRINGS (what it would add to
scenes/strings.py and scenes/strings_ja.py)."""

from manim import Group, VGroup

from scenes.base import LayerScene, TraceScene
from scenes.catalog import SceneInfo
from scenes.kit.colour import colour_limit, colour_strip
from scenes.kit.motion import Fade
from scenes.kit.numbers import mono, value_text
from scenes.kit.text import words


class ExampleScene(LayerScene):
    """Two beats: the last token's first residual values entering the followed layer."""

    def construct(self):
        self.show_heading("layernorm.heading")
        self.beat("first")
        self.set_caption(self.say("focus_last_token"))
        numbers = self.numbers()
        self.play(Fade(numbers))
        self.wait(2.5)
        self.beat("second")
        self.set_caption(self.say("resid_entering", layer=self.layer))
        self.wait(2.5)

    def numbers(self):
        name = f"blocks.{self.layer}.hook_resid_pre"
        texts = [value_text(self.theme, self.trace[name][self.last, d], ("trace", name, (self.last, d)))
                 for d in range(12)]
        for i, text in enumerate(texts):
            text.move_to([-4 + 1.6 * (i % 6), 0.8 - 0.8 * (i // 6), 0])
        return VGroup(*texts)


class MissingKeyScene(ExampleScene):
    """Asks for a string no table has."""

    def construct(self):
        super().construct()
        self.set_caption(self.say("example.not_in_any_table"))
        self.wait(1)


class UntaggedNumberScene(ExampleScene):
    """Writes a number that does not say what it shows."""

    def numbers(self):
        group = super().numbers()
        group.add(mono(self.theme, "4.20").move_to([0, -2, 0]))
        return group


class WrongNumberScene(ExampleScene):
    """Writes a number that claims to be a value of the Trace, and is not."""

    def numbers(self):
        group = super().numbers()
        name = f"blocks.{self.layer}.hook_resid_pre"
        group.add(value_text(self.theme, 1234.5, ("trace", name, (self.last, 0))).move_to([0, -2, 0]))
        return group


class TextNumberScene(ExampleScene):
    """Types a number into a sentence in the text font."""

    def numbers(self):
        group = super().numbers()
        group.add(words(self.theme, "the largest value is 3.14 here").move_to([0, -1.6, 0]))
        return group


class OffFrameScene(ExampleScene):
    """Puts the vector's heat strip past the right edge of the frame."""

    def numbers(self):
        vector = self.trace[f"blocks.{self.layer}.hook_resid_pre"][self.last]
        strip = colour_strip(self.theme, vector, colour_limit(vector), width=3.0)
        return Group(super().numbers(), Group(*strip).move_to([7.5, -1.6, 0]))


class UnderCaptionScene(ExampleScene):
    """Draws the vector's heat strip over the caption line."""

    def numbers(self):
        vector = self.trace[f"blocks.{self.layer}.hook_resid_pre"][self.last]
        strip = colour_strip(self.theme, vector, colour_limit(vector), width=6.0)
        return Group(super().numbers(), Group(*strip).move_to([0, self.bottom + 0.2, 0]))


def entry(class_name, name):
    return SceneInfo(name, __name__, class_name, "A scene of the test suite.", follows="layer")


EXAMPLE = entry("ExampleScene", "example")
MISSING_KEY = entry("MissingKeyScene", "missing-key")
UNTAGGED_NUMBER = entry("UntaggedNumberScene", "untagged-number")
WRONG_NUMBER = entry("WrongNumberScene", "wrong-number")
TEXT_NUMBER = entry("TextNumberScene", "text-number")
OFF_FRAME = entry("OffFrameScene", "off-frame")
UNDER_CAPTION = entry("UnderCaptionScene", "under-caption")


class PositionsScene(TraceScene):
    """The position rows of W_P (hook_pos_embed): the first tokens' rows, then the last token's."""

    def construct(self):
        self.show_heading("positions.heading")
        self.beat("rows")
        self.set_caption(self.say("positions.explain_rows", d_model=self.trace.d_model))
        first = self.rows(range(min(3, self.trace.n_prompt_tokens)))
        self.show(first)
        self.wait(2.5)
        self.beat("last")
        self.hide(first)
        self.set_caption(self.say("positions.explain_last"))
        self.show(self.rows([self.trace.n_prompt_tokens - 1]))
        self.wait(2.5)

    def rows(self, positions):
        """Each position's row: its label, its first values, the whole row as a heat strip."""
        rows = [(self.words("embeddings.position", size=24, position=i), self.trace["hook_pos_embed"][i],
                 "hook_pos_embed", i) for i in positions]
        return [part for row in self.vector_rows(rows) for part in row]


POSITIONS = SceneInfo("positions", __name__, "PositionsScene", "The position rows of W_P, as heat strips.",
                      reads=("hook_pos_embed",), lights=("embed",), heading="positions.heading")
POSITIONS_STRINGS = {
    "en": {
        "positions.heading": "Positions",
        "positions.explain_rows": "Each position has its own row of W_P, {d_model} numbers, added to its token's row.",
        "positions.explain_last": "The last token's position row: the same for any token standing there.",
    },
    "ja": {
        "positions.heading": "位置",
        "positions.explain_rows": "位置ごとにW_Pの行（{d_model}個の数）があり、その位置のトークンの行に足されます。",
        "positions.explain_last": "最後のトークンの位置の行：そこに立つトークンが何でも同じ行です。",
    },
}
