"""The independent-feature control of a run: how often a geometry appears by chance.

The rule: a control keeps every feature's marginal rate and makes the features independent.
It has the same n, m, seeds and training as its run; a feature of a correlated set (or an
independent one) is nonzero with probability p, a feature of an anticorrelated set of size k
with p / k, so the control of anticorrelated sets of k trains independent features at p / k
(``data.rate_scale = 1 / k``). Because its models share the run's initialisation seeds model by
model (the seeds follow p, not the rate), a run and its control form pairs, and the claims
compare them paired by seed.

A layout whose features have different marginal rates (anticorrelated sets beside correlated
ones, or sets of different sizes) has no such control: ``control_config`` refuses it.
"""

from __future__ import annotations

import copy

from tms.core.config import DataConfig, FeatureSet, RunConfig, n_features, validate
from tms.core.errors import ConfigError


def marginal_share(data: DataConfig, prefix: str = "data") -> int:
    """k such that every feature of ``data`` is nonzero with probability rate_scale x p / k.

    Raises ConfigError (on ``<prefix>.sets``) when features have different marginal rates."""
    shares = {s.size if s.kind == "anticorrelated" else 1 for s in data.sets}
    if len(shares) > 1:
        rates = ", ".join(f"p/{k}" if k > 1 else "p" for k in sorted(shares))
        raise ConfigError(
            f"{prefix}.sets",
            f"features have different marginal rates ({rates}); an independent control keeps one rate per run",
        )
    return shares.pop()


def control_config(cfg: RunConfig) -> RunConfig:
    """Same n, m, feature probabilities, seeds and training, every feature independent at its
    marginal rate in ``cfg`` (p, or p / k for anticorrelated sets of k).

    ``cfg`` is validated first (ConfigError): an invalid run has no valid control."""
    validate(cfg, here=False)
    control = copy.deepcopy(cfg)
    control.data = DataConfig(
        sets=[FeatureSet("independent", n_features(cfg.data), 1)],
        feature_probability=cfg.data.feature_probability,
        feature_probabilities=list(cfg.data.feature_probabilities),
        rate_scale=cfg.data.rate_scale / marginal_share(cfg.data),
    )
    return control
