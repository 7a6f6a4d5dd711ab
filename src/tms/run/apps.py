"""Schema of the figures command (``experiments.correlated``): plain dataclasses, no Hydra.

Hydra registers ``FiguresConfig`` in its ConfigStore (``tms.run.compose``); the YAML in
``configs/`` only selects presets (the ``setup`` group) and states what differs from these
defaults. ``validate_figures`` checks every field before anything is trained or written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from tms.core.config import (
    MAX_SEED,
    DataConfig,
    ModelConfig,
    TrainConfig,
    check_int,
    is_number,
    n_features,
    validate,
    validate_data,
    validate_model,
    validate_train,
)
from tms.core.errors import ConfigError

RUNNERS = ("pool", "submitit_local", "submitit_slurm")


@dataclass
class Setup:
    """A feature structure and the model that learns it (configs/setup/<name>.yaml)."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)


@dataclass
class SweepConfig:
    """Feature probabilities (1 - S) to sweep, and models per value."""

    feature_probabilities: list[float] = field(default_factory=list)
    n_instances: int = 64


@dataclass
class LearningDynamicsConfig:
    n_instances: int = 128
    n_snapshots: int = 8  # W snapshots, log-spaced over training


@dataclass
class ScalingConfig:
    """local_basis_scaling: s correlated sets of size k = m in m dimensions, for each m and s."""

    m: list[int] = field(default_factory=lambda: [10, 20, 40])
    sets: list[int] = field(default_factory=lambda: [2, 4])
    feature_probabilities: list[float] = field(default_factory=lambda: [0.03, 0.01])
    n_instances: int = 32


@dataclass
class RunnerConfig:
    """Where training jobs run: a local process pool, or submitit (locally or on SLURM)."""

    kind: str = "pool"
    workers: int = 2  # pool: single-threaded training processes (1 trains in this process)
    partition: str | None = None  # submitit_slurm
    timeout_min: int = 60
    cpus_per_task: int = 2
    gpus_per_task: int = 0
    mem_gb: float = 4.0
    array_parallelism: int = 64  # jobs of the array running at once


@dataclass
class FiguresConfig:
    """``experiments.correlated``: the paper's correlated/anticorrelated figures and their checks."""

    out_dir: str | None = None
    figures: list[str] | None = None  # None: every figure in tms.figures.registry.FIGURES
    n_instances: int = 256  # models (and controls) per paper figure
    n_shown: int = 8  # models drawn per 2D figure
    seed: int = 0
    controls: bool = True  # train independent-feature controls for the chance level
    cache: bool = True  # reuse complete cached training jobs; false retrains everything
    cache_dir: str = ".cache/tms"
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    setups: dict[str, Setup] = field(default_factory=dict)
    sparsity_sweep: SweepConfig = field(
        default_factory=lambda: SweepConfig([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5], 64)
    )
    collapse_transition: SweepConfig = field(
        default_factory=lambda: SweepConfig(
            [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5], 64
        )
    )
    learning_dynamics: LearningDynamicsConfig = field(default_factory=LearningDynamicsConfig)
    local_basis_scaling: ScalingConfig = field(default_factory=ScalingConfig)


def check_probabilities(values, field_name: str) -> None:
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(field_name, "must list at least one value in (0, 1]")
    for v in values:
        if not (is_number(v) and 0 < v <= 1):
            raise ConfigError(field_name, f"got {v!r}; each must be in (0, 1]")
    if len(set(values)) != len(values):
        raise ConfigError(field_name, f"got {list(values)}; values must be distinct")


def check_sweep(sweep: SweepConfig, prefix: str) -> None:
    check_probabilities(sweep.feature_probabilities, f"{prefix}.feature_probabilities")
    check_int(sweep.n_instances, f"{prefix}.n_instances", 1)


