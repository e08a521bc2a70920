"""The notebook API (gpt2_explainer.py) and the tutorial notebooks that use it.

The tutorials run in a real Jupyter kernel (nbclient), offline, up to the GPT-2 small cells
(tagged downloads-gpt2: they download 550 MB). The API must give what the command line
gives: the same trace bytes, the same still pixels, the same one-line refusals.
"""

import inspect
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gpt2_explainer as gx
import render
from cli_checks import run_cli

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ["tutorial.ipynb", "tutorial.ja.ipynb"]
GPT2_TAG = "downloads-gpt2"
KERNEL = "gpt2-explainer-tests"


# -- the tutorials, run in a Jupyter kernel ------------------------------------------------

@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """A kernel spec for this interpreter, and every Jupyter and IPython folder, in a temporary
    folder: nothing is read from or written to the user's home, and no spec need be installed."""
    from ipykernel.kernelspec import install

    root = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(root))  # argv: this sys.executable -m ipykernel_launcher
    env = {"JUPYTER_PATH": str(root / "share" / "jupyter"), "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "JUPYTER_DATA_DIR": str(root / "data"),
           "IPYTHONDIR": str(root / "ipython"), "GPT2_EXPLAINER_CACHE": str(root / "clips"),
           "HF_HUB_OFFLINE": "1",  # offline: only the bundled model runs
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # the kernel inherits them
    yield root
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module", params=TUTORIALS)
def executed(request, jupyter, tmp_path_factory):
    """(the tutorial run up to its GPT-2 cells, the folder it ran in)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "docs" / request.param, as_version=4)
    run_in = tmp_path_factory.mktemp("run")
    NotebookClient(notebook, kernel_name=KERNEL, timeout=900, skip_cells_with_tag=GPT2_TAG, coalesce_streams=True,
                   resources={"metadata": {"path": str(run_in)}}).execute()
    return notebook, run_in


def outputs(notebook):
    return [(cell, output) for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def code_cell(notebook, text):
    """The nano-sort part's one code cell that contains `text`."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and text in cell.source
             and GPT2_TAG not in cell.metadata.get("tags", [])]
    assert len(cells) == 1, text
    return cells[0]


def test_the_tutorial_runs_without_an_error(executed):
    notebook, _ = executed
    errors = [output for _, output in outputs(notebook) if output.output_type == "error"]
    assert not errors, errors
    ran = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.execution_count]
    skipped = [cell for cell in notebook.cells if GPT2_TAG in cell.metadata.get("tags", [])]
    assert len(ran) >= 6 and len(skipped) == 4  # the nano-sort part ran; the GPT-2 part is there, not run


def test_the_tutorial_prints_the_tokens_the_pattern_and_its_row_sums(executed):
    notebook, _ = executed
    text = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                   for _, output in outputs(notebook))
    assert "'C'    id 2 (prompt)" in text and "'A'    id 0 (generated)" in text
    assert "(3, 11, 11)" in text  # the pattern's shape: heads, query tokens, key tokens
    assert "[1. 1. 1. 1. 1. 1. 1. 1. 1. 1. 1.]" in text  # each row sums to 1


def test_the_still_shows_as_a_png(executed):
    notebook, _ = executed
    pngs = [output for cell, output in outputs(notebook) if "gx.still" in cell.source
            and "image/png" in output.get("data", {})]
    assert len(pngs) == 1
    import base64
    import io

    picture = Image.open(io.BytesIO(base64.b64decode(pngs[0].data["image/png"])))
    assert picture.size == (854, 480)  # quality="low"


class VideoSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "video":
            self.sources.append(dict(attrs)["src"])


