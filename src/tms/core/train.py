"""Batched training: many toy models in one tensor program, AdamW with hand-derived gradients."""

from __future__ import annotations

import math

import numpy as np
import torch

from tms.core.config import RunConfig, feature_probabilities, n_features, validate
from tms.core.errors import TrainingDiverged
from tms.core.features import FeatureSampler
from tms.core.model import init_weights, loss_and_grads, sparse_loss_and_grads
from tms.core.progress import Progress
from tms.core.result import TrainResult
from tms.core.seeds import instance_seeds
from tms.core.structure import FeatureStructure


def instance_layout(cfg: RunConfig):
    """Per-instance feature probability (I,) and initialisation seed (I,) int64.

    One block of n_instances models per feature probability; seeds from ``tms.core.seeds``.
    """
    values = feature_probabilities(cfg.data)
    p = np.repeat(np.asarray(values, dtype=np.float64), cfg.n_instances)
    return p, instance_seeds(cfg.seed, values, cfg.n_instances)


def importance_vector(cfg: RunConfig) -> np.ndarray:
    n = n_features(cfg.data)
    if cfg.model.importance is not None:
        return np.asarray(cfg.model.importance, dtype=np.float32)
    return (cfg.model.importance_decay ** np.arange(n)).astype(np.float32)


def lr_factor(schedule: str, step: int, steps: int) -> float:
    """Learning-rate multiplier at 0-based ``step``."""
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


def train(cfg: RunConfig, snapshot_steps=(), label: str = "train") -> TrainResult:
    """Train all instances of ``cfg`` together and return their final parameters.

    Raises TrainingDiverged if any instance's loss becomes non-finite.
    """
    validate(cfg)
    tc = cfg.train
    device = torch.device(tc.device)
    structure = FeatureStructure.from_sets(cfg.data.sets)
    p, seeds = instance_layout(cfg)
    importance_np = importance_vector(cfg)
    importance = torch.as_tensor(importance_np, device=device)  # (n,)

    W, b = init_weights(seeds, cfg.model.m, structure.n, device)  # (I, m, n), (I, n)
    sampler = FeatureSampler.from_config(cfg)  # one instance per model, batches from the run's data seed
    opt = AdamW([W, b], tc.weight_decay)

    window = _window(tc.steps, tc.log_every)
    span = window * max(1, FLUSH_STEPS // window)  # steps held before losses are checked
    buf = torch.zeros((span, len(p)), device=device)  # (span, I) per-step losses
    history, history_step = [], []
    snapshot_steps = set(int(s) for s in snapshot_steps)
    snapshots = {0: W.cpu().numpy().copy()} if 0 in snapshot_steps else {}
    bar = Progress(tc.steps, label, enabled=tc.progress)

    uniform = bool((importance == 1).all())
    workspace = torch.empty(len(p) * tc.batch * structure.n + 1, device=device) if tc.sampler == "sparse" else None
    for step in range(tc.steps):
        if tc.sampler == "sparse":
            batch = sampler.sample_sparse(tc.batch, reuse=True)  # x: (I, K, n)
            loss, dW, db = sparse_loss_and_grads(W, b, batch, importance, uniform, out=workspace)
        else:
            x = sampler.sample_dense(tc.batch)  # (I, B, n)
            loss, dW, db = loss_and_grads(W, b, x, importance, uniform_importance=uniform)
        buf[step % span] = loss
        opt.step([dW, db], tc.lr * lr_factor(tc.schedule, step, tc.steps))
        done = step + 1
        if done % span == 0 or done == tc.steps:
            first = (done - 1) // span * span  # steps before this span
            filled = buf[: done - first]  # (steps in span, I)
            _check_finite(filled, first, p, seeds, divergence_hint(tc))
            _append_window_means(filled, first, window, history, history_step)
            bar.update(done)
        if done in snapshot_steps:
            snapshots[done] = W.cpu().numpy().copy()
    bar.close()

    n_inst = len(p)
    return TrainResult(
        W=W.cpu().numpy(),
        b=b.cpu().numpy(),
        loss=np.stack(history) if history else np.zeros((0, n_inst), np.float32),
        loss_step=np.asarray(history_step, dtype=np.int64),
        feature_probability=p,
        seed=seeds,
        importance=importance_np,
        set_id=structure.set_id,
        set_kind=np.asarray(structure.set_kinds, dtype=str),
        snapshots=snapshots,
    )


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


def _check_finite(losses: torch.Tensor, first_step: int, p, seeds, hint: str) -> None:
    """Raise TrainingDiverged naming the first non-finite (step, instance) among ``losses``
    (steps first_step + 1 ..., one row each), and ``hint``."""
    finite = torch.isfinite(losses)
    if bool(finite.all()):
        return
    row, inst = (~finite).nonzero()[0].tolist()
    raise TrainingDiverged(
        f"non-finite loss at step {first_step + row + 1} in instance {inst} "
        f"(seed {int(seeds[inst])}, feature probability {p[inst]:.4g}); {hint}"
    )
