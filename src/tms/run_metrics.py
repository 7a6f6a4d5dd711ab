"""The metrics.json of a training run: losses, throughput and geometry per instance."""

from __future__ import annotations

import numpy as np

from tms.config import RunConfig


def run_metrics(result, cfg: RunConfig, seconds: float) -> dict:
    final = result.loss[-1] if len(result.loss) else np.full(len(result.seed), np.nan)
    n_inst = len(result.seed)
    return {
        "n_instances": n_inst,
        "n": int(result.W.shape[2]),
        "m": int(result.W.shape[1]),
        "steps": cfg.train.steps,
        "seconds": round(seconds, 3),
        "instance_steps_per_s": round(n_inst * cfg.train.steps / seconds, 1) if seconds > 0 else None,
        "final_loss": [float(v) for v in final],
        "final_loss_mean": float(np.mean(final)),
        "final_loss_std": float(np.std(final)),
        "feature_probability": [float(v) for v in result.feature_probability],
        "seed": [int(s) for s in result.seed],
    }
