"""Pieces every scene shares: safe display of user text, number formats, token chips,
colour strips and heatmaps (as images), bar charts, windows onto long prompts, fitting.

Nothing here knows a particular scene; everything takes the theme it draws with.
Rendering costs grow with the glyphs on screen, so these build each Text once, and draw
anything with many cells (a 768-wide vector, a T x d matrix) as one ImageMobject.
"""

import functools
import shutil
import subprocess
import unicodedata

import numpy as np
from manim import (
    DOWN, LEFT, RESAMPLING_ALGORITHMS, RIGHT, UP, Animation, ImageMobject, Line, ManimColor, Mobject,
    Rectangle, RoundedRectangle, Text, VGroup,
)

# -- user text, shown safely -----------------------------------------------------------

VISIBLE_SPACE = "␣"
VISIBLE_TAB = "⇥"
VISIBLE_NEWLINE = "↵"
ELLIPSIS = "…"
MIDLINE_ELLIPSIS = "⋯"
SEPARATORS = (" ", VISIBLE_SPACE, VISIBLE_TAB, VISIBLE_NEWLINE)  # what may touch a code point

# Emoji (and the invisible characters that build them) are drawn in colour fonts that
# Cairo renders as a blank gap, so they are always written as their code point.
_ALWAYS_CODE_POINT = (
    (0x1F000, 0x1FAFF),  # emoji, flags, pictographs
    (0x2600, 0x27BF),  # misc symbols and dingbats (❤ ☀ ✂)
    (0xFE00, 0xFE0F),  # variation selectors (the "️" after ❤)
    (0x200B, 0x200F),  # zero-width space/joiners, direction marks
    (0xE0000, 0xE007F),  # tag characters (flag sequences)
)
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


@functools.lru_cache(maxsize=1)
def installed_code_points():
    """Every code point some installed font has a glyph for (fontconfig's charsets).

    Pango falls back from the chosen font to any installed one, so a character is drawn
    if any font has it. None when fontconfig cannot be asked (then we trust the fonts).
    """
    if shutil.which("fc-list") is None:
        return None
    try:
        listing = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ranges = set()
    for word in listing.split():
        start, _, stop = word.partition("-")
        try:
            ranges.add((int(start, 16), int(stop or start, 16)))
        except ValueError:
            continue
    return _RangeSet(ranges)


class _RangeSet:
    """Membership test over a union of (start, stop) code point ranges."""

    def __init__(self, ranges):
        merged = []
        for start, stop in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        self.starts = np.array([r[0] for r in merged])
        self.stops = np.array([r[1] for r in merged])

    def __contains__(self, code_point):
        i = np.searchsorted(self.starts, code_point, side="right") - 1
        return i >= 0 and code_point <= self.stops[i]


def code_point(char):
    return f"U+{ord(char):04X}"


def needs_code_point(char):
    """True when `char` would draw as a gap or a box, so it must be written as U+XXXX."""
    value = ord(char)
    if any(start <= value <= stop for start, stop in _ALWAYS_CODE_POINT):
        return True
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return True
    fonts = installed_code_points()
    return fonts is not None and value not in fonts


def display_text(text, visible_spaces=False):
    """`text` as it can be drawn: tabs and newlines as ⇥ ↵, spaces as ␣ if asked, and
    characters no font can draw (emoji, control characters) as their code point, set
    apart by spaces so "❤️" reads "U+2764 U+FE0F", never an empty gap or a white box."""
    shown = ""
    after_code_point = False
    for char in text:
        if char == "\t":
            piece = VISIBLE_TAB
        elif char in "\n\r":
            piece = VISIBLE_NEWLINE
        elif char == " ":
            piece = VISIBLE_SPACE if visible_spaces else " "
        elif unicodedata.category(char) == "Zs":  # no-break, ideographic and other odd spaces
            piece = code_point(char) if visible_spaces else " "
        elif needs_code_point(char):
            piece = code_point(char)
            if shown and shown[-1] not in SEPARATORS:
                shown += " "
            shown += piece
            after_code_point = True
            continue
        else:
            piece = char
        if after_code_point and piece[0] not in SEPARATORS:
            shown += " "
        shown += piece
        after_code_point = False
    return shown


