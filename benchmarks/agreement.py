"""How closely the two backends agree on the paper figures' recipe (same batches, same seeds).

    python -m benchmarks.agreement            # 64 models per setup, 10,000 steps

Per setup: the largest |W_fused - W_torch| over models, how many models differ by more than
1e-3 (float rounding amplified near a saddle can send a model to another minimum), and how many
models the setup's claim check classifies differently.
"""

from __future__ import annotations

import argparse

import numpy as np

from tms.analysis.claims import CLAIMS
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig
from tms.core.train import train

SETUPS = {
    "correlated_pairs": ([("correlated", 2, 2)], 2, 0.05),
    "anticorrelated_pairs": ([("anticorrelated", 2, 2)], 2, 0.7),
    "correlated_three_sets": ([("correlated", 2, 3)], 2, 0.01),
    "local_orthogonal_basis": ([("correlated", 10, 2)], 10, 0.03),
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args(argv)
    print("| setup | models | steps | max abs W difference | models differing > 1e-3 | claim verdicts differing |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (sets, m, p) in SETUPS.items():
        cfg = RunConfig(
            data=DataConfig(sets=[FeatureSet(*s) for s in sets], feature_probability=p),
            model=ModelConfig(m=m),
            train=TrainConfig(steps=args.steps, progress=False),
            n_instances=args.models,
        )
        fused = train(cfg)
        cfg.train.backend = "torch"
        other = train(cfg)
        diff = np.abs(fused.W - other.W).reshape(args.models, -1).max(1)
        holds = CLAIMS[name].holds
        verdicts = int((holds(fused.W, fused.set_id) != holds(other.W, other.set_id)).sum())
        differing = int((diff > 1e-3).sum())
        print(f"| {name} | {args.models} | {args.steps:,} | {diff.max():.1e} | {differing} | {verdicts} |")


if __name__ == "__main__":
    main()
