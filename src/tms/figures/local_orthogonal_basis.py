"""The paper's figure: two correlated sets of 10 in m = 10: blocks in W^T W.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[local_orthogonal_basis]' out_dir=/tmp/local_orthogonal_basis

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from tms.figures.claim_figure import ClaimFigure

FIGURE = ClaimFigure(
    "local_orthogonal_basis",
    "Each correlated set forms a local almost-orthogonal basis",
    setup="local_orthogonal_basis",
    claim="local_orthogonal_basis",
    heatmap=True,
)
