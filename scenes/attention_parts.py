"""What the attention scenes share: the layer and head they follow, that head's numbers for
the prompt, a window onto long prompts, a token-by-token grid of numbers over heatmap
tiles, vector rows, matrix blocks, and numbers that know which value they show.

Every number these scenes print is a `value_text`: a Text that carries `.value` (the float
it shows) and `.meaning` (which value of the Trace, or what computed from it), so the
tests can check each one against the Trace's own arrays.

Rendering cost grows with the glyphs Manim redraws each frame, and Manim redraws every
frame everything from the first animated mobject onwards, counting a group with one
animated member as animated. So the scenes keep large tables flat in the scene (each
cell its own top-level mobject: see `AttentionScene.show/hide/swap`), and bring the few
things they animate to the front.
"""

import functools

import numpy as np
from manim import (
    DOWN, RIGHT, UP, Group, ManimColor, Rectangle, Text, VGroup, VMobject,
)

from scenes import helpers
from scenes.attention_choice import choose_head
from scenes.base import TraceScene
from scenes.helpers import Fade

# -- the numbers of one head -------------------------------------------------------------


class HeadNumbers:
    """One layer's and one head's values on the prompt's tokens, as float64 arrays.

    Only the prompt is shown (as in the prediction scene): causality makes these rows
    exactly what a forward pass over the prompt alone computes. T = prompt tokens.
    """

    def __init__(self, trace, layer, head):
        n = trace.n_prompt_tokens
        self.layer, self.head, self.n = layer, head, n
        self.d_head = trace.d_head
        self.sqrt_d_head = float(np.sqrt(self.d_head))
        self.eps = float(trace.config.get("layer_norm_epsilon", 1e-5))

        def block(key):
            return np.asarray(trace.block(layer, key), dtype=np.float64)

        self.resid_pre = block("hook_resid_pre")[:n]  # (T, d)  what the layer reads
        self.ln_out = block("ln1.hook_normalized")[:n]  # (T, d)  x: LayerNorm's output, attention's input
        self.q_all = block("attn.hook_q")[:n]  # (T, H, dh)
        self.k_all = block("attn.hook_k")[:n]
        self.v_all = block("attn.hook_v")[:n]
        self.z_all = block("attn.hook_z")[:n]  # (T, H, dh)  each head's output
        self.q, self.k, self.v, self.z = (a[:, head] for a in (self.q_all, self.k_all, self.v_all, self.z_all))
        self.patterns = block("attn.hook_pattern")[:, :n, :n]  # (H, T, T)
        self.pattern = self.patterns[head]  # (T, T)  rows sum to 1
        self.scores = block("attn.hook_attn_scores")[head, :n, :n]  # (T, T)  q.k / sqrt(dh), future -inf
        self.attn_out = block("hook_attn_out")[:n]  # (T, d)  heads joined, projected by W_O
        self.resid_mid = block("hook_resid_mid")[:n]  # (T, d)  resid_pre + attn_out

        self.future = np.triu(np.ones((n, n), dtype=bool), k=1)  # (T, T)  key after query
        every_pair = self.q @ self.k.T  # (T, T)  the future cells are real dot products too
        self.dots = np.where(self.future, every_pair, self.scores * self.sqrt_d_head)  # unscaled q.k
        self.scaled = self.dots / self.sqrt_d_head  # equals `scores` where the mask lets it through

    def softmax_row(self, row, scaled=True):
        """The softmax of row `row` over the keys it may see, with or without / sqrt(dh)."""
        seen = (self.scaled if scaled else self.dots)[row, : row + 1]
        return helpers.softmax(seen)

    def exp_row(self, row):
        """e^score for each key of row `row` (0 for the masked future)."""
        return np.where(self.future[row], 0.0, np.exp(np.where(self.future[row], 0.0, self.scores[row])))

    def layer_norm_steps(self, position):
        """LayerNorm of one token, step by step: x as it arrives, (x - mean) / spread, and the
        Trace's output (normalised, times the gain, plus the bias); each (d,)."""
        x = self.resid_pre[position]
        normalised = (x - x.mean()) / np.sqrt(x.var() + self.eps)
        return x, normalised, self.ln_out[position]


MINUS_INFINITY = helpers.MINUS + "∞"  # a masked score


