"""The numbers a scene shows, derived from the Trace: no Manim here, only NumPy.

Scenes draw; this module computes. What a scene puts on screen is either an array of the
Trace or something derived here from one (a softmax, an unscaled dot product, LayerNorm's
steps), so the derivations live in one place and the tests can recompute them on their own.

- `LayerView` / `HeadView`: one layer's (one head's) arrays on the prompt's tokens, each
  read once on first use, like TransformerLens's `cache["pattern", 0]`.
- `Prediction`: the candidates for the next token, from a step record or the logits.
- `choose_head`: the stated rule that picks the head the deep dive follows; `head_behaviour`:
  what that head does, in words a teacher can say.
- `split_characters`: characters whose UTF-8 bytes span several pieces.
- `activation_curve`: the MLP's GELU, to draw it under the Trace's own points.

The views of the read-out at the end (the stack and logit lens, the unembedding, the
draw) are in scenes/readouts.py.

A Trace loaded from a file reads a tensor on its first use (tracer.trace.TensorFile), so what
is read here is what a scene costs in memory: a view reads only the tensors it shows, and
where it keeps a copy (or needs one value of a big tensor) it asks the Trace not to keep it.
"""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from tracer.trace import readable_piece  # the Trace's own reading of a piece's bytes (no torch)

# -- small derivations ----------------------------------------------------------------------


def softmax(logits):
    """Probabilities from scores, in float64 (shifted by the maximum, so -140 is no problem)."""
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits)
    exp = np.exp(shifted)
    return exp / exp.sum()


def top_indices(values, k):
    """Indices of the k largest values, largest first."""
    k = min(k, len(values))
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


# -- one layer, one head ---------------------------------------------------------------------


class LayerView:
    """One layer's values on the prompt's tokens, as float64 arrays read on first use.

    Only the prompt is shown (as in the prediction scene): causality makes these rows
    exactly what a forward pass over the prompt alone computes. T = prompt tokens.
    """

    def __init__(self, trace, layer):
        self.trace, self.layer = trace, layer
        self.n = trace.n_prompt_tokens
        self.d_head = trace.d_head
        self.eps = float(trace.config.get("layer_norm_epsilon", 1e-5))

    # Each property keeps its own float64 copy, so the Trace need not keep the tensor (keep=False).
    def _rows(self, key):
        return np.asarray(self.trace.block(self.layer, key, keep=False)[: self.n], dtype=np.float64)

    def _squares(self, key):
        return np.asarray(self.trace.block(self.layer, key, keep=False)[:, : self.n, : self.n], dtype=np.float64)

    def head_square(self, key, head):
        """One head's (T, T) of a (H, T, T) tensor: from every head's copy when a scene already
        made it (`patterns`, `scores`), else only this head's is copied (a head scene need not
        hold the other heads': at 1024 tokens 8 MB a head, 100 MB a layer)."""
        every_head = {"attn.hook_pattern": "patterns", "attn.hook_attn_scores": "scores"}[key]
        if every_head in self.__dict__:  # cached_property keeps its value in the instance's dict
            return self.__dict__[every_head][head]
        return np.asarray(self.trace.block(self.layer, key, keep=False)[head, : self.n, : self.n], dtype=np.float64)

    @cached_property
    def resid_pre(self):
        return self._rows("hook_resid_pre")  # (T, d)  what the layer reads

    @cached_property
    def ln_out(self):
        return self._rows("ln1.hook_normalized")  # (T, d)  x: LayerNorm's output, attention's input

    @cached_property
    def q(self):
        return self._rows("attn.hook_q")  # (T, H, dh)

    @cached_property
    def k(self):
        return self._rows("attn.hook_k")  # (T, H, dh)

    @cached_property
    def v(self):
        return self._rows("attn.hook_v")  # (T, H, dh)

    @cached_property
    def z(self):
        return self._rows("attn.hook_z")  # (T, H, dh)  each head's output

    @cached_property
    def patterns(self):
        return self._squares("attn.hook_pattern")  # (H, T, T)  rows sum to 1

    @cached_property
    def scores(self):
        return self._squares("attn.hook_attn_scores")  # (H, T, T)  q.k / sqrt(dh), future -inf

    @cached_property
    def attn_out(self):
        return self._rows("hook_attn_out")  # (T, d)  heads joined, projected by W_O

    @cached_property
    def resid_mid(self):
        return self._rows("hook_resid_mid")  # (T, d)  resid_pre + attn_out

    @cached_property
    def future(self):
        return np.triu(np.ones((self.n, self.n), dtype=bool), k=1)  # (T, T)  key after query

    @cached_property
    def mlp_in(self):
        return self._rows("ln2.hook_normalized")  # (T, d)  the MLP's input: LayerNorm 2's output

    @cached_property
    def mlp_pre(self):
        return self._rows("mlp.hook_pre")  # (T, 4d)  x . W_in + b_in, before GELU

    @cached_property
    def mlp_post(self):
        return self._rows("mlp.hook_post")  # (T, 4d)  after GELU

    @cached_property
    def mlp_out(self):
        return self._rows("hook_mlp_out")  # (T, d)  post . W_out + b_out

    @cached_property
    def resid_post(self):
        return self._rows("hook_resid_post")  # (T, d)  resid_mid + mlp_out

    def most_active(self, position, n):
        """The MLP neurons with the largest outputs (after GELU) at `position`, largest first."""
        return top_indices(self.mlp_post[position], n)

    def layer_norm_steps(self, position):
        """LayerNorm of one token, step by step: x as it arrives, (x - mean) / spread, and the
        Trace's output (normalised, times the gain, plus the bias); each (d,)."""
        x = self.resid_pre[position]
        normalised = (x - x.mean()) / np.sqrt(x.var() + self.eps)
        return x, normalised, self.ln_out[position]

    def head(self, head):
        return HeadView(self, head)


