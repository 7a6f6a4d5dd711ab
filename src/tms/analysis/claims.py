"""The paper's claims as checks on trained weights, one per figure.

Each claim maps W (I, m, n) and set_id (n,) to a per-model outcome (``tms.analysis.outcomes``:
strict, collapsed, dropped or other) and a per-model key metric; a model shows the predicted
geometry when its outcome is *strict*: every feature represented, no set collapsed, and the
geometry itself. The same check run on a control model with independent features (but the same
set_id layout) gives the chance level.

Tolerances, and why:
- ORTHOGONAL_ABS_COS = cos(80 deg): a correlated set is orthogonal when every pair of its
  features is within 10 degrees of 90. Trained orthogonal pairs land within ~2 degrees.
- OPPOSITE_COS = -cos(20 deg): an anticorrelated set is opposite when its features are within
  20 degrees of antipodal, the same 20 degrees that define a collapse.
- LOCAL_BASIS_RATIO = 0.5: sets form local bases when the mean |cos| within sets is under half
  the mean |cos| between sets. Random directions in m = 10 give a ratio near 1.
- HEXAGON_TOLERANCE_DEG = 10: six directions form a hexagon when every angular gap is within 10°
  of 60°. Chosen before looking at the models; the trained ones are bimodal (gaps within about
  6° of 60°, or a collapsed pair with a gap near 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tms.analysis import metrics, outcomes, stats

ORTHOGONAL_ABS_COS = float(np.cos(np.deg2rad(80.0)))
OPPOSITE_COS = -float(np.cos(np.deg2rad(20.0)))
LOCAL_BASIS_RATIO = 0.5
HEXAGON_TOLERANCE_DEG = 10.0


@dataclass(frozen=True)
class Claim:
    short: str  # a few words for legends, e.g. "orthogonal"
    statement: str  # the paper's claim, in words
    geometry: str  # what a model must show to count (on top of "every feature represented, no set collapsed")
    metric: str  # name of the key metric
    shape: Callable  # (W, set_id) -> (I,) bool: the geometry alone
    key_metric: Callable  # (W, set_id) -> (I,) float
    set_kind: str = "correlated"  # the kind of feature set the claim is about
    m: int | None = None  # hidden dimensions the check needs, if any

    def outcomes(self, W, set_id) -> np.ndarray:
        """(I,) outcome codes (``tms.analysis.outcomes.OUTCOMES``)."""
        return outcomes.classify(W, set_id, self.shape)

    def holds(self, W, set_id) -> np.ndarray:
        """(I,) the strict check: every feature represented, no set collapsed, the geometry."""
        return self.outcomes(W, set_id) == outcomes.STRICT


def _orthogonal(W, set_id):
    """Every pair of every set within 10 degrees of 90 (not only on average: sets of 3 differ)."""
    return metrics.max_abs_cos_within(W, set_id) < ORTHOGONAL_ABS_COS


def _opposite(W, set_id):
    return (metrics.within_set_cos(W, set_id) < OPPOSITE_COS).all(1)


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


def _hexagon(W, set_id):
    return metrics.regular_polygon_deviation(W) < HEXAGON_TOLERANCE_DEG


CLAIMS = {
    "correlated_pairs": Claim(
        "orthogonal",
        "correlated features are represented in orthogonal dimensions",
        "every correlated set orthogonal (all pairs within 10° of 90°)",
        "mean |cos| within sets",
        _orthogonal,
        lambda W, s: metrics.nanmean_rows(metrics.within_set_abs_cos(W, s)),
    ),
    "anticorrelated_pairs": Claim(
        "opposite",
        "anticorrelated features are represented in opposite directions",
        "every anticorrelated set opposite (within 20° of antipodal)",
        "mean cos within sets",
        _opposite,
        lambda W, s: metrics.nanmean_rows(metrics.within_set_cos(W, s)),
        set_kind="anticorrelated",
    ),
    "correlated_three_sets": Claim(
        "side by side",
        "correlated sets that cannot be orthogonal are arranged side by side (some may collapse)",
        "the features of every set are angular neighbours (one contiguous arc each)",
        "collapsed sets per model",
        metrics.sets_adjacent,
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

# Measured on another claim's models and controls rather than trained on their own.
HEXAGON = Claim(
    "hexagon",
    "models will not embed 6 independent features as a hexagon like the three correlated pairs",
    f"all six directions at near-equal angles: every gap within {HEXAGON_TOLERANCE_DEG:g}° of 60°",
    "largest |gap − 60°|",
    _hexagon,
    metrics.regular_polygon_deviation,
    m=2,
)
# The setup the hexagon sentence is measured on: its controls are 6 independent features in m = 2.
HEXAGON_SETUP = "correlated_three_sets"
# The hexagon verdict is about the control alone (independent features): "reproduced" when the
# upper end of its 95% interval is under HEXAGON_RARE, "contradicted" when the lower end is over it.
HEXAGON_RARE = 0.05


def hexagon_claim(W, control_W, set_id) -> dict:
    """The hexagon sentence on a three-set figure: how often its independent-feature controls
    and its structured models are regular hexagons, paired by seed, and the verdict."""
    entry = stats.compare_paired(HEXAGON.holds(W, set_id), HEXAGON.holds(control_W, set_id))
    entry["comparison_verdict"] = entry.pop("verdict")
    lo, hi = entry["control_fraction_ci95"]
    entry["verdict"] = "reproduced" if hi < HEXAGON_RARE else ("contradicted" if lo > HEXAGON_RARE else "undecided")
    entry["claim"] = HEXAGON.statement
    entry["geometry"] = HEXAGON.geometry
    entry["rare_below"] = HEXAGON_RARE
    return entry


# The setup each claim trains at (configs/setup/<name>.yaml): its paper figure's.
CLAIM_SETUPS = {"learning_dynamics": "correlated_two_triples"}


def claim_setup(name: str) -> str:
    """The setup claim ``name`` is measured on."""
    return CLAIM_SETUPS.get(name, name)


def summarize_claim(name: str, W, set_id, control_W=None) -> dict:
    """How often models show the claim's geometry (strictly), with 95% intervals, against the control.

    With ``control_W`` (the independent-feature control, paired model by model) the entry holds
    ``stats.compare_paired``'s fraction, control_fraction, difference, paired_p and verdict.
    Also: every model's outcome (``outcomes``: strict / collapsed / dropped / other, for the
    models and for the controls), the key metric's mean with its interval, and how many sets
    collapsed and features went unrepresented in all.
    """
    claim = CLAIMS[name]
    codes = claim.outcomes(W, set_id)
    holds = codes == outcomes.STRICT
    key = claim.key_metric(W, set_id)
    sets = (np.asarray(set_id) >= 0).any()
    collapsed = metrics.collapsed(W, set_id).sum(1) if sets else np.zeros(len(holds))
    unrepresented = (~metrics.represented(W)).sum(1)
    mean, mean_ci = stats.mean_ci(key)
    out = {
        "claim": claim.statement,
        "geometry": f"every feature represented, no set collapsed, {claim.geometry}",
        "n_instances": int(len(holds)),
        "metric": claim.metric,
        "metric_mean": mean,
        "metric_mean_ci95": mean_ci,
        "metric_std": float(np.nanstd(key)) if np.isfinite(key).any() else None,
        "outcomes": outcomes.breakdown(codes),
        "collapsed_sets_total": int(collapsed.sum()),
        "unrepresented_features_total": int(unrepresented.sum()),
    }
    if control_W is None:
        out["fraction"], out["fraction_ci95"] = stats.fraction(holds)
        return out
    control_codes = claim.outcomes(control_W, set_id)
    out.update(stats.compare_paired(holds, control_codes == outcomes.STRICT))
    out["control_outcomes"] = outcomes.breakdown(control_codes)
    out["control_metric_mean"], out["control_metric_mean_ci95"] = stats.mean_ci(claim.key_metric(control_W, set_id))
    return out
