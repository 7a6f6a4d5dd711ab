"""The batch streams: SplitMix64 against its published outputs, the compiled sampler against
the plain-Python definition, and a model's batches as a function of its own seed and step."""

import numpy as np
import pytest

from tms.core import streams
from tms.core.config import FeatureSet
from tms.core.features import FeatureSampler
from tms.core.streams import model_keys, reference_batch
from tms.core.structure import FeatureStructure

# The first outputs of splitmix64.c (Vigna) seeded with 1234567, as published with it.
SPLITMIX64_1234567 = [
    6457827717110365317,
    3203168211198807973,
    9817491932198370423,
    4593380528125082431,
    16408922859458223821,
]


def test_splitmix64_reproduces_its_published_outputs():
    assert streams.splitmix64(1234567, 5) == SPLITMIX64_1234567


def test_the_compiled_mix_is_the_reference_mix():
    from tms.core import kernel

    z = np.uint64(0x0123456789ABCDEF)
    with np.errstate(over="ignore"):  # uint64 products wrap, as they should
        assert int(kernel.mix.py_func(z)) == streams.mix(int(z))


STRUCTURES = [
    [FeatureSet("correlated", 2, 2)],
    [FeatureSet("anticorrelated", 3, 2), FeatureSet("independent", 3, 1)],
    [FeatureSet("correlated", 3, 1), FeatureSet("anticorrelated", 2, 1), FeatureSet("independent", 2, 1)],
]


@pytest.mark.parametrize("sets", STRUCTURES)
@pytest.mark.parametrize("p", [0.01, 0.049, 0.05, 0.3, 1.0])  # both sides of GEOMETRIC_BELOW
def test_compiled_batches_equal_the_plain_definition_bit_for_bit(sets, p):
    structure = FeatureStructure.from_sets(sets)
    seeds = [11, 12]
    sampler = FeatureSampler(structure, [p, p], model_keys(seeds))
    for step in (0, 1, 7):
        x = sampler.sample_dense(300, step=step).numpy()
        for i, key in enumerate(model_keys(seeds)):
            assert np.array_equal(x[i], reference_batch(int(key), step, p, structure, 300))


def test_a_models_batches_do_not_depend_on_the_other_models():
    """Model j's batch is the same alone, among 9 others, and at another position."""
    structure = FeatureStructure.from_sets(STRUCTURES[2])
    seeds = np.arange(100, 110)
    p = np.linspace(0.01, 0.5, 10)
    together = FeatureSampler(structure, p, model_keys(seeds)).sample_dense(500, step=3)
    order = np.arange(10)[::-1]
    reversed_ = FeatureSampler(structure, p[order], model_keys(seeds[order])).sample_dense(500, step=3)
    for j in (0, 4, 9):
        alone = FeatureSampler(structure, p[j : j + 1], model_keys(seeds[j : j + 1])).sample_dense(500, step=3)
        assert np.array_equal(alone[0].numpy(), together[j].numpy())
        assert np.array_equal(reversed_[9 - j].numpy(), together[j].numpy())


def test_model_keys_differ_for_different_seeds_and_are_stable():
    keys = model_keys(np.arange(1000))
    assert len(set(keys.tolist())) == 1000
    assert streams.model_key(5) == streams.model_key(5) and model_keys([5])[0] == streams.model_key(5)


def test_batches_at_different_steps_are_uncorrelated():
    """Presence of a unit at step t says nothing about step t + 1 (correlation within 5 sd)."""
    structure = FeatureStructure.from_sets([FeatureSet("independent", 8, 1)])
    s = FeatureSampler(structure, [0.3], model_keys([1]))
    a = (s.sample_dense(20_000, step=0)[0].numpy() > 0).ravel()
    b = (s.sample_dense(20_000, step=1)[0].numpy() > 0).ravel()
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 5 / np.sqrt(a.size)
