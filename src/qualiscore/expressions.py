"""The expression language of evaluation schemes.

Schemes compute derived values, filters and measures with small expressions such as
``first_response_s <= response_target_s[channel]``. They are a safe subset of Python
expression syntax, because schemes are written by people who are not programmers
and read by auditors, and because a scheme file must never be able to run code.

The life of an expression:

* :func:`parse` turns the text into an :class:`Expression` once, when the scheme is
  compiled. Anything outside the allow-list (attributes, comprehensions, lambdas,
  keyword arguments, dunder names, f-strings, …) is refused with the column of the
  offending node, so the error points inside the expression in the YAML file.
* :func:`iter_errors` also checks names, functions and arity against what the scheme
  declares, and yields every problem at once.
* :class:`Evaluator` (simpleeval underneath, with its limits on) evaluates the
  already-parsed tree for one record after another, with SQL-style null semantics:
  ``None`` is "missing", it propagates through operators and functions, and
  ``and``/``or``/``not`` are Kleene three-valued logic. Every value it builds is
  checked against the bounds below (:func:`check_value`), so no expression can make a
  value too large to compute with, to store as a number or to write as text.
* :class:`Folder` computes the parts of an expression that use no record value, with
  the same Evaluator and a budget of work, so that validation can refuse a part that
  can never be computed.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import simpleeval

from qualiscore.calendar import Calendar, as_date
from qualiscore.errors import ExpressionError, Location
from qualiscore.i18n import N_, _, ngettext

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_SIZE",
    "MAX_SOURCE",
    "Evaluator",
    "Expression",
    "Folded",
    "Folder",
    "FunctionSpec",
    "as_number",
    "check_value",
    "iter_errors",
    "parse",
    "size_of",
]

MAX_SOURCE = 2000  # characters of expression text
MAX_DEPTH = 50  # nesting of AST nodes
# Bounds of every value an expression builds (check_value):
MAX_INT_BITS = 1023  # |n| < 2**1023 (about 9e307): every integer is also a finite float
MAX_SIZE = 100_000  # characters of a text; items of a list, plus the sizes of its texts and lists
MAX_ROUND_DIGITS = 100  # |ndigits| of round(); int rounding to -10**9 digits would hang
FOLD_BUDGET = 10_000_000  # work units (about one per character or item) of constant folding per validation

# Error codes.
SYNTAX = "expression-syntax"
DISALLOWED = "disallowed-syntax"
TOO_LONG = "expression-too-long"
TOO_DEEP = "expression-too-deep"
UNKNOWN_NAME = "unknown-name"
UNKNOWN_FUNCTION = "unknown-function"
ARITY = "function-arity"
SUBSCRIPT_NOT_CONSTANT = "subscript-not-constant"
EVALUATION = "evaluation-error"
NEVER_COMPUTABLE = "never-computable"
EXCEL_HABIT = "excel-habit"

_ALLOWED_HINT = N_(
    "expressions may use fields, derived values, constants, literals, arithmetic, "
    "comparisons, in, and/or/not, 'a if c else b', constant[key] and the listed functions"
)


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function of the language: what validation checks and the docs list."""

    name: str
    min_args: int
    max_args: int | None  # None: no upper bound
    signature: str
    doc: str

    def arity_text(self) -> str:
        """How many arguments the function takes, in words."""
        if self.max_args is None:
            return _("at least {n} arguments", n=self.min_args)
        if self.min_args == self.max_args:
            return ngettext("exactly {n} argument", "exactly {n} arguments", self.min_args)
        if self.max_args == self.min_args + 1:
            return _("{low} or {high} arguments", low=self.min_args, high=self.max_args)
        return _("{low} to {high} arguments", low=self.min_args, high=self.max_args)

    def help_text(self) -> str:
        """The signature and what the function does, in the current language."""
        return _("{signature}: {doc}", signature=self.signature, doc=_(self.doc))


def _spec(name: str, min_args: int, max_args: int | None, signature: str, doc: str) -> FunctionSpec:
    return FunctionSpec(name, min_args, max_args, signature, doc)


FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            _spec("abs", 1, 1, "abs(x)", N_("Absolute value of a number.")),
            _spec("min", 2, None, "min(a, b, ...)", N_("Smallest of the arguments; null if any is null.")),
            _spec("max", 2, None, "max(a, b, ...)", N_("Largest of the arguments; null if any is null.")),
            _spec(
                "round",
                1,
                2,
                "round(x[, ndigits])",
                N_("Round half to even (Python's round); an integer without ndigits."),
            ),
            _spec("coalesce", 2, None, "coalesce(a, b, ...)", N_("The first argument that is not null.")),
            _spec("len", 1, 1, "len(s_or_list)", N_("Number of characters of a text or items of a list.")),
            _spec("lower", 1, 1, "lower(s)", N_("The text in lower case.")),
            _spec("upper", 1, 1, "upper(s)", N_("The text in upper case.")),
            _spec("contains", 2, 2, "contains(text, sub)",
                  N_("Whether sub occurs in text (case-sensitive).")),
            _spec(
                "contains_any",
                2,
                2,
                "contains_any(text, phrases)",
                N_("Whether any of the phrases (a list) occurs in text; empty phrases are ignored."),
            ),
            _spec(
                "count_matches",
                2,
                2,
                "count_matches(text, phrases)",
                N_("Total non-overlapping occurrences of the phrases in text "
                   "(longest phrase wins at a position)."),
            ),
            _spec(
                "minutes_between",
                2,
                2,
                "minutes_between(start, end)",
                N_("(end - start) in minutes, as a float."),
            ),
            _spec("hours_between", 2, 2, "hours_between(start, end)",
                  N_("(end - start) in hours, as a float.")),
            _spec(
                "days_between",
                2,
                2,
                "days_between(start, end)",
                N_("Calendar days from the date of start to the date of end (an integer)."),
            ),
            _spec(
                "business_days_between",
                2,
                2,
                "business_days_between(start, end)",
                N_("Business days in [start, end) by the scheme's calendar; negative if end < start."),
            ),
        )
    }
)


