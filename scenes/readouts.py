"""The numbers of the forward pass's end, derived from the Trace: no Manim, only NumPy.

- `Stack`: one position through every layer, what attention and the MLP add, and the
  logit lens's best guess after each layer.
- `Unembedding`: the final vector and one token's column of W_U: one logit worked.
- `Sampling`: temperature, the top-k and top-p cuts, and the draw, for one generated step.
"""

import numpy as np

from scenes.views import softmax

# -- the stack: the last token through every layer, and the logit lens ----------------------------


class Stack:
    """One position through every layer: the sizes (L2 norms) of what attention and the
    MLP add and of the stream after each layer, and the logit lens's best guess after each
    (row 0: the embeddings, row l + 1: after layer l; each a dict with id, piece, prob)."""

    def __init__(self, trace, position):
        self.trace, self.position = trace, position
        self.n_layers = trace.n_layers

        def norm(key, layer):  # one number from one row: only the row is read
            return float(np.linalg.norm(np.asarray(trace.row(f"blocks.{layer}.{key}", position), np.float64)))

        layers = range(self.n_layers)
        self.attn = [norm("hook_attn_out", l) for l in layers]
        self.mlp = [norm("hook_mlp_out", l) for l in layers]
        self.resid = [norm("hook_resid_pre", 0)] + [norm("hook_resid_post", l) for l in layers]  # (L+1,)
        ids, probs = trace["logit_lens.token_ids"][:, position], trace["logit_lens.probs"][:, position]  # (L+1, k)
        self.guesses = [{"id": int(ids[r, 0]), "piece": trace.piece_text(int(ids[r, 0])), "prob": float(probs[r, 0])}
                        for r in range(self.n_layers + 1)]
        self.final = self.guesses[-1]

    def first_settled(self):
        """The first lens row from which the best guess is the final one: where the prediction forms."""
        row = self.n_layers
        while row > 0 and self.guesses[row - 1]["id"] == self.final["id"]:
            row -= 1
        return row


# -- the unembedding: one logit worked ------------------------------------------------------------


class Unembedding:
    """The last prompt position's final vector (after ln_f) and the W_U column of one token:
    their products, and their sum, which is that token's logit."""

    def __init__(self, trace, position, token_id):
        self.position, self.token_id = position, token_id
        ids = trace["unembed.token_ids"].tolist()
        self.column_index = ids.index(token_id)  # row of unembed.columns
        last_layer = trace.n_layers - 1  # one row of each (T, d) tensor: only the row is read
        self.before = np.asarray(trace.row(f"blocks.{last_layer}.hook_resid_post", position), np.float64)  # (d,)
        self.x = np.asarray(trace.row("ln_final.hook_normalized", position), np.float64)  # (d,)
        self.column = np.asarray(trace["unembed.columns"][self.column_index], np.float64)  # (d,)
        self.products = self.x * self.column  # (d,)
        self.logit = float(trace.row("logits", position)[token_id])
        self.tied = bool(trace.config.get("tie_word_embeddings", False))


# -- sampling: temperature, the cuts, the draw -------------------------------------------------------

SHOWN_TEMPERATURES = (0.5, 1.5)  # shown beside the user's, so temperature's effect is seen


def warped(logits, temperature, top_k, top_p):
    """The distribution over the vocabulary after temperature and after the top-k and top-p
    cuts, as transformers' warpers make them: (tempered, final), float64.

    Top-k keeps every score at least the k-th largest; top-p then keeps the most probable
    tokens until their cumulative probability passes p (always at least one)."""
    scores = np.asarray(logits, dtype=np.float64) / temperature
    tempered = softmax(scores)
    scores = np.where(scores < np.sort(scores)[-min(top_k, len(scores))], -np.inf, scores)
    ascending = np.argsort(scores, kind="stable")
    removed = np.cumsum(softmax(scores[ascending])) <= 1 - top_p
    removed[-1] = False
    scores[ascending[removed]] = -np.inf
    return tempered, softmax(scores)


class Sampling:
    """How the first generated token was chosen from the logits of the prompt's last position
    (or, with nothing generated, those logits alone: `step` None).

    `shown`: the most probable token IDs (falling probability, the same order at every
    temperature), plus the chosen one when it ranks below them. With a sampled step: the
    distribution after temperature (`tempered`) and after the cuts (`final`), how many
    tokens each cut keeps, and the draw: u and the chosen token's slice [start, end) of the
    cumulative final distribution, in order of falling probability."""

    def __init__(self, trace, n=8):
        self.step = trace.steps[0] if trace.steps else None
        self.position = trace.n_prompt_tokens - 1
        self.logits = np.asarray(trace.row("logits", self.position), np.float64)  # (vocab,)  one row read
        self.probs = softmax(self.logits)
        self.order = np.argsort(-self.logits, kind="stable")  # falling probability, at every temperature
        self.settings = self.step["sampling"] if self.step else None
        self.greedy = bool(self.step) and self.settings["temperature"] == 0
        self.chosen = self.step["chosen"]["id"] if self.step else int(self.order[0])
        self.chosen_rank = self.rank_of(self.chosen)
        shown = [int(i) for i in self.order[:n]]
        self.shown = shown if self.chosen in shown else shown + [self.chosen]
        self.pieces = {i: trace.piece_text(i) for i in self.shown}
        self.u = self.step.get("draw") if self.step else None
        self.sampled = self.step is not None and not self.greedy
        if not self.sampled:
            return
        temperature, top_k, top_p = self.settings["temperature"], self.settings["top_k"], self.settings["top_p"]
        self.tempered, self.final = warped(self.logits, temperature, top_k, top_p)
        self.kept = int((self.final > 0).sum())
        self.kept_by_k = min(top_k, len(self.logits))
        self.cumulative = np.cumsum(self.tempered[self.order])  # (vocab,)  after temperature, before the cuts
        ending = np.cumsum(self.final[self.order[: self.kept]])
        at = self.chosen_rank - 1
        self.slice = (float(ending[at] - self.final[self.chosen]), float(ending[at]))

    def temperatures(self):
        """The user's temperature and the two shown beside it, rising (0.5, 1, 1.5 without one)."""
        own = self.settings["temperature"] if self.sampled else None
        return sorted({*SHOWN_TEMPERATURES, own}) if own and own not in SHOWN_TEMPERATURES else [0.5, 1.0, 1.5]

    def at_temperature(self, temperature):
        return softmax(self.logits / temperature)

    def rank_of(self, token_id):
        return int(np.flatnonzero(self.order == token_id)[0]) + 1
