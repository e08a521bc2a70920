"""One bound scene to one file, a clip (MP4, WebM, MOV or GIF; with its beats on request) or a
still (the last frame, PNG), through Manim.

Manim is driven from Python with `tempconfig` (never by shelling out to the manim command),
with every output inside a private work directory and Manim's own cache off (see files.py).
Manim is imported only when a render starts.
"""

import json
import os
from dataclasses import replace
from fractions import Fraction

from renderer.beats import BEATS_INDEX, beat_file_name, beats_from_sections, convert_to_gif, save_beats
from renderer.captions import save_cues, scene_cues
from renderer.files import disk_full_error, disk_is_full, private_directory, publish
from renderer.formats import MP4
from renderer.presets import Quality, quality_preset
from renderer.narration import save_script, scene_script, script_path
from renderer.sound import add_sound, audio_codec, normalise, save_track, track, track_samples
from renderer.video import join_clips, video_info


def manim_settings(work, quality, output_name, still, clip_format=MP4, sections=False):
    """Manim config for one render: everything inside `work`, no cache, no terminal output.

    `clip_format` (formats.ClipFormat) sets the container, codec and background; with
    `sections`, Manim also writes each section (beat) as its own file in work/sections,
    with an index (sections/<output_name>.json)."""
    settings = {
        # first: tempconfig applies the keys in order, and setting "format" to webm logs a warning
        "verbosity": "ERROR",
        "media_dir": work,
        "video_dir": work,
        "images_dir": work,
        "partial_movie_dir": os.path.join(work, "segments"),
        "output_file": output_name,
        # "png" writes only the last frame and skips the animations (the cheap mode);
        # "mp4" rather than "auto", which would write a PNG for a scene without play().
        "format": "png" if still else "mp4",
        "pixel_width": quality.width,
        "pixel_height": quality.height,
        "frame_rate": quality.fps,
        "video_encoder_options": dict(quality.encoder_options),
        "disable_caching": True,  # we own the caching: a killed run must not poison the next
        "save_sections": sections,
        "sections_dir": os.path.join(work, "sections"),
        "preview": False,
        "log_to_file": False,
        "progress_bar": "none",
    }
    if not still:
        settings.update(clip_format.manim_settings(quality.encoder_options))
    return settings


def encode_held_frames_once():
    """Manim 0.22's segment encoder turns a held frame (a wait: one frame written `repeat` times)
    from RGBA into the codec's pixels once per copy. Converted once and sent again with the next
    time stamp, a held frame costs half as much (854x480 x264: 4.5 -> 2 ms), the same pixels.
    A narrated beat holds for its speech, so narrated videos hold often. Installed once per process."""
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    if hasattr(VideoSegmentEncoder.write_frame, "manims_own"):
        return
    write_one_frame = VideoSegmentEncoder.write_frame

    def write_frame(self, pixels, *, repeat=1):
        if repeat == 1:
            return write_one_frame(self, pixels)
        import av

        self._validate_frame(pixels, repeat)
        stream = self._stream
        frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
        frame = frame.reformat(stream.codec_context.width, stream.codec_context.height, stream.codec_context.format)
        frame.time_base = Fraction(self.spec.frame_rate.denominator, self.spec.frame_rate.numerator)
        try:
            for _ in range(repeat):
                frame.pts = self._next_pts  # the encoder keeps its own reference: the frame is sent again
                self._next_pts += 1
                for packet in stream.encode(frame):
                    self._container.mux(packet)
        except BaseException as error:
            raise self._operation_error("encode", error) from error

    write_frame.manims_own = write_one_frame
    VideoSegmentEncoder.write_frame = write_frame


def render_with_manim(scene_class, work, quality, output_name, still, clip_format=MP4, sections=False):
    """Render `scene_class` into `work`; returns the path Manim wrote and the rendered scene."""
    from manim import config, tempconfig

    encode_held_frames_once()
    settings = manim_settings(work, quality, output_name, still, clip_format, sections)
    unknown = set(settings) - set(config)  # tempconfig silently drops keys it does not know
    assert not unknown, f"not Manim config keys: {unknown}"
    with tempconfig(settings):
        scene = scene_class()
        try:
            scene.render()
        except Exception as error:
            # On a full disk Manim's files in `work` are cut short, and the scene fails reading
            # them back (a text's SVG: xml ParseError), not writing them: say what it was.
            if disk_is_full(work):
                raise disk_full_error(work) from error
            raise
    written = os.path.join(work, output_name + (".png" if still else clip_format.extension))
    if not os.path.isfile(written):
        raise RuntimeError(f"{scene_class.__name__} wrote no {'image' if still else 'video'} "
                           "(a scene must play at least one animation or wait)")
    return written, scene


