"""Recording a forward pass with forward hooks on the Hugging Face GPT-2 modules.

Each hook keeps a reference to the tensor the module really produced (no copy while the
model runs, so tracing costs little); `activations()` turns them into float32 NumPy
arrays named as in TransformerLens, without the batch dimension.

Where GPT-2 computes a value inside a function rather than a module, it is derived from
what the modules produced: q, k, v are the three thirds of c_attn's output, and the
attention scores are q.k times the module's own scale, with the future masked to -inf.
The pattern is the model's own softmax (the attention module returns it in eager mode).
"""

import numpy as np
import torch

from tracer.tensors import block_name


class ActivationRecorder:
    """Use as `with ActivationRecorder(model) as recorder: model(ids)`."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        # name -> tensor with the batch dimension, as the module produced it; ("qkv" or "z", layer):
        # what activations() splits or reshapes into tensors of the table
        self.saved = {}
        self.handles = []

    def __enter__(self):
        transformer = self.model.transformer
        self._save_output(transformer.wte, "hook_embed")
        self._save_output(transformer.wpe, "hook_pos_embed")
        for layer, block in enumerate(transformer.h):
            name = lambda key: block_name(layer, key)  # noqa: E731  (a key not in the table: KeyError)
            self._save_input(block, name("hook_resid_pre"))
            self._save_output(block.ln_1, name("ln1.hook_normalized"))
            self._save_output(block.attn.c_attn, ("qkv", layer))  # split into q, k, v in activations()
            self._save_input(block.attn.c_proj, ("z", layer))  # the heads concatenated: hook_z, reshaped
            self._save_output(block.attn, name("hook_attn_out"), index=0)
            self._save_output(block.attn, name("attn.hook_pattern"), index=1)
            self._save_input(block.ln_2, name("hook_resid_mid"))
            self._save_output(block.ln_2, name("ln2.hook_normalized"))
            self._save_output(block.mlp.c_fc, name("mlp.hook_pre"))
            self._save_input(block.mlp.c_proj, name("mlp.hook_post"))
            self._save_output(block.mlp, name("hook_mlp_out"))
            self._save_output(block, name("hook_resid_post"))
        self._save_output(transformer.ln_f, "ln_final.hook_normalized")
        return self

    def __exit__(self, *exc_info):
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _save_output(self, module, name, index=None):
        def hook(_module, _inputs, output):
            self.saved[name] = output if index is None else output[index]

        self.handles.append(module.register_forward_hook(hook))

    def _save_input(self, module, name):
        def hook(_module, inputs):
            self.saved[name] = inputs[0]

        self.handles.append(module.register_forward_pre_hook(hook))

    def activations(self, logits):
        """All recorded values as float32 arrays (batch dimension dropped), plus the logits."""
        n_head, d_model = self.config.n_head, self.config.n_embd
        d_head = d_model // n_head
        out = {}
        for name, tensor in self.saved.items():
            value = tensor[0]
            part, layer = name if isinstance(name, tuple) else (None, None)
            if part == "qkv":  # (T, 3d) -> q, k, v each (T, H, dh)
                q, k, v = value.split(d_model, dim=-1)
                for key, part in (("attn.hook_q", q), ("attn.hook_k", k), ("attn.hook_v", v)):
                    out[block_name(layer, key)] = _numpy(part.reshape(-1, n_head, d_head))
                out[block_name(layer, "attn.hook_attn_scores")] = _numpy(self._scores(q, k, layer))
            elif part == "z":  # (T, d) -> (T, H, dh)
                out[block_name(layer, "attn.hook_z")] = _numpy(value.reshape(-1, n_head, d_head))
            else:
                out[name] = _numpy(value)
        out["logits"] = _numpy(logits[0])
        return out

    def _scores(self, q, k, layer):
        """q.k times the attention module's own scale; the future (j > i) is -inf."""
        n_tokens = q.shape[0]
        q = q.reshape(n_tokens, self.config.n_head, -1).transpose(0, 1)  # (H, T, dh)
        k = k.reshape(n_tokens, self.config.n_head, -1).transpose(0, 1)  # (H, T, dh)
        scores = (q @ k.transpose(1, 2)) * self.model.transformer.h[layer].attn.scaling  # (H, T, T)
        future = torch.ones(n_tokens, n_tokens, dtype=torch.bool).triu(diagonal=1)
        return scores.masked_fill(future, float("-inf"))


def _numpy(tensor):
    return np.ascontiguousarray(tensor.detach().to(torch.float32).cpu().numpy())
