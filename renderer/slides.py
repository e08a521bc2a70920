"""A slide deck from start to end: every selected scene rendered with its beats (in worker
processes, as for a video), each beat's poster read from its clip, then the deck written.

Like a video, everything is made inside a private work directory beside the deck, which
appears under its name only once complete (a failed or interrupted run leaves no deck).
"""

import os
from dataclasses import replace

from renderer.beats import beats_directory, load_beats, save_poster
from renderer.decks import build_deck
from renderer.files import private_directory, publish, sweep_stale_work
from renderer.pipeline import interrupt_on_sigterm, render_tasks, scene_tasks


def render_slides(recorded, trace_file, infos, options, quality, jobs, out, kind, cache=None, narration=None):
    """Render the scenes `infos` of the Trace `recorded` beat by beat and write the deck `out`
    (`kind` "pptx" or "html"); `options` are scenes.base.SceneOptions' keyword arguments.
    With `narration` (narration.narration_request) every beat's clip carries its speech.
    Raises workers.SceneFailed if a scene fails. Returns the Deck written. (For an HTML deck,
    render.py has checked that reveal.js is there before any work: decks.html.reveal_dist.)"""
    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    with private_directory(parent) as work, interrupt_on_sigterm():
        if trace_file is None:  # workers read the trace from a file
            trace_file = os.path.join(work, "trace.safetensors")
            recorded.save(trace_file)
        tasks = scene_tasks(infos, trace_file, options, quality, work, beats=True, narration=narration,
                            speech_cache_dir=None if cache is None else str(cache.root))
        render_tasks(tasks, trace_file, quality, jobs, cache)
        beats = [beat for task in tasks for beat in load_beats(beats_directory(task.out))]
        posters = [save_poster(beat.file, os.path.splitext(beat.file)[0] + ".png") for beat in beats]
        deck = replace(build_deck(recorded, beats, posters, options["language"], options["theme"], quality),
                       narrated=narration is not None)
        publish(write_deck(deck, kind, work, options["theme"]), out)
    return deck


def write_deck(deck, kind, work, theme):
    """The deck as a "pptx" or "html" file in the work directory; returns its path."""
    written = os.path.join(work, "deck." + kind)
    if kind == "pptx":
        from renderer.decks.pptx import write_pptx

        write_pptx(deck, written)
    else:
        from renderer.decks.html import write_html

        write_html(deck, written, theme)
    return written
