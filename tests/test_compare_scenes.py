"""The compare scenes (scenes/compare) rendered on two traces: every number on screen says which
trace it reads and reads it (tests/meanings.py recomputes it from the raw arrays of that trace,
or of both), every word comes from the string tables, and everything stays legible (the checks
of tests/scene_checks.py) at GPT-2 small's shape with two 40-token prompts, on a Japanese pair,
and in both themes."""

import numpy as np
import pytest
from meanings import wrong_pair_numbers
from scene_checks import LEGIBILITY_CHECKS, label, parse, render, render_problems, visible_texts

from scenes.base import SceneOptions
from scenes.compare.catalog import COMPARE_CATALOG
from scenes.strings import STRINGS
from scenes.theme import get_theme

# Two prompts of at least 40 GPT-2 tokens with " bank" at different places (and a different
# number of tokens before it), and a Japanese pair whose shared word is split into byte pieces.
LONG_A = ("After a long walk along the muddy river in the cold morning rain, the tired children finally sat "
          "down on the grassy bank and watched the ducks swim past the old stone bridge until the sun set "
          "behind the hills")
LONG_B = ("The bank raised its interest rates again this spring, and many families who had borrowed money to "
          "buy their first homes now worried about the monthly payments they would have to make next year and "
          "for many years after that")
JAPANESE = ("川の岸辺に座って、流れる水と花を見ていた", "駅前の銀行の岸辺支店で新しい口座を作った", "岸辺")


@pytest.fixture(scope="module")
def pairs(gpt2_small_shaped, gpt2_vocab_checkpoint, tmp_path_factory):
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.testing import build_random_checkpoint, real_gpt2_tokenizer

    small = load_model(str(gpt2_small_shaped))
    vocab = load_model(str(gpt2_vocab_checkpoint))
    # GPT-2 XL's 48 layers and 25 heads, narrow: the drift shows every layer
    deep = load_model(str(build_random_checkpoint(tmp_path_factory.mktemp("deep"), real_gpt2_tokenizer(), n_layer=48,
                                                  n_head=25, n_embd=100, n_positions=128)))
    long_pair = (trace_prompt(small, LONG_A), trace_prompt(small, LONG_B))
    assert min(t.n_prompt_tokens for t in long_pair) >= 40
    return {
        "long": (*long_pair, None),
        "japanese": (trace_prompt(small, JAPANESE[0]), trace_prompt(small, JAPANESE[1]), JAPANESE[2]),
        "small": (trace_prompt(vocab, "We walked along the river bank"),
                  trace_prompt(vocab, "She put her money in the bank"), None),
        "deep": (trace_prompt(deep, "We walked along the river bank"),
                 trace_prompt(deep, "She put her money in the bank"), None),
    }


class Shown:
    """A number on screen with which trace it reads."""

    def __init__(self, text):
        self.text, self.value, self.meaning = label(text), text.value, text.meaning
        self.source = getattr(text, "source", None)


def check_compare_scene(info, a, b, word, directory, options):
    """Render a compare scene; per section its numbers (Shown), untagged numbers, legibility
    problems and words; the string keys it asked for; its length; colours of the last frame."""
    number_font = get_theme(options.theme).number_font
    report = {"sections": [], "keys": set()}

    def on_say(key):
        report["keys"].add(key)
        return None

    def on_section_end(scene, name):
        texts = visible_texts(scene)
        numbers = [Shown(t) for t in texts if hasattr(t, "meaning")]
        untagged = [label(t) for t in texts if not hasattr(t, "meaning") and getattr(t, "font", None) == number_font
                    and parse(label(t)) is not None]
        problems = [problem for check in LEGIBILITY_CHECKS for problem in check(texts)]
        report["sections"].append(dict(name=name, numbers=numbers, untagged=untagged, problems=problems,
                                       words=[label(t) for t in texts]))

    scene = render(info.load().bind_pair(a, b, options, word=word), directory, on_section_end=on_section_end,
                   on_say=on_say)
    pixels = scene.renderer.get_frame()
    report["duration"] = scene.renderer.time
    report["colours"] = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0]
    report["pair"] = scene.pair
    return report


CASES = [(info, pair, SceneOptions(language=language, theme=theme))
         for info in COMPARE_CATALOG
         for pair, language, theme in (("long", "en", "dark"), ("long", "ja", "light"), ("japanese", "ja", "dark"),
                                       ("small", "en", "light"))] + \
    [(info, "deep", SceneOptions()) for info in COMPARE_CATALOG if info.name in ("compare-attention", "compare-drift")]


@pytest.fixture(scope="module")
def reports(pairs, tmp_path_factory):
    done = {}

    def get(info, pair, options):
        key = (info.name, pair, options)
        if key not in done:
            a, b, word = pairs[pair]
            done[key] = check_compare_scene(info, a, b, word, tmp_path_factory.mktemp(info.name), options)
        return done[key]

    return get


