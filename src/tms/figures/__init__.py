"""The figures: one module per figure, a registry listing them, drawing and report tables."""

from tms.figures.registry import FIGURES, load_result

__all__ = ["FIGURES", "load_result"]
