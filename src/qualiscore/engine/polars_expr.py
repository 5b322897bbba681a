"""Expressions of the scheme language as Polars expressions, with the Evaluator's exact semantics.

Part of the columnar engine (``qualiscore[fast]``); this module imports polars and is
only ever imported by :mod:`qualiscore.engine.columnar`.

The row Evaluator is dynamically typed; Polars columns have one type each. The
translator therefore infers a *kind* for every node from the kinds of the fields,
derived values and constants it uses:

    null (the literal None), bool, int, float, num (int or float: stored as Float64),
    str, date, datetime (the wall-clock time in records.timezone, as naive Datetime["us"]),
    list / map (constants only).

Datetimes are wall-clock times because every datetime of a record carries the same
ZoneInfo: Python then compares and subtracts them without their offsets.

Every translated node returns its value *and* a ``fail`` mask: the rows where the
Evaluator would raise an error, or where the vectorised value is not guaranteed to be
the Evaluator's (integer overflow, NaN comparisons, a rounding tie, …). The caller
evaluates exactly those rows with the row Evaluator, so an answer never differs. A
node that has no vectorised form (float ``//`` and ``%``, text repetition, …) raises
:class:`NeedsPython`; the caller then evaluates that whole expression with the row
Evaluator (``map_batches``), which is correct but slower. :class:`Untranslatable` means
not even the kind of the result is known; the caller falls back further.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._polars import pl
from ..calendar import Calendar
from ..expressions import FUNCTIONS, Evaluator, Expression

__all__ = [
    "DTYPES",
    "KINDS",
    "NeedsPython",
    "T",
    "Translator",
    "Untranslatable",
    "business_days_expr",
    "evidence_mask",
    "kind_of_value",
    "lookup",
    "truthy",
    "where_mask",
]

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
SAFE_INT = 2**62  # integer results beyond this may overflow Int64
INT64_MIN = -(2**63)
MAX_STRING_LENGTH = 100000  # simpleeval.MAX_STRING_LENGTH
MAX_POWER = 4000000  # simpleeval.MAX_POWER
UNIX_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()

_NC: Any = object()  # "not a constant"


class Untranslatable(Exception):
    """Not even the kind of the result is known statically."""


class NeedsPython(Exception):
    """The kind is known, but this expression must be evaluated by the row Evaluator."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind
        self.why = why


@dataclass(frozen=True)
class T:
    """A translated node: its kind, its Polars expression (or constant) and its fail mask."""

    kind: str
    expr: pl.Expr | None = None
    const: Any = _NC
    fail: pl.Expr | None = None
    items: tuple[T, ...] | None = None  # a list literal with per-row elements (only for `in`)

    @property
    def is_const(self) -> bool:
        return self.const is not _NC

    @property
    def e(self) -> pl.Expr:
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
        return self.e.is_not_null()


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


def const(value: Any) -> T:
    return T(kind_of_value(value), const=value)


def _or(*masks: pl.Expr | None) -> pl.Expr | None:
    found = [m for m in masks if m is not None]
    if not found:
        return None
    out = found[0]
    for m in found[1:]:
        out = out | m
    return out


def _and(cond: pl.Expr | None, mask: pl.Expr | None) -> pl.Expr | None:
    if mask is None:
        return None
    if cond is None:
        return mask
    return cond & mask


def _error(*operands: T, extra: pl.Expr | None = None) -> pl.Expr:
    """Rows where the operation runs (every operand not null) and raises."""
    conds = [t.not_null() for t in operands]
    if extra is not None:
        conds.append(extra)
    out = conds[0] if conds else pl.lit(True)
    for c in conds[1:]:
        out = out & c
    return out


def _null_result(kind: str, *operands: T, fail: pl.Expr | None = None) -> T:
    """A result that is null on every row (its value is decided by the null check)."""
    return T(kind, expr=pl.lit(None, dtype=DTYPES.get(kind, pl.Null())), fail=_or(*(o.fail for o in operands), fail))


def truthy(t: T) -> pl.Expr:
    """Python truthiness as a nullable Boolean (null stays null)."""
    if t.is_const:
        v = t.const
        return pl.lit(None, dtype=pl.Boolean) if v is None else pl.lit(bool(v))
    k = t.kind
    e = t.e
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


def falsy(t: T) -> pl.Expr:
    """Rows where the value is not null and not truthy (never null)."""
    return (~truthy(t)).fill_null(False)


def is_true(t: T) -> pl.Expr:
    """Rows where the value is truthy (never null)."""
    return truthy(t).fill_null(False)


