"""The committed figures hold what the README claims: enough models, their controls, disjoint
seeds, and an interval beside every fraction."""

import json

import numpy as np
import pytest

from tests.conftest import ROOT
from tms.core.artifacts import load_arrays
from tms.core.result import split_prefixed
from tms.figures import FIGURES, figure, load_result, names

FIG = ROOT / "figures"
SUMMARY = json.loads((FIG / "summary.json").read_text())
CLAIM_FIGURES = [f.name for f in FIGURES if f.table == "claims"]


def test_every_registered_figure_is_committed_with_its_summary():
    assert set(SUMMARY["figures"]) == set(names())
    for name in names():
        for ext in ("npz", "png", "svg"):
            assert (FIG / f"{name}.{ext}").stat().st_size > 0


@pytest.mark.parametrize("name", CLAIM_FIGURES)
def test_paper_figures_hold_enough_models_and_as_many_paired_controls(name):
    arrays = load_arrays(FIG / f"{name}.npz")
    minimum = 128 if name == "learning_dynamics" else 256
    assert arrays["W"].shape[0] >= minimum and arrays["control_W"].shape == arrays["W"].shape
    assert len(set(arrays["seed"].tolist())) == arrays["W"].shape[0]


def test_no_seed_repeats_across_committed_figures_and_points():
    owners = {}
    for name in names():
        arrays = load_arrays(FIG / f"{name}.npz")
        prefixes = sorted({k.split(".")[0] for k in arrays if k.endswith(".seed")}) or [None]
        for prefix in prefixes:
            part = split_prefixed(arrays, prefix) if prefix else arrays
            for p, seed in zip(part["feature_probability"].tolist(), part["seed"].tolist(), strict=True):
                assert seed not in owners, f"{name}/{prefix} at 1-S={p} reuses the seed of {owners[seed]}"
                owners[seed] = (name, prefix, p)


def test_sparsity_sweep_points_have_at_least_64_models_each():
    arrays = load_arrays(FIG / "sparsity_sweep.npz")
    for geometry in figure("sparsity_sweep").claims:
        part = split_prefixed(arrays, geometry)
        _, counts = np.unique(part["feature_probability"], return_counts=True)
        assert counts.min() >= 64 and part["control_W"].shape == part["W"].shape


def test_every_fraction_has_an_interval_and_every_control_a_paired_test():
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if "fraction" in key and not key.endswith("_ci95"):
                    assert f"{key}_ci95" in node, f"{path}.{key}"
                    if isinstance(value, list):
                        assert len(node[f"{key}_ci95"]) == len(value)
                if key == "control_fraction":
                    assert "paired_p" in node, path
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(SUMMARY, "summary")


def test_provenance_is_recorded_and_stable():
    assert set(SUMMARY["provenance"]) == {"tms", "git_commit", "git_dirty", "torch", "numpy", "numba", "scipy"}
    arrays = load_arrays(FIG / "correlated_pairs.npz")
    assert json.loads(str(arrays["provenance_json"])) == SUMMARY["provenance"]


def test_the_committed_figures_folder_is_complete():
    """Every committed artifact is vouched for by figures/complete.json (a figures run finished)."""
    from tms.core import completion

    record = completion.check(FIG)
    assert set(record["figures"]) == set(names())
    for name in names():
        assert {f"{name}.npz", f"{name}.png", f"{name}.svg"} <= set(record["files"])
    for name in ("correlated_pairs", "anticorrelated_pairs", "correlated_three_sets"):
        assert f"{name}_gallery.png" in record["files"] and (FIG / f"{name}_gallery.png").stat().st_size > 0


def test_load_result_with_an_unknown_part_lists_the_parts():
    from tms import ArtifactError

    with pytest.raises(ArtifactError, match="no part 'no_such'; its parts: anticorrelated_pairs, correlated_pairs"):
        load_result(FIG / "sparsity_sweep.npz", prefix="no_such")