class HeadView:
    """One head of a LayerView: its q, k, v, z (T, dh), scores and pattern (T, T)."""

    def __init__(self, layer_view, head):
        self.layer_view, self.head = layer_view, head
        self.layer, self.n, self.d_head = layer_view.layer, layer_view.n, layer_view.d_head
        self.sqrt_d_head = float(np.sqrt(self.d_head))
        self.future = layer_view.future

    @cached_property
    def q(self):
        return self.layer_view.q[:, self.head]  # (T, dh)

    @cached_property
    def k(self):
        return self.layer_view.k[:, self.head]  # (T, dh)

    @cached_property
    def v(self):
        return self.layer_view.v[:, self.head]  # (T, dh)

    @cached_property
    def z(self):
        return self.layer_view.z[:, self.head]  # (T, dh)

    @cached_property
    def pattern(self):
        return self.layer_view.head_square("attn.hook_pattern", self.head)  # (T, T)  rows sum to 1

    @cached_property
    def scores(self):
        return self.layer_view.head_square("attn.hook_attn_scores", self.head)  # (T, T)  q.k / sqrt(dh), future -inf

    @cached_property
    def dots(self):
        """Unscaled q.k for every pair (T, T): the future cells are real dot products too."""
        every_pair = self.q @ self.k.T
        return np.where(self.future, every_pair, self.scores * self.sqrt_d_head)

    @cached_property
    def scaled(self):
        return self.dots / self.sqrt_d_head  # (T, T)  equals `scores` where the mask lets it through

    def softmax_row(self, row, scaled=True):
        """The softmax of row `row` over the keys it may see, with or without / sqrt(dh)."""
        return softmax((self.scaled if scaled else self.dots)[row, : row + 1])

    def exp_row(self, row):
        """e^score for each key of row `row` (0 for the masked future)."""
        return np.where(self.future[row], 0.0, np.exp(np.where(self.future[row], 0.0, self.scores[row])))


