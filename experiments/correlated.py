"""Regenerate the paper's correlated / anticorrelated feature figures, sweeps and summary.

    python -m experiments.correlated                       # everything into figures/
    python -m experiments.correlated out_dir=/tmp/f figures=[correlated_pairs] train.steps=500

Flow: config -> training jobs (run in a pool of single-threaded processes) -> one
<name>.npz per figure -> <name>.png/.svg drawn from that npz alone -> summary.json/.md.
"""

from __future__ import annotations

import copy
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig

from experiments._cli import check_overrides, hydra_output_dir, one_line_errors
from tms.artifacts import load_weights, weights_arrays, write_json_atomic, write_npz_atomic, write_text_atomic
from tms.cache import RunCache, run_key
from tms.claims import summarize_claim
from tms.config import (
    DataConfig,
    FeatureSet,
    RunConfig,
    check_int,
    n_features,
    validate_data,
    validate_model,
    validate_train,
)
from tms.errors import ConfigError
from tms.features import FeatureStructure
from tms.hydra_config import CorrelatedApp, to_dataclass
from tms.plotting import (
    plot_collapse_transition,
    plot_gram,
    plot_learning_dynamics,
    plot_sparsity_sweep,
    plot_weights_2d,
    save_figure,
    split_prefixed,
)
from tms.summary import collapse_agreement, summary_markdown, sweep_table
from tms.sweeps import expected_nonzero, merge_results, sweep_configs
from tms.train import train

# The paper's four figures: one model batch (and control) each, with the claim they test.
PAPER_FIGURES = {
    "correlated_pairs": "Correlated pairs get orthogonal directions",
    "anticorrelated_pairs": "Anticorrelated pairs get opposite directions",
    "correlated_three_sets": "Three correlated pairs in 2D sit side by side (ringed: collapsed)",
    "local_orthogonal_basis": "Each correlated set forms a local almost-orthogonal basis",
}
SWEEP_LABELS = {
    "correlated_pairs": "correlated pairs orthogonal",
    "anticorrelated_pairs": "anticorrelated pairs opposite",
    "correlated_three_sets": "three sets side by side",
    "local_orthogonal_basis": "local orthogonal bases (n=20, m=10)",
}
TITLES = {
    **PAPER_FIGURES,
    "sparsity_sweep": "How often each predicted geometry appears, by sparsity",
    "collapse_transition": "Collapse of 3 correlated pairs in 2D as features get denser",
    "learning_dynamics": "Learning dynamics: 2 sets of 3 correlated features in m = 3",
}
HEATMAPS = {"local_orthogonal_basis"}
NEEDS_SPEC = set(PAPER_FIGURES) | {"learning_dynamics"}


def validate_app(app: CorrelatedApp) -> CorrelatedApp:
    for name in app.figures:
        if name not in TITLES:
            raise ConfigError("figures", f"unknown figure {name!r}; allowed: {', '.join(TITLES)}")
    needed = set(app.figures) & NEEDS_SPEC
    if "sparsity_sweep" in app.figures:
        needed |= set(PAPER_FIGURES)
    if "collapse_transition" in app.figures:
        needed.add("correlated_three_sets")
    for name in sorted(needed):
        if name not in app.specs:
            raise ConfigError(f"specs.{name}", "missing; the selected figures need it")
        spec = app.specs[name]
        validate_data(spec.data, f"specs.{name}.data")
        validate_model(spec.model, n_features(spec.data), f"specs.{name}.model")
        if name in PAPER_FIGURES and name not in HEATMAPS and spec.model.m != 2:
            raise ConfigError(f"specs.{name}.model.m", f"got {spec.model.m}; the 2D weight plot needs m = 2")
    validate_train(app.train)
    for sweep in ("sparsity_sweep", "collapse_transition"):
        sc = getattr(app, sweep)
        if sweep in app.figures and not sc.feature_probabilities:
            raise ConfigError(f"{sweep}.feature_probabilities", "must list at least one value in (0, 1]")
        for p in sc.feature_probabilities:
            if not 0 < p <= 1:
                raise ConfigError(f"{sweep}.feature_probabilities", f"got {p}; each must be in (0, 1]")
        check_int(sc.n_seeds, f"{sweep}.n_seeds", 1)
    for field_name, lowest in (("n_instances", 1), ("n_shown", 1), ("seed", 0), ("workers", 1), ("n_snapshots", 2)):
        check_int(getattr(app, field_name), field_name, lowest)
    return app


