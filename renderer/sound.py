"""Sound tracks: a clip's speech laid on its timeline, loudness normalised, and muxed beside the picture.

A narrated scene records where each line's speech starts (scenes.base.TraceScene keeps
`speech_cues`); its clip's sound is those samples on a silent track exactly as long as the
clip's frames (`track`), kept beside the clip as a WAV file (`sound_path`) while rendering.
Every file that plays gets its own normalised copy: a clip, a beat, and the joined video,
whose sound is the clips' normalised tracks end to end, checked as one and encoded once (so
a join has no gap, no encoder priming and no click: the track never restarts).

Loudness follows EBU R128 as lecture platforms ask: -16 LUFS integrated (ITU-R BS.1770-4,
measured by pyloudnorm), true peak at most -1 dBTP (measured 4x oversampled); a peak the
gain would push over the ceiling is turned down by a smooth limiter, never clipped. Sound
is AAC in MP4 and MOV, Opus in WebM, 48 kHz mono; GIF has none (commands refuse it).
PyAV, SciPy and pyloudnorm are imported inside the functions.
"""

import functools
import os
from fractions import Fraction

import numpy as np

from renderer.files import private_directory, publish
from renderer.voices import RATE, read_wav, write_wav

TARGET_LUFS = -16.0
PEAK_CEILING_DBTP = -2.0  # the limiter's ceiling: a margin under -1 dBTP for the lossy encoder's overshoot
OVERSAMPLING = 4  # true peak: BS.1770-4 measures the signal 4x oversampled
LIMITER_SECONDS = 0.005  # how far a peak's gain reduction spreads each way (smooth: no click)
AUDIO_CODECS = {"mp4": "aac", "mov": "aac", "webm": "libopus"}
ENCODER_OPTIONS = {"aac": {"aac_coder": "fast"}}


def sound_path(clip):
    """Where a clip's sound track waits while rendering: 01_title.mp4 -> 01_title.sound.wav."""
    return os.path.splitext(clip)[0] + ".sound.wav"


def track_samples(frames, fps):
    """A track as long as `frames` frames at `fps`, in samples."""
    return round(Fraction(frames) * RATE / Fraction(fps).limit_denominator(1001))


def track(speech_cues, n_samples):
    """Each (start in seconds, samples) of `speech_cues` at its place on a silent track of `n_samples`."""
    out = np.zeros(n_samples, dtype=np.float32)
    for start, samples in speech_cues:
        begin = round(start * RATE)
        piece = samples[: max(0, n_samples - begin)]
        out[begin: begin + len(piece)] += piece
    return out


def save_track(samples, path):
    return write_wav(path, samples)


def load_track(path):
    samples, rate = read_wav(path)
    if rate != RATE:
        raise ValueError(f"{path}: {rate} Hz, not {RATE}")
    return samples


# -- loudness ------------------------------------------------------------------------------------

def import_meters():
    """Import what measures the sound (pyloudnorm, SciPy's filters: over a second, most of it
    SciPy building its docstrings). A narrated render does it in a thread while its workers
    render, so the joined track is not left waiting for it at the end."""
    import pyloudnorm  # noqa: F401
    import scipy.ndimage  # noqa: F401
    import scipy.signal  # noqa: F401


def integrated_loudness(samples):
    """LUFS (ITU-R BS.1770-4, gated); -inf for silence or a track shorter than one 0.4 s block."""
    import pyloudnorm

    if len(samples) < int(0.4 * RATE) or not np.any(samples):
        return float("-inf")
    return float(pyloudnorm.Meter(RATE).integrated_loudness(samples.astype(np.float64)))


def true_peaks(samples):
    """Per sample, the largest magnitude of the 4x oversampled signal around it (inter-sample peaks).
    In float32 with resample_poly's own filter (computed once): 5 times faster than float64, the
    same peaks to 1e-6."""
    from scipy.signal import resample_poly

    upsampled = resample_poly(samples.astype(np.float32), OVERSAMPLING, 1, window=oversampling_filter())
    np.abs(upsampled, out=upsampled)
    phases = upsampled[: len(samples) * OVERSAMPLING].reshape(len(samples), OVERSAMPLING)  # (n, 4)
    peaks = phases[:, 0].copy()
    for phase in range(1, OVERSAMPLING):  # a column at a time: 4 times faster than max(axis=1)
        np.maximum(peaks, phases[:, phase], out=peaks)
    return peaks


@functools.cache
def oversampling_filter():
    """resample_poly's default low-pass for 4x (a Kaiser-windowed FIR of 81 taps), in float32."""
    from scipy.signal import firwin

    half_length = 10 * OVERSAMPLING
    return firwin(2 * half_length + 1, 1 / OVERSAMPLING, window=("kaiser", 5.0)).astype(np.float32)