def column_width(text):
    """Width in monospace columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_columns(text, columns, max_lines):
    """Lines of at most `columns` columns, broken at spaces where possible; a text that
    needs more than `max_lines` lines ends its last line with an ellipsis."""
    lines, line = [], ""
    for word in _words_and_spaces(text):
        if column_width(line + word) <= columns:
            line += word
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = word.lstrip()
        while column_width(line) > columns:  # a word longer than a line: cut it
            cut = _cut_at_columns(line, columns)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[: max_lines - 1] + [last[: _cut_at_columns(last, columns - 1)].rstrip() + ELLIPSIS]
    return lines or [""]


def _words_and_spaces(text):
    word = ""
    for char in text:
        if char == " " and word and not word.endswith(" "):
            yield word
            word = char
        else:
            word += char
    if word:
        yield word


def _cut_at_columns(text, columns):
    width = 0
    for i, char in enumerate(text):
        width += column_width(char)
        if width > columns:
            return max(i, 1)
    return len(text)


# -- numbers ---------------------------------------------------------------------------

MINUS = "−"  # a real minus sign: as wide as a digit in the mono font, unlike "-"


def fmt_value(x, decimals=2):
    """-0.1234 -> "−0.12"; activations are shown with 2 decimals."""
    text = f"{x:.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:] if float(text) != 0 else text[1:]
    return text


def fmt_percent(p):
    """A probability as a percentage: 2 decimals from 1% up, 2 significant digits below,
    so a random model's 0.015% and 0.011% stay apart instead of both reading 0.01%."""
    percent = 100 * p
    if percent >= 1 or percent == 0:
        return f"{percent:.2f}%"
    if percent >= 1e-4:
        return f"{percent:#.2g}%"
    return f"{percent:.1e}%"


def softmax(logits):
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits)
    exp = np.exp(shifted)
    return exp / exp.sum()


def top_indices(values, k):
    """Indices of the k largest values, largest first."""
    k = min(k, len(values))
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


# -- text mobjects ---------------------------------------------------------------------

LINE_SPACING = 0.75  # Manim's line_spacing for wrapped texts (below ~0.3 it has no effect)


def words(theme, text, size=28, color=None, weight="NORMAL", strut=False):
    """Prose in the text font (already safe text: use display_text on anything a user typed).

    strut=True adds an invisible full-height bar at each end, so texts with and without
    descenders ("quick", "the") get the same box and line up when centred.
    """
    if not strut:
        spacing = LINE_SPACING if "\n" in text else -1  # Pango's own is too tight for a slide
        return Text(text, font=theme.text_font, font_size=size, color=color or theme.text, weight=weight,
                    line_spacing=spacing)
    mob = Text(f"|{text}|", font=theme.text_font, font_size=size, color=color or theme.text, weight=weight)
    mob[0].set_opacity(0)
    mob[-1].set_opacity(0)
    mob.original_text = text  # what it says, without the struts
    return mob


def mono(theme, text, size=24, color=None):
    """Numbers and IDs in the monospace font, so columns of digits line up."""
    return Text(text, font=theme.number_font, font_size=size, color=color or theme.text)


# A strutted text's box is centred between the font's ascent and descent, which sits a
# little below the middle of capitals and kana; this much of its height sets that right.
STRUT_CENTRE_OFFSET = 0.078


def centre_text_on(label, point):
    """Centre a strutted text on `point` by the middle of its letters, not of its box."""
    label.move_to(point)
    label.shift(DOWN * STRUT_CENTRE_OFFSET * label.height)
    return label


# -- fitting ---------------------------------------------------------------------------

def fit_within(mob, width=None, height=None):
    """Scale `mob` down (never up) until it fits `width` x `height`."""
    factors = []
    if width is not None and mob.width > width:
        factors.append(width / mob.width)
    if height is not None and mob.height > height:
        factors.append(height / mob.height)
    if factors:
        mob.scale(min(factors))
    return mob


# -- cheap motion -----------------------------------------------------------------------

class Glide(Animation):
    """Move a mobject to `target` without copying it: Manim's `.animate` deep-copies every
    glyph of a Text first, which made a row of moving chips cost seconds per step."""

    def __init__(self, mobject, target, **kwargs):
        self.target = np.array(target, dtype=float)
        super().__init__(mobject, **kwargs)

    def begin(self):
        self.start = self.mobject.get_center().copy()
        super().begin()

    def create_starting_mobject(self):
        return Mobject()  # nothing to remember but the start point

    def interpolate_mobject(self, alpha):
        t = self.rate_func(alpha)
        self.mobject.move_to(self.start + t * (self.target - self.start))


