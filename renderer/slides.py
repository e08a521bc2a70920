"""A slide deck from start to end: every selected scene rendered with its beats (in worker
processes, as for a video), each beat's poster read from its clip, then the deck written.

Like a video, everything is made inside a private work directory beside the deck, which
appears under its name only once complete (a failed or interrupted run leaves no deck).
"""

import os

import click

from renderer.beats import beats_directory, load_beats, save_poster
from renderer.decks import build_deck
from renderer.files import clip_name, private_directory, publish, sweep_stale_work
from renderer.pipeline import interrupt_on_sigterm
from renderer.progress import Progress
from renderer.workers import RenderTask, render_in_parallel, usable_cores


def render_slides(recorded, trace_file, infos, options, quality, jobs, out, kind):
    """Render the scenes `infos` of the Trace `recorded` beat by beat and write the deck `out`
    (`kind` "pptx" or "html"); `options` are scenes.base.SceneOptions' keyword arguments.
    Raises workers.SceneFailed if a scene fails. Returns the Deck written."""
    from renderer.decks.html import reveal_dist

    if kind == "html":
        reveal_dist()  # before minutes of rendering: one line naming the fix
    jobs = min(jobs or usable_cores(), len(infos))
    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    with private_directory(parent) as work, interrupt_on_sigterm():
        if trace_file is None:  # workers read the trace from a file
            trace_file = os.path.join(work, "trace.safetensors")
            recorded.save(trace_file)
        tasks = [RenderTask(index=position, scene=info, trace_path=os.path.abspath(trace_file), options=options,
                            quality=quality, out=os.path.join(work, clip_name(position, info.name)), beats=True)
                 for position, info in enumerate(infos, start=1)]
        click.echo(f"Rendering {len(tasks)} scene{'s' * (len(tasks) > 1)} beat by beat at {quality.label} "
                   f"with {jobs} worker process{'es' * (jobs > 1)}", err=True)
        progress = Progress(len(tasks), jobs)
        try:
            render_in_parallel(tasks, jobs, progress.report)
        finally:
            progress.close()
        beats = [beat for task in tasks for beat in load_beats(beats_directory(task.out))]
        posters = [save_poster(beat.file, os.path.splitext(beat.file)[0] + ".png") for beat in beats]
        deck = build_deck(recorded, beats, posters, options["language"], options["theme"], quality)
        written = os.path.join(work, "deck." + kind)
        if kind == "pptx":
            from renderer.decks.pptx import write_pptx

            write_pptx(deck, written)
        else:
            from renderer.decks.html import write_html

            write_html(deck, written, options["theme"])
        publish(written, out)
    return deck
