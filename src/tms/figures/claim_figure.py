"""A paper figure: one setup, its models and their paired controls, one claim.

Drawn as aligned 2D weights (m = 2) or, with ``heatmap``, as W^T W beside the control's. Each
claim figure is one row of the shared claims table in summary.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from tms.analysis.claims import CLAIMS, HEXAGON_SETUP, hexagon_claim, summarize_claim
from tms.analysis.failures import failure_summary
from tms.core.config import check_int
from tms.core.errors import ConfigError
from tms.core.structure import describe_layout
from tms.figures.base import (
    Figure,
    Part,
    continued_config,
    merged,
    one_part_arrays,
    recipe_words,
    run_config,
    setup_summary,
)
from tms.figures.gallery import plot_gallery
from tms.figures.plotting import plot_gram, plot_weights_2d
from tms.figures.settings import check_setup
from tms.figures.tables import cell, num_ci, p_value, pct, pct_ci

CLAIMS_HEADER = [
    "| figure | setup and recipe | models showing the geometry, strictly [95% CI] | control [95% CI] "
    "| difference [95% CI] | paired p | verdict | the other models: collapsed / dropped / other |",
    "|---|---|---|---|---|---|---|---|",
]


def control_words(setup: dict) -> str:
    """How the control's features are drawn: at each feature's marginal rate."""
    k = setup.get("marginal_share", 1)
    return f"independent at (1−S)/{k}" if k > 1 else "independent at 1−S"


def outcome_cells(outcomes: dict) -> str:
    return " / ".join(f"{pct(outcomes[k]['fraction'])}" for k in ("collapsed", "dropped", "other"))


def claim_row(name: str, entry: dict) -> str:
    """The claims-table row of one figure's summary entry."""
    s = entry["setup"]
    setup = f"{s['layout']}, m={s['m']}, 1−S={s['feature_probability']:g}; {recipe_words(s)}"
    control = "fraction" in entry and "control_fraction" in entry
    ctrl = (
        f"{pct_ci(entry['control_fraction'], entry['control_fraction_ci95'])} ({control_words(s)})" if control else "–"
    )
    return (
        f"| `{name}` | {cell(setup)} | {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} "
        f"| {ctrl} | {num_ci(entry['difference'], entry['difference_ci95'], 2) if control else '–'} "
        f"| {p_value(entry['paired_p']) if control else '–'} | {entry.get('verdict') or '–'} "
        f"| {outcome_cells(entry['outcomes'])} |"
    )


FURTHER_HEADER = [
    "| claim | figure | measured | value [95% CI] | against | difference [95% CI] | p | verdict |",
    "|---|---|---|---|---|---|---|---|",
]
FAILURE_WORDS = {
    "collapsed": "collapse is an optimization failure",
    "dropped": "a dropped feature is an optimization failure",
    "other": "the other minima are optimization failures",
}


def _loss(x, ci) -> str:
    return "–" if x is None else f"{x:.3g} [{ci[0]:.3g}, {ci[1]:.3g}]"


def further_rows(name: str, entry: dict) -> list:
    """Rows of the further-claims table from one claim figure: each failure outcome with at
    least MIN_GROUP models against strict models (expected loss), the hexagon sentence, and how
    many failed models change outcome when trained on."""
    rows = []
    for failure, f in entry.get("failures", {}).items():
        if f["verdict"] == "too few models":
            continue
        ratio = f" ({f['ratio']:.2g}×)" if f["ratio"] else ""
        rows.append(
            f"| {FAILURE_WORDS[failure]} | `{name}` | expected loss of {f['n_a']} {failure} models "
            f"| {_loss(f['mean_a'], f['mean_a_ci95'])}{ratio} "
            f"| {f['n_b']} strict: {_loss(f['mean_b'], f['mean_b_ci95'])} "
            f"| {_loss(f['difference'], f['difference_ci95'])} | {p_value(f['p'])} | {f['verdict']} |"
        )
    h = entry.get("hexagon")
    if h is not None:
        rows.append(
            f"| 6 independent features do not form a hexagon | `{name}` | controls that are hexagons "
            f"| {pct_ci(h['control_fraction'], h['control_fraction_ci95'])} | structured models: "
            f"{pct_ci(h['fraction'], h['fraction_ci95'])} | {num_ci(h['difference'], h['difference_ci95'], 2)} "
            f"| {p_value(h['paired_p'])} | {h['verdict']} |"
        )
    c = entry.get("continued")
    if c is not None and c["failed"]:
        became_strict = sum(row[0] for row in c["matrix"][1:])
        ratio = c["failed_loss_ratio_median"]
        rows.append(
            f"| the failed minima persist | `{name}` | of {c['failed']} failed models (of the first "
            f"{c['n_instances']}), changed outcome by step {c['steps']:,} "
            f"| {pct_ci(c['failed_changed_fraction'], c['failed_changed_fraction_ci95'])} ({c['failed_changed']}; "
            f"{became_strict} became strict) | median loss ×{ratio:.2f} since step {c['from_steps']:,} | – | – "
            f"| {'persist' if c['failed_changed_fraction_ci95'][1] < 0.5 else 'do not persist'} |"
        )
    return rows


