"""Checking a trace read from a file against its own config, before anything draws it.

A trace file may come from another version, an edit, a truncated copy or a made-up file, and
the scenes trust what they read: a pattern of the wrong shape fails deep inside a softmax, an
embedding of the wrong width draws wrong numbers without a word. So a trace is checked, and
the first thing wrong is named in one line (DamagedTrace): on load, from the metadata and the
file's header alone (`check_trace`: 1 to 3, no tensor is read), and each tensor's values when
it is first read (`check_values`: 4, and the token IDs of 3), since a scene reads a few of them:

1. the metadata's types (SCHEMA): a JSON object, each field of its type, down to each step's
   candidates;
2. its consistency: the config's sizes are positive and d divides into H heads, the token
   lists agree in length, IDs lie in the vocabulary, bytes in 0..255, one step per
   generated token;
3. every tensor's shape and dtype, from the config (tracer/tensors.py's table, which names
   every tensor a trace holds); tensors not listed there are left alone; token IDs lie in
   the vocabulary (when read);
4. the activations are finite, but for the attention scores' masked future (-inf by design)
   (when read);
5. the read-outs agree with the logits and the steps (`check_readouts`, on load, from a few
   rows of the last prompt position): each unembedding column's worked logit is its logit,
   the token the prediction scene works is the step's choice, the logit lens's last row is
   the top k of softmax(logits).
"""

import math
from dataclasses import dataclass

import numpy as np

from tracer.tensors import LAYER_KEYS, spec, tensor_names


class DamagedTrace(Exception):
    """What is wrong with a trace, in words (Trace.load adds the file's name)."""


class OlderTrace(DamagedTrace):
    """A trace written by an earlier version, which lacks what this one shows: trace it again."""


def check_version(meta):
    """A trace whose steps lack what the sampling scene reads was written before it was recorded."""
    steps = meta.get("steps") if isinstance(meta, dict) else None
    first = steps[0] if isinstance(steps, list) and steps else None
    written_before = isinstance(first, dict) and "kept" in first and "candidates" in first  # an old step, complete
    if written_before and not all(key in first for key in RECORDED_SINCE):
        raise OlderTrace("its steps lack the sampling scene's numbers (kept_top_k, slices), "
                         "which this version records")


# -- 1. the metadata's types ---------------------------------------------------------------

class Int:
    """An integer (not a bool) from `low` up."""

    def __init__(self, low=None):
        self.low = low

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int):
            fail(where, value, "an integer")
        if self.low is not None and value < self.low:
            fail(where, value, f"an integer of {self.low} or more")


class Number:
    """A finite number (JSON has no NaN or infinity; Python's json reads them all the same)."""

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            fail(where, value, "a finite number")


BYTE = Int(0)  # and at most 255: see check_consistency
ENTRY = {"id": Int(0), "token": str, "bytes": [BYTE], "logit": Number(), "prob": Number(),
         "prob_temperature": Number(), "prob_final": Number(), "cumulative_temperature": Number(),
         "cumulative_final": Number()}
STEP = {"prefix_length": Int(1), "sampling": {"temperature": Number(), "top_k": Int(1), "top_p": Number(),
                                              "seed": Int()},
        "kept_top_k": Int(1), "kept": Int(1), "candidates": [ENTRY], "chosen": ENTRY,
        "slices": [{"id": Int(0), "prob_final": Number()}]}
# What a step records since the sampling scene stopped redoing transformers' warpers: a trace
# written before lacks them, and they cannot be derived without the warpers (torch).
RECORDED_SINCE = ("kept_top_k", "slices")
CONFIG_SIZES = ("n_layer", "n_head", "n_embd", "n_inner", "n_positions", "vocab_size", "n_params")
SCHEMA = {"prompt": str, "tokens": [str], "token_ids": [Int(0)], "token_bytes": [[BYTE]],
          "n_prompt_tokens": Int(1), "model": str, "config": {name: Int(1) for name in CONFIG_SIZES},
          "pretrained": bool, "weights": str, "steps": [STEP]}


