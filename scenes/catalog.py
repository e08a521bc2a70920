"""The scenes in storyboard order, each on one line with every fact about it the program and
the tests need: what it shows, what it follows, the tensors it reads, where it sits on the map,
and how long it takes to render.

No Manim import here, so `render.py scenes` and option checks stay instant; a scene's
class is imported only when it is rendered. A new scene is one line here (plus its file
and its strings): the tests find it in this list and render and check it by themselves.
"""

import importlib
import re
from dataclasses import dataclass

from tracer.tensors import spec

# What a scene follows, and the base class (scenes/base.py) that gives it that.
FOLLOWS = {None: "TraceScene", "layer": "LayerScene", "head": "HeadScene"}

# The placeholders of a tensor name in `reads`: {layer} the layer a layer or head scene follows,
# {each} every layer, {last} the last layer.
READ_PLACEHOLDERS = ("layer", "each", "last")

# What every layer or head scene reads besides its own `reads`: before it draws, the head-choice
# rule (scenes.views.choose_head) weighs every layer's attention patterns, or only the given
# layer's when --layer is given. Keyed by "is --layer given".
CHOICE_READS = {False: ("blocks.{each}.attn.hook_pattern",), True: ("blocks.{layer}.attn.hook_pattern",)}


def blocks(layer, *keys):
    """Names of per-layer tensors at one layer (a number or a placeholder):
    blocks("{layer}", "attn.hook_q") -> ("blocks.{layer}.attn.hook_q",)."""
    return tuple(f"blocks.{layer}.{key}" for key in keys)


def expand(pattern, layer, n_layers):
    """The tensor names a read pattern stands for, in a trace of `n_layers` layers."""
    if "{each}" in pattern:
        return {pattern.replace("{each}", str(each)) for each in range(n_layers)}
    return {pattern.format(layer=layer, last=n_layers - 1)}


@dataclass(frozen=True)
class SceneInfo:
    name: str  # as typed on the command line: --scenes tokens,embeddings
    module: str
    class_name: str
    summary: str
    follows: str | None = None  # None (the whole trace), "layer" (one layer) or "head" (one layer's head)
    # The tensors it may read (tests/test_lazy_trace.py renders it and compares), as names of
    # tracer/tensors.py's table with the placeholders of READ_PLACEHOLDERS.
    reads: tuple = ()
    # The parts of the map (scenes/kit/diagram.py PARTS) it explains, lit on its corner map;
    # () for no corner map. And its heading's string key: the map scene's path names it so.
    lights: tuple = ()
    heading: str | None = None
    # Seconds it takes at the low preset on nano-sort ("CBABBC", 6 greedy steps), one worker,
    # on a 2-core machine (benchmarks/render_video.py); None: not measured, the balancer
    # (renderer/balance.py) guesses until its first render is timed. Only the ratios matter.
    seconds: float | None = None

    def __post_init__(self):
        where = f"scenes/catalog.py, the line of scene {self.name!r}"
        if self.follows not in FOLLOWS:
            raise ValueError(f"{where}: follows must be one of {list(FOLLOWS)}, not {self.follows!r}")
        for pattern in self.reads:
            problem = read_problem(pattern, self.follows)
            if problem:
                raise ValueError(f"{where}: reads {pattern!r}, {problem}")
        if self.lights and not self.heading:
            raise ValueError(f"{where}: a scene on the map names its heading's string key (heading=...)")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"{where}: seconds must be positive or None, not {self.seconds!r}")

    def load(self):
        """The scene's TraceScene subclass (imports Manim)."""
        return getattr(importlib.import_module(self.module), self.class_name)

    def tensors_read(self, layer, n_layers, layer_given=False):
        """The names of the tensors it reads in a trace of `n_layers` layers, following `layer`
        (None for a scene of the whole trace), the head-choice rule's included."""
        patterns = [*self.reads, *(CHOICE_READS[layer_given] if self.follows else ())]
        return set().union(*(expand(pattern, layer, n_layers) for pattern in patterns))


def read_problem(pattern, follows):
    """What is wrong with a read pattern, or None."""
    placeholders = re.findall(r"\{(\w*)\}", pattern)
    unknown = [name for name in placeholders if name not in READ_PLACEHOLDERS]
    if unknown:
        return f"whose placeholder {{{unknown[0]}}} is none of {{layer}}, {{each}}, {{last}}"
    if "layer" in placeholders and follows is None:
        return "but {layer} is the layer a layer or head scene follows, and this scene follows none"
    name = re.sub(r"\{\w*\}", "0", pattern)
    if spec(name) is None or spec(name).per_layer != name.startswith("blocks."):
        return "a name that tracer/tensors.py's table lacks"
    return None


