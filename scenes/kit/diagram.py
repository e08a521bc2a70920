"""The map of the forward pass: its parts, where each scene sits on it, and the pictures of it.

The `map` scene draws the whole forward pass at this model's sizes; every later scene
carries a small copy of it, a strip in the top right corner, with the part it explains
lit (`CornerMap`). Which part that is, a scene's catalog line says (scenes/catalog.py
`lights`, in PARTS below; tests/test_map.py checks it).

Sizes on the map are numbers of the Trace's config: `size_line` writes them as
value_texts with the meanings ("config", key), ("d_head",) and ("n_tokens",), which the
tests recompute from the config.
"""

from string import Formatter

from manim import DOWN, LEFT, RIGHT, UP, Line, VGroup, config

from scenes.kit.numbers import mono, value_text
from scenes.kit.shapes import rounded_rectangle
from scenes.kit.text import words

# The parts of the forward pass, in the order the data flows through them. The six in
# BLOCK_PARTS form one layer (repeated n_layer times); "block" is that layer as a whole
# and "loop" the arrow back: the chosen token joins the text.
FLOW = ("tokens", "embed", "ln1", "attn", "add1", "ln2", "mlp", "add2", "ln_final", "unembed", "softmax", "sampling")
BLOCK_PARTS = ("ln1", "attn", "add1", "ln2", "mlp", "add2")
PARTS = FLOW + ("block", "loop")

def fmt_count(x):
    """A size of the model, as the title writes it: 50,257."""
    return f"{int(x):,}"


# -- sizes as numbers that say what they are -------------------------------------------------------

def config_sizes(trace):
    """name -> (value, meaning) of every size the map writes, read from the Trace's config."""
    c = trace.config
    return {
        "T": (trace.n_prompt_tokens, ("n_tokens",)),
        "d": (c["n_embd"], ("config", "n_embd")),
        "H": (c["n_head"], ("config", "n_head")),
        "dh": (trace.d_head, ("d_head",)),
        "d_mlp": (c["n_inner"], ("config", "n_inner")),
        "N": (c["n_layer"], ("config", "n_layer")),
        "V": (c["vocab_size"], ("config", "vocab_size")),
    }


def baseline_lift(theme, size):
    """How far a digit's baseline sits above the bottom of a strutted text of `size`."""
    probe = words(theme, "0", size=size, strut=True)
    return probe[1].get_bottom()[1] - probe.get_bottom()[1]


def digits_bottom(number):
    """The baseline of a number: the bottom of its digits (a comma hangs below it)."""
    glyphs = [glyph for glyph, char in zip(number.submobjects, number.text) if char.isdigit()]
    return min(glyph.get_bottom()[1] for glyph in glyphs) if glyphs else number.get_bottom()[1]


def size_line(theme, template, sizes, size=24, color=None, number_color=None):
    """One line of words and sizes: `template` ("{H} heads of {dh}") with each placeholder a
    value_text of `sizes` (config_sizes) in the number font, the words around them in the
    text font, all on one baseline."""
    pieces = []
    for literal, name, _, _ in Formatter().parse(template):
        if literal:
            pieces.append(words(theme, literal, size=size, color=color, strut=True))
        if name:
            value, meaning = sizes[name]
            pieces.append(value_text(theme, value, meaning, size=size, color=number_color or color, fmt=fmt_count))
    line = VGroup(*pieces).arrange(RIGHT, buff=0)  # the template's own spaces part them
    strutted = [piece for piece in pieces if not hasattr(piece, "meaning")]
    bottom = strutted[0].get_bottom()[1] if strutted else min(piece.get_bottom()[1] for piece in pieces)
    lift = baseline_lift(theme, size) if strutted else 0.0
    for piece in pieces:
        if hasattr(piece, "meaning"):
            piece.shift((bottom + lift - digits_bottom(piece)) * UP)
        else:
            piece.shift((bottom - piece.get_bottom()[1]) * UP)
    return line


def part_box(theme, lines, edge=None, min_width=1.0, pad=0.36, min_height=0.0):
    """A part of the forward pass: its lines (names, sizes) centred in a rounded box.
    Parts: .box, .lines."""
    content = VGroup(*lines).arrange(DOWN, buff=0.14)
    box = rounded_rectangle(max(min_width, content.width + pad), max(min_height, content.height + 0.32), 0.12,
                            fill_color=theme.panel, fill_opacity=1, stroke_color=edge or theme.panel_edge,
                            stroke_width=2.5)
    content.move_to(box)
    group = VGroup(box, content)
    group.box, group.lines = box, content
    return group


