"""Collect the metrics.json and overrides of every job in a sweep folder into one table.

A job folder is any folder holding ``metrics.json`` or Hydra's ``.hydra/overrides.yaml``.
Each row has the job's overrides as columns (``data.sparsity``...) and scalar metrics;
per-instance lists are averaged over instances, ignoring nulls. A job whose metrics are
missing or malformed is reported and skipped; a metric it lacks stays empty, never 0.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class Aggregate:
    rows: list = field(default_factory=list)  # one dict per job
    params: list = field(default_factory=list)  # override columns, in first-seen order
    metrics: list = field(default_factory=list)  # metric columns, in first-seen order
    skipped: list = field(default_factory=list)  # (job folder, reason)


def _job_folders(root: Path) -> list:
    found = {p.parent for p in root.rglob("metrics.json")}
    found |= {p.parent.parent for p in root.rglob(".hydra/overrides.yaml")}
    return sorted(found, key=lambda p: [int(x) if x.isdigit() else x for x in p.relative_to(root).parts])


def _overrides(job: Path) -> dict:
    path = job / ".hydra" / "overrides.yaml"
    if not path.exists():
        return {}
    params = {}
    for item in yaml.safe_load(path.read_text()) or []:
        key, _, value = str(item).partition("=")
        if not key.startswith("hydra") and key not in ("out_dir",):
            params[key.lstrip("+~")] = value
    return params


def _scalars(metrics: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_scalars(value, f"{name}."))
        elif isinstance(value, bool):
            out[name] = value
        elif isinstance(value, (int, float)):
            out[name] = value
        elif isinstance(value, list) and value and all(isinstance(v, (int, float)) or v is None for v in value):
            numbers = [v for v in value if v is not None]
            if numbers and key not in ("seed", "feature_probability"):
                out[f"{name} (mean)"] = sum(numbers) / len(numbers)
    return out


def collect(root) -> Aggregate:
    root = Path(root)
    agg = Aggregate()
    for job in _job_folders(root):
        name = str(job.relative_to(root)) or "."
        metrics_path = job / "metrics.json"
        if not metrics_path.exists():
            agg.skipped.append((name, "no metrics.json (job failed or did not finish)"))
            continue
        try:
            metrics = json.loads(metrics_path.read_text())
            if not isinstance(metrics, dict):
                raise ValueError("not a JSON object")
            params = _overrides(job)
        except (OSError, ValueError, yaml.YAMLError) as e:
            agg.skipped.append((name, f"malformed: {str(e).splitlines()[0]}"))
            continue
        values = _scalars(metrics)
        for key in params:
            if key not in agg.params:
                agg.params.append(key)
        for key in values:
            if key not in agg.metrics:
                agg.metrics.append(key)
        agg.rows.append({"job": name, **params, **values})
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
