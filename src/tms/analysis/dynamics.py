"""Geometry over training, from W snapshots: means over models with 95% intervals."""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import antipodal_cross_set_fraction
from tms.analysis.metrics import feature_norms, within_set_abs_cos


def learning_series(snapshots, set_id) -> dict:
    """Geometry over training, mean over models with 95% intervals, one value per snapshot."""
    series = {
        "mean |cos| within sets": [np.nanmean(within_set_abs_cos(w, set_id), 1) for w in snapshots],
        "features with a cross-set antipodal partner": [antipodal_cross_set_fraction(w, set_id) for w in snapshots],
        "mean feature norm": [feature_norms(w).mean(1) for w in snapshots],
    }
    out = {}
    for label, per_snapshot in series.items():
        means = [stats.mean_ci(v) for v in per_snapshot]
        out[label] = {"mean": [m for m, _ in means], "mean_ci95": [ci for _, ci in means]}
    return out
