"""The run cache: complete entries are reused, partial or corrupt ones never are."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, run_module, tiny_run_config
from tms import FeatureSet, RunConfig, train
from tms.run import cache
from tms.run.cache import RunCache, cached_train, run_key


def small() -> RunConfig:
    return tiny_run_config()  # _key_in_copy builds the same config by hand


def test_complete_entry_is_reused_bit_for_bit(tmp_path):
    store = RunCache(tmp_path)
    first, hit1 = cached_train(small(), store, snapshot_steps=[0, 20])
    second, hit2 = cached_train(small(), store, snapshot_steps=[0, 20])
    assert (hit1, hit2) == (False, True)
    assert np.array_equal(first.W, second.W) and np.array_equal(first.loss, second.loss)
    assert sorted(second.snapshots) == [0, 20] and np.array_equal(first.snapshots[20], second.snapshots[20])


def test_cosmetic_fields_keep_the_key():
    cfg = small()
    key = run_key(cfg)
    cfg.train.progress = not cfg.train.progress
    assert run_key(cfg) == key


@pytest.mark.parametrize(
    "change",
    [
        lambda c: setattr(c.train, "lr", 2e-3),
        lambda c: setattr(c, "seed", 1),
        lambda c: setattr(c.data, "feature_probability", 0.05),
        lambda c: setattr(c.train, "steps", 41),
        lambda c: setattr(c.model, "m", 3),
        lambda c: setattr(c.train, "sampler", "dense"),
    ],
)
def test_meaningful_fields_change_the_key(change):
    cfg = small()
    key = run_key(cfg)
    change(cfg)
    assert run_key(cfg) != key


def test_key_depends_on_snapshots_and_package_version(monkeypatch):
    key = run_key(small())
    assert run_key(small(), snapshot_steps=[5]) != key
    monkeypatch.setattr(cache, "package_version", lambda: "999")
    assert run_key(small()) != key


EDITS = {  # (file under tms/, appended text): the key changes for anything in the training core only
    "unedited": None,
    "trainer edited": ("core/train.py", "\n# an edit that changes nothing but the source\n"),
    "new core module": ("core/new_module.py", "X = 1\n"),
    "figure code edited": ("figures/plotting.py", "\n# drawing does not change what a run computes\n"),
}


def _key_in_copy(root: Path, tmp_path: Path) -> str:
    code = (
        "from tms import DataConfig, FeatureSet, RunConfig, TrainConfig\n"
        "from tms.run.cache import run_key\n"
        "print(run_key(RunConfig(data=DataConfig(sets=[FeatureSet('correlated', 2, 2)], feature_probability=0.1),"
        " train=TrainConfig(steps=40, batch=128, progress=False), n_instances=2)))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_only_edits_to_the_training_core_change_the_key(tmp_path):
    """Copies of the package compute the same key as this one unless a file of tms/core was
    edited or added (nothing is listed by hand, so a new core module counts too)."""
    import shutil

    import tms

    package = Path(tms.__file__).resolve().parent
    keys = {}
    for name, edit in EDITS.items():
        root = tmp_path / name.replace(" ", "_")
        shutil.copytree(package, root / "tms", ignore=shutil.ignore_patterns("__pycache__"))
        if edit:
            path = root / "tms" / edit[0]
            path.write_text((path.read_text() if path.exists() else "") + edit[1])
        keys[name] = _key_in_copy(root, tmp_path)
    assert keys["unedited"] == run_key(small())
    assert keys["figure code edited"] == keys["unedited"]
    assert keys["trainer edited"] != keys["unedited"]
    assert keys["new core module"] != keys["unedited"]
    assert keys["new core module"] != keys["trainer edited"]


@pytest.mark.parametrize("marker", ["[]", "null", "42", '"text"', '{"sha256": 5}', "{}", "{broken"])
def test_every_damaged_marker_means_retrain(tmp_path, marker):
    store = RunCache(tmp_path)
    cached_train(small(), store)
    (tmp_path / run_key(small()) / "complete.json").write_text(marker)
    assert store.get(run_key(small())) is None
    assert cached_train(small(), store)[1] is False
    assert store.get(run_key(small())) is not None


def test_entry_without_completion_marker_is_not_reused(tmp_path):
    store = RunCache(tmp_path)
    cached_train(small(), store)
    (tmp_path / run_key(small()) / "complete.json").unlink()
    assert store.get(run_key(small())) is None
    assert cached_train(small(), store)[1] is False  # retrained, and the entry is complete again
    assert store.get(run_key(small())) is not None


def test_corrupt_weights_are_not_reused(tmp_path):
    store = RunCache(tmp_path)
    result, _ = cached_train(small(), store)
    npz = tmp_path / run_key(small()) / "weights.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    assert store.get(run_key(small())) is None
    again, hit = cached_train(small(), store)
    assert not hit and np.array_equal(again.W, result.W)


def test_train_command_reuses_the_cache_and_cache_false_retrains(tmp_path):
    args = ("train.steps=30", "n_instances=2")
    runs = {}
    for name, extra in (("a", ()), ("b", ()), ("c", ("cache=false",))):
        proc = run_module("experiments.train", *args, *extra, f"out_dir={tmp_path / name}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        runs[name] = json.loads((tmp_path / name / "metrics.json").read_text())
    assert [runs[k]["cached"] for k in "abc"] == [False, True, False]
    assert runs["a"]["run_key"] == runs["b"]["run_key"]


def test_rerunning_an_interrupted_sweep_skips_finished_jobs():
    """Kill a 4-job sweep after its first job completes, rerun the same command."""
    work = Path(tempfile.mkdtemp(prefix="tms-sweep-"))
    cmd = [sys.executable, "-m", "experiments.train", "-m", "seed=0,1,2,3", "train.steps=4000", "out_dir=sweep"]
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((work / "sweep").glob("*/metrics.json")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = sorted(p.parent.name for p in (work / "sweep").glob("*/metrics.json"))
    assert 1 <= len(finished) < 4, "the sweep must be interrupted partway"
    rerun = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    jobs = {p.parent.name: json.loads(p.read_text()) for p in (work / "sweep").glob("*/metrics.json")}
    assert sorted(jobs) == ["0", "1", "2", "3"]
    assert all(jobs[name]["cached"] for name in finished)
    assert not all(job["cached"] for job in jobs.values())


def test_figures_rerender_from_cache_without_training(tmp_path):
    args = [
        "train.steps=20",
        "n_instances=2",
        "figures=[correlated_pairs,collapse_transition]",
        "collapse_transition.n_instances=1",
        f"cache_dir={tmp_path / 'cache'}",
    ]
    first = run_module("experiments.correlated", f"out_dir={tmp_path / 'a'}", *args, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    second = run_module("experiments.correlated", f"out_dir={tmp_path / 'b'}", "n_shown=1", *args, cwd=ROOT)
    assert second.returncode == 0, second.stderr
    assert "reused" in second.stdout and "trained" not in second.stdout.replace("reused", "")
    for name in (
        "summary.md",
        "summary.json",
        "correlated_pairs.npz",
        "collapse_transition.npz",
        "collapse_transition.svg",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_an_entry_holding_another_run_is_retrained_with_one_warning(tmp_path):
    """Another run's weights.npz and complete.json copied under this run's key (3 models at n = 6
    where the key names 2 models at n = 4) are a complete entry, but not of this run."""
    import shutil

    store = RunCache(tmp_path)
    other = tiny_run_config(n_instances=3)
    other.data.sets = [FeatureSet("correlated", 2, 3)]
    cached_train(other, store)
    shutil.copytree(tmp_path / run_key(other), tmp_path / run_key(small()))
    with pytest.warns(UserWarning, match=r"does not hold the run its key names \(W is \(3, 2, 6\)"):
        result, was_cached = cached_train(small(), store)
    assert not was_cached and np.array_equal(result.W, train(small()).W)
    assert np.array_equal(store.get(run_key(small()), small()).W, result.W)  # and the entry is this run now


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda cfg: setattr(cfg, "seed", 1), "other seeds"),
        (lambda cfg: setattr(cfg.data, "feature_probability", 0.2), "other feature probabilities"),
        (lambda cfg: setattr(cfg.model, "importance_decay", 0.9), "another importance"),
        (lambda cfg: setattr(cfg.data, "sets", [FeatureSet("anticorrelated", 2, 2)]), "another feature layout"),
    ],
)
def test_every_kind_of_foreign_entry_is_named(tmp_path, change, why):
    store = RunCache(tmp_path)
    other = small()
    change(other)
    store.put(run_key(small()), train(other))
    with pytest.warns(UserWarning, match=why):
        assert store.get(run_key(small()), small()) is None


def test_an_entry_stored_by_another_version_is_retrained(tmp_path, monkeypatch):
    store, key = RunCache(tmp_path), run_key(small())
    cached_train(small(), store)
    monkeypatch.setattr(cache, "package_version", lambda: "9.9.9")
    with pytest.warns(UserWarning, match="stored by tms '.*', this is '9.9.9'"):
        assert store.get(key) is None
