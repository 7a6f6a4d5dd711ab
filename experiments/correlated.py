"""Regenerate the paper's correlated / anticorrelated feature figures and their summary.

    python -m experiments.correlated                       # all figures into figures/
    python -m experiments.correlated out_dir=/tmp/f figures=[correlated_pairs] train.steps=500

For each figure <name> the output folder gets <name>.npz (the trained models, same keys as
weights.npz, plus control_W/control_b for the independent-feature control), then <name>.png
and <name>.svg drawn from that npz, and finally summary.json and summary.md.
"""

from __future__ import annotations

import copy
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from experiments._cli import check_overrides, hydra_output_dir, one_line_errors
from tms.artifacts import load_weights, weights_arrays, write_json_atomic, write_npz_atomic, write_text_atomic
from tms.claims import summarize_claim
from tms.config import DataConfig, FeatureSet, RunConfig, n_features, validate_data, validate_model, validate_train
from tms.errors import ConfigError
from tms.features import FeatureStructure
from tms.hydra_config import CorrelatedApp, to_dataclass
from tms.plotting import plot_gram, plot_weights_2d, save_figure
from tms.summary import summary_markdown
from tms.train import train

TITLES = {
    "correlated_pairs": "Correlated pairs get orthogonal directions",
    "anticorrelated_pairs": "Anticorrelated pairs get opposite directions",
    "correlated_three_sets": "Three correlated pairs in 2D sit side by side (ringed: collapsed)",
    "local_orthogonal_basis": "Each correlated set forms a local almost-orthogonal basis",
}
HEATMAPS = {"local_orthogonal_basis"}


def validate_app(app: CorrelatedApp) -> CorrelatedApp:
    for name in app.figures:
        if name not in TITLES:
            raise ConfigError("figures", f"unknown figure {name!r}; allowed: {', '.join(TITLES)}")
        if name not in app.specs:
            raise ConfigError(f"specs.{name}", "missing; every selected figure needs a spec")
        spec = app.specs[name]
        validate_data(spec.data, f"specs.{name}.data")
        validate_model(spec.model, n_features(spec.data), f"specs.{name}.model")
        if name not in HEATMAPS and spec.model.m != 2:
            raise ConfigError(f"specs.{name}.model.m", f"got {spec.model.m}; the 2D weight plot needs m = 2")
    validate_train(app.train)
    for field_name, lowest in (("n_instances", 1), ("n_shown", 1), ("seed", 0), ("workers", 1)):
        value = getattr(app, field_name)
        if value < lowest:
            raise ConfigError(field_name, f"got {value}; must be an integer >= {lowest}")
    return app


def run_config(app: CorrelatedApp, name: str) -> RunConfig:
    spec = app.specs[name]
    return RunConfig(data=spec.data, model=spec.model, train=app.train, n_instances=app.n_instances, seed=app.seed)


def control_config(cfg: RunConfig) -> RunConfig:
    """Same n, m, sparsity, seeds and training, but every feature independent."""
    control = copy.deepcopy(cfg)
    control.data = DataConfig(
        sets=[FeatureSet("independent", n_features(cfg.data), 1)],
        sparsity=cfg.data.sparsity,
        sparsities=list(cfg.data.sparsities),
    )
    return control


def train_all(app: CorrelatedApp) -> dict:
    """Train every selected figure's models (and controls): {(name, is_control): TrainResult}.

    Jobs are independent trainings of different shapes, so with workers > 1 they run in a
    pool of single-threaded processes, longest first; each job's result depends only on its
    config, not on the worker count.
    """
    jobs = {}
    for name in app.figures:
        cfg = run_config(app, name)
        jobs[(name, False)] = cfg
        if app.controls:
            jobs[(name, True)] = control_config(cfg)
    if app.workers <= 1:
        return {key: train(cfg, label=_label(key)) for key, cfg in jobs.items()}
    quiet = {key: _quiet(cfg) for key, cfg in jobs.items()}
    order = sorted(quiet, key=lambda key: -_cost(quiet[key]))
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe once torch has started threads
    with ProcessPoolExecutor(app.workers, mp_context=ctx, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        futures = {key: pool.submit(train, quiet[key]) for key in order}
        results = {}
        for key in order:
            results[key] = futures[key].result()
            print(f"trained {_label(key)}", flush=True)
    return results


def _label(key) -> str:
    name, is_control = key
    return f"{name} control" if is_control else name


def _quiet(cfg: RunConfig) -> RunConfig:
    cfg = copy.deepcopy(cfg)
    cfg.train.progress = False
    return cfg


def _cost(cfg: RunConfig) -> float:
    """Rough work estimate: instances x expected non-zero samples x n (for job ordering)."""
    structure = FeatureStructure.from_sets(cfg.data.sets)
    p_nonzero = 1 - cfg.data.sparsity**structure.n_units
    return cfg.n_instances * max(p_nonzero * cfg.train.batch, 1) * structure.n


def save_figure_npz(name: str, result, control, out: Path) -> Path:
    extra = {}
    if control is not None:
        extra = {"control_W": control.W, "control_b": control.b, "control_loss": control.loss}
    return write_npz_atomic(out / f"{name}.npz", weights_arrays(result, extra))


def draw_figure(name: str, npz: Path, n_shown: int) -> None:
    """Draw <name>.png/.svg next to its npz, from the npz alone."""
    arrays = load_weights(npz)
    if name in HEATMAPS:
        panels = [("correlated sets (blocks: 2 sets of 10)", arrays)]
        if "control_W" in arrays:
            control = {**arrays, "W": arrays["control_W"]}
            panels.append(("control: independent features", control))
        fig = plot_gram(panels, title=f"{TITLES[name]}: WᵀW of seed {int(arrays['seed'][0])}")
    else:
        fig = plot_weights_2d(arrays, n_shown=n_shown, title=TITLES[name])
    save_figure(fig, npz.with_suffix(""))


def summarize(name: str, npz: Path) -> dict:
    arrays = load_weights(npz)
    return summarize_claim(name, arrays["W"], arrays["set_id"], arrays.get("control_W"))


@hydra.main(version_base="1.3", config_path="../configs", config_name="correlated")
def run(cfg: DictConfig) -> None:
    with one_line_errors():
        app = validate_app(to_dataclass(cfg))
        out = hydra_output_dir()
        start = time.perf_counter()
        results = train_all(app)
        rows = {}
        for name in app.figures:
            npz = save_figure_npz(name, results[(name, False)], results.get((name, True)), out)
            draw_figure(name, npz, app.n_shown)
            rows[name] = summarize(name, npz)
            rows[name]["setup"] = setup_of(app, name)
            print(f"{name}: {rows[name]['fraction_holds']:.0%} of {rows[name]['n_models']} models show the geometry")
        seconds = time.perf_counter() - start
        summary = {"seconds": round(seconds, 1), "figures": rows}
        table = summary_markdown(summary)
        write_json_atomic(out / "summary.json", summary)
        write_text_atomic(out / "summary.md", table)
        print(f"\n{table}\nwrote {len(rows)} figures to {out} in {seconds:.0f}s")


def setup_of(app: CorrelatedApp, name: str) -> dict:
    spec = app.specs[name]
    return {
        "n": n_features(spec.data),
        "m": spec.model.m,
        "feature_probability": round(1 - spec.data.sparsity, 6),
        "steps": app.train.steps,
        "n_models": app.n_instances,
    }


def main() -> None:
    check_overrides("correlated", validate_app)
    run()


if __name__ == "__main__":
    main()
