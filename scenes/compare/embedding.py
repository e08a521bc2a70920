"""The followed token's embedding in both prompts: the same ID picks the same row of W_E; each
position picks its own row of W_P; their sums, the two x0, and how alike they are (cosine)."""

from manim import LEFT, RIGHT, VGroup

from scenes.compare.base import CompareScene
from scenes.kit.colour import colour_limit
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_cosine, from_trace, value_text
from scenes.kit.vectors import VectorRow


class CompareEmbeddingScene(CompareScene):
    n_values = 4  # leading values printed per vector (two columns share the frame)
    value_size = 22
    label_size = 20
    pitch = 1.25  # between the vector rows of a column

    def construct(self):
        self.show_heading("compare.embedding_heading")
        vectors = {side: self.pair.embedding(side) for side in ("a", "b")}  # (W_E row, W_P row, x0) each (d,)
        self.limit = colour_limit(*[v for side in vectors for v in vectors[side]])
        top = self.content_top() - 0.15  # the columns' headers, clear of the heading
        headers = [self.side_header(side, top) for side in ("a", "b")]
        rows = {side: self.column_rows(side, vectors[side], top - 0.75) for side in ("a", "b")}
        values = dict(token_id=self.followed.token_id, piece=self.word_piece(), d_model=self.trace.d_model,
                      position_a=self.position("a"), position_b=self.position("b"))

        # -- beat 1: one ID, one row of W_E ------------------------------------------------------------
        self.beat("token-row")
        self.set_caption(self.say("compare.explain_token_row", **values))
        self.show(headers)
        self.show([part for side in ("a", "b") for part in rows[side][0]], run_time=0.9)
        self.wait(1.5)

        # -- beat 2: each position its own row of W_P --------------------------------------------------
        self.beat("position-row")
        key = "compare.explain_position_same" if self.pair.same_position else "compare.explain_position_rows"
        self.set_caption(self.say(key, **values))
        self.show([part for side in ("a", "b") for part in rows[side][1]], run_time=0.9)
        self.wait(1.5)

        # -- beat 3: the two x0, and their cosine similarity ---------------------------------------------
        self.beat("sum")
        name, similarity = self.pair.similarities[0]  # x0: blocks.0.hook_resid_pre
        self.set_caption(self.say("compare.explain_x0_same" if self.pair.same_position else "compare.explain_x0"))
        self.show([part for side in ("a", "b") for part in rows[side][2]], run_time=0.9)
        line = self.cosine_line(name, similarity)
        self.play(Fade(line), run_time=0.8)
        self.wait(2)

    # -- pieces --------------------------------------------------------------------------------------

    def column_rows(self, side, vectors, top):
        """Column `side`'s three labelled rows: W_E's row, W_P's row, x0 (each label, numbers, strip)."""
        position = self.position(side)
        labels = [self.words("compare.token_row", size=self.label_size, color=self.side_colour(side),
                             row=self.followed.token_id),
                  self.words("compare.position_row", size=self.label_size, color=self.theme.text, row=position),
                  self.words("compare.x0_row", size=self.label_size, color=self.theme.text)]
        names = ("hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre")
        rows = []
        for k, (label, vector, name) in enumerate(zip(labels, vectors, names)):
            y = top - k * self.pitch
            label.move_to([self.column_left(side), y, 0], aligned_edge=LEFT)
            more = self.words("values_more", size=18, color=self.theme.muted, n_more=len(vector) - self.n_values)
            row = VectorRow(self.theme, vector, [("trace", name, (position, d)) for d in range(self.n_values)],
                            size=self.value_size, more=more, limit=self.limit, strip_width=self.column_width,
                            strip_height=0.24)
            from_trace(row, side)
            row.shift([self.column_left(side), y - 0.45, 0])
            if row.width > self.column_width:  # a wide model's numbers: shrink the row, not past its column
                row.scale(self.column_width / row.width, about_edge=LEFT)
            rows.append([label, *row])
        return rows

    def cosine_line(self, name, similarity):
        """ "cosine similarity of the two x0: 0.873", centred under the columns."""
        label = self.words("compare.cosine_x0", size=26)
        number = value_text(self.theme, similarity, ("cosine", name, self.position("a"), self.position("b")),
                            size=28, color=self.theme.accent, fmt=fmt_cosine)
        from_trace(number, "ab")
        line = VGroup(label, number).arrange(RIGHT, buff=0.25)
        line.move_to([0, self.caption_top() + 0.05 + line.height / 2, 0])
        return line
