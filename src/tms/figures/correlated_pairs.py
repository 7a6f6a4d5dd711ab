"""The paper's figure: correlated pairs (n = 4, m = 2): orthogonal within each pair.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[correlated_pairs]' out_dir=/tmp/correlated_pairs

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from tms.figures.claim_figure import ClaimFigure

FIGURE = ClaimFigure(
    "correlated_pairs",
    "Correlated features get orthogonal directions",
    setup="correlated_pairs",
    claim="correlated_pairs",
    continued=True,
)
