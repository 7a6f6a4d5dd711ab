"""Summary tables: claims per figure, the sparsity sweep, and the collapse transition vs the paper."""

from __future__ import annotations

import numpy as np

from tms.claims import CLAIMS
from tms.metrics import collapsed

# The paper's reported number of collapsed sets (3 correlated pairs, m = 2) by range of 1 - S.
PAPER_COLLAPSE_RANGES = ((0.0, 0.05, 0), (0.05, 0.15, 1), (0.15, 0.2, 2), (0.25, 0.5, 3))


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def collapse_agreement(arrays) -> list:
    """Per paper range: models in it, median collapsed count, fraction matching the paper."""
    counts = collapsed(arrays["W"], arrays["set_id"]).sum(1)
    p = arrays["feature_probability"]
    rows = []
    for lo, hi, expected in PAPER_COLLAPSE_RANGES:
        inside = (p > lo) & (p <= hi) if lo > 0 else p <= hi
        if not inside.any():
            continue
        rows.append(
            {
                "range": [lo, hi],
                "paper_collapsed": expected,
                "n_models": int(inside.sum()),
                "median_collapsed": float(np.median(counts[inside])),
                "fraction_matching_paper": float((counts[inside] == expected).mean()),
                "histogram": np.bincount(counts[inside], minlength=4).tolist(),
            }
        )
    return rows


def sweep_table(parts: dict) -> dict:
    """{claim: {"feature_probability": [...], "fraction": [...], "control_fraction": [...]}}."""
    table = {}
    for name, part in parts.items():
        if not part:
            continue
        p = part["feature_probability"]
        xs = np.unique(p)
        holds = CLAIMS[name].holds(part["W"], part["set_id"])
        entry = {"feature_probability": xs.tolist(), "fraction": [float(holds[p == x].mean()) for x in xs]}
        if "control_W" in part:
            control = CLAIMS[name].holds(part["control_W"], part["set_id"])
            entry["control_fraction"] = [float(control[p == x].mean()) for x in xs]
        table[name] = entry
    return table


def summary_markdown(summary: dict) -> str:
    figures = summary["figures"]
    claims = {k: v for k, v in figures.items() if "fraction_holds" in v}
    out = []
    if claims:
        out += [
            "| figure | setup | models showing the geometry | control (independent features) "
            "| key metric: mean ± std | models with a collapsed set | unrepresented features |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, row in claims.items():
            s = row["setup"]
            setup = f"n={s['n']}, m={s['m']}, 1−S={s['feature_probability']:g}, {s['steps']:,} steps"
            metric = row["metric"].replace("|", "\\|")  # a bare | would split the table cell
            out.append(
                f"| `{name}` | {setup} | {_pct(row['fraction_holds'])} of {row['n_models']} "
                f"| {_pct(row.get('control_fraction_holds'))} "
                f"| {metric}: {row['metric_mean']:.3f} ± {row['metric_std']:.3f} "
                f"| {row['models_with_collapse']} ({row['collapsed_sets_total']} sets) "
                f"| {row['unrepresented_features_total']} in {row['models_with_unrepresented']} models |"
            )
    if "collapse_transition" in figures:
        out += [
            "",
            "**Collapse transition** (3 correlated pairs, m = 2) against the paper's reported ranges:",
            "",
            "| 1−S range | paper: collapsed sets | models | median here | models matching the paper "
            "| models with 0 / 1 / 2 / 3 collapsed |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in figures["collapse_transition"]["collapse"]:
            lo, hi = r["range"]
            out.append(
                f"| {lo:g}–{hi:g} | {r['paper_collapsed']} | {r['n_models']} | {r['median_collapsed']:g} "
                f"| {_pct(r['fraction_matching_paper'])} | {' / '.join(map(str, r['histogram']))} |"
            )
    if "sparsity_sweep" in figures:
        sweep = figures["sparsity_sweep"]["sweep"]
        xs = next(iter(sweep.values()))["feature_probability"] if sweep else []
        out += [
            "",
            "**Sparsity sweep**: fraction of models showing each geometry (control with independent features "
            "in brackets):",
            "",
            "| geometry | " + " | ".join(f"1−S={x:g}" for x in xs) + " |",
            "|---|" + "---:|" * len(xs),
        ]
        for name, e in sweep.items():
            cells = [
                f"{_pct(f)} ({_pct(c)})" if "control_fraction" in e else _pct(f)
                for f, c in zip(e["fraction"], e.get("control_fraction", e["fraction"]), strict=True)
            ]
            out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
