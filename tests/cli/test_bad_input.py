"""Every bad input is refused up front: one line `error: <field>: ...`, exit 2, nothing written.

Table-driven over both commands. Every case goes through the commands' own up-front check
(``experiments._cli.check_overrides``, which runs before Hydra creates anything) in this process;
a few run the real command in a fresh folder, to show the whole path writes nothing.
"""

import os
import shutil

import pytest
import torch

from experiments._cli import check_overrides
from tests.conftest import assert_one_line_error, run_module

TRAIN = [
    (["data.feature_probability=1.5"], "data.feature_probability"),
    (["data.sparsity=0.9"], "data.sparsity"),
    (["no_such_key=1"], "no_such_key"),
    (["-m", "data.feature_probability=0.1,1.2"], "data.feature_probability"),
    (["+train.learning_rate=0.5"], "train.learning_rate"),
    (["+data.foo=1"], "data.foo"),
    # A bad combination in a sweep: the 4th job (three sets, n = 6, importance of length 4).
    (["-m", "data=correlated_pairs,correlated_three_sets", "model.importance=null,[1,1,1,1]"], "model.importance"),
    (["seed=9223372036854775808"], "seed"),
    (["seed=-1"], "seed"),
    (["data.sets.0.size=1"], "data.sets[0].size"),
    (["data=anticorrelated_pairs", "data.sets.0.size=1"], "data.sets[0].size"),
    (["train.device=cudafoo"], "train.device"),
    (["n_instances=1000000000"], "n_instances"),
    (["threads=-2"], "threads"),
    (["train.lr=abc"], "train.lr"),
    # Values that pass a type check but not the trainer's float32 / int arithmetic.
    (["train.lr=1e38"], "train.lr"),
    (["train.lr=1e308"], "train.lr"),
    (["threads=2147483648"], "threads"),
    (["model.importance=[1e39,1,1,1]"], "model.importance"),
    (["model.importance_decay=1e20"], "model.importance_decay"),
    (["train.weight_decay=1e308"], "train.weight_decay"),
    (["model.m=4611686018427387904", "train.max_memory_gb=1e300"], "model.m"),
    (["train.batch=4611686018427387904", "train.max_memory_gb=1e300"], "train.batch"),
    (["data.sets=[{kind:correlated,size:100000,count:1}]"], "data.sets"),  # memory: the set, not n_instances
    # Deleting a field would silently bring its default back.
    (["~train"], "train"),
    (["~n_instances"], "n_instances"),
    (["~data"], "data"),
    (["~train.steps"], "train.steps"),
    # Sweep syntax Hydra accepts but this command cannot run, or Hydra itself refuses with a traceback.
    (["-m", "train.lr=interval(0.001,0.01)"], "train.lr"),
    (["-m", "seed=glob(a*)"], "seed"),
    (["-m", "setup=glob(zzz*)"], "setup"),
    (["--cfg", "job", "-m", "seed=1,2"], "--cfg"),
    # Probabilities one ulp apart are one value: selecting by value would return both blocks.
    (["data.feature_probabilities=[0.1,0.10000000000000002]"], "data.feature_probabilities"),
    # Hydra-level errors name the field.
    (["data.sets={}"], "data.sets"),
    (["data.sets=[{kind:correlated,size:2,count:2,extra:1}]"], "data.sets"),
    (["data.sets.5.kind=correlated"], "data.sets[5]"),
    # Hydra's own output folder beside out_dir (which the table adds): one of them would be ignored.
    (["hydra.run.dir=/tmp/tms-elsewhere"], "hydra.run.dir"),
    (["model.init=xavier"], "model.init"),
    (["model.init_scale=0"], "model.init_scale"),
    (["data.rate_scale=2"], "data.rate_scale"),
    (["data.values=gaussian"], "data.values"),
    (["data.sets.0.rate_scale=0"], "data.sets[0].rate_scale"),
    (["data.sets.0.rate_scale=30"], "data.sets[0].rate_scale"),  # 30 x 0.05 > 1
    (["data.sets.0.probability=1.5"], "data.sets[0].probability"),
    (["data.sets.0.probability=0.2", "data.sets.0.rate_scale=2"], "data.sets[0].probability"),
    (["setup=arena_mixed", "data.feature_probabilities=[0.6]"], "data.sets[1].rate_scale"),
    (["train.schedule=warmup"], "train.schedule"),
]
if not torch.cuda.is_available():
    TRAIN.append((["train.device=cuda"], "train.device"))
if shutil.which("sbatch") is None:  # SLURM launchers on a machine without SLURM
    TRAIN.append((["-m", "hydra/launcher=tms_slurm", "seed=0,1"], "hydra/launcher"))

