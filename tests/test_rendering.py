"""renderer/: presets, one clip or still per scene, joining, parallel workers, safety.

These tests bind small probe scenes (tests/probe_scenes.py) to a real nano-sort trace, so they
do not depend on the look of the real scenes. Everything renders at the lowest settings.
"""

import errno
import multiprocessing
import os
import pkgutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from probe_scenes import (BROKEN, DISK_FULL, KILLED, PROBE, SHAPES, BrokenScene, ManyPlaysScene, ProbeScene, ShapesScene,
                          StaticScene)
import renderer
from renderer.files import CLIPS_MANIFEST, WORK_PREFIX, publish_clips, sweep_stale_work
from renderer.manim_run import render_clip, render_still
from renderer.presets import QUALITIES, quality_preset
from renderer.video import join_clips, video_info
from renderer.workers import RenderTask, SceneFailed, render_in_parallel

ROOT = Path(__file__).resolve().parent.parent


def test_renderer_modules_import_neither_torch_nor_manim():
    """renderer/ runs beside the scenes, never the model: no torch or transformers, ever; and
    Manim and PyAV only once a render starts, so `render.py --help` stays instant."""
    modules = sorted(f"renderer.{module.name}" for module in pkgutil.iter_modules(renderer.__path__))
    assert {"renderer.presets", "renderer.workers", "renderer.pipeline"} <= set(modules)
    code = "; ".join(f"import {m}" for m in modules) + (
        "; import sys; print([m for m in ('torch', 'transformers', 'manim', 'av') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def leftovers(directory):
    """Private work directories or temporary files a render left behind."""
    return [name for name in os.listdir(directory) if name.startswith(WORK_PREFIX)]


def test_quality_presets():
    sizes = {name: (q.width, q.height, q.fps) for name, q in QUALITIES.items()}
    assert sizes == {"low": (854, 480, 15), "medium": (1280, 720, 30), "high": (1920, 1080, 30),
                     "4k": (3840, 2160, 30)}
    for quality in QUALITIES.values():  # one encoder thread per worker (presets.py says why)
        assert dict(quality.encoder_options) == {"preset": "veryfast", "crf": "23", "threads": "1"}
    assert quality_preset("high", fps=24).fps == 24
    for name, fps in (("ultra", None), ("low", 0), ("low", -1), ("low", 1000)):
        with pytest.raises(ValueError):
            quality_preset(name, fps)


def test_clip_has_the_preset_size_codec_and_length(nano_sort_trace, tmp_path):
    out = tmp_path / "shapes.mp4"
    assert render_clip(ShapesScene.bind(nano_sort_trace), str(out), "low") == str(out)
    info = video_info(out)
    assert (info.width, info.height, info.codec, info.pixel_format, info.fps) == (854, 480, "h264", "yuv420p", 15)
    assert info.frames == 3 * 2 * 6  # a circle and a square of 0.4 s (6 frames at 15 fps) per layer
    assert info.duration == pytest.approx(2.4, abs=0.01)
    assert os.listdir(tmp_path) == ["shapes.mp4"]  # no work directory, no Manim cache left
    # x264 writes its settings into the stream: the preset's options reached the encoder
    settings = out.read_bytes().split(b"x264 - core", 1)[1].split(b"\0", 1)[0].decode()
    assert " threads=1 " in settings and " crf=23.0 " in settings, settings


def test_fps_overrides_the_preset(nano_sort_trace, tmp_path):
    out = tmp_path / "shapes.mp4"
    render_clip(ShapesScene.bind(nano_sort_trace), str(out), quality_preset("low", fps=10))
    info = video_info(out)
    assert (info.fps, info.frames) == (10, 3 * 2 * 4)


def test_still_is_the_last_frame_at_the_preset_size(nano_sort_trace, tmp_path):
    out = tmp_path / "probe.png"
    render_still(ProbeScene.bind(nano_sort_trace), str(out), "low")
    with Image.open(out) as image:
        assert image.size == (854, 480)
        assert len(image.convert("L").getcolors(maxcolors=100_000)) > 2  # the prompt is drawn, not a blank frame
    assert os.listdir(tmp_path) == ["probe.png"]


def test_join_lasts_the_sum_of_the_clips(nano_sort_trace, tmp_path):
    clips = [str(tmp_path / name) for name in ("a.mp4", "b.mp4", "c.mp4")]
    for clip, scene in zip(clips, (ProbeScene, ManyPlaysScene, ShapesScene)):
        render_clip(scene.bind(nano_sort_trace), clip, "low")
    out = tmp_path / "joined.mp4"
    join_clips(clips, str(out))
    parts = [video_info(clip) for clip in clips]
    assert [part.fps for part in parts] == [15, 15, 15]  # the encoder's rate, even where timestamps drift
    joined = video_info(out)
    assert joined.frames == sum(part.frames for part in parts) == 23 + 21 * 5 + 36
    assert joined.duration == pytest.approx(sum(part.duration for part in parts), abs=1 / 15)
    assert joined.joinable_with(parts[0])
    assert decoded_frames(out) == joined.frames  # the copied stream decodes to the end
    assert sorted(os.listdir(tmp_path)) == ["a.mp4", "b.mp4", "c.mp4", "joined.mp4"]


def decoded_frames(path):
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_join_refuses_clips_that_need_reencoding(nano_sort_trace, tmp_path):
    a, b = str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")
    render_clip(ShapesScene.bind(nano_sort_trace), a, "low")
    render_clip(ShapesScene.bind(nano_sort_trace), b, quality_preset("low", fps=10))
    with pytest.raises(ValueError, match="without re-encoding"):
        join_clips([a, b], str(tmp_path / "joined.mp4"))
    assert not (tmp_path / "joined.mp4").exists()


def test_failed_render_leaves_the_old_file_and_nothing_else(nano_sort_trace, tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"the previous render")
    with pytest.raises(RuntimeError, match="broken on purpose"):
        render_clip(BrokenScene.bind(nano_sort_trace), str(out), "low")
    assert out.read_bytes() == b"the previous render"
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_scene_that_never_plays_is_an_error_not_an_empty_file(nano_sort_trace, tmp_path):
    with pytest.raises(RuntimeError, match="no play calls"):
        render_clip(StaticScene.bind(nano_sort_trace), str(tmp_path / "clip.mp4"), "low")
    assert os.listdir(tmp_path) == []


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_what_a_killed_run_left_is_swept_and_does_not_poison_the_next(nano_sort_trace, tmp_path):
    # A killed run's private directory, with a broken partial movie under the name Manim's
    # cache would use, and a half-copied temporary file.
    stale = tmp_path / f".render-{dead_pid()}-abc123"
    (stale / "segments").mkdir(parents=True)
    (stale / "segments" / "uncached_00000.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 broken")
    (tmp_path / f".render-{dead_pid()}-half.mp4").write_bytes(b"half")
    live = tmp_path / f".render-{os.getpid()}-busy"  # a render still running here: not ours to remove
    live.mkdir()
    removed = sweep_stale_work(str(tmp_path))
    assert len(removed) == 2
    assert leftovers(tmp_path) == [live.name]
    render_clip(ShapesScene.bind(nano_sort_trace), str(tmp_path / "clip.mp4"), "low")
    assert video_info(tmp_path / "clip.mp4").frames == 36


def tasks_for(infos, trace_file, out_dir, options=None):
    quality = quality_preset("low")
    return [RenderTask(index=index, scene=info, trace_path=str(trace_file), options=options or {},
                       quality=quality, out=str(out_dir / f"{index:02d}_{info.name}.mp4"))
            for index, info in enumerate(infos, start=1)]


def test_parallel_render_reports_each_scene_and_writes_every_clip(nano_sort_trace_file, tmp_path):
    tasks = tasks_for([PROBE, SHAPES, PROBE], nano_sort_trace_file, tmp_path)
    faster = tasks_for([SHAPES], nano_sort_trace_file, tmp_path, options={"pace": 0.5})[0]
    tasks.append(replace(faster, index=4, out=str(tmp_path / "04_shapes_fast.mp4")))
    events = []
    render_in_parallel(tasks, jobs=2, report=lambda event, task: events.append((event, task)))
    started = [task.index for event, task in events if event == "started"]
    done = [task.index for event, task in events if event == "done"]
    assert sorted(started) == sorted(done) == [1, 2, 3, 4]
    assert started[:2] == [1, 2]  # two workers take the first two scenes at once
    # the last one at pace 0.5: the options reach the worker (0.2 s, 3 frames, per shape)
    assert [video_info(task.out).frames for task in tasks] == [23, 36, 23, 18]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("info, words", [(BROKEN, "RuntimeError: this scene is broken on purpose"),
                                         (KILLED, "its worker process died (killed by signal 9)")])
def test_parallel_render_stops_at_a_failed_scene(nano_sort_trace_file, tmp_path, info, words):
    tasks = tasks_for([SHAPES, info, SHAPES], nano_sort_trace_file, tmp_path)
    with pytest.raises(SceneFailed) as failure:
        render_in_parallel(tasks, jobs=2)
    assert failure.value.scene == info.name
    assert str(failure.value) == f"the scene {info.name!r} failed: {words}"
    assert multiprocessing.active_children() == []  # no worker left running
    assert not os.path.exists(tasks[1].out)


def test_a_full_disk_in_a_worker_is_reported_as_a_full_disk(nano_sort_trace_file, tmp_path):
    """Not as a failed scene (exit status 1, a traceback): the command line says it in one line."""
    tasks = tasks_for([DISK_FULL], nano_sort_trace_file, tmp_path)
    with pytest.raises(OSError) as failure:
        render_in_parallel(tasks, jobs=1)
    assert failure.value.errno == errno.ENOSPC and failure.value.filename == "segment.mp4"
    assert multiprocessing.active_children() == []


FRAME_BUFFERS = """
import resource, sys
import numpy as np
from renderer.presets import quality_preset
from renderer.workers import keep_freed_frames
if sys.argv[1] == "kept":
    keep_freed_frames(quality_preset("low"))
def page_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def one_frame():  # a frame's picture-sized buffers, written (so their pages are touched), then freed
    return [np.ones((480, 854, 4), np.uint8) for _ in range(3)]
one_frame()
before = page_faults()
for _ in range(100):
    one_frame()
print(page_faults() - before)
"""


def test_a_worker_keeps_freed_frames_for_the_next():
    """Every frame Manim allocates and frees picture-sized buffers; glibc's default gives them
    back to the kernel and faults fresh pages in for the next frame (the control run shows it:
    about 400 faults per 1.6 MB buffer). A worker keeps them in its heap."""
    pages_written = 100 * 3 * (480 * 854 * 4 // 4096)

    def faults(mode):
        result = subprocess.run([sys.executable, "-c", FRAME_BUFFERS, mode], capture_output=True, text=True,
                                cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    assert faults("default") > pages_written / 2  # the control: glibc's default does fault them in
    assert faults("kept") < pages_written / 100


# -- a video's clips folder ---------------------------------------------------------------

def finished_clips(directory, *names):
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"clip " + name.encode())
    return [str(directory / name) for name in names]


def test_only_clips_this_program_wrote_are_removed(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "01_intro.mp4").write_text("the user's own clip, named like ours")
    (clips / "notes.txt").write_text("the teacher's notes")
    publish_clips(finished_clips(tmp_path / "one", "01_title.mp4", "02_tokens.mp4", "03_qkv.mp4"), str(clips))
    assert sorted(p.name for p in clips.iterdir()) == [CLIPS_MANIFEST, "01_intro.mp4", "01_title.mp4",
                                                       "02_tokens.mp4", "03_qkv.mp4", "notes.txt"]
    # A second render of the same video with fewer scenes: its stale clips go, the user's files stay.
    (clips / "03_qkv.mp4").unlink()  # the user removed one already: nothing to do for it
    (clips / "02_tokens.mp4").write_text("the user's edit of our clip")  # no longer ours to remove
    publish_clips(finished_clips(tmp_path / "two", "01_tokens.mp4"), str(clips))
    assert sorted(p.name for p in clips.iterdir()) == [CLIPS_MANIFEST, "01_intro.mp4", "01_tokens.mp4",
                                                       "02_tokens.mp4", "notes.txt"]
    assert (clips / "01_intro.mp4").read_text() == "the user's own clip, named like ours"


@pytest.mark.parametrize("manifest", ['{"clips": {"../outside.mp4": {"size": 23}, "01_intro.mp4/": {}}}', "[1, 2]",
                                      "{broken", '{"clips": "01_intro.mp4"}', '{"clips": ["01_intro.mp4"]}',
                                      '{"clips": {"01_intro.mp4": 4}}'])
def test_a_damaged_manifest_removes_nothing(tmp_path, manifest):
    clips = tmp_path / "clips"
    clips.mkdir()
    (tmp_path / "outside.mp4").write_text("not in the clips folder")  # 23 bytes
    (clips / "01_intro.mp4").write_text("mine")
    (clips / CLIPS_MANIFEST).write_text(manifest)
    publish_clips(finished_clips(tmp_path / "new", "01_title.mp4"), str(clips))
    assert sorted(p.name for p in clips.iterdir()) == [CLIPS_MANIFEST, "01_intro.mp4", "01_title.mp4"]
    assert (tmp_path / "outside.mp4").exists()
