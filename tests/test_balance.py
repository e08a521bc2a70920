"""Scenes are handed to the workers longest first (renderer/balance.py), by the time they took
last time, else the time on its catalog line, else a guess; the video keeps the storyboard order."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scenes import catalog
from renderer.balance import UNKNOWN_SECONDS, estimated_seconds, longest_first, timing_key
from renderer.cache import ClipCache
from renderer.presets import quality_preset
from renderer.workers import RenderTask
from scenes.catalog import SceneInfo

ROOT = Path(__file__).resolve().parent.parent


def tasks_of(names, quality="low"):
    infos = [catalog.get(name) if name in catalog.names() else SceneInfo(name, "scenes.nowhere", "Nothing", "new")
             for name in names]
    return [RenderTask(index=index, scene=info, trace_path="t.safetensors", options={},
                       quality=quality_preset(quality), out=f"{index:02d}_{info.name}.mp4")
            for index, info in enumerate(infos, start=1)]


def names(tasks):
    return [task.scene.name for task in tasks]


def test_the_catalog_line_gives_the_estimate_and_an_unmeasured_scene_gets_the_guess():
    tasks = tasks_of(catalog.names())
    for task in tasks:
        wanted = UNKNOWN_SECONDS if task.scene.seconds is None else task.scene.seconds
        assert estimated_seconds(task, {}) == wanted
    with pytest.raises(ValueError, match="scenes/catalog.py, the line of scene 'slow'"):
        SceneInfo("slow", "scenes.nowhere", "Nothing", "new", seconds=0)


def test_the_longest_scene_goes_first_by_the_table():
    tasks = tasks_of(["title", "tokens", "mlp", "loop", "dot-products"])
    assert names(longest_first(tasks)) == ["mlp", "dot-products", "loop", "title", "tokens"]
    assert names(tasks) == ["title", "tokens", "mlp", "loop", "dot-products"]  # the list itself is untouched


def test_a_remembered_time_beats_the_table_and_ties_keep_the_storyboard_order():
    tasks = tasks_of(["title", "tokens", "mlp", "a-new-scene"])
    history = {timing_key(tasks[1]): 60.0}  # tokens took a minute last time
    assert estimated_seconds(tasks[3], {}) == UNKNOWN_SECONDS
    assert names(longest_first(tasks, history)) == ["tokens", "mlp", "a-new-scene", "title"]
    elsewhere = {timing_key(tasks_of(["tokens"], quality="high")[0]): 60.0}  # another quality: not this one
    assert names(longest_first(tasks, elsewhere))[0] == "mlp"
    same = tasks_of(["causal-mask", "causal-mask"])
    assert [task.index for task in longest_first(same)] == [1, 2]


def render(trace_file, out, *options):
    result = subprocess.run([sys.executable, str(ROOT / "render.py"), "video", "--trace", str(trace_file),
                             "--scenes", "title,tokens,causal-mask", "--quality", "low", "--jobs", "1",
                             "--out", str(out), *options], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def done_order(stderr):
    """The scenes in the order they finished (one worker: the order they were handed out)."""
    return re.findall(r"done \(([a-z-]+)\)", stderr)


def test_the_video_renders_longest_first_and_keeps_the_storyboard_order(nano_sort_trace_file, tmp_path):
    first = render(nano_sort_trace_file, tmp_path / "a.mp4")
    assert done_order(first.stderr) == ["causal-mask", "title", "tokens"]  # 1.7 s, 1.6 s, 0.9 s in the table
    assert [name for name in sorted(os.listdir(tmp_path / "a" / "clips")) if name.endswith(".mp4")] == \
        ["01_title.mp4", "02_tokens.mp4", "03_causal-mask.mp4"]
    first_cue = (tmp_path / "a.srt").read_text(encoding="utf-8").split("\n\n")[0]
    title_cue = (tmp_path / "a" / "clips" / "01_title.srt").read_text(encoding="utf-8").split("\n\n")[0]
    assert first_cue == title_cue  # the video starts with the title

    cache = ClipCache(os.environ["GPT2_EXPLAINER_CACHE"])
    remembered = cache.timings()
    assert sorted(key.split()[0] for key in remembered) == ["causal-mask", "title", "tokens"]
    assert all(seconds > 0 for seconds in remembered.values())

    slow_tokens = {key: (100.0 if key.startswith("tokens ") else seconds) for key, seconds in remembered.items()}
    (cache.root / "timings.json").write_text(json.dumps(slow_tokens))
    second = render(nano_sort_trace_file, tmp_path / "b.mp4", "--theme", "light")  # a change: all render again
    assert done_order(second.stderr)[0] == "tokens"
