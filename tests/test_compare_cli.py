"""`render.py compare` and `compare-slides`: one MP4 (with its clips, captions and beats) from two
prompts or two saved traces of one model; bad input refused in one line with exit status 2 and
no file; the clip cache keyed on both traces."""

import os

import pytest
from cli_checks import assert_one_line_error, run_cli

from renderer.cache import clip_key
from renderer.compare import compare_tasks, pair_digest
from renderer.files import CLIPS_MANIFEST
from renderer.presets import quality_preset
from renderer.video import video_info
from scenes.compare.catalog import COMPARE_CATALOG

A, B = "We walked along the river bank", "She put her money in the bank"


@pytest.fixture(scope="module")
def pair_files(gpt2_vocab_checkpoint, tmp_path_factory):
    from tracer.models import load_model
    from tracer.record import trace_prompt

    model = load_model(str(gpt2_vocab_checkpoint))
    folder = tmp_path_factory.mktemp("pair")
    files = {}
    for name, prompt in (("a", A), ("b", B), ("c", "The river bank was muddy")):
        files[name] = folder / f"{name}.safetensors"
        trace_prompt(model, prompt).save(files[name])
    return files


def test_compare_writes_one_video_with_clips_captions_and_beats(capsys, tmp_path, pair_files):
    out = tmp_path / "bank.mp4"
    status, stdout, stderr = run_cli(capsys, "compare", "--trace", str(pair_files["a"]), "--trace",
                                     str(pair_files["b"]), "--quality", "low", "--out", str(out), "--beats")
    assert status == 0, stderr
    info = video_info(str(out))
    assert (info.width, info.height, info.fps) == (854, 480, 15)
    clips = sorted(os.listdir(tmp_path / "bank" / "clips"))
    scenes = [f"{i:02d}_{info_.name}.mp4" for i, info_ in enumerate(COMPARE_CATALOG, start=1)]
    assert all(name in clips for name in scenes), clips
    durations = [video_info(str(tmp_path / "bank" / "clips" / name)).duration for name in scenes]
    assert info.duration == pytest.approx(sum(durations), abs=0.3)
    assert any(name.startswith("02_compare-embedding.03_sum") and name.endswith(".mp4") for name in clips)
    captions = (tmp_path / "bank.srt").read_text(encoding="utf-8")
    assert "“␣bank” is token" in captions and "cosine" not in stdout
    # the same two traces again: every clip from the cache
    again = tmp_path / "again.mp4"
    status, _, stderr = run_cli(capsys, "compare", "--trace", str(pair_files["a"]), "--trace", str(pair_files["b"]),
                                "--quality", "low", "--out", str(again), "--beats")
    assert status == 0 and "All 5 scenes from the cache" in stderr, stderr


def test_the_clip_key_reads_both_traces(tmp_path, pair_files):
    quality = quality_preset("low")
    options = dict(language="en", theme="dark", on_screen_captions=True, layer=None, head=None, corner_map=False)

    def keys(a, b, word=None):
        tasks = compare_tasks(COMPARE_CATALOG, [a, b], options, quality, str(tmp_path), word)
        return [clip_key(task, pair_digest(a, b)) for task in tasks]

    ab = keys(pair_files["a"], pair_files["b"])
    assert len(set(ab)) == len(ab)  # one per scene
    changed_b = keys(pair_files["a"], pair_files["c"])
    swapped = keys(pair_files["b"], pair_files["a"])
    assert not set(ab) & set(changed_b) and not set(ab) & set(swapped)
    assert not set(ab) & set(keys(pair_files["a"], pair_files["b"], word="the"))
    moved = tmp_path / "elsewhere.safetensors"
    moved.write_bytes(pair_files["b"].read_bytes())
    assert keys(pair_files["a"], moved) == ab  # where a trace lies is no part of the key


