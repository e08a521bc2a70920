"""The stated rule that picks the attention deep dive's layer and head."""

import numpy as np

from scenes.views import choose_head, relative_entropies


class FakeTrace:
    def __init__(self, patterns):
        self.patterns = patterns
        self.n_layers = len(patterns)

    def block(self, layer, key, keep=True):  # as tracer.trace.Trace.block: keep=False reads without keeping
        assert key == "attn.hook_pattern"
        return self.patterns[layer]


def causal_uniform(n_heads, n_tokens):
    rows = np.tril(np.ones((n_tokens, n_tokens)))
    return np.repeat((rows / rows.sum(-1, keepdims=True))[None], n_heads, axis=0)


def test_relative_entropy_is_one_for_uniform_and_zero_for_one_hot():
    uniform = causal_uniform(1, 5)
    previous = np.eye(5, k=-1)[None] + np.eye(5)[None] * (np.arange(5) == 0)[:, None]
    assert np.allclose(relative_entropies(uniform), [1.0])
    assert np.allclose(relative_entropies(previous), [0.0])


def test_rule_picks_the_most_focused_head_that_is_not_resting_on_the_first_token():
    layer0 = causal_uniform(3, 6)
    layer1 = causal_uniform(3, 6)
    layer1[0] = np.eye(6)[[0] * 6]  # rests on token 0: entropy 0, but resting
    layer1[2] = 0.7 * np.eye(6) + 0.3 * causal_uniform(1, 6)[0]  # mostly looks at itself
    choice = choose_head(FakeTrace([layer0, layer1]))
    assert (choice.layer, choice.head, choice.by_rule) == (1, 2, True)
    assert 0 < choice.relative_entropy < 1


def test_user_choice_wins():
    trace = FakeTrace([causal_uniform(2, 4), causal_uniform(2, 4)])
    choice = choose_head(trace, layer=1, head=0)
    assert (choice.layer, choice.head, choice.by_rule) == (1, 0, False)


def test_nano_sort_default_head(nano_sort_trace):
    # nano-sort's first layer spreads its attention almost evenly; layer 1 head 1 is the focused one.
    choice = choose_head(nano_sort_trace)
    assert (choice.layer, choice.head) == (1, 1)
