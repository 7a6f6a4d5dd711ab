"""A paper figure: one setup, its models and their paired controls, one claim.

Drawn as aligned 2D weights (m = 2) or, with ``heatmap``, as W^T W beside the control's. Each
claim figure is one row of the shared claims table in summary.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.analysis.claims import CLAIMS, summarize_claim
from tms.core.structure import describe_layout
from tms.figures.base import Figure, Part, one_part_arrays, run_config, setup_summary
from tms.figures.plotting import plot_gram, plot_weights_2d
from tms.figures.settings import check_setup
from tms.figures.tables import cell, num_ci, p_value, pct, pct_ci

CLAIMS_HEADER = [
    "| figure | setup | models showing the geometry [95% CI] | control [95% CI] | difference [95% CI] "
    "| paired p | verdict | key metric: mean [95% CI] | models with a collapsed set | unrepresented |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def claim_row(name: str, entry: dict) -> str:
    """The claims-table row of one figure's summary entry."""
    s = entry["setup"]
    setup = f"{s['layout']}, m={s['m']}, 1−S={s['feature_probability']:g}, {s['steps']:,} steps"
    coll = (
        f"{pct_ci(entry['collapse_fraction'], entry['collapse_fraction_ci95'])} ({entry['collapsed_sets_total']} sets)"
    )
    unrep = f"{pct(entry['unrepresented_fraction'])} of models ({entry['unrepresented_features_total']} features)"
    metric = f"{entry['metric']}: {num_ci(entry['metric_mean'], entry['metric_mean_ci95'])}"
    control = "fraction" in entry and "control_fraction" in entry
    return (
        f"| `{name}` | {cell(setup)} | {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} "
        f"| {pct_ci(entry['control_fraction'], entry['control_fraction_ci95']) if control else '–'} "
        f"| {num_ci(entry['difference'], entry['difference_ci95'], 2) if control else '–'} "
        f"| {p_value(entry['paired_p']) if control else '–'} | {entry.get('verdict') or '–'} "
        f"| {cell(metric)} | {coll} | {unrep} |"
    )


def claim_finding(title: str, entry: dict) -> str:
    if "control_fraction" not in entry:
        return f"**{title}**: {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} models."
    return (
        f"**{title}: {entry['verdict']}.** {pct_ci(entry['fraction'], entry['fraction_ci95'])} of "
        f"{entry['n_instances']} models, control {pct_ci(entry['control_fraction'], entry['control_fraction_ci95'])}; "
        f"paired by seed, {entry['only_model']} models show it only with the structured features and "
        f"{entry['only_control']} only in the control (McNemar p {p_value(entry['paired_p'])})."
    )


@dataclass(frozen=True)
class ClaimFigure(Figure):
    setup: str = ""
    claim: str = ""
    heatmap: bool = False
    table: str | None = "claims"

    def check(self, settings):
        claim = CLAIMS[self.claim]
        m = claim.m if self.heatmap else 2  # aligned 2D weight plots need m = 2
        check_setup(settings, self.setup, m=m, kind=claim.set_kind, single=True)

    def parts(self, settings):
        return [Part("", run_config(settings, self.setup, self.name, settings.n_instances), settings.controls)]

    def arrays(self, results, settings):
        return one_part_arrays(results)

    def draw(self, arrays, entry, settings):
        if not self.heatmap:
            return plot_weights_2d(arrays, n_shown=settings.n_shown, title=self.title)
        panels = [(f"{describe_layout(arrays['set_id'], arrays['set_kind'])} (blocks)", arrays)]
        if "control_W" in arrays:
            panels.append(("control: the same n and m, independent features", {**arrays, "W": arrays["control_W"]}))
        return plot_gram(panels, title=self.title)

    def summarize(self, arrays):
        entry = summarize_claim(self.claim, arrays["W"], arrays["set_id"], arrays.get("control_W"))
        entry["setup"] = setup_summary(arrays)
        return entry

    def markdown(self, entry):
        return [claim_row(self.name, entry)]

    def finding(self, entry):
        return claim_finding(self.title, entry)
