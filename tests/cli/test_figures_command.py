"""`python -m experiments.correlated`: a tiny end-to-end run of every registered figure."""

import json

import numpy as np
import pytest

from tests.conftest import run_module
from tms.core.result import WEIGHT_KEYS
from tms.figures import FIGURES, figure, load_result, names

TINY = [
    "train.steps=30",
    "n_instances=3",
    "n_shown=3",
    "sparsity_sweep.n_instances=2",
    "collapse_transition.n_instances=2",
    "learning_dynamics.n_instances=3",
    "local_basis_scaling.n_instances=2",
    "local_basis_scaling.m=[4,8]",
]
CLAIM_FIGURES = [f.name for f in FIGURES if f.table == "claims"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    proc = run_module("experiments.correlated", f"out_dir={out}", *TINY, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.parametrize("name", names())
def test_every_registered_figure_writes_png_svg_and_npz(tiny_run, name):
    out, _ = tiny_run
    for ext in ("png", "svg", "npz"):
        path = out / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 0, path


GALLERIES = [f.name for f in FIGURES if f.table == "claims" and not getattr(f, "heatmap", True)]


def test_every_2d_claim_figure_writes_a_gallery_the_marker_vouches_for(tiny_run):
    out, _ = tiny_run
    record = json.loads((out / "complete.json").read_text())
    assert {"correlated_pairs", "anticorrelated_pairs", "correlated_three_sets"} <= set(GALLERIES)
    for name in GALLERIES:
        assert (out / f"{name}_gallery.png").stat().st_size > 0 and f"{name}_gallery.png" in record["files"]
    assert not (out / "local_orthogonal_basis_gallery.png").exists()  # heatmaps have none


@pytest.mark.parametrize("name", CLAIM_FIGURES)
def test_claim_figures_hold_models_and_their_paired_controls(tiny_run, name):
    out, _ = tiny_run
    with np.load(out / f"{name}.npz") as f:
        assert set(WEIGHT_KEYS) <= set(f.files) and "provenance_json" in f.files
        assert f["W"].shape[0] == 3 and f["control_W"].shape == f["W"].shape
    result = load_result(out / f"{name}.npz")
    assert len(set(result.seed.tolist())) == 3


def test_sweeps_hold_every_requested_point_with_their_own_seeds(tiny_run):
    out, _ = tiny_run
    collapse = load_result(out / "collapse_transition.npz")
    assert len(np.unique(collapse.feature_probability)) == 15 and collapse.n_instances == 30
    assert np.all(np.diff(collapse.feature_probability) >= 0)
    assert len(set(collapse.seed.tolist())) == 30  # no two points share an initialisation
    with np.load(out / "sparsity_sweep.npz") as f:
        for geometry in figure("sparsity_sweep").claims:
            assert f[f"{geometry}.W"].shape[0] == 16 and f[f"{geometry}.control_W"].shape[0] == 16
            assert len(set(f[f"{geometry}.seed"].tolist())) == 16
    learning = load_result(out / "learning_dynamics.npz")
    assert learning.snapshots[0].shape == (3, 3, 6) and max(learning.snapshots) == 30
    assert np.array_equal(learning.snapshots[30], learning.W)


def test_summary_has_an_interval_beside_every_fraction_and_a_paired_test_per_control(tiny_run):
    out, proc = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["figures"]) == set(names())

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if "fraction" in key and not key.endswith("_ci95"):
                    assert f"{key}_ci95" in node, key
                if key.startswith("control_fraction") and not key.endswith("_ci95"):
                    assert "paired_p" in node
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(summary)
    for name in CLAIM_FIGURES:
        row = summary["figures"][name]
        assert row["n_instances"] == 3 and 0 <= row["paired_p"] <= 1 and row["verdict"]
    table = (out / "summary.md").read_text()
    assert "| `learning_dynamics` |" in table and "Verdict rule:" in table
    assert "| `correlated_pairs` |" in proc.stdout


def test_figures_selection_writes_only_those_figures_and_no_hydra_record(tmp_path):
    proc = run_module(
        "experiments.correlated", f"out_dir={tmp_path}", "figures=[correlated_pairs]", "train.steps=5", "n_instances=2"
    )
    assert proc.returncode == 0, proc.stderr
    stems = ["correlated_pairs.npz", "correlated_pairs.png", "correlated_pairs.svg", "correlated_pairs_gallery.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["complete.json", *stems, "summary.json", "summary.md", "timing.json"]
    )


def test_multirun_sweeps_a_figure_setting_into_one_folder_per_job(tmp_path):
    proc = run_module(
        "experiments.correlated",
        "-m",
        "setups.anticorrelated_pairs.data.feature_probability=0.3,0.5",
        "figures=[anticorrelated_pairs]",
        "train.steps=10",
        "n_instances=2",
        f"out_dir={tmp_path}",
    )
    assert proc.returncode == 0, proc.stderr
    p = {job: json.loads((tmp_path / job / "summary.json").read_text()) for job in ("0", "1")}
    assert [p[j]["figures"]["anticorrelated_pairs"]["setup"]["feature_probability"] for j in "01"] == [0.3, 0.5]
    assert (tmp_path / "0" / "anticorrelated_pairs.png").exists() and (
        tmp_path / "1" / "anticorrelated_pairs.png"
    ).exists()
