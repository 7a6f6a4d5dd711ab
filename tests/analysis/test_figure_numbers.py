"""The figures' numbers on hand-made counts and weights: collapse ranges, per-point fractions, series."""

import numpy as np
import pytest

from tests.conftest import PAIRS, W_from_angles
from tms.analysis import stats
from tms.analysis.collapse import PAPER_COLLAPSE_RANGES, collapse_agreement, collapse_by_point
from tms.analysis.dynamics import learning_series
from tms.analysis.sweep import sweep_points

ORTHO = W_from_angles(0, 90, 45, 135)  # both correlated pairs orthogonal: the claim holds
OPPOSITE = W_from_angles(0, 180, 90, 270)  # both pairs antipodal: the claim fails


# --- collapse_agreement -------------------------------------------------------------------


def ranges_holding(result, p):
    return [row["range"] for row in result["ranges"] if p in row["feature_probabilities"]]


@pytest.mark.parametrize(
    ("p", "where"),
    [
        (0.05, [0.0, 0.05]),  # upper ends are closed
        (0.15, [0.05, 0.15]),
        (0.2, [0.15, 0.2]),
        (0.5, [0.25, 0.5]),
        (0.25, None),  # (0.2, 0.25] is no paper range
        (0.22, None),
        (0.0, None),  # lower ends are open
        (0.7, None),
        (0.005, [0.0, 0.05]),
        (0.1, [0.05, 0.15]),
        (0.3, [0.25, 0.5]),
    ],
)
def test_collapse_agreement_puts_boundary_values_where_the_half_open_rule_says(p, where):
    result = collapse_agreement([p, p], [1, 1], sets=3)
    if where is None:
        assert result["ranges"] == [] and result["between_ranges"] == [p]
    else:
        assert ranges_holding(result, p) == [where] and result["between_ranges"] == []


def test_collapse_agreement_places_every_point_in_exactly_one_range_or_between():
    grid = [0.0, 0.001, 0.005, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15, 0.16, 0.2, 0.21, 0.25, 0.3, 0.5, 0.6, 1.0]
    p = np.repeat(grid, 3)
    counts = np.tile([0, 1, 3], len(grid))
    result = collapse_agreement(p, counts, sets=3)
    for x in grid:
        homes = len(ranges_holding(result, x)) + (x in result["between_ranges"])
        assert homes == 1, x
    in_ranges = sum(row["n_instances"] for row in result["ranges"])
    assert in_ranges + 3 * len(result["between_ranges"]) == len(p)
    for row in result["ranges"]:
        assert sum(row["histogram"]) == row["n_instances"]
        lo, hi = row["range"]
        assert all(lo < x <= hi for x in row["feature_probabilities"])


def test_collapse_agreement_counts_models_matching_the_paper_on_hand_made_counts():
    # (0.05, 0.15] expects 1 collapsed set; (0.25, 0.5] expects 3; 0.22 is between ranges.
    p = [0.1, 0.1, 0.07, 0.1, 0.3, 0.3, 0.3, 0.22]
    counts = [1, 1, 0, 2, 3, 3, 3, 0]
    result = collapse_agreement(p, counts, sets=3)
    assert [row["range"] for row in result["ranges"]] == [[0.05, 0.15], [0.25, 0.5]]  # empty ranges left out
    low, high = result["ranges"]
    assert low["range_label"] == "(0.05, 0.15]" and low["paper_collapsed"] == 1
    assert low["feature_probabilities"] == [0.07, 0.1]
    assert low["n_instances"] == 4
    assert low["fraction_matching_paper"] == 0.5
    assert low["fraction_matching_paper_ci95"] == stats.wilson(2, 4)
    assert low["histogram"] == [1, 2, 1, 0]  # counts 0, 1, 1, 2 over 0..sets
    assert low["median_collapsed"] == 1.0 and low["median_collapsed_ci95"] == [0.0, 2.0]  # n = 4: full range
    assert high["fraction_matching_paper"] == 1.0 and high["histogram"] == [0, 0, 0, 3]
    assert result["between_ranges"] == [0.22]


def test_paper_collapse_ranges_do_not_overlap():
    for (lo_a, hi_a, _), (lo_b, _, _) in zip(PAPER_COLLAPSE_RANGES, PAPER_COLLAPSE_RANGES[1:], strict=False):
        assert lo_a < hi_a <= lo_b


# --- collapse_by_point --------------------------------------------------------------------


def test_collapse_by_point_gives_sorted_points_with_medians_and_means():
    p = np.array([0.3, 0.1, 0.3, 0.1, 0.3, 0.1, 0.1])
    counts = np.array([3, 0, 2, 1, 3, 1, 2])
    out = collapse_by_point(p, counts)
    assert out["feature_probability"] == [0.1, 0.3]
    assert out["median_collapsed"] == [1.0, 3.0]  # medians of [0, 1, 1, 2] and [3, 2, 3]
    assert out["median_collapsed_ci95"] == [[0.0, 2.0], [2.0, 3.0]]  # n < 6: the full range
    assert out["mean_collapsed"] == pytest.approx([1.0, 8 / 3])


