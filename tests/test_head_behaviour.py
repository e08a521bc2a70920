"""What the chosen head does, in words from its pattern: tested on patterns built to have
each behaviour, and on a trace whose layer 4 head 11 is a previous-token head (the head the
rule picks on real GPT-2 small for every prompt the leading browser explainer publishes)."""

import dataclasses

import numpy as np
import pytest
from scene_checks import check_scene

from scenes.catalog import get
from scenes.strings import say
from scenes.views import choose_head, head_behaviour

T = 8


def rows_of(targets, share, n=T):
    """A causal (n, n) pattern: row i puts `share` on targets[i] and the rest evenly before it."""
    pattern = np.zeros((n, n))
    pattern[0, 0] = 1.0
    for i in range(1, n):
        pattern[i, : i + 1] = (1 - share) / i if i else 0
        pattern[i, targets[i]] += share - (1 - share) / i
    assert np.allclose(pattern.sum(axis=1), 1)
    return pattern


@pytest.mark.parametrize("word, targets", [
    ("previous", [0] + list(range(T - 1))),
    ("first", [0] * T),
    ("self", list(range(T))),
])
def test_positional_heads_are_named_with_their_share(word, targets):
    found, share = head_behaviour(rows_of(targets, 0.97), list(range(100, 100 + T)))
    assert found == word
    assert share == pytest.approx(0.97, abs=0.05)


def test_an_induction_head_looks_at_the_token_after_an_earlier_copy():
    ids = [5, 6, 7, 8, 5, 6, 7, 8]  # the second half repeats the first
    targets = [0, 0, 0, 0, 1, 2, 3, 4]  # from the second 5 on: the token after its earlier copy
    pattern = rows_of(targets, 0.9)
    found, share = head_behaviour(pattern, ids)
    assert found == "induction" and share == pytest.approx(0.9, abs=0.05)


def test_a_head_without_one_target_is_spread_or_content():
    spread = np.tril(np.ones((T, T)))
    spread /= spread.sum(axis=1, keepdims=True)
    assert head_behaviour(spread, list(range(T)))[0] == "spread"
    content = rows_of([0, 0, 0, 1, 1, 2, 2, 3], 0.9)  # mostly on one token, none of the positional ones
    assert head_behaviour(content, list(range(T)))[0] == "one"


def test_the_scene_says_what_layer_4_head_11_does(gpt2_twelve_trace, tmp_path):
    """A GPT-2-small-shaped trace whose layer 4 head 11 puts 97% of every row on the token
    before: the rule picks it, and the first attention scene says so, with the number."""
    n = gpt2_twelve_trace.n_prompt_tokens
    activations = dict(gpt2_twelve_trace.activations)
    patterns = activations["blocks.4.attn.hook_pattern"].copy()
    patterns[11, :n, :n] = rows_of([0] + list(range(n - 1)), 0.97, n=n)
    activations["blocks.4.attn.hook_pattern"] = patterns
    trace = dataclasses.replace(gpt2_twelve_trace, activations=activations)
    choice = choose_head(trace)
    assert (choice.layer, choice.head) == (4, 11)
    expected = say("en", "attention.why_rule", layer=4, head=11, does=say("en", "head.previous", percent="97%"))
    assert expected in check_scene(get("qkv"), trace, tmp_path).words()
