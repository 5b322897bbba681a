"""The report's colours: the usual grades (by rank, shared with the workbook), series of bars and
lines, periods from light to dark."""

from __future__ import annotations

from ..grade_colours import NO_GRADE_COLOUR, RANKED_COLOURS, grade_colours

__all__ = ["NO_GRADE_COLOUR", "PERIOD_COLOURS", "RANKED_COLOURS", "SERIES_COLOURS", "grade_colours"]

SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f",
                  "#ff9da7", "#bab0ac")
PERIOD_COLOURS = ("#9ec5fb", "#74a9f6", "#4f8ff0", "#2f74e0", "#1d5fc9", "#1a4ca6", "#173b82", "#142c60")