FIGURES = [
    (["figures=[]"], "figures"),
    (["figures=[correlated_pairs,no_such_figure]"], "figures"),
    (["figures=[correlated_pairs,correlated_pairs]"], "figures"),
    (["setups.correlated_pairs.model.m=3"], "setups.correlated_pairs.model.m"),
    (
        ["setups.anticorrelated_pairs.data.feature_probability=0"],
        "setups.anticorrelated_pairs.data.feature_probability",
    ),
    (["sparsity_sweep.feature_probabilities=[]"], "sparsity_sweep.feature_probabilities"),
    (["setups.correlated_pairs.data.sets.0.rate_scale=2"], "setups.correlated_pairs.data.sets[0].rate_scale"),
    (["setups.correlated_pairs.data.values=gaussian"], "setups.correlated_pairs.data.values"),
    (["collapse_transition.feature_probabilities=[0.1,2]"], "collapse_transition.feature_probabilities"),
    (["learning_dynamics.n_snapshots=1"], "learning_dynamics.n_snapshots"),
    (["learning_dynamics.n_snapshots=2"], "learning_dynamics.n_snapshots"),  # would miss the final step
    (["train.steps=1"], "train.steps"),  # 2 distinct snapshot steps, though 3 were asked for
    (["train.steps=0"], "train.steps"),
    (["n_instances=100000000"], "n_instances"),  # the memory of the runs the figures build
    (["sparsity_sweep.n_instances=100000000"], "n_instances"),
    (["seed=9223372036854775808"], "seed"),
    (["local_basis_scaling.m=[10,10]"], "local_basis_scaling.m"),
    # Setups that a figure's claim cannot measure: refused before training, not after.
    (
        ["setups.correlated_pairs.data.feature_probabilities=[0.05,0.1]"],
        "setups.correlated_pairs.data.feature_probabilities",
    ),
    (["setups.correlated_pairs.data.sets.0.kind=independent"], "setups.correlated_pairs.data.sets"),
    (["setups.anticorrelated_pairs.data.sets.0.kind=correlated"], "setups.anticorrelated_pairs.data.sets[0].kind"),
    (
        ["setups.correlated_three_sets.model.m=3", "figures=[sparsity_sweep]"],
        "setups.correlated_three_sets.model.m",
    ),
    (
        ["setups.correlated_three_sets.model.m=3", "figures=[collapse_transition]"],
        "setups.correlated_three_sets.model.m",
    ),
    (["local_basis_scaling.m=[1]"], "local_basis_scaling.m"),
    (["init_robustness.scales=[]"], "init_robustness.scales"),
    (["init_robustness.scales=[0.1,0.1]"], "init_robustness.scales"),
    (["init_robustness.n_instances=0"], "init_robustness.n_instances"),
    (["training_recipes.step_factors=[0]"], "training_recipes.step_factors"),
    (["training_recipes.lr_factors=[-1]"], "training_recipes.lr_factors"),
    (["continued.factor=1"], "continued.factor"),
    (["train.schedule=cosine"], "train.schedule"),  # continued models need a constant schedule
    (["small_init_scale=-1"], "small_init_scale"),
    (["setups.correlated_pairs.model.init=xavier"], "setups.correlated_pairs.model.init"),
    # a control keeps one marginal rate: anticorrelated beside correlated sets has none
    (
        [
            "setups.anticorrelated_pairs.data.sets=[{kind:anticorrelated,size:2,count:1},{kind:independent,size:2,count:1}]"
        ],
        "setups.anticorrelated_pairs.data.sets",
    ),
    (["runner=submitit_local", "cache=false"], "cache"),
    (["runner.kind=weird"], "runner.kind"),
    *([(["runner=submitit_slurm"], "runner")] if shutil.which("sbatch") is None else []),
    (["runner=weird"], "runner"),
    (["+no_such=1"], "no_such"),
    (["-m", "figures=[correlated_pairs],[nope]"], "figures"),
    (["n_instances=0"], "n_instances"),
    (["train.steps=-5"], "train.steps"),
]


def refused(capsys, config: str, args, field: str) -> str:
    """check_overrides exits 2 with exactly one line `error: <field>: ...` on stderr."""
    with pytest.raises(SystemExit) as info:
        check_overrides(config, args)
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and err.startswith(f"error: {field}:"), err
    return err


@pytest.mark.parametrize(("args", "field"), TRAIN, ids=[" ".join(a) for a, _ in TRAIN])
def test_train_refuses_bad_input_up_front(capsys, tmp_path, args, field):
    refused(capsys, "train", [*args, f"out_dir={tmp_path / 'out'}"], field)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "field"), FIGURES, ids=[" ".join(a) for a, _ in FIGURES])
