"""Text on screen: user text made safe to draw, prose in the text font, fitting and wrapping.

User text is never markup: `Text` draws `<` and `&` literally (MarkupText would raise).
What no installed font can draw (emoji, control characters) is written as its code point,
so nothing ever shows as an empty gap or a white box. Building a Text costs Pango a layout
and an SVG parse, so each distinct text is built once and copied after that, and each
distinct glyph is converted once (GlyphText).
"""

import functools
import io
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET

import numpy as np
import svgelements
from manim import DOWN, RIGHT, Text, config

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


def shorten(text, columns):
    """`text` whole if it takes at most `columns` monospace columns, else cut to fit with "…"."""
    if column_width(text) <= columns:
        return text
    return text[: _cut_at_columns(text, columns - 1)].rstrip() + ELLIPSIS


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


# -- text mobjects ---------------------------------------------------------------------

LINE_SPACING = 0.75  # Manim's line_spacing for wrapped texts (below ~0.3 it has no effect)


def words(theme, text, size=28, color=None, weight="NORMAL", strut=False):
    """Prose in the text font (already safe text: use display_text on anything a user typed).

    strut=True adds an invisible full-height bar at each end, so texts with and without
    descenders ("quick", "the") get the same box and line up when centred. Each distinct
    text is built once and copied after that (labels recur: the same token pieces label
    the grids of several scenes).
    """
    return _words_prototype(theme, text, size, color or theme.text, weight, strut).copy()


@functools.lru_cache(maxsize=1024)
def _words_prototype(theme, text, size, color, weight, strut):
    if not strut:
        spacing = LINE_SPACING if "\n" in text else -1  # Pango's own is too tight for a slide
        mob = GlyphText(left_to_right(text), font=theme.text_font, font_size=size, color=color, weight=weight,
                        line_spacing=spacing)
    else:
        mob = GlyphText(left_to_right(f"|{text}|"), font=theme.text_font, font_size=size, color=color,
                        weight=weight)
        mob[0].set_opacity(0)
        mob[-1].set_opacity(0)
    mob.original_text = text  # what it says, without the struts and direction marks
    return copyable(mob)


def copyable(text):
    """`text` (a Text kept to be copied) without the parsed SVG path of each glyph.

    Manim reads a glyph's svgelements Path once, to make its points; a copy would
    deep-copy it all the same, and that was four fifths of the copy's time (a scene's
    texts are copies of cached ones: a third of a scene's render). Returns `text`.
    """
    for part in text.get_family():
        if hasattr(part, "path_obj"):
            part.path_obj = None
    return text


# -- glyphs converted once --------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
GLYPH_TEMPLATES = {}  # (glyph, renderer, path config) -> its mobject drawn at (0, 0), or None (no outline)
MAX_GLYPH_TEMPLATES = 8192  # a few MB of points; a scene uses a few hundred


class GlyphText(Text):
    """Manim's Text, each distinct glyph converted to a mobject once a process and copied after.

    Pango writes a text as an SVG that defines each glyph's outline once (a <symbol>) and
    places it with a <use> at (x, y); Manim parses that SVG and converts every placed glyph
    into a mobject, for every text: over half of a scene's render went there. Here a glyph
    is converted Manim's own way once, drawn at (0, 0) inside the same groups (the same
    style), and each <use> copies it and shifts it to (x, y). The points are Manim's to the
    last bit or two (a straight segment's control points are set before the shift, not
    after), the style the same. An SVG of any other shape is left to Manim.
    """

    def generate_mobject(self):
        tree = self.modify_xml_tree(ET.parse(self.get_file_path()))  # the style groups Manim adds
        placed = placed_glyphs(tree.getroot())
        if placed is None:
            return super().generate_mobject()
        glyphs = []
        for glyph, x, y in placed:
            key = (glyph, config.renderer, repr(sorted(self.path_string_config.items())))
            if key not in GLYPH_TEMPLATES:
                if len(GLYPH_TEMPLATES) >= MAX_GLYPH_TEMPLATES:
                    GLYPH_TEMPLATES.clear()
                GLYPH_TEMPLATES[key] = self.glyph_at_origin(glyph)
            if GLYPH_TEMPLATES[key] is not None:  # a space has no outline, and Manim keeps no mobject of it
                glyphs.append(GLYPH_TEMPLATES[key].copy().shift([x, y, 0]))
        self.add(*glyphs)
        self.flip(RIGHT)  # SVG's y points down (as SVGMobject.generate_mobject does)
        return self

    def glyph_at_origin(self, glyph):
        """The mobject Manim makes of one glyph placed at (0, 0), or None when it has no outline."""
        symbol, groups, use = glyph
        svg = ET.Element("svg")
        parent = svg
        for tag, attributes in groups[1:]:  # below the root, which modify_xml_tree leaves bare
            parent = ET.SubElement(parent, tag, dict(attributes))
        outline = ET.fromstring(symbol)
        outline.set("id", "glyph")
        ET.SubElement(parent, SVG + "defs").append(outline)
        ET.SubElement(parent, SVG + "use", {**dict(use), XLINK_HREF: "#glyph", "x": "0", "y": "0"})
        mobjects, _ = self.get_mobjects_from(svgelements.SVG.parse(io.BytesIO(ET.tostring(svg))))
        if not mobjects:
            return None
        (mob,) = mobjects
        return copyable(mob)


