"""The toy model x' = ReLU(W^T W x + b), batched over independent instances.

W has shape (instances, m, n) and b has shape (instances, n); instance i only ever sees
its own slice, so one batched program trains many separate models.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

from tms.core.config import MAX_SEED


def init_weights(seeds: Sequence[int], m: int, n: int, device="cpu", std: float | None = None):
    """Normal W per single (m, n) model, seeded per instance; b = 0.

    ``std`` defaults to Xavier of one (m, n) model, sqrt(2 / (m + n)): the fan is never the
    instance count, so a model's init does not depend on how many other models share the batch
    (``tms.core.config.init_std`` gives the std a run's ``model.init`` and ``init_scale`` ask
    for). Returns W (I, m, n), b (I, n).
    """
    std = math.sqrt(2.0 / (m + n)) if std is None else float(std)
    W = torch.stack([torch.randn((m, n), generator=torch.Generator().manual_seed(int(s))) for s in seeds]).mul_(std)
    return W.to(device), torch.zeros((len(seeds), n), device=device)


def reconstruct(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x (I, B, n) -> x' (I, B, n)."""
    h = torch.bmm(x, W.transpose(1, 2))  # (I, B, m)
    return torch.relu(torch.baddbmm(b[:, None, :], h, W))  # (I, B, n)


def loss_per_instance(W, b, x, importance, n_implicit_zero: int = 0) -> torch.Tensor:
    """Importance-weighted squared error, mean over the batch: (I,).

    ``n_implicit_zero`` all-zero samples that were not drawn (see FeatureSampler.sample_sparse)
    each add sum_i I_i ReLU(b_i)^2; the batch size is x.shape[1] + n_implicit_zero.
    """
    batch = x.shape[1] + n_implicit_zero
    err = (importance * (x - reconstruct(W, b, x)) ** 2).sum((1, 2))
    zero = n_implicit_zero * (importance * torch.relu(b) ** 2).sum(-1)
    return (err + zero) / batch


def uses_gram(m: int, n: int) -> bool:
    """Whether the gradient goes through the n x n Gram matrix (else through h = x W^T).

    Per sample, the Gram route costs about 2 n^2 multiply-adds (y = x G and X^T G) and the hidden
    route 4 n m (h = x W^T, y = h W and two products for dW), but two batch-sized products
    instead of four. Measured on CPU: the Gram route is faster up to n = 3 m and for small n,
    the hidden route for wider models (n > 3 m) from n = 64 on.
    """
    return n <= 3 * m or n < 64


def _feature_major(x: torch.Tensor) -> bool:
    """Whether x (I, K, n) is a transposed view of (I, n, K) memory (samples adjacent)."""
    return x.shape[1] > 1 and x.stride(1) == 1


def _preactivation(W, b, x, gram: bool, out=None):
    """y = x W^T W + b (I, K, n), and h = x W^T (I, K, m) on the hidden route (else None)."""
    if gram:
        gram_matrix = torch.bmm(W.transpose(1, 2), W)  # (I, n, n), symmetric
        if out is None and _feature_major(x):
            # y^T = G x^T + b: (n, n) @ (n, K) products run several times faster on CPU than
            # (K, n) @ (n, n) for small n. y is a feature-major view, and tensors made from it keep
            # that layout.
            return torch.baddbmm(b[:, :, None], gram_matrix, x.transpose(1, 2)).transpose(1, 2), None
        return torch.baddbmm(b[:, None, :], x, gram_matrix, out=out), None
    h = torch.bmm(x, W.transpose(1, 2))  # (I, K, m)
    return torch.baddbmm(b[:, None, :], h, W, out=out), h


def _weight_grad(W, x, a, h, scale):
    """dL/dW = W (X^T G + G^T X) for G = a * scale (column scaling), on either route."""
    if h is None:
        xg = torch.bmm(x.transpose(1, 2), a).mul_(scale)  # (I, n, n) X^T G
        return torch.bmm(W, xg + xg.transpose(1, 2))
    # W X^T G = h^T G and W G^T X = (G W^T)^T X, with G W^T = a (W * scale)^T.
    q = torch.bmm(a, (W * scale).transpose(1, 2))  # (I, K, m)
    return torch.bmm(h.transpose(1, 2), a).mul_(scale).add_(torch.bmm(q.transpose(1, 2), x))


