"""The notebook API: what the command line does, called from Python, with results that show inline.

    import gpt2_explainer as gx

    t = gx.trace("CBABBC", model="nano-sort", generate=6, temperature=0)
    t.tokens, t.token_ids                  # the pieces and their IDs, prompt + generated
    t["blocks.0.attn.hook_pattern"]        # (H, T, T) NumPy array: every tensor by its TransformerLens name
    gx.still(t, "softmax", layer=0, head=1, quality="low")    # a PNG, shown inline; .save("x.png")
    gx.video(t, scenes=["title", "tokens", "softmax"], quality="low")   # an HTML5 <video>
    gx.slides(t, to="html", quality="low")                               # the reveal.js deck in an iframe
    gx.scenes()                            # {name: what it shows}, in storyboard order

Each function runs what its command runs (renderer/commands.py), with the same options: the
command's own click types check and convert them, so the defaults are the same and bad input
raises UserError carrying the line render.py prints after "error: ". The files go where the
command puts them (media/<prompt>..., or `out`); a render's progress is one bar in the cell.
`trace` may be a Trace or the path of one saved by `render.py trace` (or by Trace.save).

Importing this module imports click and plain tables only: torch loads when a model runs
(`trace`), Manim in the worker processes that draw.
"""

import base64
import html
import mimetypes
import os
from dataclasses import dataclass, field
from urllib.parse import quote

import click

import render  # the click commands: their options, defaults and checks (click only, no torch)
from renderer import commands
from tracer.errors import UserError

__all__ = ["trace", "still", "video", "slides", "scenes", "Still", "Video", "Deck", "UserError"]


def command_options(name, **values):
    """The options of the command `name` as click reads them: `values` by their click names,
    checked and converted by the command's own click types; the rest at their defaults."""
    command = render.cli.commands[name]
    try:
        return command.make_context(name, [], default_map=values).params
    except click.ClickException as error:
        raise UserError(error.format_message()) from None


def trace_source(trace):
    """(Trace, None) for a Trace, or (None, path) for the path of a saved one."""
    from tracer.trace import Trace  # NumPy and safetensors: no torch

    return (trace, None) if isinstance(trace, Trace) else (None, os.fspath(trace))


def scene_names(scenes):
    """--scenes' value from a list of names (or one comma-separated string); None for all."""
    if scenes is None or isinstance(scenes, str):
        return scenes
    return ",".join(scenes)


# -- the five commands ---------------------------------------------------------------------

def trace(prompt, model="gpt2", generate=0, temperature=0.8, top_k=40, top_p=0.95, seed=0, out=None):
    """Run `model` on `prompt` (and generate `generate` tokens) and return the Trace.

    model: "gpt2" (GPT-2 small: about 550 MB downloaded the first time), "gpt2-medium", ...,
    "nano-sort" (bundled, offline) or a local GPT-2 checkpoint folder. temperature 0 is greedy.
    With `out` (a .safetensors path) the Trace is also saved there, as `render.py trace --out`.

    The Trace holds .prompt, .tokens (piece strings), .token_ids (prompt + generated),
    .n_prompt_tokens, .config, .steps (one record per generated token), and every tensor
    as a NumPy array by its TransformerLens name, without the batch axis (T tokens, H heads,
    d width, dh = d / H): t["hook_embed"] (T, d), t["blocks.0.attn.hook_q"] (T, H, dh),
    t["blocks.0.attn.hook_attn_scores"] and ["blocks.0.attn.hook_pattern"] (H, T, T),
    t["blocks.0.mlp.hook_post"] (T, 4d), t["logits"] (T, vocab); the README lists them all.
    """
    given = command_options("trace", prompt=prompt, model=model, generate=generate, temperature=temperature,
                            top_k=top_k, top_p=top_p, seed=seed, out=out)
    if out is not None:
        return commands.trace_to_file(given)[1]
    return commands.run_tracer(given["prompt"], **commands.model_settings(given))[1]


def still(trace, scene, lang="en", theme="dark", layer=None, head=None, on_screen_captions=True, quality="high",
          out=None):
    """The last frame of one scene (see scenes()) as a PNG, as `render.py still`: a Still, shown inline."""
    saved, trace_file = trace_source(trace)
    given = command_options("still", trace_file=trace_file, info=scene, language=lang, theme=theme, layer=layer,
                            head=head, on_screen_captions=on_screen_captions, quality=quality, out=out)
    out, preset = commands.make_still(given, saved)
    with open(out, "rb") as file:  # kept: a later still() may write another picture to the same path
        return Still(out, preset.width, preset.height, file.read())


