"""Copy the headline of figures/summary.md (everything before "### In detail") into the README's
results block.

    python -m experiments.readme            # after python -m experiments.correlated

Run from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tms.core import completion
from tms.core.artifacts import ArtifactError, write_text_atomic
from tms.figures.report import headline
from tms.run.readme import BEGIN, END, with_results

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    readme, summary = ROOT / "README.md", ROOT / "figures" / "summary.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        print(f"error: README.md: the results markers are missing ({BEGIN} ... {END})", file=sys.stderr)
        return 2
    if not summary.is_file():
        print(f"error: {summary}: not found; run python -m experiments.correlated first", file=sys.stderr)
        return 2
    try:
        completion.check_file(summary)  # only a finished figures run's summary
    except ArtifactError as e:
        print(f"error: figures: {e}; rerun python -m experiments.correlated", file=sys.stderr)
        return 2
    new = with_results(text, headline(summary.read_text()))
    if new != text:
        write_text_atomic(readme, new)
    print("README.md results block " + ("updated" if new != text else "already up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
