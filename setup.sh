#!/usr/bin/env bash
# Idempotent set-up: the system libraries Manim needs, then .venv with this project
# installed in editable mode. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="libcairo2-dev libpango1.0-dev pkg-config ffmpeg fonts-noto-cjk"
# torch goes in first and alone: a bare "torch" requirement with no torch installed can
# pull a multi-gigabyte CUDA build. This pin takes the CPU build where one lies on disk
# (pip's find-links); elsewhere it is an ordinary install. An installed torch is kept.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"

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
        .venv/bin/python -m pip install -q "$TORCH_SPEC"
    fi
    # Reinstall the project only when pyproject.toml changed since the last set-up.
    stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat .venv/.project-installed 2>/dev/null)" != "$stamp" ]; then
        echo "setup: installing the project and its dependencies into .venv"
        .venv/bin/python -m pip install -q -e ".[dev]"
        echo "$stamp" > .venv/.project-installed
    fi
}

install_system_parts
create_venv
install_python_parts
