"""`render.py compare`: two prompts (or two saved traces) of one model, the same word in each,
rendered as the compare storyboard (scenes/compare) into one video, or a deck.

The same pipeline as a video (renderer/pipeline.py): worker processes, the clip cache,
captions, beats, atomic publishing. What differs: a task draws two traces (`CompareTask`,
its scene bound to both), and a clip's cache key is made from both traces' contents, so a
change to either renders it again.
"""

import hashlib
import os
from dataclasses import dataclass, replace

from renderer.cache import file_digest
from renderer.files import (check_clip_names_free, check_video_files_free, clip_name, private_directory, publish,
                            sweep_stale_work)
from renderer.formats import MP4
from renderer.narration import narration_of_scene
from renderer.pipeline import clip_file_names, interrupt_on_sigterm, publish_video, render_keyed_tasks
from renderer.workers import RenderTask
from tracer.errors import UserError

SIDES = ("A", "B")


@dataclass(frozen=True)
class CompareTask(RenderTask):
    """A RenderTask whose scene reads two traces: `trace_path` (A) and `other_trace_path` (B),
    following `word` (None: the longest piece both prompts share)."""

    other_trace_path: str = ""  # a *_path field: where, not what (the key has both traces' digests)
    word: str | None = None

    def bind_scene(self, load, narrator=None):
        """The scene class bound to both traces (`load(path)` gives a Trace; the worker keeps them),
        its lines spoken by `narrator` (narration.Narrator) when given."""
        from scenes.base import SceneOptions

        return self.scene.load().bind_pair(load(self.trace_path), load(self.other_trace_path),
                                           SceneOptions(**self.options), word=self.word, narrator=narrator)


# -- the two traces ------------------------------------------------------------------------------

def two_of(values, flag):
    """`values` (a repeated option) as exactly two, or UserError."""
    if len(values) != 2:
        raise UserError(f"give {flag} twice (A, then B), not {len(values)} time{'s' * (len(values) != 1)}")
    return list(values)


def saved_pair(given, model_flags=()):
    """The two Traces of given["traces"] (files), or None to trace given["prompts"]: one kind, two of it."""
    prompts, files = given["prompts"], given["traces"]
    if prompts and files:
        raise UserError("give two --prompt or two --trace, not both kinds")
    if not prompts and not files:
        raise UserError("give two prompts (--prompt A --prompt B) or two saved traces (--trace A --trace B)")
    if not files:
        two_of(prompts, "--prompt")
        return None
    two_of(files, "--trace")
    if model_flags:
        raise UserError(f"{', '.join(model_flags)} only apply with --prompt: "
                        "a saved trace already holds the model's output")
    from tracer.trace import Trace

    return [Trace.load(path) for path in files]


