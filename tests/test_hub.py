"""The default path, `render.py trace --prompt ...` with GPT-2 from the hub, against a local hub.

The real hub cannot be reached from here, so each test starts a stand-in on 127.0.0.1
(tests/local_hub.py) that serves a random GPT-2 with the real tokenizer, laid out as
openai-community/gpt2 is, under the names transformers resolves for `--model gpt2`.
The command line runs as a subprocess, because huggingface_hub reads HF_ENDPOINT,
HF_HOME and HF_HUB_OFFLINE when it is imported; its stderr is a terminal (a pty), as a
user's is, since the hub's download bars show only on a terminal.

The served model is narrow (2 layers, width 64) with GPT-2's real vocabulary and context,
about 25 MB, so the tests stay quick; EXPLAINER_HUB_TEST_GPT2_SMALL=1 serves one of GPT-2
small's full shape (about 550 MB, as the real download) instead.
"""

import fcntl
import json
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from local_hub import LocalHub
from tracer import hub
from tracer.testing import GPT2_SMALL_SHAPE, build_hub_checkpoint
from tracer.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
SHAPE = GPT2_SMALL_SHAPE if os.environ.get("EXPLAINER_HUB_TEST_GPT2_SMALL") else dict(
    n_layer=2, n_head=2, n_embd=64, n_positions=1024, vocab_size=50257)
REPO = "openai-community/gpt2"
PROMPT = "Hello world"
# Files the hub's GPT-2 repo also holds, which this program must never fetch.
NOT_NEEDED = ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "rust_model.ot", "64.tflite")


@pytest.fixture(scope="module")
def hub_repo(tmp_path_factory):
    folder = build_hub_checkpoint(tmp_path_factory.mktemp("hub") / "gpt2", **SHAPE)
    for name in NOT_NEEDED:
        (folder / name).write_bytes(b"not for this program")
    return folder


@pytest.fixture()
def local_hub(hub_repo):
    with LocalHub({REPO: hub_repo}, renamed={"gpt2": REPO}, lifetime=600) as server:
        yield server


def hub_env(local_hub, hf_home, **extra):
    """The environment of a user whose hub is `local_hub`: no proxy, no token, an own cache."""
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith("HF_") and "PROXY" not in key.upper()}
    return {**env, "HF_ENDPOINT": local_hub.url, "HF_HOME": str(hf_home), **extra}


def cli(env, *args, terminal=False, timeout=600):
    """Run render.py; returns (exit status, stdout, stderr). With `terminal`, stderr is a 100-column pty."""
    command = [sys.executable, str(ROOT / "render.py"), *args]
    if not terminal:
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
        return result.returncode, result.stdout, result.stderr
    reader, writer = pty.openpty()
    fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    chunks = []
    drain = threading.Thread(target=_drain, args=(reader, chunks), daemon=True)
    drain.start()
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=writer, text=True, env=env, cwd=ROOT,
                                timeout=timeout)
    finally:
        os.close(writer)
        drain.join(10)
        os.close(reader)
    return result.returncode, result.stdout, b"".join(chunks).decode("utf-8", errors="replace")


def _drain(fd, chunks):
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            return
        if not data:
            return
        chunks.append(data)


def trace_args(out):
    return ("trace", "--prompt", PROMPT, "--out", str(out))


def check_trace(out):
    trace = Trace.load(str(out))
    assert trace.model == "gpt2" and trace.pretrained
    assert trace.weights == "pretrained by OpenAI (Hugging Face hub: gpt2)"
    assert trace.token_ids == [15496, 995]
    return trace


def downloaded_weights(local_hub):
    return [request for request in local_hub.requests
            if request[0] == "GET" and request[1].endswith("/model.safetensors")]


