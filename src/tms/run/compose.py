"""Hydra glue: registers the dataclass schemas in the ConfigStore and loads configs.

The rest of the library never imports Hydra. Entry points in ``experiments/`` use the
registered schemas; notebooks and tests call ``load_config(name, overrides)``, which composes,
validates and returns the dataclass, raising ConfigError exactly as the command line reports.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import typing
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from tms.core.config import check_int, validate
from tms.core.errors import ConfigError
from tms.run.apps import MAX_THREADS, FiguresConfig, TrainApp, check_folders
from tms.run.make_figures import plan


def _default_config_dir() -> Path:
    """The repository's configs/ for a source (editable) install, else ./configs."""
    source_tree = Path(__file__).resolve().parents[3] / "configs"  # src/tms/run/compose.py -> the checkout
    return source_tree if source_tree.is_dir() else Path.cwd() / "configs"


CONFIG_DIR = _default_config_dir()


def _first_set(*values):
    """Resolver ``${tms_or:a,b}``: the first value that is not null (used for output folders)."""
    return next((v for v in values if v is not None), None)


_STARTED = time.time()


def _default_dir(kind: str, job: str) -> str:
    """Resolver ``${tms_default_dir:run|sweep,<job name>}``: where output goes without out_dir.

    The figures command writes into figures/; other runs into a folder named by date, time
    (microseconds) and process id, so runs launched together never collide.
    """
    if kind == "run" and job == "correlated":
        return "figures"
    stamp = time.strftime("%Y-%m-%d/%H-%M-%S", time.localtime(_STARTED)) + f"-{int(_STARTED % 1 * 1e6):06d}"
    return f"{'outputs' if kind == 'run' else 'multirun'}/{job}/{stamp}-{os.getpid()}"


def register() -> None:
    if not OmegaConf.has_resolver("tms_or"):
        OmegaConf.register_new_resolver("tms_or", _first_set)
    if not OmegaConf.has_resolver("tms_default_dir"):
        OmegaConf.register_new_resolver("tms_default_dir", _default_dir, use_cache=True)
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainApp)
    cs.store(name="correlated_schema", node=FiguresConfig)


register()
_TOP_LEVEL = {f.name for schema in (TrainApp, FiguresConfig) for f in dataclasses.fields(schema)}


def load_config(name: str, overrides: list[str] | None = None, config_dir=None, check: bool = True):
    """Compose ``<config_dir>/<name>.yaml`` (default: CONFIG_DIR) with overrides into its dataclass.

    Raises ConfigError with a one-line message for unknown keys, wrong types and (with
    ``check``) any value the command line would refuse.
    """
    if isinstance(overrides, str):
        raise TypeError(f"overrides must be a list of strings like ['seed=1'], not {overrides!r}")
    overrides = list(overrides or [])
    if not all(isinstance(o, str) for o in overrides):
        raise TypeError(f"overrides must be a list of strings like ['seed=1'], not {overrides!r}")
    refuse_deletions(overrides)
    folder = str(Path(config_dir or CONFIG_DIR).resolve())
    try:
        app = _compose(name, overrides, folder)
    except (HydraException, OmegaConfBaseException) as e:
        field_name, message = describe_compose_error(e)
        if not _names_a_field(field_name):  # say which override it was, as the user typed it
            field_name = _culprit(name, overrides, folder) or field_name
        raise ConfigError(field_name, message) from None
    if check:
        check_app(app, default_out=False)
    return app


def _compose(name: str, overrides: list, folder: str):
    with initialize_config_dir(config_dir=folder, version_base="1.3"):
        cfg = compose(config_name=name, overrides=overrides)
    return to_dataclass(cfg)


