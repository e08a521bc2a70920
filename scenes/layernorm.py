"""LayerNorm, briefly: the last prompt token's vector as it enters the layer (its mean and
spread), normalised to mean 0 and spread 1, then scaled by the learned gain and shifted
by the bias: the x that attention reads (the Trace's ln1 output)."""

from manim import LEFT, RIGHT, VGroup

from scenes.base import LayerScene
from scenes.kit.colour import colour_limit
from scenes.kit.numbers import value_text
from scenes.kit.text import fit_within
from scenes.kit.tokens import token_chip
from scenes.kit.vectors import VectorRow


class LayerNormScene(LayerScene):
    n_values = 6
    value_size = 24
    label_size = 22
    strip_height = 0.28
    row_y = (1.45, 0.0, -1.45)  # label lines of the three rows
    stages = ("before", "normalised", "scaled")
    stage_keys = {"before": "resid_entering", "normalised": "layernorm.normalised", "scaled": "layernorm.scaled"}

    def construct(self):
        self.show_heading("layernorm.heading")
        x, normalised, scaled = self.layer_view.layer_norm_steps(self.last)
        self.limit = colour_limit(x, normalised, scaled)  # one scale: the spread visibly changes
        focus = self.focus_line()
        rows = [self.stage_row(stage, vector, y)
                for stage, vector, y in zip(self.stages, (x, normalised, scaled), self.row_y)]

        # -- beat 1: the vector as it arrives ------------------------------------------------------
        self.beat("before")
        self.set_caption(self.say("layernorm.explain_before", layer=self.layer, d_model=self.trace.d_model))
        self.show([self.why_line(), focus, self.legend()], run_time=0.6)
        self.show(rows[0], run_time=1.0)
        self.wait(2)

        # -- beat 2: minus the mean, divided by the spread ---------------------------------------------
        self.beat("normalise")
        self.set_caption(self.say("layernorm.explain_normalised"))
        self.show(rows[1], run_time=1.0)
        self.wait(2)

        # -- beat 3: times the gain, plus the bias --------------------------------------------------------
        self.beat("scale")
        self.set_caption(self.say("layernorm.explain_scaled", d_model=self.trace.d_model))
        self.show(rows[2], run_time=1.0)
        self.wait(2.5)

    # -- pieces ------------------------------------------------------------------------------------

    def focus_line(self):
        intro = self.words("focus_last_token", size=self.label_size + 2)
        chip = token_chip(self.theme, self.piece(self.last), size=26)
        line = VGroup(intro, chip).arrange(RIGHT, buff=0.3)
        fit_within(line, width=self.content_width * 0.6)
        return self.align_left(line, self.top - 1.45)

    def stage_row(self, stage, vector, y):
        """A label, the mean and spread on the right, the first values, and the strip."""
        theme = self.theme
        colour = theme.accent if stage == "scaled" else theme.text
        label = self.words(self.stage_keys[stage], size=self.label_size, color=colour, layer=self.layer)
        self.align_left(label, y)
        stats = self.stats(stage, vector, y)
        fit_within(label, width=stats.get_left()[0] - self.left_edge() - 0.4)
        label.move_to([self.left_edge(), y, 0], aligned_edge=LEFT)
        meanings = [self.value_meaning(stage, d) for d in range(self.n_values)]
        more = self.words("values_more", size=self.value_size - 4, color=theme.muted,
                          n_more=len(vector) - self.n_values)
        row = VectorRow(theme, vector, meanings, size=self.value_size, more=more, limit=self.limit,
                        strip_width=self.content_width, strip_height=self.strip_height)
        row.shift([self.left_edge(), y - 0.45, 0])
        return [label, stats, *row]

    def value_meaning(self, stage, d):
        L, position = self.layer, self.last
        if stage == "before":
            return ("trace", f"blocks.{L}.hook_resid_pre", (position, d))
        if stage == "scaled":
            return ("trace", f"blocks.{L}.ln1.hook_normalized", (position, d))
        return ("ln_normalised", L, position, d)

    def stats(self, stage, vector, y):
        """ "mean 0.03   spread 0.45" at the right end of the label line."""
        theme, size = self.theme, self.label_size
        parts = [
            self.words("layernorm.stats", size=size - 2, color=theme.muted),
            value_text(theme, vector.mean(), ("ln_mean", self.layer, self.last, stage), size=size),
            self.words("layernorm.spread", size=size - 2, color=theme.muted),
            value_text(theme, vector.std(), ("ln_spread", self.layer, self.last, stage), size=size),
        ]
        stats = VGroup(*parts).arrange(RIGHT, buff=0.18)
        parts[2].shift(RIGHT * 0.25)
        parts[3].shift(RIGHT * 0.25)
        return stats.move_to([self.right_edge() - stats.width / 2, y, 0])

    def legend(self):
        return self.scale_legend(self.limit, top_gap=1.45, size=self.label_size - 4)
