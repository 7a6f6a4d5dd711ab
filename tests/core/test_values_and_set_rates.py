"""Value distributions (``data.values``) and sets with their own rates (``FeatureSet.rate_scale``
and ``probability``) on every sampler path: the compiled sampler (one comparison per slot, or
geometric skipping with thinning), the torch backend's dense and sparse batches, the plain
definitions (``streams.reference_batch``, ``reference.sample``) and training on both backends.

Tolerances: rates and moments within 5 standard errors of the number of draws; the clipped
normal's interior against its truncated normal by a Kolmogorov-Smirnov test at p > 1e-6.
"""

import math
from statistics import NormalDist

import numpy as np
import pytest
import torch
from scipy import stats as sps

from tests.conftest import tiny_run_config
from tms.core import reference
from tms.core.config import DataConfig, FeatureSet, RunConfig
from tms.core.errors import ConfigError
from tms.core.features import FeatureSampler
from tms.core.streams import GEOMETRIC_BELOW, model_keys, reference_batch
from tms.core.structure import FeatureStructure
from tms.core.train import train

TAIL = NormalDist().cdf(-2.5)  # P(0.5 + 0.2 z <= 0) = P(... >= 1): the clipped mass at each end
# E[(v - 1/2)^2] for v = clip(0.5 + 0.2 z, 0, 1): the interior part plus the two atoms at 1/2 away.
_PHI = math.exp(-(2.5**2) / 2) / math.sqrt(2 * math.pi)
VARIANCE = 0.04 * ((1 - 2 * TAIL) - 2 * 2.5 * _PHI) + 2 * 0.25 * TAIL
LAYOUT = [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 3, 1), FeatureSet("independent", 2, 1)]


def values_drawn(p: float, values: str, batch: int = 100_000) -> np.ndarray:
    """The values of every drawn (present) entry of one batch of one model, zeros included."""
    s = FeatureSampler(FeatureStructure.from_sets(LAYOUT), [p], model_keys([3]), values=values)
    _, count, _, _, value = s.entries(batch, step=0)
    return value[0, : count[0, 1]].astype(np.float64)


def assert_clipped_normal(v: np.ndarray) -> None:
    n = v.size
    assert abs(v.mean() - 0.5) < 5 * math.sqrt(VARIANCE / n)
    for atom in (0.0, 1.0):
        share = (v == atom).mean()
        assert abs(share - TAIL) < 5 * math.sqrt(TAIL * (1 - TAIL) / n), (atom, share)
    inside = v[(v > 0) & (v < 1)]
    assert sps.kstest(inside, sps.truncnorm(-2.5, 2.5, loc=0.5, scale=0.2).cdf).pvalue > 1e-6


@pytest.mark.parametrize("p", [0.02, 0.3])  # geometric skipping, one comparison per slot
def test_normal_values_follow_the_clipped_normal_on_both_slot_paths(p):
    assert (p < GEOMETRIC_BELOW) == (p == 0.02)
    assert_clipped_normal(values_drawn(p, "normal"))


def test_uniform_values_stay_uniform_and_never_zero():
    v = values_drawn(0.3, "uniform")
    assert v.min() > 0 and v.max() <= 1
    assert sps.kstest(v, "uniform").pvalue > 1e-6


@pytest.mark.parametrize("p", [0.02, 0.3])
def test_the_value_distribution_leaves_which_features_are_present_unchanged(p):
    """Values come from their own stream: the same entries, only their values differ."""
    structure = FeatureStructure.from_sets(LAYOUT)
    got = [
        FeatureSampler(structure, [p], model_keys([9]), values=v).entries(2000, step=4) for v in ("uniform", "normal")
    ]
    (_, c0, s0, f0, _), (_, c1, s1, f1, _) = got
    E = c0[0, 1]
    assert np.array_equal(c0, c1) and np.array_equal(s0[0, :E], s1[0, :E]) and np.array_equal(f0[0, :E], f1[0, :E])


def test_a_zero_valued_present_feature_is_an_entry_but_looks_absent_in_the_batch():
    """A clipped-normal 0 is drawn present (its sample is a not-all-zero row of the sparse batch)
    but contributes nothing: the dense batch holds 0 there, as for an absent feature."""
    structure = FeatureStructure.from_sets([FeatureSet("independent", 4, 1)])
    s = FeatureSampler(structure, [0.5], model_keys([1]), values="normal")
    _, count, sample, feature, value = s.entries(4000, step=0)
    zero = np.flatnonzero(value[0, : count[0, 1]] == 0)
    assert zero.size > 0
    x = s.sample_dense(4000, step=0)[0].numpy()
    assert np.all(x[sample[0, zero], feature[0, zero]] == 0)


@pytest.mark.parametrize("values", ["uniform", "normal"])
@pytest.mark.parametrize(
    "sets",
    [
        LAYOUT,
        [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=2.0)],
        [FeatureSet("independent", 3, 1, probability=0.2), FeatureSet("correlated", 2, 2, rate_scale=0.5)],
    ],
)
@pytest.mark.parametrize("p", [0.01, 0.04, 0.3])
def test_compiled_batches_equal_the_plain_definition_bit_for_bit(sets, p, values):
    structure = FeatureStructure.from_sets(sets)
    rates = structure.unit_rates([p, p])
    sampler = FeatureSampler(structure, rates, model_keys([21, 22]), values=values)
    for step in (0, 5):
        x = sampler.sample_dense(300, step=step).numpy()
        for i, key in enumerate(model_keys([21, 22])):
            assert np.array_equal(x[i], reference_batch(int(key), step, rates[i], structure, 300, values))


