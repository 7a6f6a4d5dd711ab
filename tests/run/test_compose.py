"""Every preset composes into its schema and validates; bad input is refused by name."""

import pytest

from experiments import _cli as cli
from tests.conftest import ROOT
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, validate
from tms.core.errors import ConfigError
from tms.core.train import train
from tms.run import apps
from tms.run.compose import CONFIG_DIR, check_app, load_config

DATA_PRESETS = sorted(p.stem for p in (CONFIG_DIR / "data").glob("*.yaml"))
SETUPS = sorted(p.stem for p in (CONFIG_DIR / "setup").glob("*.yaml"))
TOP_LEVEL = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


@pytest.mark.parametrize("setup", SETUPS)
def test_every_setup_pairs_its_data_with_its_model(setup):
    cfg = load_config("train", [f"setup={setup}"])
    assert cfg.data == load_config("train", [f"data={setup}"]).data
    assert cfg.model.m >= 2


def test_local_orthogonal_basis_setup_is_the_papers_n20_m10_model():
    cfg = load_config("train", ["setup=local_orthogonal_basis"])
    assert sum(s.size * s.count for s in cfg.data.sets) == 20 and cfg.model.m == 10


def test_yaml_does_not_restate_dataclass_defaults():
    """A changed default in code must not be overridden by a stale copy in YAML."""
    import yaml

    for name in ("train", "correlated"):
        text = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
        # Hydra's own settings are not dataclass defaults (and only take effect here).
        assert set(text) - {"hydra"} == {"defaults"}, f"configs/{name}.yaml states values besides its defaults list"


@pytest.mark.parametrize("name", ["train", "correlated"])
def test_hydra_never_changes_the_working_directory(name):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(name, return_hydra_config=True)
    assert cfg.hydra.job.chdir is False
    if name == "correlated":
        assert cfg.hydra.output_subdir is None  # no .hydra/ record with absolute paths in figures/


@pytest.mark.parametrize("preset", DATA_PRESETS)
def test_every_data_preset_composes_and_validates(preset):
    cfg = load_config("train", [f"data={preset}"])
    assert isinstance(cfg, RunConfig)
    assert all(isinstance(s, FeatureSet) for s in cfg.data.sets)
    validate(cfg)


def test_train_config_composes_into_its_dataclass():
    cfg = load_config("train")
    assert cfg.n_instances == RunConfig().n_instances and cfg.seed == 0
    assert isinstance(cfg.train, TrainConfig) and isinstance(cfg.model, ModelConfig)
    assert cfg.train.steps == 10_000 and cfg.train.batch == 1024 and cfg.train.lr == 1e-3
    assert cfg.train.weight_decay == 0.01 and cfg.train.schedule == "constant"


def test_overrides_reach_the_dataclass():
    cfg = load_config("train", ["data=local_orthogonal_basis", "model.m=10", "train.steps=7", "seed=3"])
    assert cfg.data.feature_probability == 0.03
    assert cfg.model.m == 10 and cfg.train.steps == 7 and cfg.seed == 3
    assert sum(s.size * s.count for s in cfg.data.sets) == 20


