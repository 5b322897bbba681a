"""The reference engine: one record at a time, simple and obviously right.

It is the yardstick the columnar engine is proven against, so it favours clarity
over speed. Sums use math.fsum, and each subject's records are taken in id order,
so the result does not depend on the order of the input rows.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ExpressionError
from ..expressions import Evaluator, Expression
from ..model import Dimension, Indicator, Measure, Scheme, Scoring
from ..records import Problem
from ..scorecard import (
    STATUS_NA,
    STATUS_SCORED,
    DimensionResult,
    IndicatorResult,
    Scorecard,
    VetoResult,
    rounded,
)
from . import common

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MeasureResult:
    value: Any
    sample: int
    skipped: int
    numerator: float | None = None
    denominator: float | None = None
    inputs: Mapping[str, Any] | None = None
    evidence: tuple[str, ...] = ()


def _getter(evaluator: Evaluator, expr: Expression, constants: Mapping[str, Any]) -> Callable[[Record], Any]:
    """A per-record function for ``expr``; bare names and literals skip the evaluator."""
    body = expr.tree.body
    if isinstance(body, ast.Name) and body.id not in constants:
        name = body.id
        return lambda env: env.get(name)
    if isinstance(body, ast.Constant):
        const = body.value
        return lambda env: const
    return lambda env: evaluator.evaluate(expr, env)


class RowEngine:
    """Evaluates one scheme version over typed records."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.evaluator = Evaluator(scheme.constants, scheme.calendar)
        self.id_field = scheme.records.id

    # -- per record
    def derive(self, records: Sequence[Record], origins: Sequence[tuple[str, int]]
               ) -> tuple[list[tuple[Record, tuple[str, int]]], list[Problem]]:
        """Add derived values; a record whose expression fails at run time is rejected, not dropped."""
        out: list[tuple[Record, tuple[str, int]]] = []
        problems: list[Problem] = []
        for rec, (source, row) in zip(records, origins):
            env = dict(rec)
            try:
                for name, expr in self.scheme.derive:
                    env[name] = self.evaluator.evaluate(expr, env)
            except ExpressionError as exc:
                problems.append(Problem(source, row, _text(rec.get(self.id_field)), name, None,
                                        "evaluation-error", exc.message))
                continue
            out.append((env, (source, row)))
        return out, problems

    # -- measures
    def measure(self, m: Measure, records: Sequence[Record]) -> MeasureResult:
        ev = self.evaluator
        if m.where is not None:
            where = _getter(ev, m.where, self.scheme.constants)
            records = [r for r in records if where(r) is True]
        ids = [_text(r.get(self.id_field)) for r in records]
        if m.kind == "ratio":
            num_of, den_of = _getter(ev, m.numerator, self.scheme.constants), _getter(ev, m.denominator, self.scheme.constants)  # type: ignore[arg-type]
            pairs = [(num_of(r), den_of(r)) for r in records]
            used = [(float(a), float(b)) for a, b in pairs if a is not None and b is not None]
            num = common.fsum(a for a, _ in used)
            den = common.fsum(b for _, b in used)
            value = num / den if used and den != 0 else None
            ev_ids = tuple(sorted(i for i, (a, _b) in zip(ids, pairs) if a))
            return MeasureResult(value, len(used), len(pairs) - len(used), num, den, evidence=ev_ids)
        get = _getter(ev, m.expr, self.scheme.constants)  # type: ignore[arg-type]
        values = [get(r) for r in records]
        evidence = tuple(sorted(i for i, v in zip(ids, values) if v is not None and v is not False and v != 0))
        known = [v for v in values if v is not None]
        skipped = len(values) - len(known)
        kind = m.kind
        if kind == "count":
            n = sum(1 for v in known if v)
            return MeasureResult(n, len(values), 0, n, len(values), evidence=evidence)
        if kind == "share":
            n = sum(1 for v in known if v)
            return MeasureResult(n / len(known) if known else None, len(known), skipped, n, len(known),
                                 evidence=evidence)
        if kind in ("any", "all"):
            if not known:
                return MeasureResult(None, 0, skipped, evidence=evidence)
            truth = [bool(v) for v in known]
            return MeasureResult(any(truth) if kind == "any" else all(truth), len(known), skipped,
                                 sum(truth), len(known), evidence=evidence)
        if kind == "value":
            value = values[0] if values else None
            return MeasureResult(value, len(known), skipped, evidence=evidence)
        nums = [_number(v) for v in known]
        n = len(nums)
        if kind == "nps":
            promoters = sum(1 for v in nums if v >= 9)
            detractors = sum(1 for v in nums if v <= 6)
            value = 100.0 * (promoters - detractors) / n if n else None
            inputs = {"promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors}
            return MeasureResult(value, n, skipped, promoters - detractors, n, inputs, evidence)
        if not n:
            return MeasureResult(None, 0, skipped, evidence=evidence)
        if kind == "sum":
            total = common.fsum(nums)
            return MeasureResult(total, n, skipped, total, None, evidence=evidence)
        if kind == "mean":
            total = common.fsum(nums)
            return MeasureResult(total / n, n, skipped, total, n, evidence=evidence)
        if kind in ("min", "max"):
            return MeasureResult(min(nums) if kind == "min" else max(nums), n, skipped, evidence=evidence)
        p = 50.0 if kind == "median" else float(m.p)  # type: ignore[arg-type]
        return MeasureResult(common.percentile(sorted(nums), p), n, skipped, inputs={"p": p}, evidence=evidence)

    # -- subjects
    def scorecard(self, subject: str, keys: Mapping[str, str], period: str | None,
                  records: Sequence[Record]) -> Scorecard:
        records = sorted(records, key=lambda r: _text(r.get(self.id_field)) or "")
        measured = {
            ind.id: self.measure(ind.measure, records) for dim in self.scheme.dimensions for ind in dim.indicators
        }
        vetoes = []
        for veto in self.scheme.vetoes:
            res = self.measure(veto.when, records)
            if common.veto_triggered(res.value):
                vetoes.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason, res.evidence))
        return build_scorecard(self.scheme, subject, keys, period, len(records), measured, vetoes)


