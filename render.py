"""The command line: prompt -> tracer -> Trace -> scenes -> renderer -> files.

Only click (and the table of quality presets, plain Python) is imported at start-up, so
`--help` is instant; torch, transformers and manim are imported inside the commands
that need them. Options are checked by their click types where a value alone decides;
what needs the model or the trace is checked before any work starts.
"""

import os
import sys
import time

import click

from renderer.commands import (MODEL_OPTION_NAMES, make_script, make_slides, make_still, make_video,
                               trace_to_file, user_clip_cache)  # each command's work: shared with the notebook API
from renderer.decks import DECK_KINDS  # plain data: the writers import python-pptx only when used
from renderer.files import DISK_FULL
from renderer.formats import FORMATS
from renderer.outputs import slug  # noqa: F401  (render.slug)
from renderer.presets import MAX_FPS, QUALITIES
from scenes.strings import LANGUAGES  # a plain table: no Manim
from tracer.errors import UserError  # plain Python: importing the tracer package loads no torch


# -- shared options -------------------------------------------------------------------

def option_group(*options):
    """One decorator that applies several click options, in the order listed."""
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


class SceneList(click.ParamType):
    """--scenes a,b,...: the catalog entries named, in the order given, each once.

    With one=True (--scene) exactly one scene, converted to its entry. The catalog is read
    only when a value is given: it imports no Manim.
    """

    name = "scenes"

    def __init__(self, one=False):
        self.one = one

    def convert(self, value, param, ctx):
        from scenes import catalog

        if not isinstance(value, str):  # already converted
            return value
        flag = param.opts[0] if param else "--scenes"
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise click.UsageError(f"{flag} is empty: name {'one' if self.one else 'some'} of "
                                   f"{', '.join(catalog.names())}", ctx)
        unknown = [name for name in names if name not in catalog.names()]
        if unknown:
            raise click.UsageError(f"unknown scene {unknown[0]!r}: the scenes are {', '.join(catalog.names())}", ctx)
        infos = [catalog.get(name) for name in dict.fromkeys(names)]
        if self.one and len(infos) != 1:
            raise click.UsageError(f"{flag} takes one scene name, not {value!r}", ctx)
        return infos[0] if self.one else infos


class Utf8Text(click.ParamType):
    """Text that is valid Unicode. An argument that is not valid UTF-8 (a Latin-1 file passed as
    --prompt "$(cat f)") reaches Python as lone surrogates, which no tokenizer or file can take."""

    name = "text"

    def convert(self, value, param, ctx):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            bad = value[error.start]
            byte = f"byte {ord(bad) - 0xDC00:02X}" if "\udc80" <= bad <= "\udcff" else f"{bad!r}"
            self.fail(f"it is not valid UTF-8 text ({byte} at character {error.start}): "
                      "save the text as UTF-8 first", param, ctx)
        return value


PROMPT = Utf8Text()


# --model and the generation settings, shared by every command that runs a model.
model_options = option_group(
    click.option("--model", default="gpt2", show_default=True, metavar="gpt2|nano-sort|PATH",
                 help="GPT-2 small from the Hugging Face hub (downloaded once; also gpt2-medium, gpt2-large, "
                      "gpt2-xl), the bundled offline sorting model, or a local GPT-2 checkpoint directory."),
    click.option("--generate", default=0, show_default=True, type=int, metavar="N",
                 help="How many tokens to generate after the prompt, one at a time."),
    click.option("--temperature", default=0.8, show_default=True, type=float, metavar="T",
                 help="Sampling temperature; 0 means greedy (always the most probable token)."),
    click.option("--top-k", default=40, show_default=True, type=int, metavar="K",
                 help="Sample only among the K most probable tokens."),
    click.option("--top-p", default=0.95, show_default=True, type=float, metavar="P",
                 help="Sample only among the most probable tokens whose probabilities add up to P."),
    click.option("--seed", default=0, show_default=True, type=click.IntRange(-2**63, 2**64 - 1),
                 help="Random seed: the same seed gives the same tokens."),  # what torch's generator takes
)


