"""Statistics of the feature generators against the documented convention.

Tolerances: every rate is estimated from N >= 100k samples, so a rate r has standard error
sqrt(r (1 - r) / N). We allow 5 standard errors (a false alarm once in ~1.7 million checks),
and the draws are seeded, so the test is exact-repeatable.
"""

import contextlib
import math
from unittest import mock

import numpy as np
import pytest
import torch

from tms.core import streams
from tms.core.config import FeatureSet
from tms.core.features import FeatureSampler
from tms.core.streams import model_keys
from tms.core.structure import FeatureStructure

N = 200_000
P = 0.3  # feature probability 1 - S; dense enough that co-occurrence is well measured


@contextlib.contextmanager
def taking(path: str):
    """Samplers built inside find active slots by ``path``: "geometric" skipping at every p, or
    one "bernoulli" comparison per slot at every p, so both are tested on the same statistics."""
    below = 2.0 if path == "geometric" else 0.0
    with mock.patch.object(streams, "GEOMETRIC_BELOW", below):
        yield


def sampler(sets, p=P, seed=0, path="bernoulli", instances=1) -> FeatureSampler:
    """A sampler of ``instances`` models finding active slots by ``path`` (see ``taking``)."""
    structure = FeatureStructure.from_sets(sets)
    with taking(path):
        return FeatureSampler(structure, np.full(instances, p), model_keys(seed + np.arange(instances)))


def draw(sets, p=P, sampler_kind="dense", n=N, seed=0, path="bernoulli") -> np.ndarray:
    """(N, n) samples from one instance; the sparse sampler's undrawn zero rows are restored."""
    s = sampler(sets, p, seed, path)
    if sampler_kind == "dense":
        return s.sample_dense(n)[0].numpy()
    batch = s.sample_sparse(n)
    return np.concatenate([batch.x[0].numpy(), np.zeros((batch.n_implicit_zero, s.structure.n), np.float32)])


def assert_rate(observed: float, expected: float, n: int = N) -> None:
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(observed - expected) <= 5 * se + 1e-12, f"rate {observed:.5f}, expected {expected:.5f} ± {5 * se:.5f}"


SAMPLERS = ["dense", "sparse"]
PATHS = ["bernoulli", "geometric"]


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize(
    ("kind", "size", "expected_rate"),
    [("independent", 3, P), ("correlated", 3, P), ("anticorrelated", 3, P / 3), ("anticorrelated", 2, P / 2)],
)
@pytest.mark.parametrize("path", PATHS)
def test_marginal_rates_match_convention(path, sampler, kind, size, expected_rate):
    x = draw([FeatureSet(kind, size, 2)], sampler_kind=sampler, path=path)
    for rate in (x > 0).mean(0):
        assert_rate(rate, expected_rate)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("path", PATHS)
def test_correlated_sets_are_all_or_none(path, sampler):
    x = draw([FeatureSet("correlated", 3, 2)], sampler_kind=sampler, path=path) > 0
    for block in (x[:, :3], x[:, 3:]):
        on = block.sum(1)
        assert set(np.unique(on)) <= {0, 3}
    # ...and the two sets are independent of each other: both on at rate p^2.
    assert_rate((x[:, 0] & x[:, 3]).mean(), P * P)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("path", PATHS)
def test_anticorrelated_sets_never_cooccur(path, sampler):
    x = draw([FeatureSet("anticorrelated", 3, 2)], sampler_kind=sampler, path=path) > 0
    assert x[:, :3].sum(1).max() == 1
    assert x[:, 3:].sum(1).max() == 1
    # A set is active (one feature on) at rate p.
    assert_rate(x[:, :3].any(1).mean(), P)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("path", PATHS)
