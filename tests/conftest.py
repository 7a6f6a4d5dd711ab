"""Shared helpers: running entry points as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_module(module: str, *args: str, cwd=None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` as a user would, from a fresh working directory by default,
    so relative outputs (outputs/, multirun/, the run cache) never land in the repository."""
    cwd = cwd or tempfile.mkdtemp(prefix="tms-cli-")
    env = {**os.environ, "CI": "true", "HYDRA_FULL_ERROR": "", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def run_cli():
    return run_module
