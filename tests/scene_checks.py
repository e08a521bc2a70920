"""Render scenes cheaply in tests and record what a viewer sees at the end of every section.

A plain module the scene tests share (conftest.py holds the fixtures). Rendering is the
cheapest Manim offers: a tiny frame, animations skipped, only the last frame drawn.
`check_scene` renders a scene once and returns a `SceneReport`: what every section ends
with (texts, numbers, legibility problems), the string keys the scene asked for, its
length. The tests for every catalog scene read these reports, so a new scene in the
catalog is rendered and checked without a line of test code of its own.
"""

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field
from string import Formatter

import numpy as np
import pytest
from manim import DL, UR, DecimalNumber, ImageMobject, Text, VMobject, config, tempconfig

from scenes.base import SceneOptions, shown_model_name
from scenes.kit.numbers import MINUS
from scenes.kit.text import ELLIPSIS, display_text, installed_code_points
from scenes.strings import STRINGS
from scenes.theme import get_theme
from tracer.trace import readable_piece


# -- what every scene is checked on ----------------------------------------------------------------

LONG_PROMPT = ("The teacher wrote a long sentence on the board, and the students copied every word of it "
               "into their notebooks before the bell rang at the end of the lesson.")

# Prompts the scenes never see specially: Japanese, right-to-left scripts (Hebrew mixed with
# English, Arabic), scripts of combining marks (Devanagari, Thai), emoji, markup and LaTeX
# characters, tabs and newlines, and a prompt too long to show whole; each with the steps
# to generate.
TRICKY_PROMPTS = {
    "japanese": ("日本語の文章", 3),
    "hebrew": ("שלום עולם, this is mixed", 3),
    "arabic": ("مرحبا بالعالم", 3),
    "devanagari": ("नमस्ते दुनिया", 3),
    "thai": ("สวัสดีชาวโลก", 3),
    "emoji": ("I ❤️ 😀 pizza", 3),
    "markup": ('<b>&{}\\%$ "quotes"', 3),
    "tabs": ("a\tb\nc", 3),
    "long": (LONG_PROMPT + " It was long, and nobody complained.", 10),  # 40+ tokens; more steps than the loop animates
}

# The traces every catalog scene is checked on, by the name conftest.py's scene_trace knows:
# nano-sort, a small GPT-2-vocabulary model, GPT-2 small's shape with random and with real-scale
# numbers (logits near -140, attention sinks, a residual dimension at 3000), XL's 48 layers and
# 25 heads, and the tricky prompts;
# in English on all of them, in Japanese (wider text, no spaces to wrap at) on nano-sort and
# the tricky prompts.
SCENE_TRACES = ["nano_sort_trace", "gpt2_trace", "gpt2_twelve_trace", "gpt2_scale_trace", "gpt2_xl_shape_trace",
                *(f"tricky:{name}" for name in TRICKY_PROMPTS)]
LANGUAGE_TRACES = {"en": SCENE_TRACES, "ja": ["nano_sort_trace", *(f"tricky:{name}" for name in TRICKY_PROMPTS)]}


def scene_cases(catalog, languages=LANGUAGE_TRACES):
    """(catalog entry, trace name, SceneOptions) for every scene of `catalog` on every trace
    in every language: what the per-scene tests are parametrized with, so a scene added to
    the catalog is checked."""
    return [pytest.param(info, name, SceneOptions(language=language), id=f"{info.name}-{name}-{language}")
            for info in catalog for language, names in languages.items() for name in names]