@pytest.mark.parametrize("info, pair, options", CASES,
                         ids=[f"{i.name}-{p}-{o.language}-{o.theme}" for i, p, o in CASES])
def test_a_compare_scene_shows_both_traces_numbers_legibly(reports, pairs, info, pair, options):
    report = reports(info, pair, options)
    a, b, _ = pairs[pair]
    problems = [f"{s['name']}: {p}" for s in report["sections"] for p in s["problems"]]
    assert not problems, problems
    untagged = [u for s in report["sections"] for u in s["untagged"]]
    assert not untagged, f"numbers that do not say what they show: {untagged}"
    numbers = [n for s in report["sections"] for n in s["numbers"]]
    assert numbers, "a compare scene with no number of either trace"
    no_source = [n.meaning for n in numbers if n.source not in ("a", "b", "ab")]
    assert not no_source, f"numbers that do not say which trace they read: {no_source}"
    wrong = wrong_pair_numbers({"a": a, "b": b}, numbers)
    assert not wrong, wrong
    missing = [key for key in report["keys"] if any(key not in table for table in STRINGS.values())]
    assert not missing, missing
    shown = type("Report", (), {"colours": report["colours"], "sections": report["sections"],
                                "duration": report["duration"]})
    assert not render_problems(shown), render_problems(shown)


def sources(report, kind):
    return {n.source for s in report["sections"] for n in s["numbers"] if n.meaning[0] == kind}


def test_both_traces_are_read_and_said_apart(reports):
    """Each two-column scene shows numbers of A and of B, each tagged with its own trace (a scene
    that read A twice would fail here or in the values check)."""
    options = SceneOptions()
    by_name = {info.name: info for info in COMPARE_CATALOG}
    assert sources(reports(by_name["compare-tokens"], "long", options), "token_id") == {"a", "b"}
    assert sources(reports(by_name["compare-embedding"], "long", options), "trace") == {"a", "b"}
    assert sources(reports(by_name["compare-embedding"], "long", options), "cosine") == {"ab"}
    assert sources(reports(by_name["compare-attention"], "long", options), "pattern") == {"a", "b"}
    assert sources(reports(by_name["compare-prediction"], "long", options), "probability") == {"a", "b"}


def test_the_drift_shows_every_layer_and_the_word_at_its_own_positions(reports, pairs):
    info = next(i for i in COMPARE_CATALOG if i.name == "compare-drift")
    report = reports(info, "long", SceneOptions())
    a, b, _ = pairs["long"]
    pa, pb = report["pair"].positions["a"], report["pair"].positions["b"]
    assert a.tokens[pa] == b.tokens[pb] == "Ġbank" and pa > pb  # 24 tokens before it in A, 1 in B
    cosines = [n.meaning for s in report["sections"] for n in s["numbers"] if n.meaning[0] == "cosine"]
    names = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_post" for l in range(a.n_layers)]
    assert sorted({m[1] for m in cosines}) == sorted(names)  # x0 and every one of the 12 layers, written
    assert {(m[2], m[3]) for m in cosines} == {(pa, pb)}


def test_a_deep_model_shows_a_bar_for_every_layer(reports, pairs):
    info = next(i for i in COMPARE_CATALOG if i.name == "compare-drift")
    report = reports(info, "deep", SceneOptions())
    scene_pair = report["pair"]
    assert len(scene_pair.similarities) == 49  # x0 and 48 layers
    written = {n.meaning[1] for s in report["sections"] for n in s["numbers"] if n.meaning[0] == "cosine"}
    assert {"blocks.0.hook_resid_pre", "blocks.47.hook_resid_post"} <= written  # x0 and the last, at least
    ticks = {n.meaning[1] for s in report["sections"] for n in s["numbers"] if n.meaning[0] == "axis"}
    assert {4, 44, 47} <= ticks and not {2, 3, 5, 45} & ticks  # every 4th layer and the last (0, 1: the y axis)


def test_the_japanese_pair_follows_the_last_piece_of_the_word(reports, pairs):
    info = COMPARE_CATALOG[0]
    report = reports(info, "japanese", SceneOptions(language="ja"))
    a, b, word = pairs["japanese"]
    followed = report["pair"].followed
    (first_a, last_a), (first_b, last_b) = followed.spans
    assert a.text(first_a, last_a + 1).endswith(word) or word in a.text(first_a, last_a + 1)
    assert followed.positions == (last_a, last_b) and a.token_ids[last_a] == b.token_ids[last_b]
    assert any(word in text and str(last_a) in text for s in report["sections"] for text in s["words"])
