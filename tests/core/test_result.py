"""TrainResult: saving, loading, selecting models, and rebuilding the model and sampler from a file."""

import numpy as np
import pytest
import torch

from tms import ArtifactError, DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, TrainResult, train
from tms.core.model import loss_and_grads

MIXED = [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 3, 1), FeatureSet("independent", 2, 1)]


@pytest.fixture(scope="module")
def result():
    cfg = RunConfig(
        data=DataConfig(sets=MIXED, feature_probabilities=[0.2, 0.05]),
        model=ModelConfig(m=3, importance_decay=0.9),
        train=TrainConfig(steps=20, batch=64, progress=False),
        n_instances=3,
    )
    return train(cfg, snapshot_steps=[0, 10])


def test_save_and_load_round_trip_every_array(tmp_path, result):
    path = result.save(tmp_path / "run.npz")
    loaded = TrainResult.load(path)
    for key, value in result.arrays().items():
        assert np.array_equal(loaded.arrays()[key], value), key
    assert sorted(loaded.snapshots) == [0, 10] and loaded.set_kind.tolist() == ["correlated", "anticorrelated"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_loading_something_else_names_the_file(tmp_path):
    bad = tmp_path / "notes.npz"
    np.savez(bad, W=np.zeros((1, 2, 2)))
    with pytest.raises(ArtifactError, match=r"notes\.npz: not a run artifact; missing b"):
        TrainResult.load(bad)


def test_select_by_feature_probability_seed_or_mask(result):
    dense = result.select(feature_probability=0.2)
    assert dense.n_instances == 3 and set(dense.feature_probability) == {0.2}
    assert dense.loss.shape[1] == 3 and dense.snapshots[10].shape[0] == 3
    one = result.select(seed=int(result.seed[4]))
    assert one.n_instances == 1 and one.feature_probability[0] == 0.05
    masked = result.select(np.arange(6) % 2 == 0)
    assert masked.seed.tolist() == result.seed[::2].tolist()
    with pytest.raises(ValueError, match="mask has shape"):
        result.select(np.ones(4, dtype=bool))


def test_feature_sets_and_sampler_are_rebuilt_from_the_file_alone(tmp_path, result):
    loaded = TrainResult.load(result.save(tmp_path / "run.npz"))
    assert loaded.feature_sets() == [
        FeatureSet("correlated", 2, 1),
        FeatureSet("anticorrelated", 3, 1),
        FeatureSet("independent", 2, 1),
    ]
    x = loaded.sampler(step=1).sample_dense(4000).numpy()  # (6, 4000, 7)
    on = x > 0
    assert np.array_equal(on[..., 0], on[..., 1])  # the correlated pair is all-or-none
    assert on[..., 2:5].sum(-1).max() == 1  # the anticorrelated triple never has two on
    assert abs(on[:3, :, 5].mean() - 0.2) < 0.02 and abs(on[3:, :, 5].mean() - 0.05) < 0.01  # 5 sd at n = 12k


def test_to_model_keeps_importance_and_its_loss_is_the_trainers(result):
    model = result.to_model()
    assert torch.allclose(model.importance, torch.as_tensor(result.importance))
    assert not torch.all(model.importance == 1)
    x = result.sampler(step=2).sample_dense(128)
    expected, _, _ = loss_and_grads(model.W.detach(), model.b.detach(), x, model.importance)
    torch.testing.assert_close(model.loss(x).detach(), expected)
    assert repr(model) == "ToyModel(I=6, m=3, n=7)"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"just some text\n", "not an npz archive"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", "a single .npy array"),
    ],
)
def test_loading_a_file_that_is_no_npz_archive_names_what_it_is(tmp_path, content, why):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=why):
        TrainResult.load(path)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda a: a.update(b=a["b"][:, :3]), "b has shape"),
        (lambda a: a.update(seed=a["seed"][:1]), "seed has shape"),
        (lambda a: a.update(set_kind=np.asarray(["correlated", "sideways"])), "unknown set_kind 'sideways'"),
        (lambda a: a.update(set_kind=np.asarray(["correlated"])), "set_kind lists 1 sets, set_id has 2"),
    ],
)
def test_arrays_that_are_no_consistent_run_are_refused(tmp_path, result, change, why):
    arrays = result.arrays()
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ArtifactError, match=why):
        TrainResult.load(tmp_path / "bad.npz")


def test_to_model_on_no_models_says_so(result):
    with pytest.raises(ValueError, match="no models"):
        result.select(np.zeros(result.n_instances, dtype=bool)).to_model()