def loss_and_grads(W, b, x, importance, n_implicit_zero: int = 0, uniform_importance: bool = False):
    """Per-instance loss (I,) and hand-derived gradients dW (I, m, n), db (I, n), for any x.

    With y = x W^T W + b, r = ReLU(y) - x and G = 2 I r [y > 0] / B (one row per sample):
    dL/db = sum_k G_k and dL/dW = W (X^T G + G^T X). Equals autograd on
    ``loss_per_instance`` (see tests/test_model.py). ``uniform_importance`` skips the weighting
    when every importance is 1 (the same numbers: multiplying by 1 is exact).
    """
    batch = x.shape[1] + n_implicit_zero
    y, h = _preactivation(W, b, x, uses_gram(W.shape[1], x.shape[2]))  # (I, K, n)
    r = torch.relu(y).sub_(x)  # (I, K, n) residual
    weighted = r if uniform_importance else r * importance  # (I, K, n)
    loss = (weighted * r).sum((1, 2))  # (I,)
    g = weighted.mul_(torch.gt(y, 0, out=y))  # (I, K, n) dL/dy up to 2 / B; y becomes a float mask
    relu_b = torch.relu(b)  # (I, n)
    zero_grad = relu_b if uniform_importance else relu_b * importance  # (I, n)
    loss = loss.add_((zero_grad * relu_b).sum(-1), alpha=n_implicit_zero).div_(batch)
    db = g.sum(1).mul_(2.0 / batch).add_(zero_grad, alpha=2.0 * n_implicit_zero / batch)  # (I, n)
    dW = _weight_grad(W, x, g, h, torch.full_like(importance, 2.0 / batch))
    return loss, dW, db


def sparse_loss_and_grads(W, b, batch, importance, uniform_importance: bool = False, out=None):
    """``loss_and_grads`` for a ``SparseBatch``, with fewer passes over the batch.

    With a = ReLU(y), the residual r = a - x and dL/dy, which is proportional to r [y > 0],
    both equal a wherever x = 0. So a is computed densely once and corrected only at the
    batch's nonzero entries. ``uniform_importance`` skips the weighting when every importance
    is 1; ``out``, a flat float tensor of at least I K n + 1 elements, receives y instead of a
    new allocation. A batch without an entry list (``batch.index is None``) goes the generic way.
    """
    x, index, value = batch.x, batch.index, batch.value  # (I, K, n), (I, E), (I, E)
    if index is None:
        return loss_and_grads(W, b, x, importance, batch.n_implicit_zero, uniform_importance)
    I, K, n = x.shape
    total = K + batch.n_implicit_zero
    flat = torch.empty(batch.scratch + 1, device=x.device) if out is None else out[: batch.scratch + 1]
    flat[-1] = 0.0  # the scratch element that padding entries point at (value 0 there)
    y, h = _preactivation(W, b, x, uses_gram(W.shape[1], n), flat[:-1].view(I, K, n))
    a = y.clamp_min_(0)  # (I, K, n) ReLU(y), in place
    where = index.view(-1)  # (I E,) increasing within each instance's row
    a_at = flat.take(where).view_as(value)  # (I, E) ReLU(y) at the nonzero entries of x
    r_at = a_at - value  # (I, E) residual there
    fix = (r_at * r_at).sub_(a_at * a_at)  # (I, E) r^2 - a^2 (0 at padding)
    if not uniform_importance:
        fix.mul_(importance[index % n])
    sq = torch.linalg.vecdot(a, a, dim=1)  # (I, n) column sums of a^2
    # a becomes r [y > 0], i.e. dL/dy up to 2 I / B (padding writes 0 at the scratch position).
    flat.scatter_(0, where, r_at.mul_(torch.gt(a_at, 0, out=a_at)).view(-1))
    relu_b = torch.relu(b)  # (I, n)
    zero_grad = relu_b * importance  # (I, n)
    data = sq.sum(-1) if uniform_importance else sq @ importance
    loss = data.add_(fix.sum(1)).add_((zero_grad * relu_b).sum(-1), alpha=batch.n_implicit_zero).div_(total)
    scale = importance * (2.0 / total)  # (n,) dL/dy = a * scale
    db = a.sum(1).mul_(scale).add_(zero_grad, alpha=2.0 * batch.n_implicit_zero / total)  # (I, n)
    return loss, _weight_grad(W, x, a, h, scale), db


