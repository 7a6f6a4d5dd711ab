"""Number formatting for summary.md and the README's results block."""

from __future__ import annotations


def pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def pct_ci(x, ci) -> str:
    """'84% [79–88]' (percent with its 95% interval)."""
    if x is None:
        return "–"
    return f"{100 * x:.0f}% [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]"


def num_ci(x, ci, digits: int = 3) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def p_value(p) -> str:
    if p is None:
        return "–"
    return "< 1e-6" if p <= 1e-6 else (f"{p:.2g}" if p < 0.01 else f"{p:.2f}")


def cell(text: str) -> str:
    """A Markdown table cell: a bare | would split it."""
    return str(text).replace("|", "\\|")
