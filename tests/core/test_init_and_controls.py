"""The init scale and convention, marginal-matched controls, and continued training."""

import dataclasses
import math

import numpy as np
import pytest

from tests.conftest import tiny_run_config
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, init_std
from tms.core.controls import control_config, marginal_share
from tms.core.errors import ConfigError
from tms.core.features import FeatureSampler
from tms.core.streams import model_keys
from tms.core.structure import FeatureStructure
from tms.core.train import run_init_std, train
from tms.figures.base import continued_config


def zero_step_run(**model) -> RunConfig:
    return RunConfig(
        data=DataConfig(sets=[FeatureSet("correlated", 2, 2)]),
        model=ModelConfig(m=2, **model),
        train=TrainConfig(steps=0, progress=False),
        n_instances=64,
    )


def test_init_scale_multiplies_every_initial_weight_exactly():
    base = train(zero_step_run()).W
    small = train(zero_step_run(init_scale=0.25)).W
    assert np.allclose(small, base * 0.25, rtol=1e-6, atol=0)  # one float32 rounding apart at most
    assert np.array_equal(train(zero_step_run(init_scale=1.0)).W, base)


def test_per_model_init_has_the_xavier_std_of_one_model():
    W = train(dataclasses.replace(zero_step_run(), n_instances=2000)).W
    # 2000 x 8 normal draws: the sample std is within 5 standard errors (std / sqrt(2 N)) of sqrt(2 / (m + n))
    want = math.sqrt(2 / 6)
    assert abs(W.std() - want) < 5 * want / math.sqrt(2 * W.size)


def test_colab_init_std_counts_every_model_of_the_run():
    cfg = zero_step_run(init="colab")
    assert run_init_std(cfg) == pytest.approx(math.sqrt(2 / (2 * 4 + 64 * 4)))
    sweep = dataclasses.replace(cfg, data=DataConfig(feature_probabilities=[0.1, 0.2]))
    assert run_init_std(sweep) == pytest.approx(math.sqrt(2 / (2 * 4 + 128 * 4)))
    assert init_std(ModelConfig(m=2), 4, 64) == pytest.approx(math.sqrt(2 / 6))


def test_colab_init_of_a_shard_equals_the_full_run():
    cfg = zero_step_run(init="colab")
    full = train(cfg)
    shard = train(cfg, models=[3, 4])
    assert np.array_equal(shard.W, full.W[3:5])


@pytest.mark.parametrize("field_name, value", [("init", "xavier"), ("init_scale", 0.0), ("init_scale", float("nan"))])
def test_bad_init_settings_are_refused_naming_the_field(field_name, value):
    cfg = zero_step_run(**{field_name: value})
    with pytest.raises(ConfigError, match=f"model.{field_name}"):
        train(cfg)


def test_control_of_anticorrelated_sets_keeps_each_features_marginal_rate():
    cfg = RunConfig(data=DataConfig(sets=[FeatureSet("anticorrelated", 2, 2)], feature_probability=0.7), n_instances=4)
    control = control_config(cfg)
    assert control.data.rate_scale == 0.5 and control.data.feature_probability == 0.7
    structure = FeatureStructure.from_sets(control.data.sets)
    batch = 50_000
    x = FeatureSampler(structure, np.full(1, 0.7 * control.data.rate_scale), model_keys([5])).sample_dense(batch, 0)
    rate = (x[0] > 0).float().mean(0).numpy()
    # each of 4 features: Bernoulli(0.35) over 50,000 samples; 5 standard errors
    assert np.all(np.abs(rate - 0.35) < 5 * math.sqrt(0.35 * 0.65 / batch))


def test_control_shares_its_models_initialisations():
    cfg = dataclasses.replace(
        tiny_run_config(steps=0), data=DataConfig(sets=[FeatureSet("anticorrelated", 2, 2)], feature_probability=0.7)
    )
    model, control = train(cfg), train(control_config(cfg))
    assert model.seed.tolist() == control.seed.tolist()
    assert np.array_equal(model.W, control.W)


def test_one_marginal_share_is_refused_for_features_with_different_marginal_rates():
    """The figures' controls assume one rate per run; a mixed layout has none."""
    mixed = DataConfig(sets=[FeatureSet("anticorrelated", 2, 1), FeatureSet("correlated", 2, 1)])
    with pytest.raises(ConfigError, match="data.sets.*marginal rates"):
        marginal_share(mixed)


@pytest.mark.parametrize(
    "sets",
    [
        [FeatureSet("anticorrelated", 2, 1), FeatureSet("correlated", 2, 1)],
        [FeatureSet("correlated", 2, 1), FeatureSet("anticorrelated", 2, 1, rate_scale=2.0)],
        [FeatureSet("anticorrelated", 3, 1, probability=0.6), FeatureSet("correlated", 2, 1)],
    ],
)
def test_control_of_a_mixed_layout_keeps_every_features_own_marginal_rate(sets):
    cfg = RunConfig(data=DataConfig(sets=sets, feature_probability=0.3))
    control = control_config(cfg)
    assert all(s.kind == "independent" for s in control.data.sets)
    model_rates = FeatureStructure.from_sets(sets).feature_rates([0.3])
    control_rates = FeatureStructure.from_sets(control.data.sets).feature_rates([0.3])
    np.testing.assert_allclose(control_rates, model_rates, rtol=1e-15)
    x = FeatureSampler.from_config(control).sample_dense(40_000, 0)[0]
    rate = (x > 0).float().mean(0).numpy()
    se = np.sqrt(model_rates[0] * (1 - model_rates[0]) / 40_000)
    assert np.all(np.abs(rate - model_rates[0]) < 5 * se)


def test_rate_scale_out_of_range_is_refused():
    cfg = RunConfig(data=DataConfig(rate_scale=1.5))
    with pytest.raises(ConfigError, match="data.rate_scale"):
        train(cfg)


def test_a_continued_run_begins_with_the_original_run_bit_for_bit():
    cfg = tiny_run_config()
    cfg.train.steps = 150
    short = train(cfg)
    longer = train(continued_config(cfg, 3), snapshot_steps=[150])
    assert longer.loss_step[-1] == 450
    assert np.array_equal(longer.snapshots[150], short.W)
    assert not np.array_equal(longer.W, short.W)
