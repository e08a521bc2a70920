"""Many videos at once, on Dask distributed: one task per trace, one task per scene.

The client (the `render.py batch` process) submits, for each job of the job file, a trace
task and, once its trace exists, a task per scene (batch_tasks.py). Bytes, not paths,
travel through the engine: a scene task takes the trace's future as its argument, so Dask
moves the trace's bytes from the worker that traced to the worker that renders, and no
file system is shared, whether the workers are the embedded local cluster or processes on
other machines (`--scheduler`). The client writes each job's clips into a private work
directory beside the job's video, joins them and publishes the video, clips and captions
atomically, as `render.py video` does (pipeline.py).

A job that fails (a prompt its model refuses, a scene that raises) is reported with the
job file's line number; the other jobs go on. Workers run one task at a time
(threads_per_worker=1): Manim's config is global to a process.
"""

import logging
import os
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import click

from renderer.batch_tasks import TaskFailed, digest, scene_clip, trace_bytes
from renderer.files import clip_name, private_directory, sweep_stale_work
from renderer.pipeline import publish_video
from tracer.errors import UserError, first_line


# -- the cluster -------------------------------------------------------------------------

SCHEDULER_SECONDS = 10  # to reach --scheduler (and, twice that, to hear it answer)


@contextmanager
def dask_client(scheduler=None, workers=1, wait_seconds=60):
    """A Client of the Dask scheduler at `scheduler`, or of an embedded local cluster of
    `workers` worker processes, one thread each; both closed on the way out.

    memory_limit=0 for the embedded workers: a render's memory follows its picture size, not
    its data, and the nanny's default (the machine's memory split evenly) would kill a worker
    that traces gpt2-large or renders 4k on a machine with many cores, only to retry the same
    task and kill it again. The operating system stays the judge, as for `render.py video`.
    preload: each embedded worker runs batch_tasks.dask_setup as it starts (it leaves Ctrl-C
    to this process).
    """
    from distributed import Client, LocalCluster

    if scheduler is None:
        # silence_logs: a failed task is reported here, with its job's line; the worker's own log
        # of it would be a second, raw copy with a traceback even for bad input. No dashboard, and
        # the scheduler's HTTP server (which it starts anyway) on a free local port: on its default,
        # 8787, a second batch running at once would print a warning that the port is taken.
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                          dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                          silence_logs=logging.CRITICAL, preload=["renderer.batch_tasks"]) as cluster, \
                Client(cluster) as client:
            yield client
        return
    check_scheduler(scheduler, SCHEDULER_SECONDS)
    try:
        client = Client(scheduler, timeout=SCHEDULER_SECONDS)
    except (OSError, ValueError, TypeError) as error:
        raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {first_line(error)}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=wait_seconds)
        except TimeoutError:
            raise UserError(f"the Dask scheduler at {scheduler} has no workers (waited {wait_seconds} s): "
                            "start some with `dask worker ADDRESS --nthreads 1`") from None
        yield client


def check_scheduler(address, timeout):
    """Raise UserError unless a Dask scheduler answers at `address` within 2 x `timeout` seconds.

    Client's own timeout bounds the TCP connect only: a listener that accepts and then waits
    (an HTTP server, for a request line) would hang it for good, and one that sends other
    bytes fails inside Dask's frame parser (struct.error, ValueError, ...). So ask first, as
    Dask's own peers do: its handshake, then the "identity" call, all under one deadline.
    """
    import asyncio

    from distributed.comm import connect

    async def identity():
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(identity(), 2 * timeout))
    except asyncio.TimeoutError:
        raise UserError(f"the Dask scheduler at {address} did not answer within {2 * timeout} s: "
                        "is it a Dask scheduler's address (tcp://host:8786)?") from None
    except Exception as error:  # refused, unknown host, or bytes that are not Dask's protocol
        raise UserError(f"cannot reach the Dask scheduler at {address}: {first_line(error)}") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        raise UserError(f"{address} is not a Dask scheduler (it answers as {kind or 'something else'})")


