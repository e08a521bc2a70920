"""A Deck as one self-contained reveal.js page: no network needed to show it.

Everything is inlined: reveal.js's style sheets and scripts (read from the npm package
that set-up installs into .deps/, see REVEAL_VERSION), and every clip and poster as a
data: URI, so the one file can be mailed, copied to a USB stick, or opened from a lecture
hall without Wi-Fi. (Base64 makes the clips a third larger.) Each beat's <video> has
reveal.js's data-autoplay (it plays as its slide opens, and stops when you leave it), its
poster until then, and the beat's caption text as the slide's speaker notes
(<aside class="notes">, shown by reveal.js's notes plugin: press S).

The deck's sections (decks.DeckSection, one per part of the map) are reveal.js's vertical
stacks: one column per section, its beats under one another. What a lecturer navigating gets:
the arrow keys, a clicker and the space bar still step through every beat in order
(navigationMode "linear": right goes down a column, then on to the next); the overview (Esc)
shows one column per part of the map, to jump to; each column's first slide has the part's
id, so deck.html#/attn opens the attention section at its start; and that first slide is its
scene's first beat, which carries the small map with the part lit. A separate title slide per
section would add a press of the clicker at every change of part, during the lecture, for what
the corner map already says.

A narrated deck's videos are not muted: browsers block a video's sound until the viewer's
first gesture, and the deck's first slide (the title) has no video, so the key press that
leaves it is that gesture and every beat then plays with its sound. (A beat opened before any
gesture, from its address or a reload, reveal.js plays muted, with its own unmute button.)
"""

import base64
import html
import json
import os

from tracer.errors import UserError

REVEAL_VERSION = "6.0.2"  # pinned in setup.sh: npm install --prefix .deps reveal.js@6.0.2
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REVEAL_DIST = os.path.join(PROJECT_ROOT, ".deps", "node_modules", "reveal.js", "dist")
THEME_CSS = {"dark": "theme/black.css", "light": "theme/white.css"}
CANVAS = (1280, 720)  # 16:9
REVEAL_FILES = ("reset.css", "reveal.css", *THEME_CSS.values(), "reveal.js", "plugin/notes.js")


