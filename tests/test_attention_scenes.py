"""The attention deep dive: every number a scene puts on screen is the Trace's own.

Each scene renders (animations skipped) on the nano-sort and GPT-2 traces; at the end of
every section the test collects the numbers on screen. Every number is a Text that says
what it shows (`.meaning`, see scenes/attention_parts.py); the expected value is computed
here again, independently, from the Trace's raw arrays, and the text must read that value
rounded to 2 decimals. Numbers without a meaning fail the test: nothing on screen is
made up. Then the arithmetic a viewer can check: the worked dot product adds up to its
cell, and every row of the softmax adds up to 1.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from scene_checks import outside_frame, overlapping, render, visible_texts
from test_frames import compare_last_frame, pinned
from test_legibility import too_small, undrawable

from scenes import helpers
from scenes.attention_choice import choose_head
from scenes.attention_parts import fmt_large
from scenes.base import SceneOptions
from scenes.catalog import CATALOG, get
from scenes.strings import STRINGS, say

ATTENTION_SCENES = ["layernorm", "qkv", "dot-products", "causal-mask", "softmax", "weighted-values", "all-heads"]
SCENES_DIR = Path(__file__).resolve().parents[1] / "scenes"


# -- what the numbers should be, from the raw arrays ----------------------------------------

def head_arrays(trace, layer, head):
    f64 = lambda key: np.asarray(trace.block(layer, key), dtype=np.float64)  # noqa: E731
    return f64("attn.hook_q")[:, head], f64("attn.hook_k")[:, head], f64("attn.hook_v")[:, head], \
        f64("attn.hook_attn_scores")[head], f64("attn.hook_pattern")[head]


def softmax_seen(trace, layer, head, query, scaled):
    q, k, *_ = head_arrays(trace, layer, head)
    row = k[: query + 1] @ q[query] / (np.sqrt(q.shape[-1]) if scaled else 1.0)
    e = np.exp(row - row.max())
    return e / e.sum()


def expected_value(trace, meaning):
    """The value a number with this meaning must show, computed from the Trace afresh."""
    kind = meaning[0]
    if kind == "scale":  # the end of a colour scale (0 or 1), not a value of the model
        return float(meaning[1])
    if kind == "trace":
        _, name, index = meaning
        return float(trace[name][index])
    if kind.startswith("ln_"):
        _, layer, position, what = meaning
        x = np.asarray(trace.block(layer, "hook_resid_pre")[position], dtype=np.float64)
        eps = trace.config["layer_norm_epsilon"]
        normalised = (x - x.mean()) / np.sqrt(x.var() + eps)
        if kind == "ln_normalised":
            return float(normalised[what])
        stage = {"before": x, "normalised": normalised,
                 "scaled": np.asarray(trace.block(layer, "ln1.hook_normalized")[position], dtype=np.float64)}[what]
        return float(stage.mean() if kind == "ln_mean" else stage.std())
    layer, head, query = meaning[1], meaning[2], meaning[3]
    q, k, v, scores, pattern = head_arrays(trace, layer, head)
    if kind == "dot":
        return float(q[query] @ k[meaning[4]])
    if kind == "scaled":
        return float(q[query] @ k[meaning[4]] / np.sqrt(q.shape[-1]))
    if kind == "term":
        key, d = meaning[4], meaning[5]
        return float(q[query, d] * k[key, d])
    if kind == "terms_rest":
        key, start = meaning[4], meaning[5]
        return float(q[query, start:] @ k[key, start:])
    if kind == "score":
        return float(scores[query, meaning[4]])
    if kind == "masked":
        return float(scores[query, meaning[4]])  # -inf: the mask is in the Trace
    if kind == "exp":
        return float(np.exp(scores[query, meaning[4]]))
    if kind == "exp_sum":
        return float(np.exp(scores[query, list(meaning[4])]).sum())
    if kind == "pattern":
        return float(pattern[query, meaning[4]])
    if kind == "pattern_sum":
        return float(pattern[query, list(meaning[4])].sum())
    if kind == "softmax":
        return float(softmax_seen(trace, layer, head, query, meaning[5])[meaning[4]])
    if kind == "softmax_sum":
        return float(softmax_seen(trace, layer, head, query, meaning[5])[list(meaning[4])].sum())
    if kind == "weighted":
        key, d = meaning[4], meaning[5]
        return float(pattern[query, key] * v[key, d])
    if kind == "weighted_sum":
        keys, d = list(meaning[4]), meaning[5]
        return float(pattern[query, keys] @ v[keys, d])
    raise AssertionError(f"a number with an unknown meaning: {meaning}")


def expected_text(meaning, value):
    if meaning[0] == "masked":
        return helpers.MINUS + "∞"
    if meaning[0] in ("exp", "exp_sum"):
        return fmt_large(value)
    if meaning[0] == "scale":
        return f"{value:g}"
    return helpers.fmt_value(value)


def parse(text):
    """The number a text reads, or None if it is not a plain number."""
    try:
        return float(text.strip().replace(helpers.MINUS, "-").replace("∞", "inf"))
    except ValueError:
        return None


# -- rendering and collecting -----------------------------------------------------------------

def numbers_on_screen(scene_name, trace, directory, options=SceneOptions(), found=None):
    """{section: [Text, ...]} of every visible number at the end of each section, plus the
    scene; numbers without a meaning are collected under None. With a list as `found`, the
    legibility problems of each section go into it."""
    numbers = {}

    def collect(scene, section):
        texts = visible_texts(scene)
        numbers[section] = [t for t in texts if hasattr(t, "meaning")]
        untagged = [t.original_text for t in texts if not hasattr(t, "meaning") and parse(t.original_text) is not None]
        numbers.setdefault(None, []).extend(untagged)
        if found is not None:
            where = f"{scene_name} / section {section!r}"
            found.extend(f"{where}: {problem}" for check in (outside_frame, overlapping, undrawable, too_small)
                         for problem in check(texts))

    scene = render(get(scene_name).load().bind(trace, options), directory, on_section_end=collect)
    return numbers, scene


def section(found, name):
    return next(texts for key, texts in found.items() if key is not None and key.endswith("." + name))


TWELVE_TOKENS = "Once upon a time, a small robot learned to read."  # 12 GPT-2 tokens


@pytest.fixture(scope="module")
def gpt2_twelve_trace(gpt2_small_shaped):
    """GPT-2 small's shape (12 heads of 64 dims) with random weights and the real tokenizer."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    trace = trace_prompt(load_model(str(gpt2_small_shaped)), TWELVE_TOKENS, generate=0)
    assert trace.n_prompt_tokens == 12
    return trace


