"""A trace file is checked against its own config on load: each damage is one line, exit status 2."""

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from cli_checks import assert_one_line_error, run_cli
from tracer.errors import UserError
from tracer.tensors import spec
from tracer.trace import Trace, activation_names


@pytest.fixture(scope="module")
def saved(tiny_checkpoint, tmp_path_factory):
    """A trace of a tiny model (2 layers, 4 heads, width 32, 256 tokens): 3 prompt tokens, 2 generated."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    path = tmp_path_factory.mktemp("valid") / "trace.safetensors"
    trace_prompt(load_model(str(tiny_checkpoint)), "abc", generate=2).save(path)
    return path


def read(path):
    with safe_open(str(path), framework="np") as file:
        return json.loads(file.metadata()["trace"]), {name: file.get_tensor(name) for name in file.keys()}


def damaged(saved, tmp_path, change, raw_metadata=None):
    """A copy of `saved` with change(meta, tensors) applied (or the metadata text replaced)."""
    meta, tensors = read(saved)
    change(meta, tensors)
    path = tmp_path / "damaged.safetensors"
    save_file(tensors, str(path), metadata={"trace": raw_metadata or json.dumps(meta)})
    return path


def assign(where, key, value):
    def change(meta, tensors):
        where(meta, tensors)[key] = value
    return change


def metadata(meta, tensors):
    return meta


def config(meta, tensors):
    return meta["config"]


def scores_with(value, row, column):
    def change(meta, tensors):
        tensors["blocks.1.attn.hook_attn_scores"][2, row, column] = value
    return change


def shorten_tokens(meta, tensors):
    for key in ("token_ids", "tokens", "token_bytes"):
        meta[key] = meta[key][:-1]
    meta["steps"] = meta["steps"][:-1]


DAMAGES = {
    "a JSON list": (None, "[1, 2]", "the metadata is [1, 2], not a JSON object"),
    "no config": (assign(metadata, "config", {}), None, "config has no 'n_layer'"),
    "n_layer a string": (assign(config, "n_layer", "3"), None, "config.n_layer is '3', not an integer"),
    "a billion layers": (assign(config, "n_layer", 10**9), None,
                         "config.n_layer is 1000000000, but the file holds only 38 tensors"),
    "n_head 0": (assign(config, "n_head", 0), None, "config.n_head is 0, not an integer of 1 or more"),
    "n_head not dividing": (assign(config, "n_head", 3), None, "config.n_embd 32 does not split into 3 heads"),
    "an empty step": (assign(metadata, "steps", [{}]), None, "steps[0] has no 'prefix_length'"),
    "fewer steps": (lambda meta, tensors: meta["steps"].pop(), None, "it has 1 steps for 2 generated tokens"),
    "a step's NaN": (assign(lambda meta, tensors: meta["steps"][0]["chosen"], "prob", float("nan")), None,
                     "damaged trace metadata (NaN is not a JSON value)"),
    "a step's infinity": (assign(lambda meta, tensors: meta["steps"][1]["sampling"], "temperature", float("inf")),
                          None, "damaged trace metadata (Infinity is not a JSON value)"),
    "token IDs shorter than the tensors": (shorten_tokens, None,
                                           "hook_embed is float32 (5, 32), not float32 (4, 32) (T, d"),
    "token ID lists of different lengths": (lambda meta, tensors: meta["token_ids"].pop(), None,
                                            "it has 4 token IDs, 5 tokens and 5 token_bytes"),
    "a byte of 300": (assign(lambda meta, tensors: meta["token_bytes"], 0, [300]), None,
                      "token 0's bytes hold 300, not a byte (0 to 255)"),
    "an ID past the vocabulary": (assign(lambda meta, tensors: meta["token_ids"], 1, 256), None,
                                  "token 1 is 256, outside the vocabulary of 256"),
    "a pattern of the wrong shape": (assign(lambda meta, tensors: tensors, "blocks.0.attn.hook_pattern",
                                            np.zeros((4, 5, 4), dtype=np.float32)), None,
                                     "blocks.0.attn.hook_pattern is float32 (4, 5, 4), not float32 (4, 5, 5)"),
    "an embedding of the wrong width": (assign(lambda meta, tensors: tensors, "hook_embed",
                                               np.zeros((5, 31), dtype=np.float32)), None,
                                        "hook_embed is float32 (5, 31), not float32 (5, 32)"),
    "float64 logits": (assign(lambda meta, tensors: tensors, "logits", np.zeros((5, 256))), None,
                       "logits is float64 (5, 256), not float32 (5, 256)"),
    "a missing tensor": (lambda meta, tensors: tensors.pop("blocks.1.mlp.hook_post"), None,
                         "missing 1 activations, e.g. blocks.1.mlp.hook_post"),
    "wrong logit-lens dtype": (assign(lambda meta, tensors: tensors, "logit_lens.token_ids",
                                      np.zeros((3, 5, 10), dtype=np.float32)), None,
                               "logit_lens.token_ids is float32 (3, 5, 10), not int64 (3, 5, 10)"),
    "unembedding columns of the wrong width": (assign(lambda meta, tensors: tensors, "unembed.columns",
                                                      np.zeros((10, 31), dtype=np.float32)), None,
                                               "unembed.columns is float32 (10, 31), not float32"),
    "a trace written before the steps recorded the sampling scene's numbers": (
        lambda meta, tensors: [step.pop(key) for step in meta["steps"] for key in ("kept_top_k", "slices")], None,
        "was written by an older version: its steps lack the sampling scene's numbers (kept_top_k, slices), "
        "which this version records; trace the prompt again"),
    "more slices than kept tokens": (lambda meta, tensors: meta["steps"][0].__setitem__("kept", 1)
                                     or meta["steps"][0]["slices"].extend(meta["steps"][0]["slices"]), None,
                                     "steps[0] keeps"),
    # the read-outs against the logits and the steps (issue 21, item 13)
    "the chosen token without its unembedding column": (
        lambda meta, tensors: tensors["unembed.token_ids"].__setitem__(
            list(tensors["unembed.token_ids"]).index(meta["steps"][0]["chosen"]["id"])
            if meta["steps"][0]["chosen"]["id"] in tensors["unembed.token_ids"] else -1,
            next(i for i in range(256) if i not in tensors["unembed.token_ids"])), None,
        "unembed.token_ids lacks token"),
    "unembedding columns that are not the logits'": (
        lambda meta, tensors: tensors["unembed.columns"].__imul__(2), None, "the read-outs disagree with the logits"),
    "a logit lens whose last row is not softmax(logits)'s": (
        lambda meta, tensors: tensors["logit_lens.probs"].__setitem__((2, 2), tensors["logit_lens.probs"][2, 2, ::-1]),
        None, "the logit lens's last row at position 2 is not the top 10 of softmax(logits[2])"),
    "logits reversed": (lambda meta, tensors: tensors.__setitem__("logits", tensors["logits"][:, ::-1].copy()), None,
                        "the read-outs are not this trace's"),
}

# Damaged values: the file loads (no tensor is read then), and the tensor is refused when first
# read, in the same one line; a scene that reads it stops the render with it. Each: the change,
# the tensor, a scene that reads it (with its options) and the words.
FOLLOW_1_2 = ("--layer", "1", "--head", "2")
READ_DAMAGES = {
    "NaN in an activation": (lambda meta, tensors: tensors["blocks.0.hook_resid_mid"].__setitem__((1, 7), np.nan),
                             "blocks.0.hook_resid_mid", ("mlp", "--layer", "0"),
                             "blocks.0.hook_resid_mid holds nan at (1, 7)"),
    "+inf in the scores' future": (scores_with(np.inf, 1, 3), "blocks.1.attn.hook_attn_scores", ("softmax", *FOLLOW_1_2),
                                   "blocks.1.attn.hook_attn_scores holds inf at (2, 1, 3)"),
    "NaN in the scores' past": (scores_with(np.nan, 3, 1), "blocks.1.attn.hook_attn_scores", ("softmax", *FOLLOW_1_2),
                                "blocks.1.attn.hook_attn_scores holds nan at (2, 3, 1)"),
    "-inf on the diagonal": (scores_with(-np.inf, 2, 2), "blocks.1.attn.hook_attn_scores", ("causal-mask", *FOLLOW_1_2),
                             "hook_attn_scores holds -inf at (2, 2, 2)"),
    "a logit-lens ID past the vocabulary": (lambda meta, tensors: tensors["logit_lens.token_ids"].__setitem__(
        (1, 2, 3), 256), "logit_lens.token_ids", ("layers",),
        "logit_lens.token_ids holds the token ID 256, outside the vocabulary of 256"),
}


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_trace_is_refused_in_one_line(saved, tmp_path, capsys, name):
    change, raw_metadata, words = DAMAGES[name]
    path = damaged(saved, tmp_path, change or (lambda meta, tensors: None), raw_metadata)
    with pytest.raises(UserError) as refusal:
        Trace.load(str(path))
    assert words in str(refusal.value) and "\n" not in str(refusal.value)
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", str(path),
                                "--out", str(tmp_path / "s.png"))
    assert status == 2
    assert_one_line_error(stderr, words)
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("name", READ_DAMAGES)
def test_a_damaged_value_is_refused_in_one_line_when_read(saved, tmp_path, capsys, name):
    change, tensor, (scene, *options), words = READ_DAMAGES[name]
    path = damaged(saved, tmp_path, change)
    trace = Trace.load(str(path))  # the header is sound
    assert trace.tensors_read == frozenset()
    for attempt in range(2):  # refused each time it is asked for, never kept
        with pytest.raises(UserError) as refusal:
            trace[tensor]
        assert words in str(refusal.value) and "\n" not in str(refusal.value)
    assert str(path) in str(refusal.value)
    assert trace["hook_embed"].shape == (5, 32)  # the sound tensors still read
    status, _, stderr = run_cli(capsys, "still", "--scene", scene, *options, "--trace", str(path),
                                "--out", str(tmp_path / "s.png"))
    assert status == 2
    assert_one_line_error(stderr, words)
    assert not (tmp_path / "s.png").exists()


def test_a_damaged_value_found_while_rendering_a_video_is_bad_input(saved, tmp_path, capsys):
    """The worker that reads it reports it as the user's to fix: one line, exit 2, no video."""
    change, _, (scene, *options), words = READ_DAMAGES[next(iter(READ_DAMAGES))]
    path = damaged(saved, tmp_path, change)
    out = tmp_path / "v.mp4"
    status, _, stderr = run_cli(capsys, "video", "--scenes", scene, *options, "--trace", str(path),
                                "--quality", "low", "--no-cache", "--out", str(out))
    assert status == 2
    started, *error = stderr.splitlines()  # the progress line, then the refusal
    assert started.startswith("Rendering 1 scene")
    assert_one_line_error("\n".join(error), words)
    assert not out.exists() and not (tmp_path / "v").exists()


