"""Legibility of every catalog scene on every test trace, at the end of every section: every
text, shape and image (heat strips, tiles, boxes) inside the frame and none but the caption
on the caption line, no two texts overlapping, no character that would draw as an empty
gap or a white box, nothing shrunk below a legible size.

The traces include prompts the scenes never see specially (Japanese, Hebrew, Arabic,
Devanagari, Thai, emoji, markup and LaTeX characters, tabs and newlines, a prompt too long
to show whole: see scene_checks.TRICKY_PROMPTS) and GPT-2 small's shape (12 heads of 64
dimensions). A text cut off (fewer glyphs than letters) counts as illegible too.
"""

import pytest
from scene_checks import cut_off, legibility_problems, outside_frame, overlapping, scene_cases, undrawable

from scenes.catalog import CATALOG


def test_the_long_prompt_is_long_enough(tricky_traces):
    assert tricky_traces["long"].n_prompt_tokens >= 40


@pytest.mark.parametrize("info, trace_name, options", scene_cases(CATALOG))
def test_every_section_is_legible(info, trace_name, options, scene_report):
    report = scene_report(info, trace_name, options)
    assert len(report.sections) >= 2 and report.words(), "the check saw no text: it would pass anything"
    problems = legibility_problems(report)
    assert not problems, "\n".join(problems)


def test_the_checks_can_fail():
    """The overlap and frame checks catch a deliberately broken layout."""
    from manim import RIGHT, Text

    stray, twin = Text("stray", font_size=30).shift(9 * RIGHT), Text("twin", font_size=30)
    assert outside_frame([stray])
    assert overlapping([twin, twin.copy().shift(0.05 * RIGHT)])
    assert undrawable([Text("ok 😀", font_size=30)])
    # Pango lays a line that starts right to left out past its canvas: a short one vanishes.
    assert cut_off([Text("ש", font_size=30), Text("שלום", font_size=30)])


def test_right_to_left_words_draw_whole():
    """A Hebrew or Arabic piece, alone or starting a label, keeps every glyph (a one-letter
    piece once drew none, and the strutted label crashed)."""
    from scenes.kit.text import words
    from scenes.theme import get_theme

    theme = get_theme("dark")
    for text in ("ש", "שלום", "مرحبا", "ש  =  D7 A9", "שלום עולם, this is mixed", "שלום\nעולם"):
        for strut in (False, True):
            label = words(theme, text, strut=strut)
            assert label.original_text == text and not cut_off([label]), (text, strut)
