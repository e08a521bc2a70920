"""The tracer against the model itself: every recorded value equals what transformers computes."""

import numpy as np
import pytest
import torch
from safetensors import safe_open

from tracer.errors import UserError
from tracer.models import load_model
from tracer.record import trace_prompt
from tracer.sampling import Sampling
from tracer.testing import real_gpt2_tokenizer
from tracer.trace import Trace, activation_names

PROMPT = "The quick brown fox jumps"


def model_outputs(loaded, token_ids):
    """The model's own attentions, hidden states and logits for `token_ids`."""
    with torch.no_grad():
        output = loaded.model(torch.tensor([token_ids]), output_attentions=True, output_hidden_states=True)
    return output


def max_abs_difference(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def test_key_list_is_pinned():
    per_layer = [
        "hook_resid_pre", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
        "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "hook_attn_out", "hook_resid_mid",
        "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post",
    ]
    expected = (["hook_embed", "hook_pos_embed"]
                + [f"blocks.{layer}.{key}" for layer in range(2) for key in per_layer]
                + ["ln_final.hook_normalized", "logits"])
    assert activation_names(2) == expected
    assert len(expected) == 34


def check_against_model(loaded, trace):
    """Every comparison the foundation issue lists, with two-sided (absolute) tolerances."""
    config = trace.config
    n_layer, n_head, d_model = config["n_layer"], config["n_head"], config["n_embd"]
    d_head, T = d_model // n_head, trace.n_traced
    assert sorted(trace.activations) == sorted(activation_names(n_layer))
    output = model_outputs(loaded, trace.token_ids[:T])

    # Shapes and dtype, without the batch dimension.
    expected_shapes = {"hook_embed": (T, d_model), "logits": (T, config["vocab_size"]),
                       "blocks.0.attn.hook_q": (T, n_head, d_head), "blocks.0.attn.hook_pattern": (n_head, T, T),
                       "blocks.0.mlp.hook_pre": (T, config["n_inner"])}
    for name, shape in expected_shapes.items():
        assert trace[name].shape == shape, name
    assert all(array.dtype == np.float32 for array in trace.activations.values())

    assert max_abs_difference(trace["logits"], output.logits[0]) <= 1e-4
    # hidden_states[0] is the embedding sum; [l + 1] is block l's output, except the last,
    # which transformers gives after the final LayerNorm.
    hidden = output.hidden_states
    assert len(hidden) == n_layer + 1
    assert max_abs_difference(trace.block(0, "hook_resid_pre"), hidden[0][0]) <= 1e-5
    for layer in range(n_layer - 1):
        assert max_abs_difference(trace.block(layer, "hook_resid_post"), hidden[layer + 1][0]) <= 1e-5
    assert max_abs_difference(trace["ln_final.hook_normalized"], hidden[n_layer][0]) <= 1e-5

    embedding = loaded.model.transformer.wte.weight.detach().numpy()
    position = loaded.model.transformer.wpe.weight.detach().numpy()
    assert max_abs_difference(trace["hook_embed"], embedding[trace.token_ids[:T]]) == 0
    assert max_abs_difference(trace["hook_pos_embed"], position[:T]) == 0

    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    for layer in range(n_layer):
        pattern = trace.block(layer, "attn.hook_pattern")
        assert max_abs_difference(pattern, output.attentions[layer][0]) <= 1e-5
        assert max_abs_difference(pattern.sum(-1), np.ones((n_head, T))) <= 1e-5

        q, k, v = (trace.block(layer, f"attn.hook_{name}") for name in "qkv")
        scores = trace.block(layer, "attn.hook_attn_scores")
        expected = np.einsum("ihd,jhd->hij", q, k) / np.sqrt(d_head)  # (H, T, T)
        assert np.all(np.isneginf(scores[:, future]))
        assert np.all(np.isfinite(scores[:, ~future]))
        assert max_abs_difference(scores[:, ~future], expected[:, ~future]) <= 1e-5

        # The residual stream adds up, and z is the pattern-weighted sum of v.
        resid_pre, resid_mid = trace.block(layer, "hook_resid_pre"), trace.block(layer, "hook_resid_mid")
        assert max_abs_difference(resid_mid, resid_pre + trace.block(layer, "hook_attn_out")) <= 1e-5
        assert max_abs_difference(trace.block(layer, "hook_resid_post"),
                                  resid_mid + trace.block(layer, "hook_mlp_out")) <= 1e-5
        z = np.einsum("hij,jhd->ihd", pattern, v)
        assert max_abs_difference(trace.block(layer, "attn.hook_z"), z) <= 1e-5
        gelu = loaded.model.transformer.h[layer].mlp.act
        post = gelu(torch.from_numpy(trace.block(layer, "mlp.hook_pre"))).numpy()
        assert max_abs_difference(trace.block(layer, "mlp.hook_post"), post) <= 1e-5
        if layer + 1 < n_layer:
            assert max_abs_difference(trace.block(layer + 1, "hook_resid_pre"),
                                      trace.block(layer, "hook_resid_post")) == 0


@pytest.mark.parametrize("name", ["tiny-2x4x32", "tiny-3x2x24"])
def test_trace_equals_model_on_small_checkpoints(tiny_checkpoints, name):
    loaded = load_model(str(tiny_checkpoints[name]))
    trace = trace_prompt(loaded, "Hi there, GPT!", generate=2, sampling=Sampling(seed=3))
    assert trace.n_traced == len(trace.token_ids) == 14 + 2
    check_against_model(loaded, trace)


def test_trace_equals_model_on_gpt2_small_shape(gpt2_small_shaped):
    loaded = load_model(str(gpt2_small_shaped))
    trace = trace_prompt(loaded, PROMPT)
    assert trace.config["n_params"] == 124_439_808  # GPT-2 small's parameter count (tied embeddings)
    assert trace.pretrained is False and "random" in trace.weights
    check_against_model(loaded, trace)


def test_real_gpt2_tokenizer():
    tokenizer = real_gpt2_tokenizer()
    assert tokenizer("Hello world")["input_ids"] == [15496, 995]
    assert tokenizer.convert_ids_to_tokens(tokenizer(" The cat")["input_ids"]) == ["ĠThe", "Ġcat"]


def test_trace_records_pieces_ids_and_bytes(gpt2_vocab_checkpoint):
    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "Hello world The cat")
    assert trace.token_ids == [15496, 995, 383, 3797]
    assert trace.tokens == ["Hello", "Ġworld", "ĠThe", "Ġcat"]
    assert [trace.token_text(i) for i in range(4)] == ["Hello", " world", " The", " cat"]


