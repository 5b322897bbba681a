"""From measured values to a scorecard: points, weights, not-applicable rules, grade, vetoes.

Shared by both engines (only measuring differs between them), so a scorecard is the same
bytes whichever engine measured it. It runs once per subject, 75,000 times for a quarter
of a large contact centre, so what depends only on the scheme (rule texts, fills, each
indicator's scoring) is worked out once per scheme, as its :class:`_SchemeScoring`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..model import Dimension, Indicator, Measure, Scheme, Scoring
from ..scorecard import (
    STATUS_NA,
    STATUS_SCORED,
    DimensionResult,
    IndicatorResult,
    Scorecard,
    VetoMeasurement,
    VetoResult,
    rounded,
)
from . import common
from .measures import MeasureResult
from .stability import Varying, stability

__all__ = ["MeasureResult", "build_scorecard", "grade_for", "triggered_vetoes"]


# (points, rule matched, why there are no points)
Points = tuple[float | None, str | None, str | None]


def scorer(s: Scoring) -> Callable[[Any], Points]:
    """A function giving a value's points under ``s``, with the rule texts written once."""
    if s.kind == "map":
        table: dict[str, float] = {}
        for k, pts in s.mapping:
            table.setdefault(k, pts)  # the first entry for a key wins

        def by_map(value: Any) -> Points:
            key = common.map_key(value)
            pts = table.get(key)
            if pts is None:
                return s.default, f"{key!r} not in map: default", None
            return pts, f"map {key!r}", None

        return by_map
    if s.kind == "pass" and s.has_equals and s.pass_min is None and s.pass_max is None:
        expected = f"pass if value = {common.map_key(s.pass_equals)}"
        passed, failed = (100.0, f"{expected}: passed", None), (0.0, f"{expected}: failed", None)
        return lambda value: passed if common.same(value, s.pass_equals) else failed

    def numeric(points: Callable[[float, Any], Points]) -> Callable[[Any], Points]:
        def score(value: Any) -> Points:
            x = common.as_number(value)
            if x is None:
                return None, None, f"value {value!r} is not a number"
            return points(x, value)

        return score

    if s.kind == "bands":
        bands = [(b.min, b.max, (b.points, f"band {i + 1} ({b.describe()})", None)) for i, b in enumerate(s.bands)]
        no_band: Points = (0.0, "no band matches", None)

        def by_bands(x: float, _value: Any) -> Points:
            for lo, hi, result in bands:
                if (lo is None or x >= lo) and (hi is None or x <= hi):
                    return result
            return no_band

        return numeric(by_bands)
    if s.kind == "linear":
        lo, hi = s.start, s.end
        assert lo is not None and hi is not None
        rule = f"linear from {lo:g} (0 points) to {hi:g} (100 points)"
        return numeric(lambda x, _value: (100.0 * min(1.0, max(0.0, (x - lo) / (hi - lo))), rule, None))
    conds = []
    if s.pass_min is not None:
        conds.append(f"value ≥ {s.pass_min:g}")
    if s.pass_max is not None:
        conds.append(f"value ≤ {s.pass_max:g}")
    if s.has_equals:
        conds.append(f"value = {s.pass_equals}")
    rule = f"pass if {' and '.join(conds)}"
    passed, failed = (100.0, f"{rule}: passed", None), (0.0, f"{rule}: failed", None)

    def by_pass(x: float, value: Any) -> Points:
        ok = ((s.pass_min is None or x >= s.pass_min) and (s.pass_max is None or x <= s.pass_max)
              and (not s.has_equals or common.same(value, s.pass_equals)))
        return passed if ok else failed

    return numeric(by_pass)


@dataclass(frozen=True, slots=True)
class _IndicatorScoring:
    ind: Indicator
    score: Callable[[Any], Points]
    fill: float | None  # points counted when not applicable; None: its weight is redistributed
    fill_note: str | None


@dataclass(frozen=True, slots=True)
class _DimensionScoring:
    dim: Dimension
    indicators: tuple[_IndicatorScoring, ...]
    fill: float | None
    fill_note: str | None


@dataclass(frozen=True, slots=True)
class _SchemeScoring:
    """What scoring a scheme's subjects needs that depends on the scheme alone."""

    scheme: Scheme  # kept, so the id this is cached under is never reused
    dimensions: tuple[_DimensionScoring, ...]
    indicators: Mapping[str, Indicator]  # by id, for the vetoes that test an indicator's value


def _fill(rule: str, what: str) -> tuple[float | None, str | None]:
    if rule == "redistribute":
        return None, None
    points = 0.0 if rule == "zero" else 100.0
    return points, f"{what}counted as {rule} ({points:g} points)"


_SCORING_BY_SCHEME: dict[int, _SchemeScoring] = {}