def test_what_a_trace_may_hold(saved, tmp_path):
    """The scores' masked future is -inf by design; a tensor nothing reads is left alone (a logit
    lens that disagrees with the logits is refused: see test_readouts_disagreeing_with_the_logits)."""
    meta, tensors = read(saved)
    assert np.isneginf(tensors["blocks.0.attn.hook_attn_scores"][:, 0, 1:]).all()

    def extras(meta, tensors):
        tensors["my_notes.probe"] = np.full((2, 2), np.nan, dtype=np.float32)
    trace = Trace.load(str(damaged(saved, tmp_path, extras)))
    assert trace.n_traced == 5 and len(trace.steps) == 2
    assert np.isnan(trace["my_notes.probe"]).all()  # read, and still left alone
    assert trace["logit_lens.probs"].shape == (3, 5, 10)


def test_every_tensor_a_trace_holds_has_its_shape_listed():
    for name in activation_names(3):
        assert spec(name) is not None, name


def test_nano_sort_with_its_logits_reversed_is_refused_before_the_prediction_scene(nano_sort_trace_file, tmp_path,
                                                                                   capsys):
    """Issue 21, item 13: the worked logit (x . W_U) would be drawn beside logits that say
    otherwise, with exit 0; now one line, exit 2, no picture."""
    meta, tensors = read(nano_sort_trace_file)
    before = run_cli(capsys, "still", "--scene", "prediction", "--trace", str(nano_sort_trace_file),
                     "--quality", "low", "--out", str(tmp_path / "fine.png"))
    assert before[0] == 0  # the sound trace draws
    tensors["logits"] = np.ascontiguousarray(tensors["logits"][:, ::-1])
    path = tmp_path / "reversed.safetensors"
    save_file(tensors, str(path), metadata={"trace": json.dumps(meta)})
    status, _, stderr = run_cli(capsys, "still", "--scene", "prediction", "--trace", str(path),
                                "--quality", "low", "--out", str(tmp_path / "p.png"))
    assert status == 2
    assert_one_line_error(stderr, "is a damaged trace: ")
    assert "the read-outs" in stderr
    assert not (tmp_path / "p.png").exists()


def test_the_checks_on_load_are_not_a_scenes_reads(saved):
    """check_readouts reads a few rows on load; the lazy trace still counts none as read, keeps none."""
    trace = Trace.load(str(saved))
    assert trace.tensors_read == frozenset() and not trace.activations.kept
