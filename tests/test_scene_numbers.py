"""Every number on screen is the Trace's own, in every catalog scene, on every test trace.

At the end of every section the report collects the numbers on screen. Every number is a
Text that says what it shows (`.meaning`, see scenes/kit/numbers.py); the expected value
is computed again, independently, from the Trace's raw arrays (tests/meanings.py), and the
text must read that value as the scene writes it. A number in the number font without a
meaning fails the test, and so do digits in any other text that come from neither the
string table (a sentence's placeholders, filled by the scene) nor the Trace's own text (the
prompt, its pieces, the model's name): nothing on screen is made up.
"""

import pytest
from meanings import MEANINGS, wrong_numbers
from scene_checks import scene_cases, untagged_problems

from scenes.catalog import CATALOG


@pytest.mark.parametrize("info, trace_name, options", scene_cases(CATALOG))
def test_every_number_on_screen_is_the_traces_own(info, trace_name, options, scene_report, scene_trace):
    report = scene_report(info, trace_name, options)
    problems = untagged_problems(report) + wrong_numbers(scene_trace(trace_name), report.numbers())
    assert not problems, "\n".join(problems)
    if info.follows is not None:  # the deep dive is made of numbers
        assert len(report.numbers()) >= 10, f"{info.name} showed only {len(report.numbers())} numbers"


def test_the_checks_see_numbers_of_every_kind(scene_report):
    """Across the storyboard on nano-sort and on a long (windowed) prompt, every kind in the
    table shows up at least once (a kind no scene uses any more is a stale line of the table)."""
    kinds = {number.meaning[0] for info in CATALOG for trace_name in ("nano_sort_trace", "tricky:long")
             for number in scene_report(info, trace_name).numbers()}
    assert kinds == set(MEANINGS), f"never seen: {set(MEANINGS) - kinds}; unknown: {kinds - set(MEANINGS)}"


@pytest.mark.parametrize("shown, sources, typed", [
    ("layer 3 of 12", {"layer 3 of 12"}, []),  # the string table's text, placeholders filled
    ("3 layers   ·   4 heads", {"3 layers", "4 heads"}, []),  # texts of the table joined
    ("the value is 3.14 here", {"layer 3"}, ["3.14"]),  # typed into the scene
    ("3", {"3 layers"}, ["3"]),  # a part of a sentence, alone on one line: not the sentence
    ("ID 123", {"ID 12"}, ["123"]),  # more digits than the text it came from
    ("the prompt has 12\nwords in it", {"the prompt has 12 words in it"}, []),  # wrapped into lines
    ("Step 12 of the long…", {"Step 12 of the long sentence"}, []),  # cut with an ellipsis
], ids=["said", "joined", "typed", "a part alone", "more digits", "wrapped", "cut"])
def test_digits_in_a_text_come_from_the_table_or_the_trace(shown, sources, typed):
    from types import SimpleNamespace

    from scene_checks import typed_numbers

    assert typed_numbers(SimpleNamespace(original_text=shown), sources) == typed


def test_a_templates_own_digits_are_the_tables_between_its_placeholders():
    """The map writes a line's words and sizes apart (kit.diagram.size_line): the words between
    the placeholders of a said text are the table's, and their digits too."""
    from types import SimpleNamespace

    from scene_checks import template_parts, typed_numbers

    said = "残差ストリーム：1トークンあたり{d}個の数"
    assert template_parts(said) == ["残差ストリーム：1トークンあたり", "個の数"]
    piece = SimpleNamespace(original_text="残差ストリーム：1トークンあたり")
    assert typed_numbers(piece, {said}) == ["1"] and typed_numbers(piece, {said, *template_parts(said)}) == []
    assert template_parts("a { b") == []
