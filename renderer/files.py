"""Where a render's files live until they are complete, and how they get their final names.

Two rules keep a killed or failed run harmless:

- every render works in its own private directory (`.render-<pid>-*`, next to where its
  result goes) with Manim's caching disabled, so no run ever reads what another left
  behind (Manim's partial-movie cache is poisoned by a render killed mid-animation);
- a file appears under its final name only once complete: it is written inside the
  private directory and moved into place with os.replace, which is atomic.

Private directories are removed when a render ends; those of a process that was killed
(SIGKILL leaves no chance to clean up) are removed by the next run in the same place, as
are the partial files (`.trace-<pid>-*.partial`) of a killed `trace`.
"""

import errno
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager

WORK_PREFIX = ".render-"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # no room left on the disk, or in the user's quota
# a render's work directories and temporary files, and a trace's partial file (tracer/trace.py)
_WORK_NAME = re.compile(r"^\.(?:render|trace)-(\d+)-")


@contextmanager
def private_directory(parent):
    """A fresh directory inside `parent`, named after this process, removed on the way out.

    It lives beside the final files so that os.replace from it is a rename on the same
    file system, hence atomic. Where `parent` does not exist yet, it lives in the nearest
    folder above that does (the folders the files go to are on its file system once made):
    `parent` is made only when a file is published into it, so a run that fails leaves no
    empty folders behind.
    """
    home = nearest_existing(parent)
    if home != os.path.abspath(parent):
        sweep_stale_work(home)  # the caller swept `parent`, which does not exist
    path = tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=home)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


DISK_FULL_MARGIN = 1 << 20  # bytes: with less free, a failed write is taken to be the full disk's


def disk_is_full(path):
    """Whether the file system of `path` has (almost) no room left for us."""
    try:
        status = os.statvfs(path)
    except OSError:
        return False
    return status.f_bavail * status.f_frsize < DISK_FULL_MARGIN


def disk_full_error(path):
    """The OSError of a full disk, naming the folder of `path` that is the user's (not a private one)."""
    folder = os.path.abspath(path)
    while os.path.basename(folder).startswith(WORK_PREFIX) or not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), folder)


def sweep_stale_work(parent):
    """Remove what killed runs left in `parent`: private directories and temporary files
    whose process is gone (a live process's are in use: another render is running)."""
    if not os.path.isdir(parent):
        return []
    removed = []
    for name in os.listdir(parent):
        match = _WORK_NAME.match(name)
        path = os.path.join(parent, name)
        if match and not process_alive(int(match.group(1))):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
            removed.append(path)
    return removed


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True


def nearest_existing(path):
    """`path` itself if it exists, else the nearest folder above it that does."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    return path


def publish(finished, final):
    """Move a complete file to its final name in one atomic step (never a half-written file there),
    making the folders above it that do not exist yet."""
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    try:
        os.replace(finished, final)
    except OSError as error:
        if error.errno != errno.EXDEV:  # on another file system: copy beside the target first
            raise
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(final)),
                                             prefix=f"{WORK_PREFIX}{os.getpid()}-")
        os.close(handle)
        try:
            shutil.copyfile(finished, temporary)
            os.replace(temporary, final)
        except BaseException:
            os.unlink(temporary)
            raise
    return final


# -- a video's clips --------------------------------------------------------------------

def clip_name(position, scene_name, extension=".mp4"):
    """A clip's file name: its place in the video, then the scene (01_title.mp4)."""
    return f"{position:02d}_{scene_name}{extension}"


CLIPS_MANIFEST = ".gpt2-explainer-clips.json"


def publish_clips(finished, clips_dir):
    """Move the finished clips into clips_dir, and remove the clips of an earlier render that this video lacks.

    Only files this program wrote are removed: it lists the clips it publishes in a manifest
    beside them (CLIPS_MANIFEST), each with its size and modification time, and removes only
    those listed there and still unchanged. Whatever else is in the folder stays, even a file
    named like a clip (the user's own 01_intro.mp4, or one of ours that the user rewrote): a
    clip of this video under the name of such a file is refused (UserError) before any is moved.
    """
    os.makedirs(clips_dir, exist_ok=True)
    sweep_stale_work(clips_dir)  # a manifest half-written by a killed run
    earlier = written_clips(clips_dir)
    check_clip_names_free(clips_dir, [os.path.basename(path) for path in finished], earlier)
    published = [publish(path, os.path.join(clips_dir, os.path.basename(path))) for path in finished]
    write_manifest(clips_dir, {os.path.basename(path): fingerprint(path) for path in published})
    for name, recorded in earlier.items():
        path = os.path.join(clips_dir, name)
        if path not in published and unchanged_since_written(path, recorded):
            os.unlink(path)
    return published


