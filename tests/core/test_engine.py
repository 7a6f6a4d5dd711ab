"""The two backends: a model's training depends on nothing but its own seed, p and the recipe;
the fused kernel and the torch program agree; stale compiled code is never reused."""

import numpy as np
import pytest
import torch

from tests.conftest import tiny_run_config
from tms.core import kernel
from tms.core.config import FeatureSet
from tms.core.errors import ConfigError, TrainingDiverged
from tms.core.replay import replay
from tms.core.train import train


def mixed_config(**train_kwargs):
    cfg = tiny_run_config(steps=60, batch=128, n_instances=5, **train_kwargs)
    cfg.data.sets = [
        FeatureSet("correlated", 2, 1),
        FeatureSet("anticorrelated", 3, 1),
        FeatureSet("independent", 2, 1),
    ]
    cfg.data.feature_probabilities = [0.02, 0.3]
    return cfg


def test_a_fused_model_trains_bit_for_bit_the_same_alone_as_among_others():
    cfg = mixed_config()
    everyone = train(cfg)
    for picked in ([3], [9, 0], [4, 5, 6]):
        alone = train(cfg, models=picked)
        assert np.array_equal(alone.W, everyone.W[picked]) and np.array_equal(alone.b, everyone.b[picked])
        assert np.array_equal(alone.loss, everyone.loss[:, picked])


def test_a_torch_backend_model_trains_alone_on_the_same_batches_to_rounding():
    """Same batches; batched products of another size may round differently (measured ~1e-7)."""
    cfg = mixed_config(backend="torch")
    everyone = train(cfg)
    alone = train(cfg, models=[9, 0])
    np.testing.assert_allclose(alone.W, everyone.W[[9, 0]], atol=1e-5)


def test_fused_results_do_not_depend_on_the_thread_count():
    cfg = mixed_config()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = train(cfg)
        torch.set_num_threads(2)
        two = train(cfg)
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(one.W, two.W) and np.array_equal(one.loss, two.loss)


@pytest.mark.parametrize("sets", [[FeatureSet("correlated", 2, 2)], [FeatureSet("independent", 12, 1)]])
def test_fused_and_torch_backends_agree_to_float_rounding(sets):
    """Same batches, same update rule; float32 sums in another order. After 300 steps the
    weights agree to 1e-4 (measured: about 1e-6)."""
    cfg = tiny_run_config(steps=300, batch=256, n_instances=4, feature_probability=0.05)
    cfg.data.sets = sets
    cfg.model.m = 2 if sets[0].kind == "correlated" else 4
    fused = train(cfg)
    cfg.train.backend = "torch"
    torch_ = train(cfg)
    np.testing.assert_allclose(fused.W, torch_.W, atol=1e-4)
    np.testing.assert_allclose(fused.loss, torch_.loss, rtol=1e-3, atol=1e-6)


def test_fused_backend_refuses_a_cuda_device():
    cfg = tiny_run_config(backend="fused", device="cuda")
    with pytest.raises(ConfigError, match="train.backend: fused runs on the CPU"):
        train(cfg)


@pytest.mark.parametrize("backend", ["fused", "torch"])
def test_divergence_names_the_first_step_and_model(backend):
    cfg = tiny_run_config(steps=50, n_instances=3, lr=1e4, backend=backend)
    with pytest.raises(TrainingDiverged, match=r"non-finite loss at step \d+ in instance \d+ \(seed \d+"):
        train(cfg)


def test_snapshots_and_loss_windows_match_between_backends():
    cfg = tiny_run_config(steps=45, n_instances=2, log_every=10)
    fused = train(cfg, snapshot_steps=(0, 7, 45))
    cfg.train.backend = "torch"
    torch_ = train(cfg, snapshot_steps=(0, 7, 45))
    assert fused.loss_step.tolist() == torch_.loss_step.tolist() == [10, 20, 30, 40, 45]
    assert sorted(fused.snapshots) == sorted(torch_.snapshots) == [0, 7, 45]
    np.testing.assert_allclose(fused.snapshots[7], torch_.snapshots[7], atol=1e-5)


def test_replay_retrains_one_saved_model_bit_for_bit(tmp_path):
    cfg = mixed_config()
    result = train(cfg, snapshot_steps=(30,))
    path = result.save(tmp_path / "weights.npz")
    for source in (result, path, tmp_path):
        again = replay(source, model=7, snapshot_steps=(0, 30))
        assert np.array_equal(again.W[0], result.W[7]) and again.seed[0] == result.seed[7]
        assert np.array_equal(again.snapshots[30][0], result.snapshots[30][7])


def test_replay_on_the_other_backend_agrees_to_rounding():
    result = train(mixed_config())
    again = replay(result, model=2, backend="torch")
    np.testing.assert_allclose(again.W[0], result.W[2], atol=1e-4)


def test_a_compiled_kernel_from_other_source_is_deleted_before_use(tmp_path, monkeypatch):
    """The cache guard drops machine code whose source hash is not this file's."""
    folder = tmp_path / "cache"
    folder.mkdir()
    stale = folder / "kernel.train_models-1.py311.nbi"
    stale.write_text("old")
    (folder / "kernel.train_models.sha256").write_text("not this source")

    class FakeCache:
        _cache_path = str(folder)

    class Fake:
        __name__ = "train_models"
        _cache = FakeCache()

    monkeypatch.setattr(kernel, "COMPILED", (Fake(),))
    kernel._drop_stale_cache()
    assert not stale.exists()
    stamp = (folder / "kernel.train_models.sha256").read_text()
    stale.write_text("current")
    kernel._drop_stale_cache()  # the stamp now matches: the cache is kept
    assert stale.exists() and (folder / "kernel.train_models.sha256").read_text() == stamp


TRAIN_AND_SAVE = """
import sys, numpy as np, torch
from tests.conftest import tiny_run_config
from tms.core.train import train
torch.set_num_threads(1)
np.save(sys.argv[1], train(tiny_run_config(steps=600, batch=1024, n_instances=8, feature_probability=0.05)).W)
"""


def _train_in_fresh_process(cache_dir, out, **env):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), **env}
    proc = subprocess.run([sys.executable, "-c", TRAIN_AND_SAVE, str(out)], cwd=ROOT, env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return np.load(out)


def test_the_process_that_compiles_the_kernel_trains_like_those_that_load_it(tmp_path):
    """The first process (empty numba cache) has the kernel compiled in a subprocess and loads it,
    so it trains bit for bit like every later process, which loads the same cache."""
    cache = tmp_path / "numba"
    first = _train_in_fresh_process(cache, tmp_path / "first.npy")
    later = _train_in_fresh_process(cache, tmp_path / "later.npy")
    assert np.array_equal(first, later)


@pytest.mark.slow
def test_kernel_code_compiled_in_process_rounds_unlike_the_cached_code(tmp_path):
    """Why the kernel is compiled elsewhere: compiled here (the subprocess route switched off),
    the same source gives other last bits than its cached object code (n = 4, fastmath reductions)."""
    cache = tmp_path / "numba"
    here = _train_in_fresh_process(cache, tmp_path / "here.npy", TMS_KERNEL_WARMING="1")
    cached = _train_in_fresh_process(cache, tmp_path / "cached.npy")
    assert not np.array_equal(here, cached)
    np.testing.assert_allclose(here, cached, atol=1e-4)
