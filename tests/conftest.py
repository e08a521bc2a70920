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
