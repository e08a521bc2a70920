"""A deck's title slide and file properties, written from a Deck with no beats (nothing
rendered): a long prompt is cut as the title scene cuts it, a local model is named by its
folder, characters XML cannot hold are written as code points, and the PPTX's properties
are the deck's own, not python-pptx's template's."""

import dataclasses
import datetime
from html.parser import HTMLParser

import pytest

from renderer.decks import build_deck
from renderer.presets import quality_preset
from scenes.title import TitleScene

LONG_PROMPT = "The cat sat on the mat \x01 and \uffff then " * 50  # about 1,900 characters
LOCAL_MODEL = "/home/someone/models/checkpoints/my-small-gpt2"


@pytest.fixture
def deck(nano_sort_trace):
    recorded = dataclasses.replace(nano_sort_trace, prompt=LONG_PROMPT, model=LOCAL_MODEL)
    return build_deck(recorded, [], [], "en", "dark", quality_preset("low"))


def test_the_title_slide_shows_the_prompt_as_the_title_scene_does(deck):
    assert deck.prompt_lines == tuple(TitleScene.shown_prompt(LONG_PROMPT))
    assert len(deck.prompt_lines) == TitleScene.prompt_lines and deck.prompt_lines[-1].endswith("…")
    assert "U+0001" in deck.prompt_lines[0] and "U+FFFF" in deck.prompt_lines[0]  # drawn as the video draws them
    assert deck.facts.startswith("my-small-gpt2 · ") and "/home" not in deck.facts


def test_pptx_title_slide_is_cut_and_its_properties_are_the_decks(deck, tmp_path):
    from pptx import Presentation

    from renderer.decks.pptx import PROGRAM, write_pptx

    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    write_pptx(deck, tmp_path / "deck.pptx")  # raised "All strings must be XML compatible"
    presentation = Presentation(tmp_path / "deck.pptx")
    title_text = "\n".join(shape.text_frame.text for shape in presentation.slides[0].shapes)
    assert len(title_text) < 400 and "my-small-gpt2" in title_text and "/home" not in title_text
    properties = presentation.core_properties
    shown = LONG_PROMPT.replace("\x01", "U+0001").replace("\uffff", "U+FFFF")
    assert len(properties.title) == 255 and properties.title == shown[:254].rstrip() + "…"
    assert properties.author == properties.last_modified_by == PROGRAM
    assert "python-pptx" not in properties.comments
    assert before <= properties.created == properties.modified <= before + datetime.timedelta(minutes=5)
    parts = {str(part.partname) for part in presentation.part.package.iter_parts()}
    assert "/docProps/thumbnail.jpeg" not in parts  # the template's blank 4:3 thumbnail; no beat to show


def test_pptx_thumbnail_is_the_first_beats_picture(deck, tmp_path):
    """A file browser shows the title scene's picture (the first beat's poster), not the
    template's blank 4:3 page."""
    import io

    from PIL import Image
    from pptx import Presentation

    from renderer.decks import BeatSlide
    from renderer.decks.pptx import write_pptx

    poster = tmp_path / "poster.png"
    Image.new("RGB", (854, 480), (200, 40, 90)).save(poster)
    clip = tmp_path / "beat.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")  # embedded as it is: no player opens it here
    beat = BeatSlide(clip=str(clip), poster=str(poster), notes="a caption", label="title 1/1: prompt")
    write_pptx(dataclasses.replace(deck, slides=(beat,)), tmp_path / "deck.pptx")
    package = Presentation(tmp_path / "deck.pptx").part.package
    thumbnail = next(part for part in package.iter_parts() if str(part.partname) == "/docProps/thumbnail.jpeg")
    with Image.open(io.BytesIO(thumbnail.blob)) as image:
        assert image.format == "JPEG" and image.size == (256, 144)
        red, green, blue = image.getpixel((128, 72))
    assert abs(red - 200) < 8 and abs(green - 40) < 8 and abs(blue - 90) < 8


def test_html_title_slide_is_cut(deck, tmp_path):
    from renderer.decks.html import write_html

    class TitleText(HTMLParser):
        text, depth = "", 0

        def handle_starttag(self, tag, attrs):
            self.depth += tag == "section"

        def handle_endtag(self, tag):
            self.depth -= tag == "section"

        def handle_data(self, data):
            if self.depth:
                self.text += data

    write_html(deck, tmp_path / "deck.html")
    parser = TitleText()
    parser.feed((tmp_path / "deck.html").read_text(encoding="utf-8"))
    assert "".join(deck.prompt_lines) in parser.text and len(parser.text) < 400
    assert "my-small-gpt2" in parser.text and "/home" not in parser.text


def test_the_readme_deck_figures_are_the_decks_real_counts(scene_report):
    """The README's whole nano-sort deck (CBABBC, 6 steps: the nano_sort_trace fixture): a title
    slide and one slide per beat of every scene. Counted from the scenes, not remembered."""
    import re
    from pathlib import Path

    from scenes.catalog import CATALOG

    beats = sum(len(scene_report(info, "nano_sort_trace").sections) for info in CATALOG)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    said = [int(n) for n in re.findall(r"the title slide and\s+(\d+)\s+beat slides", readme)]
    slides = [int(n) for n in re.findall(r"deck at medium quality:\s+(\d+)\s+slides", readme)]
    assert said == [beats] and slides == [beats + 1], f"the deck has {beats} beats, {beats + 1} slides"