def render(scene_class, directory, size=(427, 240), on_section_end=None, on_say=None, on_said=None):
    """Render `scene_class` (a bound TraceScene) into `directory`, last frame only.

    The frame is small but not tiny: Pango lays text out on a canvas as wide as the
    frame in pixels, so below ~400 px wide it wraps lines that real renders keep whole.

    on_section_end(scene, section_name) runs when every section ends (before the next
    one starts, and at the end of the scene), with the scene's mobjects as the viewer
    sees them at that moment. on_say(key) runs for every string key the scene asks for;
    it may return a text to use instead (for a key the table lacks); on_said(text) then
    runs with the text the scene got. Returns the scene.
    """

    class Probe(scene_class):
        section = None

        def next_section(self, name="unnamed", *args, **kwargs):
            if on_section_end is not None and self.section is not None:
                on_section_end(self, self.section)
            self.section = name
            super().next_section(name, *args, **kwargs)

        def tear_down(self):
            if on_section_end is not None:
                on_section_end(self, self.section)
            super().tear_down()

        def say(self, key, **values):
            stand_in = on_say(key) if on_say is not None else None
            text = stand_in if stand_in is not None else super().say(key, **values)
            if on_said is not None:
                on_said(text)
            return text

    Probe.__name__ = scene_class.__name__
    width, height = size
    with tempconfig({"media_dir": str(directory), "pixel_width": width, "pixel_height": height, "frame_rate": 5,
                     "save_last_frame": True, "disable_caching": True, "verbosity": "ERROR",
                     "progress_bar": "none"}):
        scene = Probe()
        with last_frame_only(scene.renderer):
            scene.render()
    return scene


@contextlib.contextmanager
def last_frame_only(renderer):
    """Draw no frame until the scene is finished, then the last one, whole. With animations
    skipped Manim still draws a frame or two at every play (its static background, the
    play's end), which no check reads: the checks read the shapes, and the pixels of the
    last frame only. A third of a report's time."""
    draw, finish = renderer.update_frame, renderer.scene_finished

    def finished(scene):
        renderer.update_frame = draw
        finish(scene)

    renderer.update_frame = lambda *args, **kwargs: None
    renderer.scene_finished = finished
    try:
        yield
    finally:
        renderer.update_frame, renderer.scene_finished = draw, finish


# -- what is on screen ------------------------------------------------------------------------

def visible_texts(scene):
    """Every Text (and number) drawn on screen, once each, skipping fully transparent ones."""
    found, seen = [], set()
    for top in scene.mobjects:
        for mob in top.get_family():
            if isinstance(mob, (Text, DecimalNumber)) and id(mob) not in seen and drawn_glyphs(mob):
                seen.add(id(mob))
                found.append(mob)
    return found


def drawn_glyphs(text):
    """The glyphs of a text that are not transparent (struts and faded-out ones are not)."""
    return [glyph for glyph in text.family_members_with_points()
            if glyph.get_fill_opacity() > 0.01 or glyph.get_stroke_opacity() > 0.01 and glyph.get_stroke_width() > 0]


def box(text):
    """(left, bottom, right, top) of a text's visible glyphs."""
    points = np.concatenate([glyph.points for glyph in drawn_glyphs(text)])
    return points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()


def label(text):
    return getattr(text, "original_text", None) or type(text).__name__


def images(scene):
    return [mob for top in scene.mobjects for mob in top.get_family() if isinstance(mob, ImageMobject)]


def parse(text):
    """The number a text reads, or None if it is not a plain number."""
    try:
        return float(text.strip().replace(MINUS, "-").replace("∞", "inf"))
    except ValueError:
        return None


# -- legibility: what a viewer would find wrong --------------------------------------------------

def outside_frame(texts, tolerance=1e-3):
    """Texts that reach past the frame's edges."""
    half_w, half_h = config.frame_width / 2 + tolerance, config.frame_height / 2 + tolerance
    bad = []
    for text in texts:
        left, bottom, right, top = box(text)
        if left < -half_w or right > half_w or bottom < -half_h or top > half_h:
            bad.append(f"outside the frame: {label(text)!r} at x {left:.2f}..{right:.2f}, y {bottom:.2f}..{top:.2f}")
    return bad


def overlapping(texts, tolerance=0.01):
    """Pairs of texts whose visible glyph boxes overlap by more than `tolerance` both ways."""
    boxes = [(text, box(text)) for text in texts]
    bad = []
    for i, (a, (al, ab, ar, at)) in enumerate(boxes):
        for b, (bl, bb, br, bt) in boxes[i + 1:]:
            if min(ar, br) - max(al, bl) > tolerance and min(at, bt) - max(ab, bb) > tolerance:
                bad.append(f"{label(a)!r} overlaps {label(b)!r}")
    return bad


