"""What each command does once its options are read, shared by the command line (render.py)
and the notebook API (gpt2_explainer.py), so that every step has one implementation.

`given` is a command's options by their click names, as click checked and converted them,
defaults included (ctx.params: "language", "scene_list", "trace_file", "out", ...). A render
draws `saved` (a notebook's Trace), else the trace saved in given["trace_file"], else the
model's on given["prompt"], traced once every cheaper check has passed; `model_flags` are
the model options the user typed (refused with a saved trace). Nothing here imports torch
but run_tracer, and only when it runs a model.
"""

import os
import sys

import click

from renderer.files import sweep_stale_work
from renderer.formats import FORMATS, ClipFormat
from renderer.outputs import clips_directory, output_path
from renderer.presets import quality_preset
from tracer.errors import UserError

MODEL_OPTION_NAMES = ("model", "generate", "temperature", "top_k", "top_p", "seed")
SCENE_OPTION_NAMES = ("language", "theme", "on_screen_captions", "layer", "head", "corner_map")  # SceneOptions


# -- the Trace --------------------------------------------------------------------------

def run_tracer(prompt, model, generate, temperature, top_k, top_p, seed):
    """Load the model and trace the prompt; returns (loaded model, Trace)."""
    from tracer.sampling import Sampling  # validates the settings before the model loads

    sampling = Sampling(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    if not prompt.strip():
        raise UserError("the prompt is empty: give some text with --prompt")
    if sys.stderr.isatty():  # for a person waiting; a script reading stderr gets only errors, one line each
        click.echo(f"Loading {model}...", err=True)
    from tracer.models import load_model
    from tracer.record import trace_prompt

    loaded = load_model(model)
    return loaded, trace_prompt(loaded, prompt, generate=generate, sampling=sampling)


def trace_to_file(given):
    """The `trace` command's work: trace given["prompt"] and save it to given["out"] (checked
    first; default media/<prompt>.safetensors). Returns (loaded model, Trace, the path written)."""
    out = output_path(given["out"], given["prompt"], ".safetensors")
    loaded, recorded = run_tracer(given["prompt"], **model_settings(given))
    sweep_stale_work(os.path.dirname(os.path.abspath(out)))  # what a killed trace left: its .trace-<pid>-*.partial
    try:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)  # checked makeable by output_path
        recorded.save(out)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}")
    return loaded, recorded, out


def model_settings(given):
    """The keyword arguments of run_tracer after the prompt, from the command's options."""
    return {name: given[name] for name in MODEL_OPTION_NAMES}


# -- before any render: the checks, cheapest first, then the Trace ------------------------

def prepare_render(given, infos, suffix, default_suffix=None, clips=False, saved=None, model_flags=()):
    """What video, slides and still check, cheapest first, then the Trace: (Trace, out, clips
    directory or None). The Trace is `saved`, else the one saved in given["trace_file"], else
    the model's on given["prompt"], run only once everything else is known to be fine.
    `model_flags` are the model options the user gave (refused with a saved trace)."""
    layer, head = given["layer"], given["head"]
    if saved is None:
        saved = load_saved_trace(given, model_flags)
    out = output_path(given["out"], given["prompt"] if saved is None else saved.prompt, suffix, default_suffix)
    clips_dir = clips_directory(out) if clips else None
    if saved is not None:
        saved.check_layer_head(layer, head)
    from renderer.preflight import check_can_render

    check_can_render(infos, given["language"])
    recorded = saved or run_tracer(given["prompt"], **model_settings(given))[1]
    recorded.check_layer_head(layer, head)
    return recorded, out, clips_dir


def load_saved_trace(given, model_flags=()):
    """The Trace saved in given["trace_file"], or None to trace given["prompt"]: exactly one of
    the two, and no model option (`model_flags`, as the user wrote them) with a saved trace."""
    prompt, trace_file = given["prompt"], given["trace_file"]
    if prompt is not None and trace_file is not None:
        raise UserError("give either --prompt TEXT or --trace FILE.safetensors, not both")
    if prompt is None and trace_file is None:
        raise UserError("give --prompt TEXT (or --trace FILE.safetensors to draw a saved trace)")
    if trace_file is None:
        return None
    if model_flags:
        raise UserError(f"{', '.join(model_flags)} only apply with --prompt: "
                        "a saved trace already holds the model's output")
    from tracer.trace import Trace

    return Trace.load(trace_file)


