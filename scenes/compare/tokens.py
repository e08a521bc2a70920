"""The two prompts' tokens, one row each, the followed word's token lit in both: the same
ID, at its own position in each prompt (a word of several tokens: all lit, the last followed)."""

from manim import DOWN, LEFT, UP, VGroup

from scenes.compare.base import CompareScene
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_id, from_trace, value_text
from scenes.kit.tokens import arrange_in_rows, ellipsis_chip, token_chip


def window_around(n, position, before=8, after=4):
    """Which of n positions to show around `position`: up to `before` tokens before it and
    `after` after it, None where tokens are left out (an ellipsis chip)."""
    start, stop = max(0, position - before), min(n, position + after + 1)
    return ([None] if start > 0 else []) + list(range(start, stop)) + ([None] if stop < n else [])


class CompareTokensScene(CompareScene):
    chip_size = 24
    id_size = 20
    row_gap = 0.8  # between the rows of one prompt's chips: room for the ID and position under one

    def construct(self):
        self.show_heading("compare.tokens_heading")

        # -- beat 1: two prompts, one model -----------------------------------------------------------
        self.beat("prompts")
        self.set_caption(self.say("compare.explain_prompts", model=self.model_name()))
        rows = {side: self.token_rows(side) for side in ("a", "b")}
        self.lay_out(rows)
        for side in ("a", "b"):
            self.play(Fade(VGroup(rows[side].label, rows[side].chips, *rows[side].note), shift=0.15 * DOWN,
                           lag_ratio=0.05), run_time=1.0)
        self.wait(1.5)

        # -- beat 2: the same token, lit in both ------------------------------------------------------
        self.beat("word")
        self.set_caption(self.word_sentence())
        marks = []
        for side in ("a", "b"):
            for chip in rows[side].lit:
                chip.box.set_stroke(self.side_colour(side), width=4)
            marks += rows[side].marks
        self.play(*[Fade(mark, shift=0.1 * UP) for mark in marks], run_time=1.0)
        self.wait(2.5)

    # -- pieces ------------------------------------------------------------------------------------------

    def token_rows(self, side):
        """Column `side`'s label ("A", its letter) and its chips, windowed round the followed
        token; the followed token's ID and position below it (shown in beat 2)."""
        trace = self.traces()[side]
        n, position = trace.n_prompt_tokens, self.position(side)
        first, last = self.followed.spans[0 if side == "a" else 1]
        indices = window_around(n, position, before=max(8, last - first + 3))
        chips = []
        for index in indices:
            chips.append(ellipsis_chip(self.theme, size=self.chip_size) if index is None else
                         token_chip(self.theme, self.side_piece(side, index), size=self.chip_size))
        group = VGroup()
        group.label = self.words(f"compare.side_{side}", size=self.chip_size + 8, color=self.side_colour(side))
        group.chips = arrange_in_rows(chips, self.content_width - 1.0, v_buff=self.row_gap)
        group.lit = [chip for index, chip in zip(indices, chips) if index is not None and first <= index <= last]
        followed = chips[indices.index(position)]
        token_id = value_text(self.theme, trace.token_ids[position], ("token_id", position), size=self.id_size,
                              color=self.side_colour(side), fmt=fmt_id)
        where = self.words("embeddings.position", size=self.id_size - 2, color=self.theme.muted, position=position)
        group.marks = [from_trace(VGroup(token_id, where).arrange(DOWN, buff=0.08), side)]
        group.followed = followed
        shown = sum(index is not None for index in indices)
        group.note = [self.words("window_note", size=18, color=self.theme.muted, shown=shown, total=n)] \
            if shown < n else []
        return group

    def lay_out(self, rows):
        """A's rows above B's, each prompt's letter at the left; the followed token's marks under it."""
        top = self.content_top()
        for side in ("a", "b"):
            group = rows[side]
            group.chips.move_to([self.left_edge() + 1.0 + group.chips.width / 2, 0, 0])
            group.chips.align_to([0, top, 0], UP)
            group.label.move_to([self.left_edge() + group.label.width / 2, group.chips[0].get_y(), 0])
            mark = group.marks[0]
            mark.next_to(group.followed, DOWN, buff=0.1)
            for note in group.note:
                note.next_to(mark, DOWN, buff=0.1).align_to(group.chips, LEFT)
            below = min([mark.get_bottom()[1], group.chips.get_bottom()[1], *[n.get_bottom()[1] for n in group.note]])
            top = below - 0.45
        # the two prompts together, shrunk if they would reach the caption line
        everything = VGroup(*[part for side in ("a", "b") for part in
                              (rows[side].label, rows[side].chips, *rows[side].marks, *rows[side].note)])
        room = self.content_top() - self.caption_top()
        if everything.height > room:
            everything.scale(room / everything.height, about_point=[0, self.content_top(), 0])
            everything.shift(LEFT * (everything.get_left()[0] - self.left_edge()))

    def word_sentence(self):
        followed = self.followed
        values = dict(piece=self.word_piece(), token_id=followed.token_id, position_a=self.position("a"),
                      position_b=self.position("b"))
        if followed.n_pieces(0) > 1 or followed.n_pieces(1) > 1:
            n_pieces = max(followed.n_pieces(0), followed.n_pieces(1))
            return self.say("compare.explain_word_pieces", word=followed.word.strip(), n_pieces=n_pieces, **values)
        if self.pair.same_position:
            return self.say("compare.explain_word_same_position", **values)
        return self.say("compare.explain_word", **values)
