"""Running the command line in-process, and what every refusal must look like (a plain
module the CLI tests share)."""

import render


def run_cli(capsys, *args):
    """Run render.py in-process; returns (exit status, stdout, stderr)."""
    try:
        render.main(list(args))
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def make_scene_fail(monkeypatch, function, scene):
    """Patch renderer.pipeline's `function` to raise SceneFailed for `scene` (RuntimeError: broken,
    with a worker's traceback), as a scene that fails in a worker reaches the command."""
    from renderer import pipeline
    from renderer.workers import SceneFailed

    def failing(*args, **kwargs):
        raise SceneFailed(scene, "RuntimeError: broken", "Traceback (most recent call last):\n  ...\n")

    monkeypatch.setattr(pipeline, function, failing)


def assert_one_line_error(stderr, words):
    """Bad input: one line on stderr that starts with "error: " and says `words`; no traceback."""
    lines = stderr.splitlines()  # "Loading X..." comes only on a terminal
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]
    assert "Traceback" not in stderr
