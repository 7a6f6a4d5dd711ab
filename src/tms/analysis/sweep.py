"""One geometry of a sparsity sweep: per 1 - S, how often the claim holds, against its control."""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS


def sweep_points(claim: str, part: dict) -> dict:
    """One geometry of the sparsity sweep: per 1 - S value, fraction showing it and, with a
    control, the paired comparison (lists aligned with ``feature_probability``)."""
    p = np.asarray(part["feature_probability"])
    xs = np.unique(p)
    holds = CLAIMS[claim].holds(part["W"], part["set_id"])
    control = CLAIMS[claim].holds(part["control_W"], part["set_id"]) if "control_W" in part else None
    keys = ["fraction", "fraction_ci95"]
    if control is not None:
        keys += ["control_fraction", "control_fraction_ci95", "difference", "difference_ci95", "paired_p"]
        keys += ["only_model", "only_control", "verdict"]
    entry = {"feature_probability": xs.tolist(), "n_instances": [int((p == x).sum()) for x in xs]}
    entry.update({k: [] for k in keys})
    for x in xs:
        at = p == x
        if control is None:
            point = dict(zip(("fraction", "fraction_ci95"), stats.fraction(holds[at]), strict=True))
        else:
            point = stats.compare_paired(holds[at], control[at])
        for k in keys:
            entry[k].append(point[k])
    return entry