BAD_OVERRIDES = [
    (["data.feature_probability=0"], "data.feature_probability", "(0, 1]"),
    (["data.feature_probability=1.5"], "data.feature_probability", "(0, 1]"),
    (["data.feature_probabilities=[0.5,1.5]"], "data.feature_probabilities", "(0, 1]"),
    (["data.feature_probabilities=[0.1,0.1]"], "data.feature_probabilities", "distinct"),
    (["data.sparsity=0.9"], "data.sparsity", "feature_probability = 1 - S"),
    (["data.sets.0.size=0"], "data.sets[0].size", ">= 1"),
    (["data.sets.0.size=1"], "data.sets[0].size", "one is just independent"),
    (["data=anticorrelated_pairs", "data.sets.0.size=1"], "data.sets[0].size", "one is just independent"),
    (["data.sets.0.count=0"], "data.sets[0].count", ">= 1"),
    (["data.sets.0.kind=weird"], "data.sets[0].kind", "independent, correlated, anticorrelated"),
    (["model.m=0"], "model.m", ">= 1"),
    (["train.batch=0"], "train.batch", ">= 1"),
    (["train.steps=-1"], "train.steps", "[0, 4611686018427387904]"),
    (["train.lr=0"], "train.lr", "in (0, 3.4e+37]"),
    (["train.lr=-1e-3"], "train.lr", "in (0, 3.4e+37]"),
    (["model.importance=[1.0,0.5]"], "model.importance", "length n = 4"),
    (["train.schedule=step"], "train.schedule", "constant, linear, cosine"),
    (["train.sampler=fast"], "train.sampler", "sparse, dense"),
    (["train.device=cudafoo"], "train.device", "allowed: cpu, cuda, cuda:N"),
    (["train.device=tpu"], "train.device", "allowed: cpu, cuda, cuda:N"),
    (["no_such_key=1"], "no_such_key", "unknown config key"),
    (["train.no_such_key=1"], "train.no_such_key", "unknown config key"),
    (["+train.learning_rate=0.5"], "train.learning_rate", "unknown config key"),
    (["+data.foo=1"], "data.foo", "unknown config key"),
    (["train.lr=abc"], "train.lr", "could not be converted"),
    (["data=no_such_preset"], "data", "available: anticorrelated_pairs"),
    (["setup=no_such_setup"], "setup", "available: anticorrelated_pairs"),
    (["seed=-1"], "seed", "[0, 9223372036854775807]"),
    (["seed=9223372036854775808"], "seed", "[0, 9223372036854775807]"),
    (["n_instances=1000000000"], "n_instances", "GiB"),
    (["threads=-1"], "threads", "[0, 1024]"),
    # Values every type accepts but the trainer's float32 and int64 arithmetic cannot hold.
    (["train.lr=1e38"], "train.lr", "lr / (1 - beta1), is float32"),
    (["train.lr=1e308"], "train.lr", "lr / (1 - beta1), is float32"),
    (["train.weight_decay=1e308"], "train.weight_decay", "[0, 3.4e+41] (each step scales W by 1 - lr x weight_decay"),
    (["train.lr=1e30", "train.weight_decay=1e10"], "train.weight_decay", "[0, 3.4e+08]"),
    (["threads=2147483648"], "threads", "[0, 1024]"),
    (["model.importance=[1e39,1,1,1]"], "model.importance", "they are float32"),
    (["model.importance_decay=1e20"], "model.importance_decay", "must fit float32"),
    (["train.steps=4611686018427387905"], "train.steps", "[0, 4611686018427387904]"),
    (["model.m=4611686018427387904", "train.max_memory_gb=1e300"], "model.m", "more than 2^62 elements"),
    (["train.batch=4611686018427387904", "train.max_memory_gb=1e300"], "train.batch", "more than 2^62 elements"),
    # Memory: the field that makes one model too big, not n_instances; tiny limits still print a size.
    (["model.m=1000000000"], "model.m", "one model of this run needs about 89.4 GiB"),
    (["data.sets=[{kind:correlated,size:100000,count:1}]"], "data.sets", "one model of this run needs about"),
    (["train.max_memory_gb=1e-300"], "train.batch", "needs about 0.000122 GiB"),
]


@pytest.mark.parametrize(("overrides", "field", "allowed"), BAD_OVERRIDES)
def test_bad_input_is_rejected_naming_the_field(overrides, field, allowed):
    with pytest.raises(ConfigError) as info:
        load_config("train", overrides)
    assert info.value.field == field
    assert allowed in str(info.value)
    assert "\n" not in str(info.value)


def test_dataclasses_validate_without_hydra():
    bad = RunConfig(data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], feature_probability=1.2))
    with pytest.raises(ConfigError, match="data.feature_probability"):
        validate(bad)


NO_CUDA = pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")


@NO_CUDA
def test_cuda_is_refused_where_there_is_none():
    with pytest.raises(ConfigError, match="CUDA is not available on this machine"):
        validate(RunConfig(train=TrainConfig(device="cuda")))


