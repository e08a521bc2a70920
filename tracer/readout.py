"""What the video reads out of the residual stream besides the logits: the logit lens,
and the unembedding columns of one position's top candidates (for one worked logit).

Both use the model's own modules, never a hand-written forward: the logit lens sends each
layer's residual stream through the model's final LayerNorm (`transformer.ln_f`) and its
unembedding (`lm_head`), as the model does with the last one. GPT-2's `lm_head` has no
bias, so a logit is exactly the dot product of the final vector and one column of W_U
(tied to W_E when `config.tie_word_embeddings`; an untied head is used as it is).
"""

import numpy as np
import torch

LENS_K = 10  # candidates kept per layer and position (fewer when the vocabulary is smaller)


def logit_lens(model, activations, k=LENS_K):
    """The top-k next tokens after each layer, for every position.

    Row 0 reads the embeddings (blocks.0.hook_resid_pre), row l + 1 reads
    blocks.{l}.hook_resid_post; each through ln_f and lm_head, softmax over the whole
    vocabulary, most probable first. The last row is the model's own prediction (the top
    k of softmax(logits)). Returns the two arrays, (L+1, T, k) int64 and float32.
    """
    n_layer = model.config.n_layer
    streams = ["blocks.0.hook_resid_pre"] + [f"blocks.{layer}.hook_resid_post" for layer in range(n_layer)]
    k = min(k, model.config.vocab_size)
    ids, probs = [], []
    with torch.no_grad():
        for name in streams:  # one layer at a time: (T, vocab) each, never (L+1, T, vocab)
            logits = model.lm_head(model.transformer.ln_f(torch.from_numpy(activations[name])))  # (T, vocab)
            top = logits.softmax(-1).topk(k, dim=-1)  # sorted, most probable first
            ids.append(top.indices)
            probs.append(top.values)
    return {
        "logit_lens.token_ids": np.ascontiguousarray(torch.stack(ids).numpy().astype(np.int64)),  # (L+1, T, k)
        "logit_lens.probs": np.ascontiguousarray(torch.stack(probs).to(torch.float32).numpy()),  # (L+1, T, k)
    }


def unembedding_columns(model, logits, position, also=(), k=LENS_K):
    """The columns of W_U for the top k logits at `position` (most probable first), plus
    the tokens in `also` (a sampled choice from outside the top) not among them.

    logits[position, id] = ln_final.hook_normalized[position] . column id (no bias).
    Returns `unembed.token_ids` (n,) int64 and `unembed.columns` (n, d) float32.
    """
    if model.lm_head.bias is not None:
        raise ValueError("an unembedding with a bias: a logit would not be a plain dot product")
    row = logits[position]  # (vocab,)
    top = np.argsort(-row, kind="stable")[: min(k, row.shape[0])].tolist()
    ids = top + [int(i) for i in also if int(i) not in top]
    weight = model.lm_head.weight.detach()  # (vocab, d): row id is column id of W_U
    return {
        "unembed.token_ids": np.array(ids, dtype=np.int64),
        "unembed.columns": np.ascontiguousarray(weight[ids].to(torch.float32).numpy()),
    }
