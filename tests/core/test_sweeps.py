"""Sweep splitting and merging: groups of similar cost, configs per group, merged results.

Feature probabilities here are binary fractions (k / 64) so that expected non-zero counts are
exact and the group boundaries (k == ratio * start stays in the group) are tested exactly.
"""

import copy

import numpy as np
import pytest

from tms.core.config import FeatureSet, RunConfig
from tms.core.result import TrainResult
from tms.core.sweeps import expected_active_units, expected_nonzero, merge_results, probability_groups, sweep_configs

# --- probability_groups -------------------------------------------------------------------


def test_expected_nonzero_counts_samples_with_any_active_unit():
    assert expected_nonzero(0.25, 1, 64) == 16.0
    assert expected_nonzero(0.5, 2, 64) == 48.0  # 1 - (1/2)^2 of the batch
    assert expected_nonzero(1.0, 3, 10) == 10.0


def test_expected_active_units_counts_every_active_unit_of_a_sample():
    assert expected_active_units(0.25, 1, 64) == 16.0
    assert expected_active_units(0.5, 2, 64) == 64.0  # two units, each active half the time
    assert expected_active_units(1.0, 3, 10) == 30.0


def test_probability_groups_splits_where_expected_units_exceed_ratio_times_group_start():
    # n_units = 1, batch = 64: expected units = 64 p = 1, 2, 3, 8, 16, 32, 64.
    ps = [k / 64 for k in (1, 2, 3, 8, 16, 32, 64)]
    groups = probability_groups(ps, n_units=1, batch=64, ratio=2.0)
    assert groups == [[1 / 64, 2 / 64], [3 / 64], [8 / 64, 16 / 64], [32 / 64, 64 / 64]]


def test_probability_groups_orders_by_cost_whatever_the_input_order():
    ps = [0.5, 1 / 64, 0.25, 2 / 64, 1.0]
    assert probability_groups(ps, 1, 64, 2.0) == [[1 / 64, 2 / 64], [0.25, 0.5], [1.0]]


def test_probability_groups_counts_fewer_than_one_expected_unit_as_one():
    # 64 p = 0.0064, 0.064 and 2: all within a factor 2 of the floor of 1.
    assert probability_groups([1e-4, 1e-3, 2 / 64], 1, 64, 2.0) == [[1e-4, 1e-3, 2 / 64]]


def test_probability_groups_split_dense_values_even_when_every_sample_is_nonzero():
    # 20 independent features, batch 1024: at 1-S >= 0.1 almost every sample is non-zero
    # (counting those would put all four in one run), but the active units grow 5-fold.
    ps = [0.1, 0.2, 0.3, 0.5]
    assert max(expected_nonzero(p, 20, 1024) for p in ps) < 2 * expected_nonzero(0.1, 20, 1024)
    assert probability_groups(ps, 20, 1024, 2.0) == [[0.1, 0.2], [0.3, 0.5]]


@pytest.mark.parametrize(("n_units", "batch", "ratio"), [(1, 1024, 2.0), (4, 1024, 2.0), (2, 4096, 1.5), (3, 256, 4.0)])
def test_probability_groups_hold_every_value_once_and_stay_within_ratio(n_units, batch, ratio):
    ps = np.random.default_rng(n_units * batch).uniform(1e-4, 1.0, size=40).tolist()
    ps += [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]
    groups = probability_groups(ps, n_units, batch, ratio)
    assert sorted(p for g in groups for p in g) == sorted(ps)  # each value in exactly one group

    def cost(p):
        return max(expected_active_units(p, n_units, batch), 1.0)

    for g in groups:
        costs = [cost(p) for p in g]
        assert costs == sorted(costs)
        assert costs[-1] <= ratio * costs[0]
    for prev, nxt in zip(groups, groups[1:], strict=False):
        assert cost(nxt[0]) > ratio * cost(prev[0])  # the next group could not have joined


# --- sweep_configs ------------------------------------------------------------------------


