"""render.py batch: a job file rendered on Dask distributed, on the embedded cluster and on a
scheduler and workers started as separate processes; a failing job among good ones; job
files refused before anything starts."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from renderer.jobs import read_jobs
from renderer.video import video_info
from tests.cli_checks import assert_one_line_error, run_cli
from tracer.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).parent / "dask"
SMALL = ("--model", "nano-sort", "--generate", "1", "--quality", "low", "--scenes", "title,tokens")
JOB_VOICES = "heart, jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo"  # a batch's choices: no `none`
PROMPTS = ("CBABBC", "ABCABC", "CCBBAA")
# What the command line gives read_jobs (as `batch` with SMALL would)
DEFAULTS = {"model": "nano-sort", "generate": 1, "temperature": 0.8, "top_k": 40, "top_p": 0.95, "seed": 0,
            "lang": "en", "theme": "dark", "on_screen_captions": True, "layer": None, "head": None,
            "scenes": ["title", "tokens"], "quality": "low", "fps": None, "captions": True}


def check_video(path, n_scenes):
    """A joined low-quality video whose clips folder holds one clip (and its captions) per scene."""
    info = video_info(path)
    assert (info.width, info.height, info.fps, info.codec) == (854, 480, 15, "h264")
    clips_dir = Path(path).with_suffix("") / "clips"
    clips = sorted(clips_dir.glob("*.mp4"))
    assert [clip.name for clip in clips] == ["01_title.mp4", "02_tokens.mp4"][:n_scenes]
    assert info.frames == sum(video_info(clip).frames for clip in clips)  # the clips, joined
    assert Path(path).with_suffix(".srt").is_file() and Path(path).with_suffix(".vtt").is_file()


def test_three_jobs_on_the_embedded_cluster(capsys, tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("# three sorts\n" + "\n\n".join(PROMPTS) + "\n", encoding="utf-8")
    with contextlib.closing(socket.socket()) as dashboard_port:  # as if another Dask cluster were running
        with contextlib.suppress(OSError):  # already taken: just as well
            dashboard_port.bind(("", 8787))
            dashboard_port.listen()
        with warnings.catch_warnings(record=True) as caught:  # (in-process, a warning would not reach stderr)
            warnings.simplefilter("always")
            status, out, err = run_cli(capsys, "batch", str(jobs), *SMALL, "--workers", "2", "--out-dir", str(tmp_path))
    assert status == 0, err
    assert not [str(warning.message) for warning in caught if "already in use" in str(warning.message)]
    # Off a terminal: one line on stderr, no bar, nothing of Dask's (no warning that 8787 is taken)
    assert err.splitlines() == ["Rendering 3 videos (6 scenes) on an embedded Dask cluster of 2 worker processes"]
    for line, prompt in zip((2, 4, 6), PROMPTS):  # the job file's own line numbers
        video = tmp_path / f"{prompt.lower()}.mp4"
        assert f"line {line}: wrote {video}" in out
        check_video(video, 2)
    assert not list(tmp_path.glob(".render-*"))  # every work directory removed


# -- a scheduler and two workers, separate processes on localhost ------------------------

@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """`dask scheduler` and two `dask worker`s, each its own process, with their own working
    directory and TMPDIR, none of them the client's; yields (address, the workers' directory)."""
    base = tmp_path_factory.mktemp("dask")
    scheduler_file = base / "scheduler.json"
    workers_home = base / "workers"
    (workers_home / "tmp").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(workers_home / "tmp")}  # this tree's code
    logs = open(base / "dask.log", "w")
    processes = [subprocess.Popen([str(DASK), "scheduler", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], cwd=base, env={**env, "TMPDIR": str(base)},
                                  stdout=logs, stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for name in ("one", "two"):
            processes.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard", "--memory-limit", "0",
                 "--name", name, "--local-directory", str(workers_home)], cwd=workers_home, env=env,
                stdout=logs, stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers_home
    finally:
        for process in reversed(processes):  # workers first, then the scheduler
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()


def test_the_same_batch_on_a_scheduler_and_two_worker_processes(capsys, tmp_path, monkeypatch, scheduler):
    address, workers_home = scheduler
    client_home = tmp_path / "client"
    (client_home / "videos").mkdir(parents=True)
    monkeypatch.chdir(client_home)
    # Per-job options in a CSV; the out paths are relative to the client's directory: a worker
    # that used any path from the client would write under its own working directory instead.
    (client_home / "jobs.csv").write_text(
        "prompt,theme,generate,out\n"
        f"{PROMPTS[0]},light,,videos/first.mp4\n"
        f"{PROMPTS[1]},,2,\n"
        f"{PROMPTS[2]},dark,1,videos/third.mp4\n", encoding="utf-8")
    seen, watching = set(), threading.Event()

    def watch_workers_tmp():  # the scenes are rendered in the workers' own temporary folders
        while not watching.is_set():
            seen.update(path.name.rsplit("-", 1)[0] for path in (workers_home / "tmp").iterdir())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_workers_tmp)
    watcher.start()
    try:
        status, out, err = run_cli(capsys, "batch", "jobs.csv", *SMALL, "--scheduler", address, "--out-dir", "videos")
    finally:
        watching.set()
        watcher.join()
    assert status == 0, err
    assert "gpt2-explainer-scene" in seen, seen
    assert f"on the Dask scheduler at {address}" in err
    for line, name in ((2, "first"), (3, PROMPTS[1].lower()), (4, "third")):
        assert f"line {line}: wrote {os.path.join('videos', name + '.mp4')}" in out
        check_video(client_home / "videos" / f"{name}.mp4", 2)
    # The traces and clips came back as bytes: the workers wrote nothing in their own
    # directory (beyond Dask's own scratch space), and their temporary folders are gone.
    left = {path.name for path in workers_home.iterdir()} - {"tmp", "dask-scratch-space"}
    assert not left and not list((workers_home / "tmp").iterdir()), left


def test_a_failing_job_is_reported_by_its_line_and_the_others_finish(capsys, tmp_path, scheduler):
    address, _ = scheduler
    jobs = tmp_path / "jobs.csv"
    # D: not a letter nano-sort knows; and it has 3 layers
    jobs.write_text(f"prompt,layer,out\n{PROMPTS[0]},,\nABD,,\n{PROMPTS[1]},,\n"
                    f"{PROMPTS[0]},7,{tmp_path / 'deep.mp4'}\n", encoding="utf-8")
    status, out, err = run_cli(capsys, "batch", str(jobs), *SMALL, "--scheduler", address, "--out-dir", str(tmp_path))
    assert status == 1
    assert "line 3: failed: this model knows only the letters A, B, C" in err
    assert "line 5: failed: layer 7 is out of range: nano-sort has 3 layers, numbered 0 to 2" in err
    assert err.splitlines()[-1] == "error: 2 of 4 jobs failed (lines 3, 5); the others were written"
    assert "Traceback" not in err  # bad input, not a bug
    for prompt in (PROMPTS[0], PROMPTS[1]):
        check_video(tmp_path / f"{prompt.lower()}.mp4", 2)
    for failed in ("abd", "deep"):
        assert not (tmp_path / f"{failed}.mp4").exists() and not (tmp_path / failed).exists()
    assert not list(tmp_path.glob(".render-*"))


# -- the job file, checked before anything starts ---------------------------------------

@pytest.mark.parametrize("name, text, words", [
    ("jobs.csv", "prompt,modle\nCBABBC,nano-sort\n", "jobs.csv line 1: unknown option 'modle'"),
    ("jobs.csv", "prompt,generate\nCBABBC,1\nABCABC,many\n", "jobs.csv line 3: generate must be a whole number"),
    ("jobs.yaml", "- prompt: CBABBC\n- prompt: ABCABC\n  quality: ultra\n", "jobs.yaml line 2: quality must be one of"),
    ("jobs.yaml", "- prompt: CBABBC\n  scenes: [title, nope]\n", "jobs.yaml line 1: unknown scene 'nope'"),
    ("jobs.yaml", "prompt: CBABBC\n", "a YAML job file is a list of jobs"),
    ("jobs.yaml", "- prompt: [CBABBC\n", "is not valid YAML"),
    ("jobs.txt", "CBABBC\n# the same again\nCBABBC\n", "jobs.txt line 3: writes"),
    ("jobs.txt", "# nothing\n\n", "lists no jobs"),
    ("jobs.csv", "prompt,out\nCBABBC,first.mov\n", "jobs.csv line 2: out must name a .mp4 file, not first.mov"),
    ("jobs.csv", "prompt,out\nCBABBC,/dev/null/first.mp4\n", "jobs.csv line 2: cannot write /dev/null/first.mp4: /dev/null is a file"),
    ("jobs.csv", "prompt,seed\n,1\n", "jobs.csv line 2: the prompt is empty"),
    # narration: the refusals of `video --narrate`, each naming its line and column
    ("jobs.csv", "prompt,narrate\nCBABBC,yes\nABCABC,perhaps\n", "jobs.csv line 3: narrate must be true or false"),
    ("jobs.csv", "prompt,narrate,voice\nCBABBC,yes,nobody\n",
     f"jobs.csv line 2: voice must be one of {JOB_VOICES}, not 'nobody' (`render.py voices` lists them)"),
    ("jobs.csv", "prompt,narrate,voice\nCBABBC,1,none\n",  # a batch takes no recordings: no `none`
     f"jobs.csv line 2: voice must be one of {JOB_VOICES}, not 'none': none leaves the lines without a "
     "recording silent, and no recordings are taken here"),
    ("jobs.yaml", "- prompt: CBABBC\n  narrate: true\n  lang: ja\n  voice: heart\n",
     "jobs.yaml line 1: voice 'heart' reads en, not lang ja: choose one of jf_alpha, jf_gongitsune"),
    ("jobs.csv", "prompt,narrate,voice\nCBABBC,no,heart\n", "jobs.csv line 2: voice 'heart' only applies to a narrated job"),
    ("jobs.csv", "prompt,narrate,out\nCBABBC,yes,talk.gif\n", "jobs.csv line 2: out must name a .mp4 file, not talk.gif"),
])
def test_a_bad_job_file_is_one_line_and_starts_nothing(capsys, tmp_path, name, text, words):
    (tmp_path / name).write_text(text, encoding="utf-8")
    status, out, err = run_cli(capsys, "batch", str(tmp_path / name), *SMALL, "--out-dir", str(tmp_path))
    assert status == 2
    assert_one_line_error(err, words)
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]  # nothing written, no work directory


@pytest.mark.parametrize("options, words", [
    (["--voice", "heart"], "--voice only applies with --narrate"),  # and no job's narrate column says yes
    (["--narrate", "--voice", "nobody"],  # the command line's fault, before any job: no line number
     f"error: --voice must be one of {JOB_VOICES}, not 'nobody' (`render.py voices` lists them)"),
    (["--narrate", "--voice", "none"], f"error: --voice must be one of {JOB_VOICES}, not 'none'"),
    (["--narrate", "--voice", "jf_alpha"], "jobs.txt line 2: --voice 'jf_alpha' reads ja, not --lang en: "
                                           "choose one of heart"),
])
def test_bad_narration_options_are_one_line_and_start_nothing(capsys, tmp_path, options, words):
    (tmp_path / "jobs.txt").write_text("# one\nCBABBC\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "jobs.txt"), *SMALL, "--out-dir", str(tmp_path), *options)
    assert status == 2
    assert_one_line_error(err, words)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.txt"]


@pytest.mark.parametrize("text, options, words", [
    ("prompt,narrate,lang\nCBABBC,yes,en\n", ["--voice", "jf_alpha"],
     "jobs.csv line 2: --voice 'jf_alpha' reads ja, not lang en: choose one of heart"),
    ("prompt,narrate,voice\nCBABBC,yes,heart\n", ["--lang", "ja"],
     "jobs.csv line 2: voice 'heart' reads en, not --lang ja: choose one of jf_alpha"),
])
def test_a_refused_voice_names_the_column_or_the_option_that_gave_it(capsys, tmp_path, text, options, words):
    (tmp_path / "jobs.csv").write_text(text, encoding="utf-8")
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "jobs.csv"), *SMALL, "--out-dir", str(tmp_path), *options)
    assert status == 2
    assert_one_line_error(err, words)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.csv"]


def test_a_job_whose_voice_is_not_installed_names_its_package(capsys, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hibari" else real(name, *a))
    (tmp_path / "jobs.csv").write_text("prompt,narrate\nCBABBC,no\nABCABC,yes\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "jobs.csv"), *SMALL, "--out-dir", str(tmp_path))
    assert status == 2
    assert_one_line_error(err, "jobs.csv line 3: --voice 'heart' (the default for --lang en) is not installed: "
                               "install hibari-tts (pip install hibari-tts, or run setup.sh again)")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.csv"]
    # the command line's --voice: refused before any job, so no line number
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "jobs.csv"), *SMALL, "--out-dir", str(tmp_path),
                             "--narrate", "--voice", "heart")
    assert status == 2
    assert_one_line_error(err, "error: --voice 'heart' is not installed: install hibari-tts")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.csv"]


def test_a_missing_job_file_and_an_unreachable_scheduler(capsys, tmp_path):
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "none.txt"))
    assert status == 2
    assert_one_line_error(err, "job file not found")
    (tmp_path / "jobs.txt").write_text("CBABBC\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "batch", str(tmp_path / "jobs.txt"), *SMALL, "--out-dir", str(tmp_path),
                             "--scheduler", "tcp://127.0.0.1:9")  # the discard port: nothing listens
    assert status == 2
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err.splitlines()[-1]
    assert not list(tmp_path.glob("*.mp4"))


def test_each_job_takes_its_line_and_the_defaults(tmp_path):
    (tmp_path / "jobs.yaml").write_text(
        "# two jobs\n- CBABBC\n- prompt: ABCABC\n  top-p: 0.5\n  scenes: title\n  lang: ja\n  on_screen_captions: no\n",
        encoding="utf-8")
    defaults = DEFAULTS
    first, second = read_jobs(str(tmp_path / "jobs.yaml"), defaults, str(tmp_path))
    assert (first.line, first.scenes, first.model["top_p"], first.options["language"]) == \
           (2, ("title", "tokens"), 0.95, "en")
    assert (second.line, second.scenes, second.model["top_p"], second.options["language"],
            second.options["on_screen_captions"]) == (3, ("title",), 0.5, "ja", False)
    assert second.out == os.path.join(str(tmp_path), "abcabc.mp4")
    (tmp_path / "jobs.csv").write_text("\ufeffprompt,seed\nCBABBC,-1\n", encoding="utf-8")  # a spreadsheet's BOM
    (only,) = read_jobs(str(tmp_path / "jobs.csv"), defaults, str(tmp_path))
    assert (only.line, only.prompt, only.model["seed"], only.narration) == (2, "CBABBC", -1, None)
    # narration: off unless asked; the command line's --narrate and --voice unless a job says otherwise
    (tmp_path / "talks.csv").write_text("prompt,narrate,voice,lang\nCBABBC,,,\nABCABC,NO,,\nCCBBAA,,jm_kumo,ja\n",
                                        encoding="utf-8")
    first, second, third = read_jobs(str(tmp_path / "talks.csv"), {**defaults, "narrate": True}, str(tmp_path))
    assert (first.narration["voice"], second.narration, third.narration["voice"]) == ("heart", None, "jm_kumo")
    assert first.narration["engine"].startswith("hibari-tts==") and third.narration["engine"].startswith("kokoro-ja")
    with pytest.raises(UserError, match="line 1: voice 'heart' only applies to a narrated job"):
        (tmp_path / "talks.yaml").write_text("- prompt: CBABBC\n  voice: heart\n", encoding="utf-8")
        read_jobs(str(tmp_path / "talks.yaml"), defaults, str(tmp_path))
    with pytest.raises(UserError, match="line 3: top_p must be at most 1"):
        (tmp_path / "jobs.yaml").write_text("- CBABBC\n\n- prompt: ABCABC\n  top_p: 2\n", encoding="utf-8")
        read_jobs(str(tmp_path / "jobs.yaml"), defaults, str(tmp_path))


def test_the_clip_cache_hook_is_asked_before_each_scene_and_given_each_clip(tmp_path, scheduler):
    """run_batch's BatchClipCache hook (the clip cache is wired in there): a second batch of the same
    jobs renders no scene, and its videos are the first batch's, frame for frame."""
    from distributed import Client

    from renderer.batch import BatchClipCache, run_batch

    class MemoryCache(BatchClipCache):
        def __init__(self):
            self.clips, self.hits = {}, 0

        def key(self, trace_digest, job, scene):
            return trace_digest, scene, tuple(sorted(job.options.items())), job.quality, job.fps

        def get(self, trace_digest, job, scene):
            hit = self.clips.get(self.key(trace_digest, job, scene))
            self.hits += hit is not None
            return hit

        def put(self, trace_digest, job, scene, files):
            assert sorted(files) == ["clip", "cues"]  # a silent clip's files (a narrated one adds sound, script)
            self.clips[self.key(trace_digest, job, scene)] = files

    (tmp_path / "jobs.txt").write_text("\n".join(PROMPTS[:2]) + "\n", encoding="utf-8")
    defaults = DEFAULTS
    cache, settled = MemoryCache(), []
    for run in ("cold", "warm"):
        (tmp_path / run).mkdir()
        jobs = read_jobs(str(tmp_path / "jobs.txt"), defaults, str(tmp_path / run))
        with Client(scheduler[0], timeout=30) as client:
            result = run_batch(jobs, client, progress=settled.append, cache=cache)
        assert not result.failed and len(result.done) == 2
    assert len(cache.clips) == 4 and cache.hits == 4  # the warm run took every clip from the cache
    assert sum(settled) == 8  # every scene counted once per run
    for prompt in PROMPTS[:2]:
        cold, warm = (video_info(tmp_path / run / f"{prompt.lower()}.mp4") for run in ("cold", "warm"))
        assert cold == warm
        check_video(tmp_path / "warm" / f"{prompt.lower()}.mp4", 2)


