"""The slides command: a PPTX and an HTML deck of two scenes' beats, checked in their files.

Both decks are rendered once for the module (title and tokens on nano-sort, low quality):
a title slide and one slide per beat (3 + 3), each playing its beat's clip by itself, its
last frame as the poster, the beat's caption text as the speaker notes.
"""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_checks import assert_one_line_error, make_scene_fail, run_cli
from renderer.video import video_info
from scenes.strings import say

ROOT = Path(__file__).resolve().parent.parent
SCENES = "title,tokens"
BEATS = ["title 1/3: prompt", "title 2/3: model", "title 3/3: promise",
         "tokens 1/3: text", "tokens 2/3: pieces", "tokens 3/3: ids"]  # the scenes' self.beat(...) calls, in order
NS = {"p": "http://schemas.openxmlformats.org/presentationml/2006/main",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


def render_deck(trace_file, out, kind):
    result = subprocess.run([sys.executable, str(ROOT / "render.py"), "slides", "--trace", str(trace_file),
                             "--scenes", SCENES, "--quality", "low", "--to", kind, "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def decks(nano_sort_trace_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    results = {kind: render_deck(nano_sort_trace_file, folder / f"deck.{kind}", kind) for kind in ("pptx", "html")}
    return folder, results


def test_the_command_says_what_it_wrote(decks):
    folder, results = decks
    for kind, result in results.items():
        assert f"Wrote {folder / ('deck.' + kind)}: a title slide and 6 beat slides from 2 scenes" in result.stdout
        assert "Traceback" not in result.stderr
    assert "Rendering 2 scenes beat by beat at low (854x480, 15 fps)" in results["pptx"].stderr
    # the second deck of the same scenes takes them, with their beats, from the clip cache
    assert results["html"].stderr.splitlines() == ["All 2 scenes from the cache"]
    assert sorted(os.listdir(folder)) == ["deck.html", "deck.pptx"]  # nothing else left beside them


# -- PPTX -----------------------------------------------------------------------------------

def slide_number(name):
    return int(re.search(r"(\d+)\.xml$", name).group(1))


def read_pptx(path):
    """{slide number: (slide XML, its relationships XML, its notes XML or None)} and the presentation XML."""
    from lxml import etree

    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        names = package.namelist()
        slides = {}
        for name in names:
            if re.fullmatch(r"ppt/slides/slide\d+\.xml", name):
                rels = etree.fromstring(package.read(name.replace("slides/", "slides/_rels/") + ".rels"))
                slides[slide_number(name)] = (etree.fromstring(package.read(name)), rels)
        presentation = etree.fromstring(package.read("ppt/presentation.xml"))
        parts = {name: package.read(name) for name in names if name.startswith(("ppt/media/", "ppt/notesSlides/"))}
    return presentation, slides, parts


def targets(rels, kind):
    return [rel.get("Target") for rel in rels if rel.get("Type").endswith("/" + kind)]


def test_pptx_is_16_9_with_a_title_and_one_video_slide_per_beat(decks, tmp_path):
    from lxml import etree

    presentation, slides, parts = read_pptx(decks[0] / "deck.pptx")
    size = presentation.find("p:sldSz", NS)
    assert (int(size.get("cx")), int(size.get("cy"))) == (12192000, 6858000) and size.get("type") is None  # 16:9
    assert sorted(slides) == list(range(1, 8))  # the title and 6 beats

    title_xml, title_rels = slides[1]
    title_text = "".join(title_xml.itertext())
    assert say("en", "title.heading") in title_text and "CBABBC" in title_text and "nano-sort" in title_text
    assert targets(title_rels, "video") == []

    labels, videos = [], set()
    for number in range(2, 8):
        slide, rels = slides[number]
        video, = targets(rels, "video")  # exactly one video part per beat slide
        videos.add(video)
        poster, = targets(rels, "image")
        clip = tmp_path / f"{number}.mp4"
        clip.write_bytes(parts["ppt/" + video.removeprefix("../")])
        info = video_info(clip)
        assert (info.width, info.height, info.codec) == (854, 480, "h264") and info.frames > 0
        # the poster is the beat's picture, its last frame, read from its clip: never an empty slide
        (tmp_path / f"{number}.png").write_bytes(parts["ppt/" + poster.removeprefix("../")])
        assert_same_picture(tmp_path / f"{number}.png", last_frame(clip))
        assert_drawn(tmp_path / f"{number}.png")
        # it plays by itself: its start condition is the slide's start, not a click
        delays = [cond.get("delay") for cond in slide.iterfind(".//p:timing//p:video//p:cond", NS)]
        assert delays == ["0"]
        labels.append(slide.find(".//p:pic/p:nvPicPr/p:cNvPr", NS).get("name"))
    assert labels == BEATS  # storyboard order
    assert len(videos) == 6
    # PowerPoint's sections: the title slide and title's beats, then tokens' (tests/test_deck_sections.py has more)
    slide_ids = [int(slide.get("id")) for slide in presentation.iterfind("p:sldIdLst/p:sldId", NS)]
    p14 = "{http://schemas.microsoft.com/office/powerpoint/2010/main}"
    sections = [(section.get("name"), [int(s.get("id")) for s in section.iter(p14 + "sldId")])
                for section in presentation.iter(p14 + "section")]
    assert sections == [(say("en", "title.heading"), slide_ids[:4]), (say("en", "tokens.heading"), slide_ids[4:])]

    notes = {slide_number(name): "".join(etree.fromstring(xml).itertext())
             for name, xml in parts.items() if re.fullmatch(r"ppt/notesSlides/notesSlide\d+\.xml", name)}
    assert len(notes) == 6  # notes slides are numbered in the order they were made: beat 1 is notes 1
    assert say("en", "title.promise") in notes[3]
    assert say("en", "tokens.text") in notes[4] and say("en", "tokens.ids") in notes[6]
    assert say("en", "tokens.text") not in notes[5]  # each beat its own caption
    assert "(tokens 2/3: pieces)" in notes[5]


def last_frame(clip):
    import av

    with av.open(str(clip)) as container:
        *_, last = container.decode(video=0)
        return last.to_ndarray(format="rgb24")


def assert_drawn(png):
    """Not an empty frame: more than the background's colour (a title beat starts from one)."""
    with Image.open(png) as image:
        assert len(image.convert("RGB").getcolors(1 << 24)) > 10, f"{png} is an empty picture"


def assert_same_picture(png, frame):
    with Image.open(png) as image:
        picture = np.asarray(image.convert("RGB"), dtype=np.int16)
    assert picture.shape == frame.shape
    assert np.abs(picture - frame).max() <= 2


def test_pptx_opens_in_libreoffice_impress(decks, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (no soffice on PATH): `make test` installs it as root; "
                    "else sudo apt-get install -y libreoffice-impress-nogui")
    result = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(decks[0] / "deck.pptx")],
                            capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "deck.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes())
    assert len(pages) == 7, result.stdout


# -- HTML ----------------------------------------------------------------------------------

class DeckParser(HTMLParser):
    """The parts of a reveal.js page that matter here: every URL, the slides, their videos and
    notes, and the vertical stacks (the deck's sections) that hold them."""

    def __init__(self):
        super().__init__()
        self.urls = []  # (tag, attribute, value) of every src, href and poster
        self.sections = []  # [attributes, [video attributes], notes text], one per slide, in order
        self.stacks = []  # [attributes, [indices in self.sections]], one per section of the deck
        self.open = []  # the <section>s open: "stack" or "slide"
        self.in_notes = False
        self.scripts = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [(tag, name, value) for name, value in attrs if name in ("src", "href", "poster")]
        if tag == "section" and "part" in attributes.get("class", "").split():
            assert not self.open, "a section of the deck is a top-level column"
            self.open.append("stack")
            self.stacks.append([attributes, []])
        elif tag == "section":
            assert self.open in ([], ["stack"]), "a slide holds no slide: the arrows step through them"
            self.open.append("slide")
            if self.open == ["stack", "slide"]:
                self.stacks[-1][1].append(len(self.sections))
            self.sections.append([attributes, [], ""])
        elif tag == "video" and self.open:
            self.sections[-1][1].append(attributes)
        elif tag == "aside" and "notes" in attributes.get("class", "").split():
            self.in_notes = True
        elif tag == "script":
            self.in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "section":
            self.open.pop()
        elif tag == "aside":
            self.in_notes = False
        elif tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_notes:
            self.sections[-1][2] += data
        if self.in_script:
            self.scripts[-1] += data


@pytest.fixture(scope="module")
def html_deck(decks):
    parser = DeckParser()
    parser.feed((decks[0] / "deck.html").read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_html_deck_needs_no_network(html_deck):
    assert html_deck.urls  # the videos and posters are there ...
    for tag, attribute, value in html_deck.urls:
        assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), (tag, attribute, value[:80])
        assert value.startswith("data:"), (tag, attribute, value[:80])  # ... inlined, as is everything
    assert not any(tag in ("link", "script") for tag, _, _ in html_deck.urls)  # reveal.js's files are inlined too
    initialise = html_deck.scripts[-1]
    assert "Reveal.initialize(" in initialise and "RevealNotes" in initialise
    assert '"keyboard": false' not in initialise  # reveal.js's own keys: the arrows step through the slides
    assert any("Reveal" in script and len(script) > 50_000 for script in html_deck.scripts)  # reveal.js itself


def test_html_deck_has_a_title_and_one_autoplaying_video_per_beat(html_deck, tmp_path):
    import base64

    sections = html_deck.sections
    assert len(sections) == 7
    # one column per part of the map: the title slide and title's beats (off the map), then tokens'
    assert [(stack[0]["data-section"], stack[1]) for stack in html_deck.stacks] == \
           [(say("en", "title.heading"), [0, 1, 2, 3]), (say("en", "tokens.heading"), [4, 5, 6])]
    assert sections[0][0]["id"] == "title" and sections[4][0]["id"] == "tokens"  # deck.html#/tokens
    title, beats = sections[0], sections[1:]
    assert title[1] == [] and "title" in title[0]["class"]
    assert [attributes["data-label"] for attributes, _, _ in beats] == BEATS
    for number, (attributes, videos, notes) in enumerate(beats):
        video, = videos
        assert "data-autoplay" in video and "muted" in video
        assert video["poster"].startswith("data:image/png;base64,")
        assert video["src"].startswith("data:video/mp4;base64,")
        clip = tmp_path / f"{number}.mp4"
        clip.write_bytes(base64.b64decode(video["src"].split(",", 1)[1]))
        assert video_info(clip).frames > 0
        poster = tmp_path / f"{number}.png"
        poster.write_bytes(base64.b64decode(video["poster"].split(",", 1)[1]))
        assert_same_picture(poster, last_frame(clip))
        assert_drawn(poster)
        assert f"({BEATS[number]})" in notes
    assert say("en", "title.promise") in beats[2][2]
    assert say("en", "tokens.text") in beats[3][2] and say("en", "tokens.ids") in beats[5][2]


# -- what can go wrong -----------------------------------------------------------------------

def test_a_deck_interrupted_while_written_leaves_nothing(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    from renderer.decks import pptx

    def interrupted(deck, path):
        Path(path).write_bytes(b"PK half a deck")
        raise KeyboardInterrupt

    monkeypatch.setattr(pptx, "write_pptx", interrupted)
    out = tmp_path / "deck.pptx"
    status, _, stderr = run_cli(capsys, "slides", "--trace", str(nano_sort_trace_file), "--scenes", "title",
                                "--quality", "low", "--to", "pptx", "--out", str(out), "--jobs", "1")
    assert status == 130 and stderr.splitlines()[-1] == "interrupted"
    assert os.listdir(tmp_path) == []  # no deck, no work folder


def test_a_failed_scene_exits_with_status_1_and_no_deck(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    make_scene_fail(monkeypatch, "render_in_parallel", "tokens")
    status, _, stderr = run_cli(capsys, "slides", "--trace", str(nano_sort_trace_file), "--to", "html",
                                "--out", str(tmp_path / "deck.html"))
    assert status == 1
    assert stderr.splitlines()[-1] == "error: the scene 'tokens' failed: RuntimeError: broken"
    assert os.listdir(tmp_path) == []


def test_html_without_reveal_js_is_one_line_naming_the_fix(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    from renderer.decks import html

    monkeypatch.setattr(html, "REVEAL_DIST", str(tmp_path / "nowhere" / "dist"))
    status, _, stderr = run_cli(capsys, "slides", "--trace", str(nano_sort_trace_file), "--to", "html",
                                "--out", str(tmp_path / "deck.html"))
    assert status == 2
    assert_one_line_error(stderr, "reveal.js is not installed")
    assert "bash setup.sh" in stderr and f"reveal.js@{html.REVEAL_VERSION}" in stderr
    assert os.listdir(tmp_path) == []


def test_setup_installs_the_reveal_js_the_code_expects():
    from renderer.decks import html

    setup = (ROOT / "setup.sh").read_text()
    assert f"REVEAL_VERSION={html.REVEAL_VERSION}\n" in setup
    assert "/.deps/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("options, words", [
    ([], "give --to pptx"),
    (["--to", "pdf"], "'pdf' is not one of 'pptx', 'html'"),
    (["--to", "pptx", "--out", "deck.html"], "--out must name a .pptx file"),
    (["--to", "html", "--scenes", "nope"], "unknown scene 'nope'"),
])
def test_bad_slides_input_is_refused(capsys, nano_sort_trace_file, tmp_path, monkeypatch, options, words):
    monkeypatch.chdir(tmp_path)
    status, _, stderr = run_cli(capsys, "slides", "--trace", str(nano_sort_trace_file), *options)
    assert status == 2
    assert_one_line_error(stderr, words)
    assert os.listdir(tmp_path) == []
