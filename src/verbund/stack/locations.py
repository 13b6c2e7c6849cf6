"""Where the local stack keeps downloaded jars, run directories and its own files in the repository."""

from __future__ import annotations

import os
from pathlib import Path

# src/verbund/stack/locations.py -> the repository root (the package is installed editable from it).
REPO_ROOT = Path(__file__).resolve().parents[3]
INFRA_DIR = REPO_ROOT / "infra"


def cache_dir() -> Path:
    """The cache root: VERBUND_CACHE_DIR, else `.cache` in the repository (git-ignored)."""
    configured = os.environ.get("VERBUND_CACHE_DIR")
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / ".cache"


def run_root() -> Path:
    """Where brokers and servers keep their data and logs: VERBUND_RUN_DIR, else `<cache>/run`."""
    configured = os.environ.get("VERBUND_RUN_DIR")
    return Path(configured).expanduser().resolve() if configured else cache_dir() / "run"


def infra_file(*parts: str) -> Path:
    """A file shipped in the repository's infra/ folder, with a clear error when it is not there."""
    path = INFRA_DIR.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing. The local stack reads it from the repository's infra/ folder; "
            "run Verbund from a checkout of the repository (pip install -e .)."
        )
    return path
