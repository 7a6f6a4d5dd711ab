"""Plain-dataclass schema for one training run, plus its validation.

These dataclasses are the single source of truth: Hydra registers them as structured
configs (see ``tms.run.compose``), and notebooks build them directly, e.g.

    RunConfig(data=DataConfig(sets=[FeatureSet("correlated", 2, 2)], feature_probability=0.05),
              model=ModelConfig(m=2))

Sparsity is given as the feature probability p = 1 - S everywhere (configs, artifacts, tables),
so values such as 0.005 are carried exactly rather than as 1 - 0.995.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field

from tms.core.errors import ConfigError

KINDS = ("independent", "correlated", "anticorrelated")
SCHEDULES = ("constant", "linear", "cosine")
SAMPLERS = ("sparse", "dense")
BACKENDS = ("auto", "fused", "torch")
INITS = ("per_model", "colab")
VALUES = ("uniform", "normal")
MAX_SEED = 2**63 - 1  # seeds are stored as int64
MAX_STEPS = 2**62  # steps are counted in int64
FLOAT32_MAX = 3.4028234663852886e38  # every number that reaches the float32 model must fit
ADAM_BETA1 = 0.9  # the optimiser's first step moves W by lr / (1 - beta1)
# A run is refused when its estimated memory exceeds this (override with TrainConfig.max_memory_gb).
DEFAULT_MAX_MEMORY_GB = 16.0


@dataclass
class FeatureSet:
    """``count`` sets of ``size`` features of one ``kind`` (see ``tms.core.structure``).

    Each set's unit is active with probability ``rate_scale`` x p (p: the run's feature
    probability, so the instance axis still sweeps it), or with the fixed ``probability`` when
    that is set (the same at every p). Either is then multiplied by ``DataConfig.rate_scale``.
    """

    kind: str = "correlated"
    size: int = 2
    count: int = 1
    rate_scale: float = 1.0
    probability: float | None = None


@dataclass
class DataConfig:
    """Feature structure and feature probability p = 1 - S (each unit is active with probability p)."""

    sets: list[FeatureSet] = field(default_factory=lambda: [FeatureSet("correlated", 2, 2)])
    feature_probability: float = 0.05
    # When non-empty, replaces `feature_probability`: one block of `n_instances` models per value.
    feature_probabilities: list[float] = field(default_factory=list)
    # Every unit is active with probability rate_scale x p. The feature probability p still names
    # the point and seeds the models, so a control at a lower rate (tms.core.controls) keeps the
    # initialisations of the models it controls.
    rate_scale: float = 1.0
    # Nonzero values: "uniform" on (0, 1], or "normal": 0.5 + 0.2 N(0, 1) clipped to [0, 1]
    # (ARENA's), where an active feature is exactly 0 with probability Phi(-2.5) = 0.62%.
    values: str = "uniform"

    def __post_init__(self):
        # Notebook users may pass plain dicts; turn them into FeatureSets (validate() checks them).
        self.sets = [FeatureSet(**s) if isinstance(s, dict) else s for s in self.sets]


@dataclass
class ModelConfig:
    """Hidden size m and feature importance I (length n)."""

    m: int = 2
    # I_i = importance_decay ** i; 1.0 gives uniform importance.
    importance_decay: float = 1.0
    # Explicit importance vector of length n; overrides importance_decay when set.
    importance: list[float] | None = None
    # W is normal with std init_scale x the Xavier std of `init`; b starts at 0.
    # "per_model": Xavier of one (m, n) model, sqrt(2 / (m + n)), whatever else trains with it.
    # "colab": Xavier of the whole (instances, m, n) tensor, sqrt(2 / (m n + I n)) for the run's
    #   I models, the convention of the paper's colab and of ARENA (it shrinks as I grows).
    init: str = "per_model"
    init_scale: float = 1.0


@dataclass
class TrainConfig:
    """Optimiser and loop settings (AdamW on the importance-weighted squared error)."""

    steps: int = 10_000
    batch: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.01
    # Learning-rate factor per step: "constant", "linear" or "cosine" (the CLI's names), or,
    # from Python, any callable (step, steps) -> factor (0-based step); such a run is recorded
    # with the callable's name and cannot be cached or replayed from its artifact.
    schedule: str = "constant"
    # "fused": the compiled CPU loop (tms.core.kernel); "torch": batched tensor ops, on any
    # device; "auto": fused on the CPU, torch on CUDA. Both train on the same batches
    # (tms.core.streams).
    backend: str = "auto"
    # torch backend: "sparse" computes on the samples that are not all-zero; "dense" on the
    # full batch (the plain path). The same batches either way.
    sampler: str = "sparse"
    device: str = "cpu"
    # Loss history keeps one mean per window of this many steps (0 = choose ~1000 windows).
    log_every: int = 0
    progress: bool = True
    # Refuse runs whose estimated memory exceeds this many GiB.
    max_memory_gb: float = DEFAULT_MAX_MEMORY_GB


@dataclass
class RunConfig:
    """Everything that defines one batched training run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # Models per feature probability. Their initialisation seeds derive from `seed`, the
    # feature probability and the model's index (tms.core.seeds), so runs never share them.
    n_instances: int = 8
    seed: int = 0