def test_the_clip_plays_inline_and_its_file_plays(executed):
    notebook, run_in = executed
    cell = code_cell(notebook, "gx.video")
    parser = VideoSources()
    for output in cell.outputs:
        parser.feed(output.get("data", {}).get("text/html", ""))
    assert len(parser.sources) == 1, cell.outputs
    video = run_in / parser.sources[0]  # relative to the notebook's folder, which Jupyter serves
    assert video.is_file()
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,nb_frames",
                            "-show_entries", "format=duration", "-of", "json", str(video)],
                           capture_output=True, text=True, check=True)
    info = json.loads(probe.stdout)
    assert [stream["codec_type"] for stream in info["streams"]] == ["video"]
    assert float(info["format"]["duration"]) > 1 and int(info["streams"][0]["nb_frames"]) > 15


def test_the_render_progress_is_one_line_not_a_flood(executed):
    notebook, _ = executed
    cell = code_cell(notebook, "gx.video")
    stderr = "".join(output.text for output in cell.outputs if output.get("name") == "stderr")
    lines = stderr.strip().splitlines()
    # "Rendering 3 scenes ...", then the one bar, redrawn in place (\r) as scenes finish
    assert len(lines) == 2 and lines[0].startswith("Rendering 3 scenes"), stderr
    assert "scene 3 of 3 done" in lines[1] and "all rendered" in lines[1], stderr


# -- the API gives what the command line gives ------------------------------------------

SORT = ["--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6", "--temperature", "0"]


def test_a_trace_is_the_same_bytes_as_the_command_lines(capsys, tmp_path):
    status, _, err = run_cli(capsys, "trace", *SORT, "--out", str(tmp_path / "cli.safetensors"))
    assert status == 0, err
    gx.trace("CBABBC", model="nano-sort", generate=6, temperature=0, out=str(tmp_path / "api.safetensors"))
    in_memory = gx.trace("CBABBC", model="nano-sort", generate=6, temperature=0)
    in_memory.save(str(tmp_path / "saved.safetensors"))
    cli = (tmp_path / "cli.safetensors").read_bytes()
    assert (tmp_path / "api.safetensors").read_bytes() == cli
    assert (tmp_path / "saved.safetensors").read_bytes() == cli
    assert in_memory["blocks.0.attn.hook_pattern"].shape == (3, 11, 11)  # (H, T, T)


def test_a_still_has_the_same_pixels_as_the_command_lines(capsys, nano_sort_trace, nano_sort_trace_file, tmp_path):
    status, _, err = run_cli(capsys, "still", "--trace", str(nano_sort_trace_file), "--scene", "softmax",
                             "--layer", "1", "--head", "1", "--quality", "low", "--out", str(tmp_path / "cli.png"))
    assert status == 0, err
    shown = gx.still(nano_sort_trace, "softmax", layer=1, head=1, quality="low", out=str(tmp_path / "api.png"))
    from_file = gx.still(nano_sort_trace_file, "softmax", layer=1, head=1, quality="low",
                         out=str(tmp_path / "file.png"))
    cli = np.asarray(Image.open(tmp_path / "cli.png"))
    assert cli.shape == (480, 854, 4) or cli.shape == (480, 854, 3)
    for still in (shown, from_file):
        assert np.array_equal(np.asarray(Image.open(still.path)), cli)
    assert shown._repr_png_() == (tmp_path / "api.png").read_bytes()
    assert shown.save(tmp_path / "copy.png") == tmp_path / "copy.png"
    assert (tmp_path / "copy.png").read_bytes() == shown.png


@pytest.mark.parametrize("options, flags", [
    (dict(lang="fr"), ["--lang", "fr"]),
    (dict(layer=7), ["--layer", "7"]),
    (dict(head=-1), ["--head", "-1"]),
    (dict(quality="ultra"), ["--quality", "ultra"]),
    (dict(scene="nope"), ["--scene", "nope"]),
    (dict(out="x.jpg"), ["--out", "x.jpg"]),
])
def test_bad_still_input_raises_the_command_lines_line(capsys, nano_sort_trace_file, tmp_path, monkeypatch,
                                                        options, flags):
    monkeypatch.chdir(tmp_path)
    options = {"scene": "softmax", **options}
    flags = flags if "--scene" in flags else ["--scene", "softmax", *flags]
    status, _, err = run_cli(capsys, "still", "--trace", str(nano_sort_trace_file), *flags)
    assert status == 2
    with pytest.raises(gx.UserError) as raised:
        gx.still(str(nano_sort_trace_file), **options)
    assert f"error: {raised.value}" == err.strip()
    assert "\n" not in str(raised.value)
    assert list(tmp_path.rglob("*.png")) == []  # refused before any work


