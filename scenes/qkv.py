"""Queries, keys, values: each token's vector x (after LayerNorm) times W_Q, W_K and W_V
(plus a bias) gives its query, key and value for the head the deep dive follows. The
weights are not in the Trace, so they are blocks with their shape; q, k and v are the
Trace's own numbers (their first values, every token)."""

from types import SimpleNamespace

from manim import Group

from scenes.base import HeadScene
from scenes.kit.colour import colour_limit, colour_strip
from scenes.kit.numbers import mono
from scenes.kit.text import ELLIPSIS, centre_text_on, fit_within, label_within, words
from scenes.kit.vectors import MatrixBlock, VectorRow


class QKVScene(HeadScene):
    n_values = 3  # leading values of q, k and v written out per token
    size = 20  # nominal font size of the table; the table is scaled to fit
    row_height = 0.36
    label_width = 2.0
    strip_width = 1.9
    strip_height = 0.22
    block_width = 0.58
    block_gap = 0.14
    column_gap = 0.45
    parts = ("q", "k", "v")
    part_names = {"q": "query", "k": "key", "v": "value"}  # in string keys ...
    beat_names = {"q": "queries", "k": "keys", "v": "values"}  # ... and as beats

    def construct(self):
        self.show_heading("qkv.heading")
        numbers = self.head_view
        why = self.why_line()
        notice = self.window_notice(beside_tag=True)  # the line under the heading is the why's
        table = self.table()

        # -- beat 1: which head, and its input x ---------------------------------------------
        self.beat("input")
        self.set_caption(self.say("qkv.explain_input", d_model=self.trace.d_model))
        self.show([why], run_time=0.6)
        self.show([table.input_header, *table.labels, *table.strips, *notice], run_time=1.0)
        self.wait(2.5)

        # -- beats 2-4: x times W_Q, W_K, W_V ---------------------------------------------------
        for index, part in enumerate(self.parts):
            self.beat(self.beat_names[part])
            self.set_caption(self.say(f"qkv.explain_{self.part_names[part]}", d_head=numbers.d_head))
            first = [*table.operators, table.shape_note, *table.blocks] if index == 0 else []
            self.show(first, run_time=0.6)
            self.play(table.blocks[index].block.animate.set_fill(self.cols.colours[index], opacity=0.35),
                      run_time=0.4)
            self.show([table.headers[index], *table.columns[index]], run_time=1.0, lag_ratio=0.02)
            self.wait(2)

    # -- pieces ------------------------------------------------------------------------------------

    def content_top(self):
        return self.top - 1.25  # under the line that says which head

    def table(self):
        """Token rows: label, x as a strip, then (once for all rows) × [W_Q W_K W_V] = and
        q, k, v's first values. Built at nominal size, then fitted to the room."""
        self.cols = self.columns()
        table = SimpleNamespace(labels=[], strips=[], columns=[[] for _ in self.parts])
        for r, key in enumerate(self.indices):
            self.token_row(table, key, -(r + 1) * self.pitch)
        rows_top, rows_bottom = -0.5 * self.pitch, -(len(self.indices) + 0.5) * self.pitch
        table.blocks, table.shape_note = self.weight_blocks(rows_top, rows_bottom)
        middle = (rows_top + rows_bottom) / 2
        table.operators = [mono(self.theme, sign, size=self.size + 6).move_to([x + 0.2, middle, 0])
                           for sign, x in (("×", self.cols.times), ("=", self.cols.equals))]
        table.input_header, table.headers = self.headers()
        everything = Group(table.input_header, *table.headers, *table.labels, *table.strips, *table.blocks,
                           table.shape_note, *table.operators, *[t for column in table.columns for t in column])
        self.fill_region(everything, self.content_top(), self.caption_top() + 0.05, max_scale=1.4)
        return table

    def columns(self):
        """Where each column starts (nominal units), and the row pitch that fills the room."""
        theme, size = self.theme, self.size
        shown = [i for i in self.indices if i is not None]
        x = SimpleNamespace(colours=(theme.accent, theme.accent_2, theme.text))  # q, k, v
        x.label_width = max(label_within(theme, self.piece(i), self.label_width, size).width for i in shown)
        x.strip = x.label_width + 0.25
        x.times = x.strip + self.strip_width + 0.25
        x.blocks = x.times + 0.45
        x.blocks_width = 3 * self.block_width + 2 * self.block_gap
        x.equals = x.blocks + x.blocks_width + 0.25
        x.values = x.equals + 0.45
        x.cell = mono(theme, "−0.00", size=size).width + 0.2
        x.column_width = self.n_values * x.cell + 0.35
        x.limit = colour_limit(self.layer_view.ln_out[shown])
        width = x.values + 3 * x.column_width + 2 * self.column_gap
        self.pitch = self.row_pitch(width, len(self.indices) + 2.5, self.row_height, max_growth=2.0)
        x.strip_height = min(self.strip_height * self.pitch / self.row_height, 0.6 * self.pitch)
        return x

    def token_row(self, table, key, y):
        """A token's label, its x as a strip, and the first values of its q, k and v."""
        theme, size, x = self.theme, self.size, self.cols
        if key is None:  # the tokens a window leaves out
            label = words(theme, "⋮", size=size, color=theme.muted, strut=True)
            table.labels.append(centre_text_on(label, [x.label_width - label.width / 2, y, 0]))
            return
        label = label_within(theme, self.piece(key), self.label_width, size)
        table.labels.append(centre_text_on(label, [x.label_width - label.width / 2, y, 0]))
        image, outline = colour_strip(theme, self.layer_view.ln_out[key], x.limit, self.strip_width, x.strip_height)
        table.strips.append(Group(image, outline).move_to([x.strip + self.strip_width / 2, y, 0]))
        L, H, view = self.layer, self.head, self.head_view
        for p, (part, values) in enumerate(zip(self.parts, (view.q, view.k, view.v))):
            meanings = [("trace", f"blocks.{L}.attn.hook_{part}", (key, H, d)) for d in range(self.n_values)]
            row = VectorRow(theme, values[key], meanings, size=size, color=x.colours[p], cell=x.cell,
                            more=mono(theme, ELLIPSIS, size=size, color=theme.muted), more_gap=0.1)
            row.shift([x.values + p * (x.column_width + self.column_gap), y, 0])
            table.columns[p].extend([*row.numbers, row.more])  # each cell its own mobject in the scene

    def weight_blocks(self, top, bottom):
        """W_Q, W_K, W_V side by side (GPT-2 keeps them as one matrix, c_attn), as tall as
        the rows they multiply, named above, their shape (d × dh) below."""
        theme, x = self.theme, self.cols
        blocks = []
        for p, name in enumerate(("W_Q", "W_K", "W_V")):
            block = MatrixBlock(theme, name, self.block_width, top - bottom, x.colours[p], size=self.size)
            block.shift([x.blocks + p * (self.block_width + self.block_gap) + self.block_width / 2,
                         (top + bottom) / 2, 0])
            block.title.set_y(self.header_y)
            blocks.append(block)
        note = self.words("qkv.weights_note", size=self.size, color=theme.muted, rows=self.trace.d_model,
                          cols=self.head_view.d_head)
        note.move_to([x.blocks + x.blocks_width / 2, bottom - 0.1 - note.height / 2, 0])
        return blocks, note

    header_y = 0.05  # the headers' line, above the first row

    def headers(self):
        x = self.cols
        input_header = self.words("qkv.input_header", size=self.size, color=self.theme.muted)
        fit_within(input_header, width=self.strip_width + 0.2)
        input_header.move_to([x.strip + self.strip_width / 2, self.header_y, 0])
        headers = []
        for p, part in enumerate(self.parts):
            header = self.words(f"qkv.{part}_header", size=self.size, color=x.colours[p])
            left = x.values + p * (x.column_width + self.column_gap)
            headers.append(header.move_to([left + header.width / 2 + 0.1, self.header_y, 0]))
        return input_header, headers