def run_config(app: CorrelatedApp, name: str) -> RunConfig:
    spec = app.specs[name]
    return RunConfig(
        data=copy.deepcopy(spec.data),
        model=copy.deepcopy(spec.model),
        train=copy.deepcopy(app.train),
        n_instances=app.n_instances,
        seed=app.seed,
    )


def control_config(cfg: RunConfig) -> RunConfig:
    """Same n, m, sparsity, seeds and training, but every feature independent."""
    control = copy.deepcopy(cfg)
    control.data = DataConfig(
        sets=[FeatureSet("independent", n_features(cfg.data), 1)],
        sparsity=cfg.data.sparsity,
        sparsities=list(cfg.data.sparsities),
    )
    return control


def snapshot_steps(steps: int, count: int) -> list:
    """About ``count`` steps from 0 to ``steps``, log-spaced after step 0."""
    if steps < 1:
        return [0]
    return sorted({0, *np.unique(np.geomspace(1, steps, count - 1).round().astype(int)).tolist()})


def training_jobs(app: CorrelatedApp) -> dict:
    """{(figure, part, group): (RunConfig, snapshot steps)} for every selected figure."""
    jobs = {}
    for name in app.figures:
        if name in PAPER_FIGURES:
            cfg = run_config(app, name)
            jobs[(name, "model", 0)] = (cfg, ())
            if app.controls:
                jobs[(name, "control", 0)] = (control_config(cfg), ())
        elif name == "sparsity_sweep":
            sc = app.sparsity_sweep
            for geometry in PAPER_FIGURES:
                base = run_config(app, geometry)
                parts = {geometry: base}
                if app.controls:
                    parts[f"{geometry}.control"] = control_config(base)
                for part, cfg in parts.items():
                    for g, group in enumerate(sweep_configs(cfg, sc.feature_probabilities, sc.n_seeds)):
                        jobs[(name, part, g)] = (group, ())
        elif name == "collapse_transition":
            sc = app.collapse_transition
            base = run_config(app, "correlated_three_sets")
            for g, group in enumerate(sweep_configs(base, sc.feature_probabilities, sc.n_seeds)):
                jobs[(name, "model", g)] = (group, ())
        elif name == "learning_dynamics":
            cfg = run_config(app, name)
            jobs[(name, "model", 0)] = (cfg, snapshot_steps(cfg.train.steps, app.n_snapshots))
    return jobs


def _cost(cfg: RunConfig) -> float:
    """Rough work estimate: instances x densest expected non-zero samples x n."""
    structure = FeatureStructure.from_sets(cfg.data.sets)
    sparsity = min(cfg.data.sparsities or [cfg.data.sparsity])
    per_value = cfg.n_instances * max(expected_nonzero(sparsity, structure.n_units, cfg.train.batch), 1) * structure.n
    return per_value * max(len(cfg.data.sparsities), 1)


def _train_quietly(cfg: RunConfig, snapshots):
    cfg = copy.deepcopy(cfg)
    cfg.train.progress = False
    return train(cfg, snapshot_steps=snapshots)


def run_jobs(jobs: dict, workers: int, cache: RunCache | None = None) -> dict:
    """Train every job, longest first; with workers > 1 in single-threaded processes.

    Jobs with a complete cache entry are not retrained; new results are cached as they finish
    (by this process only), so an interrupted run resumes where it stopped. Each job's result
    depends only on its config, not on the worker count, and results come back in the order of
    ``jobs`` whatever order they finished in, so the artifacts built from them are byte-stable.
    """
    results, keys = {}, {}
    for key, (cfg, snaps) in jobs.items():
        if cache is not None:
            keys[key] = run_key(cfg, snaps)
            hit = cache.get(keys[key])
            if hit is not None:
                results[key] = hit
    todo = sorted((k for k in jobs if k not in results), key=lambda k: -_cost(jobs[k][0]))
    if results:
        print(f"reused {len(results)} of {len(jobs)} training jobs from {cache.root}", flush=True)

    def finished(key, result, done):
        results[key] = result
        if cache is not None:
            cache.put(keys[key], result)
        print(f"[{done}/{len(todo)}] trained {_label(key)}", flush=True)

    if workers <= 1 or len(todo) <= 1:
        for done, key in enumerate(todo, 1):
            finished(key, train(jobs[key][0], snapshot_steps=jobs[key][1], label=_label(key)), done)
        return {key: results[key] for key in jobs}
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe once torch has started threads
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        futures = {pool.submit(_train_quietly, *jobs[key]): key for key in todo}
        for done, future in enumerate(as_completed(futures), 1):
            finished(futures[future], future.result(), done)
    return {key: results[key] for key in jobs}


