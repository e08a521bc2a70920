"""Choosing the next token, with transformers' own logits warpers, and recording why.

Each step's record holds the settings, the top candidates with their probabilities at
each stage (raw softmax, after temperature, after top-k and top-p) and cumulative (with
every more probable token), how many tokens each cut keeps, the chosen token, the draw, and
the kept tokens' slices of [0, 1): so the video shows how sampling reshaped the model's real
distribution and where the random number landed, with transformers' own numbers (the scene
redoes no warper).

The draw is the inverse of the cumulative distribution: u, uniform in [0, 1) from the
seeded generator, picks the first token, in order of falling final probability, at
which the cumulative final probability exceeds u. That is the same distribution as a
multinomial draw, and it can be shown: u is a point on a line cut into the tokens' slices.
"""

import math
from dataclasses import asdict, dataclass

import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from tracer.errors import UserError

N_CANDIDATES = 10
N_SLICES = 256  # the kept tokens a step records for the draw's line (a long tail is one block there)


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.8  # 0 means greedy: always the most probable token
    top_k: int = 40  # keep only the k most probable tokens
    top_p: float = 0.95  # 1 means no top-p cut
    seed: int = 0

    def __post_init__(self):
        for flag, value in (("--temperature", self.temperature), ("--top-p", self.top_p)):
            if not math.isfinite(value):  # nan slips past every comparison; inf is not JSON
                raise UserError(f"{flag} must be a number, got {value}")
        if self.temperature < 0:
            raise UserError(f"--temperature must be 0 (greedy) or more, got {self.temperature}")
        if self.top_k < 1:
            raise UserError(f"--top-k must be 1 or more, got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise UserError(f"--top-p must be in (0, 1], got {self.top_p}")

    @property
    def greedy(self):
        return self.temperature == 0


class Sampler:
    """Draws tokens one step at a time from a seeded generator, so a run is reproducible."""

    def __init__(self, sampling, tokens):
        self.sampling = sampling
        self.tokens = tokens
        self.generator = torch.Generator().manual_seed(sampling.seed)
        self.cuts = [TopKLogitsWarper(sampling.top_k), TopPLogitsWarper(sampling.top_p)]

    def choose(self, input_ids, logits):
        """Pick the token after `input_ids` (1, T) given its logits (vocab,); return its step record."""
        probs = logits.softmax(-1)  # (vocab,)
        if self.sampling.greedy:
            chosen = int(probs.argmax())
            tempered = final = torch.nn.functional.one_hot(torch.tensor(chosen), probs.shape[-1]).float()
            return self._record(input_ids.shape[1], logits, probs, tempered, final, 1, chosen, None)
        scores = TemperatureLogitsWarper(self.sampling.temperature)(input_ids, logits[None])  # (1, vocab)
        tempered = scores[0].softmax(-1)
        top_k, top_p = self.cuts
        scores = top_k(input_ids, scores)  # cut tokens get -inf
        kept_top_k = int(torch.isfinite(scores).sum())
        final = top_p(input_ids, scores)[0].softmax(-1)
        draw = float(torch.rand(1, generator=self.generator, dtype=torch.float64))
        chosen = inverse_cdf(final, draw)
        return self._record(input_ids.shape[1], logits, probs, tempered, final, kept_top_k, chosen, draw)

    def _record(self, prefix_length, logits, probs, tempered, final, kept_top_k, chosen, draw):
        """The step record: what the sampling scene shows, all from transformers' warpers' output."""
        up_to_tempered, up_to_final = cumulative(tempered), cumulative(final)  # (vocab,) each

        def entry(token_id):
            return {
                "id": token_id,
                "token": self.tokens.pieces([token_id])[0],
                "bytes": list(self.tokens.piece_bytes([token_id])[0]),
                "logit": float(logits[token_id]),
                "prob": float(probs[token_id]),
                "prob_temperature": float(tempered[token_id]),
                "prob_final": float(final[token_id]),
                # it and every token more probable: the cumulative column, and the end of its slice of [0, 1)
                "cumulative_temperature": float(up_to_tempered[token_id]),
                "cumulative_final": float(up_to_final[token_id]),
            }

        top = probs.topk(min(N_CANDIDATES, probs.shape[-1])).indices.tolist()
        kept = int((final > 0).sum())
        falling = falling_order(final)[: min(kept, N_SLICES)]
        return {
            "prefix_length": prefix_length,  # the chosen token lands at this position
            "sampling": asdict(self.sampling),
            "kept_top_k": kept_top_k,  # how many tokens top-k kept
            "kept": kept,  # how many tokens survived both cuts (top-k, then top-p)
            "candidates": [entry(i) for i in top],  # most probable first (raw softmax)
            "chosen": entry(chosen),
            "draw": draw,  # u in [0, 1): where it lands in the cumulative final distribution; None when greedy
            # the draw's line: the first N_SLICES kept tokens, most probable first, and their final probabilities
            "slices": [{"id": int(i), "prob_final": float(final[i])} for i in falling],
        }


def falling_order(distribution):
    """Token IDs in order of falling probability; ties: the lower ID first."""
    return torch.sort(distribution, descending=True, stable=True).indices


def cumulative(distribution):
    """(vocab,) -> (vocab,) float64: each token's probability plus that of every token before it
    in falling order (the end of its slice of [0, 1) when the tokens are laid end to end)."""
    order = falling_order(distribution)
    sums = torch.empty(distribution.shape, dtype=torch.float64)
    sums[order] = distribution[order].to(torch.float64).cumsum(0)
    return sums


def inverse_cdf(final, u):
    """The first token, in order of falling probability, at which the cumulative probability
    of `final` (vocab,) exceeds `u`: the token whose slice of [0, 1) holds u."""
    order = falling_order(final)
    ends = final[order].to(torch.float64).cumsum(0)  # (vocab,)
    kept = int((final > 0).sum())
    at = int(torch.searchsorted(ends[:kept], torch.tensor([u], dtype=torch.float64), right=True)[0])
    return int(order[min(at, kept - 1)])  # rounding can leave the total a hair under 1: the last kept token
