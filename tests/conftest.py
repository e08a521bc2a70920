"""Fixtures: checkpoints the tests build (real GPT2LMHeadModels with random weights: the hub
is out of reach), traces of them, and scene reports (each scene rendered once per trace)."""

import os

import pytest

from tracer.testing import GPT2_SMALL_SHAPE, build_random_checkpoint, byte_tokenizer, real_gpt2_tokenizer

# The two tiers. `make test-fast` runs the tests that need no Manim render (`-m "not render"`);
# `make test` runs all. A test renders when its module is below or when it asks for a fixture
# that renders; a test of the fast tier that renders anyway fails, naming this table.
RENDERING_MODULES = {
    "test_attention_scenes", "test_balance", "test_batch", "test_captions", "test_catalog", "test_clients",
    "test_clip_cache", "test_decks", "test_formats", "test_frames", "test_head_behaviour", "test_hostile_batch",
    "test_hostile_files", "test_languages", "test_lazy_trace", "test_legibility", "test_map", "test_narration", "test_notebook",
    "test_readme_batch", "test_rendering", "test_sampling_record", "test_scene_numbers", "test_scenes",
    "test_slides", "test_trace_validation", "test_video",
}
RENDERING_FIXTURES = {"scene_report"}


def renders(item):
    return item.module.__name__ in RENDERING_MODULES or bool(RENDERING_FIXTURES & set(item.fixturenames))


def pytest_collection_modifyitems(items):
    """Mark the render tier, and group the tests for pytest-xdist (`make test` runs on every
    core, `--dist loadgroup`): the tests that read one scene report (a scene rendered on one
    trace with one set of options: test_scenes, test_legibility and test_scene_numbers each
    check it) go to the same worker, so each report is still rendered once."""
    for item in items:
        if renders(item):
            item.add_marker(pytest.mark.render)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "info" in params and "trace_name" in params:
            group = f"{params['info'].name}|{params['trace_name']}|{params.get('options')!r}"
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def fast_tier_renders_nothing(request, monkeypatch):
    """In the fast tier, a Manim render is a mistake in the table above: say so, by name."""
    if request.node.get_closest_marker("render") is not None:
        return
    from manim import Scene

    def refuse(scene, *args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} renders a Manim scene: add its module to RENDERING_MODULES "
                             "(or its fixture to RENDERING_FIXTURES) in tests/conftest.py")

    monkeypatch.setattr(Scene, "render", refuse)


def pytest_addoption(parser):
    """The options Manim's frames_comparison reads (registered as in Manim's own conftest.py)."""
    parser.addoption("--set_test", action="store_true", default=False,
                     help="Write the control frames of the frame-comparison tests anew (then look at the PNGs).")
    parser.addoption("--show_diff", action="store_true", default=False,
                     help="Show a picture of the difference when a frame comparison fails.")


# Small random checkpoints of different shapes, each with a byte-level vocabulary.
TINY_SHAPES = {
    "tiny-2x4x32": dict(n_layer=2, n_head=4, n_embd=32, n_positions=64),
    "tiny-3x2x24": dict(n_layer=3, n_head=2, n_embd=24, n_positions=16, n_inner=40),
}


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        name: build_random_checkpoint(root / name, byte_tokenizer(), seed=index, vocab_size=256,
                                      bos_token_id=0, eos_token_id=0, **shape)
        for index, (name, shape) in enumerate(TINY_SHAPES.items())
    }


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_checkpoints):
    return tiny_checkpoints["tiny-2x4x32"]


@pytest.fixture(scope="session")
def short_context_checkpoint(tiny_checkpoints):
    """Context of 16 positions, for the context-limit rules."""
    return tiny_checkpoints["tiny-3x2x24"]


@pytest.fixture(scope="session")
def gpt2_vocab_checkpoint(tmp_path_factory):
    """A small random model with GPT-2's real tokenizer and vocabulary (50257 tokens)."""
    directory = tmp_path_factory.mktemp("gpt2-vocab")
    return build_random_checkpoint(directory, real_gpt2_tokenizer(), n_layer=2, n_head=2, n_embd=16,
                                   n_positions=128)


@pytest.fixture(scope="session")
def gpt2_small_shaped(tmp_path_factory):
    """GPT-2 small's shape (12 layers, 12 heads, 768 wide), real tokenizer, random weights."""
    directory = tmp_path_factory.mktemp("gpt2-small-shaped")
    return build_random_checkpoint(directory, real_gpt2_tokenizer(), **GPT2_SMALL_SHAPE)


# -- traces, for the scene and video tests --------------------------------------------

@pytest.fixture(scope="session")
def nano_sort_trace():
    """The bundled sorting model on "CBABBC", 6 greedy steps (the last one past the context)."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    return trace_prompt(load_model("nano-sort"), "CBABBC", generate=6, sampling=Sampling(temperature=0))


@pytest.fixture(scope="session")
def gpt2_trace(gpt2_vocab_checkpoint):
    """A small random model with GPT-2's real tokenizer, on an English prompt, 3 sampled steps."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    return trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "The quick brown fox jumps over the lazy dog",
                        generate=3)


