"""The batched trainer: it learns, it is deterministic, it refuses to diverge silently."""

import json

import numpy as np
import pytest
import torch

from tests.conftest import tiny_run_config
from tms.core.artifacts import ArtifactError
from tms.core.config import RunConfig
from tms.core.errors import ConfigError, TrainingDiverged
from tms.core.replay import replay
from tms.core.train import AdamW, instance_layout, lr_factor, train


def small_config(**train_kwargs) -> RunConfig:
    return tiny_run_config(**{"steps": 300, "batch": 256, "n_instances": 4, **train_kwargs})


@pytest.mark.parametrize("sampler", ["sparse", "dense"])
def test_short_run_lowers_the_loss(sampler):
    result = train(small_config(sampler=sampler, steps=500, log_every=50))
    first, last = result.loss[0], result.loss[-1]
    assert result.loss.shape == (10, 4)
    assert bool((last < 0.7 * first).all()), (first, last)


def test_same_config_and_seed_give_bit_identical_weights():
    a, b = train(small_config()), train(small_config())
    assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
    assert np.array_equal(a.loss, b.loss)


def test_different_seed_gives_different_weights():
    cfg = small_config()
    other = small_config()
    other.seed = 1
    assert not np.array_equal(train(cfg).W, train(other).W)


def test_non_finite_loss_stops_training_naming_step_and_instance():
    with pytest.raises(TrainingDiverged, match=r"non-finite loss at step \d+ in instance \d+"):
        train(small_config(lr=1000.0))


@pytest.mark.parametrize(
    ("lr", "weight_decay", "hint"),
    [
        (1000.0, 0.01, "lr x weight_decay = 10 > 2 makes every step grow W; lower train.weight_decay"),
        (1e30, 0.0, "lower train.lr or check the data config"),  # W ~ 1e30 after one step: W^T W overflows
    ],
)
def test_a_divergence_names_what_to_change(lr, weight_decay, hint):
    """Weight decay alone grows W once lr x weight_decay > 2: then it is the hint, not lr."""
    with pytest.raises(TrainingDiverged, match=hint):
        train(small_config(lr=lr, weight_decay=weight_decay))


def test_divergence_is_reported_at_its_exact_step_whatever_the_logging_window():
    # Losses are checked in spans of about FLUSH_STEPS steps; the step named must not depend on it.
    messages = []
    for log_every in (1, 7, 250):
        with pytest.raises(TrainingDiverged) as info:
            train(small_config(lr=1000.0, log_every=log_every))
        messages.append(str(info.value))
    assert len(set(messages)) == 1, messages


def test_loss_history_holds_the_mean_of_each_logging_window():
    steps, window = 257, 7  # spans of 98 steps; the last window is 5 steps long
    per_step = train(small_config(steps=steps, log_every=1))
    windowed = train(small_config(steps=steps, log_every=window))
    assert per_step.loss_step.tolist() == list(range(1, steps + 1))
    assert windowed.loss_step.tolist() == [*range(window, steps, window), steps]
    ends = windowed.loss_step
    starts = np.concatenate([[0], ends[:-1]])
    expected = np.stack([per_step.loss[a:b].mean(0) for a, b in zip(starts, ends, strict=True)])
    np.testing.assert_allclose(windowed.loss, expected, rtol=1e-6)
    np.testing.assert_array_equal(windowed.W, per_step.W)  # logging never changes training


def test_sparsity_sweep_runs_along_the_instance_axis():
    cfg = small_config(steps=5)
    cfg.data.feature_probabilities = [0.5, 0.1, 0.01]
    p, seeds = instance_layout(cfg)
    assert p.tolist() == [0.5] * 4 + [0.1] * 4 + [0.01] * 4  # exact values, no 1 - (1 - p)
    assert len(set(seeds.tolist())) == 12  # every model of the sweep has its own initialisation
    result = train(cfg)
    assert result.feature_probability.tolist() == p.tolist() and result.seed.tolist() == seeds.tolist()


def test_runs_with_different_seeds_share_no_initialisation():
    cfg = small_config(steps=0)
    other = small_config(steps=0)
    other.seed = 1
    assert not set(instance_layout(cfg)[1].tolist()) & set(instance_layout(other)[1].tolist())