def trace_pair(prompts, model, generate, temperature, top_k, top_p, seed):
    """Load the model once and trace both prompts; a prompt that is empty or longer than the
    context is refused, named A or B."""
    import sys

    import click

    from tracer.sampling import Sampling  # validates the settings before the model loads

    sampling = Sampling(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    for side, prompt in zip(SIDES, prompts):
        if not prompt.strip():
            raise UserError(f"prompt {side} is empty: give some text with --prompt")
    if sys.stderr.isatty():  # for a person waiting; a script reading stderr gets only errors
        click.echo(f"Loading {model}...", err=True)
    from tracer.models import load_model
    from tracer.record import trace_prompt

    loaded = load_model(model)
    traces = []
    for side, prompt in zip(SIDES, prompts):
        try:
            traces.append(trace_prompt(loaded, prompt, generate=generate, sampling=sampling))
        except UserError as error:
            raise UserError(f"prompt {side}: {error}") from None
    return traces


def prepare_pair(given, infos, suffix, clips=False, model_flags=(), default_suffix=None):
    """What `compare` checks, cheapest first, then the two Traces: ((A, B), out, clips directory
    or None). The pair is checked (one model, the word in both) before any render starts."""
    from renderer.outputs import clips_directory, output_path
    from renderer.preflight import check_can_render
    from scenes.compare.pair import Pair

    saved = saved_pair(given, model_flags)
    prompts = [trace.prompt for trace in saved] if saved else list(given["prompts"])
    out = output_path(given["out"], f"{prompts[0]} vs {prompts[1]}", suffix, default_suffix)
    clips_dir = clips_directory(out) if clips else None
    if saved:
        for side, trace in zip(SIDES, saved):
            trace.check_layer_head(given["layer"], given["head"])
    check_can_render(infos, given["language"])
    pair = saved or trace_pair(prompts, **{name: given[name] for name in
                                           ("model", "generate", "temperature", "top_k", "top_p", "seed")})
    pair[0].check_layer_head(given["layer"], given["head"])
    Pair(*pair, word=given["word"], layer=given["layer"], head=given["head"])  # one model, the word in both
    return pair, out, clips_dir


# -- rendering ---------------------------------------------------------------------------------------

def pair_digest(file_a, file_b):
    """One digest of both traces' contents, in order (A, B): what a compare clip's key is made from."""
    return hashlib.sha256(f"{file_digest(file_a)}:{file_digest(file_b)}".encode()).hexdigest()


def compare_tasks(infos, files, options, quality, work, word, clip_format=MP4, beats=False, narration=None,
                  speech_cache_dir=None):
    """One CompareTask per compare scene of `infos`, as pipeline.scene_tasks (narration included)."""
    return [CompareTask(index=position, scene=info, trace_path=os.path.abspath(files[0]), options=options,
                        quality=quality, clip_format=clip_format, beats=beats,
                        narration=narration_of_scene(narration, info.name), speech_cache_dir=speech_cache_dir,
                        out=os.path.join(work, clip_name(position, info.name, clip_format.extension)),
                        other_trace_path=os.path.abspath(files[1]), word=word)
            for position, info in enumerate(infos, start=1)]


def trace_files(pair, given_files, work):
    """The two traces as files the workers read: the user's, or saved into `work`."""
    if given_files:
        return list(given_files)
    files = [os.path.join(work, f"trace-{side.lower()}.safetensors") for side in SIDES]
    for trace, path in zip(pair, files):
        trace.save(path)
    return files


def render_pair_tasks(tasks, files, quality, jobs, cache):
    """As pipeline.render_tasks, keyed on both traces."""
    render_keyed_tasks(tasks, lambda: pair_digest(*files), quality, jobs, cache)


def speech_cache_dir(cache):
    """Where the workers keep spoken lines: the clip cache's folder (None without a cache)."""
    return None if cache is None else str(cache.root)


def render_compare_video(pair, given_files, infos, options, quality, jobs, out, clips_dir, word, captions=True,
                         clip_format=MP4, beats=False, cache=None, narration=None):
    """Every compare scene rendered in workers and joined into `out`, with its clips (and beats,
    captions; with `narration`, sound and the narration script) published beside it, as
    pipeline.render_video does for one trace."""
    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    with private_directory(parent) as work, interrupt_on_sigterm():
        files = trace_files(pair, given_files, work)
        tasks = compare_tasks(infos, files, options, quality, work, word, clip_format, beats, narration,
                              speech_cache_dir(cache))
        check_clip_names_free(clips_dir, [name for task in tasks for name in clip_file_names(task.out, captions)])
        check_video_files_free(out, clips_dir, captions, narration is not None)
        render_pair_tasks(tasks, files, quality, jobs, cache)
        return publish_video([task.out for task in tasks], work, out, clips_dir, captions, clip_format, beats,
                             narrated=narration is not None)


def render_compare_slides(pair, given_files, infos, options, quality, jobs, out, kind, word, cache=None,
                          narration=None):
    """A deck of the compare scenes' beats (as slides.render_slides), titled with both prompts."""
    from renderer.beats import beats_directory, load_beats, save_poster
    from renderer.decks import build_deck
    from renderer.slides import write_deck
    from scenes.strings import say

    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    with private_directory(parent) as work, interrupt_on_sigterm():
        files = trace_files(pair, given_files, work)
        tasks = compare_tasks(infos, files, options, quality, work, word, beats=True, narration=narration,
                              speech_cache_dir=speech_cache_dir(cache))
        render_pair_tasks(tasks, files, quality, jobs, cache)
        beats = [beat for task in tasks for beat in load_beats(beats_directory(task.out))]
        posters = [save_poster(beat.file, os.path.splitext(beat.file)[0] + ".png") for beat in beats]
        both = replace(pair[0], prompt=f"A: {pair[0].prompt}   B: {pair[1].prompt}")  # the title slide shows both
        deck = build_deck(both, beats, posters, options["language"], options["theme"], quality)
        deck = replace(deck, title=say(options["language"], "compare.tokens_heading"), narrated=narration is not None)
        publish(write_deck(deck, kind, work, options["theme"]), out)
    return deck


# -- the commands' work --------------------------------------------------------------------------------

def compare_scenes(given):
    """The compare catalog's entries of --scenes, or all of them, in storyboard order."""
    from scenes.compare.catalog import COMPARE_CATALOG

    return given.get("scene_list") or list(COMPARE_CATALOG)


def make_compare_video(given, model_flags=()):
    """`render.py compare`: returns (video path, clip paths, caption files, ClipFormat)."""
    from renderer.commands import format_of, narration_of, user_clip_cache
    from renderer.formats import ClipFormat
    from renderer.narration import recordings_note
    from renderer.presets import quality_preset

    infos = compare_scenes(given)
    clip_cache = user_clip_cache(given["cache"])
    chosen = ClipFormat(given["clip_format"] or format_of(given["out"]), given["transparent"])
    narration = narration_of(given, chosen)
    pair, out, clips_dir = prepare_pair(given, infos, chosen.extension, clips=True, model_flags=model_flags)
    clips, subtitles = render_compare_video(pair, given["traces"], infos, compare_options(given),
                                            quality_preset(given["quality"], given["fps"]), given["jobs"], out,
                                            clips_dir, given["word"], given["captions"], clip_format=chosen,
                                            beats=given["beats"], cache=clip_cache, narration=narration)
    note = recordings_note(out, narration)
    if note:
        import click

        click.echo(note, err=True)
    return out, clips, subtitles, chosen


def make_compare_slides(given, model_flags=()):
    """`render.py compare-slides`: returns (deck path, Deck, the scenes' entries)."""
    from renderer.commands import narration_of, user_clip_cache
    from renderer.formats import ClipFormat
    from renderer.presets import quality_preset

    kind = given["kind"]
    if kind is None:
        raise UserError("give --to pptx (PowerPoint, Keynote, Impress) or --to html (reveal.js)")
    if kind == "html":
        from renderer.decks.html import reveal_dist

        reveal_dist()
    clip_cache = user_clip_cache(given["cache"])
    infos = compare_scenes(given)
    narration = narration_of(given, ClipFormat())  # the beats are MP4 clips
    pair, out, _ = prepare_pair(given, infos, "." + kind, model_flags=model_flags)
    deck = render_compare_slides(pair, given["traces"], infos, compare_options(given),
                                 quality_preset(given["quality"], given["fps"]), given["jobs"], out, kind,
                                 given["word"], clip_cache, narration)
    return out, deck, infos


def make_compare_script(given, model_flags=()):
    """`render.py compare-script`: the narration script of the render `compare` would make with these
    options (narration.write_scenes_script). Returns (the files written, their rows)."""
    from renderer.narration import write_scenes_script
    from scenes.base import SceneOptions

    infos = compare_scenes(given)
    pair, out, _ = prepare_pair(given, infos, ".csv", model_flags=model_flags, default_suffix=".script.csv")
    options = SceneOptions(**compare_options(given))
    return write_scenes_script([(info.name, info.load().bind_pair(*pair, options, word=given["word"]))
                                for info in infos], out)


def compare_options(given):
    """SceneOptions' keyword arguments for the compare scenes (no corner map: it follows one prompt)."""
    from renderer.commands import scene_options

    return dict(scene_options({**given, "corner_map": False}))
