"""A scheme version compiled for the columnar engine: its derived values and measure expressions.

Each becomes a column of the narrow frame, translated to Polars (:mod:`.translate`) or, where
there is no vectorised form, evaluated row by row by the Evaluator.
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from ...errors import ExpressionError
from ...expressions import Evaluator, Expression
from ...model import Measure, RecordContract, Scheme
from ...records.engine_api import Typer
from ..subjects import Grouping
from .fallback import Fallback
from .fields import FIELD_KINDS
from .frames import DFAIL, PDATE, RAGGED, ROW, SRC, SUS, WEIRD, fold_column
from .translate import (
    DTYPES,
    EXACT_INT,
    NOT_CONSTANT,
    NUMERIC,
    NeedsPython,
    Translated,
    Translator,
    Untranslatable,
)

log = logging.getLogger(__name__)

NUMERIC_MEASURES = frozenset({"sum", "mean", "median", "percentile", "min", "max", "nps"})


def _expr_key(expr: Expression) -> str:
    return ast.dump(expr.tree.body)


def _to_python(value: Any, kind: str, zone: ZoneInfo) -> Any:
    """A column value as the Evaluator sees it."""
    if kind == "datetime" and value is not None:
        return value.replace(tzinfo=zone)
    return value


def from_python(value: Any, kind: str) -> Any:
    """A value from the Evaluator as the column of ``kind`` stores it; raises Fallback on a surprise."""
    if value is None:
        return None
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise Fallback("an integer beyond 64 bits")
        return value
    if kind in ("float", "num") and isinstance(value, (int, float)) and not isinstance(value, bool):
        if kind == "num" and isinstance(value, int) and abs(value) > EXACT_INT:
            raise Fallback("an int-or-float value beyond 2**53")
        return float(value) if kind == "num" or isinstance(value, float) else _raise(value, kind)
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return _raise(value, kind)


def _physical(kind: str) -> pl.DataType:
    """The column type of a kind; an always-null value is stored as Float64 (Polars has few kernels for Null)."""
    return pl.Float64() if kind == "null" else DTYPES[kind]


def _raise(value: Any, kind: str) -> Any:
    raise Fallback(f"the Evaluator returned {type(value).__name__} {value!r} where the engine expected {kind}")


@dataclass
class ExpressionColumn:
    """A derived value or a measure expression as a column of the narrow frame."""

    name: str
    expr: Expression
    kind: str
    value: pl.Expr | None = None  # None when constant
    const: Any = NOT_CONSTANT
    fail: pl.Expr | None = None
    python: bool = False

    @property
    def translated(self) -> Translated:
        """The column as a translated value (a constant, or the column itself)."""
        if self.const is not NOT_CONSTANT:
            return Translated(self.kind, const=self.const)
        return Translated(self.kind, expr=pl.col(self.name))


@dataclass
class MeasurePlan:
    """A measure, with its expressions as columns of the narrow frame."""

    measure: Measure
    where: ExpressionColumn | None
    expr: ExpressionColumn | None
    numerator: ExpressionColumn | None = None
    denominator: ExpressionColumn | None = None


class CompiledScheme:
    """What the columnar engine computes for one contract: only typing (read mode) or a scheme version."""

    def __init__(self, contract: RecordContract, scheme: Scheme | None = None, by: Sequence[str] | None = None) -> None:
        self.scheme = scheme
        self.contract = contract
        self.read_mode = scheme is None
        self.grouping = Grouping.of(scheme, by) if scheme is not None else None
        self.fields = self.grouping.fields if self.grouping is not None else ()
        self.id_field = contract.id
        self.period = scheme.subject.period if scheme is not None else None
        Typer(contract)  # an unknown time zone is refused here, as records.read_records refuses it
        self.zone = ZoneInfo(contract.timezone)
        self.kinds = {f.name: FIELD_KINDS[f.type] for f in contract.fields}
        self.derived: list[ExpressionColumn] = []
        self.columns: dict[str, ExpressionColumn] = {}
        self.measures: dict[int, MeasurePlan] = {}
        if scheme is None:
            return
        self.translator = Translator(scheme.constants, scheme.calendar, self.kinds)
        for name, expr in scheme.derive:
            col = self._column(name, expr)
            self.derived.append(col)
            if col.const is not NOT_CONSTANT:
                self.translator.with_constant(name, col.const)
            else:
                self.translator.with_column(name, col.kind)
                self.kinds[name] = col.kind
        owners = [i.measure for i in scheme.indicators] + [v.when for v in scheme.vetoes if v.when is not None]
        for m in owners:
            self.measures[id(m)] = self._measure(m)

    # -- compiling
    def _column(self, name: str, expr: Expression) -> ExpressionColumn:
        try:
            t = self.translator.translate(expr)
        except NeedsPython as why:
            if why.kind not in DTYPES:
                raise Fallback(f"{expr.source!r}: {why.why}") from None
            log.debug("columnar: %s = %r is evaluated row by row in Python: %s", name, expr.source, why.why)
            return ExpressionColumn(name, expr, why.kind, python=True)
        except Untranslatable as why:
            raise Fallback(f"{expr.source!r}: {why}") from None
        if t.is_const:
            if t.fail is not None:
                return ExpressionColumn(name, expr, "null", value=pl.lit(None), fail=t.fail)
            return ExpressionColumn(name, expr, t.kind, const=t.const)
        if t.kind not in DTYPES:
            raise Fallback(f"{expr.source!r} has no single type")
        return ExpressionColumn(name, expr, t.kind, value=t.value, fail=t.fail)

    def _measure(self, m: Measure) -> MeasurePlan:
        def col(expr: Expression | None) -> ExpressionColumn | None:
            if expr is None:
                return None
            key = _expr_key(expr)
            got = self.columns.get(key)
            if got is None:
                got = self._column(f"__m{len(self.columns)}", expr)
                self.columns[key] = got
            return got

        plan = MeasurePlan(m, col(m.where), col(m.expr), col(m.numerator), col(m.denominator))
        numeric = [plan.expr] if m.kind in NUMERIC_MEASURES else [plan.numerator, plan.denominator] \
            if m.kind == "ratio" else []
        for c in numeric:
            if c is not None and c.kind not in NUMERIC and c.kind != "null":
                raise Fallback(f"a {m.kind} measure over {c.kind} values ({c.expr.source!r})")
        if m.kind == "value" and plan.expr is not None:
            c = plan.expr
            if c.kind == "num" or c.kind not in DTYPES or (
                    c.kind == "datetime" and c.expr.tree.body.__class__ is not ast.Name):
                raise Fallback(f"a value measure of {c.kind} values ({c.expr.source!r})")
        return plan

    # -- the Polars side
    def _python_value(self, col: ExpressionColumn) -> pl.Expr:
        """struct(v: value, e: error) of an expression evaluated by the row Evaluator."""
        assert self.scheme is not None
        refs = sorted(n for n in col.expr.names if n in self.kinds)
        kinds = {n: self.kinds[n] for n in refs}
        folded = dict(self.translator.folded)
        constants, calendar = self.scheme.constants, self.scheme.calendar
        local = threading.local()  # an Evaluator is not thread-safe, and Polars calls from several threads
        zone, kind, expr = self.zone, col.kind, col.expr
        dtype = _physical(kind)

        def run(s: pl.Series) -> pl.Series:
            evaluator = getattr(local, "evaluator", None)
            if evaluator is None:
                evaluator = local.evaluator = Evaluator(constants, calendar)
            values, errors = [], []
            for row in s.to_list():
                env = dict(folded)
                for n in refs:
                    env[n] = _to_python(row[n] if row else None, kinds[n], zone)
                try:
                    v = from_python(evaluator.evaluate(expr, env), kind)
                    err = False
                except ExpressionError:
                    v, err = None, True
                values.append(v)
                errors.append(err)
            return pl.struct([pl.Series("v", values, dtype=dtype), pl.Series("e", errors, dtype=pl.Boolean)],
                             eager=True)

        arg = pl.struct([pl.col(n) for n in refs]) if refs else pl.struct(pl.lit(0).alias("_"))
        return arg.map_batches(run, return_dtype=pl.Struct({"v": dtype, "e": pl.Boolean}))

    def add_columns(self, lf: pl.LazyFrame, cols: Sequence[ExpressionColumn], fails: list[pl.Expr]
                    ) -> pl.LazyFrame:
        for col in cols:
            if col.const is not NOT_CONSTANT:
                continue
            if col.python:
                lf = lf.with_columns(self._python_value(col).alias("__tmp"))
                lf = lf.with_columns(pl.col("__tmp").struct.field("v").alias(col.name),
                                     pl.col("__tmp").struct.field("e").alias(f"__e_{col.name}")).drop("__tmp")
                fails.append(pl.col(f"__e_{col.name}"))
                continue
            assert col.value is not None
            if col.fail is not None:
                lf = lf.with_columns(col.value.cast(_physical(col.kind)).alias(col.name),
                                     col.fail.fill_null(False).alias(f"__e_{col.name}"))
                fails.append(pl.col(f"__e_{col.name}"))
            else:
                lf = lf.with_columns(col.value.cast(_physical(col.kind)).alias(col.name))
        return lf

    def narrow(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Derive, compute the measure expressions, and keep only what the group_by needs."""
        if self.read_mode:
            return lf.with_columns(pl.lit(False).alias(DFAIL))
        fails: list[pl.Expr] = []
        lf = self.add_columns(lf, self.derived, fails)
        lf = self.add_columns(lf, list(self.columns.values()), fails)
        keep = [pl.col(SRC), pl.col(ROW), pl.col(SUS), pl.col(RAGGED), pl.col(WEIRD)]
        keep.append(pl.any_horizontal(fails).alias(DFAIL) if fails else pl.lit(False).alias(DFAIL))
        for name in self.kept_fields():
            keep.append(pl.col(name))
            if self.contract.field(name).type == "datetime":
                keep.append(pl.col(fold_column(name)))
        if self.period is not None:
            k = self.kinds[self.period.field]
            p = pl.col(self.period.field)
            keep.append((p.dt.date() if k == "datetime" else p).alias(PDATE))
        for col in self.columns.values():
            if col.const is NOT_CONSTANT:
                keep.append(pl.col(col.name))
        return lf.select(keep)

    def kept_fields(self) -> list[str]:
        """Fields the narrow frame keeps: the id, the grouping fields, and datetime fields a `value`
        measure reports (their fold is needed to print them)."""
        if self.read_mode:
            return [f.name for f in self.contract.fields]
        fields = {f.name for f in self.contract.fields}
        shown = []
        for mp in self.measures.values():
            body = mp.expr.expr.tree.body if mp.expr is not None and mp.expr.kind == "datetime" else None
            if mp.measure.kind == "value" and isinstance(body, ast.Name) and body.id in fields:
                shown.append(body.id)
        return list(dict.fromkeys([self.id_field, *self.fields, *shown]))