@NO_CUDA
def test_training_checks_the_device_on_the_machine_that_trains():
    cfg = RunConfig(train=TrainConfig(device="cuda", steps=1))
    validate(cfg, here=False)  # a run sent elsewhere (SLURM) is not refused for this machine's lack
    with pytest.raises(ConfigError, match="train.device: CUDA is not available on this machine"):
        train(cfg)  # ...but where it trains, it is: train() validates again, before any work
    with pytest.raises(ConfigError, match="train.device: got 'cudaa'"):
        validate(RunConfig(train=TrainConfig(device="cudaa")), here=False)  # the form is checked anywhere


@NO_CUDA
def test_figures_for_slurm_do_not_need_cuda_on_the_submitting_machine(monkeypatch):
    monkeypatch.setattr(apps, "check_slurm", lambda *args: None)  # as if sbatch were here
    slurm = load_config("correlated", ["runner=submitit_slurm", "train.device=cuda"], check=False)
    check_app(slurm)
    local = load_config("correlated", ["train.device=cuda"], check=False)
    with pytest.raises(ConfigError, match="train.device: CUDA is not available"):
        check_app(local)


@NO_CUDA
def test_a_slurm_launcher_sweep_does_not_need_cuda_on_the_submitting_machine(monkeypatch, capsys):
    monkeypatch.setattr(cli, "check_slurm", lambda *args: None)  # as if sbatch were here
    cli.check_overrides("train", ["-m", "hydra/launcher=tms_slurm", "train.device=cuda", "seed=0,1"])
    with pytest.raises(SystemExit):
        cli.check_overrides("train", ["-m", "train.device=cuda", "seed=0,1"])  # the basic launcher runs here
    assert "error: train.device: CUDA is not available" in capsys.readouterr().err


PYTHON_API_BAD = [
    (lambda: RunConfig(train=TrainConfig(device=None)), "train.device", "allowed: cpu, cuda"),
    (lambda: RunConfig(train=TrainConfig(lr="1e-3")), "train.lr", "must be a number"),
    (
        lambda: RunConfig(data=DataConfig(sets=[{"kind": "weird", "size": 2, "count": 1}])),
        "data.sets[0].kind",
        "allowed",
    ),
    (lambda: RunConfig(data=DataConfig(sets=[("correlated", 2, 2)])), "data.sets[0]", "FeatureSet"),
    (lambda: RunConfig(seed=2**63), "seed", "[0, 9223372036854775807]"),
    (lambda: RunConfig(n_instances=2.5), "n_instances", "integer"),
]


@pytest.mark.parametrize(("make", "field", "text"), PYTHON_API_BAD)
def test_python_api_refuses_bad_values_with_config_error(make, field, text):
    with pytest.raises(ConfigError) as info:
        validate(make())
    assert info.value.field == field and text in str(info.value)


def test_feature_sets_given_as_dicts_and_numpy_integers_are_accepted():
    import numpy as np

    cfg = RunConfig(
        data=DataConfig(sets=[{"kind": "correlated", "size": np.int64(2), "count": 2}]),
        n_instances=np.int64(2),
        seed=np.int32(3),
    )
    assert validate(cfg) is cfg and cfg.data.sets[0] == FeatureSet("correlated", 2, 2)


def test_load_config_validates_like_the_command_line():
    with pytest.raises(ConfigError, match="data.feature_probability"):
        load_config("train", ["data.feature_probability=1.5"])
    assert load_config("train", ["data.feature_probability=1.5"], check=False).data.feature_probability == 1.5


def test_config_dir_is_the_repository_configs_folder():
    assert CONFIG_DIR == ROOT / "configs"


def test_load_config_takes_a_list_of_overrides_not_a_string():
    with pytest.raises(TypeError, match=r"a list of strings like \['seed=1'\]"):
        load_config("train", "seed=1")


def test_load_config_refuses_an_out_dir_the_command_line_refuses(tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError, match="out_dir"):
        load_config("train", [f"out_dir={tmp_path / 'a_file'}"])


def test_the_control_of_an_invalid_run_is_refused_not_made_valid():
    from tms import control_config

    with pytest.raises(ConfigError, match="data.feature_probability"):
        control_config(RunConfig(data=DataConfig(feature_probability=2.0)))