# -- the client: one job's state, and the whole batch ------------------------------------

@dataclass
class JobRun:
    """Where one job stands on the client."""

    job: object  # jobs.Job
    work: str = ""  # its private directory beside its video
    trace: object = None  # the Future of its trace bytes
    digest: str = ""  # of those bytes, once known (what names the trace for the clip cache)
    clips: dict = field(default_factory=dict)  # position -> finished clip path in `work` (its other files beside)
    cleanup: ExitStack = field(default_factory=ExitStack)  # removes `work`
    failure: str = ""
    details: str = ""

    @property
    def finished(self):
        return len(self.clips) == len(self.job.scenes)


@dataclass
class BatchResult:
    done: list  # (job, the video's path)
    failed: list  # (job, one line saying why, the worker's traceback or "")


class BatchClipCache:
    """What run_batch asks of a clip cache: bytes in, bytes out, keyed by a job's settings
    (SharedClipCache puts renderer/cache.ClipCache, which keeps files, behind it).

    A clip depends on the trace's content (`trace_digest`, see digest), the scene, the job's
    scene options, quality, fps and narration: every input of scene_clip but its position in
    the video. Its files travel as {role: bytes}, the roles of cache.clip_files: clip and cues,
    and sound and script for a narrated clip.
    """

    def get(self, trace_digest, job, scene):
        """{role: bytes} of this clip rendered before, or None."""
        return None

    def put(self, trace_digest, job, scene, files):
        """Keep a clip just rendered (its files' bytes, as scene_clip returned them)."""


class SharedClipCache(BatchClipCache):
    """The clip cache of `video` and `slides` (renderer/cache.py), on the client's machine: a
    clip is keyed as `video` keys it, so a batch reuses what a video rendered, and the other
    way round (same trace bytes, scene, options, quality and fps)."""

    def __init__(self, clips):
        self.clips = clips  # a cache.ClipCache

    def key(self, trace_digest, job, scene):
        from renderer.cache import clip_key

        return clip_key(job_task(job, scene), trace_digest)

    def get(self, trace_digest, job, scene):
        from renderer.cache import clip_files

        found = self.clips.lookup(self.key(trace_digest, job, scene))
        try:  # read at once: another render may evict the entry
            return {role: found[role].read_bytes() for role in clip_files(job_task(job, scene))} if found else None
        except (OSError, KeyError):
            return None

    def put(self, trace_digest, job, scene, files):
        with tempfile.TemporaryDirectory(prefix="gpt2-explainer-keep-") as work:
            paths = {role: os.path.join(work, role) for role in files}
            for role, data in files.items():
                with open(paths[role], "wb") as file:
                    file.write(data)
            self.clips.store(self.key(trace_digest, job, scene), paths)


def job_task(job, scene, out=""):
    """The RenderTask of one scene of a job, as `video` would make it with the same options (so a
    batch and a video share clip cache entries): what keys its clip, and names its files."""
    from renderer.presets import quality_preset
    from renderer.workers import RenderTask
    from scenes import catalog

    return RenderTask(index=0, scene=catalog.get(scene), trace_path="", options=job.options,
                      quality=quality_preset(job.quality, job.fps), out=out, narration=job.narration)


