"""Narration: what `--narrate` asks of a render, and who speaks each caption line in a worker.

The parent checks the request before any work (`narration_request`: the voice known and
installed, a format that carries sound) and hands each RenderTask a small plain dict, which
the clip cache keys (a narrated clip and a silent one never share an entry):

    {"voice": "heart", "engine": "hibari-tts==0.2.1"}

A worker turns it into a `Narrator`, bound to the scene (scenes.base.TraceScene.narrator):
the scene hands it each caption line's spoken form and waits out the samples it returns.
Speech comes from the clip cache when that line was spoken before (voices.Speaker).
"""

from renderer.voices import NO_VOICE, RATE, VOICES, Speaker, choose_voice
from tracer.errors import UserError


def narration_request(narrate, voice_name, language, clip_format):
    """The plain dict a narrated render hands its tasks, or None for a silent one (`narrate` off);
    bad input raises UserError: --voice without --narrate, an unknown or missing voice, GIF."""
    if not narrate:
        if voice_name is not None:
            raise UserError("--voice only applies with --narrate")
        return None
    if clip_format.name == "gif":
        raise UserError("a GIF has no sound: use --narrate with --format mp4, webm or mov")
    if voice_name == NO_VOICE:
        return {"voice": NO_VOICE, "engine": None}
    voice = choose_voice(voice_name, language)
    return {"voice": voice.name, "engine": voice.engine_version()}


class Narrator:
    """Speaks a scene's lines in a worker: `speak(line_id, text)` -> mono float32 samples at RATE.
    `cache` is the clip cache (cache.ClipCache) that keeps each line's speech, or None."""

    rate = RATE

    def __init__(self, narration, cache=None):
        voice = narration["voice"]
        self.speaker = None if voice == NO_VOICE else Speaker(VOICES[voice], cache)

    def speak(self, line_id, text):
        import numpy as np

        if self.speaker is None:
            return np.zeros(0, np.float32)
        return self.speaker.speak(text)


def narrator_for(task):
    """The Narrator of a RenderTask (None for a silent one), with the user's clip cache for speech
    unless the render runs without a cache (its `speech_cache_dir` is then None)."""
    if task.narration is None:
        return None
    from renderer.cache import ClipCache, clip_cache_from_environment

    cache = None
    if task.speech_cache_dir is not None:
        limit = clip_cache_from_environment()
        cache = ClipCache(task.speech_cache_dir, limit.limit) if limit is not None else None
    return Narrator(task.narration, cache)