@pytest.mark.parametrize("arguments, words", [
    (["--prompt", A], "give --prompt twice (A, then B), not 1 time"),
    (["--prompt", A, "--prompt", B, "--prompt", "x"], "give --prompt twice (A, then B), not 3 times"),
    ([], "give two prompts (--prompt A --prompt B)"),
    (["--prompt", A, "--trace", "x.safetensors"], "give two --prompt or two --trace, not both kinds"),
    (["--prompt", A, "--prompt", B, "--word", "zebra"], "--word 'zebra' is in neither prompt"),
    (["--prompt", A, "--prompt", B, "--word", "river"], "--word 'river' is only in prompt A, not in prompt B"),
    (["--prompt", A, "--prompt", B, "--word", "money"], "--word 'money' is only in prompt B, not in prompt A"),
    (["--prompt", "Cats purr", "--prompt", "Dogs bark"], "the two prompts share no token: A is ['C', 'ats'"),
    (["--prompt", A, "--prompt", B, "--scenes", "tokens"], "unknown scene 'tokens': the compare scenes are "
                                                           "compare-tokens, compare-embedding"),
])
def test_bad_pairs_are_refused_in_one_line_and_write_nothing(capsys, tmp_path, gpt2_vocab_checkpoint, arguments,
                                                             words):
    out = tmp_path / "x.mp4"
    status, _, stderr = run_cli(capsys, "compare", *arguments, "--model", str(gpt2_vocab_checkpoint),
                                "--out", str(out), "--quality", "low")
    assert status == 2
    assert_one_line_error(stderr, words)
    assert os.listdir(tmp_path) == []


def test_two_models_are_refused(capsys, tmp_path, pair_files, tiny_checkpoint):
    from tracer.models import load_model
    from tracer.record import trace_prompt

    other = tmp_path / "other.safetensors"
    trace_prompt(load_model(str(tiny_checkpoint)), B).save(other)
    out = tmp_path / "x.mp4"
    status, _, stderr = run_cli(capsys, "compare", "--trace", str(pair_files["a"]), "--trace", str(other),
                                "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, "the two traces are of two models")
    assert not out.exists()


def test_a_prompt_longer_than_the_context_is_refused_by_name(capsys, tmp_path, short_context_checkpoint):
    out = tmp_path / "x.mp4"
    status, _, stderr = run_cli(capsys, "compare", "--prompt", "a bank", "--prompt", "the river bank was wide and deep",
                                "--model", str(short_context_checkpoint), "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, "prompt B: the prompt is 32 tokens long, but")
    assert not out.exists()


def test_saved_traces_load_no_torch(tmp_path, pair_files):
    """With two saved traces nothing runs a model: a refusal found on the pair (the word) comes
    before any render, and torch is never imported."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); import render\n"
            "try:\n    render.main(sys.argv[1:])\n"
            "finally:\n    print('torch imported:', 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, "compare", "--trace", str(pair_files["a"]), "--trace",
                             str(pair_files["b"]), "--word", "zebra", "--out", "x.mp4"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "torch imported: False" in result.stdout, result.stderr
    assert_one_line_error(result.stderr, "--word 'zebra' is in neither prompt")
    assert os.listdir(tmp_path) == []


def test_model_options_with_saved_traces_are_refused(capsys, tmp_path, pair_files):
    status, _, stderr = run_cli(capsys, "compare", "--trace", str(pair_files["a"]), "--trace", str(pair_files["b"]),
                                "--seed", "3", "--out", str(tmp_path / "x.mp4"))
    assert status == 2
    assert_one_line_error(stderr, "--seed only apply with --prompt")


def test_scenes_picks_compare_scenes_in_storyboard_order(capsys, tmp_path, pair_files):
    out = tmp_path / "drift.mp4"
    status, _, stderr = run_cli(capsys, "compare", "--trace", str(pair_files["a"]), "--trace", str(pair_files["b"]),
                                "--scenes", "compare-drift,compare-tokens", "--quality", "low", "--out", str(out),
                                "--no-captions")
    assert status == 0, stderr
    assert sorted(os.listdir(tmp_path / "drift" / "clips")) == [CLIPS_MANIFEST, "01_compare-tokens.mp4",
                                                                "02_compare-drift.mp4"]
    assert video_info(str(out)).duration > 10


def test_compare_slides_writes_a_deck_of_every_beat(capsys, tmp_path, pair_files):
    from pptx import Presentation

    out = tmp_path / "bank.pptx"
    status, stdout, stderr = run_cli(capsys, "compare-slides", "--trace", str(pair_files["a"]), "--trace",
                                     str(pair_files["b"]), "--to", "pptx", "--quality", "low", "--out", str(out))
    assert status == 0, stderr
    deck = Presentation(str(out))
    texts = [" ".join(shape.text_frame.text.split()) for shape in deck.slides[0].shapes if shape.has_text_frame]
    assert any(f"A: {A} B: {B}" in text for text in texts), texts
    assert len(deck.slides) == 1 + 11  # the title, then every beat: 2 + 3 + 2 + 2 + 2