def _check(ok: bool, field_name: str, message: str) -> None:
    if not ok:
        raise ConfigError(field_name, message)


def is_int(x) -> bool:
    """A Python or numpy integer, not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_number(x) -> bool:
    """A finite real number (Python or numpy), not a bool or a string."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def check_int(value, field_name: str, lowest: int, highest: int | None = None) -> None:
    ok = is_int(value) and lowest <= value and (highest is None or value <= highest)
    bound = f">= {lowest}" if highest is None else f"in [{lowest}, {highest}]"
    _check(ok, field_name, f"got {value!r}; must be an integer {bound}")


def check_number(value, field_name: str, rule: str, ok) -> None:
    """``value`` must be a finite number satisfying ``ok``; ``rule`` says how (e.g. '> 0')."""
    if not is_number(value):
        raise ConfigError(field_name, f"got {value!r}; must be a number {rule}")
    _check(bool(ok(value)), field_name, f"got {value}; must be {rule}")


def schedule_name(schedule) -> str:
    """A schedule as recorded: its name, or "callable:<module>.<qualname>" for a callable."""
    if not callable(schedule):
        return schedule
    target = getattr(schedule, "func", schedule)  # a functools.partial names its function
    name = getattr(target, "__qualname__", type(target).__qualname__)
    return f"callable:{getattr(target, '__module__', None) or '?'}.{name}"


def _check_choice(value, field_name: str, allowed) -> None:
    _check(value in allowed, field_name, f"got {value!r}; allowed: {', '.join(allowed)}")


def feature_probabilities(data: DataConfig) -> list:
    """The feature probabilities of a run, one block of models each."""
    return list(data.feature_probabilities) or [data.feature_probability]


def validate_data(data: DataConfig, prefix: str = "data") -> None:
    _check(isinstance(data.sets, (list, tuple)), f"{prefix}.sets", "must be a list of feature sets")
    _check(len(data.sets) >= 1, f"{prefix}.sets", "needs at least one feature set")
    for i, s in enumerate(data.sets):
        where = f"{prefix}.sets[{i}]"
        _check(isinstance(s, FeatureSet), where, f"got {s!r}; must be a FeatureSet(kind, size, count)")
        _check_choice(s.kind, f"{where}.kind", KINDS)
        check_int(s.size, f"{where}.size", 1)
        if s.kind != "independent" and s.size == 1:
            raise ConfigError(f"{where}.size", f"got 1; a {s.kind} set needs >= 2 features (one is just independent)")
        check_int(s.count, f"{where}.count", 1)
        check_number(s.rate_scale, f"{where}.rate_scale", "> 0", lambda x: x > 0)
        if s.probability is not None:
            check_number(s.probability, f"{where}.probability", "in (0, 1]", lambda x: 0 < x <= 1)
            _check(
                s.rate_scale == 1,
                f"{where}.probability",
                f"got {s.probability} with rate_scale {s.rate_scale}; a set's rate is either relative "
                "(rate_scale x p) or absolute (probability), not both",
            )
    many = len(data.feature_probabilities) > 0
    name = f"{prefix}.feature_probabilities" if many else f"{prefix}.feature_probability"
    check_probabilities(feature_probabilities(data), name)
    check_number(data.rate_scale, f"{prefix}.rate_scale", "in (0, 1]", lambda x: 0 < x <= 1)
    top = max(feature_probabilities(data))
    for i, s in enumerate(data.sets):
        rate = data.rate_scale * (s.probability if s.probability is not None else s.rate_scale * top)
        _check(
            rate <= 1,
            f"{prefix}.sets[{i}].rate_scale",
            f"got {s.rate_scale}; its unit would be active with probability {rate:g} > 1 at p = {top:g}",
        )
    _check_choice(data.values, f"{prefix}.values", VALUES)