def refuse_deletions(overrides: list) -> None:
    """``~key`` would silently put the schema default back (``~train`` trains 10,000 steps)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return  # malformed syntax: composition reports it
    for o in parsed:
        if o.is_delete() and not o.is_hydra_override():
            key = o.get_key_element().lstrip("~")
            message = "cannot be deleted (the schema's default would be used silently); set a value instead"
            raise ConfigError(key, message)


def _names_a_field(field_name: str) -> bool:
    """Whether a described error names a config path (not 'config', nor a key out of context)."""
    return field_name != "config" and ("." in field_name or "[" in field_name or field_name in _TOP_LEVEL)


def _culprit(name: str, overrides: list, folder: str) -> str | None:
    """The key of the first override that makes composition fail (composing one more at a time)."""
    for k in range(1, len(overrides) + 1):
        try:
            _compose(name, overrides[:k], folder)
        except (HydraException, OmegaConfBaseException):
            return overrides[k - 1].split("=", 1)[0].lstrip("+~")
    return None


def check_app(app, here: bool = True, default_out: bool = True):
    """Validate a composed app config like its entry point does; ``here=False`` for a train run
    that a launcher sends to other machines (its device is checked where it trains)."""
    if isinstance(app, FiguresConfig):
        plan(app)  # every field, and every run the figures would train
        check_folders(app, default_out)
        return app
    validate(app, here=here)
    if isinstance(app, TrainApp):
        check_int(app.threads, "threads", 0, MAX_THREADS)
        if not isinstance(app.cache, bool):
            raise ConfigError("cache", f"got {app.cache!r}; must be true or false")
        check_folders(app, default_out)
    return app


def without_hydra(cfg):
    """The composed config without Hydra's own ``hydra`` node."""
    return OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]) if "hydra" in cfg else cfg


def unknown_keys(cfg, schema, prefix: str = "") -> list:
    """Keys of a composed config that its schema does not have (e.g. added with ``+key=...``)."""
    found = []
    if not dataclasses.is_dataclass(schema) or not isinstance(cfg, DictConfig):
        return found
    fields = {f.name: f for f in dataclasses.fields(schema)}
    hints = _hints(schema)
    for key in cfg.keys():
        path = f"{prefix}{key}"
        if key not in fields:
            found.append((path, list(fields)))
            continue
        child = cfg._get_node(key)
        hint = hints.get(key)
        if isinstance(child, DictConfig) and dataclasses.is_dataclass(hint):
            found += unknown_keys(child, hint, f"{path}.")
        elif isinstance(child, DictConfig) and _dict_value_type(hint) is not None:
            for sub in child.keys():
                found += unknown_keys(child._get_node(sub), _dict_value_type(hint), f"{path}.{sub}.")
    return found


def _hints(schema) -> dict:
    try:
        return typing.get_type_hints(schema)
    except Exception:
        return {}


def _dict_value_type(hint):
    if typing.get_origin(hint) is dict:
        value = typing.get_args(hint)[1]
        return value if dataclasses.is_dataclass(value) else None
    return None


def to_dataclass(cfg):
    """A composed DictConfig -> its schema's dataclass instance, without the hydra node.

    Refuses keys the schema does not have: Hydra lets ``+key=value`` add them, and they would
    otherwise be silently ignored while appearing in the saved config.
    """
    plain = without_hydra(cfg)
    obj = OmegaConf.to_object(plain)
    extra = unknown_keys(plain, type(obj))
    if extra:
        path, allowed = extra[0]
        raise ConfigError(path, f"unknown config key; allowed here: {', '.join(allowed)}")
    return obj


def describe_compose_error(e: BaseException):
    """(field, one-line message) for a Hydra/OmegaConf composition error."""
    cause = e.__cause__ if e.__cause__ is not None else e
    full_key = getattr(cause, "full_key", None)
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and full_key:
        owner = getattr(cause, "object_type", None)
        allowed = ", ".join(f.name for f in dataclasses.fields(owner)) if dataclasses.is_dataclass(owner) else "?"
        named = "" if "." in full_key else f" {full_key!r}"  # a key inside a list element: name it
        message = f"unknown config key{named}; allowed here: {allowed}"
        if full_key.endswith(("sparsity", "sparsities")):
            message += " (sparsity is given as feature_probability = 1 - S)"
        return full_key, message
    msg = str(getattr(cause, "msg", "")).splitlines()[0] if str(getattr(cause, "msg", "")) else ""
    if isinstance(cause, ValidationError) and full_key and re.search(r"\[\d+\]$", full_key) and "subclass" in msg:
        return full_key, "no such list entry (past the end of the list); set the whole list instead"
    if isinstance(cause, ValidationError) and full_key:
        return full_key, msg
    if isinstance(cause, OmegaConfBaseException) and full_key and "Cannot merge" in msg:
        want = "a list" if msg.endswith("ListConfig") else "a mapping"
        return full_key, f"must be {want} here"
    text = str(e)
    missing = re.search(r"Could not find '([^/']+)/([^']+)'", text)
    if isinstance(e, MissingConfigException) and missing:
        group, name = missing.groups()
        listing = text.split("Available options", 1)[-1].split("Config search path", 1)[0]
        options = [ln.strip() for ln in listing.splitlines()[1:] if ln.strip()]
        return group, f"no preset {name!r}; available: {', '.join(options)}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "config", " ".join(lines[:2])
