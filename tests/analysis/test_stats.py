"""Intervals and paired tests of ``tms.analysis.stats`` against published values and exact hand counts.

Published values are printed to 4 decimals, so they are compared with an absolute tolerance
of 5e-5 (half a unit in the last printed place). Exact binomial quantities are recomputed here
with ``math.comb``, independently of the module's own helper.
"""

import math

import numpy as np
import pytest

from tms.analysis import stats

PRINTED_4DP = 5e-5  # half a unit in the 4th decimal of a published table


def binom_half_cdf(k, n):
    """P(Bin(n, 1/2) <= k), exactly, written out here so tests don't reuse the code under test."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


# --- wilson -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Newcombe (1998a), Stat Med 17:857, Table II, method 3 (score interval without CC).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # Standard 95% Wilson values for n = 10.
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_interval_matches_published_values(k, n, lo, hi):
    assert stats.wilson(k, n) == pytest.approx([lo, hi], abs=PRINTED_4DP)


def test_wilson_interval_is_the_unit_interval_without_trials():
    assert stats.wilson(0, 0) == [0.0, 1.0]


def test_wilson_interval_is_symmetric_under_swapping_successes_and_failures():
    lo, hi = stats.wilson(3, 11)
    lo2, hi2 = stats.wilson(8, 11)  # k -> n - k mirrors the interval about 1/2
    assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(1 - lo2, abs=1e-12)


@pytest.mark.parametrize("n", [3, 7, 10])
def test_wilson_interval_is_exactly_zero_or_one_at_the_ends(n):
    """Mathematically the Wilson bound is 0 for k = 0 and 1 for k = n."""
    assert stats.wilson(0, n)[0] == 0.0
    assert stats.wilson(n, n)[1] == 1.0
    assert stats.fraction([True] * n)[1][1] >= 1.0  # so the interval holds the estimate 1.0


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 3), (2, 7), (50, 100), (99, 100), (1, 1000)])
def test_wilson_interval_contains_the_point_estimate(k, n):
    lo, hi = stats.wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert lo < hi


@pytest.mark.parametrize("p", [0.5, 0.1])
def test_wilson_interval_narrows_as_n_grows_at_a_fixed_proportion(p):
    ns = [10, 20, 40, 80, 160, 320]
    widths = [np.diff(stats.wilson(round(p * n), n))[0] for n in ns]
    assert all(a > b for a, b in zip(widths, widths[1:], strict=False))


# --- fraction -----------------------------------------------------------------------------


def test_fraction_counts_true_flags_and_uses_the_wilson_interval():
    frac, ci = stats.fraction([True, False, True, True, 0, 1])
    assert frac == pytest.approx(4 / 6)
    assert ci == stats.wilson(4, 6)


def test_fraction_of_no_flags_is_undefined_with_the_unit_interval():
    assert stats.fraction([]) == (None, [0.0, 1.0])


# --- mean_ci ------------------------------------------------------------------------------


def test_mean_ci_is_deterministic_and_contains_the_mean():
    x = np.random.default_rng(1).exponential(size=50)
    first, second = stats.mean_ci(x), stats.mean_ci(x.copy())
    assert first == second
    mean, (lo, hi) = first
    assert mean == pytest.approx(x.mean(), rel=1e-12)
    assert lo < mean < hi


def test_mean_ci_ignores_nan():
    x = [0.3, 1.2, 2.5, 0.1, 4.0]
    assert stats.mean_ci([np.nan, *x[:2], np.nan, *x[2:]]) == stats.mean_ci(x)


def test_mean_ci_of_constant_data_has_zero_width():
    assert stats.mean_ci([2.5] * 7) == (2.5, [2.5, 2.5])
    assert stats.mean_ci([4.0]) == (4.0, [4.0, 4.0])


def test_mean_ci_of_no_finite_values_is_undefined():
    assert stats.mean_ci([]) == (None, [None, None])
    assert stats.mean_ci([np.nan, np.nan]) == (None, [None, None])


def test_mean_ci_width_matches_the_normal_theory_width_for_normal_data():
    """For n = 200 normal values the bootstrap distribution of the mean is close to normal with
    sd = s/sqrt(n) (s with ddof=0, the bootstrap's plug-in sd), so the 95% interval (BCa is
    close to percentile for symmetric data) is about 2 * 1.96 * s / sqrt(n) wide. The Monte
    Carlo error of each 2.5%/97.5% quantile with 10,000 resamples is sqrt(.025 * .975 / 1e4)
    / pdf(1.96) ~ 0.027 sd, i.e. ~1% of the width, and the skew of normal data is negligible:
    a 5% tolerance is > 4 Monte Carlo sds."""
    x = np.random.default_rng(7).normal(loc=3.0, scale=2.0, size=200)
    mean, (lo, hi) = stats.mean_ci(x)
    expected = 2 * stats.Z95 * x.std() / math.sqrt(x.size)
    assert hi - lo == pytest.approx(expected, rel=0.05)
    assert (lo + hi) / 2 == pytest.approx(mean, abs=0.05 * expected)  # symmetric, same reasoning


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time():
    """Bootstrap (BCa) interval of the mean, n = 30 normal values: true coverage is ~93-94%.
    300 repetitions give a binomial sd of ~1.4 points, so [88%, 99%] is a > 3.5 sd band;
    the data seeds are fixed, so the outcome is deterministic."""
    rng = np.random.default_rng(123)
    hits = 0
    for _ in range(300):
        _, (lo, hi) = stats.mean_ci(rng.normal(size=30), resamples=1000, seed=int(rng.integers(1 << 31)))
        hits += lo <= 0.0 <= hi
    assert 0.88 <= hits / 300 <= 0.99


# Efron & Tibshirani (1993), An Introduction to the Bootstrap, Table 14.1: spatial test
# scores of 26 children, test A; Table 14.2 gives 90% intervals for the plug-in variance
# (171.5): BCa 115.8 to 259.6, percentile 100.8 to 233.9 (both from B = 2000 resamples).
SPATIAL_A = [48, 36, 20, 29, 42, 42, 20, 42, 22, 41, 45, 14, 6, 0, 33, 28, 34, 4, 32, 24, 47, 41, 24, 26, 30, 41]
# Monte Carlo error of a 5% / 95% bootstrap quantile from B resamples: sqrt(.05 .95 / B) /
# pdf(1.645) x sd(theta*) ~ 41 sqrt(.0475 / B) / 0.103; for the book's B = 2000 that is ~1.9,
# for our 10,000 ~0.9. Four combined standard deviations: 4 x sqrt(1.9^2 + 0.9^2) ~ 8.4.
SPATIAL_TOLERANCE = 8.4


def _variance(x, axis=-1):
    return np.var(x, axis=axis)


def test_bca_interval_matches_efron_and_tibshiranis_spatial_test_example():
    lo, hi = stats.bootstrap_ci((np.asarray(SPATIAL_A, float),), _variance, confidence=0.90)
    assert np.var(SPATIAL_A) == pytest.approx(171.5, abs=0.05)
    assert lo == pytest.approx(115.8, abs=SPATIAL_TOLERANCE) and hi == pytest.approx(259.6, abs=SPATIAL_TOLERANCE)


def test_bca_interval_is_shifted_towards_the_long_tail_against_the_percentile_one():
    """For a right-skewed statistic BCa moves both ends up (Table 14.2: 115.8-259.6 against
    100.8-233.9); the shift, about 15 and 26, is several Monte Carlo errors (~0.9)."""
    from scipy import stats as sps

    x = np.asarray(SPATIAL_A, float)
    pct = sps.bootstrap((x,), _variance, n_resamples=10_000, confidence_level=0.90, method="percentile",
                        rng=np.random.default_rng(0), vectorized=True).confidence_interval  # fmt: skip
    lo, hi = stats.bootstrap_ci((x,), _variance, confidence=0.90)
    assert lo > pct.low + 5 and hi > pct.high + 5


def test_mean_ci_is_scipys_seeded_bca_bootstrap():
    from scipy import stats as sps

    x = np.random.default_rng(4).exponential(size=40)
    want = sps.bootstrap((x,), np.mean, n_resamples=stats.BOOTSTRAP_RESAMPLES, method="BCa",
                         rng=np.random.default_rng(3)).confidence_interval  # fmt: skip
    assert stats.mean_ci(x, seed=3)[1] == pytest.approx([want.low, want.high], rel=1e-12)


def test_mean_ci_falls_back_to_the_percentile_interval_where_bca_is_undefined():
    """One value differs from 39 equal ones: most resamples have the same mean, BCa's bias
    correction is infinite, so the percentile interval is reported (finite, holding the mean)."""
    x = np.r_[np.zeros(39), 1.0]
    mean, (lo, hi) = stats.mean_ci(x)
    assert np.isfinite([lo, hi]).all() and lo <= mean <= hi


# --- median_ci ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "j"),
    [
        # Standard tables of distribution-free median intervals (1-based ranks j+1 and n-j):
        # n = 10 -> 2nd and 9th, n = 20 -> 6th and 15th, n = 100 -> 40th and 61st.
        (10, 1),
        (20, 5),
        (100, 39),
    ],
)
def test_median_ci_uses_the_known_order_statistics(n, j):
    x = np.random.default_rng(n).permutation(np.arange(n, dtype=float) * 1.5)  # x_(i) = 1.5 i
    median, ci = stats.median_ci(x)
    assert median == pytest.approx(np.median(x))
    assert ci == [1.5 * j, 1.5 * (n - 1 - j)]


@pytest.mark.parametrize("n", range(6, 121))
def test_median_ci_is_the_narrowest_order_statistic_interval_with_95_percent_coverage(n):
    """[x_(j), x_(n-1-j)] (0-based) covers the median with probability 1 - 2 P(Bin(n, 1/2) <= j)."""
    _, (lo, hi) = stats.median_ci(np.arange(n, dtype=float))
    j = int(lo)
    assert hi == n - 1 - j  # symmetric
    assert 1 - 2 * binom_half_cdf(j, n) >= 0.95
    assert 1 - 2 * binom_half_cdf(j + 1, n) < 0.95  # one step narrower would fall short


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_median_ci_returns_the_full_range_when_n_is_too_small_for_95_percent(n):
    x = np.random.default_rng(0).normal(size=n)
    median, ci = stats.median_ci(x)
    assert median == pytest.approx(np.median(x))
    assert ci == [x.min(), x.max()]


def test_median_ci_ignores_nan_and_is_undefined_without_data():
    x = np.arange(10, dtype=float)
    assert stats.median_ci([np.nan, *x, np.nan]) == stats.median_ci(x)
    assert stats.median_ci([]) == (None, [None, None])


# --- mcnemar_p ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("only_a", "only_b", "p"),
    [
        (10, 2, 2 * (1 + 12 + 66) / 2**12),  # 0.0386
        (0, 5, 2 / 2**5),  # 0.0625
        (0, 7, 2 / 2**7),  # 0.0156
        (1, 3, 2 * (1 + 4) / 2**4),  # 0.625
        (5, 5, 1.0),  # 2 * P(X <= 5) > 1 is capped at 1
        (0, 0, 1.0),  # no discordant pairs
    ],
)
def test_mcnemar_exact_p_matches_hand_counts(only_a, only_b, p):
    assert stats.mcnemar_p(only_a, only_b) == pytest.approx(p, rel=1e-12)


def test_mcnemar_p_of_ten_against_two_is_0_0386():
    assert stats.mcnemar_p(10, 2) == pytest.approx(0.0386, abs=PRINTED_4DP)


def test_mcnemar_p_matches_the_published_cavo_example():
    """Cavo et al. (2012) in Fagerland, Lydersen & Laake (2017), ch. 8: discordant 6 and 16,
    McNemar exact conditional test P = 0.052479 (printed to 6 decimals)."""
    assert stats.mcnemar_p(6, 16) == pytest.approx(0.052479, abs=5e-7)


@pytest.mark.parametrize(("a", "b"), [(10, 2), (0, 9), (3, 17), (4, 4)])
def test_mcnemar_p_is_symmetric_in_its_arguments(a, b):
    assert stats.mcnemar_p(a, b) == stats.mcnemar_p(b, a)


# --- paired_difference_ci -----------------------------------------------------------------


def test_paired_difference_ci_matches_newcombes_method_10_published_example():
    """Cavo et al. (2012) table [[59, 6], [16, 80]]: the Newcombe square-and-add (method 10)
    interval is -0.1186 to -0.0046 (Fagerland, Lydersen & Laake 2017, ch. 8)."""
    assert stats.paired_difference_ci(59, 6, 16, 80) == pytest.approx([-0.1186, -0.0046], abs=PRINTED_4DP)


TABLES = [(59, 6, 16, 80), (1, 1, 7, 12), (12, 5, 1, 2), (0, 3, 0, 0), (0, 0, 0, 4), (4, 0, 0, 0), (0, 10, 0, 0)]


@pytest.mark.parametrize("table", TABLES)
def test_paired_difference_ci_contains_the_difference_and_lies_in_minus_one_one(table):
    both, only_a, only_b, neither = table
    n = sum(table)
    d = (only_a - only_b) / n
    lo, hi = stats.paired_difference_ci(*table)
    assert -1.0 <= lo <= d <= hi <= 1.0


def test_paired_difference_ci_is_narrower_for_concordant_pairs_than_independent_ones():
    """Same marginals (p_a = 20/40, p_b = 10/40): maximal concordance against independence."""
    lo_c, hi_c = stats.paired_difference_ci(10, 10, 0, 20)  # every b-success is an a-success
    lo_i, hi_i = stats.paired_difference_ci(5, 15, 5, 15)  # 5 = 40 * 1/2 * 1/4: phi = 0
    assert hi_c - lo_c < hi_i - lo_i
    assert lo_c < 0.25 < hi_c and lo_i < 0.25 < hi_i


def test_paired_difference_ci_without_pairs_is_minus_one_to_one():
    assert stats.paired_difference_ci(0, 0, 0, 0) == [-1.0, 1.0]


def test_paired_difference_ci_with_independent_pairs_is_the_unpaired_newcombe_interval():
    """With phi = 0 (B = eh - fg = 0) method 10 reduces to the square-and-add of the two Wilson
    intervals: written out here from the Wilson limits."""
    both, only_a, only_b, neither = 5, 15, 5, 15
    n = 40
    pa, pb = 20 / n, 10 / n
    la, ua = stats.wilson(20, n)
    lb, ub = stats.wilson(10, n)
    expected = [pa - pb - math.hypot(pa - la, ub - pb), pa - pb + math.hypot(ua - pa, pb - lb)]
    assert stats.paired_difference_ci(both, only_a, only_b, neither) == pytest.approx(expected, abs=1e-12)


# --- verdict ------------------------------------------------------------------------------


def test_verdict_reproduced_when_more_often_than_control_and_in_most_models():
    assert stats.verdict(0.9, [0.7, 0.97], 0.1, 1e-4) == "reproduced"
    assert stats.verdict(0.6, [stats.MAJORITY, 0.7], 0.1, 1e-4) == "reproduced"  # bound reaches 1/2


def test_verdict_minority_when_above_control_but_lower_bound_under_half():
    assert stats.verdict(0.4, [0.3, 0.5], 0.0, 1e-4) == "above chance in a minority of models"


def test_verdict_less_often_when_control_wins_significantly():
    assert stats.verdict(0.1, [0.05, 0.2], 0.8, 1e-4) == "less often than the control"


def test_verdict_not_distinguishable_when_p_reaches_alpha():
    assert stats.verdict(0.9, [0.8, 0.95], 0.1, 0.5) == "not distinguishable from the control"
    assert stats.verdict(0.9, [0.8, 0.95], 0.1, stats.ALPHA) == "not distinguishable from the control"
    assert stats.verdict(0.1, [0.05, 0.2], 0.9, stats.ALPHA) == "not distinguishable from the control"


# --- compare_paired -----------------------------------------------------------------------


def test_compare_paired_counts_pairs_on_a_hand_made_example():
    model = [True, True, True, True, False, False]
    control = [True, False, False, False, False, True]  # both 1, only model 3, only control 1, neither 1
    out = stats.compare_paired(model, control)
    assert set(out) == {
        "fraction",
        "fraction_ci95",
        "control_fraction",
        "control_fraction_ci95",
        "difference",
        "difference_ci95",
        "paired_p",
        "only_model",
        "only_control",
        "verdict",
    }
    assert out["fraction"] == pytest.approx(4 / 6) and out["fraction_ci95"] == stats.wilson(4, 6)
    assert out["control_fraction"] == pytest.approx(2 / 6) and out["control_fraction_ci95"] == stats.wilson(2, 6)
    assert out["difference"] == pytest.approx(2 / 6)
    assert out["difference_ci95"] == stats.paired_difference_ci(1, 3, 1, 1)
    assert (out["only_model"], out["only_control"]) == (3, 1)
    assert out["paired_p"] == pytest.approx(2 * 5 / 16)  # 2 P(Bin(4, 1/2) <= 1)
    assert out["verdict"] == "not distinguishable from the control"


def test_compare_paired_reproduces_when_every_model_and_no_control_shows_it():
    out = stats.compare_paired(np.ones(20, bool), np.zeros(20, bool))
    assert out["paired_p"] == pytest.approx(2 / 2**20)
    assert out["fraction_ci95"][0] > stats.MAJORITY
    assert out["verdict"] == "reproduced"


def test_compare_paired_of_no_models_has_no_fraction_or_verdict():
    out = stats.compare_paired([], [])
    assert out["fraction"] is None and out["difference"] is None and out["verdict"] is None
    assert out["paired_p"] == 1.0


def test_compare_paired_rejects_unequal_shapes():
    with pytest.raises(ValueError, match="equal shapes"):
        stats.compare_paired([True, False, True], [True, False])


def test_compare_means_separates_shifted_groups_and_not_equal_ones():
    rng = np.random.default_rng(7)
    shifted = stats.compare_means(rng.normal(1.0, 1.0, 60), rng.normal(0.0, 1.0, 80))
    assert shifted["difference_ci95"][0] > 0 and shifted["p"] < 0.001
    same = stats.compare_means(rng.normal(0.0, 1.0, 60), rng.normal(0.0, 1.0, 80))
    assert same["difference_ci95"][0] < 0 < same["difference_ci95"][1] and same["p"] > 0.01


def test_compare_means_of_an_empty_group_has_no_difference():
    out = stats.compare_means([], [1.0, 2.0])
    assert out["difference"] is None and out["p"] is None and out["n_a"] == 0


def test_compare_means_permutation_p_is_exact_for_a_tiny_case():
    # a = [1, 2], b = [3, 4]: of the C(4, 2) = 6 splits, 1 is as low as observed (diff = -2) and
    # 1 as high; scipy enumerates all 6 splits: two-sided p = 2 x 1/6
    out = stats.compare_means([1.0, 2.0], [3.0, 4.0])
    assert out["p"] == pytest.approx(2 / 6, rel=1e-12)


def test_compare_means_with_a_single_value_group_keeps_the_other_groups_uncertainty():
    out = stats.compare_means([5.0], [1.0, 2.0, 3.0, 4.0])
    lo_b, hi_b = out["mean_b_ci95"]
    assert out["difference_ci95"] == pytest.approx([5.0 - hi_b, 5.0 - lo_b])


def test_compare_means_leaves_out_nan_like_mean_ci():
    out = stats.compare_means([1.0, 2.0, np.nan], [0.0, 1.0, 3.0])
    assert out["n_a"] == 2 and out["difference"] == pytest.approx(1.5 - 4 / 3)
    assert out["p"] == stats.compare_means([1.0, 2.0], [0.0, 1.0, 3.0])["p"]
