"""Which models a run trains: one block of n_instances per feature probability, and their seeds."""

from __future__ import annotations

import numpy as np

from tms.core.config import RunConfig, feature_probabilities, n_features
from tms.core.seeds import instance_seeds


def instance_layout(cfg: RunConfig):
    """Per-instance feature probability (I,) and initialisation seed (I,) int64.

    One block of n_instances models per feature probability; seeds from ``tms.core.seeds``.
    """
    values = feature_probabilities(cfg.data)
    p = np.repeat(np.asarray(values, dtype=np.float64), cfg.n_instances)
    return p, instance_seeds(cfg.seed, values, cfg.n_instances)


def importance_vector(cfg: RunConfig) -> np.ndarray:
    """(n,) float32: the explicit importance, or importance_decay ** i."""
    n = n_features(cfg.data)
    if cfg.model.importance is not None:
        return np.asarray(cfg.model.importance, dtype=np.float32)
    return (cfg.model.importance_decay ** np.arange(n)).astype(np.float32)
