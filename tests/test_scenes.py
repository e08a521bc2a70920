"""Every scene of the catalog renders on every test trace, speaks from the string table,
and never imports torch; plus what particular scenes must show, and the kit's text rules."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scene_checks import key_problems, render, render_problems, scene_cases

from scenes.base import SceneOptions
from scenes.catalog import CATALOG, get
from scenes.kit.numbers import fmt_percent, fmt_value
from scenes.kit.text import display_text, wrap_columns
from scenes.kit.tokens import window
from scenes.strings import STRINGS, say
from scenes.views import hex_bytes, split_characters

ROOT = Path(__file__).resolve().parents[1]


# -- every scene, on every trace --------------------------------------------------------------

@pytest.mark.parametrize("info, trace_name, options", scene_cases(CATALOG))
def test_scene_renders(info, trace_name, options, scene_report):
    problems = render_problems(scene_report(info, trace_name, options))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("info, trace_name, options", scene_cases(CATALOG))
def test_every_string_key_a_scene_uses_exists(info, trace_name, options, scene_report):
    report = scene_report(info, trace_name, options)
    assert report.keys, "the scene asked for no string: the check would pass anything"
    problems = key_problems(report)
    assert not problems, "\n".join(problems)


def test_pace_and_theme_are_honoured(nano_sort_trace, tmp_path):
    title = get("title").load()
    normal = render(title.bind(nano_sort_trace), tmp_path / "a")
    slow = render(title.bind(nano_sort_trace, SceneOptions(theme="light", pace=2.0)), tmp_path / "b")
    assert slow.renderer.time == pytest.approx(2 * normal.renderer.time)
    corner = slow.renderer.get_frame()[0, 0, :3]
    assert corner.mean() > 200, "the light theme has a light background"
    assert normal.renderer.get_frame()[0, 0, :3].mean() < 60


def test_scenes_without_generated_tokens(scene_report):
    """Prediction falls back to the most probable token; the loop says nothing was generated
    (gpt2_twelve_trace generated nothing)."""
    for name, key in (("prediction", "prediction.no_steps"), ("loop", "loop.no_steps")):
        assert say("en", key) in scene_report(get(name), "gpt2_twelve_trace").words()


# -- what particular scenes show ------------------------------------------------------------------

def test_embeddings_print_the_traced_values(gpt2_trace, scene_report):
    report = scene_report(get("embeddings"), "gpt2_trace")
    shown = report.words()
    last = gpt2_trace.n_prompt_tokens - 1
    for name in ("hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre"):
        for value in gpt2_trace[name][last][:6]:
            assert fmt_value(value) in shown, f"{name} value {value} not on screen"
    assert str(gpt2_trace.token_ids[last]) in " ".join(shown)


def test_prediction_shows_the_real_probabilities(nano_sort_trace, scene_report):
    shown = scene_report(get("prediction"), "nano_sort_trace").words()
    step = nano_sort_trace.steps[0]
    for candidate in step["candidates"]:
        assert fmt_percent(candidate["prob"]) in shown
        assert fmt_value(candidate["logit"]) in shown
    assert step["chosen"]["token"] in shown


def test_tokens_show_every_id_and_split_bytes(tricky_traces, scene_report):
    trace = tricky_traces["japanese"]
    shown = scene_report(get("tokens"), "tricky:japanese").words()
    for token_id in trace.token_ids[: trace.n_prompt_tokens]:
        assert str(token_id) in shown
    splits = split_characters(trace.token_bytes[: trace.n_prompt_tokens])
    assert splits, "the Japanese prompt has characters split over byte pieces"
    for char, raw, _, _ in splits:
        assert say("en", "tokens.char_bytes", char=char, hex=hex_bytes(raw)) in shown


def test_sampling_shows_u_in_the_chosen_slice(scene_report, scene_trace):
    """The draw: u, and the chosen token's slice of [0, 1) around it, as the tracer drew it."""
    report = scene_report(get("sampling"), "tricky:long")
    shown = {number.meaning[0]: number.value for number in report.section("draw").numbers}
    step = scene_trace("tricky:long").steps[0]
    assert shown["draw"] == step["draw"]
    assert shown["slice_start"] <= shown["draw"] < shown["slice_end"]
    assert say("en", "sampling.greedy") in scene_report(get("sampling"), "nano_sort_trace").words()


def test_the_stack_shows_every_layer_and_the_final_guess(nano_sort_trace, scene_report):
    report = scene_report(get("layers"), "nano_sort_trace")
    lens = [n for n in report.section("forms").numbers if n.meaning[0] == "lens_prob"]
    assert [n.meaning[1] for n in lens] == list(range(nano_sort_trace.n_layers + 1))  # embeddings + each layer
    assert "A" in report.words()  # nano-sort's guess after layer 1 on "CBABBC": the first sorted letter


# -- words come from the string table ------------------------------------------------------------


def twin_keys(table):
    """Keys of a table that hold the same text, in groups."""
    keys_of = {}
    for key, text in table.items():
        keys_of.setdefault(text, []).append(key)
    return [keys for keys in keys_of.values() if len(keys) > 1]


def test_one_string_per_sentence():
    """No two keys of a table hold the same text: a sentence said twice is one key."""
    for language, table in STRINGS.items():
        twins = twin_keys(table)
        assert not twins, f"{language}: the same text under several keys: {twins}"


# -- scenes never run the model -------------------------------------------------------------------