def test_batch_help_imports_no_heavy_library():
    """`batch --help` is instant: Dask, PyYAML, torch and Manim load only when a batch runs."""
    code = ("import sys, render\n"
            "try: render.main(['batch', '--help'])\n"
            "except SystemExit as e: assert e.code == 0, e.code\n"
            "print(sorted(m for m in ('torch', 'manim', 'av', 'distributed', 'dask', 'yaml') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage: render.py batch [OPTIONS] FILE" in result.stdout and "--scheduler ADDRESS" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_scene_that_raises_fails_its_job_with_the_workers_traceback(tmp_path):
    """Not bad input but a bug in a scene: the job fails with the scene's name and the worker's
    traceback (a job file cannot name a missing scene, so the job is built past its checks)."""
    from dataclasses import replace

    from distributed import Client, LocalCluster

    from renderer.batch import run_batch

    (tmp_path / "jobs.txt").write_text("CBABBC\n", encoding="utf-8")
    defaults = {**DEFAULTS, "generate": 0, "scenes": ["title"]}
    (job,) = read_jobs(str(tmp_path / "jobs.txt"), defaults, str(tmp_path))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster) as client:
        result = run_batch([replace(job, scenes=("no-such-scene",))], client)
    ((failed, message, details),) = result.failed
    assert failed.line == 1 and message.startswith("the scene 'no-such-scene' failed: ")
    assert "Traceback" in details and "catalog" in details
    assert sorted(path.name for path in tmp_path.iterdir()) == ["jobs.txt"]  # no video, no work folder



