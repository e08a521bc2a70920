"""Tokens: the prompt splits into BPE pieces, each piece gets its vocabulary ID, and a
character that GPT-2 splits into byte pieces (Japanese, emoji) shows its bytes."""

from manim import DOWN, RIGHT, UP, VGroup

from scenes.base import TraceScene
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_id, value_text
from scenes.kit.text import VISIBLE_SPACE, display_text, fit_within, words, wrap_columns
from scenes.kit.tokens import arrange_in_rows, bracket_under, ellipsis_chip, token_chip, window
from scenes.views import hex_bytes, split_characters


class TokensScene(TraceScene):
    prompt_size = 30
    chip_size = 28
    id_size = 20
    bytes_size = 18
    max_shown = 24  # longer prompts show a window: the first pieces, an ellipsis, the last ones
    max_shown_split = 16  # ... fewer when characters split over pieces: each needs a label of its bytes
    column_gap = 0.16
    row_gap = 0.45
    max_growth = 1.8  # a short prompt's chips grow up to this much to fill the slide ...
    max_prompt_growth = 1.5  # ... and the prompt above them this much

    def construct(self):
        self.show_heading("tokens.heading")
        splits = split_characters(self.trace.token_bytes[: self.n_tokens])
        self.indices = window(self.n_tokens, self.max_shown_split if splits else self.max_shown)

        # -- beat 1: the text as typed ------------------------------------------------------
        self.beat("text")
        self.set_caption(self.say("tokens.text"))
        prompt = self.prompt_line()
        self.play(Fade(prompt))
        self.wait(1.5)

        # -- beat 2: the pieces -----------------------------------------------------------------
        self.beat("pieces")
        spaces = any(VISIBLE_SPACE in self.piece(i, whole=True) for i in self.indices if i is not None)
        self.set_caption(self.say("tokens.pieces_spaces" if spaces else "tokens.pieces", n_tokens=self.n_tokens,
                                  vocab_size=self.vocab_size))
        columns, splits = self.token_columns(), self.visible_splits()
        layout = self.lay_out(columns, splits, anchor=prompt)
        shown = sum(i is not None for i in self.indices)
        chips = VGroup(*[c.chip for c in columns], *self.window_note(shown, self.n_tokens))
        self.play(Fade(chips, shift=0.2 * DOWN, lag_ratio=0.08), run_time=1.5)
        self.wait(2)

        # -- beat 3: the IDs ------------------------------------------------------------------------
        self.beat("ids")
        self.set_caption(self.say("tokens.ids"))
        ids = VGroup(*[c.id for c in columns if c.id is not None])
        self.play(Fade(ids, shift=0.1 * UP, lag_ratio=0.05), run_time=1.2)
        self.wait(2)

        # -- beat 4: characters split over byte pieces (only when there are some) ------------------
        if layout.brackets:
            self.beat("bytes")
            self.set_caption(self.say("tokens.bytes"))
            self.play(Fade(VGroup(*layout.brackets), lag_ratio=0.2), run_time=1.2)
            self.wait(2)

    # -- facts ----------------------------------------------------------------------------------------

    @property
    def n_tokens(self):
        return self.trace.n_prompt_tokens

    @property
    def vocab_size(self):
        return self.trace.config["vocab_size"]

    # -- pieces ---------------------------------------------------------------------------------------

    def prompt_line(self):
        """The prompt as typed (tabs, newlines and emoji made visible), under the heading."""
        lines = wrap_columns(display_text(self.trace.prompt), 70, 2)
        text = words(self.theme, "\n".join(lines), size=self.prompt_size)
        text.scale(min(self.content_width / text.width, self.max_prompt_growth))  # a short prompt grows too
        return text.move_to([0, self.top - 1.0 - text.height / 2, 0])

    def token_columns(self):
        """One column per shown piece: its chip and, under it, its ID (the ellipsis has no ID)."""
        columns = []
        for index in self.indices:
            if index is None:
                column = VGroup(ellipsis_chip(self.theme, size=self.chip_size))
                column.chip, column.id, column.index = column[0], None, None
            else:
                chip = token_chip(self.theme, self.piece(index, whole=True), size=self.chip_size)
                token_id = value_text(self.theme, self.trace.token_ids[index], ("token_id", index), size=self.id_size,
                                      color=self.theme.muted, fmt=fmt_id)
                token_id.next_to(chip, DOWN, buff=0.12)
                column = VGroup(chip, token_id)
                column.chip, column.id, column.index = chip, token_id, index
            columns.append(column)
        return columns

    def visible_splits(self):
        """Split characters whose pieces are all on screen (a window may hide some)."""
        shown = {i for i in self.indices if i is not None}
        prompt_bytes = self.trace.token_bytes[: self.n_tokens]
        return [split for split in split_characters(prompt_bytes)
                if all(i in shown for i in range(split[2], split[3] + 1))]

    def lay_out(self, columns, splits, anchor):
        """Columns in rows under `anchor`, never breaking a split character across rows;
        brackets with the character and its bytes go under the pieces that share it.
        Rows as wide as the frame can make a block too tall, which then shrinks and
        wastes width: wider rows (then shrunk) are tried too, and the largest result wins."""
        units = self.units(columns, splits)
        row_gap = self.row_gap + (0.75 if splits else 0)
        room_top, room_bottom = anchor.get_bottom()[1] - 0.6, self.caption_top()

        def arranged(max_width):
            return arrange_in_rows(units, max_width, h_buff=self.column_gap, v_buff=row_gap)

        def fit_scale(mob):
            return min(self.content_width / mob.width, (room_top - room_bottom) / mob.height, self.max_growth)

        widths = [self.content_width * factor for factor in (1, 1.25, 1.5, 1.75, 2, 2.5, 3)]
        best = max(widths, key=lambda width: fit_scale(arranged(width)))
        rows = arranged(best)
        brackets = [self.split_bracket(columns, split) for split in splits]
        block = VGroup(rows, *brackets)
        block.scale(fit_scale(block))
        block.move_to([0, max((room_top + room_bottom) / 2, room_bottom + block.height / 2), 0])  # centred
        block.brackets = brackets
        return block

    def units(self, columns, splits):
        """Groups of adjacent columns that must stay on one row (pieces of one character)."""
        by_index = {c.index: c for c in columns}
        group_of = {}
        for _, _, first, last in splits:
            members = set(range(first, last + 1))
            for i in list(members):
                members |= group_of.get(i, set())
            for i in members:
                group_of[i] = members
        units, done = [], set()
        for column in columns:
            if column.index in done:
                continue
            members = sorted(group_of.get(column.index, {column.index}) - {None})
            if not members:  # the ellipsis
                units.append(column)
                continue
            done.update(members)
            units.append(VGroup(*[by_index[i] for i in members]).arrange(RIGHT, buff=self.column_gap,
                                                                        aligned_edge=UP))
        return units

    def split_bracket(self, columns, split):
        """A bracket under a split character's pieces, with the character and its bytes."""
        char, raw, first, last = split
        spanned = [c for c in columns if c.index is not None and first <= c.index <= last]
        bracket = bracket_under(spanned, self.theme).shift(0.08 * DOWN)
        label = self.words("tokens.char_bytes", size=self.bytes_size, color=self.theme.accent_2,
                           char=display_text(char), hex=hex_bytes(raw))
        fit_within(label, width=VGroup(*spanned).width + self.column_gap)
        label.next_to(bracket, DOWN, buff=0.08)
        return VGroup(bracket, label)
