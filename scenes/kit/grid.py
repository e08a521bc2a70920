"""TokenGrid: a table with a row per query token and a column per key token, its numbers
over heatmap tiles; the picture of the dot-product, mask and softmax scenes."""

import numpy as np
from manim import RIGHT, Rectangle, VGroup, VMobject

from scenes.kit.colour import tiles_image
from scenes.kit.numbers import fmt_value, mono, value_text
from scenes.kit.text import MIDLINE_ELLIPSIS, centre_text_on, fit_within, label_within, words


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
        self.cell_w = mono(theme, widest, size=self.number_size).width + self.cell_pad
        self.cell_h = self.row_height
        self.row_labels = [self._row_label(text) for text in labels]
        self.corner = words(theme, corner_text, size=self.label_size, color=theme.muted)
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
            return words(self.theme, "⋮", size=self.label_size, color=self.theme.muted, strut=True)
        return label_within(self.theme, text, self.max_label_width, self.label_size)

    def _column_labels(self):
        """Labels over the columns; when one is wider than its column they alternate over
        two lines (so each may take two columns' width), and cut with "…" if even that fails."""
        size = self.label_size
        plain = [words(self.theme, t if t is not None else MIDLINE_ELLIPSIS, size=size, strut=True,
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
            centre_text_on(label, [right - label.width / 2, self.centre(row, 0)[1], 0])
        for column, label in enumerate(self.column_labels):
            label.scale(s)
            line = (column % 2 == 0) if self.header_lines == 2 else 0  # even columns on the upper line
            y = self.y0 + (line + 0.5) * self.line_height * s
            centre_text_on(label, [self.centre(0, column)[0], y, 0])
        # the corner note stays small (about size 17 on screen) whatever the grid's scale
        corner_size = min(self.label_size, self.corner_size / s)
        self.corner = words(self.theme, self.corner.original_text, size=corner_size, color=self.theme.muted)
        self.corner.scale(s)
        self.corner.move_to([right - self.corner.width / 2, self.y0 + 0.5 * self.line_height * s, 0])
        self.sum_label = None
        if sum_header is not None:
            self.sum_label = words(self.theme, sum_header, size=self.label_size, color=self.theme.muted,
                                           strut=True).scale(s)
            fit_within(self.sum_label, width=self.cell_width + self.sum_gap * s)
            centre_text_on(self.sum_label, [self.sum_centre(0)[0], self.y0 + 0.5 * self.line_height * s, 0])

    def labels_group(self):
        """Row labels, column labels and the corner note, as one list of mobjects."""
        return [*self.row_labels, *self.column_labels, self.corner]

    # -- numbers ---------------------------------------------------------------------------

    def text(self, row, column, content, color=None, size=None):
        """A plain text (e.g. −∞) centred in a cell."""
        text = mono(self.theme, content, size=size or self.number_size, color=color).scale(self.scale)
        return text.move_to(self.centre(row, column))

    def number(self, row, column, value, meaning, color=None, fmt=fmt_value):
        """A number right-aligned in a cell, so the decimal points of a column line up."""
        text = value_text(self.theme, value, meaning, size=self.number_size, color=color, fmt=fmt).scale(self.scale)
        right_x = self.centre(row, column)[0] + self.cell_width / 2 - self.cell_pad * self.scale / 2
        return text.move_to([right_x - text.width / 2, self.centre(row, column)[1], 0])

    def sum_number(self, row, value, meaning, color=None, fmt=fmt_value):
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