# -- the head the deep dive follows ------------------------------------------------------------
#
# The rule: of all heads in all layers, the most focused one, i.e. the head whose rows have
# the lowest mean entropy relative to a uniform row, leaving out "resting" heads that put
# most of their attention on the first token (GPT-2 has many; they all look alike). A
# focused head makes the clearest example of "a token looks back at particular tokens".

RESTING_SHARE = 0.5  # a head giving the first token more than this, on average, is resting


@dataclass(frozen=True)
class HeadChoice:
    layer: int
    head: int
    by_rule: bool  # False when the user chose with --layer/--head
    relative_entropy: float  # mean row entropy / entropy of a uniform row: 0 focused, 1 uniform


def relative_entropies(pattern):
    """Mean over rows of entropy / log(row length) for each head of a (H, T, T) pattern -> (H,).
    One head at a time: in float64 a 512-token layer's heads at once would be 25 MB an array."""
    n_tokens = pattern.shape[-1]
    if n_tokens < 2:
        return np.ones(pattern.shape[0])  # one token: every head attends to itself alone
    uniform = np.log(np.arange(2, n_tokens + 1))  # row i can spread over i + 1 tokens
    return np.array([(row_entropies(head) / uniform).mean() for head in pattern])


def row_entropies(head_pattern):
    """The entropy of rows 1.. of one head's (T, T) pattern -> (T-1,) (row 0 can only look at
    itself: no information)."""
    p = head_pattern[1:, :].astype(np.float64)
    return -np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=-1)


def first_token_share(pattern):
    """Mean attention each head gives the first token, over rows 1.. -> (H,)."""
    return pattern[:, 1:, 0].mean(axis=-1) if pattern.shape[-1] > 1 else np.zeros(pattern.shape[0])


def choose_head(trace, layer=None, head=None):
    """The user's --layer/--head when given (a missing one is filled by the rule), else the rule's choice."""
    layers = range(trace.n_layers) if layer is None else [layer]
    candidates = []  # (resting, relative entropy, layer, head)
    for l in layers:
        pattern = trace.block(l, "attn.hook_pattern", keep=False)  # (H, T, T)  one layer at a time, not kept
        resting = first_token_share(pattern) > RESTING_SHARE
        for h, score in enumerate(relative_entropies(pattern)):
            if head is None or h == head:
                candidates.append((bool(resting[h]), float(score), l, h))
    resting, score, best_layer, best_head = min(candidates)  # non-resting heads first
    return HeadChoice(best_layer, best_head, layer is None and head is None, score)


def head_behaviour(pattern, token_ids, focused=0.5):
    """What a head does, in one of five words, from its (T, T) pattern and the tokens:
    "previous" (the token just before), "first" (the first token), "self" (its own token),
    "induction" (the token after an earlier copy of this one), each with the mean share of
    a row's attention that goes there; or, when none takes at least `focused`, "one" (each
    row mostly on one token, not by position) or "spread", with the mean largest share of a
    row. Rows 1.. only: row 0 can only look at itself.
    Returns (word, share)."""
    n = len(pattern)
    rows = np.arange(1, n)
    if n < 2:
        return "self", 1.0
    shares = {
        "previous": pattern[rows, rows - 1].mean(),
        "first": pattern[rows, 0].mean(),
        "self": pattern[rows, rows].mean(),
    }
    induction = [sum(pattern[i, k + 1] for k in range(i - 1) if token_ids[k] == token_ids[i]) for i in rows
                 if any(token_ids[k] == token_ids[i] for k in range(i - 1))]  # rows whose token came before
    if induction:
        shares["induction"] = float(np.mean(induction))
    word = max(shares, key=shares.get)
    if shares[word] >= focused:
        return word, float(shares[word])
    largest = float(pattern[rows].max(axis=1).mean())  # each row's largest share, on average
    return ("one" if largest >= focused else "spread"), largest


# -- what the model predicted ------------------------------------------------------------------