class Fade(Animation):
    """Fade a group in (appear=True) or out, optionally sliding by `shift`, without the
    deep copies FadeIn/FadeOut make (one copy of a chart of Texts costs ~80 ms on this
    machine, more than drawing it). With lag_ratio, the group's parts fade one after another."""

    def __init__(self, mobject, appear=True, shift=None, lag_ratio=0.0, **kwargs):
        self.appear = appear
        self.shift_vector = np.zeros(3) if shift is None else np.array(shift, dtype=float)
        super().__init__(mobject, introducer=appear, remover=not appear, lag_ratio=lag_ratio, **kwargs)

    def create_starting_mobject(self):
        return Mobject()

    def begin(self):
        parts = self.mobject.submobjects or [self.mobject]
        self.parts = [(part, part.get_center().copy(), _opacities(part)) for part in parts]
        super().begin()

    def interpolate_mobject(self, alpha):
        n = len(self.parts)
        full = (n - 1) * self.lag_ratio + 1
        for i, (part, centre, opacities) in enumerate(self.parts):
            t = self.rate_func(float(np.clip(alpha * full - i * self.lag_ratio, 0, 1)))
            visible = t if self.appear else 1 - t
            _set_opacities(opacities, visible)
            offset = (1 - visible) * self.shift_vector * (-1 if self.appear else 1)
            part.move_to(centre + offset)

    def clean_up_from_scene(self, scene):
        super().clean_up_from_scene(scene)
        if not self.appear:  # leave it as it was, off screen, in case it comes back
            for part, centre, opacities in self.parts:
                _set_opacities(opacities, 1.0)
                part.move_to(centre)


def _opacities(mob):
    """(member, kind, original alpha values) for every drawn member of mob's family."""
    found = []
    for member in mob.get_family():
        if isinstance(member, ImageMobject):
            found.append((member, "pixels", member.pixel_array[:, :, 3].copy()))
            continue
        for kind in ("fill_rgbas", "stroke_rgbas", "background_stroke_rgbas"):
            rgbas = getattr(member, kind, None)
            if rgbas is not None and len(rgbas):
                found.append((member, kind, rgbas[:, 3].copy()))
    return found


def _set_opacities(opacities, factor):
    for member, kind, original in opacities:
        if kind == "pixels":
            member.pixel_array[:, :, 3] = (original * factor).astype(member.pixel_array.dtype)
        else:
            getattr(member, kind)[:, 3] = original * factor


# -- token chips -----------------------------------------------------------------------

CHIP_HEIGHT = 0.62
CHIP_PAD = 0.16


def token_chip(theme, text, size=26, fill=None, edge=None, text_color=None, min_width=0.5):
    """A token piece in a rounded box; `text` is already display-safe. Fixed height, so a
    row of chips lines up whatever letters they hold."""
    label = words(theme, text, size=size, color=text_color, strut=True)
    box = RoundedRectangle(corner_radius=0.1, height=max(CHIP_HEIGHT * size / 26, label.height + 0.16),
                           width=max(min_width, label.width + CHIP_PAD),
                           fill_color=fill or theme.panel, fill_opacity=1, stroke_color=edge or theme.panel_edge,
                           stroke_width=1.5)
    centre_text_on(label, box.get_center())
    chip = VGroup(box, label)
    chip.box, chip.label = box, label
    return chip


def piece_text(trace, index):
    """Token `index` as a chip shows it: spaces as ␣, partial UTF-8 bytes as <E6>,
    emoji as code points."""
    return display_text(trace.token_text(index), visible_spaces=True)


def piece_text_of_bytes(raw):
    """Same as piece_text, for a candidate token known only by its bytes (step records)."""
    text = bytes(raw).decode("utf-8", errors="surrogateescape")
    text = "".join(f"<{ord(c) - 0xDC00:02X}>" if "\udc80" <= c <= "\udcff" else c for c in text)
    return display_text(text, visible_spaces=True)


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