def test_sweep_configs_gives_each_group_its_values_and_n_instances():
    base = RunConfig()  # two correlated pairs: 2 units, batch 1024
    base.data.sets = [FeatureSet("correlated", 2, 2)]
    base.train.batch = 64
    before = copy.deepcopy(base)
    ps = [0.5, 1 / 128, 0.25, 1 / 64]  # 2 units, batch 64: costs 64, 1 (floor), 32, 2
    configs = sweep_configs(base, ps, n_instances=5, ratio=2.0)
    assert [c.data.feature_probabilities for c in configs] == probability_groups(ps, 2, 64, 2.0)
    assert [c.data.feature_probabilities for c in configs] == [[1 / 128, 1 / 64], [0.25, 0.5]]
    for c in configs:
        assert c.n_instances == 5
        assert c.train == base.train and c.model == base.model and c.seed == base.seed
        assert c.data.sets == base.data.sets
    assert base == before  # the base config is not modified
    configs[0].data.sets.append(FeatureSet("independent", 1, 1))
    assert configs[1].data.sets == base.data.sets  # configs are independent copies


def test_sweep_configs_counts_units_not_features():
    """Three anticorrelated features share one unit, so p = 1/4 and 1/2 cost 16 and 32 of 64:
    one group at ratio 2. Counted as 3 units they would cost ~37 and 56 — still one group —
    so the split at ratio 1.9 (32 > 30.4) is what shows the unit count."""
    base = RunConfig()
    base.data.sets = [FeatureSet("anticorrelated", 3, 1)]
    base.train.batch = 64
    assert len(sweep_configs(base, [0.25, 0.5], 2, ratio=1.9)) == 2
    assert len(sweep_configs(base, [0.25, 0.5], 2, ratio=2.0)) == 1


# --- merge_results ------------------------------------------------------------------------

M, N = 2, 3
STEPS = (100, 200)


def tagged_result(probabilities, seeds, importance=1.0):
    """A TrainResult whose every per-model array carries the model's seed, so order is visible."""
    seeds = np.asarray(seeds, dtype=np.int64)
    tag = seeds.astype(float)
    return TrainResult(
        W=np.broadcast_to(tag[:, None, None], (len(seeds), M, N)).copy(),
        b=np.broadcast_to(tag[:, None], (len(seeds), N)).copy(),
        loss=np.stack([tag, tag + 0.5]),  # (windows = 2, I)
        loss_step=np.array([10, 20]),
        feature_probability=np.asarray(probabilities, dtype=np.float64),
        seed=seeds,
        importance=np.full(N, importance),
        set_id=np.array([0, 0, -1]),
        set_kind=np.array(["correlated"]),
        snapshots={s: np.broadcast_to(tag[:, None, None] + s, (len(seeds), M, N)).copy() for s in STEPS},
    )


def test_merge_results_orders_by_feature_probability_keeping_model_order_within_a_point():
    first = tagged_result([0.2, 0.2, 0.05], [10, 11, 12])
    second = tagged_result([0.1, 0.05, 0.2], [20, 21, 22])
    merged = merge_results([first, second])
    order = [12, 21, 20, 10, 11, 22]  # 0.05: 12 then 21; 0.1: 20; 0.2: 10, 11 then 22
    assert merged.feature_probability.tolist() == [0.05, 0.05, 0.1, 0.2, 0.2, 0.2]
    assert merged.seed.tolist() == order
    assert merged.W[:, 0, 0].tolist() == order and merged.W.shape == (6, M, N)
    assert merged.b[:, 0].tolist() == order and merged.b.shape == (6, N)
    assert merged.loss.shape == (2, 6)
    assert merged.loss[0].tolist() == order and merged.loss[1].tolist() == [s + 0.5 for s in order]
    assert sorted(merged.snapshots) == list(STEPS)
    for s in STEPS:
        assert merged.snapshots[s].shape == (6, M, N)
        assert merged.snapshots[s][:, 0, 0].tolist() == [x + s for x in order]
    assert merged.loss_step.tolist() == [10, 20]
    assert merged.set_id.tolist() == [0, 0, -1]


def test_merge_results_keeps_run_order_for_equal_probabilities_across_many_runs():
    runs = [tagged_result([0.1, 0.1], [3 * k, 3 * k + 1]) for k in range(4)]
    merged = merge_results(runs)
    assert merged.seed.tolist() == [0, 1, 3, 4, 6, 7, 9, 10]


def test_merge_results_does_not_modify_its_inputs():
    first = tagged_result([0.2, 0.05], [1, 2])
    second = tagged_result([0.1], [3])
    merge_results([first, second])
    assert first.seed.tolist() == [1, 2] and first.feature_probability.tolist() == [0.2, 0.05]
    assert first.W[:, 0, 0].tolist() == [1, 2] and second.seed.tolist() == [3]


def test_merge_results_returns_a_single_result_as_is():
    only = tagged_result([0.3, 0.1], [5, 6])  # unsorted on purpose: it is not reordered
    assert merge_results([only]) is only