@pytest.fixture(scope="module")
def shown(nano_sort_trace, gpt2_twelve_trace, tmp_path_factory):
    """Every attention scene, rendered once on each trace: {(trace name, scene): sections},
    and what a viewer would find wrong at the end of each section (see test_legibility)."""
    traces = {"nano_sort": nano_sort_trace, "gpt2": gpt2_twelve_trace}
    rendered, problems = {}, {}
    for trace_name, trace in traces.items():
        for scene_name in ATTENTION_SCENES:
            directory = tmp_path_factory.mktemp(f"{trace_name}-{scene_name}")
            found = problems[(trace_name, scene_name)] = []
            rendered[(trace_name, scene_name)] = numbers_on_screen(scene_name, trace, directory, found=found)[0]
    return traces, rendered, problems


def test_the_scenes_are_in_the_storyboard_between_embeddings_and_prediction():
    names = [info.name for info in CATALOG]
    start = names.index("embeddings") + 1
    assert names[start: start + len(ATTENTION_SCENES)] == ATTENTION_SCENES
    assert names[start + len(ATTENTION_SCENES)] == "prediction"


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
@pytest.mark.parametrize("scene_name", ATTENTION_SCENES)
def test_every_number_on_screen_is_the_traces_own(scene_name, trace_name, shown):
    traces, rendered, _ = shown
    trace, found = traces[trace_name], rendered[(trace_name, scene_name)]
    assert not found.get(None), f"numbers on screen that say nothing of where they come from: {found[None][:5]}"
    checked = 0
    for name, texts in found.items():
        for text in texts if name is not None else []:
            value = expected_value(trace, text.meaning)
            shown_text = text.original_text
            wanted = expected_text(text.meaning, value)
            # exact, except a value that sits on a rounding boundary (float32 vs float64) may round either way
            assert shown_text == wanted or (abs(text.value - value) < 1e-4 and shown_text == expected_text(
                text.meaning, text.value)), f"{name}: {text.meaning} shows {shown_text}, the Trace says {wanted}"
            checked += 1
    assert checked >= 10, f"{scene_name} showed only {checked} numbers"


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
def test_the_grid_has_every_pair(trace_name, shown):
    traces, rendered, _ = shown
    n = traces[trace_name].n_prompt_tokens
    dots = [t for t in section(rendered[(trace_name, "dot-products")], "grid") if t.meaning[0] == "dot"]
    assert len(dots) == n * n
    masked = [t for t in section(rendered[(trace_name, "causal-mask")], "mask") if t.meaning[0] == "masked"]
    assert len(masked) == n * (n - 1) // 2
    assert all(t.meaning[4] > t.meaning[3] for t in masked), "only the future is masked"


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
def test_the_worked_dot_product_adds_up_to_its_cell(trace_name, shown):
    _, rendered, _ = shown
    texts = section(rendered[(trace_name, "dot-products")], "cell")
    terms = [t for t in texts if t.meaning[0] in ("term", "terms_rest")]
    total = [t for t in texts if t.meaning[0] == "dot"]
    assert len(total) == 1 and len(terms) >= 2
    assert {t.meaning[1:5] for t in terms} == {total[0].meaning[1:5]}, "the terms belong to the cell"
    written = sum(parse(t.original_text) for t in terms)
    assert written == pytest.approx(parse(total[0].original_text), abs=0.005 * (len(terms) + 1))


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
def test_every_softmax_row_on_screen_adds_up_to_one(trace_name, shown):
    traces, rendered, _ = shown
    texts = section(rendered[(trace_name, "softmax")], "pattern")
    everything = tuple(range(traces[trace_name].n_prompt_tokens))
    rows = {}
    for text in texts:
        kind, query = text.meaning[0], text.meaning[3]
        if kind == "pattern" or (kind == "pattern_sum" and text.meaning[4] != everything):
            rows.setdefault(query, []).append(parse(text.original_text))
    assert len(rows) == traces[trace_name].n_prompt_tokens
    for query, values in rows.items():
        assert sum(values) == pytest.approx(1.0, abs=0.005 * len(values)), f"row {query}: {values}"
    sums = [t for t in texts if t.meaning[0] == "pattern_sum" and t.meaning[4] == everything]
    assert len(sums) == len(rows) and {t.original_text for t in sums} == {"1.00"}


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
def test_the_weighted_values_add_up_to_z(trace_name, shown):
    traces, rendered, _ = shown
    texts = section(rendered[(trace_name, "weighted-values")], "sum")
    z = {t.meaning[2][2]: parse(t.original_text) for t in texts
         if t.meaning[0] == "trace" and t.meaning[1].endswith("hook_z")}
    parts = [t for t in texts if t.meaning[0] in ("weighted", "weighted_sum")]
    assert z and parts
    for d, value in z.items():
        column = [parse(t.original_text) for t in parts if t.meaning[5] == d]
        assert sum(column) == pytest.approx(value, abs=0.005 * (len(column) + 1))


