"""Feature structures: independent, correlated and anticorrelated sets, and their layout.

Convention (the paper's), with sparsity S and feature probability p = 1 - S. A *unit* is one
activation draw: each independent feature is a unit, and each correlated or anticorrelated
set is one unit. Every unit is active with probability p, independently of all other units.

- independent:    feature i is nonzero iff its unit is active   -> marginal rate p.
- correlated:     all k features of the set are nonzero iff the set's unit is active
                  -> marginal rate p, and the set is all-or-none.
- anticorrelated: if the set's unit is active, exactly one of its k features, chosen
                  uniformly, is nonzero; otherwise none is -> marginal rate p / k, and
                  two features of a set are never nonzero together.

A set may carry its own rate (``FeatureSet.rate_scale``, relative to p, or ``probability``,
absolute): its unit is then active with that probability instead of p, and the marginal rates
above scale with it. ``unit_rates`` gives every unit's probability for a run's p.

Values of present features are uniform on (0, 1] (float32) by default, or ARENA's clipped
normal (``DataConfig.values``), drawn independently of the presence draws; each model's draws
come from its own stream (``tms.core.streams``). A clipped-normal value can be exactly 0:
the feature was drawn active, but its sample looks as if it were off.

By default every set, of any kind, is active with the same probability p, so sets of different
kinds are equally frequent. The other common convention (ARENA's) gives each anticorrelated
feature its own rate p, so the set is active with probability k p: ``rate_scale=k`` on the
anticorrelated set (the ``arena_mixed`` preset).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tms.core.config import FeatureSet


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
    unit_scale: np.ndarray  # (U,) a unit's rate relative to p (FeatureSet.rate_scale)
    unit_fixed: np.ndarray  # (U,) a unit's fixed probability (FeatureSet.probability), NaN if relative

    @classmethod
    def from_sets(cls, sets: Sequence[FeatureSet]) -> FeatureStructure:
        set_id, unit, slot, share, scale, fixed = [], [], [], [], [], []
        n_sets = n_units = 0
        for s in sets:
            rate = (float(s.rate_scale), np.nan if s.probability is None else float(s.probability))
            for _ in range(s.count):
                if s.kind == "independent":
                    for _ in range(s.size):
                        set_id.append(-1)
                        unit.append(n_units)
                        slot.append(0)
                        share.append(1)
                        scale.append(rate[0])
                        fixed.append(rate[1])
                        n_units += 1
                    continue
                anti = s.kind == "anticorrelated"
                for j in range(s.size):
                    set_id.append(n_sets)
                    unit.append(n_units)
                    slot.append(j if anti else 0)
                    share.append(s.size if anti else 1)
                scale.append(rate[0])
                fixed.append(rate[1])
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
            unit_scale=np.asarray(scale, dtype=np.float64),
            unit_fixed=np.asarray(fixed, dtype=np.float64),
        )

    def unit_rates(self, p, rate_scale: float = 1.0) -> np.ndarray:
        """(I, U) float64: the probability that each unit is active, for feature probabilities
        p (I,): rate_scale x (unit_scale x p, or unit_fixed where that is set)."""
        p = np.asarray(p, dtype=np.float64).reshape(-1, 1)
        # Multiplying by a scale of 1 is exact, so single-rate runs keep their 0.3 rates bit for bit.
        return np.where(np.isnan(self.unit_fixed), p * self.unit_scale, self.unit_fixed) * rate_scale

    def feature_rates(self, p, rate_scale: float = 1.0) -> np.ndarray:
        """(I, n): the probability that each feature is present (its unit's rate, / k for a
        feature of an anticorrelated set of k)."""
        return self.unit_rates(p, rate_scale)[:, self.unit_of_feature] / self.share

    @property
    def unit_first_feature(self) -> np.ndarray:
        """(U,) lowest feature index of each unit (features of a unit are contiguous)."""
        first = np.full(self.n_units, self.n, dtype=np.int64)
        np.minimum.at(first, self.unit_of_feature, np.arange(self.n))
        return first

    @property
    def unit_size(self) -> np.ndarray:
        """(U,) features belonging to each unit: 1 for independent units, k for sets."""
        return np.bincount(self.unit_of_feature, minlength=self.n_units)

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


def set_count(set_id) -> int:
    """How many feature sets a layout has (set ids run 0, 1, ...; -1 marks independent features)."""
    set_id = np.asarray(set_id)
    return int(set_id.max()) + 1 if (set_id >= 0).any() else 0


def describe_layout(set_id, set_kind) -> str:
    """Words for a feature layout, e.g. "2 correlated sets of 10" or "1 anticorrelated set of 3
    + 2 independent features"."""
    set_id = np.asarray(set_id)
    parts = []  # (kind, size) per set, in order
    for s in range(set_count(set_id)):
        parts.append((str(set_kind[s]) if s < len(set_kind) else "?", int((set_id == s).sum())))
    words = []
    for (kind, size), group in itertools.groupby(parts):
        count = len(list(group))
        words.append(f"{count} {kind} set{'s' if count > 1 else ''} of {size}")
    independent = int((set_id < 0).sum())
    if independent:
        words.append(f"{independent} independent feature{'s' if independent > 1 else ''}")
    return " + ".join(words)
