"""Hydra glue: registers the dataclass schemas in the ConfigStore and loads configs.

The rest of the library never imports Hydra. Entry points in ``experiments/`` use the
registered schemas; notebooks and tests can call ``load_config(name, overrides)``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from tms.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from tms.errors import ConfigError


def _default_config_dir() -> Path:
    """The repository's configs/ for a source (editable) install, else ./configs."""
    source_tree = Path(__file__).resolve().parents[2] / "configs"
    return source_tree if source_tree.is_dir() else Path.cwd() / "configs"


CONFIG_DIR = _default_config_dir()


@dataclass
class TrainApp(RunConfig):
    """``experiments.train``: one run; artifacts go to out_dir (default: Hydra's run folder)."""

    out_dir: str | None = None
    cache: bool = True  # reuse a complete cached run with the same key instead of retraining
    cache_dir: str = ".cache/tms"
    threads: int = 0  # torch threads; 0 = the cores divided among the launcher's parallel jobs


@dataclass
class FigureSpec:
    """The data and model of one figure; training settings are shared."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)


@dataclass
class SweepConfig:
    """Feature probabilities (1 - S) to sweep and models per value."""

    feature_probabilities: list[float] = field(default_factory=list)
    n_seeds: int = 16


@dataclass
class CorrelatedApp:
    """``experiments.correlated``: the paper's correlated/anticorrelated figures."""

    out_dir: str | None = None
    figures: list[str] = field(default_factory=list)
    n_instances: int = 32  # models (seeds) per figure
    n_shown: int = 8  # models drawn per 2D figure
    seed: int = 0
    controls: bool = True  # train independent-feature controls for the chance level
    workers: int = 2  # training processes (one torch thread each); 1 trains in this process
    cache: bool = True  # reuse complete cached training jobs; false retrains everything
    cache_dir: str = ".cache/tms"
    train: TrainConfig = field(default_factory=TrainConfig)
    specs: dict[str, FigureSpec] = field(default_factory=dict)
    sparsity_sweep: SweepConfig = field(default_factory=SweepConfig)
    collapse_transition: SweepConfig = field(default_factory=SweepConfig)
    n_snapshots: int = 8  # learning_dynamics: W snapshots, log-spaced over training


def _first_set(*values):
    """Resolver ``${tms_or:a,b}``: the first value that is not null (used for output folders)."""
    return next((v for v in values if v is not None), None)


def register() -> None:
    if not OmegaConf.has_resolver("tms_or"):
        OmegaConf.register_new_resolver("tms_or", _first_set)
    if not OmegaConf.has_resolver("tms_pid"):
        # Process id in default output folders: launches in the same microsecond never collide.
        OmegaConf.register_new_resolver("tms_pid", os.getpid, use_cache=True)
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainApp)
    cs.store(name="correlated_schema", node=CorrelatedApp)


register()


def load_config(name: str, overrides: list[str] | None = None, config_dir=None):
    """Compose ``<config_dir>/<name>.yaml`` (default: CONFIG_DIR) with overrides into its dataclass.

    Raises ConfigError with a one-line message for unknown keys or wrong types.
    """
    try:
        with initialize_config_dir(config_dir=str(Path(config_dir or CONFIG_DIR).resolve()), version_base="1.3"):
            cfg = compose(config_name=name, overrides=list(overrides or []))
        return to_dataclass(cfg)
    except (HydraException, OmegaConfBaseException) as e:
        field_name, message = describe_compose_error(e)
        raise ConfigError(field_name, message) from None


def without_hydra(cfg):
    """The composed config without Hydra's own ``hydra`` node."""
    return OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]) if "hydra" in cfg else cfg


def to_dataclass(cfg):
    """A composed DictConfig -> its schema's dataclass instance, without the hydra node."""
    return OmegaConf.to_object(without_hydra(cfg))


def describe_compose_error(e: BaseException):
    """(field, one-line message) for a Hydra/OmegaConf composition error."""
    cause = e.__cause__ if e.__cause__ is not None else e
    full_key = getattr(cause, "full_key", None)
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and full_key:
        owner = getattr(cause, "object_type", None)
        allowed = ", ".join(f.name for f in dataclasses.fields(owner)) if dataclasses.is_dataclass(owner) else "?"
        return full_key, f"unknown config key; allowed here: {allowed}"
    if isinstance(cause, ValidationError) and full_key:
        return full_key, str(cause.msg).splitlines()[0]
    text = str(e)
    missing = re.search(r"Could not find '([^/']+)/([^']+)'", text)
    if isinstance(e, MissingConfigException) and missing:
        group, name = missing.groups()
        listing = text.split("Available options", 1)[-1].split("Config search path", 1)[0]
        options = [ln.strip() for ln in listing.splitlines()[1:] if ln.strip()]
        return group, f"no preset {name!r}; available: {', '.join(options)}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "config", " ".join(lines[:2])
