"""Figures drawn from saved run artifacts (npz files, dicts of arrays, or a TrainResult).

Plotting only draws: every number it shows is computed by ``tms.analysis.summary`` / ``tms.analysis.metrics``
and passed in, or read off the arrays. Figures are plain ``matplotlib.figure.Figure`` objects,
made without pyplot, so drawing works under any backend and never changes it; a notebook shows
a returned Figure inline, and ``save_figure`` writes PNG and SVG.

What each call needs:
- ``plot_weights_2d(source)``: W (I, 2, n), set_id, optionally set_kind, feature_probability,
  seed, loss_step. Any feature structure.
- ``plot_gram(panels)``: (label, source) pairs with W and set_id.
- ``plot_sparsity_sweep(table, labels)``: ``summary.sweep_points`` entries by claim.
- ``plot_collapse_transition(source, per_point)``: W, set_id, feature_probability, plus
  ``summary.collapse_by_point``.
- ``plot_learning_dynamics(source, series)``: snapshots, snapshot_steps, set_id, plus
  ``summary.learning_series``.
- ``plot_local_basis_scaling(table, gram_source)``: the scaling summary and one model's arrays.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tms.analysis.alignment import align_2d
from tms.analysis.claims import LOCAL_BASIS_RATIO
from tms.analysis.metrics import collapsed, represented, set_members
from tms.analysis.summary import PAPER_COLLAPSE_RANGES
from tms.core.artifacts import load_arrays, write_bytes_atomic
from tms.core.features import describe_layout

SET_COLORMAPS = ("Blues", "Oranges", "Greens", "Purples", "Reds", "copper")
STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "figure.titlesize": 12,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "svg.fonttype": "none",
    "svg.hashsalt": "tms",  # fixed SVG element ids: an unchanged figure redraws to the same bytes
}


def _style():
    import matplotlib

    return matplotlib.rc_context(STYLE)


def _arrays(source) -> dict:
    """An npz path, a TrainResult, or a dict of arrays -> a dict of arrays."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return load_arrays(source)
    if hasattr(source, "arrays") and callable(source.arrays):
        return source.arrays()
    return source


def _set_kinds(arrays) -> list:
    n_sets = int(np.max(arrays["set_id"])) + 1 if (np.asarray(arrays["set_id"]) >= 0).any() else 0
    kinds = [str(k) for k in arrays.get("set_kind", [])]
    return kinds + ["set"] * (n_sets - len(kinds))


def feature_colors(set_id) -> list:
    """One colour family per set, a distinct shade per feature; distinct greys for independent ones."""
    set_id = np.asarray(set_id)
    independent = np.flatnonzero(set_id < 0)
    greys = colormaps["Greys"]
    colors = []
    for f, s in enumerate(set_id):
        if s < 0:
            k = np.searchsorted(independent, f)
            colors.append(greys(0.85 - 0.5 * k / max(len(independent) - 1, 1)))
            continue
        members = np.flatnonzero(set_id == s)
        shade = 0.9 - 0.45 * (np.searchsorted(members, f) / max(len(members) - 1, 1))
        colors.append(colormaps[SET_COLORMAPS[s % len(SET_COLORMAPS)]](shade))
    return colors


def setup_line(arrays, shown: int | None = None) -> str:
    """'2 correlated sets of 2 (n = 4) in m = 2, 1−S = 0.05, 8 of 256 models, 10,000 steps'."""
    W = np.asarray(arrays["W"])
    p = np.unique(arrays["feature_probability"]) if "feature_probability" in arrays else np.zeros(0)
    parts = [f"{describe_layout(arrays['set_id'], _set_kinds(arrays))} (n = {W.shape[2]}) in m = {W.shape[1]}"]
    if len(p) == 1:
        parts.append(f"1−S = {p[0]:g}")
    elif len(p) > 1:
        parts.append(f"1−S from {p.min():g} to {p.max():g}")
    models = W.shape[0]
    parts.append(f"{shown} of {models} models" if shown is not None and shown < models else f"{models} models")
    if len(arrays.get("loss_step", [])):
        parts.append(f"{int(arrays['loss_step'][-1]):,} steps")
    return ", ".join(parts)