class _Failure(Exception):
    """An evaluation problem, raised inside the evaluator and turned into an ExpressionError."""

    def __init__(self, message: str, node: ast.AST | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.hint = hint


_TYPE_NAMES = {
    str: N_("text"),
    int: N_("integer"),
    float: N_("number"),
    bool: N_("boolean"),
    type(None): N_("null"),
    datetime: N_("datetime"),
    date: N_("date"),
    list: N_("list"),
    tuple: N_("list"),
    dict: N_("mapping"),
    timedelta: N_("duration"),
}


def _type_name(value: object) -> str:
    """The kind of a value as messages name it, in the current language."""
    name = _TYPE_NAMES.get(type(value))
    return _(name) if name is not None else type(value).__name__


def _need_text(fn: str, value: object) -> str:
    if not isinstance(value, str):
        raise _Failure(_("{fn}() expects text, got {kind}", fn=fn, kind=_type_name(value)))
    return value


def _need_number(fn: str, value: object) -> int | float:
    if not isinstance(value, (int, float)):
        raise _Failure(_("{fn}() expects a number, got {kind}", fn=fn, kind=_type_name(value)))
    return value


def _phrases(fn: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _Failure(
            _("{fn}() expects a list of phrases as its second argument, got {kind}",
              fn=fn, kind=_type_name(value)),
            hint=_("use contains(text, sub) for a single phrase, or a list constant"),
        )
    phrases = []
    for phrase in value:
        if phrase is None:
            continue
        if not isinstance(phrase, str):
            raise _Failure(_("{fn}() phrases must be text, got {kind}", fn=fn, kind=_type_name(phrase)))
        if phrase:
            phrases.append(phrase)
    return tuple(phrases)


@lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so that at one position "so sorry" wins over "sorry".
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    return re.compile("|".join(re.escape(p) for p in ordered))


def _fn_abs(x: Any) -> Any:
    return abs(_need_number("abs", x))


def _fn_min(*args: Any) -> Any:
    return min(args)


def _fn_max(*args: Any) -> Any:
    return max(args)


def _fn_round(x: Any, ndigits: Any = None) -> Any:
    _need_number("round", x)
    if ndigits is None:
        return round(x)
    if not isinstance(ndigits, int):
        raise _Failure(_("round() ndigits must be an integer, got {kind}", kind=_type_name(ndigits)))
    if abs(ndigits) > MAX_ROUND_DIGITS:
        raise _Failure(_("round() ndigits must be between -{limit} and {limit}", limit=MAX_ROUND_DIGITS))
    return round(x, ndigits)


def _fn_len(x: Any) -> int:
    if not isinstance(x, (str, list, tuple, Mapping)):
        raise _Failure(_("len() expects text or a list, got {kind}", kind=_type_name(x)))
    return len(x)


def _fn_lower(s: Any) -> str:
    return _need_text("lower", s).lower()


def _fn_upper(s: Any) -> str:
    return _need_text("upper", s).upper()


def _fn_contains(text: Any, sub: Any) -> bool:
    return _need_text("contains", sub) in _need_text("contains", text)


def _fn_contains_any(text: Any, phrases: Any) -> bool:
    haystack = _need_text("contains_any", text)
    return any(p in haystack for p in _phrases("contains_any", phrases))


def _fn_count_matches(text: Any, phrases: Any) -> int:
    haystack = _need_text("count_matches", text)
    wanted = _phrases("count_matches", phrases)
    if not wanted:
        return 0
    return sum(1 for _ in _phrase_pattern(wanted).finditer(haystack))


def _duration(fn: str, start: Any, end: Any) -> timedelta:
    for value in (start, end):
        if not isinstance(value, date):
            raise _Failure(_("{fn}() expects dates or datetimes, got {kind}", fn=fn, kind=_type_name(value)))
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise _Failure(_("{fn}() cannot mix a date and a datetime", fn=fn))
    try:
        return end - start
    except TypeError:
        raise _Failure(
            _("{fn}() cannot compare a datetime with a time zone and one without", fn=fn),
            hint=_("give every datetime field a time zone in the record contract"),
        ) from None


def _fn_minutes_between(start: Any, end: Any) -> float:
    return _duration("minutes_between", start, end).total_seconds() / 60.0


def _fn_hours_between(start: Any, end: Any) -> float:
    return _duration("hours_between", start, end).total_seconds() / 3600.0


def _dates(fn: str, start: Any, end: Any) -> tuple[date, date]:
    try:
        return as_date(start), as_date(end)
    except TypeError as exc:
        raise _Failure(_("{fn}() {problem}", fn=fn, problem=exc)) from None


def _fn_days_between(start: Any, end: Any) -> int:
    s, e = _dates("days_between", start, end)
    return (e - s).days


_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "abs": _fn_abs,
    "min": _fn_min,
    "max": _fn_max,
    "round": _fn_round,
    "coalesce": lambda *args: next((a for a in args if a is not None), None),
    "len": _fn_len,
    "lower": _fn_lower,
    "upper": _fn_upper,
    "contains": _fn_contains,
    "contains_any": _fn_contains_any,
    "count_matches": _fn_count_matches,
    "minutes_between": _fn_minutes_between,
    "hours_between": _fn_hours_between,
    "days_between": _fn_days_between,
    # business_days_between is bound to the evaluator's calendar.
}
assert set(_IMPLEMENTATIONS) | {"business_days_between"} == set(FUNCTIONS)


# --------------------------------------------------------------------------- bounds
# Every value an expression builds stays within MAX_INT_BITS and MAX_SIZE and is text that
# can be written as UTF-8: the Evaluator checks the result of each operation with
# check_value. Repetition and powers, whose work grows with the result, check first.

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SCALARS = frozenset({bool, int, float, type(None), datetime, date})
_INT_HINT = N_("integers stay below 2**1023 (about 9e307), so that every integer is also a number")
_SIZE_HINT = N_("expressions may not build very long texts or lists")


def size_of(value: object, limit: int = MAX_SIZE) -> int:
    """The size of a text (its characters) or of a list or mapping (its items, plus the sizes of
    the texts, lists and mappings in it); 0 for anything else.

    Counting stops once it passes ``limit``, so it takes at most about ``limit`` steps however
    often the value repeats its parts (``[['a'] * 100000] * 100000`` is 10**10 items).
    """
    if type(value) is str:
        return len(value)
    total = 0
    stack: list[Any] = [value]
    while stack and total <= limit:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item)
        elif kind is list or kind is tuple:
            total += len(item)
            stack.extend(item)
        elif kind not in _SCALARS and isinstance(item, Mapping):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
    return total


def _too_large(value: object, size: int) -> _Failure:
    if isinstance(value, str):
        return _Failure(
            _("the result would be a text of {size:,} characters; the limit is {limit:,}",
              size=size, limit=MAX_SIZE),
            hint=_(_SIZE_HINT),
        )
    return _Failure(
        _("the result would be a list larger than {limit:,} (counting its items and the characters "
          "and items inside them)", limit=MAX_SIZE),
        hint=_(_SIZE_HINT),
    )


def _int_too_large(bits: int | None) -> _Failure:
    if bits is None:
        message = _("the result would be an integer of more than {limit:,} bits; the limit is {limit:,} bits",
                    limit=MAX_INT_BITS)
    else:
        message = _("the result would be an integer of {bits:,} bits; the limit is {limit:,} bits",
                    bits=bits, limit=MAX_INT_BITS)
    return _Failure(message, hint=_(_INT_HINT))


