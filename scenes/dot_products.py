"""Dot products: the T x T grid of q · k for every pair of tokens (the future cells too:
they are computed, only masked later), one cell worked through, why the scores are
divided by sqrt(dh) (the softmax of one real row with and without it), and the division."""

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Create, Group, Rectangle, VGroup

from scenes.base import HeadScene
from scenes.kit.charts import probability_bars
from scenes.kit.numbers import fmt_value, mono, value_text
from scenes.kit.text import ELLIPSIS, fit_within


class DotProductsScene(HeadScene):
    n_terms = 6  # products written out in the worked cell; the rest are added up in one number
    term_size = 30
    bar_size = 22
    bar_length = 3.6
    wave = 0.01  # lag between cells as the raw numbers turn into scaled ones, row by row

    def construct(self):
        self.show_heading("dots.heading")
        numbers = self.head_view
        grid = self.token_grid(self.widest())
        tiles = self.score_tiles(grid, numbers.dots)
        furniture = [tiles, *grid.labels_group(), *self.window_notice()]
        row, column = self.worked_cell()

        # -- beat 1: every query meets every key ---------------------------------------------
        self.beat("grid")
        self.set_caption(self.say("dots.explain_grid"))
        dots = self.grid_numbers(grid, numbers.dots, "dot")
        self.show(furniture, run_time=0.6)
        self.show(dots.values(), run_time=1.0)
        self.wait(2)

        # -- beat 2: one cell worked through ----------------------------------------------------
        self.beat("cell")
        self.set_caption(self.say("dots.explain_cell", d_head=numbers.d_head))
        outline = grid.outline(row, column, self.theme.accent)
        self.play(Create(outline), run_time=0.5)
        self.wait(0.5)
        self.hide([*furniture, *dots.values(), outline])
        worked = self.worked_product(self.indices[row], self.indices[column])
        self.show(worked.lines[:2], run_time=0.8)
        self.show(worked.lines[2], run_time=0.8, lag_ratio=0.1)
        self.show(worked.lines[3], run_time=0.6)
        self.wait(2.5)

        # -- beat 3: why divide: the softmax of one row, raw and scaled ---------------------------------
        self.beat("why")
        self.set_caption(self.say("dots.explain_why", d_head=numbers.d_head))
        self.hide(worked)
        charts = self.why_charts()
        self.show(charts, run_time=1.0)
        self.wait(3)

        # -- beat 4: every cell divided by sqrt(dh) -----------------------------------------------------
        self.beat("scale")
        self.set_caption(self.say("dots.explain_scale", d_head=numbers.d_head, root=numbers.sqrt_d_head))
        self.hide(charts)
        self.show([*furniture, *dots.values()], run_time=0.8)
        note = self.scale_note()
        scaled = self.grid_numbers(grid, numbers.scaled, "scaled")
        self.show([note], run_time=0.5)
        self.swap(dots.values(), scaled.values(), run_time=1.6, lag_ratio=self.wave)
        self.wait(2.5)

    # -- facts -------------------------------------------------------------------------------------

    def widest(self):
        """The widest text a cell will hold (raw dot products are the widest numbers)."""
        shown = [i for i in self.indices if i is not None]
        values = self.head_view.dots[np.ix_(shown, shown)]
        return max((fmt_value(v) for v in values.ravel()), key=len)

    def worked_cell(self):
        """(row, column) in the grid of the cell to work through: the last token's row, at
        the key it scores highest (where its attention will go)."""
        row = self.indices.index(self.last)
        keys = [c for c, j in enumerate(self.indices) if j is not None]
        column = max(keys, key=lambda c: self.head_view.dots[self.last, self.indices[c]])
        return row, column

    # -- pieces ------------------------------------------------------------------------------------

    def worked_product(self, query, key):
        """q and k of one pair, their first products, the rest added up, and the total:
        four lines, each with its label on the left, numbers in shared columns."""
        numbers, L, H, theme = self.head_view, self.layer, self.head, self.theme
        q, k = numbers.q[query], numbers.k[key]
        n_terms = min(self.n_terms, numbers.d_head)
        rows = [  # (label, numbers): q's first values, k's, and their products
            (self.words("dots.q_label", size=self.term_size - 4, color=theme.accent, piece=self.piece(query)),
             [self.term(q[d], ("trace", f"blocks.{L}.attn.hook_q", (query, H, d)), theme.accent)
              for d in range(n_terms)]),
            (self.words("dots.k_label", size=self.term_size - 4, color=theme.accent_2, piece=self.piece(key)),
             [self.term(k[d], ("trace", f"blocks.{L}.attn.hook_k", (key, H, d)), theme.accent_2)
              for d in range(n_terms)]),
            (self.words("dots.products", size=self.term_size - 4, color=theme.muted),
             [self.term(q[d] * k[d], ("term", L, H, query, key, d)) for d in range(n_terms)]),
        ]
        total_label = self.words("dots.total", size=self.term_size - 4, color=theme.muted, d_head=numbers.d_head)
        label_right = max(label.width for label in [total_label] + [label for label, _ in rows])
        cell = max(t.width for _, values in rows for t in values) + 0.45
        x0 = label_right + 0.4  # where the number columns start
        lines = []
        for line, (label, values) in enumerate(rows):
            y = -line * self.line_gap
            label.move_to([label_right - label.width / 2, y, 0])
            for d, text in enumerate(values):
                text.move_to([x0 + (d + 1) * cell - text.width / 2, y, 0])
            lines.append(Group(label, *values, *self.after_terms(line, values[-1], query, key, n_terms)))
        lines.append(self.total_line(total_label, label_right, x0 + 0.5 * cell, query, key))
        worked = Group(*lines)
        self.fill_region(worked, self.content_top() - 0.3, self.caption_top() + 0.3, max_scale=1.0)
        worked.lines = lines
        return worked

    line_gap = 0.85  # between the lines of the worked dot product

    def term(self, value, meaning, colour=None):
        return value_text(self.theme, value, meaning, size=self.term_size, color=colour)

    def after_terms(self, line, last_term, query, key, n_terms):
        """What ends a line: "…" after q's and k's values; after the products, the rest of
        them added up into one number ("+ 58 more: 4.69"), so the line sums to the cell."""
        numbers = self.head_view
        n_rest = numbers.d_head - n_terms
        if line < 2:
            dots = mono(self.theme, ELLIPSIS, size=self.term_size, color=self.theme.muted)
            return [dots.next_to(last_term, RIGHT, buff=0.3)] if n_rest else []
        if not n_rest:
            return []
        label = self.words("dots.rest", size=self.term_size - 4, color=self.theme.muted, n_rest=n_rest)
        rest = self.term(float(numbers.q[query, n_terms:] @ numbers.k[key, n_terms:]),
                         ("terms_rest", self.layer, self.head, query, key, n_terms))
        label.next_to(last_term, RIGHT, buff=0.3)
        return [label, rest.next_to(label, RIGHT, buff=0.2)]

    def total_line(self, label, label_right, x, query, key):
        """ "all 64 added up = 4.53": the cell of the grid."""
        y = -3 * self.line_gap
        label.move_to([label_right - label.width / 2, y, 0])
        equals = mono(self.theme, "=", size=self.term_size, color=self.theme.text).move_to([x, y, 0])
        total = value_text(self.theme, self.head_view.dots[query, key], ("dot", self.layer, self.head, query, key),
                           size=self.term_size + 4, color=self.theme.accent)
        return Group(label, equals, total.next_to(equals, RIGHT, buff=0.3))

    def why_charts(self):
        """The last token's row as probabilities, raw (left) and scaled (right), on one axis."""
        charts = [self.softmax_chart(scaled) for scaled in (False, True)]
        row_title = self.words("dots.row_title", size=self.bar_size + 2, color=self.theme.muted,
                               piece=self.piece(self.last))
        both = VGroup(*charts).arrange(RIGHT, buff=1.2, aligned_edge=UP)
        fit_within(row_title, width=both.width)
        block = VGroup(row_title, both).arrange(DOWN, buff=0.35)
        self.fill_region(block, self.content_top(), self.caption_top() + 0.1, max_scale=1.3)
        return [row_title, *charts]

    def softmax_chart(self, scaled):
        """Bars of the last row's softmax over the shown keys (the hidden ones together), with
        each bar's full length (probability 1) behind it and the values in a column after."""
        numbers, L, H, last = self.head_view, self.layer, self.head, self.last
        probs = numbers.softmax_row(last, scaled=scaled)  # (last + 1,)
        hidden = tuple(self.hidden)
        entries = [(self.say("attention.hidden_tokens", n_hidden=len(hidden)), float(probs[list(hidden)].sum()),
                    ("softmax_sum", L, H, last, hidden, scaled)) if j is None else
                   (self.piece(j), float(probs[j]), ("softmax", L, H, last, j, scaled)) for j in self.indices]
        rows = probability_bars(self.theme, [e[0] for e in entries], [e[1] for e in entries], self.bar_length,
                                size=self.bar_size, row_height=0.4, label_width=2.0, fmt=fmt_value, largest=1.0,
                                meanings=[e[2] for e in entries])
        tracks = VGroup()
        for row in rows:
            tracks.add(self.track(row.bar))
            row.value.next_to(tracks[-1], RIGHT, buff=0.15)
        title = self.words("dots.scaled_title" if scaled else "dots.raw_title", size=self.bar_size + 2,
                           color=self.theme.accent if scaled else self.theme.text, strut=True,
                           root=numbers.sqrt_d_head)
        title.next_to(rows, UP, buff=0.3).align_to(rows[0].bar, LEFT)
        return VGroup(tracks, title, rows)

    def track(self, bar):
        """The full length of a bar (probability 1) behind it, so both charts read on one axis."""
        track = Rectangle(width=self.bar_length, height=bar.height, stroke_width=0, fill_color=self.theme.panel,
                          fill_opacity=1)
        return track.move_to(bar, aligned_edge=LEFT)

    def scale_note(self):
        note = self.words("dots.scale_note", size=self.tag_size + 2, color=self.theme.accent,
                          d_head=self.head_view.d_head, root=self.head_view.sqrt_d_head)
        return note.move_to([0, self.tag.get_y(), 0])