def test_figures_command_refuses_bad_input_up_front(capsys, tmp_path, args, field):
    refused(capsys, "correlated", [*args, f"out_dir={tmp_path / 'out'}"], field)
    assert not (tmp_path / "out").exists()


REAL_COMMANDS = [
    ("experiments.train", ["+train.learning_rate=0.5"], "train.learning_rate"),
    (
        "experiments.train",
        ["-m", "data=correlated_pairs,correlated_three_sets", "model.importance=null,[1,1,1,1]"],
        "model.importance",
    ),
    ("experiments.train", ["n_instances=1000000000"], "n_instances"),
    ("experiments.train", ["train.lr=1e38"], "train.lr"),  # was an optimizer traceback
    ("experiments.train", ["threads=2147483648"], "threads"),  # was an overflow traceback
    ("experiments.train", ["~train"], "train"),  # was 10,000 steps, silently
    ("experiments.train", ["-m", "train.lr=interval(0.001,0.01)"], "train.lr"),  # was a traceback
    ("experiments.correlated", ["figures=[correlated_pairs,no_such_figure]"], "figures"),
    ("experiments.correlated", ["runner=submitit_local", "cache=false"], "cache"),
]


@pytest.mark.parametrize(
    ("module", "args", "field"), REAL_COMMANDS, ids=[f"{m} {' '.join(a)}" for m, a, _ in REAL_COMMANDS]
)
def test_the_real_commands_write_nothing_for_bad_input(tmp_path, module, args, field):
    out = tmp_path / "out"
    proc = run_module(module, *args, f"out_dir={out}", cwd=tmp_path)
    assert_one_line_error(proc, field)
    assert not out.exists() and not (tmp_path / ".cache").exists() and not (tmp_path / "outputs").exists()


def test_empty_figure_list_never_touches_the_default_figures_folder(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "summary.json").write_text("committed")
    proc = run_module("experiments.correlated", "figures=[]", cwd=tmp_path)
    assert_one_line_error(proc, "figures")
    assert (figures / "summary.json").read_text() == "committed" and len(list(figures.iterdir())) == 1


@pytest.mark.parametrize("module", ["experiments.train", "experiments.correlated"])
def test_out_dir_that_is_a_file_is_refused(tmp_path, module):
    target = tmp_path / "a_file"
    target.write_text("")
    proc = run_module(module, f"out_dir={target}", "train.steps=3", cwd=tmp_path)
    assert "is not a writable folder" in assert_one_line_error(proc, "out_dir")


def test_cache_dir_that_is_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "cache").write_text("")
    proc = run_module("experiments.train", "cache_dir=cache", f"out_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert_one_line_error(proc, "cache_dir")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_out_dir_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for out in (locked, locked / "sub"):
            proc = run_module("experiments.train", f"out_dir={out}", cwd=tmp_path)
            assert "is not a writable folder" in assert_one_line_error(proc, "out_dir")
    finally:
        locked.chmod(0o700)


def test_unwritable_cache_warns_and_keeps_the_run(tmp_path):
    """A cache that cannot be written must not cost the run: the artifacts are still written."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "placeholder").write_text("")
    # A run key folder that is a file makes storing this run fail.
    from tms.run.cache import run_key
    from tms.run.compose import load_config

    key = run_key(load_config("train", ["train.steps=5", "n_instances=1"]))
    (cache / key).write_text("not a folder")
    proc = run_module(
        "experiments.train",
        "train.steps=5",
        "n_instances=1",
        "cache_dir=cache",
        f"out_dir={tmp_path / 'out'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: cache_dir: could not store a run" in proc.stderr
    assert (tmp_path / "out" / "metrics.json").exists()


def test_an_out_dir_name_the_file_system_rejects_is_refused_up_front(capsys, tmp_path):
    refused(capsys, "train", [f"out_dir={tmp_path / ('x' * 300)}"], "out_dir")
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_during_the_run_is_one_line(capsys):
    """A disk that fills up (or a folder made read-only) while the run is going: exit 1, one line."""
    import errno

    from experiments._cli import one_line_errors

    with pytest.raises(SystemExit) as info:
        with one_line_errors():
            raise OSError(errno.ENOSPC, "No space left on device", "/data/run/weights.npz")
    assert info.value.code == 1
    assert capsys.readouterr().err == "error: out_dir: cannot write /data/run/weights.npz: No space left on device\n"


def test_a_hydra_run_dir_that_cannot_be_created_is_refused_up_front(capsys, tmp_path):
    (tmp_path / "a_file").write_text("")
    refused(capsys, "train", [f"hydra.run.dir={tmp_path / 'a_file' / 'run'}"], "hydra.run.dir")
