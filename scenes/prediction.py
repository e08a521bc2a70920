"""Prediction: the last prompt position's vector after the last layer goes through the final
LayerNorm, then the unembedding W_U (tied to W_E in GPT-2): one logit worked through, the
final vector times the chosen token's column, added up. Then the logits become
probabilities: the top candidates as a bar chart with their real probabilities, and the
token chosen next."""

from manim import DOWN, LEFT, RIGHT, UP, GrowFromEdge, Indicate, VGroup

from scenes.base import TraceScene
from scenes.kit.charts import probability_bars, row_highlight
from scenes.kit.motion import Fade, Glide
from scenes.kit.numbers import fmt_percent, value_text
from scenes.kit.text import fit_within
from scenes.kit.tokens import token_chip
from scenes.kit.vectors import VectorRow
from scenes.readouts import Unembedding
from scenes.views import Prediction


class PredictionScene(TraceScene):
    n_candidates = 10
    row_size = 26
    row_height = 0.42
    bar_length = 4.2
    label_width = 3.0  # longer pieces shrink to fit
    pitch = 1.4  # between the vector rows of the unembedding beats

    def construct(self):
        self.show_heading("prediction.heading")
        self.prediction = Prediction(self.trace, self.position, self.first_step, k=self.n_candidates)
        context = self.context_line()
        chart = self.chart()
        unembedding = Unembedding(self.trace, self.position, self.prediction.chosen["id"])

        # -- beat 1: the final LayerNorm --------------------------------------------------------
        self.beat("final-norm")
        self.set_caption(self.say("prediction.explain_final_norm", n_layers=self.trace.n_layers))
        final = self.final_norm_rows(unembedding)
        self.play(Fade(context))
        self.show(final[0], run_time=0.8)
        self.show(final[1], run_time=0.8)
        self.wait(1.5)

        # -- beat 2: times W_U: one logit worked through ------------------------------------------
        self.beat("unembed")
        self.set_caption(self.say("prediction.explain_tied" if unembedding.tied else "prediction.explain_untied",
                                  d_model=self.trace.d_model, vocab_size=self.trace.config["vocab_size"]))
        self.hide(final[0])
        self.play(*[Glide(part, part.get_center() + UP * self.pitch) for part in final[1]], run_time=0.6)
        worked = self.worked_logit(unembedding, final[1])
        self.show(worked[0], run_time=0.8)
        self.show(worked[1], run_time=0.8)
        self.show(worked[2], run_time=0.8)
        self.wait(2)

        # -- beat 3: one score per vocabulary entry ------------------------------------------
        self.beat("logits")
        self.set_caption(self.say("prediction.logits", vocab_size=self.trace.config["vocab_size"]))
        self.hide([*final[1], *[part for line in worked for part in line]])
        self.play(Fade(chart.headers[0]), Fade(VGroup(*[VGroup(r.label, r.extra) for r in chart.rows]),
                                                   lag_ratio=0.06), run_time=1.2)
        self.wait(1.5)

        # -- beat 4: softmax turns them into probabilities --------------------------------------
        self.beat("softmax")
        self.set_caption(self.say("prediction.softmax"))
        self.play(Fade(chart.headers[1]), *[GrowFromEdge(r.bar, LEFT) for r in chart.rows], run_time=1.2)
        values = VGroup(*[part for r in chart.rows for part in (r.value, r.note) if part is not None])
        self.play(Fade(values), Fade(chart.rest), run_time=0.8)
        self.wait(1.5)

        # -- beat 5: the token chosen next --------------------------------------------------------
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

    def final_norm_rows(self, unembedding):
        """The stream leaving the last layer, and after the final LayerNorm (the x W_U reads)."""
        last = self.trace.n_layers - 1
        labels = [self.words("prediction.leaving", size=22, layer=last),
                  self.words("prediction.final_x", size=22, color=self.theme.accent)]
        return self.vector_rows([(labels[0], unembedding.before, f"blocks.{last}.hook_resid_post"),
                                 (labels[1], unembedding.x, "ln_final.hook_normalized")], top=self.top - 1.75,
                                pitch=self.pitch)

    def worked_logit(self, unembedding, x_row):
        """Under x (already shown): the chosen token's column of W_U; their first products,
        the rest added up; and the total, the token's logit. Three lists of mobjects."""
        theme, n, position, token_id = self.theme, 6, self.position, unembedding.token_id
        piece = self.candidate_label(self.prediction.chosen)
        column_label = self.words("prediction.column", size=22, color=self.theme.accent_2, piece=piece)
        top = x_row[0].get_y() - self.pitch
        column = self.vector_rows([(column_label, unembedding.column, "unembed.columns", unembedding.column_index)],
                                  top=top)[0]
        rest = len(unembedding.products) - n
        more = VGroup(self.words("dots.rest", size=20, color=theme.muted, n_rest=rest),
                      value_text(theme, unembedding.products[n:].sum(), ("unembed_rest", position, token_id, n),
                                 size=24)).arrange(RIGHT, buff=0.15) if rest > 0 else None
        products = VectorRow(theme, unembedding.products, [("unembed_term", position, token_id, d) for d in range(n)],
                             size=24, more=more)
        label = self.words("dots.products", size=22, color=theme.muted)
        self.align_left(label, top - self.pitch)
        products.shift([self.left_edge(), top - self.pitch - 0.48, 0])
        total = VGroup(self.words("prediction.logit_of", size=24, piece=piece),
                       value_text(theme, unembedding.logit, ("logit", position, token_id), size=28,
                                  color=theme.accent)).arrange(RIGHT, buff=0.2)
        total.next_to(products, DOWN, buff=0.35).align_to(products, LEFT).shift(RIGHT * 0.3)
        return [column, [label, products], [total]]

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
