"""Number formatting for summary.md and the README."""

import pytest

from tms.figures import tables


def test_pct_rounds_to_whole_percent_and_marks_missing_values():
    assert tables.pct(None) == "–"
    assert tables.pct(0.5) == "50%"
    assert tables.pct(0.123) == "12%"
    assert tables.pct(1.0) == "100%"
    assert tables.pct(0.0) == "0%"


def test_pct_ci_prints_percent_with_its_interval():
    assert tables.pct_ci(0.84, [0.79, 0.88]) == "84% [79–88]"
    assert tables.pct_ci(None, [0.0, 1.0]) == "–"


def test_num_ci_prints_fixed_digits():
    assert tables.num_ci(0.12345, [0.1, 0.2]) == "0.123 [0.100, 0.200]"
    assert tables.num_ci(2.0, [1.24, 2.76], digits=1) == "2.0 [1.2, 2.8]"
    assert tables.num_ci(None, [None, None]) == "–"


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (None, "–"),
        (1e-9, "< 1e-6"),
        (0.0012345, "0.0012"),
        (0.009, "0.009"),
        (0.01, "0.01"),
        (0.5, "0.50"),
        (1.0, "1.00"),
    ],
)
def test_p_value_formatting(p, text):
    assert tables.p_value(p) == text


def test_cell_escapes_pipes_for_markdown_tables():
    assert tables.cell("a | b|c") == "a \\| b\\|c"
    assert tables.cell(3) == "3"
