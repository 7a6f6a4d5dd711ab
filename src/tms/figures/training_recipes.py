"""The 2D claims with the learning rate or the step count changed (one at a time).

Each claim trains at its paper figure's setup and 1 - S, with paired controls, for every factor
of ``training_recipes.lr_factors`` (on train.lr) and ``training_recipes.step_factors`` (on
train.steps); the paper figures themselves are the 1x recipe.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[training_recipes]' out_dir=/tmp/training_recipes

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.core.config import check_int, check_number
from tms.core.errors import ConfigError
from tms.figures.robustness import RobustnessFigure, Variant


@dataclass(frozen=True)
class TrainingRecipes(RobustnessFigure):
    def check(self, settings):
        super().check(settings)
        c = settings.training_recipes
        for f in c.lr_factors:
            check_number(f, "training_recipes.lr_factors", "in (0, 1e3]", lambda x: 0 < x <= 1e3)
        for f in c.step_factors:
            check_int(f, "training_recipes.step_factors", 1, 100)
        if not list(c.lr_factors) + list(c.step_factors):
            raise ConfigError(
                "training_recipes.lr_factors", "no recipe to train: list a factor here or in step_factors"
            )

    def variants(self, settings):
        c = settings.training_recipes
        lr = [Variant(f"lr×{f:g}", float("nan"), lr_factor=float(f)) for f in c.lr_factors]
        return lr + [Variant(f"steps×{f}", float("nan"), step_factor=int(f)) for f in c.step_factors]


FIGURE = TrainingRecipes(
    "training_recipes",
    "The 2D claims with the learning rate or the step count changed",
    claims=("correlated_pairs", "anticorrelated_pairs", "correlated_three_sets"),
    axis="recipe",
)
