"""`python -m experiments.aggregate`: one table from a sweep; bad jobs reported, never zeros."""

import csv
import json
import os
import shlex
import tempfile
from pathlib import Path

import pytest

import experiments.aggregate as aggregate_cli
from tests.conftest import run_module
from tms.core import completion
from tms.run.aggregate import collect, to_csv


def make_job(root, name, overrides, metrics=None, raw=None, raw_overrides=None):
    job = root / name
    (job / ".hydra").mkdir(parents=True)
    text = raw_overrides if raw_overrides is not None else "".join(f"- {o}\n" for o in overrides)
    (job / ".hydra" / "overrides.yaml").write_text(text)
    if raw is not None:
        (job / "metrics.json").write_text(raw)
    elif metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
    if (job / "metrics.json").exists():
        completion.finish(job, ["metrics.json"])  # as a finished train run leaves it
    return job


def csv_rows(path):
    return list(csv.DictReader(Path(path).read_text().splitlines()))


def csv_header(path):
    return next(csv.reader(Path(path).read_text().splitlines()))


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


def run_main(capsys, *args):
    """The command in-process: its exit code and stderr lines (an exception fails the test)."""
    code = aggregate_cli.main([str(a) for a in args])
    return code, capsys.readouterr().err.strip().splitlines()


def test_rows_join_overrides_and_metrics_and_average_per_instance_lists(tmp_path):
    p = "data.feature_probability"
    make_job(tmp_path, "0", [f"{p}=0.1", "seed=0"], {"final_loss_mean": 0.5, "geometry": {"x": [1, 3, None]}})
    make_job(tmp_path, "1", [f"{p}=0.01", "seed=0"], {"final_loss_mean": 0.25, "geometry": {"x": [2, 2]}})
    agg = collect(tmp_path)
    assert agg.params == ["data.feature_probability", "seed"]
    assert agg.metrics == ["final_loss_mean", "geometry.x"]
    assert [r["data.feature_probability"] for r in agg.rows] == ["0.1", "0.01"]
    assert [r["geometry.x"] for r in agg.rows] == [2.0, 2.0]  # mean over instances, nulls ignored


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


@pytest.mark.parametrize(
    "overrides_yaml, reason",
    [
        ("seed: 1\nlr: 0.1\n", "not a list of key=value overrides (got an object)"),
        ("just a string\n", "not a list of key=value overrides (got a string)"),
        ("42\n", "not a list of key=value overrides (got a number)"),
        ("3.5\n", "not a list of key=value overrides (got a number)"),
        ("true\n", "not a list of key=value overrides (got a boolean)"),
        ("- seed=1\n- [nested]\n", "override ['nested'] is not a key=value string"),
        ("- {seed: 1}\n", "override {'seed': 1} is not a key=value string"),
        ("- seed=1\n- 7\n", "override 7 is not a key=value string"),
        ("[unclosed\n", ""),  # not YAML at all
    ],
)
def test_overrides_that_are_not_a_list_of_strings_are_reported_and_skipped(tmp_path, capsys, overrides_yaml, reason):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.5})
    make_job(tmp_path, "1", [], {"final_loss_mean": 0.25}, raw_overrides=overrides_yaml)
    agg = collect(tmp_path)
    assert [r["job"] for r in agg.rows] == ["0"]
    assert len(agg.skipped) == 1
    job, why = agg.skipped[0]
    assert job == "1" and why.startswith("malformed: .hydra/overrides.yaml: ") and reason in why
    code, err = run_main(capsys, tmp_path)
    assert code == 0
    assert err == [f"skipped 1: {why}"]
    assert [r["job"] for r in csv_rows(tmp_path / "aggregate.csv")] == ["0"]


def test_empty_overrides_file_is_a_job_without_overrides(tmp_path):
    make_job(tmp_path, "0", [], {"final_loss_mean": 0.5}, raw_overrides="")
    agg = collect(tmp_path)
    assert agg.skipped == [] and agg.params == []
    assert agg.rows == [{"job": "0", "final_loss_mean": 0.5}]