def imports_nothing_of(modules, forbidden):
    """Import `modules` in a fresh interpreter; the forbidden modules it imported."""
    code = "; ".join(f"import {m}" for m in modules) + (
        f"; import sys; print([m for m in {list(forbidden)!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])


def test_scene_modules_do_not_import_torch():
    kit = [f"scenes.kit.{path.stem}" for path in (ROOT / "scenes" / "kit").glob("*.py") if path.stem != "__init__"]
    modules = ["scenes.base", "scenes.views", "scenes.theme", "scenes.strings", *kit,
               *(info.module for info in CATALOG)]
    assert imports_nothing_of(modules, ("torch", "transformers")) == []


def test_views_do_not_import_manim():
    """views.py and readouts.py derive numbers: NumPy only, so they can be read and tested without Manim."""
    assert imports_nothing_of(["scenes.views", "scenes.readouts"], ("manim", "torch")) == []


# -- the kit's text and token rules -----------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("a\tb\nc", "a⇥b↵c"),
    ("I ❤️ 😀 pizza", "I U+2764 U+FE0F U+1F600 pizza"),
    ('<b>&{}\\%$ "quotes"', '<b>&{}\\%$ "quotes"'),
    ("日本語", "日本語"),
    ("x\x00y", "x U+0000 y"),
])
def test_display_text_never_leaves_a_gap(text, shown):
    assert display_text(text) == shown


def test_visible_spaces_in_pieces():
    assert display_text(" the", visible_spaces=True) == "␣the"
    assert display_text(" 😀", visible_spaces=True) == "␣U+1F600"


def test_split_characters_finds_the_pieces_of_a_character():
    pieces = [[0xE6, 0x97], [0xA5, 0x41], [0x42]]  # 日 split over two pieces, then "A", "B"
    assert split_characters(pieces) == [("日", b"\xe6\x97\xa5", 0, 1)]
    assert split_characters([[0x41], [0x42]]) == []


def test_number_formats():
    assert fmt_value(-0.1234) == "−0.12"
    assert fmt_value(-0.001) == "0.00"  # no "negative zero"
    assert fmt_percent(0.9999) == "99.99%"
    assert fmt_percent(0.000152) == "0.015%"  # a random model's tiny probabilities stay apart
    assert fmt_percent(3.9e-5) == "0.0039%"
    assert fmt_percent(0.0002) == "0.020%"  # same width as its neighbours: the trailing zero stays


def test_window_keeps_the_ends_and_marks_the_gap():
    assert window(5, 10) == [0, 1, 2, 3, 4]
    shown = window(40, 20)
    assert len(shown) == 20 and shown[0] == 0 and shown[-1] == 39 and shown.count(None) == 1
    assert window(40, 16, head=1, tail=11) == [0, None, *range(29, 40)]  # the attention scenes' window
    assert window(14, 16, head=1, tail=11) == list(range(14))


def test_wrap_columns_counts_wide_characters_twice():
    assert wrap_columns("日本語の文章", 6, 5) == ["日本語", "の文章"]
    lines = wrap_columns("one two three four five six", 9, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")


def test_numbers_keep_their_columns_with_four_integer_digits():
    """GPT-2's residual stream reaches thousands (dimension 447 near 3000): a VectorRow of
    such values keeps its numbers right-aligned in equal columns, apart from each other."""
    from scene_checks import overlapping

    from scenes.kit.vectors import VectorRow
    from scenes.theme import get_theme

    values = [3012.57, -0.5, 12.25, -1234.0, 0.01]
    row = VectorRow(get_theme("dark"), values, [("trace", "x", (0, d)) for d in range(5)], size=24)
    rights = [number.get_right()[0] for number in row.numbers]
    assert np.allclose(np.diff(rights), rights[1] - rights[0], atol=1e-3)
    assert not overlapping(list(row.numbers))
    assert [number.original_text for number in row.numbers] == ["3012.57", "−0.50", "12.25", "−1234.00", "0.01"]


# every kind of text the scenes draw: prose, kana and kanji, right-to-left and combining scripts,
# lines, a bold strutted label, the number font, spaces alone, a colour and a size of its own
GLYPH_TEXTS = [("The quick brown fox, jumps!", {}), ("日本語の文章、残差を足す", {"font": "Noto Sans CJK JP"}),
               ("\u200eשלום עולם, this is mixed", {}), ("\u200eمرحبا بالعالم", {}), ("नमस्ते दुनिया", {}),
               ("สวัสดีชาวโลก", {}), ("line one\nline two", {"line_spacing": 0.75}), ("|label|", {"weight": "BOLD"}),
               ("−0.123 4.5e9", {"font": "DejaVu Sans Mono"}), ("   ", {}), ("q·k / √d", {"color": "#ff8800", "font_size": 20})]


@pytest.mark.parametrize("text, options", GLYPH_TEXTS, ids=[text[:12] for text, _ in GLYPH_TEXTS])
def test_a_glyph_text_is_the_text_manim_builds(text, options):
    """GlyphText (each glyph converted once, then copied and moved) draws what Manim's Text does:
    the same glyphs in the same order, at the same points (a float's last bits aside), the same
    colours; and a text drawn again, now from the converted glyphs, is the same once more."""
    from manim import Text

    from scenes.kit.text import GlyphText

    expected = Text(text, **options).family_members_with_points()
    for _ in range(2):  # converting the glyphs, then copying them
        glyphs = GlyphText(text, **options).family_members_with_points()
        assert len(glyphs) == len(expected)
        for glyph, manims in zip(glyphs, expected):
            assert glyph.points.shape == manims.points.shape
            assert np.allclose(glyph.points, manims.points, rtol=0, atol=1e-9)
            assert np.array_equal(glyph.get_fill_rgbas(), manims.get_fill_rgbas())
            assert np.array_equal(glyph.get_stroke_rgbas(), manims.get_stroke_rgbas())
            assert glyph.get_stroke_width() == manims.get_stroke_width()
