"""The scenes: each renders on the nano-sort and GPT-2 traces at the lowest settings, shows
the Trace's own numbers, speaks from the string table, and never imports torch."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scene_checks import render, visible_texts

from scenes import helpers
from scenes.base import SceneOptions
from scenes.catalog import CATALOG
from scenes.strings import STRINGS, say

SCENES_DIR = Path(__file__).resolve().parents[1] / "scenes"


# -- every scene renders --------------------------------------------------------------------

@pytest.mark.parametrize("trace_name", ["nano_sort_trace", "gpt2_trace"])
@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_scene_renders_its_last_frame(info, trace_name, request, tmp_path):
    trace = request.getfixturevalue(trace_name)
    sections = []
    scene = render(info.load().bind(trace), tmp_path, on_section_end=lambda s, name: sections.append(name))

    frames = list(tmp_path.rglob("*.png"))
    assert len(frames) == 1
    pixels = scene.renderer.get_frame()
    assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 2, "the last frame is blank"
    assert len([s for s in sections if s]) >= 2, "every beat is a section; a scene has several"
    assert 5 <= scene.renderer.time <= 30, f"{info.name} lasts {scene.renderer.time:.1f} s at pace 1"


def test_pace_and_theme_are_honoured(nano_sort_trace, tmp_path):
    title = CATALOG[0].load()
    normal = render(title.bind(nano_sort_trace), tmp_path / "a")
    slow = render(title.bind(nano_sort_trace, SceneOptions(theme="light", pace=2.0)), tmp_path / "b")
    assert slow.renderer.time == pytest.approx(2 * normal.renderer.time)
    corner = slow.renderer.get_frame()[0, 0, :3]
    assert corner.mean() > 200, "the light theme has a light background"
    assert normal.renderer.get_frame()[0, 0, :3].mean() < 60


def test_scenes_without_generated_tokens(gpt2_vocab_checkpoint, tmp_path):
    """Prediction falls back to the most probable token; the loop says nothing was generated."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "Hello world", generate=0)
    for name in ("prediction", "loop"):
        texts = []
        render(next(i for i in CATALOG if i.name == name).load().bind(trace), tmp_path / name,
               on_section_end=lambda scene, _: texts.extend(t.original_text for t in visible_texts(scene)))
        expected = say("en", "prediction.no_steps" if name == "prediction" else "loop.no_steps")
        assert expected in texts


# -- the numbers on screen are the Trace's ------------------------------------------------------

def texts_on_screen(scene_name, trace, directory):
    shown = []
    info = next(i for i in CATALOG if i.name == scene_name)
    render(info.load().bind(trace), directory,
           on_section_end=lambda scene, _: shown.extend(t.original_text for t in visible_texts(scene)))
    return shown


def test_embeddings_print_the_traced_values(gpt2_trace, tmp_path):
    shown = texts_on_screen("embeddings", gpt2_trace, tmp_path)
    last = gpt2_trace.n_prompt_tokens - 1
    for name in ("hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre"):
        for value in gpt2_trace[name][last][:6]:
            assert helpers.fmt_value(value) in shown, f"{name} value {value} not on screen"
    assert str(gpt2_trace.token_ids[last]) in " ".join(shown)


def test_prediction_shows_the_real_probabilities(nano_sort_trace, tmp_path):
    shown = texts_on_screen("prediction", nano_sort_trace, tmp_path)
    step = nano_sort_trace.steps[0]
    for candidate in step["candidates"]:
        assert helpers.fmt_percent(candidate["prob"]) in shown
        assert helpers.fmt_value(candidate["logit"]) in shown
    assert step["chosen"]["token"] in shown


def test_tokens_show_every_id_and_split_bytes(gpt2_vocab_checkpoint, tmp_path):
    from tracer.models import load_model
    from tracer.record import trace_prompt

    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "日本", generate=0)
    shown = texts_on_screen("tokens", trace, tmp_path)
    for token_id in trace.token_ids:
        assert str(token_id) in shown
    for char, raw, _, _ in helpers.split_characters(trace.token_bytes):
        assert say("en", "tokens.char_bytes", char=char, hex=helpers.hex_bytes(raw)) in shown


# -- words come from the string table ------------------------------------------------------------

def test_every_language_has_every_key():
    english = set(STRINGS["en"])
    for language, table in STRINGS.items():
        assert set(table) == english, f"{language} differs from en: {sorted(set(table) ^ english)}"


def test_every_key_a_scene_uses_exists():
    used = set()
    for path in SCENES_DIR.glob("*.py"):
        used |= set(re.findall(r'"((?:title|tokens|embeddings|prediction|loop)\.[a-z_]+)"', path.read_text()))
    assert used, "the scan found no keys: the pattern is out of date"
    assert used <= set(STRINGS["en"]), sorted(used - set(STRINGS["en"]))


# -- scenes never run the model -------------------------------------------------------------------

def test_scene_modules_do_not_import_torch():
    modules = ["scenes.helpers", "scenes.theme", "scenes.strings"] + [info.module for info in CATALOG]
    code = "; ".join(f"import {m}" for m in modules) + (
        "; import sys; bad = [m for m in ('torch', 'transformers') if m in sys.modules]; print(bad); "
        "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=SCENES_DIR.parent, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# -- helpers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("a\tb\nc", "a⇥b↵c"),
    ("I ❤️ 😀 pizza", "I U+2764 U+FE0F U+1F600 pizza"),
    ('<b>&{}\\%$ "quotes"', '<b>&{}\\%$ "quotes"'),
    ("日本語", "日本語"),
    ("x\x00y", "x U+0000 y"),
])
def test_display_text_never_leaves_a_gap(text, shown):
    assert helpers.display_text(text) == shown


def test_visible_spaces_in_pieces():
    assert helpers.display_text(" the", visible_spaces=True) == "␣the"
    assert helpers.display_text(" 😀", visible_spaces=True) == "␣U+1F600"


def test_split_characters_finds_the_pieces_of_a_character():
    pieces = [[0xE6, 0x97], [0xA5, 0x41], [0x42]]  # 日 split over two pieces, then "A", "B"
    assert helpers.split_characters(pieces) == [("日", b"\xe6\x97\xa5", 0, 1)]
    assert helpers.split_characters([[0x41], [0x42]]) == []


def test_number_formats():
    assert helpers.fmt_value(-0.1234) == "−0.12"
    assert helpers.fmt_value(-0.001) == "0.00"  # no "negative zero"
    assert helpers.fmt_percent(0.9999) == "99.99%"
    assert helpers.fmt_percent(0.000152) == "0.015%"  # a random model's tiny probabilities stay apart
    assert helpers.fmt_percent(3.9e-5) == "0.0039%"
    assert helpers.fmt_percent(0.0002) == "0.020%"  # same width as its neighbours: the trailing zero stays


def test_window_keeps_the_ends_and_marks_the_gap():
    assert helpers.window_indices(5, 10) == [0, 1, 2, 3, 4]
    shown = helpers.window_indices(40, 20)
    assert len(shown) == 20 and shown[0] == 0 and shown[-1] == 39 and shown.count(None) == 1


def test_wrap_columns_counts_wide_characters_twice():
    assert helpers.wrap_columns("日本語の文章", 6, 5) == ["日本語", "の文章"]
    lines = helpers.wrap_columns("one two three four five six", 9, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
