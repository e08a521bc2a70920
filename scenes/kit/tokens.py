"""Tokens on screen: a piece as a chip, rows of chips, and the window onto long prompts."""

from manim import DOWN, LEFT, RIGHT, UP, Line, VGroup

from scenes.kit.shapes import rounded_rectangle
from scenes.kit.text import MIDLINE_ELLIPSIS, centre_text_on, display_text, shorten, words

CHIP_HEIGHT = 0.62
CHIP_PAD = 0.16


# GPT-2 has pieces of 64 characters ("ÃÂ" x 32, "=" x 64, "rawdownloadcloneembedreportprint"):
# the tokens scene shows them whole; everywhere else a piece is named in at most this many
# columns, cut with "…", so a grid header, a chart label, a chip or a caption stays legible.
PIECE_COLUMNS = 16


def piece_label(piece, whole=False):
    """A token piece as chips and labels show it: spaces as ␣, emoji as code points
    (partial UTF-8 bytes already read <E6>: see tracer.trace.readable_piece); a long
    piece cut to PIECE_COLUMNS unless `whole`."""
    label = display_text(piece, visible_spaces=True)
    return label if whole else shorten(label, PIECE_COLUMNS)


def token_chip(theme, text, size=26, fill=None, edge=None, text_color=None, min_width=0.5):
    """A token piece in a rounded box; `text` is already display-safe. Fixed height, so a
    row of chips lines up whatever letters they hold."""
    label = words(theme, text, size=size, color=text_color, strut=True)
    width, height = max(min_width, label.width + CHIP_PAD), max(CHIP_HEIGHT * size / 26, label.height + 0.16)
    box = rounded_rectangle(width, height, 0.1, fill_color=fill or theme.panel, fill_opacity=1,
                            stroke_color=edge or theme.panel_edge, stroke_width=1.5)
    centre_text_on(label, box.get_center())
    chip = VGroup(box, label)
    chip.box, chip.label = box, label
    return chip


def ellipsis_chip(theme, size=26):
    """Where a window leaves tokens out: a midline ellipsis, centred like the chips' text."""
    return token_chip(theme, MIDLINE_ELLIPSIS, size=size, fill=theme.background, edge=theme.background,
                      text_color=theme.muted)


def window(n, max_shown, head=None, tail=None):
    """Which of n positions to show when at most `max_shown` fit: all of them, or the first
    `head`, None (where the ellipsis goes), and the last `tail`. By default a third of the
    room goes to the end; the attention scenes keep only the first token at the head
    (GPT-2 heads often park attention there) and give the rest to the end."""
    if n <= max_shown:
        return list(range(n))
    tail = tail if tail is not None else max(1, (max_shown - 1) // 3)
    head = head if head is not None else max_shown - 1 - tail
    return list(range(head)) + [None] + list(range(n - tail, n))


def arrange_in_rows(mobs, max_width, h_buff=0.14, v_buff=0.3):
    """Lay `mobs` left to right in as few rows as fit `max_width`, balanced so the last
    row is not a lone straggler; rows are centred. Returns a VGroup of row VGroups."""
    fewest = len(_greedy_rows(mobs, max_width, h_buff))
    total = sum(m.width for m in mobs) + h_buff * (len(mobs) - 1)
    target = min(max_width, total / fewest)
    rows = _greedy_rows(mobs, target, h_buff)
    while len(rows) > fewest:  # a narrower target can need an extra row: widen until it does not
        target = min(max_width, target * 1.05 + 0.01)
        rows = _greedy_rows(mobs, target, h_buff)
    groups = VGroup(*[VGroup(*r).arrange(RIGHT, buff=h_buff, aligned_edge=UP) for r in rows])
    return groups.arrange(DOWN, buff=v_buff)


def _greedy_rows(mobs, width_limit, h_buff):
    rows, row, width = [], [], 0.0
    for mob in mobs:
        extra = mob.width + (h_buff if row else 0)
        if row and width + extra > width_limit + 1e-6:
            rows.append(row)
            row, width = [], 0.0
            extra = mob.width
        row.append(mob)
        width += extra
    if row:
        rows.append(row)
    return rows


def bracket_under(mobs, theme, depth=0.12):
    """A thin square bracket under a run of mobjects (the pieces one character spans)."""
    group = VGroup(*mobs)
    left, right = group.get_corner(DOWN + LEFT), group.get_corner(DOWN + RIGHT)
    down = DOWN * depth
    return VGroup(
        Line(left, left + down, color=theme.muted, stroke_width=2),
        Line(left + down, right + down, color=theme.muted, stroke_width=2),
        Line(right + down, right, color=theme.muted, stroke_width=2),
    )
