"""The figures: one module per figure, the registry listing them, drawing and report tables.

- ``FIGURES``: the registry, a list of every figure in summary order; ``figure(name)`` finds one.
- One module per figure (``correlated_pairs``, ..., ``local_basis_scaling``), each holding its
  ``FIGURE`` and, in its docstring, the command that regenerates it. Adding a figure means
  adding one such module and listing it here.
- ``base`` (what a figure is: parts, job keys, npz layout), ``claim_figure`` (the paper
  figures' kind), ``settings`` (what the figures train), ``plotting`` and ``plot_curves``
  (drawing only), ``tables`` and ``report`` (summary.md).
- ``load_result`` reads a figure npz (or one part of it) back as a TrainResult.
"""

from __future__ import annotations

from tms.core.result import TrainResult, load_part
from tms.figures import (
    anticorrelated_pairs,
    collapse_transition,
    correlated_pairs,
    correlated_three_sets,
    init_robustness,
    learning_dynamics,
    local_basis_scaling,
    local_orthogonal_basis,
    sparsity_sweep,
    training_recipes,
)
from tms.figures.report import summary_markdown as _summary_markdown

FIGURES = [
    correlated_pairs.FIGURE,
    anticorrelated_pairs.FIGURE,
    correlated_three_sets.FIGURE,
    local_orthogonal_basis.FIGURE,
    learning_dynamics.FIGURE,
    sparsity_sweep.FIGURE,
    sparsity_sweep.SMALL_INIT,
    collapse_transition.FIGURE,
    local_basis_scaling.FIGURE,
    init_robustness.FIGURE,
    training_recipes.FIGURE,
]


def names() -> list:
    """Every figure's name, in registry order."""
    return [f.name for f in FIGURES]


def figure(name: str):
    """The registered figure called ``name`` (KeyError if there is none)."""
    for f in FIGURES:
        if f.name == name:
            return f
    raise KeyError(name)


def summary_markdown(summary: dict) -> str:
    """summary.md for a summary dict, figures in registry order."""
    return _summary_markdown(summary, FIGURES)


def load_result(npz_path, prefix: str | None = None) -> TrainResult:
    """A figure npz (or one part of it, e.g. prefix="correlated_pairs" in sparsity_sweep.npz) as a
    TrainResult. Refuses (ArtifactError) an npz that its folder's completion marker does not vouch
    for: a figures run that did not finish, or a file replaced since."""
    return load_part(npz_path, prefix)


__all__ = ["FIGURES", "figure", "load_result", "names", "summary_markdown"]
