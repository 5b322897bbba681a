"""How sure a grade is: the share of plausible values of the indicators that keep it.

Each scored indicator with an interval is drawn from its sampling distribution, taken as a
split normal whose two halves put the interval's ends at the scheme's confidence level
(intervals are not always symmetric: a share near 100% has a short upper half), cut at
four of its standard deviations and at the measure's natural range. Each draw is scored
by the indicator's own rule, weighted as on the scorecard, and graded; vetoes stay as they
triggered (a rule breach is a fact, not an estimate). The stability is the share of
:data:`DRAWS` draws whose grade is the scorecard's.

Written once and run after any engine, on the scorecard's own numbers, with a generator
seeded by the subject alone: the same bytes on every engine and run, and for rules that
score alike (weights scaled, a comment edited).
When no draw can change the grade (the lowest and highest score the draws can reach give
the same grade) the figure is exactly 1 and nothing is drawn, which is most subjects of
a large run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Scheme, Scoring
from .intervals import z_value

__all__ = ["DRAWS", "Varying", "stability"]

DRAWS = 400
_CUT = 4.0  # standard deviations either side
_RANGE: dict[str, tuple[float, float]] = {"share": (0.0, 1.0), "nps": (-100.0, 100.0), "count": (0.0, math.inf)}


@dataclass(frozen=True, slots=True)
class Varying:
    """A scored indicator whose value is an estimate: its share of the total score and how to score a draw."""

    weight: float  # share of the total, 0–1
    points: float  # its points now
    value: float
    interval: tuple[float, float]
    kind: str
    scoring: Scoring
    score: Callable[[Any], tuple[float | None, str | None, str | None]]


def stability(scheme: Scheme, subject: str, score: float, varying: Sequence[Varying],
              graded: Callable[[float], str | None], grade: str | None) -> float:
    """The share of draws whose grade, by ``graded`` (the total score's grade after the vetoes), is ``grade``."""
    z = z_value(scheme.confidence.level)
    fixed = score - math.fsum(v.weight * v.points for v in varying)
    supports = [_support(v, z) for v in varying]
    low = high = fixed
    for v, (a, _lo_sd, _hi_sd, b) in zip(varying, supports):
        pts = _reachable_points(v, a, b)
        if pts is None:
            break
        low += v.weight * min(pts)
        high += v.weight * max(pts)
    else:
        if graded(low) == grade and graded(high) == grade:
            return 1.0
    rng = random.Random(subject)
    same = 0
    for _ in range(DRAWS):
        total = fixed
        for v, (a, lo_sd, hi_sd, b) in zip(varying, supports):
            u = rng.gauss(0.0, 1.0)
            u = max(-_CUT, min(_CUT, u))
            x = min(b, max(a, v.value + u * (hi_sd if u > 0 else lo_sd)))
            points = v.score(x)[0]
            total += v.weight * (points if points is not None else 0.0)
        same += graded(total) == grade
    return same / DRAWS


def _support(v: Varying, z: float) -> tuple[float, float, float, float]:
    """The lowest value a draw can take, the two halves' standard deviations, the highest value."""
    lo_sd = max(0.0, v.value - v.interval[0]) / z
    hi_sd = max(0.0, v.interval[1] - v.value) / z
    floor, ceiling = _RANGE.get(v.kind, (-math.inf, math.inf))
    return max(floor, v.value - _CUT * lo_sd), lo_sd, hi_sd, min(ceiling, v.value + _CUT * hi_sd)


def _reachable_points(v: Varying, a: float, b: float) -> list[float] | None:
    """Every extreme of the points a value in [a, b] can get; None for a map, which has no order."""
    s = v.scoring
    if s.kind == "map":
        return None
    equals = s.pass_equals if isinstance(s.pass_equals, (int, float)) and not isinstance(s.pass_equals, bool) else None
    edges = [x for x in (*(e for band in s.bands for e in (band.min, band.max)), s.start, s.end, s.pass_min,
                         s.pass_max, equals) if x is not None and a < x < b]
    xs = [a, b]
    for x in edges:
        xs += [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]
    points = [v.score(x)[0] for x in xs]
    return [p if p is not None else 0.0 for p in points]