@pytest.mark.parametrize("trace_name", ["nano_sort", "gpt2"])
@pytest.mark.parametrize("scene_name", ATTENTION_SCENES)
def test_every_section_is_legible(scene_name, trace_name, shown):
    """In frame, no overlaps, nothing undrawable or too small; test_legibility.py checks the
    same on its tricky prompts (Japanese, emoji, markup, and a 40-token one, windowed)."""
    _, _, problems = shown
    assert not problems[(trace_name, scene_name)], "\n".join(problems[(trace_name, scene_name)])


def words_on_screen(scene_name, trace, directory, options=SceneOptions()):
    words = []
    render(get(scene_name).load().bind(trace, options), directory,
           on_section_end=lambda scene, _: words.extend(t.original_text for t in visible_texts(scene)))
    return words


def test_the_first_scenes_say_which_head_and_why(nano_sort_trace, tmp_path):
    choice = choose_head(nano_sort_trace)
    for scene_name in ("layernorm", "qkv"):
        words = words_on_screen(scene_name, nano_sort_trace, tmp_path / scene_name)
        assert say("en", "attention.why_rule", layer=choice.layer, head=choice.head) in words


def test_layer_and_head_options_are_followed(nano_sort_trace, tmp_path):
    options = SceneOptions(layer=0, head=2)
    found, _ = numbers_on_screen("qkv", nano_sort_trace, tmp_path / "qkv", options)
    texts = [t for name, ts in found.items() if name is not None for t in ts]
    assert texts and all(t.meaning[1].startswith("blocks.0.") and t.meaning[2][1] == 2 for t in texts)
    words = words_on_screen("qkv", nano_sort_trace, tmp_path / "qkv-words", options)
    assert say("en", "attention.why_user", layer=0, head=2) in words
    words = words_on_screen("softmax", nano_sort_trace, tmp_path / "softmax", options)
    assert say("en", "attention.tag", layer=0, head=2) in words  # every scene says which head it shows
    assert say("en", "attention.why_user", layer=0, head=2) not in words  # the why belongs to the first scenes


def test_every_key_the_attention_scenes_use_exists():
    prefixes = "attention|layernorm|qkv|dots|mask|softmax|weighted|heads"
    used = set()
    for module in {get(name).module for name in ATTENTION_SCENES} | {"scenes.attention_parts"}:
        path = SCENES_DIR / (module.split(".")[1] + ".py")
        used |= set(re.findall(rf'"((?:{prefixes})\.[a-z_]+)"', path.read_text()))
    assert len(used) > 20, "the scan found few keys: the pattern is out of date"
    assert used <= set(STRINGS["en"]), sorted(used - set(STRINGS["en"]))


def test_nano_sort_softmax_frame(nano_sort_trace, request, tmp_path):
    """The look of the pattern (pinned like tests/test_frames.py; regenerate the same way)."""
    compare_last_frame("nano_sort_softmax", *pinned("softmax", nano_sort_trace), request, tmp_path)


@pytest.mark.parametrize("content", ["−12.34", "0.05", helpers.MINUS + "∞", "1.23e+05", "1.00"])
def test_quick_numbers_are_the_same_texts_as_built_ones(content):
    """mono_copy composes numbers from cached glyphs (Manim internals): it must draw exactly
    what helpers.mono builds, at the same size, and say the same text."""
    from scenes.attention_parts import mono_copy
    from scenes.theme import get_theme

    theme = get_theme("dark")
    quick, built = mono_copy(theme, content, size=24, color=theme.accent), helpers.mono(theme, content, 24, theme.accent)
    assert quick.original_text == built.original_text == content
    assert quick.font_size == pytest.approx(built.font_size)
    assert np.allclose(quick.get_all_points(), built.get_all_points(), atol=1e-6)
