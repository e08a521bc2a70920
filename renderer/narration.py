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


def narration_request(narrate, voice_name, language, clip_format, recordings_dir=None):
    """The plain dict a narrated render hands its tasks, or None for a silent one (`narrate` off;
    --narration DIR implies it); bad input raises UserError: --voice without --narrate, an unknown
    or missing voice, GIF, a recording that is not audio, empty or too long. With `recordings_dir`,
    "recordings" holds {line ID: path} (scene_tasks keeps each scene's own, with their digests)."""
    narrate = narrate or recordings_dir is not None
    if not narrate:
        if voice_name is not None:
            raise UserError("--voice only applies with --narrate")
        return None
    if clip_format.name == "gif":
        raise UserError("a GIF has no sound: use --narrate with --format mp4, webm or mov")
    request = voice_request(choose_voice(voice_name, language))
    if recordings_dir is not None:
        request["recordings"] = find_recordings(recordings_dir)
    return request


def voice_request(voice):
    """The request of a render spoken by `voice` (a checked voices.Voice; None: no voice, `none`)."""
    if voice is None:
        return {"voice": NO_VOICE, "engine": None}
    return {"voice": voice.name, "engine": voice.engine_version()}


def narration_of_scene(narration, scene_name):
    """A scene's own narration request: only its lines' recordings, each with its digest (so a
    changed recording re-renders its scene alone)."""
    if narration is None or "recordings" not in narration:
        return narration
    return dict(narration, recordings=recordings_for(scene_name, narration["recordings"]))


class Narrator:
    """Speaks a scene's lines in a worker: `speak(line_id, text)` -> mono float32 samples at RATE.
    `cache` is the clip cache (cache.ClipCache) that keeps each line's speech, or None."""

    rate = RATE

    def __init__(self, narration, cache=None):
        voice = narration["voice"]
        self.speaker = None if voice == NO_VOICE else Speaker(VOICES[voice], cache)
        self.recordings = {line_id: path for line_id, (path, _) in narration.get("recordings", {}).items()}

    def speak(self, line_id, text):
        """The lecturer's recording of the line `line_id` when there is one, else the voice's
        speech of `text` (silence with --voice none)."""
        import numpy as np

        from renderer.sound import read_sound

        if line_id in self.recordings:
            return read_sound(self.recordings[line_id], RATE)[0]
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


# -- the lecturer's own recordings (--narration DIR) ---------------------------------------------

RECORDING_SUFFIXES = (".wav", ".mp3", ".m4a", ".flac")
LONGEST_RECORDING = 120.0  # seconds: a caption line's recording longer than this is a mistake


def find_recordings(directory):
    """{line ID: path} of the recordings in `directory`, each named by its line's ID
    (tokens.02_pieces.1.wav: see NAME.script.txt), every one checked now: a file that is not
    audio, is empty or lasts over LONGEST_RECORDING raises UserError naming it."""
    if not os.path.isdir(directory):
        raise UserError(f"--narration {directory} is not a folder of recordings")
    found = {}
    for name in sorted(os.listdir(directory)):
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in RECORDING_SUFFIXES:
            continue
        path = os.path.join(directory, name)
        if stem in found:
            raise UserError(f"two recordings of the line {stem}: {found[stem]} and {path}")
        recording_seconds(path)
        found[stem] = path
    return found


def recording_seconds(path):
    """How long the recording at `path` lasts; UserError (naming it) if it is not audio, empty or too long."""
    from renderer.sound import read_sound

    try:
        samples, rate = read_sound(path)
    except Exception as error:  # PyAV raises its own errors for a file it cannot read: all mean "not audio"
        raise UserError(f"the recording {path} is not audio FFmpeg can read ({type(error).__name__})") from None
    seconds = len(samples) / rate if rate else 0.0
    if seconds == 0 or not (abs(samples) > 1e-4).any():
        raise UserError(f"the recording {path} is empty (no sound in it)")
    if seconds > LONGEST_RECORDING:
        raise UserError(f"the recording {path} lasts {seconds:.0f} s: a caption line's recording may last "
                        f"at most {LONGEST_RECORDING:.0f} s")
    return seconds


def recordings_for(scene_name, recordings):
    """The recordings of one scene's lines ({line ID: (path, SHA-256)}): what its clip's key holds."""
    from renderer.cache import file_digest

    return {line_id: [path, file_digest(path)] for line_id, path in recordings.items()
            if line_id.split(".", 1)[0] == scene_name}


def missing_recordings_note(rows, recordings, voice):
    """One line: how many of the script's lines had no recording, and who spoke them instead."""
    missing = sum(row["id"] not in recordings for row in rows)
    if not missing:
        return f"Narration: all {len(rows)} lines from your recordings"
    who = "left silent (--voice none)" if voice == NO_VOICE else f"spoken by the voice {voice}"
    return f"Narration: {missing} of {len(rows)} lines had no recording, {who}"


def recordings_note(video, narration):
    """The one line a render with --narration DIR ends with (None without recordings), read from
    the video's script (NAME.script.csv)."""
    import csv

    if narration is None or "recordings" not in narration:
        return None
    with open(os.path.splitext(video)[0] + ".script.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return missing_recordings_note(rows, narration["recordings"], narration["voice"])


def write_script(recorded, infos, options, language, out):
    """`render.py script`: the narration script of a render of `infos` (each scene drawn as a still,
    its animations skipped, its lines set as in the video) as `out` (NAME.script.csv) and
    NAME.script.txt beside it, written only once both are complete. Returns their paths."""
    from scenes.base import SceneOptions

    return write_scenes_script([(info.name, info.load().bind(recorded, SceneOptions(**options))) for info in infos],
                               out)


def write_scenes_script(scenes, out):
    """The narration script of `scenes` ([(name, bound scene class)], in video order: `render.py
    script`'s, or a comparison's) as `out` and NAME.script.txt, as write_script says."""
    from renderer.files import private_directory, publish, sweep_stale_work
    from renderer.manim_run import render_with_manim
    from renderer.presets import quality_preset

    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    rows = []
    with private_directory(parent) as work:
        for name, scene_class in scenes:
            _, scene = render_with_manim(scene_class, work, quality_preset("low"), name, still=True)
            rows += scene_script(scene)
        written = write_script_files(rows, os.path.join(work, "script"))
        stem = out[: -len(".csv")] if out.endswith(".csv") else os.path.splitext(out)[0]
        return [publish(path, stem + os.path.splitext(path)[1]) for path in written], rows
