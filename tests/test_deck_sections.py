"""A narrated deck as its clients see it: its sections (one per part of the map) in the PPTX's
presentation.xml and in reveal.js, run in headless Chromium; its sound in the PPTX's movies and
in the HTML deck's videos after the viewer's first key press.

One narrated deck is rendered for the module, to PPTX and then (from the clip cache) to HTML:
title, tokens, causal-mask, softmax on nano-sort at low quality. Three sections: the title (off
the map), tokens, then attention (the mask and softmax scenes both light it). The sections are
pinned against the catalog's `lights`, read from each slide's own beat label.

Chromium runs with its default autoplay policy (no --autoplay-policy switch): a video with
sound may not start before a user gesture. Playwright's page.evaluate counts as one, so the
deck is only read, never played, through it before the key press.
"""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from renderer.video import video_info
from scenes.catalog import get
from scenes.strings import say
from test_clients import browser  # noqa: F401  (the module's Chromium, a fixture)

ROOT = Path(__file__).resolve().parent.parent
SCENES = ["title", "tokens", "causal-mask", "softmax"]
NS = {"p": "http://schemas.openxmlformats.org/presentationml/2006/main"}
P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"
# every test here reads the one narrated deck: under pytest-xdist they share a worker, so it is
# rendered once (as tests/conftest.py's ONE_WORKER_MODULES do)
pytestmark = pytest.mark.xdist_group("test_deck_sections")


