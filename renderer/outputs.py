"""Where a command's files go, checked before any work starts.

By default under media/ (as Manim users expect), named after the prompt; a video's clips
go to a folder named after the video. A path that cannot be written is refused at once,
with one line saying why, rather than after minutes of rendering. Folders of the path that
do not exist yet are made only when the files are published (files.publish), so a run
refused or failed leaves nothing behind.
"""

import os
import unicodedata

from renderer.files import disk_is_full, nearest_existing
from tracer.errors import UserError

DEFAULT_MEDIA_DIR = "media"
SLUG_LIMIT = 60  # characters


def slug(prompt, limit=SLUG_LIMIT, fallback="prompt"):
    """A file name from the prompt: its letters (of any script, NFC), digits and marks, lower
    case, with a dash for every run of anything else, so no path can escape; `fallback` for a
    prompt that has none (only emoji or punctuation)."""
    text = unicodedata.normalize("NFC", prompt).lower()
    words = "".join(char if unicodedata.category(char)[0] in "LMN" else "-" for char in text)
    words = "-".join(part for part in words.split("-") if part)
    return unicodedata.normalize("NFC", words[:limit].rstrip("-")) or fallback


def output_path(out, prompt, suffix, default_suffix=None):
    """The user's --out, which must end with `suffix`, or media/<slug><default_suffix or suffix>;
    checked writable before any work starts (and before anything is written or opened)."""
    if out is not None and "\0" in out:
        raise UserError(f"cannot write {out!r}: a file name cannot hold a NUL byte")
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
    existing = writable_folder(out, out)
    check_name_lengths(out, existing)
    if disk_is_full(existing):  # found now, not as a scene's damaged working files minutes later
        raise UserError(f"cannot write {out}: no space left on the device of {existing}")
    return out


def writable_folder(path, what):
    """The nearest folder of `path` that exists, once it is known to be a folder we may write in
    (the folders below it are made when the files are published)."""
    existing = nearest_existing(os.path.dirname(os.path.abspath(path)))
    if not os.path.isdir(existing):
        raise UserError(f"cannot write {what}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {what}: permission denied")
    return existing


def check_name_lengths(out, existing):
    """Every name the render writes fits the file system's limit (255 bytes on most), so none fails
    after the work: each folder of `out` and `out` itself (what derives from it is no longer: its
    caption files FILE.srt and FILE.vtt, since every suffix has 4 characters or more, its clips
    folder FILE/, the clips' own short names)."""
    try:
        limit = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for name in os.path.abspath(out).split(os.sep):
        size = len(os.fsencode(name))
        if size > limit:
            shown = name if len(name) <= 40 else name[:20] + "..." + name[-12:]
            raise UserError(f"cannot write {shown}: the name is {size} bytes long, and the file system "
                            f"takes at most {limit}; give a shorter --out")


def clips_directory(out):
    """Where a video's clips go: media/<slug>.mp4 -> media/<slug>/clips/."""
    clips = os.path.join(os.path.splitext(out)[0], "clips")
    existing = nearest_existing(clips)  # it must be a directory
    if not os.path.isdir(existing):
        raise UserError(f"cannot write the clips to {clips}: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise UserError(f"cannot write the clips to {clips}: permission denied")
    return clips
