"""Job running: the local pool and submitit, with results coming back through the run cache."""

import dataclasses
import importlib.util

import numpy as np
import pytest

from tests.conftest import run_module, tiny_run_config
from tms.core.errors import ConfigError
from tms.core.train import train
from tms.figures.base import JobKey
from tms.run.apps import RunnerConfig
from tms.run.cache import RunCache, run_key
from tms.run.runner import Job, RunnerError, run_jobs, shards

needs_submitit = pytest.mark.skipif(importlib.util.find_spec("submitit") is None, reason="pip install -e '.[sweep]'")


def job(name: str, lr: float = 1e-3, seed: int = 0) -> Job:
    return Job(JobKey(name), tiny_run_config(steps=30, batch=64, lr=lr, seed=seed))


def test_pool_returns_results_in_job_order_equal_to_training_alone(tmp_path):
    jobs = [job("a", seed=1), job("b", seed=2), job("c", seed=3)]
    results = run_jobs(jobs, RunnerConfig(kind="pool", workers=2), RunCache(tmp_path), log=lambda *_: None)
    assert list(results) == [j.key for j in jobs]
    for j in jobs:
        assert np.array_equal(results[j.key].W, train(j.config).W)


def test_cached_jobs_are_not_retrained(tmp_path):
    cache = RunCache(tmp_path)
    logs = []
    run_jobs([job("a")], RunnerConfig(kind="pool", workers=1), cache, log=logs.append)
    logs.clear()
    run_jobs([job("a"), job("b", seed=5)], RunnerConfig(kind="pool", workers=1), cache, log=logs.append)
    assert logs[0] == f"reused 1 of 2 training jobs from {tmp_path}"
    assert sum("trained" in line for line in logs) == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_pool_finishes_and_caches_the_other_jobs_when_one_fails(tmp_path, workers):
    cache = RunCache(tmp_path)
    good, bad, other = job("good", seed=1), job("bad", lr=1000.0), job("other", seed=2)  # lr = 1000 diverges
    with pytest.raises(RunnerError, match=r"1 of 3 training jobs failed \(bad: non-finite loss.*the others are cached"):
        run_jobs([bad, good, other], RunnerConfig(kind="pool", workers=workers), cache, log=lambda *_: None)
    assert cache.get(run_key(good.config)) is not None and cache.get(run_key(other.config)) is not None
    assert cache.get(run_key(bad.config)) is None


def test_config_error_survives_the_trip_back_from_a_worker():
    import pickle

    e = pickle.loads(pickle.dumps(ConfigError("train.lr", "must be > 0")))
    assert isinstance(e, ConfigError) and e.field == "train.lr" and str(e) == "train.lr: must be > 0"


@needs_submitit
def test_submitit_local_runs_jobs_reports_a_failed_one_and_a_rerun_retrains_only_it(tmp_path):
    cache = RunCache(tmp_path / "cache")
    good, bad = job("good"), job("bad", lr=1000.0)  # lr = 1000 diverges
    runner = RunnerConfig(kind="submitit_local", timeout_min=5)
    with pytest.raises(RunnerError, match=r"1 of 2 training jobs failed \(bad: non-finite loss"):
        run_jobs([good, bad], runner, cache, log=lambda *_: None)
    assert cache.get(run_key(good.config)) is not None and cache.get(run_key(bad.config)) is None
    fixed = job("bad", lr=2e-3)
    logs = []
    results = run_jobs([good, fixed], runner, cache, log=logs.append)
    assert logs[0].startswith("reused 1 of 2")
    assert np.array_equal(results[fixed.key].W, train(fixed.config).W)