def scene_options(given):
    """The keyword arguments of scenes.base.SceneOptions, from the command's options."""
    return {name: given[name] for name in SCENE_OPTION_NAMES}


def user_clip_cache(wanted):
    """The clip cache for --cache (None for --no-cache, or a size of 0); a bad size is bad
    input, refused before any work."""
    from renderer.cache import clip_cache_from_environment

    return clip_cache_from_environment() if wanted else None


def format_of(out):
    """The clip format an --out path names by its suffix (x.webm -> webm); mp4 when it names none."""
    suffix = os.path.splitext(out or "")[1].lower().lstrip(".")
    return suffix if suffix in FORMATS else "mp4"


def chosen_scenes(given):
    """The catalog entries of --scenes, or every scene in storyboard order."""
    from scenes import catalog

    return given["scene_list"] or list(catalog.CATALOG)


# -- the renders ------------------------------------------------------------------------

def make_still(given, saved=None, model_flags=()):
    """The `still` command's work: the last frame of given["info"] as a PNG. Returns (path, Quality)."""
    info = given["info"]
    recorded, out, _ = prepare_render(given, [info], ".png", f"_{info.name}.png", saved=saved,
                                      model_flags=model_flags)

    from renderer.pipeline import render_last_frame

    preset = quality_preset(given["quality"])
    render_last_frame(recorded, info, scene_options(given), preset, out)
    return out, preset


def make_video(given, saved=None, model_flags=()):
    """The `video` command's work: every chosen scene rendered and joined (pipeline.render_video).
    Returns (video path, clip paths, caption files, ClipFormat); raises workers.SceneFailed
    if a scene fails."""
    infos = chosen_scenes(given)
    clip_cache = user_clip_cache(given["cache"])
    chosen = ClipFormat(given["clip_format"] or format_of(given["out"]), given["transparent"])
    narration = narration_of(given, chosen)
    recorded, out, clips_dir = prepare_render(given, infos, chosen.extension, clips=True, saved=saved,
                                                model_flags=model_flags)

    from renderer.pipeline import render_video

    clips, subtitles = render_video(recorded, given["trace_file"], infos, scene_options(given),
                                    quality_preset(given["quality"], given["fps"]), given["jobs"], out, clips_dir,
                                    given["captions"], clip_format=chosen, beats=given["beats"], cache=clip_cache,
                                    narration=narration)
    from renderer.narration import recordings_note

    note = recordings_note(out, narration)
    if note:
        click.echo(note, err=True)
    return out, clips, subtitles, chosen


def narration_of(given, clip_format):
    """--narrate and --voice as the tasks' narration request (None: silent), checked before any work."""
    from renderer.narration import narration_request

    return narration_request(given.get("narrate", False), given.get("voice"), given["language"], clip_format,
                             given.get("narration_dir"))


def make_script(given, saved=None, model_flags=()):
    """The `script` command's work: the narration script of the render `video` would make with
    these options (narration.write_script). Returns (the files written, their rows)."""
    infos = chosen_scenes(given)
    recorded, out, _ = prepare_render(given, infos, ".csv", ".script.csv", saved=saved, model_flags=model_flags)

    from renderer.narration import write_script

    return write_script(recorded, infos, scene_options(given), given["language"], out)


def make_slides(given, saved=None, model_flags=()):
    """The `slides` command's work: a deck of the chosen scenes' beats (slides.render_slides).
    Returns (deck path, Deck, the scenes' catalog entries); raises workers.SceneFailed if a
    scene fails."""
    kind = given["kind"]
    if kind is None:  # (click's own message for a missing choice takes three lines)
        raise UserError("give --to pptx (PowerPoint, Keynote, Impress) or --to html (reveal.js)")
    if kind == "html":
        from renderer.decks.html import reveal_dist

        reveal_dist()  # before any work: one line naming the fix
    clip_cache = user_clip_cache(given["cache"])
    infos = chosen_scenes(given)
    narration = narration_of(given, ClipFormat())  # the beats are MP4 clips
    recorded, out, _ = prepare_render(given, infos, "." + kind, saved=saved, model_flags=model_flags)

    from renderer.slides import render_slides

    deck = render_slides(recorded, given["trace_file"], infos, scene_options(given),
                         quality_preset(given["quality"], given["fps"]), given["jobs"], out, kind, clip_cache,
                         narration)
    return out, deck, infos
