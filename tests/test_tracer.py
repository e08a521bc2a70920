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
from tracer.sampling import inverse_cdf
from tracer.trace import INTEGER_KEYS, Trace, activation_names, readable_piece

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
    readout = ["logit_lens.token_ids", "logit_lens.probs", "unembed.token_ids", "unembed.columns"]
    expected = (["hook_embed", "hook_pos_embed"]
                + [f"blocks.{layer}.{key}" for layer in range(2) for key in per_layer]
                + ["ln_final.hook_normalized", "logits"] + readout)
    assert activation_names(2) == expected
    assert len(expected) == 38


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
    assert all(array.dtype == (np.int64 if name in INTEGER_KEYS else np.float32)
               for name, array in trace.activations.items())

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


@pytest.mark.parametrize("sampling", [Sampling(temperature=0), Sampling(temperature=1.3, top_k=50, top_p=0.9, seed=7),
                                      Sampling(temperature=0.7, top_k=3, top_p=1.0, seed=1),
                                      Sampling(temperature=2.0, top_k=2000, top_p=1.0, seed=3)])
def test_each_step_records_what_the_sampling_scene_shows(gpt2_vocab_checkpoint, sampling):
    """The counts each cut keeps, the cumulative probabilities and the draw's slices, equal to
    transformers' own warpers on the step's logits (the scene redoes none of them)."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    from tracer.sampling import N_SLICES

    loaded = load_model(str(gpt2_vocab_checkpoint))
    trace = trace_prompt(loaded, "Once upon a time", generate=3, sampling=sampling)
    for step in trace.steps:
        prefix = torch.tensor([trace.token_ids[: step["prefix_length"]]])
        logits = model_outputs(loaded, prefix[0].tolist()).logits[0, -1:]  # (1, vocab)
        if sampling.greedy:
            tempered = final = torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1])[0].double()
            kept_top_k = 1
        else:
            scores = TemperatureLogitsWarper(sampling.temperature)(prefix, logits)
            tempered = scores[0].softmax(-1).double()
            scores = TopKLogitsWarper(sampling.top_k)(prefix, scores)
            kept_top_k = int(torch.isfinite(scores).sum())
            final = TopPLogitsWarper(sampling.top_p)(prefix, scores)[0].softmax(-1).double()
        assert step["kept_top_k"] == kept_top_k and step["kept"] == int((final > 0).sum()) <= kept_top_k
        order = torch.sort(final, descending=True, stable=True).indices[: min(step["kept"], N_SLICES)]
        assert [piece["id"] for piece in step["slices"]] == order.tolist()
        assert max_abs_difference([piece["prob_final"] for piece in step["slices"]], final[order]) <= 1e-5
        for entry in (*step["candidates"], step["chosen"]):
            above_t = tempered[tempered > tempered[entry["id"]]].sum() + tempered[entry["id"]]
            above_f = final[final > final[entry["id"]]].sum() + final[entry["id"]]
            assert abs(entry["cumulative_temperature"] - float(above_t)) <= 1e-5
            assert abs(entry["cumulative_final"] - float(above_f)) <= 1e-5
        if not sampling.greedy:  # u lies in the chosen token's slice
            chosen = step["chosen"]
            assert chosen["cumulative_final"] - chosen["prob_final"] <= step["draw"] < chosen["cumulative_final"] + 1e-9


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
        assert loaded[name].dtype == (np.int64 if name in INTEGER_KEYS else np.float32), name
        assert np.array_equal(loaded[name], array), name  # -inf entries included; IDs exact

    # Other tools read it with plain safetensors: the names and the 'trace' JSON header.
    import json
    with safe_open(str(path), framework="np") as file:
        assert sorted(file.keys()) == sorted(activation_names(2))
        assert file.get_tensor("logit_lens.token_ids").dtype == np.int64
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


# -- the read-outs: the logit lens, the unembedding, the draw ----------------------------------

def check_readouts(loaded, trace):
    """The logit lens and the unembedding columns against the model's own ln_f and lm_head."""
    model, n_layer, T = loaded.model, trace.n_layers, trace.n_traced
    k = min(10, trace.config["vocab_size"])
    ids, probs = trace["logit_lens.token_ids"], trace["logit_lens.probs"]
    assert ids.shape == probs.shape == (n_layer + 1, T, k) and ids.dtype == np.int64
    streams = [trace.block(0, "hook_resid_pre")] + [trace.block(l, "hook_resid_post") for l in range(n_layer)]
    for row, stream in enumerate(streams):
        with torch.no_grad():
            expected = model.lm_head(model.transformer.ln_f(torch.from_numpy(stream))).softmax(-1).numpy()
        # what the lens names are the model's probabilities of those tokens, in falling order,
        # and nothing outside them is more probable than its last
        assert max_abs_difference(np.take_along_axis(expected, ids[row], axis=-1), probs[row]) <= 1e-6
        assert np.all(np.diff(probs[row], axis=-1) <= 1e-7)
        kth = np.sort(expected, axis=-1)[:, -k]
        assert max_abs_difference(probs[row][:, -1], kth) <= 1e-6
    # The last row is the model's own prediction: the top k of softmax(logits).
    final = torch.from_numpy(trace["logits"]).softmax(-1).numpy()
    assert max_abs_difference(np.take_along_axis(final, ids[-1], axis=-1), probs[-1]) <= 1e-6
    assert max_abs_difference(np.sort(final, axis=-1)[:, ::-1][:, :k], probs[-1]) <= 1e-6

    # One worked logit: the final vector times the token's column of W_U is the model's logit.
    position = trace.n_prompt_tokens - 1
    columns, column_ids = trace["unembed.columns"], trace["unembed.token_ids"]
    assert column_ids.dtype == np.int64 and columns.shape == (len(column_ids), trace.d_model)
    assert column_ids[:k].tolist() == np.argsort(-trace["logits"][position], kind="stable")[:k].tolist()
    if trace.steps:
        assert trace.steps[0]["chosen"]["id"] in column_ids.tolist()
    assert max_abs_difference(columns, model.lm_head.weight.detach().numpy()[column_ids]) == 0
    worked = columns.astype(np.float64) @ trace["ln_final.hook_normalized"][position].astype(np.float64)
    assert max_abs_difference(worked, trace["logits"][position, column_ids]) <= 1e-4
    assert trace.config["tie_word_embeddings"] == (model.lm_head.weight is model.transformer.wte.weight)


