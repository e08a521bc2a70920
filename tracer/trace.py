"""The Trace: every intermediate value of one forward pass, as plain NumPy arrays.

This module needs only NumPy and safetensors (no torch), so scenes can read a Trace.

File format (one `.safetensors` file, documented in the README):
- one float32 tensor per activation, named as in TransformerLens's ActivationCache
  without the batch dimension (see `activation_names`), and the read-outs (the logit
  lens, the unembedding columns), whose token IDs are int64;
- the header's metadata holds one key, `trace`: a JSON object with the prompt, the
  token pieces and IDs (prompt + generated), the model, its config, whether the weights
  are pretrained, and one record per generated step.
"""

import json
import os
import secrets
from dataclasses import dataclass, field

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from tracer.errors import UserError, first_line
from tracer.validate import DamagedTrace, check_trace

FORMAT = "gpt2-explainer-trace/1"

# Per-layer activations, in the order the forward pass produces them.
LAYER_KEYS = (
    "hook_resid_pre",  # (T, d)
    "ln1.hook_normalized",  # (T, d)  after LayerNorm's gain and bias
    "attn.hook_q",  # (T, H, dh)
    "attn.hook_k",  # (T, H, dh)
    "attn.hook_v",  # (T, H, dh)
    "attn.hook_attn_scores",  # (H, T, T)  q.k * scale, future entries -inf
    "attn.hook_pattern",  # (H, T, T)  softmax of the scores
    "attn.hook_z",  # (T, H, dh)  pattern-weighted sum of v
    "hook_attn_out",  # (T, d)  z projected by W_O
    "hook_resid_mid",  # (T, d)  resid_pre + attn_out
    "ln2.hook_normalized",  # (T, d)
    "mlp.hook_pre",  # (T, 4d)  before GELU
    "mlp.hook_post",  # (T, 4d)  after GELU
    "hook_mlp_out",  # (T, d)
    "hook_resid_post",  # (T, d)  resid_mid + mlp_out
)


# Read out of the residual stream after the forward pass (tracer/readout.py), with the
# model's own final LayerNorm and unembedding; k = min(10, vocab), n = k or k + 1.
READOUT_KEYS = (
    "logit_lens.token_ids",  # (L+1, T, k) int64  the top k after each layer (row 0: the embeddings)
    "logit_lens.probs",  # (L+1, T, k)  their probabilities, most probable first
    "unembed.token_ids",  # (n,) int64  the last prompt position's top k (+ a sampled choice outside them)
    "unembed.columns",  # (n, d)  their columns of W_U: logit = ln_final . column
)
INTEGER_KEYS = ("logit_lens.token_ids", "unembed.token_ids")  # saved as int64, every other tensor float32


def activation_names(n_layers):
    """Every tensor name a Trace holds for a model with `n_layers` blocks, in order."""
    names = ["hook_embed", "hook_pos_embed"]
    for layer in range(n_layers):
        names += [f"blocks.{layer}.{key}" for key in LAYER_KEYS]
    return names + ["ln_final.hook_normalized", "logits", *READOUT_KEYS]


def readable_piece(raw):
    """A piece's bytes as a reader sees them: its text, with bytes that are not a whole
    UTF-8 character on their own (part of a split Japanese character or emoji) as <E6>."""
    text = bytes(raw).decode("utf-8", errors="surrogateescape")
    return "".join(f"<{ord(c) - 0xDC00:02X}>" if "\udc80" <= c <= "\udcff" else c for c in text)


PARTIAL_PREFIX = ".trace-"


def partial_file(directory):
    """A new empty file to write a trace into before it gets its name: `.trace-<pid>-<random>.partial`,
    so that what a killed run leaves can be told from a live run's (renderer.files.sweep_stale_work
    removes those whose process is gone). Created with mode 0666 less the umask, as an ordinary
    file is (tempfile's, like safetensors' own, are always 0600)."""
    while True:
        path = os.path.join(directory, f"{PARTIAL_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.partial")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return path
        except FileExistsError:
            continue


