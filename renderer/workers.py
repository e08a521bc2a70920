"""Rendering many scenes at once: one worker process per scene at a time, and no orphans.

Workers are fresh interpreters (spawn): they import Manim and the scenes, never torch, and
read the trace from its file, so a task is a few small plain values. A worker stops with
its parent, however the parent ends: by a stop sign, by being killed from here, or (when
the parent itself is killed) by its own watchdog.
"""

import ctypes
import enum
import errno
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from renderer.beats import beats_directory
from renderer.captions import cues_path
from renderer.files import DISK_FULL
from renderer.formats import MP4, ClipFormat
from renderer.manim_run import render_clip
from renderer.narration import narrator_for
from renderer.presets import Quality
from renderer.sound import sound_path
from tracer.errors import UserError  # plain Python: no torch


@dataclass(frozen=True)
class RenderTask:
    """One clip to render: what a worker process needs, as small plain values (the trace is a file)."""

    index: int
    scene: object  # scenes.catalog.SceneInfo: where the scene class lives
    trace_path: str  # a .safetensors file written by Trace.save
    options: dict  # keyword arguments of scenes.base.SceneOptions (plain, so the parent needn't import Manim)
    quality: Quality
    out: str  # the finished clip's path
    clip_format: ClipFormat = MP4  # its container, codec and background
    beats: bool = False  # also each beat as its own clip, in beats.beats_directory(out)
    narration: dict = None  # a narrated clip: renderer/narration.py's request ({"voice": ..., "engine": ...})
    speech_cache_dir: str = None  # where spoken lines are cached (the clip cache), or None (--no-cache)


class Outcome(enum.Enum):
    """How a worker's task ended."""

    DONE = "done"
    BAD_INPUT = "bad input"  # the user's to fix: one line, exit status 2
    DISK_FULL = "disk full"  # not the scene's fault: the caller says so in one line
    FAILED = "failed"  # a bug, or a scene that raised: its name and the worker's traceback


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back through its pipe after each task."""

    outcome: Outcome
    details: str = ""  # BAD_INPUT: the message; DISK_FULL: the file, if known; FAILED: the traceback

    @classmethod
    def of_error(cls, error):
        """The result of a task that raised `error` (in its except block: the traceback is the one being handled)."""
        if isinstance(error, UserError):  # bad input found only now (a damaged value of a lazily read trace)
            return cls(Outcome.BAD_INPUT, str(error))
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            return cls(Outcome.DISK_FULL, error.filename or "")
        return cls(Outcome.FAILED, traceback.format_exc())

    def raise_error(self, task):
        """In the parent: raise what this result means for `task` (nothing if it is DONE)."""
        if self.outcome is Outcome.DISK_FULL:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.details or None)
        if self.outcome is Outcome.BAD_INPUT:
            raise UserError(self.details)
        if self.outcome is Outcome.FAILED:
            raise SceneFailed(task.scene.name, self.details.strip().splitlines()[-1], self.details)


class SceneFailed(Exception):
    """A scene raised, or its worker died; `details` holds the worker's traceback."""

    def __init__(self, scene, message, details=""):
        super().__init__(f"the scene {scene!r} failed: {message}")
        self.scene = scene
        self.details = details


