"""The video, still and scenes commands, run like a user runs them; bad input; interrupted renders."""

import builtins
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from scenes import catalog
from renderer.files import CLIPS_MANIFEST, fingerprint, write_manifest
from renderer.video import video_info
from cli_checks import assert_one_line_error, make_scene_fail, run_cli

ROOT = Path(__file__).resolve().parent.parent


def render_py(*args, cwd=ROOT, **popen):
    return [sys.executable, str(ROOT / "render.py"), *args], dict(cwd=cwd, text=True, **popen)


def run_render(*args, cwd=ROOT, timeout=300):
    command, options = render_py(*args, cwd=cwd)
    return subprocess.run(command, capture_output=True, timeout=timeout, **options)


def work_leftovers(directory):
    return sorted(str(path.relative_to(directory)) for path in Path(directory).rglob(".render-*"))


# -- what a user gets -----------------------------------------------------------------

def test_video_end_to_end_on_nano_sort(tmp_path):
    """The whole pipeline in a subprocess: trace, render each scene in a worker, join; default paths.

    Two quick scenes, in an order of the user's own: the full storyboard is the benchmark's job
    (benchmarks/render_video.py), and each scene's own tests draw it.
    """
    selection = ["tokens", "title"]
    result = run_render("video", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "2",
                        "--temperature", "0", "--quality", "low", "--scenes", ",".join(selection), cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    video = tmp_path / "media" / "cbabbc.mp4"
    info = video_info(video)
    assert (info.width, info.height, info.codec, info.fps) == (854, 480, "h264", 15)
    assert info.duration > 0
    files = sorted((tmp_path / "media" / "cbabbc" / "clips").iterdir())
    assert [file.name for file in files] == [CLIPS_MANIFEST, "01_tokens.mp4", "01_tokens.srt", "01_tokens.vtt",
                                             "02_title.mp4", "02_title.srt", "02_title.vtt"]  # each with its captions
    clips = [file for file in files if file.suffix == ".mp4"]
    clip_infos = [video_info(clip) for clip in clips]
    assert all((c.width, c.height, c.codec) == (854, 480, "h264") and c.duration > 0 for c in clip_infos)
    assert info.frames == sum(c.frames for c in clip_infos)  # the video is the clips, joined
    assert work_leftovers(tmp_path) == []

    assert f"Wrote media/cbabbc.mp4: 854x480, 15 fps, {info.duration:.1f} s of video" in result.stdout
    for file in files[1:]:  # not the manifest
        assert f"media/cbabbc/clips/{file.name}" in result.stdout
    assert "Captions: media/cbabbc.srt, media/cbabbc.vtt" in result.stdout
    assert "Rendering 2 scenes at low (854x480, 15 fps)" in result.stderr
    assert "scene 2 of 2 done" in result.stderr and "elapsed" in result.stderr
    assert "Traceback" not in result.stderr and "INFO" not in result.stderr  # Manim stays quiet


def test_video_from_a_saved_trace_loads_no_model(nano_sort_trace_file, tmp_path):
    out = tmp_path / "sort.mp4"
    clips = tmp_path / "sort" / "clips"
    clips.mkdir(parents=True)
    (clips / "05_loop.mp4").write_bytes(b"a clip from an earlier render of this video")
    write_manifest(str(clips), {"05_loop.mp4": fingerprint(clips / "05_loop.mp4")})  # as that render did
    (clips / "01_intro.mp4").write_text("the teacher's own clip, named like a clip")
    (clips / "notes.txt").write_text("the teacher's own file")
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); import render\n"
            "try:\n    render.main(sys.argv[1:])\n"
            "finally:\n    print('torch imported:', 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, "video", "--trace", str(nano_sort_trace_file),
                             "--scenes", "title", "--quality", "low", "--jobs", "1", "--out", "sort.mp4"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)  # a relative --out
    assert result.returncode == 0, result.stderr
    assert "torch imported: False" in result.stdout
    assert "Loading" not in result.stderr
    assert video_info(out).duration == pytest.approx(video_info(clips / "01_title.mp4").duration, abs=0.07)
    # the earlier render's clip is gone; the teacher's files stay
    assert sorted(p.name for p in clips.iterdir()) == [CLIPS_MANIFEST, "01_intro.mp4", "01_title.mp4", "01_title.srt",
                                                       "01_title.vtt", "notes.txt"]