def test_a_batch_run_again_takes_its_clips_from_the_clip_cache(capsys, tmp_path):
    """`batch` keeps every clip it renders in the user's clip cache (renderer/cache.py, as `video`
    does) and a second run renders none: each hit marks its entry as used, nothing is added.
    (A video and a batch of the same prompt share entries only when their traces are the same
    bytes: Dask starts its workers with OMP_NUM_THREADS=1, and torch with one thread may round differently.)"""
    cache = Path(os.environ["GPT2_EXPLAINER_CACHE"])  # this test's own (conftest.py)
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(PROMPTS[0] + "\n", encoding="utf-8")
    for run in ("cold", "warm"):
        (tmp_path / run).mkdir()
        status, _, err = run_cli(capsys, "batch", str(jobs), *SMALL, "--workers", "1", "--out-dir", str(tmp_path / run))
        assert status == 0, err
        if run == "cold":
            entries = sorted(path for path in cache.iterdir() if len(path.name) == 64)
            assert len(entries) == 2
            for entry in entries:  # an hour old: a hit touches it now
                os.utime(entry, (time.time() - 3600, time.time() - 3600))
    assert sorted(path for path in cache.iterdir() if len(path.name) == 64) == entries  # nothing new
    assert all(time.time() - entry.stat().st_mtime < 600 for entry in entries)  # both were hits
    for name in ("01_title.mp4", "02_tokens.mp4"):
        assert (tmp_path / "warm" / PROMPTS[0].lower() / "clips" / name).read_bytes() == \
            (tmp_path / "cold" / PROMPTS[0].lower() / "clips" / name).read_bytes()


