"""What each measure kind means, written once.

An engine only gathers a measure's statistics over one subject's records: counts,
sums, a minimum or maximum, the few order statistics a percentile needs. It may do
so one record at a time (the reference engine), with aggregations of a columnar
query, or on a cluster; :func:`finish` turns the statistics into the
:class:`MeasureResult` a scorecard shows: value, sample, skipped, numerator,
denominator, inputs and veto evidence. The kind → statistics table is
:data:`STATISTICS`.

Every statistic is over the records the measure's ``where`` keeps (``where`` is
exactly True); those records are ``measured``, and those whose value is not null
are ``known``. A null value is skipped and counted, never measured as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ..i18n import _
from ..model import Measure
from . import intervals

__all__ = [
    "DETRACTOR_MAX",
    "PROMOTER_MIN",
    "STATISTICS",
    "Extreme",
    "First",
    "MeasureResult",
    "Promoters",
    "Ranked",
    "RatioSums",
    "Statistics",
    "Total",
    "Truths",
    "finish",
    "is_evidence",
    "nothing_measured",
    "percentile",
    "percentile_p",
    "percentile_ranks",
    "quotient",
    "ranks",
]


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """A measured value and what it was measured from, before any scoring."""

    value: Any
    sample: int
    skipped: int
    numerator: float | None = None
    denominator: float | None = None
    inputs: Mapping[str, Any] | None = None
    evidence: tuple[str, ...] = ()
    interval: tuple[float, float] | None = None  # at the scheme's confidence level; see intervals


# -- statistics, one type per family of kinds. ``evidence`` holds the id texts of the
# measured records that are evidence (see is_evidence), in any order; engines gather it
# for vetoes only, where a scorecard shows it.


@dataclass(frozen=True, slots=True)
class Truths:
    """``count``, ``share``, ``any``, ``all``: how many values are true."""

    measured: int
    known: int  # count does not need it: a null is simply not true
    true: int  # known values that are truthy
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RatioSums:
    """``ratio``: the sums over records where numerator and denominator are both known."""

    measured: int
    used: int  # records with both known
    numerator: float  # sum of the used numerators (0.0 when none)
    denominator: float
    evidence: tuple[str, ...] = ()  # records whose numerator is truthy
    # Sums of numerator², denominator² and their products, for the interval (intervals.ratio_interval).
    squares: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class First:
    """``value`` (record-level schemes): the first measured record's value, null or not."""

    measured: int
    known: int
    value: Any
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Promoters:
    """``nps``: known 0–10 answers that promote (≥ PROMOTER_MIN) and detract (≤ DETRACTOR_MAX)."""

    measured: int
    known: int
    promoters: int
    detractors: int
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Total:
    """``sum`` and ``mean``: the sum of the known values as floats (0.0 when none)."""

    measured: int
    known: int
    total: float
    evidence: tuple[str, ...] = ()
    squares: float = 0.0  # the sum of the squared known values, for the t-interval


@dataclass(frozen=True, slots=True)
class Extreme:
    """``min`` or ``max`` of the known values as floats (None when none)."""

    measured: int
    known: int
    value: float | None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ranked:
    """``median`` and ``percentile``: the known values at ``ranks(known, percentile_p(m), level)``.

    Only the percentile's one or two order statistics and its interval's two, so an engine
    never has to collect a subject's values.
    """

    measured: int
    known: int
    values: tuple[float, ...]
    evidence: tuple[str, ...] = ()


Statistics: TypeAlias = Truths | RatioSums | First | Promoters | Total | Extreme | Ranked

STATISTICS: Mapping[str, type[Statistics]] = {
    "count": Truths, "share": Truths, "any": Truths, "all": Truths,
    "ratio": RatioSums,
    "value": First,
    "nps": Promoters,
    "sum": Total, "mean": Total,
    "min": Extreme, "max": Extreme,
    "median": Ranked, "percentile": Ranked,
}

# Each family's statistics over no record at all: a subject with no record in a measure's source.
_NOTHING: Mapping[type[Statistics], Statistics] = {
    Truths: Truths(0, 0, 0), RatioSums: RatioSums(0, 0, 0.0, 0.0), First: First(0, 0, None),
    Promoters: Promoters(0, 0, 0, 0), Total: Total(0, 0, 0.0), Extreme: Extreme(0, 0, None), Ranked: Ranked(0, 0, ()),
}

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def is_evidence(value: Any) -> bool:
    """Whether a record whose measured value is ``value`` is evidence for a veto: not null, false or zero."""
    return value is not None and value is not False and value != 0


# -- percentiles: linear interpolation between closest ranks (numpy's default method)


def percentile_p(m: Measure) -> float:
    """The percentile a ``median`` (50) or ``percentile`` measure asks for."""
    return 50.0 if m.kind == "median" else float(m.p)  # type: ignore[arg-type]


def _rank(n: int, p: float) -> tuple[int, float]:
    """The lower of the two closest ranks (0-based) of the p-th percentile of n values, and how far above it."""
    if n == 1:
        return 0, 0.0
    rank = (n - 1) * p / 100.0
    lower = math.floor(rank)
    return lower, rank - lower


def percentile_ranks(n: int, p: float) -> tuple[int, ...]:
    """The 0-based ranks, in ascending order of n known values, that their p-th percentile needs: one or two."""
    if n <= 0:
        return ()
    lower, fraction = _rank(n, p)
    return (lower, min(lower + 1, n - 1)) if fraction else (lower,)


def ranks(n: int, p: float, level: float) -> tuple[int, ...]:
    """The 0-based ranks, ascending, whose values a Ranked holds: the percentile's, then its interval's."""
    wanted = set(percentile_ranks(n, p))
    for a, b, _level in intervals.order_statistic_ends(n, p, level) or ():
        wanted.update((a, b))
    return tuple(sorted(wanted))


