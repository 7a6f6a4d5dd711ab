"""Figures drawn from saved run artifacts (npz files or dicts of arrays), never from live models.

``plot_weights_2d`` draws aligned 2D solutions; ``plot_gram`` draws W^T W heatmaps. Both take
the same keys as ``weights.npz``: W (I, m, n), set_id (n,), feature_probability (I,), seed (I,),
or a ``TrainResult`` straight from ``tms.train``.
"""

from __future__ import annotations

import dataclasses
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from tms.artifacts import load_weights, weights_arrays, write_bytes_atomic  # noqa: E402
from tms.geometry import align_2d  # noqa: E402
from tms.metrics import collapsed, pair_angles, represented  # noqa: E402
from tms.summary import PAPER_COLLAPSE_RANGES, sweep_table  # noqa: E402

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


def _arrays(source) -> dict:
    """An npz path, a TrainResult, or a dict of arrays -> a dict of arrays."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return load_weights(source)
    if dataclasses.is_dataclass(source):
        return weights_arrays(source)
    return source


def feature_colors(set_id) -> list:
    """One colour family per set, a distinct shade per feature inside it; grey for independent."""
    set_id = np.asarray(set_id)
    colors = []
    for f, s in enumerate(set_id):
        if s < 0:
            colors.append((0.45, 0.45, 0.45, 1.0))
            continue
        members = np.flatnonzero(set_id == s)
        shade = 0.9 - 0.45 * (np.searchsorted(members, f) / max(len(members) - 1, 1))
        colors.append(plt.get_cmap(SET_COLORMAPS[s % len(SET_COLORMAPS)])(shade))
    return colors


def _setup_line(arrays, n_models: int, shown: int | None = None) -> str:
    W = arrays["W"]
    p = np.unique(np.round(arrays["feature_probability"], 6))
    p_text = f"1−S = {p[0]:g}" if len(p) == 1 else f"1−S in [{p.min():g}, {p.max():g}]"
    steps = int(arrays["loss_step"][-1]) if len(arrays.get("loss_step", [])) else 0
    models = f"{shown} of {n_models} models" if shown is not None and shown < n_models else f"{n_models} models"
    return f"n = {W.shape[2]}, m = {W.shape[1]}, {p_text}, {models}, {steps:,} steps"


def plot_weights_2d(source, n_shown: int = 8, title: str = "", columns: int = 4):
    """Aligned 2D weight plots: each feature's W column as a line from the origin with a dot.

    Collapsed sets (all features within 20 degrees) are ringed and counted in the panel title;
    features with a negligible norm are listed as unrepresented. Returns the Figure.
    """
    arrays = _arrays(source)
    W, set_id = np.asarray(arrays["W"]), np.asarray(arrays["set_id"])
    assert W.shape[1] == 2, "plot_weights_2d needs m = 2"
    shown = min(n_shown, W.shape[0])
    W_al = align_2d(W[:shown])  # (shown, 2, n)
    coll = collapsed(W[:shown], set_id)  # (shown, sets)
    rep = represented(W[:shown])  # (shown, n)
    angles = pair_angles(W[:shown], set_id) if (set_id >= 0).any() else None
    colors = feature_colors(set_id)
    seeds = arrays.get("seed", np.arange(W.shape[0]))
    rows = int(np.ceil(shown / columns))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, columns, figsize=(2.5 * columns, 2.8 * rows + 1.1), squeeze=False)
        circle = np.linspace(0, 2 * np.pi, 200)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k >= shown:
                continue
            ax.plot(np.cos(circle), np.sin(circle), color="0.85", lw=0.8, zorder=0)
            for f in range(W.shape[2]):
                x, y = W_al[k, :, f]
                ax.plot([0, x], [0, y], color=colors[f], lw=2, solid_capstyle="round", zorder=2)
                ax.scatter([x], [y], color=[colors[f]], s=22, zorder=3, edgecolors="white", linewidths=0.5)
            for s in np.flatnonzero(coll[k]):
                tip = W_al[k, :, set_id == s].mean(0)
                ax.scatter([tip[0]], [tip[1]], s=260, facecolors="none", edgecolors="crimson", lw=1.3, zorder=4)
            lines = [f"seed {int(seeds[k])}"]
            if angles is not None:
                lines.append("∠ " + ", ".join(f"{a:.0f}°" for a in angles[k]))
            notes = []
            if coll[k].any():
                notes.append(f"{int(coll[k].sum())} collapsed")
            if (~rep[k]).any():
                notes.append(f"{int((~rep[k]).sum())} unrepresented")
            lines.append(" · ".join(notes))
            ax.set_title("\n".join(lines), fontsize=8.5, color="crimson" if coll[k].any() else "black")
            ax.set_xlim(-1.3, 1.3)
            ax.set_ylim(-1.3, 1.3)
            ax.set_aspect("equal")
        handles = [
            Line2D([], [], color=colors[f], lw=2, marker="o", ms=4, label=_feature_label(f, set_id))
            for f in range(W.shape[2])
        ]
        if coll.any():
            handles.append(
                Line2D([], [], ls="", marker="o", ms=11, mfc="none", mec="crimson", label="collapsed set (< 20°)")
            )
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), frameon=False, fontsize=8.5)
        fig.suptitle(f"{title}\n{_setup_line(arrays, W.shape[0], shown)}")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _feature_label(f: int, set_id) -> str:
    s = int(set_id[f])
    if s < 0:
        return f"f{f} (independent)"
    members = np.flatnonzero(np.asarray(set_id) == s)
    return f"set {s + 1}: f{f}" if f == members[0] else f"f{f}"


def _set_boundaries(ax, set_id) -> None:
    set_id = np.asarray(set_id)
    for edge in np.flatnonzero(np.diff(set_id) != 0):
        ax.axhline(edge + 0.5, color="black", lw=1.2)
        ax.axvline(edge + 0.5, color="black", lw=1.2)


def plot_gram(panels, title: str = "", index: int = 0):
    """W^T W heatmaps side by side, one per (label, source) in ``panels``, for model ``index``.

    Diverging colormap centred at 0 with symmetric limits shared by all panels; the set
    boundaries of the first panel's layout are drawn on every panel, and the setup line
    (n, m, 1-S, models, steps) is the first panel's. Returns the Figure.
    """
    loaded = [(label, _arrays(src)) for label, src in panels]
    grams = [np.asarray(a["W"])[index].T @ np.asarray(a["W"])[index] for _, a in loaded]
    vmax = max(float(np.abs(g).max()) for g in grams)
    boundaries = loaded[0][1]["set_id"]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(grams), figsize=(4.6 * len(grams) + 0.8, 5.0), squeeze=False)
        for ax, (label, _), gram in zip(axes.flat, loaded, grams, strict=True):
            im = ax.imshow(gram, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            _set_boundaries(ax, boundaries)
            ticks = np.arange(0, gram.shape[0], 5)
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.set_xlabel("feature")
            ax.set_ylabel("feature")
            ax.set_title(label, fontsize=9.5)
        fig.colorbar(im, ax=list(axes.flat), shrink=0.8, label="WᵀW")
        fig.suptitle(f"{title}\n{_setup_line(loaded[0][1], loaded[0][1]['W'].shape[0])}")
    return fig


def save_figure(fig, stem) -> list:
    """Write <stem>.png and <stem>.svg atomically; return the paths."""
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        # No creation date in the metadata, so regenerating an unchanged figure changes no bytes.
        with plt.rc_context(STYLE):  # save-time settings (dpi, SVG fonts and ids) live in STYLE
            fig.savefig(buf, format=ext, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(write_bytes_atomic(f"{stem}.{ext}", buf.getvalue()))
    plt.close(fig)
    return paths


def split_prefixed(arrays, prefix: str) -> dict:
    """Keys 'prefix.key' of a multi-model npz -> {key: array}."""
    return {k[len(prefix) + 1 :]: v for k, v in arrays.items() if k.startswith(prefix + ".")}


def plot_sparsity_sweep(source, geometries: dict, title: str = ""):
    """Fraction of models showing each claim's geometry against 1 - S (log axis).

    ``geometries`` maps a claim name to its label; ``source`` holds '<claim>.W', '<claim>.set_id',
    '<claim>.feature_probability' and optionally '<claim>.control_W' (dashed: independent control).
    """
    arrays = _arrays(source)
    table = sweep_table({name: split_prefixed(arrays, name) for name in geometries})
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
        for k, (name, label) in enumerate(geometries.items()):
            if name not in table:
                continue
            color = plt.get_cmap("tab10")(k)
            xs = table[name]["feature_probability"]
            ax.plot(xs, table[name]["fraction"], "-", marker="o", color=color, label=label)
            if "control_fraction" in table[name]:
                ax.plot(xs, table[name]["control_fraction"], "--", color=color, label=label + " (control)")
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("feature probability 1 − S")
        ax.set_ylabel("fraction of models showing the geometry")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        seeds = len(np.unique(arrays[f"{next(iter(geometries))}.seed"])) if arrays else 0
        steps = int(arrays.get("steps", 0))
        fig.suptitle(f"{title}\n{seeds} seeds per point, {steps:,} steps; dashed: same n, m with independent features")
        fig.tight_layout()
    return fig


def plot_collapse_transition(source, title: str = "", seed: int = 0):
    """Number of collapsed sets per model against 1 - S, with the paper's ranges shaded."""
    arrays = _arrays(source)
    W, set_id, p = arrays["W"], arrays["set_id"], arrays["feature_probability"]
    counts = collapsed(W, set_id).sum(1)
    xs = np.unique(p)
    rng = np.random.default_rng(seed)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 4.4))
        for lo, hi, c in PAPER_COLLAPSE_RANGES:
            ax.fill_between([max(lo, xs.min() * 0.8), hi], c - 0.4, c + 0.4, color="gold", alpha=0.3, lw=0)
        jitter = np.exp(rng.uniform(-0.08, 0.08, len(p)))
        ax.scatter(
            p * jitter,
            counts + rng.uniform(-0.15, 0.15, len(p)),
            s=10,
            color="tab:blue",
            alpha=0.5,
            label="one model (jittered)",
        )
        ax.plot(xs, [np.median(counts[p == x]) for x in xs], color="black", lw=2, marker="o", ms=4, label="median")
        ax.fill_between([], [], [], color="gold", alpha=0.3, label="paper's reported count")
        ax.set_xscale("log")
        ax.set_yticks([0, 1, 2, 3])
        ax.set_xlabel("feature probability 1 − S")
        ax.set_ylabel("collapsed sets (of 3)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left", frameon=False)
        fig.suptitle(f"{title}\n{_setup_line(arrays, len(p) // len(xs))} per point")
        fig.tight_layout()
    return fig