TYPE_NAMES = {str: "a string", bool: "true or false"}


def check_types(value, schema, where=None):
    """`value` against `schema`: a dict (these keys at least, each checked), a one-item list (a
    list of such items), a Python type, or an object with a check(value, where) method.
    `where` names the value in a message (None: the metadata itself)."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            fail(where or "the metadata", value, "a JSON object")
        for key, item in schema.items():
            if key not in value:
                raise DamagedTrace(f"{where or 'the metadata'} has no {key!r}")
            check_types(value[key], item, key if where is None else f"{where}.{key}")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            fail(where, value, "a list")
        for index, item in enumerate(value):
            check_types(item, schema[0], f"{where}[{index}]")
    elif isinstance(schema, type):
        if not isinstance(value, schema) or (schema is not bool and isinstance(value, bool)):
            fail(where, value, TYPE_NAMES[schema])
    else:
        schema.check(value, where)


def fail(where, value, expected):
    shown = repr(value) if len(repr(value)) <= 40 else f"a {type(value).__name__}"
    raise DamagedTrace(f"{where} is {shown}, not {expected}")


# -- 2. consistency ------------------------------------------------------------------------

def check_consistency(meta):
    config, ids, steps = meta["config"], meta["token_ids"], meta["steps"]
    if config["n_embd"] % config["n_head"]:
        raise DamagedTrace(f"config.n_embd {config['n_embd']} does not split into {config['n_head']} heads")
    epsilon = config.get("layer_norm_epsilon", 1e-5)
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < 1:
        raise DamagedTrace(f"config.layer_norm_epsilon is {epsilon!r}, not a small positive number")
    if not len(meta["tokens"]) == len(ids) == len(meta["token_bytes"]):
        raise DamagedTrace(f"it has {len(ids)} token IDs, {len(meta['tokens'])} tokens and "
                           f"{len(meta['token_bytes'])} token_bytes: one of each per token")
    vocab = config["vocab_size"]
    for where, entry in entries(meta):
        if entry["id"] >= vocab:
            raise DamagedTrace(f"{where} is {entry['id']}, outside the vocabulary of {vocab}")
        if any(byte > 255 for byte in entry["bytes"]):
            raise DamagedTrace(f"{where}'s bytes hold {max(entry['bytes'])}, not a byte (0 to 255)")
    if not meta["n_prompt_tokens"] <= len(ids):
        raise DamagedTrace(f"n_prompt_tokens is {meta['n_prompt_tokens']}, but there are {len(ids)} tokens")
    if len(steps) != len(ids) - meta["n_prompt_tokens"]:
        raise DamagedTrace(f"it has {len(steps)} steps for {len(ids) - meta['n_prompt_tokens']} generated tokens")
    for index, step in enumerate(steps):
        position = meta["n_prompt_tokens"] + index
        if step["prefix_length"] != position or step["chosen"]["id"] != ids[position]:
            raise DamagedTrace(f"steps[{index}] does not choose token {position} ({ids[position]})")
        if not step["candidates"]:
            raise DamagedTrace(f"steps[{index}].candidates is empty")
        if not 1 <= len(step["slices"]) <= step["kept"] <= step["kept_top_k"]:
            raise DamagedTrace(f"steps[{index}] keeps {step['kept_top_k']} tokens after top-k, {step['kept']} after "
                               f"top-p, with {len(step['slices'])} slices: each at least 1 and no more than "
                               f"the one before")
        for rank, piece in enumerate(step["slices"]):
            if piece["id"] >= vocab:
                raise DamagedTrace(f"steps[{index}].slices[{rank}] is {piece['id']}, outside the vocabulary of {vocab}")


def entries(meta):
    """(where, {"id", "bytes"}) for every token the metadata names: the tokens, each step's candidates and choice."""
    for index, (token_id, piece) in enumerate(zip(meta["token_ids"], meta["token_bytes"])):
        yield f"token {index}", {"id": token_id, "bytes": piece}
    for index, step in enumerate(meta["steps"]):
        for rank, candidate in enumerate(step["candidates"]):
            yield f"steps[{index}].candidates[{rank}]", candidate
        yield f"steps[{index}].chosen", step["chosen"]


