"""Embeddings: every token becomes a vector (all of them as one heatmap); then, for the last
token, its ID selects a row of W_E, its position a row of W_P, and their sum is the
residual stream x0 that block 0 reads. The first values are printed, the whole vector is
a colour strip."""

import numpy as np
from manim import DOWN, LEFT, RIGHT, Arrow, Create, FadeIn, Group, Rectangle, VGroup, Write

from scenes.base import TraceScene
from scenes.kit.colour import colour_limit, heatmap, scale_legend
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_value, mono
from scenes.kit.text import MIDLINE_ELLIPSIS, centre_text_on, fit_within, label_within
from scenes.kit.tokens import token_chip, window
from scenes.kit.vectors import MatrixBlock, VectorRow


class EmbeddingsScene(TraceScene):
    n_values = 6  # how many leading values of each vector are printed as numbers
    value_size = 24
    label_size = 22
    matrix_width = 0.8
    matrix_x = -5.55  # W_E above W_P, in one column at the left
    token_matrix_top, token_matrix_height = 1.8, 2.2
    position_matrix_top, position_matrix_height = -1.4, 0.9  # drawn shorter: the shape labels tell the truth
    vectors_left = -3.2  # where the vector rows start
    row_y = (1.6, 0.1, -1.4)  # label lines of the token, position and sum rows
    strip_height = 0.3
    max_heatmap_rows = 16
    max_heatmap_row_height = 0.55

    def construct(self):
        self.show_heading("embeddings.heading")
        self.position = self.trace.n_prompt_tokens - 1  # the token the prediction will be read from
        self.limit = colour_limit(self.token_vector, self.position_vector, self.sum_vector)

        # -- beat 1: every token becomes a vector ------------------------------------------------
        self.beat("all")
        self.set_caption(self.say("embeddings.explain_all", n_tokens=self.trace.n_prompt_tokens,
                                  d_model=self.d_model))
        overview = self.residual_heatmap()
        self.play(Fade(overview), run_time=1)
        self.wait(2)

        # -- beat 2: the last token's ID picks a row of W_E -----------------------------------------
        self.beat("token")
        self.set_caption(self.say("embeddings.explain_token", d_model=self.d_model))
        focus = self.focus_line()
        token_matrix = self.matrix("W_E", self.vocab_size, self.token_matrix_top, self.token_matrix_height,
                                   self.token_id, self.theme.accent)
        token_row = self.vector_row("embeddings.token_row", self.token_id, "hook_embed", self.row_y[0],
                                    self.theme.accent)
        self.play(Fade(overview, appear=False), Fade(focus), run_time=0.8)
        self.reveal_row(token_matrix, token_row)
        self.wait(1.5)

        # -- beat 3: its position picks a row of W_P ----------------------------------------------
        self.beat("position")
        self.set_caption(self.say("embeddings.explain_position"))
        position_matrix = self.matrix("W_P", self.n_positions, self.position_matrix_top,
                                      self.position_matrix_height, self.position, self.theme.accent_2)
        position_row = self.vector_row("embeddings.position_row", self.position, "hook_pos_embed", self.row_y[1],
                                       self.theme.accent_2)
        self.reveal_row(position_matrix, position_row)
        self.wait(1.5)

        # -- beat 4: their sum is the residual stream x0 -----------------------------------------
        self.beat("sum")
        self.set_caption(self.say("embeddings.explain_sum"))
        sum_row = self.vector_row("embeddings.sum_row", None, "blocks.0.hook_resid_pre", self.row_y[2], self.theme.text)
        self.play(Write(self.operators(position_row, sum_row)), run_time=0.6)
        self.play(Fade(sum_row, lag_ratio=0.05), Fade(self.legend()))
        self.wait(2)

    # -- facts -------------------------------------------------------------------------------------

    @property
    def token_id(self):
        return self.trace.token_ids[self.position]

    @property
    def vocab_size(self):
        return self.trace.config["vocab_size"]

    @property
    def n_positions(self):
        return self.trace.config["n_positions"]

    @property
    def d_model(self):
        return self.trace.d_model

    @property
    def token_vector(self):
        return self.trace["hook_embed"][self.position]  # (d,)  row token_id of W_E

    @property
    def position_vector(self):
        return self.trace["hook_pos_embed"][self.position]  # (d,)  row `position` of W_P

    @property
    def sum_vector(self):
        return self.trace.block(0, "hook_resid_pre")[self.position]  # (d,)  what block 0 reads

    # -- pieces ------------------------------------------------------------------------------------

    def focus_line(self):
        """The last prompt token's chip, ID and position, under the heading."""
        intro = self.words("focus_last_token", size=self.label_size + 2)
        chip = token_chip(self.theme, self.piece(self.position), size=26)
        token_id = self.words("token_id", size=self.label_size + 2, color=self.theme.accent, token_id=self.token_id)
        position = self.words("embeddings.position", size=self.label_size + 2, color=self.theme.accent_2,
                              position=self.position)
        line = VGroup(intro, chip, token_id, position).arrange(RIGHT, buff=0.3)
        fit_within(line, width=self.content_width * 0.62)
        return self.align_left(line, self.top - 0.95)

    def matrix(self, name, n_rows, top, height, row, colour):
        """A matrix as a tall block with one row lit, its name above and its shape below."""
        shape = self.say("shape", rows=n_rows, cols=self.d_model)
        matrix = MatrixBlock(self.theme, name, self.matrix_width, height, colour, shape=shape,
                             size=self.label_size + 4, shape_size=self.label_size - 4, edge=self.theme.panel_edge,
                             stroke_width=1.5)
        matrix.shift([self.matrix_x, top - height / 2, 0])  # built with the block centred at the origin
        fit_within(matrix.dims, width=2 * (self.matrix_x - self.left_edge()))
        matrix.dims.next_to(matrix.block, DOWN, buff=0.1)
        matrix.lit = matrix.row_bar(row, n_rows, colour)
        matrix.labels = VGroup(matrix.title, matrix.dims)
        return matrix

    def vector_row(self, label_key, row, name, y, colour):
        """A label, the first values as numbers (2 decimals), the rest counted, and the whole
        vector (row `self.position` of the Trace's array `name`) as a colour strip."""
        label = self.words(label_key, size=self.label_size, color=colour, row=row)
        label.move_to([self.vectors_left, y, 0], aligned_edge=LEFT)
        vector = self.trace[name][self.position]  # (d,)
        more = self.words("values_more", size=self.label_size - 2, color=self.theme.muted,
                          n_more=len(vector) - self.n_values)
        values = VectorRow(self.theme, vector, [("trace", name, (self.position, d)) for d in range(self.n_values)],
                           size=self.value_size, cell_pad=0.35, indent=0.3, more=more, more_gap=0.35,
                           limit=self.limit, strip_width=self.right_edge() - self.vectors_left,
                           strip_height=self.strip_height, strip_drop=0.5)
        values.shift([self.vectors_left, y - 0.45, 0])
        return Group(label, *values)  # label, numbers, more, strip: they fade in one after another

    def arrow_to(self, lit, row):
        start = lit.get_right() + 0.05 * RIGHT
        end = np.array([self.vectors_left - 0.2, row[1].get_y(), 0])
        return Arrow(start, end, buff=0.05, stroke_width=3, max_tip_length_to_length_ratio=0.08,
                     color=self.theme.muted)

    def operators(self, position_row, sum_row):
        """ "+" beside the position row and "=" beside the sum, left of the numbers."""
        x = self.vectors_left + 0.1
        plus = mono(self.theme, "+", size=32, color=self.theme.text).move_to([x, position_row[1].get_y(), 0])
        equals = mono(self.theme, "=", size=32, color=self.theme.text).move_to([x, sum_row[1].get_y(), 0])
        return VGroup(plus, equals)

    def reveal_row(self, matrix, row):
        """Draw the matrix block, light the picked row, and arrow it to that row's values."""
        self.play(Create(matrix.block), Fade(matrix.labels), run_time=0.8)
        self.play(FadeIn(matrix.lit, scale=1.5), run_time=0.6)
        self.play(Create(self.arrow_to(matrix.lit, row)), Fade(row, lag_ratio=0.05))

    def legend(self):
        return self.scale_legend(self.limit, top_gap=0.95, size=self.label_size - 4)

    def residual_heatmap(self):
        """Every prompt token's x0 as one image row, labelled by its piece (a window of
        rows, with an ellipsis, for long prompts); the focus row is outlined."""
        n = self.trace.n_prompt_tokens
        indices = window(n, self.max_heatmap_rows)
        resid = self.trace.block(0, "hook_resid_pre")  # (T, d)
        rows = np.stack([resid[i] if i is not None else np.full(self.d_model, np.nan) for i in indices])
        limit = colour_limit(resid[:n])
        legend = Group(*scale_legend(self.theme, limit, self.say("scale_legend", limit=fmt_value(limit)),
                                     size=self.label_size - 4))
        dims = self.words("embeddings.dims", size=self.label_size - 2, color=self.theme.muted, d_model=self.d_model)
        under = 0.15 + max(legend.height, dims.height) + 0.05  # the room under the image, clear of the caption line
        top, bottom = self.top - 0.9, self.caption_top() + under
        row_height = min(self.max_heatmap_row_height, (top - bottom) / len(indices))
        top = (top + bottom) / 2 + row_height * len(indices) / 2  # centred in the room
        labels = VGroup(*[label_within(self.theme, self.piece(i) if i is not None else MIDLINE_ELLIPSIS, 2.4,
                                       min(26, 60 * row_height)) for i in indices])
        for label in labels:
            fit_within(label, height=row_height * 0.95)
        image_left = self.left_edge() + 2.7
        width = self.right_edge() - image_left
        image = heatmap(self.theme, rows, limit, width, row_height * len(indices))
        image.move_to([image_left + width / 2, top - image.height / 2, 0])
        for i, label in enumerate(labels):
            centre_text_on(label, [image_left - 0.15 - label.width / 2, top - (i + 0.5) * row_height, 0])
        focus_row = indices.index(self.position)
        outline = Rectangle(width=width, height=row_height, stroke_color=self.theme.accent, stroke_width=2.5)
        outline.move_to([image.get_x(), top - (focus_row + 0.5) * row_height, 0])
        dims.next_to(image, DOWN, buff=0.15).align_to(image, LEFT)
        legend.next_to(image, DOWN, buff=0.15).align_to(image, RIGHT)
        note = self.window_note(sum(i is not None for i in indices), n)
        return Group(image, labels, outline, dims, legend, *note)