class Prediction:
    """The model's candidates for the token after `position`, read from the Trace.

    With a step record (the token was generated) the candidates, their pieces and the
    choice come from it; without one (the prompt's last position, nothing generated) they
    come from the logits, and a piece the Trace never saw has piece None (name it by its ID).
    Attributes: candidates (dicts with id, piece, logit, prob; most probable first),
    chosen (one such dict), chosen_rank (1 = most probable; None if unknown), rest (the
    probability of every token not among the candidates), step (the record or None).
    """

    def __init__(self, trace, position, step=None, k=10):
        self.position = position
        logits = trace.row("logits", position) if position < trace.n_traced else None  # (vocab,)
        if step is not None:
            self.candidates = [self._entry(c["id"], readable_piece(c["bytes"]), c["logit"], c["prob"])
                               for c in step["candidates"][:k]]
            chosen = step["chosen"]
            self.chosen = self._entry(chosen["id"], readable_piece(chosen["bytes"]), chosen["logit"], chosen["prob"])
        else:
            probs = softmax(logits)
            pieces = {token_id: trace.token_text(i) for i, token_id in enumerate(trace.token_ids)}
            self.candidates = [self._entry(int(i), pieces.get(int(i)), float(logits[i]), float(probs[i]))
                               for i in top_indices(logits, k)]
            self.chosen = self.candidates[0]
        self.step = step
        self.rest = max(0.0, 1.0 - sum(c["prob"] for c in self.candidates))
        self.chosen_rank = None if logits is None else int((logits > logits[self.chosen["id"]]).sum()) + 1
        self.chosen_index = next((i for i, c in enumerate(self.candidates) if c["id"] == self.chosen["id"]), None)

    def rows(self):
        """The candidates to chart, plus the chosen token as a last row (marked "outside",
        with its "rank") when it is not among them; and the chosen row's index."""
        if self.chosen_index is not None:
            return list(self.candidates), self.chosen_index
        outside = dict(self.chosen, outside=True, rank=self.chosen_rank)
        return list(self.candidates) + [outside], len(self.candidates)

    @staticmethod
    def _entry(token_id, piece, logit, prob):
        return {"id": token_id, "piece": piece, "logit": logit, "prob": prob}


# -- characters split across byte pieces -------------------------------------------------------

def split_characters(token_bytes):
    """Characters whose UTF-8 bytes span more than one piece.

    token_bytes: each piece's raw bytes. Returns (char, its bytes, first piece, last
    piece) for every such character, in order: "日" split as E6 97 | A5 gives
    ("日", b"\\xe6\\x97\\xa5", i, i + 1).
    """
    owner = [i for i, piece in enumerate(token_bytes) for _ in piece]  # piece of each byte
    raw = b"".join(bytes(piece) for piece in token_bytes)
    found, start = [], 0
    while start < len(raw):
        length = _utf8_length(raw[start])
        chunk = raw[start:start + length]
        try:
            char = chunk.decode("utf-8")
        except UnicodeDecodeError:
            start += 1  # a stray byte: not a character, nothing to show
            continue
        first, last = owner[start], owner[start + length - 1]
        if first != last:
            found.append((char, chunk, first, last))
        start += length
    return found


def _utf8_length(first_byte):
    if first_byte >= 0xF0:
        return 4
    if first_byte >= 0xE0:
        return 3
    if first_byte >= 0xC0:
        return 2
    return 1


def hex_bytes(raw):
    return " ".join(f"{b:02X}" for b in raw)


# -- the MLP's activation function ----------------------------------------------------------------

def activation_curve(name, x):
    """The MLP's activation function (config `activation_function`) at x, to draw it; None
    for one this program does not know (then only the Trace's own points are drawn)."""
    x = np.asarray(x, dtype=np.float64)
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):  # GPT-2's tanh approximation
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    if name == "gelu":  # the exact one, x . Phi(x)
        return x * 0.5 * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    if name == "relu":
        return np.maximum(x, 0)
    return None
