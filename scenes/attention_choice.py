"""Which layer and head the attention deep dive follows, when the user does not say.

The rule: of all heads in all layers, the most focused one, i.e. the head whose rows have
the lowest mean entropy relative to a uniform row, leaving out "resting" heads that put
most of their attention on the first token (GPT-2 has many; they all look alike). A
focused head makes the clearest example of "a token looks back at particular tokens".
"""

from dataclasses import dataclass

import numpy as np

RESTING_SHARE = 0.5  # a head giving the first token more than this, on average, is resting


@dataclass(frozen=True)
class HeadChoice:
    layer: int
    head: int
    by_rule: bool  # False when the user chose with --layer/--head
    relative_entropy: float  # mean row entropy / entropy of a uniform row: 0 focused, 1 uniform


def relative_entropies(pattern):
    """Mean over rows of entropy / log(row length) for each head of a (H, T, T) pattern -> (H,)."""
    n_tokens = pattern.shape[-1]
    if n_tokens < 2:
        return np.ones(pattern.shape[0])  # one token: every head attends to itself alone
    p = pattern[:, 1:, :].astype(np.float64)  # row 0 can only look at itself: no information
    entropy = -np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=-1)  # (H, T-1)
    uniform = np.log(np.arange(2, n_tokens + 1))  # row i can spread over i + 1 tokens
    return (entropy / uniform).mean(axis=-1)


def first_token_share(pattern):
    """Mean attention each head gives the first token, over rows 1.. -> (H,)."""
    return pattern[:, 1:, 0].mean(axis=-1) if pattern.shape[-1] > 1 else np.zeros(pattern.shape[0])


def choose_head(trace, layer=None, head=None):
    """The user's --layer/--head when given (a missing one is filled by the rule), else the rule's choice."""
    layers = range(trace.n_layers) if layer is None else [layer]
    candidates = []  # (relative entropy, resting, layer, head)
    for l in layers:
        pattern = trace.block(l, "attn.hook_pattern")
        resting = first_token_share(pattern) > RESTING_SHARE
        for h, score in enumerate(relative_entropies(pattern)):
            if head is None or h == head:
                candidates.append((bool(resting[h]), float(score), l, h))
    resting, score, best_layer, best_head = min(candidates)  # non-resting heads first
    return HeadChoice(best_layer, best_head, layer is None and head is None, score)
