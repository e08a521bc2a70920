"""Numbers on screen: how they are written, and a fast way to build hundreds of them.

Every number a scene prints is a `value_text`: a Text in the mono font that carries
`.value` (the float it shows) and `.meaning` (which value of the Trace, or what computed
from it), so the tests can check each one against the Trace's own arrays.
"""

import functools

import numpy as np

from scenes.kit.text import GlyphText, copyable

MINUS = "−"  # a real minus sign: as wide as a digit in the mono font, unlike "-"
MINUS_INFINITY = MINUS + "∞"  # a masked score


def fmt_value(x, decimals=2):
    """-0.1234 -> "−0.12"; activations are shown with 2 decimals."""
    text = f"{x:.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:] if float(text) != 0 else text[1:]
    return text


def fmt_percent(p):
    """A probability as a percentage: 2 decimals from 1% up, 2 significant digits below,
    so a random model's 0.015% and 0.011% stay apart instead of both reading 0.01%."""
    percent = 100 * p
    if percent >= 1 or percent == 0:
        return f"{percent:.2f}%"
    if percent >= 1e-4:
        return f"{percent:#.2g}%"
    return f"{percent:.1e}%"


def fmt_draw(x):
    """The draw u and the ends of the chosen slice: 4 decimals, so u visibly sits between them."""
    return f"{x:.4f}"


def fmt_cosine(x):
    """A cosine similarity: 3 decimals, since two contexts' vectors can differ only in the third."""
    return fmt_value(x, 3)


def fmt_id(x):
    """A token ID or a position: a whole number, as it is (15496)."""
    return str(int(x))


def fmt_large(x):
    """Exponentials can be huge (e^21 is 1.3e9 at GPT-2's real scores): 2 decimals up to
    99,999, then 2 significant digits and the power of ten, as short as a score (1.3e9)."""
    if abs(x) < 1e5:
        return fmt_value(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def mono(theme, content, size=24, color=None):
    """Numbers and IDs in the monospace font, so columns of digits line up.

    A grid needs hundreds of numbers, and building a Text (Pango, then parsing its SVG)
    costs ~12 ms, copying one ~2.5 ms. So a number is a copy of a cached Text as long as
    it, with each glyph's outline swapped for the right digit's: the very Text that
    `Text(content, font=...)` builds (same points, same size), made ~4x faster.
    """
    font, color = theme.number_font, color or theme.text
    if any(char not in _NumberGlyphs.characters for char in content) or not content:
        return _mono_prototype(font, content, size, color).copy()
    return _NumberGlyphs.at(font, size, color).compose(content)


def value_text(theme, value, meaning, size=24, color=None, fmt=fmt_value):
    """A number in the mono font that remembers its value and its meaning (see the module doc)."""
    text = mono(theme, fmt(value), size=size, color=color)
    text.value, text.meaning = float(value), meaning
    return text


def from_trace(mob, source):
    """Say which trace every number in `mob` (and its parts) reads: "a", "b", or "ab" for a
    value computed from both. Returns `mob`."""
    for part in mob.get_family():
        if hasattr(part, "meaning"):
            part.source = source
    return mob


@functools.lru_cache(maxsize=256)
def _mono_prototype(font, content, size, color):
    return copyable(GlyphText(content, font=font, font_size=size, color=color))


class _NumberGlyphs:
    """The outlines of the characters numbers are written with, in one font, size and
    colour, each placed as Pango lays it out after a "0" (monospace: no kerning)."""

    characters = "0123456789.−∞e+-"

    def __init__(self, font, size, color):
        self.font, self.size, self.color = font, size, color
        self.outline, self.advance = {}, {}
        for char in self.characters:
            sample = _mono_prototype(font, "0" + char + "0", size, color)  # (0, char, 0)
            corner = np.array([sample[0].get_left()[0], sample[0].get_bottom()[1], 0])
            self.outline[char] = sample[1].points - corner
            self.advance[char] = sample[2].get_left()[0] - sample[0].get_left()[0]  # "0" + char
        self.zero_advance = self.advance["0"] / 2

    @classmethod
    @functools.lru_cache(maxsize=64)
    def at(cls, font, size, color):
        return cls(font, size, color)

    def compose(self, content):
        text = _mono_prototype(self.font, "0" * len(content), self.size, self.color).copy()
        x = 0.0
        for glyph, char in zip(text.submobjects, content):
            glyph.points = self.outline[char] + np.array([x, 0.0, 0.0])
            x += self.advance[char] - self.zero_advance
        text.center()  # as Text leaves itself
        text.initial_height = text.height  # what Text.font_size measures against
        text.text = text.original_text = content
        return text
