"""summary.md: the headline (claims, further claims, robustness, rules), then the detail: the
findings and each other figure's section. The README's results block is the headline
(``headline``)."""

from __future__ import annotations

from tms.analysis import stats
from tms.analysis.claims import HEXAGON_RARE, HEXAGON_TOLERANCE_DEG
from tms.analysis.expected_loss import SAMPLES
from tms.analysis.failures import MIN_GROUP
from tms.figures.claim_figure import CLAIMS_HEADER, FURTHER_HEADER

DETAIL = "### In detail"

VERDICT_RULE = (
    f"*reproduced* when the model shows the geometry more often than its control, paired by seed "
    f"(exact McNemar p < {stats.ALPHA}), and the lower end of its 95% interval is at least "
    f"{stats.MAJORITY:.0%}; *above chance in a minority of models* when p < {stats.ALPHA} but that lower end is "
    f"under {stats.MAJORITY:.0%}; *less often than the control* when the control wins at p < {stats.ALPHA}; "
    f"otherwise *not distinguishable from the control*."
)
OUTCOME_RULE = (
    "Every model has one outcome: *dropped* (some feature has ‖Wᵢ‖ < 0.5), else *collapsed* (a set's features "
    "within 20° of one direction), else *strict* (the geometry holds) or *other*. Headline fractions count strict "
    "models. A control keeps each feature's marginal rate with independent features (1−S, or (1−S)/k in an "
    "anticorrelated set of k), the same n, m and initialisation seeds."
)


def further_rule(largest_error: float) -> str:
    return (
        f"Losses are each model's expected loss from its saved W and b (presence patterns enumerated, values from "
        f"{SAMPLES:,} fixed draws per pattern; standard error at most {largest_error:.1%} of a loss). " + FURTHER_RULE
    )


FURTHER_RULE = (
    f"A failure claim is *reproduced* when the failed models' mean "
    f"loss exceeds the strict models' (difference's 95% bootstrap interval above 0, permutation p < {stats.ALPHA}), "
    f"shown where both groups have ≥ {MIN_GROUP} models. Hexagon: every angular gap within "
    f"{HEXAGON_TOLERANCE_DEG:g}° of 60°; the sentence is *reproduced* when the controls' 95% upper bound is under "
    f"{HEXAGON_RARE:.0%}, *contradicted* when the lower bound is over it. Failed minima *persist* when the upper "
    f"bound of the fraction that changes outcome is under 50%."
)


def _verdict_list(pairs: list, base: str) -> str:
    if not pairs:
        return "–"
    same = sum(v == base for _, v in pairs)
    differ = [f"{label}: {v}" for label, v in pairs if v != base]
    return f"{same} of {len(pairs)} agree" + (f" ({'; '.join(differ)})" if differ else "")


def robustness_markdown(rows: list) -> list:
    if not rows:
        return []
    lines = [
        "",
        "**Robustness: does each verdict survive a change of recipe?** The paper figure's verdict (default recipe), "
        "then how many variants agree with it (`init_robustness`, `training_recipes`, each on fresh seeds), "
        "and the sparsity-sweep points whose ✓ changes at the small init.",
        "",
        "| claim | paper figure | init scale | learning rate and steps | sweep ✓ changed at small init "
        "| survives all |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        marks = [f"{x:g} {'gained' if x in r['sweep_gained'] else 'lost'}" for x in r["sweep_flips"]]
        flips = (
            f"{len(r['sweep_flips'])} of {len(r['sweep_points'])}" + (f" (1−S = {', '.join(marks)})" if marks else "")
            if r["sweep_points"]
            else "–"
        )
        lines.append(
            f"| {r['claim'].replace('_', ' ')} | {r['figure_verdict']} "
            f"| {_verdict_list(r['init'], r['figure_verdict'])} "
            f"| {_verdict_list(r['recipes'], r['figure_verdict'])} | {flips} | {'yes' if r['survives'] else '**no**'} |"
        )
    return lines


def headline(summary_md: str) -> str:
    """The part of summary.md the README shows: everything before the detail sections."""
    return summary_md.split(f"\n{DETAIL}\n", 1)[0].strip("\n") + "\n"


def summary_markdown(summary: dict, figures) -> str:
    """summary.md from a summary dict, in the order of ``figures`` (a list of Figures), whatever
    order the entries come in (summary.json is written with sorted keys)."""
    entries = [(f, summary["figures"][f.name]) for f in figures if f.name in summary["figures"]]
    rows = [f.markdown(e)[0] for f, e in entries if f.table == "claims"]
    lines = CLAIMS_HEADER + rows + ["", OUTCOME_RULE] if rows else []
    further = [row for f, e in entries for row in f.further(e)]
    if further:
        lines += ["", "**Further claims, measured on the same models:**", ""] + FURTHER_HEADER + further
        error = max((e["expected_loss"]["relative_error_max"] for _, e in entries if "expected_loss" in e), default=0.0)
        lines += ["", further_rule(error)]
    lines += robustness_markdown(summary.get("robustness", []))
    lines += ["", f"Verdict rule: {VERDICT_RULE}"]
    findings = [text for f, e in entries if (text := f.finding(e))]
    detail = [line for f, e in entries if f.table != "claims" for line in f.markdown(e)]
    if findings or detail:
        lines += ["", DETAIL]
    if findings:
        lines += ["", "**Findings, computed from the numbers:**", ""] + [f"- {text}" for text in findings]
    lines += detail
    return "\n".join(lines).strip("\n") + "\n"
