"""The metrics.json of a training run: losses, throughput and geometry per instance."""

from __future__ import annotations

import numpy as np

from tms.analysis import metrics
from tms.core.config import RunConfig


def _floats(values) -> list:
    """JSON-friendly list: NaN (no represented pair) becomes null."""
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.asarray(values, dtype=float)]


def geometry_metrics(W, set_id) -> dict:
    """Per-instance geometry summaries that apply to any feature structure."""
    out = {
        "unrepresented_features": (~metrics.represented(W)).sum(1).tolist(),
        "mean_dimensionality": _floats(metrics.dimensionality(W).mean(1)),
    }
    if (np.asarray(set_id) >= 0).any():
        out["mean_abs_cos_within_sets"] = _floats(metrics.nanmean_rows(metrics.within_set_abs_cos(W, set_id)))
        out["mean_cos_within_sets"] = _floats(metrics.nanmean_rows(metrics.within_set_cos(W, set_id)))
        out["collapsed_sets"] = metrics.collapsed(W, set_id).sum(1).tolist()
    if len(metrics.set_members(set_id)) > 1:
        out["local_basis_ratio"] = _floats(metrics.local_basis_ratio(W, set_id))
    return out


def run_metrics(result, cfg: RunConfig, seconds: float) -> dict:
    """Scalars and per-model lists; with train.steps = 0 the losses are null (no step was taken)."""
    final = result.loss[-1] if len(result.loss) else None
    n_inst = len(result.seed)
    return {
        "n_instances": n_inst,
        "n": int(result.W.shape[2]),
        "m": int(result.W.shape[1]),
        "steps": cfg.train.steps,
        "seconds": round(seconds, 3),
        "instance_steps_per_s": round(n_inst * cfg.train.steps / seconds, 1) if seconds > 0 else None,
        "final_loss": None if final is None else _floats(final),
        "final_loss_mean": None if final is None else float(np.mean(final)),
        "final_loss_std": None if final is None else float(np.std(final)),
        "feature_probability": [float(v) for v in result.feature_probability],
        "seed": [int(s) for s in result.seed],
        "geometry": geometry_metrics(result.W, result.set_id),
    }