def test_independent_pairs_cooccur_at_p_squared(path, sampler):
    x = draw([FeatureSet("independent", 3, 1)], sampler_kind=sampler, path=path) > 0
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert_rate((x[:, i] & x[:, j]).mean(), P * P)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("path", PATHS)
def test_nonzero_values_are_uniform_on_the_half_open_interval_without_zero(path, sampler):
    x = draw([FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1)], sampler_kind=sampler, path=path)
    values = x[x > 0]
    assert values.min() >= 2.0**-24 and values.max() <= 1.0  # (0, 1]: an active feature is never 0
    se = math.sqrt(1 / 12 / values.size)  # std of a U(0, 1] mean
    assert abs(values.mean() - 0.5) < 5 * se
    # Uniform, not just mean 0.5: each decile holds a tenth of the values.
    deciles = np.histogram(values, bins=10, range=(0, 1))[0] / values.size
    for d in deciles:
        assert_rate(d, 0.1, values.size)


def test_values_are_independent_of_each_other_within_a_correlated_set():
    x = draw([FeatureSet("correlated", 2, 1)])
    on = x[:, 0] > 0
    r = np.corrcoef(x[on, 0], x[on, 1])[0, 1]
    assert abs(r) < 5 / math.sqrt(on.sum())  # null std of a correlation is 1/sqrt(n)


