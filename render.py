"""The command line: prompt -> tracer -> Trace -> scenes -> files.

Only click (and the table of quality presets, plain Python) is imported at start-up, so
`--help` is instant; torch, transformers and manim are imported inside the commands
that need them.
"""

import os
import re
import signal
import sys
import threading
import time
import unicodedata
from contextlib import contextmanager

import click

from scenes.rendering import QUALITIES  # the presets only: this module imports Manim lazily

DEFAULT_MEDIA_DIR = "media"


# -- shared options -------------------------------------------------------------------

def option_group(*options):
    """One decorator that applies several click options, in the order listed."""
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


# --model and the generation settings, shared by every command that runs a model.
model_options = option_group(
    click.option("--model", default="gpt2", show_default=True, metavar="gpt2|nano-sort|PATH",
                 help="GPT-2 small from the Hugging Face hub (downloaded once), the bundled "
                      "offline sorting model, or a local GPT-2 checkpoint directory."),
    click.option("--generate", default=0, show_default=True, type=int, metavar="N",
                 help="How many tokens to generate after the prompt, one at a time."),
    click.option("--temperature", default=0.8, show_default=True, type=float, metavar="T",
                 help="Sampling temperature; 0 means greedy (always the most probable token)."),
    click.option("--top-k", default=40, show_default=True, type=int, metavar="K",
                 help="Sample only among the K most probable tokens."),
    click.option("--top-p", default=0.95, show_default=True, type=float, metavar="P",
                 help="Sample only among the most probable tokens whose probabilities add up to P."),
    click.option("--seed", default=0, show_default=True, type=int,
                 help="Random seed: the same seed gives the same tokens."),
)


# --prompt or --trace: run a model now, or draw a trace saved earlier.
source_options = option_group(
    click.option("--prompt", default=None, help="The text the model reads."),
    click.option("--trace", "trace_file", type=click.Path(dir_okay=False), default=None,
                 metavar="FILE.safetensors",
                 help="Draw a trace saved by `render.py trace` instead of running a model."),
)


# What every scene is drawn with: the colour theme, and the layer and head to follow.
scene_options = option_group(
    click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True),
    click.option("--layer", type=int, default=None, metavar="L",
                 help="The layer the attention scenes follow (0 is the first). [default: chosen by a stated rule]"),
    click.option("--head", type=int, default=None, metavar="H",
                 help="The attention head they follow (0 is the first). [default: chosen by a stated rule]"),
)


MODEL_OPTION_NAMES = ("model", "generate", "temperature", "top_k", "top_p", "seed")


