"""`render.py compare --narrate` and `compare-slides --narrate`: the comparison's caption lines
spoken (the video path's narration, reused), their sound in the video, its clips and beats and
the deck's movies, the clip cache keyed on it; the same refusals as `video`; and every line a
voice would get free of the characters it reads wrongly, in both languages.

One narrated render (two compare scenes, low quality, with beats) is shared by the module.
"""

import os
import subprocess
import sys
import tempfile

import pytest
from cli_checks import assert_one_line_error, run_cli
from test_compare_cli import A, B, pair_files  # noqa: F401  (the module's traces: a fixture)
from test_narration import assert_speakable

from renderer.video import video_info
from scenes.compare.catalog import COMPARE_CATALOG

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENES = "compare-tokens,compare-prediction"  # two of the shortest: one join between clips


def pair_arguments(files):
    return ["--trace", str(files["a"]), "--trace", str(files["b"]), "--quality", "low"]


@pytest.fixture(scope="module")
def narrated(pair_files, tmp_path_factory):  # noqa: F811
    """The narrated comparison with its beats: (video path, clips folder, environment with its cache)."""
    out = tmp_path_factory.mktemp("narrated-compare") / "bank.mp4"
    env = dict(os.environ, GPT2_EXPLAINER_CACHE=str(tmp_path_factory.mktemp("narrated-compare-cache")))
    result = subprocess.run([sys.executable, "render.py", "compare", *pair_arguments(pair_files), "--scenes", SCENES,
                             "--narrate", "--beats", "--out", str(out)], capture_output=True, text=True, env=env,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out, out.parent / "bank" / "clips", env


def audio_stream(path):
    """(codec, sample rate, seconds) of the file's audio stream, or None when it has none."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        return stream.codec_context.name, stream.rate, float(stream.duration * stream.time_base)


def test_a_narrated_comparison_has_48_khz_aac_as_long_as_its_video(narrated):
    video, clips, _ = narrated
    files = [video] + sorted(clips.glob("*.mp4"))
    assert any("." in path.stem for path in files)  # the beats are among the clips
    for path in files:
        codec, rate, seconds = audio_stream(path)
        info = video_info(str(path))
        assert (codec, rate) == ("aac", 48000), path
        assert abs(seconds - info.frames / info.fps) <= 1 / info.fps, (path, seconds, info.frames / info.fps)


def test_its_captions_and_script_follow_the_speech(narrated):
    import csv

    import srt

    video, _, _ = narrated
    with open(video.with_suffix(".script.csv"), encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    cues = list(srt.parse(video.with_suffix(".srt").read_text(encoding="utf-8")))
    assert [row["written"] for row in rows] == [cue.content for cue in cues]
    assert rows[0]["id"].startswith("compare-tokens.") and rows[-1]["id"].startswith("compare-prediction.")
    for row, cue in zip(rows, cues):
        assert abs(float(row["start"]) - cue.start.total_seconds()) < 0.002  # a cue starts with its speech
        assert float(row["seconds"]) > 0.3
        assert_speakable(row["spoken"], "en", row["id"])


def test_a_rerun_and_its_deck_take_every_clip_from_the_cache(narrated, pair_files, tmp_path):  # noqa: F811
    from pptx import Presentation

    _, _, env = narrated
    again = subprocess.run([sys.executable, "render.py", "compare", *pair_arguments(pair_files), "--scenes", SCENES,
                            "--narrate", "--beats", "--out", str(tmp_path / "again.mp4")],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    assert again.returncode == 0 and "All 2 scenes from the cache" in again.stderr, again.stderr
    silent = subprocess.run([sys.executable, "render.py", "compare", *pair_arguments(pair_files), "--scenes",
                             "compare-tokens", "--beats", "--out", str(tmp_path / "silent.mp4")],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert silent.returncode == 0 and "from the cache" not in silent.stderr, silent.stderr  # keyed on narration
    assert audio_stream(tmp_path / "silent.mp4") is None
    # the deck's beats are the video's beat clips: from the cache too, with their sound
    deck = tmp_path / "bank.pptx"
    slides = subprocess.run([sys.executable, "render.py", "compare-slides", *pair_arguments(pair_files), "--scenes",
                             SCENES, "--narrate", "--to", "pptx", "--out", str(deck)],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert slides.returncode == 0 and "All 2 scenes from the cache" in slides.stderr, slides.stderr
    movies = [part for part in Presentation(str(deck)).part.package.iter_parts()
              if part.partname.endswith(".mp4")]
    assert movies
    with tempfile.TemporaryDirectory() as folder:
        for number, movie in enumerate(movies):
            path = os.path.join(folder, f"{number}.mp4")
            with open(path, "wb") as file:
                file.write(movie.blob)
            assert audio_stream(path)[:2] == ("aac", 48000), movie.partname


# -- refused as for `video`: one line, exit status 2, nothing written ------------------------------

@pytest.mark.parametrize("command, options, words", [
    ("compare", ["--narrate", "--format", "gif"], "a GIF has no sound"),
    ("compare", ["--narrate", "--voice", "nobody"], "--voice must be one of heart, jf_alpha"),
    ("compare-slides", ["--to", "pptx", "--narrate", "--voice", "nobody"], "jm_kumo, none, not 'nobody'"),
    ("compare", ["--narrate", "--voice", "jf_alpha"], "--voice 'jf_alpha' reads ja, not --lang en: choose one of heart"),
    ("compare", ["--voice", "heart"], "--voice only applies with --narrate"),
    ("compare", ["--narration", "no-such-folder"], "--narration no-such-folder is not a folder of recordings"),
])
def test_bad_narration_options_are_one_line(capsys, tmp_path, pair_files, command, options, words):  # noqa: F811
    out = tmp_path / "out" / ("x.pptx" if command == "compare-slides" else "x.mp4")
    status, _, err = run_cli(capsys, command, *pair_arguments(pair_files), "--out", str(out), *options)
    assert status == 2
    assert_one_line_error(err, words)
    assert not (tmp_path / "out").exists()


def test_a_voice_that_is_not_installed_names_its_package(capsys, tmp_path, pair_files, monkeypatch):  # noqa: F811
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hibari" else real(name, *a))
    for command, extra in (("compare", []), ("compare-slides", ["--to", "pptx"])):
        status, _, err = run_cli(capsys, command, *pair_arguments(pair_files), *extra, "--narrate",
                                 "--out", str(tmp_path / "out" / "x"))
        assert status == 2
        assert_one_line_error(err, "install hibari-tts")
    assert list(tmp_path.iterdir()) == []


# -- what a voice is handed ------------------------------------------------------------------------

def compare_lines(a, b, language):
    """[(scene, written line, spoken line)] of every compare scene's caption lines on the pair (a, b),
    from still renders (the lines set as in the video; what the scene hands a voice)."""
    from renderer.manim_run import render_with_manim
    from renderer.presets import quality_preset
    from scenes.base import SceneOptions
    from scenes.spoken import spoken_form

    lines = []
    with tempfile.TemporaryDirectory() as work:
        for info in COMPARE_CATALOG:
            scene_class = info.load().bind_pair(a, b, SceneOptions(language=language))
            _, scene = render_with_manim(scene_class, work, quality_preset("low"), info.name, still=True)
            lines += [(info.name, written, spoken) for _, written, spoken in scene.script]
            assert [text for _, text, _ in scene.script] == [text for _, text in scene.caption_cues]
            assert all(spoken == spoken_form(written, language, scene.__dict__.get("spoken_lines", {}).get(written))
                       for _, written, spoken in scene.script)
    return lines


@pytest.fixture(scope="module")
def prefix_pair(gpt2_vocab_checkpoint, pair_files):  # noqa: F811
    """Trace C ("The river bank was muddy") and one that stops at its word: the same tokens up to
    "␣bank", at the same position (the other branch of every compare line)."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.trace import Trace

    return trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "The river bank"), Trace.load(pair_files["c"])


