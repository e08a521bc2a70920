"""How the two vectors of the word drift apart layer by layer: the cosine similarity of its
residual stream in A and in B, at x0 and after every layer, one bar each (a deep model
shows every layer; its numbers are written where they fit)."""

from manim import DOWN, UP, Line, Rectangle, VGroup

from scenes.compare.base import CompareScene
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_cosine, from_trace, value_text


class CompareDriftScene(CompareScene):
    max_written = 13  # up to this many bars each get their number; more: x0, the lowest and the last
    max_ticks = 25  # up to this many bars each get their layer number under it; more: every 4th
    value_size = 18
    tick_size = 16

    def construct(self):
        self.show_heading("compare.drift_heading")
        similarities = self.pair.similarities  # [(trace name, cosine)] x0, then after each layer
        chart = self.bars(similarities)
        first, last = similarities[0][1], similarities[-1][1]

        # -- beat 1: one number per layer ------------------------------------------------------------------
        self.beat("bars")
        self.set_caption(self.say("compare.explain_drift", piece=self.word_piece()))
        self.show([chart.axis, *chart.ticks, chart.axis_label, chart.zero_label, chart.one_label])
        self.play(*[Fade(bar, shift=0.1 * UP) for bar in chart.bars], run_time=1.2)
        self.show(chart.values, run_time=0.8)
        self.wait(1.5)

        # -- beat 2: where they end up -------------------------------------------------------------------------
        self.beat("end")
        key = "compare.explain_drift_apart" if last < first else "compare.explain_drift_closer"
        if self.pair.same_prefix:
            key = "compare.explain_same_prefix"
        self.set_caption(self.say(key, piece=self.word_piece(), first=fmt_cosine(first), last=fmt_cosine(last),
                                  layer=self.trace.n_layers - 1))
        self.play(chart.bars[-1].animate.set_fill(self.theme.accent), chart.bars[0].animate.set_fill(self.theme.accent),
                  run_time=0.8)
        self.wait(2.5)

    def bars(self, similarities):
        """A bar per stream (x0, layer 0 ... L-1) rising from a zero line (down for a negative
        cosine), height 1 = the same direction; numbers above the bars, layer numbers below."""
        n = len(similarities)
        left, right = self.left_edge() + 1.2, self.right_edge() - 0.2
        top, bottom = self.content_top() - 0.5, self.caption_top() + 0.9
        lowest = min(0.0, min(c for _, c in similarities))
        unit = (top - bottom) / (1.0 - lowest)  # scene units per 1.0 of cosine
        zero = bottom - lowest * unit
        pitch = (right - left) / n
        width = min(0.9 * pitch, 0.8)
        chart = VGroup()
        chart.axis = Line([left - 0.1, zero, 0], [right, zero, 0], color=self.theme.muted, stroke_width=2)
        one = Line([left - 0.1, zero + unit, 0], [right, zero + unit, 0], color=self.theme.panel_edge, stroke_width=1)
        chart.ticks = [one]
        chart.zero_label = from_trace(value_text(self.theme, 0, ("axis", 0), size=self.tick_size,
                                                 color=self.theme.muted, fmt=lambda x: f"{x:.0f}"), "ab")
        chart.zero_label.next_to(chart.axis, direction=[-1, 0, 0], buff=0.15)
        chart.one_label = from_trace(value_text(self.theme, 1, ("axis", 1), size=self.tick_size,
                                                color=self.theme.muted, fmt=lambda x: f"{x:.0f}"), "ab")
        chart.one_label.next_to(one, direction=[-1, 0, 0], buff=0.15)
        chart.bars, chart.values = [], []
        lowest_index = min(range(n), key=lambda i: similarities[i][1])
        written = set(range(n)) if n <= self.max_written else {0, n - 1}
        if n > self.max_written and 4 <= lowest_index <= n - 5:  # the lowest too, where it has room
            written.add(lowest_index)
        every = 1 if n <= self.max_ticks else 4
        for i, (name, similarity) in enumerate(similarities):
            x = left + (i + 0.5) * pitch
            height = max(abs(similarity) * unit, 0.02)
            bar = Rectangle(width=width, height=height, stroke_width=0, fill_opacity=1,
                            fill_color=self.theme.bar if i else self.theme.accent_2)
            bar.move_to([x, zero + (height / 2 if similarity >= 0 else -height / 2), 0])
            chart.bars.append(bar)
            meaning = ("cosine", name, self.position("a"), self.position("b"))
            if i in written:
                number = from_trace(value_text(self.theme, similarity, meaning, size=self.value_size, fmt=fmt_cosine,
                                               color=self.theme.text), "ab")
                number.next_to(bar if similarity >= 0 else chart.axis.get_center() * [0, 1, 0] + [x, 0, 0], UP,
                               buff=0.08)  # above the bar, or above the zero line for a bar that goes down
                chart.values.append(number)
            if i == 0:
                tick = self.words("compare.x0_tick", size=self.tick_size, color=self.theme.accent_2)
            elif (i - 1) % every == 0 and (every == 1 or i > 1) or i == n - 1:  # crowded: not layer 0, beside x0
                tick = from_trace(value_text(self.theme, i - 1, ("axis", i - 1), size=self.tick_size,
                                             color=self.theme.muted, fmt=lambda x: f"{x:.0f}"), "ab")
            else:
                continue
            tick.move_to([x, bottom - 0.15 - tick.height / 2, 0])
            chart.ticks.append(tick)
        chart.axis_label = self.words("compare.layer_axis", size=self.tick_size + 2, color=self.theme.muted)
        chart.axis_label.next_to(VGroup(*chart.ticks[1:]), DOWN, buff=0.15)
        return chart
