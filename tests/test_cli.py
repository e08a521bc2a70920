"""The command line: what it writes and prints, and how it refuses bad input."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cli_checks import assert_one_line_error, run_cli

import render
from tracer.testing import build_random_checkpoint, byte_tokenizer
from renderer.outputs import output_path
from tracer.errors import UserError
from tracer.trace import Trace

ROOT = Path(__file__).resolve().parent.parent


def test_trace_command_writes_file_and_summary(capsys, gpt2_vocab_checkpoint, tmp_path):
    out = tmp_path / "t.safetensors"
    status, stdout, _ = run_cli(capsys, "trace", "--model", str(gpt2_vocab_checkpoint), "--prompt", "Hello world",
                                "--generate", "2", "--out", str(out))
    assert status == 0
    trace = Trace.load(str(out))
    assert trace.token_ids[:2] == [15496, 995] and len(trace.token_ids) == 4
    assert "'Hello'" in stdout and "id 15496" in stdout and "' world'" in stdout and "id 995" in stdout
    assert "Top 5 next tokens:" in stdout
    lines = stdout.splitlines()
    top = lines[lines.index("Top 5 next tokens:") + 1:][:5]
    assert len(top) == 5 and all("%" in line for line in top)
    assert f"Wrote {out}" in stdout


def test_default_output_goes_to_media(capsys, tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, _ = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--prompt", "../../Evil/Path?")
    assert status == 0
    assert [p.name for p in (tmp_path / "media").iterdir()] == ["evil-path.safetensors"]


@pytest.mark.parametrize("prompt, expected", [("Hello, world!", "hello-world"), ("../../etc/passwd", "etc-passwd"),
                                              ("日本語", "日本語"), ("  ", "prompt"), ("a" * 100, "a" * 60)])
def test_slug_is_safe(prompt, expected):
    assert render.slug(prompt) == expected


def bad_checkpoints(root, tiny):
    """Directories that are not usable GPT-2 checkpoints, each with the words its error must contain."""
    not_a_checkpoint = root / "empty"
    not_a_checkpoint.mkdir()
    corrupt = root / "corrupt"
    shutil.copytree(tiny, corrupt)
    (corrupt / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken")
    truncated = root / "truncated"
    shutil.copytree(tiny, truncated)
    data = (truncated / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(data[: len(data) // 2])
    pickle_only = root / "pickle-only"
    shutil.copytree(tiny, pickle_only)
    os.remove(pickle_only / "model.safetensors")
    torch.save({"x": torch.zeros(1)}, pickle_only / "pytorch_model.bin")
    bert = root / "bert"
    shutil.copytree(tiny, bert)
    (bert / "config.json").write_text('{"model_type": "bert"}')
    small_vocab = build_random_checkpoint(root / "small-vocab", byte_tokenizer(), vocab_size=200, n_layer=1, n_head=1,
                                          n_embd=8, n_positions=8)  # 256 tokens, 200 embedding rows
    return {small_vocab: "the tokenizer has 256 tokens, but the model's vocab_size is 200",
            not_a_checkpoint: "no config.json", corrupt: "could not load the weights",
            truncated: "could not load the weights", pickle_only: "only pickle weights", bert: "not a GPT-2 checkpoint",
            root / "missing-dir": "not a directory"}


def test_bad_models_are_refused(capsys, tiny_checkpoint, tmp_path):
    for path, words in bad_checkpoints(tmp_path, tiny_checkpoint).items():
        out = tmp_path / "out.safetensors"
        status, stdout, stderr = run_cli(capsys, "trace", "--model", str(path), "--prompt", "hi", "--out", str(out))
        assert status == 2, path
        assert_one_line_error(stderr, words)
        assert not out.exists()


@pytest.mark.parametrize("options, words", [
    (["--prompt", ""], "prompt is empty"),
    (["--prompt", "  \t "], "prompt is empty"),
    (["--prompt", "x" * 65], "65 tokens long"),
    (["--prompt", "hi", "--generate", "64"], "at most 63 tokens"),
    (["--prompt", "hi", "--generate", "-1"], "--generate must be 0 or more"),
    (["--prompt", "hi", "--temperature", "-1"], "--temperature"),
    (["--prompt", "hi", "--top-k", "0"], "--top-k"),
    (["--prompt", "hi", "--top-p", "0"], "--top-p"),
    (["--prompt", "hi", "--top-p", "1.5"], "--top-p"),
    (["--prompt", "hi", "--generate", "lots"], "'lots' is not a valid integer"),
    (["--prompt", "hi", "--temperature", "nan"], "--temperature must be a number, got nan"),
    (["--prompt", "hi", "--temperature", "inf"], "--temperature must be a number, got inf"),
    (["--prompt", "hi", "--top-p", "nan"], "--top-p must be a number, got nan"),
    (["--prompt", "hi", "--seed", str(2**64)], "Invalid value for '--seed': 18446744073709551616 is not in the range"),
    (["--prompt", "hi", "--seed", str(-2**63 - 1), "--generate", "0"], "Invalid value for '--seed'"),
    (["--prompt", "caf\udce9"], "'--prompt': it is not valid UTF-8 text (byte E9 at character 3)"),
    (["--prompt", "hi", "--frobnicate"], "No such option"),
    ([], "Missing option '--prompt'"),
])
def test_bad_options_are_refused(capsys, tiny_checkpoint, tmp_path, options, words):
    out = tmp_path / "out.safetensors"
    status, _, stderr = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--out", str(out), *options)
    assert status == 2
    assert_one_line_error(stderr, words)
    assert not out.exists()


def test_unwritable_outputs_are_refused(capsys, tiny_checkpoint, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    (tmp_path / "dir.safetensors").mkdir()
    for out, words in [(tmp_path / "dir.safetensors", "is a directory"), (a_file / "t.safetensors", f"{a_file} is a file"),
                       (a_file / "no" / "t.safetensors", f"{a_file} is a file")]:
        status, _, stderr = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--prompt", "hi", "--out", str(out))
        assert status == 2
        assert_one_line_error(stderr, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.safetensors", "file.txt"]


def test_an_output_that_is_not_a_regular_file_is_left_alone(capsys, tiny_checkpoint, tmp_path):
    """A FIFO (or a device node: /dev/null) under the output's name is refused before it is opened
    or replaced, and the suffix is required as still and video require theirs."""
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # opening it for writing would block: the command would hang, not fail
    for out, words in [(fifo, "it is not a regular file"), (tmp_path / "t.txt", "--out must name a .safetensors file"),
                       ("/dev/null", "--out must name a .safetensors file, not /dev/null")]:
        status, _, stderr = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--prompt", "hi", "--out", str(out))
        assert status == 2
        assert_one_line_error(stderr, words)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.safetensors"]
    with pytest.raises(UserError, match="cannot write /dev/null: it is not a regular file"):
        output_path("/dev/null", "hi", "")  # only looked at (stat), never opened


def test_a_killed_trace_leaves_a_partial_file_that_the_next_one_sweeps(capsys, tiny_checkpoint, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = tmp_path / f".trace-{dead.pid}-0a1b2c3d.partial"  # as Trace.save names it while writing
    killed.write_bytes(b"half a trace")
    live = tmp_path / f".trace-{os.getpid()}-4e5f6a7b.partial"  # a trace being saved right now: not ours
    live.write_bytes(b"being written")
    status, _, stderr = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--prompt", "hi",
                                "--out", str(tmp_path / "t.safetensors"))
    assert status == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "t.safetensors"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_trace_file_gets_the_mode_of_an_ordinary_file(nano_sort_trace, tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        nano_sort_trace.save(tmp_path / "t.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "t.safetensors").st_mode) == mode
    assert os.listdir(tmp_path) == ["t.safetensors"]


def run_script(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)


def test_a_prompt_that_is_not_utf8_is_one_line(tmp_path):
    """As the shell passes a Latin-1 file's text: --prompt "$(cat f)"."""
    result = run_script("trace", "--model", "nano-sort", "--prompt", "caf\xe9".encode("latin-1"),
                        "--out", str(tmp_path / "t.safetensors"))
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "it is not valid UTF-8 text (byte E9 at character 3)")
    assert list(tmp_path.iterdir()) == []


def test_offline_hub_name_says_how_to_fix(tmp_path):
    out = tmp_path / "out.safetensors"
    result = run_script("trace", "--prompt", "hi", "--model", "gpt2", "--out", str(out),
                        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "not in the local cache")
    for hint in ("network", "--model PATH", "--model nano-sort"):
        assert hint in result.stderr
    assert not out.exists()


def test_help_imports_no_heavy_library():
    """--help and the scene list must be instant: no torch, transformers, manim or av for them."""
    code = ("import sys, render\n"
            "for args in (['--help'], ['trace', '--help'], ['video', '--help'], ['still', '--help'], ['scenes']):\n"
            "    try: render.main(args)\n"
            "    except SystemExit as e: assert e.code == 0, e.code\n"
            "print(sorted(m for m in ('torch', 'transformers', 'manim', 'av') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    for usage in ("Usage: render.py trace", "Usage: render.py video", "Usage: render.py still"):
        assert usage in result.stdout
    assert "--temperature" in result.stdout and "--jobs N" in result.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "gpt2-explainer"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "trace" in result.stdout
