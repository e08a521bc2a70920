"""What the compare scenes show, derived from two Traces of one model: no Manim, only NumPy.

- `follow_word`: the token the comparison follows in each prompt, found by token ID (the
  longest piece both prompts share, or the user's --word, whose last token is followed).
- `check_one_model`: two traces of one model, or UserError.
- `Pair`: the followed token's numbers in both traces: its rows of W_E and W_P, the cosine
  similarity of its residual stream in A and in B (x0, then after every layer), the followed
  head's attention row of the word in each, and the next-token predictions after it.

Every value is read from one of the two Traces (a number on screen says which: "a" or "b")
or computed from both (a cosine: "ab"); tests/meanings.py recomputes each from the raw arrays.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from scenes.views import RESTING_SHARE, HeadChoice, first_token_share, relative_entropies, softmax, top_indices
from tracer.errors import UserError

SIDES = ("a", "b")  # which trace a number comes from; "ab": computed from both


# -- the followed word --------------------------------------------------------------------------

@dataclass(frozen=True)
class Followed:
    """The token followed in both prompts: its ID, its position in A and in B, and the
    positions of the whole word in each (a word of several tokens: the last is followed;
    the word's other tokens may differ where it is written without spaces)."""

    token_id: int
    positions: tuple  # (position in A, position in B)
    spans: tuple  # ((first, last) in A, (first, last) in B): the word's tokens
    word: str | None  # the user's --word, or None (the longest shared piece)

    def n_pieces(self, side=0):
        """How many tokens the word is in prompt A (side 0) or B (1)."""
        first, last = self.spans[side]
        return last - first + 1


def prompt_pieces(trace):
    """The prompt's pieces as a reader sees them, for messages."""
    return [trace.token_text(i) for i in range(trace.n_prompt_tokens)]


def longest_shared_piece(a, b):
    """The longest piece (in bytes) whose token ID is in both prompts, first in A on a tie;
    None when they share none. Followed at its first place in each prompt."""
    ids_a, ids_b = a.token_ids[: a.n_prompt_tokens], b.token_ids[: b.n_prompt_tokens]
    shared = [(i, token_id) for i, token_id in enumerate(ids_a) if token_id in ids_b]
    if not shared:
        return None
    _, best = max(shared, key=lambda item: (len(a.token_bytes[item[0]]), -item[0]))
    return ids_a.index(best), ids_b.index(best)


def word_spans(trace, word):
    """Every run of prompt tokens that holds `word` (its UTF-8 bytes, spaces at its ends
    ignored), as (first, last) token positions: the runs whose own bytes are the word (with
    at most spaces around it) first, then runs where the word is part of a longer piece."""
    wanted = word.strip().encode("utf-8")
    pieces = [bytes(b) for b in trace.token_bytes[: trace.n_prompt_tokens]]
    owner = [i for i, piece in enumerate(pieces) for _ in piece]  # the token of each byte
    raw = b"".join(pieces)
    exact, inside = [], []
    start = raw.find(wanted)
    while start >= 0 and wanted:
        first, last = owner[start], owner[start + len(wanted) - 1]
        run = b"".join(pieces[first:last + 1])
        (exact if run.strip() == wanted else inside).append((first, last))
        start = raw.find(wanted, start + 1)
    return list(dict.fromkeys(exact + inside))


def follow_word(a, b, word=None):
    """The Followed token of traces `a` and `b` (bad input raises UserError, one line)."""
    if word is None:
        found = longest_shared_piece(a, b)
        if found is None:
            raise UserError(f"the two prompts share no token: A is {prompt_pieces(a)}, B is {prompt_pieces(b)}; "
                            "give two prompts with a word in common")
        return Followed(a.token_ids[found[0]], found, ((found[0], found[0]), (found[1], found[1])), None)
    if not word.strip():
        raise UserError("--word is empty: name a word both prompts hold")
    spans = word_spans(a, word), word_spans(b, word)
    missing = [name for name, found in zip("AB", spans) if not found]
    if len(missing) == 2:
        raise UserError(f"--word {word!r} is in neither prompt")
    if missing:
        held = "A" if missing == ["B"] else "B"
        raise UserError(f"--word {word!r} is only in prompt {held}, not in prompt {missing[0]}")
    ids = [[trace.token_ids[first:last + 1] for first, last in found] for trace, found in zip((a, b), spans)]
    # The first place in A whose tokens B also has; else whose last token B's ends with (a word
    # written without spaces, as Japanese is, can share its first piece with the character before).
    for same in (lambda x, y: x == y, lambda x, y: x[-1] == y[-1]):
        for span_a, ids_a in zip(spans[0], ids[0]):
            for span_b, ids_b in zip(spans[1], ids[1]):
                if same(ids_a, ids_b):
                    return Followed(ids_a[-1], (span_a[1], span_b[1]), (span_a, span_b), word)
    pieces = [[trace.token_text(i) for i in range(found[0][0], found[0][1] + 1)] for trace, found in zip((a, b), spans)]
    raise UserError(f"--word {word!r} is different tokens in the two prompts (A {pieces[0]} {ids[0][0]}, "
                    f"B {pieces[1]} {ids[1][0]}): the comparison follows one token ID")


def check_one_model(a, b):
    """Two traces of one model (the same name, config and weights), or UserError: what
    differs between two models is not what attention does with context."""
    if a.model != b.model or a.config != b.config or a.weights != b.weights:
        raise UserError(f"the two traces are of two models ({a.model} and {b.model}): "
                        "a comparison reads one model on two prompts")


def check_same_row(a, b, followed):
    """The followed token's row of W_E must be one row in both (hook_embed holds it): else
    the traces are of two sets of weights with the same name and shape."""
    row_a = a.row("hook_embed", followed.positions[0])
    row_b = b.row("hook_embed", followed.positions[1])
    if not np.array_equal(row_a, row_b):
        raise UserError(f"the two traces are of two models: token {followed.token_id} has two different "
                        f"rows of W_E ({a.model}'s weights differ); a comparison reads one model on two prompts")


def cosine(u, v):
    """The cosine similarity of two vectors, in float64 (1: same direction)."""
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def choose_shared_head(a, b, layer=None, head=None):
    """The head the stated rule (scenes.views.choose_head) picks on both traces together: the
    most focused head (lowest mean relative entropy, averaged over A and B) among those that
    do not rest on the first token (their first-token share, averaged over A and B, at most
    RESTING_SHARE); the user's --layer/--head when given (a missing one filled by the rule)."""
    layers = range(a.n_layers) if layer is None else [layer]
    candidates = []  # (resting, mean relative entropy, layer, head)
    for l in layers:
        patterns = [trace.block(l, "attn.hook_pattern", keep=False) for trace in (a, b)]  # 2 x (H, T, T)
        resting = np.mean([first_token_share(p) for p in patterns], axis=0) > RESTING_SHARE
        scores = np.mean([relative_entropies(p) for p in patterns], axis=0)  # (H,)
        for h, score in enumerate(scores):
            if head is None or h == head:
                candidates.append((bool(resting[h]), float(score), l, h))
    _, score, best_layer, best_head = min(candidates)
    return HeadChoice(best_layer, best_head, layer is None and head is None, score)


# -- the pair -------------------------------------------------------------------------------------

class Pair:
    """Two traces of one model and the token followed in both; every array read once, on first use."""

    def __init__(self, a, b, word=None, layer=None, head=None):
        check_one_model(a, b)
        self.sides = {"a": a, "b": b}  # which trace: "a" or "b"
        self.followed = follow_word(a, b, word)
        check_same_row(a, b, self.followed)
        self.positions = dict(zip(SIDES, self.followed.positions))
        self.n_layers = a.n_layers
        self.layer_head = (layer, head)

    def trace(self, side):
        return self.sides[side]

    def at_word(self, side, name):
        """The followed token's row of tensor `name` in trace `side` (d,), float64: only the row is read."""
        return np.asarray(self.sides[side].row(name, self.positions[side]), np.float64)

    # -- the embedding: same row of W_E, a row of W_P each ----------------------------------------

    def embedding(self, side):
        """(token row of W_E, position row of W_P, x0) of the followed token in trace `side`, each (d,)."""
        return (self.at_word(side, "hook_embed"), self.at_word(side, "hook_pos_embed"),
                self.at_word(side, "blocks.0.hook_resid_pre"))

    @property
    def same_position(self):
        return self.positions["a"] == self.positions["b"]

    @property
    def same_prefix(self):
        """Whether the word and every token before it are the same in both prompts: GPT-2 reads
        only what comes before, so then the word has one vector in both at every layer."""
        a, b = self.sides["a"], self.sides["b"]
        return a.token_ids[: self.positions["a"] + 1] == b.token_ids[: self.positions["b"] + 1]

    # -- the drift: cosine of the two residual streams ---------------------------------------------

    @staticmethod
    def stream_names(n_layers):
        """x0 (what block 0 reads), then the stream after each block: L + 1 names."""
        return ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_post" for l in range(n_layers)]

    @cached_property
    def similarities(self):
        """The cosine similarity of the followed token's residual stream in A and in B: x0, then
        after each layer, (L + 1,) with the trace name each is read from."""
        return [(name, cosine(self.at_word("a", name), self.at_word("b", name)))
                for name in self.stream_names(self.n_layers)]

    # -- the head: its attention row of the word in both ------------------------------------------

    @cached_property
    def choice(self):
        return choose_shared_head(self.sides["a"], self.sides["b"], *self.layer_head)

    def attention_row(self, side):
        """The followed head's attention from the word to every token up to it, (p + 1,)."""
        trace, position = self.sides[side], self.positions[side]
        pattern = trace.block(self.choice.layer, "attn.hook_pattern", keep=False)  # (H, T, T), not kept
        return np.asarray(pattern[self.choice.head, position, : position + 1], np.float64)

    def attended(self, side, n):
        """The n tokens the word attends to most in trace `side`: [(key position, weight)], most first."""
        row = self.attention_row(side)
        return [(int(k), float(row[k])) for k in top_indices(row, n)]

    # -- the predictions after the word ------------------------------------------------------------

    def predictions(self, side, n):
        """The model's n most probable next tokens after the word in trace `side` (the softmax of
        the logits there: the logit lens at the last layer): [{id, piece, prob}], most probable first."""
        trace, position = self.sides[side], self.positions[side]
        probs = softmax(trace.row("logits", position))  # (vocab,)
        return [{"id": int(i), "piece": trace.piece_text(int(i)), "prob": float(probs[i])}
                for i in top_indices(probs, n)]

    def is_last(self, side):
        """Whether the word is the prompt's last token in trace `side` (its prediction is the model's next token)."""
        return self.positions[side] == self.sides[side].n_prompt_tokens - 1
