"""The order scenes are handed to the workers: the longest first.

With scenes started in storyboard order the longest ones can start last, and the video
waits for them while the other workers sit idle. Handed out longest first (the classic
"longest processing time" rule) the last scenes to start are the short ones, so the
workers finish close together. How long a scene takes is an estimate: what it took the
last time this quality was rendered (kept in the clip cache's timings.json), else the
table below. The video keeps the storyboard order: only the rendering order changes.
"""

# Seconds per scene at the low preset on nano-sort ("CBABBC", 6 greedy steps), one worker,
# measured on a 2-core machine (benchmarks/render_video.py's video). Only the ratios
# matter: every scene of a render is at the same quality.
MEASURED_SECONDS = {
    "title": 1.6, "tokens": 0.9, "embeddings": 2.6, "layernorm": 2.2, "qkv": 3.0, "dot-products": 4.8,
    "causal-mask": 1.7, "softmax": 2.4, "weighted-values": 2.9, "all-heads": 3.4, "mlp": 5.1,
    "layers": 2.4, "prediction": 3.6, "sampling": 2.0, "loop": 2.8,
}
UNKNOWN_SECONDS = 2.6  # a scene the table lacks: about the median


def timing_key(task):
    """What a remembered time is filed under: the scene at one quality (size, rate, encoder)."""
    quality = task.quality
    encoder = ",".join(f"{name}={value}" for name, value in quality.encoder_options)
    return f"{task.scene.name} {quality.width}x{quality.height} {quality.fps:g}fps {encoder}"


def estimated_seconds(task, history):
    """How long `task` should take: its last time at this quality (`history`: timing_key ->
    seconds), else the measured table."""
    remembered = history.get(timing_key(task))
    if remembered is not None and remembered > 0:
        return float(remembered)
    return MEASURED_SECONDS.get(task.scene.name, UNKNOWN_SECONDS)


def longest_first(tasks, history=None):
    """The tasks in the order to hand them out: longest estimate first, ties in storyboard order."""
    history = history or {}
    return sorted(tasks, key=lambda task: -estimated_seconds(task, history))
