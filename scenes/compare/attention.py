"""The followed head's attention row of the word in both prompts, side by side: which tokens
it looks at in each (the most attended, with the head's real weights). The head is the one
the stated rule picks on both traces together (scenes/compare/pair.choose_shared_head), or
the user's --layer/--head."""

from manim import LEFT, UP, GrowFromEdge, VGroup

from scenes.compare.base import CompareScene
from scenes.kit.charts import probability_bars, row_highlight
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_value, from_trace
from scenes.kit.text import fit_within


class CompareAttentionScene(CompareScene):
    n_keys = 6  # the most attended tokens shown per prompt
    row_size = 22
    row_height = 0.5
    bar_length = 2.0
    label_width = 2.7

    def construct(self):
        self.show_heading("compare.attention_heading")
        choice = self.pair.choice
        self.layer, self.head = choice.layer, choice.head
        tag = self.words("attention.tag", size=22, color=self.theme.accent_2, layer=self.layer, head=self.head)
        tag.move_to([self.right_edge() - tag.width / 2, self.top - 0.25, 0])
        why = self.words("compare.why_rule" if choice.by_rule else "compare.why_user", size=20,
                         color=self.theme.muted, layer=self.layer, head=self.head)
        fit_within(why, width=self.content_width)
        self.align_left(why, self.top - 0.85)
        top = self.top - 1.45
        headers = [self.side_header(side, top) for side in ("a", "b")]
        largest = max(self.pair.attended(side, 1)[0][1] for side in ("a", "b"))  # one axis for both charts
        charts = {side: self.chart(side, top - 0.55, largest) for side in ("a", "b")}
        values = dict(piece=self.word_piece(), layer=self.layer, head=self.head)

        # -- beat 1: where the word looks in each prompt -----------------------------------------------
        self.beat("rows")
        self.set_caption(self.say("compare.explain_rows", **values))
        self.add(tag)
        self.play(Fade(why), *[Fade(h) for h in headers], run_time=0.8)
        self.play(*[Fade(VGroup(*[row.label for row in charts[side]])) for side in ("a", "b")], run_time=0.6)
        self.play(*[GrowFromEdge(row.bar, LEFT) for side in ("a", "b") for row in charts[side]], run_time=1.0)
        self.play(*[Fade(row.value) for side in ("a", "b") for row in charts[side]], run_time=0.6)
        self.wait(1.5)

        # -- beat 2: the most attended token in each --------------------------------------------------------
        self.beat("compare")
        tops = {side: self.pair.attended(side, 1)[0] for side in ("a", "b")}
        same = self.traces()["a"].token_ids[tops["a"][0]] == self.traces()["b"].token_ids[tops["b"][0]]
        self.set_caption(self.say("compare.explain_top_same" if same else "compare.explain_top",
                                  piece_a=self.side_piece("a", tops["a"][0]),
                                  piece_b=self.side_piece("b", tops["b"][0]),
                                  share_a=fmt_value(tops["a"][1]), share_b=fmt_value(tops["b"][1])))
        self.play(*[Fade(row_highlight(charts[side], 0, self.theme)) for side in ("a", "b")], run_time=0.8)
        self.wait(2.5)

    def chart(self, side, top, largest):
        """The word's n_keys most attended tokens in trace `side`, as bars with the head's weights
        (each labelled with its piece and position)."""
        position = self.position(side)
        attended = self.pair.attended(side, self.n_keys)
        labels = [self.say("compare.key_label", piece=self.side_piece(side, key), position=key) for key, _ in attended]
        rows = probability_bars(self.theme, labels, [w for _, w in attended], self.bar_length, size=self.row_size,
                                row_height=self.row_height, label_width=self.label_width, fmt=fmt_value,
                                largest=largest,
                                meanings=[("pattern", self.layer, self.head, position, key) for key, _ in attended])
        from_trace(rows, side)
        self.place_in_column(rows, side, top, self.caption_top() + 0.1)
        rows.align_to([0, top, 0], UP)
        return rows