def render_clip(scene_class, out, quality="low", fps=None, cues_out=None, clip_format=MP4, beats_out=None,
                scene_name=None, sound_out=None):
    """Render one bound scene to the video file `out` (in `clip_format`); returns `out`. With
    `cues_out`, the caption lines the scene showed, and when, go there too (see captions.py).
    With `beats_out` (a directory, made here), every beat goes there as its own clip, named
    after `out` and the beat, with their list (beats.py; `scene_name` is the catalog's).
    With `sound_out` (a narrated scene), the clip and each beat carry the scene's speech, each
    normalised on its own; the clip's normalised track goes to `sound_out` for the joined video
    (sound.join_normalised)."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality, fps)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        written, scene = render_with_manim(scene_class, work, quality, "clip", still=False,
                                           clip_format=clip_format, sections=beats_out is not None)
        cues = scene_cues(scene, scene.renderer.time)
        sound = None
        if sound_out is not None:
            info = video_info(written)
            sound = track(scene.speech_cues, track_samples(info.frames, info.fps))
            normalised = normalise(sound)  # the clip's, and its part of the joined video's
            publish(save_track(normalised, os.path.join(work, "clip.sound.wav")), sound_out)
            publish(save_script(scene_script(scene), os.path.join(work, "clip.script.json")),
                    script_path(out))
        if cues_out is not None:
            saved = os.path.join(work, "clip.cues.json")
            save_cues(cues, saved)
            publish(saved, cues_out)
        if beats_out is not None:
            stem = os.path.splitext(os.path.basename(out))[0]
            publish_beats(os.path.join(work, "sections"), "clip", stem, scene_name or stem, cues, clip_format,
                          quality.fps, beats_out, sound)
        if clip_format.codec_tag is not None:
            written = join_clips([written], os.path.join(work, "tagged" + clip_format.extension),
                                 clip_format.codec_tag)
        if sound is not None:
            written = add_sound(written, normalised, os.path.join(work, "sounding" + clip_format.extension),
                                audio_codec(clip_format))
        return publish(written, out)


def publish_beats(sections_dir, output_name, clip_stem, scene_name, cues, clip_format, fps, beats_out, sound=None):
    """Move Manim's section files into `beats_out` under their beat names (a GIF beat made from its
    segment-format section, a ProRes one retagged), with their list (beats.BEATS_INDEX); with
    `sound` (the scene's track), each beat carries its own part of it, normalised on its own."""
    with open(os.path.join(sections_dir, output_name + ".json"), encoding="utf-8") as file:
        sections = json.load(file)
    beats = beats_from_sections(sections, scene_name, cues, fps)
    os.makedirs(beats_out, exist_ok=True)
    named = []
    for beat in beats:
        source = os.path.join(sections_dir, beat.file)
        target = os.path.join(beats_out, beat_file_name(clip_stem, beat.number, beat.name, clip_format.extension))
        if clip_format.name == "gif":
            convert_to_gif(source, target, clip_format.transparent)
        elif clip_format.codec_tag is not None:
            join_clips([source], target, clip_format.codec_tag)
        else:
            publish(source, target)
        if sound is not None:
            part = sound[track_samples(round(beat.start * fps), fps):][:track_samples(round(beat.duration * fps), fps)]
            add_sound(target, normalise(part), target, audio_codec(clip_format))
        named.append(replace(beat, file=os.path.basename(target)))
    save_beats(named, os.path.join(beats_out, BEATS_INDEX))
    return named


def render_still(scene_class, out, quality="high"):
    """Write the last frame of one bound scene as the PNG file `out` (animations skipped)."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        return publish(render_with_manim(scene_class, work, quality, "still", still=True)[0], out)