def undrawable(texts):
    """Characters that Cairo would draw as a blank gap (emoji, controls) or a white box
    (no installed font has them)."""
    fonts = installed_code_points()
    bad = []
    for text in texts:
        for char in label(text):
            value = ord(char)
            emoji = value >= 0x1F000 or 0xFE00 <= value <= 0xFE0F or 0x2600 <= value <= 0x27BF
            invisible = unicodedata.category(char) in ("Cc", "Cf") and char not in "\n"
            missing = fonts is not None and not char.isspace() and value not in fonts
            if emoji or invisible or missing:
                bad.append(f"{label(text)!r} has {char!r} (U+{value:04X}), which draws as a gap or a box")
    return bad


def cut_off(texts, share=0.75):
    """Texts that draw far fewer glyphs than they have letters: Pango laid part of them out
    past the edge of its canvas (as it did with right-to-left lines). Spaces and combining
    marks draw no glyph of their own, and a few letters may join into one (ligatures)."""
    bad = []
    for text in texts:
        letters = [char for char in getattr(text, "original_text", "") if not char.isspace() and not unicodedata.category(char).startswith("M")]
        if len(drawn_glyphs(text)) < share * len(letters):
            bad.append(f"{label(text)!r} is cut off: {len(drawn_glyphs(text))} glyphs for {len(letters)} letters")
    return bad


def too_small(texts, min_size=14):
    """Texts that fit-to-frame shrank below legibility (size 14: capitals ~8 px tall at 480p)."""
    return [f"{label(text)!r} shrank to font size {text.font_size:.1f}" for text in texts
            if text.font_size < min_size]


LEGIBILITY_CHECKS = (outside_frame, overlapping, undrawable, cut_off, too_small)


# -- the corner map (scenes/kit/diagram.py): inside the frame, and nothing else drawn over it --------
def covering_the_corner_map(scene, texts):
    corner = getattr(scene, "corner_map", None)
    if corner is None:
        return []
    if corner not in scene.mobjects:
        return ["the corner map is gone from the scene"]
    (left, bottom, _), (right, top, _) = corner.get_corner(DL), corner.get_corner(UR)
    half_w, half_h = config.frame_width / 2, config.frame_height / 2
    bad = [] if -half_w <= left and right <= half_w and -half_h <= bottom and top <= half_h else \
        ["the corner map reaches past the frame"]
    own = {id(mob) for mob in corner.get_family()}
    for mob in [*texts, *images(scene)]:
        if id(mob) in own:
            continue
        if isinstance(mob, ImageMobject):
            (l, b, _), (r, t, _) = mob.get_corner(DL), mob.get_corner(UR)
        else:
            l, b, r, t = box(mob)
        if min(r, right) - max(l, left) > 0.01 and min(t, top) - max(b, bottom) > 0.01:
            bad.append(f"{label(mob)!r} covers the corner map")
    return bad


# -- digits in text: a tagged number, or the string table's --------------------------------------------
#
# A number on screen is a value_text that says what it shows (its meaning: tests/meanings.py
# checks it), or it comes into a sentence through a placeholder of a string-table text
# ("layer {layer}": a template's own digits are the table's too). What else may hold digits
# is the Trace's own text: the prompt, its pieces, the model's name. Anything else with
# digits in it was typed into the scene.

DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def trace_texts(trace):
    """The texts of the Trace a scene may show as they are: the prompt, every piece it names,
    the model's name, each as the kit writes it (spaces shown or not, emoji as code points)."""
    pieces = [trace.token_text(i) for i in range(len(trace.token_ids))]
    pieces += [readable_piece(raw) for raw in trace.piece_bytes.values()]
    pieces += [readable_piece(entry["bytes"]) for step in trace.steps
               for entry in (*step["candidates"], step["chosen"])]
    texts = {shown_model_name(trace.model)}
    for text in [trace.prompt, *pieces]:
        texts |= {text, display_text(text), display_text(text, visible_spaces=True)}
    return {text for text in texts if DIGITS.search(text)}


def template_parts(text):
    """The words between the {placeholders} of a text the string table gave with its fields
    still to fill (the map's size lines: kit.diagram.size_line writes each part on its own)."""
    try:
        return [literal for literal, _, _, _ in Formatter().parse(text) if literal]
    except ValueError:  # braces that are no placeholders
        return []


