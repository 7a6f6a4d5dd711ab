"""Collect the metrics.json and overrides of every job in a sweep folder into one table.

A job folder is any folder holding ``metrics.json`` or Hydra's ``.hydra/overrides.yaml``.
Each row is one job: its ``job`` folder, its overrides, then its metrics. A job counts only
when its folder is complete (``tms.core.completion``); any other is skipped and reported.

Columns (plain names, usable as ``--plot METRIC --by PARAM``):

- **Parameters**: one column per override key, named as the key
  (``data.feature_probability``, ``seed``), holding the override's text.
- **Metrics**: nested objects are flattened to dotted keys (``geometry.mean_dimensionality``).
  Numbers and booleans are columns. A list-valued (per-instance) metric is averaged over
  instances, ignoring nulls, into a column named by its plain key
  (``geometry.mean_cos_within_sets``); the per-instance ``seed`` and ``feature_probability``
  lists are configuration, not metrics, and are left out. Strings (``run_key``,
  ``provenance.tms``, ``provenance.git_commit``...) never become columns.
- **Collisions**: parameter and metric columns never share a name. The parameter keeps the
  key; a metric whose key is also an override key (or ``job``) is prefixed ``metric.``: with
  the override ``n_instances=2``, the override is ``n_instances`` and the metric is
  ``metric.n_instances``. An override named ``job`` becomes ``override.job``.

Empty cells: a metric a job lacks, a null (``final_loss_mean`` of a run with
``train.steps=0``) and a list of only nulls stay empty, never 0. A key that is null in
every job is still a column (all empty) unless some job holds a string there.

A job whose metrics are missing, or whose ``metrics.json`` or ``.hydra/overrides.yaml`` is
malformed (unreadable, not JSON/YAML, or the wrong shape: metrics not an object, overrides
not a list of ``key=value`` strings), is reported in ``skipped`` and left out.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tms.core import completion
from tms.core.artifacts import ArtifactError

OVERRIDES = ".hydra/overrides.yaml"
CONFIG_LISTS = ("seed", "feature_probability")  # per-instance configuration echoed in metrics.json
_TEXT = object()  # a leaf that is text (or a list that is not all numbers): never a column


@dataclass
class Aggregate:
    rows: list = field(default_factory=list)  # one dict per job: column -> value (absent = empty)
    params: list = field(default_factory=list)  # override columns, in first-seen order
    metrics: list = field(default_factory=list)  # metric columns, in first-seen order
    skipped: list = field(default_factory=list)  # (job folder, reason)


def _job_folders(root: Path) -> list:
    found = {p.parent for p in root.rglob("metrics.json")}
    found |= {p.parent.parent for p in root.rglob(".hydra/overrides.yaml")}
    return sorted(found, key=lambda p: [int(x) if x.isdigit() else x for x in p.relative_to(root).parts])


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _kind(value) -> str:
    return {dict: "an object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _overrides(job: Path) -> dict:
    path = job / OVERRIDES
    if not path.exists():
        return {}
    try:
        items = yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise ValueError(f"{OVERRIDES}: {_first_line(e)}") from None
    if items is None:
        return {}
    if not isinstance(items, list):
        raise ValueError(f"{OVERRIDES}: not a list of key=value overrides (got {_kind(items)})")
    params = {}
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"{OVERRIDES}: override {item!r} is not a key=value string")
        key, _, value = item.partition("=")
        if not key.startswith("hydra") and key not in ("out_dir",):
            params[key.lstrip("+~")] = value
    return params


def _leaves(metrics: dict, prefix: str = "") -> dict:
    """Dotted key -> number, bool, None (null, or a list of only nulls) or _TEXT."""
    out = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_leaves(value, f"{name}."))
        elif value is None or isinstance(value, (bool, int, float)):
            out[name] = value
        elif isinstance(value, list):
            if key in CONFIG_LISTS:
                continue
            if all(v is None or isinstance(v, (int, float)) for v in value):
                numbers = [v for v in value if v is not None]
                out[name] = sum(numbers) / len(numbers) if numbers else None
            else:
                out[name] = _TEXT
        else:
            out[name] = _TEXT
    return out


def _metric_columns(keys, params: list) -> dict:
    """Metric key -> column name, prefixed with ``metric.`` where it would collide."""
    taken = {"job", *params, *keys}
    names = {}
    for key in keys:
        name = key
        if key == "job" or key in params:
            name = f"metric.{key}"
            while name in taken:
                name = f"metric.{name}"
            taken.add(name)
        names[key] = name
    return names


def collect(root) -> Aggregate:
    root = Path(root)
    agg = Aggregate()
    jobs = []  # (name, params, leaves)
    param_keys, metric_keys = {}, {}  # first-seen order
    has_value, has_text = set(), set()
    for job in _job_folders(root):
        name = str(job.relative_to(root)) or "."
        metrics_path = job / "metrics.json"
        if not metrics_path.exists():
            agg.skipped.append((name, "no metrics.json (job failed or did not finish)"))
            continue
        try:
            metrics = json.loads(metrics_path.read_text())
            if not isinstance(metrics, dict):
                raise ValueError(f"not a JSON object (got {_kind(metrics)})")
        except (OSError, ValueError) as e:
            agg.skipped.append((name, f"malformed: metrics.json: {_first_line(e)}"))
            continue
        try:
            if (job / completion.MARKER).exists():  # none: a folder from before markers, read as it is
                completion.check(job)
        except ArtifactError as e:
            agg.skipped.append((name, f"incomplete: {_first_line(e).split(': ', 1)[-1]}"))
            continue
        try:
            params = _overrides(job)
        except ValueError as e:
            agg.skipped.append((name, f"malformed: {_first_line(e)}"))
            continue
        leaves = _leaves(metrics)
        for key in params:
            param_keys.setdefault(key, None)
        for key, value in leaves.items():
            metric_keys.setdefault(key, None)
            if value is _TEXT:
                has_text.add(key)
            elif value is not None:
                has_value.add(key)
        jobs.append((name, params, leaves))

    param_names = {key: "override.job" if key == "job" else key for key in param_keys}
    agg.params = list(param_names.values())
    kept = [k for k in metric_keys if k in has_value or k not in has_text]
    metric_names = _metric_columns(kept, agg.params)
    agg.metrics = list(metric_names.values())
    for name, params, leaves in jobs:
        row = {"job": name}
        row.update({param_names[k]: v for k, v in params.items()})
        for key, column in metric_names.items():
            value = leaves.get(key)
            if value is not None and value is not _TEXT:
                row[column] = value
        agg.rows.append(row)
    return agg


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def to_csv(agg: Aggregate) -> str:
    buf = io.StringIO()
    columns = ["job", *agg.params, *agg.metrics]
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in agg.rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def to_markdown(agg: Aggregate, metrics=None) -> str:
    shown = metrics or [m for m in agg.metrics if m in ("final_loss_mean", "seconds", "cached")] or agg.metrics[:4]
    columns = ["job", *agg.params, *shown]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in agg.rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    if agg.skipped:
        lines += ["", "Skipped:", *[f"- `{job}`: {reason}" for job, reason in agg.skipped]]
    return "\n".join(lines) + "\n"