def reveal_dist(directory=None):
    """The folder of reveal.js's built files, at REVEAL_VERSION; one line naming the fix otherwise."""
    directory = directory or REVEAL_DIST
    fix = f"run `bash setup.sh` (or `npm install --prefix .deps reveal.js@{REVEAL_VERSION}` in {PROJECT_ROOT})"
    missing = [name for name in REVEAL_FILES if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        raise UserError(f"reveal.js is not installed ({os.path.join(directory, missing[0])} is missing): {fix}")
    try:
        with open(os.path.join(os.path.dirname(directory), "package.json"), encoding="utf-8") as file:
            version = json.load(file).get("version")
    except (OSError, ValueError, AttributeError):
        version = None
    if version != REVEAL_VERSION:
        raise UserError(f"reveal.js {version or 'of unknown version'} is installed, not {REVEAL_VERSION}: {fix}")
    return directory


def read_text(directory, name):
    with open(os.path.join(directory, name), encoding="utf-8") as file:
        # a script's text may not hold "</script" (nor a style sheet's "</style"): escape the slash
        return file.read().replace("</script", "<\\/script").replace("</style", "<\\/style")


def data_uri(path, mime):
    with open(path, "rb") as file:
        return f"data:{mime};base64,{base64.b64encode(file.read()).decode('ascii')}"


def write_html(deck, path, theme="dark", directory=None):
    directory = reveal_dist(directory)
    styles = "\n".join(f"<style>\n{read_text(directory, name)}\n</style>"
                       for name in ("reset.css", "reveal.css", THEME_CSS[theme]))
    scripts = "\n".join(f"<script>\n{read_text(directory, name)}\n</script>" for name in ("reveal.js", "plugin/notes.js"))
    slides = deck_slides(deck)
    # One canvas size whatever the clips' (reveal.js scales it to the window): the title's
    # words keep their proportions at every --quality; the videos fill it.
    # No arrows drawn on the slide: they would cover the end of the caption line (the keys,
    # a clicker and swiping step through the slides; the progress bar stays).
    settings = {"width": CANVAS[0], "height": CANVAS[1], "margin": 0, "hash": True, "controls": False,
                "progress": True, "center": True, "transition": "none", "backgroundTransition": "none",
                "navigationMode": "linear"}
    page = f"""<!DOCTYPE html>
<html lang="{deck.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(deck.prompt)}</title>
{styles}
<style>
.reveal .slides section.beat {{ padding: 0; width: 100%; height: 100%; }}
.reveal .slides section.beat video {{ width: 100%; height: 100%; max-width: none; max-height: none;
  margin: 0; object-fit: contain; display: block; }}
.reveal .slides section.title h1 {{ color: {deck.muted}; font-size: 1.4em; text-transform: none; }}
.reveal .slides section.title p {{ color: {deck.text}; }}
.reveal .slides section.title .facts {{ color: {deck.muted}; font-size: 0.7em; }}
</style>
</head>
<body>
<div class="reveal">
<div class="slides">
{os.linesep.join(slides)}
</div>
</div>
{scripts}
<script>
Reveal.initialize(Object.assign({json.dumps(settings)}, {{ plugins: [RevealNotes] }}));
</script>
</body>
</html>
"""
    with open(path, "w", encoding="utf-8") as file:
        file.write(page)
    return path


def deck_slides(deck):
    """The title and beat slides, as one vertical stack per section of the deck (the title
    slide atop the first), or all at the top level when the deck has no sections."""
    if not deck.sections:
        return [title_section(deck)] + [beat_section(deck, beat) for beat in deck.slides]
    stacks, ids = [], set()
    for number, section in enumerate(deck.sections):
        # the column's first slide has the part's id: deck.html#/attn opens the section at its start
        first_id = section.key if section.key not in ids else f"{section.key}-{number + 1}"  # a part met again
        ids.add(first_id)
        beats = deck.slides[section.start:section.start + section.count]
        if number == 0:
            slides = [title_section(deck, first_id)] + [beat_section(deck, beat) for beat in beats]
        else:
            slides = [beat_section(deck, beats[0], first_id)] + [beat_section(deck, beat) for beat in beats[1:]]
        stacks.append(f'<section class="part" data-section="{html.escape(section.name)}">\n'
                      + "\n".join(slides) + "\n</section>")
    return stacks


def id_attribute(slide_id):
    return "" if slide_id is None else f' id="{html.escape(slide_id)}"'


def title_section(deck, slide_id=None):
    return (f'<section class="title"{id_attribute(slide_id)} data-background-color="{deck.background}">\n'
            f"<h1>{html.escape(deck.title)}</h1>\n"
            f"<p>“{'<br>'.join(html.escape(line) for line in deck.prompt_lines)}”</p>\n"
            f'<p class="facts">{html.escape(deck.facts)}</p>\n'
            "</section>")


def beat_section(deck, beat, slide_id=None):
    # muted when silent: browsers let only a silent video start by itself. A narrated deck's
    # videos are not: browsers block their sound until a user gesture, and the title slide has
    # no video, so the key press that leaves it is that gesture (each beat then plays with sound).
    muted = "" if deck.narrated else " muted"
    return (f'<section class="beat"{id_attribute(slide_id)} data-background-color="{deck.background}" '
            f'data-label="{html.escape(beat.label)}">\n'
            f'<video data-autoplay{muted} playsinline preload="auto" poster="{data_uri(beat.poster, "image/png")}" '
            f'src="{data_uri(beat.clip, "video/mp4")}"></video>\n'
            f'<aside class="notes">{html.escape(beat.notes)}</aside>\n'
            "</section>")