def claim_finding(title: str, entry: dict) -> str:
    if "control_fraction" not in entry:
        return f"**{title}**: {pct_ci(entry['fraction'], entry['fraction_ci95'])} of {entry['n_instances']} models."
    o = entry["outcomes"]
    return (
        f"**{title}: {entry['verdict']}.** {pct_ci(entry['fraction'], entry['fraction_ci95'])} of "
        f"{entry['n_instances']} models strictly, "
        f"control {pct_ci(entry['control_fraction'], entry['control_fraction_ci95'])}; "
        f"paired by seed, {entry['only_model']} models show it only with the structured features and "
        f"{entry['only_control']} only in the control (McNemar p {p_value(entry['paired_p'])}). "
        f"The rest: {o['collapsed']['count']} collapsed a set, {o['dropped']['count']} dropped a feature, "
        f"{o['other']['count']} other."
    )


@dataclass(frozen=True)
class ClaimFigure(Figure):
    setup: str = ""
    claim: str = ""
    heatmap: bool = False
    table: str | None = "claims"
    continued: bool = False  # also train its first continued.n_instances models on (persistence)

    def check(self, settings):
        claim = CLAIMS[self.claim]
        m = claim.m if self.heatmap else 2  # aligned 2D weight plots need m = 2
        check_setup(settings, self.setup, m=m, kind=claim.set_kind, single=True)
        if self.continued:
            check_int(settings.continued.n_instances, "continued.n_instances", 0)
            check_int(settings.continued.factor, "continued.factor", 2, 100)
            if settings.train.schedule != "constant" and settings.continued.n_instances:
                raise ConfigError(
                    "train.schedule",
                    f"got {settings.train.schedule!r}; continued models need a constant schedule "
                    "(set continued.n_instances=0 to train none)",
                )

    def parts(self, settings):
        cfg = run_config(settings, self.setup, self.name, settings.n_instances)
        parts = [Part("", cfg, settings.controls)]
        count = min(settings.continued.n_instances, settings.n_instances) if self.continued else 0
        if count:
            parts.append(Part("continued", continued_config(cfg, settings.continued.factor), False, models=(0, count)))
        return parts

    def arrays(self, results, settings):
        arrays = one_part_arrays(results)
        later = merged(results, "continued")
        if later is not None:
            arrays.update(
                continued_W=later.W, continued_b=later.b, continued_loss=later.loss, continued_loss_step=later.loss_step
            )
        return arrays

    def draw(self, arrays, entry, settings):
        if not self.heatmap:
            return plot_weights_2d(arrays, n_shown=settings.n_shown, title=self.title)
        panels = [(f"{describe_layout(arrays['set_id'], arrays['set_kind'])} (blocks)", arrays)]
        if "control_W" in arrays:
            panels.append(("control: the same n and m, independent features", {**arrays, "W": arrays["control_W"]}))
        return plot_gram(panels, title=self.title)

    def companions(self, arrays, entry, settings):
        """A 2D figure's gallery: every model, grouped by outcome."""
        if self.heatmap:
            return {}
        codes = CLAIMS[self.claim].outcomes(arrays["W"], arrays["set_id"])
        return {"gallery": plot_gallery(arrays, codes, title=self.title)}

    def summarize(self, arrays):
        entry = summarize_claim(self.claim, arrays["W"], arrays["set_id"], arrays.get("control_W"))
        entry["setup"] = setup_summary(arrays)
        entry.update(failure_summary(self.claim, arrays))
        if self.claim == HEXAGON_SETUP and "control_W" in arrays:
            entry["hexagon"] = hexagon_claim(arrays["W"], arrays["control_W"], arrays["set_id"])
        return entry

    def markdown(self, entry):
        return [claim_row(self.name, entry)]

    def further(self, entry) -> list:
        return further_rows(self.name, entry)

    def finding(self, entry):
        return claim_finding(self.title, entry)
