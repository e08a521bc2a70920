"""The clip cache (renderer/cache.py): what a key covers, entries that appear whole or not at
all, eviction, and the video command using it (a hit, a miss on a change, a killed render,
two renders at once, --no-cache). Every test has its own cache folder (conftest.py)."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenes import catalog
from renderer import cache as cache_module
from renderer.cache import (CACHE_FORMAT, ClipCache, bytes_digest, cache_root, clip_cache_from_environment,
                            clip_files, clip_key, code_digest, file_digest, parse_size)
from renderer.presets import quality_preset
from renderer.video import video_info
from renderer.workers import RenderTask
from cli_checks import assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = dict(language="en", theme="dark", on_screen_captions=True, layer=None, head=None)


def task(name="title", out="/work/a/01_title.mp4", **changes):
    settings = dict(index=1, scene=catalog.get(name), trace_path="/somewhere/trace.safetensors",
                    options=dict(OPTIONS), quality=quality_preset("low"), out=out)
    options = {key: changes.pop(key) for key in list(changes) if key in OPTIONS or key == "pace"}
    settings["options"].update(options)
    settings.update(changes)
    return RenderTask(**settings)


# -- keys -----------------------------------------------------------------------------------

def test_a_key_ignores_where_and_changes_with_what_shapes_the_clip():
    digest = "ab" * 32
    same = clip_key(task(), digest)
    assert clip_key(task(index=7, out="/elsewhere/07_title.mp4", trace_path="/other.safetensors"), digest) == same
    changed = [clip_key(task(), "cd" * 32), clip_key(task("tokens"), digest),
               clip_key(task(theme="light"), digest), clip_key(task(language="ja"), digest),
               clip_key(task(on_screen_captions=False), digest), clip_key(task(pace=0.5), digest),
               clip_key(task(quality=quality_preset("medium")), digest),
               clip_key(task(quality=quality_preset("low", fps=10)), digest),
               clip_key(task(quality=dataclasses.replace(quality_preset("low"), encoder_options=(("crf", "18"),))),
                        digest)]
    assert len({same, *changed}) == len(changed) + 1


@pytest.mark.parametrize("name, follows", [("title", None), ("layernorm", "layer"), ("softmax", "head")])
def test_layer_and_head_key_only_the_scenes_that_follow_them(name, follows):
    digest = "ab" * 32
    assert catalog.get(name).follows == follows
    keys = {clip_key(task(name, layer=layer, head=head), digest) for layer, head in ((None, None), (0, None), (0, 1))}
    assert len(keys) == (1 if follows is None else 3)


def test_a_field_added_to_the_task_is_in_the_key():
    """Fields other modules add to RenderTask later (a clip format, beats) key the clip by themselves."""

    @dataclasses.dataclass(frozen=True)
    class LaterTask(RenderTask):
        transparent: bool = False

        beats_out: str = "/work/a/01_title.beats.json"  # a where-field: not in the key

    earlier = task()
    base = LaterTask(**{field.name: getattr(earlier, field.name) for field in dataclasses.fields(earlier)})
    assert clip_key(base, "ab" * 32) != clip_key(dataclasses.replace(base, transparent=True), "ab" * 32)
    assert clip_key(base, "ab" * 32) == clip_key(dataclasses.replace(base, beats_out="/elsewhere.json"), "ab" * 32)


def test_the_code_digest_covers_every_scene_file_and_the_manim_version(tmp_path):
    for name in ["scenes", *cache_module.CLIP_CODE]:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)

    def digest():
        code_digest.cache_clear()
        return code_digest()

    with pytest.MonkeyPatch.context() as patch:  # undone before the real digest is computed again
        patch.setattr(cache_module, "ROOT", tmp_path)
        before = digest()
        assert digest() == before  # the same tree, the same digest
        kit = tmp_path / "scenes" / "kit" / "numbers.py"
        kit.write_text(kit.read_text() + "\n# a change\n")
        after_scene = digest()
        (tmp_path / "renderer" / "presets.py").write_text("# another preset table\n")
        after_presets = digest()
        real_version = cache_module.importlib.metadata.version
        patch.setattr(cache_module.importlib.metadata, "version",
                      lambda name: "99.0" if name == "manim" else real_version(name))
        after_manim = digest()
    code_digest.cache_clear()
    assert before == digest()  # the copy of the tree digests as the tree itself
    assert len({before, after_scene, after_presets, after_manim}) == 4


def test_the_trace_digest_reads_the_file_in_chunks(tmp_path):
    data = os.urandom(3 * 1024 + 17)
    (tmp_path / "t").write_bytes(data)
    assert file_digest(tmp_path / "t", chunk=1024) == bytes_digest(data) == file_digest(tmp_path / "t")


# -- where, how big ---------------------------------------------------------------------------

def test_the_cache_lives_in_the_users_cache_folder(tmp_path):
    home = Path.home()
    assert cache_root({}) == home / ".cache" / "gpt2-explainer" / "clips"
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "gpt2-explainer" / "clips"
    assert cache_root({"XDG_CACHE_HOME": "relative/ignored"}) == home / ".cache" / "gpt2-explainer" / "clips"
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path), "GPT2_EXPLAINER_CACHE": str(tmp_path / "c")}) == tmp_path / "c"


def test_the_size_limit_is_read_from_the_environment(tmp_path):
    assert [parse_size(text) for text in ("2G", "500M", "1.5GB", "123", "10k")] == \
        [2 * 10**9, 500 * 10**6, 1.5 * 10**9, 123, 10_000]
    assert clip_cache_from_environment({"GPT2_EXPLAINER_CACHE": str(tmp_path)}).limit == 2 * 10**9
    assert clip_cache_from_environment({"GPT2_EXPLAINER_CACHE_SIZE": "0"}) is None  # off
    for bad in ("lots", "-1G", "2 GiB"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_a_bad_size_is_one_line_and_status_2(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GPT2_EXPLAINER_CACHE_SIZE", "lots")
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(tmp_path / "v.mp4"))
    assert status == 2
    assert_one_line_error(stderr, "GPT2_EXPLAINER_CACHE_SIZE: not a size: 'lots'")
    assert os.listdir(tmp_path) == []


# -- entries ------------------------------------------------------------------------------------

KEY_A, KEY_B, KEY_C = ("a" * 64, "b" * 64, "c" * 64)


def made_files(directory, name="01_title.mp4", size=1000):
    directory.mkdir(parents=True, exist_ok=True)
    clip = directory / name
    clip.write_bytes(os.urandom(size))
    cues = directory / (clip.stem + ".cues.json")
    cues.write_text(json.dumps([[0.0, 1.0, "a line"]]))
    return {"clip": str(clip), "cues": str(cues)}


def entry_names(root):
    """What the cache folder holds besides its work files and its CACHEDIR.TAG."""
    return sorted(name for name in os.listdir(root) if not name.startswith(".") and name != cache_module.CACHE_TAG)


def test_a_stored_entry_is_copied_back_whole(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    files = made_files(tmp_path / "render")
    assert cache.lookup(KEY_A) is None
    assert cache.store(KEY_A, files)
    back = {role: str(tmp_path / "back" / Path(path).name) for role, path in files.items()}
    (tmp_path / "back").mkdir()
    assert cache.fetch(KEY_A, back)
    for role in files:
        assert Path(back[role]).read_bytes() == Path(files[role]).read_bytes()
        assert os.stat(back[role]).st_ino != os.stat(cache.lookup(KEY_A)[role]).st_ino  # a copy, not a link
    assert entry_names(cache.root) == [KEY_A]
    assert json.loads((cache.root / KEY_A / "entry.json").read_text())["format"] == CACHE_FORMAT


def test_a_damaged_or_half_written_entry_is_a_miss(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    cache.store(KEY_A, made_files(tmp_path / "render"))
    (cache.root / KEY_A / "clip").write_bytes(b"truncated")
    assert cache.lookup(KEY_A) is None
    (cache.root / KEY_B).mkdir()  # a folder under a key's name but no entry.json (not one of ours)
    (cache.root / KEY_B / "clip").write_bytes(b"x")
    assert cache.lookup(KEY_B) is None
    destination = tmp_path / "out.mp4"
    assert not cache.fetch(KEY_B, {"clip": str(destination)}) and not destination.exists()


def test_what_a_killed_store_left_is_never_served_and_is_swept(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no process holds now
    half = cache.root / f".render-{gone.pid}-x"
    half.mkdir(parents=True)
    (half / "clip").write_bytes(b"half a clip")
    assert cache.lookup(KEY_A) is None and cache.entries() == []
    cache.store(KEY_B, made_files(tmp_path / "render"))
    assert not half.exists()  # swept by the next store
    assert entry_names(cache.root) == [KEY_B]


def test_a_second_store_of_the_same_clip_keeps_the_first(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first, second = made_files(tmp_path / "one"), made_files(tmp_path / "two")
    assert cache.store(KEY_A, first)
    assert not cache.store(KEY_A, second)  # another render got there first: no error, nothing changed
    assert Path(cache.lookup(KEY_A)["clip"]).read_bytes() == Path(first["clip"]).read_bytes()
    assert [name for name in os.listdir(cache.root) if name.startswith(".")] == []  # its copy is gone


def test_eviction_removes_the_least_recently_used_first(tmp_path):
    cache = ClipCache(tmp_path / "cache", limit=3500)  # entries of ~1,350 bytes (entry.json holds digests)
    for age, key in enumerate((KEY_A, KEY_B)):
        cache.store(key, made_files(tmp_path / key[0], size=1000))
        os.utime(cache.root / key, (1000 + age, 1000 + age))  # A used before B
    assert cache.lookup(KEY_A) is not None  # now A is the most recent
    cache.store(KEY_C, made_files(tmp_path / "c", size=1000))  # 3 x ~1,350 bytes: over the limit
    assert entry_names(cache.root) == sorted([KEY_A, KEY_C])
    assert cache.size() <= cache.limit
    assert [name for name in os.listdir(cache.root) if name.startswith(".")] == []
    ClipCache(cache.root, limit=0).evict()
    assert cache.entries() == []


def test_timings_are_remembered_and_merged(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    assert cache.timings() == {}
    cache.remember_timings({"title": 1.5})
    cache.remember_timings({"tokens": 0.5})
    assert cache.timings() == {"title": 1.5, "tokens": 0.5}
    (cache.root / "timings.json").write_text("{broken")
    assert cache.timings() == {}


def test_the_task_files_are_the_clip_and_its_cues():
    assert clip_files(task(out="/w/01_title.mp4")) == {"clip": "/w/01_title.mp4", "cues": "/w/01_title.cues.json"}
    assert clip_files(dataclasses.replace(task(out="/w/01_title.mp4"), beats=True))["beats"] == "/w/01_title.beats"


def test_a_folder_is_stored_and_copied_back_whole(tmp_path):
    beats = tmp_path / "01_title.beats"
    beats.mkdir()
    (beats / "beats.json").write_text("[]")
    (beats / "01_title.01_heading.mp4").write_bytes(b"beat" * 100)
    (tmp_path / "clip.mp4").write_bytes(b"clip")
    cache = ClipCache(tmp_path / "cache")
    assert cache.store("a" * 64, {"clip": tmp_path / "clip.mp4", "beats": beats})
    assert cache.size() == 4 + 2 + 400 + (cache.root / ("a" * 64) / "entry.json").stat().st_size
    back = tmp_path / "back"
    back.mkdir()
    assert cache.fetch("a" * 64, {"clip": back / "c.mp4", "beats": back / "b.beats"})
    assert sorted(path.name for path in (back / "b.beats").iterdir()) == ["01_title.01_heading.mp4", "beats.json"]
    assert (back / "b.beats" / "01_title.01_heading.mp4").read_bytes() == b"beat" * 100
    (cache.root / ("a" * 64) / "beats" / "beats.json").write_text("[1]")  # a changed size: a miss
    assert not cache.fetch("a" * 64, {"clip": tmp_path / "x.mp4", "beats": tmp_path / "x.beats"})


# -- the video command ------------------------------------------------------------------------

def render(trace_file, out, *options, scenes="title,tokens", env=None, **popen):
    command = [sys.executable, str(ROOT / "render.py"), "video", "--trace", str(trace_file), "--scenes", scenes,
               "--quality", "low", "--jobs", "2", "--out", str(out), *options]
    if popen:
        return subprocess.Popen(command, cwd=ROOT, text=True, env=env, **popen)
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result


def frames(video):
    info = video_info(video)
    return info.frames, round(info.duration, 3)


def cache_dir():
    return Path(os.environ["GPT2_EXPLAINER_CACHE"])


def test_an_unchanged_video_comes_from_the_cache(nano_sort_trace_file, tmp_path):
    cold = render(nano_sort_trace_file, tmp_path / "cold.mp4")
    assert "Rendering 2 scenes at low" in cold.stderr
    assert len(entry_names(cache_dir())) == 2 + 1  # two clips and timings.json
    warm = render(nano_sort_trace_file, tmp_path / "warm.mp4")
    assert "All 2 scenes from the cache" in warm.stderr and "Rendering" not in warm.stderr
    assert frames(tmp_path / "warm.mp4") == frames(tmp_path / "cold.mp4")
    assert (tmp_path / "warm.mp4").read_bytes() == (tmp_path / "cold.mp4").read_bytes()
    for name in ("01_title.mp4", "02_tokens.vtt"):
        assert (tmp_path / "warm" / "clips" / name).read_bytes() == (tmp_path / "cold" / "clips" / name).read_bytes()
    assert (tmp_path / "warm.srt").read_text() == (tmp_path / "cold.srt").read_text()


def test_beats_come_from_the_cache_with_their_scene(nano_sort_trace_file, tmp_path):
    """--beats (and slides, which render every scene with its beats) keep each scene's beats in its entry."""
    render(nano_sort_trace_file, tmp_path / "cold.mp4", "--beats", scenes="tokens")
    warm = render(nano_sort_trace_file, tmp_path / "warm.mp4", "--beats", scenes="tokens")
    assert "1 scene from the cache" in warm.stderr and "Rendering" not in warm.stderr
    cold_beats = sorted(path.name for path in (tmp_path / "cold" / "clips").glob("01_tokens.*.mp4"))
    assert len(cold_beats) == 3  # the text, its pieces, their IDs
    for name in cold_beats:
        assert (tmp_path / "warm" / "clips" / name).read_bytes() == (tmp_path / "cold" / "clips" / name).read_bytes()
    plain = render(nano_sort_trace_file, tmp_path / "plain.mp4", scenes="tokens")  # no beats: another clip
    assert "Rendering 1 scene" in plain.stderr


