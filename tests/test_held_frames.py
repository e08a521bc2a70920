"""A held frame (a wait) is converted to the codec's pixels once and sent `repeat` times
(renderer/manim_run.encode_held_frames_once): the file has the same frames, time stamps and
pixels as Manim's own encoder writes, in every container the clips use."""

from fractions import Fraction

import numpy as np
import pytest

SPECS = {  # (container, codec, pixel format, options) as Manim's settings give them (renderer/formats.py)
    "mp4": ("mp4", "libx264", "yuv420p", (("preset", "veryfast"), ("crf", "23"), ("threads", "1"))),
    "webm": ("webm", "libvpx-vp9", "yuva420p", ()),
    "mov": ("mov", "prores_ks", "yuva444p10le", (("profile", "4444"),)),
}


def encode(path, spec, frames):
    """Each (pixels, repeat) of `frames` through Manim's VideoSegmentEncoder into `path`."""
    from manim._config.video_encoder import VideoEncoderSpec
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    container, codec, pixel_format, options = spec
    encoder = VideoSegmentEncoder(target=path, spec=VideoEncoderSpec(container, codec, pixel_format, 96, 64,
                                                                      Fraction(15), options))
    for pixels, repeat in frames:
        encoder.write_frame(pixels.copy(), repeat=repeat)
    encoder.finish()


def decoded(path):
    """[(pts, RGBA pixels)] of every frame of `path`."""
    import av

    with av.open(str(path)) as container:
        return [(frame.pts, frame.to_ndarray(format="rgba")) for frame in container.decode(video=0)]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_held_frame_is_the_same_frames_as_manim_writes(tmp_path, monkeypatch, name):
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    from renderer.manim_run import encode_held_frames_once

    rng = np.random.default_rng(0)
    moving = [(rng.integers(0, 256, (64, 96, 4), dtype=np.uint8), 1) for _ in range(3)]
    held = np.zeros((64, 96, 4), np.uint8)
    held[10:40, 20:70] = (230, 120, 40, 200)  # a shape, half transparent
    frames = moving[:2] + [(held, 7)] + moving[2:] + [(held, 4)]

    encode_held_frames_once()  # as a render installs it
    assert hasattr(VideoSegmentEncoder.write_frame, "manims_own")
    encode(tmp_path / f"once.{name}", SPECS[name], frames)
    monkeypatch.setattr(VideoSegmentEncoder, "write_frame", VideoSegmentEncoder.write_frame.manims_own)
    encode(tmp_path / f"manim.{name}", SPECS[name], frames)

    ours, manims = decoded(tmp_path / f"once.{name}"), decoded(tmp_path / f"manim.{name}")
    assert len(ours) == len(manims) == 2 + 7 + 1 + 4
    assert [pts for pts, _ in ours] == [pts for pts, _ in manims]
    for (_, a), (_, b) in zip(ours, manims):
        assert np.array_equal(a, b)
