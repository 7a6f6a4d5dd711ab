"""The figure registry: one module per figure, seeds that never repeat, and an in-process run."""

from pathlib import Path

import numpy as np
import pytest

from tms.core.train import instance_layout
from tms.figures import FIGURES, names, summary_markdown
from tms.run.apps import FiguresConfig, RunnerConfig
from tms.run.compose import load_config
from tms.run.make_figures import figure_jobs, make_figures


@pytest.fixture(scope="module")
def app() -> FiguresConfig:
    return load_config(
        "correlated",
        [
            "n_instances=4",
            "sparsity_sweep.n_instances=3",
            "train.steps=20",
            "collapse_transition.n_instances=2",
            "learning_dynamics.n_instances=2",
            "local_basis_scaling.n_instances=2",
            "local_basis_scaling.m=[3,6]",
            "init_robustness.n_instances=2",
            "training_recipes.n_instances=2",
            "continued.n_instances=2",
        ],
    )


def seeds_of(job):
    p, seeds = instance_layout(job.config)
    return list(zip(p.tolist(), seeds.tolist(), strict=True))


def test_every_figure_draws_its_own_disjoint_block_of_seeds(app):
    """Across figures, sweep geometries and points no initialisation repeats; each control
    shares its model's seeds one for one, and continued models are the figure's own first models."""
    owners = {}
    for entry in FIGURES:
        name = entry.name
        jobs = figure_jobs(entry, app)
        assert jobs, name
        by_part = {}
        for job in jobs:
            by_part.setdefault((job.key.part, job.key.control), []).extend(seeds_of(job))
        for (part, control), seeds in by_part.items():
            if control:
                assert sorted(seeds) == sorted(by_part[part, False]), (name, part)
                continue
            if part == "continued":
                assert seeds == by_part["", False][: len(seeds)], name
                continue
            assert len({s for _, s in seeds}) == len(seeds), (name, part)
            for p, s in seeds:
                assert s not in owners, f"seed of {name}/{part} at {p} also used by {owners[s]}"
                owners[s] = (name, part, p)


def test_in_process_run_writes_every_artifact_and_a_summary_per_figure(tmp_path, app):
    app = load_config(
        "correlated",
        [
            "n_instances=4",
            "sparsity_sweep.n_instances=2",
            "train.steps=10",
            "collapse_transition.n_instances=1",
            "learning_dynamics.n_instances=2",
            "local_basis_scaling.n_instances=2",
            "local_basis_scaling.m=[3]",
            "init_robustness.n_instances=2",
            "training_recipes.n_instances=2",
            "continued.n_instances=2",
            "sparsity_sweep.feature_probabilities=[0.05,0.3]",
            "collapse_transition.feature_probabilities=[0.01,0.1]",
        ],
    )
    app.runner = RunnerConfig(kind="pool", workers=1)
    app.cache = False
    logs = []
    summary = make_figures(app, Path(tmp_path), log=logs.append)
    assert set(summary["figures"]) == set(names()) and set(summary["provenance"]) >= {"tms", "git_commit"}
    for name in names():
        assert (tmp_path / f"{name}.png").stat().st_size > 0 and (tmp_path / f"{name}.svg").exists()
        with np.load(tmp_path / f"{name}.npz") as f:
            assert "provenance_json" in f.files
    text = summary_markdown(summary)
    assert text == (tmp_path / "summary.md").read_text()
    for entry in FIGURES:
        name = entry.name
        if entry.table == "claims":
            assert f"| `{name}` |" in text
    assert logs[-1].startswith(f"wrote {len(FIGURES)} figures")