@dataclass
class Trace:
    """What the tracer recorded: activations plus what the video needs to tell the story.

    `token_ids` covers prompt + generated tokens. The activations cover the first
    `n_traced` of them: all, unless generation ran past the model's context, in which
    case the last generated token is known only from its step record.
    """

    prompt: str
    token_ids: list  # prompt + generated
    tokens: list  # the tokenizer's piece strings, e.g. "ĠThe"
    token_bytes: list  # the raw bytes of each piece, as lists of ints
    n_prompt_tokens: int
    model: str  # the name or path the user gave
    config: dict  # n_layer, n_head, n_embd, n_positions, vocab_size, n_inner, n_params
    pretrained: bool
    weights: str  # a human description of where the weights come from
    steps: list  # one dict per generated token (see tracer.sampling)
    activations: dict = field(repr=False)  # name -> float32 array (token IDs: int64)
    # The bytes of every other token the read-outs name (logit lens, unembedding), by ID
    # as a string (JSON keys): so a scene can write a guess that is not in the text.
    piece_bytes: dict = field(default_factory=dict, repr=False)

    # -- shape facts -----------------------------------------------------------------

    @property
    def n_layers(self):
        return self.config["n_layer"]

    @property
    def n_heads(self):
        return self.config["n_head"]

    @property
    def d_model(self):
        return self.config["n_embd"]

    @property
    def d_head(self):
        return self.d_model // self.n_heads

    @property
    def n_traced(self):
        """How many tokens the recorded forward pass covered."""
        return self.activations["hook_embed"].shape[0]

    def __getitem__(self, name):
        return self.activations[name]

    def block(self, layer, key):
        """One layer's activation, e.g. trace.block(0, "attn.hook_pattern")."""
        return self.activations[f"blocks.{layer}.{key}"]

    # -- text ------------------------------------------------------------------------

    def token_text(self, index):
        """Token `index` as a reader sees it (see `readable_piece`)."""
        return readable_piece(self.token_bytes[index])

    def text(self, start=0, stop=None):
        """Decoded text of tokens[start:stop] (bytes joined first, so split characters rejoin)."""
        raw = b"".join(bytes(b) for b in self.token_bytes[start:stop])
        return raw.decode("utf-8", errors="replace")

    def piece_text(self, token_id):
        """Any token the Trace names, as a reader sees it: from the text, the step records or
        `piece_bytes`; None when the Trace holds nothing of it."""
        if str(token_id) in self.piece_bytes:
            return readable_piece(self.piece_bytes[str(token_id)])
        if token_id in self.token_ids:
            return self.token_text(self.token_ids.index(token_id))
        for step in self.steps:
            for entry in (*step["candidates"], step["chosen"]):
                if entry["id"] == token_id:
                    return readable_piece(entry["bytes"])
        return None

    @property
    def generated_text(self):
        return self.text(self.n_prompt_tokens)

    # -- file format -----------------------------------------------------------------

    def metadata(self):
        return {
            "format": FORMAT,
            "prompt": self.prompt,
            "tokens": self.tokens,
            "token_ids": self.token_ids,
            "token_bytes": self.token_bytes,
            "n_prompt_tokens": self.n_prompt_tokens,
            "model": self.model,
            "config": self.config,
            "pretrained": self.pretrained,
            "weights": self.weights,
            "steps": self.steps,
            "piece_bytes": self.piece_bytes,
        }

    def save(self, path):
        """Write one .safetensors file; atomic, so a crash never leaves half a file at `path`."""
        # safetensors writes each array's raw buffer: a non-contiguous view would be scrambled.
        tensors = {name: np.ascontiguousarray(array, dtype=np.int64 if name in INTEGER_KEYS else np.float32)
                   for name, array in self.activations.items()}
        metadata = {"trace": json.dumps(self.metadata(), ensure_ascii=False, allow_nan=False)}  # JSON has no NaN/inf
        temporary = partial_file(os.path.dirname(os.path.abspath(path)))
        ordinary = os.stat(temporary).st_mode  # as created: 0666 less the umask
        try:
            save_file(tensors, temporary, metadata=metadata)  # writes a new file, always 0600
            os.chmod(temporary, ordinary)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path):
        """Read a file written by `save`; a missing or damaged file raises UserError."""
        if not os.path.isfile(path):
            raise UserError(f"trace file not found: {path}")
        try:
            with safe_open(path, framework="np") as file:
                header = file.metadata() or {}
                activations = {name: file.get_tensor(name) for name in file.keys()}
        except (SafetensorError, OSError, ValueError) as error:
            raise UserError(f"{path} is not a readable trace file ({first_line(error)})") from None
        if "trace" not in header:
            raise UserError(f"{path} is a safetensors file but not a trace (no 'trace' metadata)")
        try:
            meta = json.loads(header["trace"], parse_constant=not_json)
            check_trace(meta, activations)
        except ValueError as error:
            raise UserError(f"{path} has damaged trace metadata ({first_line(error)})") from None
        except DamagedTrace as error:
            raise UserError(f"{path} is a damaged trace: {error}") from None
        try:
            return cls(activations=activations, **{k: v for k, v in meta.items() if k != "format"})
        except TypeError as error:  # a field this version does not know
            raise UserError(f"{path} has damaged trace metadata ({first_line(error)})") from None


def not_json(constant):
    """NaN and Infinity, which Python writes and reads but JSON does not have."""
    raise ValueError(f"{constant} is not a JSON value")