@dataclass(frozen=True, slots=True)
class _Scored:
    """An indicator's measured value turned into points, or the reason it is not applicable."""

    ind: Indicator
    res: MeasureResult
    points: float | None
    rule: str | None
    na_reason: str | None


def build_scorecard(scheme: Scheme, subject: str, keys: Mapping[str, str], period: str | None, n_records: int,
                    measured: Mapping[str, MeasureResult], vetoes: Sequence[VetoResult]) -> Scorecard:
    """Points, weights, not-applicable rules, total, grade and vetoes from measured values.

    Shared by both engines: only measuring differs between them.
    """
    scored_dims: list[tuple[Dimension, list[_Scored]]] = []
    for dim in scheme.dimensions:
        items = []
        for ind in dim.indicators:
            res = canonical_result(measured[ind.id])
            points, rule, reason = None, None, common.not_applicable_reason(ind, res.value, res.sample)
            if reason is None:
                points, rule, reason = score_value(ind.scoring, res.value)
            items.append(_Scored(ind, res, points if reason is None else None, rule, reason))
        scored_dims.append((dim, items))

    # Which indicators count, with which points (and why), and each dimension's score. Weights
    # become shares in exact rational arithmetic (see _shares), so weights are truly relative:
    # scaling them never moves a score across a rounding tie.
    plans: list[tuple[float | None, str | None, dict[str, tuple[float, str | None]]]] = []
    for dim, items in scored_dims:
        counted: dict[str, tuple[float, str | None]] = {}
        for it in items:
            if it.na_reason is None:
                counted[it.ind.id] = (it.points, None)  # type: ignore[assignment]
            elif it.ind.when_not_applicable != "redistribute":
                fill = _fill(it.ind.when_not_applicable)
                counted[it.ind.id] = (fill, f"counted as {it.ind.when_not_applicable} ({fill:g} points)")
        if counted:
            shares = _shares(tuple(i.weight for i in dim.indicators if i.id in counted))
            plans.append((common.fsum(sh * p for sh, (p, _) in zip(shares, counted.values())), None, counted))
        elif dim.when_not_applicable != "redistribute":
            fill = _fill(dim.when_not_applicable)
            note = f"dimension not applicable, counted as {dim.when_not_applicable} ({fill:g} points)"
            plans.append((fill, note, {i.id: (fill, note) for i in dim.indicators}))
        else:
            plans.append((None, "no indicator applies; weight redistributed", {}))

    dim_shares = iter(_shares(tuple(dim.weight for (dim, _), (_, _, c) in zip(scored_dims, plans) if c)))
    parts = []
    dim_results = []
    for (dim, items), (dscore, dnote, counted) in zip(scored_dims, plans):
        d_share = next(dim_shares) if counted else 0.0
        if dscore is not None and counted:
            parts.append(d_share * dscore)
        inner = dict(zip((it.ind.id for it in items if it.ind.id in counted),
                         _shares(tuple(it.ind.weight for it in items if it.ind.id in counted)) if counted else ()))
        inds = []
        for it in items:
            cpoints, note = counted.get(it.ind.id, (None, None))
            eff = 100.0 * d_share * inner[it.ind.id] if cpoints is not None else 0.0
            reason = "; ".join(r for r in (it.na_reason, note) if r) or None
            res = it.res
            inds.append(IndicatorResult(
                id=it.ind.id, name=it.ind.name, measure=it.ind.measure.kind, value=res.value, sample=res.sample,
                skipped=res.skipped, status=STATUS_SCORED if it.na_reason is None else STATUS_NA,
                points=it.points, counted=cpoints is not None, counted_points=cpoints, weight=it.ind.weight,
                effective_weight=eff, contribution=cpoints * eff / 100.0 if cpoints is not None else 0.0,
                rule=it.rule, reason=reason, numerator=res.numerator, denominator=res.denominator,
                inputs=dict(res.inputs or {}), target=it.ind.target,
            ))
        status = STATUS_SCORED if any(i.status == STATUS_SCORED for i in inds) else STATUS_NA
        dim_results.append(DimensionResult(dim.id, dim.name, dscore, dim.weight, 100.0 * d_share, status,
                                           bool(counted), tuple(inds), dnote))

    if parts:
        score: float | None = common.fsum(parts)
        note = None
    else:
        score, note = None, "no indicator is applicable, so there is no score"
    score_grade = grade_for(scheme, rounded(score, scheme.decimals))
    grade, decided_by = common.apply_vetoes(scheme, score_grade, vetoes)
    return Scorecard(
        subject=subject, keys=dict(keys), period=period, scheme_id=scheme.id, scheme_version=scheme.version,
        scheme_sha256=scheme.sha256, records=n_records, score=score, grade=grade, score_grade=score_grade,
        decided_by=decided_by, note=note, dimensions=tuple(dim_results), vetoes=tuple(vetoes),
        decimals=scheme.decimals,
    )


