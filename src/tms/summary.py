"""Render the per-figure claim summary as a Markdown table."""

from __future__ import annotations


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def summary_markdown(summary: dict) -> str:
    lines = [
        "| figure | setup | models showing the geometry | control (independent features) "
        "| key metric: mean ± std | models with a collapsed set | unrepresented features |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in summary["figures"].items():
        metric = row["metric"].replace("|", "\\|")  # a bare | would split the table cell
        s = row["setup"]
        setup = f"n={s['n']}, m={s['m']}, 1−S={s['feature_probability']:g}, {s['steps']:,} steps"
        lines.append(
            f"| `{name}` | {setup} | {_pct(row['fraction_holds'])} of {row['n_models']} "
            f"| {_pct(row.get('control_fraction_holds'))} "
            f"| {metric}: {row['metric_mean']:.3f} ± {row['metric_std']:.3f} "
            f"| {row['models_with_collapse']} ({row['collapsed_sets_total']} sets) "
            f"| {row['unrepresented_features_total']} in {row['models_with_unrepresented']} models |"
        )
    return "\n".join(lines) + "\n"
