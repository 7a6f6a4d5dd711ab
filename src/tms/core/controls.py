"""The independent-feature control of a run: how often a geometry appears by chance.

The rule: a control keeps every feature's marginal rate and makes the features independent.
It has the same n, m, seeds and training as its run; a feature of a correlated set (or an
independent one) is nonzero with probability p, a feature of an anticorrelated set of size k
with p / k, so the control of anticorrelated sets of k trains independent features at p / k
(``data.rate_scale = 1 / k``). Because its models share the run's initialisation seeds model by
model (the seeds follow p, not the rate), a run and its control form pairs, and the claims
compare them paired by seed.

When features have different marginal rates (anticorrelated sets beside correlated ones, sets
of different sizes, or sets with their own rates, ``FeatureSet.rate_scale`` / ``probability``),
the control gives each set's features their own rate instead: one independent set per set,
at the set's rate / k. ``marginal_share`` (one k for the whole run) is for the figures, whose
controls and tables assume one rate.
"""

from __future__ import annotations

import copy

from tms.core.config import DataConfig, FeatureSet, RunConfig, n_features, validate
from tms.core.errors import ConfigError


def marginal_share(data: DataConfig, prefix: str = "data") -> int:
    """k such that every feature of ``data`` is nonzero with probability rate_scale x p / k.

    Raises ConfigError (on ``<prefix>.sets``) when features have different marginal rates."""
    shares = _shares(data)
    if len(shares) > 1:
        rates = ", ".join(f"p/{k}" if k > 1 else "p" for k in sorted(shares))
        raise ConfigError(
            f"{prefix}.sets",
            f"features have different marginal rates ({rates}); an independent control keeps one rate per run",
        )
    return shares.pop()


def _shares(data: DataConfig) -> set:
    """The k of every set: its features share its unit's rate k ways (k = 1 unless anticorrelated)."""
    return {s.size if s.kind == "anticorrelated" else 1 for s in data.sets}


def _own_rate(s: FeatureSet) -> bool:
    return s.rate_scale != 1 or s.probability is not None


def control_config(cfg: RunConfig) -> RunConfig:
    """Same n, m, feature probabilities, seeds, values and training, every feature independent
    at its marginal rate in ``cfg`` (its unit's rate, / k for anticorrelated sets of k).

    ``cfg`` is validated first (ConfigError): an invalid run has no valid control."""
    validate(cfg, here=False)
    control = copy.deepcopy(cfg)
    common = {
        "feature_probability": cfg.data.feature_probability,
        "feature_probabilities": list(cfg.data.feature_probabilities),
        "values": cfg.data.values,
    }
    shares = _shares(cfg.data)
    if len(shares) == 1 and not any(_own_rate(s) for s in cfg.data.sets):  # one rate: rate_scale / k
        control.data = DataConfig(
            sets=[FeatureSet("independent", n_features(cfg.data), 1)],
            rate_scale=cfg.data.rate_scale / shares.pop(),
            **common,
        )
        return control
    sets = []
    for s in cfg.data.sets:
        k = s.size if s.kind == "anticorrelated" else 1
        own = {"probability": s.probability / k} if s.probability is not None else {"rate_scale": s.rate_scale / k}
        sets.append(FeatureSet("independent", s.size * s.count, 1, **own))
    control.data = DataConfig(sets=sets, rate_scale=cfg.data.rate_scale, **common)
    return control
