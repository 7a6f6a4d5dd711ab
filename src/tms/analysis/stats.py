"""Intervals and paired tests for the claims: every number the summary reports comes from here.

Where scipy has the method, scipy computes it:

- Fractions get 95% Wilson score intervals (good coverage even near 0 and 1 and for small n):
  ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.
- Means get 95% BCa bootstrap intervals, ``scipy.stats.bootstrap`` with 10,000 resamples from
  a fixed seed, so the same data always give the same interval. BCa (bias-corrected and
  accelerated) rather than the percentile interval: the means we report are of skewed values
  (losses with a long tail of dropped models, cosines bounded at 1), where the percentile
  interval's coverage falls short and BCa corrects for the skew (second-order accurate). Where
  BCa is undefined (a bootstrap distribution with almost no spread) the percentile interval of
  the same resamples is reported.
- Differences of two independent groups' means: the same BCa bootstrap, each group resampled on
  its own, and ``scipy.stats.permutation_test`` (two-sided, 10,000 relabellings, exact when
  there are fewer distinct splits).
- Medians get distribution-free intervals from order statistics (exact binomial coverage >= 95%).
- A model and its control share initialisation seeds, so they are compared *paired*: an exact
  two-sided McNemar test on the discordant pairs (``scipy.stats.binomtest`` at 1/2), and
  Newcombe's hybrid-score interval (method 10) for the difference in fractions, which scipy
  lacks (written out below, tested against a published worked example of it).

The verdict rule (``verdict``) is stated once, here, and the README repeats it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np


def _sps():
    """scipy.stats, imported on first use: it takes about 1.5 s, and ``import tms`` should not."""
    from scipy import stats

    return stats


Z95 = 1.959963984540054  # two-sided 95% normal quantile
ALPHA = 0.01  # paired test level for "more often than the control"
MAJORITY = 0.5  # a claim holds "in most models" when the fraction's lower bound reaches this
BOOTSTRAP_RESAMPLES = 10_000


CONFIDENCE = 0.95


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> list:
    """Wilson score interval [lo, hi] for k successes in n trials ([0, 1] when n = 0), scipy's."""
    if n == 0:
        return [0.0, 1.0]
    ci = _sps().binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    # At k = 0 and k = n the bound is exactly 0 or 1 (floating point would miss it slightly).
    return [0.0 if k == 0 else max(0.0, float(ci.low)), 1.0 if k == n else min(1.0, float(ci.high))]


def fraction(flags) -> tuple:
    """(fraction of true flags, its Wilson interval); (None, [0, 1]) for no flags."""
    flags = np.asarray(flags, dtype=bool)
    if flags.size == 0:
        return None, [0.0, 1.0]
    return float(flags.mean()), wilson(int(flags.sum()), int(flags.size))


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def _mean_difference(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def bootstrap_ci(
    samples: tuple, statistic, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE
) -> list:
    """BCa interval of ``statistic`` (vectorised, ``axis=-1``) over independent ``samples``
    (scipy.stats.bootstrap, seeded); the percentile interval of the same resamples where BCa
    is undefined."""
    kwargs = {"n_resamples": resamples, "confidence_level": confidence, "vectorized": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns, then returns NaN, where BCa is undefined
        res = _sps().bootstrap(samples, statistic, method="BCa", rng=np.random.default_rng(seed), **kwargs)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            res = _sps().bootstrap(samples, statistic, method="percentile", rng=np.random.default_rng(seed), **kwargs)
            lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return [lo, hi]


def mean_ci(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple:
    """(mean, 95% BCa bootstrap interval), ignoring NaN; (None, [None, None]) if empty."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None, [None, None]
    if x.size == 1 or np.all(x == x[0]):
        return float(x[0]), [float(x[0]), float(x[0])]
    return float(x.mean()), bootstrap_ci((x,), _mean, resamples, seed)


def _binomial_cdf_half(k: int, n: int) -> float:
    """P(Bin(n, 1/2) <= k)."""
    return float(_sps().binom.cdf(k, n, 0.5))


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
    """Exact two-sided McNemar p-value from the discordant pair counts: the two-sided exact
    binomial test of only_a successes in only_a + only_b trials at 1/2 (scipy.stats.binomtest)."""
    d = only_a + only_b
    if d == 0:
        return 1.0
    return min(1.0, float(_sps().binomtest(int(only_a), int(d), 0.5).pvalue))


def paired_difference_ci(both: int, only_a: int, only_b: int, neither: int, confidence: float = CONFIDENCE) -> list:
    """Newcombe's (1998) method-10 interval for p_a - p_b from paired binary outcomes."""
    n = both + only_a + only_b + neither
    if n == 0:
        return [-1.0, 1.0]
    pa, pb = (both + only_a) / n, (both + only_b) / n
    la, ua = wilson(both + only_a, n, confidence)
    lb, ub = wilson(both + only_b, n, confidence)
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
    each mean with its interval, the difference mean(a) - mean(b) with a 95% BCa bootstrap
    interval (each group resampled on its own) and scipy's two-sided permutation p-value
    (``PERMUTATIONS`` relabellings from a fixed seed, p = (hits + 1) / (PERMUTATIONS + 1) per
    side, doubled; all splits exactly when there are fewer). NaN values are left out, as in
    ``mean_ci``; values None where a group is empty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {"n_a": int(a.size), "n_b": int(b.size)}
    out["mean_a"], out["mean_a_ci95"] = mean_ci(a, resamples, seed)
    out["mean_b"], out["mean_b_ci95"] = mean_ci(b, resamples, seed)
    if a.size == 0 or b.size == 0:
        return {**out, "difference": None, "difference_ci95": [None, None], "p": None}
    observed = float(a.mean() - b.mean())
    if np.all(a == a[0]) and np.all(b == b[0]):
        ci = [observed, observed]  # nothing varies under resampling
    elif a.size == 1 or b.size == 1:  # one group is a single value: only the other one varies
        (lo_a, hi_a), (lo_b, hi_b) = out["mean_a_ci95"], out["mean_b_ci95"]
        ci = [lo_a - hi_b, hi_a - lo_b]
    else:
        ci = bootstrap_ci((a, b), _mean_difference, resamples, seed)
    if a.size == 1 or b.size == 1:  # scipy needs two values per group: enumerate the n + 1 splits
        pooled = np.concatenate([a, b])
        rest = (pooled.sum() - pooled) / (pooled.size - 1)
        splits = pooled - rest if a.size == 1 else rest - pooled  # mean(a) - mean(b) per split
        tol = 1e-12 * max(1.0, abs(observed))
        p = min(1.0, 2 * min((splits <= observed + tol).mean(), (splits >= observed - tol).mean()))
    else:
        p = (
            _sps()
            .permutation_test(
                (a, b), _mean_difference, n_resamples=PERMUTATIONS, vectorized=True, rng=np.random.default_rng(seed)
            )
            .pvalue
        )
    return {**out, "difference": observed, "difference_ci95": ci, "p": float(p)}
