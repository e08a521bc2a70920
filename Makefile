# Two entry points, each running the idempotent set-up first (see setup.sh).
PYTHON := .venv/bin/python

.PHONY: setup demo test test-fast test-tools bench

setup:
	@bash setup.sh

demo: setup
	$(PYTHON) render.py video --model nano-sort --prompt CBABBC --generate 6 --quality medium --out media/demo.mp4

# The whole suite on every core (pytest-xdist; the tests that read one scene render share a
# worker, see tests/conftest.py), then the 15 slowest tests, so slow ones stay in sight.
test: setup test-tools
	$(PYTHON) -m pytest -q -n auto --dist loadgroup --durations=15

# The tests that need no Manim render (about a minute): for quick rounds while you work.
test-fast: setup
	$(PYTHON) -m pytest -q -n auto --dist loadgroup -m "not render"

# Tools only the tests use: LibreOffice Impress opens the PPTX decks (tests/test_slides.py;
# without it that check is skipped, saying why). Installed as root through apt-get when
# missing (about 95 MB; 16 s here with most packages cached), else left to you.
test-tools:
	@command -v soffice >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "make: installing LibreOffice Impress for the slide tests"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-impress-nogui >/dev/null \
	            || echo "make: could not install LibreOffice; the PPTX check will be skipped"; \
	    else \
	        echo "make: no LibreOffice (soffice); the PPTX check will be skipped (sudo apt-get install -y libreoffice-impress-nogui)"; \
	    fi; }

bench: setup
	$(PYTHON) benchmarks/trace_overhead.py
	$(PYTHON) benchmarks/render_video.py
	$(PYTHON) benchmarks/clip_formats.py
	$(PYTHON) benchmarks/encoder_threads.py
