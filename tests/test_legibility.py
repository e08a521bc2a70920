"""Legibility of every catalog scene on every test trace, at the end of every section: every
text inside the frame, no two texts overlapping, no character that would draw as an empty
gap or a white box, nothing shrunk below a legible size.

The traces include prompts the scenes never see specially (Japanese, emoji, markup and
LaTeX characters, tabs and newlines, a prompt too long to show whole: see
scene_checks.TRICKY_PROMPTS) and GPT-2 small's shape (12 heads of 64 dimensions).
"""

import pytest
from scene_checks import legibility_problems, outside_frame, overlapping, scene_cases, undrawable

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