def assert_sound_as_long_as_the_picture(path):
    """An AAC track at 48 kHz, mono, as long as the video's frames within one frame."""
    import av

    from renderer.sound import read_sound
    from renderer.voices import RATE

    info = video_info(path)
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", RATE, 1), path
    samples, rate = read_sound(path)
    assert abs(len(samples) / rate - info.frames / info.fps) <= 1 / info.fps, path
    assert abs(samples).max() > 0.01, path  # speech, not a silent track


def test_a_job_column_narrates_one_job_on_the_embedded_cluster(capsys, tmp_path, monkeypatch):
    """narrate yes on one line of the job file: that video and its clip speak, with the narration
    script beside the video; the other job stays silent. The speech is synthesised on the workers
    (the batch process itself cannot synthesise here) and kept in the clip cache with the clip:
    a second run renders and synthesises nothing, and its video speaks just the same."""
    import av

    from renderer import voices

    def no_synthesis_here(voice, text):
        raise AssertionError(f"the batch process synthesised {text!r}")

    monkeypatch.setattr(voices, "synthesise", no_synthesis_here)  # the client's; the workers are other processes
    cache = Path(os.environ["GPT2_EXPLAINER_CACHE"])
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(f"prompt,narrate\n{PROMPTS[0]},yes\n{PROMPTS[1]},\n", encoding="utf-8")
    fewest = (*SMALL[:-1], "title")  # the title alone: one scene, one spoken line
    entries = {}
    for run in ("cold", "warm"):
        status, out, err = run_cli(capsys, "batch", str(jobs), *fewest, "--workers", "1",
                                   "--out-dir", str(tmp_path / run))
        assert status == 0, err
        entries[run] = {path.name: sorted(role.name for role in path.iterdir())
                        for path in cache.iterdir() if len(path.name) == 64}
        spoken, silent = (tmp_path / run / f"{prompt.lower()}.mp4" for prompt in PROMPTS[:2])
        reported = {line.split(":", 1)[0]: line for line in out.splitlines()}  # jobs report as they end
        assert reported["line 2"].startswith(f"line 2: wrote {spoken} (854x480, ")
        assert reported["line 2"].endswith(" s of video, narrated by heart)") and "narrated" not in reported["line 3"]
        for path in (spoken, spoken.with_suffix("") / "clips" / "01_title.mp4"):
            assert_sound_as_long_as_the_picture(path)
        assert spoken.with_suffix(".script.csv").is_file() and spoken.with_suffix(".script.txt").is_file()
        with av.open(str(silent)) as container:
            assert not container.streams.audio
        assert not silent.with_suffix(".script.csv").exists()
    # the narrated clip (with its sound track and script), the silent one, and the line's speech
    assert sorted(entries["cold"].values()) == [["clip", "cues", "entry.json"],
                                                ["clip", "cues", "entry.json", "script", "sound"],
                                                ["entry.json", "speech"]]
    assert entries["warm"] == entries["cold"]  # nothing new: every clip was a hit


def test_no_cache_leaves_the_clip_cache_alone(capsys, tmp_path):
    cache = Path(os.environ["GPT2_EXPLAINER_CACHE"])
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(PROMPTS[1] + "\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "batch", str(jobs), *SMALL, "--workers", "1", "--no-cache",
                             "--out-dir", str(tmp_path))
    assert status == 0, err
    assert not cache.exists() or not [path for path in cache.iterdir() if len(path.name) == 64]
