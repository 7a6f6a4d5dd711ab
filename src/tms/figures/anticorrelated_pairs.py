"""The paper's figure: anticorrelated pairs (n = 4, m = 2): opposite within each pair.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[anticorrelated_pairs]' out_dir=/tmp/anticorrelated_pairs

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from tms.figures.claim_figure import ClaimFigure

FIGURE = ClaimFigure(
    "anticorrelated_pairs",
    "Anticorrelated features get opposite directions",
    setup="anticorrelated_pairs",
    claim="anticorrelated_pairs",
    continued=True,
)
