"""summary.md: the shared claims table, each other figure's section, then the findings."""

from __future__ import annotations

from tms.analysis import stats
from tms.figures.claim_figure import CLAIMS_HEADER

VERDICT_RULE = (
    f"*reproduced* when the model shows the geometry more often than its control, paired by seed "
    f"(exact McNemar p < {stats.ALPHA}), and the lower end of its 95% interval is at least "
    f"{stats.MAJORITY:.0%}; *above chance in a minority of models* when p < {stats.ALPHA} but that lower end is "
    f"under {stats.MAJORITY:.0%}; *less often than the control* when the control wins at p < {stats.ALPHA}; "
    f"otherwise *not distinguishable from the control*."
)


def summary_markdown(summary: dict, figures) -> str:
    """summary.md from a summary dict, in the order of ``figures`` (a list of Figures), whatever
    order the entries come in (summary.json is written with sorted keys)."""
    entries = [(f, summary["figures"][f.name]) for f in figures if f.name in summary["figures"]]
    rows = [f.markdown(e)[0] for f, e in entries if f.table == "claims"]
    lines = CLAIMS_HEADER + rows if rows else []
    for f, e in entries:
        if f.table != "claims":
            lines += f.markdown(e)
    findings = [text for f, e in entries if (text := f.finding(e))]
    if findings:
        lines += ["", "**Findings, computed from the numbers above:**", ""] + [f"- {text}" for text in findings]
    lines += ["", f"Verdict rule: {VERDICT_RULE}"]
    return "\n".join(lines).strip("\n") + "\n"
