"""Learning dynamics: two correlated sets of 3 in m = 3, trained with W snapshots; W^T W through
training and the geometry over time.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[learning_dynamics]' out_dir=/tmp/learning_dynamics

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.analysis.dynamics import learning_series
from tms.core.config import check_int
from tms.core.errors import ConfigError
from tms.core.train import log_spaced_steps
from tms.figures.base import Part, run_config
from tms.figures.claim_figure import ClaimFigure
from tms.figures.plot_curves import plot_learning_dynamics


@dataclass(frozen=True)
class LearningDynamics(ClaimFigure):
    def check(self, settings):
        super().check(settings)  # drawn as W^T W heatmaps: the claim's own m
        check_int(settings.learning_dynamics.n_instances, "learning_dynamics.n_instances", 1)
        # 3 is the fewest that include step 0 and the final step (log_spaced_steps: 0, 1, steps).
        check_int(settings.learning_dynamics.n_snapshots, "learning_dynamics.n_snapshots", 3)
        steps = log_spaced_steps(settings.train.steps, settings.learning_dynamics.n_snapshots)
        if len(steps) < 3:  # too few steps to space that many snapshots apart
            raise ConfigError(
                "train.steps",
                f"got {settings.train.steps}; learning_dynamics needs at least 3 distinct snapshot steps, "
                f"and {settings.train.steps} steps give {len(steps)} ({', '.join(map(str, steps))})",
            )

    def parts(self, settings):
        ld = settings.learning_dynamics
        cfg = run_config(settings, self.setup, self.name, ld.n_instances)
        steps = tuple(log_spaced_steps(cfg.train.steps, ld.n_snapshots))
        return [Part("", cfg, settings.controls, snapshot_steps=steps)]

    def draw(self, arrays, entry, settings):
        return plot_learning_dynamics(arrays, entry["series"], title=self.title)

    def summarize(self, arrays):
        entry = super().summarize(arrays)
        entry["snapshot_steps"] = arrays["snapshot_steps"].tolist()
        entry["series"] = learning_series(arrays["snapshots"], arrays["set_id"])
        return entry


FIGURE = LearningDynamics(
    "learning_dynamics",
    "Learning dynamics: two correlated sets in m = 3",
    setup="correlated_two_triples",
    claim="learning_dynamics",
    heatmap=True,  # its W^T W panels need the claim's m, not m = 2 (draw is its own)
)
