"""Interrupted work never looks finished: SIGKILL at several points of a rerun into a folder that
holds a complete run, for both commands. The folder is then refused until a run completes it."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_module
from tms import ArtifactError, TrainResult
from tms.core import completion
from tms.figures import load_result
from tms.run.aggregate import collect

# Runs a command with one library function replaced by "do it (or not), then SIGKILL myself":
# a real kill -9 at an exact point, which no timing could hit reliably.
KILL_AT = """
import os, runpy, signal, sys
import {module} as where
real = where.{name}
def killed(*args, **kwargs):
    if {after}:
        real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
where.{name} = killed
sys.argv = ["{command}", *sys.argv[1:]]
runpy.run_module("{command}", run_name="__main__", alter_sys=True)
"""

TRAIN = ["train.steps=20", "n_instances=2", "cache=false", "train.progress=false"]
FIGURES = ["figures=[correlated_pairs,anticorrelated_pairs]", "n_instances=2", "train.steps=20", "cache=false"]
FIGURES += ["runner.workers=1"]


def killed_run(command, module, name, after, *args, cwd):
    """``python -m command args`` that SIGKILLs itself at ``module.name`` (after running it, if ``after``)."""
    code = KILL_AT.format(module=module, name=name, after=after, command=command)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "CI": "true"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def complete_train_run(tmp_path):
    out = tmp_path / "run"
    proc = run_module("experiments.train", *TRAIN, "seed=1", f"out_dir={out}")
    assert proc.returncode == 0, proc.stderr
    completion.check(out)
    return out


TRAIN_POINTS = {
    "while training": ("tms.run.cache", "cached_train", False),  # Hydra has rewritten .hydra/ already
    "after weights.npz": ("tms.core.result", "write_npz_atomic", True),
    "after metrics.json": ("tms.core.artifacts", "write_json_atomic", True),
    "before the marker": ("tms.core.completion", "finish", False),
}


@pytest.mark.parametrize("point", TRAIN_POINTS)
def test_a_train_rerun_killed_over_a_complete_run_leaves_a_folder_that_is_refused(complete_train_run, point):
    out = complete_train_run
    module, name, after = TRAIN_POINTS[point]
    proc = killed_run("experiments.train", module, name, after, *TRAIN, "seed=2", f"out_dir={out}", cwd=out.parent)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with pytest.raises(ArtifactError, match="incomplete"):
        completion.check(out)
    with pytest.raises(ArtifactError, match="incomplete"):
        TrainResult.load(out / "weights.npz")
    skipped = dict(collect(out.parent).skipped)
    assert skipped.get("run", "").startswith("incomplete"), skipped
    proc = run_module("experiments.train", *TRAIN, "seed=2", f"out_dir={out}")  # a finished rerun completes it
    assert proc.returncode == 0, proc.stderr
    completion.check(out)  # and its files are one run's: the weights' seeds are the metrics' seeds
    assert TrainResult.load(out / "weights.npz").seed.tolist() == json.loads((out / "metrics.json").read_text())["seed"]


@pytest.fixture
def complete_figures(tmp_path):
    out = tmp_path / "figures"
    proc = run_module("experiments.correlated", *FIGURES, "seed=1", f"out_dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert sorted(completion.check(out)["files"])[:2] == ["anticorrelated_pairs.npz", "anticorrelated_pairs.png"]
    return out


FIGURE_POINTS = {
    "after the first npz": ("tms.run.make_figures", "write_npz_atomic", True),
    "after summary.json": ("tms.run.make_figures", "write_text_atomic", False),
    "before the marker": ("tms.core.completion", "finish", False),
}


@pytest.mark.parametrize("point", FIGURE_POINTS)
def test_a_figures_rerun_killed_over_a_complete_folder_leaves_it_refused(complete_figures, point):
    out = complete_figures
    module, name, after = FIGURE_POINTS[point]
    args = [*FIGURES, "seed=2", f"out_dir={out}"]
    proc = killed_run("experiments.correlated", module, name, after, *args, cwd=out.parent)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with pytest.raises(ArtifactError, match="incomplete"):
        completion.check(out)
    for name in ("correlated_pairs", "anticorrelated_pairs"):  # new or old, neither is vouched for
        with pytest.raises(ArtifactError, match="incomplete"):
            load_result(out / f"{name}.npz")


def test_a_first_train_run_killed_after_its_weights_is_refused(tmp_path):
    """Nothing was complete before: the in-progress marker is what says the folder is unfinished."""
    out = tmp_path / "fresh"
    proc = killed_run(
        "experiments.train", "tms.core.result", "write_npz_atomic", True, *TRAIN, f"out_dir={out}", cwd=tmp_path
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with pytest.raises(ArtifactError, match="incomplete: a run is writing it"):
        TrainResult.load(out / "weights.npz")