def test_scenes_lists_the_storyboard(capsys):
    status, stdout, _ = run_cli(capsys, "scenes")
    assert status == 0
    lines = stdout.splitlines()
    assert [line.split()[0] for line in lines] == catalog.names()
    for line, info in zip(lines, catalog.CATALOG):
        assert line.endswith(info.summary)


def test_still_writes_the_last_frame(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    out = tmp_path / "title.png"
    status, stdout, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", str(nano_sort_trace_file),
                                     "--quality", "low", "--out", str(out))
    assert status == 0, stderr
    with Image.open(out) as image:
        assert image.size == (854, 480)
    assert f"Wrote {out} (854x480)" in stdout

    monkeypatch.chdir(tmp_path)  # default: media/<prompt>_<scene>.png, at the high quality's size
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--model", "nano-sort", "--prompt", "CBABBC")
    assert status == 0, stderr
    with Image.open(tmp_path / "media" / "cbabbc_title.png") as image:
        assert image.size == (1920, 1080)
    assert work_leftovers(tmp_path) == []


# -- exit status: 1 for a failed scene, 2 for bad input or a full disk ---------------------

def test_a_failed_scene_exits_with_status_1(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    make_scene_fail(monkeypatch, "render_video", "title")
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(tmp_path / "v.mp4"))
    assert status == 1
    assert stderr.splitlines()[-1] == "error: the scene 'title' failed: RuntimeError: broken"


