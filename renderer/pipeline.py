"""A render job from start to end: a whole video (every scene in workers, joined), or one still.

Everything is written inside a private work directory beside the output; files move to
their final names only once all of them are complete, and what killed runs left in the
same place is swept first (see files.py). A clip comes from the clip cache when nothing
that shapes it has changed (cache.py); the others are rendered longest first (balance.py).
SIGTERM is handled like Ctrl-C, so the cleanup runs either way.
"""

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import click

from renderer.balance import longest_first, timing_key
from renderer.beats import BEATS_INDEX, beat_cues, beat_file_name, beats_directory, load_beats, save_beats
from renderer.cache import clip_files, clip_key, file_digest
from renderer.captions import caption_clips_and_video, cues_path, load_cues, write_caption_files
from renderer.files import (check_clip_names_free, check_video_files_free, clip_name, private_directory, publish,
                            publish_clips, record_video_files, sweep_stale_work)
from renderer.formats import MP4
from renderer.manim_run import render_still
from renderer.narration import joined_script, narration_of_scene, write_script_files
from renderer.progress import Progress
from renderer.sound import add_sound, audio_codec, import_meters, join_normalised, load_track, sound_path, track_samples
from renderer.video import join_clips
from renderer.workers import RenderTask, render_in_parallel, usable_cores


