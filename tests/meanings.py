"""What a number on screen must read, recomputed from the Trace's raw arrays.

Every number a scene prints says what it shows (`.meaning`, a tuple whose first item is
its kind: see scenes/kit/numbers.py). This table maps each kind to how the tests compute
that value again, independently of scenes/views.py, from the Trace alone, and to how it
is written. A new kind of number needs one line here; a number of an unknown kind fails.
"""

import numpy as np

from scenes.kit.numbers import MINUS_INFINITY, fmt_draw, fmt_id, fmt_large, fmt_percent, fmt_value


def f64(array):
    return np.asarray(array, dtype=np.float64)


def head_arrays(trace, layer, head):
    """q, k, v (T, dh), scores and pattern (T, T) of one head, from the raw arrays."""
    block = lambda key: f64(trace.block(layer, key))  # noqa: E731
    return (block("attn.hook_q")[:, head], block("attn.hook_k")[:, head], block("attn.hook_v")[:, head],
            block("attn.hook_attn_scores")[head], block("attn.hook_pattern")[head])


def softmax_seen(trace, layer, head, query, scaled):
    """Softmax of one query's dot products over the keys it may see, with or without / sqrt(dh)."""
    q, k, *_ = head_arrays(trace, layer, head)
    row = k[: query + 1] @ q[query] / (np.sqrt(q.shape[-1]) if scaled else 1.0)
    e = np.exp(row - row.max())
    return e / e.sum()


def layer_norm_stage(trace, layer, position, stage):
    x = f64(trace.block(layer, "hook_resid_pre")[position])
    normalised = (x - x.mean()) / np.sqrt(x.var() + trace.config["layer_norm_epsilon"])
    return {"before": x, "normalised": normalised,
            "scaled": f64(trace.block(layer, "ln1.hook_normalized")[position])}[stage]


def probabilities(trace, position):
    logits = f64(trace["logits"][position])
    e = np.exp(logits - logits.max())
    return e / e.sum()


def q_dot_k(trace, layer, head, query, key, start=0, stop=None):
    q, k, *_ = head_arrays(trace, layer, head)
    return float(q[query, start:stop] @ k[key, start:stop])


def tempered(trace, position, temperature):
    return probabilities_of(f64(trace["logits"][position]) / temperature)


def probabilities_of(scores):
    e = np.exp(scores - scores[np.isfinite(scores)].max())
    return e / e.sum()


def final_distribution(trace, position):
    """What the step sampled from at `position`: temperature, then top-k (ties with the
    k-th kept), then top-p (a token stays while the tokens above it sum to less than p)."""
    step = next(s for s in trace.steps if s["prefix_length"] - 1 == position)
    settings = step["sampling"]
    scores = f64(trace["logits"][position]) / settings["temperature"]
    kth = np.sort(scores)[::-1][min(settings["top_k"], scores.size) - 1]
    p = probabilities_of(np.where(scores >= kth, scores, -np.inf))
    falling = np.argsort(-p, kind="stable")
    above = np.cumsum(p[falling]) - p[falling]  # the probability of the tokens ranked above each
    keep = np.zeros(p.size, dtype=bool)
    keep[falling] = above < settings["top_p"]
    p = np.where(keep, p, 0.0)
    return p / p.sum()


def chosen_slice(trace, step_index):
    """The chosen token's slice [start, end) of the cumulative final distribution, by falling probability."""
    step = trace.steps[step_index]
    final = final_distribution(trace, step["prefix_length"] - 1)
    falling = np.argsort(-final, kind="stable")
    end = np.cumsum(final[falling])[np.flatnonzero(falling == step["chosen"]["id"])[0]]
    return float(end - final[step["chosen"]["id"]]), float(end)


def unembedding_products(trace, position, token_id):
    """The final vector times the token's column of W_U, term by term (their sum is its logit)."""
    column = f64(trace["unembed.columns"][list(trace["unembed.token_ids"]).index(token_id)])
    return f64(trace["ln_final.hook_normalized"][position]) * column