def digits_explained(line, start, end, sources, wrapped):
    """True when the digits line[start:end] are part of one of `sources` (a string-table text
    or a text of the Trace): that source is in the line around them, or the line is a part of
    it, when the text was wrapped into lines from a longer one or cut with "…"."""
    cut = line.strip().removesuffix(ELLIPSIS).rstrip()
    fragment = wrapped or line.rstrip().endswith(ELLIPSIS)
    for source in sources:
        at = line.find(source)
        while at != -1:
            if at <= start and end <= at + len(source):
                return True
            at = line.find(source, at + 1)
        if fragment and cut and cut in source:
            return True
    return False


def typed_numbers(text, sources):
    """The runs of digits in a text (not a value_text) that come from neither the string table
    nor the Trace's own text."""
    lines = label(text).split("\n")
    return [match.group() for line in lines for match in DIGITS.finditer(line)
            if not digits_explained(line, match.start(), match.end(), sources, wrapped=len(lines) > 1)]


# -- where every mobject sits: inside the frame, clear of the caption line ---------------------------

def is_text(mob):
    return isinstance(mob, (Text, DecimalNumber))


def visible_shapes(scene):
    """Every drawn piece of the picture that is not a text: shapes with points (rectangles,
    lines, arrows, a text's background panel) and images (heat strips, tiles), once each,
    skipping fully transparent ones. Texts are checked as texts (their glyph boxes)."""
    found, seen = [], set()

    def visit(mob):
        if id(mob) in seen or is_text(mob):
            return
        seen.add(id(mob))
        if isinstance(mob, ImageMobject):
            if mob.pixel_array[:, :, 3].max() > 2:
                found.append(mob)
        elif isinstance(mob, VMobject) and len(mob.points) and (
                mob.get_fill_opacity() > 0.01 or mob.get_stroke_opacity() > 0.01 and mob.get_stroke_width() > 0):
            found.append(mob)
        for sub in mob.submobjects:
            visit(sub)

    for top in scene.mobjects:
        visit(top)
    return found


def extent(mob):
    """(left, bottom, right, top) of a text's glyphs, an image's picture or a shape's points."""
    if is_text(mob):
        return box(mob)
    if isinstance(mob, ImageMobject):
        (left, bottom, _), (right, top, _) = mob.get_corner(DL), mob.get_corner(UR)
        return left, bottom, right, top
    points = mob.points
    return points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()


def shape_label(mob):
    return repr(label(mob)) if is_text(mob) else type(mob).__name__


def misplaced(scene, texts, tolerance=1e-3):
    """Shapes and images past the frame's edges, and anything drawn (text or not) on the caption
    line: from the frame's bottom margin up to scene.caption_top(), the room place_below and
    fill_region keep free, while a caption is on screen."""
    half_w, half_h = config.frame_width / 2 + tolerance, config.frame_height / 2 + tolerance
    shapes = visible_shapes(scene)
    bad = []
    for mob in shapes:
        left, bottom, right, top = extent(mob)
        if left < -half_w or right > half_w or bottom < -half_h or top > half_h:
            bad.append(f"outside the frame: {shape_label(mob)} at x {left:.2f}..{right:.2f}, "
                       f"y {bottom:.2f}..{top:.2f}")
    caption = getattr(scene, "caption", None)
    if caption is None or caption not in scene.mobjects:
        return bad
    own = {id(mob) for mob in caption.get_family()}
    line_top = scene.caption_top()
    for mob in [*texts, *shapes]:
        if id(mob) in own:
            continue
        left, bottom, right, top = extent(mob)
        if bottom < line_top - 0.01 and top > -half_h:
            bad.append(f"on the caption line: {shape_label(mob)} at y {bottom:.2f}..{top:.2f} "
                       f"(content stays above y {line_top:.2f}, scene.caption_top())")
    return bad


# -- one scene, rendered once, everything recorded ------------------------------------------------

@dataclass(frozen=True)
class Number:
    """A number on screen: what it reads, and what its text says it stands for."""

    text: str
    value: float
    meaning: tuple


@dataclass
class Section:
    name: str
    words: list = field(default_factory=list)  # every visible text, as it reads
    numbers: list = field(default_factory=list)  # Numbers that carry their meaning
    untagged: list = field(default_factory=list)  # numbers in the number font that do not say what they show
    typed: list = field(default_factory=list)  # (text, digits): digits in a text from no tagged number or table
    problems: list = field(default_factory=list)  # legibility problems