def _label(key) -> str:
    name, part, group = key
    return name if part == "model" and group == 0 else f"{name} {part} #{group}"


def _parts(results: dict, name: str) -> dict:
    """{part: merged TrainResult} for one figure."""
    by_part = {}
    for (fig, part, _), result in sorted(results.items(), key=lambda kv: kv[0][2]):
        if fig == name:
            by_part.setdefault(part, []).append(result)
    return {part: merge_results(rs) if len(rs) > 1 else rs[0] for part, rs in by_part.items()}


def figure_arrays(name: str, results: dict, app: CorrelatedApp) -> dict:
    """The npz content of one figure, from its trained parts."""
    parts = _parts(results, name)
    if name == "sparsity_sweep":
        arrays = {"steps": np.asarray(app.train.steps)}
        for part, result in parts.items():
            geometry, _, control = part.partition(".")
            if control:
                arrays[f"{geometry}.control_W"] = result.W
            else:
                arrays.update({f"{geometry}.{k}": v for k, v in weights_arrays(result).items()})
        return arrays
    model = parts["model"]
    extra = {}
    if "control" in parts:
        extra = {
            "control_W": parts["control"].W,
            "control_b": parts["control"].b,
            "control_loss": parts["control"].loss,
        }
    return weights_arrays(model, extra)


def draw_figure(name: str, npz: Path, n_shown: int) -> None:
    """Draw <name>.png/.svg next to its npz, from the npz alone."""
    arrays = load_weights(npz)
    if name in HEATMAPS:
        panels = [("correlated sets (blocks: 2 sets of 10)", arrays)]
        if "control_W" in arrays:
            panels.append(("control: independent features", {**arrays, "W": arrays["control_W"]}))
        fig = plot_gram(panels, title=f"{TITLES[name]}: WᵀW of seed {int(arrays['seed'][0])}")
    elif name in PAPER_FIGURES:
        fig = plot_weights_2d(arrays, n_shown=n_shown, title=TITLES[name])
    elif name == "sparsity_sweep":
        fig = plot_sparsity_sweep(arrays, SWEEP_LABELS, title=TITLES[name])
    elif name == "collapse_transition":
        fig = plot_collapse_transition(arrays, title=TITLES[name])
    else:
        fig = plot_learning_dynamics(arrays, title=TITLES[name])
    save_figure(fig, npz.with_suffix(""))


def summarize(name: str, npz: Path, app: CorrelatedApp) -> dict:
    """The summary entry of one figure, computed from its npz."""
    arrays = load_weights(npz)
    if name == "sparsity_sweep":
        return {"sweep": sweep_table({g: split_prefixed(arrays, g) for g in SWEEP_LABELS})}
    if name == "collapse_transition":
        return {"collapse": collapse_agreement(arrays)}
    row = summarize_claim(name, arrays["W"], arrays["set_id"], arrays.get("control_W"))
    spec = app.specs[name]
    row["setup"] = {
        "n": n_features(spec.data),
        "m": spec.model.m,
        "feature_probability": round(1 - spec.data.sparsity, 6),
        "steps": app.train.steps,
        "n_models": app.n_instances,
    }
    return row


@hydra.main(version_base="1.3", config_path="../configs", config_name="correlated")
def run(cfg: DictConfig) -> None:
    with one_line_errors():
        app = validate_app(to_dataclass(cfg))
        out = hydra_output_dir()
        start = time.perf_counter()
        cache = RunCache(app.cache_dir) if app.cache else None
        results = run_jobs(training_jobs(app), app.workers, cache)
        summary = {"figures": {}}
        for name in app.figures:
            npz = write_npz_atomic(out / f"{name}.npz", figure_arrays(name, results, app))
            draw_figure(name, npz, app.n_shown)
            summary["figures"][name] = summarize(name, npz, app)
        summary["seconds"] = round(time.perf_counter() - start, 1)
        table = summary_markdown(summary)
        write_json_atomic(out / "summary.json", summary)
        write_text_atomic(out / "summary.md", table)
        print(f"\n{table}\nwrote {len(app.figures)} figures to {out} in {summary['seconds']:.0f}s")


def main() -> None:
    check_overrides("correlated", validate_app)
    run()


if __name__ == "__main__":
    main()
