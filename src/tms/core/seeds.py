"""Initialisation seeds: every model of every run gets its own, and they never repeat.

A run with ``seed = s`` initialises model j of feature probability p from the 63-bit seed
``instance_seed(s, p, j)``, a hash of (s, the exact bits of p, j) by numpy's ``SeedSequence``,
the construction numpy recommends for independent parallel streams. So:

- models at different feature probabilities of one sweep never share an initialisation;
- runs with different ``seed`` never do either (``seed=0,1,2`` trains 3 x n_instances
  distinct models, not mostly the same ones);
- a model and its independent-feature control with the same (seed, p, j) share theirs, which
  is what makes their comparison paired;
- a model's seed does not depend on how a sweep is split into runs, so one point of a sweep
  can be retrained on its own.

A model's batches come from its own stream, keyed by this seed (``tms.core.streams``), so a
model's whole training is a function of its seed, p and the recipe.

Distinct inputs collide with probability about 2^-63 per pair; the committed figures are
checked for repeats (tests/test_figures_data.py). ``derive_seed`` turns a seed and a label into
a run seed, e.g. one per figure and sweep geometry.
"""

from __future__ import annotations

import numpy as np

SEED_BITS = 63


def _from_sequence(seq: np.random.SeedSequence) -> int:
    hi, lo = seq.generate_state(2, np.uint32).tolist()
    return ((hi << 32) | lo) >> (64 - SEED_BITS)


def _bits(p: float) -> tuple:
    word = int(np.float64(p).view(np.uint64))
    return word >> 32, word & 0xFFFFFFFF


def instance_seed(seed: int, feature_probability: float, index: int) -> int:
    """The initialisation seed of model ``index`` at ``feature_probability`` in a run with ``seed``."""
    return _from_sequence(np.random.SeedSequence(int(seed), spawn_key=(*_bits(feature_probability), int(index))))


def instance_seeds(seed: int, feature_probabilities, n_instances: int) -> np.ndarray:
    """(len(feature_probabilities) * n_instances,) int64: one block of models per value."""
    return np.asarray(
        [instance_seed(seed, p, j) for p in feature_probabilities for j in range(n_instances)], dtype=np.int64
    )


def derive_seed(seed: int, label: str) -> int:
    """A run seed for ``label`` (e.g. a figure's name) from a user's ``seed``."""
    return _from_sequence(np.random.SeedSequence(int(seed), spawn_key=tuple(label.encode())))
