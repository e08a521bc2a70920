"""Colours and fonts, one Theme per look ("dark", "light").

Scenes never name a colour or a font directly: they ask the theme, so a light version for
a projector in a bright room is a table here, not an edit of every scene.

Fonts are always passed explicitly (font=...): without it Pango picks a default that has
no Japanese glyphs and draws white boxes without a warning.
"""

from dataclasses import dataclass

TEXT_FONT = "Noto Sans CJK JP"  # words, token pieces, Japanese
NUMBER_FONT = "Noto Sans Mono CJK JP"  # numbers and IDs: digits line up in columns


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    text: str  # body text
    muted: str  # captions, labels, secondary numbers
    accent: str  # what the current beat is about (the chosen token, the lit row)
    accent_2: str  # a second highlight (the position embedding, the model box)
    panel: str  # fill of token chips and matrix blocks
    panel_edge: str  # outline of chips and blocks
    bar: str  # ordinary bars of a bar chart
    negative: str  # diverging colour scale: most negative value ...
    zero: str  # ... zero ...
    positive: str  # ... most positive value
    text_font: str = TEXT_FONT
    number_font: str = NUMBER_FONT


THEMES = {
    "dark": Theme(
        name="dark",
        background="#15171c",
        text="#ECEAE6",
        muted="#9AA3B2",
        accent="#F5B945",
        accent_2="#5CC8E8",
        panel="#242832",
        panel_edge="#4A5162",
        bar="#6F7E99",
        negative="#3E7FE0",
        zero="#2B2F38",
        positive="#E8603C",
    ),
    "light": Theme(
        name="light",
        background="#FAFAF7",
        text="#1E2128",
        muted="#5C6473",
        accent="#C7780A",
        accent_2="#1B7FA6",
        panel="#ECEEF2",
        panel_edge="#A9B0BE",
        bar="#8D9AB3",
        negative="#2F6BD0",
        zero="#F2F2EE",
        positive="#D2492A",
    ),
}


def get_theme(name):
    try:
        return THEMES[name]
    except KeyError:
        raise KeyError(f"unknown theme {name!r}; known: {', '.join(THEMES)}") from None
