"""Hostile input, round two (issue 21): output paths, the clip cache, the clips folder.

Names too long for the file system, NUL bytes, folders that do not exist yet, a full disk,
prompts in scripts other than Latin, damaged or swapped cache entries, the user's own files
in the cache folder or the clips folder. Each refusal is one line and exit status 2, before
any work where the input alone decides; nothing the program cannot prove it wrote is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from renderer.cache import CACHE_TAG, ClipCache
from renderer.files import CLIPS_MANIFEST, publish_clips
from renderer.jobs import read_jobs
from renderer.outputs import output_path, slug
from tracer.errors import UserError
from cli_checks import assert_one_line_error, make_scene_fail, run_cli

ROOT = Path(__file__).resolve().parent.parent
BATCH_DEFAULTS = {"model": "nano-sort", "generate": 1, "temperature": 0.8, "top_k": 40, "top_p": 0.95, "seed": 0,
                  "lang": "en", "theme": "dark", "on_screen_captions": True, "layer": None, "head": None,
                  "scenes": ["title"], "quality": "low", "fps": None, "captions": True}


def render(*args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300, env=env)


def video(trace_file, out, *options, scenes="title"):
    return render("video", "--trace", str(trace_file), "--scenes", scenes, "--quality", "low", "--jobs", "1",
                  "--out", str(out), *options)


def everything_under(folder):
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob("*"))


# -- 7: names longer than the file system takes ------------------------------------------------

@pytest.mark.parametrize("command", ["slides", "video", "still"])
def test_a_name_too_long_for_the_file_system_is_refused_before_any_work(capsys, nano_sort_trace_file, tmp_path,
                                                                         command, monkeypatch):
    """Slides failed with `OSError: File name too long` after the whole render."""
    def no_render(*args, **kwargs):
        raise AssertionError("rendered although the output's name cannot be written")

    from renderer import pipeline, slides

    monkeypatch.setattr(pipeline, "render_tasks", no_render)
    monkeypatch.setattr(slides, "render_tasks", no_render)
    monkeypatch.setattr(pipeline, "render_still", no_render)
    suffix, extra = {"slides": (".pptx", ["--to", "pptx"]), "video": (".mp4", []),
                     "still": (".png", ["--scene", "title"])}[command]
    for out in [tmp_path / ("n" * 252 + suffix), tmp_path / ("d" * 256) / ("v" + suffix),
                tmp_path / ("日" * 84 + suffix)]:  # 252 + 5 bytes; a folder of 256; 84 x 3 + 5 bytes
        status, _, stderr = run_cli(capsys, command, "--trace", str(nano_sort_trace_file), *extra, "--out", str(out))
        assert status == 2
        assert_one_line_error(stderr, "the file system takes at most 255")
    assert everything_under(tmp_path) == []


def test_a_name_of_255_bytes_is_taken_and_one_of_256_is_not(tmp_path):
    assert output_path(str(tmp_path / ("g" * 251 + ".gif")), "hi", ".gif")
    with pytest.raises(UserError, match="the name is 256 bytes long"):
        output_path(str(tmp_path / ("g" * 251 + ".webm")), "hi", ".webm")


# -- 9: a NUL byte in a batch `out` ------------------------------------------------------------

def test_a_nul_byte_in_an_out_is_one_line(capsys, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text('- prompt: CBABBC\n  out: "a\\0b.mp4"\n')
    status, _, stderr = run_cli(capsys, "batch", str(jobs), "--model", "nano-sort", "--out-dir", str(tmp_path))
    assert status == 2
    assert_one_line_error(stderr, "line 1: cannot write 'a\\x00b.mp4': a file name cannot hold a NUL byte")
    with pytest.raises(UserError, match="NUL byte"):
        output_path("a\0b.mp4", "hi", ".mp4")


# -- 12: a full disk under the output folder ---------------------------------------------------

@pytest.fixture
def full_disk(tmp_path):
    """A small file system (tmpfs), filled up. Needs the right to mount (root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        with open(mount / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_found_before_any_work(capsys, nano_sort_trace_file, full_disk):
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(full_disk / "v.mp4"))
    assert status == 2
    assert_one_line_error(stderr, f"no space left on the device of {full_disk}")
    assert os.listdir(full_disk) == ["filler"]


def test_manims_files_cut_short_by_a_full_disk_are_a_full_disk_not_a_broken_scene(nano_sort_trace, full_disk):
    """Manim writes each text's SVG into the work folder and reads it back: on a full disk the
    SVG is cut short and the scene failed with xml ParseError (a traceback, exit status 1)."""
    import errno

    from renderer.manim_run import render_with_manim
    from renderer.presets import quality_preset
    from scenes import catalog
    from scenes.base import SceneOptions

    work = full_disk / ".render-1-x"
    work.mkdir()
    scene = catalog.get("title").load().bind(nano_sort_trace, SceneOptions())
    with pytest.raises(OSError) as failure:
        render_with_manim(scene, str(work), quality_preset("low"), "clip", still=True)
    assert failure.value.errno == errno.ENOSPC and failure.value.filename == str(full_disk)
    # What the scene failed with: a text's SVG cut short (ParseError) or, where the disk filled
    # before the SVG was opened, the write itself.
    cause = failure.value.__cause__
    assert type(cause).__name__ == "ParseError" or getattr(cause, "errno", None) == errno.ENOSPC, repr(cause)


# -- 20: folders that do not exist yet ---------------------------------------------------------

def test_a_video_into_folders_that_do_not_exist_yet_makes_them(nano_sort_trace_file, tmp_path):
    result = video(nano_sort_trace_file, tmp_path / "new" / "deeper" / "v.mp4")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "deeper" / "v.mp4").is_file() and (tmp_path / "new" / "deeper" / "v.srt").is_file()
    assert (tmp_path / "new" / "deeper" / "v" / "clips" / "01_title.mp4").is_file()
    assert not [path for path in tmp_path.rglob(".render-*")]


