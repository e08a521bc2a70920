"""How much does recording every intermediate cost? Plain forward vs traced forward.

GPT-2-small-shaped model (12 layers, 12 heads, 768 wide, random weights, GPT-2's real
tokenizer) on a 32-token prompt; plain and traced passes alternate in one process so
machine noise hits both alike. Last line: the median ratio traced / plain (target <= 1.3).

    .venv/bin/python benchmarks/trace_overhead.py [--repeats 15]
"""

import argparse
import os
import statistics
import tempfile
import time

import torch

from tracer.models import load_model
from tracer.record import record_forward, trace_prompt
from tracer.testing import GPT2_SMALL_SHAPE, build_random_checkpoint, real_gpt2_tokenizer

PROMPT = ("The quick brown fox jumps over the lazy dog while the teacher explains, slowly and with care, "
          "how a transformer reads every token of the sentence before it guesses the next word of the text")


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        loaded = load_model(str(build_random_checkpoint(directory, real_gpt2_tokenizer(), **GPT2_SMALL_SHAPE)))
        ids = torch.tensor([loaded.tokens.encode(PROMPT)[:32]])  # (1, 32)
        assert ids.shape[1] == 32, "the prompt must give at least 32 tokens"
        model = loaded.model

        with torch.no_grad():
            for _ in range(2):  # warm-up: first passes pay for allocations
                model(ids), record_forward(model, ids)
            plain, traced = [], []
            for _ in range(args.repeats):
                plain.append(timed(lambda: model(ids)))
                traced.append(timed(lambda: record_forward(model, ids)))
        ratios = [t / p for t, p in zip(traced, plain)]

        prompt_32 = b"".join(loaded.tokens.piece_bytes(ids[0].tolist())).decode("utf-8")  # the same 32 tokens
        trace = trace_prompt(loaded, prompt_32)
        trace_path = os.path.join(directory, "trace.safetensors")
        trace.save(trace_path)
        in_memory = sum(array.nbytes for array in trace.activations.values())

        print(f"model: GPT-2-small shape, {trace.config['n_params'] / 1e6:.1f}M parameters, torch threads "
              f"{torch.get_num_threads()}; prompt {ids.shape[1]} tokens; {args.repeats} repeats")
        print(f"plain forward:  median {statistics.median(plain) * 1000:.1f} ms")
        print(f"traced forward: median {statistics.median(traced) * 1000:.1f} ms (hooks + float32 NumPy copies)")
        print(f"trace ({trace.n_traced} tokens): {len(trace.activations)} tensors, "
              f"{in_memory / 1e6:.1f} MB in memory, {os.path.getsize(trace_path) / 1e6:.1f} MB on disk")
        print(f"median ratio traced/plain: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
