"""Training many toy models at once, on one of two backends that draw the same batches.

- ``fused`` (the CPU default): ``tms.core.kernel.train_models``, one compiled loop per model,
  models in parallel over cores.
- ``torch``: one batched tensor program with hand-derived gradients and a fused AdamW step; it
  runs on CUDA too. Its batches come from the same streams (``tms.core.features``).

A model's result depends only on its own seed, feature probability and the recipe, so any
subset of a run's models (``models=``, e.g. a shard or one model being replayed) trains to the
same weights as in the full run, on the same backend.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from tms.core.config import (
    ADAM_BETA1,
    FLOAT32_MAX,
    RunConfig,
    feature_probabilities,
    init_std,
    resolved_backend,
    schedule_name,
    validate,
)
from tms.core.errors import ConfigError, TrainingDiverged
from tms.core.features import FeatureSampler
from tms.core.instances import importance_vector, instance_layout
from tms.core.model import init_weights, loss_and_grads, sparse_loss_and_grads
from tms.core.progress import Progress
from tms.core.result import TrainResult
from tms.core.streams import model_keys, slot_parameters
from tms.core.structure import FeatureStructure

__all__ = ["AdamW", "importance_vector", "instance_layout", "lr_factor", "train", "train_instances"]


def lr_factor(schedule, step: int, steps: int) -> float:
    """Learning-rate multiplier at 0-based ``step``: a named schedule, or a callable
    (step, steps) -> factor."""
    if callable(schedule):
        return float(schedule(step, steps))
    if schedule == "constant":
        return 1.0
    frac = step / max(steps, 1)
    if schedule == "linear":
        return 1.0 - frac
    return 0.5 * (1.0 + math.cos(math.pi * frac))  # cosine


class AdamW:
    """AdamW over a list of tensors, same update rule as torch.optim.AdamW, in place."""

    def __init__(self, params, weight_decay: float, betas=(0.9, 0.999), eps=1e-8):
        self.params = params
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.weight_decay = weight_decay
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0

    def step(self, grads, lr: float) -> None:
        self.t += 1
        bc1 = 1.0 - self.beta1**self.t
        bc2_sqrt = math.sqrt(1.0 - self.beta2**self.t)
        torch._foreach_mul_(self.params, 1.0 - lr * self.weight_decay)
        torch._foreach_lerp_(self.m, grads, 1.0 - self.beta1)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, 1.0 - self.beta2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, bc2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, -lr / bc1)


def check_schedule(train_cfg) -> None:
    """A callable schedule's factor at every step must be a finite number in [0, top] (top keeps
    lr x factor in train.lr's float32 range): checked before the first step (ConfigError)."""
    schedule, steps = train_cfg.schedule, train_cfg.steps
    if not callable(schedule):
        return
    top = FLOAT32_MAX * (1 - ADAM_BETA1) / train_cfg.lr
    for step in range(steps):
        try:
            factor = float(schedule(step, steps))
        except Exception as e:  # a user's callable: any failure is this field's error
            raise ConfigError("train.schedule", f"failed at step {step}: {type(e).__name__}: {e}") from None
        if not (math.isfinite(factor) and 0 <= factor <= top):
            raise ConfigError(
                "train.schedule", f"gave factor {factor:g} at step {step}; must be finite and in [0, {top:.3g}]"
            )


def run_init_std(cfg: RunConfig) -> float:
    """The initial std of W for every model of ``cfg``: the "colab" init counts all the run's
    models (n_instances x feature probabilities), however they are split into shards."""
    structure = FeatureStructure.from_sets(cfg.data.sets)
    return init_std(cfg.model, structure.n, cfg.n_instances * len(feature_probabilities(cfg.data)))


def log_spaced_steps(steps: int, count: int) -> list:
    """About ``count`` steps from 0 to ``steps`` for snapshots: 0, then log-spaced up to ``steps``."""
    if steps < 1:
        return [0]
    return sorted({0, *np.unique(np.geomspace(1, steps, count - 1).round().astype(int)).tolist()})


def _window(steps: int, log_every: int) -> int:
    if log_every > 0:
        return log_every
    return max(1, math.ceil(steps / 1000))


# Per-step losses are held for about this many steps, then checked and averaged per window in
# a few tensor operations (per window, that work would cost more than a small model's step).
FLUSH_STEPS = 100
# The fused backend runs this many steps (rounded to whole windows) per kernel call, between
# which the progress bar moves and Ctrl-C is seen.
CHUNK_STEPS = 250


