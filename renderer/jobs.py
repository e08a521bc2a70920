"""The job file of `render.py batch`: which videos to render, each with its own options.

Three forms, told apart by the file's suffix:

- plain text (any other suffix): one prompt per line; blank lines and lines starting with
  `#` are skipped; every other option comes from the command line;
- CSV (.csv): a header row naming the columns (`prompt` and any of JOB_OPTIONS), then one
  job per row; an empty cell means "the command line's value";
- YAML (.yaml, .yml): a list of mappings with the same keys.

Each job keeps the line of the file it came from, so every message names it. The whole
file is checked before anything runs: an unknown option, a bad value or two jobs writing
the same video is one error line (exit status 2), and nothing has started. What only the
model can judge (a prompt its tokenizer refuses) is found when the job runs, and fails that
job alone (see batch.py). Plain Python and PyYAML: no Manim, no torch.
"""

import csv
import io
import os
from dataclasses import dataclass, field

from renderer.outputs import clips_directory, output_path, slug
from renderer.presets import MAX_FPS, QUALITIES
from scenes.strings import LANGUAGES
from tracer.errors import UserError, first_line

# The options a job may set, as a job file spells them (a dash works for an underscore).
MODEL_KEYS = ("model", "generate", "temperature", "top_k", "top_p", "seed")
SCENE_KEYS = ("lang", "theme", "on_screen_captions", "layer", "head")
RENDER_KEYS = ("scenes", "quality", "fps", "captions", "out")
NARRATION_KEYS = ("narrate", "voice")  # as --narrate and --voice (no --narration DIR: see job_narration)
JOB_OPTIONS = ("prompt",) + MODEL_KEYS + SCENE_KEYS + RENDER_KEYS + NARRATION_KEYS


@dataclass(frozen=True)
class Job:
    """One video to render: where it was asked for, and every setting it renders with."""

    line: int  # of the job file, from 1
    prompt: str
    model: dict  # keyword arguments of batch.trace_bytes: model, generate, temperature, top_k, top_p, seed
    options: dict  # keyword arguments of scenes.base.SceneOptions (language, theme, ...)
    scenes: tuple  # catalog names, in video order
    quality: str
    fps: float = None
    captions: bool = True
    out: str = ""
    clips_dir: str = field(default="", compare=False)
    narration: dict = None  # narration.narration_request's dict for a narrated video; None: silent


def read_jobs(path, defaults, out_dir="."):
    """The jobs of the file at `path`, each option taken from its line or else from `defaults`
    (a dict with every key of JOB_OPTIONS but prompt and out; without narrate and voice, silent).
    Raises UserError, with the line number, for anything wrong in the file; no file is written."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:  # -sig: the BOM a spreadsheet writes
            text = file.read()
    except FileNotFoundError:
        raise UserError(f"job file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is not UTF-8 text ({first_line(error)})") from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    suffix = os.path.splitext(path)[1].lower()
    rows = (csv_rows(text, path) if suffix == ".csv" else
            yaml_rows(text, path) if suffix in (".yaml", ".yml") else text_rows(text))
    unnamed = {}  # prompts with nothing a file name keeps (only emoji, say) -> their number
    jobs = [make_job(path, line, row, defaults, out_dir, unnamed) for line, row in rows]
    if not jobs:
        raise UserError(f"{path} lists no jobs")
    check_distinct_outputs(path, jobs)
    return jobs


# -- the three forms, each to (line, {option: value}) ------------------------------------

def editor_lines(text):
    """The lines of `text` as an editor numbers them: ended by \\n (or \\r\\n) only. (str.splitlines
    also ends a line at \\f, \\v, U+2028 and more, which a prompt may hold.)"""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the file's last newline ends its last line
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def text_rows(text):
    for line, content in enumerate(editor_lines(text), start=1):
        if content.strip() and not content.lstrip().startswith("#"):
            yield line, {"prompt": content}


def csv_rows(text, path):
    """Each row, with the line it starts on; a quoted cell keeps its newlines. No cell is too long
    for the csv module (its default limit is 131,072 characters): what a prompt may be is the
    model's to judge, as for the other two forms."""
    rows, limit, start = [], csv.field_size_limit(), 1
    reader = csv.reader(io.StringIO(text, newline=""))  # as csv wants a file opened: line ends kept as they are
    try:
        csv.field_size_limit(max(limit, len(text)))  # no cell is longer than the file
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)  # the module's setting is the whole process's
    if not rows or not rows[0][1]:
        raise UserError(f"{path} is empty: a CSV job file starts with a header row (prompt, model, ...)")
    names = [check_key(path, 1, name) for name in rows[0][1]]
    if "prompt" not in names:
        raise UserError(f"{path} line 1: the header has no 'prompt' column")
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            raise UserError(f"{path} line {line}: {len(cells)} cells, but the header names {len(names)} columns")
        yield line, {name: cell for name, cell in zip(names, cells) if cell.strip() or name == "prompt"}


