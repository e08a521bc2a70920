"""All heads: every head of the layer has its own attention pattern (all real, side by
side); their outputs z are joined side by side, projected by W_O (the Trace's attention
output), and added to the residual stream (resid_mid = resid_pre + attn_out)."""

import math
from types import SimpleNamespace

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Group, Rectangle

from scenes.base import HeadScene
from scenes.kit.colour import colour_limit, heatmap
from scenes.kit.numbers import mono
from scenes.kit.text import centre_text_on, fit_within, label_within
from scenes.kit.vectors import MatrixBlock


class AllHeadsScene(HeadScene):
    max_columns = 6  # heatmaps per row of the overview ...
    max_rows = 3  # ... unless more rows than this would be needed (GPT-2 XL's 25 heads: 9 per row)
    head_label_size = 20
    label_size = 20
    label_width = 1.8
    n_values = 6  # leading values of the residual vectors written out
    max_row_height = 0.6  # of the joined-heads pictures (a short prompt's rows grow up to this)

    def construct(self):
        self.show_heading("heads.heading")

        # -- beat 1: every head's pattern -------------------------------------------------------
        self.beat("patterns")
        self.set_caption(self.say("heads.explain_patterns", layer=self.layer, n_heads=self.trace.n_heads))
        patterns = self.pattern_overview()
        self.show(patterns, run_time=1.2, lag_ratio=0.05)
        self.wait(2.5)

        # -- beat 2: their outputs side by side ------------------------------------------------------
        self.beat("concatenate")
        self.set_caption(self.say("heads.explain_concat", n_tokens=self.n_tokens, d_head=self.head_view.d_head,
                                  d_model=self.trace.d_model))
        flow = self.projection()
        notice = self.window_notice()
        self.hide(patterns)
        self.show([*flow.labels, *flow.z, *notice], run_time=1.0)
        self.wait(2)

        # -- beat 3: projected by W_O ------------------------------------------------------------------
        self.beat("project")
        self.set_caption(self.say("heads.explain_project", d_model=self.trace.d_model))
        self.show(flow.w_o, run_time=0.8)
        self.show(flow.out, run_time=0.8)
        self.wait(2)

        # -- beat 4: added to the residual stream -----------------------------------------------------
        self.beat("residual")
        self.set_caption(self.say("heads.explain_residual"))
        self.hide([*flow.labels, *flow.z, *flow.w_o, *flow.out, *notice])  # from here on: the last token
        rows = self.residual_rows()
        self.show(rows[0] + rows[1], run_time=1.0)
        self.show(rows[2], run_time=1.0)
        self.wait(2.5)

    # -- beat 1 ------------------------------------------------------------------------------------

    def pattern_overview(self):
        """One heatmap per head (the shown tokens; the masked future blank), labelled; the
        head the deep dive follows outlined."""
        n_heads = self.trace.n_heads
        columns = min(n_heads, max(self.max_columns, math.ceil(n_heads / self.max_rows)))
        rows = math.ceil(n_heads / columns)
        top, bottom = self.content_top() - 0.1, self.caption_top() + 0.1
        gap_x, label_room = 0.45, 0.45
        legend_room = 0.35
        side = min((self.content_width - (columns - 1) * gap_x) / columns,
                   (top - bottom - legend_room) / rows - label_room, 3.2)
        pictures = []
        height = rows * (side + label_room)
        start_y = (top + bottom + legend_room) / 2 + height / 2
        for h in range(n_heads):
            r, c = divmod(h, columns)
            in_row = min(columns, n_heads - r * columns)
            row_width = in_row * side + (in_row - 1) * gap_x
            x = -row_width / 2 + c * (side + gap_x) + side / 2
            y = start_y - r * (side + label_room) - side / 2
            chosen = h == self.head
            image = heatmap(self.theme, self.shown_pattern(h), 1.0, side, side).move_to([x, y, 0])
            frame = Rectangle(width=side, height=side, stroke_color=self.theme.accent if chosen else
                              self.theme.panel_edge, stroke_width=4 if chosen else 1.5).move_to([x, y, 0])
            label = self.words("heads.head", size=self.head_label_size,
                               color=self.theme.accent if chosen else self.theme.muted, head=h)
            fit_within(label, width=side + gap_x - 0.1)  # never wider than its picture and the gap
            label.next_to(frame, DOWN, buff=0.1)
            pictures.append(Group(image, frame, label))
        legend = self.pattern_legend()
        legend.move_to([self.right_edge() - legend.width / 2, bottom + legend.height / 2, 0])
        return pictures + [legend]

    def pattern_legend(self):
        """The colour scale of the patterns: attention weight 0 (neutral) to 1 (full colour)."""
        ramp = heatmap(self.theme, np.linspace(0, 1, 64)[None, :], 1.0, 1.6, 0.16)
        low = mono(self.theme, "0", size=18, color=self.theme.muted).next_to(ramp, LEFT, buff=0.1)
        high = mono(self.theme, "1", size=18, color=self.theme.muted).next_to(ramp, RIGHT, buff=0.1)
        low.value, low.meaning = 0.0, ("scale", 0)  # the ends of the scale, not values of the model
        high.value, high.meaning = 1.0, ("scale", 1)
        name = self.words("heads.legend", size=18, color=self.theme.muted).next_to(low, LEFT, buff=0.15)
        return Group(name, low, ramp, high)

    def shown_pattern(self, head):
        """Head `head`'s whole pattern (a picture needs no window), the masked future NaN (blank)."""
        return np.where(self.layer_view.future, np.nan, self.layer_view.patterns[head])

    # -- beats 2 and 3 --------------------------------------------------------------------------------

    def projection(self):
        """Token labels | z of every head joined (T x d) | × W_O = | attention output (T x d)."""
        layer, d_model = self.layer_view, self.trace.d_model
        top, bottom = self.content_top() - 0.55, self.caption_top() + 0.55
        row_height = min(self.max_row_height, (top - bottom) / len(self.indices))
        rows = SimpleNamespace(height=row_height * len(self.indices), y=(top + bottom) / 2, pitch=row_height)
        left = self.left_edge() + self.label_width + 0.2
        flow = SimpleNamespace(labels=self.row_labels(left - 0.2, rows))

        joined = np.stack([layer.z[i].reshape(-1) if i is not None else np.full(d_model, np.nan)
                           for i in self.indices])  # (rows, H * dh): the heads side by side
        flow.z = self.picture(joined, left, self.image_width, rows, "heads.z_label") + self.seams(left, rows)
        times = mono(self.theme, "×", size=30).move_to([left + self.image_width + 0.35, rows.y, 0])
        side = min(1.4, rows.height)
        w_o = MatrixBlock(self.theme, "W_O", side, side, self.theme.accent_2,
                          shape=self.say("shape", rows=d_model, cols=d_model), size=self.label_size + 2)
        w_o.move_to([times.get_x() + 0.35 + side / 2, rows.y, 0])
        equals = mono(self.theme, "=", size=30).move_to([w_o.get_right()[0] + 0.35, rows.y, 0])
        flow.w_o = [times, w_o, equals]

        out = np.stack([layer.attn_out[i] if i is not None else np.full(d_model, np.nan) for i in self.indices])
        out_left = equals.get_x() + 0.35
        flow.out = self.picture(out, out_left, self.right_edge() - out_left, rows, "heads.out_label")
        return flow

    image_width = 4.3  # of the joined heads' picture

    def row_labels(self, right, rows):
        """Each shown token's piece (⋮ for a window's gap), right-aligned at `right`."""
        labels = []
        for r, i in enumerate(self.indices):
            label = label_within(self.theme, self.piece(i) if i is not None else "⋮", self.label_width,
                                 self.label_size, color=None if i is not None else self.theme.muted)
            fit_within(label, height=rows.pitch * 0.95)
            y = rows.y + rows.height / 2 - (r + 0.5) * rows.pitch
            labels.append(centre_text_on(label, [right - label.width / 2, y, 0]))
        return labels

    def picture(self, matrix, left, width, rows, title_key):
        """A (rows, d) matrix as an image with a frame, a title above and its shape (T × d) below."""
        image = heatmap(self.theme, matrix, colour_limit(matrix[np.isfinite(matrix)]), width,
                                rows.height)
        image.move_to([left + width / 2, rows.y, 0])
        frame = Rectangle(width=width, height=rows.height, stroke_color=self.theme.panel_edge, stroke_width=1)
        title = self.words(title_key, size=self.label_size, color=self.theme.muted)
        fit_within(title, width=width)
        dims = self.words("shape", size=self.label_size - 2, color=self.theme.muted, rows=self.n_tokens,
                          cols=matrix.shape[1])
        return [image, frame.move_to(image), title.next_to(image, UP, buff=0.15), dims.next_to(image, DOWN, buff=0.12)]

    def seams(self, left, rows):
        """Where one head's z ends and the next begins; the followed head outlined."""
        n_heads, width = self.trace.n_heads, self.image_width / self.trace.n_heads
        seams = [Rectangle(width=width, height=rows.height, stroke_color=self.theme.panel_edge, stroke_width=1)
                 .move_to([left + (h + 0.5) * width, rows.y, 0]) for h in range(n_heads)]
        seams[self.head].set_stroke(self.theme.accent, width=3)
        return seams[: self.head] + seams[self.head + 1:] + [seams[self.head]]  # drawn last, on top

    # -- beat 4 -------------------------------------------------------------------------------------

    def residual_rows(self):
        """The last token: the stream entering the layer, plus the attention output, equals
        the stream after attention (each: label, first values, strip)."""
        layer = self.layer_view
        return self.adding_rows(("resid_entering", "heads.attn_out", "heads.resid_mid"),
                                (layer.resid_pre[self.last], layer.attn_out[self.last], layer.resid_mid[self.last]),
                                ("hook_resid_pre", "hook_attn_out", "hook_resid_mid"))
