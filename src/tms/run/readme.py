"""The README's results block: the headline of ``figures/summary.md`` (everything before its
detail sections, ``tms.figures.report.headline``) copied verbatim between two markers.

``python -m experiments.readme`` rewrites the block after a figures run; a test checks that the
block equals the committed summary, which in turn equals what ``figures/summary.json`` renders
to. So the README's numbers and verdicts cannot drift from the data.
"""

from __future__ import annotations

BEGIN = "<!-- results:begin (generated from figures/summary.md by `python -m experiments.readme`; do not edit) -->"
END = "<!-- results:end -->"


def results_block(readme: str) -> str:
    """The text between the markers (without them)."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[start:end].strip("\n") + "\n"


def with_results(readme: str, summary_md: str) -> str:
    """The README with its results block replaced by ``summary_md``."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + summary_md.strip("\n") + "\n" + readme[end:]