# each branch of the lines in one language (the table test below takes every line in both)
@pytest.mark.parametrize("pair, language", [("a-b", "en"), ("a-b", "ja"), ("same prefix", "en")])
def test_no_compare_line_handed_to_a_voice_holds_a_character_it_reads_wrongly(pair_files, prefix_pair,  # noqa: F811
                                                                              pair, language):
    from tracer.trace import Trace

    a, b = (Trace.load(pair_files["a"]), Trace.load(pair_files["b"])) if pair == "a-b" else prefix_pair
    lines = compare_lines(a, b, language)
    assert {scene for scene, _, _ in lines} == {info.name for info in COMPARE_CATALOG}
    for scene, written, spoken in lines:
        assert_speakable(spoken, language, (scene, written))


TRICKY_PIECES = ["␣bank", "␣,", "<E3><81>", "U+1F600", "W_E"]  # a word, punctuation, bytes, an emoji, symbols


def sample_value(name, piece):
    """A value for the placeholder `name` of a compare line, as the scenes fill it in."""
    if name.startswith("piece"):
        return piece
    return {"first": "−0.125", "last": "−0.5", "share_a": "0.17", "share_b": "0.08", "model": "gpt2",
            "word": "bank"}.get(name, 3)  # the rest are counts, positions, IDs, layers


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_compare_line_reads_aloud_whatever_its_pieces(language):
    """Every compare line of the string table, its pieces the hard kinds and its numbers negative,
    as a voice gets it (the still renders above cover the lines the scenes really write)."""
    import string

    from scenes.spoken import spoken_form
    from scenes.strings import STRINGS, say_both

    keys = [key for key in STRINGS[language] if key.startswith("compare.explain_")]
    assert len(keys) >= 15
    for piece in TRICKY_PIECES:
        for key in keys:
            names = {name for _, name, _, _ in string.Formatter().parse(STRINGS[language][key]) if name}
            values = {name: sample_value(name, piece) for name in names}
            written, spoken = say_both(language, key, **values)
            assert_speakable(spoken_form(written, language, spoken), language, (key, piece, written))
    top = say_both(language, "compare.explain_top", piece_a="␣,", piece_b="<E3>", share_a="1", share_b="2")[1]
    assert ("a symbol" in top and "a byte piece" in top) if language == "en" else ("記号" in top and "バイト" in top)


