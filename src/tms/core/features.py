"""Sampling batches of synthetic sparse features (the structure and its convention: ``tms.core.structure``).

Two samplers give batches with the same distribution:

- ``sample_dense`` is the dense draw: one uniform per unit and one value per feature, for
  all B samples.
- ``sample_sparse`` draws only the samples that are not all-zero. A sample is all-zero with
  probability S^U, and its loss and gradient are known in closed form, so the batch holds the
  K_i not-all-zero samples of each instance (padded with zero rows to K = max_i K_i) and
  reports the B - K all-zero samples it left out. Two exact ways to draw them:

  * *patterns*, when the structure has at most ``MAX_PATTERNS`` presence patterns (which units
    are on, and which feature of each active anticorrelated set): the count K_i is
    Binomial(B, 1 - S^U), then one uniform per sample picks its pattern from the conditional
    table and n more give its values. Few, large tensor operations: best for small n.
  * *geometric skipping*, otherwise: per instance, the B x U unit slots of a batch form a
    Bernoulli(p) sequence, so the gaps between active slots are Geometric(p) and one uniform
    per active unit finds them all. Active units then get their features' values (and
    anticorrelated sets their one feature). Random-number work is about 2 B U p numbers per
    instance instead of B (U + n), and the batch lists its nonzero entries, so the trainer
    touches the dense batch only where it must. When samples are dense anyway (more than
    ``DENSE_ABOVE`` active units expected per sample), the plain dense draw is cheaper and is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tms.core.config import feature_probabilities
from tms.core.seeds import data_seed
from tms.core.structure import FeatureStructure

# Structures with at most this many presence patterns use the pattern table.
MAX_PATTERNS = 64
# Pattern-table batches of at most this many features come feature-major: x is a transposed
# view of (I, n, K) memory, for which the trainer's Gram-route products run faster on CPU.
# Measured per training step: 1.3-2x at n = 4-6, 1.07-1.15x at n = 9-12, 0.92x at n = 20.
FEATURE_MAJOR_MAX_N = 12
# Above this many expected active units per sample, sample_sparse draws dense batches instead
# (measured crossover for 20 independent features: between 1-S = 0.3 and 0.5).
DENSE_ABOVE = 8.0
# A reused batch buffer is re-zeroed in one pass over the part the last batch used unless that
# part holds more than this many elements per entry written; then only the entries are zeroed.
# Measured on CPU: a pass costs about 0.05 ns per element, zeroing entries 1.5-4.5 ns each.
ZERO_DENSE_RATIO = 32
# Gaps drawn per instance and batch: the expected number of active slots plus this many
# standard deviations (and a few more). Falling short is handled exactly, by drawing more.
GAP_MARGIN_SD = 6.0


@dataclass
class SparseBatch:
    """The not-all-zero samples of a batch, plus where its nonzero entries are.

    ``x`` (I, K, n) holds instance i's K_i not-all-zero samples in rows 0..K_i-1 and zero rows
    after them; ``n_implicit_zero`` = B - K further all-zero samples were left out. Batches from
    the pattern table with at most FEATURE_MAJOR_MAX_N features are *feature-major*: x is a
    transposed view of (I, n, K) memory, the layout the trainer's small-n products prefer.

    Batches from geometric skipping also list their entries: ``index`` (I, E) holds flat
    positions in ``x`` and ``value`` (I, E) the values there. Rows are padded to a common E
    with entries at the *scratch* position I K n (one past the end of ``x``) with value 0, so
    writing or reading every entry needs no mask: back any flat view of ``x`` with one extra
    zero element. Batches from the pattern table have no entry list (None).
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
    """Draws batches for many instances at once, each with its own feature probability.

    All randomness comes from ``generator``, which lives on the same device as
    ``feature_probability`` (I,).
    """

    def __init__(self, structure: FeatureStructure, feature_probability: torch.Tensor, generator: torch.Generator):
        self.structure = structure
        self.generator = generator
        self.device = device = feature_probability.device
        p64 = feature_probability.to(torch.float64)  # (I,)
        self.p = p64.to(torch.float32)
        self.log_q = torch.log1p(-p64)[:, None]  # (I, 1) log S; -inf when S = 0 (every gap is 1)
        self.expected_active = p64  # per unit slot
        self.n_units = U = structure.n_units
        # What an active unit switches on: features first[u] + j for j < emits[u]; an
        # anticorrelated set switches on one feature, first[u] + a uniform choice among share[u].
        share = structure.unit_share
        emits = np.where(share > 1, 1, structure.unit_size)
        self.width = width = int(emits.max())
        self.identity_units = bool(np.array_equal(structure.unit_first_feature, np.arange(structure.n)))
        self.unit_first = torch.as_tensor(structure.unit_first_feature, device=device, dtype=torch.float64)
        self.unit_share = torch.as_tensor(share, device=device, dtype=torch.float64)  # (U,)
        self.any_choice = bool((share > 1).any())
        self.ragged = bool((emits != width).any())
        emitting = np.arange(width) < emits[:, None]  # (U, width)
        self.unit_emits = torch.as_tensor(emitting, device=device, dtype=torch.float64)  # (U, width) 0/1
        # Dense reference path: feature f is on iff its unit's uniform lies in [lo_f, hi_f) c [0, p).
        slot = torch.as_tensor(structure.slot, device=device, dtype=torch.float64)
        share_f = torch.as_tensor(structure.share, device=device, dtype=torch.float64)
        self.lo = (p64[:, None] * slot / share_f).to(torch.float32)[:, None, :]  # (I, 1, n)
        self.hi = (p64[:, None] * (slot + 1) / share_f).to(torch.float32)[:, None, :]  # (I, 1, n)
        self.unit_of_feature = torch.as_tensor(structure.unit_of_feature, device=device)
        # Pattern table, for structures with few presence patterns.
        self.table = None
        patterns = structure.patterns(MAX_PATTERNS)
        if patterns is not None:
            mask, options = patterns
            self.p_nonzero = 1.0 - torch.exp(self.log_q[:, 0] * U)  # (I,) P(sample not all-zero)
            on = torch.as_tensor(options >= 1, device=device)  # (P, U)
            per_unit = torch.where(on, p64[:, None, None] / self.unit_share, 1.0 - p64[:, None, None])
            self.sparse_cdf = _cdf(per_unit.prod(-1)[:, 1:])  # (I, P - 1) pattern given not all-zero
            # Pattern rows without the all-off one; an extra all-zero row at the end marks padding.
            self.table = torch.as_tensor(np.concatenate([mask[1:], np.zeros_like(mask[:1])]), device=device)
            self.table_t = self.table.T.contiguous()  # (n, P) for feature-major batches
        self.feature_major = self.table is not None and structure.n <= FEATURE_MAJOR_MAX_N
        self.dense_is_cheaper = self.table is None and bool(p64.max() * U > DENSE_ABOVE)
        self._buffer = None  # reused flat batch (sample_sparse(reuse=True)), zero but where written
        self._written = None  # flat positions the last reused batch wrote, all below...
        self._used = 0  # ...this many leading elements of the buffer

    @classmethod
    def from_config(cls, cfg, seed: int | None = None, device=None) -> FeatureSampler:
        """The sampler a run of ``cfg`` (a RunConfig) draws from: one instance per model, each at
        its feature probability; batches from ``seed`` (default: the run's own data seed)."""
        values = feature_probabilities(cfg.data)
        device = device or cfg.train.device
        p = torch.tensor(values, dtype=torch.float64, device=device).repeat_interleave(cfg.n_instances)
        seed = data_seed(cfg.seed, values) if seed is None else seed
        return cls(FeatureStructure.from_sets(cfg.data.sets), p, torch.Generator(device=device).manual_seed(seed))

    @property
    def n_instances(self) -> int:
        return self.p.shape[0]

    @property
    def path(self) -> str:
        """How ``sample_sparse`` draws: "patterns", "geometric" or "dense" (see the module doc)."""
        if self.table is not None:
            return "patterns"
        return "dense" if self.dense_is_cheaper else "geometric"

    def _rand(self, *shape, dtype=torch.float32) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator, device=self.device, dtype=dtype)

    def sample_dense(self, batch: int) -> torch.Tensor:
        """A full batch, (I, batch, n): one uniform per unit, one value per feature."""
        u = self._rand(self.n_instances, batch, self.n_units)  # (I, B, U)
        if not self.identity_units:
            u = u[..., self.unit_of_feature]  # (I, B, n)
        # Masks as float 0/1 (comparisons into float outputs): bool masks are several times
        # slower on CPU. lo is 0 (and u >= 0) unless a set is anticorrelated.
        low = torch.ge(u, self.lo, out=torch.empty_like(u)) if self.any_choice else None
        on = torch.lt(u, self.hi, out=u)  # (I, B, n), u is not needed after this
        if low is not None:
            on.mul_(low)
        return self._rand(*u.shape).mul_(on)

    def sample_sparse(self, batch: int, reuse: bool = False) -> SparseBatch:
        """The not-all-zero samples of a batch (see the module doc).

        With ``reuse=True`` the batch is written into a buffer that the next call overwrites
        (the trainer does this to avoid allocating and zeroing a new batch every step).
        """
        if self.table is not None:
            return self._from_patterns(batch)
        if self.dense_is_cheaper:
            return SparseBatch(self.sample_dense(batch), 0)
        return self._from_geometric_skips(batch, reuse)

    def _from_patterns(self, batch: int) -> SparseBatch:
        """K_i ~ Binomial(B, 1 - S^U) rows per instance; one uniform picks each row's pattern."""
        I, n = self.n_instances, self.structure.n
        full = torch.full((I,), float(batch), dtype=torch.float64, device=self.device)
        counts = torch.binomial(full, self.p_nonzero, generator=self.generator)  # (I,) whole numbers
        K = int(counts.max()) if I else 0
        if self.feature_major:  # values and pattern uniform along the sample axis
            r = self._rand(I, n + 1, K)  # (I, n + 1, K)
            idx = self._pattern_index(r[:, n], counts)  # (I, K)
            # index_select along dim 1: 1.1x faster per training step than table_t[:, idx] here
            # (along dim 0, for sample-major batches below, it measured 0.8-0.9x).
            present = self.table_t.index_select(1, idx.view(-1)).view(n, I, K)
            xt = r[:, :n].mul_(present.transpose(0, 1))  # (I, n, K)
            return SparseBatch(xt.transpose(1, 2), batch - K)  # feature-major (I, K, n) view
        r = self._rand(I, K, n + 1)  # (I, K, n + 1)
        idx = self._pattern_index(r[..., n].contiguous(), counts)  # (I, K)
        return SparseBatch(self.table[idx].mul_(r[..., :n]), batch - K)

    def _pattern_index(self, pick: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """(I, K) table row of each sample: the pattern its uniform ``pick`` selects, or the last,
        all-zero row for rows K_i.. of instance i (padding).

        The pattern is the number of CDF entries <= pick (what searchsorted(right=True) returns),
        counted one entry at a time in float, several times faster on CPU for at most
        MAX_PATTERNS entries; the last entry is 1 > pick and never counts.
        """
        idx = torch.zeros_like(pick)
        hit = torch.empty_like(pick)
        for j in range(self.sparse_cdf.shape[1] - 1):
            idx.add_(torch.le(self.sparse_cdf[:, j : j + 1], pick, out=hit))
        pad = self.table.shape[0] - 1
        keep = torch.lt(torch.arange(pick.shape[1], device=self.device), counts[:, None], out=hit)  # (I, K) 0/1
        return idx.sub_(pad).mul_(keep).add_(pad).to(torch.long)

    def _active_slots(self, slots: int) -> torch.Tensor:
        """(I, T) float64 positions 0.. of the active slots among ``slots`` per instance, increasing.

        Each row holds every active slot of its instance, then positions >= ``slots`` (padding).
        Gaps are Geometric(p): floor(log(1 - u) / log S) + 1 for one uniform u each. Positions are
        whole numbers held in float64 (exact far beyond any batch), which saves conversions.
        """
        mean = slots * self.expected_active
        margin = GAP_MARGIN_SD * torch.sqrt(mean * (1 - self.expected_active)) + 8
        count = int(torch.ceil(mean + margin).max())
        pos = self._gaps(count).cumsum_(1).sub_(1)  # (I, T)
        while bool((pos[:, -1] < slots).any()):  # rare: more active slots than drawn gaps
            more = self._gaps(max(count // 4, 16)).cumsum_(1).add_(pos[:, -1:])
            pos = torch.cat([pos, more], 1)
        return pos

    def _gaps(self, count: int) -> torch.Tensor:
        u = self._rand(self.n_instances, count, dtype=torch.float64)  # u in [0, 1): 1 - u in (0, 1]
        return torch.log1p(u.neg_()).div_(self.log_q).floor_().add_(1)

    def _from_geometric_skips(self, batch: int, reuse: bool) -> SparseBatch:
        I, U, n, width = self.n_instances, self.n_units, self.structure.n, self.width
        pos = self._active_slots(batch * U)  # (I, T)
        # Masks and counters stay float64 here: on CPU, bool masks and integer cumsums are
        # several times slower than the same float work.
        valid = torch.lt(pos, batch * U, out=torch.empty_like(pos))  # (I, T) 0/1, a prefix of each row
        sample = torch.div(pos, U).floor_()  # (I, T)
        unit = torch.sub(pos, sample, alpha=U)  # (I, T) whole numbers in [0, U)
        # Rows: each instance's not-all-zero samples, renumbered 0..K_i - 1 in order.
        new = torch.empty_like(pos)
        new[:, 0] = 1.0
        torch.ne(sample[:, 1:], sample[:, :-1], out=new[:, 1:])
        row = new.cumsum_(1).sub_(1)  # (I, T)
        n_valid = valid.sum(1, keepdim=True).to(torch.long)  # (I, 1)
        K = int(row.gather(1, (n_valid - 1).clamp_(min=0)).add_(1).mul_(n_valid > 0).max()) if I else 0
        scratch = I * K * n
        if K == 0:  # every sample of every instance is all-zero
            empty = torch.zeros((I, 0), device=self.device)
            return SparseBatch(torch.zeros((I, 0, n), device=self.device), batch, empty.long(), empty)
        if self.identity_units:
            feature = unit
        else:
            units = unit.to(torch.long)
            feature = self.unit_first[units]  # (I, T)
            if self.any_choice:  # anticorrelated sets: one of k features, uniformly
                share = self.unit_share[units]
                feature += self._rand(*unit.shape, dtype=torch.float64).mul_(share).floor_()
        rows = torch.arange(0, I * K, K, device=self.device, dtype=torch.float64)[:, None]  # (I, 1)
        index = row.add_(rows).mul_(n).add_(feature)  # (I, T) flat positions, in float64
        value = self._rand(I, index.shape[1], width)  # (I, T, width)
        if width > 1:  # each unit switches on up to `width` consecutive features
            index = index[..., None] + torch.arange(width, device=self.device, dtype=torch.float64)
        keep = valid[..., None]  # (I, T, 1) or (I, T, width), float64 0/1
        if self.ragged:
            keep = keep * self.unit_emits[unit.to(torch.long)]
        # Entries not kept point at the scratch position with value 0 (arithmetic masking:
        # torch.where and masked_fill are several times slower on CPU).
        index = index.view(I, -1, width).sub(scratch).mul_(keep).add_(scratch).to(torch.long).view(I, -1)
        value = value.mul_(keep.to(torch.float32)).view(I, -1)
        x = self._zero_buffer(scratch + 1, reuse)
        x.scatter_(0, index.view(-1), value.view(-1))  # positions increase along each row
        if reuse:
            self._written, self._used = index.view(-1), scratch + 1
        return SparseBatch(x[:scratch].view(I, K, n), batch - K, index, value)

    def _zero_buffer(self, size: int, reuse: bool) -> torch.Tensor:
        """A flat zero tensor of at least ``size`` elements (with reuse: the kept one, re-zeroed)."""
        if not reuse:
            return torch.zeros(size, device=self.device)
        if self._buffer is None or self._buffer.numel() < size:
            self._buffer = torch.zeros(size, device=self.device)
        elif self._written is not None:
            if ZERO_DENSE_RATIO * self._written.numel() > self._used:
                self._buffer[: self._used].zero_()
            else:
                self._buffer.index_fill_(0, self._written, 0.0)
        return self._buffer


def _cdf(prob: torch.Tensor) -> torch.Tensor:
    """Normalised cumulative sums (I, P) as float32, ending in exactly 1."""
    cdf = torch.cumsum(prob / prob.sum(-1, keepdim=True), -1)
    cdf[..., -1] = 1.0
    return cdf.to(torch.float32).contiguous()


def sparse_path(structure: FeatureStructure, feature_probability: float) -> str:
    """How ``sample_sparse`` draws batches of this structure: "patterns", "geometric" or "dense"."""
    p = torch.tensor([feature_probability], dtype=torch.float64)
    return FeatureSampler(structure, p, torch.Generator()).path
