"""Every model gets exactly one outcome, so a table of outcomes always adds up to its models.

In order of precedence:
- ``dropped``: some feature is unrepresented (||W_i|| < REPRESENTED_NORM), whatever else holds;
- ``collapsed``: every feature represented, and the features of some set point one way
  (``metrics.collapsed``);
- ``strict``: every feature represented, no set collapsed, and the claim's geometry holds;
- ``other``: every feature represented, no set collapsed, and the geometry fails.

A claim's headline fraction and verdict count ``strict`` models only.
"""

from __future__ import annotations

import numpy as np

from tms.analysis import metrics, stats

OUTCOMES = ("strict", "collapsed", "dropped", "other")
STRICT, COLLAPSED, DROPPED, OTHER = range(4)


def classify(W, set_id, geometry) -> np.ndarray:
    """(I,) outcome codes (indices into OUTCOMES); ``geometry`` maps (W, set_id) to (I,) bool."""
    set_id = np.asarray(set_id)
    dropped = ~metrics.represented(W).all(1)
    collapsed = metrics.collapsed(W, set_id).any(1) if (set_id >= 0).any() else np.zeros(len(dropped), bool)
    shape = np.asarray(geometry(W, set_id), dtype=bool)
    codes = np.where(shape, STRICT, OTHER)
    codes = np.where(collapsed, COLLAPSED, codes)
    return np.where(dropped, DROPPED, codes).astype(np.int64)


def breakdown(codes) -> dict:
    """{outcome: {"count", "fraction", "fraction_ci95"}} over the models, in OUTCOMES order."""
    codes = np.asarray(codes)
    out = {}
    for k, name in enumerate(OUTCOMES):
        frac, ci = stats.fraction(codes == k)
        out[name] = {"count": int((codes == k).sum()), "fraction": frac, "fraction_ci95": ci}
    return out


def transitions(before, after) -> dict:
    """How outcomes changed between two points of training of the same models.

    {"matrix": 4x4 counts [before][after] in OUTCOMES order, "failed": models not strict before,
    "failed_changed": of those, how many changed outcome, "changed": all models that changed}."""
    before, after = np.asarray(before), np.asarray(after)
    matrix = np.zeros((4, 4), dtype=np.int64)
    np.add.at(matrix, (before, after), 1)
    failed = before != STRICT
    changed_frac, changed_ci = stats.fraction((before != after)[failed]) if failed.any() else (None, None)
    return {
        "matrix": matrix.tolist(),
        "n_instances": int(len(before)),
        "failed": int(failed.sum()),
        "failed_changed": int((failed & (before != after)).sum()),
        "failed_changed_fraction": changed_frac,
        "failed_changed_fraction_ci95": changed_ci,
        "changed": int((before != after).sum()),
    }