def window(n, max_tokens, tail):
    """Which token positions to show: all n, or (beyond max_tokens) the first token, None
    (where the ellipsis goes), and the last `tail` ones. The first token stays because
    GPT-2 heads often park attention there."""
    if n <= max_tokens:
        return list(range(n))
    return [0, None] + list(range(n - tail, n))


# -- numbers that say what they show -------------------------------------------------------

def fmt_large(x):
    """Exponentials can be huge: 2 decimals up to 99,999, then 3 significant digits (2.20e+07)."""
    return helpers.fmt_value(x) if abs(x) < 1e5 else f"{x:.2e}"


def value_text(theme, value, meaning, size=24, color=None, fmt=helpers.fmt_value):
    """A number in the mono font that remembers its value and its meaning (see the module doc)."""
    text = mono_copy(theme, fmt(value), size=size, color=color)
    text.value, text.meaning = float(value), meaning
    return text


def mono_copy(theme, content, size=24, color=None):
    """helpers.mono, but quick: a grid needs hundreds of numbers, and building a Text (Pango,
    then parsing its SVG) costs ~12 ms, copying one ~2.5 ms. A number is a copy of a cached
    Text as long as it, with each glyph's outline swapped for the right digit's; the result
    is the very Text that helpers.mono builds (same points, same size), made ~4x faster."""
    font, color = theme.number_font, color or theme.text
    if any(char not in _NumberGlyphs.characters for char in content) or not content:
        return _mono_prototype(font, content, size, color).copy()
    return _NumberGlyphs.at(font, size, color).compose(content)


def words_copy(theme, text, size=28, color=None, strut=False):
    """helpers.words, built once per distinct text and copied after that (labels recur: the
    same token pieces label the grids of several scenes)."""
    return _words_prototype(theme, text, size, color or theme.text, strut).copy()


@functools.lru_cache(maxsize=1024)
def _words_prototype(theme, text, size, color, strut):
    return helpers.words(theme, text, size=size, color=color, strut=strut)


@functools.lru_cache(maxsize=256)
def _mono_prototype(font, content, size, color):
    return Text(content, font=font, font_size=size, color=color)


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


# -- pictures of numbers --------------------------------------------------------------------

def blend(theme, rgb, strength):
    """Colours mixed with the background (strength 1: as they are), so text on them stays readable."""
    background = np.array(ManimColor(theme.background).to_rgb()) * 255
    return (background + strength * (np.asarray(rgb, dtype=np.float64) - background)).round().astype(np.uint8)


def tiles_image(theme, rgb, width, height, gap=0.08, pixels=24):
    """An (R, C, 3) array of cell colours as one image of separate tiles (a gap of the
    background colour between cells), stretched to width x height."""
    rows, cols = rgb.shape[:2]
    background = np.array(ManimColor(theme.background).to_rgb()) * 255
    big = np.repeat(np.repeat(rgb, pixels, axis=0), pixels, axis=1)
    edge = max(1, int(round(gap * pixels / 2)))
    inside = np.zeros(pixels, dtype=bool)
    inside[edge: pixels - edge] = True
    keep = np.tile(inside, rows)[:, None] & np.tile(inside, cols)[None, :]
    big = np.where(keep[..., None], big, background).astype(np.uint8)
    return helpers.pixel_image(big, width, height)


def matrix_block(theme, name, shape, width, height, colour, size=24):
    """A weight matrix the Trace does not hold, drawn as a block: its name above, its shape
    (rows x columns) below."""
    block = Rectangle(width=width, height=height, fill_color=theme.panel, fill_opacity=1, stroke_color=colour,
                      stroke_width=2)
    title = helpers.mono(theme, name, size=size, color=colour).next_to(block, UP, buff=0.1)
    dims = helpers.mono(theme, shape, size=size - 6, color=theme.muted).next_to(block, DOWN, buff=0.1)
    group = VGroup(block, title, dims)
    group.block, group.title, group.dims = block, title, dims
    return group