@pytest.fixture(scope="session")
def nano_sort_trace_file(nano_sort_trace, tmp_path_factory):
    path = tmp_path_factory.mktemp("traces") / "nano-sort.safetensors"
    nano_sort_trace.save(path)
    return path


TWELVE_TOKENS = "Once upon a time, a small robot learned to read."  # 12 GPT-2 tokens


@pytest.fixture(scope="session")
def gpt2_twelve_trace(gpt2_small_shaped):
    """GPT-2 small's shape (12 heads of 64 dims) with random weights and the real tokenizer."""
    from tracer.models import load_model
    from tracer.record import trace_prompt

    trace = trace_prompt(load_model(str(gpt2_small_shaped)), TWELVE_TOKENS, generate=0)
    assert trace.n_prompt_tokens == 12
    return trace


@pytest.fixture(scope="session")
def gpt2_scale_trace(tmp_path_factory):
    """GPT-2 small's shape with GPT-2 small's real ranges (tracer.testing.build_gpt2_scale_checkpoint):
    logits near -140, scores in the tens, attention sinks, a residual dimension at 3000, and
    the vocabulary's longest pieces in the prompt."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.testing import GPT2_SCALE_PROMPT, build_gpt2_scale_checkpoint

    directory = build_gpt2_scale_checkpoint(tmp_path_factory.mktemp("gpt2-scale"))
    return trace_prompt(load_model(str(directory)), GPT2_SCALE_PROMPT, generate=3)


@pytest.fixture(scope="session")
def gpt2_xl_shape_trace(tmp_path_factory):
    """GPT-2 XL's 48 layers and 25 heads, narrow (width 100: 4 per head), real tokenizer:
    every scene must lay out that many layers and heads."""
    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.testing import build_random_checkpoint, real_gpt2_tokenizer

    directory = build_random_checkpoint(tmp_path_factory.mktemp("gpt2-xl-shape"), real_gpt2_tokenizer(), n_layer=48,
                                        n_head=25, n_embd=100, n_positions=128)
    return trace_prompt(load_model(str(directory)), "The largest GPT-2 has 48 layers", generate=2)


@pytest.fixture(scope="session")
def tricky_traces(gpt2_vocab_checkpoint):
    """Each tricky prompt traced by a small random model with GPT-2's real tokenizer."""
    from scene_checks import TRICKY_PROMPTS

    from tracer.models import load_model
    from tracer.record import trace_prompt
    from tracer.sampling import Sampling

    model = load_model(str(gpt2_vocab_checkpoint))
    return {name: trace_prompt(model, prompt, generate=steps, sampling=Sampling(seed=1))
            for name, (prompt, steps) in TRICKY_PROMPTS.items()}


@pytest.fixture(scope="session")
def scene_trace(request):
    """trace name (one of scene_checks.SCENE_TRACES) -> Trace, built on first use."""

    def get(name):
        if name.startswith("tricky:"):
            return request.getfixturevalue("tricky_traces")[name.split(":", 1)[1]]
        return request.getfixturevalue(name)

    return get


@pytest.fixture(scope="session")
def scene_report(scene_trace, tmp_path_factory):
    """(catalog entry, trace name, options) -> scene_checks.SceneReport, each rendered once a session."""
    from scene_checks import check_scene

    from scenes.base import SceneOptions

    reports = {}

    def get(info, trace_name, options=SceneOptions()):
        key = (info, trace_name, options)
        if key not in reports:
            directory = tmp_path_factory.mktemp(f"{info.name}-{trace_name.replace(':', '-')}")
            reports[key] = check_scene(info, scene_trace(trace_name), directory, options)
        return reports[key]

    return get


@pytest.fixture(scope="session", autouse=True)
def session_clip_cache(tmp_path_factory):
    """Fixtures wider than a test (a module's decks, a session's traces) render before any
    test's own cache is set: they share this one, never the user's ~/.cache."""
    previous = os.environ.get("GPT2_EXPLAINER_CACHE")
    os.environ["GPT2_EXPLAINER_CACHE"] = str(tmp_path_factory.mktemp("session-clip-cache"))
    yield
    if previous is None:
        del os.environ["GPT2_EXPLAINER_CACHE"]
    else:
        os.environ["GPT2_EXPLAINER_CACHE"] = previous


@pytest.fixture(autouse=True)
def private_clip_cache(tmp_path_factory, monkeypatch):
    """Every test renders with its own empty clip cache (renderer/cache.py), never the user's
    ~/.cache, and never a clip an earlier test left (a test that renders means to render)."""
    monkeypatch.setenv("GPT2_EXPLAINER_CACHE", str(tmp_path_factory.mktemp("clip-cache")))
    monkeypatch.delenv("GPT2_EXPLAINER_CACHE_SIZE", raising=False)