def plot_learning_dynamics(source, title: str = "", index: int = 0):
    """W^T W of one model at each snapshot (top) and geometry statistics over all models (bottom)."""
    from tms.claims import antipodal_cross_set_fraction
    from tms.metrics import feature_norms, within_set_abs_cos

    arrays = _arrays(source)
    snaps, steps, set_id = arrays["snapshots"], arrays["snapshot_steps"], arrays["set_id"]  # (S, I, m, n), (S,)
    S = len(steps)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(1.55 * S + 1.0, 5.6))
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
        series = {
            "mean |cos| within sets": np.nanmean(np.stack([within_set_abs_cos(w, set_id) for w in snaps]), (1, 2)),
            "features with a cross-set antipodal partner": np.stack(
                [antipodal_cross_set_fraction(w, set_id) for w in snaps]
            ).mean(1),
            "mean feature norm": np.stack([feature_norms(w) for w in snaps]).mean((1, 2)),
        }
        for label, y in series.items():
            ax.plot(x, y, marker="o", ms=4, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        ax.set_ylim(-0.03, 1.1)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, frameon=False, loc="center right")  # curves sit near 0 and 1 there
        fig.suptitle(
            f"{title}\ntop: WᵀW of seed {int(arrays['seed'][index])}; bottom: mean over "
            f"{snaps.shape[1]} models — {_setup_line(arrays, snaps.shape[1])}"
        )
        fig.tight_layout()
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
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6, 4))
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
