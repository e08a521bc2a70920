"""Render scenes cheaply in tests and look at what is on screen at the end of every section.

Shared by test_scenes.py and test_legibility.py (a plain module: conftest.py belongs to the
tracer's tests). Rendering is the cheapest Manim offers: a tiny frame, animations skipped,
only the last frame drawn.
"""

import numpy as np
from manim import DecimalNumber, ImageMobject, Text, config, tempconfig


def render(scene_class, directory, size=(427, 240), on_section_end=None):
    """Render `scene_class` (a bound TraceScene) into `directory`, last frame only.

    The frame is small but not tiny: Pango lays text out on a canvas as wide as the
    frame in pixels, so below ~400 px wide it wraps lines that real renders keep whole.

    on_section_end(scene, section_name) runs when every section ends (before the next
    one starts, and at the end of the scene), with the scene's mobjects as the viewer
    sees them at that moment. Returns the scene.
    """

    class Probe(scene_class):
        section = None

        def next_section(self, name="unnamed", *args, **kwargs):
            if on_section_end is not None and self.section is not None:
                on_section_end(self, self.section)
            self.section = name
            super().next_section(name, *args, **kwargs)

        def tear_down(self):
            if on_section_end is not None:
                on_section_end(self, self.section)
            super().tear_down()

    Probe.__name__ = scene_class.__name__
    width, height = size
    with tempconfig({"media_dir": str(directory), "pixel_width": width, "pixel_height": height, "frame_rate": 5,
                     "save_last_frame": True, "disable_caching": True, "verbosity": "ERROR",
                     "progress_bar": "none"}):
        scene = Probe()
        scene.render()
    return scene


# -- what is on screen ------------------------------------------------------------------------

def visible_texts(scene):
    """Every Text (and number) drawn on screen, once each, skipping fully transparent ones."""
    found, seen = [], set()
    for top in scene.mobjects:
        for mob in top.get_family():
            if isinstance(mob, (Text, DecimalNumber)) and id(mob) not in seen and drawn_glyphs(mob):
                seen.add(id(mob))
                found.append(mob)
    return found


def drawn_glyphs(text):
    """The glyphs of a text that are not transparent (struts and faded-out ones are not)."""
    return [glyph for glyph in text.family_members_with_points()
            if glyph.get_fill_opacity() > 0.01 or glyph.get_stroke_opacity() > 0.01 and glyph.get_stroke_width() > 0]


def box(text):
    """(left, bottom, right, top) of a text's visible glyphs."""
    points = np.concatenate([glyph.points for glyph in drawn_glyphs(text)])
    return points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()


def label(text):
    return getattr(text, "original_text", None) or type(text).__name__


def outside_frame(texts, tolerance=1e-3):
    """Texts that reach past the frame's edges."""
    half_w, half_h = config.frame_width / 2 + tolerance, config.frame_height / 2 + tolerance
    bad = []
    for text in texts:
        left, bottom, right, top = box(text)
        if left < -half_w or right > half_w or bottom < -half_h or top > half_h:
            bad.append(f"{label(text)!r} at x {left:.2f}..{right:.2f}, y {bottom:.2f}..{top:.2f}")
    return bad


def overlapping(texts, tolerance=0.01):
    """Pairs of texts whose visible glyph boxes overlap by more than `tolerance` both ways."""
    boxes = [(text, box(text)) for text in texts]
    bad = []
    for i, (a, (al, ab, ar, at)) in enumerate(boxes):
        for b, (bl, bb, br, bt) in boxes[i + 1:]:
            if min(ar, br) - max(al, bl) > tolerance and min(at, bt) - max(ab, bb) > tolerance:
                bad.append(f"{label(a)!r} overlaps {label(b)!r}")
    return bad


def images(scene):
    return [mob for top in scene.mobjects for mob in top.get_family() if isinstance(mob, ImageMobject)]