def test_a_changed_option_renders_only_the_scenes_it_shapes(nano_sort_trace_file, tmp_path):
    scenes = "title,causal-mask"  # one scene of the whole trace, one that follows a head
    render(nano_sort_trace_file, tmp_path / "a.mp4", scenes=scenes)
    other_layer = render(nano_sort_trace_file, tmp_path / "b.mp4", "--layer", "0", scenes=scenes)
    assert "Rendering 1 scene at low (854x480, 15 fps) with 1 worker process (1 of 2 from the cache)" \
        in other_layer.stderr
    assert "(causal-mask)" in other_layer.stderr and "(title)" not in other_layer.stderr
    light = render(nano_sort_trace_file, tmp_path / "c.mp4", "--theme", "light", scenes=scenes)
    assert "Rendering 2 scenes" in light.stderr and "from the cache" not in light.stderr
    assert frames(tmp_path / "a.mp4")[0] == frames(tmp_path / "c.mp4")[0]
    assert (tmp_path / "a.mp4").read_bytes() != (tmp_path / "c.mp4").read_bytes()


def test_no_cache_renders_every_scene_and_writes_nothing(nano_sort_trace_file, tmp_path):
    render(nano_sort_trace_file, tmp_path / "a.mp4", scenes="title")

    def state():  # every path in the cache folder, with its modification time (a hit touches its entry)
        return {path: os.stat(path).st_mtime_ns for path in [cache_dir(), *cache_dir().rglob("*")]}

    before = state()
    again = render(nano_sort_trace_file, tmp_path / "b.mp4", "--no-cache", scenes="title")
    assert "Rendering 1 scene" in again.stderr and "cache" not in again.stderr
    assert state() == before
    assert frames(tmp_path / "b.mp4") == frames(tmp_path / "a.mp4")


