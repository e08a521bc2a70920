"""Choosing the next token, with transformers' own logits warpers, and recording why.

Each step's record holds the settings, the top candidates with their probabilities at
each stage (raw softmax, after temperature, after top-k and top-p), the chosen token, and
the draw, so the video can show how sampling reshaped the model's real distribution and
where the random number landed.

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
        else:
            scores = TemperatureLogitsWarper(self.sampling.temperature)(input_ids, logits[None])  # (1, vocab)
            tempered = scores[0].softmax(-1)
            for cut in self.cuts:
                scores = cut(input_ids, scores)  # cut tokens get -inf
            final = scores[0].softmax(-1)
            draw = float(torch.rand(1, generator=self.generator, dtype=torch.float64))
            chosen = inverse_cdf(final, draw)
            return self._record(input_ids.shape[1], logits, probs, tempered, final, chosen, draw)
        return self._record(input_ids.shape[1], logits, probs, tempered, final, chosen, None)

    def _record(self, prefix_length, logits, probs, tempered, final, chosen, draw):
        def entry(token_id):
            return {
                "id": token_id,
                "token": self.tokens.pieces([token_id])[0],
                "bytes": list(self.tokens.piece_bytes([token_id])[0]),
                "logit": float(logits[token_id]),
                "prob": float(probs[token_id]),
                "prob_temperature": float(tempered[token_id]),
                "prob_final": float(final[token_id]),
            }

        top = probs.topk(min(N_CANDIDATES, probs.shape[-1])).indices.tolist()
        return {
            "prefix_length": prefix_length,  # the chosen token lands at this position
            "sampling": asdict(self.sampling),
            "kept": int((final > 0).sum()),  # how many tokens survived the cuts
            "candidates": [entry(i) for i in top],  # most probable first (raw softmax)
            "chosen": entry(chosen),
            "draw": draw,  # u in [0, 1): where it lands in the cumulative final distribution; None when greedy
        }


def inverse_cdf(final, u):
    """The first token, in order of falling probability, at which the cumulative probability
    of `final` (vocab,) exceeds `u`: the token whose slice of [0, 1) holds u."""
    order = torch.sort(final, descending=True, stable=True).indices  # ties: the lower ID first
    cumulative = final[order].to(torch.float64).cumsum(0)  # (vocab,)
    kept = int((final > 0).sum())
    at = int(torch.searchsorted(cumulative[:kept], torch.tensor([u], dtype=torch.float64), right=True)[0])
    return int(order[min(at, kept - 1)])  # rounding can leave the total a hair under 1: the last kept token
