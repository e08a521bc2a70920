"""The cheap constructions of scenes/kit are exact: a copied rounded box is the box Manim
would build, and a sliding Fade moves its parts to the very points move_to would."""

import numpy as np
from manim import UP, RoundedRectangle, Text, VGroup

from scenes.kit.motion import Fade, _Box
from scenes.kit.shapes import rounded_rectangle


def same_points(a, b):
    return all(np.array_equal(x.points, y.points) for x, y in zip(a.get_family(), b.get_family(), strict=True))


def test_rounded_rectangle_is_the_box_manim_builds():
    style = dict(fill_color="#242832", fill_opacity=1, stroke_color="#F5B945", stroke_width=1.5)
    fresh = RoundedRectangle(corner_radius=0.04, width=0.34, height=0.198, **style)
    first, second = (rounded_rectangle(0.34, 0.198, 0.04, **style) for _ in range(2))
    assert isinstance(first, RoundedRectangle)
    assert same_points(first, fresh) and same_points(second, fresh)
    assert np.array_equal(first.fill_rgbas, fresh.fill_rgbas) and np.array_equal(first.stroke_rgbas, fresh.stroke_rgbas)
    assert first.stroke_width == fresh.stroke_width


def test_rounded_rectangle_copies_are_independent():
    first = rounded_rectangle(1.0, 0.5, 0.1, stroke_width=2)
    first.shift(3 * UP).set_fill("#FF0000", opacity=1)
    again = rounded_rectangle(1.0, 0.5, 0.1, stroke_width=2)
    assert same_points(again, RoundedRectangle(corner_radius=0.1, width=1.0, height=0.5, stroke_width=2))
    assert again.get_fill_opacity() == 0


def test_a_box_moves_its_part_as_move_to_would():
    text = VGroup(Text("glyphs ÿ, moved"), RoundedRectangle(width=1.3, height=0.4)).arrange()
    reference = text.copy()
    box = _Box(text)
    assert np.array_equal(box.start, reference.get_center())
    for k in range(25):
        point = box.start + (k / 24) * np.pi * 0.1 * UP + [1e-9 * k, 0, 0]
        box.move_to(point)
        reference.move_to(point)
        assert same_points(text, reference)


def test_a_sliding_fade_moves_each_glyph_as_move_to_would():
    text = Text("a caption that slides in").shift(0.7 * UP)
    reference = text.copy()
    starts = [glyph.get_center() for glyph in reference]
    fade = Fade(text, shift=0.15 * UP)
    fade.begin()  # which draws alpha 0 itself
    for k, alpha in enumerate((0.0, 0.0, 0.3, 0.8, 1.0)):
        if k:
            fade.interpolate(alpha)
        offset = (1 - fade.rate_func(alpha)) * 0.15 * UP
        for glyph, start in zip(reference, starts):
            glyph.move_to(start - offset)  # Fade's slide before the boxes: move_to, every frame
        assert same_points(text, reference)
        assert np.isclose(text[0].get_y(), starts[0][1] - offset[1])  # it did slide
    assert np.allclose(text.get_center(), reference.get_center()) and np.allclose(text[0].get_center(), starts[0])