def run_batch(jobs, client, progress=None, cache=None, report=None, speech_cache_dir=None):
    """Render every job of `jobs` (jobs.Job) on the Dask `client`; returns a BatchResult.

    `progress(n)` is called as n more scenes are settled (rendered, or skipped because their
    job failed); `report(run)` as each job ends, written or failed (JobRun.failure).
    `cache` (a BatchClipCache; None: none) is consulted before a scene is submitted
    (start_scenes) and given every clip rendered. A narrated job's speech is synthesised on
    the workers, each line kept in the clip cache at `speech_cache_dir` (a folder the workers
    can write: the embedded cluster's; None: not kept line by line, the clips still are).
    """
    from distributed import as_completed

    progress = progress or (lambda n: None)
    report = report or (lambda run: None)
    runs = {job.line: JobRun(job) for job in jobs}
    pending = {}  # future -> (job line, what it is: "digest" or a scene position)
    with ExitStack() as stack:
        for run in runs.values():
            parent = os.path.dirname(os.path.abspath(run.job.out))
            sweep_stale_work(parent)
            run.work = run.cleanup.enter_context(private_directory(parent))
            stack.callback(run.cleanup.close)  # on any way out; a job that ends closes its own at once
            run.trace = client.submit(trace_bytes, run.job.prompt, **run.job.model, layer=run.job.options["layer"],
                                      head=run.job.options["head"], pure=False, priority=1)
            pending[client.submit(digest, run.trace, pure=False, priority=2)] = (run.job.line, "digest")
        settled = as_completed(list(pending))
        for future in settled:
            if future not in pending:
                continue  # cancelled with its job, already counted
            line, what = pending.pop(future)
            run = runs[line]
            if run.failure:
                continue  # (fail_job takes its job's futures out of pending: defensive)
            if future.status != "finished":
                fail_job(run, future, client, pending, progress)
                run.cleanup.close()
                report(run)
                continue
            if what == "digest":
                run.digest = future.result()
                for scene_future in start_scenes(run, client, pending, progress, cache, speech_cache_dir):
                    settled.add(scene_future)
            else:
                files = future.result()
                keep_clip(run, what, files)
                if cache is not None:
                    cache.put(run.digest, run.job, run.job.scenes[what - 1], files)
                progress(1)
            future.release()  # its result (a clip's bytes) leaves the worker's memory
            if run.finished:
                finish_job(run)
                run.trace.release()
                run.cleanup.close()
                report(run)
        return BatchResult(done=[(run.job, run.job.out) for run in runs.values() if not run.failure],
                           failed=[(run.job, run.failure, run.details) for run in runs.values() if run.failure])


def start_scenes(run, client, pending, progress, cache, speech_cache_dir=None):
    """Submit a task for each scene of the job whose trace is now known; returns the futures.

    The one place the clip cache is consulted: a hit is kept at once and no task is
    submitted for that scene; a miss renders on the cluster (run_batch stores it).
    """
    futures = []
    for position, scene in enumerate(run.job.scenes, start=1):
        hit = cache.get(run.digest, run.job, scene) if cache is not None else None
        if hit is not None:
            keep_clip(run, position, hit)
            progress(1)
            continue
        future = client.submit(scene_clip, run.trace, position, scene, run.job.options, run.job.quality,
                               run.job.fps, run.job.narration, speech_cache_dir,
                               pure=False, priority=-run.job.line)  # earlier jobs' videos first
        pending[future] = (run.job.line, position)
        futures.append(future)
    return futures  # if every clip was cached, none: run_batch finishes the job at once


def keep_clip(run, position, files):
    """Write a finished clip's files ({role: bytes}: the clip, its cues, a narrated clip's sound
    track and script) into the job's work directory, each under the name `video` gives it."""
    from renderer.cache import clip_files

    scene = run.job.scenes[position - 1]
    path = os.path.join(run.work, clip_name(position, scene))
    for role, target in clip_files(job_task(run.job, scene, out=path)).items():
        with open(target, "wb") as file:
            file.write(files[role])
    run.clips[position] = path


def fail_job(run, future, client, pending, progress):
    """Record why the job failed, and cancel the rest of its tasks."""
    from distributed import CancelledError

    try:
        error = future.exception()
    except CancelledError:
        error = None
    if isinstance(error, (UserError, TaskFailed)):
        run.failure = str(error)
        run.details = getattr(error, "details", "")
    elif error is not None and type(error).__name__ == "KilledWorker":
        run.failure = "a worker process died while rendering it (out of memory, or killed)"
    elif error is not None and "No module named" in str(error):
        run.failure = f"{first_line(error)}: the Dask workers need this project installed (see README, Batch)"
    else:
        run.failure = first_line(error) if error is not None else "it was cancelled"
    ours = [other for other, (line, _) in pending.items() if line == run.job.line]
    client.cancel(ours + [run.trace])
    for other in ours:
        pending.pop(other)
    progress(len(run.job.scenes) - len(run.clips))


