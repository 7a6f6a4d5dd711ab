"""Throughput of the two training backends against each other and against plain PyTorch loops.

    python -m benchmarks.throughput            # full tables -> benchmarks/results.md
    python -m benchmarks.throughput --quick    # seconds-long smoke run (CI), prints only

Unit: instance-steps per second, one optimizer step of one model on one batch of 1024.
Each cell runs in a fresh subprocess with a fixed thread count (torch's, which the fused
backend follows), so peak RSS is that cell's own (read after each loop's warm-up, before the
timed rounds mix them). Inside it the loops take turns: each round times each of them once,
``repeats`` rounds. Rates are medians over rounds; a speed-up is the median of the per-round
ratios, with their range, so a slow spell of the machine (this VM sometimes loses most of a
core) hits both sides of a ratio instead of one.

Loops:
- *fused*: ``train.backend=fused``, the compiled kernel (``tms.core.kernel``).
- *torch*: ``train.backend=torch``, the batched tensor program, on the same batches.
- *plain loop*: the model's plain definition, ``tms.core.reference``: a fresh dense
  (instances, batch, n) batch with one uniform per unit and one per feature, torch.einsum
  forward, autograd, torch.optim.AdamW.
- *ARENA-style loop* (n=4 correlated pairs only): the shape of ARENA 3.0's ``ToyModel.optimize``
  with ``generate_correlated_features``: a (batch, instances, n) batch from two torch.rand
  calls, einsum forward, importance-weighted loss averaged over batch and features and summed
  over instances, autograd, torch.optim.Adam with the learning rate set every step.
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

BATCH = 1024
# name: (feature sets as (kind, size, count), m, feature probability 1 - S)
SETUPS = {
    "n=4, m=2 (2 correlated pairs)": ([("correlated", 2, 2)], 2, 0.05),
    "n=6, m=2 (3 correlated pairs)": ([("correlated", 2, 3)], 2, 0.05),
    "n=20, m=10 (2 sets of 10)": ([("correlated", 10, 2)], 10, 0.05),
    "n=20, m=10, 20 independent, 1−S=0.03": ([("independent", 20, 1)], 10, 0.03),
    "n=20, m=10, 20 independent, 1−S=0.1": ([("independent", 20, 1)], 10, 0.1),
    "n=20, m=10, 20 independent, 1−S=0.3": ([("independent", 20, 1)], 10, 0.3),
    "n=6, m=2, 3 correlated pairs, 1−S=0.3": ([("correlated", 2, 3)], 2, 0.3),
    "n=160, m=40 (4 sets of 40), 1−S=0.03": ([("correlated", 40, 4)], 40, 0.03),
    "n=160, m=40, 160 independent, 1−S=0.03": ([("independent", 160, 1)], 40, 0.03),
    "n=4, m=2, 2 anticorrelated pairs, 1−S=0.7": ([("anticorrelated", 2, 2)], 2, 0.7),
}
SCALING = ["n=4, m=2 (2 correlated pairs)", "n=6, m=2 (3 correlated pairs)", "n=20, m=10 (2 sets of 10)"]
ARENA = "n=4, m=2 (2 correlated pairs)"


def _structure(sets):
    from tms.core.config import FeatureSet
    from tms.core.structure import FeatureStructure

    return FeatureStructure.from_sets([FeatureSet(*s) for s in sets])


def plain_loop(sets, m: int, p: float, instances: int, steps: int, seed: int = 0):
    """The plain loop found in tutorials, which is the package's own definition of the model
    (``tms.core.reference``): fresh dense batch, autograd, torch.optim.AdamW. Final W as numpy."""
    from tms.core.reference import train_reference

    return train_reference(_structure(sets), m, p, instances, steps, seed=seed, batch=BATCH).numpy()


def arena_style_loop(sets, m: int, p: float, instances: int, steps: int, seed: int = 0):
    """Correlated pairs the way ARENA 3.0's superposition solutions train them (see module doc)."""
    (kind, size, count), *rest = sets
    assert kind == "correlated" and size == 2 and not rest, "the ARENA-style loop covers correlated pairs only"
    n = 2 * count
    g = torch.Generator().manual_seed(seed)
    W = torch.nn.Parameter(torch.randn(instances, m, n, generator=g) * (2.0 / (m + n)) ** 0.5)
    b_final = torch.nn.Parameter(torch.zeros(instances, n))
    probability = torch.full((instances, n), p)
    importance = torch.ones(instances, n)
    opt = torch.optim.Adam([W, b_final], lr=1e-3)
    for _ in range(steps):
        for group in opt.param_groups:
            group["lr"] = 1e-3  # constant schedule, set every step as the solutions do
        feat = torch.rand((BATCH, instances, n), generator=g)
        seeds = torch.rand((BATCH, instances, count), generator=g)
        present = (seeds <= probability[:, :count]).repeat_interleave(2, dim=-1)
        batch = torch.where(present, feat, 0.0)
        hidden = torch.einsum("bif,ihf->bih", batch, W)
        out = torch.relu(torch.einsum("bih,ihf->bif", hidden, W) + b_final)
        loss = (importance * (batch - out) ** 2).mean(dim=(0, 2)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return W.detach().numpy()


def project_trainer(sets, m: int, p: float, instances: int, steps: int, seed: int = 0, backend="fused") -> None:
    from tms import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, train

    cfg = RunConfig(
        data=DataConfig(sets=[FeatureSet(*s) for s in sets], feature_probability=p),
        model=ModelConfig(m=m),
        train=TrainConfig(steps=steps, batch=BATCH, progress=False, backend=backend),
        n_instances=instances,
        seed=seed,
    )
    train(cfg)


def fused_trainer(*args, **kwargs) -> None:
    project_trainer(*args, **kwargs, backend="fused")


def torch_trainer(*args, **kwargs) -> None:
    project_trainer(*args, **kwargs, backend="torch")


def sampler_path(sets, p: float) -> str:
    """How the batch finds its active slots (tms.core.streams)."""
    from tms.core.streams import GEOMETRIC_BELOW

    return "geometric" if p < GEOMETRIC_BELOW else "bernoulli"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure_cell(setup: str, instances: int, steps: int, repeats: int, threads: int, plain: bool) -> dict:
    """Run in a child process: time the backends (and the reference loops), medians and peak RSS."""
    torch.set_num_threads(threads)
    sets, m, p = SETUPS[setup]
    result = {"setup": setup, "instances": instances, "steps": steps, "threads": threads, "path": sampler_path(sets, p)}
    loops = [("fused", fused_trainer), ("torch", torch_trainer)]
    if plain:
        loops.append(("plain", plain_loop))
        if setup == ARENA:
            loops.append(("arena", arena_style_loop))
    rates = {name: [] for name, _ in loops}
    for name, fn in loops:
        fn(sets, m, p, instances, max(steps // 10, 2))  # warm-up (and the kernel's compile or load)
        # Monotonic, so read after each warm-up: the fused backend's alone, then with each other loop.
        result[f"{name}_peak_rss_mb"] = peak_rss_mb()
    for r in range(repeats):  # rounds: every loop once per round
        for name, fn in loops:
            start = time.perf_counter()
            fn(sets, m, p, instances, steps, seed=r)
            rates[name].append(instances * steps / (time.perf_counter() - start))
    for name, _ in loops:
        result[f"{name}_rate"] = statistics.median(rates[name])
        if name != "fused":  # fused / other, round by round
            ratios = [t / o for t, o in zip(rates["fused"], rates[name], strict=True)]
            result[f"{name}_speedup"] = [statistics.median(ratios), min(ratios), max(ratios)]
    return result


def run_cell(setup: str, instances: int, steps: int, repeats: int, threads: int, plain: bool) -> dict:
    cell = json.dumps([setup, instances, steps, repeats, threads, plain])
    args = [sys.executable, "-m", "benchmarks.throughput", "--cell", cell]
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
    import numba

    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, numba {numba.__version__}, Python {python}"


def backend_table(rows) -> str:
    lines = [
        "| setup | instances | threads | slots | fused (inst-steps/s) | torch (inst-steps/s) | fused / torch "
        "| range | peak RSS fused (MB) | peak RSS incl. torch (MB) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setup']} | {r['instances']} | {r['threads']} | {r['path']} | {r['fused_rate']:,.0f} "
            f"| {r['torch_rate']:,.0f} | {_speedup(r['torch_speedup'])} | {r['fused_peak_rss_mb']:,.0f} "
            f"| {r['torch_peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def reference_table(rows, name: str, title: str) -> str:
    lines = [
        f"| setup | instances | threads | fused (inst-steps/s) | {title} (inst-steps/s) | fused / {title} | range |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if f"{name}_rate" in r:
            lines.append(
                f"| {r['setup']} | {r['instances']} | {r['threads']} | {r['fused_rate']:,.0f} "
                f"| {r[f'{name}_rate']:,.0f} | {_speedup(r[f'{name}_speedup'])} |"
            )
    return "\n".join(lines)


def _speedup(ratio) -> str:
    """Median per-round ratio and its range: "2.9× | 2.4–3.5×"."""
    median, low, high = ratio
    return f"{median:.1f}× | {low:.1f}–{high:.1f}×"


def cells(quick: bool) -> list:
    """(setup, instances, threads, with the plain loops): every setup at 64 models on one thread
    (backends only) and on two (with the plain loops); the first three also at 1, 16 and 256."""
    if quick:
        return [(setup, 16, 1, setup == ARENA) for setup in SETUPS]
    out = [(setup, 64, 1, False) for setup in SETUPS]
    out += [(setup, 64, 2, True) for setup in SETUPS]
    return out + [(setup, inst, 2, True) for setup in SCALING for inst in (1, 16, 256)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny run for CI; prints, writes nothing")
    parser.add_argument("--steps", type=int, default=300, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", metavar="TEXT", help="only the setups whose name contains TEXT")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.md")))
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(measure_cell(*json.loads(args.cell))))
        return
    steps, repeats = (5, 1) if args.quick else (args.steps, args.repeats)
    rows = []
    for setup, inst, threads, plain in cells(args.quick):
        if args.only and args.only not in setup:
            continue
        # The plain loop at n = 160 runs ~150 instance-steps/s: time a fifth of the steps there.
        n = _structure(SETUPS[setup][0]).n
        rows.append(run_cell(setup, inst, steps if n <= 20 else max(steps // 5, 2), repeats, threads, plain))
        print(backend_table(rows[-1:]).splitlines()[-1], flush=True)
    one = [r for r in rows if r["threads"] == 1]
    two = [r for r in rows if r["threads"] == 2]
    text = (
        f"# Training throughput\n\nMachine: {machine()}.\n\n"
        f"batch {BATCH}, {steps} timed steps ({max(steps // 5, 2)} for n = 160), "
        f"{repeats} round{'s' if repeats != 1 else ''}; `python -m benchmarks.throughput`. "
        "The loops run in the same process, one cell per process, taking turns within each round. "
        "Rates are medians over rounds; a speed-up is the median of the per-round ratios, with its "
        "range. *slots*: how the batch finds its active unit slots (`tms.core.streams`).\n\n"
        "## The backends, one thread (how the figures command trains: one single-threaded job per core)\n\n"
        + backend_table(one)
        + "\n\n## The backends, two threads\n\n"
        + backend_table(two)
        + "\n\n## Against the plain autograd loop (`tms.core.reference`)\n\n"
        + reference_table(rows, "plain", "plain loop")
        + "\n\n## Against an ARENA-style loop (see the module docstring)\n\n"
        + reference_table(rows, "arena", "ARENA-style loop")
        + "\n\nGPU: `train.backend=torch train.device=cuda` is unmeasured (no GPU was available).\n"
    )
    if args.quick:
        text += "\n(quick mode: 5 steps, one round; a smoke test, not a measurement)\n"
    print("\n" + text)
    if not args.quick and not args.only:
        from tms.core.artifacts import write_text_atomic

        write_text_atomic(args.out, text)


if __name__ == "__main__":
    main()
