"""Clip formats: what `video --format/--transparent` asks of Manim, and what each format's files are.

Plain Python, no Manim (the command line reads it at start-up). Measured with manim 0.22.0
(see DESIGN.md): Manim writes MP4 (H.264), WebM (VP9, with alpha when the background is
left out), MOV and GIF. Its sections (the beats) come out in the format of its segments,
which for GIF is MP4 (MOV when transparent): a GIF beat is made from that (see beats.py).
"""

from dataclasses import dataclass

from tracer.errors import UserError

FORMATS = ("mp4", "webm", "mov", "gif")


@dataclass(frozen=True)
class ClipFormat:
    name: str = "mp4"  # one of FORMATS
    transparent: bool = False  # the background left out (an alpha channel)

    def __post_init__(self):
        if self.name not in FORMATS:
            raise UserError(f"unknown --format {self.name!r}: choose one of {', '.join(FORMATS)}")
        if self.transparent and self.name == "mp4":
            raise UserError("MP4 (H.264) has no alpha channel: use --transparent with --format webm "
                            "(browsers, reveal.js), mov (Keynote) or gif (PowerPoint)")

    @property
    def extension(self):
        return "." + self.name

    @property
    def segment_extension(self):
        """What Manim writes a section (a beat) as: its segments' container."""
        if self.name == "gif":
            return ".mov" if self.transparent else ".mp4"
        return self.extension

    @property
    def prores(self):
        """A transparent MOV is ProRes 4444, the alpha codec Keynote and Final Cut document
        (Manim's default, QuickTime Animation, is one that newer macOS apps refuse)."""
        return self.name == "mov" and self.transparent

    @property
    def codec_tag(self):
        """The tag a file of this format must carry, where Manim's own join gets it wrong: its
        ProRes 4444 segments are tagged ap4h, but the clip it joins from them apch (422 HQ)."""
        return "ap4h" if self.prores else None

    def manim_settings(self, encoder_options):
        """The Manim config keys for this format; `encoder_options` are the quality's x264 options."""
        settings = {"format": self.name}
        if self.transparent:
            settings["background_opacity"] = 0.0  # what --transparent sets ("transparent" is no config key)
        if self.prores:
            settings.update(video_codec="prores_ks", pixel_format="yuva444p10le",
                            video_encoder_options={"profile": "4444"})
        elif self.segment_extension == ".mp4":
            settings["video_encoder_options"] = dict(encoder_options)
        else:  # VP9 or QuickTime Animation: Manim's own defaults (the quality's are x264's)
            settings["video_encoder_options"] = {}
        return settings


MP4 = ClipFormat()