def _angle_text(Wk, rep_k, members) -> str:
    """Angle within each set: the pair's angle, or the range over pairs; '–' if a feature is missing."""
    out = []
    for s in members:
        if not rep_k[s].all():
            out.append("–")
            continue
        unit = Wk[:, s] / np.linalg.norm(Wk[:, s], axis=0)
        cos = np.clip(unit.T @ unit, -1, 1)
        angles = np.degrees(np.arccos(cos[np.triu_indices(len(s), 1)]))
        out.append(f"{angles[0]:.0f}°" if len(angles) == 1 else f"{angles.min():.0f}–{angles.max():.0f}°")
    return ", ".join(out)


def plot_weights_2d(source, n_shown: int = 8, title: str = "", columns: int = 4, indices=None):
    """Aligned 2D weight plots: each feature's W column as a line from the origin with a dot.

    Panels show models ``indices`` (default: the first ``n_shown``), each rotated and flipped
    into the canonical orientation (``tms.analysis.alignment``). Collapsed sets (all features within 20°)
    are ringed; the panel title gives the angle within each set ('–' when a feature of the set
    is unrepresented) and the model's 1−S when the source holds several. Returns the Figure.
    """
    arrays = _arrays(source)
    W, set_id = np.asarray(arrays["W"]), np.asarray(arrays["set_id"])
    if W.ndim != 3 or W.shape[1] != 2:
        raise ValueError(
            f"plot_weights_2d draws 2D models: W must be (models, 2, n), got shape {W.shape} (m = "
            f"{W.shape[1] if W.ndim == 3 else '?'})"
        )
    indices = list(range(min(n_shown, W.shape[0]))) if indices is None else list(indices)
    shown = W[indices]
    aligned = align_2d(shown)  # (shown, 2, n)
    members = set_members(set_id)
    coll = collapsed(shown, set_id) if members else np.zeros((len(indices), 0), dtype=bool)
    rep = represented(shown)
    colors = feature_colors(set_id)
    kinds = _set_kinds(arrays)
    p = np.asarray(arrays.get("feature_probability", np.zeros(W.shape[0])))
    several_p = len(np.unique(p)) > 1
    rows = max(1, int(np.ceil(len(indices) / columns)))
    with _style():
        fig = Figure(figsize=(2.6 * columns, 3.2 * rows + 1.4))
        axes = fig.subplots(rows, columns, squeeze=False)
        circle = np.linspace(0, 2 * np.pi, 200)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k >= len(indices):
                continue
            ax.plot(np.cos(circle), np.sin(circle), color="0.85", lw=0.8, zorder=0)
            for f in range(W.shape[2]):
                x, y = aligned[k, :, f]
                ax.plot([0, x], [0, y], color=colors[f], lw=2, solid_capstyle="round", zorder=2)
                ax.scatter([x], [y], color=[colors[f]], s=22, zorder=3, edgecolors="white", linewidths=0.5)
            for s in np.flatnonzero(coll[k]):
                tip = aligned[k][:, set_id == s].mean(1)
                ax.scatter([tip[0]], [tip[1]], s=260, facecolors="none", edgecolors="crimson", lw=1.3, zorder=4)
            head = f"model {indices[k]}" + (f", 1−S = {p[indices[k]]:g}" if several_p else "")
            lines = [head]
            if members:
                lines.append("∠ " + _angle_text(shown[k], rep[k], members))
            notes = []
            if coll[k].any():
                notes.append(f"{int(coll[k].sum())} collapsed")
            if (~rep[k]).any():
                notes.append(f"{int((~rep[k]).sum())} unrepresented")
            lines.append(" · ".join(notes))
            ax.set_title("\n".join(lines), fontsize=8.5, color="crimson" if coll[k].any() else "black")
            ax.set_xlim(-1.4, 1.4)
            ax.set_ylim(-1.4, 1.4)
            ax.set_aspect("equal")
        handles = [
            Line2D([], [], color=colors[f], lw=2, marker="o", ms=4, label=_feature_label(f, set_id, kinds))
            for f in range(W.shape[2])
        ]
        if coll.any():
            handles.append(
                Line2D([], [], ls="", marker="o", ms=11, mfc="none", mec="crimson", label="collapsed set (< 20°)")
            )
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 8), frameon=False, fontsize=8.5)
        fig.suptitle(f"{title}\n{setup_line(arrays, len(indices))}")
        legend_rows = int(np.ceil(len(handles) / 8))
        fig.tight_layout(rect=(0, 0.04 + 0.03 * legend_rows, 1, 1 - 0.45 / fig.get_figheight()), h_pad=1.5)
    return fig