def check_value(value: object) -> None:
    """Refuse a value outside the bounds of the language (the Evaluator reports it as an evaluation-error).

    An integer may have at most MAX_INT_BITS bits, so it is also a finite float; a text at
    most MAX_SIZE characters, none of them a lone surrogate (which no UTF-8 output can hold);
    a list or mapping a size (:func:`size_of`) of at most MAX_SIZE.
    """
    kind = type(value)
    if kind is int:
        bits = value.bit_length()  # type: ignore[attr-defined]
        if bits > MAX_INT_BITS:
            raise _int_too_large(bits)
    elif kind is str:
        assert isinstance(value, str)
        if len(value) > MAX_SIZE:
            raise _too_large(value, len(value))
        if not value.isascii() and _SURROGATE.search(value):
            raise _Failure(
                _("the result holds a lone surrogate (a \\ud800-\\udfff escape), which is not text"),
                hint=_("write the character itself"),
            )
    elif kind in (list, tuple, dict):
        size = size_of(value)
        if size > MAX_SIZE:
            raise _too_large(value, size)


# --------------------------------------------------------------------------- operators
# Null-aware versions of the operators: a None operand gives None. Limits follow
# simpleeval's MAX_POWER, plus the bounds above.

_SEQUENCES = (str, list, tuple)


def _op_add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return a + b


def _op_sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    result = a - b
    if type(result) is timedelta:
        raise _Failure(
            _("cannot subtract dates or datetimes directly"),
            hint=_("use minutes_between, hours_between, days_between or business_days_between"),
        )
    return result


def _op_mult(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int) and times > 0:
            size = size_of(seq) * times
            if size > MAX_SIZE:
                raise _too_large(seq, size)
    return a * b