@dataclass
class SceneReport:
    scene: str
    sections: list  # Sections, in order
    keys: set  # every string key the scene asked for
    missing_keys: set  # those no language's table has (or some table lacks)
    duration: float  # seconds at the scene's pace
    colours: int  # distinct colours in the last frame (a blank frame has one or two)
    script: list  # (line ID, written, spoken) of every caption line: what a narrator is handed

    def section(self, name):
        """The section whose name ends with ".name" (sections are named Scene.beat)."""
        return next(s for s in self.sections if s.name.endswith("." + name))

    def numbers(self):
        return [number for section in self.sections for number in section.numbers]

    def words(self):
        return [word for section in self.sections for word in section.words]



# -- the checks every catalog scene must pass (each returns its problems, one line each) ------------

def render_problems(report):
    """A scene renders as a video needs: a picture at the end, several beats, a sane length."""
    problems = []
    if report.colours <= 2:
        problems.append("the last frame is blank")
    if len(report.sections) < 2:
        problems.append(f"{len(report.sections)} section: every beat is a section, and a scene has several")
    if not 5 <= report.duration <= 30:
        problems.append(f"lasts {report.duration:.1f} s at pace 1 (5 to 30 s expected)")
    return problems


def legibility_problems(report):
    """At the end of every section: every text, shape and image inside the frame and off the
    caption line (but the caption), no two texts overlapping, nothing undrawable or too small,
    nothing over the corner map."""
    return [f"section {s.name!r}: {p}" for s in report.sections for p in s.problems]


TABLE_FILES = {"en": "scenes/strings.py", "ja": "scenes/strings_ja.py"}  # where each language's table is


def key_problems(report):
    """Every string key the scene asked for is in every language's table."""
    def lacking(key):
        return ", ".join(TABLE_FILES.get(language, f"the {language!r} table in scenes/strings.py")
                         for language, table in STRINGS.items() if key not in table)

    return [f"uses the string key {key!r}, which a string table lacks: add it to {lacking(key)}"
            for key in sorted(report.missing_keys)]


def untagged_problems(report):
    """Every number on screen says what it shows (tests/meanings.py then checks its value),
    digits in a sentence included: those come through a string table's placeholder."""
    return [f"section {s.name!r}: a number that says nothing of where it comes from: {t!r}"
            for s in report.sections for t in s.untagged] + \
        [f"section {s.name!r}: {text!r} has the digits {digits!r} typed into it: tag the number "
         f"(kit.numbers.value_text with its meaning) or put it in a string table placeholder (scenes/strings.py)"
         for s in report.sections for text, digits in s.typed]


def check_scene(info, trace, directory, options=SceneOptions()):
    """Render catalog entry `info` on `trace` and record what every section ends with."""
    number_font = get_theme(options.theme).number_font
    sections, keys, missing = [], set(), set()
    sources = set(trace_texts(trace))  # and every text the string table gave the scene, as it asks

    def on_say(key):
        keys.add(key)
        if any(key not in table for table in STRINGS.values()):
            missing.add(key)
        return None if key in STRINGS["en"] else f"<{key}>"  # keep rendering, to report every problem

    def on_said(text):
        if DIGITS.search(text):
            sources.update([text, *template_parts(text)])

    def on_section_end(scene, name):
        texts = visible_texts(scene)
        section = Section(name, words=[label(t) for t in texts])
        for text in texts:
            if hasattr(text, "meaning"):
                section.numbers.append(Number(label(text), text.value, text.meaning))
            elif getattr(text, "font", None) == number_font and parse(label(text)) is not None:
                section.untagged.append(label(text))
            else:
                section.typed += [(label(text), digits) for digits in typed_numbers(text, sources)]
        section.problems = [problem for check in LEGIBILITY_CHECKS for problem in check(texts)]
        section.problems += covering_the_corner_map(scene, texts) + misplaced(scene, texts)
        sections.append(section)

    scene_class = info.load().bind(trace, options)
    scene_class.info = info  # its corner map, when the scene is a test's and not in CATALOG
    scene = render(scene_class, directory, on_section_end=on_section_end, on_say=on_say, on_said=on_said)
    pixels = scene.renderer.get_frame()
    colours = len(np.unique(np.ascontiguousarray(pixels).view(np.uint32)))  # one RGBA pixel a uint32: a quick sort
    return SceneReport(info.name, sections, keys, missing, scene.renderer.time, colours, scene.script)
