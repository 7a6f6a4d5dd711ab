"""Which features are on together: a batch drawn as one row per sample.

``plot_batch(x, set_id, set_kind)`` takes one model's batch (batch, n), e.g.
``FeatureSampler.from_config(cfg).sample_dense(1024, step=0)[0]``, and shows ``rows`` of its
samples (by default only samples with some feature on): a cell per feature, shaded by its value
in the feature's set colour (``plotting.feature_colors``), blank where the feature is 0. Set
boundaries are vertical lines, so all-or-none correlated sets and never-together anticorrelated
sets can be seen at a glance. The title gives the batch's observed rates.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from tms.core.structure import describe_layout
from tms.figures.plotting import _feature_label, feature_colors, style


def plot_batch(x, set_id, set_kind=(), rows: int = 32, only_active: bool = True, title: str = ""):
    """One row per sample of ``x`` (batch, n) (a tensor or array, one model's batch): its first
    ``rows`` samples with some feature on (``only_active``) or simply its first ``rows``.
    Returns the Figure."""
    x = np.asarray(x.cpu() if hasattr(x, "cpu") else x, dtype=np.float64)
    set_id = np.asarray(set_id)
    if x.ndim != 2 or x.shape[1] != set_id.size:
        raise ValueError(f"plot_batch needs one model's batch (batch, n = {set_id.size}), got shape {x.shape}")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        raise ValueError(f"rows = {rows!r}; must be an integer >= 1")
    on = x != 0
    busy = np.flatnonzero(on.any(1)) if only_active else np.arange(x.shape[0])
    shown = busy[:rows] if busy.size else np.arange(min(rows, x.shape[0]))  # all-zero: show the first rows
    n = set_id.size
    colors = np.asarray([to_rgba(c) for c in feature_colors(set_id)])  # (n, 4)
    image = np.ones((len(shown), n, 4))  # white where a feature is off
    value = x[shown]  # (rows, n)
    strength = np.clip(0.25 + 0.75 * value, 0, 1)[..., None]  # a present feature is never paler than 1/4
    image[..., :3] = np.where(on[shown][..., None], 1 - strength * (1 - colors[None, :, :3]), 1.0)
    kinds = list(set_kind) + ["set"] * max(0, int(set_id.max(initial=-1)) + 1 - len(set_kind))
    with style():
        fig = Figure(figsize=(max(3.2, 0.42 * n + 1.6), 0.2 * len(shown) + 1.9))
        ax = fig.add_subplot()
        if len(shown):
            ax.imshow(image, aspect="auto", interpolation="nearest")
        for edge in np.flatnonzero(np.diff(set_id) != 0):
            ax.axvline(edge + 0.5, color="black", lw=1.2)
        ax.set_xticks(range(n), [_feature_label(f, set_id, kinds).split(": ")[-1] for f in range(n)], fontsize=7)
        ax.set_yticks(range(len(shown)), [str(i) for i in shown], fontsize=6)
        ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(shown) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="0.9", lw=0.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("feature")
        ax.set_ylabel("sample (index in the batch)")
        rate = on.mean(0)
        words = describe_layout(set_id, kinds) if (set_id >= 0).any() else f"{n} independent features"
        lines = [
            title or words,
            f"{len(busy):,} of {x.shape[0]:,} samples with a feature on; each feature on in "
            f"{rate.min():.3g}–{rate.max():.3g} of samples",
        ]
        ax.set_title("\n".join(lines), fontsize=9)
        fig.tight_layout()
    return fig
