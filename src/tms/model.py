"""The toy model x' = ReLU(W^T W x + b), batched over independent instances.

W has shape (instances, m, n) and b has shape (instances, n); instance i only ever sees
its own slice, so one batched program trains many separate models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def init_weights(seeds: Sequence[int], m: int, n: int, device="cpu"):
    """Xavier-normal W per single (m, n) model, seeded per instance; b = 0.

    The fan is (m, n), never the instance count, so a model's init does not depend on
    how many other models share the batch. Returns W (I, m, n), b (I, n).
    """
    std = math.sqrt(2.0 / (m + n))
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


def loss_and_grads(W, b, x, importance, n_implicit_zero: int = 0):
    """Per-instance loss (I,) and hand-derived gradients dW (I, m, n), db (I, n).

    With y = x (W^T W) + b, r = ReLU(y) - x and G = 2 I r [y > 0] / B (one row per sample):
    dL/db = sum_k G_k and dL/dW = W (X^T G + G^T X). Working with the n x n Gram matrix
    needs two batch-sized matrix products per step instead of four.
    Equals autograd on ``loss_per_instance`` (see tests/test_model.py).
    """
    batch = x.shape[1] + n_implicit_zero
    gram = torch.bmm(W.transpose(1, 2), W)  # (I, n, n)
    y = torch.baddbmm(b[:, None, :], x, gram)  # (I, K, n)
    r = torch.relu(y).sub_(x)  # (I, K, n) residual
    weighted = r * importance  # (I, K, n)
    loss = (weighted * r).sum((1, 2))  # (I,)
    g = weighted.mul_(y > 0).mul_(2.0 / batch)  # (I, K, n) dL/dy
    relu_b = torch.relu(b)  # (I, n)
    zero_grad = relu_b * importance  # (I, n)
    loss = loss.add_((zero_grad * relu_b).sum(-1), alpha=n_implicit_zero).div_(batch)
    db = g.sum(1).add_(zero_grad, alpha=2.0 * n_implicit_zero / batch)  # (I, n)
    xg = torch.bmm(x.transpose(1, 2), g)  # (I, n, n)
    dW = torch.bmm(W, xg + xg.transpose(1, 2))  # (I, m, n)
    return loss, dW, db


class ToyModel(nn.Module):
    """Autograd-friendly wrapper for notebooks: ``model(x)`` reconstructs x (I, B, n)."""

    def __init__(self, n: int, m: int, seeds: Sequence[int] = (0,), importance=None):
        super().__init__()
        W, b = init_weights(seeds, m, n)
        self.W = nn.Parameter(W)  # (I, m, n)
        self.b = nn.Parameter(b)  # (I, n)
        imp = torch.ones(n) if importance is None else torch.as_tensor(importance, dtype=torch.float32)
        self.register_buffer("importance", imp)  # (n,)

    @classmethod
    def from_arrays(cls, W, b, importance=None) -> ToyModel:
        W = torch.as_tensor(W, dtype=torch.float32)
        model = cls(n=W.shape[2], m=W.shape[1], seeds=range(W.shape[0]), importance=importance)
        with torch.no_grad():
            model.W.copy_(W)
            model.b.copy_(torch.as_tensor(b, dtype=torch.float32))
        return model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return reconstruct(self.W, self.b, x)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Per-instance loss (I,); sum it over instances to train all at once."""
        return loss_per_instance(self.W, self.b, x, self.importance)
