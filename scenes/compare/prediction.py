"""The next-token predictions after the word in both prompts: the softmax of the logits at
its position (the logit lens at the last layer; the model's own next token where the word
ends the prompt), the five most probable in each, with their probabilities."""

from manim import LEFT, UP, GrowFromEdge, VGroup

from scenes.compare.base import CompareScene
from scenes.kit.charts import probability_bars
from scenes.kit.motion import Fade
from scenes.kit.numbers import from_trace


class ComparePredictionScene(CompareScene):
    n_candidates = 5
    row_size = 24
    row_height = 0.55
    bar_length = 2.4
    label_width = 2.2

    def construct(self):
        self.show_heading("compare.prediction_heading")
        top = self.content_top() - 0.15  # the columns' headers, clear of the heading
        headers = [self.side_header(side, top) for side in ("a", "b")]
        predictions = {side: self.pair.predictions(side, self.n_candidates) for side in ("a", "b")}
        largest = max(p[0]["prob"] for p in predictions.values())  # one axis for both charts
        charts = {side: self.chart(side, predictions[side], top - 0.6, largest) for side in ("a", "b")}
        notes = [self.where_note(side, charts[side]) for side in ("a", "b")]

        # -- beat 1: what the model expects after the word, in each prompt -------------------------------------
        self.beat("predictions")
        self.set_caption(self.say("compare.explain_predictions", piece=self.word_piece(), n=self.n_candidates))
        self.show([*headers, *notes])
        self.play(*[Fade(VGroup(*[row.label for row in charts[side]])) for side in ("a", "b")], run_time=0.6)
        self.play(*[GrowFromEdge(row.bar, LEFT) for side in ("a", "b") for row in charts[side]], run_time=1.0)
        self.play(*[Fade(row.value) for side in ("a", "b") for row in charts[side]], run_time=0.6)
        self.wait(1.5)

        # -- beat 2: the tokens both predict, lit -----------------------------------------------------------------
        self.beat("shared")
        ids = {side: [entry["id"] for entry in predictions[side]] for side in ("a", "b")}
        shared = set(ids["a"]) & set(ids["b"])
        self.set_caption(self.say("compare.explain_shared", n_shared=len(shared), n=self.n_candidates))
        lit = [row.label for side in ("a", "b") for row, token_id in zip(charts[side], ids[side]) if token_id in shared]
        if lit:
            self.play(*[label.animate.set_color(self.theme.accent) for label in lit], run_time=0.8)
        self.wait(2.5)

    def chart(self, side, entries, top, largest):
        position = self.position(side)
        rows = probability_bars(self.theme, [self.label_of(e) for e in entries], [e["prob"] for e in entries],
                                self.bar_length, size=self.row_size, row_height=self.row_height,
                                label_width=self.label_width, largest=largest,
                                meanings=[("probability", position, e["id"]) for e in entries])
        from_trace(rows, side)
        self.place_in_column(rows, side, top, self.caption_top() + 0.7)
        rows.align_to([0, top, 0], UP)
        return rows

    def where_note(self, side, chart):
        """Under a chart: the prompt's own next token (the word ends the prompt), or the lens at its position."""
        key = "compare.is_last" if self.pair.is_last(side) else "compare.inside"
        note = self.words(key, size=18, color=self.theme.muted, position=self.position(side))
        note.next_to(chart, direction=[0, -1, 0], buff=0.3)
        note.move_to([self.column_x(side), note.get_y(), 0])
        return note
