"""Retrain one saved model alone: ``replay(path_or_result, model=j, snapshot_steps=...)``.

A model's batches and initialisation depend only on its own seed and feature probability
(``tms.core.streams``, ``tms.core.seeds``), so model j of any run, figure part or sweep trains
alone to the same weights (bit for bit on the fused backend; on torch, to rounding), now with
the snapshots you ask for. A saved run records what that needs: its resolved config, seeds, p.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tms.core.artifacts import ArtifactError
from tms.core.config import run_config_from_dict
from tms.core.result import TrainResult, load_part
from tms.core.train import train_instances


def saved_result(source, part: str | None = None) -> TrainResult:
    """A TrainResult from a TrainResult, a run folder, a ``weights.npz`` or a figure's npz (for a
    figure of several parts, ``part`` names one, e.g. "three")."""
    if isinstance(source, TrainResult):
        return source
    path = Path(source)
    return load_part(path / "weights.npz" if path.is_dir() else path, part)


def replay(source, model: int, snapshot_steps=(), part: str | None = None, backend: str | None = None) -> TrainResult:
    """Retrain model ``model`` of a saved run alone and return it (a one-model TrainResult), with
    W snapshots at ``snapshot_steps``. ``backend`` overrides the recorded one (then the weights
    agree to float rounding instead of bit for bit)."""
    result = saved_result(source, part)
    if not result.config:
        raise ArtifactError("this run records no config (saved before tms 0.3); retrain it to replay its models")
    if not 0 <= int(model) < result.n_instances:
        raise IndexError(f"model {model} outside this run's {result.n_instances} models")
    cfg = run_config_from_dict(json.loads(result.config))
    if str(cfg.train.schedule).startswith("callable:"):
        raise ArtifactError(
            f"this run trained with a Python schedule ({cfg.train.schedule[9:]}), recorded by name only; "
            "rebuild its RunConfig with that callable and train model j with train(cfg, models=[j])"
        )
    train_cfg = dataclasses.replace(cfg.train, progress=False, backend=backend or cfg.train.backend)
    cfg = dataclasses.replace(cfg, train=train_cfg)
    j = [int(model)]
    return train_instances(cfg, result.feature_probability[j], result.seed[j], snapshot_steps, label="replay")
