"""The reference engine: one record at a time, simple and obviously right.

It is the yardstick the columnar engine is proven against, so it favours clarity
over speed. Sums use math.fsum, and each subject's records are taken in id order,
so the result does not depend on the order of the input rows.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ExpressionError
from ..expressions import Evaluator, Expression
from ..model import Measure, Scheme
from ..records import Problem
from ..scorecard import Scorecard, VetoResult
from . import common
from .scoring import MeasureResult, build_scorecard

Record = dict[str, Any]


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
