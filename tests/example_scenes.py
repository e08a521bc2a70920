"""Scenes defined in the test suite, to show that a scene added to the catalog is checked
like every other (tests/test_catalog.py), and that the checks catch what is wrong."""

from manim import VGroup

from scenes.base import LayerScene
from scenes.catalog import SceneInfo
from scenes.kit.motion import Fade
from scenes.kit.numbers import mono, value_text


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


def entry(class_name, name):
    return SceneInfo(name, __name__, class_name, "A scene of the test suite.", follows="layer")


EXAMPLE = entry("ExampleScene", "example")
MISSING_KEY = entry("MissingKeyScene", "missing-key")
UNTAGGED_NUMBER = entry("UntaggedNumberScene", "untagged-number")
WRONG_NUMBER = entry("WrongNumberScene", "wrong-number")
