"""Sparsity sweeps along the instance axis, split into groups of similar cost.

The sparse sampler pads every instance of a run to the largest number of non-zero samples
in the batch, so one run holding 1-S = 0.005 and 1-S = 0.5 costs as much as if all were 0.5.
``sparsity_groups`` therefore puts sparsity values whose expected non-zero count per batch
is within a factor of ``ratio`` into one run; ``merge_results`` stitches the runs back into
one instance axis, in the order of the requested values.
"""

from __future__ import annotations

import copy

import numpy as np

from tms.config import RunConfig
from tms.features import FeatureStructure
from tms.train import TrainResult


def expected_nonzero(sparsity: float, n_units: int, batch: int) -> float:
    """Expected number of not-all-zero samples in a batch."""
    return batch * (1.0 - sparsity**n_units)


def sparsity_groups(sparsities, n_units: int, batch: int, ratio: float = 2.0) -> list:
    """Split sparsity values into groups whose expected non-zero counts differ by < ratio."""
    order = sorted(sparsities, key=lambda s: expected_nonzero(s, n_units, batch))
    groups, start = [], None
    for s in order:
        k = max(expected_nonzero(s, n_units, batch), 1.0)
        if start is None or k > ratio * start:
            groups.append([])
            start = k
        groups[-1].append(s)
    return groups


def sweep_configs(base: RunConfig, feature_probabilities, n_seeds: int, ratio: float = 2.0) -> list:
    """One RunConfig per sparsity group, each with n_seeds models per value."""
    sparsities = [1.0 - p for p in feature_probabilities]
    n_units = FeatureStructure.from_sets(base.data.sets).n_units
    configs = []
    for group in sparsity_groups(sparsities, n_units, base.train.batch, ratio):
        cfg = copy.deepcopy(base)
        cfg.data.sparsities = group
        cfg.n_instances = n_seeds
        configs.append(cfg)
    return configs


def merge_results(results) -> TrainResult:
    """Concatenate runs along the instance axis, sorted by feature probability then seed."""
    p = np.concatenate([r.feature_probability for r in results])
    seed = np.concatenate([r.seed for r in results])
    order = np.lexsort((seed, p))
    first = results[0]
    snapshots = {}
    for step in first.snapshots:
        snapshots[step] = np.concatenate([r.snapshots[step] for r in results])[order]
    return TrainResult(
        W=np.concatenate([r.W for r in results])[order],
        b=np.concatenate([r.b for r in results])[order],
        loss=np.concatenate([r.loss for r in results], axis=1)[:, order],
        loss_step=first.loss_step,
        feature_probability=p[order],
        seed=seed[order],
        importance=first.importance,
        set_id=first.set_id,
        snapshots=snapshots,
    )
