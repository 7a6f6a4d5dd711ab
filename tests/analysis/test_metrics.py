"""Geometry metrics on hand-made weight matrices with known answers."""

import numpy as np
import pytest

from tests.conftest import PAIRS, W_from_angles
from tms.analysis import metrics
from tms.analysis.claims import CLAIMS, summarize_claim


def test_pair_angles_and_cosines():
    W = W_from_angles(0, 90, 45, 225)
    assert metrics.pair_angles(W, PAIRS)[0] == pytest.approx([90, 180])
    assert metrics.within_set_abs_cos(W, PAIRS)[0] == pytest.approx([0, 1])
    assert metrics.within_set_cos(W, PAIRS)[0] == pytest.approx([0, -1])
    assert metrics.cosine_matrix(W)[0, 0, 2] == pytest.approx(np.cos(np.deg2rad(45)))


def test_unrepresented_features_are_left_out_of_set_metrics():
    W = W_from_angles(0, 90, 45, 100, norms=[1, 1, 1, 0.01])
    assert metrics.represented(W)[0].tolist() == [True, True, True, False]
    assert np.isnan(metrics.within_set_abs_cos(W, PAIRS)[0, 1])
    assert not metrics.collapsed(W, PAIRS)[0, 1]


@pytest.mark.parametrize(("gap", "is_collapsed"), [(0, True), (15, True), (25, False), (60, False)])
def test_collapse_threshold_is_twenty_degrees(gap, is_collapsed):
    W = W_from_angles(10, 10 + gap, 200, 290)
    assert metrics.collapsed(W, PAIRS)[0].tolist() == [is_collapsed, False]


THREE = np.array([0, 0, 1, 1, 2, 2])


def test_sets_adjacent_when_every_set_is_a_pair_of_angular_neighbours():
    good = W_from_angles(0, 60, 120, 180, 240, 300)
    interleaved = W_from_angles(0, 120, 60, 180, 240, 300)  # set 0 is split by set 1
    wraps = W_from_angles(330, 30, 90, 150, 200, 260)  # set 0 straddles the 0/360 seam
    assert metrics.sets_adjacent(np.stack([good, interleaved, wraps]), THREE).tolist() == [True, False, True]


TRIPLES = np.array([0, 0, 0, 1, 1, 1])


def test_sets_adjacent_judges_sets_of_three():
    arcs = W_from_angles(0, 40, 80, 180, 220, 260)  # each triple one contiguous arc
    split = W_from_angles(0, 40, 200, 180, 220, 260)  # the third of set 0 sits among set 1
    alternating = W_from_angles(0, 120, 240, 60, 180, 300)  # sets alternate round the circle
    got = metrics.sets_adjacent(np.stack([arcs, split, alternating]), TRIPLES).tolist()
    assert got == [True, False, False]


def test_sets_adjacent_is_false_when_a_feature_is_unrepresented():
    W = W_from_angles(0, 60, 120, 180, 240, 300, norms=[1, 1, 1, 1, 1, 0.01])
    assert metrics.sets_adjacent(W, THREE).tolist() == [False]


def test_sets_adjacent_refuses_models_outside_the_plane():
    with pytest.raises(ValueError, match="m = 2"):
        metrics.sets_adjacent(np.ones((1, 3, 6)), THREE)


def test_regular_polygon_deviation_is_the_worst_gap_from_sixty_degrees():
    hexagon = W_from_angles(0, 60, 120, 180, 240, 300)
    skewed = W_from_angles(0, 50, 120, 180, 240, 300)  # gaps 50 and 70
    pairs = W_from_angles(0, 5, 120, 125, 240, 245)  # three collapsed pairs: gaps 5 and 115
    got = metrics.regular_polygon_deviation(np.stack([hexagon, skewed, pairs]))
    assert got == pytest.approx([0, 10, 55])


def test_local_basis_ratio_separates_block_structure_from_uniform_overlap():
    eye = np.eye(4)
    # Two sets of 2 in m = 2: within sets orthogonal, between sets identical directions.
    block = np.concatenate([eye[:2, :2], eye[:2, :2]], 1)  # (2, 4)
    assert metrics.local_basis_ratio(block, PAIRS)[0] == pytest.approx(0.0)
    overlap = W_from_angles(0, 45, 90, 135)
    within, between = metrics.mean_abs_cos_within_between(overlap, PAIRS)
    assert within[0] == pytest.approx(np.cos(np.deg2rad(45)))
    # between pairs: (0,90) 0, (0,135) .707, (45,90) .707, (45,135) 0
    assert between[0] == pytest.approx(np.cos(np.deg2rad(45)) / 2)


def test_dimensionality_of_orthogonal_antipodal_and_shared_features():
    orthogonal = np.eye(2)
    assert metrics.dimensionality(orthogonal)[0] == pytest.approx([1, 1])
    antipodal = W_from_angles(0, 180)
    assert metrics.dimensionality(antipodal)[0] == pytest.approx([0.5, 0.5])
    pentagon = W_from_angles(0, 72, 144, 216, 288)
    assert metrics.dimensionality(pentagon)[0] == pytest.approx([0.4] * 5)


def test_claims_on_ideal_solutions():
    ortho = np.stack([W_from_angles(0, 90, 45, 135)])
    opposite = np.stack([W_from_angles(0, 180, 90, 270)])
    assert CLAIMS["correlated_pairs"].holds(ortho, PAIRS).tolist() == [True]
    assert CLAIMS["correlated_pairs"].holds(opposite, PAIRS).tolist() == [False]
    assert CLAIMS["anticorrelated_pairs"].holds(opposite, PAIRS).tolist() == [True]
    assert CLAIMS["anticorrelated_pairs"].holds(ortho, PAIRS).tolist() == [False]
    row = summarize_claim(
        "correlated_pairs", np.concatenate([ortho, opposite]), PAIRS, control_W=np.concatenate([opposite, opposite])
    )
    assert row["fraction"] == 0.5 and row["control_fraction"] == 0.0
    assert row["n_instances"] == 2 and row["only_model"] == 1 and row["only_control"] == 0
    assert row["fraction_ci95"][0] < 0.5 < row["fraction_ci95"][1]


def test_orthogonal_needs_every_pair_near_90_degrees_not_only_the_mean():
    # Two sets of 3 in m = 3, each feature antipodal to one of the other set. In the first set
    # one pair is 60 degrees apart: |cos| = 0.5, 0, 0 averages 0.167 < cos 80 = 0.174.
    v = np.array([0.5, np.sqrt(3) / 2, 0.0])
    skewed = np.stack([np.eye(3)[0], v, np.eye(3)[2]], 1)  # (3, 3)
    octahedron = np.eye(3)
    set_id = np.array([0, 0, 0, 1, 1, 1])
    W = np.stack([np.concatenate([octahedron, -octahedron], 1), np.concatenate([skewed, -skewed], 1)])  # (2, 3, 6)
    assert metrics.within_set_abs_cos(W, set_id)[1, 0] < np.cos(np.deg2rad(80))
    assert CLAIMS["learning_dynamics"].holds(W, set_id).tolist() == [True, False]
