"""Scenes to files: quality presets, one clip or still per scene, parallel workers, joining.

Manim is driven from Python with `tempconfig` (never by shelling out to the manim command).
Two rules keep a killed or failed run harmless:

- every render works in its own private directory (`.render-<pid>-*`, next to where its
  result goes) with Manim's caching disabled, so no run ever reads what another left
  behind (Manim's partial-movie cache is poisoned by a render killed mid-animation);
- a file appears under its final name only once complete: it is written inside the
  private directory and moved into place with os.replace, which is atomic.

Private directories are removed when a render ends; those of a process that was killed
(SIGKILL leaves no chance to clean up) are removed by the next run in the same place.

Manim and PyAV are imported inside the functions that use them, so the presets can be
read (by `render.py --help`) without importing either. Nothing here imports torch.
"""

import errno
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction

# -- quality presets ------------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    name: str
    width: int
    height: int
    fps: float
    # x264 options. veryfast: at 1080p the encoder, not Cairo, sets the floor; veryfast
    # was the fastest preset measured here that did not bloat the files (see DESIGN.md).
    encoder_options: tuple = (("preset", "veryfast"), ("crf", "23"))

    @property
    def label(self):
        return f"{self.name} ({self.width}x{self.height}, {self.fps:g} fps)"


QUALITIES = {
    "low": Quality("low", 854, 480, 15),
    "medium": Quality("medium", 1280, 720, 30),
    "high": Quality("high", 1920, 1080, 30),
    "4k": Quality("4k", 3840, 2160, 30),
}
MAX_FPS = 120


def quality_preset(name, fps=None):
    """The preset called `name`, with its frame rate replaced by `fps` if given."""
    if name not in QUALITIES:
        raise ValueError(f"unknown quality {name!r}: choose one of {', '.join(QUALITIES)}")
    quality = QUALITIES[name]
    if fps is not None:
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"--fps must be above 0 and at most {MAX_FPS}, not {fps:g}")
        quality = replace(quality, fps=fps)
    return quality


# -- private work directories and atomic publishing -----------------------------------

WORK_PREFIX = ".render-"
_WORK_NAME = re.compile(r"^\.render-(\d+)-")


@contextmanager
def private_directory(parent):
    """A fresh directory inside `parent`, named after this process, removed on the way out.

    It lives beside the final files so that os.replace from it is a rename on the same
    file system, hence atomic.
    """
    os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=parent)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_stale_work(parent):
    """Remove what killed runs left in `parent`: private directories and temporary files
    whose process is gone (a live process's are in use: another render is running)."""
    if not os.path.isdir(parent):
        return []
    removed = []
    for name in os.listdir(parent):
        match = _WORK_NAME.match(name)
        path = os.path.join(parent, name)
        if match and not process_alive(int(match.group(1))):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
            removed.append(path)
    return removed


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True


def publish(finished, final):
    """Move a complete file to its final name in one atomic step (never a half-written file there)."""
    try:
        os.replace(finished, final)
    except OSError as error:
        if error.errno != errno.EXDEV:  # on another file system: copy beside the target first
            raise
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(final)),
                                             prefix=f"{WORK_PREFIX}{os.getpid()}-")
        os.close(handle)
        try:
            shutil.copyfile(finished, temporary)
            os.replace(temporary, final)
        except BaseException:
            os.unlink(temporary)
            raise
    return final


# -- one scene to one file ------------------------------------------------------------

def manim_settings(work, quality, output_name, still):
    """Manim config for one render: everything inside `work`, no cache, no terminal output."""
    return {
        "media_dir": work,
        "video_dir": work,
        "images_dir": work,
        "partial_movie_dir": os.path.join(work, "segments"),
        "output_file": output_name,
        # "png" writes only the last frame and skips the animations (the cheap mode);
        # "mp4" rather than "auto", which would write a PNG for a scene without play().
        "format": "png" if still else "mp4",
        "pixel_width": quality.width,
        "pixel_height": quality.height,
        "frame_rate": quality.fps,
        "video_encoder_options": dict(quality.encoder_options),
        "disable_caching": True,  # we own the caching: a killed run must not poison the next
        "save_sections": False,
        "preview": False,
        "log_to_file": False,
        "verbosity": "ERROR",
        "progress_bar": "none",
    }


def render_with_manim(scene_class, work, quality, output_name, still):
    """Render `scene_class` into `work`; returns the path Manim wrote."""
    from manim import config, tempconfig

    settings = manim_settings(work, quality, output_name, still)
    unknown = set(settings) - set(config)  # tempconfig silently drops keys it does not know
    assert not unknown, f"not Manim config keys: {unknown}"
    with tempconfig(settings):
        scene = scene_class()
        scene.render()
    written = os.path.join(work, output_name + (".png" if still else ".mp4"))
    if not os.path.isfile(written):
        raise RuntimeError(f"{scene_class.__name__} wrote no {'image' if still else 'video'} "
                           "(a scene must play at least one animation or wait)")
    return written


def render_clip(scene_class, out, quality="low", fps=None):
    """Render one bound scene to the MP4 file `out`; returns `out`."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality, fps)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        return publish(render_with_manim(scene_class, work, quality, "clip", still=False), out)


def render_still(scene_class, out, quality="high"):
    """Write the last frame of one bound scene as the PNG file `out` (animations skipped)."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        return publish(render_with_manim(scene_class, work, quality, "still", still=True), out)