def yaml_rows(text, path):
    """Each mapping of a YAML list, with the line it starts on (composed first: safe_load keeps no lines)."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        document = loader.get_single_node()
        if document is None:
            return
        if not isinstance(document, yaml.SequenceNode):
            raise UserError(f"{path}: a YAML job file is a list of jobs (- prompt: ...), "
                            f"not {document.tag.rsplit(':', 1)[-1]}")
        for node in document.value:
            line = node.start_mark.line + 1
            if isinstance(node, yaml.ScalarNode):  # `- CBABBC`: a bare prompt
                yield line, {"prompt": loader.construct_object(node)}
                continue
            if not isinstance(node, yaml.MappingNode):
                raise UserError(f"{path} line {line}: a job is a mapping (prompt: ..., model: ...), not a list")
            row = loader.construct_object(node, deep=True)
            yield line, {check_key(path, line, str(key)): value for key, value in row.items()}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where} is not valid YAML: {getattr(error, 'problem', None) or first_line(error)}") \
            from None
    finally:
        loader.dispose()


def check_key(path, line, name):
    key = name.strip().lower().replace("-", "_")
    if key not in JOB_OPTIONS:
        raise UserError(f"{path} line {line}: unknown option {name.strip()!r}; a job may set {', '.join(JOB_OPTIONS)}")
    return key


# -- one job: every value checked and converted ----------------------------------------

def default_name(prompt, unnamed):
    """The file name of a job without an out: the prompt's slug; prompts that have no letters
    or digits are numbered in the order they come, prompt, prompt-2, ... (the same prompt
    twice keeps one name, and is refused as two jobs writing one video)."""
    name = slug(prompt, fallback=None)
    if name is not None:
        return name
    number = unnamed.setdefault(prompt, len(unnamed) + 1)
    return "prompt" if number == 1 else f"prompt-{number}"


def make_job(path, line, row, defaults, out_dir, unnamed):
    settings = {**defaults, **row}
    try:
        prompt = text_value("prompt", settings.get("prompt") or "")
        if not prompt.strip():
            raise UserError("the prompt is empty")
        model = {
            "model": text_value("model", settings["model"]),
            "generate": number("generate", settings["generate"], int, low=0),
            "temperature": number("temperature", settings["temperature"], float, low=0),
            "top_k": number("top_k", settings["top_k"], int, low=1),
            "top_p": number("top_p", settings["top_p"], float, low=0, high=1, low_open=True),
            "seed": number("seed", settings["seed"], int, low=-2 ** 63, high=2 ** 64 - 1),
        }
        options = {
            "language": choice("lang", settings["lang"], LANGUAGES),
            "theme": choice("theme", settings["theme"], ("dark", "light")),
            "on_screen_captions": flag("on_screen_captions", settings["on_screen_captions"]),
            "layer": optional(settings["layer"], lambda value: number("layer", value, int, low=0)),
            "head": optional(settings["head"], lambda value: number("head", value, int, low=0)),
        }
        narration = job_narration(settings, options["language"], row)
        scenes = scene_names(settings["scenes"])
        quality = choice("quality", settings["quality"], tuple(QUALITIES))
        fps = optional(settings["fps"], lambda value: number("fps", value, float, low=0, high=MAX_FPS, low_open=True))
        out = settings.get("out")
        out = os.path.join(out_dir, default_name(prompt, unnamed) + ".mp4") if out in (None, "") \
            else text_value("out", out)
        if not out.lower().endswith(".mp4"):
            raise UserError(f"out must name a .mp4 file, not {out}")
        out = output_path(out, prompt, ".mp4")  # ends in .mp4, can be written: checked before any work
        clips_dir = clips_directory(out)
    except UserError as error:
        raise UserError(f"{path} line {line}: {error}") from None
    return Job(line=line, prompt=prompt, model=model, options=options, scenes=scenes, quality=quality, fps=fps,
               captions=flag("captions", settings["captions"]), out=out, clips_dir=clips_dir, narration=narration)


def job_narration(settings, language, row):
    """The narration request of a job (as `video --narrate --voice` makes it), or None when it is
    silent. `row`: what the job's own line gives; a voice or language from there is named by its
    column (voice, lang), one from the command line by its option (--voice, --lang). A batch
    takes no recordings (--narration DIR is one lecturer's takes of one script; each job has its
    own script), so the voice `none` is not offered."""
    from renderer.narration import voice_request
    from renderer.voices import choose_voice

    voice = optional(settings.get("voice"), lambda value: text_value("voice", value).strip() or None)
    if not flag("narrate", settings.get("narrate", False)):
        if voice is not None and "voice" in row:  # a --voice that no narrated job uses is render.py's to refuse
            raise UserError(f"voice {voice!r} only applies to a narrated job: set narrate to yes")
        return None
    chosen = choose_voice(voice, language, option="voice" if "voice" in row else "--voice",
                          language_option="lang" if "lang" in row else "--lang", allow_none=False)
    return voice_request(chosen)  # a job writes an .mp4: AAC sound (no GIF to refuse)


def text_value(name, value):
    if not isinstance(value, str):
        raise UserError(f"{name} must be text, not {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{name} is not valid UTF-8 text") from None
    return value


def number(name, value, kind, low=None, high=None, low_open=False):
    """An int or float from a cell's text or a YAML number, within [low, high] (or (low, high])."""
    if isinstance(value, bool) or (kind is int and isinstance(value, float)):
        raise UserError(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {value!r}")
    try:
        converted = kind(value.strip()) if isinstance(value, str) else kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {value!r}") from None
    if converted != converted or converted in (float("inf"), float("-inf")):
        raise UserError(f"{name} must be a finite number, not {value!r}")
    if low is not None and (converted <= low if low_open else converted < low):
        raise UserError(f"{name} must be {'above' if low_open else 'at least'} {low}, not {value!r}")
    if high is not None and converted > high:
        raise UserError(f"{name} must be at most {high}, not {value!r}")
    return converted


def choice(name, value, choices):
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def flag(name, value):
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise UserError(f"{name} must be true or false, not {value!r}")


def optional(value, convert):
    return None if value is None or value == "" else convert(value)


def scene_names(value):
    """A comma-separated list (or a YAML list) of catalog names, each once, in the order given."""
    from scenes import catalog

    names = value if isinstance(value, (list, tuple)) else str(value).split(",")
    names = [str(name).strip() for name in names if str(name).strip()]
    if not names:
        raise UserError(f"scenes is empty: name some of {', '.join(catalog.names())}")
    unknown = [name for name in names if name not in catalog.names()]
    if unknown:
        raise UserError(f"unknown scene {unknown[0]!r}: the scenes are {', '.join(catalog.names())}")
    return tuple(dict.fromkeys(names))


def check_distinct_outputs(path, jobs):
    """Two jobs writing one video (or one clips folder) would overwrite each other. A video's
    clips folder and captions are named by its path without the suffix (v.mp4 and v.MP4 share
    v/clips/ and v.srt), and many file systems (macOS's, Windows') take names that differ only
    in letter case for one: so two outputs are one when their stems are, case folded."""
    seen = {}  # the key of an output -> (its line, its out)
    for job in jobs:
        key = os.path.splitext(os.path.normcase(os.path.abspath(job.out)))[0].casefold()
        if key in seen:
            line, other = seen[key]
            what = f"writes {job.out}, as line {line} does" if other == job.out else \
                f"writes {job.out} and line {line} writes {other}: names that differ only in letter case " \
                "share one clips folder and captions"
            raise UserError(f"{path} line {job.line}: {what}; give one of them another out")
        seen[key] = job.line, job.out
