"""Measure statistics gathered by Polars: per-subject aggregations read back as measures.Statistics.

Only gathering is written here; what the statistics mean is
:func:`qualiscore.engine.measures.finish`. Each measure adds row-level columns and
aggregations named ``m{index}_...`` to the one group_by of :mod:`.aggregate`, chosen by
the statistics its kind needs (:data:`~qualiscore.engine.measures.STATISTICS`);
:meth:`MeasureColumns.statistics` reads the aggregated table back as those statistics,
one per subject. What the vectorised sums cannot vouch for makes the run fall back to the
reference code: NaN, -0.0 where order matters, an integer sum beyond 2**53, a sum that
overflows (the reference then sums with math.fsum in its own order).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from ..._polars import pl
from .. import measures
from ..measures import Statistics
from ..subjects import id_text
from .fallback import Fallback
from .frames import STATE, fold_column
from .plan import MeasurePlan
from .translate import EXACT_INT, INTLIKE, Translated, evidence_mask, is_true, where_mask


class MeasureColumns:
    """The row-level columns and per-subject aggregations of one measure, and its statistics from them.

    Only scored rows (STATE 0) count: the group_by reads the frame as it is, with no
    filtered copy. A veto's measure also gathers its evidence: the ids of its evidence
    rows, aggregated apart (``evidence``) because lists do not stream.
    """

    def __init__(self, index: int, plan: MeasurePlan, *, veto: bool, id_field: str, id_kind: str | None,
                 zone: ZoneInfo, columns: Collection[str], level: float) -> None:
        self.plan = plan
        self.level = level
        self.measure = plan.measure
        self.family = measures.STATISTICS[plan.measure.kind]
        self.prefix = f"m{index}_"
        self.veto = veto
        self.id_field, self.id_kind, self.zone = id_field, id_kind, zone
        self.row_cols: list[pl.Expr] = []
        self.aggs: list[pl.Expr] = []
        self.evidence: list[pl.Expr] = []
        self.measured = (pl.col(STATE) == 0) & (
            where_mask(plan.where.translated) if plan.where is not None else pl.lit(True))
        self._count("measured", pl.lit(True))
        if self.family is measures.RatioSums:
            self._gather_ratio()
            return
        assert plan.expr is not None
        x = plan.expr.translated
        if self.family is measures.First:
            self._gather_first(x, columns)
        else:
            self._GATHER[self.family](self, x)
        if veto:
            self._gather_evidence(evidence_mask(x))

    # -- gathering
    def _name(self, what: str) -> str:
        return self.prefix + what

    def _count(self, what: str, expr: pl.Expr) -> pl.Expr:
        """How many measured rows ``expr`` holds for (a null counts as False)."""
        mask = self.measured & expr.fill_null(False)
        self.row_cols.append(mask.alias(self._name(what)))
        self.aggs.append(pl.col(self._name(what)).sum())
        return mask

    def _column(self, what: str, expr: pl.Expr) -> pl.Expr:
        self.row_cols.append(expr.alias(self._name(what)))
        return pl.col(self._name(what))

    def _gather_evidence(self, mask: pl.Expr) -> None:
        marked = self._column("evidence", self.measured & mask.fill_null(False))
        self.evidence.append(pl.col(self.id_field).filter(marked).alias(self._name("evidence_ids")))
        if self.id_kind == "datetime":
            self.evidence.append(pl.col(fold_column(self.id_field)).filter(marked).alias(self._name("evidence_folds")))

    def _gather_ratio(self) -> None:
        assert self.plan.numerator is not None and self.plan.denominator is not None
        n, d = self.plan.numerator.translated, self.plan.denominator.translated
        used = self._count("used", n.not_null() & d.not_null())
        columns = []
        for what, t in (("numerator", n), ("denominator", d)):
            column = self._column(what, pl.when(used).then(t.value.cast(pl.Float64)))
            self.aggs += [column.sum(), column.is_nan().sum().alias(self._name(what + "_nans"))]
            columns.append(column)
        num, den = columns
        self.aggs += [(num * num).sum().alias(self._name("nn")), (den * den).sum().alias(self._name("dd")),
                      (num * den).sum().alias(self._name("nd"))]
        if self.veto:
            self._gather_evidence(is_true(n))

    def _gather_truths(self, x: Translated) -> None:
        self._count("true", is_true(x))
        self._count("known", x.not_null())

    def _gather_first(self, x: Translated, columns: Collection[str]) -> None:
        self._count("known", x.not_null())
        measured = pl.col(self._name("measured"))
        self.aggs.append(self._column("value", x.value).filter(measured).first())
        if x.kind == "datetime":
            assert self.plan.expr is not None
            body = self.plan.expr.expr.tree.body
            assert isinstance(body, ast.Name)  # the plan refuses a value measure of any other datetime
            name = body.id
            if name not in columns:
                raise Fallback("a value measure of a derived datetime")
            self.aggs.append(self._column("value_fold", pl.col(fold_column(name))).filter(measured).first())

    def _gather_promoters(self, x: Translated) -> None:
        self._count("known", x.not_null())
        value = x.value.cast(pl.Float64)
        self._count("promoters", value >= measures.PROMOTER_MIN)
        self._count("detractors", value <= measures.DETRACTOR_MAX)

    def _known_values(self, x: Translated) -> pl.Expr:
        """The known values as floats (a Total of integers: as 64-bit integers, summed exactly)."""
        known = self._count("known", x.not_null())
        exact = self.family is measures.Total and x.kind in INTLIKE
        values = self._column("value", pl.when(known).then(x.value.cast(pl.Int64 if exact else pl.Float64)))
        if exact:
            self.aggs.append(values.cast(pl.Float64).abs().sum().alias(self._name("abs_sum")))
        if x.kind in ("float", "num"):
            self.aggs.append(values.is_nan().sum().alias(self._name("nans")))
            if self.family is not measures.Total:  # min, max and ranks depend on the order of -0.0 and 0.0
                self.aggs.append(((values == 0) & ((1.0 / values) < 0)).sum().alias(self._name("negative_zeros")))
        return values

    def _gather_total(self, x: Translated) -> None:
        values = self._known_values(x)
        self.aggs += [values.sum().alias(self._name("total")), (values * values).sum().alias(self._name("squares"))]
        if x.kind in INTLIKE:  # squares summed as 64-bit integers: exact while they stay below 2**53
            self.aggs.append(values.cast(pl.Float64).pow(2).sum().alias(self._name("abs_squares")))

    def _gather_extreme(self, x: Translated) -> None:
        values = self._known_values(x)
        self.aggs.append((values.min() if self.measure.kind == "min" else values.max()).alias(self._name("extreme")))

    def _gather_ranked(self, x: Translated) -> None:
        # Each subject's known values in order; statistics() keeps the few that measures.ranks names.
        self.aggs.append(self._known_values(x).drop_nulls().sort().alias(self._name("sorted")))

    _GATHER: ClassVar[Mapping[type[Statistics], Callable[[MeasureColumns, Translated], None]]] = {
        measures.Truths: _gather_truths,
        measures.Promoters: _gather_promoters,
        measures.Total: _gather_total,
        measures.Extreme: _gather_extreme,
        measures.Ranked: _gather_ranked,
    }

    # -- reading the statistics back, one list per column over the subjects
    def statistics(self, table: pl.DataFrame) -> list[Statistics]:
        """The measure's statistics over each subject's records, one per row of ``table`` (see measures.STATISTICS)."""
        if any(self._sum(table, n) for n in ("nans", "numerator_nans", "denominator_nans")):
            raise Fallback("NaN among measured values")
        if self._sum(table, "negative_zeros"):
            raise Fallback("-0.0 among ordered measured values")
        return self._READ[self.family](self, table, self._evidence(table))

    def _sum(self, table: pl.DataFrame, what: str) -> int:
        name = self._name(what)
        return int(table.get_column(name).sum()) if name in table.columns else 0

    def _list(self, table: pl.DataFrame, what: str) -> list[Any]:
        return table.get_column(self._name(what)).to_list()

    def _evidence(self, table: pl.DataFrame) -> list[tuple[Any, ...]]:
        """Per subject, the id texts of its evidence rows (None for a null id, as the reference engine gives it)."""
        if not self.veto:
            return [()] * table.height
        per_subject = [ids or [] for ids in self._list(table, "evidence_ids")]
        if self.id_kind == "datetime":
            folds = [f or [] for f in self._list(table, "evidence_folds")]
            per_subject = [[None if v is None else v.replace(tzinfo=self.zone, fold=int(f)) for v, f in zip(ids, fs)]
                           for ids, fs in zip(per_subject, folds)]
        return [tuple(id_text(v) for v in ids) for ids in per_subject]

    def _read_ratio(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        out: list[Statistics] = []
        for measured, used, numerator, denominator, nn, dd, nd, ev in zip(
                self._list(table, "measured"), self._list(table, "used"), self._list(table, "numerator"),
                self._list(table, "denominator"), self._list(table, "nn"), self._list(table, "dd"),
                self._list(table, "nd"), evidence):
            sums = tuple((x or 0.0) + 0.0 for x in (numerator, denominator, nn, dd, nd))  # -0.0 is 0.0, as in fsum
            if not all(math.isfinite(x) for x in sums):
                raise Fallback("a ratio sum overflows")
            out.append(measures.RatioSums(measured, used, sums[0], sums[1], ev, (sums[2], sums[3], sums[4])))
        return out

    def _read_truths(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        return [measures.Truths(*row) for row in zip(
            self._list(table, "measured"), self._list(table, "known"), self._list(table, "true"), evidence)]

    def _read_first(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        values = self._list(table, "value")
        expr = self.plan.expr
        if expr is not None and expr.kind == "datetime":
            folds = self._list(table, "value_fold")
            values = [v if v is None else v.replace(tzinfo=self.zone, fold=int(bool(f))) for v, f in zip(values, folds)]
        return [measures.First(*row) for row in zip(
            self._list(table, "measured"), self._list(table, "known"), values, evidence)]

    def _read_promoters(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        return [measures.Promoters(*row) for row in zip(
            self._list(table, "measured"), self._list(table, "known"), self._list(table, "promoters"),
            self._list(table, "detractors"), evidence)]

    def _read_total(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        for what in ("abs_sum", "abs_squares"):
            if self._name(what) in table.columns and (table.get_column(self._name(what)) > EXACT_INT).any():
                raise Fallback("an integer sum beyond 64 bits")
        out: list[Statistics] = []
        for measured, known, total, squares, ev in zip(
                self._list(table, "measured"), self._list(table, "known"), self._list(table, "total"),
                self._list(table, "squares"), evidence):
            if not known:
                out.append(measures.Total(measured, 0, 0.0, ev))
                continue
            total, squares = float(total) + 0.0, float(squares) + 0.0
            if not (math.isfinite(total) and math.isfinite(squares)):
                raise Fallback("a sum overflows")
            out.append(measures.Total(measured, known, total, ev, squares))
        return out

    def _read_extreme(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        return [measures.Extreme(measured, known, float(value) if known else None, ev) for measured, known, value, ev
                in zip(self._list(table, "measured"), self._list(table, "known"), self._list(table, "extreme"),
                       evidence)]

    def _read_ranked(self, table: pl.DataFrame, evidence: list[tuple[Any, ...]]) -> list[Statistics]:
        p = measures.percentile_p(self.measure)
        out: list[Statistics] = []
        for measured, known, ordered, ev in zip(
                self._list(table, "measured"), self._list(table, "known"), self._list(table, "sorted"), evidence):
            ranks = measures.ranks(known, p, self.level)
            out.append(measures.Ranked(measured, known, tuple(float(ordered[r]) for r in ranks), ev))
        return out

    _READ: ClassVar[Mapping[type[Statistics], Callable[[MeasureColumns, pl.DataFrame, list[tuple[Any, ...]]],
                                                       list[Statistics]]]] = {
        measures.RatioSums: _read_ratio,
        measures.Truths: _read_truths,
        measures.First: _read_first,
        measures.Promoters: _read_promoters,
        measures.Total: _read_total,
        measures.Extreme: _read_extreme,
        measures.Ranked: _read_ranked,
    }
