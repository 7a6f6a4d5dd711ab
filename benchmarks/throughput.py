"""Throughput of the project trainer against a plain PyTorch training loop.

    python -m benchmarks.throughput            # full table -> benchmarks/results.md
    python -m benchmarks.throughput --quick    # seconds-long smoke run (CI), prints only

Unit: instance-steps per second, one optimizer step of one model on one batch of 1024.
Each (config, instances) cell runs in a fresh subprocess, so peak RSS is that cell's own;
inside it the trainer and the reference loop run side by side and are each timed
``repeats`` times; the table shows medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

CONFIGS = {  # name: (sets of correlated features (size, count), m)
    "n=4, m=2 (2 correlated pairs)": ((2, 2), 2),
    "n=6, m=2 (3 correlated pairs)": ((2, 3), 2),
    "n=20, m=10 (2 sets of 10)": ((10, 2), 10),
}
FEATURE_PROBABILITY = 0.05
BATCH = 1024


def reference_loop(size: int, count: int, m: int, instances: int, steps: int, seed: int = 0):
    """The plain loop found in tutorials: fresh dense batch, autograd, torch.optim.AdamW.

    Returns the final W (instances, m, n) as numpy.
    """
    n = size * count
    g = torch.Generator().manual_seed(seed)
    # Xavier-normal per (m, n) model. (torch.nn.init.xavier_normal_ on the whole (instances, m, n)
    # tensor would take its fan from m*n and instances*n, shrinking the init as instances grow.)
    W = torch.nn.Parameter(torch.randn(instances, m, n, generator=g) * (2.0 / (m + n)) ** 0.5)
    b = torch.nn.Parameter(torch.zeros(instances, n))
    opt = torch.optim.AdamW([W, b], lr=1e-3, weight_decay=0.01)
    for _ in range(steps):
        on = torch.rand(instances, BATCH, count, generator=g) < FEATURE_PROBABILITY
        x = torch.rand(instances, BATCH, n, generator=g) * on.repeat_interleave(size, dim=-1)
        h = torch.einsum("imn,ibn->ibm", W, x)
        out = torch.relu(torch.einsum("imn,ibm->ibn", W, h) + b[:, None, :])
        loss = ((x - out) ** 2).sum(-1).mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return W.detach().numpy()


def project_trainer(size: int, count: int, m: int, instances: int, steps: int, seed: int = 0) -> None:
    from tms import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, train

    cfg = RunConfig(
        data=DataConfig(sets=[FeatureSet("correlated", size, count)], sparsity=1 - FEATURE_PROBABILITY),
        model=ModelConfig(m=m),
        train=TrainConfig(steps=steps, batch=BATCH, progress=False),
        n_instances=instances,
        seed=seed,
    )
    train(cfg)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure_cell(config: str, instances: int, steps: int, repeats: int) -> dict:
    """Run in a child process: time both implementations, report medians and peak RSS."""
    (size, count), m = CONFIGS[config]
    baseline = peak_rss_mb()
    result = {"config": config, "instances": instances, "steps": steps, "baseline_rss_mb": baseline}
    for name, fn in (("trainer", project_trainer), ("reference", reference_loop)):
        fn(size, count, m, instances, max(steps // 10, 2))  # warm-up
        rates = []
        for r in range(repeats):
            start = time.perf_counter()
            fn(size, count, m, instances, steps, seed=r)
            rates.append(instances * steps / (time.perf_counter() - start))
        result[f"{name}_rate"] = statistics.median(rates)
        result[f"{name}_peak_rss_mb"] = peak_rss_mb()  # monotonic: the trainer runs first
    return result


def run_cell(config: str, instances: int, steps: int, repeats: int) -> dict:
    args = [sys.executable, "-m", "benchmarks.throughput", "--cell", json.dumps([config, instances, steps, repeats])]
    proc = subprocess.run(args, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = torch.get_num_threads()
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({threads} threads), Python {python}"


def table(rows) -> str:
    lines = [
        "| config | instances | trainer (inst-steps/s) | plain loop (inst-steps/s) | speed-up "
        "| peak RSS trainer (MB) | peak RSS incl. plain loop (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['instances']} | {r['trainer_rate']:,.0f} | {r['reference_rate']:,.0f} "
            f"| {r['trainer_rate'] / r['reference_rate']:.1f}× | {r['trainer_peak_rss_mb']:,.0f} "
            f"| {r['reference_peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny run for CI; prints, writes nothing")
    parser.add_argument("--steps", type=int, default=300, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.md")))
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(measure_cell(*json.loads(args.cell))))
        return
    instances = (1, 16) if args.quick else (1, 16, 64, 256)
    steps, repeats = (10, 1) if args.quick else (args.steps, args.repeats)
    rows = []
    for config in CONFIGS:
        for inst in instances:
            rows.append(run_cell(config, inst, steps, repeats))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = (
        f"# Training throughput\n\nMachine: {machine()}.\n\n"
        f"batch {BATCH}, 1−S = {FEATURE_PROBABILITY}, {steps} timed steps, median of {repeats} repeats; "
        "`python -m benchmarks.throughput`.\n\n" + table(rows) + "\n"
    )
    if args.quick:
        text += "\n(quick mode: 10 steps, one repeat; a smoke test, not a measurement)\n"
    print("\n" + text)
    if not args.quick:
        from tms.artifacts import write_text_atomic

        write_text_atomic(args.out, text)


if __name__ == "__main__":
    main()
