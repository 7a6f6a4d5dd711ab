"""Every preset composes into its schema and validates; bad input is refused by name."""

from pathlib import Path

import pytest

from tms.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, validate
from tms.errors import ConfigError
from tms.hydra_config import CONFIG_DIR, load_config

DATA_PRESETS = sorted(p.stem for p in (CONFIG_DIR / "data").glob("*.yaml"))
TOP_LEVEL = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def test_presets_exist():
    assert "correlated_pairs" in DATA_PRESETS and "train" in TOP_LEVEL


@pytest.mark.parametrize("preset", DATA_PRESETS)
def test_every_data_preset_composes_and_validates(preset):
    cfg = load_config("train", [f"data={preset}"])
    assert isinstance(cfg, RunConfig)
    assert all(isinstance(s, FeatureSet) for s in cfg.data.sets)
    validate(cfg)


def test_train_config_composes_into_its_dataclass():
    cfg = load_config("train")
    assert isinstance(cfg.train, TrainConfig) and isinstance(cfg.model, ModelConfig)
    assert cfg.train.steps == 10_000 and cfg.train.batch == 1024 and cfg.train.lr == 1e-3
    assert cfg.train.weight_decay == 0.01 and cfg.train.schedule == "constant"


def test_overrides_reach_the_dataclass():
    cfg = load_config("train", ["data=local_orthogonal_basis", "model.m=10", "train.steps=7", "seed=3"])
    assert cfg.model.m == 10 and cfg.train.steps == 7 and cfg.seed == 3
    assert sum(s.size * s.count for s in cfg.data.sets) == 20


BAD_OVERRIDES = [
    (["data.sparsity=1.0"], "data.sparsity", "[0, 1)"),
    (["data.sparsity=-0.1"], "data.sparsity", "[0, 1)"),
    (["data.sparsities=[0.5,1.5]"], "data.sparsities", "[0, 1)"),
    (["data.sets.0.size=0"], "data.sets[0].size", ">= 1"),
    (["data.sets.0.count=0"], "data.sets[0].count", ">= 1"),
    (["data.sets.0.kind=weird"], "data.sets[0].kind", "independent, correlated, anticorrelated"),
    (["model.m=0"], "model.m", ">= 1"),
    (["train.batch=0"], "train.batch", ">= 1"),
    (["train.steps=-1"], "train.steps", ">= 0"),
    (["train.lr=0"], "train.lr", "> 0"),
    (["train.lr=-1e-3"], "train.lr", "> 0"),
    (["model.importance=[1.0,0.5]"], "model.importance", "length n = 4"),
    (["train.schedule=step"], "train.schedule", "constant, linear, cosine"),
    (["train.sampler=fast"], "train.sampler", "sparse, dense"),
    (["no_such_key=1"], "no_such_key", "unknown config key"),
    (["train.no_such_key=1"], "train.no_such_key", "unknown config key"),
    (["train.lr=abc"], "train.lr", "could not be converted"),
    (["data=no_such_preset"], "data", "available: anticorrelated_pairs"),
]


@pytest.mark.parametrize(("overrides", "field", "allowed"), BAD_OVERRIDES)
def test_bad_input_is_rejected_naming_the_field(overrides, field, allowed):
    with pytest.raises(ConfigError) as info:
        validate(load_config("train", overrides))
    assert info.value.field == field
    assert allowed in str(info.value)
    assert "\n" not in str(info.value)


def test_dataclasses_validate_without_hydra():
    bad = RunConfig(data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], sparsity=1.2))
    with pytest.raises(ConfigError, match="data.sparsity"):
        validate(bad)


def test_config_dir_is_the_repository_configs_folder():
    assert CONFIG_DIR == Path(__file__).resolve().parents[1] / "configs"