@pytest.mark.parametrize("prompt", ["日本語を話す", "emoji 😀🎉 ok", "<b>&{}\\%$ 'quotes' \"double\"",
                                    "tab\there", "two\nlines\n\n", "  leading spaces", "é ü ñ"])
def test_tricky_prompts_trace_exactly(gpt2_vocab_checkpoint, prompt):
    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), prompt)
    # The pieces' bytes put back together are exactly the prompt's UTF-8 bytes.
    assert b"".join(bytes(piece) for piece in trace.token_bytes) == prompt.encode("utf-8")
    assert trace.text() == prompt
    assert trace.n_traced == trace.n_prompt_tokens == len(trace.token_ids)


def test_split_character_shows_its_bytes(gpt2_vocab_checkpoint):
    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "日本")
    # GPT-2 splits both characters across byte pieces: æĹ ¥ æľ ¬ (E6 97 A5, E6 9C AC).
    assert trace.tokens == ["æĹ", "¥", "æľ", "¬"]
    assert [trace.token_text(i) for i in range(4)] == ["<E6><97>", "<A5>", "<E6><9C>", "<AC>"]


@pytest.mark.parametrize("sampling", [Sampling(temperature=0), Sampling(temperature=1.3, top_k=50, top_p=0.9, seed=7),
                                      Sampling(temperature=0.7, top_k=3, top_p=1.0, seed=1)])
def test_each_step_matches_a_forward_pass_on_its_prefix(gpt2_vocab_checkpoint, sampling):
    loaded = load_model(str(gpt2_vocab_checkpoint))
    trace = trace_prompt(loaded, "Once upon a time", generate=4, sampling=sampling)
    assert len(trace.steps) == 4 and len(trace.token_ids) == trace.n_prompt_tokens + 4
    for index, step in enumerate(trace.steps):
        prefix = trace.token_ids[: step["prefix_length"]]
        assert step["prefix_length"] == trace.n_prompt_tokens + index
        logits = model_outputs(loaded, prefix).logits[0, -1]
        probs = logits.softmax(-1).numpy()
        top = np.argsort(-probs)[:10]
        assert [c["id"] for c in step["candidates"]] == top.tolist()
        assert max_abs_difference([c["prob"] for c in step["candidates"]], probs[top]) <= 1e-6
        # Causality: the one final pass holds the same logits at the prefix's last position.
        assert max_abs_difference(trace["logits"][len(prefix) - 1], logits) <= 1e-4
        assert trace.token_ids[len(prefix)] == step["chosen"]["id"]
        assert step["sampling"]["seed"] == sampling.seed
        final = [c["prob_final"] for c in step["candidates"]]
        assert step["chosen"]["prob_final"] > 0
        if sampling.greedy:
            assert step["chosen"]["id"] == top[0] and final[0] == 1.0
        else:
            assert 1 <= step["kept"] <= sampling.top_k
            assert sum(f > 0 for f in final) == min(step["kept"], 10)


