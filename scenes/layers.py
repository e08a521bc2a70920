"""The stack: the last prompt token through every layer of the model. Per layer, how much
attention and the MLP add to its residual stream (the lengths of their outputs, as bars),
the stream's length after it, and the logit lens: the stream read, after each layer, with
the model's own final LayerNorm and unembedding, its best guess for the next token and its
probability, so the prediction is seen forming layer by layer."""

from manim import LEFT, RIGHT, Rectangle, VGroup

from scenes.base import TraceScene
from scenes.kit.numbers import fmt_percent, value_text
from scenes.kit.shapes import rounded_rectangle
from scenes.kit.text import MIDLINE_ELLIPSIS, centre_text_on, fit_within, words
from scenes.kit.tokens import token_chip, window
from scenes.readouts import Stack


class LayersScene(TraceScene):
    max_rows = 13  # lens rows shown whole (GPT-2 small has 13); deeper models show a window
    bar_length = 1.9
    # column x positions: label's right end, the two bars' left ends, the stream's and the
    # guess's right ends
    label_right, attn_left, mlp_left, stream_right, guess_left = -4.5, -4.25, -1.2, 3.1, 3.5

    def construct(self):
        self.show_heading("layers.heading")
        self.position = self.trace.n_prompt_tokens - 1
        stack = self.stack = Stack(self.trace, self.position)
        self.rows = window(stack.n_layers + 1, self.max_rows, head=3, tail=self.max_rows - 4)
        n = len(self.rows)
        self.size = 24 if n <= 6 else 20
        room = self.content_top() - 0.6 - self.caption_top()  # below the column headers
        self.pitch = min(0.8, room / n)
        self.top_y = self.caption_top() + room / 2 + (n - 1) * self.pitch / 2  # the table centred in its room
        focus = self.focus_line()

        # -- beat 1: what attention and the MLP add, layer by layer ---------------------------------
        self.beat("stack")
        self.set_caption(self.say("layers.explain_stack", n_layers=stack.n_layers))
        labels = self.row_labels()
        bars = self.adds_columns()
        self.show([focus, *labels, *bars.headers], run_time=0.8)
        self.show(bars.parts, run_time=1.2, lag_ratio=0.02)
        self.wait(2)

        # -- beat 2: the stream grows -------------------------------------------------------------------
        self.beat("stream")
        self.set_caption(self.say("layers.explain_stream"))
        self.show(self.stream_column(), run_time=1.0, lag_ratio=0.02)
        self.wait(2)

        # -- beat 3: the logit lens ------------------------------------------------------------------------
        self.beat("lens")
        self.set_caption(self.say("layers.explain_lens"))
        guesses = self.guess_column()
        self.show(guesses.parts, run_time=1.2, lag_ratio=0.03)
        self.wait(2)

        # -- beat 4: where the prediction forms ---------------------------------------------------------
        self.beat("forms")
        settled = stack.first_settled()
        final = self.candidate_label(stack.final)
        if settled == 0:
            key = "layers.explain_settled_embeddings"
        elif settled == stack.n_layers:
            key = "layers.explain_settled_last"
        else:
            key = "layers.explain_settled"
        self.set_caption(self.say(key, layer=settled - 1, piece=final))
        frames = [self.row_frame(r) for r, row in enumerate(self.rows) if row is not None and row >= settled]
        self.show(frames, run_time=0.8)
        self.wait(2.5)

    # -- layout ---------------------------------------------------------------------------------------

    def y(self, r):
        return self.top_y - r * self.pitch

    def focus_line(self):
        """ "The last token of the prompt: [chip]" under the heading, at the right."""
        intro = self.words("focus_last_token", size=22, color=self.theme.muted)
        chip = token_chip(self.theme, self.piece(self.position), size=24)
        line = VGroup(intro, chip).arrange(RIGHT, buff=0.25)
        fit_within(line, width=self.content_width * 0.55)
        return line.move_to([self.right_edge() - line.width / 2, self.top - 0.3, 0])

    def header(self, key, x, align):
        text = self.words(key, size=20, color=self.theme.muted)
        fit_within(text, width=2.7)
        where = {"left": x + text.width / 2, "right": x - text.width / 2}[align]
        return text.move_to([where, self.top_y + self.pitch / 2 + 0.3, 0])

    def row_labels(self):
        """ "embeddings", "layer 0", ... (⋮ where a deep model's window leaves rows out)."""
        labels = []
        for r, row in enumerate(self.rows):
            if row is None:
                label = words(self.theme, MIDLINE_ELLIPSIS, size=self.size, color=self.theme.muted, strut=True)
            elif row == 0:
                label = self.words("layers.embeddings", size=self.size, strut=True)
            else:
                label = self.words("attention.tag_layer", size=self.size, strut=True, layer=row - 1)
            labels.append(centre_text_on(label, [self.label_right - label.width / 2, self.y(r), 0]))
        return labels

    def adds_columns(self):
        """Bars for the length of attention's and the MLP's outputs in each layer, on one axis."""
        stack, L = self.stack, lambda row: row - 1  # noqa: E731  lens row l + 1 is layer l
        largest = max(max(stack.attn), max(stack.mlp)) or 1.0
        parts = []
        for r, row in enumerate(self.rows):
            if not row:  # the window's gap, or the embeddings (no layer has run yet)
                continue
            for left, values, name, colour in ((self.attn_left, stack.attn, "hook_attn_out", self.theme.accent_2),
                                               (self.mlp_left, stack.mlp, "hook_mlp_out", self.theme.bar)):
                value = values[L(row)]
                bar = Rectangle(width=max(self.bar_length * value / largest, 0.02), height=self.pitch * 0.55,
                                stroke_width=0, fill_color=colour, fill_opacity=1)
                bar.move_to([left, self.y(r), 0], aligned_edge=LEFT)
                number = value_text(self.theme, value, ("norm", f"blocks.{L(row)}.{name}", self.position),
                                    size=self.size - 2, color=self.theme.muted)
                parts += [bar, number.next_to(bar, RIGHT, buff=0.12)]
        columns = VGroup()
        columns.parts = parts
        columns.headers = [self.header("layers.attn_header", self.attn_left, "left"),
                           self.header("layers.mlp_header", self.mlp_left, "left")]
        return columns

    def stream_column(self):
        """The residual stream's length after each layer (row 0: as the embeddings make it)."""
        parts = [self.header("layers.stream_header", self.stream_right, "right")]
        for r, row in enumerate(self.rows):
            if row is None:
                continue
            name = "blocks.0.hook_resid_pre" if row == 0 else f"blocks.{row - 1}.hook_resid_post"
            number = value_text(self.theme, self.stack.resid[row], ("norm", name, self.position), size=self.size - 2)
            parts.append(number.move_to([self.stream_right - number.width / 2, self.y(r), 0]))
        return parts

    def guess_column(self):
        """The logit lens's best guess after each layer, and its probability."""
        final_id = self.stack.final["id"]
        parts = [self.header("layers.guess_header", self.guess_left, "left")]
        for r, row in enumerate(self.rows):
            if row is None:
                continue
            guess = self.stack.guesses[row]
            colour = self.theme.accent if guess["id"] == final_id else self.theme.text
            prob = value_text(self.theme, guess["prob"], ("lens_prob", row, self.position, 0), size=self.size - 2,
                              color=colour, fmt=fmt_percent)
            prob.move_to([self.right_edge() - prob.width / 2, self.y(r), 0])
            room = prob.get_left()[0] - 0.2 - self.guess_left
            label = fit_within(words(self.theme, self.candidate_label(guess), size=self.size, color=colour,
                                     strut=True), width=room)
            parts += [centre_text_on(label, [self.guess_left + label.width / 2, self.y(r), 0]), prob]
        columns = VGroup()
        columns.parts = parts
        return columns

    def row_frame(self, r):
        """A thin frame round the guess of row r: the rows whose guess is already the final one."""
        width = self.right_edge() - self.guess_left + 0.2
        frame = rounded_rectangle(width, self.pitch * 0.92, 0.06, color=self.theme.accent, stroke_width=2)
        return frame.move_to([self.guess_left - 0.1 + width / 2, self.y(r), 0])
