"""Loading a GPT-2-family model and its tokenizer: a hub name, a local directory, or nano-sort.

Every model is a real `transformers.GPT2LMHeadModel`, loaded from safetensors with eager
attention (so the model's own attention weights exist and can be compared with ours).
Loading is all or nothing: a checkpoint with a missing, unexpected or wrongly shaped
tensor is refused (transformers reports them in its loading info), never completed with
random numbers. A checkpoint with its own, untied `lm_head` keeps it as its unembedding.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, GPT2LMHeadModel
from transformers.utils import logging as transformers_logging

from tracer import hub, nano_sort
from tracer.errors import UserError, first_line
from tracer.tokens import HuggingFaceTokens, LetterTokens

NANO_SORT = nano_sort.NAME
PICKLE_WEIGHTS = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt", "pytorch_model.bin.index.json")
# A checkpoint whose config.json carries this key (set by the tests and benchmarks that
# build random models) is shown as "random weights" rather than "pretrained".
RANDOM_WEIGHTS_KEY = "explainer_random_weights"
# The hub names of OpenAI's own GPT-2 checkpoints (each also under openai-community/).
OPENAI_MODELS = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")
# Checkpoints saved by transformers 3 and 4 keep GPT-2's causal-mask constants beside the
# weights (h.{l}.attn.bias, which transformers skips itself, and h.{l}.attn.masked_bias):
# constants of the architecture, not weights, so not a reason to refuse a checkpoint.
MASK_CONSTANT = re.compile(r"(^|\.)attn\.masked_bias$")
NAMES_SHOWN = 3  # how many tensor names an error message lists

# The command line prints its own progress; transformers' own bars ("Loading weights") and
# notices are noise there. huggingface_hub's download bars (size, speed, time left) stay on:
# the first run downloads GPT-2 small, about 500 MB. (transformers' disable_progress_bar()
# would turn the hub's bars off too, so its bars are replaced by its own no-op instead.)
transformers_logging.set_verbosity_error()
transformers_logging.set_tqdm_hook(lambda _factory, args, kwargs: transformers_logging.EmptyTqdm(*args, **kwargs))


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
            # What the model computes with: is the unembedding W_E itself? (A checkpoint may
            # say tied in its config and still bring its own lm_head, which then is used.)
            "tie_word_embeddings": self.model.lm_head.weight is self.model.transformer.wte.weight,
            "n_params": sum(p.numel() for p in self.model.parameters()),
        }


def load_model(name):
    """Load `name`: "nano-sort", a local checkpoint directory, or a Hugging Face hub name."""
    if name == NANO_SORT:
        return _load_nano_sort()
    if Path(name).exists() or name.startswith((".", "/", "~")):
        return _load_directory(Path(name).expanduser(), name)
    return _load_from_hub(name)


def _load_nano_sort():
    directory = nano_sort.CHECKPOINT_DIR
    if not (directory / "model.safetensors").is_file():
        raise UserError(f"the bundled nano-sort weights are missing from {directory}; "
                        "rebuild them with: python -m tracer.nano_sort.train")
    model = _from_pretrained(directory, NANO_SORT)
    weights = "trained by this project to sort letters (python -m tracer.nano_sort.train)"
    return LoadedModel(model, LetterTokens(nano_sort.LETTERS), NANO_SORT, True, weights)


def _load_directory(directory, name):
    if not directory.is_dir():
        raise UserError(f"{name} is not a directory (--model takes gpt2, nano-sort or a checkpoint directory)")
    lacking = _lacking(directory)
    if lacking:
        raise UserError(f"{name} is not a GPT-2 checkpoint: it has {lacking}")
    return _load_checkpoint(directory, name, f"pretrained checkpoint at {name}")


def _load_from_hub(name):
    # Cached whole already? Then no network is needed at all.
    folder = hub.cached_snapshot(name)
    if folder is None or _lacking(folder):
        folder = hub.fetch(name, check_config=lambda config_folder: _read_config(config_folder, name))
        lacking = _lacking(folder)
        if lacking:
            raise UserError(f"{name} on the Hugging Face hub is not a GPT-2 checkpoint this program can load: "
                            f"it has {lacking}")
    hub.verify_cached_weights(name, folder)
    owner = "OpenAI" if name.removeprefix("openai-community/") in OPENAI_MODELS else "its authors"
    return _load_checkpoint(folder, name, f"pretrained by {owner} (Hugging Face hub: {name})")


def _lacking(directory):
    """What keeps `directory` from being a loadable checkpoint, in words ("no config.json"), or None."""
    if not (directory / "config.json").is_file():
        return "no config.json"
    if not any(directory.glob("*.safetensors")):
        pickles = [name for name in PICKLE_WEIGHTS if (directory / name).exists()]
        if pickles:
            return (f"only pickle weights ({pickles[0]}); pickle files can run code, so this program loads only "
                    "safetensors: convert with model.save_pretrained(dir) in transformers")
        return "no model.safetensors weights file"
    if not ((directory / "tokenizer.json").is_file()
            or all((directory / part).is_file() for part in ("vocab.json", "merges.txt"))):
        return "no tokenizer (tokenizer.json, or vocab.json and merges.txt)"
    return None


def _read_config(directory, name):
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{name}: its config.json is not valid JSON") from None
    if not isinstance(config, dict) or config.get("model_type") != "gpt2":
        kind = config.get("model_type") if isinstance(config, dict) else None
        raise UserError(f"{name} is not a GPT-2 checkpoint (model_type is {kind!r}); "
                        "this program explains GPT-2-family models")
    return config


def _load_checkpoint(directory, name, weights):
    config = _read_config(directory, name)
    model = _from_pretrained(directory, name)
    tokens = HuggingFaceTokens(_tokenizer(directory, name))
    if config.get(RANDOM_WEIGHTS_KEY):
        return LoadedModel(model, tokens, name, False, "random (untrained) weights")
    return LoadedModel(model, tokens, name, True, weights)


def _from_pretrained(directory, name):
    try:
        model, info = GPT2LMHeadModel.from_pretrained(
            str(directory),
            attn_implementation="eager",  # the model's own attention weights, to compare against
            use_safetensors=True,  # never unpickle weights
            dtype=torch.float32,
            local_files_only=True,
            output_loading_info=True,
            # Wrongly shaped tensors go into the loading info (and are refused below) rather
            # than stop transformers with a table on stderr.
            ignore_mismatched_sizes=True,
        )
    except Exception as error:  # a damaged file surfaces as many different exception types
        raise UserError(f"could not load the weights of {name}: {first_line(error)}") from None
    _refuse_partial_load(name, info)
    return model.eval()


def _refuse_partial_load(name, info):
    """transformers fills what a checkpoint lacks with fresh random numbers: refuse that instead."""
    mismatched = [f"{key} is {tuple(found)} where the config needs {tuple(needed)}"
                  for key, found, needed in sorted(info["mismatched_keys"])]
    problems = [_counted(sorted(info["missing_keys"]), "missing tensor"),
                _counted(sorted(key for key in info["unexpected_keys"] if not MASK_CONSTANT.search(key)),
                         "unexpected tensor"),
                _counted(mismatched, "wrongly shaped tensor")]
    problems = [problem for problem in problems if problem]
    if problems:
        raise UserError(f"{name} does not match its config.json: {'; '.join(problems)}. Refused: a partial load "
                        "would show random numbers as the model's.")


def _counted(items, what):
    """ "2 missing tensors (a, b)", the first few named; "" for none."""
    if not items:
        return ""
    shown = ", ".join(items[:NAMES_SHOWN]) + (f" and {len(items) - NAMES_SHOWN} more" if len(items) > NAMES_SHOWN else "")
    return f"{len(items)} {what}{'' if len(items) == 1 else 's'} ({shown})"


def _tokenizer(directory, name):
    try:
        return AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    except Exception as error:
        raise UserError(f"could not load the tokenizer of {name}: {first_line(error)}") from None
