"""Colours of grades by rank, shared by the HTML report and the Excel workbook.

Grades are coloured by rank, best to worst, whatever they are called: green, blue, amber, red
for four grades (and the two ends, then amber, for fewer); more grades take hues from green to
red. Standard library only, so neither output pulls in the other's plotting or Excel package.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

RANKED_COLOURS = ("#16a34a", "#2563eb", "#f59e0b", "#dc2626")
NO_GRADE_COLOUR = "#9ca3af"


def grade_colours(order: Sequence[str], no_grade: str) -> dict[str, str]:
    """A colour for every grade by its rank in ``order`` (best first), so a name never decides a colour."""
    ranked = [g for g in order if g != no_grade]
    n = len(ranked)
    if n <= len(RANKED_COLOURS):
        picks = {1: (0,), 2: (0, 3), 3: (0, 2, 3), 4: (0, 1, 2, 3)}.get(n, ())
        colours = {g: RANKED_COLOURS[k] for g, k in zip(ranked, picks)}
    else:
        colours = {g: _hue(120 * (1 - k / (n - 1))) for k, g in enumerate(ranked)}
    return {g: colours.get(g, NO_GRADE_COLOUR) for g in order}


def _hue(degrees: float) -> str:
    """A strong colour of this hue (0 red, 120 green), as #rrggbb."""
    r, g, b = colorsys.hls_to_rgb(degrees / 360, 0.42, 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
