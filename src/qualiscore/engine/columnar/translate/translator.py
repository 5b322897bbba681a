"""The Translator: parsed expressions of one scheme as Polars expressions, node by node."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...._polars import pl
from ....calendar import Calendar
from ....expressions import FUNCTIONS, MAX_SIZE, Evaluator, Expression, size_of
from .business_days import business_days_expr
from .comparisons import compare
from .lookups import lookup
from .values import (
    DTYPES,
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
    falsy,
    is_true,
    kind_of_value,
    mask_and,
    mask_or,
    nan_mask,
    truthy,
)

SAFE_INT = 2**62  # integer results beyond this may overflow Int64
MAX_POWER = 4000000  # simpleeval.MAX_POWER

_FnResult = tuple[pl.Expr, str, pl.Expr | None]  # a function's (value, kind, error rows)


def _error(*operands: Translated, extra: pl.Expr | None = None) -> pl.Expr:
    """Rows where the operation runs (every operand not null) and raises."""
    conds = [t.not_null() for t in operands]
    if extra is not None:
        conds.append(extra)
    out = conds[0] if conds else pl.lit(True)
    for c in conds[1:]:
        out = out & c
    return out


def _null_result(kind: str, *operands: Translated, fail: pl.Expr | None = None) -> Translated:
    """A result that is null on every row (its value is decided by the null check)."""
    return Translated(kind, expr=pl.lit(None, dtype=DTYPES.get(kind, pl.Null())),
                      fail=mask_or(*(o.fail for o in operands), fail))


def _unify(kinds: Iterable[str]) -> str:
    ks = {k for k in kinds if k != "null"}
    if not ks:
        return "null"
    if len(ks) == 1:
        return ks.pop()
    if ks <= {"int", "float", "num"}:
        return "num"
    raise Untranslatable(f"values of different kinds ({', '.join(sorted(ks))})")


def _cast(t: Translated, kind: str) -> pl.Expr:
    if t.is_const and t.const is None:
        return pl.lit(None, dtype=DTYPES[kind])
    if t.kind == kind:
        return t.value
    if kind in ("float", "num"):
        return t.value.cast(pl.Float64)
    if kind == "int":
        return t.value.cast(pl.Int64)
    return t.value.cast(DTYPES[kind])


def _escape_regex(text: str) -> str:
    return pl.escape_regex(text)


def _size(t: Translated) -> tuple[int, list[pl.Expr]]:
    """expressions.size_of of a value (the characters of a text, the items of a list plus their
    sizes), as a number plus per-row terms."""
    if t.is_const:
        return size_of(t.const), []
    if t.kind == "str":
        return 0, [t.value.str.len_chars().cast(pl.Int64).fill_null(0)]
    if t.kind == "dynlist":
        assert t.items is not None
        fixed, terms = len(t.items), []
        for item in t.items:
            n, more = _size(item)
            fixed += n
            terms += more
        return fixed, terms
    return 0, []


def _over_size(size: pl.Expr) -> pl.Expr:
    """Rows where a value the Evaluator builds would be larger than MAX_SIZE (it raises there)."""
    return (size > MAX_SIZE).fill_null(False)


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
    def translate(self, expr: Expression) -> Translated:
        return self.node(expr.tree.body)

    # -- dispatch
    def node(self, node: ast.AST) -> Translated:
        if self._is_constant(node):
            return self._fold(node)
        method: Callable[[Any], Translated] | None = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Untranslatable(f"{type(node).__name__} is not part of the language")
        return method(node)

    def _is_constant(self, node: ast.AST) -> bool:
        return not any(isinstance(sub, ast.Name) and sub.id in self.columns for sub in ast.walk(node))

    def _fold(self, node: ast.AST) -> Translated:
        """A subtree without record values: evaluated once, by the Evaluator itself."""
        ev = self.evaluator
        ev._env = dict(self.folded)
        try:
            value = ev._eval(node)
        except Exception:
            # Raises for every record that evaluates it.
            return Translated("null", expr=pl.lit(None), fail=pl.lit(True))
        finally:
            ev._env = {}
        kind = kind_of_value(value)
        if kind == "other":
            raise Untranslatable(f"constant of type {type(value).__name__}")
        if kind == "int" and not INT64_MIN <= value < 2**63:
            raise Untranslatable("an integer constant beyond 64 bits")
        return Translated(kind, const=value)

    # -- leaves
    def _Name(self, node: ast.Name) -> Translated:
        if node.id in self.columns:
            kind = self.columns[node.id]
            return Translated(kind, expr=pl.col(node.id))
        raise Untranslatable(f"unknown name {node.id!r}")  # folded names never get here

    def _List(self, node: ast.List) -> Translated:
        items = tuple(self.node(e) for e in node.elts)
        fixed, terms = _size(Translated("dynlist", items=items))
        over = _over_size(pl.sum_horizontal(terms) + fixed) if terms else pl.lit(True) if fixed > MAX_SIZE else None
        return Translated("dynlist", items=items, fail=mask_or(*(i.fail for i in items), over))

    _Tuple = _List

    # -- operators
    def _UnaryOp(self, node: ast.UnaryOp) -> Translated:
        a = self.node(node.operand)
        op = type(node.op)
        if op is ast.Not:
            return Translated("bool", expr=~truthy(a), fail=a.fail)
        if a.kind == "null":
            return _null_result("null", a)
        if op is ast.USub:
            if a.kind in INTLIKE:
                v = as_int(a)
                return Translated("int", expr=-v, fail=mask_or(a.fail, (v == INT64_MIN).fill_null(False)))
            if a.kind in ("float", "num"):
                return Translated(a.kind, expr=-a.value, fail=a.fail)
            return _null_result("null", a, fail=_error(a))
        if op is ast.UAdd:
            if a.kind in INTLIKE:
                return Translated("int", expr=as_int(a), fail=a.fail)
            if a.kind in ("float", "num"):
                return Translated(a.kind, expr=a.value, fail=a.fail)
            return _null_result("null", a, fail=_error(a))
        raise Untranslatable(f"operator {op.__name__}")

    def _BinOp(self, node: ast.BinOp) -> Translated:
        a = self.node(node.left)
        b = self.node(node.right)
        op = type(node.op)
        if a.kind in ("list", "map", "dynlist") or b.kind in ("list", "map", "dynlist"):
            raise NeedsPython("other", "arithmetic on lists")
        fails = mask_or(a.fail, b.fail)
        if a.kind == "null" or b.kind == "null":
            return _null_result("null", a, b)
        both = a.not_null() & b.not_null()
        na, nb = a.kind in NUMERIC, b.kind in NUMERIC
        if op is ast.Add:
            if na and nb:
                return self._arith(a, b, lambda x, y: x + y, fails)
            if a.kind == "str" and b.kind == "str":
                length = a.value.str.len_chars() + b.value.str.len_chars()
                return Translated("str", expr=a.value + b.value, fail=mask_or(fails, _over_size(length)))
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
                x, y = as_float(a), as_float(b)
                value = pl.when(y == 0).then(None).otherwise(x / y)
                return Translated("float", expr=value, fail=mask_or(fails, big_mask(a), big_mask(b)))
            return _null_result("null", a, b, fail=both)
        if op in (ast.FloorDiv, ast.Mod):
            if na and nb and a.kind in INTLIKE and b.kind in INTLIKE:
                x, y = as_int(a), as_int(b)
                value = pl.when(y == 0).then(None).otherwise(x // y if op is ast.FloorDiv else x % y)
                overflow = ((x == INT64_MIN) & (y == -1)).fill_null(False)
                return Translated("int", expr=value, fail=mask_or(fails, overflow))
            if na and nb:
                raise NeedsPython("float" if "float" in (a.kind, b.kind) else "num",
                                  "'//' and '%' on non-integers")
            return _null_result("null", a, b, fail=both)
        if op is ast.Pow:
            if na and nb:
                return self._pow(a, b, fails)
            return _null_result("null", a, b, fail=both)
        raise Untranslatable(f"operator {op.__name__}")

    def _arith(self, a: Translated, b: Translated, fn: Callable[[pl.Expr, pl.Expr], pl.Expr],
               fails: pl.Expr | None) -> Translated:
        if a.kind in INTLIKE and b.kind in INTLIKE:
            x, y = as_int(a), as_int(b)
            approx = fn(x.cast(pl.Float64), y.cast(pl.Float64)).abs()
            return Translated("int", expr=fn(x, y), fail=mask_or(fails, (approx > SAFE_INT).fill_null(False)))
        kind = "float" if "float" in (a.kind, b.kind) else "num"
        x, y = as_float(a), as_float(b)
        value = fn(x, y)
        extra = None
        if kind == "num":
            # int op int in Python is exact: make sure Float64 is too.
            extra = mask_or(big_mask(a), big_mask(b), (value.abs() > EXACT_INT).fill_null(False))
        return Translated(kind, expr=value, fail=mask_or(fails, extra))

    def _pow(self, a: Translated, b: Translated, fails: pl.Expr | None) -> Translated:
        if not b.is_const:
            raise NeedsPython("num", "'**' with a per-record exponent")
        p = b.const
        too_big = (a.value.cast(pl.Float64).abs() > MAX_POWER).fill_null(False)
        if abs(p) > MAX_POWER:
            return _null_result("null", a, b, fail=a.not_null())
        if isinstance(p, int) and p >= 0 and a.kind in INTLIKE:
            x = as_int(a)
            approx = x.cast(pl.Float64).abs().pow(float(p))
            over = (approx > SAFE_INT).fill_null(False)
            return Translated("int", expr=x.pow(int(p)), fail=mask_or(fails, too_big, over))
        if a.kind == "num" and isinstance(p, int) and p >= 0:
            raise NeedsPython("num", "'**' of an int-or-float value")
        x = as_float(a)
        # An exponent that Polars cannot see as a literal: a literal 0.5, 2 or 3 becomes sqrt or
        # repeated products, which round differently from C's pow() that Python uses.
        y = x.is_null().cast(pl.Float64) * 0.0 + float(p)
        zero_neg = (x == 0) & (p < 0) if p < 0 else pl.lit(False)
        value = pl.when(zero_neg).then(None).otherwise(x.pow(y))
        complex_ = (x < 0).fill_null(False) if not float(p).is_integer() else None
        overflow = (~x.pow(y).is_finite() & x.is_finite()).fill_null(False)
        fail = mask_or(fails, too_big, complex_, mask_and(~zero_neg.fill_null(False), overflow))
        return Translated("float", expr=value, fail=fail)

    # -- comparisons
    def _Compare(self, node: ast.Compare) -> Translated:
        left = self.node(node.left)
        value: pl.Expr | None = None
        fail = left.fail
        reach: pl.Expr | None = None  # the chain goes on while no outcome was False
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.node(comp)
            outcome, err = compare(left, type(op), right)
            fail = mask_or(fail, mask_and(reach, mask_or(right.fail, err)))
            not_false = outcome.fill_null(True)
            reach = not_false if reach is None else reach & not_false
            value = outcome if value is None else value & outcome
            left = right
        assert value is not None
        return Translated("bool", expr=value, fail=fail)

    # -- logic
    def _BoolOp(self, node: ast.BoolOp) -> Translated:
        parts = [self.node(v) for v in node.values]
        is_and = type(node.op) is ast.And
        value: pl.Expr | None = None
        fail: pl.Expr | None = None
        reach: pl.Expr | None = None
        for p in parts:
            fail = mask_or(fail, mask_and(reach, p.fail))
            t = truthy(p)
            value = t if value is None else (value & t if is_and else value | t)
            go_on = ~falsy(p) if is_and else ~is_true(p)
            reach = go_on if reach is None else reach & go_on
        assert value is not None
        return Translated("bool", expr=value, fail=fail)

    def _IfExp(self, node: ast.IfExp) -> Translated:
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
        fail = mask_or(test.fail, mask_and(yes, body.fail), mask_and(no, orelse.fail))
        return Translated(kind, expr=value, fail=fail)

    # -- subscripts
    def _Subscript(self, node: ast.Subscript) -> Translated:
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
        old: list[Any]  # the keys as the key column holds them
        new: list[Any]
        if key.kind in NUMERIC:
            numeric = [(k, v) for k, v in items if isinstance(k, (int, float))]
            if key.kind in INTLIKE:
                old = [int(k) for k, _ in numeric if not isinstance(k, float) or (math.isfinite(k) and k.is_integer())]
                new = [v for k, v in numeric if not isinstance(k, float) or (math.isfinite(k) and k.is_integer())]
                keyexpr = as_int(key)
                err = None
            else:
                old = [float(k) for k, _ in numeric]
                new = [v for _, v in numeric]
                keyexpr = as_float(key)
                err = mask_or(nan_mask(key), big_mask(key))
        elif key.kind == "str":
            pairs = [(k, v) for k, v in items if isinstance(k, str)]
            old, new = [k for k, _ in pairs], [v for _, v in pairs]
            keyexpr, err = key.value, None
        elif key.kind in ("date", "datetime"):
            old, new, keyexpr, err = [], [], key.value, None
        else:
            raise NeedsPython(kind, f"a {key.kind} key")
        # Duplicate keys after normalisation (1 and 1.0): the dict keeps one; so do we.
        seen: dict[Any, Any] = {}
        for k, v in zip(old, new):
            seen.setdefault(k, v)
        if kind == "null" or not seen:
            return _null_result(kind if kind != "null" else "null", key, fail=err)
        out_dtype = DTYPES[kind]
        if any(type(v) is int and not INT64_MIN <= v < 2**63 for v in seen.values()):
            raise Untranslatable("a constant holding integers beyond 64 bits")
        values = [None if v is None else (float(v) if out_dtype == pl.Float64 else v) for v in seen.values()]
        value = lookup(keyexpr, list(seen), pl.Series(values, dtype=out_dtype))
        return Translated(kind, expr=value, fail=mask_or(key.fail, err))

    # -- calls
    def _Call(self, node: ast.Call) -> Translated:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name is None or name not in FUNCTIONS or node.keywords:
            raise Untranslatable("call of an unknown function")
        if name == "coalesce":
            return self._coalesce(node.args)
        args = [self.node(a) for a in node.args]
        fails = mask_or(*(a.fail for a in args))
        if any(a.kind == "null" for a in args):
            # Every function except coalesce returns null when an argument is null.
            return _null_result("null", *args)
        nonnull = args[0].not_null()
        for a in args[1:]:
            nonnull = nonnull & a.not_null()
        method = getattr(self, "_fn_" + name)
        value, kind, err = method(args, nonnull)
        return Translated(kind, expr=value, fail=mask_or(fails, err))

    def _coalesce(self, arg_nodes: list[ast.expr]) -> Translated:
        args = [self.node(a) for a in arg_nodes]
        kind = _unify(a.kind for a in args)
        if kind in ("list", "map", "dynlist"):
            raise NeedsPython(kind, "coalesce of lists")
        fail: pl.Expr | None = None
        reach: pl.Expr | None = None
        for a in args:
            fail = mask_or(fail, mask_and(reach, a.fail))
            isnull = ~a.not_null()
            reach = isnull if reach is None else reach & isnull
        if kind == "null":
            return Translated("null", expr=pl.lit(None), fail=fail)
        return Translated(kind, expr=pl.coalesce([_cast(a, kind) for a in args]), fail=fail)

    # Each _fn_ returns (value, kind, error rows) for rows where no argument is null.
    def _fn_abs(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        (a,) = args
        if a.kind in INTLIKE:
            x = as_int(a)
            return x.abs(), "int", (x == INT64_MIN).fill_null(False)
        if a.kind in ("float", "num"):
            return a.value.abs(), a.kind, None
        return pl.lit(None, dtype=pl.Null), "null", nonnull

    def _minmax(self, args: list[Translated], nonnull: pl.Expr, is_min: bool) -> _FnResult:
        kinds = {a.kind for a in args}
        if kinds & {"list", "map", "dynlist"}:
            raise NeedsPython("other", "min/max of lists")
        if kinds <= NUMERIC:
            if "bool" in kinds and kinds != {"bool"}:
                raise Untranslatable("min/max of booleans and numbers")
            if kinds <= INTLIKE:
                kind = "bool" if kinds == {"bool"} else "int"
                vals = [a.value if kind == "bool" else as_int(a) for a in args]
                err = None
            else:
                kind = _unify(kinds)
                vals = [as_float(a) for a in args]
                err = mask_or(*(nan_mask(a) for a in args), *(big_mask(a) for a in args))
        elif len(kinds) == 1 and kinds <= {"str", "date", "datetime"}:
            kind = kinds.pop()
            vals = [a.value for a in args]
            err = None
        else:
            return pl.lit(None), "null", nonnull
        cur = vals[0]
        for v in vals[1:]:
            better = (v < cur) if is_min else (v > cur)
            cur = pl.when(better).then(v).otherwise(cur)
        return pl.when(nonnull).then(cur).otherwise(None), kind, err

    def _fn_min(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._minmax(args, nonnull, True)

    def _fn_max(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._minmax(args, nonnull, False)

    def _fn_round(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
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
                return as_int(a), "int", None
            raise NeedsPython("int", "round() of an integer to tens")
        if a.kind not in ("float", "num"):
            return pl.lit(None), "null", nonnull
        x = as_float(a)
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

    def _fn_len(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        (a,) = args
        if a.kind == "str":
            return a.value.str.len_chars().cast(pl.Int64), "int", None
        if a.kind == "dynlist":
            assert a.items is not None
            return pl.lit(len(a.items), dtype=pl.Int64), "int", None
        return pl.lit(None), "null", nonnull

    def _case(self, args: list[Translated], nonnull: pl.Expr, upper: bool) -> _FnResult:
        (a,) = args
        if a.kind != "str":
            return pl.lit(None), "null", nonnull
        e = a.value
        value = e.str.to_uppercase() if upper else e.str.to_lowercase()
        # Python and Polars may disagree outside ASCII (Unicode versions), and case mapping may
        # make a text longer there: let Python decide. ASCII keeps its length.
        unsure = (e.str.len_bytes() != e.str.len_chars()).fill_null(False)
        return value, "str", unsure | _over_size(e.str.len_chars())

    def _fn_lower(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._case(args, nonnull, False)

    def _fn_upper(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._case(args, nonnull, True)

    def _fn_contains(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        text, sub = args
        if text.kind == "str" and sub.kind == "str":
            return text.value.str.contains(sub.value, literal=True), "bool", None
        return pl.lit(None, dtype=pl.Boolean), "bool", nonnull

    def _phrases(self, phrases: Translated) -> list[str] | None:
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

    def _fn_contains_any(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        text, phrases = args
        if text.kind != "str":
            return pl.lit(None, dtype=pl.Boolean), "bool", nonnull
        wanted = self._phrases(phrases)
        if wanted is None:
            return pl.lit(None, dtype=pl.Boolean), "bool", nonnull
        if not wanted:
            return pl.when(text.value.is_null()).then(None).otherwise(pl.lit(False)), "bool", None
        return text.value.str.contains_any(sorted(set(wanted))), "bool", None

    def _fn_count_matches(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        text, phrases = args
        if text.kind != "str":
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        wanted = self._phrases(phrases)
        if wanted is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        if not wanted:
            return pl.when(text.value.is_null()).then(None).otherwise(pl.lit(0, dtype=pl.Int64)), "int", None
        ordered = sorted(set(wanted), key=lambda p: (-len(p), p))
        pattern = "|".join(_escape_regex(p) for p in ordered)
        return text.value.str.count_matches(pattern).cast(pl.Int64), "int", None

    def _between(self, args: list[Translated], nonnull: pl.Expr, per: float) -> _FnResult:
        start, end = args
        if start.kind == end.kind == "datetime":
            micros = (end.value - start.value).dt.total_microseconds()
            seconds = micros.cast(pl.Float64) / 1e6
            big = (micros.abs() > EXACT_INT).fill_null(False)
            return seconds / per, "float", big
        if start.kind == end.kind == "date":
            days = end.value.cast(pl.Int64) - start.value.cast(pl.Int64)
            return (days * 86400).cast(pl.Float64) / per, "float", None
        return pl.lit(None, dtype=pl.Float64), "float", nonnull

    def _fn_minutes_between(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._between(args, nonnull, 60.0)

    def _fn_hours_between(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        return self._between(args, nonnull, 3600.0)

    @staticmethod
    def _date_of(t: Translated) -> pl.Expr | None:
        if t.kind == "date":
            return t.value
        if t.kind == "datetime":
            return t.value.dt.date()
        return None

    def _fn_days_between(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        s, e = (self._date_of(a) for a in args)
        if s is None or e is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        return e.cast(pl.Int64) - s.cast(pl.Int64), "int", None

    def _fn_business_days_between(self, args: list[Translated], nonnull: pl.Expr) -> _FnResult:
        s, e = (self._date_of(a) for a in args)
        if s is None or e is None:
            return pl.lit(None, dtype=pl.Int64), "int", nonnull
        return business_days_expr(s, e, self.calendar), "int", None
