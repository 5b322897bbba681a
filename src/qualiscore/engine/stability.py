"""How sure a grade is: the probability that the score's sampling error leaves the grade as it is.

Each scored indicator whose value has an interval moves the total score by its weight
times the points its rule gives across that interval: the points at the interval's two
ends, a finite-difference delta method, give that indicator's standard error in points
(its interval spans 2z standard errors). Indicators are measured on different records or
columns and are taken as independent, so the score's standard error is the root of the
sum of their squares, and the score is taken as normally distributed around itself. The
stability is the probability of the rounded score landing in a grade band that, after the
vetoes that triggered (a rule breach is a fact, not an estimate), gives the scorecard's
grade. An indicator whose points do not change across its interval adds nothing, nor does
a ``map`` scoring (its keys have no order); a scorecard none of whose points can move is
certain (1).

Written once and run after any engine on the scorecard's own numbers, with no random
draws, so every engine and every run gives the same bytes; and cheap (two evaluations of
each indicator's rule per subject), so a run of 75,000 subjects does not notice it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

from ..model import Scheme

__all__ = ["spread", "stability"]

_NORMAL = NormalDist()


def spread(weight: float, interval: tuple[float, float], score: Callable[[Any], tuple[float | None, str | None, str | None]],
           z: float) -> float:
    """The standard error, in points of the total score, an indicator's sampling error puts on it.

    ``weight`` is its share of the total score (0–1), ``interval`` its value's interval and
    ``score`` its rule (points first).
    """
    low, high = (score(x)[0] for x in interval)
    if low is None or high is None:
        return 0.0
    return weight * abs(high - low) / (2.0 * z)


def stability(scheme: Scheme, score: float, spreads: Sequence[float],
              final: Callable[[str | None], str | None], grade: str | None) -> float:
    """The probability, to 3 decimals, that the score's grade after the vetoes (``final``) is ``grade``.

    ``spreads`` are the scored indicators' :func:`spread`: those whose value is an estimate and
    whose rule orders values (not a ``map``).
    """
    sd = math.sqrt(math.fsum(s ** 2 for s in spreads))
    if sd == 0.0:
        return 1.0
    half = 0.5 * 10.0 ** -scheme.decimals  # a score rounds up into a band from half a unit below its minimum
    probability, higher = 0.0, 0.0  # P(the score reaches a better grade than the one being looked at)
    for g in scheme.grades:  # best first, as grade_for reads them
        at_least = 1.0 - _NORMAL.cdf((g.min - half - score) / sd)
        if final(g.name) == grade:
            probability += at_least - higher
        higher = max(higher, at_least)
    if final(None) == grade:  # below every grade's minimum
        probability += 1.0 - higher
    return round(min(1.0, max(0.0, probability)), 3)
