"""Claims retrained under changed recipes: what a figure of variants is, and how it reads.

A ``RobustnessFigure`` trains every claim it lists (each at its paper figure's setup and 1 - S)
once per *variant* of the training recipe, with paired controls, and reports per claim and
variant the strict fraction, the control's, the verdict and the outcome breakdown
(``tms.analysis.outcomes``). ``init_robustness`` varies the init scale, ``training_recipes``
the learning rate and the step count. Part ``<claim>@<variant>`` (dots as underscores) seeds from
``derive_seed(seed, "<figure>/<claim>/<variant>")``, so no two points share an initialisation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from tms.analysis import stats
from tms.analysis.claims import CLAIMS, claim_setup
from tms.analysis.robustness import variant_entry
from tms.core.config import check_int
from tms.core.result import split_prefixed
from tms.figures.base import Figure, Part, prefixed_arrays, run_config
from tms.figures.plot_curves import plot_robustness
from tms.figures.settings import check_setup
from tms.figures.tables import pct_ci


@dataclass(frozen=True)
class Variant:
    label: str  # e.g. "init×0.2", "lr×3"
    x: float  # where it is drawn: the multiplier on a log axis, or NaN for categories
    init_scale: float = 1.0
    lr_factor: float = 1.0
    step_factor: int = 1

    def apply(self, cfg):
        cfg = copy.deepcopy(cfg)
        cfg.model.init_scale = cfg.model.init_scale * self.init_scale
        cfg.train.lr = cfg.train.lr * self.lr_factor
        cfg.train.steps = cfg.train.steps * self.step_factor
        return cfg


@dataclass(frozen=True)
class RobustnessFigure(Figure):
    claims: tuple = ()  # claim names (CLAIMS); each trains at its own setup
    axis: str = ""  # what the variants change, for the x axis
    table: str | None = None

    def variants(self, settings) -> list:
        raise NotImplementedError

    def n_instances(self, settings) -> int:
        """Models (and controls) per claim and variant: ``settings.<figure name>.n_instances``."""
        return getattr(settings, self.name).n_instances

    @staticmethod
    def part_name(claim: str, label: str) -> str:
        """'<claim>@<variant label>' with '.' as '_': npz keys are '<part>.<key>'."""
        return f"{claim}@{label}".replace(".", "_")

    def check(self, settings):
        check_int(self.n_instances(settings), f"{self.name}.n_instances", 1)
        for name in self.claims:
            check_setup(settings, claim_setup(name), m=CLAIMS[name].m, kind=CLAIMS[name].set_kind, single=True)

    def parts(self, settings):
        n = self.n_instances(settings)
        out = []
        for name in self.claims:
            for v in self.variants(settings):
                seed_label = f"{self.name}/{name}/{v.label}"
                cfg = v.apply(run_config(settings, claim_setup(name), seed_label, n))
                out.append(Part(self.part_name(name, v.label), cfg, settings.controls))
        return out

    def arrays(self, results, settings):
        variants = self.variants(settings)
        arrays = prefixed_arrays(results, [self.part_name(c, v.label) for c in self.claims for v in variants])
        arrays["variants"] = np.asarray([v.label for v in variants])
        arrays["variant_x"] = np.asarray([v.x for v in variants], dtype=np.float64)
        return arrays

    def summarize(self, arrays):
        labels = arrays["variants"].tolist()
        xs = [x if np.isfinite(x) else None for x in arrays["variant_x"].tolist()]
        entry = {"axis": self.axis, "variants": labels, "variant_x": xs, "claims": {}, "order": []}
        for name in self.claims:
            parts = [(label, split_prefixed(arrays, self.part_name(name, label))) for label in labels]
            rows = [variant_entry(name, label, part) for label, part in parts if part]
            if rows:
                entry["claims"][name] = rows
                entry["order"].append(name)  # summary.json sorts the keys of "claims"
        return entry

    def draw(self, arrays, entry, settings):
        return plot_robustness(entry, title=self.title)

    def markdown(self, entry):
        claims, labels = entry["claims"], entry["variants"]
        lines = [
            "",
            f"**{self.title}**: strict fraction [95% CI], then the control's; ✓ marks a point where "
            f"the model beats its control (paired McNemar p < {stats.ALPHA}).",
            "",
            "| claim | " + " | ".join(labels) + " |",
            "|---|" + "---:|" * len(labels),
        ]
        for name in entry["order"]:
            rows, cells = claims[name], []
            for r in rows:  # every variant trained every claim
                text = pct_ci(r["fraction"], r["fraction_ci95"])
                if "control_fraction" in r:
                    mark = " ✓" if r["paired_p"] < stats.ALPHA and r["difference"] > 0 else ""
                    text += f"<br>ctrl {pct_ci(r['control_fraction'], r['control_fraction_ci95'])}{mark}"
                cells.append(text)
            lines.append(f"| {CLAIMS[name].short} | " + " | ".join(cells) + " |")
        return lines