def where_mask(t: T) -> pl.Expr:
    """``where(r) is True``: only the boolean True measures a record."""
    if t.is_const:
        return pl.lit(t.const is True)
    if t.kind == "bool":
        return t.e.fill_null(False)
    return pl.lit(False)


def evidence_mask(t: T) -> pl.Expr:
    """``v is not None and v is not False and v != 0``."""
    if t.is_const:
        v = t.const
        return pl.lit(v is not None and v is not False and not (isinstance(v, (int, float)) and v == 0))
    k = t.kind
    if k == "bool":
        return t.e.fill_null(False)
    if k in ("int", "float", "num"):
        return (t.e != 0).fill_null(False)
    if k == "null":
        return pl.lit(False)
    return t.e.is_not_null()


def _unify(kinds: Iterable[str]) -> str:
    ks = {k for k in kinds if k != "null"}
    if not ks:
        return "null"
    if len(ks) == 1:
        return ks.pop()
    if ks <= {"int", "float", "num"}:
        return "num"
    raise Untranslatable(f"values of different kinds ({', '.join(sorted(ks))})")


def _cast(t: T, kind: str) -> pl.Expr:
    if t.is_const and t.const is None:
        return pl.lit(None, dtype=DTYPES[kind])
    if t.kind == kind:
        return t.e
    if kind in ("float", "num"):
        return t.e.cast(pl.Float64)
    if kind == "int":
        return t.e.cast(pl.Int64)
    return t.e.cast(DTYPES[kind])


def _as_float(t: T) -> pl.Expr:
    return t.e.cast(pl.Float64)


def _as_int(t: T) -> pl.Expr:
    return t.e.cast(pl.Int64)


def _nan(t: T) -> pl.Expr | None:
    if t.kind in ("float", "num") and not t.is_const:
        return t.e.is_nan().fill_null(False)
    if t.is_const and isinstance(t.const, float) and math.isnan(t.const):
        return pl.lit(True)
    return None


def _big(t: T, limit: int = EXACT_INT) -> pl.Expr | None:
    """Rows where an integer (or an int-or-float) is too large for exact Float64 arithmetic."""
    if t.is_const:
        v = t.const
        return pl.lit(True) if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) > limit else None
    if t.kind in ("int", "num"):
        return (t.e.cast(pl.Float64).abs() > limit).fill_null(False)
    return None


# --------------------------------------------------------------------------- lookups

DENSE_LOOKUP = 1 << 20  # integer keys spanning at most this many values are looked up by position


def lookup(key: pl.Expr, keys: Sequence[Any], values: pl.Series) -> pl.Expr:
    """The value of ``values`` at the position of ``key`` in ``keys`` (unique); null if absent.

    What ``key.replace_strict(keys, values, default=None)`` gives, in a form Polars' streaming
    engine runs in bounded memory: replace_strict makes it read the whole input first. Keys
    compare as Python's ``==`` does (1 == 1.0, 0.0 == -0.0).
    """
    n = len(keys)
    if not n:
        return pl.lit(None, dtype=values.dtype)
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
        lo, hi = min(keys), max(keys)
        if hi - lo < DENSE_LOOKUP:
            dense: list[Any] = [None] * (hi - lo + 2)  # the last slot: absent
            for k, v in zip(keys, values.to_list()):
                dense[k - lo] = v
            position = pl.when(key.is_between(lo, hi)).then(key - lo).otherwise(hi - lo + 1)
            return pl.lit(pl.Series(dense, dtype=values.dtype)).gather(position)
    if all(isinstance(k, str) for k in keys):
        position = key.cast(pl.Enum(list(keys)), strict=False).to_physical().cast(pl.Int64).fill_null(n)
    else:
        position = pl.lit(n, dtype=pl.Int64)
        for i, k in reversed(list(enumerate(keys))):
            position = pl.when(key == k).then(i).otherwise(position)
    return pl.lit(values.append(pl.Series([None], dtype=values.dtype))).gather(position)


# --------------------------------------------------------------------------- business days


def _ordinal(date_expr: pl.Expr) -> pl.Expr:
    return date_expr.cast(pl.Int64) + UNIX_EPOCH_ORDINAL