def test_first_run_downloads_with_a_bar_then_runs_from_the_cache(local_hub, tmp_path):
    first, second = tmp_path / "first.safetensors", tmp_path / "second.safetensors"
    status, stdout, stderr = cli(hub_env(local_hub, tmp_path / "hf"), *trace_args(first), terminal=True)
    assert status == 0, stderr
    assert "Downloading gpt2 from the Hugging Face hub (only the first time)..." in stderr
    # huggingface_hub's own bar for each file: done, size, time taken and left, speed.
    bar = r"model\.safetensors:\s+100%\|█+\|\s*[\d.]+M/[\d.]+M \[[\d:]+<[\d:]+,\s+[\d.]+[kMG]?B/s\]"
    assert re.search(bar, stderr), stderr
    assert "Traceback" not in stderr and "Loading weights" not in stderr  # transformers' own bars stay off
    assert stdout.startswith("gpt2: ") and f"Wrote {first}" in stdout  # stdout: the summary only, as before
    check_trace(first)
    assert len(downloaded_weights(local_hub)) == 1
    fetched = {request[1].rsplit("/", 1)[-1] for request in local_hub.requests if request[0] == "GET"}
    assert not fetched & set(NOT_NEEDED), fetched

    served = len(local_hub.requests)
    status, stdout, stderr = cli(hub_env(local_hub, tmp_path / "hf", HF_HUB_OFFLINE="1"), *trace_args(second))
    assert status == 0, stderr
    assert stderr.splitlines() == []  # from the cache, and not on a terminal: no "Loading gpt2...", nothing else
    assert len(local_hub.requests) == served  # not one request: all from the cache
    a, b = check_trace(first), check_trace(second)
    assert all((a[name] == b[name]).all() for name in a.activations)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_download_stopped_halfway_completes_when_run_again(local_hub, hub_repo, tmp_path, stop):
    size = (hub_repo / "model.safetensors").stat().st_size
    local_hub.stall("model.safetensors", after_bytes=size // 2)
    env = hub_env(local_hub, tmp_path / "hf")
    stopped = subprocess.Popen([sys.executable, str(ROOT / "render.py"), *trace_args(tmp_path / "stopped.safetensors")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert local_hub.stalled.wait(300), "the download never reached its middle"
        assert wait_for_partial_file(tmp_path / "hf", size // 4), "no partial download on disk"
        stopped.send_signal(stop)
        _, stderr = stopped.communicate(timeout=30)  # Ctrl-C stops the download (seconds; more on a loaded machine)
    finally:
        stopped.kill()
        local_hub.release()
    if stop == signal.SIGINT:
        assert stopped.returncode == 130 and stderr.splitlines()[-1] == "interrupted", stderr
        assert "Traceback" not in stderr
    assert not (tmp_path / "stopped.safetensors").exists()

    out = tmp_path / "out.safetensors"
    status, _, stderr = cli(env, *trace_args(out))
    assert status == 0, stderr
    check_trace(out)
    assert len(downloaded_weights(local_hub)) == 2
    status, _, stderr = cli(hub_env(local_hub, tmp_path / "hf", HF_HUB_OFFLINE="1"), *trace_args(out))
    assert status == 0, stderr  # and what the second run fetched passes its checksum


def wait_for_partial_file(hf_home, at_least, seconds=60):
    """True once huggingface_hub's partial download (blobs/*.incomplete) holds `at_least` bytes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(path.stat().st_size >= at_least for path in hf_home.glob("hub/models--*/blobs/*.incomplete")):
            return True
        time.sleep(0.1)
    return False


def damage_in_the_middle(blob):
    with open(blob, "r+b") as file:
        file.seek(blob.stat().st_size // 2)
        file.write(b"\x00" * 64)


def truncate(blob):
    with open(blob, "r+b") as file:
        file.truncate(blob.stat().st_size - 1000)


@pytest.fixture(scope="module")
def downloaded(hub_repo, tmp_path_factory):
    """An HF_HOME into which the CLI has downloaded gpt2."""
    home = tmp_path_factory.mktemp("downloaded") / "hf"
    with LocalHub({REPO: hub_repo}, renamed={"gpt2": REPO}, lifetime=300) as server:
        status, _, stderr = cli(hub_env(server, home), *trace_args(home.parent / "first.safetensors"))
    assert status == 0, stderr
    return home


@pytest.mark.parametrize("damage", [damage_in_the_middle, truncate])
def test_damaged_cached_weights_are_reported_not_loaded(local_hub, downloaded, tmp_path, damage):
    shutil.copytree(downloaded, tmp_path / "hf", symlinks=True)
    snapshot = next((tmp_path / "hf" / "hub" / "models--gpt2" / "snapshots").iterdir())
    damage((snapshot / "model.safetensors").resolve())
    out = tmp_path / "out.safetensors"
    for env in (hub_env(local_hub, tmp_path / "hf", HF_HUB_OFFLINE="1"), hub_env(local_hub, tmp_path / "hf")):
        status, stdout, stderr = cli(env, *trace_args(out))
        assert status == 2
        lines = [line for line in stderr.splitlines() if not line.startswith("Loading ")]
        assert lines == [f"error: the cached copy of gpt2 is damaged: model.safetensors no longer matches its sha256 "
                         f"checksum. Delete {tmp_path / 'hf' / 'hub' / 'models--gpt2'} and run again to download "
                         "it afresh."], stderr
        assert not out.exists() and stdout == ""


def test_unknown_and_foreign_models_are_refused(local_hub, hub_repo, tmp_path):
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    shutil.copy(hub_repo / "model.safetensors", bert / "model.safetensors")
    local_hub.files["someone/bert"] = {path.name: path for path in bert.iterdir()}
    for model, words in [("nobody/nothing", "no model named 'nobody/nothing' on the Hugging Face hub"),
                         ("someone/bert", "someone/bert is not a GPT-2 checkpoint (model_type is 'bert')")]:
        out = tmp_path / "out.safetensors"
        status, _, stderr = cli(hub_env(local_hub, tmp_path / "hf"), "trace", "--model", model, "--prompt", "hi",
                                "--out", str(out))
        assert status == 2
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and words in errors[0], stderr
        assert "Traceback" not in stderr and not out.exists()
    assert not downloaded_weights(local_hub)  # a foreign model is refused on its config, before its weights


def test_hf_endpoint_scheme_and_port_are_honoured(local_hub, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)  # http://127.0.0.1:<port>
    assert hub._hub_reachable(timeout=2)
    host, port = local_hub.url.removeprefix("http://").split(":")
    for endpoint in (f"http://{host}:1", f"http://{host}:{port}x", "not a url"):
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        assert not hub._hub_reachable(timeout=2), endpoint
    monkeypatch.setenv("HF_ENDPOINT", f"http://{host}:1")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert hub._hub_reachable(timeout=2)  # behind a proxy the hub client decides
