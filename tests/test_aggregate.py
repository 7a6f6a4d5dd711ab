"""`python -m experiments.aggregate`: one table from a sweep; bad jobs reported, never zeros."""

import csv
import json

from tests.conftest import run_module
from tms.aggregate import collect, to_csv


def make_job(root, name, overrides, metrics=None, raw=None):
    job = root / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if raw is not None:
        (job / "metrics.json").write_text(raw)
    elif metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
    return job


def test_rows_join_overrides_and_metrics_and_average_per_instance_lists(tmp_path):
    make_job(tmp_path, "0", ["data.sparsity=0.9", "seed=0"], {"final_loss_mean": 0.5, "geometry": {"x": [1, 3, None]}})
    make_job(tmp_path, "1", ["data.sparsity=0.99", "seed=0"], {"final_loss_mean": 0.25, "geometry": {"x": [2, 2]}})
    agg = collect(tmp_path)
    assert agg.params == ["data.sparsity", "seed"]
    assert [r["data.sparsity"] for r in agg.rows] == ["0.9", "0.99"]
    assert [r["geometry.x (mean)"] for r in agg.rows] == [2.0, 2.0]


def test_malformed_and_missing_jobs_are_reported_and_skipped_not_zeroed(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.5, "only_here": 7})
    make_job(tmp_path, "1", ["seed=1"], raw="{not json")
    make_job(tmp_path, "2", ["seed=2"])  # job that never wrote metrics.json
    make_job(tmp_path, "3", ["seed=3"], raw="[1, 2]")  # valid JSON, wrong shape
    make_job(tmp_path, "4", ["seed=4"], {"final_loss_mean": 0.75})
    agg = collect(tmp_path)
    assert [r["job"] for r in agg.rows] == ["0", "4"]
    assert sorted(job for job, _ in agg.skipped) == ["1", "2", "3"]
    rows = list(csv.DictReader(to_csv(agg).splitlines()))
    assert rows[1]["only_here"] == ""  # a metric a job lacks stays empty, not 0


def test_aggregate_command_on_a_real_sweep(tmp_path):
    proc = run_module(
        "experiments.train",
        "-m",
        "data.sparsity=0.9,0.99",
        "train.steps=20",
        "n_instances=2",
        "out_dir=sweep",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "sweep" / "1" / "metrics.json").write_text("{broken")
    proc = run_module(
        "experiments.aggregate", "sweep", "--plot", "final_loss_mean", "--by", "data.sparsity", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1: malformed" in proc.stderr
    rows = list(csv.DictReader((tmp_path / "sweep" / "aggregate.csv").read_text().splitlines()))
    assert [r["data.sparsity"] for r in rows] == ["0.9"]
    assert (tmp_path / "sweep" / "aggregate.md").exists()
    assert (tmp_path / "sweep" / "aggregate_final_loss_mean_by_data.sparsity.png").stat().st_size > 0


def test_aggregate_rejects_an_unknown_column_in_one_line(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.5})
    proc = run_module("experiments.aggregate", str(tmp_path), "--plot", "nope", "--by", "seed")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: --plot: unknown column 'nope'; allowed: final_loss_mean"]
