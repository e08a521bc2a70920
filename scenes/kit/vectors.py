"""Vectors and matrices: the picture of a vector's values, and a weight matrix as a block.

A vector of 768 numbers cannot be printed, so a `VectorRow` writes its first values and
draws all of them as a colour strip. The weight matrices are not in the Trace (it records
activations), so a `MatrixBlock` stands for one: its name and its shape.
"""

from manim import DOWN, UP, Group, Rectangle, VGroup

from scenes.kit.colour import colour_strip
from scenes.kit.numbers import mono, value_text


class VectorRow(Group):
    """The first values of a vector as numbers in right-aligned columns (so decimal points
    line up), a mark for the values not written out, and the whole vector as a colour
    strip: under the numbers (the strip's left edge at the row's), or after the mark.

    values: the whole vector; meanings: one per number written out (see kit.numbers), so
    len(meanings) values are written. Built with the row's left edge at x = 0 and the
    numbers' line at y = 0: move it as a whole. Parts: .numbers (a VGroup of value texts),
    .more (the mark, or None), .strip (a Group of image and outline, or None).
    """

    def __init__(self, theme, values, meanings, size=22, color=None, cell=None, cell_pad=None, indent=0.0,
                 more=None, more_gap=0.25, limit=None, strip_width=None, strip_height=0.26, strip_drop=None,
                 strip_after=False, strip_gap=0.25):
        numbers = VGroup(*[value_text(theme, values[i], meaning, size=size, color=color)
                           for i, meaning in enumerate(meanings)])
        cell = cell or max(n.width for n in numbers) + (0.3 * size / 22 if cell_pad is None else cell_pad)
        for i, number in enumerate(numbers):
            number.move_to([indent + (i + 1) * cell - number.width / 2, 0, 0])
        super().__init__(numbers)
        self.numbers, self.more, self.strip = numbers, more, None
        right = indent + len(numbers) * cell
        if more is not None:
            more.move_to([right + more_gap + more.width / 2, 0, 0])
            self.add(more)
            right = more.get_right()[0]
        if limit is not None:
            image, outline = colour_strip(theme, values, limit, strip_width, strip_height)
            self.strip = Group(image, outline)
            if strip_after:
                self.strip.move_to([right + strip_gap + strip_width / 2, 0, 0])
            else:
                drop = size / 22 * 0.42 if strip_drop is None else strip_drop
                self.strip.move_to([strip_width / 2, -drop, 0])
            self.add(self.strip)


class MatrixBlock(VGroup):
    """A weight matrix as a block: its name above and, if given, its shape ("768 × 64")
    below. Parts: .block, .title, .dims (or None)."""

    def __init__(self, theme, name, width, height, colour, shape=None, size=24, shape_size=None, edge=None,
                 stroke_width=2):
        self.block = Rectangle(width=width, height=height, fill_color=theme.panel, fill_opacity=1,
                               stroke_color=edge or colour, stroke_width=stroke_width)
        self.title = mono(theme, name, size=size, color=colour).next_to(self.block, UP, buff=0.1)
        super().__init__(self.block, self.title)
        self.dims = None
        if shape is not None:
            self.dims = mono(theme, shape, size=shape_size or size - 6, color=theme.muted)
            self.dims.next_to(self.block, DOWN, buff=0.1)
            self.add(self.dims)

    def row_bar(self, row, n_rows, colour, min_height=0.06):
        """A bar of `colour` over row `row` of the block's `n_rows` (never thinner than
        `min_height`: one row of 50,257 must still be seen)."""
        row_height = self.block.height / n_rows
        bar = Rectangle(width=self.block.width, height=max(row_height, min_height), fill_color=colour,
                        fill_opacity=1, stroke_width=0)
        return bar.move_to([self.block.get_x(), self.block.get_top()[1] - (row + 0.5) * row_height, 0])