def window_indices(n, max_shown, tail=None):
    """Which of n items to show when at most `max_shown` fit: all of them, or the first
    ones, None (where the ellipsis goes), and the last `tail` ones."""
    if n <= max_shown:
        return list(range(n))
    tail = tail if tail is not None else max(1, (max_shown - 1) // 3)
    head = max_shown - 1 - tail
    return list(range(head)) + [None] + list(range(n - tail, n))


def ellipsis_chip(theme, size=26):
    """Where a window leaves tokens out: a midline ellipsis, centred like the chips' text."""
    return token_chip(theme, MIDLINE_ELLIPSIS, size=size, fill=theme.background, edge=theme.background,
                      text_color=theme.muted)


# -- colours ---------------------------------------------------------------------------

def _rgb(hex_colour):
    return np.array(ManimColor(hex_colour).to_rgb()) * 255


def diverging_rgb(theme, values, limit):
    """Map values to colours: negative blue, zero the theme's neutral, positive orange,
    saturating at +/- limit; NaN (a row left out of a window) is the background.
    Returns uint8 RGB with the values' shape plus (3,)."""
    values = np.asarray(values, dtype=np.float64)
    t = np.clip(np.nan_to_num(values) / (limit or 1.0), -1, 1)[..., None]
    zero, positive, negative = _rgb(theme.zero), _rgb(theme.positive), _rgb(theme.negative)
    colours = np.where(t >= 0, zero + t * (positive - zero), zero + (-t) * (negative - zero))
    colours = np.where(np.isnan(values)[..., None], _rgb(theme.background), colours)
    return colours.round().astype(np.uint8)


def colour_limit(*arrays, percentile=99):
    """A shared colour scale for arrays drawn side by side: the 99th percentile of their
    magnitudes, so a few outlier dimensions do not wash every other value out to grey."""
    magnitudes = np.abs(np.concatenate([np.ravel(a) for a in arrays]))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    limit = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    return limit if limit > 0 else 1.0


def heatmap(theme, matrix, limit, width, height):
    """A 2-D array as one image (one pixel per cell, scaled without smoothing)."""
    return pixel_image(diverging_rgb(theme, np.atleast_2d(matrix), limit), width, height)


def pixel_image(rgb, width, height):
    """An (h, w, 3) uint8 array as an opaque image of width x height, pixels kept sharp."""
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    image = ImageMobject(rgba)
    image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
    image.stretch_to_fit_width(width)
    image.stretch_to_fit_height(height)
    return image


def colour_strip(theme, vector, limit, width, height=0.32):
    """A vector as a one-row heatmap with a thin outline: the whole vector at a glance."""
    image = heatmap(theme, np.asarray(vector)[None, :], limit, width, height)
    outline = Rectangle(width=width, height=height, stroke_color=theme.panel_edge, stroke_width=1)
    outline.move_to(image)
    return image, outline


def scale_legend(theme, limit, label, width=2.4, height=0.16, size=18):
    """The colour scale from -limit to +limit with its label underneath."""
    ramp = heatmap(theme, np.linspace(-limit, limit, 64)[None, :], limit, width, height)
    caption = words(theme, label, size=size, color=theme.muted).next_to(ramp, DOWN, buff=0.1)
    return ramp, caption


# -- bar charts ------------------------------------------------------------------------

def probability_bars(theme, labels, probs, bar_length, highlight=None, size=22, row_height=0.42,
                     label_width=2.4, extra=None, extra_width=1.1, gap=0.25, notes=None, fmt=fmt_percent,
                     largest=None):
    """Horizontal bars for probabilities, scaled to the largest shown (a random model's
    0.02% would be invisible on a 0-100% axis), each labelled with its real percentage.

    labels: display-safe strings, right-aligned left of x=0; extra: an optional column of
    numbers (e.g. logits) between labels and bars; notes: optional words after a row's
    percentage (None for none); highlight: the row drawn in the accent colour. Returns a
    VGroup of rows, each with .label, .extra, .bar, .value and .note (or None), the first
    row's centre at y=0. fmt writes each value (default: a percentage); largest is the value
    a full-length bar stands for (default: the largest shown; 1.0 puts charts on one axis).
    """
    largest = largest or max(probs) or 1.0
    bar_left = gap + (extra_width + gap if extra is not None else 0)
    rows = VGroup()
    for i, (label, p) in enumerate(zip(labels, probs)):
        lit = i == highlight
        name = words(theme, label, size=size, color=theme.accent if lit else theme.text, strut=True)
        fit_within(name, width=label_width)
        centre_text_on(name, [-name.width / 2, -i * row_height, 0])
        row = VGroup(name)
        row.label, row.extra = name, None
        if extra is not None:
            row.extra = mono(theme, extra[i], size=size - 2, color=theme.accent if lit else theme.muted)
            row.extra.move_to([gap + extra_width, -i * row_height, 0], aligned_edge=RIGHT)
            row.add(row.extra)
        row.bar = Rectangle(width=max(bar_length * p / largest, 0.02), height=row_height * 0.6, stroke_width=0,
                            fill_color=theme.accent if lit else theme.bar, fill_opacity=1)
        row.bar.move_to([bar_left, -i * row_height, 0], aligned_edge=LEFT)
        row.value = mono(theme, fmt(p), size=size - 2, color=theme.accent if lit else theme.muted)
        row.value.next_to(row.bar, RIGHT, buff=0.15)
        row.add(row.bar, row.value)
        row.note = None
        if notes is not None and notes[i]:
            row.note = words(theme, notes[i], size=size - 4, color=theme.accent if lit else theme.muted, strut=True)
            centre_text_on(row.note, [row.value.get_right()[0] + 0.2 + row.note.width / 2, -i * row_height, 0])
            row.add(row.note)
        rows.add(row)
    return rows


def row_highlight(rows, index, theme):
    """A frame round one row of `probability_bars` that stays inside the gap to its neighbours
    (a fixed buff would cut into the next row once a short chart is scaled up)."""
    row = rows[index]
    pitch = abs(rows[1].bar.get_y() - rows[0].bar.get_y()) if len(rows) > 1 else row.height * 1.6
    height = min(row.height + 0.2, pitch * 0.96)
    return RoundedRectangle(width=row.width + 0.24, height=height, corner_radius=min(0.08, height / 4),
                            color=theme.accent).move_to([row.get_x(), row.bar.get_y(), 0])


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


# -- characters split across byte pieces -----------------------------------------------

def split_characters(token_bytes):
    """Characters whose UTF-8 bytes span more than one piece.

    token_bytes: each piece's raw bytes. Returns (char, its bytes, first piece, last
    piece) for every such character, in order: "日" split as E6 97 | A5 gives
    ("日", b"\\xe6\\x97\\xa5", i, i + 1).
    """
    owner = [i for i, piece in enumerate(token_bytes) for _ in piece]  # piece of each byte
    raw = b"".join(bytes(piece) for piece in token_bytes)
    found, start = [], 0
    while start < len(raw):
        length = _utf8_length(raw[start])
        chunk = raw[start:start + length]
        try:
            char = chunk.decode("utf-8")
        except UnicodeDecodeError:
            start += 1  # a stray byte: not a character, nothing to show
            continue
        first, last = owner[start], owner[start + length - 1]
        if first != last:
            found.append((char, chunk, first, last))
        start += length
    return found


def _utf8_length(first_byte):
    if first_byte >= 0xF0:
        return 4
    if first_byte >= 0xE0:
        return 3
    if first_byte >= 0xC0:
        return 2
    return 1


def hex_bytes(raw):
    return " ".join(f"{b:02X}" for b in raw)


# -- what the model predicted ------------------------------------------------------------

class Prediction:
    """The model's candidates for the token after `position`, read from the Trace.

    With a step record (the token was generated) the candidates, their pieces and the
    choice come from it; without one (the prompt's last position, nothing generated) they
    come from the logits, and a piece the Trace never saw is named by its ID.
    Attributes: candidates (dicts with id, label, logit, prob; most probable first),
    chosen (one such dict), chosen_rank (1 = most probable; None if unknown), rest (the
    probability of every token not among the candidates), step (the record or None).
    """

    def __init__(self, trace, position, step=None, k=10, name_of_id=lambda token_id: f"#{token_id}"):
        logits = trace["logits"][position] if position < trace.n_traced else None  # (vocab,)
        if step is not None:
            self.candidates = [self._entry(c["id"], piece_text_of_bytes(c["bytes"]), c["logit"], c["prob"])
                               for c in step["candidates"][:k]]
            chosen = step["chosen"]
            self.chosen = self._entry(chosen["id"], piece_text_of_bytes(chosen["bytes"]), chosen["logit"],
                                      chosen["prob"])
        else:
            probs = softmax(logits)
            pieces = {token_id: piece_text(trace, i) for i, token_id in enumerate(trace.token_ids)}
            self.candidates = [self._entry(int(i), pieces.get(int(i)) or name_of_id(int(i)),
                                           float(logits[i]), float(probs[i])) for i in top_indices(logits, k)]
            self.chosen = self.candidates[0]
        self.step = step
        self.rest = max(0.0, 1.0 - sum(c["prob"] for c in self.candidates))
        self.chosen_rank = None if logits is None else int((logits > logits[self.chosen["id"]]).sum()) + 1
        self.chosen_index = next((i for i, c in enumerate(self.candidates) if c["id"] == self.chosen["id"]), None)

    def rows(self):
        """The candidates to chart, plus the chosen token as a last row (marked "outside",
        with its "rank") when it is not among them; and the chosen row's index."""
        if self.chosen_index is not None:
            return list(self.candidates), self.chosen_index
        outside = dict(self.chosen, outside=True, rank=self.chosen_rank)
        return list(self.candidates) + [outside], len(self.candidates)

    @staticmethod
    def _entry(token_id, label, logit, prob):
        return {"id": token_id, "label": label, "logit": logit, "prob": prob}