def train(cfg: RunConfig, snapshot_steps=(), label: str = "train", models=None) -> TrainResult:
    """Train the models of ``cfg`` together and return their final parameters.

    ``models`` (indices into the run's instances, default all) trains only those, each to the
    weights it gets in the full run (a shard). Raises TrainingDiverged if any model's loss
    becomes non-finite, naming the first step and model.
    """
    validate(cfg)
    p, seeds = instance_layout(cfg)
    if models is not None:
        index = np.asarray(models, dtype=np.int64).reshape(-1)
        if index.size == 0 or index.min() < 0 or index.max() >= len(p):
            raise IndexError(f"models {index.tolist()}: pick at least one of the run's {len(p)} instances")
        p, seeds = p[index], seeds[index]
        return train_instances(cfg, p, seeds, snapshot_steps, label, numbers=index)
    return train_instances(cfg, p, seeds, snapshot_steps, label)


def train_instances(cfg: RunConfig, p, seeds, snapshot_steps=(), label: str = "train", numbers=None) -> TrainResult:
    """Train one model per (feature probability p[i], initialisation seed seeds[i]) with the
    structure, model and recipe of ``cfg`` (its seed and feature probabilities are not used;
    its model count only sizes the "colab" init). A model's weights depend on its own (p, seed) and the recipe only.
    ``numbers`` (default 0, 1, ...) is what errors call the models."""
    validate(cfg)
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
    if p.size == 0 or p.shape != seeds.shape:
        raise ValueError(f"{p.size} feature probabilities and {seeds.size} seeds; give one of each per model")
    numbers = np.arange(p.size) if numbers is None else np.asarray(numbers)
    structure = FeatureStructure.from_sets(cfg.data.sets)
    importance = importance_vector(cfg)
    snapshot_steps = sorted({int(s) for s in snapshot_steps if 0 <= int(s) <= cfg.train.steps})
    window = _window(cfg.train.steps, cfg.train.log_every)
    fit = _train_fused if resolved_backend(cfg.train) == "fused" else _train_torch
    bar = Progress(cfg.train.steps, label, enabled=cfg.train.progress)
    rate = structure.unit_rates(p, cfg.data.rate_scale)  # (I, U) probability that a unit is active
    check_schedule(cfg.train)
    W, b, loss, loss_step, snapshots, bad = fit(cfg, structure, rate, seeds, importance, snapshot_steps, window, bar)
    bar.close()
    if bad is not None:
        step, j = bad
        raise TrainingDiverged(
            f"non-finite loss at step {step} in instance {int(numbers[j])} "
            f"(seed {int(seeds[j])}, feature probability {p[j]:.4g}); {divergence_hint(cfg.train)}"
        )
    return TrainResult(
        W=W,
        b=b,
        loss=loss,
        loss_step=loss_step,
        feature_probability=p,
        seed=seeds,
        importance=importance,
        set_id=structure.set_id,
        set_kind=np.asarray(structure.set_kinds, dtype=str),
        snapshots=snapshots,
        config=config_json(cfg),
    )


def _schedule(tc, first: int, count: int):
    """decay, step size and bias2 (float64, one per step first..first + count - 1) of AdamW."""
    t = np.arange(first, first + count)
    lr = tc.lr * np.asarray([lr_factor(tc.schedule, int(s), tc.steps) for s in t], dtype=np.float64)
    return 1.0 - lr * tc.weight_decay, lr / (1.0 - 0.9 ** (t + 1.0)), np.sqrt(1.0 - 0.999 ** (t + 1.0))


