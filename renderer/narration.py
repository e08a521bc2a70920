"""Narration: what `--narrate` asks of a render, and who speaks each caption line in a worker.

The parent checks the request before any work (`narration_request`: the voice known and
installed, a format that carries sound) and hands each RenderTask a small plain dict, which
the clip cache keys (a narrated clip and a silent one never share an entry):

    {"voice": "heart", "engine": "hibari-tts==0.2.1"}

A worker turns it into a `Narrator`, bound to the scene (scenes.base.TraceScene.narrator):
the scene hands it each caption line's spoken form and waits out the samples it returns.
Speech comes from the clip cache when that line was spoken before (voices.Speaker).
"""

import json
import os

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


# -- the narration script: every caption line with its stable ID, written and spoken ------------

def script_path(clip):
    """Where a narrated clip's script waits while rendering: 01_title.mp4 -> 01_title.script.json."""
    return os.path.splitext(clip)[0] + ".script.json"


def scene_script(scene):
    """A rendered scene's lines as plain rows: ID, written and spoken text, when its speech starts
    in the clip and how long it lasts (seconds; 0 for a line nobody spoke). A narrated scene
    records one speech cue per line (scenes.base.TraceScene.speak); a silent one none."""
    rows = []
    for index, (line_id, written, text) in enumerate(scene.script):
        start, samples = scene.speech_cues[index] if index < len(scene.speech_cues) else (None, ())
        rows.append({"id": line_id, "written": written, "spoken": text, "start": start,
                     "seconds": round(len(samples) / RATE, 3)})
    return rows


def save_script(rows, path):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(rows, file, ensure_ascii=False, indent=1)
    return path


def load_script(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def joined_script(clips):
    """The clips' script rows (script_path, beside each) in video order, their starts shifted
    by where each clip starts in the joined video."""
    from renderer.video import video_info

    rows, offset = [], 0.0
    for clip in clips:
        for row in load_script(script_path(clip)):
            start = None if row["start"] is None else round(offset + row["start"], 3)
            rows.append(dict(row, start=start))
        info = video_info(clip)
        offset += info.frames / info.fps
    return rows


SCRIPT_COLUMNS = ("id", "written", "spoken", "start", "seconds")


def write_script_files(rows, stem):
    """STEM.csv (one row per line: ID, written, spoken, start and length in the video) and
    STEM.txt (to read from: each line's ID, then what to say); returns their paths."""
    import csv

    with open(stem + ".csv", "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(SCRIPT_COLUMNS)
        for row in rows:
            writer.writerow([row["id"], row["written"], row["spoken"],
                             "" if row["start"] is None else f"{row['start']:.3f}", f"{row['seconds']:.2f}"])
    with open(stem + ".txt", "w", encoding="utf-8") as file:
        for row in rows:
            file.write(f"{row['id']}\n{row['spoken']}\n\n")
    return [stem + ".csv", stem + ".txt"]
