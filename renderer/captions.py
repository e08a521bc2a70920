"""Caption files: every caption line a scene shows, as SubRip (.srt) and WebVTT (.vtt) cues.

A scene records each caption line with the time it appears (scenes.base.TraceScene keeps
`caption_cues`); a line lasts until the next one replaces it or the scene ends. A worker
writes each clip's cues beside the clip as JSON (plain values, no pickle); the video's cues
are the clips' cues, each shifted by where its clip starts in the joined video, so they
never overlap and the last ends with the video. The formats are written by the `srt` and
`webvtt-py` libraries, not by hand.

Both files round every time to the same millisecond (`milliseconds`): `srt` would cut
8.6666 s to 08,666 where WebVTT rounds it to 08.667. WebVTT text is markup (`<` opens a
tag, `&` an entity, and a line holding "-->" starts a new cue): its cues are escaped;
SubRip readers take the text literally, so the SRT file keeps it as it is.
"""

import datetime
import html
import json
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


def cues_path(clip):
    """Where a clip's recorded cues are kept while rendering: 01_title.mp4 -> 01_title.cues.json."""
    return os.path.splitext(clip)[0] + ".cues.json"


def scene_cues(scene, duration):
    """A rendered scene's caption lines as Cues: each until the next one, the last until `duration`."""
    starts = [start for start, _ in scene.caption_cues] + [duration]
    return [Cue(start, min(end, duration), text) for (start, text), end in zip(scene.caption_cues, starts[1:])
            if end > start]


def save_cues(cues, path):
    with open(path, "w", encoding="utf-8") as file:
        json.dump([[cue.start, cue.end, cue.text] for cue in cues], file, ensure_ascii=False)


def load_cues(path):
    with open(path, encoding="utf-8") as file:
        return [Cue(start, end, text) for start, end, text in json.load(file)]


def fit_to(cues, duration):
    """Cues cut to a clip's real length (its frames, which round each animation's time)."""
    return [Cue(cue.start, min(cue.end, duration), cue.text) for cue in cues if cue.start < duration]


def joined_cues(clips_cues, durations):
    """One list of cues for clips played one after another (each clip's cues and length)."""
    joined, offset = [], 0.0
    for cues, duration in zip(clips_cues, durations):
        joined += [Cue(offset + cue.start, offset + cue.end, cue.text) for cue in fit_to(cues, duration)]
        offset += duration
    return joined


def milliseconds(seconds):
    """A cue's time as both caption files write it: the nearest millisecond."""
    return round(seconds * 1000)


def write_srt(cues, path):
    import srt

    def time(seconds):
        return datetime.timedelta(milliseconds=milliseconds(seconds))

    subtitles = [srt.Subtitle(index, time(cue.start), time(cue.end), cue.text)
                 for index, cue in enumerate(cues, start=1)]
    with open(path, "w", encoding="utf-8") as file:
        file.write(srt.compose(subtitles, reindex=False))
    return path


def write_vtt(cues, path):
    import webvtt

    vtt = webvtt.WebVTT()
    for cue in cues:
        vtt.captions.append(webvtt.Caption(_vtt_time(cue.start), _vtt_time(cue.end), vtt_text(cue.text)))
    vtt.save(path)
    return path


def vtt_text(text):
    """A cue's text as WebVTT markup: `<`, `>` and `&` escaped (so a token "<" is no tag, and
    "-->" no timing line), and no blank line, which would end the cue (as `srt` drops them)."""
    return "\n".join(html.escape(line, quote=False) for line in text.splitlines() if line.strip())


def _vtt_time(seconds):
    hours, rest = divmod(milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def write_caption_files(cues, video_path):
    """NAME.srt and NAME.vtt beside NAME.mp4; returns their paths."""
    stem = os.path.splitext(video_path)[0]
    return [write_srt(cues, stem + ".srt"), write_vtt(cues, stem + ".vtt")]


def caption_clips_and_video(clips, video):
    """The caption files of every clip (beside it) and of the joined `video` (beside it),
    from the cues the workers recorded (cues_path of each clip), timed by each clip's
    frames. Returns (the clips' caption files, the video's)."""
    from renderer.video import video_info

    infos = [video_info(clip) for clip in clips]
    durations = [info.frames / info.fps for info in infos]  # frames, not the container's rounded length
    clips_cues = [load_cues(cues_path(clip)) for clip in clips]
    clip_files = [path for clip, cues, duration in zip(clips, clips_cues, durations)
                  for path in write_caption_files(fit_to(cues, duration), clip)]
    return clip_files, write_caption_files(joined_cues(clips_cues, durations), video)