# -- 3. shapes and dtypes ------------------------------------------------------------------

# safetensors' dtype codes, as NumPy names them (a code not here keeps its own name, e.g. "bf16")
DTYPE_NAMES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16", "I32": "int32",
               "U32": "uint32", "I64": "int64", "U64": "uint64", "F16": "float16", "F32": "float32",
               "F64": "float64"}


@dataclass(frozen=True)
class TensorHeader:
    """A tensor as the file's header describes it, read without its data."""

    shape: tuple
    dtype: str  # NumPy's name: "float32", "int64", ...

    @classmethod
    def of(cls, tensor_slice):
        """From safetensors' `safe_open(...).get_slice(name)`, which reads no data."""
        code = tensor_slice.get_dtype()
        return cls(tuple(tensor_slice.get_shape()), DTYPE_NAMES.get(code, code.lower()))


def dimensions(meta, headers):
    config = meta["config"]
    k = min(10, config["vocab_size"])
    unembedded = headers.get("unembed.token_ids")
    with_choice = meta["steps"] and unembedded is not None and unembedded.shape == (k + 1,)
    return {"T": min(len(meta["token_ids"]), config["n_positions"]),  # generation may run past the context
            "d": config["n_embd"], "H": config["n_head"], "dh": config["n_embd"] // config["n_head"],
            "4d": config["n_inner"], "vocab": config["vocab_size"], "L+1": config["n_layer"] + 1,
            "k": k, "n": k + 1 if with_choice else k}


def check_tensors(headers, names, dims):
    """Every one of `names` present, with its shape and dtype; any other tensor that
    tracer/tensors.py's table lists too (its shape and dtype are the table's, in the sizes
    `dims`). `headers`: name -> TensorHeader (or an array: anything with a shape and a dtype)."""
    missing = [name for name in names if name not in headers]
    if missing:
        raise DamagedTrace(f"it is missing {len(missing)} activations, e.g. {missing[0]}")
    for name in listed(headers, names):
        header = headers[name]
        shape, dtype = spec(name).shape, spec(name).dtype
        expected = tuple(dims[dim] for dim in shape)
        if tuple(header.shape) != expected or str(header.dtype) != dtype.name:
            raise DamagedTrace(f"{name} is {header.dtype} {tuple(header.shape)}, not {dtype} {expected} "
                               f"({', '.join(shape)} for this trace's config and tokens)")


def listed(headers, names):
    """The tensors the table knows, in the order of `names` (the forward pass's), then the rest;
    any other tensor is not ours to judge: nothing reads it."""
    extras = sorted(name for name in set(headers) - set(names) if is_listed(name))
    return [*names, *extras]


def is_listed(name):
    return spec(name) is not None


# -- 4. values, when a tensor is read ------------------------------------------------------

def check_values(name, array, dims, at=()):
    """A tensor just read, whose shape and dtype `check_tensors` passed: token IDs in the
    vocabulary, activations finite (but for the -inf of the attention scores' masked future,
    above the diagonal). A tensor the table does not list is left alone. `at`: the leading
    indices when `array` is a part of the tensor (tensor[at]), so a message names the place
    in the whole tensor."""
    if not is_listed(name) or not array.size:
        return
    if np.issubdtype(array.dtype, np.integer):
        low, high = array.min(), array.max()
        if not 0 <= low <= high < dims["vocab"]:
            raise DamagedTrace(f"{name} holds the token ID {low if low < 0 else high}, "
                               f"outside the vocabulary of {dims['vocab']}")
        return
    if name.endswith("attn.hook_attn_scores"):
        future = np.triu(np.ones(array.shape[-2:], dtype=bool), k=1)  # (T, T): j > i
        damaged = np.isnan(array) | (array == np.inf) | (np.isneginf(array) & ~future)
    else:
        damaged = ~np.isfinite(array)
    if damaged.any():
        inside = tuple(int(i) for i in np.argwhere(damaged)[0])
        raise DamagedTrace(f"{name} holds {array[inside]} at {at + inside}: the activations must be finite numbers"
                           + (" (only the masked future is -inf)" if "attn_scores" in name else ""))


