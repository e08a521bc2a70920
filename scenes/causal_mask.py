"""Causal mask: the scaled scores of every pair, then the future (every key after its
query, above the diagonal) becomes −∞, so that after softmax a token only looks back."""

from manim import Create

from scenes.base import HeadScene
from scenes.kit.numbers import MINUS_INFINITY, fmt_value


class CausalMaskScene(HeadScene):
    def construct(self):
        self.show_heading("mask.heading")
        numbers = self.head_view
        grid = self.token_grid(self.widest())
        furniture = [self.score_tiles(grid, numbers.scaled), *grid.labels_group(), *self.window_notice()]
        scores = self.grid_numbers(grid, numbers.scaled, "scaled")

        # -- beat 1: the scores of every pair -------------------------------------------------
        self.beat("scores")
        self.set_caption(self.say("mask.explain_scores"))
        self.show(furniture, run_time=0.6)
        self.show(scores.values(), run_time=1.0)
        self.wait(2)

        # -- beat 2: the future becomes −∞ ----------------------------------------------------------
        self.beat("mask")
        self.set_caption(self.say("mask.explain_mask"))
        future = [cell for cell in scores if self.is_future(*cell)]
        covers = [grid.cover(*cell) for cell in future]
        masked = [self.minus_infinity(grid, *cell) for cell in future]
        self.swap([scores[cell] for cell in future], covers + masked, run_time=1.2)
        line = grid.staircase(self.last_seen(), self.theme.accent)
        self.play(Create(line), run_time=1.0)
        self.wait(2)

        # -- beat 3: what one row may see --------------------------------------------------------
        self.beat("row")
        row = self.example_row()
        query = self.indices[row]
        self.set_caption(self.say("mask.explain_row", piece=self.piece(query), n_seen=query + 1,
                                  n_tokens=self.n_tokens))
        seen = self.last_seen()[row]
        outline = grid.outline(row, 0, self.theme.accent_2, columns=seen + 1)
        self.play(Create(outline), run_time=0.8)
        self.wait(2.5)

    # -- facts -------------------------------------------------------------------------------------

    def is_future(self, row, column):
        return self.indices[column] > self.indices[row]

    def widest(self):
        shown = [i for i in self.indices if i is not None]
        texts = [fmt_value(v) for v in self.head_view.scaled[shown][:, shown].ravel()] + [MINUS_INFINITY]
        return max(texts, key=len)

    def example_row(self):
        """A row in the middle of the window: it sees some tokens, and some are hidden from it."""
        rows = [r for r, i in enumerate(self.indices) if i is not None]
        return rows[len(rows) // 2]