def label_within(theme, text, width, size, color=None, min_scale=1.0):
    """A strutted label no wider than `width`: shrunk down to `min_scale`, then cut with "…"
    (by default only cut: a table is scaled to fit, and a label must not end up smaller
    than the numbers beside it)."""
    label = words_copy(theme, text, size=size, color=color, strut=True)
    if label.width <= width:
        return label
    if label.width * min_scale <= width:
        return label.scale(width / label.width)
    for cut in range(len(text) - 1, 0, -1):
        label = words_copy(theme, text[:cut] + helpers.ELLIPSIS, size=size, color=color, strut=True)
        if label.width * min_scale <= width:
            return label.scale(min(1.0, width / label.width))
    return label.scale(width / label.width)


def vector_row(theme, values, meanings, n_shown, more_text, limit, strip_width, size=22, strip_height=0.26,
               color=None, cell_width=None, left=0.0, y=0.0):
    """The first `n_shown` values as numbers in right-aligned columns, a "… n more" note,
    and below them the whole vector as a colour strip; its left edge at `left`, the
    numbers' line at `y`."""
    numbers = VGroup(*[value_text(theme, values[i], meanings[i], size=size, color=color)
                       for i in range(min(n_shown, len(values)))])
    cell = cell_width or max(n.width for n in numbers) + 0.3 * size / 22
    for i, number in enumerate(numbers):
        number.move_to([(i + 1) * cell, 0, 0], aligned_edge=RIGHT)
    parts = Group(numbers)
    more = None
    if more_text:
        more = words_copy(theme, more_text, size=size - 4, color=theme.muted)
        more.next_to(numbers, RIGHT, buff=0.25)
        parts.add(more)
    image, outline = helpers.colour_strip(theme, values, limit, strip_width, strip_height)
    strip = Group(image, outline)
    strip.move_to([strip_width / 2, -size / 22 * 0.42, 0])
    parts.add(strip)
    parts.shift([left, y, 0])
    parts.numbers, parts.more, parts.strip = numbers, more, strip
    return parts


# -- the token-by-token grid -----------------------------------------------------------------