# -- video files ----------------------------------------------------------------------

@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    codec: str
    pixel_format: str
    fps: float
    frames: int
    duration: float  # seconds

    def joinable_with(self, other):
        """Stream copy needs the same picture size, frame rate, codec and pixel format."""
        return (self.width, self.height, self.codec, self.pixel_format, self.fps) == \
               (other.width, other.height, other.codec, other.pixel_format, other.fps)


def frame_rate(stream):
    """The rate the clip was encoded at. Not the average rate: in a clip that Manim joined from
    its segments (or we joined from clips) timestamps are off by a few ticks, so the average
    is 15.0004 where the encoder ran at exactly 15."""
    return stream.codec_context.framerate or stream.base_rate


def video_info(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return VideoInfo(width=stream.width, height=stream.height, codec=stream.codec_context.name,
                         pixel_format=stream.codec_context.pix_fmt, fps=float(frame_rate(stream)),
                         frames=stream.frames, duration=container.duration / 1e6 if container.duration else 0.0)


def join_clips(clips, out):
    """Concatenate MP4 clips into `out` without re-encoding: their packets are copied, one clip
    after another, each shifted to start where the previous one ends."""
    import av

    if not clips:
        raise ValueError("no clips to join")
    infos = [video_info(clip) for clip in clips]
    for clip, info in zip(clips, infos):
        if not info.joinable_with(infos[0]):
            raise ValueError(f"cannot join {clip} ({info}) to {clips[0]} ({infos[0]}) without re-encoding")
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        joined = os.path.join(work, "joined.mp4")
        with av.open(joined, mode="w") as target:
            copy = None
            start = Fraction(0)  # where the next clip begins, in seconds
            for clip in clips:
                with av.open(str(clip)) as source:
                    video = source.streams.video[0]
                    copy = copy or target.add_stream_from_template(template=video)
                    shift = round(start / video.time_base)  # in the clip's time base
                    frames = 0
                    for packet in source.demux(video):
                        if packet.dts is None:  # the empty packet demux() yields at the end
                            continue
                        packet.dts += shift
                        if packet.pts is not None:
                            packet.pts += shift
                        packet.stream = copy
                        target.mux(packet)
                        frames += 1
                    # By frame count, not the container's duration: an MP4's edit list makes
                    # that a few ticks short, and the error would pile up clip after clip.
                    start += Fraction(frames) / frame_rate(video)
        return publish(joined, out)


# -- rendering many scenes in parallel ------------------------------------------------

@dataclass(frozen=True)
class RenderTask:
    """One clip to render: what a worker process needs, as small plain values (the trace is a file)."""

    index: int
    scene: object  # scenes.catalog.SceneInfo: where the scene class lives
    trace_path: str  # a .safetensors file written by Trace.save
    options: dict  # keyword arguments of scenes.base.SceneOptions (plain, so the parent needn't import Manim)
    quality: Quality
    out: str  # the finished clip's path


class SceneFailed(Exception):
    """A scene raised, or its worker died; `details` holds the worker's traceback."""

    def __init__(self, scene, message, details=""):
        super().__init__(f"the scene {scene!r} failed: {message}")
        self.scene = scene
        self.details = details


def render_in_parallel(tasks, jobs, report=lambda event, task: None, poll_seconds=0.5):
    """Render every task's clip with up to `jobs` worker processes, one scene at a time each.

    Workers are fresh interpreters (spawn): they import Manim and the scenes, never torch,
    and read the trace from its file. Each talks to us through its own pipe, so a worker
    that dies is seen at once (its pipe closes). `report(event, task)` is called with
    "started" and "done", and with ("tick", None) every `poll_seconds` of quiet so a
    display can refresh. Raises SceneFailed on the first failure; on any way out, no
    worker is left running.
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
                    outcome, details = pipe.recv()
                except EOFError:
                    raise SceneFailed(task.scene.name, f"its worker process died ({exit_reason(workers[pipe])})")
                if outcome == "failed":
                    raise SceneFailed(task.scene.name, details.strip().splitlines()[-1], details)
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


def worker_main(pipe, parent_pid):
    """A worker process: render the tasks the parent sends until a stop sign (None)."""
    # Ctrl-C reaches the whole process group; the parent decides what stops, and kills us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_when_orphaned(parent_pid)
    # Manim builds a (hidden) tqdm bar per animation, and tqdm's default lock is a
    # multiprocessing semaphore: a worker killed while holding one makes Python's resource
    # tracker warn about a leak. Nothing here shares a terminal bar; a thread lock will do.
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    traces = {}  # path -> Trace: a worker loads each trace file once
    for task in iter(pipe.recv, None):
        try:
            render_task(task, traces)
        except BaseException:
            pipe.send(("failed", traceback.format_exc()))
            return
        pipe.send(("done", ""))


def render_task(task, traces):
    from scenes.base import SceneOptions
    from tracer.trace import Trace

    if task.trace_path not in traces:
        traces[task.trace_path] = Trace.load(task.trace_path)
    scene_class = task.scene.load().bind(traces[task.trace_path], SceneOptions(**task.options))
    render_clip(scene_class, task.out, task.quality)


def exit_when_orphaned(parent_pid, interval=0.5):
    """If the parent is killed (SIGKILL leaves it no time to stop us), stop within `interval`."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="orphan-watchdog").start()
