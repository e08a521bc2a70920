"""The clip cache: a rendered clip is reused while nothing that shapes it has changed.

A clip's key (`clip_key`) is a SHA-256 over everything that decides its pixels and its
caption cues: the trace file's content (`file_digest`, computed once per render by the
parent, or `bytes_digest` for a trace held in memory), the task's render settings (every
RenderTask field except those that only say where, UNKEYED_FIELDS and names ending in
WHERE_SUFFIXES: the scene, its options, the quality preset, and any field added later), the code that draws and encodes it (every file of the
scenes package, the Trace class and the renderer modules that shape a clip) and the
versions of Manim and the libraries under it. A scene that follows no layer or head
(catalog `follows` None) leaves --layer and --head out of its key, so choosing another
head re-renders only the attention deep dive.

Layout of the cache folder (`cache_root()`: $GPT2_EXPLAINER_CACHE, else
$XDG_CACHE_HOME/gpt2-explainer/clips, else ~/.cache/gpt2-explainer/clips):

    CACHEDIR.TAG       says the folder is this program's cache (and backup tools skip it)
    <key>/             one entry: its files ("clip", "cues", ...) and entry.json (its key, and
                       each file's size and SHA-256)
    timings.json       how long each scene took to render last time (renderer/balance.py)
    .render-<pid>-*    an entry being written, or one being evicted

Why it is safe:

- an entry is built in a private directory of the cache folder and renamed to its key in
  one step, so a reader sees a complete entry or none. A render killed while storing
  leaves only its private directory, which the next run removes (its process is gone:
  files.sweep_stale_work); a render killed while rendering stores nothing;
- two renders of the same clip may both render it; the second rename finds the entry in
  place and drops its own copy;
- a hit is copied out (never hard-linked), so nothing done to a published clip reaches
  the cache; an entry whose files differ from what its entry.json recorded (size and
  SHA-256: a crash of the machine, a damaged disk, a hand edit), or whose entry.json names
  another key (entries swapped), is a miss: it is removed, and the clip rendered again;
- eviction renames an entry away before deleting it, so a reader never sees half of one;
  it removes only what the cache can prove it wrote: entries (folders whose entry.json is
  one this program writes) of a folder that holds CACHEDIR.TAG. $GPT2_EXPLAINER_CACHE may
  name a folder that holds the user's own files too: they stay, whatever their names.

Its size is kept under a limit ($GPT2_EXPLAINER_CACHE_SIZE, e.g. 500M or 2G; default 2G;
0 turns the cache off), removing the entries used least recently first (each hit touches
its entry's modification time).

For other render paths (renderer/batch.py renders single scenes from trace bytes):

    cache = clip_cache_from_environment()        # None when turned off
    key = clip_key(task, bytes_digest(trace_bytes))
    if cache is None or not cache.fetch(key, clip_files(task)):
        ...render task.out and its cues...
        if cache is not None:
            cache.store(key, clip_files(task))

`lookup(key)` gives the paths inside the cache instead of copies (read them at once: an
entry may be evicted by another render).
"""

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from renderer.beats import beats_directory
from renderer.captions import cues_path
from renderer.files import WORK_PREFIX, sweep_stale_work
from renderer.sound import sound_path

# Bump when what an entry holds or how a key is made changes: older entries then miss.
CACHE_FORMAT = 4  # 4: a narrated clip's entry holds its sound track; speech entries
DEFAULT_LIMIT = 2 * 1000**3  # bytes
ENTRY_MANIFEST = "entry.json"
TIMINGS = "timings.json"
# The cache directory tag (https://bford.info/cachedir/): marks the folder as this program's cache.
CACHE_TAG = "CACHEDIR.TAG"
CACHE_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# This folder is the clip cache of gpt2-explainer (render.py); it can be deleted.\n")
_KEY = re.compile(r"^[0-9a-f]{64}$")

# RenderTask fields that say where, not what: the clip is the same wherever it is written.
# So is any field whose name ends in one of WHERE_SUFFIXES (a later `beats_out`, `work_dir`).
UNKEYED_FIELDS = frozenset({"index", "trace_path", "out"})
WHERE_SUFFIXES = ("_path", "_out", "_dir")
# Options that only a scene following a layer or head reads (scenes/base.py LayerScene, HeadScene).
# A LayerScene reads both: the head may pick its layer, and layernorm's why_line names the head.
LAYER_HEAD_OPTIONS = ("layer", "head")