def _feature_label(f: int, set_id, kinds) -> str:
    s = int(set_id[f])
    if s < 0:
        return f"f{f} (independent)"
    members = np.flatnonzero(np.asarray(set_id) == s)
    return f"set {s + 1}, {kinds[s]}: f{f}" if f == members[0] else f"f{f}"


def _set_boundaries(ax, set_id) -> None:
    set_id = np.asarray(set_id)
    for edge in np.flatnonzero(np.diff(set_id) != 0):
        ax.axhline(edge + 0.5, color="black", lw=1.2)
        ax.axvline(edge + 0.5, color="black", lw=1.2)


def model_label(arrays, index: int) -> str:
    """'model 3 (seed 1652…960, 1−S = 0.03)'."""
    parts = []
    if "seed" in arrays:
        parts.append(f"seed {int(arrays['seed'][index])}")
    if "feature_probability" in arrays:
        parts.append(f"1−S = {float(arrays['feature_probability'][index]):g}")
    return f"model {index}" + (f" ({', '.join(parts)})" if parts else "")


def plot_gram(panels, title: str = "", index: int = 0):
    """W^T W heatmaps side by side, one per (label, source) in ``panels``, of model ``index``.

    Diverging colormap centred at 0 with symmetric limits shared by all panels; each panel's
    set boundaries are drawn, and the setup line is the first panel's. Returns the Figure.
    """
    loaded = [(label, _arrays(src)) for label, src in panels]
    grams = [np.asarray(a["W"])[index].T @ np.asarray(a["W"])[index] for _, a in loaded]
    vmax = max(float(np.abs(g).max()) for g in grams) or 1.0
    first = loaded[0][1]
    with _style():
        fig = Figure(figsize=(4.6 * len(grams) + 0.8, 5.2))
        axes = fig.subplots(1, len(grams), squeeze=False)
        for ax, (label, arrays), gram in zip(axes.flat, loaded, grams, strict=True):
            im = ax.imshow(gram, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            _set_boundaries(ax, arrays["set_id"])
            ticks = np.arange(0, gram.shape[0], max(5, gram.shape[0] // 8 // 5 * 5))
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.set_xlabel("feature")
            ax.set_ylabel("feature")
            ax.set_title(label, fontsize=9.5)
        fig.colorbar(im, ax=list(axes.flat), shrink=0.8, label="WᵀW")
        fig.suptitle(f"{title}\n{setup_line(first)}\nshown: {model_label(first, index)}", fontsize=10.5)
    return fig


def plot_sparsity_sweep(table: dict, labels: dict, title: str = "", subtitle: str = ""):
    """Fraction of models showing each claim's geometry against 1 - S, with 95% intervals.

    ``table`` maps a claim to its ``summary.sweep_points`` entry; ``labels`` maps it to a legend
    label. Solid lines with error bars: the model; dashed with a band: its control, if trained.
    """
    with _style():
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
            note += "; dashed: the same n, m and seeds with independent features"
        fig.suptitle(f"{title}\n{subtitle}{'; ' if subtitle else ''}{note}", fontsize=10.5)
        fig.tight_layout()
    return fig


def plot_collapse_transition(source, per_point: dict, title: str = "", seed: int = 0):
    """Collapsed sets per model against 1 - S: models (jittered), medians with 95% intervals,
    the control's medians (dashed, if trained), and the paper's reported counts shaded.

    ``per_point``: {"model": summary.collapse_by_point(...), "control": ... (optional)}.
    """
    arrays = _arrays(source)
    W, set_id, p = arrays["W"], arrays["set_id"], np.asarray(arrays["feature_probability"])
    counts = collapsed(W, set_id).sum(1)
    n_sets = int(np.max(set_id)) + 1
    model = per_point["model"]
    xs = np.asarray(model["feature_probability"])
    rng = np.random.default_rng(seed)
    with _style():
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
        for which, style in (("model", dict(color="black", lw=2)), ("control", dict(color="0.45", lw=1.2, ls="--"))):
            if which not in per_point:
                continue
            med = np.asarray(per_point[which]["median_collapsed"], dtype=float)
            ci = np.asarray(per_point[which]["median_collapsed_ci95"], dtype=float)
            label = "median, 95% interval" if which == "model" else "control (independent features): median"
            ax.errorbar(
                xs, med, yerr=[med - ci[:, 0], ci[:, 1] - med], marker="o", ms=4, capsize=3, label=label, **style
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
    ``series`` from ``summary.learning_series``, means with 95% bands."""
    arrays = _arrays(source)
    snaps, steps, set_id = arrays["snapshots"], arrays["snapshot_steps"], arrays["set_id"]  # (S, I, m, n), (S,)
    S = len(steps)
    with _style():
        fig = Figure(figsize=(1.55 * S + 1.0, 5.8))
        grid = fig.add_gridspec(2, S, height_ratios=[1, 1.35])
        for k in range(S):
            ax = fig.add_subplot(grid[0, k])
            gram = snaps[k, index].T @ snaps[k, index]
            ax.imshow(gram, cmap="RdBu_r", vmin=-1.1, vmax=1.1, interpolation="nearest")
            _set_boundaries(ax, set_id)
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
    arrays = _arrays(gram_source)
    cells = table["cells"]
    with _style():
        fig = Figure(figsize=(12.5, 5.2))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        keys = sorted({(c["feature_probability"], c["sets"]) for c in cells})
        for k, (p, s) in enumerate(keys):
            color = colormaps["tab10"](k)
            rows = sorted((c for c in cells if c["feature_probability"] == p and c["sets"] == s), key=lambda c: c["m"])
            ms = [c["m"] for c in rows]
            for part, style in (("model", "-o"), ("control", "--")):
                if part not in rows[0]:
                    continue
                y = np.asarray([c[part]["ratio_mean"] for c in rows], dtype=float)
                band = np.asarray([c[part]["ratio_mean_ci95"] for c in rows], dtype=float)
                label = f"s = {s} sets, 1−S = {p:g}" + (" (control)" if part == "control" else "")
                left.plot(ms, y, style, color=color, ms=4, lw=1.6 if part == "model" else 1.0, label=label)
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
        _set_boundaries(right, arrays["set_id"])
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
    with _style():
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


def save_figure(fig, stem) -> list:
    """Write <stem>.png and <stem>.svg atomically; return the paths."""
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        # No creation date in the metadata, so regenerating an unchanged figure changes no bytes.
        with _style():  # save-time settings (dpi, SVG fonts and ids) live in STYLE
            fig.savefig(buf, format=ext, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(write_bytes_atomic(f"{stem}.{ext}", buf.getvalue()))
    return paths
