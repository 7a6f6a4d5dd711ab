"""Local almost-orthogonal bases in larger models: per-model numbers for the scaling figure."""

from __future__ import annotations

import numpy as np

from tms.analysis import metrics


def basis_metrics(W, set_id) -> dict:
    """Per model (I,): local-basis geometry and how much the whole model is in superposition."""
    within, between = metrics.mean_abs_cos_within_between(W, set_id)
    return {
        "within": within,
        "max_within": metrics.max_abs_cos_within(W, set_id),
        "between": between,
        "ratio": metrics.local_basis_ratio(W, set_id),
        "represented_per_dimension": metrics.represented(W).sum(1) / np.asarray(W).shape[1],
        "dimensionality": metrics.dimensionality(W).mean(1),
    }
