"""tracer/tensors.py's table is the one list of the trace's tensors: every tensor name written in
the code is in it, the validation and the README follow it, and the file format is unchanged."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from tracer import tensors
from tracer.tensors import BY_KEY, LAYER_KEYS, TENSORS, readme_table, tensor_names
from tracer.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("tracer/**/*.py"), *ROOT.glob("scenes/**/*.py"), *ROOT.glob("renderer/**/*.py"),
                  ROOT / "render.py", *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")])
SOURCES.remove(Path(__file__).resolve())  # its misspellings are on purpose
FOREIGN = {"my_notes.probe"}  # a tensor the tests add to a trace as one that is not ours
LAYER = re.compile(r"^blocks\.(\d+|\{\w*\})\.")
TRACE_NAMES = {"trace", "t", "recorded", "loaded", "again", "saved_trace"}


def is_table_name(text):
    """A full or per-layer name of the table, or the dotted tail of one ("hook_z" of "attn.hook_z")."""
    key = LAYER.sub("", text.lstrip("."))
    return key in BY_KEY or any(k.endswith("." + key) for k in BY_KEY)


def looks_like_a_tensor(text):
    return re.fullmatch(r"[\w.{}]+", text) is not None and (
        "hook_" in text or text.startswith(("logit_lens.", "unembed.")) or bool(LAYER.match(text)))


EVERY_NAME = [*tensor_names(2), *BY_KEY]  # full names and per-layer keys


def fits_a_name(f_string):
    """An f-string (its {...} as any word) that builds a name of the table, or a part of one."""
    pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant) else r"\w+" for part in f_string.values)
    return any(re.search(pattern, name) for name in EVERY_NAME)


def misnamed(source, filename="<source>"):
    """'file:line: name' for each tensor name in `source` that the table does not list: any
    string that looks like one (it holds "hook_", or starts "logit_lens.", "unembed.",
    "blocks.{l}."; an f-string with its {...} as any word), and any name a trace is asked for
    (trace["..."], .tensor, .row, .shape, .block(l, "...") with a per-layer key)."""
    wrong = []

    def check(node, text, asked=False, per_layer=False):
        if per_layer:
            ok = text in LAYER_KEYS
        elif asked:
            ok = not re.fullmatch(r"[\w.]+", text) or text in FOREIGN or (is_table_name(text)
                                                                           and not text.startswith("."))
        else:
            ok = not looks_like_a_tensor(text) or LAYER.sub("", text.lstrip(".")) == "" or is_table_name(text)
        if not ok:
            wrong.append(f"{filename}:{node.lineno}: {text}")

    def constant(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    tree = ast.parse(source)
    in_f_strings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            if looks_like_a_tensor(text) and not fits_a_name(node):
                wrong.append(f"{filename}:{node.lineno}: {text}")
        elif constant(node) is not None and id(node) not in in_f_strings:
            check(node, node.value)
        elif isinstance(node, ast.Subscript) and constant(node.slice) is not None:
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name in TRACE_NAMES:
                check(node, node.slice.value, asked=True)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("tensor", "row", "shape") and constant(node.args[0]) is not None:
                check(node, node.args[0].value, asked=True)
            elif node.func.attr == "block" and len(node.args) >= 2 and constant(node.args[1]) is not None:
                check(node, node.args[1].value, per_layer=True)
    return sorted(set(wrong))


def test_every_tensor_name_in_the_code_is_in_tracer_tensors_table():
    """A misspelled tensor name anywhere (recorder, Trace, validation, scenes, the meanings table,
    the tests) fails here, named with its file and line."""
    wrong = [line for path in SOURCES for line in misnamed(path.read_text(), str(path.relative_to(ROOT)))]
    assert not wrong, "tensor names that tracer/tensors.py's table does not list:\n" + "\n".join(wrong)


@pytest.mark.parametrize("source", [
    'trace["blocks.0.attn.hook_patern"]',
    'trace.block(0, "attn.hook_qq")',
    'trace.row("logit", 3)',
    'name = f"blocks.{layer}.hook_resid_postt"',
    'out[prefix + "ln3.hook_normalized"] = value',
    'lens = t["logit_lens.prob"]',
])
def test_a_misspelled_name_is_found(source):
    wrong = misnamed(source)
    assert len(wrong) == 1 and wrong[0].startswith("<source>:1: "), (source, wrong)


@pytest.mark.parametrize("source", [
    'trace["blocks.0.attn.hook_pattern"]', 'trace.block(0, "attn.hook_q")', 'trace.row("logits", 3)',
    'name = f"blocks.{layer}.hook_resid_post"', 'out[prefix + "ln2.hook_normalized"] = value',
    'key = "hook_z"', 'text = "the hook_q of a layer"', 'trace["my_notes.probe"]',
])
def test_a_right_name_passes(source):
    assert misnamed(source) == []


def test_a_misspelled_block_key_fails_when_used():
    with pytest.raises(KeyError, match="tracer/tensors.py's table"):
        tensors.block_name(0, "attn.hook_patern")


def test_the_readme_table_is_the_tensor_table():
    """The README's tensor table (section "The trace file") is `python -m tracer.tensors`'s output."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The trace file"):]
    section = section[: section.index("\n## ", 1)]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == readme_table(), "README.md's tensor table: paste `python -m tracer.tensors` in its place"


def test_the_file_format_is_unchanged():
    """The names, shapes and dtypes that trace files written before the table hold."""
    shapes = {t.key: (" ".join(t.shape), t.dtype.name) for t in TENSORS}
    assert shapes == {
        "hook_embed": ("T d", "float32"), "hook_pos_embed": ("T d", "float32"),
        "hook_resid_pre": ("T d", "float32"), "ln1.hook_normalized": ("T d", "float32"),
        "attn.hook_q": ("T H dh", "float32"), "attn.hook_k": ("T H dh", "float32"),
        "attn.hook_v": ("T H dh", "float32"), "attn.hook_attn_scores": ("H T T", "float32"),
        "attn.hook_pattern": ("H T T", "float32"), "attn.hook_z": ("T H dh", "float32"),
        "hook_attn_out": ("T d", "float32"), "hook_resid_mid": ("T d", "float32"),
        "ln2.hook_normalized": ("T d", "float32"), "mlp.hook_pre": ("T 4d", "float32"),
        "mlp.hook_post": ("T 4d", "float32"), "hook_mlp_out": ("T d", "float32"),
        "hook_resid_post": ("T d", "float32"), "ln_final.hook_normalized": ("T d", "float32"),
        "logits": ("T vocab", "float32"), "logit_lens.token_ids": ("L+1 T k", "int64"),
        "logit_lens.probs": ("L+1 T k", "float32"), "unembed.token_ids": ("n", "int64"),
        "unembed.columns": ("n d", "float32"),
    }
    assert [t.key for t in TENSORS if t.per_layer] == list(LAYER_KEYS)
    assert len(tensor_names(12)) == 8 + 12 * 15


def test_a_trace_asked_for_a_name_outside_the_table_says_so():
    trace = Trace(prompt="a", token_ids=[1], tokens=["a"], token_bytes=[[97]], n_prompt_tokens=1, model="m",
                  config={"n_layer": 1, "n_head": 1, "n_embd": 2}, pretrained=False, weights="", steps=[],
                  activations={"logits": np.zeros((1, 3), np.float32)})
    with pytest.raises(KeyError, match="tracer/tensors.py's table"):
        trace.block(0, "hook_resid_postt")
