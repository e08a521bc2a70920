"""The attention deep dive: the arithmetic a viewer can check on screen adds up, and the
scenes follow the layer and head they say they follow.

The numbers themselves are checked against the Trace in test_scene_numbers.py (every
scene); these tests read the same reports (each scene rendered once per trace).
"""

import numpy as np
import pytest
from scene_checks import parse

from scenes.base import SceneOptions
from scenes.catalog import get
from scenes.kit.numbers import MINUS_INFINITY, mono
from scenes.strings import say
from scenes.theme import get_theme
from scenes.views import choose_head

TRACES = ["nano_sort_trace", "gpt2_twelve_trace"]


@pytest.mark.parametrize("trace_name", TRACES)
def test_the_grid_has_every_pair(trace_name, scene_report, scene_trace):
    n = scene_trace(trace_name).n_prompt_tokens
    dots = [t for t in scene_report(get("dot-products"), trace_name).section("grid").numbers if t.meaning[0] == "dot"]
    assert len(dots) == n * n
    masked = [t for t in scene_report(get("causal-mask"), trace_name).section("mask").numbers
              if t.meaning[0] == "masked"]
    assert len(masked) == n * (n - 1) // 2
    assert all(t.meaning[4] > t.meaning[3] for t in masked), "only the future is masked"
    assert {t.text for t in masked} == {MINUS_INFINITY}


@pytest.mark.parametrize("trace_name", TRACES)
def test_the_worked_dot_product_adds_up_to_its_cell(trace_name, scene_report):
    texts = scene_report(get("dot-products"), trace_name).section("cell").numbers
    terms = [t for t in texts if t.meaning[0] in ("term", "terms_rest")]
    total = [t for t in texts if t.meaning[0] == "dot"]
    assert len(total) == 1 and len(terms) >= 2
    assert {t.meaning[1:5] for t in terms} == {total[0].meaning[1:5]}, "the terms belong to the cell"
    written = sum(parse(t.text) for t in terms)
    assert written == pytest.approx(parse(total[0].text), abs=0.005 * (len(terms) + 1))


@pytest.mark.parametrize("trace_name", TRACES)
def test_every_softmax_row_on_screen_adds_up_to_one(trace_name, scene_report, scene_trace):
    n = scene_trace(trace_name).n_prompt_tokens
    texts = scene_report(get("softmax"), trace_name).section("pattern").numbers
    everything = tuple(range(n))
    rows = {}
    for text in texts:
        kind = text.meaning[0]  # the corner map's sizes ("config") are no part of a row
        if kind == "pattern" or (kind == "pattern_sum" and text.meaning[4] != everything):
            rows.setdefault(text.meaning[3], []).append(parse(text.text))
    assert len(rows) == n
    for query, values in rows.items():
        assert sum(values) == pytest.approx(1.0, abs=0.005 * len(values)), f"row {query}: {values}"
    sums = [t for t in texts if t.meaning[0] == "pattern_sum" and t.meaning[4] == everything]
    assert len(sums) == len(rows) and {t.text for t in sums} == {"1.00"}


@pytest.mark.parametrize("trace_name", TRACES)
def test_the_weighted_values_add_up_to_z(trace_name, scene_report):
    texts = scene_report(get("weighted-values"), trace_name).section("sum").numbers
    z = {t.meaning[2][2]: parse(t.text) for t in texts if t.meaning[0] == "trace" and t.meaning[1].endswith("hook_z")}
    parts = [t for t in texts if t.meaning[0] in ("weighted", "weighted_sum")]
    assert z and parts
    for d, value in z.items():
        column = [parse(t.text) for t in parts if t.meaning[5] == d]
        assert sum(column) == pytest.approx(value, abs=0.005 * (len(column) + 1))


def why(key, layer, head):
    """The start of the line that says which head and why (what the head does follows it)."""
    return say("en", key, layer=layer, head=head, does="").removesuffix(".")


def test_the_first_scenes_say_which_head_and_why(nano_sort_trace, scene_report):
    choice = choose_head(nano_sort_trace)
    for scene_name in ("layernorm", "qkv"):
        words = scene_report(get(scene_name), "nano_sort_trace").words()
        assert any(w.startswith(why("attention.why_rule", choice.layer, choice.head)) for w in words)


def test_layer_and_head_options_are_followed(scene_report):
    options = SceneOptions(layer=0, head=2)
    report = scene_report(get("qkv"), "nano_sort_trace", options)
    numbers = [t for t in report.numbers() if t.meaning[0] != "config"]  # the corner map's sizes follow no head
    assert numbers and all(t.meaning[1].startswith("blocks.0.") and t.meaning[2][1] == 2 for t in numbers)
    assert any(w.startswith(why("attention.why_user", 0, 2)) for w in report.words())
    words = scene_report(get("softmax"), "nano_sort_trace", options).words()
    assert say("en", "attention.tag", layer=0, head=2) in words  # every scene says which head it shows
    assert not any(w.startswith(why("attention.why_user", 0, 2)) for w in words)  # the why: the first scenes


@pytest.mark.parametrize("content", ["−12.34", "0.05", MINUS_INFINITY, "1.23e+05", "1.00"])
def test_quick_numbers_are_the_same_texts_as_built_ones(content):
    """kit.numbers.mono composes numbers from cached glyphs (Manim internals): it must draw
    exactly what Manim's Text builds, at the same size, and say the same text."""
    from manim import Text

    theme = get_theme("dark")
    quick = mono(theme, content, size=24, color=theme.accent)
    built = Text(content, font=theme.number_font, font_size=24, color=theme.accent)
    assert quick.original_text == built.original_text == content
    assert quick.font_size == pytest.approx(built.font_size)
    assert np.allclose(quick.get_all_points(), built.get_all_points(), atol=1e-6)