def test_bad_video_and_trace_input_raises_the_command_lines_line(capsys, nano_sort_trace_file, tmp_path):
    cases = [(lambda: gx.video(str(nano_sort_trace_file), scenes=["title", "nope"]),
              ["video", "--trace", str(nano_sort_trace_file), "--scenes", "title,nope"]),
             (lambda: gx.video(str(nano_sort_trace_file), jobs=0),
              ["video", "--trace", str(nano_sort_trace_file), "--jobs", "0"]),
             (lambda: gx.slides(str(nano_sort_trace_file), to="odp"),
              ["slides", "--trace", str(nano_sort_trace_file), "--to", "odp"]),
             (lambda: gx.video(str(tmp_path / "missing.safetensors")),
              ["video", "--trace", str(tmp_path / "missing.safetensors")]),
             (lambda: gx.trace("CBABBC", model="nano-sort", top_p=2),
              ["trace", "--model", "nano-sort", "--prompt", "CBABBC", "--top-p", "2"])]
    for call, args in cases:
        status, _, err = run_cli(capsys, *args)
        assert status == 2, args
        with pytest.raises(gx.UserError) as raised:
            call()
        assert f"error: {raised.value}" == err.strip(), args


def test_the_api_defaults_are_the_command_lines():
    renamed = {"lang": "language", "scene": "info", "scenes": "scene_list", "to": "kind", "format": "clip_format"}
    required = {"trace": dict(prompt="CBABBC"), "still": dict(info="softmax"), "video": {}, "slides": {}}
    for function in (gx.trace, gx.still, gx.video, gx.slides):
        name = function.__name__
        defaults = gx.command_options(name, **required[name])  # what click gives for an option not typed
        for argument, parameter in inspect.signature(function).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                option = renamed.get(argument, argument)
                assert parameter.default == defaults[option] and type(parameter.default) is type(defaults[option]), \
                    (name, argument)


def test_scenes_lists_what_the_command_lists(capsys):
    status, out, _ = run_cli(capsys, "scenes")
    assert status == 0
    listed = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines()]
    assert [[name, summary] for name, summary in gx.scenes().items()] == listed


def test_the_video_and_deck_show_inline_with_their_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a b.mp4").write_bytes(b"video")
    shown = gx.Video("media/a b.mp4", [], ["media/a b.vtt"])._repr_html_()
    assert '<video src="media/a%20b.mp4" controls' in shown and '<track kind="captions" src="media/a%20b.vtt"' in shown
    outside = tmp_path.parent / "elsewhere.mp4"  # the page cannot reach it: embedded
    outside.write_bytes(b"video")
    assert 'src="data:video/mp4;base64,dmlkZW8="' in gx.Video(str(outside), [], [])._repr_html_()
    deck = gx.Deck("media/deck.html", "html", 12)._repr_html_()
    assert deck.startswith('<iframe src="media/deck.html"')


# -- importing the API is cheap ----------------------------------------------------------

def test_importing_the_api_imports_no_torch_until_a_trace_is_made():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    timed = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gpt2_explainer"],
                           capture_output=True, text=True, env=env, check=True)
    imported = {line.split("|")[-1].strip() for line in timed.stderr.splitlines() if line.startswith("import time:")}
    assert "gpt2_explainer" in imported and "click" in imported
    heavy = sorted(name for name in imported if name.split(".")[0] in ("torch", "transformers", "manim"))
    assert not heavy, heavy
    code = ("import sys, gpt2_explainer as gx\n"
            "assert 'torch' not in sys.modules\n"
            "gx.trace('CBABBC', model='nano-sort')\n"
            "assert 'torch' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