def _days_before(ordinal: pl.Expr, cal: Calendar) -> pl.Expr:
    """Calendar._before, vectorised: business days from 0001-01-01 up to (not including) ``ordinal``."""
    prefix = cal._week_prefix
    zero_based = ordinal - 1
    weeks = zero_based // 7
    rest = zero_based % 7
    count = weeks * prefix[7] + lookup(rest, range(7), pl.Series(prefix[:7], dtype=pl.Int64))
    if cal._holiday_ordinals:
        count = count - pl.lit(pl.Series(cal._holiday_ordinals, dtype=pl.Int64)).search_sorted(
            ordinal, side="left").cast(pl.Int64)
    if cal._workday_ordinals:
        count = count + pl.lit(pl.Series(cal._workday_ordinals, dtype=pl.Int64)).search_sorted(
            ordinal, side="left").cast(pl.Int64)
    return count


def business_days_expr(start_date: pl.Expr, end_date: pl.Expr, cal: Calendar) -> pl.Expr:
    """Calendar.business_days_between for Date expressions."""
    s = _ordinal(start_date)
    e = _ordinal(end_date)
    forward = _days_before(e, cal) - _days_before(s, cal)
    backward = -(_days_before(s + 1, cal) - _days_before(e + 1, cal))
    return pl.when(s <= e).then(forward).otherwise(backward)


# --------------------------------------------------------------------------- the translator


def _escape_regex(text: str) -> str:
    return pl.escape_regex(text)