ROOT = Path(__file__).resolve().parent.parent
# The code that shapes a clip, besides the scenes package: the Trace the scenes read, how a
# scene becomes an MP4 and its cues, the presets. (Not the code that hands clips around.)
CLIP_CODE = ("tracer/trace.py", "renderer/manim_run.py", "renderer/presets.py", "renderer/captions.py",
             "renderer/formats.py", "renderer/beats.py", "renderer/cache.py", "renderer/sound.py",
             "renderer/voices.py", "renderer/narration.py")
# Manim and what it draws and encodes with: a new version may draw a clip differently.
CLIP_PACKAGES = ("manim", "manimpango", "pycairo", "av", "numpy", "scipy", "pyloudnorm")


# -- keys ---------------------------------------------------------------------------------

def file_digest(path, chunk=1 << 20):
    """SHA-256 of a file's content, read in chunks (a trace of GPT-2 XL is hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def bytes_digest(data):
    """SHA-256 of a trace held in memory: equal to file_digest of the same bytes on disk."""
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=None)
def code_digest():
    """One digest of the code that draws a clip: every file of the scenes package (paths and
    contents, in sorted order) and CLIP_CODE, plus the versions of CLIP_PACKAGES."""
    digest = hashlib.sha256()
    files = sorted(path for path in (ROOT / "scenes").rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts)
    for path in files + [ROOT / name for name in CLIP_CODE]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in CLIP_PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    return digest.hexdigest()


def plain(value):
    """A value as JSON can hold it, the same for equal values: dataclasses as their fields,
    tuples as lists (json.dumps then sorts every dict's keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot key a clip on {type(value).__name__} {value!r}: add it to renderer/cache.py plain()")


def render_settings(task):
    """What of a RenderTask shapes its clip: every field but UNKEYED_FIELDS, with --layer and
    --head left out of the options of a scene that follows neither."""
    settings = {field.name: getattr(task, field.name) for field in dataclasses.fields(task)
                if field.name not in UNKEYED_FIELDS and not field.name.endswith(WHERE_SUFFIXES)}
    if getattr(task.scene, "follows", None) is None and isinstance(settings.get("options"), dict):
        settings["options"] = {name: value for name, value in settings["options"].items()
                               if name not in LAYER_HEAD_OPTIONS}
    return plain(settings)


def clip_key(task, trace_digest):
    """The cache key of a task's clip, given the digest of its trace's content."""
    described = {"format": CACHE_FORMAT, "trace": trace_digest, "code": code_digest(),
                 "settings": render_settings(task)}
    return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def clip_files(task):
    """The files a task produces, by role: what an entry holds (a task that writes more files
    adds them here, and CACHE_FORMAT goes up). A role may be a folder: a task with `beats`
    also leaves its beats' clips and their index (beats.py)."""
    files = {"clip": task.out, "cues": cues_path(task.out)}
    if getattr(task, "beats", False):
        files["beats"] = beats_directory(task.out)
    if getattr(task, "narration", None) is not None:
        files["sound"] = sound_path(task.out)
        files["script"] = os.path.splitext(task.out)[0] + ".script.json"  # narration.script_path
    return files


def content_digest(path, chunk=1 << 20):
    """SHA-256 of a file, or of a folder: each file's path in it and its content, in sorted order."""
    path = Path(path)
    if not path.is_dir():
        return file_digest(path, chunk)
    digest = hashlib.sha256()
    for file in sorted(item for item in path.rglob("*") if item.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file_digest(file, chunk).encode() + b"\0")
    return digest.hexdigest()


def stored_size(path):
    """Bytes of a file, or of every file in a folder (a role may be either)."""
    path = Path(path)
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def copy_role(source, destination):
    """A role's file or folder to `destination`, which must not exist yet (a folder)."""
    if os.path.isdir(source):
        shutil.copytree(source, destination)
    else:
        shutil.copyfile(source, destination)


# -- where, and how big ------------------------------------------------------------------

def cache_root(environ=os.environ):
    """$GPT2_EXPLAINER_CACHE, else the XDG cache folder's gpt2-explainer/clips."""
    if environ.get("GPT2_EXPLAINER_CACHE"):
        return Path(environ["GPT2_EXPLAINER_CACHE"]).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # XDG: a relative path is ignored
    return base / "gpt2-explainer" / "clips"


_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}


