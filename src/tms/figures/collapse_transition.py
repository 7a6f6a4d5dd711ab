"""Collapse of correlated sets in 2D as features get denser: collapsed sets of three correlated
pairs in m = 2 against 1 - S, compared with the paper's reported counts.

Regenerate it alone (its npz, png, svg and a one-figure summary) with::

    python -m experiments.correlated 'figures=[collapse_transition]' out_dir=/tmp/collapse_transition

``python -m experiments.correlated`` regenerates it with every other figure into figures/.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.analysis.collapse import collapse_agreement, collapse_by_point, collapse_counts
from tms.core.structure import set_count
from tms.figures.base import Figure, Part, one_part_arrays, run_config, setup_summary
from tms.figures.plot_curves import plot_collapse_transition
from tms.figures.settings import check_setup, check_sweep
from tms.figures.tables import pct_ci


@dataclass(frozen=True)
class CollapseTransition(Figure):
    setup: str = ""

    def check(self, settings):
        check_setup(settings, self.setup, m=2, kind="correlated")
        check_sweep(settings.collapse_transition, "collapse_transition")

    def parts(self, settings):
        """Models only: the claim is compared with the paper's counts. (The chance level of the
        three-set geometry is in the sparsity sweep; a control here would cost a quarter of the
        default run.)"""
        sc = settings.collapse_transition
        base = run_config(settings, self.setup, self.name, sc.n_instances)
        return [Part("", base, control=False, sweep=(sc.feature_probabilities, sc.n_instances))]

    def arrays(self, results, settings):
        return one_part_arrays(results)

    def draw(self, arrays, entry, settings):
        counts = collapse_counts(arrays["W"], arrays["set_id"])
        return plot_collapse_transition(arrays, entry["per_point"], counts, title=self.title)

    def summarize(self, arrays):
        p = arrays["feature_probability"]
        counts = collapse_counts(arrays["W"], arrays["set_id"])
        entry = {"setup": setup_summary(arrays), "per_point": {"model": collapse_by_point(p, counts)}}
        entry.update(collapse_agreement(p, counts, set_count(arrays["set_id"])))
        return entry

    def markdown(self, entry):
        sets = len(entry["ranges"][0]["histogram"]) - 1 if entry["ranges"] else 0
        s = entry["setup"]
        lines = [
            "",
            f"**{self.title}** ({s['layout']}, m = {s['m']}) against the paper's reported counts; "
            "ranges of 1−S are half-open (lo, hi]:",
            "",
            "| 1−S range | points | paper: collapsed sets | models | median here [95% CI] "
            "| models matching the paper [95% CI] | models with "
            + " / ".join(map(str, range(sets + 1)))
            + " collapsed |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for r in entry["ranges"]:
            lo, hi = r["median_collapsed_ci95"]
            lines.append(
                f"| {r['range_label']} | {', '.join(f'{x:g}' for x in r['feature_probabilities'])} "
                f"| {r['paper_collapsed']} | {r['n_instances']} | {r['median_collapsed']:g} [{lo:g}, {hi:g}] "
                f"| {pct_ci(r['fraction_matching_paper'], r['fraction_matching_paper_ci95'])} "
                f"| {' / '.join(map(str, r['histogram']))} |"
            )
        if entry["between_ranges"]:
            lines += [
                "",
                "Between the paper's ranges (not compared): 1−S = "
                + ", ".join(f"{x:g}" for x in entry["between_ranges"])
                + ".",
            ]
        return lines

    def finding(self, entry):
        parts = [
            f"{r['range_label']}: median {r['median_collapsed']:g} (paper {r['paper_collapsed']}), "
            f"{pct_ci(r['fraction_matching_paper'], r['fraction_matching_paper_ci95'])} of models match"
            for r in entry["ranges"]
        ]
        return f"**{self.title}**: " + "; ".join(parts) + "."


FIGURE = CollapseTransition(
    "collapse_transition",
    "Collapse of correlated sets in 2D as features get denser",
    setup="correlated_three_sets",
)
