"""trace_prompt: run a prompt (and N generated tokens) through a model and return a Trace."""

import torch

from tracer.capture import ActivationRecorder
from tracer.errors import UserError
from tracer.readout import logit_lens, unembedding_columns
from tracer.sampling import Sampler, Sampling
from tracer.trace import Trace


def trace_prompt(loaded, prompt, generate=0, sampling=Sampling()):
    """Generate `generate` tokens after `prompt`, then record one forward pass over them all.

    Causality makes one pass over prompt + generated tokens reproduce every step's
    activations (step i's values are the prefix's values). When the sequence outgrows the
    model's context, the pass covers as many tokens as fit, and the last generated token
    is known only from its step record.
    """
    prompt_ids = encode_prompt(loaded, prompt)
    check_generate(loaded, len(prompt_ids), generate)

    ids = torch.tensor([prompt_ids])  # (1, T)
    sampler = Sampler(sampling, loaded.tokens)
    steps = []
    with torch.no_grad():
        for _ in range(generate):
            logits = loaded.model(ids).logits[0, -1]  # (vocab,)
            step = sampler.choose(ids, logits)
            steps.append(step)
            ids = torch.cat([ids, torch.tensor([[step["chosen"]["id"]]])], dim=1)
        activations = record_forward(loaded.model, ids[:, : loaded.n_ctx])
        activations.update(logit_lens(loaded.model, activations))
        chosen = [steps[0]["chosen"]["id"]] if steps else []  # the prediction scene's token, maybe sampled
        activations.update(unembedding_columns(loaded.model, activations["logits"], len(prompt_ids) - 1, chosen))
    named = named_tokens(activations, len(prompt_ids) - 1)

    token_ids = ids[0].tolist()
    return Trace(
        prompt=prompt,
        token_ids=token_ids,
        tokens=loaded.tokens.pieces(token_ids),
        token_bytes=[list(b) for b in loaded.tokens.piece_bytes(token_ids)],
        n_prompt_tokens=len(prompt_ids),
        model=loaded.name,
        config=loaded.config_summary(),
        pretrained=loaded.pretrained,
        weights=loaded.weights,
        steps=steps,
        activations=activations,
        piece_bytes={str(i): list(b) for i, b in zip(named, loaded.tokens.piece_bytes(named))},
    )


def named_tokens(activations, first_position):
    """Every token ID the read-outs name where the video reads them: the logit lens at the
    positions that predict a token (the prompt's last and each generated one's), the model's
    own top k (the lens's last row) at every position (a comparison of two prompts follows a
    word inside each: scenes/compare), and the unembedding columns; so the scenes can write
    each as its piece."""
    lens = activations["logit_lens.token_ids"]  # (L+1, T, k)
    named = {int(i) for i in lens[:, first_position:].ravel()} | {int(i) for i in lens[-1].ravel()}
    return sorted(named | {int(i) for i in activations["unembed.token_ids"]})


def record_forward(model, ids):
    """One forward pass over `ids` (1, T) with every intermediate recorded."""
    with ActivationRecorder(model) as recorder:
        logits = model(ids).logits  # (1, T, vocab)
    return recorder.activations(logits)


def encode_prompt(loaded, prompt):
    if not prompt.strip():
        raise UserError("the prompt is empty: give some text with --prompt")
    ids = loaded.tokens.encode(prompt)
    if not ids:
        raise UserError("the prompt gives no tokens")
    if len(ids) > loaded.n_ctx:
        raise UserError(f"the prompt is {len(ids)} tokens long, but {loaded.name} reads at most {loaded.n_ctx}")
    return ids


def check_generate(loaded, n_prompt, generate):
    """The last step reads n_prompt + generate - 1 tokens, which must fit in the context."""
    if generate < 0:
        raise UserError(f"--generate must be 0 or more, got {generate}")
    most = loaded.n_ctx - n_prompt + 1
    if generate > most:
        raise UserError(f"--generate {generate} is too many: the prompt is {n_prompt} tokens and {loaded.name} "
                        f"reads at most {loaded.n_ctx}, so at most {most} tokens can be generated")
