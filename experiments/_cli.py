"""Shared entry-point plumbing: checking every job up front, one-line errors, output folders."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import OmegaConf

from tms.core.artifacts import ArtifactError
from tms.core.errors import ConfigError, TrainingDiverged
from tms.run.apps import check_slurm, check_writable_folder
from tms.run.compose import check_app, load_config, without_hydra
from tms.run.runner import RunnerError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"  # the folder hydra.main reads too
# Keys whose values interact (they change n, m or what a figure needs): every combination of
# their swept values is validated. Other swept keys are validated value by value.
INTERACTING = ("setup", "data", "model", "setups", "figures", "runner", "preset", "scale", "cache")
MAX_COMBINATIONS = 4096


def fail(message: str, code: int = 2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


FAILED_JOBS = []  # jobs of a -m sweep in this process that failed; the sweep goes on without them


@contextlib.contextmanager
def one_line_errors():
    """Bad input or a failed run -> `error: <field>: <message>` on stderr, non-zero exit.

    Inside one job of a ``-m`` sweep, a run that fails (diverges, or loses training jobs) prints
    its line and lets the sweep go on; ``report_failed_jobs`` exits non-zero at the end."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    try:
        yield
    except ConfigError as e:
        fail(str(e), 2)
    except ArtifactError as e:
        fail(str(e), 2)
    except OSError as e:  # a full disk, a folder made read-only while the run was going
        fail(f"{_folder_of(e.filename)}: cannot write {e.filename or 'a file'}: {e.strerror or e}", 1)
    except (TrainingDiverged, RunnerError) as e:
        line = str(e) if isinstance(e, TrainingDiverged) else f"runner: {e}"
        job = _sweep_job()
        if job is None:
            fail(line, 1)
        print(f"error: {job}: {line}", file=sys.stderr)
        FAILED_JOBS.append(job)


def _folder_of(filename) -> str:
    """The field naming the folder a failed write was in: out_dir for the run's own folder."""
    if HydraConfig.initialized() and filename is not None:
        out = Path(HydraConfig.get().runtime.output_dir).resolve()
        if out in Path(filename).resolve().parents:
            return "out_dir"
    return "cache_dir" if filename is not None and ".cache" in str(filename) else "out_dir"


