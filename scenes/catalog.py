"""The scenes in storyboard order, with one line each on what they show.

No Manim import here, so `render.py scenes` and option checks stay instant; a scene's
class is imported only when it is rendered.
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SceneInfo:
    name: str  # as typed on the command line: --scenes tokens,embeddings
    module: str
    class_name: str
    summary: str

    def load(self):
        """The scene's TraceScene subclass (imports Manim)."""
        return getattr(importlib.import_module(self.module), self.class_name)


CATALOG = [
    SceneInfo("title", "scenes.title", "TitleScene", "The prompt, the model and its size."),
    SceneInfo("tokens", "scenes.tokens", "TokensScene", "The text splits into BPE pieces; each gets its vocabulary ID."),
    SceneInfo("embeddings", "scenes.embeddings", "EmbeddingsScene",
              "Each ID picks a row of W_E, plus a position row of W_P: the residual stream."),
    SceneInfo("prediction", "scenes.prediction", "PredictionScene",
              "The last position's logits become probabilities: the top candidates and the choice."),
    SceneInfo("loop", "scenes.loop", "LoopScene",
              "The autoregressive loop: each chosen token joins the text and the model runs again."),
]


def names():
    return [info.name for info in CATALOG]


def get(name):
    for info in CATALOG:
        if info.name == name:
            return info
    raise KeyError(name)