CATALOG = [
    SceneInfo("title", "scenes.title", "TitleScene", "The prompt, the model and its size.", seconds=1.6),
    SceneInfo("map", "scenes.map", "MapScene",
              "The whole forward pass at this model's sizes, and the path the video takes."),
    SceneInfo("tokens", "scenes.tokens", "TokensScene", "The text splits into BPE pieces; each gets its vocabulary ID.",
              lights=("tokens",), heading="tokens.heading", seconds=0.9),
    SceneInfo("embeddings", "scenes.embeddings", "EmbeddingsScene",
              "Each ID picks a row of W_E, plus a position row of W_P: the residual stream.",
              reads=("hook_embed", "hook_pos_embed", *blocks(0, "hook_resid_pre")),
              lights=("embed",), heading="embeddings.heading", seconds=2.6),
    SceneInfo("layernorm", "scenes.layernorm", "LayerNormScene",
              "LayerNorm, briefly: one token's vector before and after, its mean and spread.",
              follows="layer", reads=blocks("{layer}", "hook_resid_pre", "ln1.hook_normalized"),
              lights=("ln1",), heading="layernorm.heading", seconds=2.2),
    SceneInfo("qkv", "scenes.qkv", "QKVScene",
              "x times W_Q, W_K, W_V gives every token a query, a key and a value (one layer and head).",
              follows="head", reads=blocks("{layer}", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k",
                                           "attn.hook_v"),
              lights=("attn",), heading="qkv.heading", seconds=3.0),
    SceneInfo("dot-products", "scenes.dot_products", "DotProductsScene",
              "The grid of q · k for every pair of tokens, one cell worked through, then ÷ √dh and why.",
              follows="head", reads=blocks("{layer}", "attn.hook_q", "attn.hook_k", "attn.hook_attn_scores"),
              lights=("attn",), heading="dots.heading", seconds=4.8),
    SceneInfo("causal-mask", "scenes.causal_mask", "CausalMaskScene",
              "The causal mask: scores of later tokens become −∞, so a token only looks back.",
              follows="head", reads=blocks("{layer}", "attn.hook_q", "attn.hook_k", "attn.hook_attn_scores"),
              lights=("attn",), heading="mask.heading", seconds=1.7),
    SceneInfo("softmax", "scenes.softmax", "SoftmaxScene",
              "Each row of scores becomes probabilities: the attention pattern, every row summing to 1.",
              follows="head", reads=blocks("{layer}", "attn.hook_attn_scores", "attn.hook_pattern"),
              lights=("attn",), heading="softmax.heading", seconds=2.4),
    SceneInfo("weighted-values", "scenes.weighted_values", "WeightedValuesScene",
              "The last token's output: the value vectors weighted by its row of the pattern, added up.",
              follows="head", reads=blocks("{layer}", "attn.hook_v", "attn.hook_pattern", "attn.hook_z"),
              lights=("attn",), heading="weighted.heading", seconds=2.9),
    SceneInfo("all-heads", "scenes.all_heads", "AllHeadsScene",
              "Every head's pattern in the layer; their outputs joined, projected by W_O, added to the stream.",
              follows="head", reads=blocks("{layer}", "attn.hook_pattern", "attn.hook_z", "hook_attn_out",
                                           "hook_resid_pre", "hook_resid_mid"),
              lights=("attn", "add1"), heading="heads.heading", seconds=3.4),
    SceneInfo("mlp", "scenes.mlp", "MLPScene",
              "The MLP: d -> 4d, GELU on this token's real values, the most active neurons, back to d, added.",
              follows="layer", reads=blocks("{layer}", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post",
                                            "hook_mlp_out", "hook_resid_mid", "hook_resid_post"),
              lights=("mlp", "add2"), heading="mlp.heading", seconds=5.1),
    SceneInfo("layers", "scenes.layers", "LayersScene",
              "The stack: what attention and the MLP add in every layer, and the logit lens's guess after each.",
              reads=(*blocks("{each}", "hook_attn_out", "hook_mlp_out", "hook_resid_post"),
                     *blocks(0, "hook_resid_pre"), "logit_lens.token_ids", "logit_lens.probs"),
              lights=("block",), heading="layers.heading", seconds=2.4),
    SceneInfo("prediction", "scenes.prediction", "PredictionScene",
              "Final LayerNorm, logits = x · W_U (one worked), their probabilities: the top candidates, the choice.",
              reads=("logits", "ln_final.hook_normalized", "unembed.token_ids", "unembed.columns",
                     *blocks("{last}", "hook_resid_post")),
              lights=("ln_final", "unembed", "softmax"), heading="prediction.heading", seconds=3.6),
    SceneInfo("sampling", "scenes.sampling", "SamplingScene",
              "Temperature reshapes the real distribution, top-k and top-p cut it, u lands in the chosen slice.",
              reads=("logits",), lights=("sampling",), heading="sampling.heading", seconds=2.0),
    SceneInfo("loop", "scenes.loop", "LoopScene",
              "The autoregressive loop: each chosen token joins the text and the model runs again.",
              reads=("logits",), lights=("loop",), heading="loop.heading", seconds=2.8),
]


def names():
    return [info.name for info in CATALOG]


def entry_of(scene_class):
    """The catalog entry of a scene class, or of the class it subclasses (bound, renamed in a
    test); None for a scene the catalog lacks."""
    return next((info for cls in scene_class.__mro__ for info in CATALOG
                 if (info.module, info.class_name) == (cls.__module__, cls.__name__)), None)


def get(name):
    for info in CATALOG:
        if info.name == name:
            return info
    raise KeyError(name)