class TokenGrid:
    """A table with a row per query token and a column per key token (a window for long
    prompts, with ⋮ and ⋯ where tokens are left out), the numbers over heatmap tiles.

    The geometry is fixed when the grid is built, from the widest text it will hold, so
    the scenes can swap one stage's numbers for the next (dot products, scaled scores,
    −∞, probabilities) in place. Everything is built at nominal sizes and scaled by one
    factor to fit `region` = (left, right, top, bottom).
    """

    number_size = 24
    label_size = 24  # labels as large as the numbers: the grid's scale keeps both legible
    cell_pad = 0.3  # room beside the widest number
    row_height = 0.48
    label_gap = 0.2
    max_label_width = 2.4
    line_height = 0.42  # of a header line (column labels)
    sum_gap = 0.35  # before the optional sum column
    corner_size = 17  # the "query ↓ key →" note, as drawn (never below 14 at the smallest grid scale)

    def __init__(self, theme, labels, widest, region, corner_text="", sum_header=None, max_scale=1.35):
        self.theme, self.labels = theme, labels
        self.n = len(labels)
        left, right, top, bottom = region
        self.cell_w = helpers.mono(theme, widest, size=self.number_size).width + self.cell_pad
        self.cell_h = self.row_height
        self.row_labels = [self._row_label(text) for text in labels]
        self.corner = words_copy(theme, corner_text, size=self.label_size, color=theme.muted)
        self.label_w = max([r.width for r in self.row_labels] + [self.corner.width])
        self.column_labels, self.header_lines = self._column_labels()
        self.has_sums = sum_header is not None
        width = self.label_w + self.label_gap + self.n * self.cell_w + (self.sum_gap + self.cell_w) * self.has_sums
        height = self.header_lines * self.line_height + self.n * self.cell_h
        self.scale = min((right - left) / width, (top - bottom) / height, max_scale)
        # where things go, in frame units
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        self.x0 = centre_x - width * self.scale / 2 + (self.label_w + self.label_gap) * self.scale  # cells' left
        self.y0 = centre_y + height * self.scale / 2 - self.header_lines * self.line_height * self.scale  # top
        self._place_labels(sum_header)
        self.cells = {}  # (row, column) -> the Text shown there now

    # -- geometry --------------------------------------------------------------------------

    @property
    def cell_width(self):
        return self.cell_w * self.scale

    @property
    def cell_height(self):
        return self.cell_h * self.scale

    def centre(self, row, column):
        return np.array([self.x0 + (column + 0.5) * self.cell_width, self.y0 - (row + 0.5) * self.cell_height, 0])

    def sum_centre(self, row):
        return self.centre(row, self.n) + RIGHT * self.sum_gap * self.scale

    @property
    def cells_width(self):
        return self.n * self.cell_width

    @property
    def cells_height(self):
        return self.n * self.cell_height

    def cells_centre(self):
        return np.array([self.x0 + self.cells_width / 2, self.y0 - self.cells_height / 2, 0])

    # -- labels ----------------------------------------------------------------------------

    def _row_label(self, text):
        if text is None:
            return words_copy(self.theme, "⋮", size=self.label_size, color=self.theme.muted, strut=True)
        return label_within(self.theme, text, self.max_label_width, self.label_size)

    def _column_labels(self):
        """Labels over the columns; when one is wider than its column they alternate over
        two lines (so each may take two columns' width), and cut with "…" if even that fails."""
        size = self.label_size
        plain = [words_copy(self.theme, t if t is not None else helpers.MIDLINE_ELLIPSIS, size=size, strut=True,
                               color=None if t is not None else self.theme.muted) for t in self.labels]
        room = self.cell_w - 0.08
        if all(label.width <= room for label in plain):
            return plain, 1
        room = 2 * self.cell_w - 0.16
        labels = [label if label.width <= room else label_within(self.theme, text, room, size)
                  for label, text in zip(plain, self.labels)]
        return labels, 2

    def _place_labels(self, sum_header):
        s = self.scale
        right = self.x0 - self.label_gap * s
        for row, label in enumerate(self.row_labels):
            label.scale(s)
            helpers.centre_text_on(label, [right - label.width / 2, self.centre(row, 0)[1], 0])
        for column, label in enumerate(self.column_labels):
            label.scale(s)
            line = (column % 2 == 0) if self.header_lines == 2 else 0  # even columns on the upper line
            y = self.y0 + (line + 0.5) * self.line_height * s
            helpers.centre_text_on(label, [self.centre(0, column)[0], y, 0])
        # the corner note stays small (about size 17 on screen) whatever the grid's scale
        corner_size = min(self.label_size, self.corner_size / s)
        self.corner = words_copy(self.theme, self.corner.original_text, size=corner_size, color=self.theme.muted)
        self.corner.scale(s)
        self.corner.move_to([right - self.corner.width / 2, self.y0 + 0.5 * self.line_height * s, 0])
        self.sum_label = None
        if sum_header is not None:
            self.sum_label = words_copy(self.theme, sum_header, size=self.label_size, color=self.theme.muted,
                                           strut=True).scale(s)
            helpers.fit_within(self.sum_label, width=self.cell_width + self.sum_gap * s)
            helpers.centre_text_on(self.sum_label, [self.sum_centre(0)[0], self.y0 + 0.5 * self.line_height * s, 0])

    def labels_group(self):
        """Row labels, column labels and the corner note, as one list of mobjects."""
        return [*self.row_labels, *self.column_labels, self.corner]

    # -- numbers ---------------------------------------------------------------------------

    def text(self, row, column, content, color=None, size=None):
        """A plain text (e.g. −∞) centred in a cell."""
        text = mono_copy(self.theme, content, size=size or self.number_size, color=color).scale(self.scale)
        return text.move_to(self.centre(row, column))

    def number(self, row, column, value, meaning, color=None, fmt=helpers.fmt_value):
        """A number right-aligned in a cell, so the decimal points of a column line up."""
        text = value_text(self.theme, value, meaning, size=self.number_size, color=color, fmt=fmt).scale(self.scale)
        right_x = self.centre(row, column)[0] + self.cell_width / 2 - self.cell_pad * self.scale / 2
        return text.move_to([right_x - text.width / 2, self.centre(row, column)[1], 0])

    def sum_number(self, row, value, meaning, color=None, fmt=helpers.fmt_value):
        text = self.number(row, self.n, value, meaning, color=color, fmt=fmt)
        return text.shift(RIGHT * self.sum_gap * self.scale)

    def fill(self, make):
        """Build the cell texts with make(row, column) -> Text or None; returns {(r, c): Text}."""
        built = {}
        for row in range(self.n):
            for column in range(self.n):
                text = make(row, column)
                if text is not None:
                    built[(row, column)] = text
        return built

    # -- colour ----------------------------------------------------------------------------

    def tiles(self, rgb):
        """The cells' colours (n, n, 3) as one image behind the numbers."""
        image = tiles_image(self.theme, rgb, self.cells_width, self.cells_height)
        image.set_z_index(-1)  # under the numbers, even while it fades in over them
        return image.move_to(self.cells_centre())

    def cover(self, row, column):
        """A background-coloured tile that blanks one cell's colour (a masked cell), under the numbers."""
        tile = Rectangle(width=self.cell_width, height=self.cell_height, stroke_width=0,
                         fill_color=self.theme.background, fill_opacity=1)
        tile.set_z_index(-0.5)
        return tile.move_to(self.centre(row, column))

    def outline(self, row, column, colour, columns=1, buff=0.03):
        """A rectangle around `columns` cells of a row starting at `column`."""
        box = Rectangle(width=columns * self.cell_width + 2 * buff, height=self.cell_height + 2 * buff,
                        stroke_color=colour, stroke_width=3)
        return box.move_to((self.centre(row, column) + self.centre(row, column + columns - 1)) / 2)

    def staircase(self, last_seen, colour):
        """A line between what each row may see and the future: last_seen[row] is the last
        column row `row` may look at (None for the ellipsis row)."""
        pieces, points = [], []
        for row, column in enumerate(last_seen + [None]):
            if column is None:  # the ellipsis row (or the end): the boundary is hidden there
                if points:
                    piece = VMobject(stroke_color=colour, stroke_width=4)
                    pieces.append(piece.set_points_as_corners(np.array(points, dtype=float)))
                points = []
                continue
            x = self.x0 + (column + 1) * self.cell_width
            top, bottom = self.y0 - row * self.cell_height, self.y0 - (row + 1) * self.cell_height
            points += [[x, top, 0], [x, bottom, 0]]
        return VGroup(*pieces)


