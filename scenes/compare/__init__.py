"""Two prompts side by side: the same word in two contexts (scenes that read two Traces of one model).

`pair.py` (no Manim) derives what they show from the two Traces; `catalog.py` is their
storyboard; `base.py` the scene base class; one file per scene.
"""
