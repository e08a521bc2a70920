"""A trace loaded from a file is lazy: a tensor is read on its first use, and a scene reads only
the tensors it shows (tracer.trace.TensorFile)."""

import pickle

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from cli_checks import assert_one_line_error, run_cli
from scene_checks import render
from scenes import catalog
from scenes.base import SceneOptions
from tracer.errors import UserError
from tracer.trace import Trace, activation_names


@pytest.fixture(scope="module")
def recorded(tiny_checkpoints):
    """A tiny model with 3 layers (2 heads, width 24, byte tokens): 5 prompt tokens, 3 generated."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    return trace_prompt(load_model(str(tiny_checkpoints["tiny-3x2x24"])), "abcab", generate=3)


@pytest.fixture(scope="module")
def saved(recorded, tmp_path_factory):
    path = tmp_path_factory.mktemp("lazy") / "trace.safetensors"
    recorded.save(path)
    return str(path)


# -- what each scene reads -----------------------------------------------------------------------
#
# From what each scene shows (scenes/*.py). L is the layer a layer or head scene follows; besides
# the tensors below, those scenes read the attention patterns the head-choice rule weighs
# (scenes.views.choose_head): every layer's, or only layer L's when --layer and --head are given.

def block(layer, *keys):
    return {f"blocks.{layer}.{key}" for key in keys}


def every_layer(n_layers, *keys):
    return set().union(*(block(layer, *keys) for layer in range(n_layers)))


READS = {
    "title": lambda L, n: set(),
    "tokens": lambda L, n: set(),
    "embeddings": lambda L, n: {"hook_embed", "hook_pos_embed"} | block(0, "hook_resid_pre"),
    "layernorm": lambda L, n: block(L, "hook_resid_pre", "ln1.hook_normalized"),
    "qkv": lambda L, n: block(L, "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v"),
    "dot-products": lambda L, n: block(L, "attn.hook_q", "attn.hook_k", "attn.hook_attn_scores"),
    "causal-mask": lambda L, n: block(L, "attn.hook_q", "attn.hook_k", "attn.hook_attn_scores"),
    "softmax": lambda L, n: block(L, "attn.hook_attn_scores", "attn.hook_pattern"),
    "weighted-values": lambda L, n: block(L, "attn.hook_v", "attn.hook_pattern", "attn.hook_z"),
    "all-heads": lambda L, n: block(L, "attn.hook_pattern", "attn.hook_z", "hook_attn_out", "hook_resid_pre",
                                    "hook_resid_mid"),
    "mlp": lambda L, n: block(L, "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out",
                              "hook_resid_mid", "hook_resid_post"),
    "layers": lambda L, n: (every_layer(n, "hook_attn_out", "hook_mlp_out", "hook_resid_post")
                            | block(0, "hook_resid_pre") | {"logit_lens.token_ids", "logit_lens.probs"}),
    "prediction": lambda L, n: ({"logits", "ln_final.hook_normalized", "unembed.token_ids", "unembed.columns"}
                                | block(n - 1, "hook_resid_post")),
    "sampling": lambda L, n: {"logits"},
    "loop": lambda L, n: {"logits"},
}


def test_every_scene_has_its_reads_listed():
    assert list(READS) == catalog.names()


def rendered_reads(saved, info, tmp_path, options=SceneOptions()):
    """Render the scene (last frame only) from a freshly loaded trace: (names read, the scene)."""
    trace = Trace.load(saved)
    scene = render(info.load().bind(trace, options), tmp_path)
    assert not trace.activations.kept, "a scene's tear_down drops what it read (a worker's next scene reads anew)"
    return trace.tensors_read, scene


@pytest.mark.parametrize("info", catalog.CATALOG, ids=catalog.names())
def test_a_scene_reads_only_what_it_shows(saved, tmp_path, info):
    read, scene = rendered_reads(saved, info, tmp_path)
    n_layers = scene.trace.n_layers
    layer = scene.layer if info.follows else None
    rule = every_layer(n_layers, "attn.hook_pattern") if info.follows else set()
    expected = READS[info.name](layer, n_layers) | rule
    assert read == expected, (f"{info.name} read {sorted(read - expected)} beyond what it shows"
                              if read - expected else f"{info.name} no longer reads {sorted(expected - read)}")


FOLLOWING = [info for info in catalog.CATALOG if info.follows]


@pytest.mark.parametrize("info", FOLLOWING, ids=[info.name for info in FOLLOWING])
def test_a_scene_told_its_layer_and_head_reads_that_layer_alone(saved, tmp_path, info):
    """With --layer and --head the head-choice rule weighs no other layer: only layer 1 is read."""
    read, scene = rendered_reads(saved, info, tmp_path, SceneOptions(layer=1, head=0))
    assert (scene.layer, scene.head) == (1, 0)
    assert read == READS[info.name](1, scene.trace.n_layers) | block(1, "attn.hook_pattern")
    assert all(name.startswith("blocks.1.") for name in read)


# -- the Trace's side: read on first use, kept or not ---------------------------------------------

def test_loading_reads_no_tensor_and_each_is_read_on_first_use(saved, recorded):
    trace = Trace.load(saved)
    assert trace.tensors_read == frozenset()
    assert trace.n_traced == 8 and trace.shape("logits") == (8, 256)  # from the header
    assert "logits" in trace.activations and len(trace.activations) == len(recorded.activations)
    assert sorted(trace.activations) == sorted(activation_names(3))
    assert trace.tensors_read == frozenset()

    pattern = trace.block(2, "attn.hook_pattern")
    assert np.array_equal(pattern, recorded.block(2, "attn.hook_pattern"))
    assert trace.tensors_read == {"blocks.2.attn.hook_pattern"}
    assert trace.block(2, "attn.hook_pattern") is pattern  # kept: read once

    row = trace.row("logits", 3)  # one position, not the whole tensor, not kept
    assert row.shape == (256,) and np.array_equal(row, recorded["logits"][3])
    assert np.array_equal(trace.row("logits", -1), recorded["logits"][-1])
    assert set(trace.activations.kept) == {"blocks.2.attn.hook_pattern"}
    assert trace.tensors_read == {"blocks.2.attn.hook_pattern", "logits"}
    with pytest.raises(IndexError):
        trace.row("logits", 8)
    with pytest.raises(KeyError):
        trace["no such tensor"]

    trace.forget()
    assert not trace.activations.kept
    assert np.array_equal(trace.block(2, "attn.hook_pattern"), pattern)  # read again


def test_a_tensor_read_without_keeping_is_not_kept(saved, recorded):
    trace = Trace.load(saved)
    values = trace.block(1, "mlp.hook_post", keep=False)
    assert np.array_equal(values, recorded.block(1, "mlp.hook_post"))
    assert not trace.activations.kept and trace.tensors_read == {"blocks.1.mlp.hook_post"}


def test_a_lazy_trace_pickles_and_reads_in_the_copy(saved, recorded):
    copy = pickle.loads(pickle.dumps(Trace.load(saved)))
    assert np.array_equal(copy["hook_embed"], recorded["hook_embed"])


def test_a_recorded_trace_works_as_before(recorded):
    assert recorded.tensors_read == frozenset(recorded.activations)  # all in memory
    assert recorded.row("logits", 2) is not None and recorded.shape("logits") == (8, 256)
    before = recorded["logits"]
    recorded.forget()  # nothing to drop: there is no file to read them again from
    assert recorded["logits"] is before


def test_saving_a_loaded_trace_writes_the_same_tensors(saved, recorded, tmp_path):
    Trace.load(saved).save(tmp_path / "again.safetensors")
    again = Trace.load(str(tmp_path / "again.safetensors"))
    assert all(np.array_equal(again[name], recorded[name]) for name in recorded.activations)


def test_a_file_replaced_after_loading_is_refused_when_read(saved, recorded, tmp_path):
    path = tmp_path / "trace.safetensors"
    recorded.save(path)
    trace = Trace.load(str(path))
    recorded.save(path)  # a new file at the same path (os.replace): the header checked is not its
    with pytest.raises(UserError) as refusal:
        trace["logits"]
    assert "changed after it was loaded" in str(refusal.value) and "\n" not in str(refusal.value)


# -- damage: in the header at load, in a value when it is read ----------------------------------

def copy_with(saved, path, change):
    with safe_open(saved, framework="np") as file:
        metadata, tensors = file.metadata(), {name: file.get_tensor(name) for name in file.keys()}
    change(tensors)
    save_file(tensors, str(path), metadata=metadata)
    return str(path)


def test_a_damaged_value_that_no_scene_reads_stops_nothing_else(saved, tmp_path, capsys):
    path = copy_with(saved, tmp_path / "nan.safetensors",
                     lambda tensors: tensors["blocks.2.mlp.hook_post"].__setitem__((4, 5), np.nan))
    trace = Trace.load(path)
    with pytest.raises(UserError) as refusal:
        trace.block(2, "mlp.hook_post")
    assert "blocks.2.mlp.hook_post holds nan at (4, 5)" in str(refusal.value)
    with pytest.raises(UserError) as refusal:  # a row with the NaN names its place in the whole tensor
        trace.row("blocks.2.mlp.hook_post", 4)
    assert "blocks.2.mlp.hook_post holds nan at (4, 5)" in str(refusal.value)
    assert np.isfinite(trace.row("blocks.2.mlp.hook_post", 3)).all()  # a sound row reads

    status, _, _ = run_cli(capsys, "still", "--scene", "tokens", "--trace", path, "--out", str(tmp_path / "t.png"))
    assert status == 0 and (tmp_path / "t.png").exists()  # the tokens scene reads no activation
    status, _, stderr = run_cli(capsys, "still", "--scene", "mlp", "--layer", "2", "--trace", path,
                                "--out", str(tmp_path / "m.png"))
    assert status == 2 and not (tmp_path / "m.png").exists()
    assert_one_line_error(stderr, "blocks.2.mlp.hook_post holds nan at (4, 5)")


def truncated(saved, path, keep):
    data = open(saved, "rb").read()
    path.write_bytes(data[:keep(len(data))])
    return str(path)


def header_length(saved):
    return int.from_bytes(open(saved, "rb").read(8), "little")


@pytest.mark.parametrize("keep", [lambda size: size - 100, lambda size: 8 + 40, lambda size: 4],
                         ids=["data cut short", "header cut short", "length cut short"])
def test_a_truncated_file_is_refused_at_load(saved, tmp_path, capsys, keep):
    path = truncated(saved, tmp_path / "cut.safetensors", keep)
    with pytest.raises(UserError) as refusal:
        Trace.load(path)
    assert "is not a readable trace file" in str(refusal.value) and "\n" not in str(refusal.value)
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", path, "--out", str(tmp_path / "s.png"))
    assert status == 2 and not (tmp_path / "s.png").exists()
    assert_one_line_error(stderr, "is not a readable trace file")


def test_a_garbled_header_is_refused_at_load(saved, tmp_path):
    data = bytearray(open(saved, "rb").read())
    start = data.index(b'"dtype"', 8, 8 + header_length(saved))
    data[start:start + 7] = b'"dtyp\x00"'  # the JSON still parses; a tensor lacks its dtype
    path = tmp_path / "garbled.safetensors"
    path.write_bytes(bytes(data))
    with pytest.raises(UserError) as refusal:
        Trace.load(str(path))
    assert "is not a readable trace file" in str(refusal.value) and "\n" not in str(refusal.value)