# How the scenes draw: the language, the theme, the caption line, the layer and head to follow
# (their upper bounds depend on the model: checked once it is known).
drawing_options = option_group(
    click.option("--lang", "language", type=click.Choice(LANGUAGES), default="en", show_default=True,
                 help="The language of every word on screen: en English, ja Japanese "
                      "(numbers and tokens stay as they are)."),
    click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True),
    click.option("--on-screen-captions/--no-on-screen-captions", default=True, show_default=True,
                 help="Draw each beat's caption line at the bottom (off: for a lecturer who narrates; "
                      "the layout keeps its place and the caption files are still written)."),
    click.option("--layer", type=click.IntRange(min=0), default=None, metavar="L",
                 help="The layer the attention scenes follow (0 is the first). [default: chosen by a stated rule]"),
    click.option("--head", type=click.IntRange(min=0), default=None, metavar="H",
                 help="The attention head they follow (0 is the first). [default: chosen by a stated rule]"),
)

# What every render reads and draws with: --prompt or --trace, the model, the drawing options.
render_options = option_group(
    click.option("--prompt", type=PROMPT, default=None, help="The text the model reads."),
    click.option("--trace", "trace_file", type=click.Path(dir_okay=False), default=None,
                 metavar="FILE.safetensors",
                 help="Draw a trace saved by `render.py trace` instead of running a model."),
    model_options,
    drawing_options,
)


# On video, slides and still (batch jobs keep the map: renderer/jobs.py knows no such column).
map_option = click.option("--map/--no-map", "corner_map", default=True, show_default=True,
                          help="Draw the small map of the forward pass in the corner of every scene after "
                               "`map`, its part lit (the map scene itself stays unless --scenes leaves it out).")


def scenes_option(help="The scenes to show, in this order (see `render.py scenes`). [default: all]"):
    return click.option("--scenes", "scene_list", type=SceneList(), default=None, metavar="a,b,...", help=help)


# The picture size and frame rate of every clip (video, slides, batch).
quality_options = option_group(
    click.option("--quality", type=click.Choice(list(QUALITIES)), default="high", show_default=True,
                 help="low 854x480 15 fps, medium 1280x720 30 fps, high 1920x1080 30 fps, 4k 3840x2160 30 fps."),
    click.option("--fps", type=click.FloatRange(min=0, min_open=True, max=MAX_FPS), default=None, metavar="F",
                 help="Frames per second. [default: the quality's]"),
)

jobs_option = click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                           help="Scenes rendered at once, each in its own process. [default: one per CPU core]")

cache_option = click.option(
    "--cache/--no-cache", default=True, show_default=True,
    help="Reuse a clip rendered before when nothing that shapes it changed (kept in "
         "$GPT2_EXPLAINER_CACHE, default ~/.cache/gpt2-explainer/clips, at most "
         "$GPT2_EXPLAINER_CACHE_SIZE, default 2G). --no-cache renders every scene and writes no cache.")


# The files of a video (video, compare): where, its captions, its format and background, its beats.
def video_file_options(default_out):
    return option_group(
        click.option("--out", type=click.Path(), default=None, metavar="FILE.mp4",
                     help=f"Where to write the video; its clips go to FILE/clips/. [default: {default_out}]"),
        click.option("--captions/--no-captions", default=True, show_default=True,
                     help="Write the caption lines as subtitles, FILE.srt and FILE.vtt beside the video "
                          "(and each clip)."),
        click.option("--format", "clip_format", type=click.Choice(FORMATS), default=None,
                     help="mp4 (H.264: PowerPoint, Keynote, browsers), webm (VP9), mov (QuickTime) or gif. "
                          "[default: from --out's suffix, else mp4]"),
        click.option("--transparent", is_flag=True,
                     help="Leave the background out (an alpha channel): webm for browsers and reveal.js, "
                          "mov (ProRes 4444) for Keynote, gif for PowerPoint overlays."),
        click.option("--beats", is_flag=True,
                     help="Also write every beat of every scene as its own clip "
                          "(clips/02_<scene>.01_<beat>.mp4, ...)."),
    )


# A narrated render: every caption line spoken by an offline voice (renderer/voices.py).
narration_options = option_group(
    click.option("--narrate", is_flag=True,
                 help="Speak every caption line with an offline voice; each beat lasts until its speech has "
                      "ended (sound: AAC in MP4 and MOV, Opus in WebM; not with GIF)."),
    click.option("--voice", default=None, metavar="NAME",
                 help="The voice of --narrate (see `render.py voices`; none: silence where no recording). "
                      "[default: heart for --lang en, jf_alpha for --lang ja]"),
    click.option("--narration", "narration_dir", type=click.Path(), default=None, metavar="DIR",
                 help="Your own recordings (WAV, MP3, M4A, FLAC), each named by its line's ID as "
                      "`render.py script` (or compare-script) lists them (tokens.02_pieces.1.wav); a line "
                      "without one is spoken by --voice. Implies --narrate."),
)


