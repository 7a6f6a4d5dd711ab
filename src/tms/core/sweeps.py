"""Sparsity sweeps along the instance axis, split into runs of similar cost.

The sparse sampler pads every instance of a run to the densest value in it, so one run holding
1-S = 0.005 and 1-S = 0.5 costs as much as if all were 0.5. ``probability_groups`` therefore
puts feature probabilities whose expected active units per batch are within a factor of
``ratio`` into one run. (Counting not-all-zero samples instead saturates at the batch size: it
put 1-S = 0.1 to 0.5 of 20 independent features into one run, which took twice as long as one
run per value.) ``merge_results`` stitches the runs back into one instance axis, ordered by
feature probability. A model's initialisation seed depends on its run seed, feature
probability and index only (``tms.core.seeds``), never on the grouping; its batches do depend on it.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from tms.core.config import RunConfig
from tms.core.result import TrainResult
from tms.core.structure import FeatureStructure


def expected_nonzero(feature_probability: float, n_units: int, batch: int) -> float:
    """Expected number of not-all-zero samples in a batch."""
    return batch * (1.0 - (1.0 - feature_probability) ** n_units)


def expected_active_units(feature_probability: float, n_units: int, batch: int) -> float:
    """Expected number of active units (independent features or whole sets) in a batch."""
    return batch * feature_probability * n_units


def probability_groups(feature_probabilities, n_units: int, batch: int, ratio: float = 2.0) -> list:
    """Split feature probabilities into groups whose expected active units per batch differ by at
    most ``ratio``x (fewer than one expected unit counts as one)."""
    order = sorted(feature_probabilities)
    groups, start = [], None
    for p in order:
        k = max(expected_active_units(p, n_units, batch), 1.0)
        if start is None or k > ratio * start:
            groups.append([])
            start = k
        groups[-1].append(p)
    return groups


def sweep_configs(base: RunConfig, feature_probabilities, n_instances: int, ratio: float = 2.0) -> list:
    """One RunConfig per group of feature probabilities, each with n_instances models per value."""
    n_units = FeatureStructure.from_sets(base.data.sets).n_units
    configs = []
    for group in probability_groups(feature_probabilities, n_units, base.train.batch, ratio):
        cfg = copy.deepcopy(base)
        cfg.data.feature_probabilities = list(group)
        cfg.n_instances = n_instances
        configs.append(cfg)
    return configs


def concatenate_results(results) -> TrainResult:
    """Runs (or shards of one run) along the instance axis, in the order given."""
    first = results[0]
    if len(results) == 1:
        return first
    return dataclasses.replace(
        first,
        W=np.concatenate([r.W for r in results]),
        b=np.concatenate([r.b for r in results]),
        loss=np.concatenate([r.loss for r in results], axis=1),
        feature_probability=np.concatenate([r.feature_probability for r in results]),
        seed=np.concatenate([r.seed for r in results]),
        snapshots={s: np.concatenate([r.snapshots[s] for r in results]) for s in first.snapshots},
    )


def merge_results(results) -> TrainResult:
    """Concatenate runs along the instance axis, ordered by feature probability (stable)."""
    if len(results) == 1:
        return results[0]
    merged = concatenate_results(results)
    order = np.argsort(merged.feature_probability, kind="stable")
    return dataclasses.replace(
        merged,
        W=merged.W[order],
        b=merged.b[order],
        loss=merged.loss[:, order],
        feature_probability=merged.feature_probability[order],
        seed=merged.seed[order],
        snapshots={s: w[order] for s, w in merged.snapshots.items()},
    )
