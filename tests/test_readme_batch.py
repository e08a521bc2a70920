"""The README's "Batch" examples run as written on a fresh checkout: its command block, and its
CSV job file with the command that renders it (one job narrated by its narrate column), in a
copy of the tracked files (no videos/ folder, no job files), offline."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from renderer.video import video_info

ROOT = Path(__file__).resolve().parent.parent


def batch_section():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Batch\n", 1)[1].split("\n## ", 1)[0]


def code_blocks(section, indent):
    """The code blocks indented by exactly `indent` spaces (a list item's are indented by 6)."""
    blocks, current = [], []
    for line in section.splitlines() + [""]:
        if line.startswith(" " * indent) and not line.startswith(" " * (indent + 1)):
            current.append(line[indent:])
        elif line.strip() or not current:  # (a blank line inside a block does not end it)
            if current:
                blocks.append("\n".join(current).strip("\n") + "\n")
            current = []
    return blocks


def runnable(block):
    """A block of commands a fresh checkout can run: every line one of the program's or a printf."""
    return all(line.startswith((".venv/bin/python render.py ", "printf ")) for line in block.splitlines())


def fresh_checkout(destination):
    """The tracked files (as they are in this tree) and the venv, as `git clone` plus set-up leaves them."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    (destination / ".venv").symlink_to(os.path.realpath(ROOT / ".venv"))
    return destination


def has_sound(path):
    import av

    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def run_shell(script, cwd):
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # a user's shell
    result = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{script}\n{result.stderr}"
    return result.stdout


def test_the_readme_batch_examples_run_as_written_on_a_fresh_checkout(tmp_path):
    section = batch_section()
    commands = [block for block in code_blocks(section, 4) if runnable(block)]
    assert any("--out-dir videos" in block for block in commands), commands
    (csv_file,) = [block for block in code_blocks(section, 6) if block.startswith("prompt,")]
    csv_command = re.search(r"`(\.venv/bin/python render\.py batch jobs\.csv[^`]*)`", section).group(1)
    assert "`jobs.csv`:" in section  # the name the CSV block is given
    checkout = fresh_checkout(tmp_path / "checkout")
    assert not (checkout / "videos").exists()
    outputs = [run_shell(block, checkout) for block in commands]  # exit status 0: every job written
    (checkout / "jobs.csv").write_text(csv_file, encoding="utf-8")
    outputs.append(run_shell(csv_command, checkout))
    for out in outputs:
        written = re.findall(r"^line \d+: wrote (.+?) \(", out, flags=re.MULTILINE)
        assert written, out
        narrated = re.findall(r"^line \d+: wrote (.+?) \(.*, narrated by \w+\)$", out, flags=re.MULTILINE)
        for path in written:
            assert video_info(checkout / path).frames > 0, path
            assert has_sound(checkout / path) == (path in narrated), path
    assert re.findall(r", narrated by heart\)$", outputs[-1], flags=re.MULTILINE), outputs[-1]  # the narrate column
    assert (checkout / "videos").is_dir()