def _interpolate(n: int, p: float, ranked: Sequence[float]) -> float:
    _, fraction = _rank(n, p)
    a = float(ranked[0])
    return a + (float(ranked[1]) - a) * fraction if fraction else a


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile of values sorted in ascending order."""
    n = len(sorted_values)
    return _interpolate(n, p, [sorted_values[r] for r in percentile_ranks(n, p)])


# -- finish


def finish(m: Measure, stats: Statistics, level: float) -> MeasureResult:
    """The result of measure ``m`` from its statistics over one subject's records, its interval at ``level``."""
    family = STATISTICS.get(m.kind)
    if family is None or type(stats) is not family:
        wanted = family.__name__ if family is not None else _("no statistics (unknown kind)")
        raise TypeError(_("a {kind} measure is finished from {wanted}, not {got}", kind=m.kind, wanted=wanted,
                          got=type(stats).__name__))
    kind = m.kind
    if isinstance(stats, Truths):
        return _truths(kind, stats, level)
    if isinstance(stats, RatioSums):
        value = stats.numerator / stats.denominator if stats.used and stats.denominator != 0 else None
        interval = None if value is None else intervals.ratio_interval(
            stats.numerator, stats.denominator, *stats.squares, stats.used, level)
        return MeasureResult(value, stats.used, stats.measured - stats.used, stats.numerator, stats.denominator,
                             evidence=_sorted(stats.evidence), interval=interval)
    if isinstance(stats, First):
        return MeasureResult(stats.value, stats.known, stats.measured - stats.known, evidence=_sorted(stats.evidence))
    if isinstance(stats, Promoters):
        return _nps(stats, level)
    n, skipped, evidence = stats.known, stats.measured - stats.known, _sorted(stats.evidence)
    if not n:
        return MeasureResult(None, 0, skipped, evidence=evidence)
    if isinstance(stats, Total):
        interval = intervals.mean_interval(stats.total, stats.squares, n, level)
        if kind == "sum":
            interval = None if interval is None else (interval[0] * n, interval[1] * n)
            return MeasureResult(stats.total, n, skipped, stats.total, None, evidence=evidence, interval=interval)
        return MeasureResult(stats.total / n, n, skipped, stats.total, n, evidence=evidence, interval=interval)
    if isinstance(stats, Extreme):
        return MeasureResult(stats.value, n, skipped, evidence=evidence)
    p = percentile_p(m)
    at = dict(zip(ranks(n, p, level), stats.values, strict=True))
    value = _interpolate(n, p, [at[r] for r in percentile_ranks(n, p)])
    ends = intervals.order_statistic_ends(n, p, level)
    interval = None
    if ends is not None:
        (a, b, w), (c, d, v) = ends
        interval = at[a] + w * (at[b] - at[a]), at[c] + v * (at[d] - at[c])
    return MeasureResult(value, n, skipped, inputs={"p": p}, evidence=evidence, interval=interval)


def nothing_measured(m: Measure, level: float) -> MeasureResult:
    """The result of ``m`` for a subject with no record in its source (e.g. an agent without complaints)."""
    return finish(m, _NOTHING[STATISTICS[m.kind]], level)


def quotient(numerator: MeasureResult, denominator: MeasureResult, level: float, *,
             exposure: bool) -> MeasureResult:
    """A ratio of two measures (complaints ÷ interactions): their values divided, over the denominator's sample.

    Undefined (None) when either value is, or the denominator's is 0; the sample is the
    denominator's, so ``min_sample`` asks for enough of what is divided by. When the
    denominator is an ``exposure`` (a count of records: interactions served), it is taken as
    fixed and the interval is the numerator's divided by it; otherwise both vary
    (intervals.delta_quotient).
    """
    a, b = _number(numerator.value), _number(denominator.value)
    value = a / b if a is not None and b is not None and b != 0 else None
    interval = None
    if value is not None and numerator.interval is not None and (exposure or denominator.interval is not None):
        assert a is not None and b is not None
        interval = intervals.delta_quotient(a, numerator.interval, b, None if exposure else denominator.interval,
                                            level)
    return MeasureResult(value, denominator.sample, denominator.skipped, a, b, interval=interval)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _truths(kind: str, s: Truths, level: float) -> MeasureResult:
    evidence = _sorted(s.evidence)
    skipped = s.measured - s.known
    if kind == "count":  # a null is simply not true: nothing is skipped
        return MeasureResult(s.true, s.measured, 0, s.true, s.measured, evidence=evidence,
                             interval=intervals.poisson_interval(s.true, level))
    if kind == "share":
        return MeasureResult(s.true / s.known if s.known else None, s.known, skipped, s.true, s.known,
                             evidence=evidence, interval=intervals.wilson_interval(s.true, s.known, level))
    if not s.known:
        return MeasureResult(None, 0, skipped, evidence=evidence)
    value = s.true > 0 if kind == "any" else s.true == s.known
    return MeasureResult(value, s.known, skipped, s.true, s.known, evidence=evidence)


def _nps(s: Promoters, level: float) -> MeasureResult:
    """Net promoter score, −100…100: percent promoters minus percent detractors."""
    n = s.known
    value = 100.0 * (s.promoters - s.detractors) / n if n else None
    inputs = {"promoters": s.promoters, "passives": n - s.promoters - s.detractors, "detractors": s.detractors}
    return MeasureResult(value, n, s.measured - n, s.promoters - s.detractors, n, inputs, _sorted(s.evidence),
                         intervals.nps_interval(s.promoters, s.detractors, n, level))


def _sorted(evidence: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(evidence))