def test_sampling_is_reproducible_and_seed_dependent(gpt2_vocab_checkpoint):
    loaded = load_model(str(gpt2_vocab_checkpoint))
    runs = [trace_prompt(loaded, "Once", generate=6, sampling=Sampling(temperature=1.5, top_k=1000, top_p=1.0,
                                                                       seed=seed)).token_ids
            for seed in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_temperature_and_cuts_reshape_the_distribution(gpt2_vocab_checkpoint):
    loaded = load_model(str(gpt2_vocab_checkpoint))
    step = trace_prompt(loaded, "Once", generate=1, sampling=Sampling(temperature=0.5, top_k=3, top_p=1.0)).steps[0]
    probs = np.array([c["prob"] for c in step["candidates"]])
    tempered = np.array([c["prob_temperature"] for c in step["candidates"]])
    assert tempered[0] > probs[0]  # a low temperature sharpens
    # Temperature 0.5 squares the probabilities (then renormalises): ratios square too.
    assert max_abs_difference(tempered / tempered[0], (probs / probs[0]) ** 2) <= 1e-4
    final = np.array([c["prob_final"] for c in step["candidates"]])
    assert np.all(final[3:] == 0) and abs(final[:3].sum() - 1) <= 1e-5
    assert step["kept"] == 3


def test_save_and_load_round_trip_is_exact(tiny_checkpoint, tmp_path):
    trace = trace_prompt(load_model(str(tiny_checkpoint)), "round trip 日本 😀", generate=3)
    path = tmp_path / "trace.safetensors"
    trace.save(path)
    loaded = Trace.load(str(path))
    assert loaded.metadata() == trace.metadata()
    for name, array in trace.activations.items():
        assert loaded[name].dtype == np.float32
        assert np.array_equal(loaded[name], array), name  # -inf entries included

    # Other tools read it with plain safetensors: the names and the 'trace' JSON header.
    import json
    with safe_open(str(path), framework="np") as file:
        assert sorted(file.keys()) == sorted(activation_names(2))
        meta = json.loads(file.metadata()["trace"])
        q = file.get_tensor("blocks.1.attn.hook_q")
    for field in ("prompt", "tokens", "token_ids", "model", "config", "pretrained", "steps"):
        assert field in meta
    assert meta["prompt"] == "round trip 日本 😀"
    assert np.array_equal(q, trace.block(1, "attn.hook_q"))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it


def test_load_rejects_damaged_files(tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a safetensors file")
    with pytest.raises(UserError, match="not a readable trace"):
        Trace.load(str(garbage))
    with pytest.raises(UserError, match="not found"):
        Trace.load(str(tmp_path / "missing.safetensors"))
    from safetensors.numpy import save_file
    save_file({"x": np.zeros(3, dtype=np.float32)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(UserError, match="not a trace"):
        Trace.load(str(tmp_path / "plain.safetensors"))


def test_context_limit(short_context_checkpoint):
    loaded = load_model(str(short_context_checkpoint))
    assert loaded.n_ctx == 16
    full = trace_prompt(loaded, "x" * 16)
    assert full.n_traced == 16
    with pytest.raises(UserError, match="17 tokens long"):
        trace_prompt(loaded, "x" * 17)
    # 10 + 7 = 17 > 16: the pass covers 16 tokens, the 17th is known from its step record.
    trace = trace_prompt(loaded, "x" * 10, generate=7)
    assert len(trace.token_ids) == 17 and trace.n_traced == 16
    assert trace.steps[-1]["prefix_length"] == 16
    assert trace.token_ids[16] == trace.steps[-1]["chosen"]["id"]
    with pytest.raises(UserError, match="at most 7 tokens"):
        trace_prompt(loaded, "x" * 10, generate=8)


@pytest.mark.parametrize("prompt", ["", "   ", "\t\n"])
def test_empty_prompt_is_refused(tiny_checkpoint, prompt):
    with pytest.raises(UserError, match="empty"):
        trace_prompt(load_model(str(tiny_checkpoint)), prompt)


@pytest.mark.parametrize("settings, message", [
    (dict(temperature=-0.1), "temperature"), (dict(top_k=0), "top-k"),
    (dict(top_p=0), "top-p"), (dict(top_p=1.01), "top-p")])
def test_bad_sampling_settings_are_refused(settings, message):
    with pytest.raises(UserError, match=message):
        Sampling(**settings)
