"""The compare storyboard: two prompts, the same word in each (render.py compare). Its own
list, like scenes/catalog.py's (the same SceneInfo entries: name, module, class, summary,
follows), so the renderer's tasks, cache keys and timings treat a compare scene as any scene.
`follows` says only which options shape a clip (the cache leaves --layer/--head out of the
others' keys): every compare scene is a CompareScene (scenes/compare/base.py), and the
attention scene picks its head from both traces itself. No Manim import here."""

from scenes.catalog import SceneInfo

COMPARE_CATALOG = [
    SceneInfo("compare-tokens", "scenes.compare.tokens", "CompareTokensScene",
              "The two prompts' tokens; the followed word's ID lit in both (same ID, own positions)."),
    SceneInfo("compare-embedding", "scenes.compare.embedding", "CompareEmbeddingScene",
              "Its embedding: the same W_E row in both, each position's W_P row, the cosine of the two x0."),
    SceneInfo("compare-attention", "scenes.compare.attention", "CompareAttentionScene",
              "The followed head's attention row of the word in both prompts, side by side.", follows="head"),
    SceneInfo("compare-drift", "scenes.compare.drift", "CompareDriftScene",
              "The cosine similarity of the word's residual stream in A and B, at x0 and after every layer."),
    SceneInfo("compare-prediction", "scenes.compare.prediction", "ComparePredictionScene",
              "The next-token predictions after the word in both: the top five with probabilities."),
]


def names():
    return [info.name for info in COMPARE_CATALOG]


def entry_of(scene_class):
    """The compare entry of a scene class, or of the class it subclasses (bound); None if none."""
    return next((info for cls in scene_class.__mro__ for info in COMPARE_CATALOG
                 if (info.module, info.class_name) == (cls.__module__, cls.__name__)), None)


def get(name):
    for info in COMPARE_CATALOG:
        if info.name == name:
            return info
    raise KeyError(name)
