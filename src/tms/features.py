"""Synthetic sparse features: independent, correlated and anticorrelated sets.

Convention (the paper's), with sparsity S and p = 1 - S. A *unit* is one activation draw:
each independent feature is a unit, and each correlated or anticorrelated set is one unit.
Every unit is active with probability p, independently of all other units.

- independent:    feature i is nonzero iff its unit is active   -> marginal rate p.
- correlated:     all k features of the set are nonzero iff the set's unit is active
                  -> marginal rate p, and the set is all-or-none.
- anticorrelated: if the set's unit is active, exactly one of its k features, chosen
                  uniformly, is nonzero; otherwise none is -> marginal rate p / k, and
                  two features of a set are never nonzero together.

Nonzero values are U[0, 1), drawn independently of the presence draws.

The other common convention gives each anticorrelated feature its own rate p (the set is
active with probability k p). We do not use it: here every set, of any kind, is active with
the same probability p, so sets of different kinds are equally frequent.

How a batch is drawn. When the structure has few presence *patterns* (which units are on,
and which feature of each active anticorrelated set; at most ``MAX_PATTERNS``), one uniform per
sample picks a pattern by inverse CDF and n more give the values. Otherwise each unit gets its
own uniform. Both give the same distribution; the pattern table just draws fewer numbers.

Two samplers give batches with the same distribution:

- ``sample_dense`` draws all B samples.
- ``sample_sparse`` uses that a sample is all-zero with probability S**U. It draws the number
  of not-all-zero samples K_i ~ Binomial(B, 1 - S**U) per instance and only draws those K_i
  samples, conditioned on not being all-zero (first active unit J from a truncated geometric
  law, units before J inactive, units after J free). It returns them padded with zero rows to
  K = max_i K_i, plus the number of all-zero samples that were *not* drawn (B - K), whose loss
  and gradient the trainer adds in closed form.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tms.config import FeatureSet

MAX_PATTERNS = 4096


@dataclass(frozen=True)
class FeatureStructure:
    """Feature layout derived from an ordered list of feature sets."""

    sets: tuple
    n: int  # number of features
    n_units: int  # number of independent activation draws per sample
    set_id: np.ndarray  # (n,) set index per feature, -1 for independent features
    unit_of_feature: np.ndarray  # (n,) unit that switches the feature on
    slot: np.ndarray  # (n,) position inside an anticorrelated set, else 0
    share: np.ndarray  # (n,) k for anticorrelated features, else 1

    @classmethod
    def from_sets(cls, sets: Sequence[FeatureSet]) -> FeatureStructure:
        set_id, unit, slot, share = [], [], [], []
        n_sets = n_units = 0
        for s in sets:
            for _ in range(s.count):
                if s.kind == "independent":
                    for _ in range(s.size):
                        set_id.append(-1)
                        unit.append(n_units)
                        slot.append(0)
                        share.append(1)
                        n_units += 1
                    continue
                anti = s.kind == "anticorrelated"
                for j in range(s.size):
                    set_id.append(n_sets)
                    unit.append(n_units)
                    slot.append(j if anti else 0)
                    share.append(s.size if anti else 1)
                n_sets += 1
                n_units += 1
        return cls(
            sets=tuple(sets),
            n=len(set_id),
            n_units=n_units,
            set_id=np.asarray(set_id, dtype=np.int64),
            unit_of_feature=np.asarray(unit, dtype=np.int64),
            slot=np.asarray(slot, dtype=np.int64),
            share=np.asarray(share, dtype=np.int64),
        )

    def patterns(self):
        """All presence patterns as (mask (P, n) float, unit options (P, U) int), or None if > MAX_PATTERNS.

        Option 0 means the unit is off; option j >= 1 means it is on, and for an anticorrelated
        set that its j-th feature is the one present. Row 0 is the all-off pattern.
        """
        options_per_unit = self.unit_share
        if np.prod(options_per_unit + 1, dtype=np.float64) > MAX_PATTERNS:
            return None
        options = np.array(list(itertools.product(*[range(k + 1) for k in options_per_unit])), dtype=np.int64)
        chosen = options[:, self.unit_of_feature]  # (P, n)
        mask = (chosen >= 1) & ((self.share == 1) | (chosen == self.slot + 1))
        return mask.astype(np.float32), options

    @property
    def unit_share(self) -> np.ndarray:
        """(U,) features an active unit chooses among: k for anticorrelated sets, else 1."""
        share = np.ones(self.n_units, dtype=np.int64)
        np.maximum.at(share, self.unit_of_feature, self.share)
        return share

    @property
    def set_kinds(self) -> list:
        """Kind of each set, indexed by set id."""
        return [s.kind for s in self.sets if s.kind != "independent" for _ in range(s.count)]


class FeatureSampler:
    """Draws batches for many instances at once, each with its own feature probability.

    All randomness comes from ``generator``, which lives on the same device as
    ``feature_probability`` (I,).
    """

    def __init__(self, structure: FeatureStructure, feature_probability: torch.Tensor, generator: torch.Generator):
        self.structure = structure
        self.generator = generator
        self.device = device = feature_probability.device
        p64 = feature_probability.to(torch.float64)[:, None]  # (I, 1)
        self.p = feature_probability.to(torch.float32)  # (I,)
        q = 1.0 - p64  # sparsity S, (I, 1)
        U = structure.n_units
        self.p_nonzero = (1.0 - q**U).squeeze(1)  # (I,) P(sample is not all-zero), float64
        table = structure.patterns()
        if table is not None:
            mask, options = table
            share = torch.as_tensor(structure.unit_share, device=device)  # (U,)
            on = torch.as_tensor(options >= 1, device=device)  # (P, U)
            per_unit = torch.where(on, p64[:, None, :] / share, q[:, None, :])
            prob = per_unit.prod(-1)  # (I, P) probability of each pattern
            self.dense_cdf = _cdf(prob)  # (I, P)
            self.sparse_cdf = _cdf(prob[:, 1:])  # (I, P-1) given not all-zero
            # Pattern rows; one extra all-zero row at the end marks padding.
            self.table = torch.as_tensor(np.concatenate([mask, np.zeros_like(mask[:1])]), device=device)
        else:
            self.table = None
            slot = torch.as_tensor(structure.slot, device=device, dtype=torch.float64)
            share_f = torch.as_tensor(structure.share, device=device, dtype=torch.float64)
            one_to_one = np.array_equal(structure.unit_of_feature, np.arange(structure.n))
            self.unit_of_feature = None if one_to_one else torch.as_tensor(structure.unit_of_feature, device=device)
            # Feature f is on iff its unit's uniform u lies in [lo_f, hi_f): a slice of [0, p).
            self.lo = (p64 * slot / share_f).to(torch.float32)[:, None, :]  # (I, 1, n)
            self.hi = (p64 * (slot + 1) / share_f).to(torch.float32)[:, None, :]  # (I, 1, n)
            self.lo_is_zero = not bool(slot.any())  # no anticorrelated set: skip the lower bound
            # First active unit, given that some unit is active: J = floor(log(1 - v (1 - S^U)) / log S).
            self.log_q = torch.log(q)[:, None, :]  # (I, 1, 1), -inf when S = 0

    @property
    def n_instances(self) -> int:
        return self.p.shape[0]

    def _rand(self, *shape) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator, device=self.device)

    def _from_patterns(self, cdf: torch.Tensor, offset: int, K: int, counts=None) -> torch.Tensor:
        """(I, K, n): one uniform picks each row's pattern, n more give its values."""
        n = self.structure.n
        r = self._rand(self.n_instances, K, n + 1)  # (I, K, n + 1)
        idx = torch.searchsorted(cdf, r[..., n].contiguous(), right=True)  # (I, K)
        idx = idx.clamp_(max=cdf.shape[-1] - 1).add_(offset)
        if counts is not None:  # padding rows beyond each instance's count are all-zero
            rows = torch.arange(K, device=self.device)
            idx.masked_fill_(rows >= counts[:, None], self.table.shape[0] - 1)
        # Advanced indexing: F.embedding/index_select take ~8x longer on tables this small.
        return self.table[idx].mul_(r[..., :n])

    def _from_units(self, u: torch.Tensor) -> torch.Tensor:
        """Unit uniforms (I, B, U) -> features (I, B, n) with fresh U[0,1) values."""
        g = u if self.unit_of_feature is None else u[..., self.unit_of_feature]  # (I, B, n)
        on = g < self.hi if self.lo_is_zero else (g >= self.lo) & (g < self.hi)
        return self._rand(*g.shape).mul_(on)

    def sample_dense(self, batch: int) -> torch.Tensor:
        """A full batch, (I, batch, n)."""
        if self.table is not None:
            return self._from_patterns(self.dense_cdf, 0, batch)
        return self._from_units(self._rand(self.n_instances, batch, self.structure.n_units))

    def sample_sparse(self, batch: int):
        """The not-all-zero samples of a batch: (x (I, K, n), n_implicit_zero (int)).

        Rows of instance i beyond its own count K_i are zero rows, i.e. all-zero samples
        drawn explicitly. The batch has B - K further all-zero samples that are not drawn.
        """
        I, U = self.n_instances, self.structure.n_units
        full = torch.full((I,), float(batch), dtype=torch.float64, device=self.device)
        counts = torch.binomial(full, self.p_nonzero, generator=self.generator).to(torch.long)  # (I,)
        K = int(counts.max())
        if self.table is not None:
            return self._from_patterns(self.sparse_cdf, 1, K, counts), batch - K
        u = self._rand(I, K, U)  # (I, K, U)
        v = self._rand(I, K, 1).to(torch.float64)  # (I, K, 1)
        w = v.mul_(self.p_nonzero[:, None, None])  # uniform on [0, 1 - S^U)
        first = torch.log1p(w.neg_()).div_(self.log_q).floor_().clamp_(0, U - 1).long()  # (I, K, 1) unit J
        # Unit J is on (its uniform scaled into [0, p)); units before J are off (u := 1 >= p).
        u.scatter_(-1, first, u.gather(-1, first).mul_(self.p[:, None, None]))
        rows = torch.arange(K, device=self.device)[None, :, None]
        first.masked_fill_(rows >= counts[:, None, None], U)  # padding rows: every unit off
        u.masked_fill_(torch.arange(U, device=self.device) < first, 1.0)
        return self._from_units(u), batch - K


def _cdf(prob: torch.Tensor) -> torch.Tensor:
    """Normalised cumulative sums (I, P) as float32, ending in exactly 1."""
    cdf = torch.cumsum(prob / prob.sum(-1, keepdim=True), -1)
    cdf[..., -1] = 1.0
    return cdf.to(torch.float32).contiguous()