def parse_size(text):
    """'2G', '500M', '1.5GB', '123456' -> bytes (decimal units); ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r} (write it like 500M or 2G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def clip_cache_from_environment(environ=os.environ):
    """The user's clip cache, or None when $GPT2_EXPLAINER_CACHE_SIZE is 0. A size that is not
    one raises tracer.errors.UserError (bad input: one line, exit status 2)."""
    from tracer.errors import UserError

    try:
        limit = parse_size(environ.get("GPT2_EXPLAINER_CACHE_SIZE") or str(DEFAULT_LIMIT))
    except ValueError as error:
        raise UserError(f"GPT2_EXPLAINER_CACHE_SIZE: {error}")
    return ClipCache(cache_root(environ), limit) if limit > 0 else None


# -- the cache ------------------------------------------------------------------------------

class ClipCache:
    """Entries under `root`, kept under `limit` bytes in all."""

    def __init__(self, root, limit=DEFAULT_LIMIT):
        self.root = Path(root)
        self.limit = limit
        self.trouble = None  # why the last store failed (a folder we may not write, a full disk), for a note

    def entry(self, key):
        if not _KEY.match(key):
            raise ValueError(f"not a clip key: {key!r}")
        return self.root / key

    def lookup(self, key):
        """{role: path inside the cache} of the complete entry `key`, marked as used; None on a miss.
        An entry that is there but damaged (or another key's) is removed, so the clip is rendered
        and stored again."""
        entry = self.entry(key)
        if not os.path.lexists(entry):
            return None
        files = self.verified(entry, key)
        if files is None:
            self.discard(entry)
            return None
        try:
            os.utime(entry)  # its last use, for the eviction order
        except OSError:  # a cache we may read but not write: still a hit
            pass
        return files

    def fetch(self, key, destinations):
        """Copy the entry's files to `destinations` ({role: path}); False (and nothing
        copied that stays) on a miss, or when the entry lacks one of those roles or is
        evicted while being read."""
        found = self.lookup(key)
        if found is None or set(destinations) - set(found):
            return False
        copied = []
        try:
            for role, destination in destinations.items():
                copy_role(found[role], destination)  # a copy: the published clip is not the cache's file
                copied.append(destination)
        except OSError:
            for path in copied:
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
            return False
        return True

    def verified(self, entry, key):
        """{role: path} of `entry` when every file matches what its entry.json recorded for `key`; else None."""
        try:
            with open(entry / ENTRY_MANIFEST, encoding="utf-8") as file:
                manifest = json.load(file)
            if manifest["format"] != CACHE_FORMAT or manifest["key"] != key:
                return None  # an older kind of entry, or another key's (swapped)
            files = {role: entry / role for role in manifest["files"]}
            for role, listed in manifest["files"].items():
                if stored_size(files[role]) != listed["size"] or content_digest(files[role]) != listed["sha256"]:
                    return None  # damaged: a crash of the machine, a bad disk, a hand edit
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return files

    def discard(self, entry):
        """Remove a damaged entry under a key we computed, in a folder we mark as our cache (another
        render may be storing it again meanwhile: renamed away first, as eviction does)."""
        if not self.marked():
            return
        try:
            doomed = tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=self.root)
        except OSError:  # a cache we may read but not write: it stays a miss
            return
        try:
            os.rename(entry, os.path.join(doomed, "entry"))
        except OSError:
            pass
        shutil.rmtree(doomed, ignore_errors=True)

    def marked(self):
        """Whether the cache folder holds our CACHEDIR.TAG (written with the first entry)."""
        try:
            with open(self.root / CACHE_TAG, encoding="utf-8") as file:
                return file.read(len(CACHE_TAG_TEXT)) == CACHE_TAG_TEXT
        except (OSError, ValueError):
            return False

    def mark(self):
        if not self.marked():
            handle, temporary = tempfile.mkstemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=self.root)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(CACHE_TAG_TEXT)
            os.replace(temporary, self.root / CACHE_TAG)

    def store(self, key, files):
        """Keep `files` ({role: path}) as the entry `key`, then evict down to the limit.
        Returns False when the entry was not added (another render stored it first, or
        the cache folder cannot be written: the cache never fails a render)."""
        entry = self.entry(key)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            sweep_stale_work(self.root)  # entries half-written or half-evicted by killed renders
            self.mark()
            private = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=self.root))
        except OSError as error:
            self.trouble = error.strerror or str(error)
            return False
        try:
            recorded = {}
            for role, source in files.items():
                copy_role(source, private / role)
                recorded[role] = {"size": _synced_size(private / role), "sha256": content_digest(private / role)}
            with open(private / ENTRY_MANIFEST, "w", encoding="utf-8") as file:
                json.dump({"format": CACHE_FORMAT, "key": key, "files": recorded}, file)
            os.rename(private, entry)  # the entry appears whole, or not at all
        except OSError as error:
            shutil.rmtree(private, ignore_errors=True)
            if not entry.is_dir():  # else a concurrent render stored it first: nothing wrong
                self.trouble = error.strerror or str(error)
            return False
        self.evict()
        return True

    def entries(self):
        """[(last use, bytes, path)] of every entry, oldest first: only those we can prove we wrote
        (in a folder marked as our cache, each with an entry.json of ours), of this format or older."""
        found = []
        for path in self.root.iterdir() if self.root.is_dir() and self.marked() else ():
            if _KEY.match(path.name) and path.is_dir() and not path.is_symlink() and written_by_us(path):
                try:
                    used = path.stat().st_mtime
                    size = stored_size(path)
                except OSError:  # evicted meanwhile by another render
                    continue
                found.append((used, size, path))
        return sorted(found)

    def size(self):
        return sum(size for _, size, _ in self.entries())

    def evict(self):
        """Remove the least recently used entries until the rest fit in the limit; returns their paths."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in entries:
            if total <= self.limit:
                break
            try:
                doomed = tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=self.root)
            except OSError:
                break
            try:  # renamed away first: a reader sees the whole entry or nothing
                os.rename(path, os.path.join(doomed, "entry"))
            except OSError:  # another render evicted it first
                os.rmdir(doomed)
                continue
            shutil.rmtree(doomed, ignore_errors=True)
            total -= size
            removed.append(path)
        return removed

    # -- how long scenes took, for handing out the longest first (renderer/balance.py) ------

    def timings(self):
        """{estimate key: seconds} from earlier renders; empty when none or unreadable."""
        try:
            with open(self.root / TIMINGS, encoding="utf-8") as file:
                timings = json.load(file)
        except (OSError, ValueError):
            return {}
        return {key: value for key, value in timings.items() if isinstance(value, (int, float))} \
            if isinstance(timings, dict) else {}

    def remember_timings(self, seconds):
        """Merge {estimate key: seconds} into timings.json (atomically: a reader never sees half
        a file; two renders at once may lose one's update, which only costs an estimate)."""
        if not seconds:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=self.root)
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump({**self.timings(), **seconds}, file, indent=1, sort_keys=True)
            os.replace(temporary, self.root / TIMINGS)
        except OSError:
            os.unlink(temporary)


def written_by_us(entry):
    """Whether the folder `entry` holds an entry.json as this program writes them (any format:
    a dict with the format and the files), which the user's own folders do not."""
    try:
        with open(os.path.join(entry, ENTRY_MANIFEST), encoding="utf-8") as file:
            manifest = json.load(file)
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("format"), int) \
        and isinstance(manifest.get("files"), dict)


def _synced_size(path):
    """Flush a copied file (or every file of a copied folder) to the disk (a rename may outlive
    its data in a crash) and return its size."""
    path = Path(path)
    for file in path.rglob("*") if path.is_dir() else [path]:
        if file.is_file():
            with open(file, "rb+") as handle:
                os.fsync(handle.fileno())
    return stored_size(path)