def run_tracer(prompt, model, generate, temperature, top_k, top_p, seed):
    """Load the model and trace the prompt; returns (loaded model, Trace)."""
    from tracer.sampling import Sampling  # validates the settings before the model loads

    sampling = Sampling(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    if not prompt.strip():
        raise_user_error("the prompt is empty: give some text with --prompt")
    click.echo(f"Loading {model}...", err=True)
    from tracer.models import load_model
    from tracer.record import trace_prompt

    loaded = load_model(model)
    return loaded, trace_prompt(loaded, prompt, generate=generate, sampling=sampling)


# -- output paths ---------------------------------------------------------------------

def slug(prompt, limit=40):
    """A file name from the prompt: letters, digits and dashes only, so no path can escape."""
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return words[:limit].rstrip("-") or "prompt"


def output_path(out, prompt, suffix):
    """The user's --out, or media/<slug><suffix>; checked writable before any work starts."""
    if out is None:
        os.makedirs(DEFAULT_MEDIA_DIR, exist_ok=True)
        out = os.path.join(DEFAULT_MEDIA_DIR, slug(prompt) + suffix)
    check_writable(out)
    return out


def check_writable(path):
    if os.path.isdir(path):
        raise_user_error(f"cannot write {path}: it is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise_user_error(f"cannot write {path}: the directory {os.path.dirname(path) or parent} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise_user_error(f"cannot write {path}: permission denied")


def clips_directory(out):
    """Where a video's clips go: media/<slug>.mp4 -> media/<slug>/clips/."""
    clips = os.path.join(os.path.splitext(out)[0], "clips")
    existing = os.path.abspath(clips)
    while not os.path.exists(existing):  # the nearest part of the path that exists must be a directory
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise_user_error(f"cannot write the clips to {clips}: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise_user_error(f"cannot write the clips to {clips}: permission denied")
    return clips


def require_suffix(out, suffix):
    if out is not None and not out.lower().endswith(suffix):
        raise_user_error(f"--out must name a {suffix} file, not {out}")


def raise_user_error(message):
    from tracer.errors import UserError

    raise UserError(message)


# -- commands -------------------------------------------------------------------------

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Explain GPT-2 with its own numbers.

    Runs a GPT-2-family model on your prompt, records every intermediate value of its
    forward pass (embeddings, Q/K/V, attention scores and patterns, MLP, logits) and
    the sampling of each generated token, and turns them into files.

    \b
    Examples:
      render.py trace --model nano-sort --prompt CBABBC --generate 6 --out sort.safetensors
      render.py trace --prompt "The cat sat on the" --generate 5
      render.py video --model nano-sort --prompt CBABBC --generate 6 --quality low
      render.py video --trace sort.safetensors --scenes title,tokens
      render.py still --scene embeddings --prompt "The cat sat on the" --out emb.png
      render.py scenes
    """


@cli.command(short_help="Trace a prompt: save every intermediate value to a file.")
@click.option("--prompt", required=True, help="The text the model reads.")
@model_options
@click.option("--out", type=click.Path(), default=None, metavar="FILE.safetensors",
              help="Where to write the trace. [default: media/<prompt>.safetensors]")
def trace(prompt, model, generate, temperature, top_k, top_p, seed, out):
    """Run the model on a prompt and save every intermediate value (.safetensors).

    The file holds one tensor per activation, named as in TransformerLens
    (hook_embed, blocks.0.attn.hook_pattern, ..., logits), and a JSON header
    'trace' with the prompt, tokens, model, config and each sampling step.
    """
    out = output_path(out, prompt, ".safetensors")
    loaded, recorded = run_tracer(prompt, model, generate, temperature, top_k, top_p, seed)
    try:
        recorded.save(out)
    except OSError as error:
        raise_user_error(f"cannot write {out}: {error.strerror or error}")
    print_summary(loaded, recorded)
    click.echo(f"Wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB, {len(recorded.activations)} tensors)")


def print_summary(loaded, recorded):
    import numpy as np

    config = recorded.config
    click.echo(f"{recorded.model}: {config['n_params'] / 1e6:.2f}M parameters, {config['n_layer']} layers, "
               f"{config['n_head']} heads, width {config['n_embd']}; weights {recorded.weights}")
    click.echo(f"Prompt tokens ({recorded.n_prompt_tokens}):")
    for index in range(recorded.n_prompt_tokens):
        click.echo(f"  {index:>3}  {recorded.token_text(index)!r:<20} id {recorded.token_ids[index]}")

    logits = recorded["logits"][recorded.n_prompt_tokens - 1].astype(np.float64)  # (vocab,)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    click.echo("Top 5 next tokens:")
    for token_id in np.argsort(-probs)[:5]:
        piece = loaded.tokens.piece_bytes([int(token_id)])[0].decode("utf-8", errors="replace")
        click.echo(f"  {piece!r:<20} {probs[token_id]:7.2%}   id {token_id}")
    if recorded.steps:
        click.echo(f"Generated {len(recorded.steps)} tokens: {recorded.generated_text!r}")


# -- rendering: shared steps ----------------------------------------------------------

def trace_source(ctx, prompt, trace_file):
    """The saved Trace for --trace (None for --prompt), after checking exactly one was given."""
    if prompt is not None and trace_file is not None:
        raise_user_error("give either --prompt TEXT or --trace FILE.safetensors, not both")
    if prompt is None and trace_file is None:
        raise_user_error("give --prompt TEXT (or --trace FILE.safetensors to draw a saved trace)")
    if trace_file is None:
        return None
    given = [name for name in MODEL_OPTION_NAMES
             if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise_user_error(f"{flags} only apply with --prompt: a saved trace already holds the model's output")
    from tracer.trace import Trace

    return Trace.load(trace_file)


def selected_scenes(scene_list):
    """The catalog entries named by --scenes a,b,... in the order given (default: the whole storyboard)."""
    from scenes import catalog

    if scene_list is None:
        return list(catalog.CATALOG)
    names = [name.strip() for name in scene_list.split(",") if name.strip()]
    if not names:
        raise_user_error(f"--scenes is empty: name some of {', '.join(catalog.names())}")
    unknown = [name for name in names if name not in catalog.names()]
    if unknown:
        raise_user_error(f"unknown scene {unknown[0]!r}: the scenes are {', '.join(catalog.names())}")
    return [catalog.get(name) for name in dict.fromkeys(names)]  # each scene once


def quality_setting(quality, fps):
    from scenes.rendering import quality_preset

    try:
        return quality_preset(quality, fps)
    except ValueError as error:
        raise_user_error(str(error))


def jobs_setting(jobs, n_scenes):
    """--jobs, or one worker process per CPU core this process may use; never more than scenes."""
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    elif jobs < 1:
        raise_user_error(f"--jobs must be 1 or more, not {jobs}")
    return min(jobs, n_scenes)


def check_layer_head(recorded, layer, head):
    for flag, value, count, what in (("--layer", layer, recorded.n_layers, "layers"),
                                     ("--head", head, recorded.n_heads, "heads")):
        if value is not None and not 0 <= value < count:
            raise_user_error(f"{flag} {value} is out of range: {recorded.model} has {count} {what}, "
                             f"numbered 0 to {count - 1}")


def check_scenes_exist(infos):
    """Each selected scene's module is present (found, not imported: the workers import them)."""
    import importlib.util

    for info in infos:
        if importlib.util.find_spec(info.module) is None:
            raise_user_error(f"the scene {info.name!r} is not available in this version ({info.module} is missing)")


# The native libraries Manim draws, lays out text and encodes with. Loading them takes a
# tenth of a second (importing Manim takes seconds), so a missing one is named, with how
# to install it, before any work starts.
RENDER_LIBRARIES = (("cairo", "Cairo"), ("manimpango", "Pango"), ("av", "FFmpeg (through PyAV)"))
INSTALL_HINT = ("install the system libraries, e.g. `sudo apt-get install libcairo2-dev libpango1.0-dev ffmpeg` "
                "(Debian/Ubuntu) or `brew install cairo pango ffmpeg` (macOS), then `pip install -e .` again")


def require_render_libraries():
    for module, library in RENDER_LIBRARIES:
        try:
            __import__(module)
        except (ImportError, OSError) as error:
            raise_user_error(missing_library_message(error, module, library))


def missing_library_message(error, module, library):
    from tracer.errors import first_line

    if isinstance(error, ModuleNotFoundError) and error.name == module:
        return f"the Python package {module} is not installed (Manim needs it): run `pip install -e .` in this project"
    text = first_line(error)
    for needle, named in (("cairo", "Cairo"), ("pango", "Pango"), ("glib", "GLib (Pango needs it)"),
                          ("harfbuzz", "HarfBuzz (Pango needs it)"), ("avcodec", "FFmpeg"), ("avformat", "FFmpeg")):
        if needle in text.lower():
            library = named
            break
    return f"cannot render: the system library {library} is missing or broken ({text}); {INSTALL_HINT}"


@contextmanager
def interrupt_on_sigterm():
    """Treat SIGTERM like Ctrl-C while rendering, so the cleanup runs (SIGKILL can't be caught:
    the next run sweeps what it leaves)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def minutes(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """The job's one progress display on stderr: scenes done of all, time elapsed, time left.

    On a terminal it is one line redrawn in place; in a log (not a terminal) one line per
    finished scene. The time left assumes each scene still to come takes as long as the
    finished ones did on average, with `jobs` of them rendering at once.
    """

    def __init__(self, total, jobs, stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.total, self.jobs = total, jobs
        self.start = time.monotonic()
        self.running = {}  # scene name -> when it started
        self.seconds = []  # how long each finished scene took

    def report(self, event, task):
        now = time.monotonic()
        if event == "started":
            self.running[task.scene.name] = now
        elif event == "done":
            self.seconds.append(now - self.running.pop(task.scene.name))
        if self.live:
            self.stream.write("\r\033[K" + self.status())
            self.stream.flush()
        elif event == "done":
            click.echo(self.status(finished=task.scene.name), err=True)

    def time_left(self):
        if not self.seconds:
            return None
        now = time.monotonic()
        average = sum(self.seconds) / len(self.seconds)
        running = sum(max(average - (now - started), 0) for started in self.running.values())
        waiting = self.total - len(self.seconds) - len(self.running)
        return (running + waiting * average) / self.jobs

    def status(self, finished=None):
        done = len(self.seconds)
        line = f"scene {done} of {self.total} done" + (f" ({finished})" if finished else "")
        line += f", {minutes(time.monotonic() - self.start)} elapsed, "
        if done == self.total:
            return line + "all rendered"
        left = self.time_left()
        line += ("estimating the time left" if left is None else
                 f"about {minutes(left)} left" if left >= 1 else "almost done")
        if self.running and self.live:
            line += f"; rendering {', '.join(self.running)}"
        return line

    def close(self):
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def clip_name(position, scene_name):
    return f"{position:02d}_{scene_name}.mp4"


CLIP_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_-]+\.mp4$")


def publish_clips(finished, clips_dir):
    """Move the finished clips into clips_dir, and remove clips of earlier renders that this video lacks."""
    from scenes.rendering import publish

    os.makedirs(clips_dir, exist_ok=True)
    published = [publish(path, os.path.join(clips_dir, os.path.basename(path))) for path in finished]
    names = {os.path.basename(path) for path in published}
    for name in os.listdir(clips_dir):
        if CLIP_NAME.match(name) and name not in names:
            os.unlink(os.path.join(clips_dir, name))
    return published


def render_video(recorded, trace_file, infos, options, quality, jobs, out, clips_dir):
    """Render every scene in worker processes, join the clips, then put the files in place.

    Everything is written inside a private work directory beside `out`; the clips and the
    video are moved to their final names (atomically) only once all of them are complete.
    Returns the published clip paths.
    """
    from scenes import rendering

    parent = os.path.dirname(os.path.abspath(out))
    rendering.sweep_stale_work(parent)
    with rendering.private_directory(parent) as work, interrupt_on_sigterm():
        if trace_file is None:  # workers read the trace from a file: plain tensors, no pickle
            trace_file = os.path.join(work, "trace.safetensors")
            recorded.save(trace_file)
        tasks = [rendering.RenderTask(index=position, scene=info, trace_path=os.path.abspath(trace_file),
                                      options=options, quality=quality,
                                      out=os.path.join(work, clip_name(position, info.name)))
                 for position, info in enumerate(infos, start=1)]
        click.echo(f"Rendering {len(tasks)} scene{'s' * (len(tasks) > 1)} at {quality.label} "
                   f"with {jobs} worker process{'es' * (jobs > 1)}", err=True)
        progress = Progress(len(tasks), jobs)
        try:
            rendering.render_in_parallel(tasks, jobs, progress.report)
        finally:
            progress.close()
        joined = rendering.join_clips([task.out for task in tasks], os.path.join(work, "video.mp4"))
        clips = publish_clips([task.out for task in tasks], clips_dir)
        rendering.publish(joined, out)
    return clips


def report_scene_failure(failure):
    """A scene that crashes is a bug, not bad input: show its traceback, then one error line; exit 1."""
    if failure.details:
        click.echo(failure.details.rstrip(), err=True)
    click.echo(f"error: {failure}", err=True)
    raise click.exceptions.Exit(1)


# -- rendering: commands --------------------------------------------------------------

@cli.command("scenes", short_help="List the scenes in storyboard order.")
def list_scenes():
    """List the scenes a video shows, in storyboard order, each with what it shows."""
    from scenes import catalog

    width = max(len(name) for name in catalog.names())
    for info in catalog.CATALOG:
        click.echo(f"{info.name:<{width}}  {info.summary}")


@cli.command(short_help="Render the video: every scene, drawn with the model's own numbers.")
@source_options
@model_options
@scene_options
@click.option("--scenes", "scene_list", default=None, metavar="a,b,...",
              help="The scenes to show, in this order (see `render.py scenes`). [default: all]")
@click.option("--quality", type=click.Choice(list(QUALITIES)), default="high", show_default=True,
              help="low 854x480 15 fps, medium 1280x720 30 fps, high 1920x1080 30 fps, 4k 3840x2160 30 fps.")
@click.option("--fps", type=float, default=None, metavar="F", help="Frames per second. [default: the quality's]")
@click.option("--jobs", type=int, default=None, metavar="N",
              help="Scenes rendered at once, each in its own process. [default: one per CPU core]")
@click.option("--out", type=click.Path(), default=None, metavar="FILE.mp4",
              help="Where to write the video; its clips go to FILE/clips/. [default: media/<prompt>.mp4]")
@click.pass_context
def video(ctx, prompt, trace_file, model, generate, temperature, top_k, top_p, seed, theme, layer, head,
          scene_list, quality, fps, jobs, out):
    """Trace a prompt (or read a saved trace) and render the lecture video.

    Each scene is rendered in its own worker process, kept as a clip
    (media/<prompt>/clips/01_title.mp4, ...) and joined, without re-encoding,
    into one MP4. Files appear only when complete: an interrupted render leaves
    no half-written file behind.
    """
    infos = selected_scenes(scene_list)
    preset = quality_setting(quality, fps)
    jobs = jobs_setting(jobs, len(infos))
    saved = trace_source(ctx, prompt, trace_file)
    require_suffix(out, ".mp4")
    out = output_path(out, prompt if saved is None else saved.prompt, ".mp4")
    clips_dir = clips_directory(out)
    if saved is not None:
        check_layer_head(saved, layer, head)
    require_render_libraries()
    check_scenes_exist(infos)
    recorded = saved or run_tracer(prompt, model, generate, temperature, top_k, top_p, seed)[1]
    check_layer_head(recorded, layer, head)

    from scenes.rendering import SceneFailed, video_info

    started = time.monotonic()
    try:
        clips = render_video(recorded, trace_file, infos, dict(theme=theme, layer=layer, head=head),
                             preset, jobs, out, clips_dir)
    except SceneFailed as failure:
        report_scene_failure(failure)
    info = video_info(out)
    click.echo(f"Wrote {out}: {info.width}x{info.height}, {info.fps:g} fps, {info.duration:.1f} s of video, "
               f"rendered in {minutes(time.monotonic() - started)}")
    click.echo(f"Clips ({len(clips)}):")
    for clip in clips:
        click.echo(f"  {clip}")


@cli.command(short_help="Write the last frame of one scene as a PNG (quick to make).")
@click.option("--scene", "scene_name", required=True, metavar="NAME", help="One of `render.py scenes`.")
@source_options
@model_options
@scene_options
@click.option("--quality", type=click.Choice(list(QUALITIES)), default="high", show_default=True,
              help="The picture size: low 854x480, medium 1280x720, high 1920x1080, 4k 3840x2160.")
@click.option("--out", type=click.Path(), default=None, metavar="FILE.png",
              help="Where to write the picture. [default: media/<prompt>_<scene>.png]")
@click.pass_context
def still(ctx, scene_name, prompt, trace_file, model, generate, temperature, top_k, top_p, seed, theme, layer,
          head, quality, out):
    """Draw one scene's last frame as a PNG: for slides, and for a quick look."""
    from scenes.base import SceneOptions

    infos = selected_scenes(scene_name)
    if len(infos) != 1:
        raise_user_error(f"--scene takes one scene name, not {scene_name!r}")
    info = infos[0]
    preset = quality_setting(quality, None)
    saved = trace_source(ctx, prompt, trace_file)
    require_suffix(out, ".png")
    out = output_path(out, prompt if saved is None else saved.prompt, f"_{info.name}.png")
    if saved is not None:
        check_layer_head(saved, layer, head)
    require_render_libraries()
    check_scenes_exist([info])
    recorded = saved or run_tracer(prompt, model, generate, temperature, top_k, top_p, seed)[1]
    check_layer_head(recorded, layer, head)

    from scenes import rendering

    parent = os.path.dirname(os.path.abspath(out))
    rendering.sweep_stale_work(parent)
    with interrupt_on_sigterm():
        rendering.render_still(info.load().bind(recorded, SceneOptions(theme=theme, layer=layer, head=head)),
                               out, preset)
    click.echo(f"Wrote {out} ({preset.width}x{preset.height})")


# -- entry point ----------------------------------------------------------------------

def main(argv=None):
    """Run the command line; every user error is one line on stderr and exit status 2."""
    from tracer.errors import UserError

    try:
        cli.main(args=argv, prog_name="render.py", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, or ctx.exit()
        sys.exit(done.exit_code)
    except click.ClickException as error:  # bad option, missing argument, ...
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(2)
    except UserError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
