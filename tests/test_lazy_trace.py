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


# -- what each scene reads: its catalog line's `reads` (scenes/catalog.py) -----------------------

def reads_problem(info, read, expected):
    """What to fix when a scene read other tensors than its catalog line says, or None."""
    if read == expected:
        return None
    where = f"scene {info.name!r} ({info.module.replace('.', '/')}.py)"
    line = "the `reads` of its line in scenes/catalog.py"
    if read - expected:
        return f"{where} read {sorted(read - expected)}, which {line} lacks"
    return f"{where} no longer reads {sorted(expected - read)}: take them out of {line}"


def rendered_reads(saved, info, tmp_path, options=SceneOptions()):
    """Render the scene (last frame only) from a freshly loaded trace: (names read, the scene)."""
    trace = Trace.load(saved)
    scene = render(info.load().bind(trace, options), tmp_path)
    assert not trace.activations.kept, "a scene's tear_down drops what it read (a worker's next scene reads anew)"
    return trace.tensors_read, scene


def check_reads(saved, tmp_path, info, options=SceneOptions()):
    """Render `info` and compare what it read with its catalog line; the scene, or a failure naming what to fix."""
    read, scene = rendered_reads(saved, info, tmp_path, options)
    layer = scene.layer if info.follows else None
    expected = info.tensors_read(layer, scene.trace.n_layers, layer_given=options.layer is not None)
    problem = reads_problem(info, read, expected)
    assert problem is None, problem
    return scene


@pytest.mark.parametrize("info", catalog.CATALOG, ids=catalog.names())
def test_a_scene_reads_only_what_its_catalog_line_says(saved, tmp_path, info):
    check_reads(saved, tmp_path, info)


FOLLOWING = [info for info in catalog.CATALOG if info.follows]


@pytest.mark.parametrize("info", FOLLOWING, ids=[info.name for info in FOLLOWING])
def test_a_scene_told_its_layer_and_head_reads_that_layer_alone(saved, tmp_path, info):
    """With --layer and --head the head-choice rule weighs no other layer: only layer 1 is read."""
    scene = check_reads(saved, tmp_path, info, SceneOptions(layer=1, head=0))
    assert (scene.layer, scene.head) == (1, 0)
    assert all(name.startswith("blocks.1.") for name in info.tensors_read(1, 3, layer_given=True))


def test_a_read_the_catalog_line_lacks_names_the_line_to_fix():
    info = catalog.get("layernorm")
    assert reads_problem(info, {"logits", *info.tensors_read(0, 3)}, info.tensors_read(0, 3)) == (
        "scene 'layernorm' (scenes/layernorm.py) read ['logits'], which the `reads` of its line in "
        "scenes/catalog.py lacks")
    assert "no longer reads ['logits']: take them out of" in reads_problem(info, set(), {"logits"})


def test_a_misspelled_read_fails_at_import_naming_the_line():
    misspelled = "blocks.{layer}.attn.hook_q" + "q"  # built: test_tensor_table's scan of the code passes it
    with pytest.raises(ValueError, match=r"scenes/catalog.py, the line of scene 'x': reads "
                                         r"'blocks.\{layer\}.attn.hook_qq', a name that tracer/tensors.py's table lacks"):
        catalog.SceneInfo("x", "scenes.x", "X", "x", follows="head", reads=(misspelled,))
    with pytest.raises(ValueError, match="follows none"):
        catalog.SceneInfo("x", "scenes.x", "X", "x", reads=("blocks.{layer}.attn.hook_q",))
    with pytest.raises(ValueError, match=r"placeholder \{l\} is none of"):
        catalog.SceneInfo("x", "scenes.x", "X", "x", reads=("blocks.{l}.attn.hook_q",))


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