def check_setup(
    app: FiguresConfig, name: str, m: int | None = None, kind: str | None = None, single: bool = False
) -> Setup:
    """The named setup, validated. Optionally: exactly ``m`` hidden dimensions; feature sets of
    ``kind`` (at least one, and no set of another kind; independent features may be added);
    ``single`` feature probability (no instance-axis list)."""
    if name not in app.setups:
        have = ", ".join(sorted(app.setups)) or "none"
        raise ConfigError(f"setups.{name}", f"missing; the selected figures need it (have: {have})")
    setup = app.setups[name]
    where = f"setups.{name}"
    validate_data(setup.data, f"{where}.data")
    validate_model(setup.model, n_features(setup.data), f"{where}.model")
    if m is not None and setup.model.m != m:
        raise ConfigError(f"{where}.model.m", f"got {setup.model.m}; this figure needs m = {m}")
    if kind is not None:
        kinds = [s.kind for s in setup.data.sets]
        for i, k in enumerate(kinds):
            if k not in (kind, "independent"):
                raise ConfigError(
                    f"{where}.data.sets[{i}].kind", f"got {k!r}; this figure's claim is about {kind} sets"
                )
        if kind not in kinds:
            raise ConfigError(f"{where}.data.sets", f"has no {kind} set; this figure's claim is about {kind} sets")
    if single and setup.data.feature_probabilities:
        raise ConfigError(
            f"{where}.data.feature_probabilities",
            "this figure trains one feature probability; set data.feature_probability (sweeps have their own figures)",
        )
    return setup


def validate_figures(app: FiguresConfig, registry) -> FiguresConfig:
    """Check the app-level fields, then let each selected figure check its own settings."""
    names = list(registry) if app.figures is None else app.figures
    if not isinstance(names, (list, tuple)) or not names:
        raise ConfigError("figures", f"must list at least one figure; available: {', '.join(registry)}")
    for name in names:
        if name not in registry:
            raise ConfigError("figures", f"unknown figure {name!r}; available: {', '.join(registry)}")
    if len(set(names)) != len(names):
        raise ConfigError("figures", f"got {list(names)}; each figure at most once")
    here = app.runner.kind != "submitit_slurm"  # SLURM jobs check their device where they train
    validate_train(app.train, here=here)
    for field_name, lowest in (("n_instances", 1), ("n_shown", 1)):
        check_int(getattr(app, field_name), field_name, lowest)
    check_int(app.seed, "seed", 0, MAX_SEED)
    for field_name in ("controls", "cache"):
        if not isinstance(getattr(app, field_name), bool):
            raise ConfigError(field_name, f"got {getattr(app, field_name)!r}; must be true or false")
    validate_runner(app.runner, app.cache)
    for name in names:
        registry[name].validate(app)
    for name in names:  # the runs themselves, e.g. their memory, before any of them trains
        for job in registry[name].jobs(app):
            try:
                validate(job.config, here=here)
            except ConfigError as e:
                raise ConfigError(e.field, f"{e.message} (training job '{job.label}')") from None
    return app


def check_slurm(field_name: str, what: str) -> None:
    """SLURM jobs are submitted from this machine: its ``sbatch`` must be on PATH."""
    if shutil.which("sbatch") is None:
        raise ConfigError(field_name, f"{what} needs SLURM, but sbatch is not on this machine's PATH")


def validate_runner(runner: RunnerConfig, cache: bool) -> None:
    if runner.kind not in RUNNERS:
        raise ConfigError("runner.kind", f"got {runner.kind!r}; allowed: {', '.join(RUNNERS)}")
    check_int(runner.workers, "runner.workers", 1)
    for name in ("timeout_min", "cpus_per_task", "array_parallelism"):
        check_int(getattr(runner, name), f"runner.{name}", 1)
    check_int(runner.gpus_per_task, "runner.gpus_per_task", 0)
    if not (is_number(runner.mem_gb) and runner.mem_gb > 0):
        raise ConfigError("runner.mem_gb", f"got {runner.mem_gb!r}; must be a number > 0")
    if runner.kind.startswith("submitit"):
        if not cache:
            raise ConfigError("cache", f"runner={runner.kind} returns results through the run cache; set cache=true")
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise ConfigError("runner", f"{runner.kind} needs submitit: pip install -e '.[sweep]'") from None
        if runner.kind == "submitit_slurm":
            check_slurm("runner", runner.kind)