@pytest.fixture(scope="module")
def narrated_decks(nano_sort_trace_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("narrated-decks")
    for kind in ("pptx", "html"):
        result = subprocess.run([sys.executable, str(ROOT / "render.py"), "slides", "--trace", str(nano_sort_trace_file),
                                 "--scenes", ",".join(SCENES), "--quality", "low", "--narrate", "--to", kind,
                                 "--out", str(folder / f"deck.{kind}")],
                                capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert result.returncode == 0, result.stderr
    return folder


def expected_sections(scenes_of_slides):
    """[(key, [slide indices])] as the catalog says: a new section wherever the first lit part
    (or, off the map, the scene) changes; slide 0, the title slide, opens the first."""
    sections = []
    for index, scene in enumerate(scenes_of_slides, start=1):
        info = get(scene)
        key = info.lights[0] if info.lights else info.name
        if not sections or sections[-1][0] != key:
            sections.append((key, []))
        sections[-1][1].append(index)
    sections[0][1].insert(0, 0)
    return sections


# -- PPTX ---------------------------------------------------------------------------------------

def read_pptx(path):
    """The slide ids in order, the beat label of each beat slide (by slide index), the
    sections [(name, [slide ids])] and the media parts {name: bytes}."""
    from lxml import etree

    with zipfile.ZipFile(path) as package:
        presentation = etree.fromstring(package.read("ppt/presentation.xml"))
        relationships = etree.fromstring(package.read("ppt/_rels/presentation.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in relationships}
        slide_ids, labels = [], {}
        r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
        for index, slide in enumerate(presentation.iterfind("p:sldIdLst/p:sldId", NS)):
            slide_ids.append(int(slide.get("id")))
            xml = etree.fromstring(package.read("ppt/" + targets[slide.get(r_id)]))
            picture = xml.find(".//p:pic/p:nvPicPr/p:cNvPr", NS)
            if picture is not None:
                labels[index] = picture.get("name")
        media = {name: package.read(name) for name in package.namelist() if name.startswith("ppt/media/")}
    section_list = presentation.find(f"p:extLst/p:ext/{{{P14}}}sectionLst", NS)
    sections = [(section.get("name"), [int(s.get("id")) for s in section.iterfind(f"{{{P14}}}sldIdLst/{{{P14}}}sldId")])
                for section in section_list]
    return slide_ids, labels, sections, media


def test_pptx_sections_follow_the_maps_lit_parts(narrated_decks):
    slide_ids, labels, sections, _ = read_pptx(narrated_decks / "deck.pptx")
    assert sorted(labels) == list(range(1, len(slide_ids)))  # every slide after the title plays a beat
    scenes_of_slides = [labels[index].split(" ")[0] for index in range(1, len(slide_ids))]
    assert list(dict.fromkeys(scenes_of_slides)) == SCENES  # storyboard order
    wanted = expected_sections(scenes_of_slides)
    assert [key for key, _ in wanted] == ["title", "tokens", "attn"]  # mask and softmax share attention's
    names = {"title": "title.heading", "tokens": "tokens.heading", "attn": "map.attention"}
    assert sections == [(say("en", names[key]), [slide_ids[i] for i in indices]) for key, indices in wanted]
    assert [name for name, _ in sections] == ["How a transformer reads a prompt", "Tokens", "Attention"]
    every = [slide_id for _, ids in sections for slide_id in ids]
    assert every == slide_ids  # each slide in one section, in the deck's order
    assert len(set(re.findall(r'id="(\{[0-9A-F-]{36}\})"', zipfile.ZipFile(narrated_decks / "deck.pptx")
                              .read("ppt/presentation.xml").decode()))) == len(sections)  # a GUID each


def test_pptx_movies_have_their_sound(narrated_decks, tmp_path):
    _, labels, _, media = read_pptx(narrated_decks / "deck.pptx")
    movies = {name: blob for name, blob in media.items() if name.endswith(".mp4")}
    assert len(movies) == len(labels)
    for name, blob in movies.items():
        clip = tmp_path / Path(name).name
        clip.write_bytes(blob)
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,sample_rate,duration",
                                "-of", "json", str(clip)], capture_output=True, text=True, check=True)
        streams = json.loads(probe.stdout)["streams"]
        audio = [stream for stream in streams if stream["codec_type"] == "audio"]
        assert [(s["codec_name"], s["sample_rate"]) for s in audio] == [("aac", "48000")], (name, streams)
        assert abs(float(audio[0]["duration"]) - video_info(clip).duration) < 0.1, name  # sound as long as the beat


# -- HTML in Chromium -------------------------------------------------------------------------------

READY = "() => window.Reveal && Reveal.isReady()"
STRUCTURE = """() => ({
    total: Reveal.getTotalSlides(),
    columns: Reveal.getHorizontalSlides().map(column => ({
        id: column.querySelector('section').id, name: column.dataset.section,
        labels: [...column.querySelectorAll('section')].map(slide => slide.dataset.label || 'title'),
    })),
    indices: Reveal.getIndices(),
    navigation: Reveal.getConfig().navigationMode,
})"""
CURRENT_VIDEO = """() => {
    const video = Reveal.getCurrentSlide().querySelector('video');
    return video && {muted: video.muted, volume: video.volume, paused: video.paused, time: video.currentTime,
                     label: Reveal.getCurrentSlide().dataset.label};
}"""


@pytest.fixture
def deck_page(browser, narrated_decks):  # noqa: F811  (the fixture imported above)
    page = browser.new_page()
    page.goto((narrated_decks / "deck.html").as_uri())
    page.wait_for_function(READY)
    yield page
    page.close()


def test_html_sections_are_reveal_columns_that_the_arrows_step_through(deck_page):
    deck = deck_page.evaluate(STRUCTURE)
    assert deck["navigation"] == "linear"
    columns = deck["columns"]
    assert [(c["id"], c["name"]) for c in columns] == [("title", "How a transformer reads a prompt"),
                                                       ("tokens", "Tokens"), ("attn", "Attention")]
    labels = [label for column in columns for label in column["labels"]]
    assert deck["total"] == len(labels) and labels[0] == "title"
    scenes_of_slides = [label.split(" ")[0] for label in labels[1:]]
    wanted = expected_sections(scenes_of_slides)
    assert [len(column["labels"]) for column in columns] == [len(indices) for _, indices in wanted]
    # the right arrow steps through every slide in order: down a column, then on to the next one
    seen = [deck["indices"]]
    for _ in labels[1:]:
        deck_page.keyboard.press("ArrowRight")
        seen.append(deck_page.evaluate("() => Reveal.getIndices()"))
    assert [(i["h"], i["v"]) for i in seen] == [(h, v) for h, column in enumerate(columns)
                                                for v in range(len(column["labels"]))]
    # a section is an address: deck.html#/attn opens attention's first beat (from its last here)
    deck_page.evaluate("() => { location.hash = '#/tokens'; }")
    deck_page.wait_for_function("() => Reveal.getIndices().h === 1 && Reveal.getIndices().v === 0")
    deck_page.evaluate("() => { location.hash = '#/attn'; }")
    deck_page.wait_for_function("() => Reveal.getIndices().h === 2 && Reveal.getIndices().v === 0")


def test_html_beats_play_with_sound_after_the_first_key_press(deck_page):
    assert deck_page.evaluate("() => Reveal.getCurrentSlide().classList.contains('title')")
    deck_page.keyboard.press("ArrowRight")  # the viewer's first gesture
    deck_page.wait_for_function("() => { const v = Reveal.getCurrentSlide().querySelector('video');"
                                " return v && !v.paused && v.currentTime > 0; }")
    first = deck_page.evaluate(CURRENT_VIDEO)
    deck_page.wait_for_timeout(1000)
    later = deck_page.evaluate(CURRENT_VIDEO)
    assert first["label"] == later["label"] == "title 1/3: prompt"
    assert not later["muted"] and later["volume"] > 0 and not later["paused"], later
    assert later["time"] > first["time"] + 0.5, (first, later)  # it plays (at its own pace)
    # the next beat too: nothing muted it on the way
    deck_page.keyboard.press("ArrowRight")
    deck_page.wait_for_function("() => { const v = Reveal.getCurrentSlide().querySelector('video');"
                                " return v && !v.paused && v.currentTime > 0.3; }")
    second = deck_page.evaluate(CURRENT_VIDEO)
    assert second["label"] == "title 2/3: model" and not second["muted"] and second["volume"] > 0


def test_html_beat_opened_before_any_gesture_is_kept_silent_by_the_browser(browser, narrated_decks):  # noqa: F811
    """The control: Chromium's policy is on. A beat opened straight from its address, before any
    gesture, may not play its sound: reveal.js mutes it to play it (data-muted-by-reveal)."""
    page = browser.new_page()
    try:
        page.goto((narrated_decks / "deck.html").as_uri() + "#/1/0")
        page.wait_for_function("() => { const v = document.querySelector('#tokens video');"
                               " return v && !v.paused; }")
        video = page.evaluate("() => { const v = document.querySelector('#tokens video');"
                              " return {muted: v.muted, by: v.getAttribute('data-muted-by-reveal')}; }")
        assert video == {"muted": True, "by": "true"}
    finally:
        page.close()
