"""The order scenes are handed to the workers: the longest first.

With scenes started in storyboard order the longest ones can start last, and the video
waits for them while the other workers sit idle. Handed out longest first (the classic
"longest processing time" rule) the last scenes to start are the short ones, so the
workers finish close together. How long a scene takes is an estimate: what it took the
last time this quality was rendered (kept in the clip cache's timings.json), else the
time measured for it on its catalog line (scenes/catalog.py `seconds`), else a guess. The
video keeps the storyboard order: only the rendering order changes.
"""

UNKNOWN_SECONDS = 2.6  # a scene not yet measured (its catalog line says seconds=None): about the median


def timing_key(task):
    """What a remembered time is filed under: the scene at one quality (size, rate, encoder)."""
    quality = task.quality
    encoder = ",".join(f"{name}={value}" for name, value in quality.encoder_options)
    return f"{task.scene.name} {quality.width}x{quality.height} {quality.fps:g}fps {encoder}"


def estimated_seconds(task, history):
    """How long `task` should take: its last time at this quality (`history`: timing_key ->
    seconds), else its catalog line's measured time, else UNKNOWN_SECONDS."""
    remembered = history.get(timing_key(task))
    if remembered is not None and remembered > 0:
        return float(remembered)
    measured = task.scene.seconds
    return UNKNOWN_SECONDS if measured is None else measured


def longest_first(tasks, history=None):
    """The tasks in the order to hand them out: longest estimate first, ties in storyboard order."""
    history = history or {}
    return sorted(tasks, key=lambda task: -estimated_seconds(task, history))
