"""How often each predicted geometry appears, by sparsity: every paper claim's setup swept over
1 - S, each point against its paired independent-feature control.

``sparsity_sweep_small_init`` is the same sweep on its own seeds at ``small_init_scale`` (0.2 x
the per-model Xavier std by default: std 0.10-0.12 in the 2D setups), to show which verdicts
depend on the init.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[sparsity_sweep]' out_dir=/tmp/sparsity_sweep

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS
from tms.analysis.recipe import recipe
from tms.analysis.sweep import sweep_points
from tms.core.config import check_number
from tms.core.result import split_prefixed
from tms.core.structure import describe_layout
from tms.figures.base import Figure, Part, prefixed_arrays, recipe_words, run_config
from tms.figures.claim_figure import outcome_cells
from tms.figures.plot_curves import plot_sparsity_sweep
from tms.figures.settings import check_setup, check_sweep
from tms.figures.tables import pct_ci


def recipe_words_of(part) -> str:
    return recipe_words(recipe(part))


PAPER = ("correlated_pairs", "anticorrelated_pairs", "correlated_three_sets", "local_orthogonal_basis")


@dataclass(frozen=True)
class SparsitySweep(Figure):
    claims: tuple = ()  # setup names; each is also the name of its claim and of its part
    small_init: bool = False  # train at settings.small_init_scale x the per-model Xavier std

    def check(self, settings):
        for name in self.claims:
            check_setup(settings, name, m=CLAIMS[name].m, kind=CLAIMS[name].set_kind)
        check_sweep(settings.sparsity_sweep, "sparsity_sweep")
        if self.small_init:
            check_number(settings.small_init_scale, "small_init_scale", "in (0, 1e6]", lambda x: 0 < x <= 1e6)

    def parts(self, settings):
        sc = settings.sparsity_sweep
        parts = []
        for geometry in self.claims:
            cfg = run_config(settings, geometry, f"{self.name}/{geometry}", sc.n_instances)
            if self.small_init:
                cfg.model.init_scale = settings.small_init_scale
            parts.append(Part(geometry, cfg, settings.controls, sweep=(sc.feature_probabilities, sc.n_instances)))
        return parts

    def arrays(self, results, settings):
        return prefixed_arrays(results, self.claims)

    def _labels(self, arrays) -> dict:
        out = {}
        for geometry in self.claims:
            part = split_prefixed(arrays, geometry)
            if part:
                m = part["W"].shape[1]
                out[geometry] = f"{CLAIMS[geometry].short}: {describe_layout(part['set_id'], part['set_kind'])}, m={m}"
        return out

    def draw(self, arrays, entry, settings):
        parts = [split_prefixed(arrays, g) for g in self.claims]
        parts = [p for p in parts if p]
        per_point = sorted(
            {int(np.sum(p["feature_probability"] == x)) for p in parts for x in np.unique(p["feature_probability"])}
        )
        subtitle = f"{'/'.join(map(str, per_point))} models per point; {entry.get('recipe', '')}"
        return plot_sparsity_sweep(entry["sweep"], entry["labels"], title=self.title, subtitle=subtitle)

    def summarize(self, arrays):
        table = {g: sweep_points(g, split_prefixed(arrays, g)) for g in self.claims if split_prefixed(arrays, g)}
        recipes = {g: recipe_words_of(split_prefixed(arrays, g)) for g in self.claims if split_prefixed(arrays, g)}
        return {"sweep": table, "labels": self._labels(arrays), "recipe": "; ".join(sorted(set(recipes.values())))}

    def markdown(self, entry):
        sweep = entry["sweep"]
        recipe_text = entry.get("recipe", "")
        xs = sorted({x for e in sweep.values() for x in e["feature_probability"]})
        lines = [
            "",
            f"**{self.title}** ({recipe_text}): fraction of models showing each geometry strictly [95% CI], "
            "then its control (independent features at the marginal rate, same seeds); ✓ marks a point where "
            f"the model beats its control (paired McNemar p < {stats.ALPHA}); c/d/o: the models that collapsed "
            "a set / dropped a feature / other.",
            "",
            "| geometry | " + " | ".join(f"1−S={x:g}" for x in xs) + " |",
            "|---|" + "---:|" * len(xs),
        ]
        for name in (g for g in self.claims if g in sweep):
            e, cells = sweep[name], []
            for x in xs:
                if x not in e["feature_probability"]:
                    cells.append("–")
                    continue
                k = e["feature_probability"].index(x)
                text = pct_ci(e["fraction"][k], e["fraction_ci95"][k])
                if "control_fraction" in e:
                    mark = " ✓" if e["paired_p"][k] < stats.ALPHA and e["difference"][k] > 0 else ""
                    text += f"<br>ctrl {pct_ci(e['control_fraction'][k], e['control_fraction_ci95'][k])}{mark}"
                text += f"<br>c/d/o {outcome_cells(e['outcomes'][k])}"
                cells.append(text)
            lines.append(f"| `{name}` ({CLAIMS[name].short}) | " + " | ".join(cells) + " |")
        return lines


FIGURE = SparsitySweep("sparsity_sweep", "How often each predicted geometry appears, by sparsity", claims=PAPER)
SMALL_INIT = SparsitySweep(
    "sparsity_sweep_small_init",
    "How often each predicted geometry appears, by sparsity, at a small init",
    claims=PAPER,
    small_init=True,
)