# -- the base scene ---------------------------------------------------------------------------

class AttentionScene(TraceScene):
    """A scene of the attention deep dive: it follows one layer and head (the user's
    --layer/--head, or the stated rule of scenes.attention_choice) on the prompt's tokens."""

    max_tokens = 16  # prompts up to this many tokens are shown whole ...
    window_tail = 11  # ... longer ones as the first token, an ellipsis and the last 11
    min_grid_scale = 0.6  # a TokenGrid scaled below this (number size 24 -> 14.4) gets a narrower window
    tag_size = 24
    names_head = True  # the tag at the top right says "layer L · head H" (False: "layer L")

    def setup(self):
        super().setup()
        self.choice = choose_head(self.trace, self.options.layer, self.options.head)
        self.numbers = HeadNumbers(self.trace, self.choice.layer, self.choice.head)
        self.indices = window(self.numbers.n, self.max_tokens, self.window_tail)

    # -- facts -----------------------------------------------------------------------------

    @property
    def layer(self):
        return self.choice.layer

    @property
    def head(self):
        return self.choice.head

    @property
    def n_tokens(self):
        return self.numbers.n

    @property
    def last(self):
        """The prompt's last token: the one whose prediction the video follows."""
        return self.numbers.n - 1

    @property
    def hidden(self):
        """Token positions the window leaves out."""
        shown = set(self.indices)
        return [i for i in range(self.n_tokens) if i not in shown]

    def piece(self, index):
        return helpers.piece_text(self.trace, index)

    def labels(self):
        return [self.piece(i) if i is not None else None for i in self.indices]

    # -- furniture -------------------------------------------------------------------------

    def words(self, key, size=28, color=None, strut=False, **values):
        """The string table's text, built once per distinct text and copied after that."""
        return words_copy(self.theme, self.say(key, **values), size=size, color=color, strut=strut)

    def show_heading(self, key):
        heading = super().show_heading(key)
        tag_key = "attention.tag" if self.names_head else "attention.tag_layer"
        tag = self.words(tag_key, size=self.tag_size, color=self.theme.accent_2, layer=self.layer, head=self.head)
        tag.move_to([self.right_edge() - tag.width / 2, heading.get_y(), 0])
        self.add(tag)
        self.tag = tag
        return heading

    def content_top(self):
        return self.top - 0.85

    def why_line(self):
        """Which layer and head the deep dive follows, and why (the rule, or the user's
        choice): under the heading of the deep dive's first scenes."""
        key = "attention.why_rule" if self.choice.by_rule else "attention.why_user"
        line = self.words(key, size=22, color=self.theme.muted, layer=self.layer, head=self.head)
        helpers.fit_within(line, width=self.content_width)
        return self.align_left(line, self.top - 0.85)

    def window_notice(self, beside_tag=False):
        """ "showing 12 of 40 tokens" under the tag, or on its line just left of it (a list,
        empty when every token is shown)."""
        shown = sum(i is not None for i in self.indices)
        if shown >= self.n_tokens:
            return []
        note = self.words("window_note", size=20, color=self.theme.muted, shown=shown, total=self.n_tokens)
        if beside_tag:
            return [note.move_to([self.tag.get_left()[0] - 0.4 - note.width / 2, self.tag.get_y(), 0])]
        return [note.move_to([self.right_edge() - note.width / 2, self.tag.get_bottom()[1] - 0.1 - note.height / 2,
                              0])]

    def row_pitch(self, width, n_rows, row_height, max_growth=1.6, max_scale=1.4):
        """A table's nominal row height: `row_height`, or taller (up to `max_growth` times)
        when the table, once fitted to the frame's width, would leave the height half empty."""
        scale = min(self.content_width / width, max_scale)
        room = (self.content_top() - self.caption_top()) / scale
        return min(max(row_height, room / n_rows), max_growth * row_height)

    # -- showing many mobjects cheaply -------------------------------------------------------

    def show(self, mobjects, run_time=1.0, lag_ratio=0.0, shift=None):
        """Fade `mobjects` in, then leave each one in the scene on its own (not grouped), so a
        later animation of one cell does not make Manim redraw the whole table every frame."""
        mobjects = list(mobjects)
        if not mobjects:
            return
        group = Group(*mobjects)
        self.play(Fade(group, lag_ratio=lag_ratio, shift=shift), run_time=run_time)
        self.remove(group)
        self.add(*mobjects)

    def hide(self, mobjects, run_time=0.6):
        mobjects = list(mobjects)
        if mobjects:
            self.remove(*mobjects)
            self.play(Fade(Group(*mobjects), appear=False), run_time=run_time)

    def swap(self, old, new, run_time=0.8, lag_ratio=0.0):
        """Fade `old` out while `new` fades in (numbers changing in place); with lag_ratio,
        one after another in the order given (a wave through a grid)."""
        old, new = list(old), list(new)
        self.remove(*old)
        going, coming = Group(*old), Group(*new)
        self.play(Fade(going, appear=False, lag_ratio=lag_ratio), Fade(coming, lag_ratio=lag_ratio),
                  run_time=run_time)
        self.remove(coming)
        self.add(*new)

    # -- the grid of scores, shared by the dot product, mask and softmax scenes ---------------

    def token_grid(self, widest, sum_header=None):
        """A TokenGrid over the window, filling the room between the heading and the caption.
        When its numbers are so wide that every token would not fit legibly (a trained
        model's large dot products), the window narrows to the first and the last tokens."""
        region = (self.left_edge(), self.right_edge(), self.content_top(), self.caption_top() + 0.05)

        def build():
            return TokenGrid(self.theme, self.labels(), widest, region, corner_text=self.say("attention.corner"),
                             sum_header=sum_header)

        grid = build()
        if grid.scale < self.min_grid_scale and len(self.indices) > self.window_tail + 2:
            self.indices = window(self.n_tokens, 0, self.window_tail)
            grid = build()
        return grid

    def grid_numbers(self, grid, matrix, kind, where=None, fmt=helpers.fmt_value, color=None):
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
        limit = helpers.colour_limit(shown[np.isfinite(shown)]) if np.isfinite(shown).any() else 1.0
        return grid.tiles(blend(self.theme, helpers.diverging_rgb(self.theme, shown, limit), self.tile_strength))

    tile_strength = 0.5  # how strongly the tiles take the colour scale (1: fully)

    def last_seen(self):
        """For each shown row, the last shown column it may look at (itself): the staircase."""
        columns = {i: c for c, i in enumerate(self.indices) if i is not None}
        return [None if i is None else columns[i] for i in self.indices]
