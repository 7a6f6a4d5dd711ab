"""`python -m experiments.train` as a user runs it: artifacts, multirun, and a library without Hydra."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, run_module
from tms import ArtifactError, TrainResult, train
from tms.run.compose import load_config


def test_train_writes_weights_config_and_metrics(tmp_path):
    out = tmp_path / "run"
    proc = run_module(
        "experiments.train", "data=mixed", "model.m=3", "train.steps=40", "n_instances=3", f"out_dir={out}"
    )
    assert proc.returncode == 0, proc.stderr
    with np.load(out / "weights.npz") as f:
        assert f["W"].shape == (3, 3, 6) and f["b"].shape == (3, 6)
        assert f["loss"].shape[1] == 3 and f["feature_probability"].tolist() == [0.1] * 3
        assert f["importance"].shape == (6,) and len(set(f["seed"].tolist())) == 3
        assert f["set_id"].tolist() == [0, 0, 1, 1, -1, -1]
        assert f["set_kind"].tolist() == ["correlated", "anticorrelated"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["train"]["steps"] == 40 and config["model"]["m"] == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_instances"] == 3 and len(metrics["final_loss"]) == 3
    assert set(metrics["provenance"]) == {"tms", "git_commit", "git_dirty", "torch", "numpy", "numba", "scipy"}
    geometry = metrics["geometry"]
    assert len(geometry["collapsed_sets"]) == 3 and len(geometry["mean_cos_within_sets"]) == 3
    assert len(geometry["local_basis_ratio"]) == 3 and len(geometry["unrepresented_features"]) == 3
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    assert TrainResult.load(out / "weights.npz").feature_sets()[1].kind == "anticorrelated"


def test_setup_trains_the_papers_local_basis_model(tmp_path):
    proc = run_module("experiments.train", "setup=local_orthogonal_basis", "train.steps=10", f"out_dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    expected = train(load_config("train", ["setup=local_orthogonal_basis", "train.steps=10", "train.progress=false"]))
    assert np.array_equal(TrainResult.load(tmp_path / "weights.npz").W, expected.W)  # the command is the library


def test_zero_steps_write_null_losses_in_strict_json(tmp_path):
    proc = run_module("experiments.train", "train.steps=0", "n_instances=2", f"out_dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text
    metrics = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert metrics["final_loss_mean"] is None and metrics["final_loss"] is None


def test_diverging_run_exits_nonzero_and_writes_no_weights(tmp_path):
    out = tmp_path / "run"
    proc = run_module("experiments.train", "train.lr=1000", "train.steps=50", f"out_dir={out}")
    assert proc.returncode == 1
    assert "non-finite loss at step" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "weights.npz").exists() and not (out / "metrics.json").exists()


def test_multirun_gives_each_job_its_own_folder_and_seeds_never_repeat(tmp_path):
    out = tmp_path / "sweep"
    proc = run_module(
        "experiments.train", "-m", "data.feature_probability=0.1,0.01", "seed=0,1", "train.steps=5", f"out_dir={out}"
    )
    assert proc.returncode == 0, proc.stderr
    jobs = sorted(p.parent for p in out.glob("*/metrics.json"))
    assert len(jobs) == 4
    seeds = [s for j in jobs for s in json.loads((j / "metrics.json").read_text())["seed"]]
    assert len(seeds) == 4 * 8 and len(set(seeds)) == len(seeds)  # 32 models, 32 initialisations


def test_library_runs_without_hydra_installed():
    code = (
        "import sys; sys.modules['hydra'] = None; sys.modules['omegaconf'] = None\n"
        "from tms import RunConfig, TrainConfig, train\n"
        "r = train(RunConfig(train=TrainConfig(steps=3, progress=False), n_instances=2))\n"
        "print(r.W.shape)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(2, 2, 4)"


def test_runs_launched_together_never_share_a_folder(tmp_path):
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "experiments.train", "train.steps=5", "n_instances=1", "cache=false"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    runs = list((tmp_path / "outputs" / "train").glob("*/*/metrics.json"))
    assert len(runs) == 3


def test_a_sweep_with_a_diverging_job_finishes_the_others_and_names_it(tmp_path):
    """-m train.lr=0.001,1000,0.002: job 1 diverges; jobs 0 and 2 still train and complete, and
    the command exits 1 after the last job with one line naming the failed one."""
    proc = run_module(
        "experiments.train",
        "-m",
        "train.lr=0.001,1000,0.002",
        "train.steps=30",
        "n_instances=2",
        "train.progress=false",
        f"out_dir={tmp_path}",
    )
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and errors[0].startswith("error: job 1 (") and "non-finite loss" in errors[0]
    assert errors[1].startswith("error: sweep: 1 job(s) failed, the others finished: job 1 (")
    assert "Traceback" not in proc.stderr
    from tms.core import completion

    for job in ("0", "2"):
        completion.check(tmp_path / job)
    with pytest.raises(ArtifactError, match="incomplete"):  # job 1 started, and never finished
        completion.check(tmp_path / "1")
