"""What a render worker sends back through its pipe (workers.TaskResult): one typed result per
task, and the exception each means in the parent, as render_in_parallel raises it."""

import errno
import os
import pickle
from types import SimpleNamespace

import pytest

from renderer.workers import Outcome, SceneFailed, TaskResult
from tracer.errors import UserError

TASK = SimpleNamespace(scene=SimpleNamespace(name="tokens"))  # what raise_error reads of a RenderTask


def result_of(error):
    """The result a worker sends for a task that raised `error` (built in its except block, as there)."""
    try:
        raise error
    except BaseException as caught:
        return pickle.loads(pickle.dumps(TaskResult.of_error(caught)))  # through the pipe


def test_bad_input_is_its_message_and_a_user_error_again():
    result = result_of(UserError("the trace's logits are not finite"))
    assert result == TaskResult(Outcome.BAD_INPUT, "the trace's logits are not finite")
    with pytest.raises(UserError, match="^the trace's logits are not finite$"):
        result.raise_error(TASK)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_its_file_and_enospc_again(code):
    result = result_of(OSError(code, os.strerror(code), "segment.mp4"))
    assert result == TaskResult(Outcome.DISK_FULL, "segment.mp4")
    with pytest.raises(OSError) as raised:
        result.raise_error(TASK)
    assert (raised.value.errno, raised.value.filename) == (errno.ENOSPC, "segment.mp4")
    with pytest.raises(OSError) as raised:  # a full disk that names no file
        result_of(OSError(code, os.strerror(code))).raise_error(TASK)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename is None


@pytest.mark.parametrize("error", [RuntimeError("broken"), OSError(errno.EACCES, "Permission denied"),
                                   KeyboardInterrupt()])
def test_anything_else_is_a_failed_scene_with_the_workers_traceback(error):
    result = result_of(error)
    assert result.outcome is Outcome.FAILED and result.details.startswith("Traceback (most recent call last):")
    with pytest.raises(SceneFailed) as raised:
        result.raise_error(TASK)
    last_line = result.details.strip().splitlines()[-1]
    assert str(raised.value) == f"the scene 'tokens' failed: {last_line}" and raised.value.details == result.details
    assert type(error).__name__ in last_line


def test_done_raises_nothing():
    assert TaskResult(Outcome.DONE).raise_error(TASK) is None