@pytest.mark.parametrize("p", [0.01, 0.3])  # 0.01: the set at 0.03 is the largest rate, thinning the rest
@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_sets_with_their_own_rates_keep_them(p, form):
    sets = [
        FeatureSet("correlated", 2, 1),
        FeatureSet("anticorrelated", 2, 1, rate_scale=3.0),
        FeatureSet("independent", 2, 1, probability=0.1),
    ]
    structure = FeatureStructure.from_sets(sets)
    s = FeatureSampler(structure, structure.unit_rates([p]), model_keys([4]))
    batch = 200_000
    if form == "dense":
        x = s.sample_dense(batch, step=0)[0].numpy() != 0
    else:
        sparse = s.sample_sparse(batch, step=0)
        x = np.concatenate([sparse.x[0].numpy(), np.zeros((sparse.n_implicit_zero, structure.n), np.float32)]) != 0
    want = structure.feature_rates([p])[0]
    np.testing.assert_allclose(want, [p, p, 1.5 * p, 1.5 * p, 0.1, 0.1])
    for f in range(structure.n):
        assert abs(x[:, f].mean() - want[f]) < 5 * math.sqrt(want[f] * (1 - want[f]) / batch)
    assert np.array_equal(x[:, 0], x[:, 1]) and not (x[:, 2] & x[:, 3]).any()
    joint = (x[:, 0] & x[:, 4]).mean()  # units stay independent of each other
    assert abs(joint - p * 0.1) < 5 * math.sqrt(p * 0.1 / batch)


def test_the_plain_torch_sampler_draws_the_same_distribution():
    structure = FeatureStructure.from_sets([FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1)])
    rates = torch.as_tensor(structure.unit_rates([0.3], 1.0)) * torch.tensor([[1.0, 2.0]])  # the set at 0.6
    g = torch.Generator().manual_seed(0)
    x = reference.sample(structure, rates, 200_000, g, values="normal")[0].numpy()
    on = x != 0
    n = on.shape[0]
    for f, want in enumerate([0.3, 0.3, 0.3, 0.3]):
        present = want * (1 - TAIL)  # a present feature reads as on unless its value clipped to 0
        assert abs(on[:, f].mean() - present) < 5 * math.sqrt(present * (1 - present) / n)
    assert not (on[:, 2] & on[:, 3]).any()
    assert abs(x[on].mean() - 0.5) < 0.01  # the clipped normal's mean, zeros excluded: above 1/2 by < 0.005


def test_training_with_normal_values_and_own_rates_agrees_between_backends():
    cfg = tiny_run_config(steps=200, batch=256, n_instances=3, feature_probability=0.1)
    cfg.data.sets = [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=2.0)]
    cfg.data.values = "normal"
    fused = train(cfg)
    cfg.train.backend = "torch"
    torch_ = train(cfg)
    np.testing.assert_allclose(fused.W, torch_.W, atol=1e-4)
    assert not np.array_equal(fused.W, train(tiny_run_config(steps=200, batch=256, n_instances=3)).W)


def test_a_saved_runs_sampler_draws_its_own_rates_and_values(tmp_path):
    cfg = tiny_run_config(steps=5, n_instances=2)
    cfg.data.sets = [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=2.0)]
    cfg.data.values = "normal"
    result = train(cfg)
    again = FeatureSampler.from_config(cfg).sample_dense(500, step=7)
    assert torch.equal(result.sampler(step=7).sample_dense(500), again)


@pytest.mark.parametrize(
    ("sets", "field_name"),
    [
        ([FeatureSet("correlated", 2, 1, rate_scale=0.0)], "data.sets[0].rate_scale"),
        ([FeatureSet("correlated", 2, 1, rate_scale=float("inf"))], "data.sets[0].rate_scale"),
        (
            [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=20.0)],
            "data.sets[1].rate_scale",
        ),
        ([FeatureSet("correlated", 2, 1, probability=1.5)], "data.sets[0].probability"),
        ([FeatureSet("correlated", 2, 1, probability=0.2, rate_scale=2.0)], "data.sets[0].probability"),
    ],
)
def test_bad_set_rates_are_refused_naming_the_field(sets, field_name):
    cfg = RunConfig(data=DataConfig(sets=sets, feature_probability=0.1))
    with pytest.raises(ConfigError, match=field_name.replace("[", r"\[").replace("]", r"\]")):
        train(cfg)


def test_an_unknown_value_distribution_is_refused():
    with pytest.raises(ConfigError, match="data.values"):
        train(RunConfig(data=DataConfig(values="gaussian")))


def test_a_sampler_given_a_list_keeps_its_rates_in_float64():
    s = FeatureSampler(FeatureStructure.from_sets(LAYOUT), [0.3], model_keys([1]))
    assert s.rates.dtype == np.float64 and np.all(s.rates == 0.3)
