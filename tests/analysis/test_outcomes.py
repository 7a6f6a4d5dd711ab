"""Every model gets exactly one outcome: hand-made weights with sets of 2 and 3."""

import numpy as np
import pytest

from tests.conftest import PAIRS, W_from_angles
from tms.analysis import outcomes
from tms.analysis.claims import CLAIMS, HEXAGON, hexagon_claim, summarize_claim

THREE = np.array([0, 0, 1, 1, 2, 2])
TRIPLES = np.array([0, 0, 0, 1, 1, 1])
SIDE = CLAIMS["correlated_three_sets"]


def codes(claim, *models, set_id):
    return [outcomes.OUTCOMES[c] for c in claim.outcomes(np.stack(models), set_id)]


def test_three_pairs_each_outcome():
    strict = W_from_angles(0, 60, 120, 180, 240, 300)
    collapsed = W_from_angles(0, 5, 120, 180, 240, 300)  # set 0 within 20 degrees
    dropped = W_from_angles(0, 60, 120, 180, 240, 300, norms=[1, 1, 1, 1, 1, 0.01])
    other = W_from_angles(0, 120, 60, 180, 240, 300)  # sets 0 and 1 interleaved
    got = codes(SIDE, strict, collapsed, dropped, other, set_id=THREE)
    assert got == ["strict", "collapsed", "dropped", "other"]


def test_a_dropped_feature_outranks_a_collapsed_set():
    both = W_from_angles(0, 5, 120, 180, 240, 300, norms=[1, 1, 1, 1, 1, 0.01])
    assert codes(SIDE, both, set_id=THREE) == ["dropped"]


def test_two_triples_each_outcome_in_the_plane():
    strict = W_from_angles(0, 40, 80, 180, 220, 260)
    collapsed = W_from_angles(0, 5, 10, 180, 220, 260)  # every pair of set 0 within 20 degrees
    dropped = W_from_angles(0, 40, 80, 180, 220, 260, norms=[0.01, 1, 1, 1, 1, 1])
    other = W_from_angles(0, 40, 200, 180, 220, 260)  # set 0 split by set 1
    got = codes(SIDE, strict, collapsed, dropped, other, set_id=TRIPLES)
    assert got == ["strict", "collapsed", "dropped", "other"]


def test_a_triple_with_one_close_pair_is_not_collapsed():
    W = W_from_angles(0, 5, 100, 180, 220, 260)  # only one pair of set 0 is close
    assert codes(SIDE, W, set_id=TRIPLES) == ["strict"]


def test_orthogonal_pairs_each_outcome():
    claim = CLAIMS["correlated_pairs"]
    strict = W_from_angles(0, 90, 45, 135)
    collapsed = W_from_angles(0, 10, 45, 135)
    dropped = W_from_angles(0, 90, 45, 135, norms=[1, 1, 1, 0.1])
    other = W_from_angles(0, 60, 45, 135)
    got = codes(claim, strict, collapsed, dropped, other, set_id=PAIRS)
    assert got == ["strict", "collapsed", "dropped", "other"]


def test_breakdown_adds_up_to_the_models():
    table = outcomes.breakdown([0, 0, 1, 2, 3, 3, 3])
    assert [table[k]["count"] for k in outcomes.OUTCOMES] == [2, 1, 1, 3]
    assert sum(table[k]["fraction"] for k in outcomes.OUTCOMES) == pytest.approx(1.0)


def test_summary_headline_is_the_strict_fraction():
    strict = W_from_angles(0, 60, 120, 180, 240, 300)
    collapsed = W_from_angles(0, 5, 120, 180, 240, 300)
    row = summarize_claim("correlated_three_sets", np.stack([strict, collapsed]), THREE)
    assert row["fraction"] == 0.5
    assert row["outcomes"]["collapsed"]["count"] == 1


def test_transitions_count_failed_models_that_change():
    before = np.array([0, 1, 1, 2, 3])
    after = np.array([0, 0, 1, 2, 0])
    t = outcomes.transitions(before, after)
    assert t["failed"] == 4 and t["failed_changed"] == 2 and t["changed"] == 2
    assert t["matrix"][1][0] == 1 and t["matrix"][3][0] == 1


def test_hexagon_needs_all_six_gaps_within_ten_degrees_of_sixty():
    hexagon = W_from_angles(0, 60, 120, 180, 240, 300)
    near = W_from_angles(0, 55, 120, 180, 240, 300)
    far = W_from_angles(0, 45, 120, 180, 240, 300)
    assert HEXAGON.holds(np.stack([hexagon, near, far]), THREE).tolist() == [True, True, False]


def test_hexagon_sentence_is_contradicted_when_many_controls_are_hexagons():
    hexagon = W_from_angles(0, 60, 120, 180, 240, 300)
    pairs = W_from_angles(0, 5, 120, 125, 240, 245)
    many = np.stack([hexagon] * 40 + [pairs] * 40)
    none = np.stack([pairs] * 80)
    assert hexagon_claim(many, many, THREE)["verdict"] == "contradicted"
    assert hexagon_claim(many, none, THREE)["verdict"] == "reproduced"
