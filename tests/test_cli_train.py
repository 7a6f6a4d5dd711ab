"""`python -m experiments.train` as a user runs it: artifacts, errors, multirun."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, run_module


def test_train_writes_weights_config_and_metrics(tmp_path):
    out = tmp_path / "run"
    proc = run_module(
        "experiments.train", "data=mixed", "model.m=3", "train.steps=40", "n_instances=3", f"out_dir={out}"
    )
    assert proc.returncode == 0, proc.stderr
    with np.load(out / "weights.npz") as f:
        assert f["W"].shape == (3, 3, 6) and f["b"].shape == (3, 6)
        assert f["loss"].shape[1] == 3 and f["feature_probability"].shape == (3,)
        assert f["importance"].shape == (6,) and f["seed"].tolist() == [0, 1, 2]
        assert f["set_id"].tolist() == [0, 0, 1, 1, -1, -1]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["train"]["steps"] == 40 and config["model"]["m"] == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_instances"] == 3 and len(metrics["final_loss"]) == 3
    geometry = metrics["geometry"]
    assert len(geometry["collapsed_sets"]) == 3 and len(geometry["mean_cos_within_sets"]) == 3
    assert len(geometry["local_basis_ratio"]) == 3 and len(geometry["unrepresented_features"]) == 3
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["data.sparsity=1.5"], "data.sparsity"),
        (["no_such_key=1"], "no_such_key"),
        (["-m", "data.sparsity=0.9,1.2"], "data.sparsity"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line_and_writes_nothing(tmp_path, args, field):
    out = tmp_path / "run"
    proc = run_module("experiments.train", *args, f"out_dir={out}")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_diverging_run_exits_nonzero_and_writes_no_weights(tmp_path):
    out = tmp_path / "run"
    proc = run_module("experiments.train", "train.lr=1000", "train.steps=50", f"out_dir={out}")
    assert proc.returncode == 1
    assert "non-finite loss at step" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "weights.npz").exists() and not (out / "metrics.json").exists()


def test_multirun_gives_each_job_its_own_folder(tmp_path):
    out = tmp_path / "sweep"
    proc = run_module(
        "experiments.train", "-m", "data.sparsity=0.9,0.99", "seed=0,1", "train.steps=5", f"out_dir={out}"
    )
    assert proc.returncode == 0, proc.stderr
    jobs = sorted(p.parent for p in out.glob("*/metrics.json"))
    assert len(jobs) == 4
    seeds = sorted(json.loads((j / "metrics.json").read_text())["seed"][0] for j in jobs)
    assert seeds == [0, 0, 1, 1]


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
    import os
    import subprocess

    from tests.conftest import ROOT

    env = {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "experiments.train", "train.steps=5", "n_instances=1", "cache=false"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    runs = list((tmp_path / "outputs" / "train").glob("*/*/metrics.json"))
    assert len(runs) == 3
