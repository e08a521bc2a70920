"""Softmax: each row of masked scores becomes probabilities. The last token's row is worked
through (e to the power of each score, their sum, each divided by the sum), then every
row at once: the attention pattern as a heatmap with its values, each row summing to 1."""

import numpy as np

from scenes.base import HeadScene
from scenes.kit.colour import blend, diverging_rgb
from scenes.kit.numbers import MINUS_INFINITY, fmt_large, fmt_value


class SoftmaxScene(HeadScene):
    def construct(self):
        self.show_heading("softmax.heading")
        numbers, last = self.head_view, self.last
        self.grid = grid = self.token_grid(self.widest(), sum_header=self.say("softmax.sum_header"))
        self.last_row = self.indices.index(last)
        score_tiles = self.score_tiles(grid, numbers.scores, masked=True)
        scores = self.grid_numbers(grid, numbers.scores, "score", where=lambda i, j: j <= i)
        masked = grid.fill(lambda r, c: self.masked_text(r, c))

        # -- beat 1: the masked scores -----------------------------------------------------
        self.beat("scores")
        self.set_caption(self.say("softmax.explain_scores"))
        self.show([score_tiles, *grid.labels_group(), grid.sum_label, *self.window_notice()], run_time=0.6)
        self.show([*scores.values(), *masked.values()], run_time=1.0)
        self.wait(2)

        # -- beat 2: the last row, exponentiated, and its sum -----------------------------------------
        self.beat("exponentiate")
        self.set_caption(self.say("softmax.explain_exp"))
        row_scores = [text for (r, _), text in scores.items() if r == self.last_row]
        powers = self.row_numbers(numbers.exp_row(last), "exp", fmt=fmt_large)
        power_sum = grid.sum_number(self.last_row, numbers.exp_row(last).sum(),
                                    ("exp_sum", self.layer, self.head, last, tuple(range(self.n_tokens))),
                                    fmt=fmt_large, color=self.theme.accent)
        self.bring_to_front(*row_scores)
        self.swap(row_scores, powers, run_time=0.8)
        self.show([power_sum, *self.hidden_column_note()], run_time=0.6)
        self.wait(2)

        # -- beat 3: divided by the sum ------------------------------------------------------------
        self.beat("divide")
        self.set_caption(self.say("softmax.explain_divide"))
        probabilities = self.row_numbers(numbers.pattern[last], "pattern")
        one = self.row_sum(self.last_row)
        self.swap(powers + [power_sum], probabilities + [one], run_time=0.8)
        self.wait(2)

        # -- beat 4: every row at once: the pattern -------------------------------------------------------
        self.beat("pattern")
        self.set_caption(self.say("softmax.explain_all"))
        others = [r for r, i in enumerate(self.indices) if i is not None and r != self.last_row]
        old = [text for (r, _), text in scores.items() if r != self.last_row] + list(masked.values())
        new = [text for r in others for text in self.row_numbers(numbers.pattern[self.indices[r]], "pattern", row=r)]
        sums = [self.row_sum(r) for r in others]
        self.swap(old + [score_tiles], [self.pattern_tiles()] + new + sums, run_time=1.2)
        self.wait(3)

    # -- facts -------------------------------------------------------------------------------------

    def widest(self):
        """The widest text a cell will hold: a score, −∞, a probability or an exponential."""
        shown = [i for i in self.indices if i is not None]
        scores = self.head_view.scores[np.ix_(shown, shown)]
        texts = [fmt_value(v) for v in scores[np.isfinite(scores)]] + [MINUS_INFINITY]
        texts += [fmt_large(v) for v in self.head_view.exp_row(self.last)[shown]]
        texts += [fmt_large(self.head_view.exp_row(self.last).sum())]
        return max(texts, key=len)

    # -- pieces ------------------------------------------------------------------------------------

    def hidden_column_note(self):
        """For a window: what the ⋯ column now holds (the hidden tokens, added up), on the heading's line."""
        if not self.hidden:
            return []
        note = self.words("softmax.hidden_column", size=self.tag_size - 2, color=self.theme.muted,
                          n_hidden=len(self.hidden))
        return [note.move_to([0, self.tag.get_y(), 0])]

    def masked_text(self, row, column):
        i, j = self.indices[row], self.indices[column]
        if i is None or j is None or j <= i:
            return None
        return self.minus_infinity(self.grid, row, column)

    def row_numbers(self, values, kind, fmt=fmt_value, row=None):
        """One grid row's numbers for the keys that row may see (the ellipsis column holds
        the hidden tokens' total), each meaning (kind, layer, head, query, key)."""
        row = self.last_row if row is None else row
        query = self.indices[row]
        texts = []
        for column, key in enumerate(self.indices):
            if key is None:
                hidden = tuple(j for j in self.hidden if j <= query)
                if hidden:
                    texts.append(self.grid.number(row, column, float(values[list(hidden)].sum()),
                                                  (kind + "_sum", self.layer, self.head, query, hidden), fmt=fmt,
                                                  color=self.theme.muted))
            elif key <= query:
                texts.append(self.grid.number(row, column, values[key], (kind, self.layer, self.head, query, key),
                                              fmt=fmt))
        return texts

    def row_sum(self, row):
        """The sum of a row of the pattern (over every key, shown or not): 1.00."""
        query = self.indices[row]
        return self.grid.sum_number(row, self.head_view.pattern[query].sum(),
                                    ("pattern_sum", self.layer, self.head, query, tuple(range(self.n_tokens))),
                                    color=self.theme.accent)

    def pattern_tiles(self):
        """Tiles coloured by probability, 0 (neutral) to 1 (full colour); the future blank."""
        shown = np.array([[self.head_view.pattern[i, j] if i is not None and j is not None and j <= i else np.nan
                           for j in self.indices] for i in self.indices])
        rgb = diverging_rgb(self.theme, shown, 1.0)
        return self.grid.tiles(blend(self.theme, rgb, self.tile_strength + 0.2))
