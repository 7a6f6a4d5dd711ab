"""Every paper claim against the initialisation scale (a multiplier on the per-model Xavier std).

Each claim trains at its paper figure's setup and 1 - S, with paired controls, at every scale of
``init_robustness.scales``; 1x is the paper figures' own init, retrained on fresh seeds.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[init_robustness]' out_dir=/tmp/init_robustness

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.core.config import check_number
from tms.core.errors import ConfigError
from tms.figures.robustness import RobustnessFigure, Variant


@dataclass(frozen=True)
class InitRobustness(RobustnessFigure):
    def check(self, settings):
        super().check(settings)
        c = settings.init_robustness
        if not isinstance(c.scales, (list, tuple)) or not c.scales:
            raise ConfigError("init_robustness.scales", "must list at least one init scale")
        for s in c.scales:
            check_number(s, "init_robustness.scales", "in (0, 1e6]", lambda x: 0 < x <= 1e6)
        if len(set(c.scales)) != len(c.scales):
            raise ConfigError("init_robustness.scales", f"got {list(c.scales)}; values must be distinct")

    def variants(self, settings):
        return [Variant(f"init×{s:g}", float(s), init_scale=float(s)) for s in settings.init_robustness.scales]


FIGURE = InitRobustness(
    "init_robustness",
    "Every claim against the init scale (× the per-model Xavier std)",
    claims=(
        "correlated_pairs",
        "anticorrelated_pairs",
        "correlated_three_sets",
        "local_orthogonal_basis",
        "learning_dynamics",
    ),
    axis="init scale (× per-model Xavier std)",
)
