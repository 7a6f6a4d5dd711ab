"""The paper's figure: three correlated pairs in m = 2: side by side, sometimes collapsed.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[correlated_three_sets]' out_dir=/tmp/correlated_three_sets

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from tms.figures.claim_figure import ClaimFigure

FIGURE = ClaimFigure(
    "correlated_three_sets",
    "Correlated sets that cannot be orthogonal sit side by side (ringed: collapsed)",
    setup="correlated_three_sets",
    claim="correlated_three_sets",
    continued=True,
)
