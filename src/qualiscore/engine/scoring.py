"""From measured values to a scorecard: points, weights, not-applicable rules, grade, vetoes.

Shared by every engine (only measuring differs between them), so a scorecard is the same
bytes whichever engine measured it. It runs over columns, every subject of a run at once
(75,000 for a quarter of a large contact centre): what depends only on the scheme (rule
texts, fills, each indicator's scoring) is worked out once per scheme, as its
:class:`_SchemeScoring`, and what many subjects share (the weight shares of one set of
applicable indicators, what one set of vetoes does to a grade) once per run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from ..i18n import _, language
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
from .intervals import z_value
from .measures import MeasureResult
from .stability import spread, stability

__all__ = ["MeasureResult", "Subjects", "build_scorecards", "grade_for", "triggered_vetoes"]


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
                return s.default, _("{key!r} not in map: default", key=key), None
            return pts, _("map {key!r}", key=key), None

        return by_map
    if s.kind == "pass" and s.has_equals and s.pass_min is None and s.pass_max is None:
        expected = _("pass if {conditions}", conditions=_("value = {value}", value=common.map_key(s.pass_equals)))
        passed, failed = (100.0, _("{rule}: passed", rule=expected), None), (0.0, _("{rule}: failed", rule=expected), None)
        return lambda value: passed if common.same(value, s.pass_equals) else failed

    def numeric(points: Callable[[float, Any], Points]) -> Callable[[Any], Points]:
        def score(value: Any) -> Points:
            x = common.as_number(value)
            if x is None:
                return None, None, _("value {value!r} is not a number", value=value)
            return points(x, value)

        return score

    if s.kind == "bands":
        bands = [(b.min, b.max, (b.points, _("band {n} ({band})", n=i + 1, band=b.describe()), None))
                 for i, b in enumerate(s.bands)]
        no_band: Points = (0.0, _("no band matches"), None)

        def by_bands(x: float, _value: Any) -> Points:
            for lo, hi, result in bands:
                if (lo is None or x >= lo) and (hi is None or x <= hi):
                    return result
            return no_band

        return numeric(by_bands)
    if s.kind == "linear":
        lo, hi = s.start, s.end
        assert lo is not None and hi is not None
        rule = _("linear from {start:g} (0 points) to {end:g} (100 points)", start=lo, end=hi)
        return numeric(lambda x, _value: (100.0 * min(1.0, max(0.0, (x - lo) / (hi - lo))), rule, None))
    conds = []
    if s.pass_min is not None:
        conds.append(_("value ≥ {min:g}", min=s.pass_min))
    if s.pass_max is not None:
        conds.append(_("value ≤ {max:g}", max=s.pass_max))
    if s.has_equals:
        conds.append(_("value = {value}", value=s.pass_equals))
    joined = conds[0] if conds else ""
    for cond in conds[1:]:
        joined = _("{first} and {second}", first=joined, second=cond)
    rule = _("pass if {conditions}", conditions=joined)
    passed, failed = (100.0, _("{rule}: passed", rule=rule), None), (0.0, _("{rule}: failed", rule=rule), None)

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


def _fill(rule: str, dimension: bool) -> tuple[float | None, str | None]:
    if rule == "redistribute":
        return None, None
    points = 0.0 if rule == "zero" else 100.0
    if dimension:
        return points, _("dimension not applicable, counted as {rule} ({points:g} points)", rule=rule, points=points)
    return points, _("counted as {rule} ({points:g} points)", rule=rule, points=points)


# By the scheme's identity and the language of its rule texts.
_SCORING_BY_SCHEME: dict[tuple[int, str], _SchemeScoring] = {}


def _scoring_of(scheme: Scheme) -> _SchemeScoring:
    """Made on first use and kept (by identity: a Scheme holds mappings, so is not hashable), in each language
    its rule texts are written in."""
    key = (id(scheme), language())
    found = _SCORING_BY_SCHEME.get(key)
    if found is None or found.scheme is not scheme:
        if len(_SCORING_BY_SCHEME) >= 64:
            _SCORING_BY_SCHEME.clear()
        dims = []
        for dim in scheme.dimensions:
            inds = tuple(_IndicatorScoring(ind, scorer(ind.scoring), *_fill(ind.when_not_applicable, False))
                         for ind in dim.indicators)
            dims.append(_DimensionScoring(dim, inds, *_fill(dim.when_not_applicable, True)))
        found = _SCORING_BY_SCHEME[key] = _SchemeScoring(scheme, tuple(dims),
                                                                {i.id: i for i in scheme.indicators})
    return found


@dataclass(frozen=True, slots=True)
class Subjects:
    """A run's subjects as columns, in subject order: what scoring reads, one entry per subject.

    Scoring runs over columns, all subjects at once, so what is the same for many
    subjects (the shares of a set of applicable indicators, a grade's band, what a set
    of vetoes does to a grade) is worked out once, not once per subject.
    """

    names: Sequence[str]
    keys: Sequence[Mapping[str, str]]
    periods: Sequence[str | None]
    records: Sequence[int]
    measured: Mapping[str, Sequence[MeasureResult]]  # each indicator's results, by indicator id
    # Each veto's ``when`` measured, by veto id: the vetoes with a ``when`` only (a veto on an
    # indicator reads the indicator's results).
    whens: Mapping[str, Sequence[MeasureResult]]


def triggered_vetoes(scheme: Scheme, subjects: Subjects) -> list[tuple[VetoResult, ...]]:
    """The scheme's vetoes each subject triggers, with their evidence, in scheme order.

    A veto without a threshold triggers when its measure is true or non-zero, with the
    ids of the records that made it so. A threshold veto compares the value, cut to 12
    significant digits as on the scorecard, with its threshold; a value that is not
    applicable (below the indicator's min_sample, nothing measured, undefined) or not a
    number never triggers, and its evidence is the value and the threshold.
    """
    columns: list[list[VetoResult | None]] = []
    indicators = _scoring_of(scheme).indicators
    for veto in scheme.vetoes:
        threshold = veto.threshold
        if threshold is None:
            columns.append([VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason, res.evidence)
                            if common.veto_triggered(res.value) else None for res in subjects.whens[veto.id]])
            continue
        if veto.indicator is not None:
            results, min_sample = subjects.measured[veto.indicator], indicators[veto.indicator].min_sample
        else:
            results, min_sample = subjects.whens[veto.id], 1
        column: list[VetoResult | None] = []
        for res in results:
            value = common.canonical(res.value)
            x = common.threshold_value(value, res.sample, min_sample)
            column.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason, (),
                                     VetoMeasurement(veto.tested(), value, threshold.test, threshold.limit))
                          if x is not None and threshold.holds(x) else None)
        columns.append(column)
    if not columns:
        return [()] * len(subjects.names)
    return [tuple(v for v in row if v is not None) for row in zip(*columns)]


@dataclass(frozen=True, slots=True)
class _IndicatorColumn:
    """One indicator's results and points for every subject."""

    rules: _IndicatorScoring
    results: list[MeasureResult]  # canonical
    points: list[float | None]  # None when not applicable
    rules_matched: list[str | None]
    reasons: list[str | None]  # why not applicable, or None
    counted: list[tuple[float, str | None] | None]  # points counted and the note of a fill; None: not counted

    @classmethod
    def of(cls, rules: _IndicatorScoring, column: Sequence[MeasureResult]) -> _IndicatorColumn:
        ind, fill = rules.ind, (rules.fill, rules.fill_note)
        results = list(map(_canonical, column))
        scored = [rules.score(r.value) if why is None else (None, None, why) for r, why in zip(results, (
            common.not_applicable_reason(ind.min_sample, r.value, r.sample) for r in results))]
        counted = [cast("tuple[float, None]", (p, None)) if why is None
                   else cast("tuple[float, str | None]", fill) if rules.fill is not None else None
                   for p, _, why in scored]
        return cls(rules, results, [p if why is None else None for p, _, why in scored],
                   [rule for _, rule, _ in scored], [why for _, _, why in scored], counted)


@dataclass(frozen=True, slots=True)
class _Dimension:
    """A dimension of one subject: its score and how much each of its indicators counts in it."""

    score: float | None
    note: str | None
    counted: tuple[tuple[float, str | None] | None, ...]  # per indicator, as in _IndicatorColumn.counted
    shares: tuple[float, ...]  # per indicator: its share of the dimension (0 when not counted)


def _dimension(rules: _DimensionScoring, counted: tuple[tuple[float, str | None] | None, ...],
               cache: dict[tuple[bool, ...], tuple[float, ...]]) -> _Dimension:
    """Weights become shares in exact rational arithmetic (see shares), so weights are truly
    relative: scaling them never moves a score across a rounding tie."""
    which = tuple(c is not None for c in counted)
    inner = cache.get(which)
    if inner is None:
        weights = [i.ind.weight for i, c in zip(rules.indicators, which) if c] or [i.ind.weight for i in rules.indicators]
        it = iter(shares(tuple(weights)))
        inner = cache[which] = tuple(next(it) if c else 0.0 for c in which) if any(which) else tuple(it)
    if any(which):
        return _Dimension(common.fsum(sh * c[0] for sh, c in zip(inner, counted) if c is not None), None,
                          counted, inner)
    if rules.fill is not None:
        return _Dimension(rules.fill, rules.fill_note, tuple((rules.fill, rules.fill_note) for _c in counted), inner)
    return _Dimension(None, _("no indicator applies; weight redistributed"), counted,
                      tuple(0.0 for _c in counted))


def build_scorecards(scheme: Scheme, subjects: Subjects) -> list[Scorecard]:
    """Points, weights, not-applicable rules, total, grade, vetoes and stability of every subject."""
    vetoes = triggered_vetoes(scheme, subjects)
    if scheme.measured_only:
        return [_measured_card(scheme, subjects, k, vetoes[k]) for k in range(len(subjects.names))]
    rules = _scoring_of(scheme)
    columns = [[_IndicatorColumn.of(i, subjects.measured[i.ind.id]) for i in d.indicators] for d in rules.dimensions]
    source = {i.id: _source_text(scheme, i.measure) for i in scheme.indicators}
    per_dimension = []
    for d, cols in zip(rules.dimensions, columns):
        cache: dict[tuple[bool, ...], tuple[float, ...]] = {}
        per_dimension.append([_dimension(d, counted, cache) for counted in zip(*(c.counted for c in cols))])
    dimension_shares: dict[tuple[bool, ...], tuple[float, ...]] = {}
    weights = tuple(d.dim.weight for d in rules.dimensions)
    decisions: dict[tuple[str | None, tuple[str, ...]], tuple[str | None, str]] = {}

    def decided(grade: str | None, vetoes: Sequence[VetoResult]) -> tuple[str | None, str]:
        """common.apply_vetoes, once for each grade and set of vetoes (what they do depends on their ids alone)."""
        key = (grade, tuple(v.id for v in vetoes))
        found = decisions.get(key)
        if found is None:
            found = decisions[key] = common.apply_vetoes(scheme, grade, vetoes)
        return found

    z = z_value(scheme.confidence.level)
    cards = []
    for k, dims in enumerate(zip(*per_dimension)):
        which = tuple(any(c is not None for c in d.counted) for d in dims)
        d_shares = dimension_shares.get(which)
        if d_shares is None:
            it = iter(shares(tuple(w for w, c in zip(weights, which) if c)))
            d_shares = dimension_shares[which] = tuple(next(it) if c else 0.0 for c in which)
        parts = [sh * d.score for sh, d, c in zip(d_shares, dims, which) if c and d.score is not None]
        dim_results = []
        spreads: list[float] = []  # each estimated, scored indicator's standard error in points of the score
        for d_rules, cols, d, d_share, counts in zip(rules.dimensions, columns, dims, d_shares, which):
            inds = []
            for col, (cpoints, note), share in zip(cols, (c or (None, None) for c in d.counted), d.shares):
                ind, res, na_reason = col.rules.ind, col.results[k], col.reasons[k]
                eff = 100.0 * d_share * share if cpoints is not None else 0.0
                inds.append(IndicatorResult(
                    id=ind.id, name=ind.name, measure=ind.measure.kind, value=res.value, sample=res.sample,
                    skipped=res.skipped, status=STATUS_SCORED if na_reason is None else STATUS_NA,
                    points=col.points[k], counted=cpoints is not None, counted_points=cpoints, weight=ind.weight,
                    effective_weight=eff, contribution=cpoints * eff / 100.0 if cpoints is not None else 0.0,
                    rule=col.rules_matched[k], reason=na_reason if note is None else _joined(na_reason, note),
                    numerator=res.numerator, denominator=res.denominator, inputs=dict(res.inputs or {}),
                    target=ind.target, source=source[ind.id], interval=res.interval,
                ))
                if na_reason is None and res.interval is not None and eff and ind.scoring.kind != "map":
                    spreads.append(spread(eff / 100.0, res.interval, col.rules.score, z))
            dim_results.append(DimensionResult(
                d_rules.dim.id, d_rules.dim.name, d.score, d_rules.dim.weight, 100.0 * d_share,
                STATUS_SCORED if any(r is None for r in (c.reasons[k] for c in cols)) else STATUS_NA, counts,
                tuple(inds), d.note))
        score: float | None = common.fsum(parts) if parts else None
        note = None if parts else _("no indicator is applicable, so there is no score")
        score_grade = grade_for(scheme, rounded(score, scheme.decimals))
        grade, decided_by = decided(score_grade, vetoes[k])
        sure = None
        if score is not None and grade is not None:
            sure = stability(scheme, score, spreads, functools.partial(_final_grade, decided, vetoes[k]), grade)
        cards.append(Scorecard(
            subject=subjects.names[k], keys=dict(subjects.keys[k]), period=subjects.periods[k],
            scheme_id=scheme.id, scheme_version=scheme.version, scheme_sha256=scheme.sha256,
            records=subjects.records[k], score=score, grade=grade, score_grade=score_grade, decided_by=decided_by,
            note=note, dimensions=tuple(dim_results), vetoes=vetoes[k], decimals=scheme.decimals, stability=sure,
            uncertain=sure is not None and sure < scheme.confidence.stable_at, level=scheme.confidence.level,
            stable_at=scheme.confidence.stable_at,
        ))
    return cards


def _joined(reason: str | None, note: str) -> str:
    return note if reason is None else _("{reason}; {note}", reason=reason, note=note)


def _final_grade(decided: Callable[[str | None, Sequence[VetoResult]], tuple[str | None, str]],
                 vetoes: Sequence[VetoResult], grade: str | None) -> str | None:
    return decided(grade, vetoes)[0]


def _measured_card(scheme: Scheme, subjects: Subjects, k: int, vetoes: tuple[VetoResult, ...]) -> Scorecard:
    """A source's view (engine.sources): each indicator's measured value as it was measured, nothing scored."""
    dims = tuple(DimensionResult(dim.id, dim.name, None, dim.weight, 0.0, STATUS_NA, False, tuple(
        IndicatorResult(id=ind.id, name=ind.name, measure=ind.measure.kind, value=res.value, sample=res.sample,
                        skipped=res.skipped, status=STATUS_NA, points=None, counted=False, counted_points=None,
                        weight=ind.weight, effective_weight=0.0, contribution=0.0, numerator=res.numerator,
                        denominator=res.denominator, inputs=dict(res.inputs or {}), interval=res.interval)
        for ind in dim.indicators for res in (subjects.measured[ind.id][k],))) for dim in scheme.dimensions)
    return Scorecard(subject=subjects.names[k], keys=dict(subjects.keys[k]), period=subjects.periods[k],
                     scheme_id=scheme.id, scheme_version=scheme.version, scheme_sha256=scheme.sha256,
                     records=subjects.records[k], score=None, grade=None, score_grade=None, decided_by="none",
                     note=None, dimensions=dims, vetoes=vetoes, decimals=scheme.decimals)


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
