"""Plain-dataclass schema for one training run, plus its validation.

These dataclasses are the single source of truth: Hydra registers them as structured
configs (see ``tms.hydra_config``), and notebooks build them directly, e.g.

    RunConfig(data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], sparsity=0.95),
              model=ModelConfig(m=2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tms.errors import ConfigError

KINDS = ("independent", "correlated", "anticorrelated")
SCHEDULES = ("constant", "linear", "cosine")
SAMPLERS = ("sparse", "dense")


@dataclass
class FeatureSet:
    """``count`` sets of ``size`` features of one ``kind`` (see ``tms.features``)."""

    kind: str = "correlated"
    size: int = 2
    count: int = 1


@dataclass
class DataConfig:
    """Feature structure and sparsity S (each unit is active with probability p = 1 - S)."""

    sets: list[FeatureSet] = field(default_factory=lambda: [FeatureSet("correlated", 2, 2)])
    sparsity: float = 0.95
    # When non-empty, replaces `sparsity`: one block of `n_instances` models per value.
    sparsities: list[float] = field(default_factory=list)


@dataclass
class ModelConfig:
    """Hidden size m and feature importance I (length n)."""

    m: int = 2
    # I_i = importance_decay ** i; 1.0 gives uniform importance.
    importance_decay: float = 1.0
    # Explicit importance vector of length n; overrides importance_decay when set.
    importance: list[float] | None = None


@dataclass
class TrainConfig:
    """Optimiser and loop settings (AdamW on the importance-weighted squared error)."""

    steps: int = 10_000
    batch: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.01
    schedule: str = "constant"
    # "sparse" draws only the samples that are not all-zero (exact, see tms.features);
    # "dense" draws the full batch. Both give the same loss distribution.
    sampler: str = "sparse"
    device: str = "cpu"
    # Loss history keeps one mean per window of this many steps (0 = choose ~1000 windows).
    log_every: int = 0
    progress: bool = True


@dataclass
class RunConfig:
    """Everything that defines one batched training run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # Models per sparsity value; instance j has seed `seed + j % n_instances`.
    n_instances: int = 8
    seed: int = 0


def _check(ok: bool, field_name: str, message: str) -> None:
    if not ok:
        raise ConfigError(field_name, message)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_int(value, field_name: str, lowest: int) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= lowest
    _check(ok, field_name, f"got {value}; must be an integer >= {lowest}")


def _check_choice(value, field_name: str, allowed) -> None:
    _check(value in allowed, field_name, f"got {value!r}; allowed: {', '.join(allowed)}")


def validate_data(data: DataConfig, prefix: str = "data") -> None:
    _check(len(data.sets) >= 1, f"{prefix}.sets", "needs at least one feature set")
    for i, s in enumerate(data.sets):
        where = f"{prefix}.sets[{i}]"
        _check_choice(s.kind, f"{where}.kind", KINDS)
        check_int(s.size, f"{where}.size", 1)
        check_int(s.count, f"{where}.count", 1)
    values = data.sparsities if len(data.sparsities) else [data.sparsity]
    name = f"{prefix}.sparsities" if len(data.sparsities) else f"{prefix}.sparsity"
    for v in values:
        _check(_is_number(v) and 0.0 <= v < 1.0, name, f"got {v}; must be in [0, 1)")


def n_features(data: DataConfig) -> int:
    return sum(s.size * s.count for s in data.sets)


def validate_model(model: ModelConfig, n: int, prefix: str = "model") -> None:
    check_int(model.m, f"{prefix}.m", 1)
    decay = model.importance_decay
    _check(_is_number(decay) and decay > 0, f"{prefix}.importance_decay", f"got {decay}; must be > 0")
    if model.importance is not None:
        got = len(model.importance)
        _check(got == n, f"{prefix}.importance", f"has length {got}; must have length n = {n} (one per feature)")
        ok = all(_is_number(v) and v >= 0 for v in model.importance)
        _check(ok, f"{prefix}.importance", "entries must be finite and >= 0")


def validate_train(train: TrainConfig, prefix: str = "train") -> None:
    check_int(train.steps, f"{prefix}.steps", 0)
    check_int(train.batch, f"{prefix}.batch", 1)
    _check(_is_number(train.lr) and train.lr > 0, f"{prefix}.lr", f"got {train.lr}; must be > 0")
    wd = train.weight_decay
    _check(_is_number(wd) and wd >= 0, f"{prefix}.weight_decay", f"got {wd}; must be >= 0")
    _check_choice(train.schedule, f"{prefix}.schedule", SCHEDULES)
    _check_choice(train.sampler, f"{prefix}.sampler", SAMPLERS)
    device_ok = train.device == "cpu" or train.device.startswith("cuda")
    _check(device_ok, f"{prefix}.device", f"got {train.device!r}; allowed: cpu, cuda, cuda:N")
    check_int(train.log_every, f"{prefix}.log_every", 0)


def validate(cfg: RunConfig) -> RunConfig:
    """Raise ConfigError naming the first bad field; return cfg unchanged otherwise."""
    validate_data(cfg.data)
    validate_model(cfg.model, n_features(cfg.data))
    validate_train(cfg.train)
    check_int(cfg.n_instances, "n_instances", 1)
    check_int(cfg.seed, "seed", 0)
    return cfg