# -- what the user typed ------------------------------------------------------------

def model_flags_given(ctx):
    """The model options typed on the command line (with --trace they would do nothing)."""
    return ["--" + name.replace("_", "-") for name in MODEL_OPTION_NAMES
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]


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
      render.py batch prompts.txt --model nano-sort --generate 6 --quality low
      render.py scenes
    """


@cli.command(short_help="Trace a prompt: save every intermediate value to a file.")
@click.option("--prompt", type=PROMPT, required=True, help="The text the model reads.")
@model_options
@click.option("--out", type=click.Path(), default=None, metavar="FILE.safetensors",
              help="Where to write the trace. [default: media/<prompt>.safetensors]")
@click.pass_context
def trace(ctx, **options):
    """Run the model on a prompt and save every intermediate value (.safetensors).

    The file holds one tensor per activation, named as in TransformerLens
    (hook_embed, blocks.0.attn.hook_pattern, ..., logits), and a JSON header
    'trace' with the prompt, tokens, model, config and each sampling step.
    """
    loaded, recorded, out = trace_to_file(options)
    print_summary(loaded, recorded)
    click.echo(f"Wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB, {len(recorded.activations)} tensors)")


def print_summary(loaded, recorded):
    import torch  # loaded already: the model just ran

    config = recorded.config
    click.echo(f"{recorded.model}: {config['n_params'] / 1e6:.2f}M parameters, {config['n_layer']} layers, "
               f"{config['n_head']} heads, width {config['n_embd']}; weights {recorded.weights}")
    click.echo(f"Prompt tokens ({recorded.n_prompt_tokens}):")
    for index in range(recorded.n_prompt_tokens):
        click.echo(f"  {index:>3}  {recorded.token_text(index)!r:<20} id {recorded.token_ids[index]}")

    logits = torch.tensor(recorded["logits"][recorded.n_prompt_tokens - 1], dtype=torch.float64)  # (vocab,)
    probs = torch.softmax(logits, dim=0)
    click.echo("Top 5 next tokens:")
    for token_id in torch.argsort(probs, descending=True)[:5].tolist():
        piece = loaded.tokens.piece_bytes([token_id])[0].decode("utf-8", errors="replace")
        click.echo(f"  {piece!r:<20} {float(probs[token_id]):7.2%}   id {token_id}")
    if recorded.steps:
        click.echo(f"Generated {len(recorded.steps)} tokens: {recorded.generated_text!r}")


@cli.command("scenes", short_help="List the scenes in storyboard order.")
def list_scenes():
    """List the scenes a video shows, in storyboard order, each with what it shows."""
    from scenes import catalog

    width = max(len(name) for name in catalog.names())
    for info in catalog.CATALOG:
        click.echo(f"{info.name:<{width}}  {info.summary}")


@cli.command(short_help="Write the narration script: every caption line with its ID, to record it yourself.")
@render_options
@scenes_option()
@click.option("--out", type=click.Path(), default=None, metavar="FILE.csv",
              help="Where to write the script (and FILE.txt beside it). [default: media/<prompt>.script.csv]")
@map_option
@click.pass_context
def script(ctx, **options):
    """Write the narration script of a video (the same options as `video`): one row per caption
    line with its stable ID (scene.beat.line), its written text and its spoken text, as CSV,
    and as plain text to read from. Record the lines you want, name each file by its ID
    (tokens.02_pieces.1.wav, .mp3, .m4a or .flac) and render with --narration DIR."""
    written, rows = make_script(options, model_flags=model_flags_given(ctx))
    click.echo(f"Wrote {written[0]} and {written[1]}: {len(rows)} lines")


@cli.command("voices", short_help="List the offline voices of --narrate.")
def list_voices():
    """List the voices --narrate --voice NAME can speak with: language, whether installed, licences."""
    from renderer.voices import voices_table

    for line in voices_table():
        click.echo(line)


@cli.command(short_help="Render the video: every scene, drawn with the model's own numbers.")
@render_options
@scenes_option()
@quality_options
@jobs_option
@video_file_options("media/<prompt>.mp4")
@cache_option
@map_option
@narration_options
@click.pass_context
def video(ctx, **options):
    """Trace a prompt (or read a saved trace) and render the lecture video.

    Each scene is rendered in its own worker process, kept as a clip
    (media/<prompt>/clips/01_title.mp4, ...) and joined, without re-encoding,
    into one MP4. Files appear only when complete: an interrupted render leaves
    no half-written file behind.
    """
    from renderer.workers import SceneFailed

    started = time.monotonic()
    try:
        out, clips, subtitles, chosen = make_video(options, model_flags=model_flags_given(ctx))
    except SceneFailed as failure:
        report_scene_failure(failure)
    report_video(out, subtitles, started)
    videos = [os.path.basename(clip) for clip in clips if clip.endswith(chosen.extension)]
    n_beats = sum("." in os.path.splitext(name)[0] for name in videos)  # 02_tokens.01_text.mp4 (beats.py)
    counted = f"{len(videos) - n_beats}" + (f" and {n_beats} beats" if n_beats else "")
    click.echo(f"Clips ({counted}{', with their caption files' if subtitles else ''}):")
    for clip in clips:
        click.echo(f"  {clip}")


def report_video(out, subtitles, started):
    """The video's line (size, rate, length, time taken) and its caption files'."""
    from renderer.progress import minutes
    from renderer.video import video_info

    info = video_info(out)
    click.echo(f"Wrote {out}: {info.width}x{info.height}, {info.fps:g} fps, {info.duration:.1f} s of video, "
               f"rendered in {minutes(time.monotonic() - started)}")
    if subtitles:
        click.echo(f"Captions: {', '.join(subtitles)}")


def report_scene_failure(failure):
    """A failed scene is a bug, not bad input: its traceback, then one error line; exit status 1."""
    if failure.details:
        click.echo(failure.details.rstrip(), err=True)
    click.echo(f"error: {failure}", err=True)
    raise click.exceptions.Exit(1)


@cli.command(short_help="Render a slide deck: a title slide, then one slide per beat, each playing its clip.")
@render_options
@click.option("--to", "kind", type=click.Choice(DECK_KINDS), default=None,
              help="pptx (PowerPoint, Keynote, LibreOffice Impress) or html (reveal.js, one self-contained file).")
@scenes_option()
@quality_options
@jobs_option
@click.option("--out", type=click.Path(), default=None, metavar="FILE.pptx|FILE.html",
              help="Where to write the deck. [default: media/<prompt>.pptx or .html]")
@cache_option
@map_option
@narration_options
@click.pass_context
def slides(ctx, **options):
    """Trace a prompt (or read a saved trace) and write a slide deck of its beats.

    A title slide, then one slide per beat of every selected scene, in storyboard
    order: each plays its beat's clip as the slide opens, shows the beat's picture
    (its last frame) until then, and holds the beat's caption text as its speaker notes.
    The deck appears only when complete.
    """
    from renderer.progress import minutes
    from renderer.workers import SceneFailed

    started = time.monotonic()
    try:
        out, deck, infos = make_slides(options, model_flags=model_flags_given(ctx))
    except SceneFailed as failure:
        report_scene_failure(failure)
    click.echo(f"Wrote {out}: a title slide and {len(deck.slides)} beat slides from {len(infos)} "
               f"scene{'s' * (len(infos) > 1)} ({os.path.getsize(out) / 1e6:.1f} MB), "
               f"rendered in {minutes(time.monotonic() - started)}")


# -- two prompts, one word (renderer/compare.py, scenes/compare) ----------------------------------

class CompareSceneList(click.ParamType):
    """--scenes a,b,... of `compare`: entries of the compare storyboard (scenes/compare/catalog.py),
    in storyboard order, each once."""

    name = "scenes"

    def convert(self, value, param, ctx):
        from scenes.compare.catalog import COMPARE_CATALOG, names

        if not isinstance(value, str):  # already converted
            return value
        wanted = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in names()]
        if not wanted or unknown:
            raise click.UsageError(f"{'unknown scene ' + repr(unknown[0]) if unknown else '--scenes is empty'}: "
                                   f"the compare scenes are {', '.join(names())}", ctx)
        return [info for info in COMPARE_CATALOG if info.name in wanted]


pair_options = option_group(
    click.option("--prompt", "prompts", type=PROMPT, multiple=True, metavar="TEXT",
                 help="A prompt; give it twice: A, then B."),
    click.option("--trace", "traces", type=click.Path(dir_okay=False), multiple=True, metavar="FILE.safetensors",
                 help="A saved trace instead of a prompt; give it twice (two traces of one model)."),
    click.option("--word", type=PROMPT, default=None, metavar="W",
                 help="The word to follow, found in both prompts by token ID (a word of several tokens: its "
                      "last). [default: the longest piece the two prompts share]"),
    model_options,
    drawing_options,
    click.option("--scenes", "scene_list", type=CompareSceneList(), default=None, metavar="a,b,...",
                 help="The compare scenes to show (compare-tokens, compare-embedding, compare-attention, "
                      "compare-drift, compare-prediction), in storyboard order. [default: all]"),
)


@cli.command(short_help="Two prompts side by side: the same word in two contexts.")
@pair_options
@quality_options
@jobs_option
@video_file_options("media/<A>-vs-<B>.mp4")
@cache_option
@narration_options
@click.pass_context
def compare(ctx, **options):
    """Trace two prompts with one model (or read two saved traces) and render the comparison:
    the word both share, its tokens, its embedding (the same row of W_E), where the followed
    head looks from it in each, how its two vectors drift apart layer by layer (cosine
    similarity), and what the model predicts after it in each.

    \b
    Example:
      render.py compare --prompt "We walked along the river bank" \\
                        --prompt "She put her money in the bank" --quality low
    """
    from renderer.compare import make_compare_video
    from renderer.workers import SceneFailed

    started = time.monotonic()
    try:
        out, clips, subtitles, chosen = make_compare_video(options, model_flags=model_flags_given(ctx))
    except SceneFailed as failure:
        report_scene_failure(failure)
    report_video(out, subtitles, started)
    click.echo("Clips:")
    for clip in clips:
        click.echo(f"  {clip}")


@cli.command("compare-slides", short_help="A slide deck of the comparison of two prompts.")
@pair_options
@click.option("--to", "kind", type=click.Choice(DECK_KINDS), default=None,
              help="pptx (PowerPoint, Keynote, LibreOffice Impress) or html (reveal.js, one self-contained file).")
@quality_options
@jobs_option
@click.option("--out", type=click.Path(), default=None, metavar="FILE.pptx|FILE.html",
              help="Where to write the deck. [default: media/<A>-vs-<B>.pptx or .html]")
@cache_option
@narration_options
@click.pass_context
def compare_slides(ctx, **options):
    """The comparison of `render.py compare` as a deck: a title slide with both prompts, then one
    slide per beat, each playing its clip."""
    from renderer.compare import make_compare_slides
    from renderer.progress import minutes
    from renderer.workers import SceneFailed

    started = time.monotonic()
    try:
        out, deck, infos = make_compare_slides(options, model_flags=model_flags_given(ctx))
    except SceneFailed as failure:
        report_scene_failure(failure)
    click.echo(f"Wrote {out}: a title slide and {len(deck.slides)} beat slides from {len(infos)} scenes "
               f"({os.path.getsize(out) / 1e6:.1f} MB), rendered in {minutes(time.monotonic() - started)}")


@cli.command("compare-script", short_help="The narration script of a comparison, to record it yourself.")
@pair_options
@click.option("--out", type=click.Path(), default=None, metavar="FILE.csv",
              help="Where to write the script (and FILE.txt beside it). [default: media/<A>-vs-<B>.script.csv]")
@click.pass_context
def compare_script(ctx, **options):
    """The narration script of `render.py compare` with the same options, as `render.py script`
    writes a video's: one row per caption line with its ID (compare-tokens.01_prompts.1), its
    written and its spoken text. Record the lines and render with `compare --narration DIR`."""
    from renderer.compare import make_compare_script

    written, rows = make_compare_script(options, model_flags=model_flags_given(ctx))
    click.echo(f"Wrote {written[0]} and {written[1]}: {len(rows)} lines")


@cli.command(short_help="Write the last frame of one scene as a PNG (quick to make).")
@click.option("--scene", "info", type=SceneList(one=True), required=True, metavar="NAME",
              help="One of `render.py scenes`.")
@render_options
@click.option("--quality", type=click.Choice(list(QUALITIES)), default="high", show_default=True,
              help="The picture size: low 854x480, medium 1280x720, high 1920x1080, 4k 3840x2160.")
@click.option("--out", type=click.Path(), default=None, metavar="FILE.png",
              help="Where to write the picture. [default: media/<prompt>_<scene>.png]")
@map_option
@click.pass_context
def still(ctx, **options):
    """Draw one scene's last frame as a PNG: for slides, and for a quick look."""
    out, preset = make_still(options, model_flags=model_flags_given(ctx))
    click.echo(f"Wrote {out} ({preset.width}x{preset.height})")