def true_peak_dbtp(samples):
    peak = true_peaks(samples).max() if len(samples) else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def limiter_gain(peaks, ceiling_dbtp=PEAK_CEILING_DBTP):
    """The gain per sample that turns down only what peaks over the ceiling (None where nothing
    does): what each sample needs, spread by a minimum filter (so every sample near a peak is as
    low as the peak needs), then smoothed by a moving average of the same width (each averaged
    gain is at most the least one needed nearby). `peaks`: the true peaks of the signal."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_dbtp / 20)
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12)).astype(np.float32)
    if needed.min() >= 1.0:
        return None
    width = 2 * int(LIMITER_SECONDS * RATE) + 1
    return uniform_filter1d(minimum_filter1d(needed, width), width)


def normalise(samples, loudness=None):
    """`samples` at TARGET_LUFS with true peaks under the ceiling; silence stays silence
    (`loudness`: the track's integrated loudness, when the caller has measured it already).

    The true peaks are measured once, on the track as it comes: a gain scales them exactly, and
    the limiter's gain nearly so (it changes over 5 ms; the peak filter reaches 0.2 ms). Limiting
    lowers the loudness a little, so it is measured once more and made up: the limiter then
    takes a hair more, a few hundredths of a LU, so the make-up is not measured again."""
    samples = samples.astype(np.float32)
    loudness = integrated_loudness(samples) if loudness is None else loudness
    if not np.isfinite(loudness):
        return samples
    peaks = true_peaks(samples)
    gain = 10 ** ((TARGET_LUFS - loudness) / 20)
    for made_up in (False, True):
        limiter = limiter_gain(peaks * gain)
        out = samples * np.float32(gain)
        if limiter is None:
            return out  # a gain alone: the loudness is exactly the target
        out *= limiter
        if made_up:
            break
        loudness = integrated_loudness(out)
        if abs(loudness - TARGET_LUFS) < CLOSE_LU:
            break
        gain *= 10 ** ((TARGET_LUFS - loudness) / 20)
    return out


CLOSE_LU = 0.2  # loudness this close to the target is the target (a tenth of a step one hears)
JOIN_SAMPLES = 256  # each side of a join, where the joined track's inter-sample peaks are measured


def join_normalised(parts):
    """Tracks each normalise()d on its own (the clips' sound) end to end, normalised as one.

    Parts at the target make a whole at it but for the gating, which the whole does over all
    its blocks at once: measured once, it is usually within CLOSE_LU and kept as it is (the
    parts' true peaks are under the ceiling already; only a join, where two parts meet, is
    measured again). Otherwise the whole is normalised as any track."""
    joined = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    loudness = integrated_loudness(joined)
    if not np.isfinite(loudness):
        return joined
    ceiling = 10 ** (PEAK_CEILING_DBTP / 20)
    joins = np.cumsum([len(part) for part in parts])[:-1]
    if abs(loudness - TARGET_LUFS) < CLOSE_LU and all(join_peak(joined, at) <= ceiling for at in joins):
        return joined
    return normalise(joined, loudness)


def join_peak(samples, at):
    """The largest true peak within JOIN_SAMPLES of sample `at` (measured on twice that span each
    side, so the oversampling filter's edges fall outside what is read)."""
    start = max(0, at - 2 * JOIN_SAMPLES)
    around = true_peaks(samples[start: at + 2 * JOIN_SAMPLES])
    middle = at - start
    return float(around[max(0, middle - JOIN_SAMPLES): middle + JOIN_SAMPLES].max(initial=0.0))


# -- into a video file --------------------------------------------------------------------------

def add_sound(video, samples, out, codec):
    """`video` with `samples` (mono, RATE) as its sound track, encoded with `codec` ("aac" or
    "libopus"), written to `out`: the picture's packets are copied, never re-encoded."""
    import av

    from renderer.video import copy_stream

    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        written = os.path.join(work, "sound" + os.path.splitext(out)[1])
        with av.open(str(video)) as source, av.open(written, mode="w") as target:
            picture = source.streams.video[0]
            copy = copy_stream(target, picture)
            # FFmpeg's AAC with its "fast" coder: 2.5 times faster than the default search, no
            # difference one hears in speech (the ASR and loudness checks listen to its output)
            audio = target.add_stream(codec, rate=RATE, layout="mono", options=ENCODER_OPTIONS.get(codec, {}))
            audio.time_base = Fraction(1, RATE)
            for packet in source.demux(picture):
                if packet.dts is None:
                    continue
                packet.stream = copy
                target.mux(packet)
            chunk = RATE  # frames of 1 s: the encoder re-frames them to its own size
            for start in range(0, len(samples), chunk):
                frame = av.AudioFrame.from_ndarray(samples[None, start: start + chunk].astype(np.float32),
                                                   format="flt", layout="mono")
                frame.sample_rate = RATE
                frame.pts = start
                frame.time_base = Fraction(1, RATE)
                target.mux(audio.encode(frame))
            target.mux(audio.encode(None))
        return publish(written, out)


def audio_codec(clip_format):
    """The codec of a format's sound: AAC in MP4 and MOV, Opus in WebM (none for GIF)."""
    return AUDIO_CODECS[clip_format.name]


def read_sound(path, rate=None):
    """(mono float32 samples, their rate) of a file's first audio stream, decoded (any format
    FFmpeg reads: a video's track, WAV, MP3, M4A, FLAC), resampled to `rate` when given."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(stream):
            for converted in resampler.resample(frame):
                chunks.append(converted.to_ndarray().reshape(-1))
        for converted in resampler.resample(None):
            chunks.append(converted.to_ndarray().reshape(-1))
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), rate
