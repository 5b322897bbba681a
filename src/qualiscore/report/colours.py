"""The report's colours: the usual grades, series of bars and lines, periods from light to dark."""

from __future__ import annotations

from collections.abc import Sequence

# Grades are coloured by rank, best to worst, whatever they are called: green, blue, amber, red
# for four grades (and the two ends, then amber, for fewer); more grades take hues from green to red.
RANKED_COLOURS = ("#16a34a", "#2563eb", "#f59e0b", "#dc2626")
NO_GRADE_COLOUR = "#9ca3af"
SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f",
                  "#ff9da7", "#bab0ac")
PERIOD_COLOURS = ("#9ec5fb", "#74a9f6", "#4f8ff0", "#2f74e0", "#1d5fc9", "#1a4ca6", "#173b82", "#142c60")


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
    import colorsys

    r, g, b = colorsys.hls_to_rgb(degrees / 360, 0.42, 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
