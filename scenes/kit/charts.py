"""Charts: horizontal probability bars with their real values, a frame round one row, and
a cloud of many dots drawn as one image."""

import numpy as np
from manim import DL, LEFT, RIGHT, UR, ImageMobject, ManimColor, Rectangle, RoundedRectangle, VGroup

from scenes.kit.numbers import fmt_percent, fmt_value, mono
from scenes.kit.text import centre_text_on, label_within, words


def probability_bars(theme, labels, probs, bar_length, highlight=None, size=22, row_height=0.42,
                     label_width=2.4, extra=None, extra_width=1.1, gap=0.25, notes=None, fmt=fmt_percent,
                     largest=None, meanings=None, extra_meanings=None):
    """Horizontal bars for probabilities, scaled to the largest shown (a random model's
    0.02% would be invisible on a 0-100% axis), each labelled with its real percentage.

    labels: display-safe strings, right-aligned left of x=0 (cut with "…" past label_width); extra: an optional column of
    values (e.g. logits, written with 2 decimals) between labels and bars; notes: optional words after a row's
    percentage (None for none); highlight: the row drawn in the accent colour. Returns a
    VGroup of rows, each with .label, .extra, .bar, .value and .note (or None), the first
    row's centre at y=0. fmt writes each value (default: a percentage); largest is the value
    a full-length bar stands for (default: the largest shown; 1.0 puts charts on one axis).
    meanings / extra_meanings: what each value / extra number stands for (see kit.numbers),
    given to the texts with the number they show.
    """
    largest = largest or max(probs) or 1.0
    bar_left = gap + (extra_width + gap if extra is not None else 0)
    rows = VGroup()
    for i, (label, p) in enumerate(zip(labels, probs)):
        lit = i == highlight
        name = label_within(theme, label, label_width, size, color=theme.accent if lit else theme.text)
        centre_text_on(name, [-name.width / 2, -i * row_height, 0])
        row = VGroup(name)
        row.label, row.extra = name, None
        if extra is not None:
            row.extra = mono(theme, fmt_value(extra[i]), size=size - 2, color=theme.accent if lit else theme.muted)
            if extra_meanings is not None:
                row.extra.value, row.extra.meaning = float(extra[i]), extra_meanings[i]
            row.extra.move_to([gap + extra_width, -i * row_height, 0], aligned_edge=RIGHT)
            row.add(row.extra)
        row.bar = Rectangle(width=max(bar_length * p / largest, 0.02), height=row_height * 0.6, stroke_width=0,
                            fill_color=theme.accent if lit else theme.bar, fill_opacity=1)
        row.bar.move_to([bar_left, -i * row_height, 0], aligned_edge=LEFT)
        row.value = mono(theme, fmt(p), size=size - 2, color=theme.accent if lit else theme.muted)
        if meanings is not None:
            row.value.value, row.value.meaning = float(p), meanings[i]
        row.value.next_to(row.bar, RIGHT, buff=0.15)
        row.add(row.bar, row.value)
        row.note = None
        if notes is not None and notes[i]:
            row.note = words(theme, notes[i], size=size - 4, color=theme.accent if lit else theme.muted, strut=True)
            centre_text_on(row.note, [row.value.get_right()[0] + 0.2 + row.note.width / 2, -i * row_height, 0])
            row.add(row.note)
        rows.add(row)
    return rows


def row_highlight(rows, index, theme):
    """A frame round one row of `probability_bars` that stays inside the gap to its neighbours
    (a fixed buff would cut into the next row once a short chart is scaled up)."""
    row = rows[index]
    pitch = abs(rows[1].bar.get_y() - rows[0].bar.get_y()) if len(rows) > 1 else row.height * 1.6
    height = min(row.height + 0.2, pitch * 0.96)
    return RoundedRectangle(width=row.width + 0.24, height=height, corner_radius=min(0.08, height / 4),
                            color=theme.accent).move_to([row.get_x(), row.bar.get_y(), 0])


def dot_cloud(points, region, colour, pixels_per_unit=120, radius=3.5):
    """Many dots (scene points, (N, 3)) as one transparent image over `region`'s box: a
    graph's 3,072 points as mobjects would be redrawn one by one every frame."""
    pad = 0.1
    (left, bottom), (right, top) = region.get_corner(DL)[:2] - pad, region.get_corner(UR)[:2] + pad
    width, height = int((right - left) * pixels_per_unit) + 1, int((top - bottom) * pixels_per_unit) + 1
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    columns = np.round((points[:, 0] - left) * pixels_per_unit).astype(int)
    rows = np.round((top - points[:, 1]) * pixels_per_unit).astype(int)
    colour = np.append(np.array(ManimColor(colour).to_rgb()) * 255, 255).round().astype(np.uint8)
    reach = int(np.ceil(radius))
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if dx * dx + dy * dy <= radius * radius:
                rgba[np.clip(rows + dy, 0, height - 1), np.clip(columns + dx, 0, width - 1)] = colour
    image = ImageMobject(rgba)
    image.stretch_to_fit_width(width / pixels_per_unit)
    image.stretch_to_fit_height(height / pixels_per_unit)
    return image.move_to([(left + right) / 2, (bottom + top) / 2, 0])
