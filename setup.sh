#!/usr/bin/env bash
# Idempotent set-up: the system libraries Manim needs, then .venv with this project
# installed in editable mode. Safe to run again: it only does what is missing.
# Every Python package comes at the version pinned in constraints.txt (the lock file);
# `bash setup.sh --refresh-constraints` rewrites that file from a fresh install.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="libcairo2-dev libpango1.0-dev pkg-config ffmpeg fonts-noto-cjk"
# torch goes in first and alone: a bare "torch" requirement with no torch installed can
# pull a multi-gigabyte CUDA build. This pin takes the CPU build where one lies on disk
# (pip's find-links); elsewhere it is an ordinary install. An installed torch is kept.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
# The lock file: every package set-up installs, but torch (TORCH_SPEC pins it), at one version.
CONSTRAINTS=constraints.txt
# reveal.js for the HTML slide decks (render.py slides --to html inlines its files), from npm
# into the project's own .deps/ (ignored by git), at this exact version (renderer/decks/html.py
# checks that it is the one installed).
REVEAL_VERSION=6.0.2

missing_system_parts() {
    command -v pkg-config >/dev/null 2>&1 || echo pkg-config
    pkg-config --exists cairo 2>/dev/null || echo cairo
    pkg-config --exists pangocairo 2>/dev/null || echo pango
    command -v ffmpeg >/dev/null 2>&1 || echo ffmpeg
    fc-list :lang=ja 2>/dev/null | grep -q . || echo "a Japanese font"
}

install_system_parts() {
    local missing
    missing=$(missing_system_parts | paste -sd, -)
    [ -z "$missing" ] && return 0
    echo "setup: missing system parts: $missing"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq $APT_PACKAGES >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
    else
        echo "setup: install them, then run this again:" >&2
        echo "  sudo apt-get install -y $APT_PACKAGES" >&2
        echo "  (macOS: brew install cairo pango pkg-config ffmpeg && brew install --cask font-noto-sans-cjk)" >&2
        exit 1
    fi
}

create_venv() {
    if [ ! -x .venv/bin/python ]; then
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || { echo "setup: Python 3.10 or newer is needed (python3 is $(python3 --version))" >&2; exit 1; }
        python3 -m venv .venv
    fi
}

install_python_parts() {
    local stamp
    if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
        echo "setup: installing $TORCH_SPEC"
        .venv/bin/python -m pip install -q -c "$CONSTRAINTS" "$TORCH_SPEC"
    fi
    # Reinstall the project only when pyproject.toml or the lock file changed since the last set-up.
    stamp=$(cat pyproject.toml "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)
    if [ "$(cat .venv/.project-installed 2>/dev/null)" != "$stamp" ]; then
        echo "setup: installing the project and its dependencies into .venv (versions from $CONSTRAINTS)"
        .venv/bin/python -m pip install -q -c "$CONSTRAINTS" -e ".[dev]"
        echo "$stamp" > .venv/.project-installed
    fi
}

# A fresh venv, the newest versions that pyproject.toml allows, and their list as the new lock
# file. Run it to move to newer versions or after a dependency changes; then run the tests.
refresh_constraints() {
    local fresh
    fresh=$(mktemp -d)
    trap "rm -rf '$fresh'" EXIT  # expanded now: $fresh is local
    echo "setup: installing $TORCH_SPEC and the project into a fresh venv, without constraints"
    python3 -m venv "$fresh/venv"
    "$fresh/venv/bin/python" -m pip install -q "$TORCH_SPEC"
    "$fresh/venv/bin/python" -m pip install -q -e ".[dev,asr]"  # asr: what make test-tools adds
    {
        echo "# The lock file: every Python package that setup.sh installs, at the version the tests passed with."
        echo "# setup.sh passes it to pip (-c $CONSTRAINTS). torch is not listed: setup.sh installs it first"
        echo "# and alone, pinned by TORCH_SPEC. Written by \`bash setup.sh --refresh-constraints\`."
        "$fresh/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -i -E '^(pip|torch)([=@ ]|$)'
    } > "$CONSTRAINTS.new"
    mv "$CONSTRAINTS.new" "$CONSTRAINTS"
    echo "setup: wrote $CONSTRAINTS ($(grep -c -v '^#' "$CONSTRAINTS") packages); run bash setup.sh, then the tests"
}

install_web_parts() {
    local installed
    installed=$(node -p 'require("./.deps/node_modules/reveal.js/package.json").version' 2>/dev/null || true)
    [ "$installed" = "$REVEAL_VERSION" ] && return 0
    if ! command -v npm >/dev/null 2>&1; then
        # Not fatal: only the HTML decks need it, and they say so in one line.
        echo "setup: npm not found, so reveal.js is not installed (HTML slides need it): install Node.js and npm" \
             "(sudo apt-get install -y npm), then run this again" >&2
        return 0
    fi
    echo "setup: installing reveal.js $REVEAL_VERSION into .deps/ (for HTML slides)"
    npm install --prefix .deps --no-save --no-audit --no-fund --loglevel=error "reveal.js@$REVEAL_VERSION" >/dev/null
}

if [ "${1:-}" = "--refresh-constraints" ]; then
    refresh_constraints
    exit 0
fi
install_system_parts
create_venv
install_python_parts
install_web_parts
