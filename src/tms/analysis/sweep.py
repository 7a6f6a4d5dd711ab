"""One geometry of a sparsity sweep: per 1 - S, how often the claim holds (strictly), against its
control, and every model's outcome."""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS
from tms.analysis.outcomes import STRICT, breakdown


def sweep_points(claim: str, part: dict) -> dict:
    """One geometry of the sparsity sweep: per 1 - S value, fraction showing it and, with a
    control, the paired comparison (lists aligned with ``feature_probability``)."""
    p = np.asarray(part["feature_probability"])
    xs = np.unique(p)
    codes = CLAIMS[claim].outcomes(part["W"], part["set_id"])
    control_codes = CLAIMS[claim].outcomes(part["control_W"], part["set_id"]) if "control_W" in part else None
    holds = codes == STRICT
    control = None if control_codes is None else control_codes == STRICT
    keys = ["fraction", "fraction_ci95"]
    if control is not None:
        keys += ["control_fraction", "control_fraction_ci95", "difference", "difference_ci95", "paired_p"]
        keys += ["only_model", "only_control", "verdict"]
    entry = {"feature_probability": xs.tolist(), "n_instances": [int((p == x).sum()) for x in xs]}
    entry.update({k: [] for k in keys})
    entry["outcomes"] = [breakdown(codes[p == x]) for x in xs]
    if control_codes is not None:
        entry["control_outcomes"] = [breakdown(control_codes[p == x]) for x in xs]
    for x in xs:
        at = p == x
        if control is None:
            point = dict(zip(("fraction", "fraction_ci95"), stats.fraction(holds[at]), strict=True))
        else:
            point = stats.compare_paired(holds[at], control[at])
        for k in keys:
            entry[k].append(point[k])
    return entry