def video(trace, scenes=None, lang="en", theme="dark", layer=None, head=None, on_screen_captions=True,
          quality="high", fps=None, jobs=None, out=None, captions=True, format=None, transparent=False,
          beats=False, cache=True):
    """The video of `scenes` (names, in order; None: all), as `render.py video`, the clip cache
    included: a Video, played inline. Raises renderer.workers.SceneFailed if a scene fails."""
    saved, trace_file = trace_source(trace)
    given = command_options("video", trace_file=trace_file, scene_list=scene_names(scenes), language=lang,
                            theme=theme, layer=layer, head=head, on_screen_captions=on_screen_captions,
                            quality=quality, fps=fps, jobs=jobs, out=out, captions=captions, clip_format=format,
                            transparent=transparent, beats=beats, cache=cache)
    out, clips, subtitles, _ = commands.make_video(given, saved)
    return Video(out, clips, subtitles)


def slides(trace, to, scenes=None, lang="en", theme="dark", layer=None, head=None, on_screen_captions=True,
           quality="high", fps=None, jobs=None, out=None, cache=True):
    """A deck of the beats of `scenes`, `to` "html" (reveal.js) or "pptx", as `render.py slides`:
    a Deck, shown inline (the HTML deck in an iframe)."""
    saved, trace_file = trace_source(trace)
    given = command_options("slides", trace_file=trace_file, kind=to, scene_list=scene_names(scenes),
                            language=lang, theme=theme, layer=layer, head=head,
                            on_screen_captions=on_screen_captions, quality=quality, fps=fps, jobs=jobs, out=out,
                            cache=cache)
    out, deck, _ = commands.make_slides(given, saved)
    return Deck(out, given["kind"], len(deck.slides))


def scenes():
    """The scenes, in storyboard order, each with what it shows (as `render.py scenes`)."""
    from scenes import catalog  # the catalog: names and summaries, no Manim

    return {info.name: info.summary for info in catalog.CATALOG}


# -- what they return: files that show themselves in a notebook -----------------------------

@dataclass(frozen=True)
class Still:
    """A PNG written by still(): shown inline; .save(path) writes it elsewhere."""

    path: str
    width: int
    height: int
    png: bytes = field(repr=False)  # the picture as still() wrote it

    def _repr_png_(self):
        return self.png

    def save(self, path):
        """Write the picture to `path` (a .png file; its folder must exist). Returns `path`."""
        from renderer.files import publish, private_directory
        from renderer.outputs import output_path

        out = output_path(os.fspath(path), "", ".png")
        with private_directory(os.path.dirname(os.path.abspath(out))) as work:  # whole, or not at all
            written = os.path.join(work, "still.png")
            with open(written, "wb") as file:
                file.write(self.png)
            publish(written, out)
        return path


@dataclass(frozen=True)
class Video:
    """A video written by video(): played inline as an HTML5 <video>; `clips` and `captions`
    are the files written beside it."""

    path: str
    clips: list
    captions: list

    def _repr_html_(self):
        src = browser_source(self.path)
        if self.path.endswith(".gif"):
            return f'<img src="{src}" style="max-width: 100%">'
        tracks = "".join(f'<track kind="captions" src="{browser_source(path)}" default>'
                         for path in self.captions if path.endswith(".vtt"))
        return f'<video src="{src}" controls style="max-width: 100%">{tracks}</video>'


@dataclass(frozen=True)
class Deck:
    """A deck written by slides(): the HTML deck shown inline in an iframe, a PPTX as its path."""

    path: str
    kind: str  # "html" or "pptx"
    n_slides: int  # the beat slides, after the title slide

    def _repr_html_(self):
        if self.kind == "html":
            return (f'<iframe src="{browser_source(self.path)}" width="960" height="540" '
                    'style="max-width: 100%; border: 0" allowfullscreen></iframe>')
        return f"<p>{html.escape(self.path)}: a title slide and {self.n_slides} beat slides</p>"


def browser_source(path):
    """How the notebook's page finds the file `path`: relative to the notebook's folder (the
    kernel's working directory), which Jupyter serves; a file outside it is embedded, as a
    data: URL, since the page cannot reach it."""
    relative = os.path.relpath(os.path.abspath(path))
    if not relative.startswith(os.pardir):
        return quote(relative.replace(os.sep, "/"))
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as file:
        return f"data:{kind};base64,{base64.b64encode(file.read()).decode('ascii')}"
