"""Prediction: the last prompt position's logits become probabilities; the top candidates
as a bar chart with their real probabilities, and the token chosen next."""

from manim import DOWN, LEFT, RIGHT, UP, GrowFromEdge, Indicate, VGroup

from scenes.base import TraceScene
from scenes.kit.charts import probability_bars, row_highlight
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_percent
from scenes.kit.text import fit_within
from scenes.kit.tokens import token_chip
from scenes.views import Prediction


class PredictionScene(TraceScene):
    n_candidates = 10
    row_size = 26
    row_height = 0.42
    bar_length = 4.2
    label_width = 3.0  # longer pieces shrink to fit

    def construct(self):
        self.show_heading("prediction.heading")
        self.prediction = Prediction(self.trace, self.position, self.first_step, k=self.n_candidates)
        context = self.context_line()
        chart = self.chart()

        # -- beat 1: one score per vocabulary entry ------------------------------------------
        self.beat("logits")
        self.set_caption(self.say("prediction.logits", vocab_size=self.trace.config["vocab_size"]))
        self.play(Fade(context))
        self.play(Fade(chart.headers[0]), Fade(VGroup(*[VGroup(r.label, r.extra) for r in chart.rows]),
                                                   lag_ratio=0.06), run_time=1.2)
        self.wait(1.5)

        # -- beat 2: softmax turns them into probabilities --------------------------------------
        self.beat("softmax")
        self.set_caption(self.say("prediction.softmax"))
        self.play(Fade(chart.headers[1]), *[GrowFromEdge(r.bar, LEFT) for r in chart.rows], run_time=1.2)
        values = VGroup(*[part for r in chart.rows for part in (r.value, r.note) if part is not None])
        self.play(Fade(values), Fade(chart.rest), run_time=0.8)
        self.wait(1.5)

        # -- beat 3: the token chosen next --------------------------------------------------------
        self.beat("choice")
        self.set_caption(self.choice_sentence())
        chosen_index = self.prediction.rows()[1]
        chosen_row = chart.rows[chosen_index]
        highlight = row_highlight(chart.rows, chosen_index, self.theme)
        self.play(*self.recolour(chosen_row), Fade(highlight), run_time=0.6)
        self.play(Fade(context.next_token, shift=0.2 * LEFT), Indicate(chosen_row.label, scale_factor=1.1,
                                                                           color=self.theme.accent))
        self.wait(2)

    # -- facts ----------------------------------------------------------------------------------

    @property
    def position(self):
        return self.trace.n_prompt_tokens - 1  # the last prompt token predicts the first new one

    @property
    def first_step(self):
        return self.trace.steps[0] if self.trace.steps else None

    # -- pieces -------------------------------------------------------------------------------

    def context_line(self):
        """The last prompt token on the left ("After the last token [␣dog]"); the chosen next
        token on the right, shown in the last beat."""
        after = self.words("prediction.after", size=self.row_size)
        chip = token_chip(self.theme, self.piece(self.position), size=self.row_size)
        left = VGroup(after, chip).arrange(RIGHT, buff=0.25)
        self.align_left(left, self.top - 0.95)
        label = self.words("prediction.chosen", size=self.row_size, color=self.theme.accent)
        chosen = token_chip(self.theme, self.candidate_label(self.prediction.chosen), size=self.row_size,
                            edge=self.theme.accent)
        right = VGroup(label, chosen).arrange(RIGHT, buff=0.25)
        fit_within(right, width=self.content_width / 2 - 0.3)
        right.move_to([self.right_edge() - right.width / 2, left.get_y(), 0])
        line = VGroup(left)
        line.next_token = right
        return line

    def chart(self):
        """Top candidates with logit, bar and percentage; headers above; the rest below; and
        the chosen token as an extra row when sampling picked one outside the top."""
        prediction = self.prediction
        entries, _ = prediction.rows()
        position = prediction.position
        rows = probability_bars(self.theme, [self.candidate_label(e) for e in entries], [e["prob"] for e in entries],
                                self.bar_length, size=self.row_size, row_height=self.row_height,
                                label_width=self.label_width, notes=self.rank_notes(entries),
                                extra=[e["logit"] for e in entries],
                                meanings=[("probability", position, e["id"]) for e in entries],
                                extra_meanings=[("logit", position, e["id"]) for e in entries])
        headers = VGroup(
            self.words("prediction.logit_header", size=self.row_size - 4, color=self.theme.muted),
            self.words("prediction.prob_header", size=self.row_size - 4, color=self.theme.muted),
        )
        headers[0].next_to(rows[0].extra, UP, buff=0.2).align_to(rows[0].extra, RIGHT)
        headers[1].next_to(rows[0].bar, UP, buff=0.2).align_to(rows[0].bar, LEFT)
        rest = self.rest_line()
        rest.next_to(rows[len(prediction.candidates) - 1].bar, DOWN, buff=0.2, aligned_edge=LEFT)
        if prediction.chosen_index is None:
            rows[-1].shift(DOWN * (rest.height + 0.35))
        chart = VGroup(headers, rows, rest)
        self.fill_region(chart, self.top - 1.45, self.caption_top() + 0.1, max_scale=1.4)
        chart.headers, chart.rows, chart.rest = headers, rows, rest
        return chart

    def rest_line(self):
        """The probability of every token not shown (nothing, when the whole vocabulary is)."""
        n_rest = self.trace.config["vocab_size"] - len(self.prediction.candidates)
        if n_rest == 0:
            return VGroup()
        return self.words("prediction.rest", size=self.row_size - 4, color=self.theme.muted, n_rest=n_rest,
                          percent=fmt_percent(self.prediction.rest))

    def recolour(self, row):
        """Turn the chosen row to the accent colour in place (cheaper than a new Text)."""
        parts = [part for part in (row.label, row.extra, row.bar, row.value, row.note) if part is not None]
        return [part.animate.set_color(self.theme.accent) for part in parts]

    def choice_sentence(self):
        step = self.first_step
        if step is None:
            return self.say("prediction.no_steps")
        sampling = step["sampling"]
        if sampling["temperature"] == 0:
            return self.say("prediction.greedy")
        return self.say("prediction.sampled", temperature=sampling["temperature"], top_k=sampling["top_k"],
                        top_p=sampling["top_p"], percent=fmt_percent(step["chosen"]["prob_final"]))
