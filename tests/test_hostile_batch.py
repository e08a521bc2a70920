"""render.py batch against hostile input (issue 21): job files whose prompts hold newlines,
form feeds or 200,000 characters, outputs that differ only in letter case, a --scheduler
that is not Dask, and Ctrl-C while the embedded workers run."""

import contextlib
import csv
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from renderer.jobs import read_jobs
from tests.cli_checks import assert_one_line_error, run_cli
from tests.test_batch import DEFAULTS, SMALL

ROOT = Path(__file__).resolve().parent.parent


def job_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))  # bytes: the line ends exactly as given
    return str(path)


# -- prompts kept exactly, lines counted as an editor counts them -------------------------

def test_a_csv_prompt_keeps_its_newlines_and_the_line_it_starts_on(tmp_path):
    path = job_file(tmp_path, "jobs.csv", 'prompt,seed\r\n"line one\nline two\r\nline three",1\r\n\r\nABC,2\r\n')
    first, second = read_jobs(path, DEFAULTS, str(tmp_path))
    assert (first.line, first.prompt, first.model["seed"]) == (2, "line one\nline two\r\nline three", 1)
    assert (second.line, second.prompt) == (6, "ABC")  # after a cell of three lines and a blank line


def test_a_plain_text_job_file_ends_lines_at_newlines_only(tmp_path):
    """\\f, \\v, U+2028, U+2029 and U+0085 are characters of a prompt, not line ends (str.splitlines)."""
    path = job_file(tmp_path, "jobs.txt", "one\ftwo\u2028three\r\n\n# a comment\nfour\x85five\vsix\u2029\n")
    first, second = read_jobs(path, DEFAULTS, str(tmp_path))
    assert (first.line, first.prompt) == (1, "one\ftwo\u2028three")  # its \r\n ends the line, and is no part of it
    assert (second.line, second.prompt) == (4, "four\x85five\vsix\u2029")


def test_a_csv_cell_longer_than_the_csv_modules_limit_is_read(tmp_path):
    """csv's default limit, 131,072 characters, is no limit of a prompt's (the model's context is,
    when the job runs); the module's process-wide setting is left as it was."""
    limit = csv.field_size_limit()
    long_prompt = "ABC" * 70_000  # 210,000 characters
    path = job_file(tmp_path, "jobs.csv", f"prompt,seed\n{long_prompt},1\nCBA,2\n")
    first, second = read_jobs(path, DEFAULTS, str(tmp_path))
    assert (first.line, first.prompt, second.line, second.prompt) == (2, long_prompt, 3, "CBA")
    assert csv.field_size_limit() == limit


def test_a_csv_file_with_old_mac_line_ends(tmp_path):
    """A lone \\r ends a CSV row (as csv reads a file opened with newline=""), inside a quoted cell too."""
    path = job_file(tmp_path, "jobs.csv", 'prompt,seed\rABC,1\r"CBA\rBCA",2\r')
    first, second = read_jobs(path, DEFAULTS, str(tmp_path))
    assert (first.line, first.prompt, second.line, second.prompt) == (2, "ABC", 3, "CBA\rBCA")


# -- two outputs that would share a clips folder ----------------------------------------

@pytest.mark.parametrize("first, second", [("v.mp4", "v.MP4"), ("v.mp4", "V.mp4")])
def test_outputs_that_differ_only_in_letter_case_are_refused(capsys, tmp_path, first, second):
    path = job_file(tmp_path, "jobs.csv", f"prompt,out\nCBABBC,{tmp_path / first}\nABCABC,{tmp_path / second}\n")
    status, out, err = run_cli(capsys, "batch", path, *SMALL, "--out-dir", str(tmp_path))
    assert status == 2
    assert_one_line_error(err, f"jobs.csv line 3: writes {tmp_path / second} and line 2 writes {tmp_path / first}: "
                               "names that differ only in letter case share one clips folder and captions")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.csv"]


# -- a --scheduler that is not a Dask scheduler -----------------------------------------

@contextlib.contextmanager
def listener(serve):
    """A TCP listener on 127.0.0.1 whose every connection `serve(connection)` answers; yields its address."""
    server = socket.create_server(("127.0.0.1", 0))
    connections = []

    def accept():
        with contextlib.suppress(OSError):  # closed on the way out
            while True:
                connection, _ = server.accept()
                connections.append(connection)
                serve(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in connections:
            connection.close()


@contextlib.contextmanager
def http_server():
    """An HTTP server (it waits for a request line that Dask's handshake never ends)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sends(data):
    return lambda connection: connection.sendall(data)


@pytest.mark.parametrize("server, words", [
    (http_server, "did not answer within 2 s"),
    (lambda: listener(lambda connection: None), "did not answer within 2 s"),  # accepts, says nothing
    (lambda: listener(sends(b"\x01" + b"\x00" * 7 + b"xyz")), "cannot reach the Dask scheduler at"),  # struct.error
    (lambda: listener(sends(b"\xff" * 64)), "cannot reach the Dask scheduler at"),
], ids=["http", "silent", "garbage", "huge-frame-count"])
def test_a_scheduler_address_that_is_not_dask_is_one_line_in_bounded_time(capsys, tmp_path, monkeypatch,
                                                                          server, words):
    from renderer import batch

    monkeypatch.setattr(batch, "SCHEDULER_SECONDS", 1)
    path = job_file(tmp_path, "jobs.txt", "CBABBC\n")
    with server() as address:
        started = time.monotonic()
        status, out, err = run_cli(capsys, "batch", path, *SMALL, "--scheduler", address, "--out-dir", str(tmp_path))
        took = time.monotonic() - started
    assert status == 2
    assert took < 10, took  # 2 x SCHEDULER_SECONDS, and the rest
    assert err.splitlines()[0].startswith("Rendering 1 video")  # then the one error line
    assert_one_line_error("\n".join(err.splitlines()[1:]), words)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.txt"]


# -- Ctrl-C while the embedded workers run ----------------------------------------------

def test_ctrl_c_early_in_a_batch_is_one_line_from_the_batch_process_alone(tmp_path):
    """Ctrl-C reaches the terminal's whole process group: the Dask workers print nothing (no
    KeyboardInterrupt traceback each), the batch says "interrupted", exit status 130, and no
    worker is left running."""
    (tmp_path / "tmp").mkdir()
    path = job_file(tmp_path, "jobs.txt", "CBABBC\nABCABC\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp")}  # where the tasks work
    process = subprocess.Popen([sys.executable, "render.py", "batch", path, *SMALL, "--workers", "2",
                                "--out-dir", str(tmp_path)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own group, as a terminal's foreground job
    try:
        deadline = time.monotonic() + 120
        while not any(name.startswith("gpt2-explainer-") for name in os.listdir(tmp_path / "tmp")):
            assert process.poll() is None and time.monotonic() < deadline, "no task started"
            time.sleep(0.05)
        workers = psutil.Process(process.pid).children(recursive=True)
        assert len(workers) >= 2
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        err = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted", err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    gone, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, alive
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".render-*"))
