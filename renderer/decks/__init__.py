"""Slide decks: a title slide, then one slide per beat, each playing its beat's clip.

A Deck is plain data (the words of the title slide, the beats with their clips, posters and
speaker notes, the theme's colours, the picture size); pptx.py and html.py write it as a
PowerPoint file (python-pptx) or a reveal.js page. The words come from the scenes' string
tables, in the video's language; the prompt and the model are shown as the title scene
shows them (scenes.title.TitleScene.shown_prompt, scenes.base.shown_model_name): a long
prompt cut after three lines, a local model named by its folder, never its whole path.
"""

from dataclasses import dataclass

from scenes.strings import say
from scenes.theme import get_theme

DECK_KINDS = ("pptx", "html")


@dataclass(frozen=True)
class BeatSlide:
    clip: str  # the beat's MP4
    poster: str  # its picture, PNG: the beat's last frame (what a printout of the deck shows)
    notes: str  # the speaker notes: the beat's caption text, then where it comes from
    label: str  # "tokens 2/3: pieces"


@dataclass(frozen=True)
class Deck:
    title: str  # the heading of the title slide
    prompt: str  # the whole prompt: the file's title
    prompt_lines: tuple  # the prompt as the title slide shows it
    facts: str  # the model and its size, one line
    slides: tuple  # BeatSlide, in storyboard order
    background: str  # "#rrggbb"
    text: str
    muted: str
    width: int  # the clips' picture size, pixels
    height: int
    language: str
    narrated: bool = False  # the beat clips carry speech (render.py slides --narrate)


def build_deck(recorded, beats, posters, language, theme, quality):
    """The Deck of these Beats (beats.Beat, in order) of the Trace `recorded`, each with its poster."""
    from scenes.base import shown_model_name  # Manim: imported only when a deck is made
    from scenes.title import TitleScene

    colours = get_theme(theme)
    config = recorded.config
    facts = " · ".join([shown_model_name(recorded.model),
                        say(language, "title.parameters", n_params=config["n_params"]),
                        say(language, "title.layers", n_layer=config["n_layer"]),
                        say(language, "title.heads", n_head=config["n_head"])])
    counts = {}
    for beat in beats:
        counts[beat.scene] = counts.get(beat.scene, 0) + 1
    slides = []
    for beat, poster in zip(beats, posters):
        label = f"{beat.scene} {beat.number}/{counts[beat.scene]}: {beat.name}"
        notes = "\n".join(part for part in (beat.notes, f"({label})") if part)
        slides.append(BeatSlide(clip=beat.file, poster=poster, notes=notes, label=label))
    return Deck(title=say(language, "title.heading"), prompt=recorded.prompt,
                prompt_lines=tuple(TitleScene.shown_prompt(recorded.prompt)), facts=facts, slides=tuple(slides),
                background=colours.background, text=colours.text, muted=colours.muted,
                width=quality.width, height=quality.height, language=language)
