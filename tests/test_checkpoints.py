"""Checkpoints load whole or not at all, and an untied lm_head is the model's unembedding."""

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from cli_checks import assert_one_line_error, run_cli
from tracer.errors import UserError
from tracer.models import load_model
from tracer.testing import build_hub_checkpoint, build_random_checkpoint, byte_tokenizer
from tracer.trace import Trace

TINY = dict(vocab_size=256, n_layer=2, n_head=4, n_embd=32, n_positions=64, bos_token_id=0, eos_token_id=0)


def altered(source, target, change=None, config=None):
    """A copy of checkpoint `source` whose weights went through `change(dict)` and config through `config`."""
    shutil.copytree(source, target)
    if change is not None:
        weights = load_file(target / "model.safetensors")
        change(weights)
        save_file(weights, target / "model.safetensors", metadata={"format": "pt"})
    if config is not None:
        settings = json.loads((target / "config.json").read_text())
        settings.update(config)
        (target / "config.json").write_text(json.dumps(settings))
    return target


def without(*names):
    return lambda weights: [weights.pop(name) for name in names]


def with_tensors(**tensors):
    return lambda weights: weights.update({name.replace("__", "."): value for name, value in tensors.items()})


LAYER_1 = sorted(f"transformer.h.1.{part}" for part in (
    "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
    "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"))