def _sweep_job() -> str | None:
    """'job N (its overrides)' while running as one job of a -m sweep in this process (Hydra's
    basic launcher), else None: a job another launcher runs elsewhere must fail on its own."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    if not str(OmegaConf.select(HydraConfig.get(), "launcher._target_", default="")).endswith("BasicLauncher"):
        return None
    job = HydraConfig.get().job
    return f"job {job.num} ({job.override_dirname or 'no overrides'})"


def report_failed_jobs() -> None:
    """After a -m sweep ran in this process: one line and exit 1 if any of its jobs failed."""
    if FAILED_JOBS:
        fail(f"sweep: {len(FAILED_JOBS)} job(s) failed, the others finished: {'; '.join(FAILED_JOBS)}", 1)


class Interrupted(BaseException):
    """SIGTERM arrived (SLURM, `timeout`, systemd). A BaseException, like KeyboardInterrupt for
    SIGINT, so that neither ``except Exception`` (Hydra's included) nor one_line_errors stops it:
    it unwinds the run, whose pool ends its workers on the way (tms.run.runner), up to
    stop_on_signals."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop(signum, frame):
    # The first signal stops the run; ignore the next ones (a second Ctrl-C, systemd's
    # repeated SIGTERM) so they cannot cut short the pool's ending of its workers.
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals():
    """SIGINT (Ctrl-C) and SIGTERM, wherever they arrive (checking the overrides, Hydra's startup,
    training): the pool's workers are ended on the way out, then one stderr line and exit
    128 + signal number (130 / 143) instead of a traceback or a silent death.

    Leaving without a stop signal restores the previous handlers. After one, both signals stay
    ignored: the process is exiting, and a second Ctrl-C during its teardown (the pool's threads
    joined, torch's finalizers) would otherwise add a traceback or cut the teardown short."""
    if threading.current_thread() is not threading.main_thread():  # handlers are main-thread only
        yield
        return
    # A signal the process started with ignored (SIGINT in a background job) stays ignored.
    previous = {s: signal.signal(s, _stop) for s in STOP_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield
    except (KeyboardInterrupt, Interrupted) as e:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        fail(
            f"interrupted: stopped by {signal.Signals(signum).name}; training jobs that finished are in the "
            "run cache (unless cache=false), so rerunning the same command trains only the rest",
            128 + signum,
        )
    except BaseException:
        _restore(previous)
        raise
    else:
        _restore(previous)


def _restore(handlers: dict) -> None:
    for s, handler in handlers.items():
        if handler is not None:  # None: set outside Python, cannot be put back
            signal.signal(s, handler)


def _options(args) -> list:
    """[[key=value, ...] per non-hydra override], swept values expanded."""
    try:
        parsed = OverridesParser.create().parse_overrides(args)
    except HydraException as e:
        raise ConfigError("overrides", str(e).splitlines()[0]) from None
    options = []
    for o in parsed:
        if o.is_hydra_override():
            continue
        key = o.get_key_element()
        options.append([f"{key}={v}" for v in _values(o, key)])
    return options


def _values(o, key: str) -> list:
    """The values an override takes: one, a sweep's list, or a glob over a config group's presets."""
    name = key.lstrip("+~")
    if o.is_sweep_override() and isinstance(o.value(), Glob):
        group = CONFIGS / name.split("@")[0]
        if not group.is_dir():
            raise ConfigError(name, "glob() picks presets of a config group, and this key is not one")
        values = o.value().filter(sorted(p.stem for p in group.glob("*.yaml")))
        if not values:
            raise ConfigError(name, f"{o.input_line!r} matches no preset in configs/{group.name}")
        return values
    if not o.is_sweep_override():
        return [o.get_value_element_as_str()]
    try:
        return list(o.sweep_string_iterator())
    except HydraException as e:
        if "INTERVAL" in str(e):
            message = "interval() needs a sweeper that samples (e.g. Hydra's Optuna sweeper); list the values"
        else:
            message = str(e).splitlines()[0]
        raise ConfigError(name, message) from None


def job_combinations(options) -> list:
    """The override lists to validate: the full product of the interacting keys' values, and
    each value of every other key once (with the rest at their first value)."""

    def interacts(vals):
        key = vals[0].split("=", 1)[0].lstrip("+~")
        return key.split(".")[0].split("@")[0] in INTERACTING

    joint = [vals for vals in options if interacts(vals)]
    alone = [vals for vals in options if not interacts(vals)]
    first_alone = [vals[0] for vals in alone]
    combos = [list(c) + first_alone for c in itertools.product(*joint)] if joint else [first_alone]
    if len(combos) > MAX_COMBINATIONS:
        raise ConfigError("overrides", f"{len(combos)} combinations of interacting keys to check; sweep fewer at once")
    first_joint = [vals[0] for vals in joint]
    for i, vals in enumerate(alone):
        for v in vals[1:]:
            combos.append(first_joint + first_alone[:i] + [v] + first_alone[i + 1 :])
    return combos


def check_overrides(config_name: str, argv=None) -> None:
    """Compose and validate every job of a (multi)run, and check its folders, before Hydra
    creates or writes anything."""
    raw = sys.argv[1:] if argv is None else argv
    args = [a for a in raw if ("=" in a or a.startswith("~")) and not a.startswith("-")]  # ~key: a deletion
    with one_line_errors():
        launcher = next((a.split("=", 1)[1] for a in args if a.startswith("hydra/launcher=")), "")
        printing = {"-c", "--cfg", "--info"} & set(raw)
        if printing and {"-m", "--multirun"} & set(raw):  # Hydra would raise, with a traceback
            raise ConfigError(sorted(printing)[0], "cannot be combined with -m/--multirun; drop -m to print the config")
        launching = {"-m", "--multirun"} & set(raw) and not printing  # a launcher runs only then
        elsewhere = bool(launching) and "slurm" in launcher  # jobs train on other machines
        if elsewhere:
            check_slurm("hydra/launcher", launcher)
        for combo in job_combinations(_options(args)):
            app = load_config(config_name, combo, config_dir=CONFIGS, check=False)
            check_app(app, here=not elsewhere)  # its folders too; a job checks its device where it trains
        check_hydra_folders(args)


def check_hydra_folders(args) -> None:
    """Hydra's own run and sweep folders, when given, must be writable, and not beside out_dir
    (which sets them otherwise: one of the two would be ignored)."""
    given = dict(a.partition("=")[::2] for a in args)  # key -> value ('' for a bare ~key)
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        if key in given:
            if any(k.lstrip("+") == "out_dir" for k in given):
                raise ConfigError(key, f"both {key} and out_dir are set, and {key} would win; give one of them")
            if "${" not in given[key]:
                check_writable_folder(Path(given[key]), key)


def configure_threads(threads: int) -> int:
    """Set torch's thread count: ``threads`` if > 0, else the cores shared among parallel jobs.

    Under a launcher that runs N jobs at once (joblib's ``n_jobs``), each job gets
    cores // N threads, so N workers on N cores do not oversubscribe.
    """
    if threads <= 0:
        n_jobs = OmegaConf.select(HydraConfig.get(), "launcher.n_jobs", default=None) or 1
        n_jobs = os.cpu_count() if n_jobs < 0 else n_jobs  # joblib: -1 means one job per core
        threads = max(1, (os.cpu_count() or 1) // max(1, n_jobs))
    torch.set_num_threads(threads)
    return threads


def hydra_output_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def resolved_yaml(cfg) -> str:
    """The composed config without the hydra node, interpolations resolved."""
    return OmegaConf.to_yaml(without_hydra(cfg), resolve=True)