def no_space(path="somewhere"):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_a_full_disk_is_one_line_and_status_2(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    from renderer import pipeline
    from tracer import trace

    def full(*args, **kwargs):
        raise no_space(tmp_path / "x")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(trace, "save_file", full)  # the trace a video renders from, and `trace --out`
    for command in (["video", "--model", "nano-sort", "--prompt", "CBABBC", "--scenes", "title", "--out", "v.mp4"],
                    ["trace", "--model", "nano-sort", "--prompt", "CBABBC", "--out", "t.safetensors"]):
        status, _, stderr = run_cli(capsys, *command)
        assert status == 2, stderr
        assert_one_line_error(stderr, "No space left on device")
    monkeypatch.setattr(pipeline, "render_still", full)
    status, _, stderr = run_cli(capsys, "still", "--trace", str(nano_sort_trace_file), "--scene", "title",
                                "--out", "s.png")
    assert status == 2
    assert_one_line_error(stderr, f"cannot write {tmp_path / 'x'}: No space left on device")
    assert os.listdir(tmp_path) == []


FAILING_SCENE = """
import renderer.pipeline
from renderer.workers import SceneFailed

def render_video(*args, **kwargs):
    raise SceneFailed("title", "RuntimeError: broken")

renderer.pipeline.render_video = render_video
"""


@pytest.mark.parametrize("damage, status, words", [("scene", 1, "error: the scene 'title' failed: RuntimeError: broken"),
                                                   ("trace", 2, "is not a readable trace file")])
def test_the_console_script_exits_with_the_status(nano_sort_trace_file, tmp_path, damage, status, words):
    """The installed gpt2-explainer, running this checkout's code (PYTHONPATH: the editable install
    may point at another checkout); a sitecustomize makes the scene fail inside it."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAILING_SCENE)
    (tmp_path / "damaged.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken")
    trace_file = nano_sort_trace_file if damage == "scene" else tmp_path / "damaged.safetensors"
    script = Path(sys.executable).parent / "gpt2-explainer"
    result = subprocess.run([str(script), "video", "--trace", str(trace_file), "--scenes", "title", "--out", "v.mp4"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)])})
    assert result.returncode == status, result.stderr
    assert words in result.stderr.splitlines()[-1] and "Traceback" not in result.stderr
    assert not (tmp_path / "v.mp4").exists()


# -- bad input: one line on stderr, exit status 2, no file ------------------------------

def bad_video_cases(tmp, trace_file):
    """(options for `video`, words the one-line error must contain)."""
    (tmp / "a-file").write_text("x")
    (tmp / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken")
    (tmp / "blocked.mp4").mkdir()
    (tmp / "clipsblocked").write_text("x")  # where clipsblocked.mp4's clips directory would go
    os.mkfifo(tmp / "fifo.mp4")
    prompt = ["--model", "nano-sort", "--prompt", "CBABBC"]
    saved = ["--trace", str(trace_file)]
    return [
        (saved + ["--scenes", "title,nope"], "unknown scene 'nope': the scenes are title, map, tokens, embeddings"),
        (saved + ["--scenes", " , "], "--scenes is empty"),
        (saved + ["--quality", "ultra"], "'ultra' is not one of 'low', 'medium', 'high', '4k'"),
        (saved + ["--fps", "0"], "Invalid value for '--fps': 0.0 is not in the range 0<x<=120"),
        (saved + ["--fps", "-30"], "Invalid value for '--fps': -30.0 is not in the range 0<x<=120"),
        (saved + ["--jobs", "0"], "Invalid value for '--jobs': 0 is not in the range x>=1"),
        (saved + ["--out", str(tmp / "blocked.mp4")], "is a directory"),
        (saved + ["--out", str(tmp / "a-file" / "v.mp4")], "a-file is a file"),
        (saved + ["--out", str(tmp / "clipsblocked.mp4")], "is a file"),
        (saved + ["--out", str(tmp / "video.avi")], "--out must name a .mp4 file"),
        (saved + ["--out", str(tmp / "fifo.mp4")], "it is not a regular file"),
        (["--trace", str(tmp / "missing.safetensors")], "trace file not found"),
        (["--trace", str(tmp / "corrupt.safetensors")], "is not a readable trace file"),
        (prompt + saved, "give either --prompt TEXT or --trace FILE.safetensors, not both"),
        ([], "give --prompt TEXT (or --trace FILE.safetensors"),
        (saved + ["--model", "gpt2", "--seed", "3"], "--model, --seed only apply with --prompt"),
        (saved + ["--layer", "3"], "--layer 3 is out of range: nano-sort has 3 layers, numbered 0 to 2"),
        (saved + ["--head", "-1"], "Invalid value for '--head': -1 is not in the range x>=0"),
        (prompt + ["--scenes", "title", "--layer", "5"], "--layer 5 is out of range"),
        (["--model", "nano-sort", "--prompt", "CBAXYZ", "--scenes", "title"], "only the letters A, B, C"),
        (["--model", "nano-sort", "--prompt", " ", "--scenes", "title"], "prompt is empty"),
        (["--model", str(tmp / "no-model"), "--prompt", "hi", "--scenes", "title"], "not a directory"),
        (prompt + ["--temperature", "-1", "--scenes", "title"], "--temperature"),
    ]


def test_bad_video_input_is_refused(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = bad_video_cases(tmp_path, nano_sort_trace_file)
    before = sorted(os.listdir(tmp_path))
    for options, words in cases:
        has_out = "--out" in options
        out = [] if has_out else ["--out", str(tmp_path / "v.mp4")]
        status, _, stderr = run_cli(capsys, "video", "--quality", "low", *out, *options)
        assert status == 2, (options, stderr)
        assert_one_line_error(stderr, words)
        assert sorted(os.listdir(tmp_path)) == before, options  # no video, no clips, no work directory


@pytest.mark.parametrize("options, words", [
    (["--scene", "nope"], "unknown scene 'nope'"),
    (["--scene", "title,tokens"], "--scene takes one scene name"),
    (["--scene", " , "], "--scene is empty: name one of title, map, tokens"),
    (["--scene", "title", "--out", "frame.jpg"], "--out must name a .png file"),
    (["--scene", "title", "--out", "/dev/null"], "--out must name a .png file"),
    (["--scene", "title", "--quality", "8k"], "'8k' is not one of"),
    (["--scene", "title", "--head", "3"], "--head 3 is out of range: nano-sort has 3 heads"),
    (["--trace", "missing.safetensors", "--scene", "title"], "trace file not found"),
])
def test_bad_still_input_is_refused(capsys, nano_sort_trace_file, tmp_path, monkeypatch, options, words):
    monkeypatch.chdir(tmp_path)
    source = [] if "--trace" in options else ["--trace", str(nano_sort_trace_file)]
    status, _, stderr = run_cli(capsys, "still", *source, *options)
    assert status == 2
    assert_one_line_error(stderr, words)
    assert os.listdir(tmp_path) in ([], ["media"]) and not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("module, error, words", [
    ("cairo", ImportError("libcairo.so.2: cannot open shared object file: No such file or directory"),
     "the system library Cairo is missing"),
    ("manimpango", ImportError("libpango-1.0.so.0: cannot open shared object file: No such file or directory"),
     "the system library Pango is missing"),
    ("av", OSError("libavformat.so.61: cannot open shared object file"), "the system library FFmpeg is missing"),
    ("cairo", ModuleNotFoundError("No module named 'cairo'", name="cairo"), "the Python package cairo is not installed"),
])
@pytest.mark.parametrize("command", ["video", "still"])
def test_missing_system_library_is_named_with_how_to_install(capsys, nano_sort_trace_file, tmp_path, monkeypatch,
                                                             module, error, words, command):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == module:
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    scene = ["--scenes", "title"] if command == "video" else ["--scene", "title"]
    out = tmp_path / ("v.mp4" if command == "video" else "s.png")
    status, _, stderr = run_cli(capsys, command, "--trace", str(nano_sort_trace_file), *scene, "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, words)
    if not isinstance(error, ModuleNotFoundError):
        assert "sudo apt-get install libcairo2-dev libpango1.0-dev ffmpeg" in stderr
    assert os.listdir(tmp_path) == []


# -- interrupted renders ----------------------------------------------------------------

def start_render(trace_file, out):
    command, options = render_py("video", "--trace", str(trace_file), "--scenes", "title", "--quality", "low",
                                 "--out", str(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.Popen(command, **options)


def wait_for_worker(directory, process, timeout=120):
    """The pid of a worker once it is rendering: it works in .render-<its pid>-* inside the job's directory."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for path in Path(directory).glob(".render-*/.render-*"):
            return int(path.name.split("-")[1])
        time.sleep(0.05)
    raise AssertionError("no worker started rendering")


def wait_until_gone(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_killed_render_leaves_no_file_and_the_next_run_succeeds(nano_sort_trace_file, tmp_path):
    out = tmp_path / "sort.mp4"
    process = start_render(nano_sort_trace_file, out)
    worker = wait_for_worker(tmp_path, process)
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.communicate(timeout=30)
    assert wait_until_gone(worker), "the orphaned worker kept running"
    assert not out.exists() and not (tmp_path / "sort").exists()  # no video, no clips
    assert work_leftovers(tmp_path)  # only the killed run's private work directory remains
    assert all(".render-" in str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.mp4"))

    again = run_render("video", "--trace", str(nano_sort_trace_file), "--scenes", "title", "--quality", "low",
                       "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert video_info(out).duration > 0
    assert work_leftovers(tmp_path) == []  # the killed run's work directory was swept


def test_ctrl_c_stops_the_workers_and_cleans_up(nano_sort_trace_file, tmp_path):
    out = tmp_path / "sort.mp4"
    process = start_render(nano_sort_trace_file, out)
    worker = wait_for_worker(tmp_path, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == "interrupted"
    assert wait_until_gone(worker)
    assert os.listdir(tmp_path) == []  # no video, no clips, no work directory