# Each broken checkpoint: how it is made from the tiny one, and the words its one-line error must hold.
REFUSED = {
    "one-missing": (dict(change=without("transformer.h.1.mlp.c_fc.weight")),
                    "1 missing tensor (transformer.h.1.mlp.c_fc.weight)"),
    "layer-missing": (dict(change=without(*LAYER_1)),
                      f"12 missing tensors ({', '.join(LAYER_1[:3])} and 9 more)"),
    "config-has-more-layers": (dict(config={"n_layer": 3}), "12 missing tensors (transformer.h.2."),
    "unexpected": (dict(change=with_tensors(transformer__h__2__mlp__c_fc__bias=torch.zeros(128))),
                   "1 unexpected tensor (transformer.h.2.mlp.c_fc.bias)"),
    # 11, not 12: transformers skips unexpected keys that contain "attn.bias" (meant for the old
    # causal masks h.{l}.attn.bias; its pattern also matches h.{l}.attn.c_attn.bias).
    "config-has-fewer-layers": (dict(config={"n_layer": 1}), "11 unexpected tensors (transformer.h.1."),
    "wrong-shape": (dict(change=with_tensors(transformer__h__0__mlp__c_fc__weight=torch.zeros(32, 100))),
                    "1 wrongly shaped tensor (transformer.h.0.mlp.c_fc.weight is (32, 100) where the config "
                    "needs (32, 128))"),
    "untied-without-lm-head": (dict(config={"tie_word_embeddings": False}), "1 missing tensor (lm_head.weight)"),
    "all-three": (dict(change=lambda weights: (without("transformer.ln_f.bias")(weights),
                                               with_tensors(extra=torch.zeros(1))(weights),
                                               with_tensors(transformer__wpe__weight=torch.zeros(8, 32))(weights))),
                  "1 missing tensor (transformer.ln_f.bias); 1 unexpected tensor (extra); 1 wrongly shaped tensor "
                  "(transformer.wpe.weight is (8, 32) where the config needs (64, 32))"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_incomplete_checkpoints_are_refused(capsys, tiny_checkpoint, tmp_path, case):
    how, words = REFUSED[case]
    broken = altered(tiny_checkpoint, tmp_path / case, **how)
    out = tmp_path / "out.safetensors"
    status, stdout, stderr = run_cli(capsys, "trace", "--model", str(broken), "--prompt", "hi", "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, words)
    assert f"{broken} does not match its config.json" in stderr and "random numbers" in stderr
    assert not out.exists() and stdout == ""


def test_the_hubs_gpt2_layout_loads(tmp_path):
    """No `transformer.` prefix, and the causal-mask constants of old checkpoints (attn.bias, attn.masked_bias)."""
    directory = build_hub_checkpoint(tmp_path / "hub-layout", n_layer=2, n_head=2, n_embd=16, n_positions=32)
    altered(directory, tmp_path / "older", change=with_tensors(**{f"h__{layer}__attn__masked_bias": torch.tensor(-1e4)
                                                                  for layer in range(2)}))
    for folder in (directory, tmp_path / "older"):
        loaded = load_model(str(folder))
        file = load_file(folder / "model.safetensors")
        assert torch.equal(loaded.model.transformer.h[1].mlp.c_fc.weight, file["h.1.mlp.c_fc.weight"])
    broken = altered(directory, tmp_path / "broken", change=without("h.1.mlp.c_fc.weight"))
    with pytest.raises(UserError, match=r"1 missing tensor \(transformer.h.1.mlp.c_fc.weight\)"):
        load_model(str(broken))


@pytest.fixture(scope="module")
def untied_checkpoint(tmp_path_factory):
    return build_random_checkpoint(tmp_path_factory.mktemp("untied"), byte_tokenizer(), seed=5,
                                   tie_word_embeddings=False, **TINY)


def last_logits_and_unembeddings(trace_file, checkpoint):
    trace = Trace.load(str(trace_file))
    weights = load_file(checkpoint / "model.safetensors")
    final = trace["ln_final.hook_normalized"][trace.n_traced - 1].astype(np.float64)
    via = {name: final @ weights[key].double().numpy().T for name, key in
           (("lm_head", "lm_head.weight"), ("W_E", "transformer.wte.weight"))}
    return trace, trace["logits"][trace.n_traced - 1], via


def test_untied_lm_head_is_the_unembedding(capsys, untied_checkpoint, tmp_path):
    out = tmp_path / "untied.safetensors"
    status, stdout, _ = run_cli(capsys, "trace", "--model", str(untied_checkpoint), "--prompt", "Hello", "--generate",
                                "2", "--out", str(out))
    assert status == 0 and "Top 5 next tokens:" in stdout
    trace, logits, via = last_logits_and_unembeddings(out, untied_checkpoint)
    assert np.max(np.abs(logits - via["lm_head"])) <= 1e-4
    assert np.max(np.abs(logits - via["W_E"])) > 0.1
    assert trace.config["tie_word_embeddings"] is False
    # Its own unembedding counts among the parameters: every tensor in the file is one.
    assert trace.config["n_params"] == sum(t.numel() for t in load_file(untied_checkpoint / "model.safetensors").values())


def test_tied_config_with_its_own_lm_head_keeps_it(capsys, tiny_checkpoint, tmp_path):
    """A checkpoint that says "tied" but brings a distinct lm_head: transformers uses the file's, and so does the trace."""
    head = altered(tiny_checkpoint, tmp_path / "own-head",
                   change=with_tensors(lm_head__weight=torch.randn(256, 32, generator=torch.Generator().manual_seed(1))))
    out = tmp_path / "own-head.safetensors"
    status, _, _ = run_cli(capsys, "trace", "--model", str(head), "--prompt", "Hello", "--out", str(out))
    assert status == 0
    trace, logits, via = last_logits_and_unembeddings(out, head)
    assert np.max(np.abs(logits - via["lm_head"])) <= 1e-4
    assert trace.config["tie_word_embeddings"] is False


def test_tied_checkpoint_reports_tied(tiny_checkpoint):
    loaded = load_model(str(tiny_checkpoint))
    assert loaded.config_summary()["tie_word_embeddings"] is True
    assert "lm_head.weight" not in load_file(tiny_checkpoint / "model.safetensors")


def test_checkpoint_without_tokenizer_is_refused(capsys, tiny_checkpoint, tmp_path):
    bare = altered(tiny_checkpoint, tmp_path / "no-tokenizer")
    (bare / "tokenizer.json").unlink()
    status, _, stderr = run_cli(capsys, "trace", "--model", str(bare), "--prompt", "hi",
                                "--out", str(tmp_path / "out.safetensors"))
    assert status == 2
    assert_one_line_error(stderr, "no tokenizer (tokenizer.json, or vocab.json and merges.txt)")
