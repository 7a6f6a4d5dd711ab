"""Schemas of the two entry points, and their checks: plain dataclasses, no Hydra.

Hydra registers them in its ConfigStore (``tms.run.compose``). ``TrainApp`` is a ``RunConfig``
plus output and cache settings (``experiments.train``); ``FiguresConfig`` is the figures'
``FigureSettings`` plus output, cache and runner settings (``experiments.correlated``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tms.core.config import MAX_SEED, RunConfig, check_int, is_number, validate_train
from tms.core.errors import ConfigError
from tms.figures.settings import FigureSettings

RUNNERS = ("pool", "submitit_local", "submitit_slurm")
MAX_THREADS = 1024  # torch threads or pool workers: far above any machine this runs on, far below int32


@dataclass
class RunnerConfig:
    """Where training jobs run: a local process pool, or submitit (locally or on SLURM)."""

    kind: str = "pool"
    workers: int = 2  # pool: single-threaded training processes (1 trains in this process)
    partition: str | None = None  # submitit_slurm
    timeout_min: int = 60
    cpus_per_task: int = 2
    gpus_per_task: int = 0
    mem_gb: float = 4.0
    array_parallelism: int = 64  # jobs of the array running at once
    # Split jobs of more models into shards of at most this many (0: never), e.g. for SLURM
    # arrays; the merged result equals the unsharded one bit for bit.
    models_per_job: int = 0


@dataclass
class FiguresConfig(FigureSettings):
    """``experiments.correlated``: the paper's correlated/anticorrelated figures and their checks."""

    out_dir: str | None = None
    figures: list[str] | None = None  # None: every figure in tms.figures.FIGURES
    cache: bool = True  # reuse complete cached training jobs; false retrains everything
    cache_dir: str = ".cache/tms"
    runner: RunnerConfig = field(default_factory=RunnerConfig)


@dataclass
class TrainApp(RunConfig):
    """``experiments.train``: one run; artifacts go to out_dir (default: Hydra's run folder)."""

    out_dir: str | None = None
    cache: bool = True  # reuse a complete cached run with the same key instead of retraining
    cache_dir: str = ".cache/tms"
    threads: int = 0  # torch threads; 0 = the cores divided among the launcher's parallel jobs


def validate_app(app: FiguresConfig, available: list) -> None:
    """The figures command's own fields (each figure checks its settings: ``tms.run.make_figures.plan``)."""
    names = list(available) if app.figures is None else app.figures
    if not isinstance(names, (list, tuple)) or not names:
        raise ConfigError("figures", f"must list at least one figure; available: {', '.join(available)}")
    for name in names:
        if name not in available:
            raise ConfigError("figures", f"unknown figure {name!r}; available: {', '.join(available)}")
    if len(set(names)) != len(names):
        raise ConfigError("figures", f"got {list(names)}; each figure at most once")
    validate_train(app.train, here=app.runner.kind != "submitit_slurm")  # SLURM jobs check their device there
    for field_name, lowest in (("n_instances", 1), ("n_shown", 1)):
        check_int(getattr(app, field_name), field_name, lowest)
    check_int(app.seed, "seed", 0, MAX_SEED)
    for field_name in ("controls", "cache"):
        if not isinstance(getattr(app, field_name), bool):
            raise ConfigError(field_name, f"got {getattr(app, field_name)!r}; must be true or false")
    validate_runner(app.runner, app.cache)


def check_slurm(field_name: str, what: str) -> None:
    """SLURM jobs are submitted from this machine: its ``sbatch`` must be on PATH."""
    if shutil.which("sbatch") is None:
        raise ConfigError(field_name, f"{what} needs SLURM, but sbatch is not on this machine's PATH")


def validate_runner(runner: RunnerConfig, cache: bool) -> None:
    if runner.kind not in RUNNERS:
        raise ConfigError("runner.kind", f"got {runner.kind!r}; allowed: {', '.join(RUNNERS)}")
    check_int(runner.workers, "runner.workers", 1, MAX_THREADS)
    check_int(runner.models_per_job, "runner.models_per_job", 0)
    for name in ("timeout_min", "cpus_per_task", "array_parallelism"):
        check_int(getattr(runner, name), f"runner.{name}", 1)
    check_int(runner.gpus_per_task, "runner.gpus_per_task", 0)
    if not (is_number(runner.mem_gb) and runner.mem_gb > 0):
        raise ConfigError("runner.mem_gb", f"got {runner.mem_gb!r}; must be a number > 0")
    if runner.kind.startswith("submitit"):
        if not cache:
            raise ConfigError("cache", f"runner={runner.kind} returns results through the run cache; set cache=true")
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise ConfigError("runner", f"{runner.kind} needs submitit: pip install -e '.[sweep]'") from None
        if runner.kind == "submitit_slurm":
            check_slurm("runner", runner.kind)


def check_folders(app, default_out: bool = True) -> None:
    """out_dir must be (or become) a writable folder; cache_dir must not be a file (checked
    before anything is trained or written). ``default_out=False`` (load_config) checks out_dir
    only when it is set: a notebook that never writes there may run from a read-only folder."""
    default = "figures" if isinstance(app, FiguresConfig) else "outputs"
    if app.out_dir is not None or default_out:
        check_writable_folder(Path(app.out_dir if app.out_dir is not None else default), "out_dir")
    cache_dir = Path(app.cache_dir)
    if app.cache and cache_dir.exists() and not cache_dir.is_dir():
        raise ConfigError("cache_dir", f"{cache_dir} is a file, not a folder; pick another or set cache=false")


def check_writable_folder(path: Path, field_name: str) -> None:
    """``path`` is, or can become, a folder this process writes into (Hydra's ``.hydra/`` record
    inside it included); a name the file system would reject is refused too."""
    too_long = [part for part in path.parts if len(os.fsencode(part)) > 255]
    if too_long:
        raise ConfigError(field_name, f"{path}: a name longer than 255 bytes ({too_long[0][:20]}...)")
    if path.exists():
        if not path.is_dir():
            raise ConfigError(field_name, f"{path} is not a writable folder (it is a file)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(field_name, f"{path} is not a writable folder")
        record = path / ".hydra"
        if record.exists() and not (record.is_dir() and os.access(record, os.W_OK | os.X_OK)):
            raise ConfigError(field_name, f"{record} is not a writable folder (Hydra records the run there)")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(field_name, f"{path} is not a writable folder (cannot create it in {parent})")