# kind -> (the value, from the Trace and the meaning's other items; how it is written)
MEANINGS = {
    "trace": (lambda t, name, index: float(t[name][index]), fmt_value),
    "token_id": (lambda t, index: t.token_ids[index], fmt_id),
    "logit": (lambda t, position, token_id: float(t["logits"][position, token_id]), fmt_value),
    "probability": (lambda t, position, token_id: float(probabilities(t, position)[token_id]), fmt_percent),
    "scale": (lambda t, end: float(end), "{:g}".format),  # the end of a colour scale, not a value of the model
    "axis": (lambda t, end: float(end), lambda value: fmt_value(value, 0)),  # an axis's end, not a value of the model
    "tempered": (lambda t, position, token_id, temperature: float(tempered(t, position, temperature)[token_id]),
                 fmt_percent),
    "cumulative": (lambda t, position, rank, temperature: float(np.sort(tempered(t, position, temperature))[::-1]
                                                                [:rank].sum()), fmt_percent),
    "final": (lambda t, position, token_id: float(final_distribution(t, position)[token_id]), fmt_percent),
    "unembed_term": (lambda t, position, token_id, d: float(unembedding_products(t, position, token_id)[d]), fmt_value),
    "unembed_rest": (lambda t, position, token_id, start: float(unembedding_products(t, position, token_id)[start:]
                                                                .sum()), fmt_value),
    "norm": (lambda t, name, position: float(np.sqrt(np.sum(f64(t[name][position]) ** 2))), fmt_value),
    "lens_prob": (lambda t, row, position, rank: float(t["logit_lens.probs"][row, position, rank]), fmt_percent),
    "draw": (lambda t, step: t.steps[step]["draw"], fmt_draw),
    "slice_start": (lambda t, step: chosen_slice(t, step)[0], fmt_draw),
    "slice_end": (lambda t, step: chosen_slice(t, step)[1], fmt_draw),
    "ln_normalised": (lambda t, layer, position, d: float(layer_norm_stage(t, layer, position, "normalised")[d]),
                      fmt_value),
    "ln_mean": (lambda t, layer, position, stage: float(layer_norm_stage(t, layer, position, stage).mean()),
                fmt_value),
    "ln_spread": (lambda t, layer, position, stage: float(layer_norm_stage(t, layer, position, stage).std()),
                  fmt_value),
    "dot": (lambda t, l, h, query, key: q_dot_k(t, l, h, query, key), fmt_value),
    "scaled": (lambda t, l, h, query, key: q_dot_k(t, l, h, query, key) / np.sqrt(t.d_head), fmt_value),
    "term": (lambda t, l, h, query, key, d: q_dot_k(t, l, h, query, key, d, d + 1), fmt_value),
    "terms_rest": (lambda t, l, h, query, key, start: q_dot_k(t, l, h, query, key, start), fmt_value),
    "score": (lambda t, l, h, query, key: float(head_arrays(t, l, h)[3][query, key]), fmt_value),
    "masked": (lambda t, l, h, query, key: float(head_arrays(t, l, h)[3][query, key]),  # -inf: the mask is in the Trace
               lambda value: MINUS_INFINITY),
    "exp": (lambda t, l, h, query, key: float(np.exp(head_arrays(t, l, h)[3][query, key])), fmt_large),
    "exp_sum": (lambda t, l, h, query, keys: float(np.exp(head_arrays(t, l, h)[3][query, list(keys)]).sum()),
                fmt_large),
    "pattern": (lambda t, l, h, query, key: float(head_arrays(t, l, h)[4][query, key]), fmt_value),
    "pattern_sum": (lambda t, l, h, query, keys: float(head_arrays(t, l, h)[4][query, list(keys)].sum()), fmt_value),
    "softmax": (lambda t, l, h, query, key, scaled: float(softmax_seen(t, l, h, query, scaled)[key]), fmt_value),
    "softmax_sum": (lambda t, l, h, query, keys, scaled: float(softmax_seen(t, l, h, query, scaled)[list(keys)].sum()),
                    fmt_value),
    "weighted": (lambda t, l, h, query, key, d: float(head_arrays(t, l, h)[4][query, key]
                                                      * head_arrays(t, l, h)[2][key, d]), fmt_value),
    "weighted_sum": (lambda t, l, h, query, keys, d: float(head_arrays(t, l, h)[4][query, list(keys)]
                                                            @ head_arrays(t, l, h)[2][list(keys), d]), fmt_value),
}


