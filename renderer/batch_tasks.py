"""The tasks of `render.py batch`, run inside Dask worker processes (see batch.py).

Each takes and returns plain values and bytes, never a path of the client's: a trace task
returns the Trace as the bytes of its .safetensors file, a scene task takes those bytes and
returns the clip and its caption cues (a narrated scene's sound track and script too) as bytes. What a task writes stays in a temporary
folder of its worker, removed before it returns. Imported by the client too (it submits
these functions by name), so torch and Manim are imported inside the tasks only.
"""

import hashlib
import os
import signal
import tempfile
import threading
import traceback

from renderer.files import clip_name
from tracer.errors import UserError, first_line


class TaskFailed(Exception):
    """A task that raised something other than bad input: its message and the worker's traceback.
    (Plain strings, so it pickles back to the client whatever the original exception was.)"""

    def __init__(self, message, details=""):
        super().__init__(message, details)
        self.message, self.details = message, details

    def __str__(self):
        return self.message


def dask_setup(worker):
    """Run by each embedded worker as it starts (its preload, see batch.dask_client): Ctrl-C at
    the terminal reaches the whole process group, and the batch process decides what stops
    (it says "interrupted" and closes the cluster); a worker's own KeyboardInterrupt would
    print a traceback of Dask's event loop. (In the worker's main thread, its event loop's.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_models = {}  # model name -> loaded model: a worker keeps the model it loaded for the next job
# A worker started with more than one thread (`dask worker --nthreads 4`) would run tasks at
# once in one process; Manim's config is global to it, so its renders take turns.
_one_model, _one_render = threading.Lock(), threading.Lock()


def trace_bytes(prompt, model, generate, temperature, top_k, top_p, seed, layer=None, head=None):
    """Run `model` on `prompt` and return the Trace as the bytes of its .safetensors file.

    Bad input (a prompt the tokenizer refuses, a --layer beyond the model) raises UserError,
    which reaches the client as it is.
    """
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    sampling = Sampling(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    try:
        with _one_model:
            if model not in _models:
                from tracer.models import load_model

                _models.clear()  # one model held at a time: a worker may trace gpt2-xl next
                _models[model] = load_model(model)
            recorded = trace_prompt(_models[model], prompt, generate=generate, sampling=sampling)
        recorded.check_layer_head(layer, head, flags=("layer", "head"))  # a job file's columns
        with tempfile.TemporaryDirectory(prefix="gpt2-explainer-trace-") as work:
            path = os.path.join(work, "trace.safetensors")
            recorded.save(path)
            with open(path, "rb") as file:
                return file.read()
    except UserError:
        raise
    except Exception as error:
        raise TaskFailed(f"tracing failed: {first_line(error)}", traceback.format_exc()) from None


def digest(data):
    """What names a trace's content (for the clip cache): small, so the client fetches it, not the trace."""
    return hashlib.sha256(data).hexdigest()


def scene_clip(trace, position, scene, options, quality, fps=None, narration=None, speech_cache_dir=None):
    """Render one scene of the trace whose .safetensors bytes are `trace`; returns its files as
    bytes, by their roles in the clip cache (cache.clip_files): the MP4 clip and its caption cues
    as JSON, and for a narrated scene (`narration`, narration.narration_request's dict) its raw
    sound track (WAV) and its script rows (JSON), which the client joins into the video's.
    Each line's speech is synthesised here, kept in the clip cache at `speech_cache_dir` when
    given (a folder of this machine: the embedded cluster's workers share the client's).
    Everything is written in a private temporary directory of this worker, removed on the way out."""
    from renderer.cache import clip_files
    from renderer.presets import quality_preset
    from renderer.workers import RenderTask, render_task
    from scenes import catalog

    try:
        with tempfile.TemporaryDirectory(prefix="gpt2-explainer-scene-") as work:
            trace_path = os.path.join(work, "trace.safetensors")
            with open(trace_path, "wb") as file:
                file.write(trace)
            clip = os.path.join(work, clip_name(position, scene))
            task = RenderTask(index=position, scene=catalog.get(scene), trace_path=trace_path, options=options,
                              quality=quality_preset(quality, fps), out=clip, narration=narration,
                              speech_cache_dir=speech_cache_dir)
            with _one_render:  # as a `video` worker renders it
                render_task(task, traces={})
            files = {}
            for role, path in clip_files(task).items():
                with open(path, "rb") as file:
                    files[role] = file.read()
            return files
    except Exception as error:
        raise TaskFailed(f"the scene {scene!r} failed: {first_line(error)}", traceback.format_exc()) from None
