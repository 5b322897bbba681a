"""Comparisons, chained or not, and membership: Python's ``==``, ``<`` and ``in`` between kinds."""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Mapping
from typing import Any

from ...._polars import pl
from .values import (
    EXACT_INT,
    INT64_MIN,
    INTLIKE,
    NUMERIC,
    NeedsPython,
    Translated,
    Untranslatable,
    as_float,
    as_int,
    big_mask,
    mask_or,
    nan_mask,
)


def compare(a: Translated, op: type, b: Translated) -> tuple[pl.Expr, pl.Expr | None]:
    """(outcome, error rows) of one comparison; outcome is a nullable Boolean."""
    null_bool = pl.lit(None, dtype=pl.Boolean)
    if op in (ast.Is, ast.IsNot):
        if a.kind == "dynlist":
            return pl.lit(op is ast.IsNot), None
        isnull = a.value.is_null() if not a.is_const else pl.lit(a.const is None)
        return (isnull if op is ast.Is else ~isnull), None
    if op in (ast.In, ast.NotIn):
        outcome, err = _membership(a, b)
        return (outcome if op is ast.In else ~outcome), err
    if a.kind == "dynlist" or b.kind == "dynlist" or a.kind in ("list", "map") or b.kind in ("list", "map"):
        raise NeedsPython("bool", "comparing lists")
    if a.kind == "null" or b.kind == "null":
        return null_bool, None
    both = a.not_null() & b.not_null()
    ka, kb = a.kind, b.kind
    na, nb = ka in NUMERIC, kb in NUMERIC
    if na and nb:
        if ka in INTLIKE and kb in INTLIKE:
            x, y = as_int(a), as_int(b)
            err = None
        else:
            x, y = as_float(a), as_float(b)
            err = mask_or(nan_mask(a), nan_mask(b), big_mask(a), big_mask(b))
        return _cmp(op, x, y), err
    if ka == kb and ka in ("str", "date", "datetime"):
        return _cmp(op, a.value, b.value), None
    # Different kinds: == is False, != is True, ordering raises.
    if op is ast.Eq:
        return pl.when(both).then(pl.lit(False)).otherwise(None), None
    if op is ast.NotEq:
        return pl.when(both).then(pl.lit(True)).otherwise(None), None
    return null_bool, both


def _membership(a: Translated, b: Translated) -> tuple[pl.Expr, pl.Expr | None]:
    null_bool = pl.lit(None, dtype=pl.Boolean)
    if b.kind == "dynlist":
        if a.kind == "null":
            return null_bool, None
        assert b.items is not None
        any_match: pl.Expr = pl.lit(False)
        err = None
        for item in b.items:
            if item.kind == "null":
                continue
            eq, e = compare(a, ast.Eq, item)
            any_match = any_match | eq.fill_null(False)
            err = mask_or(err, e)
        return pl.when(a.not_null()).then(any_match).otherwise(None), err
    if a.kind == "null" or b.kind == "null":
        return null_bool, None
    if b.is_const:
        container = b.const
        if isinstance(container, str):
            if a.kind == "str":
                return pl.lit(container).str.contains(a.value, literal=True), None
            return null_bool, a.not_null()
        if isinstance(container, Mapping):
            container = list(container.keys())
        if isinstance(container, (list, tuple)):
            return _in_values(a, list(container))
        # `x in 5`: raises
        return null_bool, a.not_null()
    if b.kind == "str":
        if a.kind == "str":
            return b.value.str.contains(a.value, literal=True), None
        return null_bool, a.not_null() & b.not_null()
    return null_bool, a.not_null() & b.not_null()


def _in_values(a: Translated, values: list[Any]) -> tuple[pl.Expr, pl.Expr | None]:
    """``a in [constants]`` with Python's == between kinds."""
    if a.kind in ("list", "map", "dynlist"):
        raise NeedsPython("bool", "membership of a list")
    nums = [v for v in values if isinstance(v, (int, float))]
    if a.kind in NUMERIC:
        if a.kind in INTLIKE:
            ints = sorted({int(v) for v in nums if _integral(v)})
            x = as_int(a)
            return pl.when(x.is_null()).then(None).otherwise(x.is_in(_values(ints, pl.Int64))), None
        # An integer beyond the largest float equals no float (and `big` sends every row to Python).
        floats = [float(v) for v in nums if not (isinstance(v, float) and math.isnan(v)) and _is_float(v)]
        big = any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > EXACT_INT for v in nums)
        x = as_float(a)
        err = mask_or(nan_mask(a), big_mask(a), pl.lit(True) if big else None)
        return pl.when(x.is_null()).then(None).otherwise(x.is_in(_values(floats, pl.Float64))), err
    if a.kind == "str":
        strs = [v for v in values if isinstance(v, str)]
        return pl.when(a.value.is_null()).then(None).otherwise(a.value.is_in(_values(strs, pl.String))), None
    if a.kind in ("date", "datetime"):
        return pl.when(a.value.is_null()).then(None).otherwise(pl.lit(False)), None
    raise Untranslatable(f"membership of a {a.kind}")


def _values(values: list[Any], dtype: Any) -> pl.Expr:
    """A constant list for is_in."""
    return pl.lit(pl.Series(values, dtype=dtype)).implode()


_FLOAT_MAX = int(sys.float_info.max)


def _is_float(v: Any) -> bool:
    """Whether a constant number converts to a float (an integer may be too large)."""
    return not isinstance(v, int) or abs(v) <= _FLOAT_MAX


def _integral(v: Any) -> bool:
    """Whether a constant number equals some Int64 value."""
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        return False
    return INT64_MIN <= int(v) < 2**63


def _cmp(op: type, x: pl.Expr, y: pl.Expr) -> pl.Expr:
    if op is ast.Eq:
        return x == y
    if op is ast.NotEq:
        return x != y
    if op is ast.Lt:
        return x < y
    if op is ast.LtE:
        return x <= y
    if op is ast.Gt:
        return x > y
    if op is ast.GtE:
        return x >= y
    raise Untranslatable(f"comparison {op.__name__}")
