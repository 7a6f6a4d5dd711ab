"""The independent-feature control of a run: how often a geometry appears by chance.

A control has the same n, m, feature probabilities, seeds and training as its run, but every
feature is independent. Because its models share the run's initialisation seeds model by
model, a run and its control form pairs, and the claims compare them paired by seed.
"""

from __future__ import annotations

import copy

from tms.core.config import DataConfig, FeatureSet, RunConfig, n_features, validate


def control_config(cfg: RunConfig) -> RunConfig:
    """Same n, m, feature probabilities, seeds and training, but every feature independent.

    ``cfg`` is validated first (ConfigError): an invalid run has no valid control."""
    validate(cfg, here=False)
    control = copy.deepcopy(cfg)
    control.data = DataConfig(
        sets=[FeatureSet("independent", n_features(cfg.data), 1)],
        feature_probability=cfg.data.feature_probability,
        feature_probabilities=list(cfg.data.feature_probabilities),
    )
    return control
