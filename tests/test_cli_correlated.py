"""`python -m experiments.correlated`: a tiny end-to-end run and its command-line contract."""

import json

import numpy as np
import pytest

from tests.conftest import run_module
from tms.artifacts import WEIGHT_KEYS
from tms.plotting import plot_weights_2d

FIGURES = ["correlated_pairs", "anticorrelated_pairs", "correlated_three_sets", "local_orthogonal_basis"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    proc = run_module("experiments.correlated", f"out_dir={out}", "train.steps=30", "n_instances=3", "n_shown=3")
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_writes_png_svg_and_npz(tiny_run, name):
    out, _ = tiny_run
    for ext in ("png", "svg", "npz"):
        path = out / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 0, path
    with np.load(out / f"{name}.npz") as f:
        assert set(WEIGHT_KEYS) <= set(f.files)
        assert f["W"].shape[0] == 3 and f["seed"].tolist() == [0, 1, 2]


def test_summary_is_written_and_printed(tiny_run):
    out, proc = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["figures"]) == set(FIGURES)
    for row in summary["figures"].values():
        assert 0 <= row["fraction_holds"] <= 1 and row["n_models"] == 3
    table = (out / "summary.md").read_text()
    assert table.count("\n") == len(FIGURES) + 2
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
