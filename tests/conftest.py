"""Checkpoints the tests build: real GPT2LMHeadModels with random weights (the hub is out of reach)."""

import pytest

from tracer.testing import GPT2_SMALL_SHAPE, build_random_checkpoint, byte_tokenizer, real_gpt2_tokenizer

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
