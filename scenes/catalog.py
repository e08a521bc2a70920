"""The scenes in storyboard order, with one line each on what they show and what they follow.

No Manim import here, so `render.py scenes` and option checks stay instant; a scene's
class is imported only when it is rendered. A new scene is one line here (plus its file
and its strings): the tests find it in this list and render and check it by themselves.
"""

import importlib
from dataclasses import dataclass


# What a scene follows, and the base class (scenes/base.py) that gives it that.
FOLLOWS = {None: "TraceScene", "layer": "LayerScene", "head": "HeadScene"}


@dataclass(frozen=True)
class SceneInfo:
    name: str  # as typed on the command line: --scenes tokens,embeddings
    module: str
    class_name: str
    summary: str
    follows: str | None = None  # None (the whole trace), "layer" (one layer) or "head" (one layer's head)

    def __post_init__(self):
        if self.follows not in FOLLOWS:
            raise ValueError(f"{self.name}: follows must be one of {list(FOLLOWS)}, not {self.follows!r}")

    def load(self):
        """The scene's TraceScene subclass (imports Manim)."""
        return getattr(importlib.import_module(self.module), self.class_name)


CATALOG = [
    SceneInfo("title", "scenes.title", "TitleScene", "The prompt, the model and its size."),
    SceneInfo("map", "scenes.map", "MapScene", "The whole forward pass at this model's sizes, and the path the video takes."),
    SceneInfo("tokens", "scenes.tokens", "TokensScene", "The text splits into BPE pieces; each gets its vocabulary ID."),
    SceneInfo("embeddings", "scenes.embeddings", "EmbeddingsScene",
              "Each ID picks a row of W_E, plus a position row of W_P: the residual stream."),
    SceneInfo("layernorm", "scenes.layernorm", "LayerNormScene",
              "LayerNorm, briefly: one token's vector before and after, its mean and spread.",
              follows="layer"),
    SceneInfo("qkv", "scenes.qkv", "QKVScene",
              "x times W_Q, W_K, W_V gives every token a query, a key and a value (one layer and head).",
              follows="head"),
    SceneInfo("dot-products", "scenes.dot_products", "DotProductsScene",
              "The grid of q · k for every pair of tokens, one cell worked through, then ÷ √dh and why.",
              follows="head"),
    SceneInfo("causal-mask", "scenes.causal_mask", "CausalMaskScene",
              "The causal mask: scores of later tokens become −∞, so a token only looks back.",
              follows="head"),
    SceneInfo("softmax", "scenes.softmax", "SoftmaxScene",
              "Each row of scores becomes probabilities: the attention pattern, every row summing to 1.",
              follows="head"),
    SceneInfo("weighted-values", "scenes.weighted_values", "WeightedValuesScene",
              "The last token's output: the value vectors weighted by its row of the pattern, added up.",
              follows="head"),
    SceneInfo("all-heads", "scenes.all_heads", "AllHeadsScene",
              "Every head's pattern in the layer; their outputs joined, projected by W_O, added to the stream.",
              follows="head"),
    SceneInfo("mlp", "scenes.mlp", "MLPScene",
              "The MLP: d -> 4d, GELU on this token's real values, the most active neurons, back to d, added.",
              follows="layer"),
    SceneInfo("layers", "scenes.layers", "LayersScene",
              "The stack: what attention and the MLP add in every layer, and the logit lens's guess after each."),
    SceneInfo("prediction", "scenes.prediction", "PredictionScene",
              "Final LayerNorm, logits = x · W_U (one worked), their probabilities: the top candidates, the choice."),
    SceneInfo("sampling", "scenes.sampling", "SamplingScene",
              "Temperature reshapes the real distribution, top-k and top-p cut it, u lands in the chosen slice."),
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
