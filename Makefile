# Two entry points, each running the idempotent set-up first (see setup.sh).
PYTHON := .venv/bin/python

.PHONY: setup demo test bench

setup:
	@bash setup.sh

demo: setup
	$(PYTHON) render.py trace --model nano-sort --prompt CBABBC --generate 6 --out media/demo.safetensors

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/trace_overhead.py
