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


def validate_data(data: DataConfig, prefix: str = "data") -> None:
    _check(len(data.sets) >= 1, f"{prefix}.sets", "needs at least one feature set")
    for i, s in enumerate(data.sets):
        where = f"{prefix}.sets[{i}]"
        _check(s.kind in KINDS, f"{where}.kind", f"got {s.kind!r}; allowed: {', '.join(KINDS)}")
        _check(isinstance(s.size, int) and s.size >= 1, f"{where}.size", f"got {s.size}; must be an integer >= 1")
        _check(isinstance(s.count, int) and s.count >= 1, f"{where}.count", f"got {s.count}; must be an integer >= 1")
    values = data.sparsities if len(data.sparsities) else [data.sparsity]
    name = f"{prefix}.sparsities" if len(data.sparsities) else f"{prefix}.sparsity"
    for v in values:
        _check(_is_number(v) and 0.0 <= v < 1.0, name, f"got {v}; must be in [0, 1)")


def n_features(data: DataConfig) -> int:
    return sum(s.size * s.count for s in data.sets)


def validate_model(model: ModelConfig, n: int, prefix: str = "model") -> None:
    _check(isinstance(model.m, int) and model.m >= 1, f"{prefix}.m", f"got {model.m}; must be an integer >= 1")
    _check(
        _is_number(model.importance_decay) and model.importance_decay > 0,
        f"{prefix}.importance_decay",
        f"got {model.importance_decay}; must be > 0",
    )
    if model.importance is not None:
        _check(
            len(model.importance) == n,
            f"{prefix}.importance",
            f"has length {len(model.importance)}; must have length n = {n} (one weight per feature)",
        )
        _check(
            all(_is_number(v) and v >= 0 for v in model.importance),
            f"{prefix}.importance",
            "entries must be finite and >= 0",
        )


def validate_train(train: TrainConfig, prefix: str = "train") -> None:
    _check(isinstance(train.steps, int) and train.steps >= 0, f"{prefix}.steps", f"got {train.steps}; must be an integer >= 0")
    _check(isinstance(train.batch, int) and train.batch >= 1, f"{prefix}.batch", f"got {train.batch}; must be an integer >= 1")
    _check(_is_number(train.lr) and train.lr > 0, f"{prefix}.lr", f"got {train.lr}; must be > 0")
    _check(
        _is_number(train.weight_decay) and train.weight_decay >= 0,
        f"{prefix}.weight_decay",
        f"got {train.weight_decay}; must be >= 0",
    )
    _check(train.schedule in SCHEDULES, f"{prefix}.schedule", f"got {train.schedule!r}; allowed: {', '.join(SCHEDULES)}")
    _check(train.sampler in SAMPLERS, f"{prefix}.sampler", f"got {train.sampler!r}; allowed: {', '.join(SAMPLERS)}")
    _check(train.device == "cpu" or train.device.startswith("cuda"), f"{prefix}.device", f"got {train.device!r}; allowed: cpu, cuda, cuda:N")
    _check(isinstance(train.log_every, int) and train.log_every >= 0, f"{prefix}.log_every", f"got {train.log_every}; must be an integer >= 0")


def validate(cfg: RunConfig) -> RunConfig:
    """Raise ConfigError naming the first bad field; return cfg unchanged otherwise."""
    validate_data(cfg.data)
    validate_model(cfg.model, n_features(cfg.data))
    validate_train(cfg.train)
    _check(isinstance(cfg.n_instances, int) and cfg.n_instances >= 1, "n_instances", f"got {cfg.n_instances}; must be an integer >= 1")
    _check(isinstance(cfg.seed, int) and cfg.seed >= 0, "seed", f"got {cfg.seed}; must be an integer >= 0")
    return cfg