def placed_glyphs(root):
    """[((symbol, its groups, the <use>'s attributes), x, y)] of every glyph placed in a text's
    SVG, in drawing order (IDs left out: cairo numbers a text's glyphs and surfaces in order,
    so the same glyph has another ID in another text); None for an SVG that is not symbols
    placed by <use> in plain groups (a transform, a shape drawn as it is)."""
    symbols, placed = {}, []

    def visit(element, groups, in_defs):
        tag = element.tag.removeprefix(SVG)
        if tag == "symbol" and in_defs:
            outline = ET.Element(element.tag, {k: v for k, v in element.attrib.items() if k != "id"})
            outline.extend(element)
            symbols[element.get("id")] = ET.tostring(outline)
            return True
        if tag == "use":
            attributes = {k: v for k, v in element.attrib.items() if k not in ("x", "y")}
            href = attributes.pop(XLINK_HREF, "")
            placed.append((href[1:], groups, tuple(sorted(attributes.items())),
                           float(element.get("x", 0)), float(element.get("y", 0))))
            return href.startswith("#") and "transform" not in attributes
        if tag not in ("svg", "g", "defs") or "transform" in element.attrib:
            return False
        inner = groups + ((element.tag, tuple(sorted((k, v) for k, v in element.attrib.items() if k != "id"))),)
        return all(visit(child, inner, in_defs or tag == "defs") for child in element)

    if not visit(root, (), False) or any(href not in symbols for href, *_ in placed):
        return None
    return [((symbols[href], groups, use), x, y) for href, groups, use, x, y in placed]


LEFT_TO_RIGHT_MARK = "\u200e"


def left_to_right(text):
    """`text` with each line starting left to right, so Pango lays it out from the left.

    Pango gives a line that starts with Hebrew or Arabic a right-to-left direction and
    aligns it to the right of a layout as wide as the frame, past the edge of the SVG
    canvas Manim draws it on: its glyphs are cut off (a one-letter piece becomes a Text
    with no glyphs at all). An invisible left-to-right mark first keeps every line
    left-aligned; the right-to-left words inside it still read right to left.
    """
    return "\n".join(LEFT_TO_RIGHT_MARK + line for line in text.split("\n"))


# A strutted text's box is centred between the font's ascent and descent, which sits a
# little below the middle of capitals and kana; this much of its height sets that right.
STRUT_CENTRE_OFFSET = 0.078


def centre_text_on(label, point):
    """Centre a strutted text on `point` by the middle of its letters, not of its box."""
    label.move_to(point)
    label.shift(DOWN * STRUT_CENTRE_OFFSET * label.height)
    return label


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


def label_within(theme, text, width, size, color=None, min_scale=1.0):
    """A strutted label no wider than `width`: shrunk down to `min_scale`, then cut with "…"
    (by default only cut: a table is scaled to fit, and a label must not end up smaller
    than the numbers beside it)."""
    label = words(theme, text, size=size, color=color, strut=True)
    if label.width <= width:
        return label
    if label.width * min_scale <= width:
        return label.scale(width / label.width)
    for cut in range(len(text) - 1, 0, -1):
        label = words(theme, text[:cut] + ELLIPSIS, size=size, color=color, strut=True)
        if label.width * min_scale <= width:
            return label.scale(min(1.0, width / label.width))
    return label.scale(width / label.width)
