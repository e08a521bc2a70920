"""Checkpoints by name from the Hugging Face hub, downloaded once into the usual cache.

A hub name resolves to a local folder (the cache's snapshot of the repo), which then
loads exactly like a checkpoint directory. Only the files this program reads are
fetched: the hub's GPT-2 repos also hold TensorFlow, Flax, Rust, ONNX and pickle copies
of the weights, gigabytes it never needs. The download shows huggingface_hub's own
progress bar for each file on stderr (size, speed, time left); the files a stopped run
completed stay cached, and the next run fetches the rest. HF_ENDPOINT, HF_HOME and
HF_HUB_OFFLINE mean what they mean to huggingface_hub.
"""

import hashlib
import os
import re
import socket
import sys
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlparse

from huggingface_hub import hf_hub_download, model_info, try_to_load_from_cache
from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HFValidationError, LocalEntryNotFoundError,
                                    OfflineModeIsEnabled, RepositoryNotFoundError)

from tracer import nano_sort
from tracer.errors import UserError, first_line

# What this program reads from a repo: config, safetensors weights (one file or shards and
# their index), tokenizer. fnmatch patterns, matched against the repo's file list.
CHECKPOINT_FILES = ("config.json", "generation_config.json", "model*.safetensors", "model.safetensors.index.json",
                    "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                    "special_tokens_map.json", "added_tokens.json")
# The hub names each cached large (LFS) file after its sha256, so damage on disk shows.
SHA256 = re.compile(r"[0-9a-f]{64}")


def cached_snapshot(name):
    """The cache's folder for hub repo `name`, or None when nothing of it is cached."""
    try:
        config = try_to_load_from_cache(name, "config.json")
    except HFValidationError:
        raise UserError(f"{name!r} is neither a checkpoint directory nor a model name on the Hugging Face hub "
                        "(names look like gpt2 or owner/name)") from None
    return Path(config).parent if isinstance(config, str) else None


def fetch(name, check_config):
    """Download what this program reads of `name`; returns the cache's folder for it.

    config.json comes first, and `check_config(folder)` may refuse it (a model of another
    kind) before the weights come. The cache keeps what an earlier, stopped run fetched.
    """
    if not _hub_reachable():
        raise UserError(offline_message(name))
    print(f"Downloading {name} from the Hugging Face hub (only the first time)...", file=sys.stderr, flush=True)
    with _download_errors(name):
        files = [file.rfilename for file in model_info(name).siblings or []]
        wanted = sorted(file for file in files if any(fnmatch(file, pattern) for pattern in CHECKPOINT_FILES))
        folder = Path(hf_hub_download(name, "config.json")).parent
        check_config(folder)
        # One file after another in this thread (snapshot_download's worker threads would
        # carry on after Ctrl-C), each with the hub's bar: name, size, speed, time left.
        for file in wanted:
            hf_hub_download(name, file)
    return folder


def verify_cached_weights(name, folder):
    """Refuse cached weights that no longer match the checksum the hub gave them.

    Each cached weights file links to a blob named after its sha256 (huggingface_hub's
    cache layout); a file truncated or overwritten on disk since its download no longer
    matches. Where the cache cannot link (some Windows set-ups) there is nothing to check.
    """
    for link in sorted(folder.glob("*.safetensors")):
        blob = link.resolve()
        if SHA256.fullmatch(blob.name) and _sha256(blob) != blob.name:
            repo_folder = blob.parent.parent
            raise UserError(f"the cached copy of {name} is damaged: {link.name} no longer matches its sha256 "
                            f"checksum. Delete {repo_folder} and run again to download it afresh.")


def offline_message(name):
    return (f"model {name!r} is not in the local cache and the Hugging Face hub cannot be reached. "
            f"Run once with network access to download it, pass a local checkpoint directory "
            f"(--model PATH), or use the bundled offline model (--model {nano_sort.NAME}).")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _download_errors(name):
    """The hub client's exceptions, as one line each that says what to do."""
    try:
        yield
    except UserError:
        raise
    except GatedRepoError:
        raise UserError(f"{name} on the Hugging Face hub is gated: accept its conditions on its page, then log in "
                        "with `hf auth login`") from None
    except RepositoryNotFoundError:
        raise UserError(f"no model named {name!r} on the Hugging Face hub, and no such directory") from None
    except (LocalEntryNotFoundError, OfflineModeIsEnabled):  # the connection failed on the way
        raise UserError(offline_message(name)) from None
    except EntryNotFoundError as error:
        raise UserError(f"{name} on the Hugging Face hub lacks a file this program needs: {first_line(error)}") from None
    except Exception as error:  # a dropped connection, a full disk, a server error
        raise UserError(f"the download of {name} failed ({first_line(error)}); the files it completed stay "
                        "cached: run again to fetch the rest") from None


def _hub_reachable(timeout=5.0):
    """Fail fast when offline, instead of the hub client's half-minute of retries.

    The endpoint is HF_ENDPOINT's, scheme and port included (a mirror may serve plain http
    or listen on another port), as huggingface_hub itself reads it.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co")
    scheme = endpoint.scheme.lower() or "https"
    if any(os.environ.get(var) for var in (f"{scheme.upper()}_PROXY", f"{scheme}_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy, a direct connection says nothing: let the hub client try
    if not endpoint.hostname:
        return False
    try:
        port = endpoint.port or (80 if scheme == "http" else 443)
        socket.create_connection((endpoint.hostname, port), timeout=timeout).close()
        return True
    except (OSError, ValueError):  # ValueError: a port that is not a number
        return False
