"""The paper's claims as checks on trained weights, one per figure.

Each claim maps W (I, m, n) and set_id (n,) to a per-model verdict (did this model show the
predicted geometry?) and a per-model key metric. The same check run on a control model with
independent features (but the same set_id layout) gives the chance level.

Tolerances, and why:
- ORTHOGONAL_ABS_COS = cos(80 deg): a correlated set is orthogonal when every pair of its
  features is within 10 degrees of 90. Trained orthogonal pairs land within ~2 degrees.
- OPPOSITE_COS = -cos(20 deg): an anticorrelated set is opposite when its features are within
  20 degrees of antipodal, the same 20 degrees that define a collapse.
- LOCAL_BASIS_RATIO = 0.5: sets form local bases when the mean |cos| within sets is under half
  the mean |cos| between sets. Random directions in m = 10 give a ratio near 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tms.analysis import metrics, stats

ORTHOGONAL_ABS_COS = float(np.cos(np.deg2rad(80.0)))
OPPOSITE_COS = -float(np.cos(np.deg2rad(20.0)))
LOCAL_BASIS_RATIO = 0.5


@dataclass(frozen=True)
class Claim:
    short: str  # a few words for legends, e.g. "orthogonal"
    statement: str  # the paper's claim, in words
    geometry: str  # what a model must show to count
    metric: str  # name of the key metric
    holds: Callable  # (W, set_id) -> (I,) bool
    key_metric: Callable  # (W, set_id) -> (I,) float
    set_kind: str = "correlated"  # the kind of feature set the claim is about
    m: int | None = None  # hidden dimensions the check needs, if any


def _all_represented(W, set_id) -> np.ndarray:
    return metrics.represented(W)[:, np.asarray(set_id) >= 0].all(1)


def _orthogonal(W, set_id):
    """Every pair of every set within 10 degrees of 90 (not only on average: sets of 3 differ)."""
    return _all_represented(W, set_id) & (metrics.max_abs_cos_within(W, set_id) < ORTHOGONAL_ABS_COS)


def _opposite(W, set_id):
    return _all_represented(W, set_id) & (metrics.within_set_cos(W, set_id) < OPPOSITE_COS).all(1)


def _side_by_side(W, set_id):
    return metrics.side_by_side(W, set_id)


def _local_basis(W, set_id):
    return metrics.local_basis_ratio(W, set_id) < LOCAL_BASIS_RATIO


def antipodal_cross_set_fraction(W, set_id) -> np.ndarray:
    """(I,) fraction of features whose nearest-opposite partner (cos < OPPOSITE_COS) is in another set."""
    cos = metrics.cosine_matrix(W)
    set_id = np.asarray(set_id)
    other = set_id[:, None] != set_id[None, :]
    return ((cos < OPPOSITE_COS) & other).any(-1).mean(-1)


def _octahedron(W, set_id):
    """Every feature has an antipodal partner in the other set, and each set is orthogonal."""
    return _orthogonal(W, set_id) & (antipodal_cross_set_fraction(W, set_id) == 1.0)


CLAIMS = {
    "correlated_pairs": Claim(
        "orthogonal",
        "correlated features are represented in orthogonal dimensions",
        "every correlated set orthogonal (all pairs within 10° of 90°), all features represented",
        "mean |cos| within sets",
        _orthogonal,
        lambda W, s: metrics.nanmean_rows(metrics.within_set_abs_cos(W, s)),
    ),
    "anticorrelated_pairs": Claim(
        "opposite",
        "anticorrelated features are represented in opposite directions",
        "every anticorrelated set opposite (within 20° of antipodal), all features represented",
        "mean cos within sets",
        _opposite,
        lambda W, s: metrics.nanmean_rows(metrics.within_set_cos(W, s)),
        set_kind="anticorrelated",
    ),
    "correlated_three_sets": Claim(
        "side by side",
        "correlated sets that cannot be orthogonal are arranged side by side (some may collapse)",
        "the features of every non-collapsed set are angular neighbours",
        "collapsed sets per model",
        _side_by_side,
        lambda W, s: metrics.collapsed(W, s).sum(1).astype(float),
        m=2,  # angular order exists in the plane only
    ),
    "local_orthogonal_basis": Claim(
        "local bases",
        "each correlated set forms a local almost-orthogonal basis",
        f"mean |cos| within sets < {LOCAL_BASIS_RATIO} x mean |cos| between sets",
        "within/between |cos| ratio",
        _local_basis,
        metrics.local_basis_ratio,
    ),
    "learning_dynamics": Claim(
        "octahedron",
        "two sets of 3 correlated features in m = 3 end as an octahedron (cross-set antipodal pairs)",
        "every set orthogonal and every feature antipodal to one of the other set",
        "fraction of features with a cross-set antipodal partner",
        _octahedron,
        antipodal_cross_set_fraction,
    ),
}


def summarize_claim(name: str, W, set_id, control_W=None) -> dict:
    """How often models show the claim's geometry, with 95% intervals, against the control.

    With ``control_W`` (the independent-feature control, paired model by model) the entry holds
    ``stats.compare_paired``'s fraction, control_fraction, difference, paired_p and verdict.
    Also: the key metric's mean with its interval, and how many models collapsed a set or left
    a feature unrepresented (with intervals on those fractions).
    """
    claim = CLAIMS[name]
    holds = claim.holds(W, set_id)
    key = claim.key_metric(W, set_id)
    collapsed = metrics.collapsed(W, set_id).sum(1) if (np.asarray(set_id) >= 0).any() else np.zeros(len(holds))
    unrepresented = (~metrics.represented(W)).sum(1)
    mean, mean_ci = stats.mean_ci(key)
    out = {
        "claim": claim.statement,
        "geometry": claim.geometry,
        "n_instances": int(len(holds)),
        "metric": claim.metric,
        "metric_mean": mean,
        "metric_mean_ci95": mean_ci,
        "metric_std": float(np.nanstd(key)) if np.isfinite(key).any() else None,
        "collapsed_sets_total": int(collapsed.sum()),
        "models_with_collapse": int((collapsed > 0).sum()),
        "unrepresented_features_total": int(unrepresented.sum()),
        "models_with_unrepresented": int((unrepresented > 0).sum()),
    }
    for field_name, flags in (("collapse_fraction", collapsed > 0), ("unrepresented_fraction", unrepresented > 0)):
        out[field_name], out[f"{field_name}_ci95"] = stats.fraction(flags)
    if control_W is None:
        out["fraction"], out["fraction_ci95"] = stats.fraction(holds)
        return out
    out.update(stats.compare_paired(holds, claim.holds(control_W, set_id)))
    out["control_metric_mean"], out["control_metric_mean_ci95"] = stats.mean_ci(claim.key_metric(control_W, set_id))
    return out
