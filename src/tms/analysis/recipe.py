"""What a saved run was trained with, read off its arrays (the recorded resolved config)."""

from __future__ import annotations

import json

import numpy as np


def recorded_config(arrays) -> dict:
    """The run config an npz (or one part of a figure npz) records, as a dict ({} if none)."""
    return json.loads(str(arrays["config"])) if "config" in arrays else {}


def recipe(arrays) -> dict:
    """The training choices that decide which minimum a model reaches: init, init scale, lr,
    batch, schedule and steps ({} for artifacts that record no config)."""
    cfg = recorded_config(arrays)
    if not cfg:
        return {}
    return {
        "init": cfg["model"].get("init", "per_model"),
        "init_scale": cfg["model"].get("init_scale", 1.0),
        "lr": cfg["train"]["lr"],
        "batch": cfg["train"]["batch"],
        "schedule": cfg["train"]["schedule"],
        "steps": cfg["train"]["steps"],
    }


def rate_scale(arrays) -> float:
    """The run's data.rate_scale (units are active with probability rate_scale x p); 1 if unrecorded."""
    return float(recorded_config(arrays).get("data", {}).get("rate_scale", 1.0))


def unit_rates(arrays) -> np.ndarray:
    """(I, U) probability that each unit of each model is active: the recorded sets' own rates
    (``FeatureSet.rate_scale``, ``probability``) and the run's rate_scale, at each model's p."""
    from tms.core.config import FeatureSet
    from tms.core.result import feature_sets
    from tms.core.structure import FeatureStructure

    recorded = recorded_config(arrays).get("data", {}).get("sets")
    sets = [FeatureSet(**s) for s in recorded] if recorded else feature_sets(arrays["set_id"], arrays["set_kind"])
    return FeatureStructure.from_sets(sets).unit_rates(arrays["feature_probability"], rate_scale(arrays))


def values(arrays) -> str:
    """The run's value distribution (data.values): "uniform" unless recorded otherwise."""
    return str(recorded_config(arrays).get("data", {}).get("values", "uniform"))