# -- sections: one per part of the map ---------------------------------------------------------

# (scene, its beats) of a deck that goes title -> map -> tokens -> attention (two scenes) -> MLP
SECTIONED = [("title", 2), ("map", 1), ("tokens", 1), ("qkv", 2), ("all-heads", 1), ("mlp", 2)]


def fake_beats(tmp_path, scenes):
    """Beats of these scenes, each with a poster and a clip file (not played here)."""
    from PIL import Image

    from renderer.beats import Beat

    poster = tmp_path / "poster.png"
    Image.new("RGB", (854, 480), (20, 30, 40)).save(poster)
    clip = tmp_path / "beat.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    beats = [Beat(scene=scene, number=number, name=f"b{number}", file=str(clip), start=0.0, duration=1.0,
                  captions=(f"{scene} {number}",))
             for scene, count in scenes for number in range(1, count + 1)]
    return beats, [str(poster)] * len(beats)


def test_every_catalog_scene_has_a_section_name():
    from renderer.decks import SECTION_NAMES, section_key
    from scenes.catalog import CATALOG
    from scenes.strings import STRINGS

    for info in CATALOG:
        key = section_key(info.name)
        assert key in SECTION_NAMES, (f"the deck has no section name for scene {info.name!r} (its part {key!r}): "
                                      "add it to SECTION_NAMES in renderer/decks/__init__.py")
        for language in ("en", "ja"):
            assert SECTION_NAMES[key] in STRINGS[language], (info.name, language)


def test_sections_start_where_the_map_lights_the_next_part_named_in_the_decks_language(nano_sort_trace, tmp_path):
    from renderer.decks import section_key
    from scenes.catalog import get
    from scenes.strings import say

    beats, posters = fake_beats(tmp_path, SECTIONED)
    deck = build_deck(nano_sort_trace, beats, posters, "ja", "dark", quality_preset("low"))
    assert [(s.key, s.start, s.count) for s in deck.sections] == \
           [("title", 0, 2), ("map", 2, 1), ("tokens", 3, 1), ("attn", 4, 3), ("mlp", 7, 2)]
    assert [s.name for s in deck.sections] == [say("ja", key) for key in ("title.heading", "map.heading",
                                                                           "tokens.heading", "map.attention", "mlp.heading")]
    assert deck.sections[3].name == "アテンション"
    # the keys are the catalog's: all-heads lights attention and its +, and stays in attention's section
    assert get("all-heads").lights[0] == get("qkv").lights[0] == section_key("all-heads") == "attn"
    # a deck of scenes off the catalog (the comparison's) has no sections
    compare, compare_posters = fake_beats(tmp_path, [("compare-tokens", 2)])
    assert build_deck(nano_sort_trace, compare, compare_posters, "en", "dark", quality_preset("low")).sections == ()


def pptx_sections(path):
    """[(section name, [slide ids])] of a PPTX's p14:sectionLst, and its slides' ids in order."""
    import zipfile

    from lxml import etree

    from renderer.decks.pptx import NS, P14, SECTIONS_EXTENSION

    with zipfile.ZipFile(path) as package:
        root = etree.fromstring(package.read("ppt/presentation.xml"))
    slide_ids = [int(slide.get("id")) for slide in root.iterfind("p:sldIdLst/p:sldId", NS)]
    extensions = root.findall("p:extLst/p:ext", NS)
    lists = [ext.find(f"{{{P14}}}sectionLst") for ext in extensions if ext.get("uri") == SECTIONS_EXTENSION]
    if not lists:
        return [], slide_ids
    assert root[-1].tag == f"{{{NS['p']}}}extLst"  # the schema's place for it: last
    section_list, = lists
    return [(section.get("name"), [int(slide.get("id")) for slide in section.iterfind(f"{{{P14}}}sldIdLst/{{{P14}}}sldId")])
            for section in section_list], slide_ids


def test_pptx_sections_hold_the_slides_of_each_part(nano_sort_trace, tmp_path):
    from pptx import Presentation

    from renderer.decks.pptx import write_pptx

    beats, posters = fake_beats(tmp_path, SECTIONED)
    deck = build_deck(nano_sort_trace, beats, posters, "ja", "dark", quality_preset("low"))
    write_pptx(deck, tmp_path / "deck.pptx")
    sections, slide_ids = pptx_sections(tmp_path / "deck.pptx")
    assert len(slide_ids) == 1 + 9
    # the title slide opens the first section; each other holds its beats' slides, in order
    assert sections == [("Transformerはプロンプトをどう読むか", slide_ids[0:3]), ("モデルの全体像", slide_ids[3:4]),
                        ("トークン", slide_ids[4:5]), ("アテンション", slide_ids[5:8]), ("MLP", slide_ids[8:10])]
    assert len(Presentation(tmp_path / "deck.pptx").slides) == 10  # python-pptx still reads it
    # and a deck without sections writes none
    write_pptx(dataclasses.replace(deck, sections=()), tmp_path / "plain.pptx")
    assert pptx_sections(tmp_path / "plain.pptx")[0] == []
