"""Curves drawn from the summary's numbers: sweeps, collapse, training dynamics, scaling, aggregates.

Every number is computed in ``tms.analysis`` and passed in; these functions only draw.
- ``plot_sparsity_sweep(table, labels)``: ``tms.analysis.sweep.sweep_points`` entries by claim.
- ``plot_collapse_transition(source, per_point, counts)``: feature_probability and set_id, with
  ``tms.analysis.collapse.collapse_by_point`` and the per-model collapsed-set counts.
- ``plot_learning_dynamics(source, series)``: snapshots, snapshot_steps, set_id, plus
  ``tms.analysis.dynamics.learning_series``.
- ``plot_local_basis_scaling(table, gram_source)``: the scaling summary and one model's arrays.
- ``plot_metric_by_param(agg, metric, param)``: one dot per job of an aggregated sweep.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from tms.analysis.claims import LOCAL_BASIS_RATIO
from tms.analysis.collapse import PAPER_COLLAPSE_RANGES
from tms.core.structure import set_count
from tms.figures.plotting import as_arrays, draw_set_boundaries, model_label, setup_line, style


def plot_sparsity_sweep(table: dict, labels: dict, title: str = "", subtitle: str = ""):
    """Fraction of models showing each claim's geometry against 1 - S, with 95% intervals.

    ``table`` maps a claim to its ``tms.analysis.sweep.sweep_points`` entry; ``labels`` maps it to a legend
    label. Solid lines with error bars: the model; dashed with a band: its control, if trained.
    """
    with style():
        fig = Figure(figsize=(8.2, 4.8))
        ax = fig.subplots()
        any_control = False
        for k, (name, label) in enumerate(labels.items()):
            if name not in table:
                continue
            entry = table[name]
            color = colormaps["tab10"](k)
            xs = np.asarray(entry["feature_probability"])
            y = np.asarray(entry["fraction"], dtype=float)
            ci = np.asarray(entry["fraction_ci95"], dtype=float)
            ax.errorbar(xs, y, yerr=[y - ci[:, 0], ci[:, 1] - y], fmt="-o", ms=4, capsize=2.5, color=color, label=label)
            if "control_fraction" in entry:
                any_control = True
                cy = np.asarray(entry["control_fraction"], dtype=float)
                cci = np.asarray(entry["control_fraction_ci95"], dtype=float)
                ax.plot(xs, cy, "--", color=color, lw=1.2, label=f"{label}: control")
                ax.fill_between(xs, cci[:, 0], cci[:, 1], color=color, alpha=0.12, lw=0)
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("feature probability 1 − S")
        ax.set_ylabel("fraction of models showing the geometry")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        note = "bars and bands: 95% Wilson intervals"
        if any_control:
            note += "; dashed: independent features at the same marginal rates, n, m and seeds"
        lines = [title, subtitle, note] if subtitle else [title, note]
        fig.suptitle("\n".join(lines), fontsize=10)
        fig.tight_layout()
    return fig


def plot_collapse_transition(source, per_point: dict, counts, title: str = "", seed: int = 0):
    """Collapsed sets per model against 1 - S: models (jittered), medians with 95% intervals,
    the control's medians (dashed, if trained), and the paper's reported counts shaded.

    ``per_point``: {"model": collapse_by_point(...), "control": ... (optional)}; ``counts``: (I,)
    collapsed sets per model (``tms.analysis.collapse.collapse_counts``).
    """
    arrays = as_arrays(source)
    p = np.asarray(arrays["feature_probability"])
    n_sets = set_count(arrays["set_id"])
    model = per_point["model"]
    xs = np.asarray(model["feature_probability"])
    rng = np.random.default_rng(seed)
    with style():
        fig = Figure(figsize=(7.8, 4.6))
        ax = fig.subplots()
        for lo, hi, c in PAPER_COLLAPSE_RANGES:
            ax.fill_between([max(lo, xs.min() * 0.8), hi], c - 0.4, c + 0.4, color="gold", alpha=0.3, lw=0)
        jitter = np.exp(rng.uniform(-0.08, 0.08, len(p)))
        ax.scatter(
            p * jitter,
            counts + rng.uniform(-0.15, 0.15, len(p)),
            s=8,
            color="tab:blue",
            alpha=0.35,
            label="one model (jittered)",
        )
        line_styles = (("model", dict(color="black", lw=2)), ("control", dict(color="0.45", lw=1.2, ls="--")))
        for which, line_style in line_styles:
            if which not in per_point:
                continue
            med = np.asarray(per_point[which]["median_collapsed"], dtype=float)
            ci = np.asarray(per_point[which]["median_collapsed_ci95"], dtype=float)
            label = "median, 95% interval" if which == "model" else "control (independent features): median"
            ax.errorbar(
                xs, med, yerr=[med - ci[:, 0], ci[:, 1] - med], marker="o", ms=4, capsize=3, label=label, **line_style
            )
        ax.fill_between([], [], [], color="gold", alpha=0.3, label="paper's reported count")
        ax.set_xscale("log")
        ax.set_yticks(range(n_sets + 1))
        ax.set_xlabel("feature probability 1 − S")
        ax.set_ylabel(f"collapsed sets (of {n_sets})")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left", frameon=False)
        per = len(p) // max(len(xs), 1)
        fig.suptitle(f"{title}\n{setup_line(arrays)}; {per} models per point", fontsize=10.5)
        fig.tight_layout()
    return fig


def plot_learning_dynamics(source, series: dict, title: str = "", index: int = 0):
    """W^T W of model ``index`` at each snapshot (top) and geometry over training (bottom):
    ``series`` from ``tms.analysis.dynamics.learning_series``, means with 95% bands."""
    arrays = as_arrays(source)
    snaps, steps, set_id = arrays["snapshots"], arrays["snapshot_steps"], arrays["set_id"]  # (S, I, m, n), (S,)
    S = len(steps)
    with style():
        fig = Figure(figsize=(1.55 * S + 1.0, 5.8))
        grid = fig.add_gridspec(2, S, height_ratios=[1, 1.35])
        for k in range(S):
            ax = fig.add_subplot(grid[0, k])
            gram = snaps[k, index].T @ snaps[k, index]
            ax.imshow(gram, cmap="RdBu_r", vmin=-1.1, vmax=1.1, interpolation="nearest")
            draw_set_boundaries(ax, set_id)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"step {int(steps[k]):,}", fontsize=8.5)
        ax = fig.add_subplot(grid[1, :])
        x = np.maximum(steps, 1)
        for label, s in series.items():
            mean = np.asarray(s["mean"], dtype=float)
            band = np.asarray(s["mean_ci95"], dtype=float)
            line = ax.plot(x, mean, marker="o", ms=4, label=label)[0]
            ax.fill_between(x, band[:, 0], band[:, 1], color=line.get_color(), alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        ax.set_ylim(-0.03, 1.1)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, frameon=False, loc="center right")
        fig.suptitle(
            f"{title}\n{setup_line(arrays)}\ntop: WᵀW of {model_label(arrays, index)}; "
            f"bottom: mean over {snaps.shape[1]} models with 95% bands",
            fontsize=10.5,
        )
        fig.tight_layout()
    return fig


def plot_local_basis_scaling(table: dict, gram_source, title: str = "", index: int = 0):
    """Left: within/between |cos| ratio against m, one line per number of sets s, control dashed,
    95% bands. Right: W^T W of one model at the largest size, with set boundaries."""
    arrays = as_arrays(gram_source)
    cells = table["cells"]
    with style():
        fig = Figure(figsize=(12.5, 5.2))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        keys = sorted({(c["feature_probability"], c["sets"]) for c in cells})
        for k, (p, s) in enumerate(keys):
            color = colormaps["tab10"](k)
            rows = sorted((c for c in cells if c["feature_probability"] == p and c["sets"] == s), key=lambda c: c["m"])
            ms = [c["m"] for c in rows]
            for part, line_style in (("model", "-o"), ("control", "--")):
                if part not in rows[0]:
                    continue
                y = np.asarray([c[part]["ratio_mean"] for c in rows], dtype=float)
                band = np.asarray([c[part]["ratio_mean_ci95"] for c in rows], dtype=float)
                label = f"s = {s} sets, 1−S = {p:g}" + (" (control)" if part == "control" else "")
                left.plot(ms, y, line_style, color=color, ms=4, lw=1.6 if part == "model" else 1.0, label=label)
                left.fill_between(
                    ms, band[:, 0], band[:, 1], color=color, alpha=0.15 if part == "model" else 0.06, lw=0
                )
        left.axhline(1.0, color="0.5", lw=0.8)
        left.axhline(LOCAL_BASIS_RATIO, color="0.3", lw=0.8, ls=":")
        left.text(ms[0], LOCAL_BASIS_RATIO * 1.05, "local-basis criterion", fontsize=7.5, color="0.3")
        left.set_yscale("log")
        left.set_xscale("log", base=2)
        left.set_xticks(sorted({c["m"] for c in cells}), [str(m) for m in sorted({c["m"] for c in cells})])
        left.set_xlabel("hidden dimensions m (= set size k)")
        left.set_ylabel("mean |cos| within sets ÷ between sets")
        left.grid(alpha=0.3, which="both")
        left.legend(fontsize=7.5, frameon=False)
        gram = np.asarray(arrays["W"])[index].T @ np.asarray(arrays["W"])[index]
        vmax = float(np.abs(gram).max()) or 1.0
        im = right.imshow(gram, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        draw_set_boundaries(right, arrays["set_id"])
        right.set_title(f"WᵀW of {model_label(arrays, index)}\n{setup_line(arrays)}", fontsize=8)
        right.set_xlabel("feature")
        right.set_ylabel("feature")
        fig.colorbar(im, ax=right, shrink=0.8)
        per = sorted({c["n_instances"] for c in cells})
        fig.suptitle(
            f"{title}\n{'/'.join(map(str, per))} models per cell, each with its independent-feature control "
            "(dashed); bands: 95% bootstrap intervals",
            fontsize=10.5,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.88))
    return fig


def plot_metric_by_param(agg, metric: str, param: str):
    """One dot per job of ``metric`` against ``param`` (log x when all values are positive numbers)."""
    xs, ys = [], []
    for row in agg.rows:
        if row.get(metric) is None or row.get(param) is None:
            continue
        try:
            xs.append(float(row[param]))
        except ValueError:
            xs.append(row[param])
        ys.append(float(row[metric]))
    numeric = all(isinstance(x, float) for x in xs)
    with style():
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.scatter(xs, ys, s=18)
        if numeric and xs:
            order = sorted(set(xs))
            ax.plot(order, [np.mean([y for x, y in zip(xs, ys, strict=True) if x == o]) for o in order], lw=1.5)
            if min(order) > 0 and max(order) / min(order) > 20:
                ax.set_xscale("log")
        ax.set_xlabel(param)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.set_title(f"{metric} by {param} ({len(ys)} jobs)")
        fig.tight_layout()
    return fig


def plot_robustness(entry: dict, title: str = ""):
    """One panel per claim: the strict fraction (model, solid, with 95% intervals) and the
    control's (dashed, band) for each variant, with the model's collapsed and dropped fractions
    (thin). Variants with a multiplier (``variant_x``) go on a log axis, others side by side."""
    claims = entry["claims"]
    xs = entry["variant_x"]
    numeric = all(x is not None for x in xs)
    positions = np.asarray(xs, dtype=float) if numeric else np.arange(len(xs), dtype=float)
    columns = max(len(claims), 1)
    with style():
        fig = Figure(figsize=(3.1 * columns, 3.6))
        axes = np.atleast_1d(fig.subplots(1, columns, sharey=True))
        for ax, name in zip(axes, entry["order"], strict=True):
            rows = claims[name]
            at = {r["variant"]: k for k, r in enumerate(rows)}
            x = np.asarray([positions[entry["variants"].index(v)] for v in at])

            def series(key, rows=rows):
                return np.asarray([r[key] if r[key] is not None else np.nan for r in rows], dtype=float)

            y, ci = series("fraction"), np.asarray([r["fraction_ci95"] for r in rows], dtype=float)
            ax.errorbar(
                x, y, yerr=[y - ci[:, 0], ci[:, 1] - y], fmt="-o", ms=4, capsize=2.5, color="C0", label="model: strict"
            )
            if rows and "control_fraction" in rows[0]:
                cy = series("control_fraction")
                cci = np.asarray([r["control_fraction_ci95"] for r in rows], dtype=float)
                ax.plot(x, cy, "--", color="C3", lw=1.2, label="control: strict")
                ax.fill_between(x, cci[:, 0], cci[:, 1], color="C3", alpha=0.12, lw=0)
            for outcome, color in (("collapsed", "C1"), ("dropped", "C2")):
                f = np.asarray([r["outcomes"][outcome]["fraction"] for r in rows], dtype=float)
                ax.plot(x, f, ":", color=color, lw=1.1, marker=".", label=f"model: {outcome}")
            for r, xx in zip(rows, x, strict=True):
                if r.get("verdict") == "reproduced":
                    ax.annotate("✓", (xx, 1.02), ha="center", fontsize=9, color="C0")
            if numeric:
                ax.set_xscale("log")
                ax.axvline(1.0, color="0.6", lw=0.8)
            else:
                ax.set_xticks(positions, entry["variants"], fontsize=8)
            ax.set_title(CLAIM_TITLES.get(name, name), fontsize=9.5)
            ax.set_ylim(-0.03, 1.08)
            ax.grid(alpha=0.3, which="both")
            ax.set_xlabel(entry["axis"], fontsize=8.5)
        axes[0].set_ylabel("fraction of models")
        axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        note = "✓: reproduced (beats its paired control, p < 0.01, lower bound ≥ 50%); bars and bands: 95% Wilson"
        fig.suptitle(f"{title}\n{note}", fontsize=10)
        fig.tight_layout()
    return fig


CLAIM_TITLES = {
    "correlated_pairs": "orthogonal (2 correlated pairs)",
    "anticorrelated_pairs": "opposite (2 anticorrelated pairs)",
    "correlated_three_sets": "side by side (3 correlated pairs)",
    "local_orthogonal_basis": "local bases (2 sets of 10, m=10)",
    "learning_dynamics": "octahedron (2 sets of 3, m=3)",
}