@pytest.mark.parametrize("name", ["tiny-2x4x32", "tiny-3x2x24"])
def test_logit_lens_and_unembedding_equal_the_model(tiny_checkpoints, name):
    loaded = load_model(str(tiny_checkpoints[name]))
    check_readouts(loaded, trace_prompt(loaded, "Hi there, GPT!", generate=2, sampling=Sampling(seed=3)))


def test_logit_lens_on_gpt2_small_shape(gpt2_small_shaped):
    loaded = load_model(str(gpt2_small_shaped))
    check_readouts(loaded, trace_prompt(loaded, PROMPT, generate=1))


def test_logit_lens_on_nano_sort():
    loaded = load_model("nano-sort")
    trace = trace_prompt(loaded, "CBABBC", generate=6, sampling=Sampling(temperature=0))
    check_readouts(loaded, trace)
    assert trace["logit_lens.token_ids"].shape == (4, 11, 3)  # k = the vocabulary of 3


@pytest.mark.parametrize("sampling", [Sampling(temperature=1.3, top_k=50, top_p=0.9, seed=7),
                                      Sampling(temperature=0.8, seed=0), Sampling(temperature=2.0, top_k=1000,
                                                                                 top_p=1.0, seed=5)])
def test_the_draw_reproduces_the_choice(gpt2_vocab_checkpoint, sampling):
    """u and the final distribution give the chosen token by the inverse of the cumulative
    distribution: the first token, by falling final probability, whose running sum exceeds u."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    loaded = load_model(str(gpt2_vocab_checkpoint))
    trace = trace_prompt(loaded, "Once upon a time", generate=5, sampling=sampling)
    generator = torch.Generator().manual_seed(sampling.seed)
    for step in trace.steps:
        u = step["draw"]
        assert u == float(torch.rand(1, generator=generator, dtype=torch.float64))  # the seeded stream, in order
        assert 0 <= u < 1
        prefix = torch.tensor([trace.token_ids[: step["prefix_length"]]])
        scores = TemperatureLogitsWarper(sampling.temperature)(prefix, model_outputs(
            loaded, prefix[0].tolist()).logits[0, -1][None])
        scores = TopPLogitsWarper(sampling.top_p)(prefix, TopKLogitsWarper(sampling.top_k)(prefix, scores))
        final = scores[0].softmax(-1).numpy().astype(np.float64)
        order = np.argsort(-final, kind="stable")
        chosen = order[np.searchsorted(np.cumsum(final[order]), u, side="right")]
        assert step["chosen"]["id"] == chosen
        assert abs(step["chosen"]["prob_final"] - final[chosen]) <= 1e-6


def test_greedy_steps_have_no_draw(gpt2_vocab_checkpoint):
    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "Once", generate=2, sampling=Sampling(temperature=0))
    assert [step["draw"] for step in trace.steps] == [None, None]


def test_inverse_cdf_picks_the_slice_that_holds_u():
    final = torch.tensor([0.125, 0.0, 0.5, 0.375])  # by falling probability: 2 [0, .5), 3 [.5, .875), 0 [.875, 1)
    assert [inverse_cdf(final, u) for u in (0.0, 0.49, 0.5, 0.87, 0.875, 0.999999)] == [2, 2, 3, 3, 0, 0]
    assert inverse_cdf(torch.tensor([0.5, 0.5 - 1e-7, 0.0]), 0.9999999) == 1  # a total under 1: the last kept


def test_every_token_the_lens_names_has_its_piece(gpt2_vocab_checkpoint):
    loaded = load_model(str(gpt2_vocab_checkpoint))
    trace = trace_prompt(loaded, "Once upon a time", generate=2)
    lens = trace["logit_lens.token_ids"][:, trace.n_prompt_tokens - 1:]
    for token_id in {int(i) for i in lens.ravel()} | set(trace["unembed.token_ids"].tolist()):
        assert trace.piece_text(token_id) == readable_piece(loaded.tokens.piece_bytes([token_id])[0]), token_id
