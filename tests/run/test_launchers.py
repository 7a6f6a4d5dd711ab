"""Sweeps through Hydra's launcher plugins (the optional `[sweep]` extra)."""

import csv
import importlib.util
import json

import pytest

from tests.conftest import run_module

needs_plugins = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None
    or importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") is None,
    reason="pip install -e '.[sweep]' for the launcher plugins",
)


@needs_plugins
def test_slurm_preset_composes_with_its_resources():
    proc = run_module("experiments.train", "hydra/launcher=tms_slurm", "hydra.launcher.partition=cpu", "--cfg", "hydra")
    assert proc.returncode == 0, proc.stderr
    assert "submitit_slurm" in proc.stdout.replace("SlurmLauncher", "submitit_slurm")
    for line in ("partition: cpu", "cpus_per_task: 2", "timeout_min: 60", "array_parallelism: 256"):
        assert line in proc.stdout


@needs_plugins
def test_joblib_sweep_gives_each_worker_a_share_of_the_cores(tmp_path):
    proc = run_module(
        "experiments.train",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "seed=0,1",
        "train.steps=20",
        "n_instances=2",
        "out_dir=sweep",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    jobs = [json.loads(p.read_text()) for p in sorted((tmp_path / "sweep").glob("*/metrics.json"))]
    assert len(jobs) == 2
    assert all(job["torch_threads"] == max(1, (__import__("os").cpu_count() or 1) // 2) for job in jobs)


@needs_plugins
@pytest.mark.slow
def test_submitit_local_sweep_detects_a_job_that_raised(tmp_path):
    """submitit marks a job that raised as FINISHED; the sweep must still fail and say which."""
    proc = run_module(
        "experiments.train",
        "-m",
        "hydra/launcher=submitit_local",
        "train.lr=1e-3,1000",
        "train.steps=50",
        "n_instances=2",
        "out_dir=sweep",
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "non-finite loss" in proc.stdout + proc.stderr
    assert (tmp_path / "sweep" / "0" / "metrics.json").exists()
    assert not (tmp_path / "sweep" / "1" / "metrics.json").exists()
    agg = run_module("experiments.aggregate", "sweep", cwd=tmp_path)
    assert agg.returncode == 0, agg.stderr
    assert "skipped 1: no metrics.json" in agg.stderr
    rows = list(csv.DictReader((tmp_path / "sweep" / "aggregate.csv").read_text().splitlines()))
    assert [r["train.lr"] for r in rows] == ["0.001"]
