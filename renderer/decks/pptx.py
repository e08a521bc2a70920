"""A Deck as a PowerPoint file, with python-pptx: 16:9, one embedded MP4 per beat slide.

Each beat's clip fills its slide and shows its poster (the beat's first frame) until it
plays. python-pptx embeds a movie to play on a click; its timing node's start condition,
`delay="indefinite"`, becomes `delay="0"` so the clip starts by itself as the slide opens
(python-pptx issue #427). The speaker notes hold the beat's caption text.
"""

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Pt

# 16:9 at PowerPoint's own widescreen size, 13.333 x 7.5 inches
SLIDE_WIDTH = Emu(12192000)
SLIDE_HEIGHT = Emu(6858000)
BLANK_LAYOUT = 6  # of python-pptx's default template: no placeholders
NS = {"p": "http://schemas.openxmlformats.org/presentationml/2006/main"}


def write_pptx(deck, path):
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    # The default template's size says "screen4x3"; PowerPoint writes its 16:9 with no type.
    presentation.part._element.sldSz.attrib.pop("type", None)
    layout = presentation.slide_layouts[BLANK_LAYOUT]
    add_title_slide(presentation.slides.add_slide(layout), deck)
    for beat in deck.slides:
        add_beat_slide(presentation.slides.add_slide(layout), deck, beat)
    presentation.save(path)
    return path


def fill_background(slide, colour):
    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#"))


def add_title_slide(slide, deck):
    fill_background(slide, deck.background)
    lines = ((deck.title, 36, deck.muted), (f"“{deck.prompt}”", 40, deck.text), (deck.facts, 22, deck.muted))
    margin = Emu(SLIDE_WIDTH // 12)
    box = slide.shapes.add_textbox(margin, Emu(SLIDE_HEIGHT // 4), SLIDE_WIDTH - 2 * margin, Emu(SLIDE_HEIGHT // 2))
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    for index, (text, size, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.CENTER
        paragraph.space_after = Pt(18)
        run = paragraph.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))


def add_beat_slide(slide, deck, beat):
    fill_background(slide, deck.background)
    width, height = fitted(deck.width, deck.height)
    movie = slide.shapes.add_movie(beat.clip, (SLIDE_WIDTH - width) // 2, (SLIDE_HEIGHT - height) // 2, width, height,
                                   poster_frame_image=beat.poster, mime_type="video/mp4")
    movie.name = beat.label
    play_on_entry(slide)
    slide.notes_slide.notes_text_frame.text = beat.notes


def fitted(width, height):
    """The largest picture of this aspect ratio that fits the slide (854x480 is not quite 16:9)."""
    scale = min(SLIDE_WIDTH / width, SLIDE_HEIGHT / height)
    return Emu(round(width * scale)), Emu(round(height * scale))


def play_on_entry(slide):
    """Start the slide's movie as the slide opens, not on a click."""
    conditions = slide._element.xpath("./p:timing//p:video/p:cMediaNode/p:cTn/p:stCondLst/p:cond")
    if len(conditions) != 1:
        raise RuntimeError(f"expected one movie start condition on the slide, found {len(conditions)}")
    conditions[0].set("delay", "0")
