"""video --format/--transparent/--beats: clips for other tools, joined without re-encoding.

Each format is rendered once for the module (title and tokens on nano-sort, low quality at 5 fps:
the costs of VP9 and ProRes grow with the frames).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_checks import assert_one_line_error, run_cli
from renderer.files import CLIPS_MANIFEST, written_clips
from renderer.formats import ClipFormat
from renderer.video import video_info

ROOT = Path(__file__).resolve().parent.parent
SCENES = ("title", "tokens")
BEAT_NAMES = {"title": ["prompt", "model", "promise"], "tokens": ["text", "pieces", "ids"]}


def render(trace_file, out, *options):
    result = subprocess.run([sys.executable, str(ROOT / "render.py"), "video", "--trace", str(trace_file),
                             "--scenes", ",".join(SCENES), "--quality", "low", "--fps", "5", "--out", str(out), *options],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


class Renders(dict):
    """{name: the video}, and .stdout: {name: what the command printed}."""

    stdout = None


@pytest.fixture(scope="module")
def rendered(nano_sort_trace_file, tmp_path_factory):
    """{name: the video} for each format asked for, rendered once."""
    folder = tmp_path_factory.mktemp("formats")
    runs = {"webm": ("--format", "webm", "--transparent", "--beats"),
            "mov": ("--format", "mov", "--transparent"),
            "gif": ("--beats",),  # the format from --out's suffix
            "mp4": ("--beats", "--no-captions")}
    videos = Renders()
    videos.stdout = {}
    for name, options in runs.items():
        videos[name] = folder / f"{name}.{name}"
        videos.stdout[name] = render(nano_sort_trace_file, videos[name], *options).stdout
    return videos


def clips_of(video):
    return sorted((video.parent / video.stem / "clips").iterdir())


def frames(path, format="rgba"):
    """Every frame of a clip as an array, decoded keeping its alpha (see beats.decoder_for)."""
    import av

    from renderer.beats import decoder_for

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoder = decoder_for(stream)
        pictures = []
        for packet in container.demux(stream):
            decoded = decoder.decode(packet) if decoder is not None else packet.decode()
            pictures += [frame.to_ndarray(format=format) for frame in decoded]
        return pictures


def corner_alphas(pictures):
    return {int(picture[0, 0, 3]) for picture in pictures} | {int(picture[-1, -1, 3]) for picture in pictures}


def test_transparent_webm_has_alpha_and_its_clips_join(rendered):
    video = rendered["webm"]
    info = video_info(video)
    assert (info.codec, info.width, info.height) == ("vp9", 854, 480)
    pictures = frames(video)
    assert len(pictures) == info.frames
    assert corner_alphas(pictures) == {0}  # the background is left out, in every frame ...
    assert max(int(picture[..., 3].max()) for picture in pictures) == 255  # ... and the pictures are there
    clips = [path for path in clips_of(video) if path.suffix == ".webm" and "." not in path.stem]
    assert [path.name for path in clips] == ["01_title.webm", "02_tokens.webm"]
    assert info.frames == sum(video_info(clip).frames for clip in clips)  # the video is the clips, joined
    first = frames(clips[0])
    assert np.array_equal(pictures[0], first[0]) and np.array_equal(pictures[len(first)], frames(clips[1])[0])
    assert (video.parent / "webm.srt").is_file()  # captions, timed by the counted frames
    assert "WARNING" not in rendered.stdout["webm"]  # Manim's note that WebM is slow stays quiet


def test_transparent_mov_is_prores_4444_with_alpha(rendered):
    import av

    video = rendered["mov"]
    clips = [path for path in clips_of(video) if path.suffix == ".mov"]
    for path in [video, *clips]:
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            # tagged as 4444, as Keynote needs (Manim's own join tags it 422 HQ, "apch")
            assert (context.name, context.codec_tag) == ("prores", "ap4h")
            assert "yuva444" in context.pix_fmt
    pictures = frames(video, format="rgba64le")
    assert corner_alphas(pictures) == {0}
    assert len(pictures) == sum(video_info(clip).frames for clip in clips)


def test_gif_clips_join_and_so_do_their_beats(rendered):
    video = rendered["gif"]
    info = video_info(video)
    assert info.codec == "gif"
    names = [path.name for path in clips_of(video)]
    clips = [path for path in clips_of(video) if path.suffix == ".gif" and "." not in path.stem]
    assert len(frames(video, format="rgb24")) == info.frames == sum(video_info(clip).frames for clip in clips)
    for position, scene in enumerate(SCENES, start=1):
        beats = [f"{position:02d}_{scene}.{number:02d}_{beat}.gif"
                 for number, beat in enumerate(BEAT_NAMES[scene], start=1)]
        assert set(beats) <= set(names)
        clip = video.parent / "gif" / "clips" / f"{position:02d}_{scene}.gif"
        assert video_info(clip).frames == sum(video_info(clip.parent / beat).frames for beat in beats)


def test_beats_are_named_by_scene_and_beat_and_add_up_to_their_scene(rendered):
    video = rendered["mp4"]
    names = [path.name for path in clips_of(video)]
    assert names == [CLIPS_MANIFEST, "01_title.01_prompt.mp4", "01_title.02_model.mp4", "01_title.03_promise.mp4",
                     "01_title.mp4", "02_tokens.01_text.mp4", "02_tokens.02_pieces.mp4", "02_tokens.03_ids.mp4",
                     "02_tokens.mp4"]
    clips = video.parent / "mp4" / "clips"
    for scene in ("01_title", "02_tokens"):
        beats = sorted(clips.glob(f"{scene}.*.mp4"))
        first = frames(beats[1], format="rgb24")[0]
        scene_frames = frames(clips / f"{scene}.mp4", format="rgb24")
        assert len(scene_frames) == sum(video_info(beat).frames for beat in beats)
        offset = video_info(beats[0]).frames  # beat 2 starts where beat 1 ends
        assert np.abs(first.astype(int) - scene_frames[offset]).max() <= 2
    assert set(written_clips(str(clips))) == set(names[1:])  # a later render may remove them
    assert "Clips (2 and 6 beats):" in rendered.stdout["mp4"]
    assert "Clips (2 and 6 beats, with their caption files):" in rendered.stdout["gif"]


def test_each_beat_has_its_own_caption_files(rendered):
    import webvtt

    from scenes.strings import say

    clips = rendered["gif"].parent / "gif" / "clips"
    beat_3 = webvtt.read(str(clips / "01_title.03_promise.vtt"))
    assert [caption.text for caption in beat_3] == [say("en", "title.promise")]
    assert beat_3[0].start_in_seconds < 1  # timed from the beat's start, not the scene's
    assert list(webvtt.read(str(clips / "01_title.01_prompt.vtt"))) == []  # a beat with no caption line
    texts = [caption.text for caption in webvtt.read(str(clips / "02_tokens.01_text.vtt"))]
    assert texts == [say("en", "tokens.text")]


def test_a_render_without_beats_removes_the_beats_it_wrote(nano_sort_trace_file, tmp_path):
    out = tmp_path / "v.mp4"
    render(nano_sort_trace_file, out, "--beats", "--no-captions", "--scenes", "title")
    assert (tmp_path / "v" / "clips" / "01_title.01_prompt.mp4").is_file()
    render(nano_sort_trace_file, out, "--no-captions", "--scenes", "title")
    assert sorted(path.name for path in (tmp_path / "v" / "clips").iterdir()) == [CLIPS_MANIFEST, "01_title.mp4"]


def test_the_default_video_settings_are_unchanged():
    """--format mp4 (the default) asks Manim for exactly what it did before formats existed."""
    from renderer.manim_run import manim_settings
    from renderer.presets import quality_preset

    quality = quality_preset("low")
    settings = manim_settings("/w", quality, "clip", still=False)
    assert settings["format"] == "mp4" and settings["save_sections"] is False
    assert settings["video_encoder_options"] == dict(quality.encoder_options)
    assert not {"background_opacity", "video_codec", "pixel_format"} & set(settings)
    assert ClipFormat("webm", True).manim_settings(quality.encoder_options)["background_opacity"] == 0.0


@pytest.mark.parametrize("options, words", [
    (["--transparent"], "MP4 (H.264) has no alpha channel"),
    (["--format", "webm", "--out", "v.mp4"], "--out must name a .webm file"),
    (["--format", "avi"], "'avi' is not one of 'mp4', 'webm', 'mov', 'gif'"),
])
def test_bad_format_input_is_refused(capsys, nano_sort_trace_file, tmp_path, monkeypatch, options, words):
    monkeypatch.chdir(tmp_path)
    status, _, stderr = run_cli(capsys, "video", "--trace", str(nano_sort_trace_file), "--scenes", "title", *options)
    assert status == 2
    assert_one_line_error(stderr, words)
    assert os.listdir(tmp_path) == []
