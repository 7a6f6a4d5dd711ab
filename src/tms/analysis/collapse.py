"""Collapsed correlated sets, per model and per 1 - S, against the paper's reported counts."""

from __future__ import annotations

import numpy as np

from tms.analysis import stats
from tms.analysis.metrics import collapsed

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