class ToyModel(nn.Module):
    """Autograd-friendly wrapper for notebooks: ``model(x)`` reconstructs x.

    Holds I models: W (I, m, n), b (I, n). ``x`` may be (I, B, n), or (B, n) for a single model
    (I = 1), returned in the same shape. ``loss(x)`` is the trainer's per-instance loss.
    """

    def __init__(self, n: int, m: int, seeds: Sequence[int] = (0,), importance=None):
        super().__init__()
        for name, value in (("n", n), ("m", m)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} = {value!r}; must be an integer >= 1")
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds is empty; give one seed per model (at least one model)")
        for s in seeds:
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or not 0 <= s <= MAX_SEED:
                raise ValueError(f"seed {s!r}; each seed must be an integer in [0, {MAX_SEED}]")
        W, b = init_weights(seeds, m, n)
        self.W = nn.Parameter(W)  # (I, m, n)
        self.b = nn.Parameter(b)  # (I, n)
        imp = torch.ones(n) if importance is None else torch.as_tensor(importance, dtype=torch.float32)
        if imp.shape != (n,):
            raise ValueError(f"importance has shape {tuple(imp.shape)}; expected ({n},), one per feature")
        self.register_buffer("importance", imp)  # (n,)

    @classmethod
    def from_arrays(cls, W, b, importance=None) -> ToyModel:
        """Load trained weights: W (I, m, n) or (m, n), b (I, n) or (n,) for a single model."""
        W = torch.as_tensor(W, dtype=torch.float32)
        b = torch.as_tensor(b, dtype=torch.float32)
        if W.ndim == 2:
            W = W[None]
            b = b[None] if b.ndim == 1 else b
        if W.ndim != 3:
            raise ValueError(f"W has shape {tuple(W.shape)}; expected (instances, m, n) or (m, n)")
        I, m, n = W.shape
        if I == 0:
            raise ValueError("W holds no models (shape (0, m, n)); select at least one")
        if b.shape != (I, n):
            raise ValueError(f"b has shape {tuple(b.shape)}; expected ({I}, {n}) to match W {tuple(W.shape)}")
        model = cls(n=n, m=m, seeds=range(I), importance=importance)
        with torch.no_grad():
            model.W.copy_(W)
            model.b.copy_(b)
        return model

    def __repr__(self) -> str:
        I, m, n = self.W.shape
        return f"ToyModel(I={I}, m={m}, n={n})"

    def _batched(self, x: torch.Tensor):
        x = torch.as_tensor(x, dtype=self.W.dtype, device=self.W.device)
        I, _, n = self.W.shape
        if x.ndim == 2 and I == 1:
            x = x[None]
        elif x.ndim == 2 or x.ndim != 3 or x.shape[0] != I:
            raise ValueError(
                f"x has shape {tuple(x.shape)}; expected ({I}, batch, {n})" + (" or (batch, n)" if I == 1 else "")
            )
        if x.shape[2] != n:
            raise ValueError(f"x has {x.shape[2]} features; this model has n = {n}")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = reconstruct(self.W, self.b, self._batched(x))
        return out[0] if x.ndim == 2 else out

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Per-instance loss (I,), as the trainer computes it; sum it to train all at once."""
        return loss_per_instance(self.W, self.b, self._batched(x), self.importance)