# -- the map's sizes (scenes/kit/diagram.py config_sizes): numbers of the model's config, not of one pass --
from scenes.kit.diagram import fmt_count  # noqa: E402  (kept in this block: the map's own lines)

MEANINGS.update({
    "config": (lambda t, key: t.config[key], fmt_count),  # n_layer, n_head, n_embd, n_inner, vocab_size
    "d_head": (lambda t: t.config["n_embd"] // t.config["n_head"], fmt_count),
    "n_tokens": (lambda t: len(t.token_ids) - len(t.steps), fmt_count),  # the prompt's tokens: T
})

def expected_value(trace, meaning):
    """The value a number with this meaning must show, computed from the Trace afresh."""
    if meaning[0] not in MEANINGS:
        raise AssertionError(f"a number with an unknown meaning: {meaning}")
    compute, _ = MEANINGS[meaning[0]]
    return compute(trace, *meaning[1:])


def expected_text(meaning, value):
    return MEANINGS[meaning[0]][1](value)


def wrong_numbers(trace, numbers):
    """The numbers (scene_checks.Number) that do not read the Trace's value, one line each."""
    wrong = []
    for number in numbers:
        value = expected_value(trace, number.meaning)
        wanted = expected_text(number.meaning, value)
        # exact, except a value that sits on a rounding boundary (float32 vs float64) may round either way
        on_boundary = abs(number.value - value) < 1e-4 * max(1.0, abs(value)) and \
            number.text == expected_text(number.meaning, number.value)
        if number.text != wanted and not on_boundary:
            wrong.append(f"{number.meaning} shows {number.text}, the Trace says {wanted}")
    return wrong


# -- two traces (scenes/compare): every number also says which trace it reads ----------------------
# `.source` "a" or "b": its meaning is one of MEANINGS above, computed from that trace alone;
# "ab": a value of both traces together, one of PAIR_MEANINGS, computed from both traces' raw arrays.
from scenes.kit.numbers import fmt_cosine  # noqa: E402  (kept in this block: the comparison's own lines)


def cosine_of_rows(a, b, name, position_a, position_b):
    """The cosine similarity of tensor `name`'s row position_a in trace a and position_b in trace b."""
    u, v = f64(a[name][position_a]), f64(b[name][position_b])
    return float(np.dot(u, v) / np.sqrt(np.dot(u, u) * np.dot(v, v)))


PAIR_MEANINGS = {
    "cosine": (cosine_of_rows, fmt_cosine),
    "axis": (lambda a, b, end: float(end), lambda value: f"{value:.0f}"),  # a chart's tick: no value of either model
}


def expected_pair_value(traces, source, meaning):
    """The value a compare scene's number must show: from trace "a" or "b" alone, or from both."""
    if source in ("a", "b"):
        return expected_value(traces[source], meaning)
    if source != "ab":
        raise AssertionError(f"a number that does not say which trace it reads: {meaning} (source {source!r})")
    if meaning[0] not in PAIR_MEANINGS:
        raise AssertionError(f"a number of both traces with an unknown meaning: {meaning}")
    return PAIR_MEANINGS[meaning[0]][0](traces["a"], traces["b"], *meaning[1:])


def expected_pair_text(source, meaning, value):
    return expected_text(meaning, value) if source in ("a", "b") else PAIR_MEANINGS[meaning[0]][1](value)


def wrong_pair_numbers(traces, numbers):
    """The numbers (with .text, .value, .meaning and .source) of a compare scene that do not read
    their trace's value ({"a": trace A, "b": trace B}), one line each."""
    wrong = []
    for number in numbers:
        value = expected_pair_value(traces, number.source, number.meaning)
        wanted = expected_pair_text(number.source, number.meaning, value)
        on_boundary = abs(number.value - value) < 1e-4 * max(1.0, abs(value)) and \
            number.text == expected_pair_text(number.source, number.meaning, number.value)
        if number.text != wanted and not on_boundary:
            wrong.append(f"{number.source}: {number.meaning} shows {number.text}, the traces say {wanted}")
    return wrong