def _op_div(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        return a / b
    except ZeroDivisionError:
        return None


def _op_floordiv(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        return a // b
    except ZeroDivisionError:
        return None


def _op_mod(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, str):
        # '%' on text is printf-style formatting: refuse it, widths like '%0999999999d' allocate.
        raise _Failure(_("'%' on text is not supported"), hint=_("'%' is the remainder of numbers"))
    try:
        return a % b
    except ZeroDivisionError:
        return None


def _op_pow(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        raise TypeError(_("unsupported operand types"))
    if abs(a) > simpleeval.MAX_POWER or abs(b) > simpleeval.MAX_POWER:
        raise _Failure(_("refusing to compute a power this large (limit {limit})",
                         limit=simpleeval.MAX_POWER))
    if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b * math.log2(abs(a)) > MAX_INT_BITS + 1:
        raise _int_too_large(None)  # check_value decides near the bound; this only avoids the work
    try:
        result = a**b
    except ZeroDivisionError:
        return None
    if type(result) is complex:
        raise _Failure(_("the power of a negative number to a fraction is not a real number"))
    return result


def _null_aware(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def op(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        return fn(a, b)

    op.__name__ = getattr(fn, "__name__", "op")
    return op


def _op_in(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return a in b


def _op_not_in(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return a not in b


def _op_neg(a: Any) -> Any:
    return None if a is None else -a


def _op_pos(a: Any) -> Any:
    return None if a is None else +a


def _op_not(a: Any) -> Any:
    return None if a is None else not a


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _op_add,
    ast.Sub: _op_sub,
    ast.Mult: _op_mult,
    ast.Div: _op_div,
    ast.FloorDiv: _op_floordiv,
    ast.Mod: _op_mod,
    ast.Pow: _op_pow,
    ast.Eq: _null_aware(lambda a, b: a == b),
    ast.NotEq: _null_aware(lambda a, b: a != b),
    ast.Lt: _null_aware(lambda a, b: a < b),
    ast.LtE: _null_aware(lambda a, b: a <= b),
    ast.Gt: _null_aware(lambda a, b: a > b),
    ast.GtE: _null_aware(lambda a, b: a >= b),
    ast.In: _op_in,
    ast.NotIn: _op_not_in,
    ast.Is: lambda a, b: a is b,  # only ever `x is None`
    ast.IsNot: lambda a, b: a is not b,
    ast.USub: _op_neg,
    ast.UAdd: _op_pos,
    ast.Not: _op_not,
}

_SYMBOLS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "not",
    ast.Invert: "~",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}

_BINOPS = frozenset({ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow})
_UNARYOPS = frozenset({ast.USub, ast.UAdd, ast.Not})


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class Expression:
    """An expression parsed once at compile time, with the names and functions it uses."""

    source: str
    tree: ast.Expression  # parsed once; evaluators walk it, never re-parse the source
    names: frozenset[str]  # free names (fields, derived values, constants), not functions
    functions: frozenset[str]
    # Where the first character is in the scheme file, so evaluation errors can say where.
    location: Location | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.source


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _text_location(source: str, base: Location | None, lineno: int, char_col: int) -> Location:
    """Where character ``char_col`` of line ``lineno`` of the parsed (left-stripped) text is.

    Without a base location the position is relative to the expression itself
    (line 1, column 1 = its first character).
    """
    text = source.lstrip()
    lead = _NEWLINE.split(source[: len(source) - len(text)])
    line0 = len(lead) - 1 + max(lineno, 1) - 1
    col = char_col + (len(lead[-1]) if lineno <= 1 else 0)
    # Keep the column inside the expression text.
    source_lines = _NEWLINE.split(source)
    if line0 < len(source_lines):
        col = max(0, min(col, max(len(source_lines[line0]) - 1, 0)))
    if base is None:
        return Location(line=line0 + 1, column=col + 1)
    if base.chars is not None:  # the loader knows where each character of the value came from
        return base.shifted(sum(len(line) + 1 for line in source_lines[:line0]) + col)
    if line0 == 0:
        return base.shifted(col)
    return replace(
        base,
        line=None if base.line is None else base.line + line0,
        column=None if base.column is None else base.column + col,
    )


def node_location(source: str, base: Location | None, node: ast.AST) -> Location:
    """The location of an AST node (whose col_offset counts UTF-8 bytes)."""
    lineno = getattr(node, "lineno", 1)
    byte_col = getattr(node, "col_offset", 0)
    lines = _NEWLINE.split(source.lstrip())
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    char_col = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
    return _text_location(source, base, lineno, char_col)


def _as_source(source: object) -> str:
    """The expression text; YAML may give a bare boolean or number (``count: true``)."""
    if isinstance(source, str):
        return source
    if isinstance(source, bool):
        return "True" if source else "False"
    if isinstance(source, int):
        if source.bit_length() > MAX_SOURCE * 4:
            raise ExpressionError(_("this number is too long for an expression"), code=TOO_LONG)
        return str(source)
    if isinstance(source, float):
        if not math.isfinite(source):
            raise ExpressionError(
                _("{value!r} is not a finite number", value=source),
                code=SYNTAX,
                hint=_("write a finite number"),
            )
        return repr(source)
    raise ExpressionError(
        _("expected an expression (text, number or boolean), got {kind}", kind=type(source).__name__),
        code=SYNTAX,
        hint=_("quote the expression in YAML"),
    )


def _syntax_error(source: str, base: Location | None, exc: SyntaxError) -> ExpressionError:
    text = source.lstrip()
    lines = _NEWLINE.split(text)
    lineno = exc.lineno or 1
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    msg = exc.msg or "invalid syntax"
    if "too many nested parentheses" in msg:
        return ExpressionError(
            _("expression is nested too deeply (at most {limit} levels)", limit=MAX_DEPTH),
            location=_text_location(source, base, lineno, (exc.offset or 1) - 1),
            code=TOO_DEEP,
        )
    excel = _excel_habit(text)
    if excel is not None:
        (excel_line, excel_col), message, excel_hint = excel
        return ExpressionError(message, location=_text_location(source, base, excel_line, excel_col),
                               hint=excel_hint, code=EXCEL_HABIT)
    hint = None
    if not exc.offset:
        # The parser ran out of input: point at the end of the text.
        ends = _NEWLINE.split(text.rstrip())
        lineno = len(ends)
        col = len(ends[-1])
        msg = "incomplete expression" if msg == "invalid syntax" else msg
    else:
        col = min(exc.offset - 1, len(line))
    if len(_NEWLINE.split(text.rstrip())) > 1:
        hint = _("wrap an expression that spans several lines in parentheses")
    elif msg == "invalid syntax":
        hint = _("check for a missing operator, quote or parenthesis")
    return ExpressionError(
        _("syntax error: {message}", message=_python_syntax(msg)),
        location=_text_location(source, base, lineno, col),
        hint=hint,
        code=SYNTAX,
    )


# Python's words for the syntax errors met most, so that they can be translated; any other
# message is shown as Python words it.
_PYTHON_SYNTAX: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), m) for p, m in (
    (r"invalid syntax", N_("invalid syntax")),
    (r"incomplete expression", N_("incomplete expression")),
    (r"invalid syntax\. Perhaps you forgot a comma\?", N_("invalid syntax. Perhaps you forgot a comma?")),
    (r"'(?P<bracket>.)' was never closed", N_("'{bracket}' was never closed")),
    (r"unmatched '(?P<bracket>.)'", N_("unmatched '{bracket}'")),
    (r"closing parenthesis '(?P<closing>.)' does not match opening parenthesis '(?P<opening>.)'",
     N_("closing parenthesis '{closing}' does not match opening parenthesis '{opening}'")),
    (r"closing parenthesis '(?P<closing>.)' does not match opening parenthesis '(?P<opening>.)'"
     r" on line (?P<line>\d+)",
     N_("closing parenthesis '{closing}' does not match opening parenthesis '{opening}' on line {line}")),
    (r"unterminated string literal \(detected at line (?P<line>\d+)\)",
     N_("unterminated string literal (detected at line {line})")),
    (r"unterminated triple-quoted string literal \(detected at line (?P<line>\d+)\)",
     N_("unterminated triple-quoted string literal (detected at line {line})")),
    (r"invalid decimal literal", N_("invalid decimal literal")),
    (r"invalid character '(?P<char>.)' \(U\+(?P<code>[0-9A-F]+)\)",
     N_("invalid character '{char}' (U+{code})")),
    (r"expected 'else' after 'if' expression", N_("expected 'else' after 'if' expression")),
))


def _python_syntax(message: str) -> str:
    """Python's syntax error message, in the current language when it is one of _PYTHON_SYNTAX."""
    for pattern, text in _PYTHON_SYNTAX:
        match = pattern.fullmatch(message)
        if match is not None:
            return _(text, **match.groupdict())
    return message


# Excel's spellings, found outside quoted text: "<>", a lone "=", and upper-case AND/OR/NOT.
_EXCEL = re.compile(r"(?P<ne><>)|(?P<eq>(?<![=!<>])=(?![=]))|\b(?P<word>AND|OR|NOT)\b")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _excel_habit(text: str) -> tuple[tuple[int, int], str, str] | None:
    """Where a formula written the Excel way fails to parse, the message that says so and its fix.

    Only called for a syntax error, so a valid expression is never second-guessed.
    """
    bare = _QUOTED.sub(lambda m: " " * len(m[0]), text)
    match = _EXCEL.search(bare)
    if match is None:
        return None
    before = bare[: match.start()]
    lines = _NEWLINE.split(before)
    where = (len(lines), len(lines[-1]))
    caps = sorted(set(re.findall(r"\b(TRUE|FALSE)\b", bare)))
    also = "".join(_(" (and {word} → {fixed})", word=c, fixed=c.capitalize()) for c in caps)
    if match["ne"]:
        return where, _("'<>' means 'not equal' in Excel; write '!='") + also, _("write a != b")
    if match["eq"]:
        return where, _("'=' compares in Excel; write '=='") + also, _("write a == b to compare")
    word = match["word"]
    return where, _("{word} is Excel's spelling; write '{fixed}'", word=word, fixed=word.lower()) + also, (
        _("write a {word} b in lower case", word=word.lower()) if word != "NOT"
        else _("write not a in lower case"))


def _depth_error(source: str, base: Location | None, tree: ast.AST) -> ExpressionError | None:
    """Refuse trees nested deeper than MAX_DEPTH, without recursing."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return ExpressionError(
                _("expression is nested too deeply (at most {limit} levels)", limit=MAX_DEPTH),
                location=node_location(source, base, node),
                hint=_("split it into derived values"),
                code=TOO_DEEP,
            )
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
                continue
            stack.append((child, depth + 1))
    return None


# The message and hint of each refused node, translated where they are reported.
_REFUSED: dict[type, tuple[str, str | None]] = {
    ast.Attribute: (N_("attribute access is not allowed"),
                    N_("use a function such as lower(x) instead of methods")),
    ast.JoinedStr: (N_("f-strings are not allowed"), None),
    ast.FormattedValue: (N_("f-strings are not allowed"), None),
    ast.Dict: (N_("dict literals are not allowed"),
               N_("define a mapping under constants and write name[key]")),
    ast.Set: (N_("set literals are not allowed"), N_("use a list: x in [1, 2, 3]")),
    ast.ListComp: (N_("comprehensions are not allowed"), None),
    ast.SetComp: (N_("comprehensions are not allowed"), None),
    ast.DictComp: (N_("comprehensions are not allowed"), None),
    ast.GeneratorExp: (N_("generator expressions are not allowed"), None),
    ast.Lambda: (N_("lambdas are not allowed"), None),
    ast.NamedExpr: (N_("assignment expressions (:=) are not allowed"), N_("use a derived value")),
    ast.Starred: (N_("starred arguments (*x) are not allowed"), N_("pass arguments one by one")),
    ast.Await: (N_("await is not allowed"), None),
    ast.Yield: (N_("yield is not allowed"), None),
    ast.YieldFrom: (N_("yield is not allowed"), None),
    ast.Slice: (N_("slices are not allowed"), N_("look up one key or index: name[key]")),
}


class _Checker:
    """Walks a parsed tree and records every node outside the allow-list."""

    def __init__(self, source: str, base: Location | None) -> None:
        self.source = source
        self.base = base
        self.errors: list[tuple[tuple[int, int], ExpressionError]] = []
        self.names: set[str] = set()
        self.functions: set[str] = set()

    def refuse(self, node: ast.AST, message: str, hint: str | None = None) -> None:
        error = ExpressionError(
            message,
            location=node_location(self.source, self.base, node),
            hint=hint or _(_ALLOWED_HINT),
            code=DISALLOWED,
        )
        self.errors.append(((getattr(node, "lineno", 0), getattr(node, "col_offset", 0)), error))

    def name(self, node: ast.Name) -> bool:
        if node.id.startswith("_"):
            self.refuse(node, _("names starting with '_' are not allowed ({name!r})", name=node.id))
            return False
        return True

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Constant:
            assert isinstance(node, ast.Constant)
            value = node.value
            if value is None or type(value) in (bool, int, float, str):
                return
            if isinstance(value, bytes):
                self.refuse(node, _("bytes literals are not allowed"), _("use a text literal: 'abc'"))
            elif value is Ellipsis:
                self.refuse(node, _("'...' is not allowed"))
            else:
                self.refuse(node, _("{kind} literals are not allowed", kind=type(value).__name__))
        elif kind is ast.Name:
            assert isinstance(node, ast.Name)
            if self.name(node):
                self.names.add(node.id)
        elif kind is ast.BinOp:
            assert isinstance(node, ast.BinOp)
            if type(node.op) not in _BINOPS:
                symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
                self.refuse(node, _("the operator '{symbol}' is not allowed", symbol=symbol))
            self.visit(node.left)
            self.visit(node.right)
        elif kind is ast.UnaryOp:
            assert isinstance(node, ast.UnaryOp)
            if type(node.op) not in _UNARYOPS:
                symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
                self.refuse(node, _("the operator '{symbol}' is not allowed", symbol=symbol))
            self.visit(node.operand)
        elif kind is ast.BoolOp:
            assert isinstance(node, ast.BoolOp)
            for operand in node.values:
                self.visit(operand)
        elif kind is ast.Compare:
            assert isinstance(node, ast.Compare)
            self.visit(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                if type(op) in (ast.Is, ast.IsNot) and not (
                    type(comparator) is ast.Constant and comparator.value is None
                ):
                    word = _SYMBOLS[type(op)]
                    self.refuse(
                        comparator,
                        _("'{word}' may only be followed by None", word=word),
                        _("write 'x {word} None', or use == / != to compare values", word=word),
                    )
                    continue
                self.visit(comparator)
        elif kind is ast.IfExp:
            assert isinstance(node, ast.IfExp)
            self.visit(node.test)
            self.visit(node.body)
            self.visit(node.orelse)
        elif kind is ast.Call:
            assert isinstance(node, ast.Call)
            self.call(node)
        elif kind is ast.Subscript:
            assert isinstance(node, ast.Subscript)
            if type(node.value) is not ast.Name:
                self.refuse(
                    node,
                    _("only a constant can be subscripted"),
                    _("define a mapping or list under constants and write name[key]"),
                )
            elif self.name(node.value):
                self.names.add(node.value.id)
            if type(node.slice) is ast.Slice:
                self.refuse_kind(node.slice, ast.Slice)
            elif type(node.value) is ast.Name:
                self.visit(node.slice)
        elif kind in (ast.List, ast.Tuple):
            assert isinstance(node, (ast.List, ast.Tuple))
            for element in node.elts:
                self.visit(element)
        else:
            self.refuse_kind(node, kind)

    def refuse_kind(self, node: ast.AST, kind: type) -> None:
        """Refuse a node of a kind the language has no place for, with the words _REFUSED has for it."""
        if kind not in _REFUSED:
            self.refuse(node, _("{node} is not allowed in expressions", node=kind.__name__))
            return
        message, hint = _REFUSED[kind]
        self.refuse(node, _(message), _(hint) if hint is not None else None)

    def call(self, node: ast.Call) -> None:
        func = node.func
        if type(func) is not ast.Name:
            self.refuse(
                node,
                _("only the functions of the expression language can be called, by name"),
                _("write e.g. lower(x), not x.lower()"),
            )
            return
        if not self.name(func):
            return
        self.functions.add(func.id)
        for keyword in node.keywords:
            if keyword.arg is None:
                self.refuse(keyword, _("'**' arguments are not allowed"), _("pass arguments by position"))
            else:
                self.refuse(
                    keyword,
                    _("keyword arguments are not allowed ({name}=...)", name=keyword.arg),
                    _("pass arguments by position"),
                )
        for arg in node.args:
            self.visit(arg)


def _compile(source: object, location: Location | None) -> tuple[Expression | None, list[ExpressionError]]:
    """Parse and allow-list check; the Expression, or every syntax problem found."""
    try:
        text_source = _as_source(source)
    except ExpressionError as exc:
        exc.location = location
        return None, [exc]
    if len(text_source) > MAX_SOURCE:
        return None, [
            ExpressionError(
                _("expression is {length} characters long; the limit is {limit}",
                  length=len(text_source), limit=MAX_SOURCE),
                location=_text_location(text_source, location, 1, 0),
                hint=_("split it into derived values"),
                code=TOO_LONG,
            )
        ]
    text = text_source.lstrip()
    if not text.strip():
        return None, [
            ExpressionError(
                _("empty expression"),
                location=location,
                hint=_("write an expression, e.g. csat >= 4"),
                code=SYNTAX,
            )
        ]
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in string literals warn while parsing; keep them literal.
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        return None, [_syntax_error(text_source, location, exc)]
    except (RecursionError, MemoryError):
        return None, [
            ExpressionError(
                _("expression is nested too deeply (at most {limit} levels)", limit=MAX_DEPTH),
                location=_text_location(text_source, location, 1, 0),
                code=TOO_DEEP,
            )
        ]
    except ValueError as exc:  # e.g. null bytes, on older Pythons
        return None, [
            ExpressionError(
                _("syntax error: {message}", message=exc),
                location=_text_location(text_source, location, 1, 0),
                code=SYNTAX,
            )
        ]
    depth_error = _depth_error(text_source, location, tree.body)
    if depth_error is not None:
        return None, [depth_error]
    checker = _Checker(text_source, location)
    checker.visit(tree.body)
    if checker.errors:
        checker.errors.sort(key=lambda item: item[0])
        return None, [error for _, error in checker.errors]
    expression = Expression(
        source=text_source,
        tree=tree,
        names=frozenset(checker.names),
        functions=frozenset(checker.functions),
        location=location,
    )
    return expression, []


def parse(source: str | int | float | bool, *, location: Location | None = None) -> Expression:
    """Parse an expression once, refusing anything outside the allow-list.

    ``location`` is where the expression's first character is in the scheme file;
    errors point at the offending column inside the expression. Raises
    ExpressionError with code expression-syntax (excel-habit for a formula written
    the Excel way), disallowed-syntax, expression-too-long or expression-too-deep.
    """
    expression, errors = _compile(source, location)
    if errors:
        raise errors[0]
    assert expression is not None
    return expression


_KINDS = {"field": N_("a field"), "derived": N_("a derived value"), "constant": N_("a constant")}
_LITERAL_SPELLINGS = {"true": "True", "false": "False", "none": "None", "null": "None", "nil": "None"}


def _kind_text(kind: str) -> str:
    """What a kind of name is, in words: "a field", "a derived value", "a constant"."""
    return _(_KINDS[kind]) if kind in _KINDS else kind


def _suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest known spelling of ``word``, for "did you mean" hints."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node, parents first; the name of a called function is not visited as a name."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(node, ast.Call) and child is node.func:
            continue
        yield from _walk(child)


def iter_errors(
    source: str | int | float | bool,
    *,
    names: Mapping[str, str],
    location: Location | None = None,
) -> Iterator[ExpressionError]:
    """Every problem of an expression, for validation to report all at once.

    ``names`` maps each known name to its kind: "field", "derived" or "constant".
    Syntax and allow-list problems come first and stop the check; then unknown
    names, unknown functions, wrong arity and subscripts of non-constants.
    """
    expression, errors = _compile(source, location)
    if errors:
        yield from errors
        return
    assert expression is not None
    text = expression.source
    found: list[tuple[tuple[int, int], ExpressionError]] = []

    def add(node: ast.AST, error: ExpressionError) -> None:
        error.location = node_location(text, location, node)
        found.append(((getattr(node, "lineno", 0), getattr(node, "col_offset", 0)), error))

    reported: set[str] = set()
    for node in _walk(expression.tree.body):
        if isinstance(node, ast.Name) and node.id not in names and node.id not in reported:
            reported.add(node.id)
            add(node, _unknown_name(node.id, names))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            spec = FUNCTIONS.get(node.func.id)
            if spec is None:
                add(node.func, _unknown_function(node.func.id, names))
            elif len(node.args) < spec.min_args or (
                spec.max_args is not None and len(node.args) > spec.max_args
            ):
                add(
                    node,
                    ExpressionError(
                        _("{name}() takes {arity}, got {count}", name=spec.name, arity=spec.arity_text(),
                          count=len(node.args)),
                        hint=spec.help_text(),
                        code=ARITY,
                    ),
                )
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            kind = names.get(node.value.id)
            if kind is not None and kind != "constant":
                add(
                    node,
                    ExpressionError(
                        _("'{name}' is {kind}, not a constant; only constants can be subscripted",
                          name=node.value.id, kind=_kind_text(kind)),
                        hint=_("define a mapping or list under constants and write name[key]"),
                        code=SUBSCRIPT_NOT_CONSTANT,
                    ),
                )
    found.sort(key=lambda item: item[0])
    for _position, error in found:
        yield error


def _unknown_name(name: str, names: Mapping[str, str]) -> ExpressionError:
    hint = None
    if name in ("TRUE", "FALSE"):
        hint = _("{word} is Excel's spelling; write {fixed}", word=name, fixed=name.capitalize())
    elif name.lower() in _LITERAL_SPELLINGS:
        hint = _("did you mean {spelling}? (capitalised)", spelling=_LITERAL_SPELLINGS[name.lower()])
    elif name in FUNCTIONS:
        hint = _("'{name}' is a function: call it, e.g. {signature}",
                 name=name, signature=FUNCTIONS[name].signature)
    else:
        match = _suggest(name, names)
        if match is not None:
            hint = _("did you mean '{match}'?", match=match)
        else:
            hint = _("declare it as a field, a derived value or a constant")
    return ExpressionError(
        _("'{name}' is not a field, derived value or constant", name=name), hint=hint, code=UNKNOWN_NAME
    )


def _unknown_function(name: str, names: Mapping[str, str]) -> ExpressionError:
    match = _suggest(name, FUNCTIONS)
    if match is not None:
        hint = _("did you mean '{match}'?", match=match)
    else:
        hint = _("the functions are: {names}", names=", ".join(sorted(FUNCTIONS)))
    if name in names:
        message = _("'{name}' is {kind}, not a function", name=name, kind=_kind_text(names[name]))
    else:
        message = _("'{name}' is not a function of the expression language", name=name)
    return ExpressionError(message, hint=hint, code=UNKNOWN_FUNCTION)


# --------------------------------------------------------------------------- evaluation

_VALUE_TYPES = frozenset({str, int, float, bool, type(None), datetime, date, list, tuple, dict})
# check_value looks at the values that nodes build. A name, `a if c else b`, `constant[key]`,
# coalesce, min and max pass on a value that exists already (a record value, a constant,
# an operand); comparisons and logic give booleans. Only these types have bounds.
_BUILDING = frozenset({ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.List, ast.Tuple})
_SELECTING = frozenset({"coalesce", "min", "max"})
_MISSING = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _check_constant(value: object, path: str) -> None:
    """Constants must be plain data: no functions, modules, sets or objects (simpleeval advisories)."""
    kind = type(value)
    if kind in (str, int, float, bool, type(None), datetime, date):
        return
    if kind in (list, tuple):
        assert isinstance(value, (list, tuple))
        for i, item in enumerate(value):
            _check_constant(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) not in (str, int, float, bool, date):
                raise TypeError(_("constant {path} has a key of type {kind}",
                                  path=path, kind=type(key).__name__))
            _check_constant(item, f"{path}[{key!r}]")
    else:
        raise TypeError(_("constant {path} is a {kind}; constants must be plain data",
                          path=path, kind=kind.__name__))


class Evaluator(simpleeval.SimpleEval):
    """Evaluates parsed expressions for one record environment at a time.

    Built on simpleeval: the tree parsed by :func:`parse` is handed over as
    ``previously_parsed``, so nothing is parsed per record. Only the allowed node
    types have handlers, operators are null-aware, ``and``/``or``/``not`` are
    Kleene, and every failure becomes an ExpressionError(code="evaluation-error").
    Not thread-safe: use one Evaluator per thread.
    """

    def __init__(self, constants: Mapping[str, Any], calendar: Calendar | None = None) -> None:
        for name, value in constants.items():
            _check_constant(value, repr(name))
        self.constants: Mapping[str, Any] = constants
        self.calendar = calendar if calendar is not None else Calendar()
        functions = dict(_IMPLEMENTATIONS)
        functions["business_days_between"] = self._business_days_between
        super().__init__(operators=dict(_OPERATORS), functions=functions, names={})
        # Replace simpleeval's node table: only the allow-listed nodes can be evaluated,
        # even for a hand-built tree.
        self.nodes = {
            ast.Constant: self._eval_constant,
            ast.Name: self._eval_name,
            ast.BinOp: self._eval_binop,
            ast.UnaryOp: self._eval_unaryop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.IfExp: self._eval_ifexp,
            ast.Call: self._eval_call,
            ast.Subscript: self._eval_subscript,
            ast.List: self._eval_list,
            ast.Tuple: self._eval_tuple,
        }
        self._env: Mapping[str, Any] = _EMPTY

    def evaluate(self, expr: Expression, env: Mapping[str, Any]) -> Any:
        """The value of ``expr`` for one record; ``env`` holds its fields and derived values."""
        self._env = env
        try:
            result = self.eval(expr.source, previously_parsed=expr.tree.body)
        except _Failure as failure:
            raise _evaluation_error(expr, failure.node, failure.message, failure.hint) from None
        except ExpressionError:
            raise
        except Exception as exc:  # never let a raw Python exception out of an expression
            raise _evaluation_error(expr, None, f"{type(exc).__name__}: {exc}", None) from exc
        finally:
            self._env = _EMPTY
        if type(result) not in _VALUE_TYPES and not isinstance(result, Mapping):
            raise _evaluation_error(
                expr, None, _("the expression produced an unsupported value ({kind})",
                              kind=type(result).__name__),
                None,
            )
        return result

    # simpleeval hooks --------------------------------------------------------------

    def _eval(self, node: Any) -> Any:
        try:
            handler = self.nodes[type(node)]
        except KeyError:
            raise _Failure(_("{node} is not allowed in expressions",
                             node=type(node).__name__), node) from None
        value = handler(node)
        # check_value, with its common cases inline: this runs for every node of every record.
        kind = type(value)
        if kind is int:
            if value.bit_length() > MAX_INT_BITS and type(node) in _BUILDING:
                self._check(value, node)
        elif kind is str:
            if (len(value) > MAX_SIZE or not value.isascii()) and type(node) in _BUILDING:
                self._check(value, node)
        elif (kind is list or kind is tuple or kind is dict) and type(node) in _BUILDING:
            self._check(value, node)
        return value

    @staticmethod
    def _check(value: Any, node: Any) -> None:
        """check_value on the value a node built; coalesce, min and max only pass one on."""
        if type(node) is ast.Call and getattr(node.func, "id", None) in _SELECTING:
            return
        try:
            check_value(value)
        except _Failure as failure:
            failure.node = node
            raise

    @staticmethod
    def _eval_constant(node: Any) -> Any:
        return node.value

    def _eval_name(self, node: Any) -> Any:
        value = self._env.get(node.id, _MISSING)
        if value is _MISSING:
            value = self.constants.get(node.id, _MISSING)
            if value is _MISSING:
                raise _Failure(_("'{name}' is not defined for this record", name=node.id), node)
        return value

    def _eval_binop(self, node: Any) -> Any:
        left = self._eval(node.left)
        right = self._eval(node.right)
        try:
            return self.operators[type(node.op)](left, right)
        except _Failure as failure:
            failure.node = failure.node or node
            raise
        except KeyError:
            raise _Failure(_("the operator {name} is not allowed",
                             name=type(node.op).__name__), node) from None
        except (TypeError, ValueError) as exc:
            symbol = _SYMBOLS.get(type(node.op), "?")
            raise _Failure(
                _("cannot apply '{symbol}' to {left} and {right}", symbol=symbol, left=_type_name(left),
                  right=_type_name(right)), node
            ) from exc
        except (OverflowError, MemoryError) as exc:
            raise _Failure(_("the result of '{symbol}' is too large",
                             symbol=_SYMBOLS.get(type(node.op), "?")),
                           node) from exc

    def _eval_unaryop(self, node: Any) -> Any:
        operand = self._eval(node.operand)
        try:
            return self.operators[type(node.op)](operand)
        except KeyError:
            raise _Failure(_("the operator {name} is not allowed",
                             name=type(node.op).__name__), node) from None
        except (TypeError, ValueError) as exc:
            symbol = _SYMBOLS.get(type(node.op), "?")
            raise _Failure(_("cannot apply unary '{symbol}' to {kind}",
                             symbol=symbol, kind=_type_name(operand)),
                           node) from exc

    def _eval_boolop(self, node: Any) -> Any:
        # Kleene logic: False decides 'and', True decides 'or', otherwise None wins over the rest.
        if type(node.op) is ast.And:
            result: bool | None = True
            for value_node in node.values:
                value = self._eval(value_node)
                if value is None:
                    result = None
                elif not value:
                    return False
            return result
        result = False
        for value_node in node.values:
            value = self._eval(value_node)
            if value is None:
                result = None
            elif value:
                return True
        return result

    def _eval_compare(self, node: Any) -> Any:
        # A chain a < b < c is (a < b) and (b < c), with Kleene 'and'.
        left = self._eval(node.left)
        result: bool | None = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator)
            kind = type(op)
            if kind is ast.Is or kind is ast.IsNot:
                if right is not None:
                    raise _Failure(_("'{word}' may only be followed by None", word="is"), node)
                outcome: Any = (left is None) if kind is ast.Is else (left is not None)
            else:
                try:
                    outcome = self.operators[kind](left, right)
                except KeyError:
                    raise _Failure(_("the comparison {name} is not allowed",
                                     name=kind.__name__), node) from None
                except (TypeError, ValueError) as exc:
                    symbol = _SYMBOLS.get(kind, "?")
                    if kind is ast.In or kind is ast.NotIn:
                        message = _("cannot test '{symbol}' {kind}", symbol=symbol, kind=_type_name(right))
                    else:
                        message = _("cannot compare {left} and {right} with '{symbol}'",
                                    left=_type_name(left),
                                    right=_type_name(right), symbol=symbol)
                    raise _Failure(message, node) from exc
            if outcome is None:
                result = None
            elif not outcome:
                return False
            left = right
        return result

    def _eval_ifexp(self, node: Any) -> Any:
        test = self._eval(node.test)
        if test is None:
            return None
        return self._eval(node.body) if test else self._eval(node.orelse)

    def _eval_call(self, node: Any) -> Any:
        func = node.func
        if type(func) is not ast.Name or node.keywords:
            raise _Failure(_("only the functions of the expression language can be called"), node)
        name = func.id
        impl = self.functions.get(name)
        spec = FUNCTIONS.get(name)
        if impl is None or spec is None:
            raise _Failure(_("'{name}' is not a function of the expression language", name=name), node)
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise _Failure(_("{name}() takes {arity}, got {count}",
                             name=name, arity=spec.arity_text(), count=count),
                           node)
        if name == "coalesce":
            for arg in node.args:
                value = self._eval(arg)
                if value is not None:
                    return value
            return None
        args = [self._eval(arg) for arg in node.args]
        for value in args:
            if value is None:
                return None
        try:
            return impl(*args)
        except _Failure as failure:
            failure.node = failure.node or node
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            kinds = ", ".join(_type_name(a) for a in args)
            raise _Failure(_("{name}() cannot handle ({kinds}): {problem}",
                             name=name, kinds=kinds, problem=exc),
                           node) from exc

    def _eval_subscript(self, node: Any) -> Any:
        base = node.value
        if type(base) is not ast.Name:
            raise _Failure(_("only a constant can be subscripted"), node)
        container = self.constants.get(base.id, _MISSING)
        if container is _MISSING:
            raise _Failure(_("'{name}' is not a constant; only constants can be subscripted",
                             name=base.id), node)
        key = self._eval(node.slice)
        if key is None:
            return None
        try:
            return container[key]
        except (KeyError, IndexError):
            return None
        except TypeError as exc:
            raise _Failure(
                _("cannot look up a {kind} in '{name}' ({container})", kind=_type_name(key), name=base.id,
                  container=_type_name(container)), node
            ) from exc

    def _eval_list(self, node: Any) -> list[Any]:
        return [self._eval(element) for element in node.elts]

    def _eval_tuple(self, node: Any) -> tuple[Any, ...]:
        return tuple(self._eval(element) for element in node.elts)

    def _business_days_between(self, start: Any, end: Any) -> int:
        try:
            return self.calendar.business_days_between(start, end)
        except TypeError as exc:
            raise _Failure(_("{fn}() {problem}", fn="business_days_between", problem=exc)) from None


def _evaluation_error(
    expr: Expression, node: ast.AST | None, message: str, hint: str | None, code: str = EVALUATION
) -> ExpressionError:
    text = expr.source.lstrip()
    where = expr.location
    subject = text
    if node is not None and hasattr(node, "col_offset"):
        where = node_location(expr.source, expr.location, node)
        subject = ast.get_source_segment(text, node) or text
    if len(subject) > 80:
        subject = subject[:77] + "..."
    if code == NEVER_COMPUTABLE:
        hint = _("{hint} ({reason})", hint=hint, reason=_(_NEVER_HINT)) if hint else _(_NEVER_HINT)
        return ExpressionError(_("{subject!r} can never be computed: {message}",
                                 subject=subject, message=message),
                               location=where, hint=hint, code=code)
    return ExpressionError(_("cannot evaluate {subject!r}: {message}", subject=subject, message=message),
                           location=where, hint=hint, code=code)


def as_number(value: Any, expr: Expression, what: str) -> float:
    """``value`` as the float a measure's statistics use (``what``: "a mean measure", ...).

    A value that cannot be one (text that is not a number, a date, a list, an integer
    beyond the largest float) is an evaluation-error at ``expr``, not a Python exception.
    """
    try:
        return float(value)
    except OverflowError:
        message = _("{what} needs numbers, got an integer too large to be one", what=what)
    except (TypeError, ValueError):
        message = _("{what} needs numbers, got {kind}", what=what, kind=_type_name(value))
    raise _evaluation_error(expr, None, message, _("make the expression give a number, or null"))


# --------------------------------------------------------------------------- constant folding

_NEVER_HINT = N_("it uses no record value, so it would fail for every record")
_UNKNOWN: Any = object()  # a part that uses record values, or whose folding ran out of budget
_NODE_COST = 100  # work units of evaluating one node, besides the size of its value
_PHRASE_COST = 5_000  # work units per phrase of count_matches (compiling its pattern)


class _OutOfBudget(Exception):
    """Constant folding has done all the work it may."""


def _operands(node: ast.expr) -> list[ast.expr]:
    """The expressions inside ``node``; the name of a called function is not one."""
    return [c for c in ast.iter_child_nodes(node)
            if isinstance(c, ast.expr) and not (isinstance(node, ast.Call) and c is node.func)]


def _constant_parts(node: ast.expr, values: Mapping[str, Any], constant: set[ast.AST]) -> bool:
    """Add to ``constant`` every node whose names are all in ``values``; whether ``node`` is one."""
    inside = [_constant_parts(child, values, constant) for child in _operands(node)]
    if all(inside) and (not isinstance(node, ast.Name) or node.id in values):
        constant.add(node)
        return True
    return False


@dataclass(frozen=True, slots=True)
class Folded:
    """What constant folding found in one expression."""

    errors: tuple[ExpressionError, ...]  # code never-computable, each at the part that fails
    value: Any = _UNKNOWN  # the whole expression's value, when it uses no record value and was computed

    @property
    def is_constant(self) -> bool:
        return self.value is not _UNKNOWN


class Folder(Evaluator):
    """The Evaluator, computing the parts of expressions that use no record value.

    Used by validation: a part that raises, or builds a value beyond the bounds, can never
    be computed. The evaluator and its bounds are the ones that run on records; only a
    budget of work is added (``budget`` units: ``_NODE_COST`` per node plus the size of
    its value, ``count_matches`` and ``contains_any`` by the size of their work, charged
    before they run), shared by every expression given to one Folder, so validating a
    scheme cannot hang. A part left when the budget is spent is not checked.
    """

    def __init__(self, constants: Mapping[str, Any], budget: int = FOLD_BUDGET) -> None:
        super().__init__(constants)
        self.budget = budget
        for name in ("contains_any", "count_matches"):
            self.functions[name] = self._charged(name, self.functions[name])

    def fold(self, expr: Expression, values: Mapping[str, Any]) -> Folded:
        """Compute every largest part of ``expr`` whose names are all in ``values`` (the
        constants, and derived values already folded); the others are record values."""
        errors: list[ExpressionError] = []
        constant: set[ast.AST] = set()
        _constant_parts(expr.tree.body, values, constant)
        self._env = values
        try:
            value = self._fold(expr, expr.tree.body, constant, errors)
        finally:
            self._env = _EMPTY
        return Folded(tuple(errors), value)

    def _fold(self, expr: Expression, node: ast.expr, constant: set[ast.AST], errors: list[ExpressionError]) -> Any:
        if node not in constant:
            for child in _operands(node):
                self._fold(expr, child, constant, errors)
            return _UNKNOWN
        if isinstance(node, ast.Name):
            return self._env[node.id]
        try:
            return self._eval(node)
        except _OutOfBudget:
            pass
        except _Failure as failure:
            errors.append(_evaluation_error(expr, failure.node or node, failure.message, failure.hint,
                                            NEVER_COMPUTABLE))
        except Exception as exc:  # as evaluate() reports it
            errors.append(_evaluation_error(expr, node, f"{type(exc).__name__}: {exc}", None, NEVER_COMPUTABLE))
        return _UNKNOWN

    def _eval(self, node: Any) -> Any:
        self._spend(_NODE_COST)
        value = super()._eval(node)
        self._spend(size_of(value))
        return value

    def _spend(self, units: int) -> None:
        self.budget -= units
        if self.budget < 0:
            raise _OutOfBudget

    def _charged(self, name: str, impl: Callable[..., Any]) -> Callable[..., Any]:
        """``impl`` (contains_any or count_matches), charged for its work before it runs."""

        def run(text: Any, phrases: Any) -> Any:
            if isinstance(text, str) and isinstance(phrases, (list, tuple)):
                units = (len(text) + 1) * (len(phrases) + 1)
                if name == "count_matches":
                    units += _PHRASE_COST * len(phrases)
                self._spend(units)
            return impl(text, phrases)

        return run
