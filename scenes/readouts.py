"""The numbers of the forward pass's end, derived from the Trace: no Manim, only NumPy.

- `Stack`: one position through every layer, what attention and the MLP add, and the
  logit lens's best guess after each layer.
- `Unembedding`: the final vector and one token's column of W_U: one logit worked.
- `Sampling`: temperature, the top-k and top-p cuts, and the draw, for one generated step
  (as the tracer recorded them with transformers' warpers).
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


class Sampling:
    """How the first generated token was chosen from the logits of the prompt's last position
    (or, with nothing generated, those logits alone: `step` None).

    `shown`: the most probable token IDs (falling probability, the same order at every
    temperature: the step's first candidates), plus the chosen one when it ranks below them.
    With a sampled step, read from its record (the tracer ran transformers' warpers): each
    shown token's probability after temperature (`tempered`) and after the cuts (`final`),
    and after temperature with every more probable token (`cumulative`), all by token ID; how
    many tokens each cut keeps; the kept tokens' `slices` of [0, 1) (most probable first; the
    rest of a long tail in `tail`); and the draw: u and the chosen token's slice [start, end)."""

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
        top = [c["id"] for c in self.step["candidates"]] if self.step else [int(i) for i in self.order]
        shown = top[:n]
        self.shown = shown if self.chosen in shown else shown + [self.chosen]
        self.pieces = {i: trace.piece_text(i) for i in self.shown}
        self.u = self.step.get("draw") if self.step else None
        self.sampled = self.step is not None and not self.greedy
        if not self.sampled:
            return
        entries = {e["id"]: e for e in (*self.step["candidates"], self.step["chosen"])}
        self.tempered = {i: entries[i]["prob_temperature"] for i in self.shown}
        self.final = {i: entries[i]["prob_final"] for i in self.shown}
        self.cumulative = {i: entries[i]["cumulative_temperature"] for i in self.shown}
        self.kept, self.kept_by_k = self.step["kept"], self.step["kept_top_k"]
        self.slices = [(piece["id"], piece["prob_final"]) for piece in self.step["slices"]]
        self.tail = self.kept - len(self.slices)  # kept tokens past the recorded slices: drawn as one block
        chosen = self.step["chosen"]
        self.slice = (chosen["cumulative_final"] - chosen["prob_final"], chosen["cumulative_final"])

    def temperatures(self):
        """The user's temperature and the two shown beside it, rising (0.5, 1, 1.5 without one)."""
        own = self.settings["temperature"] if self.sampled else None
        return sorted({*SHOWN_TEMPERATURES, own}) if own and own not in SHOWN_TEMPERATURES else [0.5, 1.0, 1.5]

    def at_temperature(self, temperature):
        return softmax(self.logits / temperature)

    def rank_of(self, token_id):
        return int(np.flatnonzero(self.order == token_id)[0]) + 1
