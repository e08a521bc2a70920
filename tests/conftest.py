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
    "test_compare_scenes", "test_compare_cli", "test_compare_narration",  # scenes/compare, render.py compare
    "test_deck_sections",
}
RENDERING_FIXTURES = {"scene_report"}


def renders(item):
    return item.module.__name__ in RENDERING_MODULES or bool(RENDERING_FIXTURES & set(item.fixturenames))


# The modules that take longest (measured: the training run, the hub's downloads, the
# notebooks' kernels, the batches' clusters, the decks' clients, the videos' renders): run
# first when this checkout has no timings of its own yet (see `longest_first` below).
SLOW_MODULES = (
    "test_nano_sort_model", "test_narration", "test_hub", "test_notebook", "test_batch", "test_hostile_batch", "test_slides",
    "test_clients", "test_hostile_files", "test_video", "test_compare_scenes", "test_compare_cli",
    "test_readme_batch", "test_clip_cache", "test_formats", "test_captions", "test_rendering", "test_languages",
    "test_tracer", "test_cli",
)
# Modules whose module-wide fixture is costly (a whole deck rendered twice, a video in each
# format, a Dask cluster, Jupyter kernels running the tutorials, a hub download, Chromium):
# all their tests run on one worker, so the fixture is made once, not once per worker.
ONE_WORKER_MODULES = {
    "test_slides", "test_formats", "test_batch", "test_notebook", "test_hub", "test_clients", "test_lazy_trace",
    "test_trace_validation", "test_nano_sort_tracer", "test_checkpoints", "test_compare_scenes", "test_compare_cli",
    "test_compare_pair",
}
# Fixtures as costly, in modules whose other tests are best spread: the tests that use one
# share a worker (the narrated demo, rendered once for the tests that listen to it).
ONE_WORKER_FIXTURES = ("narrated",)
TIMINGS_KEY = "gpt2-explainer/test-seconds"  # in pytest's cache (.pytest_cache): {test id: seconds}


TEST_SECONDS = {}  # this run's: test id -> seconds (setup, call and teardown)


def pytest_configure(config):
    refuse_ungrouped_xdist(config)
    one_thread_a_worker()


def refuse_ungrouped_xdist(config):
    """pytest 9.2 keeps a test's ID where pytest-xdist 3.8 writes its group ("ID@group"), so with
    `--dist loadgroup` every group's tests go to both workers, each rendering what the other
    renders (the suite took half as long again): say so rather than run slow."""
    from importlib.metadata import version

    def release(name):
        return tuple(int(part) for part in version(name).split(".")[:2])

    if getattr(config.option, "dist", None) == "loadgroup" and release("pytest") >= (9, 2) and release("pytest-xdist") <= (3, 8):
        pytest.exit(f"pytest {version('pytest')} with pytest-xdist {version('pytest-xdist')} does not group the "
                    "tests: install the versions in constraints.txt (`make setup`)", returncode=4)


def one_thread_a_worker():
    """With a worker per core (`make test`: pytest-xdist's -n auto), each worker's torch, and
    the commands its tests start, keep to one thread: two threads a worker on two cores wait
    on each other (the training test took ten times as long), as x264's threads did
    (renderer/presets.py)."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


def pytest_runtest_logreport(report):
    """On xdist's controller too: it gets every worker's reports."""
    TEST_SECONDS[report.nodeid] = TEST_SECONDS.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    """Keep this run's timings for the next run's order (the controller's, or a run without xdist)."""
    cache = getattr(session.config, "cache", None)
    if hasattr(session.config, "workerinput") or cache is None or not TEST_SECONDS:
        return
    timings = cache.get(TIMINGS_KEY, {})
    timings.update({nodeid: round(seconds, 2) for nodeid, seconds in TEST_SECONDS.items()})
    cache.set(TIMINGS_KEY, timings)


def longest_first(items, config):
    """The modules in order of their time in the last run (the longest first); a module with no
    time yet by SLOW_MODULES (a minute a place) or else half a second a test. The tests of a
    module keep their order (its fixtures are set up once). The workers take the next test as
    they finish one (`--no-loadscope-reorder`), so a long module started last no longer keeps
    one worker busy while the other waits."""
    cache = getattr(config, "cache", None)
    timings = cache.get(TIMINGS_KEY, {}) if cache is not None else {}
    known, counts = {}, {}
    for item in items:
        name = item.module.__name__
        counts[name] = counts.get(name, 0) + 1
        if item.nodeid in timings:
            known[name] = known.get(name, 0.0) + timings[item.nodeid]
    guess = {name: 60.0 * (len(SLOW_MODULES) - index) for index, name in enumerate(SLOW_MODULES)}
    seconds = {name: known.get(name, guess.get(name, 0.5 * count)) for name, count in counts.items()}
    items.sort(key=lambda item: -seconds[item.module.__name__])  # stable: a module's order stays


@pytest.hookimpl(tryfirst=True)  # before xdist's own (it reads the groups set here)
def pytest_collection_modifyitems(config, items):
    """Mark the render tier, order the modules longest first, and group the tests for
    pytest-xdist (`make test` runs on every core, `--dist loadgroup`): the tests that read one
    scene report (a scene rendered on one trace with one set of options: test_scenes,
    test_legibility and test_scene_numbers each check it) go to the same worker, so each
    report is still rendered once."""
    longest_first(items, config)
    for item in items:
        if renders(item):
            item.add_marker(pytest.mark.render)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "info" in params and "trace_name" in params:
            group = f"{params['info'].name}|{params['trace_name']}|{params.get('options')!r}"
            item.add_marker(pytest.mark.xdist_group(group))
        elif item.module.__name__ in ONE_WORKER_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        elif any(name in item.fixturenames for name in ONE_WORKER_FIXTURES):
            fixture = next(name for name in ONE_WORKER_FIXTURES if name in item.fixturenames)
            item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}:{fixture}"))


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
