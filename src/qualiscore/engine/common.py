"""Rules every engine shares from measured values on: canonical numbers, not-applicable, vetoes, grades.

Only gathering statistics differs between the engines; everything decided from
measured values lives here or in scoring.build_scorecards, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..i18n import _
from ..model import Scheme

SIGNIFICANT_DIGITS = 12


def canonical(value: Any) -> Any:
    """A measured float to 12 significant digits.

    Sums over millions of rows differ in their last bits with the order of addition;
    cutting them to 12 digits makes every engine (and every row order) give the same
    bytes, far below any precision a score can show.
    """
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and -1e12 < value < 1e12:  # 12 digits write it exactly (counts, sums of scores)
            return value
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def fsum(values: Iterable[float]) -> float:
    """math.fsum, but an overflowing sum is infinite (and so not applicable), not an error."""
    values = list(values)
    try:
        return math.fsum(values)
    except OverflowError:
        return sum(values)


def as_number(value: Any) -> float | None:
    """A measured value as a number to score; None when it is not one (text, NaN, an integer beyond floats)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def map_key(value: Any) -> str:
    """The text a `map` scoring looks a value up by."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def same(value: Any, expected: Any) -> bool:
    """Equality for `pass: {equals: …}`: booleans equal only booleans, numbers compare numerically."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if isinstance(value, (int, float)) and isinstance(expected, (int, float)):
        return float(value) == float(expected)
    return value == expected


def not_applicable_reason(min_sample: int, value: Any, sample: int) -> str | None:
    """Why a measured value does not count (an indicator's, or the one a threshold veto tests), or None."""
    if sample == 0:
        return _("no records to measure")
    if sample < min_sample:
        return _("sample {sample} is below min_sample {min_sample}", sample=sample, min_sample=min_sample)
    if value is None:
        return _("the value is undefined (e.g. a zero denominator)")
    if isinstance(value, float) and not math.isfinite(value):
        return _("the value is not a finite number (the inputs are too large)")
    return None


def applicable(min_sample: int, value: Any, sample: int) -> bool:
    """Whether a measured value counts: :func:`not_applicable_reason` is None, without wording the reason."""
    return (sample != 0 and sample >= min_sample and value is not None
            and not (isinstance(value, float) and not math.isfinite(value)))


def threshold_value(value: Any, sample: int, min_sample: int = 1) -> float | None:
    """The number a threshold veto compares with its threshold; None when there is none to compare
    (not applicable, or not a number: a boolean is true or false, never a quantity), so it never triggers."""
    if isinstance(value, bool) or not applicable(min_sample, value, sample):
        return None
    return as_number(value)


def veto_triggered(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    return bool(value)


def apply_vetoes(scheme: Scheme, score_grade: str | None, vetoes: Sequence[Any]) -> tuple[str | None, str]:
    """The final grade and what decided it: the score, or a veto (the lowest grade wins)."""
    rank = {g.name: i for i, g in enumerate(scheme.grades)}  # 0 = best
    grade = score_grade
    decided = "score" if score_grade is not None else "none"
    sets = [v for v in vetoes if v.effect == "grade"]
    if sets:
        worst = max(sets, key=lambda v: rank[v.grade])  # first of equals wins: max keeps the first
        grade, decided = worst.grade, f"veto:{worst.id}"
    for v in vetoes:
        if v.effect == "cap" and grade is not None and rank[v.grade] > rank[grade]:
            grade, decided = v.grade, f"veto:{v.id}"
    return grade, decided
