# Two entry points, each running the idempotent set-up first (see setup.sh).
PYTHON := .venv/bin/python

.PHONY: setup demo test bench

setup:
	@bash setup.sh

demo: setup
	$(PYTHON) render.py video --model nano-sort --prompt CBABBC --generate 6 --quality medium --out media/demo.mp4

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) benchmarks/trace_overhead.py
	$(PYTHON) benchmarks/render_video.py
