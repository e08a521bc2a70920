"""Shapes built once and copied: the rounded boxes of chips, parts and frames.

Manim rounds a RoundedRectangle's corners by building an arc per corner (round_corners):
~5 ms a box on this machine, against ~0.05 ms for a copy. The corner map alone has 16 such
boxes, in every scene, and the same ones each time; token chips and frames repeat their
sizes too. So each distinct box (size, corner radius, style) is built once and copied,
the same points and colours as building it afresh.
"""

import functools

from manim import RoundedRectangle


def rounded_rectangle(width, height, corner_radius, **style):
    """A RoundedRectangle of this size and style (RoundedRectangle's own keyword arguments:
    fill_color, fill_opacity, stroke_color, stroke_width, color), centred on the origin:
    a copy of the one built the first time these were asked for."""
    return _rounded_prototype(float(width), float(height), float(corner_radius), tuple(sorted(style.items()))).copy()


@functools.lru_cache(maxsize=1024)
def _rounded_prototype(width, height, corner_radius, style):
    return RoundedRectangle(corner_radius=corner_radius, width=width, height=height, **dict(style))
