"""Weighted values: the last token's output z is the sum of every token's value vector v,
each weighted by the last token's row of the attention pattern. The weights are written on
the vectors they scale; the sum is the head's own output (hook_z)."""

from types import SimpleNamespace

from manim import Group, Line

from scenes.base import HeadScene
from scenes.kit.colour import colour_limit
from scenes.kit.numbers import mono, value_text
from scenes.kit.text import ELLIPSIS, centre_text_on, label_within
from scenes.kit.vectors import VectorRow


class WeightedValuesScene(HeadScene):
    n_values = 4  # leading values of each vector written as numbers; the strip shows them all
    size = 22  # nominal font size of the table; the whole table is scaled to fit
    row_height = 0.36  # nominal; a short prompt's rows grow to fill the room
    label_width = 2.3
    strip_width = 4.0
    strip_height = 0.24
    column_gap = 0.3

    def construct(self):
        self.show_heading("weighted.heading")
        numbers, last = self.head_view, self.last
        self.limit = colour_limit(numbers.v[: last + 1])  # one scale for v, weight × v and z
        table = self.table()

        # -- beat 1: the last token's row of the pattern: one weight per token ---------------------
        self.beat("weights")
        self.set_caption(self.say("weighted.explain_weights", piece=self.piece(last)))
        self.show([table.headers[0], *table.labels, *table.weights, *self.window_notice()], run_time=1.0,
                  lag_ratio=0.02)
        self.wait(2)

        # -- beat 2: every token's value vector ------------------------------------------------------
        self.beat("values")
        self.set_caption(self.say("weighted.explain_values", d_head=numbers.d_head))
        self.show([table.headers[1], *table.times, *table.values], run_time=1.0)
        self.wait(2)

        # -- beat 3: each vector scaled by its weight ------------------------------------------------
        self.beat("scale")
        self.set_caption(self.say("weighted.explain_scale"))
        self.swap([table.headers[1], *table.values], [table.headers[2], *table.scaled], run_time=1.2)
        self.wait(2)

        # -- beat 4: their sum is the head's output z ------------------------------------------------
        self.beat("sum")
        self.set_caption(self.say("weighted.explain_sum", piece=self.piece(last), d_head=numbers.d_head))
        self.show(table.total, run_time=1.0)
        self.wait(3)

    # -- the table -----------------------------------------------------------------------------------

    def table(self):
        """A row per shown token (label, weight, ×, v; and v weighted, for beat 3), the
        hidden tokens together for a window, and the sum row. Built at nominal size, then
        fitted to the room."""
        self.cols = self.columns()
        table = SimpleNamespace(labels=[], weights=[], times=[], values=[], scaled=[])
        for r, key in enumerate(self.indices):
            y = -(r + 1) * self.pitch
            if key is None:
                self.hidden_row(table, y)
            else:
                self.token_row(table, key, y)
        table.total = self.total_row(-(len(self.indices) + 1) * self.pitch - 0.15)  # a little apart
        table.headers = self.headers()
        everything = Group(*table.headers, *table.labels, *table.weights, *table.times, *table.values,
                           *table.scaled, *table.total)
        self.fill_region(everything, self.content_top(), self.caption_top() + 0.05, max_scale=1.4)
        return table

    def columns(self):
        """Where the columns start (nominal units), and the row pitch that fills the room."""
        theme, size = self.theme, self.size
        x = SimpleNamespace(weight=self.label_width + self.column_gap)
        x.weight_width = mono(theme, "0.00", size=size).width
        x.times = x.weight + x.weight_width + 0.25
        x.vector = x.times + 0.4
        x.cell = mono(theme, "−0.00", size=size).width + 0.22
        width = x.vector + self.n_values * x.cell + 0.6 + self.strip_width
        self.pitch = self.row_pitch(width, len(self.indices) + 2.5, self.row_height)
        self.strip_h = self.strip_height * self.pitch / self.row_height
        return x

    def token_row(self, table, key, y):
        numbers, L, H, last = self.head_view, self.layer, self.head, self.last
        colour = self.theme.accent if key == last else None  # the token whose output this is
        self.place_label(table, label_within(self.theme, self.piece(key), self.label_width, self.size, color=colour),
                         y)
        self.place_weight(table, value_text(self.theme, numbers.pattern[last, key],
                                            ("trace", f"blocks.{L}.attn.hook_pattern", (H, last, key)),
                                            size=self.size, color=self.theme.accent), y)
        times = mono(self.theme, "×", size=self.size, color=self.theme.muted)
        table.times.append(times.move_to([self.cols.times + times.width / 2, y, 0]))
        table.values.append(self.vector(numbers.v[key], ("trace", f"blocks.{L}.attn.hook_v", key, H), y))
        table.scaled.append(self.vector(numbers.pattern[last, key] * numbers.v[key],
                                        ("weighted", L, H, last, key), y))

    def hidden_row(self, table, y):
        """The tokens a window leaves out: their weights together and, for beat 3, their
        weighted vectors added up (so the column still sums to z)."""
        numbers, L, H, last = self.head_view, self.layer, self.head, self.last
        hidden = tuple(self.hidden)
        muted = self.theme.muted
        self.place_label(table, self.words("attention.hidden_tokens", size=self.size - 2, color=muted, strut=True,
                                           n_hidden=len(hidden)), y)
        self.place_weight(table, value_text(self.theme, numbers.pattern[last, list(hidden)].sum(),
                                            ("pattern_sum", L, H, last, hidden), size=self.size, color=muted), y)
        together = numbers.pattern[last, list(hidden)] @ numbers.v[list(hidden)]  # (dh,)
        table.scaled.append(self.vector(together, ("weighted_sum", L, H, last, hidden), y, color=muted))

    def total_row(self, y):
        """A rule, then: "z = sum", the weights' sum (1.00), and z: the Trace's hook_z."""
        numbers, L, H, last = self.head_view, self.layer, self.head, self.last
        accent = self.theme.accent
        label = self.words("weighted.sum_label", size=self.size, color=accent, strut=True)
        centre_text_on(label, [self.label_width - label.width / 2, y, 0])
        weight = value_text(self.theme, numbers.pattern[last].sum(),
                            ("pattern_sum", L, H, last, tuple(range(self.n_tokens))), size=self.size, color=accent)
        weight.move_to([self.cols.weight + self.cols.weight_width - weight.width / 2, y, 0])
        z = self.vector(numbers.z[last], ("trace", f"blocks.{L}.attn.hook_z", last, H), y, color=accent)
        rule_y = y + self.pitch / 2 + 0.05
        rule = Line([0, rule_y, 0], [z.get_right()[0], rule_y, 0], color=self.theme.panel_edge, stroke_width=2)
        return [rule, label, weight, z]

    def headers(self):
        muted, size = self.theme.muted, self.size - 4
        weight, value, scaled = (self.words(key, size=size, color=muted) for key in
                                 ("weighted.weight_header", "weighted.value_header", "weighted.scaled_header"))
        weight.move_to([self.cols.weight + self.cols.weight_width - weight.width / 2, 0, 0])
        for header in (value, scaled):
            header.move_to([self.cols.vector + header.width / 2, 0, 0])
        return [weight, value, scaled]

    # -- cells -----------------------------------------------------------------------------------------

    def place_label(self, table, label, y):
        centre_text_on(label, [self.label_width - label.width / 2, y, 0])
        table.labels.append(label)

    def place_weight(self, table, weight, y):
        weight.move_to([self.cols.weight + self.cols.weight_width - weight.width / 2, y, 0])
        table.weights.append(weight)

    def vector(self, values, meaning, y, color=None):
        """The first values as numbers, "…", and the whole vector as a strip after them.
        meaning: a value's meaning without its last index, (…, d) for trace arrays
        ("trace", name, i, H) -> index (i, H, d)."""
        theme, x = self.theme, self.cols
        meanings = [(meaning[0], meaning[1], (*meaning[2:], d)) if meaning[0] == "trace" else (*meaning, d)
                    for d in range(self.n_values)]
        row = VectorRow(theme, values, meanings, size=self.size, color=color, cell=x.cell,
                        more=mono(theme, ELLIPSIS, size=self.size, color=theme.muted), more_gap=0.1,
                        limit=self.limit, strip_width=self.strip_width, strip_height=self.strip_h, strip_after=True)
        return row.shift([x.vector, y, 0])
