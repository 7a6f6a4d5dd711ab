"""The expected loss from W and b agrees with the training loss on the models' own batches."""

import numpy as np
import pytest
import torch

from tms.analysis.expected_loss import expected_loss, presence_patterns
from tms.core.config import FeatureSet
from tms.core.features import FeatureSampler
from tms.core.model import loss_per_instance
from tms.core.streams import model_keys
from tms.core.structure import FeatureStructure

LAYOUTS = {
    "three correlated pairs": [FeatureSet("correlated", 2, 3)],
    "two anticorrelated pairs": [FeatureSet("anticorrelated", 2, 2)],
    "independent and anticorrelated": [FeatureSet("independent", 2, 1), FeatureSet("anticorrelated", 3, 1)],
    "pairs at their own rates": [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=2.0)],
}


def test_presence_patterns_enumerate_every_case_once():
    # 2 anticorrelated pairs: each set off, or on with one of 2 features -> 3 x 3 patterns
    structure = FeatureStructure.from_sets(LAYOUTS["two anticorrelated pairs"])
    patterns = presence_patterns(structure.set_id, structure.set_kinds)
    assert len(patterns) == 9
    q = 0.3  # the probabilities of all patterns sum to 1
    assert sum(w * q ** on.sum() * (1 - q) ** (2 - on.sum()) for _, on, w in patterns) == pytest.approx(1.0)
    six = FeatureStructure.from_sets([FeatureSet("independent", 6, 1)])
    assert len(presence_patterns(six.set_id, six.set_kinds)) == 64


@pytest.mark.parametrize("values", ["uniform", "normal"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_expected_loss_matches_the_mean_loss_on_sampled_batches(layout, values):
    structure = FeatureStructure.from_sets(LAYOUTS[layout])
    n, models, batch, steps = structure.n, 4, 4096, 8
    rng = np.random.default_rng(3)
    W = rng.normal(0, 0.6, (models, 2, n)).astype(np.float32)
    b = rng.normal(0, 0.1, (models, n)).astype(np.float32)
    rates = structure.unit_rates(np.full(models, 0.3))  # (models, units)
    want, error = expected_loss(W, b, structure.set_id, structure.set_kinds, rates, values=values)
    sampler = FeatureSampler(structure, rates, model_keys(np.arange(models) + 11), values=values)
    per_batch = []
    for step in range(steps):
        x = sampler.sample_dense(batch, step)
        per_batch.append(loss_per_instance(torch.as_tensor(W), torch.as_tensor(b), x, torch.ones(n)).numpy())
    per_batch = np.asarray(per_batch, dtype=np.float64)  # (steps, models)
    got = per_batch.mean(0)
    spread = per_batch.std(0, ddof=1) / np.sqrt(steps)  # standard error of the sampled mean
    # two independent estimates of one number: within 5 combined standard errors
    assert np.all(np.abs(got - want) <= 5 * np.sqrt(spread**2 + error**2))
