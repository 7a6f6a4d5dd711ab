"""Every model of a 2D figure at once, grouped by outcome (``tms.analysis.outcomes``).

The paper shows "several models"; a figure trains hundreds. ``plot_gallery`` draws each as a
small aligned panel (``tms.analysis.alignment``), in groups: the claim's predicted geometry
(strict), collapsed, dropped, other, each group titled with its count and tinted in its colour.
All panels share one Axes (one line collection), so 256 models draw in a moment.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from tms.analysis.alignment import align_2d
from tms.analysis.metrics import COLLAPSE_DEG, REPRESENTED_NORM
from tms.analysis.outcomes import OUTCOMES
from tms.figures.plotting import _feature_label, _set_kinds, as_arrays, feature_colors, setup_line, style

OUTCOME_WORDS = {
    "strict": "the predicted geometry",
    "collapsed": f"collapsed (a set within {COLLAPSE_DEG:g}° of one direction)",
    "dropped": f"dropped (a feature with ‖W‖ < {REPRESENTED_NORM:g})",
    "other": "other",
}
OUTCOME_COLORS = {"strict": "#2a8a3e", "collapsed": "#c0392b", "dropped": "#d68910", "other": "#5d6d7e"}


def gallery_layout(codes, columns: int) -> list:
    """[(outcome, model indices, first row)] for the non-empty groups, in OUTCOMES order; each
    group starts on a new row after one header row."""
    codes = np.asarray(codes)
    groups, row = [], 0
    for k, name in enumerate(OUTCOMES):
        members = np.flatnonzero(codes == k)
        if members.size == 0:
            continue
        groups.append((name, members, row + 1))
        row += 1 + int(np.ceil(members.size / columns))
    return groups


def plot_gallery(source, codes, title: str = "", columns: int = 16):
    """Every model of ``source`` (W (I, 2, n) and set_id) as a small aligned panel, grouped and
    coloured by outcome ``codes`` (I,) (indices into OUTCOMES, e.g. ``Claim.outcomes``), with
    counts in the group titles. Returns the Figure."""
    arrays = as_arrays(source)
    W, set_id = np.asarray(arrays["W"]), np.asarray(arrays["set_id"])
    codes = np.asarray(codes)
    if W.ndim != 3 or W.shape[1] != 2:
        raise ValueError(f"plot_gallery draws 2D models: W must be (models, 2, n), got shape {W.shape}")
    if codes.shape != (W.shape[0],):
        raise ValueError(f"{codes.shape[0] if codes.ndim else 0} outcome codes for {W.shape[0]} models")
    if codes.size and (codes.min() < 0 or codes.max() >= len(OUTCOMES)):
        raise ValueError(f"outcome codes must index OUTCOMES {OUTCOMES} (0 to {len(OUTCOMES) - 1})")
    aligned = align_2d(W)  # (I, 2, n)
    scale = 0.42 / np.maximum(np.linalg.norm(aligned, axis=1).max(1), 1.0)  # (I,) a panel is 1 x 1
    colors = feature_colors(set_id)
    groups = gallery_layout(codes, columns)
    rows = groups[-1][2] + int(np.ceil(groups[-1][1].size / columns)) if groups else 1
    segments, seg_colors, tips, tip_colors = [], [], [], []
    with style():
        fig = Figure(figsize=(0.62 * columns + 0.4, 0.62 * rows + 1.3))
        ax = fig.add_axes((0.01, 0.01, 0.98, 1 - 1.1 / fig.get_figheight()))
        for name, members, first_row in groups:
            color = OUTCOME_COLORS[name]
            share = members.size / W.shape[0]
            share_text = "<1%" if share < 0.005 else f"{share:.0%}"
            ax.text(
                0.05, -(first_row - 1) - 0.55, f"{OUTCOME_WORDS[name]}: {members.size} of {W.shape[0]} ({share_text})",
                color=color, fontsize=9, fontweight="bold", va="center",
            )  # fmt: skip
            for j, i in enumerate(members):
                col, row = j % columns, first_row + j // columns
                cx, cy = col + 0.5, -row - 0.5
                ax.add_patch(Rectangle((col + 0.03, -row - 0.97), 0.94, 0.94, color=color, alpha=0.10, lw=0))
                for f in range(W.shape[2]):
                    x, y = aligned[i, :, f] * scale[i]
                    segments.append([(cx, cy), (cx + x, cy + y)])
                    seg_colors.append(colors[f])
                    tips.append((cx + x, cy + y))
                    tip_colors.append(colors[f])
                ax.text(col + 0.06, -row - 0.08, str(i), fontsize=4.5, color="0.45", va="top")
        ax.add_collection(LineCollection(segments, colors=seg_colors, linewidths=1.1, capstyle="round"))
        if tips:
            ax.scatter(*np.asarray(tips).T, s=3, c=tip_colors, zorder=3, linewidths=0)
        ax.set_xlim(0, columns)
        ax.set_ylim(-rows, 0)
        ax.set_aspect("equal")
        ax.set_axis_off()
        counts = " · ".join(f"{name} {int((codes == k).sum())}" for k, name in enumerate(OUTCOMES))
        handles = [
            Line2D([], [], color=colors[f], lw=2, label=_feature_label(f, set_id, _set_kinds(arrays)))
            for f in range(W.shape[2])
        ]
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.62 / fig.get_figheight()),
                   ncol=min(len(handles), 8), frameon=False, fontsize=7.5)  # fmt: skip
        fig.suptitle(f"{title}: every model, by outcome ({counts})\n{setup_line(arrays)}", fontsize=10.5)
    return fig
