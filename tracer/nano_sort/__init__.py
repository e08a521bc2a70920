"""nano-sort: a tiny GPT-2 (3 layers, 3 heads, 48 dims) trained by this project to sort letters.

Given 6 letters from LETTERS, greedy generation of 6 new tokens yields the same
letters in sorted order ("CBABBC" -> "ABBBCC"). Token ids are the letters' indices
in LETTERS (A=0, B=1, C=2). The checkpoint is plain safetensors + config.json,
loadable with `GPT2LMHeadModel.from_pretrained(CHECKPOINT_DIR)`; retrain it with
`python -m tracer.nano_sort.train`.
"""
import pathlib

NAME = "nano-sort"  # what --model calls it
CHECKPOINT_DIR = pathlib.Path(__file__).parent / "checkpoint"
LETTERS = "ABC"