def check_probabilities(values, field_name: str) -> None:
    """A non-empty list of distinct feature probabilities, each in (0, 1] (the one rule for all)."""
    _check(isinstance(values, (list, tuple)) and len(values) > 0, field_name, "must list at least one value in (0, 1]")
    for v in values:
        check_number(v, field_name, "in (0, 1]", lambda x: 0.0 < x <= 1.0)
    _check(len(set(values)) == len(values), field_name, f"got {list(values)}; values must be distinct")
    ordered = sorted(values)
    for lo, hi in zip(ordered, ordered[1:], strict=False):  # selecting by value never matches two blocks
        _check(hi - lo > 1e-9 * hi, field_name, f"got {lo!r} and {hi!r}; values within 1e-9 (relative) are one value")


def n_features(data: DataConfig) -> int:
    return sum(s.size * s.count for s in data.sets)


def validate_model(model: ModelConfig, n: int, prefix: str = "model") -> None:
    check_int(model.m, f"{prefix}.m", 1)
    check_number(model.importance_decay, f"{prefix}.importance_decay", "> 0", lambda x: x > 0)
    unused = model.importance is not None  # an explicit importance replaces the decay
    fits = unused or model.importance_decay <= 1 or (n - 1) * math.log(model.importance_decay) <= math.log(FLOAT32_MAX)
    _check(
        fits,
        f"{prefix}.importance_decay",
        f"got {model.importance_decay:g}; importance_decay ** (n - 1) must fit float32 ({FLOAT32_MAX:.3g}), n = {n}",
    )
    if model.importance is not None:
        _check(isinstance(model.importance, (list, tuple)), f"{prefix}.importance", "must be a list of numbers")
        got = len(model.importance)
        _check(got == n, f"{prefix}.importance", f"has length {got}; must have length n = {n} (one per feature)")
        ok = all(is_number(v) and 0 <= v <= FLOAT32_MAX for v in model.importance)
        _check(ok, f"{prefix}.importance", f"entries must be numbers in [0, {FLOAT32_MAX:.3g}] (they are float32)")
    _check_choice(model.init, f"{prefix}.init", INITS)
    check_number(model.init_scale, f"{prefix}.init_scale", "in (0, 1e6]", lambda x: 0 < x <= 1e6)


def init_std(model: ModelConfig, n: int, instances: int) -> float:
    """The std of W's initial entries for a run of ``instances`` models with n features."""
    m = model.m
    base = math.sqrt(2.0 / (m + n)) if model.init == "per_model" else math.sqrt(2.0 / (m * n + instances * n))
    return base * model.init_scale


def resolved_backend(train: TrainConfig) -> str:
    """The backend a run trains on: "auto" is fused on the CPU and torch elsewhere."""
    if train.backend == "auto":
        return "fused" if train.device == "cpu" else "torch"
    return train.backend


def validate_device(device, field_name: str = "train.device", here: bool = True) -> None:
    """cpu, cuda or cuda:N; with ``here``, CUDA only where this machine has it (a run submitted
    to other machines, e.g. SLURM, is checked where it trains: ``train`` validates again)."""
    _check(isinstance(device, str), field_name, f"got {device!r}; allowed: cpu, cuda, cuda:N")
    _check(
        re.fullmatch(r"cpu|cuda(:\d+)?", device) is not None, field_name, f"got {device!r}; allowed: cpu, cuda, cuda:N"
    )
    if here and device.startswith("cuda"):
        import torch

        _check(torch.cuda.is_available(), field_name, "CUDA is not available on this machine")
        index = int(device.partition(":")[2] or 0)
        count = torch.cuda.device_count()
        _check(index < count, field_name, f"got {device!r}; this machine has {count} CUDA device(s)")


