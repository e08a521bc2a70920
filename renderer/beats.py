"""A scene's beats as files: one clip per beat (Manim section), each with its caption text.

Scenes mark every beat with a Manim section (scenes.base.TraceScene.beat). With
`save_sections`, Manim writes each section as its own video and an index (JSON: the
section's name, file and frame count, in order). Here that becomes a list of Beats, each
clip named by its scene and beat (02_tokens.01_text.mp4), timed on its scene's clip, with
the caption lines that appear during it: a slide's speaker notes. Plain values, saved as
JSON beside the beat clips, so a worker can hand them to the parent.

PyAV is imported inside the functions.
"""

import json
import os
import re
from dataclasses import asdict, dataclass

BEATS_INDEX = "beats.json"


@dataclass(frozen=True)
class Beat:
    scene: str  # the catalog name: "tokens"
    number: int  # 1, 2, ... within the scene
    name: str  # the beat's name in the scene: "pieces"
    file: str  # the beat's clip, a file name in the beats directory
    start: float  # seconds into the scene's clip
    duration: float
    captions: tuple  # the caption lines that appear during this beat (or the one showing as it starts)

    @property
    def notes(self):
        """The speaker notes: the beat's caption text."""
        return "\n".join(self.captions)


def beat_file_name(clip_stem, number, name, extension):
    """02_tokens + beat 1 "text" -> 02_tokens.01_text.mp4: sorts in video order, says scene and beat."""
    return f"{clip_stem}.{number:02d}_{safe_name(name)}{extension}"


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "beat"


def beat_name(section_name):
    """Manim's section name, "TokensScene.pieces" (scenes.base.TraceScene.beat) -> "pieces"."""
    return section_name.rsplit(".", 1)[-1]


def captions_during(cues, start, end):
    """The caption lines that appear in [start, end); with none, the one on screen at `start`."""
    appearing = tuple(cue.text for cue in cues if start <= cue.start < end)
    if appearing:
        return appearing
    showing = [cue.text for cue in cues if cue.start < start < cue.end]
    return tuple(showing[-1:])


def beats_from_sections(sections_index, scene, cues, fps):
    """Beats from Manim's section index (a list of dicts: name, video, nb_frames), timed by
    frame count (the clip's frames are the sections' frames, one after another)."""
    beats, start = [], 0.0
    for number, section in enumerate(sections_index, start=1):
        duration = int(section["nb_frames"]) / fps
        beats.append(Beat(scene=scene, number=number, name=beat_name(section["name"]), file=section["video"],
                          start=start, duration=duration, captions=captions_during(cues, start, start + duration)))
        start += duration
    return beats


def beat_cues(cues, beat):
    """A scene clip's caption cues (captions.Cue) as its beat's own, timed from the beat's start."""
    from renderer.captions import Cue

    end = beat.start + beat.duration
    # overlapping by a millisecond at least: a cue that starts as the beat ends (its time and the
    # beat's frame count differ by float noise) is the next beat's, not an empty cue of this one
    return [Cue(max(cue.start, beat.start) - beat.start, min(cue.end, end) - beat.start, cue.text)
            for cue in cues if min(cue.end, end) - max(cue.start, beat.start) >= 0.001]


def save_beats(beats, path):
    with open(path, "w", encoding="utf-8") as file:
        json.dump([asdict(beat) for beat in beats], file, ensure_ascii=False, indent=1)


def load_beats(directory):
    """The Beats saved in `directory` (its BEATS_INDEX), their files as full paths."""
    with open(os.path.join(directory, BEATS_INDEX), encoding="utf-8") as file:
        saved = json.load(file)
    return [Beat(**dict(beat, file=os.path.join(directory, beat["file"]), captions=tuple(beat["captions"])))
            for beat in saved]


def beats_directory(clip):
    """Where a worker leaves a clip's beats while rendering: 02_tokens.mp4 -> 02_tokens.beats/."""
    return os.path.splitext(clip)[0] + ".beats"


# -- pictures and conversions -------------------------------------------------------------

def decoder_for(stream):
    """A decoder that keeps the alpha channel: FFmpeg's own VP9 decoder drops it (libvpx's reads
    the alpha plane WebM stores beside each frame)."""
    import av

    if stream.codec_context.name == "vp9":
        return av.CodecContext.create("libvpx-vp9", "r")
    return None


def save_poster(video, png):
    """A beat's poster: its last frame, the beat's picture once drawn, as the PNG `png` (read
    from the clip: nothing rendered twice). Not its first: a beat that starts from an empty
    frame would print as a blank slide. The slide still plays its clip from the start."""
    import av

    last = None
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        decoder = decoder_for(stream)
        for packet in container.demux(stream):  # its last, empty packet drains the decoder
            for frame in (decoder.decode(packet) if decoder is not None else packet.decode()):
                last = frame
    if last is None:
        raise ValueError(f"{video} holds no frame")
    last.to_image().save(png)
    return png


def convert_to_gif(video, gif, transparent=False):
    """Re-encode a beat's clip as a GIF, the way Manim makes its own GIFs (one palette made for
    the clip, then dithered to it): a GIF is always an encoding of its own, never a copy."""
    import av

    with av.open(str(video)) as source, av.open(str(gif), mode="w") as target:
        stream = source.streams.video[0]
        output = target.add_stream("gif", rate=stream.codec_context.framerate or stream.base_rate)
        output.width, output.height = stream.width, stream.height
        output.pix_fmt = "pal8" if transparent else "rgb8"
        graph = av.filter.Graph()
        buffer = graph.add_buffer(template=stream)
        split = graph.add("split")
        palette = graph.add("palettegen", "stats_mode=diff")
        use = graph.add("paletteuse", "dither=bayer:bayer_scale=5:diff_mode=rectangle")
        sink = graph.add("buffersink")
        buffer.link_to(split)
        split.link_to(palette, 0, 0)
        split.link_to(use, 1, 0)
        palette.link_to(use, 0, 1)
        use.link_to(sink)
        graph.configure()
        for frame in source.decode(stream):
            graph.push(frame)
        graph.push(None)
        written = 0
        while True:
            try:
                frame = graph.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            if output.codec_context.time_base is not None:
                frame.time_base = output.codec_context.time_base
            frame.pts = written
            written += 1
            target.mux(output.encode(frame))
        target.mux(output.encode())
    return gif