def finish_job(run):
    """Join the job's clips, write its captions, and publish them all atomically, as `video` does."""
    finished = [run.clips[position] for position in sorted(run.clips)]
    publish_video(finished, run.work, run.job.out, run.job.clips_dir, run.job.captions,
                  narrated=run.job.narration is not None)


# -- what the person at the terminal sees ------------------------------------------------

class BatchProgress:
    """One bar for the whole batch (every scene of every job) on stderr when it is a terminal;
    nothing when it is not (each job's line as it ends says enough)."""

    def __init__(self, total, stream=None):
        from tqdm import tqdm

        stream = stream or sys.stderr
        self.bar = tqdm(total=total, unit="scene", file=stream, disable=not stream.isatty(),
                        dynamic_ncols=True, desc="batch")

    def __call__(self, n):
        self.bar.update(n)

    def report(self, run):
        """A job's line as it ends: the video it wrote on stdout, or why it failed on stderr
        (after the worker's traceback, for a failure that is not bad input)."""
        from renderer.video import video_info

        if run.failure:
            lines, stream = [run.details.rstrip()] if run.details else [], sys.stderr
            lines.append(f"line {run.job.line}: failed: {run.failure}")
        else:
            info = video_info(run.job.out)
            spoken = f", narrated by {run.job.narration['voice']}" if run.job.narration else ""
            lines, stream = [f"line {run.job.line}: wrote {run.job.out} ({info.width}x{info.height}, "
                             f"{info.duration:.1f} s of video{spoken})"], sys.stdout
        for line in lines:
            if self.bar.disable:
                click.echo(line, err=stream is sys.stderr)
            else:  # above the bar, which is drawn again below
                self.bar.write(line, file=stream)

    def close(self):
        self.bar.close()


def render_batch(jobs, scheduler=None, workers=None, clips=None):
    """Render `jobs` on the embedded cluster (`workers` processes; None: one per usable core, never
    more than there are scenes) or on the Dask scheduler at `scheduler`, reusing and keeping clips
    in `clips` (a cache.ClipCache, or None). Prints one line per job; returns the BatchResult.
    The embedded cluster's workers run on this machine: they keep each narrated line's speech in
    `clips` too. A scheduler's may not (its path here means nothing there): they synthesise each
    line anew, and the narrated clips are kept here whole, as every clip is."""
    from renderer.pipeline import interrupt_on_sigterm
    from renderer.workers import usable_cores

    total = sum(len(job.scenes) for job in jobs)
    workers = min(workers or usable_cores(), total)
    where = f"the Dask scheduler at {scheduler}" if scheduler else \
        f"an embedded Dask cluster of {workers} worker process{'es' * (workers > 1)}"
    click.echo(f"Rendering {len(jobs)} video{'s' * (len(jobs) > 1)} ({total} scene{'s' * (total > 1)}) "
               f"on {where}", err=True)
    with interrupt_on_sigterm(), dask_client(scheduler, workers) as client:
        progress = BatchProgress(total)
        try:
            result = run_batch(jobs, client, progress, cache=SharedClipCache(clips) if clips else None,
                               report=progress.report,
                               speech_cache_dir=str(clips.root) if clips and not scheduler else None)
        finally:
            progress.close()
    return result


def exit_status(result):
    """0 if every job was written, else 1 after a summary line on stderr (each job's own line
    came as it ended)."""
    if not result.failed:
        return 0
    lines = ", ".join(str(job.line) for job, _, _ in result.failed)
    total = len(result.done) + len(result.failed)
    plural = "s" * (len(result.failed) > 1)
    click.echo(f"error: {len(result.failed)} of {total} job{'s' * (total > 1)} failed (line{plural} {lines}); "
               "the others were written", err=True)
    return 1
