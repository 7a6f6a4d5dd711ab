"""The model's plain definition: a dense batch, autograd and torch.optim.AdamW.

This is what ``tms.core.train`` computes faster (sparse batches, hand-derived gradients, a
fused optimiser step). It is the source of truth the gradient, distribution and geometry tests
compare against, and the reference loop of ``benchmarks.throughput``. Read it top to bottom.
"""

from __future__ import annotations

import math

import torch

from tms.core.structure import FeatureStructure


def sample(
    structure: FeatureStructure, p: torch.Tensor, batch: int, generator: torch.Generator, values: str = "uniform"
) -> torch.Tensor:
    """A dense batch (I, batch, n) for unit probabilities p: (I,) per model, or (I, units).

    One uniform per unit decides whether it is on (u < p); an on anticorrelated set turns on the
    one feature whose slot u / p * size falls in; each present feature gets a U[0, 1) value, or
    with ``values="normal"`` 0.5 + 0.2 N(0, 1) clipped to [0, 1].
    """
    unit = torch.as_tensor(structure.unit_of_feature)  # (n,) which unit a feature belongs to
    slot = torch.as_tensor(structure.slot)  # (n,) its place inside an anticorrelated set
    share = torch.as_tensor(structure.unit_share)  # (units,) 1, or the set size if anticorrelated
    p = torch.as_tensor(p).float()
    p = p[:, None, None] if p.dim() == 1 else p[:, None, :]  # (I, 1, 1 or units)
    I = p.shape[0]
    u = torch.rand(I, batch, structure.n_units, generator=generator)  # (I, batch, units)
    choice = (u / p * share).floor().long()  # which feature of an on anticorrelated set
    present = (u < p)[..., unit] & ((share[unit] == 1) | (choice[..., unit] == slot))  # (I, batch, n)
    if values == "normal":
        value = (0.5 + 0.2 * torch.randn(I, batch, structure.n, generator=generator)).clamp(0.0, 1.0)
    else:
        value = torch.rand(I, batch, structure.n, generator=generator)
    return value * present


def loss(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
    """Importance-weighted squared error of x' = ReLU(W^T W x + b), mean over the batch: (I,)."""
    h = torch.einsum("imn,ibn->ibm", W, x)  # (I, batch, m)
    out = torch.relu(torch.einsum("imn,ibm->ibn", W, h) + b[:, None, :])  # (I, batch, n)
    return (importance * (x - out) ** 2).sum(-1).mean(-1)


def train_reference(
    structure: FeatureStructure,
    m: int,
    p: float,
    instances: int,
    steps: int,
    seed: int = 0,
    batch: int = 1024,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
) -> torch.Tensor:
    """Train ``instances`` models with a constant learning rate; returns W (I, m, n).

    Init: Xavier-normal per (m, n) model, b = 0. (xavier_normal_ on the whole (I, m, n) tensor
    would take its fan from m n and I n, shrinking the init as the model count grows.)
    """
    g = torch.Generator().manual_seed(seed)
    n = structure.n
    W = torch.nn.Parameter(torch.randn(instances, m, n, generator=g) * math.sqrt(2.0 / (m + n)))
    b = torch.nn.Parameter(torch.zeros(instances, n))
    importance = torch.ones(n)
    probability = torch.full((instances,), p)
    opt = torch.optim.AdamW([W, b], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        x = sample(structure, probability, batch, g)
        opt.zero_grad()
        loss(W, b, x, importance).sum().backward()  # models are independent: summing keeps them so
        opt.step()
    return W.detach()
