"""The command line: prompt -> tracer -> Trace -> scenes -> files.

Only click is imported at start-up, so `--help` is instant; torch, transformers and
manim are imported inside the commands that need them.
"""

import os
import re
import sys
import unicodedata

import click

DEFAULT_MEDIA_DIR = "media"


# -- shared options -------------------------------------------------------------------

def model_options(command):
    """--model and the generation settings, shared by every command that runs a model."""
    options = [
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


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
