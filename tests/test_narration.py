"""A narrated lecture, rendered and listened to: the sound in every file, its loudness, beats that
wait for their speech, caption cues timed to it, joins without a gap, and an ASR round trip.

One narrated render of the English demo (nano-sort, low quality, with its beats) is shared by
the module; the ASR checks need the asr extra (`make test-tools`) and say so when it is missing.
"""

import os
import re

import numpy as np
import pytest
import srt
from cli_checks import run_cli
from listen_characters import read_wrongly
from narration_checks import (asr_installed, caption_lines, character_error_rate, japanese_speaker,
                              reading_error_rate, transcribe, word_error_rate)
from scene_checks import scene_cases
from test_narration_cli import ffmpeg_loudness

from renderer.sound import TARGET_LUFS, read_sound
from renderer.video import video_info
from renderer.voices import RATE
from scenes import catalog
from scenes.spoken import UNSPEAKABLE

DEMO = ["--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6", "--quality", "low"]
SILENCE = 10 ** (-45 / 20)  # below -45 dBFS (a 10 ms window's peak) is silence
WINDOW = RATE // 100  # 10 ms


@pytest.fixture(scope="module")
def narrated(tmp_path_factory):
    """The narrated English demo with its beats: (video path, clip paths, the render's stderr)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("narrated") / "demo.mp4"
    env = dict(os.environ, GPT2_EXPLAINER_CACHE=str(tmp_path_factory.mktemp("narrated-cache")))
    result = subprocess.run([sys.executable, "render.py", "video", *DEMO, "--narrate", "--beats", "--out", str(out)],
                            capture_output=True, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    clips_dir = out.parent / "demo" / "clips"
    clips = sorted(str(path) for path in clips_dir.glob("*.mp4"))
    return str(out), clips, env


def loud_windows(samples):
    """Per 10 ms window, whether it holds sound (its peak over SILENCE)."""
    usable = len(samples) // WINDOW * WINDOW
    return np.abs(samples[:usable]).reshape(-1, WINDOW).max(axis=1) > SILENCE


def longest_silence(samples):
    """The longest run of silent 10 ms windows, in seconds."""
    longest = run = 0
    for loud in loud_windows(samples):
        run = 0 if loud else run + 1
        longest = max(longest, run)
    return longest * WINDOW / RATE


def test_every_file_has_48_khz_sound_as_long_as_its_picture(narrated):
    import av

    video, clips, _ = narrated
    beat_clips = [clip for clip in clips if "." in os.path.basename(clip)[:-4]]
    assert len(beat_clips) > len(catalog.CATALOG)  # each beat its own clip
    for path in [video] + clips:
        info = video_info(path)
        with av.open(path) as container:
            audio = container.streams.audio[0]
            assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", RATE, 1), path
        samples, rate = read_sound(path)
        # within one frame (the AAC decoder adds at most its last frame's padding)
        assert abs(len(samples) / rate - info.frames / info.fps) <= 1 / info.fps, path


def test_loudness_is_minus_16_lufs_with_a_true_peak_under_minus_1(narrated):
    video, clips, _ = narrated
    for path in [video] + [clip for clip in clips if "." not in os.path.basename(clip)[:-4]]:
        integrated, peak = ffmpeg_loudness(path)
        assert abs(integrated - TARGET_LUFS) <= 1.0, (path, integrated)
        assert peak <= -1.0, (path, peak)


def test_every_beat_lasts_at_least_its_speech(narrated):
    """A beat cut short would end mid-word: each beat clip's sound ends in silence, and the beat
    of every spoken line (its ID names the beat, as the beat's clip is named) holds speech
    at least as long as the line's."""
    import csv

    from renderer.beats import safe_name

    video, clips, _ = narrated
    beat_clips = {}  # "title.03_promise" -> .../01_title.03_promise.mp4
    for clip in clips:
        name = os.path.basename(clip)[:-4]
        if "." in name:
            numbered_scene, beat = name.split(".", 1)
            beat_clips[f"{numbered_scene.split('_', 1)[1]}.{beat}"] = clip
    for clip in beat_clips.values():
        samples, _ = read_sound(clip)
        assert not loud_windows(samples[-int(0.25 * RATE):]).any(), f"{clip} ends while speaking"
    with open(video[:-4] + ".script.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        scene, beat, _ = row["id"].split(".")
        assert beat.split("_", 1)[1] == safe_name(beat.split("_", 1)[1])  # the ID is a file name's
        samples, _ = read_sound(beat_clips[f"{scene}.{beat}"])
        assert loud_windows(samples).sum() * WINDOW / RATE >= 0.5 * float(row["seconds"]), row["id"]
        assert len(samples) / RATE >= float(row["seconds"]), row["id"]


def test_caption_cues_start_with_their_speech_and_speech_has_no_long_gap(narrated):
    video, _, _ = narrated
    samples, rate = read_sound(video)
    with open(video[:-4] + ".srt", encoding="utf-8") as file:
        cues = list(srt.parse(file.read()))
    assert len(cues) > 30
    for cue, following in zip(cues, cues[1:] + [None]):
        start = cue.start.total_seconds()
        end = following.start.total_seconds() if following else len(samples) / rate
        part = samples[int(start * rate): int(end * rate)]
        loud = np.flatnonzero(loud_windows(part))
        assert len(loud), f"no speech for cue {cue.index}: {cue.content}"
        assert loud[0] * WINDOW / rate < 0.35, f"cue {cue.index} starts {loud[0] * WINDOW / rate:.2f} s before its speech"
        speech = part[: (loud[-1] + 1) * WINDOW]
        assert longest_silence(speech) <= 1.5, f"a gap inside the speech of cue {cue.index}"
        # the cue ends when the next begins: never while its speech goes on
        assert (len(part) - len(speech)) / rate >= 0.3


def test_the_joined_sound_is_continuous_across_clips(narrated):
    """No gap and no click at a join: the joined track is as long as the clips' frames, and
    around every join its samples change smoothly (a restart or a cut would jump)."""
    video, clips, _ = narrated
    samples, rate = read_sound(video)
    scene_clips = [clip for clip in clips if "." not in os.path.basename(clip)[:-4]]
    joins = np.cumsum([video_info(clip).frames / video_info(clip).fps for clip in scene_clips])[:-1]
    for join in joins:
        around = samples[int((join - 0.02) * rate): int((join + 0.02) * rate)]
        assert np.abs(np.diff(around)).max() < 0.05, f"a click at {join:.2f} s"
    info = video_info(video)
    assert abs(len(samples) / rate - info.frames / info.fps) <= 1 / info.fps


def test_a_rerender_takes_every_clip_and_line_from_the_cache(narrated, tmp_path):
    import subprocess
    import sys
    import time

    _, _, env = narrated
    started = time.monotonic()
    result = subprocess.run([sys.executable, "render.py", "video", *DEMO, "--narrate", "--beats",
                             "--out", str(tmp_path / "again.mp4")], capture_output=True, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    assert "All 16 scenes from the cache" in result.stderr
    assert time.monotonic() - started < 60


def test_without_narrate_the_timing_is_unchanged(nano_sort_trace, tmp_path):
    """A silent clip has no sound and today's length; narrated with no voice (no speech to wait
    for) it has a silent track and exactly the same frames; with a voice, at least as many."""
    import av

    from renderer.manim_run import render_clip
    from renderer.narration import Narrator
    from scenes.base import SceneOptions

    info = catalog.get("softmax")
    scene = info.load()
    silent = render_clip(scene.bind(nano_sort_trace, SceneOptions()), str(tmp_path / "silent.mp4"), "low")
    quiet = render_clip(scene.bind(nano_sort_trace, SceneOptions(), Narrator({"voice": "none"})),
                        str(tmp_path / "quiet.mp4"), "low", sound_out=str(tmp_path / "quiet.wav"))
    spoken = render_clip(scene.bind(nano_sort_trace, SceneOptions(), Narrator({"voice": "heart"})),
                         str(tmp_path / "spoken.mp4"), "low", sound_out=str(tmp_path / "spoken.wav"))
    with av.open(silent) as container:
        assert not container.streams.audio
    assert video_info(quiet).frames == video_info(silent).frames
    assert video_info(spoken).frames > video_info(silent).frames  # its lines are longer than its animations


def assert_speakable(spoken, language, where):
    assert spoken.strip(), where
    assert not set(spoken) & UNSPEAKABLE, (where, spoken)
    assert not set(spoken) & read_wrongly(language), (where, spoken, "holds a character heard read wrongly")
    if language == "en":
        assert re.fullmatch(r"[A-Za-z0-9 ,.;:'?!()%-]+", spoken), (where, spoken)


def test_the_narration_script_lists_every_line_with_its_id(narrated):
    import csv

    video, _, _ = narrated
    with open(video[:-4] + ".script.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    with open(video[:-4] + ".srt", encoding="utf-8") as file:
        cues = list(srt.parse(file.read()))
    assert [row["written"] for row in rows] == [cue.content for cue in cues]
    assert len({row["id"] for row in rows}) == len(rows)  # stable IDs: scene.beat.line, each once
    for row, cue in zip(rows, cues):
        assert re.fullmatch(r"[a-z-]+\.\d\d_[\w -]+\.\d+", row["id"]), row["id"]
        assert abs(float(row["start"]) - cue.start.total_seconds()) < 0.002  # the cue starts with its speech
        assert float(row["seconds"]) > 0.3
        assert_speakable(row["spoken"], "en", row["id"])


# every caption line of every scene on every trace the scene checks use, in both languages (real
# GPT-2 pieces with spaces and punctuation, byte pieces, emoji, scripts of every kind), as the
# scene hands it to a voice: read from the scene's check render, which records its script
@pytest.mark.parametrize("info, trace_name, options", scene_cases(catalog.CATALOG))
def test_no_line_handed_to_a_voice_holds_a_character_it_reads_wrongly(info, trace_name, options, scene_report):
    script = scene_report(info, trace_name, options).script
    assert script, f"{info.name} has no caption line"
    for line_id, written, spoken in script:
        assert_speakable(spoken, options.language, (line_id, written))


# -- the ASR round trip -------------------------------------------------------------------------

needs_asr = pytest.mark.skipif(not asr_installed(), reason="the ASR is not installed: run `make test-tools`")


@needs_asr
def test_asr_hears_the_english_demo_s_narration(narrated):
    import csv

    video, _, _ = narrated
    samples, rate = read_sound(video)
    with open(video[:-4] + ".script.csv", encoding="utf-8", newline="") as file:
        spoken = [row["spoken"] for row in csv.DictReader(file)]  # what the voice was handed
    heard = transcribe(samples, rate, "en")
    error = word_error_rate([" ".join(spoken)], [heard])
    assert error <= 0.15, f"WER {error:.3f}: heard {heard!r}"


# The Japanese round trip in parts, each a run of the storyboard's scenes spoken and heard on its
# own, so that pytest-xdist spreads the synthesis and the listening over the cores. Each part's
# rate <= 0.10 keeps the whole demo's <= 0.10: the whole's edit distance is at most the sum of
# its parts' (their alignments joined are one alignment of the whole), so its rate is at most
# the parts' rates weighted by their characters. Three parts: the whole read 0.049, and in
# four parts softmax..mlp alone read 0.104 (Whisper base hears スコア and トークン wrong there),
# in three the parts read 0.046, 0.072 and 0.027 (one thread each, as under xdist).
JAPANESE_PARTS = 3
JAPANESE_SCENES = [catalog.CATALOG[part * len(catalog.CATALOG) // JAPANESE_PARTS:
                                   (part + 1) * len(catalog.CATALOG) // JAPANESE_PARTS]
                   for part in range(JAPANESE_PARTS)]


@pytest.fixture(scope="session")
def lasting_speech_cache(request):
    """Where the Japanese round trip keeps its speech from one run of the suite to the next, as a
    user's clip cache keeps it across renders: each line synthesised once per (text, voice,
    engine version), the product's own key (voices.speech_key), in pytest's cache folder
    (.pytest_cache/d/speech). A fresh checkout, as in CI, synthesises every line (kokoro takes
    about a CPU-second per second of speech: 4 CPU-minutes); Whisper listens on every run.
    `pytest --cache-clear` empties it."""
    from renderer.cache import ClipCache

    return ClipCache(request.config.cache.mkdir("speech"))


@needs_asr
@pytest.mark.parametrize("infos", JAPANESE_SCENES, ids=lambda infos: f"{infos[0].name}-to-{infos[-1].name}")
def test_asr_hears_the_japanese_demo_s_narration(infos, nano_sort_trace, lasting_speech_cache):
    lines = [line for _, _, line in caption_lines(nano_sort_trace, "ja", infos)]
    speaker = japanese_speaker("jf_alpha", lasting_speech_cache, lines)
    pause = np.zeros(int(0.4 * RATE), np.float32)
    track = np.concatenate([part for line in lines for part in (speaker.speak(line), pause)])
    heard = transcribe(track, RATE, "ja")
    # by reading: Whisper writes a word in kana where the script has kanji (ザンサ for 残差) and
    # the other way round; the characters' own rate is printed beside it
    error = reading_error_rate(["".join(lines)], [heard])
    written = character_error_rate(["".join(lines)], [heard])
    assert error <= 0.10, f"CER of the readings {error:.3f} (of the characters {written:.3f}): heard {heard!r}"


# -- the lecturer's own voice: the script, then recordings named by its IDs ------------------------

def test_the_script_names_the_lines_a_recording_then_replaces(capsys, tmp_path):
    import csv
    import subprocess

    from test_narration_cli import write_tone

    scenes = ["--scenes", "title,causal-mask"]
    status, out, err = run_cli(capsys, "script", *DEMO[:-2], *scenes, "--out", str(tmp_path / "lecture.csv"))
    assert status == 0, err
    with open(tmp_path / "lecture.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert (tmp_path / "lecture.txt").read_text(encoding="utf-8").startswith(rows[0]["id"] + "\n")
    assert [row["id"] for row in rows][:2] == ["title.03_promise.1", "causal-mask.01_scores.1"]
    assert "−∞" in rows[2]["written"] and "minus infinity" in rows[2]["spoken"]

    # the lecturer records two lines (one as FLAC), 3 s each; the voice speaks the rest
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    write_tone(recordings / f"{rows[0]['id']}.wav", 3.0)
    write_tone(tmp_path / "tone.wav", 3.0)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "tone.wav"), str(recordings / f"{rows[2]['id']}.flac")],
                   check=True)
    video = tmp_path / "lecture.mp4"
    status, _, err = run_cli(capsys, "video", *DEMO, *scenes, "--narration", str(recordings), "--out", str(video))
    assert status == 0, err
    assert f"Narration: {len(rows) - 2} of {len(rows)} lines had no recording, spoken by the voice heart" in err
    with open(tmp_path / "lecture.script.csv", encoding="utf-8", newline="") as file:
        spoken = {row["id"]: row for row in csv.DictReader(file)}
    assert [row["id"] for row in rows] == list(spoken)  # the same IDs as the script said
    for row in (rows[0], rows[2]):
        assert abs(float(spoken[row["id"]]["seconds"]) - 3.0) < 0.05  # the recording, whole
    samples, rate = read_sound(video)
    start = float(spoken[rows[0]["id"]]["start"])
    tone = samples[int(start * rate): int((start + 3.0) * rate)]
    assert loud_windows(tone).all()  # the recording plays from the line's start, without a gap
