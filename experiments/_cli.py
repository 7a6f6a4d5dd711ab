"""Shared entry-point plumbing: checking overrides up front, one-line errors, resolved configs."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf

from tms.errors import ConfigError, TrainingDiverged
from tms.hydra_config import load_config, without_hydra

CONFIGS = Path(__file__).resolve().parents[1] / "configs"  # the folder hydra.main reads too


def fail(message: str, code: int = 2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


@contextlib.contextmanager
def one_line_errors():
    """Bad input or a diverged run -> `error: <field>: <message>` on stderr, non-zero exit."""
    try:
        yield
    except ConfigError as e:
        fail(str(e), 2)
    except TrainingDiverged as e:
        fail(str(e), 1)


def command_line_overrides(argv) -> list:
    return [a for a in argv if "=" in a and not a.startswith("-")]


def check_overrides(config_name: str, validator: Callable, argv=None) -> None:
    """Compose and validate every job of a (multi)run before Hydra writes anything.

    Each swept value is checked once, with the other overrides at their first value,
    so a bad value in the 7th job of a sweep fails before the first job starts.
    """
    args = command_line_overrides(sys.argv[1:] if argv is None else argv)
    with one_line_errors():
        try:
            parsed = OverridesParser.create().parse_overrides(args)
        except HydraException as e:
            raise ConfigError("overrides", str(e).splitlines()[0]) from None
        options = []
        for o in parsed:
            if o.is_hydra_override():
                continue
            key = o.get_key_element()
            values = list(o.sweep_string_iterator()) if o.is_discrete_sweep() else [o.get_value_element_as_str()]
            options.append([f"{key}={v}" for v in values])
        first = [vals[0] for vals in options]
        combos = [first] + [
            first[:i] + [v] + first[i + 1 :] for i, vals in enumerate(options) for v in itertools.islice(vals, 1, None)
        ]
        for combo in combos:
            validator(load_config(config_name, combo, config_dir=CONFIGS))


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
