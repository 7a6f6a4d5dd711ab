"""Batches of synthetic sparse features for many models, as torch tensors.

Model i's batch ``step`` is a pure function of its stream key and the step (``tms.core.streams``
defines it; ``tms.core.kernel`` draws it, all models in parallel). Two forms of one batch:

- ``sample_dense``: the full (I, batch, n) batch.
- ``sample_sparse``: only the samples that are not all-zero (their loss and gradient are known
  in closed form for the others): rows 0..K_i - 1 of instance i hold its K_i not-all-zero
  samples, zero rows pad to K = max K_i, and the batch reports the B - K all-zero samples left
  out. It also lists the nonzero entries, so the trainer touches the dense batch only where
  it must.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tms.core.config import VALUES
from tms.core.instances import instance_layout
from tms.core.streams import model_keys, slot_parameters
from tms.core.structure import FeatureStructure

# Entry lists are first allocated for the expected count plus this many standard deviations;
# a batch with more entries is drawn again into room for all of them (same numbers).
ENTRY_MARGIN_SD = 8.0


@dataclass
class SparseBatch:
    """The not-all-zero samples of a batch, plus where its nonzero entries are.

    ``x`` (I, K, n) holds instance i's K_i not-all-zero samples in rows 0..K_i-1 and zero rows
    after them; ``n_implicit_zero`` = B - K further all-zero samples were left out.

    ``index`` (I, E) holds the entries' flat positions in ``x`` and ``value`` (I, E) the values
    there, increasing along each row. Rows are padded to a common E with entries at the
    *scratch* position I K n (one past the end of ``x``) with value 0, so writing or reading
    every entry needs no mask: back any flat view of ``x`` with one extra zero element.
    """

    x: torch.Tensor
    n_implicit_zero: int
    index: torch.Tensor | None = None
    value: torch.Tensor | None = None

    @property
    def scratch(self) -> int:
        """The flat position that padding entries point at."""
        return self.x.numel()


class FeatureSampler:
    """Draws batch after batch for I models at once, each with its own stream key ``keys`` (I,)
    (``tms.core.streams.model_keys``) and unit rates ``rates``: (I,) feature probabilities that
    all of a model's units share, or (I, U) per unit (``FeatureStructure.unit_rates``).
    ``values`` is the value distribution ("uniform" or "normal", ``DataConfig.values``).

    ``step`` is the next batch's index; each call draws one batch and advances it, or draws
    the batch ``step=`` names. Tensors come on ``device``.
    """

    def __init__(self, structure: FeatureStructure, rates, keys, step: int = 0, device="cpu", values: str = "uniform"):
        self.structure = structure
        # float64 throughout: a list through torch would become float32 (0.3 -> 0.30000001).
        rates = rates.detach().cpu().double().numpy() if torch.is_tensor(rates) else np.asarray(rates, np.float64)
        rates = rates.reshape(-1, 1) if rates.ndim < 2 else rates
        self.rates = np.ascontiguousarray(np.broadcast_to(rates, (rates.shape[0], structure.n_units)))
        self.keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
        if self.keys.shape[0] != self.rates.shape[0]:
            raise ValueError(f"{self.keys.shape[0]} stream keys for {self.rates.shape[0]} models' rates")
        if values not in VALUES:
            raise ValueError(f"values {values!r}; allowed: {', '.join(VALUES)}")
        self.values = values
        self.slots = slot_parameters(self.rates)
        self.step = int(step)
        self.device = torch.device(device)
        self._first = structure.unit_first_feature
        self._size = structure.unit_size
        self._share = structure.unit_share
        # Expected entries per sample: an active unit switches on its set (or one feature).
        self._emits = np.where(self._share > 1, 1, self._size).astype(np.float64)  # (U,)
        self._scratch = None

    @classmethod
    def from_config(cls, cfg, device=None) -> FeatureSampler:
        """The batches a run of ``cfg`` (a RunConfig) trains on: one instance per model."""
        p, seeds = instance_layout(cfg)
        structure = FeatureStructure.from_sets(cfg.data.sets)
        rates = structure.unit_rates(p, cfg.data.rate_scale)
        return cls(structure, rates, model_keys(seeds), device=device or cfg.train.device, values=cfg.data.values)

    @property
    def n_instances(self) -> int:
        return self.rates.shape[0]

    def entries(self, batch: int, step: int | None = None):
        """Batch ``step`` (default: the next) as numpy entry lists: rows (I,) not-all-zero samples
        per model, count (I, 2) = (rows, entries E_i) per model, and model i's entries, in order:
        sample[i, :E_i] (index in [0, batch)), feature[i, :E_i] and value[i, :E_i]."""
        from tms.core import kernel  # numba loads on first use, not with tms

        kernel.ensure_fresh_cache()
        if step is None:
            step, self.step = self.step, self.step + 1
        I = self.n_instances
        mean = batch * float((self.rates @ self._emits).max(initial=0.0))  # the densest model's entries
        widest = float(self._emits.max(initial=1.0))
        cap = int(min(batch * self.structure.n, mean + ENTRY_MARGIN_SD * np.sqrt(mean * widest) + 64))
        count = np.zeros((I, 2), dtype=np.int64)
        U, n = self.structure.n_units, self.structure.n
        room = 9 * batch * U + 8 + 8 * batch + 8 * (batch + 1) + 12 * batch * n
        if self._scratch is None or self._scratch.shape != (I, room):
            self._scratch = np.empty((I, room), dtype=np.uint8)  # the kernel's per-model workspace
        while True:
            sample = np.empty((I, cap), dtype=np.int64)
            feature = np.empty((I, cap), dtype=np.int64)
            value = np.empty((I, cap), dtype=np.float32)
            kernel.sample_entries(
                self.keys, step, *self.slots, self._first, self._size, self._share, self.values == "normal", batch,
                self._scratch, sample, feature, value, count,
            )  # fmt: skip
            if I == 0 or count[:, 1].max() <= cap:
                return count[:, 0].copy(), count.copy(), sample, feature, value
            cap = int(count[:, 1].max())

    def sample_dense(self, batch: int, step: int | None = None) -> torch.Tensor:
        """The full batch, (I, batch, n)."""
        _, counts, sample, feature, value = self.entries(batch, step)
        return self._scatter(counts, sample, feature, value, batch, renumber=False)[0]

    def sample_sparse(self, batch: int, step: int | None = None) -> SparseBatch:
        """The not-all-zero samples of a batch (see the module doc)."""
        rows, counts, sample, feature, value = self.entries(batch, step)
        K = int(rows.max()) if self.n_instances else 0
        x, index, val = self._scatter(counts, sample, feature, value, K, renumber=True)
        return SparseBatch(x, batch - K, index, val)

    def _scatter(self, counts, sample, feature, value, width: int, renumber: bool):
        """x (I, width, n) with the entries written (at their samples' rows, or renumbered to
        the not-all-zero rows), and the padded flat (index, value) entry lists."""
        from tms.core import kernel

        I, n = self.n_instances, self.structure.n
        E = int(counts[:, 1].max()) if I else 0
        x = torch.zeros(I * width * n + 1)
        index = torch.empty((I, E), dtype=torch.int64)
        values = torch.empty((I, E), dtype=torch.float32)
        kernel.scatter_entries(
            counts, sample, feature, value, renumber, width, n, x.numpy(), index.numpy(), values.numpy()
        )
        x = x[:-1].view(I, width, n)
        return x.to(self.device), index.to(self.device), values.to(self.device)

    def __repr__(self) -> str:
        return f"FeatureSampler({self.n_instances} models, n={self.structure.n}, next step {self.step})"