def junction(theme, radius=0.22, color=None, size=30):
    """A + on the residual stream: where a branch adds its output back."""
    from manim import Circle

    circle = Circle(radius=radius, fill_color=theme.panel, fill_opacity=1, stroke_color=color or theme.accent_2,
                    stroke_width=3)
    plus = mono(theme, "+", size=size, color=color or theme.accent_2).move_to(circle)
    group = VGroup(circle, plus)
    group.box = circle
    return group


# -- the corner map: the whole pass as a strip, the scene's part lit ---------------------------------

class CornerMap(VGroup):
    """The forward pass as a strip a few dozen pixels high: a chip per part on the residual
    stream, the layer's six parts inside an outline marked "×N", the arrow back under it.
    `lit` parts are filled with the accent colour; count=False leaves "×N" out. Parts: .chips
    (part -> chip), .outline, .loop, .count."""

    height_units = 0.3  # 40 px at 1080p
    size = 16  # the "×N" on it

    def __init__(self, theme, sizes, lit=(), count=True):
        super().__init__()
        h = self.height_units
        chip_h, wide, narrow, gap = 0.66 * h, 0.34, 0.2, 0.07
        lit = set(lit)

        def chip(part, width, round_it=False):
            on = part in lit or (part in BLOCK_PARTS and "block" in lit)
            return rounded_rectangle(width, chip_h, chip_h / 2 if round_it else 0.04,
                                     fill_color=theme.accent if on else theme.panel, fill_opacity=1,
                                     stroke_color=theme.accent if on else theme.panel_edge, stroke_width=1.5)

        self.chips, x = {}, 0.0
        for part in FLOW:
            width = chip_h if part.startswith("add") else (narrow if part in BLOCK_PARTS + ("ln_final",) else wide)
            if part == "ln1" or part == "ln_final":
                x += 0.1  # room for the layer's outline
            self.chips[part] = chip(part, width, round_it=part.startswith("add")).move_to([x + width / 2, 0, 0])
            x += width + gap
            if part == "add2":
                x += 0.02
        first, last = self.chips["tokens"], self.chips["sampling"]
        stream = Line(first.get_center(), last.get_center(), stroke_color=theme.muted, stroke_width=2)
        block_chips = VGroup(*[self.chips[p] for p in BLOCK_PARTS])
        on = "block" in lit
        self.outline = rounded_rectangle(block_chips.width + 0.12, h, 0.05,
                                         stroke_color=theme.accent if on else theme.accent_2, stroke_width=2,
                                         fill_opacity=0).move_to(block_chips)
        value, meaning = sizes["N"]
        times = mono(theme, "×", size=self.size, color=theme.accent_2)
        number = value_text(theme, value, meaning, size=self.size, color=theme.accent_2, fmt=fmt_count)
        self.count = VGroup(times, number).arrange(RIGHT, buff=0.03, aligned_edge=DOWN)
        # "×N" left of the strip: inside it a 16-point number would not fit 40 px
        self.count.next_to(VGroup(*self.chips.values()), LEFT, buff=0.1)
        y_loop = -h / 2 - 0.02
        loop_on = "loop" in lit
        loop_colour, loop_width = (theme.accent, 3) if loop_on else (theme.muted, 1.5)
        self.loop = VGroup(
            Line(last.get_bottom(), [last.get_x(), y_loop, 0]),
            Line([last.get_x(), y_loop, 0], [first.get_x(), y_loop, 0]),
            Line([first.get_x(), y_loop, 0], first.get_bottom()),
        ).set_stroke(loop_colour, loop_width)
        self.add(stream, self.loop, self.outline, *self.chips.values())
        if count:
            self.add(self.count)

    def place(self, scene):
        """In the top margin at the right, above the heading's line, so nothing a scene lays
        out (all of it under `scene.top`) and no caption comes near it."""
        top_band = (config.frame_height / 2 + scene.top) / 2
        self.move_to([scene.right_edge() - self.width / 2, top_band, 0])
        return self
