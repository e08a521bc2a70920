"""Loading a GPT-2-family model and its tokenizer: a hub name, a local directory, or nano-sort.

Every model is a real `transformers.GPT2LMHeadModel`, loaded from safetensors with eager
attention (so the model's own attention weights exist and can be compared with ours).
"""

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from transformers import AutoConfig, AutoTokenizer, GPT2LMHeadModel
from transformers.utils import logging as transformers_logging

from tracer import nano_sort
from tracer.errors import UserError, first_line
from tracer.tokens import HuggingFaceTokens, LetterTokens

NANO_SORT = "nano-sort"
TOKENIZER_FILES = ("vocab.json", "merges.txt")  # a GPT-2 tokenizer's own files (or one tokenizer.json)
PICKLE_WEIGHTS = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt", "pytorch_model.bin.index.json")
# A checkpoint whose config.json carries this key (set by the tests and benchmarks that
# build random models) is shown as "random weights" rather than "pretrained".
RANDOM_WEIGHTS_KEY = "explainer_random_weights"

# The command line prints its own progress; transformers' bars and notices are noise there.
transformers_logging.set_verbosity_error()
transformers_logging.disable_progress_bar()


@dataclass
class LoadedModel:
    model: GPT2LMHeadModel
    tokens: object  # HuggingFaceTokens or LetterTokens
    name: str
    pretrained: bool
    weights: str  # where the weights come from, in words

    def __post_init__(self):
        vocab_size = self.model.config.vocab_size
        if len(self.tokens) > vocab_size:  # its IDs past the embedding's rows would crash the model
            raise UserError(f"{self.name} does not fit its tokenizer: the tokenizer has {len(self.tokens)} tokens, "
                            f"but the model's vocab_size is {vocab_size}")

    @property
    def n_ctx(self):
        return self.model.config.n_positions

    def config_summary(self):
        config = self.model.config
        return {
            "n_layer": config.n_layer,
            "n_head": config.n_head,
            "n_embd": config.n_embd,
            "n_inner": config.n_inner or 4 * config.n_embd,
            "n_positions": config.n_positions,
            "vocab_size": config.vocab_size,
            "activation_function": config.activation_function,
            "layer_norm_epsilon": config.layer_norm_epsilon,
            "tie_word_embeddings": bool(config.tie_word_embeddings),
            "n_params": sum(p.numel() for p in self.model.parameters()),
        }


def load_model(name):
    """Load `name`: "nano-sort", a local checkpoint directory, or a Hugging Face hub name."""
    if name == NANO_SORT:
        return _load_nano_sort()
    if os.path.exists(name) or name.startswith((".", "/", "~")):
        return _load_directory(os.path.expanduser(name))
    return _load_from_hub(name)


def _load_nano_sort():
    directory = nano_sort.CHECKPOINT_DIR
    if not (directory / "model.safetensors").is_file():
        raise UserError(f"the bundled nano-sort weights are missing from {directory}; "
                        "rebuild them with: python -m tracer.nano_sort.train")
    model = _from_pretrained(str(directory), local_files_only=True)
    weights = "trained by this project to sort letters (python -m tracer.nano_sort.train)"
    return LoadedModel(model, LetterTokens(nano_sort.LETTERS), NANO_SORT, True, weights)


def _load_directory(path):
    directory = Path(path)
    if not directory.is_dir():
        raise UserError(f"{path} is not a directory (--model takes gpt2, nano-sort or a checkpoint directory)")
    if not (directory / "config.json").is_file():
        raise UserError(f"{path} is not a GPT-2 checkpoint: it has no config.json")
    try:
        raw_config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{path}/config.json is not valid JSON") from None
    if raw_config.get("model_type") != "gpt2":
        raise UserError(f"{path} is not a GPT-2 checkpoint (model_type is {raw_config.get('model_type')!r})")
    if not any(directory.glob("*.safetensors")):
        pickles = [name for name in PICKLE_WEIGHTS if (directory / name).exists()]
        if pickles:
            raise UserError(f"{path} has only pickle weights ({pickles[0]}); pickle files can run code, so this "
                            "program loads only safetensors: convert with model.save_pretrained(dir) in transformers")
        raise UserError(f"{path} has no model.safetensors weights file")
    if not ((directory / "tokenizer.json").is_file() or all((directory / name).is_file() for name in TOKENIZER_FILES)):
        # transformers would build a tokenizer of one token from the config alone, which reads nothing
        raise UserError(f"{path} has no tokenizer: it needs tokenizer.json, or {' and '.join(TOKENIZER_FILES)} "
                        "(tokenizer.save_pretrained(dir) writes them)")
    model = _from_pretrained(path, local_files_only=True)
    tokens = HuggingFaceTokens(_tokenizer(path, local_files_only=True))
    if raw_config.get(RANDOM_WEIGHTS_KEY):
        return LoadedModel(model, tokens, path, False, "random (untrained) weights")
    return LoadedModel(model, tokens, path, True, f"pretrained checkpoint at {path}")


def _load_from_hub(name):
    # Cached already? Then no network is needed at all.
    try:
        return _hub_model(name, local_files_only=True)
    except _NotCached:
        pass
    if not _hub_reachable():
        raise UserError(_offline_message(name))
    print(f"Downloading {name} from the Hugging Face hub (only the first time)...", flush=True)
    try:
        return _hub_model(name, local_files_only=False)
    except _NotCached:
        raise UserError(_offline_message(name)) from None


class _NotCached(Exception):
    pass


def _hub_model(name, local_files_only):
    try:
        config = AutoConfig.from_pretrained(name, local_files_only=local_files_only)
    except OSError as error:
        if local_files_only or "couldn't connect" in str(error).lower():
            raise _NotCached() from None
        raise UserError(f"no model named {name!r} on the Hugging Face hub, and no such directory") from None
    if config.model_type != "gpt2":
        raise UserError(f"{name} is a {config.model_type} model; this program explains GPT-2-family models")
    model = _from_pretrained(name, local_files_only=local_files_only)
    tokens = HuggingFaceTokens(_tokenizer(name, local_files_only=local_files_only))
    owner = "OpenAI" if name in ("gpt2", "openai-community/gpt2") else "its authors"
    return LoadedModel(model, tokens, name, True, f"pretrained by {owner} (Hugging Face hub: {name})")


def _from_pretrained(name_or_path, local_files_only):
    try:
        model = GPT2LMHeadModel.from_pretrained(
            name_or_path,
            attn_implementation="eager",  # the model's own attention weights, to compare against
            use_safetensors=True,  # never unpickle weights
            dtype=torch.float32,
            local_files_only=local_files_only,
        )
    except Exception as error:  # a damaged file surfaces as many different exception types
        raise UserError(f"could not load the weights of {name_or_path}: {first_line(error)}") from None
    return model.eval()


def _tokenizer(name_or_path, local_files_only):
    try:
        return AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
    except Exception as error:
        raise UserError(f"could not load the tokenizer of {name_or_path} (it needs vocab.json and merges.txt, "
                        f"or tokenizer.json): {first_line(error)}") from None


def _hub_reachable(timeout=5.0):
    """Fail fast when offline, instead of the hub client's half-minute of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy, a direct connection says nothing: let the hub client try
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _offline_message(name):
    return (f"model {name!r} is not in the local cache and the Hugging Face hub cannot be reached. "
            f"Run once with network access to download it, pass a local checkpoint directory "
            f"(--model PATH), or use the bundled offline model (--model {NANO_SORT}).")