@pytest.mark.parametrize("path", PATHS)
def test_mixed_structure_keeps_each_kind_convention(path):
    sets = [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1), FeatureSet("independent", 2, 1)]
    x = draw(sets, sampler_kind="sparse", path=path) > 0
    assert np.array_equal(x[:, 0], x[:, 1])
    assert not (x[:, 2] & x[:, 3]).any()
    for rate, expected in zip(x.mean(0), [P, P, P / 2, P / 2, P, P], strict=True):
        assert_rate(rate, expected)
    structure = FeatureStructure.from_sets(sets)
    assert structure.set_id.tolist() == [0, 0, 1, 1, -1, -1]
    assert structure.set_kinds == ["correlated", "anticorrelated"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("p", [0.01, 0.05, 0.5])
def test_sparse_sampler_draws_the_binomial_number_of_nonzero_samples(p, path):
    """K_i, the count of not-all-zero samples, has mean B (1 - S^U) for every instance."""
    s = sampler([FeatureSet("correlated", 2, 3)], p=p, seed=1, path=path, instances=64)  # U = 3 units
    batch, reps = 1024, 50
    nonzero = sum(int((s.sample_sparse(batch).x.abs().sum(-1) > 0).sum()) for _ in range(reps))
    total = 64 * batch * reps
    assert_rate(nonzero / total, 1 - (1 - p) ** 3, total)


@pytest.mark.parametrize("path", PATHS)
def test_sparse_sampler_handles_dense_features(path):
    """S = 0: every sample is nonzero and nothing is left implicit."""
    s = sampler([FeatureSet("correlated", 2, 2)], p=1.0, path=path)
    batch = s.sample_sparse(256)
    assert batch.n_implicit_zero == 0 and batch.x.shape == (1, 256, 4) and bool((batch.x > 0).all())


@pytest.mark.parametrize("path", PATHS)
def test_a_batch_with_no_active_unit_is_all_implicit(path):
    s = sampler([FeatureSet("independent", 3, 1)], p=1e-9, path=path)
    batch = s.sample_sparse(64)
    assert batch.x.shape == (1, 0, 3) and batch.n_implicit_zero == 64 and batch.index.numel() == 0


@pytest.mark.parametrize("path", PATHS)
def test_the_model_seed_and_step_fix_the_batch(path):
    sets = [FeatureSet("correlated", 2, 2)]
    a = draw(sets, n=1000, seed=3, sampler_kind="sparse", path=path)
    b = draw(sets, n=1000, seed=3, sampler_kind="sparse", path=path)
    c = draw(sets, n=1000, seed=4, sampler_kind="sparse", path=path)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    s = sampler(sets, seed=3, path=path)
    first, second = s.sample_dense(1000), s.sample_dense(1000)  # steps 0 and 1
    assert torch.equal(first, s.sample_dense(1000, step=0)) and not torch.equal(first, second)


def test_large_structures_keep_the_statistics():
    """20 independent features at p = 0.03 (the geometric path by default)."""
    assert streams.slot_parameters([0.03])[0][0]
    x = draw([FeatureSet("independent", 20, 1)], p=0.03, sampler_kind="sparse", n=100_000) > 0
    for rate in x.mean(0):
        assert_rate(rate, 0.03, 100_000)
    assert_rate((x[:, 0] & x[:, 19]).mean(), 0.03**2, 100_000)


MIXED = [
    FeatureSet("correlated", 3, 1),
    FeatureSet("anticorrelated", 3, 1),
    FeatureSet("independent", 2, 1),
    FeatureSet("correlated", 2, 1),
]


@pytest.mark.parametrize("path", PATHS)
def test_three_feature_probabilities_along_the_instance_axis_keep_their_own_rates(path):
    """One sampler, instances at p = 0.02, 0.2 and 0.6 (a sweep in one run): each instance has
    its own marginals, all-or-none sets, never-two-on sets and independent units."""
    structure = FeatureStructure.from_sets(MIXED)
    probs = np.repeat([0.02, 0.2, 0.6], 2)  # (6,) two instances each
    with taking(path):
        s = FeatureSampler(structure, probs, model_keys(np.arange(6) + 7))
    batch, reps = 4096, 25
    rows = [[] for _ in range(len(probs))]
    for _ in range(reps):
        b = s.sample_sparse(batch)
        for i in range(len(probs)):
            x = b.x[i].numpy()
            rows[i].append(np.concatenate([x, np.zeros((batch - x.shape[0], structure.n), np.float32)]))
    total = batch * reps
    for i, p in enumerate(probs.tolist()):
        on = np.concatenate(rows[i]) > 0
        assert on.shape == (total, 10)
        expected = [p] * 3 + [p / 3] * 3 + [p] * 4
        for rate, e in zip(on.mean(0), expected, strict=True):
            assert_rate(rate, e, total)
        assert set(np.unique(on[:, :3].sum(1))) <= {0, 3} and set(np.unique(on[:, 8:].sum(1))) <= {0, 2}
        assert on[:, 3:6].sum(1).max() <= 1
        assert_rate((on[:, 6] & on[:, 7]).mean(), p * p, total)  # the two independent units
        assert_rate((on[:, 0] & on[:, 8]).mean(), p * p, total)  # two different sets


@pytest.mark.parametrize("path", PATHS)
def test_entry_list_matches_the_batch(path):
    """Batches list every nonzero entry once (padding at the scratch position, value 0)."""
    s = sampler(MIXED, p=0.3, path=path, instances=3)
    batch = s.sample_sparse(512)
    flat = np.concatenate([batch.x.numpy().reshape(-1), [0.0]])
    index, value = batch.index.numpy().reshape(-1), batch.value.numpy().reshape(-1)
    assert np.array_equal(flat[index], value)
    real = index < batch.scratch
    assert np.array_equal(np.sort(index[real]), np.flatnonzero(flat[:-1])) and (value[~real] == 0).all()


def test_dense_and_sparse_forms_are_one_batch():
    """The sparse form's rows are the dense batch's not-all-zero rows, in order."""
    s = sampler(MIXED, p=0.1, instances=4)
    dense, sparse = s.sample_dense(700, step=5), s.sample_sparse(700, step=5)
    for i in range(4):
        rows = dense[i][dense[i].abs().sum(-1) > 0]
        K = rows.shape[0]
        assert torch.equal(sparse.x[i, :K], rows) and not bool(sparse.x[i, K:].any())
        assert sparse.n_implicit_zero == 700 - sparse.x.shape[1]


def test_an_entry_list_larger_than_its_first_allocation_is_drawn_again_whole():
    """With no margin, the entry lists overflow and are drawn again; the batch is the same."""
    a = sampler([FeatureSet("independent", 6, 1)], p=0.3, seed=5, instances=3)
    expected = a.sample_dense(2000, step=2)
    with mock.patch("tms.core.features.ENTRY_MARGIN_SD", -20.0):
        assert torch.equal(a.sample_dense(2000, step=2), expected)
