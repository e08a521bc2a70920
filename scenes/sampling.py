"""Sampling, on the real logits of the prompt's last position: their probabilities as bars;
the same logits at the user's temperature and at two others (0.5 and 1.5); the top-k and
top-p cuts, with the cumulative probability beside each bar; the kept tokens renormalised;
and the draw: u, from the seeded generator, landing in the chosen token's slice of [0, 1).
Greedy decoding says so and shows the largest bar chosen."""

from manim import DOWN, LEFT, RIGHT, UP, DashedLine, Rectangle, Triangle, VGroup

from scenes.base import TraceScene
from scenes.kit.charts import probability_bars, row_highlight
from scenes.kit.numbers import fmt_draw, fmt_percent, fmt_value, value_text
from scenes.kit.text import centre_text_on, fit_within, words
from scenes.kit.tokens import token_chip
from scenes.readouts import Sampling


class SamplingScene(TraceScene):
    size = 22
    row_height = 0.46
    label_right = -4.1  # x where the token labels end and the bars begin
    line_y = 0.2  # the [0, 1) line of the draw
    line_height = 0.55

    def construct(self):
        self.show_heading("sampling.heading")
        view = self.view = Sampling(self.trace)
        self.top_y = self.content_top() - 0.65  # the first row's centre, under the column headers
        room = self.top_y - self.caption_top() - 0.3
        self.row_height = min(0.75, room / (len(view.shown) + 0.5))  # a 3-letter vocabulary need not look lost
        self.size = 26 if len(view.shown) <= 4 else self.size
        labels = self.token_labels()

        # -- beat 1: the model's probabilities -----------------------------------------------------
        self.beat("probabilities")
        self.set_caption(self.say("sampling.explain_probs", n=len(view.shown)))
        first = self.column(view.probs[view.shown], [("probability", view.position, i) for i in view.shown],
                            self.label_right + 0.3, 5.0, "sampling.raw_header", largest=view.probs[view.shown].max())
        self.show([*labels, *first], run_time=1.0, lag_ratio=0.03)
        self.wait(1.5)

        # -- beat 2: temperature reshapes them ---------------------------------------------------------
        self.beat("temperature")
        temperatures = view.temperatures()
        self.set_caption(self.say("sampling.explain_temperature_own" if view.sampled else
                                  "sampling.explain_temperature"))
        self.hide(first)
        columns = self.temperature_columns(temperatures)
        self.show(columns, run_time=1.2, lag_ratio=0.02)
        self.wait(2.5)

        if not view.sampled:
            # -- last beat: greedy, or nothing generated ---------------------------------------------------
            self.beat("choice")
            self.hide(columns)
            chosen = self.column(view.probs[view.shown], [("probability", view.position, i) for i in view.shown],
                                 self.label_right + 0.3, 5.0, "sampling.raw_header",
                                 largest=view.probs[view.shown].max())
            self.show(chosen, run_time=0.8)
            self.set_caption(self.say("sampling.greedy" if view.greedy else "sampling.no_steps"))
            self.show([row_highlight(self.rows_of(labels, chosen), 0, self.theme)], run_time=0.6)
            self.wait(2)
            return

        # -- beat 3: top-k and top-p cut the tail ----------------------------------------------------------
        self.beat("cuts")
        s = view.settings
        self.set_caption(self.say("sampling.explain_cuts", top_k=s["top_k"], top_p=s["top_p"],
                                  kept_k=view.kept_by_k, kept=view.kept))
        self.hide(columns)
        shown_tempered = [view.tempered[i] for i in view.shown]
        tempered = self.column(shown_tempered, [("tempered", view.position, i, s["temperature"])
                                                for i in view.shown], self.label_right + 0.3, 3.6,
                               "sampling.temperature_header", temperature=s["temperature"],
                               largest=max(shown_tempered))
        cumulative = self.number_column([view.cumulative[i] for i in view.shown],
                                        [("cumulative", view.position, view.rank_of(i), s["temperature"])
                                         for i in view.shown], 2.9, "sampling.cumulative_header", fmt_percent)
        cut = self.cut_line()
        self.show([*tempered, *cumulative, *cut], run_time=1.0)
        self.dim_cut(labels, tempered, cumulative)
        self.wait(2.5)

        # -- beat 4: what is left, renormalised -----------------------------------------------------------
        self.beat("renormalise")
        self.set_caption(self.say("sampling.explain_renormalise"))
        final = self.number_column([view.final[i] for i in view.shown], [("final", view.position, i)
                                                                          for i in view.shown],
                                   5.4, "sampling.final_header", fmt_percent, colour=self.theme.accent)
        self.show(final, run_time=1.0)
        self.wait(2)

        # -- beat 5: the draw ---------------------------------------------------------------------------------
        self.beat("draw")
        self.set_caption(self.say("sampling.explain_draw", seed=s["seed"]))
        self.hide([*labels, *tempered, *cumulative, *cut, *final])
        line = self.draw_line()
        self.show(line.slices + line.ends, run_time=1.0)
        self.show(line.marker, run_time=0.8)
        self.show(line.chosen, run_time=0.8)
        self.wait(2.5)

    # -- the chart: token labels, columns of bars and numbers ------------------------------------------------

    def row_y(self, r):
        gap = 0.2 if r == len(self.view.shown) - 1 and self.view.chosen_rank > len(self.view.shown) - 1 else 0
        return self.top_y - r * self.row_height - gap  # the chosen token from below the top sits a little apart

    def token_labels(self):
        """The shown tokens' pieces, right-aligned at label_right (the chosen one from below
        the top with its rank, both within the same width)."""
        view, labels, width = self.view, [], 2.6
        from_below = view.chosen_rank > len(view.shown) - 1 and len(view.shown) > 1
        rank = self.words("prediction.rank", size=self.size - 6, color=self.theme.muted, rank=view.chosen_rank)
        for r, token_id in enumerate(view.shown):
            text = self.candidate_label({"id": token_id, "piece": view.pieces[token_id]})
            room = width - rank.width - 0.2 if from_below and r == len(view.shown) - 1 else width
            label = fit_within(words(self.theme, text, size=self.size, strut=True), width=room)
            labels.append(centre_text_on(label, [self.label_right - 0.15 - label.width / 2, self.row_y(r), 0]))
        if from_below:
            labels.append(rank.next_to(labels[-1], LEFT, buff=0.2))
        return labels

    def rows_of(self, labels, column):
        """Rows for row_highlight: each a label and its bar with its value."""
        rows = [VGroup(labels[r], *column[1 + 2 * r: 3 + 2 * r]) for r in range(len(self.view.shown))]
        for row, r in zip(rows, range(len(rows))):
            row.bar = column[1 + 2 * r]
        return rows

    def column(self, values, meanings, left, bar_length, header_key, largest, **header_values):
        """A header, then per shown token a bar and its percentage, bars starting at `left`."""
        rows = probability_bars(self.theme, ["·"] * len(values), list(values), bar_length, size=self.size,
                                row_height=self.row_height, meanings=meanings, largest=largest or 1.0)
        parts = []
        for r, row in enumerate(rows):
            row.bar.move_to([left, self.row_y(r), 0], aligned_edge=LEFT)
            row.value.next_to(row.bar, RIGHT, buff=0.12)
            parts += [row.bar, row.value]
        header = self.words(header_key, size=self.size - 4, color=self.theme.muted, **header_values)
        fit_within(header, width=bar_length + 1.1)
        header.move_to([left + header.width / 2, self.top_y + 0.55, 0])
        return [header, *parts]

    def number_column(self, values, meanings, x, header_key, fmt, colour=None):
        """A header and one number per shown token, right-aligned at x (a cut token's 0 as "cut")."""
        parts = []
        for r, (value, meaning) in enumerate(zip(values, meanings)):
            if meaning[0] == "final" and value == 0:
                text = self.words("sampling.cut", size=self.size - 2, color=self.theme.muted)
            else:
                text = value_text(self.theme, value, meaning, size=self.size - 2, color=colour, fmt=fmt)
            parts.append(text.move_to([x - text.width / 2, self.row_y(r), 0]))
        header = self.words(header_key, size=self.size - 4, color=self.theme.muted)
        header.move_to([x - header.width / 2, self.top_y + 0.55, 0])
        return [header, *parts]

    def temperature_columns(self, temperatures):
        """The shown tokens' probabilities at each temperature, side by side, on one axis."""
        view = self.view
        own = view.settings["temperature"] if view.sampled else None
        tables = [view.at_temperature(t)[view.shown] for t in temperatures]
        largest = max(float(table.max()) for table in tables)
        width = (self.right_edge() - self.label_right - 0.3) / len(temperatures)
        parts = []
        for c, (temperature, table) in enumerate(zip(temperatures, tables)):
            key = "sampling.temperature_own" if temperature == own else "sampling.temperature_header"
            parts += self.column(table, [("tempered", view.position, i, temperature) for i in view.shown],
                                 self.label_right + 0.3 + c * width, width - 1.45, key, largest,
                                 temperature=temperature)
        return parts

    def cut_line(self):
        """A dashed line under the last kept token, when the cut falls among the top rows."""
        view = self.view
        top_rows = min(len(view.shown), len(view.order))
        if view.chosen_rank > top_rows - 1 and len(view.shown) > 1:
            top_rows -= 1  # the last row is the chosen token from further down
        if view.kept >= top_rows:
            return []
        y = (self.row_y(view.kept - 1) + self.row_y(view.kept)) / 2
        return [DashedLine([self.left_edge() + 0.2, y, 0], [self.right_edge() - 0.2, y, 0], color=self.theme.accent,
                           stroke_width=2, dash_length=0.12)]

    def dim_cut(self, labels, tempered, cumulative):
        """Grey out the rows the cuts remove."""
        view = self.view
        dimmed = []
        for r, token_id in enumerate(view.shown):
            if view.final[token_id] == 0:
                dimmed += [labels[r], tempered[1 + 2 * r], tempered[2 + 2 * r], cumulative[1 + r]]
        if dimmed:  # recoloured, not faded: a strutted label's invisible struts must stay so
            self.play(*[mob.animate.set_color(self.theme.panel_edge) for mob in dimmed], run_time=0.6)

    # -- the draw ------------------------------------------------------------------------------------------

    def draw_line(self):
        """[0, 1) cut into the kept tokens' slices, most probable first; u's marker; the
        chosen slice lit, with its ends and its token."""
        view, theme = self.view, self.theme
        left, right = self.left_edge() + 0.4, self.right_edge() - 0.4
        length = right - left
        x = lambda value: left + value * length  # noqa: E731
        slices, start = [], 0.0

        def add_slice(token_id, start, width, colour):
            block = Rectangle(width=max(width * length, 0.02), height=self.line_height, stroke_width=0,
                              fill_color=colour, fill_opacity=1)
            slices.append(block.move_to([x(start + width / 2), self.line_y, 0]))
            if token_id is None:  # the tail: many kept tokens, too thin to name
                return
            piece = self.trace.piece_text(token_id)
            name = words(theme, self.candidate_label({"id": token_id, "piece": piece}),
                         size=self.size - 4, color=theme.background, strut=True)
            if name.width + 0.15 < block.width:  # a slice wide enough names its token
                slices.append(centre_text_on(name, block.get_center()))

        for rank, (token_id, width) in enumerate(view.slices):  # recorded by the tracer, most probable first
            colour = theme.accent if token_id == view.chosen else (theme.bar if rank % 2 == 0 else theme.panel_edge)
            add_slice(token_id, start, width, colour)
            start += width
        if view.tail:  # the kept tokens past the recorded slices, as one block; the chosen one lit on it
            add_slice(None, start, max(0.0, 1.0 - start), theme.panel_edge)
            if all(token_id != view.chosen for token_id, _ in view.slices):
                add_slice(view.chosen, view.slice[0], view.slice[1] - view.slice[0], theme.accent)
        ends = []
        for value, side in ((0.0, LEFT), (1.0, RIGHT)):
            end = value_text(theme, value, ("axis", value), size=self.size - 4, color=theme.muted,
                             fmt=lambda v: fmt_value(v, 0))
            ends.append(end.next_to([x(value), self.line_y, 0], side, buff=0.15))
        u = view.u
        tip = Triangle(fill_color=theme.text, fill_opacity=1, stroke_width=0).scale(0.12).rotate(3.14159)
        tip.move_to([x(u), self.line_y + self.line_height / 2 + 0.14, 0])
        u_label = VGroup(self.words("sampling.u", size=self.size), value_text(theme, u, ("draw", 0), size=self.size,
                                                                               fmt=fmt_draw)).arrange(RIGHT, buff=0.12)
        u_label.next_to(tip, UP, buff=0.12)
        self.keep_inside(u_label)
        start, end = view.slice
        bounds = VGroup(value_text(theme, start, ("slice_start", 0), size=self.size - 2, color=theme.accent,
                                   fmt=fmt_draw),
                        self.words("sampling.slice_to", size=self.size - 2, color=theme.accent),
                        value_text(theme, end, ("slice_end", 0), size=self.size - 2, color=theme.accent,
                                   fmt=fmt_draw)).arrange(RIGHT, buff=0.15)
        bounds.next_to([x((start + end) / 2), self.line_y - self.line_height / 2, 0], DOWN, buff=0.25)
        self.keep_inside(bounds)
        chip = token_chip(theme, self.candidate_label({"id": view.chosen, "piece": view.pieces[view.chosen]}),
                          size=26, edge=theme.accent)
        sentence = self.words("sampling.lands", size=self.size, color=theme.accent,
                              percent=fmt_percent(view.final[view.chosen]), rank=view.chosen_rank)
        landing = VGroup(chip, sentence).arrange(RIGHT, buff=0.25)
        fit_within(landing, width=self.content_width)
        landing.next_to(bounds, DOWN, buff=0.35)
        self.keep_inside(landing)
        line = VGroup()
        line.slices, line.ends, line.marker, line.chosen = slices, ends, [tip, u_label], [bounds, landing]
        return line

    def keep_inside(self, mob):
        """Shift `mob` sideways so it stays within the margins."""
        if mob.get_left()[0] < self.left_edge():
            mob.shift(RIGHT * (self.left_edge() - mob.get_left()[0]))
        if mob.get_right()[0] > self.right_edge():
            mob.shift(LEFT * (mob.get_right()[0] - self.right_edge()))
        return mob