def _scoring_of(scheme: Scheme) -> _SchemeScoring:
    """Made on first use and kept (by identity: a Scheme holds mappings, so is not hashable)."""
    found = _SCORING_BY_SCHEME.get(id(scheme))
    if found is None or found.scheme is not scheme:
        if len(_SCORING_BY_SCHEME) >= 64:
            _SCORING_BY_SCHEME.clear()
        dims = []
        for dim in scheme.dimensions:
            inds = tuple(_IndicatorScoring(ind, scorer(ind.scoring), *_fill(ind.when_not_applicable, ""))
                         for ind in dim.indicators)
            dims.append(_DimensionScoring(dim, inds, *_fill(dim.when_not_applicable, "dimension not applicable, ")))
        found = _SCORING_BY_SCHEME[id(scheme)] = _SchemeScoring(scheme, tuple(dims),
                                                                {i.id: i for i in scheme.indicators})
    return found


def triggered_vetoes(scheme: Scheme, indicators: Mapping[str, MeasureResult],
                     vetoes: Sequence[MeasureResult | None]) -> list[VetoResult]:
    """The scheme's vetoes that trigger, with their evidence.

    ``vetoes`` holds, in scheme order, each veto's ``when`` measured (None for a veto on an
    indicator, which reads the indicator's result in ``indicators``). A veto without a
    threshold triggers when its measure is true or non-zero, with the ids of the records
    that made it so. A threshold veto compares the value, cut to 12 significant digits as
    on the scorecard, with its threshold; a value that is not applicable (below the
    indicator's min_sample, nothing measured, undefined) or not a number never triggers,
    and its evidence is the value and the threshold.
    """
    found = []
    for veto, res in zip(scheme.vetoes, vetoes, strict=True):
        threshold = veto.threshold
        if threshold is None:
            if res is not None and common.veto_triggered(res.value):
                found.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason, res.evidence))
            continue
        min_sample = 1
        if veto.indicator is not None:
            res, min_sample = indicators[veto.indicator], _scoring_of(scheme).indicators[veto.indicator].min_sample
        assert res is not None, f"veto {veto.id} was not measured"
        value = common.canonical(res.value)
        x = common.threshold_value(value, res.sample, min_sample)
        if x is not None and threshold.holds(x):
            found.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason, (),
                                    VetoMeasurement(veto.tested(), value, threshold.test, threshold.limit)))
    return found


def build_scorecard(scheme: Scheme, subject: str, keys: Mapping[str, str], period: str | None, n_records: int,
                    measured: Mapping[str, MeasureResult], vetoes: Sequence[VetoResult]) -> Scorecard:
    """Points, weights, not-applicable rules, total, grade and vetoes from measured values."""
    if scheme.measured_only:
        return _measured_card(scheme, subject, keys, period, n_records, measured, vetoes)
    # Which indicators count, with which points (and why), and each dimension's score. Weights
    # become shares in exact rational arithmetic (see shares), so weights are truly relative:
    # scaling them never moves a score across a rounding tie.
    dims = []
    for dim_rules in _scoring_of(scheme).dimensions:
        items = []
        counted: dict[str, tuple[float, str | None]] = {}
        for ind_rules in dim_rules.indicators:
            ind = ind_rules.ind
            res = _canonical(measured[ind.id])
            points, rule, reason = None, None, common.not_applicable_reason(ind.min_sample, res.value, res.sample)
            if reason is None:
                points, rule, reason = ind_rules.score(res.value)
            if reason is None:
                counted[ind.id] = (points, None)  # type: ignore[assignment]
            else:
                points = None
                if ind_rules.fill is not None:
                    counted[ind.id] = (ind_rules.fill, ind_rules.fill_note)
            items.append((ind_rules, res, points, rule, reason))
        if counted:
            inner = shares(tuple(i.ind.weight for i in dim_rules.indicators if i.ind.id in counted))
            dscore: float | None = common.fsum(sh * p for sh, (p, _) in zip(inner, counted.values()))
            dnote = None
        elif dim_rules.fill is not None:
            counted = {i.ind.id: (dim_rules.fill, dim_rules.fill_note) for i in dim_rules.indicators}
            inner = shares(tuple(i.ind.weight for i in dim_rules.indicators))
            dscore, dnote = dim_rules.fill, dim_rules.fill_note
        else:
            inner, dscore, dnote = (), None, "no indicator applies; weight redistributed"
        dims.append((dim_rules.dim, items, counted, dict(zip(counted, inner)), dscore, dnote))

    dim_shares = iter(shares(tuple(dim.weight for dim, _, counted, *_ in dims if counted)))
    parts = []
    dim_results = []
    varying: list[Varying] = []  # scored indicators whose value is an estimate, for the grade's stability
    for dim, items, counted, share_of, dscore, dnote in dims:
        d_share = next(dim_shares) if counted else 0.0
        if dscore is not None and counted:
            parts.append(d_share * dscore)
        inds = []
        any_scored = False
        for ind_rules, res, points, rule, na_reason in items:
            ind = ind_rules.ind
            cpoints, note = counted.get(ind.id, (None, None))
            eff = 100.0 * d_share * share_of[ind.id] if cpoints is not None else 0.0
            any_scored = any_scored or na_reason is None
            inds.append(IndicatorResult(
                id=ind.id, name=ind.name, measure=ind.measure.kind, value=res.value, sample=res.sample,
                skipped=res.skipped, status=STATUS_SCORED if na_reason is None else STATUS_NA,
                points=points, counted=cpoints is not None, counted_points=cpoints, weight=ind.weight,
                effective_weight=eff, contribution=cpoints * eff / 100.0 if cpoints is not None else 0.0,
                rule=rule, reason="; ".join(r for r in (na_reason, note) if r) or None,
                numerator=res.numerator, denominator=res.denominator, inputs=dict(res.inputs or {}),
                target=ind.target, source=_source_text(scheme, ind.measure), interval=res.interval,
            ))
            if na_reason is None and res.interval is not None and eff and ind.scoring.kind != "map":
                varying.append(Varying(eff / 100.0, res.interval, ind_rules.score))
        dim_results.append(DimensionResult(dim.id, dim.name, dscore, dim.weight, 100.0 * d_share,
                                           STATUS_SCORED if any_scored else STATUS_NA, bool(counted),
                                           tuple(inds), dnote))

    if parts:
        score: float | None = common.fsum(parts)
        note = None
    else:
        score, note = None, "no indicator is applicable, so there is no score"
    score_grade = grade_for(scheme, rounded(score, scheme.decimals))
    grade, decided_by = common.apply_vetoes(scheme, score_grade, vetoes)
    sure = None
    if score is not None and grade is not None:
        sure = stability(scheme, score, varying, lambda g: common.apply_vetoes(scheme, g, vetoes)[0], grade)
    return Scorecard(
        subject=subject, keys=dict(keys), period=period, scheme_id=scheme.id, scheme_version=scheme.version,
        scheme_sha256=scheme.sha256, records=n_records, score=score, grade=grade, score_grade=score_grade,
        decided_by=decided_by, note=note, dimensions=tuple(dim_results), vetoes=tuple(vetoes),
        decimals=scheme.decimals, stability=sure,
        uncertain=sure is not None and sure < scheme.confidence.stable_at, level=scheme.confidence.level,
        stable_at=scheme.confidence.stable_at,
    )