# -- the lecturer's own voice: compare-script, then compare --narration DIR ------------------------

def test_compare_script_names_the_lines_a_recording_then_replaces(capsys, tmp_path, pair_files):  # noqa: F811
    import csv

    from test_narration_cli import write_tone

    status, _, err = run_cli(capsys, "compare-script", *pair_arguments(pair_files)[:4], "--scenes", "compare-tokens",
                             "--out", str(tmp_path / "bank.csv"))
    assert status == 0, err
    with open(tmp_path / "bank.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["id"] for row in rows] == ["compare-tokens.01_prompts.1", "compare-tokens.02_word.1"]
    assert "“␣bank”" in rows[1]["written"] and rows[1]["spoken"].startswith("bank is token")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    write_tone(recordings / f"{rows[1]['id']}.wav", 3.0)
    video = tmp_path / "bank.mp4"
    status, _, err = run_cli(capsys, "compare", *pair_arguments(pair_files), "--scenes", "compare-tokens",
                             "--narration", str(recordings), "--voice", "none", "--no-cache", "--out", str(video))
    assert status == 0, err
    assert "Narration: 1 of 2 lines had no recording, left silent (--voice none)" in err
    with open(tmp_path / "bank.script.csv", encoding="utf-8", newline="") as file:
        spoken = {row["id"]: row for row in csv.DictReader(file)}
    assert list(spoken) == [row["id"] for row in rows]  # the IDs compare-script said
    assert abs(float(spoken[rows[1]["id"]]["seconds"]) - 3.0) < 0.05  # the recording, whole
