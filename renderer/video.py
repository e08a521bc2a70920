"""Video files: what a clip is (size, rate, codec, length), and joining clips without re-encoding.

Every format the program writes joins by copying packets with PyAV (no re-encoding, no
ffmpeg process): MP4 (H.264), WebM (VP9; the alpha plane travels with each packet as
Matroska block data, which PyAV copies, and the track's AlphaMode says it is there: see
copy_stream), MOV (ProRes 4444 or QuickTime Animation: every frame a key frame) and GIF
(each frame carries its own palette). PyAV is imported inside the functions, so importing
this module costs nothing.
"""

import os
from dataclasses import dataclass
from fractions import Fraction

from renderer.files import private_directory, publish


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    codec: str
    pixel_format: str
    fps: float
    frames: int
    duration: float  # seconds

    def joinable_with(self, other):
        """Stream copy needs the same picture size, frame rate, codec and pixel format."""
        return (self.width, self.height, self.codec, self.pixel_format, self.fps) == \
               (other.width, other.height, other.codec, other.pixel_format, other.fps)


def frame_rate(stream):
    """The rate the clip was encoded at. Not the average rate: in a clip that Manim joined from
    its segments (or we joined from clips) timestamps are off by a few ticks, so the average
    is 15.0004 where the encoder ran at exactly 15."""
    return stream.codec_context.framerate or stream.base_rate


def video_info(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = stream.frames
        if not is_quicktime(container):  # WebM keeps no frame count, and GIF's is a guess: count the packets
            frames = count_packets(container, stream)
        return VideoInfo(width=stream.width, height=stream.height, codec=stream.codec_context.name,
                         pixel_format=stream.codec_context.pix_fmt, fps=float(frame_rate(stream)),
                         frames=frames, duration=container.duration / 1e6 if container.duration else 0.0)


def is_quicktime(container):
    """MP4 and MOV: their headers count the frames."""
    return "mp4" in container.format.name.split(",")


def count_packets(container, stream):
    """Frames in a stream of one frame per packet (VP9 in WebM, GIF), read without decoding."""
    return sum(packet.dts is not None for packet in container.demux(stream))


def copy_stream(target, video, codec_tag=None):
    """A stream in `target` for the packets of `video`: its codec's parameters and its
    metadata. The metadata matters: a VP9 clip with alpha says so in its track (Matroska's
    AlphaMode, which FFmpeg reads as the stream's "alpha_mode" and writes from it); without
    it Chromium draws the video opaque. Its length is the muxer's to write."""
    copy = target.add_stream_from_template(template=video)
    copy.metadata.update({key: value for key, value in video.metadata.items() if key.lower() != "duration"})
    if codec_tag is not None:
        copy.codec_context.codec_tag = codec_tag
    return copy


def join_clips(clips, out, codec_tag=None):
    """Concatenate clips into `out` (of the clips' container: its suffix) without re-encoding: their
    packets are copied, one clip after another, each shifted to start where the previous one ends.
    `codec_tag` replaces the stream's tag (see formats.ClipFormat.codec_tag); one clip "joined"
    with a tag is a retagged copy."""
    import av

    if not clips:
        raise ValueError("no clips to join")
    infos = [video_info(clip) for clip in clips]
    for clip, info in zip(clips, infos):
        if not info.joinable_with(infos[0]):
            raise ValueError(f"cannot join {clip} ({info}) to {clips[0]} ({infos[0]}) without re-encoding")
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        joined = os.path.join(work, "joined" + os.path.splitext(out)[1])
        with av.open(joined, mode="w") as target:
            copy = None
            start = Fraction(0)  # where the next clip begins, in seconds
            for clip in clips:
                with av.open(str(clip)) as source:
                    video = source.streams.video[0]
                    if copy is None:
                        copy = copy_stream(target, video, codec_tag)
                    shift = round(start / video.time_base)  # in the clip's time base
                    frames = 0
                    for packet in source.demux(video):
                        if packet.dts is None:  # the empty packet demux() yields at the end
                            continue
                        packet.dts += shift
                        if packet.pts is not None:
                            packet.pts += shift
                        packet.stream = copy
                        target.mux(packet)
                        frames += 1
                    # By frame count, not the container's duration: an MP4's edit list makes
                    # that a few ticks short, and the error would pile up clip after clip.
                    start += Fraction(frames) / frame_rate(video)
        return publish(joined, out)
