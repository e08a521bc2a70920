"""Legibility on prompts the scenes never see specially: Japanese, emoji, markup and LaTeX
characters, tabs and newlines, and a prompt too long to show whole.

Each prompt is traced with a small random model that has GPT-2's real tokenizer; every
scene renders with animations skipped, and at the end of every section the test checks
what a viewer would see: every text inside the frame, no two texts overlapping, and no
character that would draw as an empty gap or a white box.
"""

import unicodedata

import pytest
from scene_checks import label, outside_frame, overlapping, render, visible_texts

from scenes import helpers
from scenes.catalog import CATALOG

LONG_PROMPT = ("The teacher wrote a long sentence on the board, and the students copied every word of it "
               "into their notebooks before the bell rang at the end of the lesson.")

TRICKY_PROMPTS = {
    "japanese": ("日本語の文章", 3),
    "emoji": ("I ❤️ 😀 pizza", 3),
    "markup": ('<b>&{}\\%$ "quotes"', 3),
    "tabs": ("a\tb\nc", 3),
    "long": (LONG_PROMPT + " It was long, and nobody complained.", 10),  # 40+ tokens; 10 steps: more than the loop animates
}


@pytest.fixture(scope="module")
def tricky_traces(gpt2_vocab_checkpoint):
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    model = load_model(str(gpt2_vocab_checkpoint))
    return {name: trace_prompt(model, prompt, generate=steps, sampling=Sampling(seed=1))
            for name, (prompt, steps) in TRICKY_PROMPTS.items()}


def test_the_long_prompt_is_long_enough(tricky_traces):
    assert tricky_traces["long"].n_prompt_tokens >= 40


@pytest.mark.parametrize("prompt", TRICKY_PROMPTS)
@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_every_section_is_legible(info, prompt, tricky_traces, tmp_path):
    problems = []

    def check(scene, section):
        texts = visible_texts(scene)
        where = f"{info.name} / {prompt} / section {section!r}"
        problems.extend(f"{where}: outside the frame: {p}" for p in outside_frame(texts))
        problems.extend(f"{where}: {p}" for p in overlapping(texts))
        problems.extend(f"{where}: {p}" for p in undrawable(texts))
        problems.extend(f"{where}: {p}" for p in too_small(texts))
        checked.append(len(texts))

    checked = []
    render(info.load().bind(tricky_traces[prompt]), tmp_path, on_section_end=check)
    assert not problems, "\n".join(problems)
    assert sum(checked) > 0 and len(checked) >= 2, "the check saw no text: it would pass anything"


def undrawable(texts):
    """Characters that Cairo would draw as a blank gap (emoji, controls) or a white box
    (no installed font has them)."""
    fonts = helpers.installed_code_points()
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


def too_small(texts, min_size=14):
    """Texts that fit-to-frame shrank below legibility (size 14: capitals ~8 px tall at 480p)."""
    return [f"{label(text)!r} shrank to font size {text.font_size:.1f}" for text in texts
            if text.font_size < min_size]


def test_the_checks_can_fail():
    """The overlap and frame checks catch a deliberately broken layout."""
    from manim import RIGHT, Text

    stray, twin = Text("stray", font_size=30).shift(9 * RIGHT), Text("twin", font_size=30)
    assert outside_frame([stray])
    assert overlapping([twin, twin.copy().shift(0.05 * RIGHT)])
    assert undrawable([Text("ok 😀", font_size=30)])
