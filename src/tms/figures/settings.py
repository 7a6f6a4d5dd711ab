"""Settings of the figures: plain dataclasses and their checks, no Hydra.

``FigureSettings`` holds what the figures train and show; the figures command's schema
(``tms.run.apps.FiguresConfig``) adds where output goes and how jobs run. The YAML in
``configs/`` only selects presets (the ``setup`` group) and states what differs from these
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tms.core.config import (
    DataConfig,
    ModelConfig,
    TrainConfig,
    check_int,
    check_probabilities,
    n_features,
    validate_data,
    validate_model,
)
from tms.core.controls import marginal_share
from tms.core.errors import ConfigError


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
class ContinuationConfig:
    """The first ``n_instances`` models of each 2D claim figure trained on to ``factor`` x the
    steps: the same models and batches, so (with a constant schedule) a continuation."""

    n_instances: int = 64
    factor: int = 3


@dataclass
class InitRobustnessConfig:
    """init_robustness: every paper claim at its figure's 1 - S, for each init scale (a multiplier
    on the per-model Xavier std), ``n_instances`` models and paired controls per point."""

    scales: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
    n_instances: int = 128


@dataclass
class RecipesConfig:
    """training_recipes: the 2D claims with the learning rate and the step count changed, one at a time."""

    lr_factors: list[float] = field(default_factory=lambda: [0.3, 3.0])
    step_factors: list[int] = field(default_factory=lambda: [3])
    n_instances: int = 128


@dataclass
class FigureSettings:
    """What the figures train and show: model counts, seeds, the training recipe, setups, sweeps."""

    n_instances: int = 256  # models (and controls) per paper figure
    n_shown: int = 8  # models drawn per 2D figure
    seed: int = 0
    controls: bool = True  # train independent-feature controls for the chance level
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
    continued: ContinuationConfig = field(default_factory=ContinuationConfig)
    init_robustness: InitRobustnessConfig = field(default_factory=InitRobustnessConfig)
    training_recipes: RecipesConfig = field(default_factory=RecipesConfig)
    # sparsity_sweep_small_init: the sparsity sweep again with init_scale this small.
    small_init_scale: float = 0.2


def check_sweep(sweep: SweepConfig, prefix: str) -> None:
    check_probabilities(sweep.feature_probabilities, f"{prefix}.feature_probabilities")
    check_int(sweep.n_instances, f"{prefix}.n_instances", 1)


def check_setup(
    app: FigureSettings, name: str, m: int | None = None, kind: str | None = None, single: bool = False
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
    for i, s in enumerate(setup.data.sets):  # the figures' tables and control words assume one rate
        if s.rate_scale != 1 or s.probability is not None:
            field_name = "probability" if s.probability is not None else "rate_scale"
            raise ConfigError(
                f"{where}.data.sets[{i}].{field_name}",
                "the figures train every set at the run's 1−S; sets at their own rates train with experiments.train",
            )
    if app.controls:
        marginal_share(setup.data, f"{where}.data")  # the control needs one marginal rate
    if single and setup.data.feature_probabilities:
        raise ConfigError(
            f"{where}.data.feature_probabilities",
            "this figure trains one feature probability; set data.feature_probability (sweeps have their own figures)",
        )
    return setup
