"""Shared helpers: the suite's one tiny run config, running entry points as a user would,
checking their error contract, and hand-made weights with known geometry.

Tests mirror the package: tests/core, tests/analysis, tests/figures, tests/run, and tests/cli
for the commands, the README, the docs and the notebook."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[1]


# --- the one tiny run config ----------------------------------------------------------------


def tiny_run_config(
    steps: int = 40, batch: int = 128, n_instances: int = 2, feature_probability: float = 0.1, seed: int = 0, **train
) -> RunConfig:
    """Two correlated pairs in m = 2, a few models, a few steps: trains in well under a second.
    Keyword arguments beyond these go to TrainConfig (e.g. lr, sampler, log_every)."""
    return RunConfig(
        data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], feature_probability=feature_probability),
        model=ModelConfig(m=2),
        train=TrainConfig(steps=steps, batch=batch, progress=False, **train),
        n_instances=n_instances,
        seed=seed,
    )


@pytest.fixture
def tiny_config():
    """``tiny_run_config``, as a fixture: ``tiny_config(steps=300, lr=3e-3)``."""
    return tiny_run_config


# --- hand-made 2D weights with known geometry ----------------------------------------------

PAIRS = np.array([0, 0, 1, 1])  # set_id of two sets of two


def unit(deg):
    """The unit vector at ``deg`` degrees in the plane."""
    return np.array([np.cos(np.deg2rad(deg)), np.sin(np.deg2rad(deg))])


def W_from_angles(*degrees, norms=None):
    """A (2, n) weight matrix whose columns point at the given angles (unit norm by default)."""
    norms = np.ones(len(degrees)) if norms is None else np.asarray(norms)
    return np.stack([unit(d) * r for d, r in zip(degrees, norms, strict=True)], 1)  # (2, n)


def run_module(module: str, *args: str, cwd=None, timeout: int = 300, env=None) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` as a user would, from a fresh working directory by default,
    so relative outputs (outputs/, multirun/, the run cache) never land in the repository."""
    cwd = cwd or tempfile.mkdtemp(prefix="tms-cli-")
    env = {
        **os.environ,
        "CI": "true",
        "HYDRA_FULL_ERROR": "",
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "Agg",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, field: str, code: int = 2) -> str:
    """The error contract: exit code, exactly one stderr line `error: <field>: ...`, no traceback."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]
