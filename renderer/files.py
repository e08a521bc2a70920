"""Where a render's files live until they are complete, and how they get their final names.

Two rules keep a killed or failed run harmless:

- every render works in its own private directory (`.render-<pid>-*`, next to where its
  result goes) with Manim's caching disabled, so no run ever reads what another left
  behind (Manim's partial-movie cache is poisoned by a render killed mid-animation);
- a file appears under its final name only once complete: it is written inside the
  private directory and moved into place with os.replace, which is atomic.

Private directories are removed when a render ends; those of a process that was killed
(SIGKILL leaves no chance to clean up) are removed by the next run in the same place.
"""

import errno
import os
import re
import shutil
import tempfile
from contextlib import contextmanager

WORK_PREFIX = ".render-"
_WORK_NAME = re.compile(r"^\.render-(\d+)-")


@contextmanager
def private_directory(parent):
    """A fresh directory inside `parent`, named after this process, removed on the way out.

    It lives beside the final files so that os.replace from it is a rename on the same
    file system, hence atomic.
    """
    os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=parent)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


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


def publish(finished, final):
    """Move a complete file to its final name in one atomic step (never a half-written file there)."""
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

def clip_name(position, scene_name):
    """A clip's file name: its place in the video, then the scene (01_title.mp4)."""
    return f"{position:02d}_{scene_name}.mp4"


CLIP_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_-]+\.(mp4|srt|vtt)$")  # a clip and its caption files


def publish_clips(finished, clips_dir):
    """Move the finished clips into clips_dir, and remove clips of earlier renders that this video lacks.

    Only files named like clips are removed: whatever else the user keeps there stays.
    """
    os.makedirs(clips_dir, exist_ok=True)
    published = [publish(path, os.path.join(clips_dir, os.path.basename(path))) for path in finished]
    names = {os.path.basename(path) for path in published}
    for name in os.listdir(clips_dir):
        if CLIP_NAME.match(name) and name not in names:
            os.unlink(os.path.join(clips_dir, name))
    return published