def readonly_by_patch(monkeypatch, folder):
    """Simulate a read-only folder even as root (where permission bits do not stop writes):
    every file creation in it fails as the kernel would refuse it."""
    real = tempfile.mkstemp
    folder = Path(folder).resolve()

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).resolve() == folder:
            raise PermissionError(13, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def readonly_by_chmod(monkeypatch, folder):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits")
    os.chmod(folder, 0o555)  # restored by the test


@pytest.mark.parametrize("make_readonly", [readonly_by_patch, readonly_by_chmod])
def test_read_only_sweep_folder_gives_one_line_and_writes_nothing_then_out_works(
    tmp_path, capsys, monkeypatch, make_readonly
):
    sweep = tmp_path / "sweep"
    make_job(sweep, "0", ["seed=0"], {"final_loss_mean": 0.5})
    make_job(sweep, "1", ["seed=1"], {"final_loss_mean": 0.25})
    before = files_under(sweep)
    make_readonly(monkeypatch, sweep)
    try:
        code, err = run_main(capsys, sweep, "--plot", "final_loss_mean", "--by", "seed")
        assert code == 2
        assert err == [f"error: --out: {sweep} is not a writable folder (use --out PATH)"]
        assert files_under(sweep) == before
        out = tmp_path / "results"
        code, err = run_main(capsys, sweep, "--out", out, "--plot", "final_loss_mean", "--by", "seed")
        assert code == 0, err
        assert files_under(sweep) == before
        assert [r["seed"] for r in csv_rows(out / "aggregate.csv")] == ["0", "1"]
        assert (out / "aggregate.md").exists()
        assert (out / "aggregate_final_loss_mean_by_seed.png").stat().st_size > 0
    finally:
        os.chmod(sweep, 0o755)


@pytest.mark.parametrize(
    "out",
    [
        "a_file",  # exists, but is a file
        "a_file/sub",  # cannot be created under a file
        pytest.param(
            "/proc", marks=pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
        ),  # read-only even for root
    ],
)
def test_unwritable_out_is_one_line_exit_2_and_writes_nothing(tmp_path, out):
    sweep = tmp_path / "sweep"
    make_job(sweep, "0", ["seed=0"], {"final_loss_mean": 0.5})
    (tmp_path / "a_file").write_text("not a folder")
    before = files_under(tmp_path)
    proc = run_module("experiments.aggregate", "sweep", "--out", out, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: --out: {out} is not a writable folder (use --out PATH)"]
    assert files_under(tmp_path) == before


def test_out_folder_is_created_and_holds_every_output(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    make_job(sweep, "0", ["seed=0"], {"final_loss_mean": 0.5})
    before = files_under(sweep)
    out = tmp_path / "new" / "nested"
    code, err = run_main(capsys, sweep, "--out", out, "--plot", "final_loss_mean", "--by", "seed")
    assert code == 0, err
    assert files_under(sweep) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "aggregate.csv",
        "aggregate.md",
        "aggregate_final_loss_mean_by_seed.png",
        "aggregate_final_loss_mean_by_seed.svg",
    ]


@pytest.mark.parametrize(
    "overrides, metrics, expected",
    [
        (  # the reported case: n_instances is both an override and a metric
            ["n_instances=3", "seed=0"],
            {"n_instances": 6, "final_loss_mean": 0.5},
            {"n_instances": "3", "metric.n_instances": "6", "seed": "0", "final_loss_mean": "0.5"},
        ),
        (  # a nested metric flattened onto an override key
            ["geometry.k=2"],
            {"geometry": {"k": 9, "x": 1}},
            {"geometry.k": "2", "metric.geometry.k": "9", "geometry.x": "1"},
        ),
        (  # the prefixed name is itself taken by a metric
            ["n=4"],
            {"n": 5, "metric": {"n": 7}},
            {"n": "4", "metric.metric.n": "5", "metric.n": "7"},
        ),
        (["job=a"], {"job": 1, "x": 2}, {"job": "0", "override.job": "a", "metric.job": "1", "x": "2"}),
    ],
)
def test_override_and_metric_columns_never_collide(tmp_path, overrides, metrics, expected):
    make_job(tmp_path, "0", overrides, metrics)
    make_job(tmp_path, "1", [], {"other": 1})  # a job without the override: same names, cells empty
    agg = collect(tmp_path)
    to = tmp_path / "aggregate.csv"
    to.write_text(to_csv(agg))
    header = csv_header(to)
    assert len(header) == len(set(header)), header
    assert set(header) == {"job", "other", *expected}
    assert not set(agg.params) & set(agg.metrics)
    first, second = csv_rows(to)
    assert {k: first[k] for k in expected} == expected
    assert {k: v for k, v in second.items() if k not in ("job", "other")} == {k: "" for k in expected if k != "job"}


def docstring_example():
    """The arguments of the module docstring's --plot example, PATH left as is."""
    (line,) = [line for line in aggregate_cli.__doc__.splitlines() if "--plot" in line]
    args = shlex.split(line)
    assert args[:3] == ["python", "-m", "experiments.aggregate"]
    return args[3:]


def test_docstring_plot_example_works_on_per_instance_metrics(tmp_path):
    args = docstring_example()
    metric, param = args[args.index("--plot") + 1], args[args.index("--by") + 1]
    assert metric == "geometry.mean_cos_within_sets" and args[0] == "PATH"
    sweep = tmp_path / "sweep"
    for i, (p, values) in enumerate([("0.1", [0.5, None, 0.1]), ("0.01", [None, None]), ("0.001", [-0.2, 0.4])]):
        geometry = {"mean_cos_within_sets": values, "mean_dimensionality": [1, 2], "collapsed_sets": [0, 1]}
        make_job(sweep, str(i), [f"{param}={p}", "seed=0"], {"final_loss_mean": 0.1, "geometry": geometry})
    proc = run_module("experiments.aggregate", *[str(sweep) if a == "PATH" else a for a in args], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = csv_header(sweep / "aggregate.csv")
    assert all(" " not in c and "(" not in c for c in header), header
    rows = csv_rows(sweep / "aggregate.csv")
    assert [r[metric] for r in rows] == ["0.3", "", "0.1"]  # mean over instances, nulls ignored
    assert [r["geometry.mean_dimensionality"] for r in rows] == ["1.5"] * 3
    assert [r[param] for r in rows] == ["0.1", "0.01", "0.001"]
    assert (sweep / f"aggregate_{metric}_by_{param}.png").stat().st_size > 0


def provenance(commit, dirty):
    return {"tms": "0.3.0", "git_commit": commit, "git_dirty": dirty, "torch": "2.5.1", "numpy": "2.1.3"}


NO_STEPS = {  # train.steps=0: no loss at all
    "n_instances": 2,
    "steps": 0,
    "instance_steps_per_s": None,
    "final_loss": None,
    "final_loss_mean": None,
    "final_loss_std": None,
    "cached": False,
    "run_key": "ab12cd",
    "provenance": provenance("0123abcd", True),
}
TRAINED = {
    **NO_STEPS,
    "steps": 10,
    "instance_steps_per_s": 100.0,
    "final_loss": [0.2, 0.3],
    "final_loss_mean": 0.25,
    "final_loss_std": 0.05,
    "run_key": "ef34ab",
    "provenance": provenance(None, None),  # outside a git checkout
}


def test_nulls_stay_empty_and_provenance_strings_are_not_columns(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], NO_STEPS)
    make_job(tmp_path, "1", ["seed=1"], TRAINED)
    agg = collect(tmp_path)
    assert agg.metrics == [
        "n_instances",
        "steps",
        "instance_steps_per_s",
        "final_loss",
        "final_loss_mean",
        "final_loss_std",
        "cached",
        "provenance.git_dirty",
    ]
    (tmp_path / "aggregate.csv").write_text(to_csv(agg))
    no_steps, trained = csv_rows(tmp_path / "aggregate.csv")
    assert {k: no_steps[k] for k in ("final_loss", "final_loss_mean", "instance_steps_per_s", "cached")} == {
        "final_loss": "",
        "final_loss_mean": "",
        "instance_steps_per_s": "",
        "cached": "False",
    }
    assert (trained["final_loss"], trained["final_loss_mean"]) == ("0.25", "0.25")
    assert (no_steps["provenance.git_dirty"], trained["provenance.git_dirty"]) == ("True", "")


def test_a_key_null_in_every_job_is_an_empty_column(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], NO_STEPS)
    make_job(tmp_path, "1", ["seed=1"], NO_STEPS)
    agg = collect(tmp_path)
    assert "final_loss_mean" in agg.metrics
    assert all(r.get("final_loss_mean") is None for r in agg.rows)
    assert "provenance.git_commit" not in agg.metrics  # strings, never a column


ALL_NULL = {"geometry": {"angle": [None, None]}, "final_loss_mean": 0.1}


@pytest.mark.parametrize(
    "jobs, metric, code, message",
    [
        ([NO_STEPS, TRAINED], "final_loss_mean", 0, None),  # the null job is left off the plot
        ([NO_STEPS, TRAINED], "provenance.git_dirty", 0, None),  # booleans plot as 0/1
        ([NO_STEPS, TRAINED], "instance_steps_per_s", 0, None),
        ([NO_STEPS, NO_STEPS], "final_loss_mean", 2, "error: --plot: column 'final_loss_mean' is empty"),
        # A per-model list of nulls in every job averages to NaN: nothing to draw either.
        ([ALL_NULL, ALL_NULL], "geometry.angle", 2, "error: --plot: column 'geometry.angle' is empty (null, NaN"),
        ([NO_STEPS, TRAINED], "provenance.torch", 2, "error: --plot: unknown column 'provenance.torch'"),
        ([NO_STEPS, TRAINED], "run_key", 2, "error: --plot: unknown column 'run_key'"),
    ],
)
def test_plotting_with_nulls_booleans_and_strings(tmp_path, capsys, jobs, metric, code, message):
    for i, metrics in enumerate(jobs):
        make_job(tmp_path, str(i), [f"seed={i}"], metrics)
    got, err = run_main(capsys, tmp_path, "--plot", metric, "--by", "seed")
    assert got == code, err
    plot = tmp_path / f"aggregate_{metric}_by_seed.png"
    if message is None:
        assert err == [] and plot.stat().st_size > 0
    else:
        assert len(err) == 1 and err[0].startswith(message), err
        assert not plot.exists() and not (tmp_path / "aggregate.csv").exists()


def test_aggregate_command_on_a_real_sweep(tmp_path):
    proc = run_module(
        "experiments.train",
        "-m",
        "data.feature_probability=0.1,0.01",
        "train.steps=20",
        "n_instances=2",
        "out_dir=sweep",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "sweep" / "1" / "metrics.json").write_text("{broken")
    proc = run_module(
        "experiments.aggregate", "sweep", "--plot", "final_loss_mean", "--by", "data.feature_probability", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1: malformed" in proc.stderr
    header = csv_header(tmp_path / "sweep" / "aggregate.csv")
    assert len(header) == len(set(header)), header
    assert all(" " not in c and "(" not in c for c in header), header
    rows = csv_rows(tmp_path / "sweep" / "aggregate.csv")
    assert [r["data.feature_probability"] for r in rows] == ["0.1"]
    assert [(r["n_instances"], r["metric.n_instances"]) for r in rows] == [("2", "2")]
    assert not any(c.startswith("provenance.") and c != "provenance.git_dirty" for c in header), header
    assert (tmp_path / "sweep" / "aggregate.md").exists()
    assert (tmp_path / "sweep" / "aggregate_final_loss_mean_by_data.feature_probability.png").stat().st_size > 0


def test_aggregate_rejects_an_unknown_column_in_one_line(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.5})
    proc = run_module("experiments.aggregate", str(tmp_path), "--plot", "nope", "--by", "seed")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: --plot: unknown column 'nope'; allowed: final_loss_mean"]


@pytest.mark.parametrize(("args", "missing"), [(["--plot", "final_loss_mean"], "--by"), (["--by", "seed"], "--plot")])
def test_plot_without_by_names_the_missing_option_in_one_line(tmp_path, capsys, args, missing):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.5})
    code, err = run_main(capsys, tmp_path, *args)
    assert code == 2 and err == [f"error: {missing}: --plot and --by go together"]
    assert not (tmp_path / "aggregate.csv").exists()


def test_a_folder_with_no_complete_job_is_bad_input_exit_2(tmp_path, capsys):
    make_job(tmp_path, "0", ["seed=0"])  # a job that never finished: no metrics, no marker
    code, err = run_main(capsys, tmp_path)
    assert code == 2 and err[-1].startswith("error: path: no complete job"), err


REWRITTEN = "incomplete: metrics.json does not match complete.json: it was rewritten after the run finished"


def test_a_job_whose_marker_does_not_match_is_skipped_as_incomplete(tmp_path):
    make_job(tmp_path, "0", ["seed=0"], {"final_loss_mean": 0.1})
    make_job(tmp_path, "1", ["seed=1"], {"final_loss_mean": 0.2})
    (tmp_path / "1" / "metrics.json").write_text('{"final_loss_mean": 0.3}')  # rewritten after the marker
    agg = collect(tmp_path)
    assert [r["job"] for r in agg.rows] == ["0"]
    assert agg.skipped == [("1", REWRITTEN)]