def _measured_card(scheme: Scheme, subject: str, keys: Mapping[str, str], period: str | None, n_records: int,
                   measured: Mapping[str, MeasureResult], vetoes: Sequence[VetoResult]) -> Scorecard:
    """A source's view (engine.sources): each indicator's measured value as it was measured, nothing scored."""
    dims = tuple(DimensionResult(dim.id, dim.name, None, dim.weight, 0.0, STATUS_NA, False, tuple(
        IndicatorResult(id=ind.id, name=ind.name, measure=ind.measure.kind, value=res.value, sample=res.sample,
                        skipped=res.skipped, status=STATUS_NA, points=None, counted=False, counted_points=None,
                        weight=ind.weight, effective_weight=0.0, contribution=0.0, numerator=res.numerator,
                        denominator=res.denominator, inputs=dict(res.inputs or {}), interval=res.interval)
        for ind in dim.indicators for res in (measured[ind.id],))) for dim in scheme.dimensions)
    return Scorecard(subject=subject, keys=dict(keys), period=period, scheme_id=scheme.id,
                     scheme_version=scheme.version, scheme_sha256=scheme.sha256, records=n_records, score=None,
                     grade=None, score_grade=None, decided_by="none", note=None, dimensions=dims,
                     vetoes=tuple(vetoes), decimals=scheme.decimals)


def _source_text(scheme: Scheme, m: Measure) -> str | None:
    """The record source a measure reads, as a scorecard names it; None in a scheme with one table."""
    if not scheme.sources:
        return None
    main = scheme.sources[0].name
    if m.terms is not None:
        return f"{m.terms[0].source or main} ÷ {m.terms[1].source or main}"
    return m.source or main


def _canonical(res: MeasureResult) -> MeasureResult:
    canonical = common.canonical
    interval = None if res.interval is None else (canonical(res.interval[0]), canonical(res.interval[1]))
    return MeasureResult(canonical(res.value), res.sample, res.skipped, canonical(res.numerator),
                         canonical(res.denominator), res.inputs, res.evidence, interval)


@functools.lru_cache(maxsize=4096)
def shares(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Each weight's share of their sum, computed exactly and then rounded once.

    Only relative weights matter: 1/1 and 7/7 give bit-identical shares, so a score
    never moves across a rounding tie when weights are scaled. Cached, because the
    same few combinations of applicable indicators recur for every subject.
    """
    exact = [Fraction(w) for w in weights]
    total = sum(exact)
    return tuple(float(w / total) for w in exact)


def grade_for(scheme: Scheme, score: float | None) -> str | None:
    if score is None:
        return None
    for g in scheme.grades:
        if score >= g.min:
            return g.name
    return None