def canonical_result(res: MeasureResult) -> MeasureResult:
    return dataclasses.replace(res, value=common.canonical(res.value), numerator=common.canonical(res.numerator),
                               denominator=common.canonical(res.denominator))


@functools.lru_cache(maxsize=4096)
def _shares(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Each weight's share of their sum, computed exactly and then rounded once.

    Only relative weights matter: 1/1 and 7/7 give bit-identical shares, so a score
    never moves across a rounding tie when weights are scaled. Cached, because the
    same few combinations of applicable indicators recur for every subject.
    """
    exact = [Fraction(w) for w in weights]
    total = sum(exact)
    return tuple(float(w / total) for w in exact)


def _fill(rule: str) -> float:
    return 0.0 if rule == "zero" else 100.0


def grade_for(scheme: Scheme, score: float | None) -> str | None:
    if score is None:
        return None
    for g in scheme.grades:
        if score >= g.min:
            return g.name
    return None


def score_value(s: Scoring, value: Any) -> tuple[float | None, str | None, str | None]:
    """Points for a value: (points, rule matched, error reason)."""
    if s.kind == "map":
        key = common.map_key(value)
        for k, pts in s.mapping:
            if k == key:
                return pts, f"map {key!r}", None
        return s.default, f"{key!r} not in map: default", None
    if s.kind == "pass" and s.has_equals and s.pass_min is None and s.pass_max is None:
        ok = common.same(value, s.pass_equals)
        return (100.0 if ok else 0.0), f"pass if value = {common.map_key(s.pass_equals)}: {'passed' if ok else 'failed'}", None
    x = common.as_number(value)
    if x is None:
        return None, None, f"value {value!r} is not a number"
    if s.kind == "bands":
        for i, band in enumerate(s.bands):
            if (band.min is None or x >= band.min) and (band.max is None or x <= band.max):
                return band.points, f"band {i + 1} ({band.describe()})", None
        return 0.0, "no band matches", None
    if s.kind == "linear":
        lo, hi = s.start, s.end
        frac = min(1.0, max(0.0, (x - lo) / (hi - lo)))  # type: ignore[operator]
        return 100.0 * frac, f"linear from {lo:g} (0 points) to {hi:g} (100 points)", None
    conds = []
    ok = True
    if s.pass_min is not None:
        ok = ok and x >= s.pass_min
        conds.append(f"value ≥ {s.pass_min:g}")
    if s.pass_max is not None:
        ok = ok and x <= s.pass_max
        conds.append(f"value ≤ {s.pass_max:g}")
    if s.has_equals:
        ok = ok and common.same(value, s.pass_equals)
        conds.append(f"value = {s.pass_equals}")
    return (100.0 if ok else 0.0), f"pass if {' and '.join(conds)}: {'passed' if ok else 'failed'}", None


def _number(v: Any) -> float:
    return float(v)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)