def _train_fused(cfg, structure, rates, seeds, importance, snapshot_steps, window, bar):
    """The compiled loop (tms.core.kernel), CHUNK_STEPS at a time."""
    from tms.core import kernel

    kernel.ensure_fresh_cache()
    kernel.use_threads(torch.get_num_threads())
    tc = cfg.train
    W, b = (t.numpy() for t in init_weights(seeds, cfg.model.m, structure.n, std=run_init_std(cfg)))
    I, m, n = W.shape
    moments = [np.zeros_like(W), np.zeros_like(W), np.zeros_like(b), np.zeros_like(b)]
    keys = model_keys(seeds)
    slots = slot_parameters(rates)  # rates: (I, U)
    unit = (structure.unit_first_feature, structure.unit_size, structure.unit_share)
    normal = cfg.data.values == "normal"
    snapshots = {0: W.copy()} if 0 in snapshot_steps else {}
    later = np.asarray([s for s in snapshot_steps if s > 0], dtype=np.int64)
    losses = []
    chunk = window * max(1, CHUNK_STEPS // window)
    bad = np.zeros(I, dtype=np.int64)
    for first in range(0, tc.steps, chunk):
        count = min(chunk, tc.steps - first)
        decay, step_size, bias2 = _schedule(tc, first, count)
        snap_steps = later[(later > first) & (later <= first + count)]
        snaps = np.zeros((len(snap_steps), I, m, n), dtype=np.float32)
        out = np.zeros((-(-count // window), I), dtype=np.float32)
        kernel.train_models(
            W, b, *moments, keys, *slots, *unit, normal, importance, tc.batch,
            first, decay, step_size, bias2, window, snap_steps, snaps, out, bad,
        )  # fmt: skip
        if bad.any():
            j = int(np.lexsort((np.arange(I), np.where(bad > 0, bad, np.iinfo(np.int64).max)))[0])
            return W, b, None, None, snapshots, (int(bad[j]), j)
        losses.append(out)
        snapshots.update({int(s): snaps[k].copy() for k, s in enumerate(snap_steps)})
        bar.update(first + count)
    loss = np.concatenate(losses) if losses else np.zeros((0, I), np.float32)
    loss_step = np.minimum(window * np.arange(1, len(loss) + 1), tc.steps).astype(np.int64)
    return W, b, loss, loss_step, snapshots, None


def _train_torch(cfg, structure, rates, seeds, importance_np, snapshot_steps, window, bar):
    """The batched tensor program, on train.device."""
    from tms.core import kernel

    kernel.use_threads(torch.get_num_threads())  # the sampler's parallel loop
    tc = cfg.train
    device = torch.device(tc.device)
    importance = torch.as_tensor(importance_np, device=device)  # (n,)
    W, b = init_weights(seeds, cfg.model.m, structure.n, device, run_init_std(cfg))  # (I, m, n), (I, n)
    sampler = FeatureSampler(structure, rates, model_keys(seeds), device=device, values=cfg.data.values)
    opt = AdamW([W, b], tc.weight_decay)
    span = window * max(1, FLUSH_STEPS // window)  # steps held before losses are checked
    buf = torch.zeros((span, len(rates)), device=device)  # (span, I) per-step losses
    history, history_step = [], []
    wanted = set(snapshot_steps)
    snapshots = {0: W.cpu().numpy().copy()} if 0 in wanted else {}
    uniform = bool((importance == 1).all())
    workspace = None
    for step in range(tc.steps):
        if tc.sampler == "sparse":
            batch = sampler.sample_sparse(tc.batch, step)  # x: (I, K, n)
            size = batch.scratch + 1
            if workspace is None or workspace.numel() < size:
                workspace = torch.empty(max(size, 2 * (0 if workspace is None else workspace.numel())), device=device)
            loss, dW, db = sparse_loss_and_grads(W, b, batch, importance, uniform, out=workspace)
        else:
            x = sampler.sample_dense(tc.batch, step)  # (I, B, n)
            loss, dW, db = loss_and_grads(W, b, x, importance, uniform_importance=uniform)
        buf[step % span] = loss
        opt.step([dW, db], tc.lr * lr_factor(tc.schedule, step, tc.steps))
        done = step + 1
        if done % span == 0 or done == tc.steps:
            first = (done - 1) // span * span  # steps before this span
            filled = buf[: done - first]  # (steps in span, I)
            bad = _first_non_finite(filled, first)
            if bad is not None:
                return None, None, None, None, snapshots, bad
            _append_window_means(filled, first, window, history, history_step)
            bar.update(done)
        if done in wanted:
            snapshots[done] = W.cpu().numpy().copy()
    n_inst = len(rates)
    loss = np.stack(history) if history else np.zeros((0, n_inst), np.float32)
    return W.cpu().numpy(), b.cpu().numpy(), loss, np.asarray(history_step, dtype=np.int64), snapshots, None


def config_json(cfg: RunConfig) -> str:
    """The resolved run config as JSON (what ``tms.replay`` rebuilds a run from)."""
    import dataclasses
    import json

    named = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, schedule=schedule_name(cfg.train.schedule)))
    return json.dumps(dataclasses.asdict(named), sort_keys=True)


def _append_window_means(losses: torch.Tensor, first_step: int, window: int, history: list, steps: list) -> None:
    """Mean loss per window of ``window`` steps (the last may be shorter) and the step ending it."""
    full = losses.shape[0] // window
    if full:
        means = losses[: full * window].view(full, window, -1).mean(1).cpu().numpy()  # (full, I)
        history.extend(means)
        steps.extend(first_step + window * (j + 1) for j in range(full))
    if losses.shape[0] > full * window:
        history.append(losses[full * window :].mean(0).cpu().numpy())
        steps.append(first_step + losses.shape[0])


def divergence_hint(tc) -> str:
    """What to change when a run diverges: the weight decay when it alone makes W grow (each step
    scales W by 1 - lr x weight_decay, which grows |W| once that product exceeds 2), else lr."""
    decay = tc.lr * tc.weight_decay
    if decay > 2:
        return f"lr x weight_decay = {decay:.3g} > 2 makes every step grow W; lower train.weight_decay or train.lr"
    return "lower train.lr or check the data config"


def _first_non_finite(losses: torch.Tensor, first_step: int):
    """(1-based step, instance) of the first non-finite loss among ``losses`` (steps
    first_step + 1 ..., one row each), or None."""
    finite = torch.isfinite(losses)
    if bool(finite.all()):
        return None
    row, inst = (~finite).nonzero()[0].tolist()
    return first_step + row + 1, inst
