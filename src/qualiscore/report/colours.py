"""The report's colours: the usual grades, series of bars and lines, periods from light to dark."""

from __future__ import annotations

from collections.abc import Sequence

GRADE_COLOURS = {"优秀": "#16a34a", "良好": "#2563eb", "合格": "#f59e0b", "不合格": "#dc2626"}
OTHER_COLOURS = ("#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569")
NO_GRADE_COLOUR = "#9ca3af"
SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f",
                  "#ff9da7", "#bab0ac")
PERIOD_COLOURS = ("#9ec5fb", "#74a9f6", "#4f8ff0", "#2f74e0", "#1d5fc9", "#1a4ca6", "#173b82", "#142c60")


def grade_colours(order: Sequence[str], no_grade: str) -> dict[str, str]:
    """A colour for every grade: the usual ones keep theirs, others take the next spare colour."""
    colours: dict[str, str] = {}
    spare = iter(OTHER_COLOURS * 10)
    for g in order:
        colours[g] = GRADE_COLOURS.get(g) or (NO_GRADE_COLOUR if g == no_grade else next(spare))
    return colours