def test_a_sweep_point_trained_alone_equals_the_same_point_inside_the_sweep_initialisation():
    alone = small_config(steps=0)
    alone.data.feature_probability = 0.1
    sweep = small_config(steps=0)
    sweep.data.feature_probabilities = [0.3, 0.1]
    assert np.array_equal(instance_layout(alone)[1], instance_layout(sweep)[1][4:])


def test_zero_steps_returns_the_initialisation():
    result = train(small_config(steps=0))
    assert result.loss.shape == (0, 4) and bool((result.b == 0).all())


@pytest.mark.parametrize(
    ("schedule", "start", "middle"), [("constant", 1.0, 1.0), ("linear", 1.0, 0.5), ("cosine", 1.0, 0.5)]
)
def test_learning_rate_schedules(schedule, start, middle):
    assert lr_factor(schedule, 0, 100) == pytest.approx(start)
    assert lr_factor(schedule, 50, 100) == pytest.approx(middle)
    assert lr_factor(schedule, 99, 100) <= lr_factor(schedule, 98, 100)


def test_adamw_matches_torch_adamw():
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(3, 2, 4, generator=g), torch.randn(3, 4, generator=g)]
    reference = [p.clone().requires_grad_() for p in params]
    ours = AdamW([p.clone() for p in params], weight_decay=0.01)
    torch_opt = torch.optim.AdamW(reference, lr=1e-2, weight_decay=0.01)
    for _ in range(20):
        grads = [torch.randn(p.shape, generator=g) for p in params]
        for p, gr in zip(reference, grads, strict=True):
            p.grad = gr.clone()
        torch_opt.step()
        ours.step(grads, 1e-2)
    for a, b in zip(ours.params, reference, strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-5, atol=1e-6)


def test_snapshots_are_taken_at_requested_steps():
    result = train(small_config(steps=20), snapshot_steps=[0, 5, 20])
    assert sorted(result.snapshots) == [0, 5, 20]
    assert np.array_equal(result.snapshots[20], result.W)


# --- learning-rate schedules from Python ----------------------------------------------------


@pytest.mark.parametrize("backend", ["fused", "torch"])
def test_a_callable_schedule_trains_like_the_named_one_it_restates(backend):
    named = train(tiny_run_config(steps=120, schedule="linear", backend=backend))
    restated = train(tiny_run_config(steps=120, schedule=lambda step, steps: 1.0 - step / steps, backend=backend))
    assert np.array_equal(named.W, restated.W)
    assert not np.array_equal(named.W, train(tiny_run_config(steps=120, backend=backend)).W)


def warmup(step, steps):
    return min(1.0, (step + 1) / 10)


def test_a_callable_schedule_is_recorded_by_name_and_replay_refuses_it():
    result = train(tiny_run_config(steps=30, schedule=warmup))
    assert json.loads(result.config)["train"]["schedule"] == f"callable:{__name__}.warmup"
    with pytest.raises(ArtifactError, match="Python schedule"):
        replay(result, model=0)


@pytest.mark.parametrize("factor", [float("nan"), -0.5, float("inf")])
def test_a_callable_schedule_with_a_bad_factor_is_refused_before_training(factor):
    bad = lambda step, steps: factor if step == 17 else 1.0
    with pytest.raises(ConfigError, match="train.schedule: gave factor .* at step 17"):
        train(tiny_run_config(steps=30, schedule=bad))


@pytest.mark.parametrize(("schedule", "says"), [(lambda step: 1.0, "TypeError"), (lambda s, n: None, "TypeError")])
def test_a_callable_schedule_that_fails_is_a_field_error_before_training(schedule, says):
    with pytest.raises(ConfigError, match=f"train.schedule: failed at step 0: {says}"):
        train(tiny_run_config(steps=30, schedule=schedule))


def test_a_partial_schedule_is_recorded_by_its_functions_name_without_an_address():
    import functools

    from tms.core.config import schedule_name

    assert schedule_name(functools.partial(warmup, steps=5)) == f"callable:{__name__}.warmup"


def test_a_run_with_a_callable_schedule_is_not_cached():
    from tms.run.cache import run_key

    with pytest.raises(ValueError, match="cannot be cached"):
        run_key(tiny_run_config(schedule=warmup))