def validate_train(train: TrainConfig, prefix: str = "train", here: bool = True) -> None:
    check_int(train.steps, f"{prefix}.steps", 0, MAX_STEPS)
    check_int(train.batch, f"{prefix}.batch", 1)
    top_lr = FLOAT32_MAX * (1 - ADAM_BETA1)
    rule = f"in (0, {top_lr:.3g}] (the first step, lr / (1 - beta1), is float32)"
    check_number(train.lr, f"{prefix}.lr", rule, lambda x: 0 < x <= top_lr)
    top_decay = FLOAT32_MAX / train.lr
    rule = f"in [0, {top_decay:.3g}] (each step scales W by 1 - lr x weight_decay, in float32)"
    check_number(train.weight_decay, f"{prefix}.weight_decay", rule, lambda x: 0 <= x <= top_decay)
    if not callable(train.schedule):
        _check_choice(train.schedule, f"{prefix}.schedule", SCHEDULES)
    _check_choice(train.backend, f"{prefix}.backend", BACKENDS)
    _check_choice(train.sampler, f"{prefix}.sampler", SAMPLERS)
    validate_device(train.device, f"{prefix}.device", here=False)
    if train.backend == "fused" and train.device != "cpu":
        raise ConfigError(
            f"{prefix}.backend", f"fused runs on the CPU; use {prefix}.backend=torch for {prefix}.device={train.device}"
        )
    validate_device(train.device, f"{prefix}.device", here)
    check_int(train.log_every, f"{prefix}.log_every", 0, MAX_STEPS)
    _check(isinstance(train.progress, bool), f"{prefix}.progress", f"got {train.progress!r}; must be true or false")
    check_number(train.max_memory_gb, f"{prefix}.max_memory_gb", "> 0", lambda x: x > 0)


MAX_ELEMENTS = 2**62  # elements of one tensor: indices are int64


def memory_per_model(cfg: RunConfig) -> dict:
    """Bytes per model of a run's largest tensors, by the field that sizes them.

    The trainer holds about 8 batch-sized float32 tensors at once (batch, pre-activation, index
    and value lists, the dense sampler's uniforms), a few (m, n) ones (W, its gradient, Adam's
    moments) and two (n, n) ones (the Gram route); the estimate is deliberately generous.
    """
    n = n_features(cfg.data)
    return {"train.batch": 8 * cfg.train.batch * n * 4, "model.m": 6 * cfg.model.m * n * 4, "data.sets": 2 * n * n * 4}


def largest_tensor_per_model(cfg: RunConfig) -> int:
    """Elements per model of the run's largest tensor: a batch (batch, n), W (m, n) or the Gram (n, n)."""
    n = n_features(cfg.data)
    return max(cfg.train.batch * n, cfg.model.m * n, n * n)


def estimated_memory_gb(cfg: RunConfig) -> float:
    """Rough peak memory of a run in GiB (``memory_per_model`` times the models)."""
    instances = cfg.n_instances * len(feature_probabilities(cfg.data))
    return instances * sum(memory_per_model(cfg).values()) / 2**30


def validate(cfg: RunConfig, here: bool = True) -> RunConfig:
    """Raise ConfigError naming the first bad field; return cfg unchanged otherwise.

    ``here=False`` skips what depends on this machine (CUDA devices), for runs that train elsewhere.
    """
    validate_data(cfg.data)
    validate_model(cfg.model, n_features(cfg.data))
    validate_train(cfg.train, here=here)
    check_int(cfg.n_instances, "n_instances", 1)
    check_int(cfg.seed, "seed", 0, MAX_SEED)
    instances = cfg.n_instances * len(feature_probabilities(cfg.data))
    per_model = memory_per_model(cfg)
    biggest = max(per_model, key=per_model.get)  # the field that sizes the largest tensors
    elements = largest_tensor_per_model(cfg)  # of one model's largest tensor
    if instances * elements > MAX_ELEMENTS:
        field_name = biggest if elements > MAX_ELEMENTS else "n_instances"
        raise ConfigError(field_name, f"a tensor of this run would hold more than 2^62 elements; lower {field_name}")
    gb, limit = estimated_memory_gb(cfg), cfg.train.max_memory_gb
    if gb > limit:
        one = sum(per_model.values()) / 2**30
        if one > limit:  # a single model is too big: its size, not the count, is the problem
            raise ConfigError(
                biggest, f"one model of this run needs about {one:,.3g} GiB, over train.max_memory_gb = {limit:g}"
            )
        raise ConfigError(
            "n_instances",
            f"this run needs about {gb:,.3g} GiB (n_instances x feature probabilities x batch x n), "
            f"over train.max_memory_gb = {limit:g}; train fewer models per run",
        )
    return cfg


def run_config_from_dict(d: dict) -> RunConfig:
    """The RunConfig a ``dataclasses.asdict`` dict describes (e.g. a saved run's ``config``)."""
    data = dict(d.get("data", {}))
    data["sets"] = [FeatureSet(**s) for s in data.get("sets", [])]
    return RunConfig(
        data=DataConfig(**data),
        model=ModelConfig(**d.get("model", {})),
        train=TrainConfig(**d.get("train", {})),
        n_instances=d.get("n_instances", 8),
        seed=d.get("seed", 0),
    )