# -- 5. the read-outs against the logits and the steps (on load, from a few rows) -----------------

def check_readouts(meta, read, tolerance=1e-3):
    """The prediction scene's worked logit and the logit lens agree with the logits, and the token
    worked is the step's choice: a hand-edited or mixed trace would draw one number beside
    another that contradicts it. `read(name, index=None)`: the tensor (or its row `index`),
    values checked. Reads a few rows of the last prompt position, never the whole logits."""
    position = meta["n_prompt_tokens"] - 1
    logits = np.asarray(read("logits", position), np.float64)  # (vocab,)
    ids = [int(i) for i in read("unembed.token_ids")]  # (n,)
    worked = meta["steps"][0]["chosen"]["id"] if meta["steps"] else int(np.argmax(logits))
    if worked not in ids:
        raise DamagedTrace(f"unembed.token_ids lacks token {worked}, the {'first step' if meta['steps'] else 'logits'}'"
                           f" choice after position {position}: the read-outs are not this trace's")
    k = len(ids) - (len(ids) > min(10, logits.size))  # the top k by logit, then perhaps the sampled choice
    kth = np.sort(logits)[-k]
    if logits[ids[:k]].min() < kth - tolerance * max(1.0, abs(kth)):
        raise DamagedTrace(f"unembed.token_ids's first {k} are not the top {k} of logits[{position}]: "
                           f"the read-outs are not this trace's")
    x = np.asarray(read("ln_final.hook_normalized", position), np.float64)  # (d,)
    products = np.asarray(read("unembed.columns"), np.float64) @ x  # (n,)  each column's worked logit
    for token_id, product in zip(ids, products):
        if abs(product - logits[token_id]) > tolerance * max(1.0, abs(logits[token_id])):
            raise DamagedTrace(f"ln_final.hook_normalized[{position}] . unembed column {token_id} is {product:.4f}, "
                               f"but logits[{position}, {token_id}] is {logits[token_id]:.4f}: "
                               f"the read-outs disagree with the logits")
    lens_ids = np.asarray(read("logit_lens.token_ids", -1)[position])  # (k,)  the last row: the model's own
    lens_probs = np.asarray(read("logit_lens.probs", -1)[position], np.float64)  # (k,)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    kth = np.sort(probs)[-len(lens_ids)]
    if np.abs(probs[lens_ids] - lens_probs).max() > tolerance or lens_probs.min() < kth - tolerance:
        raise DamagedTrace(f"the logit lens's last row at position {position} is not the top {len(lens_ids)} of "
                           f"softmax(logits[{position}]): the read-outs disagree with the logits")


def check_trace(meta, headers):
    """Checks 1 to 3 on the metadata and each tensor's header (name -> TensorHeader), in order;
    raises DamagedTrace at the first thing wrong. Returns the sizes that `check_values` checks
    a tensor's values against when it is read."""
    check_version(meta)
    check_types(meta, SCHEMA)
    check_consistency(meta)
    n_layer = meta["config"]["n_layer"]
    if n_layer * len(LAYER_KEYS) > len(headers):  # before listing the names of a billion layers
        raise DamagedTrace(f"config.n_layer is {n_layer}, but the file holds only {len(headers)} tensors")
    dims = dimensions(meta, headers)
    check_tensors(headers, tensor_names(n_layer), dims)
    return dims
