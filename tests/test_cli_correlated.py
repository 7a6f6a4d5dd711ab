"""`python -m experiments.correlated`: a tiny end-to-end run and its command-line contract."""

import json

import numpy as np
import pytest

from tests.conftest import run_module
from tms.artifacts import WEIGHT_KEYS
from tms.plotting import plot_weights_2d

PAPER = ["correlated_pairs", "anticorrelated_pairs", "correlated_three_sets", "local_orthogonal_basis"]
FIGURES = [*PAPER, "sparsity_sweep", "collapse_transition", "learning_dynamics"]
TINY = ["train.steps=30", "n_instances=3", "n_shown=3", "sparsity_sweep.n_seeds=2", "collapse_transition.n_seeds=2"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    proc = run_module("experiments.correlated", f"out_dir={out}", *TINY)
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_writes_png_svg_and_npz(tiny_run, name):
    out, _ = tiny_run
    for ext in ("png", "svg", "npz"):
        path = out / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 0, path


@pytest.mark.parametrize("name", [*PAPER, "collapse_transition", "learning_dynamics"])
def test_figure_npz_has_the_weights_keys(tiny_run, name):
    out, _ = tiny_run
    with np.load(out / f"{name}.npz") as f:
        assert set(WEIGHT_KEYS) <= set(f.files)
        if name in PAPER or name == "learning_dynamics":
            assert f["W"].shape[0] == 3 and f["seed"].tolist() == [0, 1, 2]


def test_sweeps_hold_every_requested_sparsity_and_seed(tiny_run):
    out, _ = tiny_run
    with np.load(out / "collapse_transition.npz") as f:
        p, seeds = f["feature_probability"], f["seed"]
    assert len(np.unique(p)) == 15 and len(p) == 30  # the default 15 values x 2 seeds
    assert np.all(np.diff(p) >= 0) and sorted(set(seeds.tolist())) == [0, 1]
    with np.load(out / "sparsity_sweep.npz") as f:
        for geometry in PAPER:
            assert f[f"{geometry}.W"].shape[0] == 16 and f[f"{geometry}.control_W"].shape[0] == 16
    with np.load(out / "learning_dynamics.npz") as f:
        assert f["snapshots"].shape[1:] == (3, 3, 6) and f["snapshot_steps"][0] == 0
        assert f["snapshot_steps"][-1] == 30 and np.array_equal(f["snapshots"][-1], f["W"])


def test_summary_is_written_and_printed(tiny_run):
    out, proc = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["figures"]) == set(FIGURES)
    for name in [*PAPER, "learning_dynamics"]:
        row = summary["figures"][name]
        assert 0 <= row["fraction_holds"] <= 1 and row["n_models"] == 3
    assert [r["paper_collapsed"] for r in summary["figures"]["collapse_transition"]["collapse"]] == [0, 1, 2, 3]
    table = (out / "summary.md").read_text()
    assert "| `learning_dynamics` |" in table and "**Collapse transition**" in table
    assert "| `correlated_pairs` |" in proc.stdout


def test_figures_redraw_from_saved_npz_without_training(tiny_run, tmp_path):
    out, _ = tiny_run
    fig = plot_weights_2d(out / "correlated_pairs.npz", n_shown=2, title="redrawn")
    fig.savefig(tmp_path / "redrawn.png")
    assert (tmp_path / "redrawn.png").stat().st_size > 0


def test_figure_selection_writes_only_those_figures(tmp_path):
    proc = run_module(
        "experiments.correlated", f"out_dir={tmp_path}", "figures=[correlated_pairs]", "train.steps=5", "n_instances=2"
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["correlated_pairs.png"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["figures=[correlated_pairs,no_such_figure]"], "figures"),
        (["specs.correlated_pairs.model.m=3"], "specs.correlated_pairs.model.m"),
        (["specs.anticorrelated_pairs.data.sparsity=1.0"], "specs.anticorrelated_pairs.data.sparsity"),
    ],
)
def test_bad_figure_input_is_one_line_and_writes_nothing(tmp_path, args, field):
    out = tmp_path / "out"
    proc = run_module("experiments.correlated", f"out_dir={out}", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"error: {field}:"), proc.stderr
    assert not out.exists()


def test_multirun_sweeps_a_figure_setting_into_one_folder_per_job(tmp_path):
    proc = run_module(
        "experiments.correlated",
        "-m",
        "specs.anticorrelated_pairs.data.sparsity=0.3,0.5",
        "figures=[anticorrelated_pairs]",
        "train.steps=10",
        "n_instances=2",
        f"out_dir={tmp_path}",
    )
    assert proc.returncode == 0, proc.stderr
    p = {job: json.loads((tmp_path / job / "summary.json").read_text()) for job in ("0", "1")}
    assert [p[j]["figures"]["anticorrelated_pairs"]["setup"]["feature_probability"] for j in "01"] == [0.7, 0.5]
    assert (tmp_path / "0" / "anticorrelated_pairs.png").exists() and (
        tmp_path / "1" / "anticorrelated_pairs.png"
    ).exists()
