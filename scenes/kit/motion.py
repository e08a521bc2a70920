"""Cheap motion: moving and fading mobjects without Manim's deep copies.

Manim's `.animate`, FadeIn and FadeOut deep-copy their mobject first; for a Text that is
every glyph, and a row of moving chips or a chart of Texts then costs more to copy than
to draw. These animations remember only what they need (a start point, opacities).
"""

import numpy as np
from manim import Animation, Group, ImageMobject, Mobject


class Glide(Animation):
    """Move a mobject to `target` without copying it: Manim's `.animate` deep-copies every
    glyph of a Text first, which made a row of moving chips cost seconds per step."""

    def __init__(self, mobject, target, **kwargs):
        self.target = np.array(target, dtype=float)
        super().__init__(mobject, **kwargs)

    def begin(self):
        self.start = self.mobject.get_center().copy()
        super().begin()

    def create_starting_mobject(self):
        return Mobject()  # nothing to remember but the start point

    def interpolate_mobject(self, alpha):
        t = self.rate_func(alpha)
        self.mobject.move_to(self.start + t * (self.target - self.start))


class Fade(Animation):
    """Fade a group in (appear=True) or out, optionally sliding by `shift`, without the
    deep copies FadeIn/FadeOut make (one copy of a chart of Texts costs ~80 ms on this
    machine, more than drawing it). With lag_ratio, the group's parts fade one after another."""

    def __init__(self, mobject, appear=True, shift=None, lag_ratio=0.0, **kwargs):
        self.appear = appear
        self.shift_vector = np.zeros(3) if shift is None else np.array(shift, dtype=float)
        # without a slide nothing moves: no move_to (it measures each part's box) every frame
        self.slides = bool(self.shift_vector.any())
        super().__init__(mobject, introducer=appear, remover=not appear, lag_ratio=lag_ratio, **kwargs)

    def create_starting_mobject(self):
        return Mobject()

    def begin(self):
        parts = self.mobject.submobjects or [self.mobject]
        self.parts = [(part, _Box(part) if self.slides else None, _opacities(part)) for part in parts]
        super().begin()

    def interpolate_mobject(self, alpha):
        n = len(self.parts)
        full = (n - 1) * self.lag_ratio + 1
        for i, (part, box, opacities) in enumerate(self.parts):
            t = self.rate_func(float(np.clip(alpha * full - i * self.lag_ratio, 0, 1)))
            visible = t if self.appear else 1 - t
            _set_opacities(opacities, visible)
            if self.slides:
                offset = (1 - visible) * self.shift_vector * (-1 if self.appear else 1)
                box.move_to(box.start + offset)

    def clean_up_from_scene(self, scene):
        super().clean_up_from_scene(scene)
        if not self.appear:  # leave it as it was, off screen, in case it comes back
            for part, box, opacities in self.parts:
                _set_opacities(opacities, 1.0)
                if self.slides:
                    box.move_to(box.start)


class _Box:
    """A part's bounding box, measured once, that moves the part as Mobject.move_to would.

    move_to measures the box (every anchor of every glyph) each time: for a sliding caption
    that was a few thousand points a frame per glyph. A shift adds one vector to every
    point, and rounding keeps their order, so the box's corners shifted by the same vector
    are exactly the box move_to would measure: the same shifts, to the last bit. (So nothing
    else may move a sliding part while it fades: no Glide of the same mobject in that play.)"""

    def __init__(self, part):
        self.part = part
        self.low = part.get_critical_point(-np.ones(3))  # (3,) the least x, y, z
        self.high = part.get_critical_point(np.ones(3))  # (3,) the greatest
        self.start = self.centre()  # where it was when the fade began

    def centre(self):
        return (self.low + self.high) / 2  # get_center's own sum: (min + max) / 2 per axis

    def move_to(self, point):
        vector = point - self.centre()
        self.part.shift(vector)
        self.low, self.high = self.low + vector, self.high + vector


def _opacities(mob):
    """(member, kind, original alpha values) for every drawn member of mob's family."""
    found = []
    for member in mob.get_family():
        if isinstance(member, ImageMobject):
            found.append((member, "pixels", member.pixel_array[:, :, 3].copy()))
            continue
        for kind in ("fill_rgbas", "stroke_rgbas", "background_stroke_rgbas"):
            rgbas = getattr(member, kind, None)
            if rgbas is not None and len(rgbas):
                found.append((member, kind, rgbas[:, 3].copy()))
    return found


def _set_opacities(opacities, factor):
    for member, kind, original in opacities:
        if kind == "pixels":
            member.pixel_array[:, :, 3] = (original * factor).astype(member.pixel_array.dtype)
        else:
            getattr(member, kind)[:, 3] = original * factor


class CheapShowing:
    """Scene methods that bring many mobjects on and off cheaply (TraceScene has them).

    Manim redraws every frame everything from the first animated mobject onwards, counting
    a group with one animated member as animated; so what is shown is left in the scene
    as separate top-level mobjects, and a later animation of one cell does not make Manim
    redraw the whole table every frame.
    """

    def show(self, mobjects, run_time=1.0, lag_ratio=0.0, shift=None):
        """Fade `mobjects` in, then leave each one in the scene on its own (not grouped), so a
        later animation of one cell does not make Manim redraw the whole table every frame."""
        mobjects = list(mobjects)
        if not mobjects:
            return
        group = Group(*mobjects)
        self.play(Fade(group, lag_ratio=lag_ratio, shift=shift), run_time=run_time)
        self.remove(group)
        self.add(*mobjects)

    def hide(self, mobjects, run_time=0.6):
        mobjects = list(mobjects)
        if mobjects:
            self.remove(*mobjects)
            self.play(Fade(Group(*mobjects), appear=False), run_time=run_time)

    def swap(self, old, new, run_time=0.8, lag_ratio=0.0):
        """Fade `old` out while `new` fades in (numbers changing in place); with lag_ratio,
        one after another in the order given (a wave through a grid)."""
        old, new = list(old), list(new)
        self.remove(*old)
        going, coming = Group(*old), Group(*new)
        self.play(Fade(going, appear=False, lag_ratio=lag_ratio), Fade(coming, lag_ratio=lag_ratio),
                  run_time=run_time)
        self.remove(coming)
        self.add(*new)
