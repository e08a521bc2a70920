"""Where a command's files go, checked before any work starts.

By default under media/ (as Manim users expect), named after the prompt; a video's clips
go to a folder named after the video. A path that cannot be written is refused at once,
with one line saying why, rather than after minutes of rendering.
"""

import os
import re
import unicodedata

from tracer.errors import UserError

DEFAULT_MEDIA_DIR = "media"


def slug(prompt, limit=40):
    """A file name from the prompt: letters, digits and dashes only, so no path can escape."""
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return words[:limit].rstrip("-") or "prompt"


def output_path(out, prompt, suffix, default_suffix=None):
    """The user's --out, which must end with `suffix`, or media/<slug><default_suffix or suffix>;
    checked writable before any work starts (and before anything is written or opened)."""
    if out is not None and not out.lower().endswith(suffix):
        raise UserError(f"--out must name a {suffix} file, not {out}")
    if out is None:
        os.makedirs(DEFAULT_MEDIA_DIR, exist_ok=True)
        out = os.path.join(DEFAULT_MEDIA_DIR, slug(prompt) + (default_suffix or suffix))
    if os.path.isdir(out):
        raise UserError(f"cannot write {out}: it is a directory")
    if os.path.lexists(out) and not (os.path.isfile(out) or os.path.islink(out)):
        # a device node, a FIFO, a socket: os.replace would put a regular file in its place
        raise UserError(f"cannot write {out}: it is not a regular file")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise UserError(f"cannot write {out}: the directory {os.path.dirname(out) or parent} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(out) and not os.access(out, os.W_OK)):
        raise UserError(f"cannot write {out}: permission denied")
    return out


def clips_directory(out):
    """Where a video's clips go: media/<slug>.mp4 -> media/<slug>/clips/."""
    clips = os.path.join(os.path.splitext(out)[0], "clips")
    existing = os.path.abspath(clips)
    while not os.path.exists(existing):  # the nearest part of the path that exists must be a directory
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UserError(f"cannot write the clips to {clips}: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise UserError(f"cannot write the clips to {clips}: permission denied")
    return clips
