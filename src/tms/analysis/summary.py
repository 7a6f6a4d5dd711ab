"""Analysis behind the figures and the summary: numbers with intervals, computed from arrays.

Plotting only draws what these functions return, and the summary tables print them, so a
figure, ``summary.json``, ``summary.md`` and the README's results block never disagree.
"""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS, antipodal_cross_set_fraction
from tms.analysis.metrics import collapsed, feature_norms, within_set_abs_cos

# The paper's reported number of collapsed sets (3 correlated pairs, m = 2) by range of 1 - S.
# Each range is half-open, lo < 1 - S <= hi; points in no range are listed as between ranges.
PAPER_COLLAPSE_RANGES = ((0.0, 0.05, 0), (0.05, 0.15, 1), (0.15, 0.2, 2), (0.25, 0.5, 3))


def range_label(lo: float, hi: float) -> str:
    return f"({lo:g}, {hi:g}]"


def collapse_counts(W, set_id) -> np.ndarray:
    """(I,) collapsed sets per model."""
    return collapsed(W, set_id).sum(1)


def collapse_agreement(feature_probability, counts, sets: int) -> dict:
    """Per paper range: models, median collapsed count and the fraction matching the paper.

    Returns {"ranges": [...], "between_ranges": [1 - S values in no range]}. Every model lands
    in at most one range (lo < p <= hi, exact values).
    """
    p = np.asarray(feature_probability)
    counts = np.asarray(counts)
    rows, used = [], np.zeros(len(p), dtype=bool)
    for lo, hi, expected in PAPER_COLLAPSE_RANGES:
        inside = (p > lo) & (p <= hi)
        if not inside.any():
            continue
        used |= inside
        median, median_ci = stats.median_ci(counts[inside])
        frac, frac_ci = stats.fraction(counts[inside] == expected)
        rows.append(
            {
                "range": [lo, hi],
                "range_label": range_label(lo, hi),
                "paper_collapsed": expected,
                "feature_probabilities": np.unique(p[inside]).tolist(),
                "n_instances": int(inside.sum()),
                "median_collapsed": median,
                "median_collapsed_ci95": median_ci,
                "fraction_matching_paper": frac,
                "fraction_matching_paper_ci95": frac_ci,
                "histogram": np.bincount(counts[inside], minlength=sets + 1).tolist(),
            }
        )
    return {"ranges": rows, "between_ranges": np.unique(p[~used]).tolist()}


def collapse_by_point(feature_probability, counts) -> dict:
    """Per 1 - S value: median collapsed sets with its interval (what the figure draws)."""
    p, counts = np.asarray(feature_probability), np.asarray(counts)
    xs = np.unique(p)
    medians = [stats.median_ci(counts[p == x]) for x in xs]
    return {
        "feature_probability": xs.tolist(),
        "median_collapsed": [m for m, _ in medians],
        "median_collapsed_ci95": [ci for _, ci in medians],
        "mean_collapsed": [float(np.mean(counts[p == x])) for x in xs],
    }


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


# --- formatting for summary.md and the README --------------------------------------------


def pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def pct_ci(x, ci) -> str:
    """'84% [79–88]' (percent with its 95% interval)."""
    if x is None:
        return "–"
    return f"{100 * x:.0f}% [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]"


def num_ci(x, ci, digits: int = 3) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def p_value(p) -> str:
    if p is None:
        return "–"
    return "< 1e-6" if p <= 1e-6 else (f"{p:.2g}" if p < 0.01 else f"{p:.2f}")


def cell(text: str) -> str:
    """A Markdown table cell: a bare | would split it."""
    return str(text).replace("|", "\\|")