def check_clip_names_free(clips_dir, names, earlier=None):
    """Refuse (UserError, naming the file) to write a clip over a file in clips_dir that this
    program did not write, or that was changed since (an edited caption file): the user's."""
    from tracer.errors import UserError

    earlier = written_clips(clips_dir) if earlier is None else earlier
    for name in names:
        path = os.path.join(clips_dir, name)
        if os.path.lexists(path) and not unchanged_since_written(path, earlier.get(name)):
            raise UserError(f"cannot write {path}: a file of yours is there (this program did not write it, "
                            "or it was changed since); move it away, or give another --out")


def video_file_paths(out, captions=True, narrated=False):
    """The video's own files beside it: v.mp4 -> v.srt, v.vtt with `captions`, and the
    narration script v.script.csv, v.script.txt when `narrated`."""
    stem = os.path.splitext(out)[0]
    return ([stem + ".srt", stem + ".vtt"] if captions else []) + \
        ([stem + ".script.csv", stem + ".script.txt"] if narrated else [])


def check_video_files_free(out, clips_dir, captions=True, narrated=False):
    """Refuse (UserError, naming the file) to write the video's caption (or script) files over
    a file this program did not write beside it, or one changed since (a caption the user
    corrected by hand): the clips' manifest lists those the last render wrote, with their
    fingerprints."""
    from tracer.errors import UserError

    ours = written_video_files(clips_dir)
    for path in video_file_paths(out, captions, narrated):
        name = os.path.basename(path)
        if os.path.lexists(path) and not unchanged_since_written(path, ours.get(name)):
            raise UserError(f"cannot write {path}: a file of yours is there (this program did not write it, "
                            "or it was changed since); move it away, or give another --out")


def record_video_files(clips_dir, paths):
    """Add the video's caption (and script) files just published (`paths`) to the manifest in
    clips_dir, so that the next render can tell them from a file the user edited."""
    write_manifest(clips_dir, written_clips(clips_dir), {os.path.basename(path): fingerprint(path) for path in paths})


def unchanged_since_written(path, recorded):
    """Whether `path` is the plain file this program wrote with fingerprint `recorded` (None: it
    wrote none there), unchanged since: only such a file may be replaced or removed."""
    return recorded is not None and os.path.isfile(path) and not os.path.islink(path) \
        and fingerprint(path) == recorded


def fingerprint(path):
    """What tells a clip we wrote from a file put in its place since."""
    status = os.stat(path)
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def written_clips(clips_dir):
    """{clip name: fingerprint} as the manifest in clips_dir lists them: nothing when it is missing
    or damaged, and only plain clip names (a manifest naming ../elsewhere or a folder proves nothing)."""
    clips = manifest_listing(clips_dir, "clips")
    return {name: recorded for name, recorded in clips.items() if CLIP_NAME.match(name) and isinstance(recorded, dict)}


def manifest_listing(clips_dir, key):
    """The {name: fingerprint} dict under `key` in clips_dir's manifest: empty when it is
    missing or damaged."""
    try:
        with open(os.path.join(clips_dir, CLIPS_MANIFEST), encoding="utf-8") as file:
            listing = json.load(file).get(key)
    except (OSError, ValueError, AttributeError):
        return {}
    return listing if isinstance(listing, dict) else {}


def written_video_files(clips_dir):
    """{file name: fingerprint} of the video's own caption (and script) files, as the manifest
    in clips_dir lists them (the video's folder holds them: names only, no path)."""
    captions = manifest_listing(clips_dir, "video files")
    return {name: recorded for name, recorded in captions.items()
            if isinstance(name, str) and os.path.basename(name) == name and isinstance(recorded, dict)}


# a clip (or one of its beats: 02_tokens.01_text.mp4, see beats.py), in any format, and its caption files
CLIP_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_-]+(\.\d{2}_[A-Za-z0-9_-]+)?\.(mp4|webm|mov|gif|srt|vtt)$")


def write_manifest(clips_dir, clips, video_files=None):
    """List `clips` ({name: fingerprint}) as those this program wrote into clips_dir, and
    `video_files` ({name: fingerprint}) as the video's caption and script files it wrote (atomically)."""
    handle, temporary = tempfile.mkstemp(dir=clips_dir, prefix=f"{WORK_PREFIX}{os.getpid()}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({"written by": "gpt2-explainer video", "clips": clips, "video files": video_files or {}},
                      file, indent=1)
        os.replace(temporary, os.path.join(clips_dir, CLIPS_MANIFEST))
    except BaseException:
        os.unlink(temporary)
        raise