@contextmanager
def interrupt_on_sigterm():
    """Treat SIGTERM like Ctrl-C while rendering, so the cleanup runs (SIGKILL can't be caught:
    the next run sweeps what it leaves)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def render_video(recorded, trace_file, infos, options, quality, jobs, out, clips_dir, captions=True,
                 clip_format=MP4, beats=False, cache=None, narration=None):
    """Render every scene in worker processes, join the clips, then put the files in place.

    `recorded` is the Trace (saved for the workers unless `trace_file` already holds it),
    `infos` the catalog entries in video order, `options` the keyword arguments of
    scenes.base.SceneOptions, `jobs` the most worker processes (None: one per core; never
    more than scenes). `clip_format` (formats.ClipFormat) is the clips' and the video's format;
    with `beats`, every beat of every scene is published among the clips too, as its own clip
    (02_tokens.01_text.mp4, see beats.py). With `cache` (a cache.ClipCache), a clip whose key
    is there is copied from it rather than rendered, and every clip rendered is stored. The
    scenes to render are handed out longest first (balance.py). Everything is written inside
    a private work directory beside `out`; the clips and the video are moved to their final
    names (atomically) only once all of them are complete; with `captions`, each with its
    caption files (.srt and .vtt, see captions.py). With `narration` (narration.narration_request),
    every caption line is spoken and every file carries the sound (sound.py). Raises
    workers.SceneFailed if a scene fails. Returns the published clip paths (with their caption files) and the video's caption files.
    """
    parent = os.path.dirname(os.path.abspath(out))
    sweep_stale_work(parent)
    with private_directory(parent) as work, interrupt_on_sigterm():
        if trace_file is None:  # workers read the trace from a file: plain tensors, no pickle
            trace_file = os.path.join(work, "trace.safetensors")
            recorded.save(trace_file)
        tasks = scene_tasks(infos, trace_file, options, quality, work, clip_format, beats, narration,
                            speech_cache_dir=None if cache is None else str(cache.root))
        # the user's own files under the clips' names: refused now, not after the render
        # (a beat's name is known only once rendered: publish_clips checks those)
        check_clip_names_free(clips_dir, [name for task in tasks for name in clip_file_names(task.out, captions)])
        check_video_files_free(out, clips_dir, captions, narration is not None)
        if narration is not None:
            threading.Thread(target=import_meters, name="import-meters", daemon=True).start()
        render_tasks(tasks, trace_file, quality, jobs, cache)
        return publish_video([task.out for task in tasks], work, out, clips_dir, captions, clip_format, beats,
                             narrated=narration is not None)


def publish_video(finished, work, out, clips_dir, captions=True, clip_format=MP4, beats=False, narrated=False):
    """Join the clips `finished` (in video order, in the work directory `work`) into the video,
    write the caption files when `captions`, then move video, clips (with their beats when
    `beats`) and captions to their final names; a `narrated` video gets the clips' sound tracks
    end to end as its own (joined_sound). Returns (clip paths, the video's caption files)."""
    # a caption or script file the user edited stays (checked again: a batch job arrives here only)
    check_video_files_free(out, clips_dir, captions, narrated)
    joined = join_clips(finished, os.path.join(work, "video" + clip_format.extension), clip_format.codec_tag)
    scripts = []
    if narrated:
        joined = add_sound(joined, joined_sound(finished), joined, audio_codec(clip_format))
        scripts = write_script_files(joined_script(finished), os.path.join(work, "video.script"))
    clip_captions, video_captions = caption_clips_and_video(finished, joined) if captions else ([], [])
    beat_clips = beat_clips_and_captions(finished, captions) if beats else []
    clips = publish_clips(finished + beat_clips + clip_captions, clips_dir)
    video_captions = [publish(path, os.path.splitext(out)[0] + os.path.splitext(path)[1])
                      for path in video_captions]
    video_captions += [publish(path, os.path.splitext(out)[0] + path[len(os.path.join(work, "video")):])
                       for path in scripts]  # NAME.script.csv, NAME.script.txt
    if video_captions:
        record_video_files(clips_dir, video_captions)
    publish(joined, out)
    return clips, video_captions


def joined_sound(clips):
    """The clips' normalised sound tracks (sound.sound_path, beside each) end to end: one track,
    each part exactly as long as its clip's frames, checked as one (sound.join_normalised): it
    never restarts, so a join has no gap or click."""
    import numpy as np

    from renderer.video import video_info

    parts = []
    for clip in clips:
        info = video_info(clip)
        samples = track_samples(info.frames, info.fps)
        part = load_track(sound_path(clip))[:samples]
        parts.append(np.pad(part, (0, samples - len(part))))
    return join_normalised(parts)


def beat_clips_and_captions(clips, captions):
    """Every beat's clip that the workers left beside the scene clips (beats.py), with its caption
    files when `captions`: the scene's cues that fall in the beat, timed from its start."""
    files = []
    for clip in clips:
        cues = load_cues(cues_path(clip)) if captions else None
        for beat in load_beats(beats_directory(clip)):
            files.append(beat.file)
            if captions:
                files += write_caption_files(beat_cues(cues, beat), beat.file)
    return files


def scene_tasks(infos, trace_file, options, quality, work, clip_format=MP4, beats=False, narration=None,
                speech_cache_dir=None):
    """One RenderTask per catalog entry of `infos`, its clip named by its place in the video."""
    return [RenderTask(index=position, scene=info, trace_path=os.path.abspath(trace_file),
                       options=options, quality=quality, clip_format=clip_format, beats=beats,
                       narration=narration_of_scene(narration, info.name), speech_cache_dir=speech_cache_dir,
                       out=os.path.join(work, clip_name(position, info.name, clip_format.extension)))
            for position, info in enumerate(infos, start=1)]


def clip_file_names(clip, captions):
    """The names a scene's clip is published under: the clip, and its caption files with `captions`."""
    name = os.path.basename(clip)
    stem = os.path.splitext(name)[0]
    return [name] + ([stem + ".srt", stem + ".vtt"] if captions else [])


def render_tasks(tasks, trace_file, quality, jobs, cache):
    """Every task's files in place: copied from `cache` (a cache.ClipCache, or None) where its
    key is there, the rest rendered in workers (render_scenes)."""
    render_keyed_tasks(tasks, lambda: file_digest(trace_file), quality, jobs, cache)


def render_keyed_tasks(tasks, trace_digest, quality, jobs, cache):
    """render_tasks, the clips keyed on `trace_digest()` (called once, only with a cache: the
    workers never hash a trace; a comparison's digest covers both its traces)."""
    keys = {}  # task index -> cache key
    if cache is not None:
        digest = trace_digest()
        keys = {task.index: clip_key(task, digest) for task in tasks}
    to_render = []
    for task in tasks:
        if cache is not None and cache.fetch(keys[task.index], clip_files(task)):
            if task.beats:
                name_beats_after(task.out)
        else:
            to_render.append(task)
    render_scenes(to_render, len(tasks), jobs, quality, cache, keys)


def name_beats_after(clip):
    """Name the beats of `clip` after it: a clip from the cache brings the beats of the render that
    stored it, named after its place in that video (01_title.01_prompt.mp4 for this 02_title.mp4)."""
    directory = beats_directory(clip)
    stem = os.path.splitext(os.path.basename(clip))[0]
    named = []
    for beat in load_beats(directory):
        target = os.path.join(directory, beat_file_name(stem, beat.number, beat.name, os.path.splitext(beat.file)[1]))
        if target != beat.file:
            os.rename(beat.file, target)
        named.append(replace(beat, file=os.path.basename(target)))
    save_beats(named, os.path.join(directory, BEATS_INDEX))


def render_scenes(tasks, total, jobs, quality, cache, keys):
    """Render `tasks` (of a video of `total` scenes; the rest came from `cache`) in workers,
    longest first, storing each clip in the cache as soon as it is done."""
    cached = total - len(tasks)
    if not tasks:
        click.echo(f"{'All ' * (total > 1)}{total} scene{'s' * (total > 1)} from the cache", err=True)
        return
    jobs = min(jobs or usable_cores(), len(tasks))
    click.echo(f"Rendering {len(tasks)} scene{'s' * (len(tasks) > 1)}{' beat by beat' * tasks[0].beats} at {quality.label} "
               f"with {jobs} worker process{'es' * (jobs > 1)}"
               + (f" ({cached} of {total} from the cache)" if cached else ""), err=True)
    progress = Progress(len(tasks), jobs)
    started, seconds = {}, {}  # task index -> when it started, how long it took

    def report(event, task):
        progress.report(event, task)
        if event == "started":
            started[task.index] = time.monotonic()
        elif event == "done":
            seconds[timing_key(task)] = round(time.monotonic() - started[task.index], 2)
            if cache is not None:  # at once: a render stopped later still keeps this clip
                cache.store(keys[task.index], clip_files(task))

    try:
        render_in_parallel(longest_first(tasks, cache.timings() if cache is not None else {}), jobs, report)
    finally:
        progress.close()
        if cache is not None:
            cache.remember_timings(seconds)
            if cache.trouble:  # the render goes on without it, but say why nothing was kept
                click.echo(f"note: not every clip could be kept in the clip cache {cache.root} "
                           f"({cache.trouble}); GPT2_EXPLAINER_CACHE names another folder", err=True)


def render_last_frame(recorded, info, options, quality, out):
    """Draw the catalog scene `info` of the Trace `recorded` and write its last frame as the PNG `out`."""
    from scenes.base import SceneOptions

    sweep_stale_work(os.path.dirname(os.path.abspath(out)))
    with interrupt_on_sigterm():
        return render_still(info.load().bind(recorded, SceneOptions(**options)), out, quality)
