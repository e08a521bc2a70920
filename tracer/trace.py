"""The Trace: every intermediate value of one forward pass, as plain NumPy arrays.

This module needs only NumPy and safetensors (no torch), so scenes can read a Trace.

A Trace loaded from a file is lazy: `load` reads the metadata and the tensors' header
(names, shapes, dtypes) and checks them; a tensor is read, and its values checked, on its
first use (`TensorFile`). A 512-token GPT-2-small trace is 770 MB, and a scene reads a
few MB of it.

File format (one `.safetensors` file, documented in the README):
- one float32 tensor per activation, named as in TransformerLens's ActivationCache
  without the batch dimension, and the read-outs (the logit lens, the unembedding
  columns), whose token IDs are int64: every one listed in tracer/tensors.py's table;
- the header's metadata holds one key, `trace`: a JSON object with the prompt, the
  token pieces and IDs (prompt + generated), the model, its config, whether the weights
  are pretrained, and one record per generated step.
"""

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from tracer.errors import UserError, first_line
from tracer.tensors import INTEGER_KEYS, block_name, tensor_names
from tracer.validate import DamagedTrace, OlderTrace, TensorHeader, check_readouts, check_trace, check_values

FORMAT = "gpt2-explainer-trace/2"  # 2: the steps record what the sampling scene shows

def activation_names(n_layers):
    """Every tensor name a Trace holds for a model with `n_layers` blocks, in order (tracer/tensors.py)."""
    return tensor_names(n_layers)


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


class Tensors(Mapping):
    """A trace's tensors, name -> array, as `Trace` uses them: both kinds (in memory, or read
    from a file on first use) answer the same five questions."""

    def tensor(self, name, keep=True):
        """The array `name`; keep=False: the caller takes what it needs, keep nothing for it."""
        raise NotImplementedError

    def row(self, name, index):
        """tensor[index], one index along the first axis."""
        raise NotImplementedError

    def shape(self, name):
        """The array's shape, without reading it."""
        raise NotImplementedError

    @property
    def names_read(self):
        """The names of the tensors read so far."""
        raise NotImplementedError

    def forget(self):
        """Drop what is kept (the next use reads it again)."""
        raise NotImplementedError


class InMemoryTensors(Tensors):
    """A recorded trace's tensors: all in memory, so every one counts as read and nothing is forgotten."""

    def __init__(self, arrays):
        self.arrays = dict(arrays)

    def __getitem__(self, name):
        return self.arrays[name]

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)

    def tensor(self, name, keep=True):
        return self.arrays[name]

    def row(self, name, index):
        return self.arrays[name][index]

    def shape(self, name):
        return self.arrays[name].shape

    @property
    def names_read(self):
        return frozenset(self.arrays)

    def forget(self):
        pass


class TensorFile(Tensors):
    """The tensors of a trace file, each read on its first use: a Mapping name -> array.

    The header (each tensor's shape and dtype) is read and checked at load; a tensor's values
    are checked when it is read (a damaged one raises UserError then). A tensor read with
    keep=True (as `trace[name]` does) is kept, so a scene that reads it again reads no file;
    `forget` drops what is kept. The file is opened for each read and closed after: safetensors
    maps it into memory, and the pages a read touched would otherwise stay in this process's
    resident memory as long as the file is open. So the object holds no handle: it pickles, and
    a forked or spawned worker can use it.
    """

    def __init__(self, path, headers, dims):
        self.path = path  # as the user gave it, for messages
        self.file = os.path.abspath(path)  # what is read, wherever the working directory goes
        self.headers = headers  # name -> validate.TensorHeader (shape, dtype), from the file's header
        self.dims = dims  # the sizes that the values are checked against (validate.dimensions)
        self.identity = file_identity(self.file)
        self.kept = {}  # name -> array, read with keep=True
        self.read = set()  # the name of every tensor read from the file so far

    def __getitem__(self, name):
        return self.tensor(name)

    def __iter__(self):
        return iter(self.headers)

    def __len__(self):
        return len(self.headers)

    def __contains__(self, name):  # Mapping's own would read the tensor
        return name in self.headers

    def shape(self, name):
        return self.headers[name].shape

    def tensor(self, name, keep=True):
        """The tensor `name`: the one kept, or read from the file now (and kept when `keep`)."""
        if name in self.kept:
            return self.kept[name]
        if name not in self.headers:
            raise KeyError(name)
        array = self.read_checked(name)
        if keep:
            self.kept[name] = array
        return array

    def row(self, name, index):
        """tensor[index], one index along the first axis, read alone from the file (safetensors
        reads a slice without the rest) and not kept: the logits of one position are 200 kB of
        a 512-token trace's 100 MB."""
        if name in self.kept:
            return self.kept[name][index]
        if name not in self.headers:
            raise KeyError(name)
        length = self.headers[name].shape[0]
        if not -length <= index < length:
            raise IndexError(f"index {index} is out of range for {name}'s {length} rows")
        return self.read_checked(name, index % length)

    def peek(self, name, index=None):
        """The tensor `name` (or its row `index`) from the file, its values checked, neither kept nor
        counted as read: for the checks on load, which are not a scene's reads."""
        return self.read_checked(name, index, count=False)

    def read_checked(self, name, index=None, count=True):
        """The tensor `name` from the file (or its row `index`), its values checked; `count`: add
        it to the names read."""
        if file_identity(self.file) != self.identity:  # the header checked at load is another file's
            raise UserError(f"{self.path} changed after it was loaded: load the trace again")
        try:
            with safe_open(self.file, framework="np") as file:
                array = file.get_tensor(name) if index is None else file.get_slice(name)[index]
        except (SafetensorError, OSError, ValueError) as error:
            raise UserError(f"{self.path} is not a readable trace file ({first_line(error)})") from None
        if count:
            self.read.add(name)
        try:
            check_values(name, array, self.dims, at=() if index is None else (index,))
        except DamagedTrace as error:
            raise UserError(f"{self.path} is a damaged trace: {error}") from None
        return array

    @property
    def names_read(self):
        return frozenset(self.read)

    def forget(self):
        """Drop every kept tensor (the next use reads it again)."""
        self.kept.clear()