def test_a_trace_and_a_still_into_a_new_folder(capsys, tiny_checkpoint, nano_sort_trace_file, tmp_path):
    status, _, stderr = run_cli(capsys, "trace", "--model", str(tiny_checkpoint), "--prompt", "hi",
                                "--out", str(tmp_path / "traces" / "t.safetensors"))
    assert status == 0, stderr
    assert (tmp_path / "traces" / "t.safetensors").is_file()
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", str(nano_sort_trace_file),
                                "--quality", "low", "--out", str(tmp_path / "stills" / "title.png"))
    assert status == 0, stderr
    assert (tmp_path / "stills" / "title.png").is_file()


def test_a_failed_run_leaves_no_folder_behind(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    make_scene_fail(monkeypatch, "render_tasks", "title")
    status, _, _ = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                           "--out", str(tmp_path / "new" / "v.mp4"))
    assert status == 1
    assert everything_under(tmp_path) == []


def test_a_file_in_the_way_of_a_new_folder_is_refused(capsys, nano_sort_trace_file, tmp_path):
    (tmp_path / "a-file").write_text("x")
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file),
                                "--out", str(tmp_path / "a-file" / "new" / "v.mp4"))
    assert status == 2
    assert_one_line_error(stderr, f"{tmp_path / 'a-file'} is a file")
    assert everything_under(tmp_path) == ["a-file"]


