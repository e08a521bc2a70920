"""Slide decks: a title slide, then one slide per beat, each playing its beat's clip.

A Deck is plain data (the words of the title slide, the beats with their clips, posters and
speaker notes, the theme's colours, the picture size); pptx.py and html.py write it as a
PowerPoint file (python-pptx) or a reveal.js page. The words come from the scenes' string
tables, in the video's language; the prompt and the model are shown as the title scene
shows them (scenes.title.TitleScene.shown_prompt, scenes.base.shown_model_name): a long
prompt cut after three lines, a local model named by its folder, never its whole path.

The deck is divided into sections by the map (scenes/kit/diagram.py): a new section starts
at the first slide of a scene whose part of the map differs from the previous scene's, and
is named after that part in the deck's language. A scene's part is the first it lights
(scenes/catalog.py `lights`: all-heads lights attention and the + where it adds back, and
stays in the attention section); a scene off the map (title, map) is a section of its own,
named by its heading. The title slide opens the first section.
"""

from dataclasses import dataclass

from scenes.strings import say
from scenes.theme import get_theme

DECK_KINDS = ("pptx", "html")

# A section's name, by its part of the map: the string key of the name the map itself draws
# for the part, or, where the map draws a formula (W_E + W_P, LayerNorm, x · W_U), the
# heading of the scene that explains it. A scene off the map is named by its heading.
# tests/test_decks.py checks that every catalog scene's part is here.
SECTION_NAMES = {
    "title": "title.heading", "map": "map.heading",  # the scenes off the map
    "tokens": "tokens.heading", "embed": "embeddings.heading", "ln1": "layernorm.heading",
    "attn": "map.attention", "ln2": "layernorm.heading", "mlp": "mlp.heading", "block": "layers.heading",
    "ln_final": "prediction.heading", "unembed": "prediction.heading", "softmax": "softmax.heading",
    "sampling": "sampling.heading", "loop": "loop.heading",
}


@dataclass(frozen=True)
class BeatSlide:
    clip: str  # the beat's MP4
    poster: str  # its picture, PNG: the beat's last frame (what a printout of the deck shows)
    notes: str  # the speaker notes: the beat's caption text, then where it comes from
    label: str  # "tokens 2/3: pieces"


@dataclass(frozen=True)
class DeckSection:
    key: str  # the part of the map ("attn"), or the name of a scene off the map ("title")
    name: str  # in the deck's language: "Attention"
    start: int  # the index in Deck.slides of its first beat slide (the first section also holds the title slide)
    count: int  # how many beat slides it holds


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
    sections: tuple = ()  # DeckSection, in order, covering every beat slide; () for a deck off the map (compare)


def section_key(scene):
    """The part of the map the scene `scene` (a catalog name) explains, or its own name when it
    is off the map; None for a scene the catalog lacks (the compare scenes)."""
    from scenes import catalog

    try:
        info = catalog.get(scene)
    except KeyError:
        return None
    return info.lights[0] if info.lights else info.name


def deck_sections(scenes, language):
    """The sections of a deck whose beat slides come from the scenes `scenes` (one name per
    slide, in order): a new one wherever the part of the map changes. () if any scene is off
    the catalog."""
    keys = [section_key(scene) for scene in scenes]
    if not keys or None in keys:
        return ()
    starts = [index for index, key in enumerate(keys) if index == 0 or key != keys[index - 1]]
    ends = starts[1:] + [len(keys)]
    return tuple(DeckSection(key=keys[start], name=say(language, SECTION_NAMES[keys[start]]), start=start,
                             count=end - start) for start, end in zip(starts, ends))


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
                width=quality.width, height=quality.height, language=language,
                sections=deck_sections([beat.scene for beat in beats], language))
