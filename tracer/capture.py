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


class ActivationRecorder:
    """Use as `with ActivationRecorder(model) as recorder: model(ids)`."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.saved = {}  # name -> tensor with the batch dimension, as the module produced it
        self.handles = []

    def __enter__(self):
        transformer = self.model.transformer
        self._save_output(transformer.wte, "hook_embed")
        self._save_output(transformer.wpe, "hook_pos_embed")
        for layer, block in enumerate(transformer.h):
            prefix = f"blocks.{layer}."
            self._save_input(block, prefix + "hook_resid_pre")
            self._save_output(block.ln_1, prefix + "ln1.hook_normalized")
            self._save_output(block.attn.c_attn, prefix + "attn.qkv")  # split in activations()
            self._save_input(block.attn.c_proj, prefix + "attn.z")  # heads concatenated
            self._save_output(block.attn, prefix + "hook_attn_out", index=0)
            self._save_output(block.attn, prefix + "attn.hook_pattern", index=1)
            self._save_input(block.ln_2, prefix + "hook_resid_mid")
            self._save_output(block.ln_2, prefix + "ln2.hook_normalized")
            self._save_output(block.mlp.c_fc, prefix + "mlp.hook_pre")
            self._save_input(block.mlp.c_proj, prefix + "mlp.hook_post")
            self._save_output(block.mlp, prefix + "hook_mlp_out")
            self._save_output(block, prefix + "hook_resid_post")
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
            if name.endswith("attn.qkv"):  # (T, 3d) -> q, k, v each (T, H, dh)
                prefix = name[: -len("qkv")]
                q, k, v = value.split(d_model, dim=-1)
                for key, part in (("hook_q", q), ("hook_k", k), ("hook_v", v)):
                    out[prefix + key] = _numpy(part.reshape(-1, n_head, d_head))
                layer = int(name.split(".")[1])
                out[prefix + "hook_attn_scores"] = _numpy(self._scores(q, k, layer))
            elif name.endswith("attn.z"):  # (T, d) -> (T, H, dh)
                out[name[: -len("z")] + "hook_z"] = _numpy(value.reshape(-1, n_head, d_head))
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
