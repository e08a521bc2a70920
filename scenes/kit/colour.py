"""Colour: the diverging scale, its legend, and arrays drawn as images.

Anything with many cells (a 768-wide vector, a T x d matrix, a pattern) is drawn as one
ImageMobject, never as thousands of squares: every mobject is redrawn every frame.
"""

import numpy as np
from manim import DOWN, RESAMPLING_ALGORITHMS, ImageMobject, ManimColor, Rectangle

from scenes.kit.text import words


def _rgb(hex_colour):
    return np.array(ManimColor(hex_colour).to_rgb()) * 255


def diverging_rgb(theme, values, limit):
    """Map values to colours: negative blue, zero the theme's neutral, positive orange,
    saturating at +/- limit; NaN (a row left out of a window) is the background.
    Returns uint8 RGB with the values' shape plus (3,)."""
    values = np.asarray(values, dtype=np.float64)
    t = np.clip(np.nan_to_num(values) / (limit or 1.0), -1, 1)[..., None]
    zero, positive, negative = _rgb(theme.zero), _rgb(theme.positive), _rgb(theme.negative)
    colours = np.where(t >= 0, zero + t * (positive - zero), zero + (-t) * (negative - zero))
    colours = np.where(np.isnan(values)[..., None], _rgb(theme.background), colours)
    return colours.round().astype(np.uint8)


def colour_limit(*arrays, percentile=99):
    """A shared colour scale for arrays drawn side by side: the 99th percentile of their
    magnitudes, so a few outlier dimensions do not wash every other value out to grey."""
    magnitudes = np.abs(np.concatenate([np.ravel(a) for a in arrays]))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    limit = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    return limit if limit > 0 else 1.0


def blend(theme, rgb, strength):
    """Colours mixed with the background (strength 1: as they are), so text on them stays readable."""
    background = _rgb(theme.background)
    return (background + strength * (np.asarray(rgb, dtype=np.float64) - background)).round().astype(np.uint8)


def pixel_image(rgb, width, height):
    """An (h, w, 3) uint8 array as an opaque image of width x height, pixels kept sharp."""
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    image = ImageMobject(rgba)
    image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
    image.stretch_to_fit_width(width)
    image.stretch_to_fit_height(height)
    return image


def heatmap(theme, matrix, limit, width, height):
    """A 2-D array as one image (one pixel per cell, scaled without smoothing)."""
    return pixel_image(diverging_rgb(theme, np.atleast_2d(matrix), limit), width, height)


def tiles_image(theme, rgb, width, height, gap=0.08, pixels=24):
    """An (R, C, 3) array of cell colours as one image of separate tiles (a gap of the
    background colour between cells), stretched to width x height."""
    rows, cols = rgb.shape[:2]
    big = np.repeat(np.repeat(rgb, pixels, axis=0), pixels, axis=1)
    edge = max(1, int(round(gap * pixels / 2)))
    inside = np.zeros(pixels, dtype=bool)
    inside[edge: pixels - edge] = True
    keep = np.tile(inside, rows)[:, None] & np.tile(inside, cols)[None, :]
    big = np.where(keep[..., None], big, _rgb(theme.background)).astype(np.uint8)
    return pixel_image(big, width, height)


def colour_strip(theme, vector, limit, width, height=0.32):
    """A vector as a one-row heatmap with a thin outline: the whole vector at a glance."""
    image = heatmap(theme, np.asarray(vector)[None, :], limit, width, height)
    outline = Rectangle(width=width, height=height, stroke_color=theme.panel_edge, stroke_width=1)
    outline.move_to(image)
    return image, outline


def scale_legend(theme, limit, label, width=2.4, height=0.16, size=18):
    """The colour scale from -limit to +limit with its label underneath."""
    ramp = heatmap(theme, np.linspace(-limit, limit, 64)[None, :], limit, width, height)
    caption = words(theme, label, size=size, color=theme.muted).next_to(ramp, DOWN, buff=0.1)
    return ramp, caption
