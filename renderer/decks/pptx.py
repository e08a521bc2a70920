"""A Deck as a PowerPoint file, with python-pptx: 16:9, one embedded MP4 per beat slide.

Each beat's clip fills its slide and shows its poster (the beat's last frame: what a
printout or a PDF of the deck shows) until it plays, from the beat's start. python-pptx
embeds a movie to play on a click; its timing node's start condition, `delay="indefinite"`,
becomes `delay="0"` so the clip starts by itself as the slide opens (python-pptx issue
#427). The speaker notes hold the beat's caption text.

The file's properties are the deck's own (python-pptx's template brings its author, its 2013
dates and a blank 4:3 thumbnail): the prompt as the title, this program as the author, now
as the dates; the thumbnail (what a file browser shows) is the title scene's picture, the
first beat's poster, which shows the prompt as the title slide does; a deck with no beats has
none (an optional part: apps draw their own).

The deck's sections (decks.DeckSection: one per part of the map) are PowerPoint's own: a
`p14:sectionLst` in presentation.xml's extension list, naming each section and the ids of its
slides. python-pptx has no API for them, so the XML is written here. PowerPoint shows them in
its slide sorter and outline; an app that does not know them (LibreOffice Impress 7.4) ignores
the extension and shows the slides as before.

XML cannot hold some characters a prompt or a token may have (C0 controls, U+FFFE, U+FFFF):
they are written as their code point, "U+FFFF", as the video draws them (a PPTX refusing a
prompt that the video, the HTML deck and the trace take would surprise).
"""

import datetime
import io
import re
import uuid

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE
from pptx.util import Emu, Pt

# 16:9 at PowerPoint's own widescreen size, 13.333 x 7.5 inches
SLIDE_WIDTH = Emu(12192000)
SLIDE_HEIGHT = Emu(6858000)
BLANK_LAYOUT = 6  # of python-pptx's default template: no placeholders
NS = {"p": "http://schemas.openxmlformats.org/presentationml/2006/main"}
P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"
SECTIONS_EXTENSION = "{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"  # the uri PowerPoint gives its sections' <p:ext>
PROGRAM = "gpt2-explainer"
PROPERTY_LIMIT = 255  # characters in a core property (python-pptx refuses more)
THUMBNAIL_WIDTH = 256  # pixels, as PowerPoint writes its own
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # outside XML 1.0's Char


def xml_safe(text):
    """`text` with each character XML cannot hold written as its code point, "U+FFFF"."""
    return NOT_XML.sub(lambda match: f"U+{ord(match.group()):04X}", text)


def write_pptx(deck, path):
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    # The default template's size says "screen4x3"; PowerPoint writes its 16:9 with no type.
    presentation.part._element.sldSz.attrib.pop("type", None)
    layout = presentation.slide_layouts[BLANK_LAYOUT]
    add_title_slide(presentation.slides.add_slide(layout), deck)
    for beat in deck.slides:
        add_beat_slide(presentation.slides.add_slide(layout), deck, beat)
    add_sections(presentation, deck.sections)
    set_properties(presentation, deck)
    presentation.save(path)
    return path


def add_sections(presentation, sections):
    """PowerPoint's sections: each DeckSection with the ids of its slides (the title slide
    opens the first). Its id is a GUID, as PowerPoint writes it, made from its place and key
    so that the same deck is the same file."""
    if not sections:
        return
    from lxml import etree

    slide_ids = [slide.slide_id for slide in presentation.slides]  # the title slide, then one per beat
    root = presentation.part._element
    extensions = root.find("p:extLst", NS)
    if extensions is None:  # its place is last but for p:modifyVerifier, which the template lacks
        extensions = etree.SubElement(root, f"{{{NS['p']}}}extLst")
    extension = etree.SubElement(extensions, f"{{{NS['p']}}}ext", uri=SECTIONS_EXTENSION)
    section_list = etree.SubElement(extension, f"{{{P14}}}sectionLst", nsmap={"p14": P14})
    for number, section in enumerate(sections):
        guid = uuid.uuid5(uuid.NAMESPACE_URL, f"{PROGRAM}/section/{number}/{section.key}")
        element = etree.SubElement(section_list, f"{{{P14}}}section", name=xml_safe(section.name),
                                   id="{" + str(guid).upper() + "}")
        ids = etree.SubElement(element, f"{{{P14}}}sldIdLst")
        first = 0 if number == 0 else 1 + section.start  # slide 0 is the title slide
        for slide_id in slide_ids[first:1 + section.start + section.count]:
            etree.SubElement(ids, f"{{{P14}}}sldId", id=str(slide_id))


def set_properties(presentation, deck):
    """The file's own properties, in place of the template's."""
    from scenes.kit.text import shorten

    properties = presentation.core_properties
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)  # written as UTC
    properties.title = shorten(xml_safe(deck.prompt), PROPERTY_LIMIT)
    properties.subject = xml_safe(deck.facts)
    properties.author = properties.last_modified_by = PROGRAM
    properties.comments = f"made by {PROGRAM} from the model's own numbers"
    properties.created = properties.modified = now
    properties.revision = 1
    set_thumbnail(presentation, deck.slides[0].poster if deck.slides else None)


def set_thumbnail(presentation, picture):
    """The template's blank thumbnail part holds `picture` (a PNG) as a JPEG, or is dropped."""
    package = presentation.part.package
    for key, relationship in list(package._rels.items()):
        if relationship.reltype == RELATIONSHIP_TYPE.THUMBNAIL:
            if picture is None:
                package.drop_rel(key)
            else:
                relationship.target_part._blob = thumbnail_jpeg(picture)


def thumbnail_jpeg(picture):
    from PIL import Image

    with Image.open(picture) as image:
        height = round(image.height * THUMBNAIL_WIDTH / image.width)
        small = image.convert("RGB").resize((THUMBNAIL_WIDTH, height), Image.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


def fill_background(slide, colour):
    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#"))


def add_title_slide(slide, deck):
    fill_background(slide, deck.background)
    # the prompt as the title scene shows it: at most 3 lines of 44 columns, each fits at 32 pt
    prompt = "\v".join(xml_safe(line) for line in deck.prompt_lines)  # \v: a line break in a paragraph
    lines = ((xml_safe(deck.title), 36, deck.muted), (f"“{prompt}”", 32, deck.text), (xml_safe(deck.facts), 22, deck.muted))
    margin = Emu(SLIDE_WIDTH // 12)
    box = slide.shapes.add_textbox(margin, Emu(SLIDE_HEIGHT // 4), SLIDE_WIDTH - 2 * margin, Emu(SLIDE_HEIGHT // 2))
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    for index, (text, size, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.CENTER
        paragraph.space_after = Pt(18)
        paragraph.text = text
        run = paragraph.runs[0]
        run.font.size = Pt(size)
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))


def add_beat_slide(slide, deck, beat):
    fill_background(slide, deck.background)
    width, height = fitted(deck.width, deck.height)
    movie = slide.shapes.add_movie(beat.clip, (SLIDE_WIDTH - width) // 2, (SLIDE_HEIGHT - height) // 2, width, height,
                                   poster_frame_image=beat.poster, mime_type="video/mp4")
    movie.name = xml_safe(beat.label)
    play_on_entry(slide)
    slide.notes_slide.notes_text_frame.text = xml_safe(beat.notes)


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
