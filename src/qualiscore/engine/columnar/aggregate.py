"""Scoring: one group_by computes every measure of every subject, then the shared scorecards.

See "How a run goes" (step 3) in the package docstring. Each measure adds row-level columns
and aggregations named ``m{index}_...``; :meth:`_Scorer._result` turns a subject's
aggregations into the MeasureResult the reference engine would compute.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from ...scorecard import VetoResult
from .. import common
from ..measures import percentile
from ..scoring import MeasureResult, build_scorecard
from ..subjects import key_text, period_bounds
from .clock import Clock
from .fallback import Fallback
from .fixups import ExecutionResult
from .frames import PDATE, ROW, SRC, STATE, fold_column, python_value, reference_text
from .plan import CompiledScheme, ExpressionColumn, MeasurePlan
from .translate import EXACT_INT, INTLIKE, NOT_CONSTANT, evidence_mask, is_true, lookup, where_mask


def _key_text_expr(frame: pl.DataFrame, name: str, kind: str, zone: ZoneInfo) -> pl.Expr:
    """common.key_text of a column, vectorised ("" for null)."""
    col = pl.col(name)
    if kind == "str":
        return col.fill_null("")
    if kind == "int":
        return col.cast(pl.String).fill_null("")
    if kind == "bool":
        return pl.when(col.is_null()).then(pl.lit("")).when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    # Dates, numbers, datetimes: Python's own text of each distinct value.
    cols = [name] + ([fold_column(name)] if kind == "datetime" else [])
    uniq = frame.select(cols).unique()
    texts = []
    for rec in uniq.iter_rows(named=True):
        texts.append(key_text(python_value(rec, name, kind, zone)))
    if kind == "datetime":
        key = pl.struct(cols)
        old = uniq.select(pl.struct(cols).alias("k")).get_column("k")
        return key.replace_strict(old, pl.Series(texts, dtype=pl.String), default=None,
                                  return_dtype=pl.String).fill_null("")
    uniq_values = uniq.get_column(name)
    pairs = [(v, t) for v, t in zip(uniq_values.to_list(), texts) if v is not None]
    return col.replace_strict(pl.Series([v for v, _ in pairs], dtype=uniq_values.dtype),
                              pl.Series([t for _, t in pairs], dtype=pl.String), default=None,
                              return_dtype=pl.String).fill_null("")


@dataclass
class _MeasureAggregation:
    """Row-level helper columns and per-group aggregations of one measure."""

    index: int  # the measure's columns are named m{index}_...
    measure_plan: MeasurePlan
    veto: bool
    row_cols: list[pl.Expr] = field(default_factory=list)
    aggs: list[pl.Expr] = field(default_factory=list)
    evidence: list[pl.Expr] = field(default_factory=list)  # lists of ids: aggregated apart (see scorecards)


class _Scorer:
    """The scorecards of one run, from its frame (STATE 0 rows are scored)."""

    def __init__(self, plan: CompiledScheme, result: ExecutionResult) -> None:
        self.plan = plan
        self.scheme = plan.scheme
        self.result = result
        self.frame = result.frame  # every row the contract accepted; STATE 0 are scored
        self.zone = plan.zone

    def _measure_aggs(self, k: int, mp: MeasurePlan, veto: bool) -> _MeasureAggregation:
        a = _MeasureAggregation(k, mp, veto)
        m = mp.measure
        p = f"m{k}_"
        # Only scored rows (STATE 0) count: the group_by reads the frame as it is, no filtered copy.
        w = (pl.col(STATE) == 0) & (where_mask(mp.where.translated) if mp.where is not None else pl.lit(True))
        a.row_cols.append(w.alias(p + "measured"))
        a.aggs.append(pl.col(p + "measured").sum().alias(p + "n_measured"))

        def count(name: str, expr: pl.Expr) -> pl.Expr:
            mask = w & expr.fill_null(False)
            a.row_cols.append(mask.alias(p + name))
            a.aggs.append(pl.col(p + name).sum().alias(p + name))
            return mask

        if m.kind == "ratio":
            assert mp.numerator is not None and mp.denominator is not None
            n, d = mp.numerator.translated, mp.denominator.translated
            used = count("used", n.not_null() & d.not_null())
            a.row_cols.append(pl.when(used).then(n.value.cast(pl.Float64)).alias(p + "numerator"))
            a.row_cols.append(pl.when(used).then(d.value.cast(pl.Float64)).alias(p + "denominator"))
            a.aggs += [pl.col(p + "numerator").sum().alias(p + "numerator_sum"),
                       pl.col(p + "denominator").sum().alias(p + "denominator_sum"),
                       pl.col(p + "numerator").is_nan().sum().alias(p + "numerator_nans"),
                       pl.col(p + "denominator").is_nan().sum().alias(p + "denominator_nans")]
            if veto:
                self._evidence(a, w, is_true(n))
            return a
        assert mp.expr is not None
        x = mp.expr.translated
        if m.kind == "count":
            count("truthy", is_true(x))
        elif m.kind in ("share", "any", "all"):
            count("truthy", is_true(x))
            count("known", x.not_null())
        elif m.kind == "value":
            count("known", x.not_null())
            a.row_cols.append(x.value.alias(p + "value"))
            a.aggs.append(pl.col(p + "value").filter(pl.col(p + "measured")).first().alias(p + "value"))
            if x.kind == "datetime":
                name = mp.expr.expr.tree.body.id  # type: ignore[attr-defined]
                if name not in self.frame.columns:
                    raise Fallback("a value measure of a derived datetime")
                a.row_cols.append(pl.col(fold_column(name)).alias(p + "value_fold"))
                first_fold = pl.col(p + "value_fold").filter(pl.col(p + "measured")).first()
                a.aggs.append(first_fold.alias(p + "value_fold"))
        else:
            known = count("known", x.not_null())
            xf = x.value.cast(pl.Float64)
            if m.kind == "nps":
                count("promoters", xf >= 9)
                count("detractors", xf <= 6)
            else:
                a.row_cols.append(pl.when(known).then(
                    x.value.cast(pl.Int64) if (x.kind in INTLIKE and m.kind == "sum") or
                    (x.kind in INTLIKE and m.kind == "mean") else xf).alias(p + "value"))
                xs = pl.col(p + "value")
                if m.kind in ("sum", "mean"):
                    a.aggs.append(xs.sum().alias(p + "sum"))
                    if x.kind in INTLIKE:
                        a.aggs.append(xs.cast(pl.Float64).abs().sum().alias(p + "abs_sum"))
                elif m.kind in ("min", "max"):
                    a.aggs.append((xs.min() if m.kind == "min" else xs.max()).alias(p + m.kind))
                else:
                    a.aggs.append(xs.drop_nulls().sort().alias(p + "sorted_values"))
                if x.kind in ("float", "num"):
                    a.aggs.append(xs.is_nan().sum().alias(p + "nans"))
                    if m.kind in ("min", "max", "median", "percentile"):
                        a.aggs.append(((xs == 0) & ((1.0 / xs) < 0)).sum().alias(p + "negative_zeros"))
        if veto:
            self._evidence(a, w, evidence_mask(x))
        return a

    def _evidence(self, a: _MeasureAggregation, w: pl.Expr, mask: pl.Expr) -> None:
        p = f"m{a.index}_"
        id_name = self.plan.id_field
        a.row_cols.append((w & mask.fill_null(False)).alias(p + "evidence"))
        a.evidence.append(pl.col(id_name).filter(pl.col(p + "evidence")).alias(p + "evidence_ids"))
        if self.plan.kinds.get(id_name) == "datetime":
            folds = pl.col(fold_column(id_name)).filter(pl.col(p + "evidence"))
            a.evidence.append(folds.alias(p + "evidence_id_folds"))

    def _check_measure_errors(self) -> None:
        frame = self.frame
        if not self.result.measure_errors:
            return
        scored = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, STATE).filter(
            pl.col(STATE) == 0)
        failing = {(e[0], e[1]) for e in self.result.measure_errors}
        where = {(s, r): i for i, s, r, _ in scored.iter_rows() if (s, r) in failing}
        for src, row, colname in self.result.measure_errors:
            pos = where.get((src, row))
            if pos is None:
                continue
            for mp in self.plan.measures.values():
                parts = [mp.expr, mp.numerator, mp.denominator]
                if mp.where is not None and mp.where.name == colname:
                    raise Fallback(f"a measure's where raises for a record ({mp.where.expr.source!r})")
                if any(c is not None and c.name == colname for c in parts):
                    w = True if mp.where is None else _where_value(frame, mp.where, pos)
                    if w:
                        raise Fallback("a measure expression raises for a measured record")

    def scorecards(self) -> list[Any]:
        plan, scheme, frame = self.plan, self.scheme, self.frame
        assert scheme is not None
        self._check_measure_errors()
        if not frame.height:
            return []
        key_cols: list[pl.Expr] = []
        names: list[str] = []
        if plan.fields:
            for i, f in enumerate(plan.fields):
                kt = _key_text_expr(frame, f, plan.kinds[f], plan.zone)
                key_cols.append(pl.when(kt == "").then(pl.lit("(none)")).otherwise(kt).alias(f"__key{i}"))
                names.append(f)
        else:
            if plan.kinds.get(plan.id_field) == "float" and any(
                    mp.measure.kind == "value" for mp in plan.measures.values()):
                raise Fallback("record-level scheme with a number id")
            id_text = _key_text_expr(frame, plan.id_field, plan.kinds[plan.id_field], plan.zone)
            key_cols.append(id_text.alias("__key0"))
            names.append(plan.id_field)
        if plan.period is not None:
            days = frame.get_column(PDATE).unique().drop_nulls()
            labels = [period_bounds(d, plan.period.every)[0] for d in days.to_list()]
            key_cols.append(lookup(pl.col(PDATE).cast(pl.Int32), days.cast(pl.Int32).to_list(),
                                      pl.Series(labels, dtype=pl.String)).alias("__label"))
        else:
            key_cols.append(pl.lit("").alias("__label"))
        aggs: list[_MeasureAggregation] = []
        indicator_k: dict[str, int] = {}
        for ind in scheme.indicators:
            k = len(aggs)
            indicator_k[ind.id] = k
            aggs.append(self._measure_aggs(k, plan.measures[id(ind.measure)], False))
        veto_k = []
        for veto in scheme.vetoes:
            k = len(aggs)
            veto_k.append(k)
            aggs.append(self._measure_aggs(k, plan.measures[id(veto.when)], True))
        group = [f"__key{i}" for i in range(len(names))] + ["__label"]
        lf = frame.lazy().with_columns(key_cols)
        row_cols = [c for a in aggs for c in a.row_cols]
        lf = lf.with_columns(row_cols)
        agg_exprs = [(pl.col(STATE) == 0).sum().alias("__scored")] + [e for a in aggs for e in a.aggs]
        clock = Clock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = (lf.group_by(group).agg(agg_exprs).filter(pl.col("__scored") > 0)
                     .collect(engine="streaming"))
            # Sums stream in bounded memory; lists of veto evidence do not, so they are gathered
            # from the few rows that are evidence at all.
            evidence = [e for a in aggs for e in a.evidence]
            if evidence:
                marks = [pl.col(f"m{a.index}_evidence") for a in aggs if a.evidence]
                found = lf.filter(pl.any_horizontal(marks)).group_by(group).agg(evidence).collect()
                table = table.join(found, on=group, how="left", nulls_equal=True)
        clock.lap("group_by")
        cards = []
        rows = list(table.iter_rows(named=True))
        rows.sort(key=lambda r: tuple(r[g] for g in group))
        for r in rows:
            keys = {n: r[f"__key{i}"] for i, n in enumerate(names)}
            label = r["__label"] or None
            if plan.fields:
                subject = "/".join([*keys.values(), *([label] if label else [])])
            else:
                subject = keys[plan.id_field]
            measured = {ind.id: self._result(aggs[indicator_k[ind.id]], r) for ind in scheme.indicators}
            vetoes = []
            for veto, k in zip(scheme.vetoes, veto_k):
                res = self._result(aggs[k], r)
                if common.veto_triggered(res.value):
                    vetoes.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason,
                                             self._evidence_ids(aggs[k], r)))
            cards.append(build_scorecard(scheme, subject, keys, label, r["__scored"], measured, vetoes))
        clock.lap("scorecards")
        return cards

    def _evidence_ids(self, a: _MeasureAggregation, r: Mapping[str, Any]) -> tuple[str, ...]:
        p = f"m{a.index}_"
        ids = r[p + "evidence_ids"] or []
        kind = self.plan.kinds.get(self.plan.id_field)
        if kind == "datetime":
            folds = r[p + "evidence_id_folds"] or []
            values = [None if v is None else v.replace(tzinfo=self.zone, fold=int(f)) for v, f in zip(ids, folds)]
        else:
            values = ids
        return tuple(sorted(reference_text(v) for v in values))  # type: ignore[type-var]

    def _result(self, a: _MeasureAggregation, r: Mapping[str, Any]) -> MeasureResult:
        p = f"m{a.index}_"
        m = a.measure_plan.measure
        measured = r[p + "n_measured"]
        if r.get(p + "nans") or r.get(p + "numerator_nans") or r.get(p + "denominator_nans"):
            raise Fallback("NaN among measured values")
        if r.get(p + "negative_zeros"):
            raise Fallback("-0.0 among ordered measured values")
        if m.kind == "ratio":
            used = r[p + "used"]
            num = (r[p + "numerator_sum"] or 0.0) + 0.0
            den = (r[p + "denominator_sum"] or 0.0) + 0.0
            if not (math.isfinite(num) and math.isfinite(den)):
                raise Fallback("a ratio sum overflows")  # common.fsum then sums in the reference's order
            value = num / den if used and den != 0 else None
            return MeasureResult(value, used, measured - used, num, den)
        if m.kind == "count":
            n = r[p + "truthy"]
            return MeasureResult(n, measured, 0, n, measured)
        if m.kind == "share":
            n, known = r[p + "truthy"], r[p + "known"]
            return MeasureResult(n / known if known else None, known, measured - known, n, known)
        if m.kind in ("any", "all"):
            n, known = r[p + "truthy"], r[p + "known"]
            if not known:
                return MeasureResult(None, 0, measured - known)
            value = n > 0 if m.kind == "any" else n == known
            return MeasureResult(value, known, measured - known, n, known)
        known = r[p + "known"]
        skipped = measured - known
        if m.kind == "value":
            v = r[p + "value"]
            if a.measure_plan.expr is not None and a.measure_plan.expr.kind == "datetime" and v is not None:
                v = v.replace(tzinfo=self.zone, fold=int(bool(r[p + "value_fold"])))
            return MeasureResult(v, known, skipped)
        if m.kind == "nps":
            pro, det = r[p + "promoters"], r[p + "detractors"]
            value = 100.0 * (pro - det) / known if known else None
            inputs = {"promoters": pro, "passives": known - pro - det, "detractors": det}
            return MeasureResult(value, known, skipped, pro - det, known, inputs)
        if not known:
            return MeasureResult(None, 0, skipped)
        if m.kind in ("sum", "mean"):
            if r.get(p + "abs_sum") is not None and r[p + "abs_sum"] > EXACT_INT:
                raise Fallback("an integer sum beyond 64 bits")
            total = float(r[p + "sum"]) + 0.0
            if not math.isfinite(total):
                raise Fallback("a sum overflows")  # common.fsum then sums in the reference's order
            if m.kind == "sum":
                return MeasureResult(total, known, skipped, total, None)
            return MeasureResult(total / known, known, skipped, total, known)
        if m.kind in ("min", "max"):
            return MeasureResult(float(r[p + m.kind]), known, skipped)
        pct = 50.0 if m.kind == "median" else float(m.p)  # type: ignore[arg-type]
        value = percentile(r[p + "sorted_values"], pct)
        return MeasureResult(value, known, skipped, inputs={"p": pct})


def _where_value(frame: pl.DataFrame, col: ExpressionColumn, pos: int) -> bool:
    if col.const is not NOT_CONSTANT:
        return col.const is True
    if col.kind != "bool":
        return False
    return frame.get_column(col.name)[pos] is True


def score(plan: CompiledScheme, result: ExecutionResult) -> list[Any]:
    """The scorecards of every subject of one run."""
    return _Scorer(plan, result).scorecards()