class Translator:
    """Translates parsed expressions of one scheme into Polars expressions.

    ``columns`` maps each field or derived name to its kind (the column has that name);
    derived values whose value is a constant are given in ``folded``.
    """

    def __init__(self, constants: Mapping[str, Any], calendar: Calendar, columns: Mapping[str, str],
                 folded: Mapping[str, Any] | None = None) -> None:
        self.constants = constants
        self.calendar = calendar
        self.columns = dict(columns)
        self.folded = dict(folded or {})
        self.evaluator = Evaluator(constants, calendar)

    def with_column(self, name: str, kind: str) -> None:
        self.columns[name] = kind

    def with_constant(self, name: str, value: Any) -> None:
        self.folded[name] = value

    # -- entry point
    def translate(self, expr: Expression) -> T:
        return self.node(expr.tree.body)

    # -- dispatch
    def node(self, node: ast.AST) -> T:
        if self._is_constant(node):
            return self._fold(node)
        method: Callable[[Any], T] | None = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Untranslatable(f"{type(node).__name__} is not part of the language")
        return method(node)

    def _is_constant(self, node: ast.AST) -> bool:
        return not any(isinstance(sub, ast.Name) and sub.id in self.columns for sub in ast.walk(node))

    def _fold(self, node: ast.AST) -> T:
        """A subtree without record values: evaluated once, by the Evaluator itself."""
        ev = self.evaluator
        ev._env = dict(self.folded)
        try:
            value = ev._eval(node)
        except Exception:
            # Raises for every record that evaluates it.
            return T("null", expr=pl.lit(None), fail=pl.lit(True))
        finally:
            ev._env = {}
        kind = kind_of_value(value)
        if kind == "other":
            raise Untranslatable(f"constant of type {type(value).__name__}")
        return T(kind, const=value)

    # -- leaves
    def _Name(self, node: ast.Name) -> T:
        if node.id in self.columns:
            kind = self.columns[node.id]
            return T(kind, expr=pl.col(node.id))
        raise Untranslatable(f"unknown name {node.id!r}")  # folded names never get here

    def _List(self, node: ast.List) -> T:
        items = tuple(self.node(e) for e in node.elts)
        return T("dynlist", items=items, fail=_or(*(i.fail for i in items)))

    _Tuple = _List

    # -- operators
    def _UnaryOp(self, node: ast.UnaryOp) -> T:
        a = self.node(node.operand)
        op = type(node.op)
        if op is ast.Not:
            return T("bool", expr=~truthy(a), fail=a.fail)
        if a.kind == "null":
            return _null_result("null", a)
        if op is ast.USub:
            if a.kind in INTLIKE:
                v = _as_int(a)
                return T("int", expr=-v, fail=_or(a.fail, (v == INT64_MIN).fill_null(False)))
            if a.kind in ("float", "num"):
                return T(a.kind, expr=-a.e, fail=a.fail)
            return _null_result("null", a, fail=_error(a))
        if op is ast.UAdd:
            if a.kind in INTLIKE:
                return T("int", expr=_as_int(a), fail=a.fail)
            if a.kind in ("float", "num"):
                return T(a.kind, expr=a.e, fail=a.fail)
            return _null_result("null", a, fail=_error(a))
        raise Untranslatable(f"operator {op.__name__}")

    def _BinOp(self, node: ast.BinOp) -> T:
        a = self.node(node.left)
        b = self.node(node.right)
        op = type(node.op)
        if a.kind in ("list", "map", "dynlist") or b.kind in ("list", "map", "dynlist"):
            raise NeedsPython("other", "arithmetic on lists")
        fails = _or(a.fail, b.fail)
        if a.kind == "null" or b.kind == "null":
            return _null_result("null", a, b)
        both = a.not_null() & b.not_null()
        na, nb = a.kind in NUMERIC, b.kind in NUMERIC
        if op is ast.Add:
            if na and nb:
                return self._arith(a, b, lambda x, y: x + y, fails)
            if a.kind == "str" and b.kind == "str":
                too_long = (a.e.str.len_chars() + b.e.str.len_chars() > MAX_STRING_LENGTH).fill_null(False)
                return T("str", expr=a.e + b.e, fail=_or(fails, too_long))
            return _null_result("null", a, b, fail=both)
        if op is ast.Sub:
            if na and nb:
                return self._arith(a, b, lambda x, y: x - y, fails)
            return _null_result("null", a, b, fail=both)
        if op is ast.Mult:
            if na and nb:
                return self._arith(a, b, lambda x, y: x * y, fails)
            if "str" in (a.kind, b.kind) and (na or nb):
                raise NeedsPython("str", "text repetition")
            return _null_result("null", a, b, fail=both)
        if op is ast.Div:
            if na and nb:
                x, y = _as_float(a), _as_float(b)
                value = pl.when(y == 0).then(None).otherwise(x / y)
                return T("float", expr=value, fail=_or(fails, _big(a), _big(b)))
            return _null_result("null", a, b, fail=both)
        if op in (ast.FloorDiv, ast.Mod):
            if na and nb and a.kind in INTLIKE and b.kind in INTLIKE:
                x, y = _as_int(a), _as_int(b)
                value = pl.when(y == 0).then(None).otherwise(x // y if op is ast.FloorDiv else x % y)
                overflow = ((x == INT64_MIN) & (y == -1)).fill_null(False)
                return T("int", expr=value, fail=_or(fails, overflow))
            if na and nb:
                raise NeedsPython("float" if "float" in (a.kind, b.kind) else "num",
                                  "'//' and '%' on non-integers")
            return _null_result("null", a, b, fail=both)
        if op is ast.Pow:
            if na and nb:
                return self._pow(a, b, fails)
            return _null_result("null", a, b, fail=both)
        raise Untranslatable(f"operator {op.__name__}")

    def _arith(self, a: T, b: T, fn: Callable[[pl.Expr, pl.Expr], pl.Expr], fails: pl.Expr | None) -> T:
        if a.kind in INTLIKE and b.kind in INTLIKE:
            x, y = _as_int(a), _as_int(b)
            approx = fn(x.cast(pl.Float64), y.cast(pl.Float64)).abs()
            return T("int", expr=fn(x, y), fail=_or(fails, (approx > SAFE_INT).fill_null(False)))
        kind = "float" if "float" in (a.kind, b.kind) else "num"
        x, y = _as_float(a), _as_float(b)
        value = fn(x, y)
        extra = None
        if kind == "num":
            # int op int in Python is exact: make sure Float64 is too.
            extra = _or(_big(a), _big(b), (value.abs() > EXACT_INT).fill_null(False))
        return T(kind, expr=value, fail=_or(fails, extra))

    def _pow(self, a: T, b: T, fails: pl.Expr | None) -> T:
        if not b.is_const:
            raise NeedsPython("num", "'**' with a per-record exponent")
        p = b.const
        too_big = (a.e.cast(pl.Float64).abs() > MAX_POWER).fill_null(False)
        if abs(p) > MAX_POWER:
            return _null_result("null", a, b, fail=a.not_null())
        if isinstance(p, int) and p >= 0 and a.kind in INTLIKE:
            x = _as_int(a)
            approx = x.cast(pl.Float64).abs().pow(float(p))
            over = (approx > SAFE_INT).fill_null(False)
            return T("int", expr=x.pow(int(p)), fail=_or(fails, too_big, over))
        if a.kind == "num" and isinstance(p, int) and p >= 0:
            raise NeedsPython("num", "'**' of an int-or-float value")
        x = _as_float(a)
        # An exponent that Polars cannot see as a literal: a literal 0.5, 2 or 3 becomes sqrt or
        # repeated products, which round differently from C's pow() that Python uses.
        y = x.is_null().cast(pl.Float64) * 0.0 + float(p)
        zero_neg = (x == 0) & (p < 0) if p < 0 else pl.lit(False)
        value = pl.when(zero_neg).then(None).otherwise(x.pow(y))
        complex_ = (x < 0).fill_null(False) if not float(p).is_integer() else None
        overflow = (~x.pow(y).is_finite() & x.is_finite()).fill_null(False)
        return T("float", expr=value, fail=_or(fails, too_big, complex_, _and(~zero_neg.fill_null(False), overflow)))

    # -- comparisons
    def _Compare(self, node: ast.Compare) -> T:
        left = self.node(node.left)
        value: pl.Expr | None = None
        fail = left.fail
        reach: pl.Expr | None = None  # the chain goes on while no outcome was False
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.node(comp)
            outcome, err = self._compare(left, type(op), right)
            fail = _or(fail, _and(reach, _or(right.fail, err)))
            not_false = outcome.fill_null(True)
            reach = not_false if reach is None else reach & not_false
            value = outcome if value is None else value & outcome
            left = right
        assert value is not None
        return T("bool", expr=value, fail=fail)

    def _compare(self, a: T, op: type, b: T) -> tuple[pl.Expr, pl.Expr | None]:
        """(outcome, error rows) of one comparison; outcome is a nullable Boolean."""
        null_bool = pl.lit(None, dtype=pl.Boolean)
        if op in (ast.Is, ast.IsNot):
            if a.kind == "dynlist":
                return pl.lit(op is ast.IsNot), None
            isnull = a.e.is_null() if not a.is_const else pl.lit(a.const is None)
            return (isnull if op is ast.Is else ~isnull), None
        if op in (ast.In, ast.NotIn):
            outcome, err = self._membership(a, b)
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
                x, y = _as_int(a), _as_int(b)
                err = None
            else:
                x, y = _as_float(a), _as_float(b)
                err = _or(_nan(a), _nan(b), _big(a), _big(b))
            return _cmp(op, x, y), err
        if ka == kb and ka in ("str", "date", "datetime"):
            return _cmp(op, a.e, b.e), None
        # Different kinds: == is False, != is True, ordering raises.
        if op is ast.Eq:
            return pl.when(both).then(pl.lit(False)).otherwise(None), None
        if op is ast.NotEq:
            return pl.when(both).then(pl.lit(True)).otherwise(None), None
        return null_bool, both

    def _membership(self, a: T, b: T) -> tuple[pl.Expr, pl.Expr | None]:
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
                eq, e = self._compare(a, ast.Eq, item)
                any_match = any_match | eq.fill_null(False)
                err = _or(err, e)
            return pl.when(a.not_null()).then(any_match).otherwise(None), err
        if a.kind == "null" or b.kind == "null":
            return null_bool, None
        if b.is_const:
            container = b.const
            if isinstance(container, str):
                if a.kind == "str":
                    return pl.lit(container).str.contains(a.e, literal=True), None
                return null_bool, a.not_null()
            if isinstance(container, Mapping):
                container = list(container.keys())
            if isinstance(container, (list, tuple)):
                return self._in_values(a, list(container))
            # `x in 5`: raises
            return null_bool, a.not_null()
        if b.kind == "str":
            if a.kind == "str":
                return b.e.str.contains(a.e, literal=True), None
            return null_bool, a.not_null() & b.not_null()
        return null_bool, a.not_null() & b.not_null()

    def _in_values(self, a: T, values: list[Any]) -> tuple[pl.Expr, pl.Expr | None]:
        """``a in [constants]`` with Python's == between kinds."""
        if a.kind in ("list", "map", "dynlist"):
            raise NeedsPython("bool", "membership of a list")
        nums = [v for v in values if isinstance(v, (int, float))]
        if a.kind in NUMERIC:
            if a.kind in INTLIKE:
                ints = sorted({int(v) for v in nums if _integral(v)})
                x = _as_int(a)
                return pl.when(x.is_null()).then(None).otherwise(x.is_in(_values(ints, pl.Int64))), None
            floats = [float(v) for v in nums if not (isinstance(v, float) and math.isnan(v))]
            big = any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > EXACT_INT for v in nums)
            x = _as_float(a)
            err = _or(_nan(a), _big(a), pl.lit(True) if big else None)
            return pl.when(x.is_null()).then(None).otherwise(x.is_in(_values(floats, pl.Float64))), err
        if a.kind == "str":
            strs = [v for v in values if isinstance(v, str)]
            return pl.when(a.e.is_null()).then(None).otherwise(a.e.is_in(_values(strs, pl.String))), None
        if a.kind in ("date", "datetime"):
            return pl.when(a.e.is_null()).then(None).otherwise(pl.lit(False)), None
        raise Untranslatable(f"membership of a {a.kind}")

    # -- logic
    def _BoolOp(self, node: ast.BoolOp) -> T:
        parts = [self.node(v) for v in node.values]
        is_and = type(node.op) is ast.And
        value: pl.Expr | None = None
        fail: pl.Expr | None = None
        reach: pl.Expr | None = None
        for p in parts:
            fail = _or(fail, _and(reach, p.fail))
            t = truthy(p)
            value = t if value is None else (value & t if is_and else value | t)
            go_on = ~falsy(p) if is_and else ~is_true(p)
            reach = go_on if reach is None else reach & go_on
        assert value is not None
        return T("bool", expr=value, fail=fail)

    def _IfExp(self, node: ast.IfExp) -> T:
        test = self.node(node.test)
        body = self.node(node.body)
        orelse = self.node(node.orelse)
        kind = _unify([body.kind, orelse.kind])
        if kind in ("list", "map", "dynlist"):
            raise NeedsPython(kind, "a list-valued condition")
        t = truthy(test)
        yes, no = t.fill_null(False), (~t).fill_null(False)
        if kind == "null":
            value = pl.lit(None)
        else:
            value = pl.when(t.is_null()).then(None).when(t).then(_cast(body, kind)).otherwise(_cast(orelse, kind))
        fail = _or(test.fail, _and(yes, body.fail), _and(no, orelse.fail))
        return T(kind, expr=value, fail=fail)

    # -- subscripts
    def _Subscript(self, node: ast.Subscript) -> T:
        base = node.value
        if not isinstance(base, ast.Name) or base.id not in self.constants:
            raise Untranslatable("subscript of a non-constant")
        container = self.constants[base.id]
        key = self.node(node.slice)
        if key.kind == "null":
            return _null_result("null", key)
        if isinstance(container, Mapping):
            items = list(container.items())
        elif isinstance(container, (list, tuple, str)):
            n = len(container)
            if key.kind in ("float", "num", "str", "date", "datetime"):
                # list[float] and list['x'] raise (a num key raises when it holds a float)
                if key.kind == "num":
                    raise NeedsPython(_unify(kind_of_value(v) for v in container) if n else "null",
                                      "an int-or-float index")
                kind = _unify(kind_of_value(v) for v in container) if n else "null"
                return _null_result(kind, key, fail=key.not_null())
            items = [(i, container[i]) for i in range(-n, n)]
        else:
            raise Untranslatable("subscript of a scalar constant")
        value_kinds = [kind_of_value(v) for _, v in items]
        if any(k not in DTYPES for k in value_kinds):
            raise NeedsPython("other", "a constant holding lists or maps")
        kind = _unify(value_kinds) if items else "null"
        # Only keys that can equal the key's kind match (hash/eq semantics of dicts).
        if key.kind in NUMERIC:
            numeric = [(k, v) for k, v in items if isinstance(k, (int, float))]
            if key.kind in INTLIKE:
                old = [int(k) for k, _ in numeric if not isinstance(k, float) or (math.isfinite(k) and k.is_integer())]
                new = [v for k, v in numeric if not isinstance(k, float) or (math.isfinite(k) and k.is_integer())]
                keyexpr = _as_int(key)
                err = None
            else:
                old = [float(k) for k, _ in numeric]
                new = [v for _, v in numeric]
                keyexpr = _as_float(key)
                err = _or(_nan(key), _big(key))
        elif key.kind == "str":
            pairs = [(k, v) for k, v in items if isinstance(k, str)]
            old, new = [k for k, _ in pairs], [v for _, v in pairs]
            keyexpr, err = key.e, None
        elif key.kind in ("date", "datetime"):
            old, new, keyexpr, err = [], [], key.e, None
        else:
            raise NeedsPython(kind, f"a {key.kind} key")
        # Duplicate keys after normalisation (1 and 1.0): the dict keeps one; so do we.
        seen: dict[Any, Any] = {}
        for k, v in zip(old, new):
            seen.setdefault(k, v)
        if kind == "null" or not seen:
            return _null_result(kind if kind != "null" else "null", key, fail=err)
        out_dtype = DTYPES[kind]
        values = [None if v is None else (float(v) if out_dtype == pl.Float64 else v) for v in seen.values()]
        value = lookup(keyexpr, list(seen), pl.Series(values, dtype=out_dtype))
        return T(kind, expr=value, fail=_or(key.fail, err))

    # -- calls
    def _Call(self, node: ast.Call) -> T:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            raise Untranslatable("call of an unknown function")
        if name == "coalesce":
            return self._coalesce(node.args)
        args = [self.node(a) for a in node.args]
        fails = _or(*(a.fail for a in args))
        if any(a.kind == "null" for a in args):
            # Every function except coalesce returns null when an argument is null.
            return _null_result("null", *args)
        nonnull = args[0].not_null()
        for a in args[1:]:
            nonnull = nonnull & a.not_null()
        method = getattr(self, "_fn_" + name)
        value, kind, err = method(args, nonnull)
        return T(kind, expr=value, fail=_or(fails, err))

    def _coalesce(self, arg_nodes: list[ast.expr]) -> T:
        args = [self.node(a) for a in arg_nodes]
        kind = _unify(a.kind for a in args)
        if kind in ("list", "map", "dynlist"):
            raise NeedsPython(kind, "coalesce of lists")
        fail: pl.Expr | None = None
        reach: pl.Expr | None = None
        for a in args:
            fail = _or(fail, _and(reach, a.fail))
            isnull = ~a.not_null()
            reach = isnull if reach is None else reach & isnull
        if kind == "null":
            return T("null", expr=pl.lit(None), fail=fail)
        return T(kind, expr=pl.coalesce([_cast(a, kind) for a in args]), fail=fail)

    # Each _fn_ returns (value, kind, error rows) for rows where no argument is null.
    def _fn_abs(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        (a,) = args
        if a.kind in INTLIKE:
            x = _as_int(a)
            return x.abs(), "int", (x == INT64_MIN).fill_null(False)
        if a.kind in ("float", "num"):
            return a.e.abs(), a.kind, None
        return pl.lit(None, dtype=pl.Null), "null", nonnull

    def _minmax(self, args: list[T], nonnull: pl.Expr, is_min: bool) -> tuple[pl.Expr, str, pl.Expr | None]:
        kinds = {a.kind for a in args}
        if kinds & {"list", "map", "dynlist"}:
            raise NeedsPython("other", "min/max of lists")
        if kinds <= NUMERIC:
            if "bool" in kinds and kinds != {"bool"}:
                raise Untranslatable("min/max of booleans and numbers")
            if kinds <= INTLIKE:
                kind = "bool" if kinds == {"bool"} else "int"
                vals = [a.e if kind == "bool" else _as_int(a) for a in args]
                err = None
            else:
                kind = _unify(kinds)
                vals = [_as_float(a) for a in args]
                err = _or(*(_nan(a) for a in args), *(_big(a) for a in args))
        elif len(kinds) == 1 and kinds <= {"str", "date", "datetime"}:
            kind = kinds.pop()
            vals = [a.e for a in args]
            err = None
        else:
            return pl.lit(None), "null", nonnull
        cur = vals[0]
        for v in vals[1:]:
            better = (v < cur) if is_min else (v > cur)
            cur = pl.when(better).then(v).otherwise(cur)
        return pl.when(nonnull).then(cur).otherwise(None), kind, err

    def _fn_min(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._minmax(args, nonnull, True)

    def _fn_max(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._minmax(args, nonnull, False)

    def _fn_round(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        a = args[0]
        if len(args) == 2:
            nd = args[1]
            if not nd.is_const:
                raise NeedsPython("num", "round() with a per-record number of digits")
            n = nd.const
            if not isinstance(n, int):
                return pl.lit(None), "null", nonnull
            if abs(n) > 100:
                return pl.lit(None), "null", nonnull
        else:
            n = None
        if a.kind in INTLIKE:
            if n is None or n >= 0:
                return _as_int(a), "int", None
            raise NeedsPython("int", "round() of an integer to tens")
        if a.kind not in ("float", "num"):
            return pl.lit(None), "null", nonnull
        x = _as_float(a)
        if n is None:
            bad = (~x.is_finite() | (x.abs() >= 2.0**62)).fill_null(False)
            return pl.when(bad).then(None).otherwise(x.round(0, mode="half_to_even").cast(pl.Int64)), "int", bad
        if n < 0 or n > 15:
            raise NeedsPython(a.kind, "round() to these digits")
        scale = float(10**n)
        y = x * scale
        k = y.round(0, mode="half_to_even")
        frac = (y - y.floor() - 0.5).abs()
        unsure = ((frac < 1e-6) | (y.abs() >= 2.0**31) | ~x.is_finite()).fill_null(False)
        return pl.when(unsure).then(x).otherwise(k / scale), a.kind, unsure

    def _fn_len(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        (a,) = args
        if a.kind == "str":
            return a.e.str.len_chars().cast(pl.Int64), "int", None
        if a.kind == "dynlist":
            assert a.items is not None
            return pl.lit(len(a.items), dtype=pl.Int64), "int", None
        return pl.lit(None), "null", nonnull

    def _case(self, args: list[T], nonnull: pl.Expr, upper: bool) -> tuple[pl.Expr, str, pl.Expr | None]:
        (a,) = args
        if a.kind != "str":
            return pl.lit(None), "null", nonnull
        e = a.e
        value = e.str.to_uppercase() if upper else e.str.to_lowercase()
        # Python and Polars may disagree outside ASCII (Unicode versions): let Python decide.
        return value, "str", (e.str.len_bytes() != e.str.len_chars()).fill_null(False)

    def _fn_lower(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._case(args, nonnull, False)

    def _fn_upper(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._case(args, nonnull, True)

    def _fn_contains(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        text, sub = args
        if text.kind == "str" and sub.kind == "str":
            return text.e.str.contains(sub.e, literal=True), "bool", None
        return pl.lit(None, dtype=pl.Boolean), "bool", nonnull

    def _phrases(self, phrases: T) -> list[str] | None:
        """The phrases as _phrases() reads them, or None if it would raise."""
        if not phrases.is_const or not isinstance(phrases.const, (list, tuple)):
            if phrases.kind == "dynlist":
                raise NeedsPython("bool", "phrases computed per record")
            return None
        out = []
        for p in phrases.const:
            if p is None:
                continue
            if not isinstance(p, str):
                return None
            if p:
                out.append(p)
        return out

    def _fn_contains_any(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        text, phrases = args
        if text.kind != "str":
            return pl.lit(None, dtype=pl.Boolean), "bool", nonnull
        wanted = self._phrases(phrases)
        if wanted is None:
            return pl.lit(None, dtype=pl.Boolean), "bool", nonnull
        if not wanted:
            return pl.when(text.e.is_null()).then(None).otherwise(pl.lit(False)), "bool", None
        return text.e.str.contains_any(sorted(set(wanted))), "bool", None

    def _fn_count_matches(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        text, phrases = args
        if text.kind != "str":
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        wanted = self._phrases(phrases)
        if wanted is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        if not wanted:
            return pl.when(text.e.is_null()).then(None).otherwise(pl.lit(0, dtype=pl.Int64)), "int", None
        ordered = sorted(set(wanted), key=lambda p: (-len(p), p))
        pattern = "|".join(_escape_regex(p) for p in ordered)
        return text.e.str.count_matches(pattern).cast(pl.Int64), "int", None

    def _between(self, args: list[T], nonnull: pl.Expr, per: float) -> tuple[pl.Expr, str, pl.Expr | None]:
        start, end = args
        if start.kind == end.kind == "datetime":
            micros = (end.e - start.e).dt.total_microseconds()
            seconds = micros.cast(pl.Float64) / 1e6
            big = (micros.abs() > EXACT_INT).fill_null(False)
            return seconds / per, "float", big
        if start.kind == end.kind == "date":
            days = end.e.cast(pl.Int64) - start.e.cast(pl.Int64)
            return (days * 86400).cast(pl.Float64) / per, "float", None
        return pl.lit(None, dtype=pl.Float64), "float", nonnull

    def _fn_minutes_between(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._between(args, nonnull, 60.0)

    def _fn_hours_between(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        return self._between(args, nonnull, 3600.0)

    @staticmethod
    def _date_of(t: T) -> pl.Expr | None:
        if t.kind == "date":
            return t.e
        if t.kind == "datetime":
            return t.e.dt.date()
        return None

    def _fn_days_between(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        s, e = (self._date_of(a) for a in args)
        if s is None or e is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        return e.cast(pl.Int64) - s.cast(pl.Int64), "int", None

    def _fn_business_days_between(self, args: list[T], nonnull: pl.Expr) -> tuple[pl.Expr, str, pl.Expr | None]:
        s, e = (self._date_of(a) for a in args)
        if s is None or e is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        return business_days_expr(s, e, self.calendar), "int", None


def _values(values: list[Any], dtype: Any) -> pl.Expr:
    """A constant list for is_in."""
    return pl.lit(pl.Series(values, dtype=dtype)).implode()


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
