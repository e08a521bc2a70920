"""The map: the whole forward pass of this model at its sizes, before the video walks through it.

Three beats: the whole (tokens in, the residual stream through the layers, a probability for
every token out, and the loop back); one layer opened up (attention, then the MLP, each on a
branch of the stream that adds back at a +); and the path the video takes, each scene with
the small map that will sit in its corner. Every size is a number of the Trace's config
(scenes/kit/diagram.py: size_line), so the tests recompute it.
"""

from manim import DOWN, LEFT, RIGHT, UP, Arrow, Line, RoundedRectangle, VGroup

from scenes.base import TraceScene
from scenes.catalog import CATALOG
from scenes.kit.diagram import CornerMap, config_sizes, junction, part_box, size_line
from scenes.kit.numbers import mono
from scenes.kit.text import fit_within


def path_scenes():
    """The catalog entries the map's path shows: the scenes after the map that sit on it."""
    after = [info.name for info in CATALOG].index("map") + 1
    return [info for info in CATALOG[after:] if info.lights]


class MapScene(TraceScene):
    title_size = 28  # the parts' names: above the caption line's 26
    size_size = 26  # their sizes
    column_gap = 0.7  # room for the arrows between parts

    def construct(self):
        self.show_heading("map.heading")
        self.sizes = config_sizes(self.trace)

        # -- beat 1: the whole forward pass --------------------------------------------------
        self.beat("whole")
        self.set_caption(self.say("map.explain_whole", n_layer=self.trace.n_layers))
        boxes, links = self.whole()
        self.show(boxes, run_time=1.2, lag_ratio=0.1)
        self.show(links, run_time=0.8)
        self.wait(2.5)

        # -- beat 2: one layer opened up -------------------------------------------------------
        self.beat("block")
        self.hide([*boxes, *links])
        self.set_caption(self.say("map.explain_block"))
        layer = self.opened_layer()
        self.show(layer, run_time=1.2, lag_ratio=0.05)
        self.wait(2.5)

        # -- beat 3: the path the video takes ------------------------------------------------------
        self.beat("path")
        self.hide(layer)
        self.set_caption(self.say("map.explain_path"))
        self.show(self.path(), run_time=1.5, lag_ratio=0.05)
        self.wait(2.5)

    # -- pieces -------------------------------------------------------------------------------

    def name(self, key, color=None):
        return self.words(key, size=self.title_size, color=color, strut=True)

    def line(self, key, color=None, **names):
        """A line of sizes from the string table: its placeholders become the config's numbers."""
        template = self.say(key, **{name: "{" + name + "}" for name in names})
        sizes = {name: self.sizes[size] for name, size in names.items()}
        return size_line(self.theme, template, sizes, size=self.size_size, color=color or self.theme.muted,
                         number_color=self.theme.text)

    def formula(self, text, color=None):
        return mono(self.theme, text, size=self.title_size, color=color or self.theme.accent_2)

    def arrow(self, start, end, color=None, width=3):
        return Arrow(start, end, buff=0, stroke_width=width, max_tip_length_to_length_ratio=0.4, tip_length=0.18,
                     color=color or self.theme.muted)

    def whole(self):
        """The forward pass as a snake of two rows: tokens -> W_E + W_P -> the layers ->
        LayerNorm, down to x · W_U, then back left: softmax -> sampling -> the chosen token
        joins the text, and up into the tokens again (the loop). Returns (boxes, links)."""
        t = self.theme
        tokens = part_box(t, [self.name("tokens.heading"), self.line("map.count", T="T")])
        embed = part_box(t, [self.formula("W_E + W_P"), self.line("map.by", a="T", b="d")])
        block = part_box(t, [self.name("map.attention"), self.name("mlp.heading")], edge=t.accent_2, min_height=1.3)
        final_norm = part_box(t, [self.formula("LayerNorm", t.text)])
        unembed = part_box(t, [self.formula("x · W_U"), self.line("map.by", a="d", b="V")])
        softmax = part_box(t, [self.name("softmax.heading")])
        sampling = part_box(t, [self.name("sampling.heading")])
        joins = part_box(t, [self.name("map.chosen", t.accent), self.name("map.joins", t.accent)], edge=t.accent)
        top, bottom = [tokens, embed, block, final_norm], [joins, sampling, softmax, unembed]
        widths = [max(a.width, b.width) for a, b in zip(top, bottom)]
        x = 0.0
        for a, b, width in zip(top, bottom, widths):
            a.move_to([x + width / 2, 1.0, 0])
            b.move_to([x + width / 2, -1.5, 0])
            x += width + self.column_gap
        layers = self.line("map.layers", t.accent_2, N="N").next_to(block, UP, buff=0.15)
        # the stream's label between the rows, from the embeddings on: the turn down to W_U
        # goes round the right of the rows, so nothing crosses it
        stream = self.line("map.stream", t.accent_2, d="d")
        stream.move_to([embed.get_left()[0] + stream.width / 2, -0.25, 0])
        turn_x = max(final_norm.get_right()[0], unembed.get_right()[0], stream.get_right()[0]) + 0.4
        turn = VGroup(Line(final_norm.get_right(), [turn_x, final_norm.get_y(), 0]),
                      Line([turn_x, final_norm.get_y(), 0], [turn_x, unembed.get_y(), 0])
                      ).set_stroke(t.muted, 3)
        parts = VGroup(*top, *bottom, layers, stream, turn)
        fit_within(parts, width=self.content_width)
        parts.move_to([0, (self.content_top() + self.caption_top()) / 2 - 0.1, 0])

        def right_to(a, b, **style):
            return self.arrow(a.get_right(), b.get_left(), **style)

        def left_to(a, b, **style):
            return self.arrow(a.get_left(), b.get_right(), **style)

        resid = dict(color=t.accent_2, width=6)
        links = [right_to(tokens, embed), right_to(embed, block, **resid), right_to(block, final_norm, **resid),
                 turn, self.arrow(turn[1].get_end(), unembed.get_right()),
                 left_to(unembed, softmax), left_to(softmax, sampling), left_to(sampling, joins, color=t.accent),
                 self.arrow(joins.get_top(), tokens.get_bottom(), color=t.accent)]
        return [*top, *bottom, layers, stream], links

    def opened_layer(self):
        """One layer: the residual stream as a line from left to right; attention and the MLP
        on branches above it, each after its LayerNorm, each adding back at a + on the line."""
        t = self.theme
        branch_y, line_y = 0.9, -0.9
        ln1, ln2 = (part_box(t, [self.formula("LayerNorm", t.text)]) for _ in range(2))
        attention = part_box(t, [self.name("map.attention"), self.line("map.heads", H="H", dh="dh")])
        mlp = part_box(t, [self.name("mlp.heading"), self.line("map.mlp_sizes", d="d", d_mlp="d_mlp")])
        add1, add2 = junction(t), junction(t)
        x, branch = 0.6, []
        for norm, part, add in ((ln1, attention, add1), (ln2, mlp, add2)):
            start = x
            norm.move_to([x + 0.45 + norm.width / 2, branch_y, 0])
            part.next_to(norm, RIGHT, buff=0.5)
            add.move_to([part.get_right()[0] + 0.6, line_y, 0])
            branch += [norm, part, add]
            x = add.get_x() + 0.35
            branch.append(VGroup(Line([start, line_y, 0], [start, branch_y, 0]),
                                 Line([start, branch_y, 0], norm.get_left())).set_stroke(t.accent_2, 4))
            branch.append(self.arrow(norm.get_right(), part.get_left()))
            branch.append(VGroup(Line(part.get_right(), [add.get_x(), branch_y, 0]).set_stroke(t.accent_2, 4),
                                 self.arrow([add.get_x(), branch_y, 0], add.get_top(), color=t.accent_2, width=4)))
        stream = self.arrow([0, line_y, 0], [x + 0.6, line_y, 0], color=t.accent_2, width=6)
        outline = RoundedRectangle(corner_radius=0.2, width=x + 0.2, height=branch_y - line_y + 1.8,
                                   stroke_color=t.accent_2, stroke_width=2, fill_opacity=0)
        outline.move_to([(x + 0.2) / 2, (branch_y + line_y) / 2, 0])
        layers = self.line("map.layers", t.accent_2, N="N").next_to(outline, UP, buff=0.12, aligned_edge=LEFT)
        label = self.line("map.stream", t.accent_2, d="d").next_to(stream, DOWN, buff=0.2)
        drawing = VGroup(outline, stream, *branch, layers, label)
        fit_within(drawing, width=self.content_width)
        drawing.move_to([0, (self.content_top() + self.caption_top()) / 2, 0])
        return [outline, stream, *[mob for mob in branch if mob not in (add1, add2)], add1, add2, layers, label]

    def path(self):
        """The scenes after this one, in order, each named as its heading and with the small
        map it will carry, its part lit: two columns."""
        entries = []
        for number, info in enumerate(path_scenes(), start=1):
            strip = CornerMap(self.theme, self.sizes, info.lights, count=False).scale(0.75)
            label = self.words("map.step", size=self.title_size - 2, strut=True, number=number,
                               name=self.say(info.heading))
            entries.append(VGroup(strip, label).arrange(RIGHT, buff=0.3))
        rows = (len(entries) + 1) // 2
        columns = [VGroup(*entries[:rows]), VGroup(*entries[rows:])]
        pitch = min(0.72, (self.content_top() - self.caption_top() - 0.2) / rows)
        top = (self.content_top() + self.caption_top()) / 2 + (rows - 1) * pitch / 2
        widest = max(entry.width for entry in entries)
        for c, column in enumerate(columns):
            for r, entry in enumerate(column):
                entry.move_to([0, top - r * pitch, 0]).align_to([self.left_edge() + c * (widest + 0.6), 0, 0], LEFT)
        group = VGroup(*entries)
        fit_within(group, width=self.content_width)
        group.move_to([0, top - (rows - 1) * pitch / 2, 0])
        return [part for entry in entries for part in entry]