@needs_submitit
def test_figures_command_runs_through_submitit_local_into_the_cache(tmp_path):
    proc = run_module(
        "experiments.correlated",
        "runner=submitit_local",
        "figures=[correlated_pairs]",
        "train.steps=20",
        "n_instances=2",
        "continued.n_instances=0",  # model and control only
        f"out_dir={tmp_path / 'out'}",
        f"cache_dir={tmp_path / 'cache'}",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "submitting 2 training jobs to submitit (local)" in proc.stdout
    assert len([p for p in (tmp_path / "cache").iterdir() if (p / "complete.json").exists()]) == 2
    assert (tmp_path / "out" / "correlated_pairs.png").exists()


def test_a_failed_job_keeps_its_traceback_in_a_log_and_the_console_one_line(tmp_path, monkeypatch):
    """A bug in one job (here a KeyError) is one line in the error, which names the log holding
    its full traceback; the job that trained is returned through the cache all the same."""
    from tms.run import runner as runner_module

    def train_or_fail(cfg, snapshot_steps=(), label="", models=None):
        if label == "broken":
            raise KeyError("no such array")
        return train(cfg, snapshot_steps=snapshot_steps, models=models)

    monkeypatch.setattr(runner_module, "train", train_or_fail)
    good, broken = job("good"), job("broken", seed=5)
    logs, cache, quiet = tmp_path / "failed_jobs", RunCache(tmp_path / "cache"), lambda *_: None
    with pytest.raises(RunnerError) as raised:
        run_jobs([good, broken], RunnerConfig(workers=1), cache, log=quiet, log_dir=logs)
    message = str(raised.value)
    assert "1 of 2 training jobs failed (broken: 'no such array' (traceback in " in message
    assert "\n" not in message
    text = (logs / "broken.log").read_text()
    assert text.startswith("Traceback (most recent call last):") and "KeyError: 'no such array'" in text
    assert "train_or_fail" in text  # the frame that raised, not just the message
    monkeypatch.setattr(runner_module, "train", train)  # fixed: it trains, and its old log goes
    run_jobs([good, broken], RunnerConfig(workers=1), cache, log=quiet, log_dir=logs)
    assert not (logs / "broken.log").exists()


def test_a_diverging_job_is_its_one_line_and_leaves_no_log(tmp_path):
    logs = tmp_path / "failed_jobs"
    with pytest.raises(RunnerError, match=r"bad: non-finite loss"):
        run_jobs([job("bad", lr=1000.0)], RunnerConfig(workers=1), log=lambda *_: None, log_dir=logs)
    assert not logs.exists()


def shard_job() -> Job:
    """7 models at two feature probabilities, with snapshots: 3 shards of at most 3 models."""
    cfg = tiny_run_config(steps=30, batch=64, n_instances=4, log_every=7)
    cfg.data.feature_probabilities = [0.05, 0.2]
    return Job(JobKey("sharded"), cfg, snapshot_steps=(0, 10, 30))


def assert_same_result(a, b) -> None:
    for name in ("W", "b", "loss", "loss_step", "feature_probability", "seed"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert sorted(a.snapshots) == sorted(b.snapshots)
    for step in a.snapshots:
        assert np.array_equal(a.snapshots[step], b.snapshots[step])


def test_sharded_pool_jobs_merge_to_the_unsharded_run_bit_for_bit(tmp_path):
    whole = shard_job()
    runner = RunnerConfig(kind="pool", workers=2, models_per_job=3)
    logs = []
    results = run_jobs([whole], runner, RunCache(tmp_path), log=logs.append)
    assert sum("trained sharded models" in line for line in logs) == 3  # models 0-2, 3-5, 6-7
    assert_same_result(results[whole.key], train(whole.config, snapshot_steps=whole.snapshot_steps))


@needs_submitit
def test_sharded_submitit_local_jobs_merge_to_the_unsharded_run_bit_for_bit(tmp_path):
    whole = shard_job()
    runner = RunnerConfig(kind="submitit_local", timeout_min=5, models_per_job=3)
    results = run_jobs([whole], runner, RunCache(tmp_path / "cache"), log=lambda *_: None)
    assert_same_result(results[whole.key], train(whole.config, snapshot_steps=whole.snapshot_steps))


def test_a_job_of_some_models_is_sharded_within_them():
    job = dataclasses.replace(shard_job(), models=(2, 7))
    pieces = shards(job, 2)
    assert [p.models for p in pieces] == [(2, 4), (4, 6), (6, 7)]
    assert shards(job, 0) == [job] and shards(job, 5) == [job]


def test_a_job_of_some_models_trains_them_as_in_the_full_run(tmp_path):
    job = dataclasses.replace(shard_job(), models=(2, 7))
    runner = RunnerConfig(kind="pool", workers=1, models_per_job=2)
    result = run_jobs([job], runner, RunCache(tmp_path), log=lambda *_: None)[job.key]
    full = train(job.config, snapshot_steps=job.snapshot_steps)
    assert np.array_equal(result.W, full.W[2:7]) and result.seed.tolist() == full.seed[2:7].tolist()