def usable_cores():
    """How many CPU cores this process may use (its affinity where the system says, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def render_in_parallel(tasks, jobs, report=lambda event, task: None, poll_seconds=0.5):
    """Render every task's clip with up to `jobs` worker processes, one scene at a time each,
    handed out in the order of `tasks` (the caller puts the longest first: balance.py).

    Each worker talks to us through its own pipe, so a worker that dies is seen at once
    (its pipe closes). `report(event, task)` is called with "started" and "done", and
    with ("tick", None) every `poll_seconds` of quiet so a display can refresh. Raises
    SceneFailed on the first failure; on any way out, no worker is left running.
    """
    from multiprocessing import connection, get_context

    if jobs < 1:
        raise ValueError(f"jobs must be 1 or more, not {jobs}")
    context = get_context("spawn")
    waiting = list(tasks)
    workers = {}  # our end of a worker's pipe -> its process
    busy = {}  # our end of a busy worker's pipe -> the task it renders
    finished = False

    def hand_out(pipe):
        """The next task to this worker, or a stop sign when there is none."""
        task = waiting.pop(0) if waiting else None
        try:
            pipe.send(task)
        except OSError:  # the worker died between two scenes
            if task is not None:
                raise SceneFailed(task.scene.name, f"its worker process died ({exit_reason(workers[pipe])})")
            return
        if task is not None:
            busy[pipe] = task
            report("started", task)

    try:
        for _ in range(min(jobs, len(tasks))):
            ours, theirs = context.Pipe()
            workers[ours] = context.Process(target=worker_main, args=(theirs, os.getpid()), daemon=True)
            workers[ours].start()
            theirs.close()  # the worker holds the only other end: if it dies, our end reads EOF
            hand_out(ours)
        while busy:
            ready = connection.wait(list(busy), timeout=poll_seconds)
            if not ready:
                report("tick", None)
            for pipe in ready:
                task = busy.pop(pipe)
                try:
                    result = pipe.recv()
                except EOFError:
                    raise SceneFailed(task.scene.name, f"its worker process died ({exit_reason(workers[pipe])})")
                result.raise_error(task)
                report("done", task)
                hand_out(pipe)
        finished = True
    finally:
        stop_workers(workers, finished)


def exit_reason(process, timeout=2):
    process.join(timeout)
    code = process.exitcode
    if code is None:
        return "it stopped answering"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def stop_workers(workers, finished):
    """After a clean finish the workers have their stop signs and exit; otherwise kill them."""
    for pipe, process in workers.items():
        if finished:
            process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
        pipe.close()


# -- inside a worker process ------------------------------------------------------------

def worker_main(pipe, parent_pid):
    """A worker process: render the tasks the parent sends until a stop sign (None)."""
    # Ctrl-C reaches the whole process group; the parent decides what stops, and kills us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_when_orphaned(parent_pid)
    traces = {}  # path -> Trace: a worker loads each trace file once
    for task in iter(pipe.recv, None):
        try:
            render_task(task, traces)
        except BaseException as error:
            pipe.send(TaskResult.of_error(error))
            return  # a worker whose task failed renders nothing more: the parent stops them all
        pipe.send(TaskResult(Outcome.DONE))
    exit_at_once()


def exit_at_once():
    """Leave without tearing the interpreter down: after a video's scenes a worker's heap is
    large (Manim's mobjects, the kit's caches) and a clean exit takes over a second, which the
    parent would wait for before it joins the clips. Every clip is closed and reported by now."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a pipe nobody reads: nothing to keep
            pass
    os._exit(0)


def keep_freed_frames(quality):
    """Keep the memory of one frame for the next. Each frame Manim allocates and frees a few
    picture-sized buffers (1.6 MB at 480p); glibc gives such blocks back to the kernel and
    then takes fresh zeroed pages for the next frame: 2.5 million page faults, 6-7 s of system
    time in a 45 s render at low quality. With higher thresholds (glibc's mallopt; a no-op
    elsewhere) blocks up to two frames in size (at least 8 MB) come from the heap, which keeps
    up to HEAP_SLACK of freed memory; larger ones (a long trace's tensors) are still handed back."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    frame_bytes = quality.width * quality.height * 4  # RGBA
    mallopt(M_MMAP_THRESHOLD, min(max(2 * frame_bytes, 8 * 2**20), MMAP_THRESHOLD_MAX))
    mallopt(M_TRIM_THRESHOLD, HEAP_SLACK)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's largest (a 4K frame, 33 MB, is mapped on its own)
HEAP_SLACK = 64 * 2**20  # measured: 16 MB still faulted half as often as glibc's default


def quiet_tqdm_lock():
    """Manim builds a (hidden) tqdm bar per animation, and tqdm's default lock is a
    multiprocessing semaphore: a worker killed while holding one makes Python's resource
    tracker warn about a leak. Nothing here shares a terminal bar; a thread lock will do."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def render_task(task, traces):
    from scenes.base import SceneOptions
    from tracer.trace import Trace

    # What a process that renders needs (both cheap, and set again per task: a Dask worker
    # runs render_task without worker_main).
    quiet_tqdm_lock()
    keep_freed_frames(task.quality)
    def load(path):  # each trace file once per worker
        if path not in traces:
            traces[path] = Trace.load(path)
        return traces[path]

    narrator = narrator_for(task)
    if hasattr(task, "bind_scene"):  # a task that draws two traces (renderer/compare.py) binds its own scene
        scene_class = task.bind_scene(load, narrator)
    else:
        scene_class = task.scene.load().bind(load(task.trace_path), SceneOptions(**task.options), narrator)
    render_clip(scene_class, task.out, task.quality, cues_out=cues_path(task.out), clip_format=task.clip_format,
                beats_out=beats_directory(task.out) if task.beats else None, scene_name=task.scene.name,
                sound_out=sound_path(task.out) if narrator is not None else None)


def exit_when_orphaned(parent_pid, interval=0.5):
    """If the parent is killed (SIGKILL leaves it no time to stop us), stop within `interval`."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="orphan-watchdog").start()