# --- sweep_points -------------------------------------------------------------------------

# Five models at two points, interleaved: p = 0.05 holds models 1 and 3, p = 0.1 models 0, 2, 4.
SWEEP_P = np.array([0.1, 0.05, 0.1, 0.05, 0.1])
SWEEP_W = np.stack([ORTHO, ORTHO, ORTHO, OPPOSITE, OPPOSITE])  # holds: T T T F F
CONTROL_W = np.stack([OPPOSITE, ORTHO, OPPOSITE, OPPOSITE, ORTHO])  # holds: F T F F T


def test_sweep_points_without_control_gives_fractions_per_point():
    out = sweep_points("correlated_pairs", {"feature_probability": SWEEP_P, "W": SWEEP_W, "set_id": PAIRS})
    assert set(out) == {"feature_probability", "n_instances", "fraction", "fraction_ci95", "outcomes"}
    assert [o["strict"]["count"] for o in out["outcomes"]] == [1, 2]
    assert out["feature_probability"] == [0.05, 0.1]
    assert out["n_instances"] == [2, 3]
    assert out["fraction"] == pytest.approx([0.5, 2 / 3])
    assert out["fraction_ci95"] == [stats.wilson(1, 2), stats.wilson(2, 3)]


def test_sweep_points_with_control_pairs_models_by_position_within_each_point():
    part = {"feature_probability": SWEEP_P, "W": SWEEP_W, "set_id": PAIRS, "control_W": CONTROL_W}
    out = sweep_points("correlated_pairs", part)
    keys = ["fraction", "fraction_ci95", "control_fraction", "control_fraction_ci95", "difference"]
    keys += ["difference_ci95", "paired_p", "only_model", "only_control", "verdict"]
    assert set(out) == {"feature_probability", "n_instances", "outcomes", "control_outcomes", *keys}
    assert all(len(out[k]) == len(out["feature_probability"]) for k in keys)
    # p = 0.05: model T F, control T F -> both 1, neither 1 (any other pairing gives 1 and 1 discordant).
    # p = 0.1: model T T F, control F F T -> only model 2, only control 1.
    assert out["fraction"] == pytest.approx([0.5, 2 / 3])
    assert out["control_fraction"] == pytest.approx([0.5, 1 / 3])
    assert out["difference"] == pytest.approx([0.0, 1 / 3])
    assert out["only_model"] == [0, 2] and out["only_control"] == [0, 1]
    assert out["paired_p"] == pytest.approx([1.0, 1.0])  # no discordant pairs; 2 P(Bin(3) <= 1) = 1
    assert out["difference_ci95"] == [stats.paired_difference_ci(1, 0, 0, 1), stats.paired_difference_ci(0, 2, 1, 0)]
    assert out["verdict"] == ["not distinguishable from the control"] * 2


# --- learning_series ----------------------------------------------------------------------


def test_learning_series_gives_one_mean_and_interval_per_snapshot():
    # Snapshot 0: two orthogonal models of unit norm. Snapshot 1: model A has each feature
    # antipodal to one of the other set; model B has set 0 at 60 degrees and norm 2.
    a = W_from_angles(0, 90, 180, 270)
    b = W_from_angles(0, 60, 45, 135, norms=[2, 2, 2, 2])
    snapshots = np.stack([np.stack([ORTHO, ORTHO]), np.stack([a, b])])  # (S=2, I=2, m, n)
    out = learning_series(snapshots, PAIRS)
    assert set(out) == {
        "mean |cos| within sets",
        "features with a cross-set antipodal partner",
        "mean feature norm",
    }
    for series in out.values():
        assert len(series["mean"]) == 2 and len(series["mean_ci95"]) == 2
    within = out["mean |cos| within sets"]
    assert within["mean"] == pytest.approx([0.0, 0.125], abs=1e-12)  # B: mean of |cos 60| = .5 and 0
    antipodal = out["features with a cross-set antipodal partner"]
    assert antipodal["mean"] == pytest.approx([0.0, 0.5])
    norm = out["mean feature norm"]
    assert norm["mean"] == pytest.approx([1.0, 1.5])
    assert norm["mean_ci95"][0] == pytest.approx([1.0, 1.0], abs=1e-12)  # constant: zero width
    # Two values 1 and 2: the bootstrap means are 1, 1.5, 2 with mass 1/4, 1/2, 1/4, so the
    # 2.5% and 97.5% quantiles of 10,000 resamples are the data values themselves (the 1e-12
    # only absorbs the rounding of the norms of unit vectors).
    assert norm["mean_ci95"][1] == pytest.approx([1.0, 2.0], abs=1e-12)
