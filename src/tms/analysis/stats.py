"""Intervals and paired tests for the claims: every number the summary reports comes from here.

- Fractions get 95% Wilson score intervals (good coverage even near 0 and 1 and for small n).
- Means get 95% percentile-bootstrap intervals (10,000 resamples from a fixed seed, so the
  same data always give the same interval).
- Medians get distribution-free intervals from order statistics (exact binomial coverage >= 95%).
- A model and its control share initialisation seeds, so they are compared *paired*: an exact
  two-sided McNemar test on the discordant pairs, and Newcombe's hybrid-score interval
  (method 10) for the difference in fractions.

The verdict rule (``verdict``) is stated once, here, and the README repeats it.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile
ALPHA = 0.01  # paired test level for "more often than the control"
MAJORITY = 0.5  # a claim holds "in most models" when the fraction's lower bound reaches this
BOOTSTRAP_RESAMPLES = 10_000


def wilson(k: int, n: int, z: float = Z95) -> list:
    """95% Wilson score interval [lo, hi] for k successes in n trials ([0, 1] when n = 0)."""
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At k = 0 and k = n the bound is exactly 0 or 1 (floating point would miss it slightly).
    return [0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half)]


def fraction(flags) -> tuple:
    """(fraction of true flags, its Wilson interval); (None, [0, 1]) for no flags."""
    flags = np.asarray(flags, dtype=bool)
    if flags.size == 0:
        return None, [0.0, 1.0]
    return float(flags.mean()), wilson(int(flags.sum()), int(flags.size))


def mean_ci(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple:
    """(mean, 95% percentile-bootstrap interval), ignoring NaN; (None, [None, None]) if empty."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None, [None, None]
    if x.size == 1 or np.all(x == x[0]):
        return float(x[0]), [float(x[0]), float(x[0])]
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(x.mean()), [float(lo), float(hi)]


def _binomial_cdf_half(k: int, n: int) -> float:
    """P(Bin(n, 1/2) <= k), exactly."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2**n


def median_ci(values) -> tuple:
    """(median, [x_(j), x_(k)]): the narrowest symmetric order-statistic interval with >= 95%
    coverage (all of the data when n is too small for that)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return None, [None, None]
    # 0-based order statistics: [x_(j), x_(n-1-j)] covers the median with probability
    # 1 - 2 P(Bin(n, 1/2) <= j); take the largest j that keeps this >= 95%.
    j = 0
    while j + 1 <= n - 2 - j and 1 - 2 * _binomial_cdf_half(j + 1, n) >= 0.95:
        j += 1
    return float(np.median(x)), [float(x[j]), float(x[n - 1 - j])]


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant pair counts."""
    d = only_a + only_b
    if d == 0:
        return 1.0
    return min(1.0, 2 * _binomial_cdf_half(min(only_a, only_b), d))


def paired_difference_ci(both: int, only_a: int, only_b: int, neither: int, z: float = Z95) -> list:
    """Newcombe's (1998) method-10 interval for p_a - p_b from paired binary outcomes."""
    n = both + only_a + only_b + neither
    if n == 0:
        return [-1.0, 1.0]
    pa, pb = (both + only_a) / n, (both + only_b) / n
    la, ua = wilson(both + only_a, n, z)
    lb, ub = wilson(both + only_b, n, z)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    # Newcombe's continuity adjustment of the correlation term (method 10).
    cross = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
    phi = cross / math.sqrt(denom) if denom > 0 else 0.0
    d = pa - pb
    lower = d - math.sqrt(max((pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2, 0.0))
    upper = d + math.sqrt(max((ua - pa) ** 2 - 2 * phi * (ua - pa) * (pb - lb) + (pb - lb) ** 2, 0.0))
    return [max(-1.0, lower), min(1.0, upper)]


def verdict(fraction_value: float, fraction_ci95, control_value: float, paired_p: float) -> str:
    """The one rule that turns the numbers into words.

    - "reproduced": the model shows the geometry more often than its control (paired p < ALPHA)
      and in most models (the fraction's lower 95% bound >= MAJORITY);
    - "above chance in a minority of models": more often than the control (p < ALPHA), but the
      fraction's lower bound is under MAJORITY;
    - "less often than the control": the control shows it more often (p < ALPHA);
    - "not distinguishable from the control": p >= ALPHA.
    """
    if paired_p >= ALPHA:
        return "not distinguishable from the control"
    if fraction_value < control_value:
        return "less often than the control"
    if fraction_ci95[0] >= MAJORITY:
        return "reproduced"
    return "above chance in a minority of models"


def compare_paired(model_flags, control_flags) -> dict:
    """Model vs control, paired by position (same seeds): fractions, difference, McNemar, verdict.

    Keys: fraction, control_fraction, difference (each with ``<key>_ci95``), paired_p,
    only_model, only_control (the discordant pairs) and verdict.
    """
    a = np.asarray(model_flags, dtype=bool)
    b = np.asarray(control_flags, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs equal shapes, got {a.shape} and {b.shape}")
    both, only_a, only_b = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = int(a.size) - both - only_a - only_b
    frac, frac_ci = fraction(a)
    ctrl, ctrl_ci = fraction(b)
    p = mcnemar_p(only_a, only_b)
    diff = None if frac is None else frac - ctrl
    return {
        "fraction": frac,
        "fraction_ci95": frac_ci,
        "control_fraction": ctrl,
        "control_fraction_ci95": ctrl_ci,
        "difference": diff,
        "difference_ci95": paired_difference_ci(both, only_a, only_b, neither),
        "paired_p": p,
        "only_model": only_a,
        "only_control": only_b,
        "verdict": None if frac is None else verdict(frac, frac_ci, ctrl, p),
    }


PERMUTATIONS = 10_000


def compare_means(a, b, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict:
    """Two independent groups of values (e.g. the losses of collapsed and of strict models):
    each mean with its interval, the difference mean(a) - mean(b) with a 95% percentile-
    bootstrap interval (each group resampled on its own) and a two-sided permutation p-value
    (``PERMUTATIONS`` relabellings from a fixed seed, p = (hits + 1) / (PERMUTATIONS + 1)).
    Values None where a group is empty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = {"n_a": int(a.size), "n_b": int(b.size)}
    out["mean_a"], out["mean_a_ci95"] = mean_ci(a, resamples, seed)
    out["mean_b"], out["mean_b_ci95"] = mean_ci(b, resamples, seed)
    if a.size == 0 or b.size == 0:
        return {**out, "difference": None, "difference_ci95": [None, None], "p": None}
    rng = np.random.default_rng(seed)
    boot = a[rng.integers(0, a.size, (resamples, a.size))].mean(1) - b[
        rng.integers(0, b.size, (resamples, b.size))
    ].mean(1)
    observed = a.mean() - b.mean()
    pooled = np.concatenate([a, b])
    hits = 0
    for _ in range(PERMUTATIONS // 1000):  # in blocks: 1000 permutations x (n_a + n_b) at a time
        perm = rng.permuted(np.broadcast_to(pooled, (1000, pooled.size)), axis=1)
        hits += int((np.abs(perm[:, : a.size].mean(1) - perm[:, a.size :].mean(1)) >= abs(observed) - 1e-15).sum())
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return {
        **out,
        "difference": float(observed),
        "difference_ci95": [float(lo), float(hi)],
        "p": (hits + 1) / (PERMUTATIONS + 1),
    }
