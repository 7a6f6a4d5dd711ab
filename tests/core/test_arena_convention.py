"""The ARENA-convention preset (``setup=arena_mixed``) against ARENA 3.0's generator checks.

ARENA's checks on its correlated/anticorrelated batch, restated: the two features of a
correlated pair are nonzero together or not at all; the two features of an anticorrelated pair
are never nonzero together; every feature is nonzero with probability p. We check them on the
preset's own run config, at each of its feature probabilities (which cover both ways the
sampler finds active slots: one comparison per slot for 2p >= 0.05, geometric skipping with
thinning below), plus the joint rates that independence of the two pairs implies. Rates are
judged within 5 binomial standard errors of the samples drawn.
"""

from __future__ import annotations

import numpy as np
import pytest

from tms.core.features import FeatureSampler
from tms.core.streams import GEOMETRIC_BELOW
from tms.run.compose import load_config

BATCH = 100_000
SE_LIMIT = 5.0


@pytest.fixture(scope="module")
def arena_batches():
    """{p: (BATCH, 4) bool nonzero pattern} for the preset's models (one per p)."""
    cfg = load_config("train", ["setup=arena_mixed", "n_instances=1", "train.progress=false"])
    x = FeatureSampler.from_config(cfg).sample_dense(BATCH, step=0).numpy() != 0
    return dict(zip(cfg.data.feature_probabilities, x, strict=True))


def assert_rate(observed: float, expected: float, n: int) -> None:
    se = np.sqrt(expected * (1 - expected) / n)
    assert abs(observed - expected) < SE_LIMIT * se, f"rate {observed:.5f}, expected {expected:.5f} (SE {se:.2g})"


def test_the_preset_covers_both_slot_paths(arena_batches):
    top = [2 * p for p in arena_batches]  # the anticorrelated set's rate is each model's largest
    assert min(top) < GEOMETRIC_BELOW <= max(top)


def test_correlated_pair_is_all_or_none(arena_batches):
    for x in arena_batches.values():
        assert np.array_equal(x[:, 0], x[:, 1])


def test_anticorrelated_pair_is_never_on_together(arena_batches):
    for x in arena_batches.values():
        assert not (x[:, 2] & x[:, 3]).any()


def test_every_feature_is_on_at_rate_p(arena_batches):
    for p, x in arena_batches.items():
        for feature in range(4):
            assert_rate(x[:, feature].mean(), p, BATCH)


def test_joint_rates_are_those_of_independent_pairs(arena_batches):
    for p, x in arena_batches.items():
        assert_rate((x[:, 0] & x[:, 1]).mean(), p, BATCH)  # the correlated pair on together
        assert_rate((x[:, 2] | x[:, 3]).mean(), 2 * p, BATCH)  # the anticorrelated set on
        assert_rate((x[:, 0] & x[:, 2]).mean(), p * p, BATCH)  # across pairs: independent
        assert_rate((x[:, 1] & x[:, 3]).mean(), p * p, BATCH)


def test_its_control_puts_every_feature_independently_at_p():
    from tms.core.controls import control_config

    cfg = load_config("train", ["setup=arena_mixed", "n_instances=1"])
    control = control_config(cfg)
    x = FeatureSampler.from_config(control).sample_dense(BATCH, step=0).numpy() != 0
    for p, xi in zip(cfg.data.feature_probabilities, x, strict=True):
        for feature in range(4):
            assert_rate(xi[:, feature].mean(), p, BATCH)
        assert_rate((xi[:, 2] & xi[:, 3]).mean(), p * p, BATCH)  # no longer exclusive