@cli.command(short_help="Render many videos, one per line of a job file, on a Dask cluster.")
@click.argument("job_file", type=click.Path(dir_okay=False), metavar="FILE")
@model_options
@scenes_option(help="The scenes of every video, unless a job names its own. [default: all]")
@quality_options
@drawing_options
@click.option("--captions/--no-captions", default=True, show_default=True,
              help="Write FILE.srt and FILE.vtt beside each video (and each clip).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=".", show_default=True, metavar="DIR",
              help="Where a job without its own `out` writes <prompt>.mp4 (and <prompt>/clips/).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes of the embedded Dask cluster. [default: one per CPU core]")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use the running Dask cluster at ADDRESS (tcp://host:8786) instead of an embedded one.")
@cache_option
@click.option("--narrate", is_flag=True,
              help="Speak every caption line of every video, unless a job's narrate column says no "
                   "(sound: AAC; each beat lasts until its speech has ended).")
@click.option("--voice", default=None, metavar="NAME",
              help="The voice of the narrated jobs, unless a job's voice column names its own "
                   "(see `render.py voices`; not none: a batch takes no recordings). "
                   "[default: heart for lang en, jf_alpha for lang ja]")
def batch(job_file, scene_list, out_dir, workers, scheduler, cache, **defaults):
    """Render one video per job of FILE, every scene a task on Dask distributed.

    FILE is plain text (one prompt per line; blank lines and # comments skipped),
    CSV with a header row, or YAML (a list of mappings), whose columns or keys
    override these options per job: prompt, model, generate, temperature, top_k,
    top_p, seed, lang, theme, on_screen_captions, layer, head, scenes, quality,
    fps, captions, out, narrate, voice. The whole file is checked before anything starts. A job
    that fails is reported with its line number and the others finish; the exit
    status is 1 if any failed.
    """
    from renderer.batch import exit_status, render_batch
    from renderer.jobs import read_jobs
    from renderer.preflight import check_can_render
    from scenes import catalog

    if scheduler is not None and workers is not None:
        raise UserError("--workers sizes the embedded cluster; with --scheduler the cluster has its own workers")
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):  # one that does not exist yet is made
        raise UserError(f"--out-dir {out_dir} is not a directory")
    if defaults["voice"] is not None:  # checked before the jobs: a bad --voice is no job line's fault
        from renderer.voices import choose_voice

        choose_voice(defaults["voice"], None, allow_none=False)  # (a batch takes no recordings: no `none`)
    clip_cache = user_clip_cache(cache)
    defaults["lang"] = defaults.pop("language")
    defaults["scenes"] = [info.name for info in scene_list or catalog.CATALOG]
    jobs = read_jobs(job_file, defaults, out_dir)
    if defaults["voice"] is not None and not any(job.narration for job in jobs):
        raise UserError("--voice only applies with --narrate (or to jobs whose narrate column says yes)")
    for language in dict.fromkeys(job.options["language"] for job in jobs):
        check_can_render([catalog.get(name) for job in jobs for name in job.scenes], language)
    ctx = click.get_current_context()
    ctx.exit(exit_status(render_batch(jobs, scheduler, workers, clip_cache)))


# -- entry point ----------------------------------------------------------------------

def main(argv=None):
    """Run the command line and exit with its status: 0 done, 2 bad input (one line on stderr),
    1 an internal error (a scene that fails, a bug), 130 interrupted."""
    try:
        # Outside standalone mode click returns, rather than exits with, the status of a
        # command that stops with ctx.exit() or click.exceptions.Exit (a failed scene: 1).
        status = cli.main(args=argv, prog_name="render.py", standalone_mode=False)
    except click.ClickException as error:  # bad option, missing argument, ...
        fail(error.format_message())
    except UserError as error:
        fail(str(error))
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise  # anything else is a bug: its traceback, exit status 1
        fail(f"cannot write {error.filename or 'the output'}: {os.strerror(error.errno)}")
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)


def fail(message):
    """Bad input (or no room for the output): one line on stderr, exit status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


if __name__ == "__main__":
    main()