def file_identity(path):
    """What tells this file from another written to the same path since (Trace.save replaces files)."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


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
    # name -> float32 array (token IDs: int64): Tensors, in memory when recorded (a dict given
    # here becomes InMemoryTensors), a TensorFile when loaded
    activations: Mapping = field(repr=False)
    # The bytes of every other token the read-outs name (logit lens, unembedding), by ID
    # as a string (JSON keys): so a scene can write a guess that is not in the text.
    piece_bytes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not isinstance(self.activations, Tensors):
            self.activations = InMemoryTensors(self.activations)

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
        return self.shape("hook_embed")[0]

    # -- the tensors: read on first use when loaded from a file ----------------------------

    def __getitem__(self, name):
        return self.tensor(name)

    def tensor(self, name, keep=True):
        """The tensor `name`. Loaded from a file, it is read on first use; keep=False reads it
        without keeping it (for a value taken once from a big tensor: the caller keeps what it needs)."""
        return self.activations.tensor(name, keep=keep)

    def row(self, name, index):
        """tensor[index] (one index along the first axis: a position's logits, a head's scores).
        Loaded from a file, only that row is read, and it is not kept: keep what you need."""
        return self.activations.row(name, index)

    def block(self, layer, key, keep=True):
        """One layer's activation, e.g. trace.block(0, "attn.hook_pattern"); a key that is not a
        per-layer tensor of tracer/tensors.py's table raises KeyError."""
        return self.tensor(block_name(layer, key), keep=keep)

    def shape(self, name):
        """A tensor's shape, without reading it."""
        return self.activations.shape(name)

    @property
    def tensors_read(self):
        """The names of the tensors read so far: from the file, when loaded; all, when recorded
        (they are all in memory)."""
        return self.activations.names_read

    def forget(self):
        """Drop the tensors kept from the file (a scene calls this when it is done with them);
        nothing for a recorded Trace, whose tensors live only in memory."""
        self.activations.forget()

    def check_layer_head(self, layer, head, flags=("--layer", "--head")):
        """Raise UserError unless `layer` and `head` (None: not chosen) are within this model:
        their upper bounds are known only once it is loaded. `flags` name them in the message
        (the options, or a job file's columns)."""
        for flag, value, count, what in ((flags[0], layer, self.n_layers, "layers"),
                                         (flags[1], head, self.n_heads, "heads")):
            if value is not None and value >= count:
                raise UserError(f"{flag} {value} is out of range: {self.model} has {count} {what}, "
                                f"numbered 0 to {count - 1}")

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
        # A loaded Trace's tensors are read for this and not kept after (keep=False).
        tensors = {name: np.ascontiguousarray(self.tensor(name, keep=False),
                                              dtype=np.int64 if name in INTEGER_KEYS else np.float32)
                   for name in self.activations}
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
        """Open a file written by `save`: its metadata and each tensor's shape and dtype are read
        and checked now, a tensor's values on its first use (see TensorFile). A missing or
        damaged file raises UserError (a damaged value: when it is read)."""
        if not os.path.isfile(path):
            raise UserError(f"trace file not found: {path}")
        try:
            with safe_open(path, framework="np") as file:
                header = file.metadata() or {}
                headers = {name: TensorHeader.of(file.get_slice(name)) for name in file.keys()}
        except (SafetensorError, OSError, ValueError) as error:
            raise UserError(f"{path} is not a readable trace file ({first_line(error)})") from None
        if "trace" not in header:
            raise UserError(f"{path} is a safetensors file but not a trace (no 'trace' metadata)")
        try:
            meta = json.loads(header["trace"], parse_constant=not_json)
            dims = check_trace(meta, headers)
        except ValueError as error:
            raise UserError(f"{path} has damaged trace metadata ({first_line(error)})") from None
        except OlderTrace as error:
            raise UserError(f"{path} was written by an older version: {error}; trace the prompt again") from None
        except DamagedTrace as error:
            raise UserError(f"{path} is a damaged trace: {error}") from None
        tensors = TensorFile(path, headers, dims)
        try:
            check_readouts(meta, tensors.peek)
        except DamagedTrace as error:
            raise UserError(f"{path} is a damaged trace: {error}") from None
        try:
            return cls(activations=tensors, **{k: v for k, v in meta.items() if k != "format"})
        except TypeError as error:  # a field this version does not know
            raise UserError(f"{path} has damaged trace metadata ({first_line(error)})") from None


def not_json(constant):
    """NaN and Infinity, which Python writes and reads but JSON does not have."""
    raise ValueError(f"{constant} is not a JSON value")