def test_a_batch_may_write_into_folders_that_do_not_exist_yet(capsys, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("- prompt: CBABBC\n  out: new/one.mp4\n- prompt: ABCABC\n")
    first, second = read_jobs(str(jobs), BATCH_DEFAULTS, str(tmp_path / "videos"))
    assert first.out == "new/one.mp4" and second.out == str(tmp_path / "videos" / "abcabc.mp4")
    assert everything_under(tmp_path) == ["jobs.yaml"]  # made only when a video is published
    (tmp_path / "a-file").write_text("x")
    status, _, stderr = run_cli(capsys, "batch", str(jobs), "--out-dir", str(tmp_path / "a-file"))
    assert status == 2 and "Traceback" not in stderr


# -- 21: prompts in every script ---------------------------------------------------------------

@pytest.mark.parametrize("prompt, expected", [("猫が座った", "猫が座った"), ("שלום עולם", "שלום-עולם"),
                                              ("مرحبا بالعالم", "مرحبا-بالعالم"), ("Cafe\u0301 au lait", "café-au-lait"),
                                              ("../../日本/語", "日本-語"), ("あ" * 100, "あ" * 60), ("🙂 🙂", "prompt")])
def test_a_slug_keeps_the_letters_of_every_script(prompt, expected):
    assert slug(prompt) == expected


def test_a_plain_text_batch_of_japanese_prompts_is_not_refused(tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("猫が座った\n犬が走った\nשלום עולם\n", encoding="utf-8")
    outs = [job.out for job in read_jobs(str(jobs), BATCH_DEFAULTS, str(tmp_path))]
    assert [os.path.basename(out) for out in outs] == ["猫が座った.mp4", "犬が走った.mp4", "שלום-עולם.mp4"]


def test_prompts_with_no_letters_are_numbered_and_a_repeated_one_is_still_refused(tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("🙂 🙂\n🎉\nCBA\n?!\n", encoding="utf-8")
    outs = [job.out for job in read_jobs(str(jobs), BATCH_DEFAULTS, str(tmp_path))]
    assert [os.path.basename(out) for out in outs] == ["prompt.mp4", "prompt-2.mp4", "cba.mp4", "prompt-3.mp4"]
    jobs.write_text("🙂\n🎉\n🙂\n", encoding="utf-8")
    with pytest.raises(UserError, match="jobs.txt line 3: writes .*prompt.mp4, as line 1 does"):
        read_jobs(str(jobs), BATCH_DEFAULTS, str(tmp_path))


# -- 14 and 18: the clip cache -----------------------------------------------------------------

KEY_A, KEY_B = "a" * 64, "b" * 64


def stored(tmp_path, key, content=b"clip" * 250):
    cache = ClipCache(tmp_path / "cache")
    source = tmp_path / key[:4]
    source.mkdir(exist_ok=True)
    (source / "clip.mp4").write_bytes(content)
    (source / "clip.cues.json").write_text(json.dumps([[0.0, 1.0, "a line"]]))
    assert cache.store(key, {"clip": source / "clip.mp4", "cues": source / "clip.cues.json"})
    return cache, {"clip": source / "clip.mp4", "cues": source / "clip.cues.json"}


def damage_in_place(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the same size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["clip in place", "cues random bytes", "clip truncated", "entry.json garbage"])
def test_a_damaged_entry_is_a_miss_removed_and_stored_again(tmp_path, damage):
    cache, files = stored(tmp_path, KEY_A)
    entry = cache.root / KEY_A
    if damage == "clip in place":
        damage_in_place(entry / "clip")
    elif damage == "cues random bytes":
        (entry / "cues").write_bytes(os.urandom((entry / "cues").stat().st_size))
    elif damage == "clip truncated":
        (entry / "clip").write_bytes((entry / "clip").read_bytes()[:100])
    else:
        (entry / "entry.json").write_bytes(os.urandom(50))
    assert cache.lookup(KEY_A) is None
    assert not entry.exists()  # removed: the next render stores it again
    assert cache.store(KEY_A, files)
    assert Path(cache.lookup(KEY_A)["clip"]).read_bytes() == files["clip"].read_bytes()


def test_swapped_entries_are_misses(tmp_path):
    cache, _ = stored(tmp_path, KEY_A, b"scene a" * 100)
    stored(tmp_path, KEY_B, b"scene b" * 100)
    os.rename(cache.root / KEY_A, cache.root / "swap")
    os.rename(cache.root / KEY_B, cache.root / KEY_A)
    os.rename(cache.root / "swap", cache.root / KEY_B)
    assert cache.lookup(KEY_A) is None and cache.lookup(KEY_B) is None
    (tmp_path / "out").mkdir()
    assert not cache.fetch(KEY_A, {"clip": tmp_path / "out" / "a.mp4"})
    assert not (tmp_path / "out" / "a.mp4").exists()


def test_eviction_leaves_the_users_files_in_a_shared_folder(tmp_path):
    """GPT2_EXPLAINER_CACHE may name a folder that holds the user's files too."""
    cache, _ = stored(tmp_path, KEY_A)
    users_file = cache.root / ("c" * 64)  # a name like a key
    users_file.write_bytes(b"the user's")
    users_folder = cache.root / ("d" * 64)
    users_folder.mkdir()
    (users_folder / "clip").write_bytes(b"the user's too")
    (users_folder / "entry.json").write_text('{"mine": true}')
    ClipCache(cache.root, limit=0).evict()
    assert sorted(os.listdir(cache.root)) == sorted([CACHE_TAG, "c" * 64, "d" * 64])
    assert users_file.read_bytes() == b"the user's" and (users_folder / "clip").read_bytes() == b"the user's too"


def test_eviction_removes_nothing_from_a_folder_that_is_not_marked_as_the_cache(tmp_path):
    cache, _ = stored(tmp_path, KEY_A)
    (cache.root / CACHE_TAG).unlink()
    assert ClipCache(cache.root, limit=0).evict() == []
    assert (cache.root / KEY_A).is_dir()


def test_a_damaged_entry_is_rendered_again_by_the_video_command(nano_sort_trace_file, tmp_path):
    first = video(nano_sort_trace_file, tmp_path / "first.mp4")
    assert first.returncode == 0, first.stderr
    cache = Path(os.environ["GPT2_EXPLAINER_CACHE"])
    (entry,) = [path for path in cache.iterdir() if len(path.name) == 64]
    damage_in_place(entry / "clip")
    again = video(nano_sort_trace_file, tmp_path / "again.mp4")
    assert again.returncode == 0, again.stderr
    assert "Rendering 1 scene" in again.stderr
    assert (tmp_path / "again.mp4").read_bytes() == (tmp_path / "first.mp4").read_bytes()
    third = video(nano_sort_trace_file, tmp_path / "third.mp4")
    assert "1 scene from the cache" in third.stderr  # stored again, whole


# -- 15: beats from the cache are named after their clip ---------------------------------------

def test_beats_from_the_cache_take_the_scene_number_of_this_video(nano_sort_trace_file, tmp_path):
    assert video(nano_sort_trace_file, tmp_path / "one.mp4", "--beats").returncode == 0
    two = video(nano_sort_trace_file, tmp_path / "two.mp4", "--beats", scenes="tokens,title")
    assert two.returncode == 0, two.stderr
    names = sorted(os.listdir(tmp_path / "two" / "clips"))
    title_beats = [name for name in names if "_title." in name and name.endswith(".mp4")]
    assert title_beats and all(name.startswith("02_title.") for name in title_beats), names
    assert not [name for name in names if name.startswith("01_title")], names


# -- 19: the user's files in the clips folder --------------------------------------------------

def test_the_users_own_clip_is_refused_before_the_render(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    from renderer import pipeline

    clips = tmp_path / "v" / "clips"
    clips.mkdir(parents=True)
    (clips / "01_title.srt").write_text("my own subtitles")
    monkeypatch.setattr(pipeline, "render_tasks", lambda *args: pytest.fail("rendered over the user's file"))
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(tmp_path / "v.mp4"))
    assert status == 2
    assert_one_line_error(stderr, f"cannot write {clips / '01_title.srt'}: a file of yours is there")
    assert (clips / "01_title.srt").read_text() == "my own subtitles"
    assert everything_under(tmp_path) == ["v", "v/clips", "v/clips/01_title.srt"]


def test_an_edited_caption_file_stays(nano_sort_trace_file, tmp_path):
    assert video(nano_sort_trace_file, tmp_path / "v.mp4").returncode == 0
    edited = tmp_path / "v" / "clips" / "01_title.vtt"
    edited.write_text(edited.read_text().replace("WEBVTT", "WEBVTT\n\nNOTE edited by hand"))
    again = video(nano_sort_trace_file, tmp_path / "v.mp4")
    assert again.returncode == 2 and "a file of yours is there" in again.stderr and str(edited) in again.stderr
    assert "NOTE edited by hand" in edited.read_text()
    assert video(nano_sort_trace_file, tmp_path / "w.mp4").returncode == 0
    replaced = video(nano_sort_trace_file, tmp_path / "w.mp4")  # our own, unchanged clips are replaced
    assert replaced.returncode == 0, replaced.stderr


def test_the_videos_own_caption_file_edited_by_hand_stays(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    from renderer import pipeline

    assert video(nano_sort_trace_file, tmp_path / "v.mp4").returncode == 0
    edited = tmp_path / "v.srt"
    edited.write_text(edited.read_text().replace("\n\n", "\n(corrected by hand)\n\n", 1))
    video_bytes = (tmp_path / "v.mp4").read_bytes()
    monkeypatch.setattr(pipeline, "render_tasks", lambda *args: pytest.fail("rendered over the user's file"))
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(tmp_path / "v.mp4"))
    assert status == 2
    assert_one_line_error(stderr, f"cannot write {edited}: a file of yours is there")
    assert "(corrected by hand)" in edited.read_text() and (tmp_path / "v.mp4").read_bytes() == video_bytes
    (tmp_path / "w.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nmy own\n")  # never written by us
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--out", str(tmp_path / "w.mp4"))
    assert status == 2 and "w.srt: a file of yours is there" in stderr and not (tmp_path / "w.mp4").exists()


def test_a_beat_under_the_name_of_a_users_file_is_refused_before_any_clip_moves(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "01_title.01_prompt.mp4").write_bytes(b"mine")
    work = tmp_path / "work"
    work.mkdir()
    finished = [work / "01_title.mp4", work / "01_title.01_prompt.mp4"]
    for path in finished:
        path.write_bytes(b"ours")
    with pytest.raises(UserError, match="01_title.01_prompt.mp4: a file of yours is there"):
        publish_clips([str(path) for path in finished], str(clips))
    assert sorted(os.listdir(clips)) == ["01_title.01_prompt.mp4"] and all(path.exists() for path in finished)
    assert not (clips / CLIPS_MANIFEST).exists()
