"""Drawing model weights from saved run artifacts (npz files, dicts of arrays, or a TrainResult).

Plotting only draws: every number it shows is computed by ``tms.analysis`` and passed in, or
read off the arrays. Figures are plain ``matplotlib.figure.Figure`` objects, made without pyplot,
so drawing works under any backend and never changes it; a notebook shows a returned Figure
inline, and ``save_figure`` writes PNG and SVG. Curves over sweeps and training are in
``tms.figures.plot_curves``.

What each call needs:
- ``plot_weights_2d(source)``: W (I, 2, n), set_id, optionally set_kind, feature_probability,
  seed, loss_step. Any feature structure.
- ``plot_gram(panels)``: (label, source) pairs with W and set_id.
"""

from __future__ import annotations

import io
import numbers

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tms.analysis.alignment import align_2d
from tms.analysis.metrics import collapsed, represented, set_members
from tms.core.artifacts import load_arrays, write_bytes_atomic
from tms.core.structure import describe_layout, set_count

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


def style():
    """matplotlib settings for every figure, applied only inside ``with style():``."""
    import matplotlib

    return matplotlib.rc_context(STYLE)


def as_arrays(source) -> dict:
    """An npz path, a TrainResult, or a dict of arrays -> a dict of arrays."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return load_arrays(source)
    if hasattr(source, "arrays") and callable(source.arrays):
        return source.arrays()
    return source


def _set_kinds(arrays) -> list:
    n_sets = set_count(arrays["set_id"])
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
    arrays = as_arrays(source)
    if "W" not in arrays or "set_id" not in arrays:
        raise ValueError("plot_weights_2d needs W and set_id (a TrainResult, its npz, or a dict holding both)")
    W, set_id = np.asarray(arrays["W"]), np.asarray(arrays["set_id"])
    if not isinstance(columns, numbers.Integral) or isinstance(columns, bool) or columns < 1:
        raise ValueError(f"columns = {columns!r}; must be an integer >= 1")
    if W.ndim != 3 or W.shape[1] != 2:
        raise ValueError(
            f"plot_weights_2d draws 2D models: W must be (models, 2, n), got shape {W.shape} (m = "
            f"{W.shape[1] if W.ndim == 3 else '?'})"
        )
    indices = list(range(min(n_shown, W.shape[0]))) if indices is None else list(indices)
    shown = W[indices]
    if not np.isfinite(shown).all():
        bad = [i for i, w in zip(indices, shown, strict=True) if not np.isfinite(w).all()]
        raise ValueError(f"models {bad} have non-finite weights (a diverged run?); nothing to draw for them")
    aligned = align_2d(shown)  # (shown, 2, n)
    members = set_members(set_id)
    coll = collapsed(shown, set_id) if members else np.zeros((len(indices), 0), dtype=bool)
    rep = represented(shown)
    colors = feature_colors(set_id)
    kinds = _set_kinds(arrays)
    p = np.asarray(arrays.get("feature_probability", np.zeros(W.shape[0])))
    several_p = len(np.unique(p)) > 1
    rows = max(1, int(np.ceil(len(indices) / columns)))
    with style():
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


def draw_set_boundaries(ax, set_id) -> None:
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
    loaded = [(label, as_arrays(src)) for label, src in panels]
    grams = [np.asarray(a["W"])[index].T @ np.asarray(a["W"])[index] for _, a in loaded]
    vmax = max(float(np.abs(g).max()) for g in grams) or 1.0
    first = loaded[0][1]
    with style():
        fig = Figure(figsize=(4.6 * len(grams) + 0.8, 5.2))
        axes = fig.subplots(1, len(grams), squeeze=False)
        for ax, (label, arrays), gram in zip(axes.flat, loaded, grams, strict=True):
            im = ax.imshow(gram, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            draw_set_boundaries(ax, arrays["set_id"])
            ticks = np.arange(0, gram.shape[0], max(5, gram.shape[0] // 8 // 5 * 5))
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.set_xlabel("feature")
            ax.set_ylabel("feature")
            ax.set_title(label, fontsize=9.5)
        fig.colorbar(im, ax=list(axes.flat), shrink=0.8, label="WᵀW")
        fig.suptitle(f"{title}\n{setup_line(first)}\nshown: {model_label(first, index)}", fontsize=10.5)
    return fig


def save_figure(fig, stem, formats=("png", "svg")) -> list:
    """Write <stem>.png and <stem>.svg (or ``formats``) atomically; return the paths."""
    paths = []
    for ext in formats:
        buf = io.BytesIO()
        # No creation date in the metadata, so regenerating an unchanged figure changes no bytes.
        with style():  # save-time settings (dpi, SVG fonts and ids) live in STYLE
            fig.savefig(buf, format=ext, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(write_bytes_atomic(f"{stem}.{ext}", buf.getvalue()))
    return paths
