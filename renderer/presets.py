"""The quality presets: picture size, frame rate and encoder settings of every render.

Plain Python, no Manim: `render.py --help` lists the presets, and must stay instant.
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Quality:
    name: str
    width: int
    height: int
    fps: float
    # x264 options. veryfast: at 1080p the encoder, not Cairo, sets the floor; veryfast
    # was the fastest preset measured here that did not bloat the files (see DESIGN.md).
    # One encoder thread: a render runs a worker per core, so x264's frame threads only
    # compete with the other workers, and they cost work of their own. On a video's frames
    # one thread took 5-17% less CPU than x264's own count and wrote 1-5% smaller files;
    # it is slower on an idle machine, but a clip encodes in a thread beside the drawing,
    # which takes longer per frame (benchmarks/encoder_threads.py).
    encoder_options: tuple = (("preset", "veryfast"), ("crf", "23"), ("threads", "1"))

    @property
    def label(self):
        return f"{self.name} ({self.width}x{self.height}, {self.fps:g} fps)"


QUALITIES = {
    "low": Quality("low", 854, 480, 15),
    "medium": Quality("medium", 1280, 720, 30),
    "high": Quality("high", 1920, 1080, 30),
    "4k": Quality("4k", 3840, 2160, 30),
}
MAX_FPS = 120


def quality_preset(name, fps=None):
    """The preset called `name`, with its frame rate replaced by `fps` if given."""
    if name not in QUALITIES:
        raise ValueError(f"unknown quality {name!r}: choose one of {', '.join(QUALITIES)}")
    quality = QUALITIES[name]
    if fps is not None:
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"--fps must be above 0 and at most {MAX_FPS}, not {fps:g}")
        quality = replace(quality, fps=fps)
    return quality
