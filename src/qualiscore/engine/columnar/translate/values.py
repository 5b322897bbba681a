"""Kinds and translated values: what every translated node is, and the masks made from it.

A *kind* is the one type a translated value has on every row (the row Evaluator is
dynamically typed; a Polars column is not):

    null (the literal None), bool, int, float, num (int or float: stored as Float64),
    str, date, datetime (the wall-clock time in records.timezone, as naive Datetime["us"]),
    list / map (constants only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...._polars import pl
from ...measures import is_evidence

KINDS = ("null", "bool", "int", "float", "num", "str", "date", "datetime")
DTYPES: dict[str, pl.DataType] = {
    "null": pl.Null(),
    "bool": pl.Boolean(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "num": pl.Float64(),
    "str": pl.String(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}
NUMERIC = frozenset({"bool", "int", "float", "num"})
INTLIKE = frozenset({"bool", "int"})
EXACT_INT = 2**53  # integers beyond this do not survive a trip through Float64
INT64_MIN = -(2**63)

NOT_CONSTANT: Any = object()  # the ``const`` of a value that is not a constant


class Untranslatable(Exception):
    """Not even the kind of the result is known statically."""


class NeedsPython(Exception):
    """The kind is known, but this expression must be evaluated by the row Evaluator."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind
        self.why = why


@dataclass(frozen=True)
class Translated:
    """A translated node: its kind, its Polars expression (or constant) and its fail mask."""

    kind: str
    expr: pl.Expr | None = None
    const: Any = NOT_CONSTANT
    fail: pl.Expr | None = None
    items: tuple[Translated, ...] | None = None  # a list literal with per-row elements (only for `in`)

    @property
    def is_const(self) -> bool:
        return self.const is not NOT_CONSTANT

    @property
    def value(self) -> pl.Expr:
        """The value as a Polars expression (constants become typed literals)."""
        if self.expr is not None:
            return self.expr
        if self.is_const:
            if self.kind not in DTYPES:
                raise NeedsPython(self.kind, f"a {self.kind} constant cannot be a column")
            return pl.lit(self.const, dtype=DTYPES[self.kind])
        raise NeedsPython(self.kind, "a list of per-record values can only be used with `in`")

    def not_null(self) -> pl.Expr:
        if self.is_const:
            return pl.lit(self.const is not None)
        return self.value.is_not_null()


def kind_of_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    return "other"


def mask_or(*masks: pl.Expr | None) -> pl.Expr | None:
    """Rows in any of the masks; None (no row) when there is none."""
    found = [m for m in masks if m is not None]
    if not found:
        return None
    out = found[0]
    for m in found[1:]:
        out = out | m
    return out


def mask_and(cond: pl.Expr | None, mask: pl.Expr | None) -> pl.Expr | None:
    """The rows of ``mask`` where ``cond`` holds (every row of it when ``cond`` is None)."""
    if mask is None:
        return None
    if cond is None:
        return mask
    return cond & mask


def truthy(t: Translated) -> pl.Expr:
    """Python truthiness as a nullable Boolean (null stays null)."""
    if t.is_const:
        v = t.const
        return pl.lit(None, dtype=pl.Boolean) if v is None else pl.lit(bool(v))
    k = t.kind
    e = t.value
    if k == "bool":
        return e
    if k in ("int", "float", "num"):
        return e != 0
    if k == "str":
        return e.str.len_bytes() > 0
    if k in ("date", "datetime"):
        return pl.when(e.is_null()).then(None).otherwise(pl.lit(True))
    if k == "null":
        return pl.lit(None, dtype=pl.Boolean)
    raise NeedsPython("bool", f"truthiness of a {k}")


def falsy(t: Translated) -> pl.Expr:
    """Rows where the value is not null and not truthy (never null)."""
    return (~truthy(t)).fill_null(False)


def is_true(t: Translated) -> pl.Expr:
    """Rows where the value is truthy (never null)."""
    return truthy(t).fill_null(False)


def where_mask(t: Translated) -> pl.Expr:
    """``where(r) is True``: only the boolean True measures a record."""
    if t.is_const:
        return pl.lit(t.const is True)
    if t.kind == "bool":
        return t.value.fill_null(False)
    return pl.lit(False)


def evidence_mask(t: Translated) -> pl.Expr:
    """Rows whose value is evidence for a veto (measures.is_evidence: not null, false or zero)."""
    if t.is_const:
        return pl.lit(is_evidence(t.const))
    k = t.kind
    if k == "bool":
        return t.value.fill_null(False)
    if k in ("int", "float", "num"):
        return (t.value != 0).fill_null(False)
    if k == "null":
        return pl.lit(False)
    return t.value.is_not_null()


def as_float(t: Translated) -> pl.Expr:
    return t.value.cast(pl.Float64)


def as_int(t: Translated) -> pl.Expr:
    return t.value.cast(pl.Int64)


def nan_mask(t: Translated) -> pl.Expr | None:
    if t.kind in ("float", "num") and not t.is_const:
        return t.value.is_nan().fill_null(False)
    if t.is_const and isinstance(t.const, float) and math.isnan(t.const):
        return pl.lit(True)
    return None


def big_mask(t: Translated, limit: int = EXACT_INT) -> pl.Expr | None:
    """Rows where an integer (or an int-or-float) is too large for exact Float64 arithmetic."""
    if t.is_const:
        v = t.const
        return pl.lit(True) if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) > limit else None
    if t.kind in ("int", "num"):
        return (t.value.cast(pl.Float64).abs() > limit).fill_null(False)
    return None
