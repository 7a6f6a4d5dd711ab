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

from tms.core import features
from tms.core.config import FeatureSet
from tms.core.features import FeatureSampler
from tms.core.structure import FeatureStructure

N = 200_000
P = 0.3  # feature probability 1 - S; dense enough that co-occurrence is well measured


@contextlib.contextmanager
def taking(path: str):
    """Samplers built inside take ``path``: "geometric" disables the pattern table, so geometric
    skipping (used for structures with more than MAX_PATTERNS patterns) is tested on the same
    statistics; "patterns/sample-major" lays pattern batches out as structures of more than
    FEATURE_MAJOR_MAX_N features get them (small ones come feature-major)."""
    limit = 0 if path == "geometric" else features.MAX_PATTERNS
    largest_feature_major = 0 if path == "patterns/sample-major" else features.FEATURE_MAJOR_MAX_N
    with (
        mock.patch.object(features, "MAX_PATTERNS", limit),
        mock.patch.object(features, "FEATURE_MAJOR_MAX_N", largest_feature_major),
    ):
        yield


def sampler(sets, p=P, seed=0, path="patterns") -> FeatureSampler:
    """A one-instance sampler taking ``path`` (see ``taking``)."""
    structure = FeatureStructure.from_sets(sets)
    with taking(path):
        s = FeatureSampler(structure, torch.tensor([p], dtype=torch.float64), torch.Generator().manual_seed(seed))
    assert s.path == path.split("/")[0]
    assert s.feature_major == (path == "patterns" and structure.n <= features.FEATURE_MAJOR_MAX_N)
    return s


def draw(sets, p=P, sampler_kind="dense", n=N, seed=0, path="patterns") -> np.ndarray:
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
PATHS = ["patterns", "patterns/sample-major", "geometric"]


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
def test_nonzero_values_are_uniform_on_unit_interval(path, sampler):
    x = draw([FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1)], sampler_kind=sampler, path=path)
    values = x[x > 0]
    assert values.min() >= 0.0 and values.max() < 1.0
    se = math.sqrt(1 / 12 / values.size)  # std of a U[0,1) mean
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
    structure = FeatureStructure.from_sets([FeatureSet("correlated", 2, 3)])  # U = 3 units
    probs = torch.full((64,), p, dtype=torch.float64)
    with taking(path):
        s = FeatureSampler(structure, probs, torch.Generator().manual_seed(1))
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


def test_a_batch_with_no_active_unit_is_all_implicit():
    s = sampler([FeatureSet("independent", 3, 1)], p=1e-9, path="geometric")
    batch = s.sample_sparse(64)
    assert batch.x.shape == (1, 0, 3) and batch.n_implicit_zero == 64 and batch.index.numel() == 0


@pytest.mark.parametrize("path", PATHS)
def test_generator_seed_fixes_the_batch(path):
    sets = [FeatureSet("correlated", 2, 2)]
    a = draw(sets, n=1000, seed=3, sampler_kind="sparse", path=path)
    b = draw(sets, n=1000, seed=3, sampler_kind="sparse", path=path)
    c = draw(sets, n=1000, seed=4, sampler_kind="sparse", path=path)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_large_structures_use_geometric_skipping_with_the_same_statistics():
    """20 independent features have 2^20 patterns: geometric skipping is chosen automatically."""
    structure = FeatureStructure.from_sets([FeatureSet("independent", 20, 1)])
    assert structure.patterns(features.MAX_PATTERNS) is None and features.sparse_path(structure, 0.05) == "geometric"
    x = draw([FeatureSet("independent", 20, 1)], p=0.05, sampler_kind="sparse", n=100_000, path="geometric") > 0
    for rate in x.mean(0):
        assert_rate(rate, 0.05, 100_000)
    assert_rate((x[:, 0] & x[:, 19]).mean(), 0.05**2, 100_000)


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
    ps = [0.02, 0.2, 0.6]
    probs = torch.tensor(ps, dtype=torch.float64).repeat_interleave(2)  # (6,) two instances each
    with taking(path):
        s = FeatureSampler(structure, probs, torch.Generator().manual_seed(7))
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


def test_entry_list_matches_the_batch():
    """Geometric batches list every nonzero entry once (padding at the scratch position, value 0)."""
    s = sampler(MIXED, p=0.3, path="geometric")
    batch = s.sample_sparse(512)
    flat = np.concatenate([batch.x.numpy().reshape(-1), [0.0]])
    index, value = batch.index.numpy().reshape(-1), batch.value.numpy().reshape(-1)
    assert np.array_equal(flat[index], value)
    real = index < batch.scratch
    assert np.array_equal(np.sort(index[real]), np.flatnonzero(flat[:-1])) and (value[~real] == 0).all()


def test_drawing_more_gaps_when_the_margin_runs_out_keeps_the_statistics():
    """With no margin, most batches need a second round of gaps; rates must not change."""
    with mock.patch.object(features, "GAP_MARGIN_SD", -3.0):
        x = draw([FeatureSet("independent", 6, 1)], p=0.3, sampler_kind="sparse", n=50_000, path="geometric") > 0
    for rate in x.mean(0):
        assert_rate(rate, 0.3, 50_000)
    assert_rate((x[:, 0] & x[:, 5]).mean(), 0.09, 50_000)


@pytest.mark.parametrize(
    "n, p",
    [(20, 0.2), (160, 0.005)],  # about 4 and 200 buffer elements per entry: both ways of re-zeroing
)
def test_reused_batches_equal_fresh_ones(n, p):
    """sample_sparse(reuse=True) writes into one buffer; each batch equals a freshly allocated one."""
    a = sampler([FeatureSet("independent", n, 1)], p=p, seed=5, path="geometric")
    b = sampler([FeatureSet("independent", n, 1)], p=p, seed=5, path="geometric")
    for batch in (300, 50, 700, 20):  # shrinking and growing K
        fresh, reused = a.sample_sparse(batch), b.sample_sparse(batch, reuse=True)
        assert torch.equal(fresh.x, reused.x)
        assert torch.equal(b._buffer[reused.scratch :], torch.zeros_like(b._buffer[reused.scratch :]))


def test_samples_dense_enough_are_drawn_the_plain_way():
    """Above DENSE_ABOVE expected active units per sample, sample_sparse draws a full dense batch."""
    structure = FeatureStructure.from_sets([FeatureSet("independent", 20, 1)])
    assert features.sparse_path(structure, 0.5) == "dense"
    s = FeatureSampler(structure, torch.tensor([0.5], dtype=torch.float64), torch.Generator().manual_seed(0))
    batch = s.sample_sparse(256)
    assert s.path == "dense" and batch.n_implicit_zero == 0 and batch.x.shape == (1, 256, 20) and batch.index is None
    assert_rate(float((batch.x > 0).float().mean()), 0.5, 256 * 20)
