"""Shared entry-point plumbing: checking every job up front, one-line errors, output folders."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import warnings
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf

from tms.core.artifacts import ArtifactError
from tms.core.errors import ConfigError, TrainingDiverged
from tms.run.apps import FiguresConfig, check_slurm
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


@contextlib.contextmanager
def one_line_errors():
    """Bad input or a failed run -> `error: <field>: <message>` on stderr, non-zero exit."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    try:
        yield
    except ConfigError as e:
        fail(str(e), 2)
    except ArtifactError as e:
        fail(str(e), 2)
    except TrainingDiverged as e:
        fail(str(e), 1)
    except RunnerError as e:
        fail(f"runner: {e}", 1)


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
        values = list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]
        options.append([f"{key}={v}" for v in values])
    return options


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
    args = [a for a in raw if "=" in a and not a.startswith("-")]
    with one_line_errors():
        launcher = next((a.split("=", 1)[1] for a in args if a.startswith("hydra/launcher=")), "")
        launching = {"-m", "--multirun"} & set(raw) and not {"-c", "--cfg"} & set(raw)  # a launcher runs only then
        elsewhere = bool(launching) and "slurm" in launcher  # jobs train on other machines
        if elsewhere:
            check_slurm("hydra/launcher", launcher)
        for combo in job_combinations(_options(args)):
            app = load_config(config_name, combo, config_dir=CONFIGS, check=False)
            check_app(app, here=not elsewhere)  # a job checks its device where it trains
            check_folders(app)


def check_folders(app) -> None:
    """out_dir must be (or become) a writable folder; cache_dir must not be a file."""
    default = "figures" if isinstance(app, FiguresConfig) else "outputs"
    check_writable_folder(Path(app.out_dir if app.out_dir is not None else default), "out_dir")
    cache_dir = Path(app.cache_dir)
    if app.cache and cache_dir.exists() and not cache_dir.is_dir():
        raise ConfigError("cache_dir", f"{cache_dir} is a file, not a folder; pick another or set cache=false")


def check_writable_folder(path: Path, field_name: str) -> None:
    if path.exists():
        if not path.is_dir():
            raise ConfigError(field_name, f"{path} is not a writable folder (it is a file)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(field_name, f"{path} is not a writable folder")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(field_name, f"{path} is not a writable folder (cannot create it in {parent})")


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
