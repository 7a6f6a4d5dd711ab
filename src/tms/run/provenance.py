"""Where an artifact came from: package version, git commit, and the numerical libraries.

Every value is stable for a given commit and environment, so artifacts regenerated from the
same commit stay byte-identical. ``dirty`` says whether code or configs (src/, experiments/,
configs/, benchmarks/, pyproject.toml) had uncommitted changes; regenerated figures themselves do
not count.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

CODE_PATHS = ("src", "experiments", "configs", "benchmarks", "pyproject.toml")


def package_version() -> str:
    try:
        return metadata.version("tms")
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def provenance() -> dict:
    """{"tms", "git_commit", "git_dirty", "torch", "numpy", "numba", "scipy"}: numba compiles the
    training kernel and scipy computes the statistics; git fields are None outside a checkout."""
    import numba
    import scipy
    import torch

    root = Path(__file__).resolve().parents[3]  # src/tms/run/provenance.py -> the checkout
    commit = _git(root, "rev-parse", "HEAD") if (root / ".git").exists() else None
    dirty = None
    if commit is not None:
        status = _git(root, "status", "--porcelain", "--", *CODE_PATHS)
        dirty = None if status is None else bool(status)
    return {
        "tms": package_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
    }