def test_a_killed_render_leaves_no_entry_and_the_next_one_renders(nano_sort_trace_file, tmp_path):
    out = tmp_path / "v.mp4"
    process = render(nano_sort_trace_file, out, scenes="title", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".render-*/.render-*")):  # a worker is rendering
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    time.sleep(1)  # the orphaned worker's watchdog stops it within half a second
    assert not cache_dir().exists() or entry_names(cache_dir()) == []  # no entry, whole or partial

    again = render(nano_sort_trace_file, out, scenes="title")
    assert "Rendering 1 scene" in again.stderr and "from the cache" not in again.stderr
    assert video_info(out).duration > 0
    assert len([name for name in entry_names(cache_dir()) if name != "timings.json"]) == 1


def test_two_renders_at_once_share_the_cache_safely(nano_sort_trace_file, tmp_path):
    both = [render(nano_sort_trace_file, tmp_path / f"{name}.mp4", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name in ("one", "two")]
    for process in both:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    cache = ClipCache(cache_dir())
    keys = [name for name in entry_names(cache_dir()) if name != "timings.json"]
    assert len(keys) == 2 and all(cache.lookup(key) for key in keys)
    assert [name for name in os.listdir(cache_dir()) if name.startswith(".")] == []
    third = render(nano_sort_trace_file, tmp_path / "three.mp4")
    assert "All 2 scenes from the cache" in third.stderr
    assert frames(tmp_path / "three.mp4") == frames(tmp_path / "one.mp4") == frames(tmp_path / "two.mp4")


def test_a_cache_that_cannot_be_written_costs_a_note_not_the_render(nano_sort_trace_file, tmp_path):
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("the user's own file")
    env = {**os.environ, "GPT2_EXPLAINER_CACHE": str(not_a_folder)}
    result = render(nano_sort_trace_file, tmp_path / "v.mp4", scenes="title", env=env)
    assert video_info(tmp_path / "v.mp4").duration > 0
    assert f"note: not every clip could be kept in the clip cache {not_a_folder}" in result.stderr
    assert not_a_folder.read_text() == "the user's own file"
