"""The expression language: parsing, name checks, null semantics, functions, calendar."""

from __future__ import annotations

import ast
import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualiscore.calendar import Calendar
from qualiscore.errors import ExpressionError, Location
from qualiscore.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_SOURCE,
    Evaluator,
    Expression,
    FunctionSpec,
    iter_errors,
    parse,
)

CST = timezone(timedelta(hours=8))
UTC = timezone.utc

CONSTANTS: dict[str, Any] = {
    "response_target_s": {"chat": 60, "email": 3600},
    "channels": ["chat", "email", "phone"],
    "levels": [10, 20, 30],
    "apology_phrases": ["sorry", "so sorry", "apologise", ""],
    "no_phrases": [],
    "threshold": 4,
}

# A scheme calendar with a holiday week and two make-up working days (China, October 2024).
GOLDEN_WEEK = Calendar(
    holidays=frozenset(date(2024, 10, d) for d in range(1, 8)) | {date(2024, 1, 1)},
    workdays=frozenset({date(2024, 9, 29), date(2024, 10, 12)}),
)

EVALUATOR = Evaluator(CONSTANTS, GOLDEN_WEEK)

T, F, N = True, False, None


def ev(source: str, env: dict[str, Any] | None = None) -> Any:
    return EVALUATOR.evaluate(parse(source), env or {})


def same(actual: Any, expected: Any) -> bool:
    """Equal and of the same type, so 1 is not True and 2.0 is not 2."""
    return type(actual) is type(expected) and actual == expected


# --------------------------------------------------------------------------- the table

# (expression, env, expected)
CASES: list[tuple[str, dict[str, Any], Any]] = [
    # literals
    ("1", {}, 1),
    ("1.5", {}, 1.5),
    ("'优秀'", {}, "优秀"),
    ("True", {}, True),
    ("None", {}, None),
    ("[1, 'a', None]", {}, [1, "a", None]),
    ("(1, 2)", {}, (1, 2)),
    # arithmetic, with and without null
    ("a + b", {"a": 1, "b": 2}, 3),
    ("a + b", {"a": None, "b": 2}, None),
    ("a + b", {"a": 1, "b": None}, None),
    ("a + b", {"a": "ab", "b": "c"}, "abc"),
    ("a - b", {"a": 5, "b": 2}, 3),
    ("a - b", {"a": None, "b": 2}, None),
    ("a * b", {"a": 3, "b": 4}, 12),
    ("a * b", {"a": 3, "b": None}, None),
    ("a * 2", {"a": "ab"}, "abab"),
    ("a / b", {"a": 7, "b": 2}, 3.5),
    ("a / b", {"a": None, "b": 2}, None),
    ("a / 0", {"a": 7}, None),
    ("a / 0.0", {"a": 7.5}, None),
    ("0 / 0", {}, None),
    ("a // b", {"a": 7, "b": 2}, 3),
    ("a // b", {"a": -7, "b": 2}, -4),
    ("a // 0", {"a": 7}, None),
    ("a // b", {"a": 7, "b": None}, None),
    ("a % b", {"a": 7, "b": 3}, 1),
    ("a % 0", {"a": 7}, None),
    ("a % b", {"a": None, "b": 3}, None),
    ("a ** b", {"a": 2, "b": 10}, 1024),
    ("a ** b", {"a": 2, "b": -1}, 0.5),
    ("a ** b", {"a": None, "b": 2}, None),
    ("0 ** -1", {}, None),
    ("9 ** 0.5", {}, 3.0),
    ("-a", {"a": 3}, -3),
    ("-a", {"a": None}, None),
    ("+a", {"a": 3.5}, 3.5),
    ("+a", {"a": None}, None),
    ("1 + 2 * 3", {}, 7),
    ("(1 + 2) * 3", {}, 9),
    # comparisons: null in, null out
    ("a == b", {"a": 1, "b": 1}, True),
    ("a == b", {"a": 1, "b": "1"}, False),
    ("a == b", {"a": None, "b": 1}, None),
    ("a == b", {"a": None, "b": None}, None),
    ("a != b", {"a": 1, "b": 2}, True),
    ("a != b", {"a": 1, "b": None}, None),
    ("a < b", {"a": 1, "b": 2}, True),
    ("a < b", {"a": None, "b": 2}, None),
    ("a <= b", {"a": 2, "b": 2}, True),
    ("a <= b", {"a": 2, "b": None}, None),
    ("a > b", {"a": 1, "b": 2}, False),
    ("a > b", {"a": None, "b": 2}, None),
    ("a >= b", {"a": 2.5, "b": 2}, True),
    ("a >= b", {"a": None, "b": None}, None),
    ("a < b", {"a": "apple", "b": "pear"}, True),
    ("a < b", {"a": date(2024, 1, 1), "b": date(2024, 1, 2)}, True),
    # chained comparisons: (a < b) and (b < c), Kleene
    ("0 <= x < 5", {"x": 3}, True),
    ("0 <= x < 5", {"x": 5}, False),
    ("0 <= x < 5", {"x": -1}, False),
    ("0 <= x < 5", {"x": None}, None),
    ("a < b < c", {"a": None, "b": 5, "c": 1}, False),
    ("a < b < c", {"a": 1, "b": 5, "c": None}, None),
    ("a < b < c", {"a": None, "b": 5, "c": 9}, None),
    ("a < b < c", {"a": 5, "b": 1, "c": "not compared"}, False),
    ("1 < 2 < 3 < 4", {}, True),
    ("1 == 1 != 2", {}, True),
    # in / not in
    ("channel in channels", {"channel": "chat"}, True),
    ("channel in channels", {"channel": "fax"}, False),
    ("channel in channels", {"channel": None}, None),
    ("channel not in channels", {"channel": "fax"}, True),
    ("channel not in channels", {"channel": "chat"}, False),
    ("channel not in channels", {"channel": None}, None),
    ("x in [1, 2, None]", {"x": 3}, False),
    ("x in [1, 2]", {"x": 2}, True),
    ("x in (1, 2)", {"x": 2.0}, True),
    ("'or' in text", {"text": "sorry"}, True),
    ("x in items", {"x": 1, "items": None}, None),
    ("'chat' in response_target_s", {}, True),
    # is None / is not None never give null
    ("x is None", {"x": None}, True),
    ("x is None", {"x": 0}, False),
    ("x is not None", {"x": None}, False),
    ("x is not None", {"x": ""}, True),
    ("(a + 1) is None", {"a": None}, True),
    # not
    ("not x", {"x": True}, False),
    ("not x", {"x": False}, True),
    ("not x", {"x": None}, None),
    ("not x", {"x": 0}, True),
    ("not x", {"x": "text"}, False),
    ("not not x", {"x": None}, None),
    # and/or convert non-null operands with bool() and return booleans
    ("a and b", {"a": 1, "b": "x"}, True),
    ("a and b", {"a": 1, "b": ""}, False),
    ("a or b", {"a": 0, "b": ""}, False),
    ("a or b", {"a": 0, "b": [1]}, True),
    ("a and b and c", {"a": True, "b": None, "c": False}, False),
    ("a and b and c", {"a": True, "b": None, "c": True}, None),
    ("a or b or c", {"a": False, "b": None, "c": True}, True),
    ("a or b or c", {"a": False, "b": None, "c": False}, None),
    ("x is not None and x > 3", {"x": None}, False),
    ("x is None or x > 3", {"x": None}, True),
    # conditional
    ("'y' if c else 'n'", {"c": True}, "y"),
    ("'y' if c else 'n'", {"c": False}, "n"),
    ("'y' if c else 'n'", {"c": None}, None),
    ("'y' if c else 'n'", {"c": 0}, "n"),
    ("a if a is not None else 0", {"a": None}, 0),
    # subscripts of constants
    ("response_target_s[channel]", {"channel": "chat"}, 60),
    ("response_target_s[channel]", {"channel": "fax"}, None),
    ("response_target_s[channel]", {"channel": None}, None),
    ("response_target_s['email']", {}, 3600),
    ("levels[i]", {"i": 1}, 20),
    ("levels[i]", {"i": 3}, None),
    ("levels[i]", {"i": -1}, 30),
    ("levels[i]", {"i": None}, None),
    ("first_response_s <= response_target_s[channel]", {"first_response_s": 30, "channel": "chat"}, True),
    ("first_response_s <= response_target_s[channel]", {"first_response_s": 90, "channel": "chat"}, False),
    ("first_response_s <= response_target_s[channel]", {"first_response_s": 30, "channel": "fax"}, None),
    ("first_response_s <= response_target_s[channel]", {"first_response_s": None, "channel": "chat"}, None),
    # constants are names too
    ("csat >= threshold", {"csat": 5}, True),
    ("len(channels)", {}, 3),
    # functions
    ("abs(x)", {"x": -3}, 3),
    ("abs(x)", {"x": -2.5}, 2.5),
    ("abs(x)", {"x": None}, None),
    ("min(3, 1, 2)", {}, 1),
    ("min(x, 1)", {"x": None}, None),
    ("min('b', 'a')", {}, "a"),
    ("max(1, 2.5)", {}, 2.5),
    ("max(x, 1, 2)", {"x": None}, None),
    ("round(2.5)", {}, 2),
    ("round(3.5)", {}, 4),
    ("round(-2.5)", {}, -2),
    ("round(1.25, 1)", {}, 1.2),
    ("round(1.35, 1)", {}, 1.4),
    ("round(25, -1)", {}, 20),
    ("round(7, 2)", {}, 7),
    ("round(x)", {"x": None}, None),
    ("round(1.5, x)", {"x": None}, None),
    ("coalesce(x, 0)", {"x": None}, 0),
    ("coalesce(x, 0)", {"x": 5}, 5),
    ("coalesce(x, y, 3)", {"x": None, "y": None}, 3),
    ("coalesce(x, y)", {"x": None, "y": None}, None),
    ("coalesce(x, y)", {"x": False, "y": True}, False),
    ("coalesce(x, undefined_if_reached)", {"x": 1}, 1),
    ("len('abc')", {}, 3),
    ("len(x)", {"x": [1, 2]}, 2),
    ("len(x)", {"x": None}, None),
    ("len('优秀')", {}, 2),
    ("lower('AbC')", {}, "abc"),
    ("lower(x)", {"x": None}, None),
    ("upper('abc')", {}, "ABC"),
    ("upper(x)", {"x": None}, None),
    ("contains(t, 'wor')", {"t": "hello world"}, True),
    ("contains(t, 'xyz')", {"t": "hello world"}, False),
    ("contains(t, 'a')", {"t": None}, None),
    ("contains('abc', s)", {"s": None}, None),
    ("contains_any(t, apology_phrases)", {"t": "I am so sorry"}, True),
    ("contains_any(t, apology_phrases)", {"t": "thanks"}, False),
    ("contains_any(t, apology_phrases)", {"t": None}, None),
    ("contains_any(t, no_phrases)", {"t": "anything"}, False),
    ("contains_any(lower(t), ['sorry'])", {"t": "SORRY!"}, True),
    ("count_matches(t, apology_phrases)", {"t": "so sorry, sorry, I apologise"}, 3),
    ("count_matches(t, ['aa'])", {"t": "aaaaa"}, 2),
    ("count_matches(t, apology_phrases)", {"t": "fine"}, 0),
    ("count_matches(t, apology_phrases)", {"t": None}, None),
    ("count_matches(t, no_phrases)", {"t": "x"}, 0),
    (
        "minutes_between(s, e)",
        {"s": datetime(2024, 5, 1, 9, 0, tzinfo=UTC), "e": datetime(2024, 5, 1, 10, 30, tzinfo=UTC)},
        90.0,
    ),
    (
        "minutes_between(s, e)",
        {"s": datetime(2024, 5, 1, 9, 0, tzinfo=CST), "e": datetime(2024, 5, 1, 1, 30, tzinfo=UTC)},
        30.0,
    ),
    (
        "minutes_between(s, e)",
        {"s": datetime(2024, 5, 1, 10, 0, tzinfo=UTC), "e": datetime(2024, 5, 1, 9, 0, tzinfo=UTC)},
        -60.0,
    ),
    ("minutes_between(s, e)", {"s": None, "e": datetime(2024, 5, 1, tzinfo=UTC)}, None),
    ("minutes_between(s, e)", {"s": date(2024, 5, 1), "e": date(2024, 5, 2)}, 1440.0),
    (
        "hours_between(s, e)",
        {"s": datetime(2024, 5, 1, 9, 0, tzinfo=UTC), "e": datetime(2024, 5, 1, 10, 30, tzinfo=UTC)},
        1.5,
    ),
    ("hours_between(s, e)", {"s": datetime(2024, 5, 1, tzinfo=UTC), "e": None}, None),
    ("days_between(s, e)", {"s": date(2024, 2, 28), "e": date(2024, 3, 1)}, 2),
    ("days_between(s, e)", {"s": date(2024, 3, 1), "e": date(2024, 2, 28)}, -2),
    (
        "days_between(s, e)",
        {"s": datetime(2024, 5, 1, 23, 59, tzinfo=CST), "e": datetime(2024, 5, 2, 0, 1, tzinfo=CST)},
        1,
    ),
    ("days_between(s, e)", {"s": datetime(2024, 5, 1, tzinfo=UTC), "e": date(2024, 5, 3)}, 2),
    ("days_between(s, e)", {"s": None, "e": date(2024, 5, 3)}, None),
    ("business_days_between(s, e)", {"s": date(2024, 9, 27), "e": date(2024, 10, 14)}, 8),
    ("business_days_between(s, e)", {"s": date(2024, 10, 14), "e": date(2024, 9, 27)}, -8),
    ("business_days_between(s, e)", {"s": date(2023, 12, 29), "e": date(2024, 1, 3)}, 2),
    ("business_days_between(s, e)", {"s": None, "e": date(2024, 1, 3)}, None),
    (
        "business_days_between(s, e)",
        {"s": datetime(2024, 9, 27, 23, 0, tzinfo=CST), "e": datetime(2024, 9, 30, 8, 0, tzinfo=CST)},
        2,
    ),
]


@pytest.mark.parametrize(
    ("source", "env", "expected"), CASES, ids=[f"{i}:{c[0]}" for i, c in enumerate(CASES)]
)
def test_evaluate(source: str, env: dict[str, Any], expected: Any) -> None:
    assert same(ev(source, env), expected)


KLEENE_AND = {
    (T, T): T, (T, F): F, (T, N): N,
    (F, T): F, (F, F): F, (F, N): F,
    (N, T): N, (N, F): F, (N, N): N,
}  # fmt: skip
KLEENE_OR = {
    (T, T): T, (T, F): T, (T, N): T,
    (F, T): T, (F, F): F, (F, N): N,
    (N, T): T, (N, F): N, (N, N): N,
}  # fmt: skip


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, N], repeat=2)))
def test_kleene_truth_tables(a: bool | None, b: bool | None) -> None:
    env = {"a": a, "b": b}
    assert ev("a and b", env) is KLEENE_AND[a, b]
    assert ev("a or b", env) is KLEENE_OR[a, b]
    assert ev("not a", env) is (None if a is None else not a)


# --------------------------------------------------------------------------- errors at run time

# (expression, env): each must raise ExpressionError(code="evaluation-error").
RUNTIME_ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("'a' + 1", {}),
    ("a - b", {"a": "x", "b": 1}),
    ("a < b", {"a": "x", "b": 1}),
    ("-a", {"a": "x"}),
    ("1 in x", {"x": 5}),
    ("levels['x']", {}),
    ("lower(x)", {"x": 1}),
    ("abs(x)", {"x": "1"}),
    ("len(x)", {"x": 5}),
    ("min(x, 'a')", {"x": 1}),
    ("contains_any(t, 'sorry')", {"t": "sorry"}),
    ("count_matches(t, [1])", {"t": "x"}),
    ("round(x, 1.5)", {"x": 1.25}),
    ("round(x, 1000)", {"x": 1.25}),
    ("round(x)", {"x": float("inf")}),
    ("minutes_between(s, e)", {"s": date(2024, 1, 1), "e": datetime(2024, 1, 1, tzinfo=UTC)}),
    ("minutes_between(s, e)", {"s": datetime(2024, 1, 1), "e": datetime(2024, 1, 1, tzinfo=UTC)}),
    ("days_between(s, e)", {"s": "2024-01-01", "e": date(2024, 1, 2)}),
    ("business_days_between(s, e)", {"s": 1, "e": date(2024, 1, 2)}),
    ("e - s", {"s": date(2024, 1, 1), "e": date(2024, 1, 2)}),
    ("(-8) ** 0.5", {}),
    ("10.0 ** 400", {}),
    ("'%d' % x", {"x": 1}),
    ("name_not_in_record", {}),
    ("x", {"x": object()}),
]


@pytest.mark.parametrize(("source", "env"), RUNTIME_ERRORS, ids=[c[0] for c in RUNTIME_ERRORS])
def test_evaluation_errors_are_expression_errors(source: str, env: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(source, env)
    assert info.value.code == "evaluation-error"
    assert info.value.message.startswith("cannot evaluate")


def test_evaluation_error_points_at_failing_node() -> None:
    expr = parse("x > 1 and lower(y) == 'a'", location=Location("s.yaml", 7, 20, pointer="/derive/z"))
    with pytest.raises(ExpressionError) as info:
        EVALUATOR.evaluate(expr, {"x": 2, "y": 3})
    err = info.value
    assert err.code == "evaluation-error"
    assert err.location == Location("s.yaml", 7, 30, pointer="/derive/z")
    assert "lower(y)" in err.message and "expects text" in err.message


def test_subtracting_dates_suggests_functions() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("e - s", {"s": date(2024, 1, 1), "e": date(2024, 1, 2)})
    assert info.value.hint is not None and "days_between" in info.value.hint


def test_evaluator_refuses_unknown_function_and_wrong_arity_without_validation() -> None:
    for source in ("getattr(x, 'a')", "round(1, 2, 3)", "min(1)", "x[0]"):
        with pytest.raises(ExpressionError) as info:
            EVALUATOR.evaluate(parse(source), {"x": [1]})
        assert info.value.code == "evaluation-error"


# --------------------------------------------------------------------------- parse


def test_parse_records_names_and_functions() -> None:
    expr = parse("lower(a) == b[c] and coalesce(d, 1) > 0")
    assert isinstance(expr, Expression)
    assert isinstance(expr.tree, ast.Expression)
    assert expr.names == frozenset({"a", "b", "c", "d"})
    assert expr.functions == frozenset({"lower", "coalesce"})
    assert str(expr) == expr.source


@pytest.mark.parametrize(
    ("value", "source", "result"),
    [(True, "True", True), (False, "False", False), (3, "3", 3), (1.5, "1.5", 1.5), (-2, "-2", -2)],
)
def test_parse_accepts_bare_yaml_scalars(value: Any, source: str, result: Any) -> None:
    expr = parse(value)
    assert expr.source == source
    assert same(EVALUATOR.evaluate(expr, {}), result)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1], {"a": 1}, None])
def test_parse_refuses_other_yaml_values(value: Any) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(value, location=Location("f.yaml", 2, 5))
    assert info.value.code == "expression-syntax"
    assert info.value.location == Location("f.yaml", 2, 5)


@pytest.mark.parametrize("source", ["", "   ", "\n"])
def test_parse_refuses_empty(source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    assert info.value.code == "expression-syntax"


def test_parse_limits() -> None:
    parse("[" + "1, " * ((MAX_SOURCE - 2) // 3) + "]")  # long but shallow
    with pytest.raises(ExpressionError) as info:
        parse("x" * (MAX_SOURCE + 1))
    assert info.value.code == "expression-too-long"
    parse("-" * (MAX_DEPTH - 1) + "1")
    with pytest.raises(ExpressionError) as info:
        parse("-" * MAX_DEPTH + "1")
    assert info.value.code == "expression-too-deep"


def test_parse_allows_whitespace_and_parenthesised_lines() -> None:
    assert ev("  a + 1  ", {"a": 1}) == 2
    assert ev("(a +\n 1)", {"a": 1}) == 2
    assert ev("a + 1\n", {"a": 1}) == 2


# Column positions: the caller passes the location of the expression's first character.
BASE = Location("f.yaml", 3, 10, pointer="/derive/x")


@pytest.mark.parametrize(
    ("source", "code", "line", "column"),
    [
        ("a + ", "expression-syntax", 3, 13),
        ("a b", "expression-syntax", 3, 12),
        ("a + b.c", "disallowed-syntax", 3, 14),
        ("'优秀' == y.z", "disallowed-syntax", 3, 18),
        ("  a.b", "disallowed-syntax", 3, 12),
        ("(a +\n b.c)", "disallowed-syntax", 4, 11),
        ("round(x, ndigits=2)", "disallowed-syntax", 3, 19),
        ("x is 1", "disallowed-syntax", 3, 15),
        ("min(a, *b)", "disallowed-syntax", 3, 17),
        ("a +\n b", "expression-syntax", 3, 12),
    ],
)
def test_error_columns_point_inside_the_expression(source: str, code: str, line: int, column: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(source, location=BASE)
    err = info.value
    assert err.code == code
    assert err.location is not None
    assert (err.location.file, err.location.line, err.location.column) == ("f.yaml", line, column)
    assert err.location.pointer == "/derive/x"


def test_error_without_base_location_is_relative_to_the_expression() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a + b.c")
    assert info.value.location == Location(line=1, column=5)


def test_syntax_error_message_and_hint() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a +\n b", location=BASE)
    assert info.value.hint is not None and "parentheses" in info.value.hint
    with pytest.raises(ExpressionError) as info:
        parse("min(a,", location=BASE)
    assert "never closed" in info.value.message


# --------------------------------------------------------------------------- iter_errors

NAMES = {
    "resolved_first_contact": "field",
    "csat": "field",
    "channel": "field",
    "responded_in_time": "derived",
    "response_target_s": "constant",
}


def test_iter_errors_reports_every_problem_with_location() -> None:
    source = "resolved_frist_contact and lowr(channel) and round(csat, 1, 2) and csat[0] and respnded_in_time"
    errors = list(iter_errors(source, names=NAMES, location=BASE))
    assert [(e.code, e.location.column if e.location else None) for e in errors] == [
        ("unknown-name", 10),
        ("unknown-function", 10 + source.index("lowr")),
        ("function-arity", 10 + source.index("round")),
        ("subscript-not-constant", 10 + source.index("csat[")),
        ("unknown-name", 10 + source.index("respnded")),
    ]
    assert errors[0].message == "'resolved_frist_contact' is not a field, derived value or constant"
    assert errors[0].hint == "did you mean 'resolved_first_contact'?"
    assert errors[1].hint == "did you mean 'lower'?"
    assert "takes 1 or 2 arguments, got 3" in errors[2].message
    assert "'csat' is a field" in errors[3].message
    assert errors[4].hint == "did you mean 'responded_in_time'?"
    assert all(e.location is not None and e.location.pointer == "/derive/x" for e in errors)


def test_iter_errors_clean_expression() -> None:
    assert list(iter_errors("csat >= 4 and response_target_s[channel] > 0", names=NAMES)) == []


def test_iter_errors_stops_after_syntax_problems() -> None:
    errors = list(iter_errors("unknown.__class__ + x.y", names=NAMES, location=BASE))
    assert [e.code for e in errors] == ["disallowed-syntax", "disallowed-syntax"]
    assert [e.location.column for e in errors if e.location] == [10, 30]
    errors = list(iter_errors("unknown +", names=NAMES))
    assert [e.code for e in errors] == ["expression-syntax"]


def test_iter_errors_reports_each_unknown_name_once() -> None:
    errors = list(iter_errors("foo + foo + bar", names=NAMES))
    assert [e.message.split("'")[1] for e in errors] == ["foo", "bar"]


@pytest.mark.parametrize(
    ("source", "code", "hint_part"),
    [
        ("csat == null", "unknown-name", "None"),
        ("csat == true", "unknown-name", "True"),
        ("lower", "unknown-name", "'lower' is a function"),
        ("zzz_totally_new", "unknown-name", "declare it"),
        ("csat(1)", "unknown-function", "the functions are"),
        ("sum(csat, 1)", "unknown-function", "the functions are"),
        ("contains_all(channel, response_target_s)", "unknown-function", "'contains_any'"),
    ],
)
def test_iter_errors_hints(source: str, code: str, hint_part: str) -> None:
    (error,) = iter_errors(source, names=NAMES)
    assert error.code == code
    assert error.hint is not None and hint_part in error.hint


def test_field_called_as_function_says_so() -> None:
    (error,) = iter_errors("csat(1)", names=NAMES)
    assert error.message == "'csat' is a field, not a function"


def _arity_cases() -> list[tuple[str, int]]:
    cases = []
    for spec in FUNCTIONS.values():
        cases.append((spec.name, spec.min_args - 1))
        if spec.max_args is not None:
            cases.append((spec.name, spec.max_args + 1))
    return cases


@pytest.mark.parametrize(("name", "count"), _arity_cases())
def test_every_function_checks_arity(name: str, count: int) -> None:
    source = f"{name}({', '.join(['csat'] * count)})"
    (error,) = iter_errors(source, names=NAMES)
    assert error.code == "function-arity"
    assert f"got {count}" in error.message
    with pytest.raises(ExpressionError) as info:
        EVALUATOR.evaluate(parse(source), {"csat": 1})
    assert info.value.code == "evaluation-error"


def test_function_specs() -> None:
    assert set(FUNCTIONS) == {
        "abs", "min", "max", "round", "coalesce", "len", "lower", "upper", "contains",
        "contains_any", "count_matches", "minutes_between", "hours_between", "days_between",
        "business_days_between",
    }  # fmt: skip
    for name, spec in FUNCTIONS.items():
        assert isinstance(spec, FunctionSpec)
        assert spec.name == name and spec.signature.startswith(name + "(") and spec.doc
        assert spec.max_args is None or spec.max_args >= spec.min_args
    assert FUNCTIONS["min"].min_args == 2 and FUNCTIONS["min"].max_args is None
    assert FUNCTIONS["round"].arity_text() == "1 or 2 arguments"
    assert FUNCTIONS["lower"].arity_text() == "exactly 1 argument"


# --------------------------------------------------------------------------- evaluator


def test_evaluator_with_constants_and_default_calendar() -> None:
    evaluator = Evaluator({"targets": {"chat": 60}})
    expr = parse("first_response_s <= targets[channel]")
    assert evaluator.evaluate(expr, {"first_response_s": 59, "channel": "chat"}) is True
    assert evaluator.evaluate(expr, {"first_response_s": 61, "channel": "chat"}) is False
    # The default calendar has a Saturday/Sunday weekend and no holidays.
    bd = parse("business_days_between(s, e)")
    assert evaluator.evaluate(bd, {"s": date(2024, 9, 27), "e": date(2024, 10, 14)}) == 11


def test_record_values_shadow_nothing_they_do_not_define() -> None:
    # A record only provides its own names; constants stay visible beside them.
    assert ev("threshold + x", {"x": 1}) == 5


@pytest.mark.parametrize(
    "constants",
    [{"f": len}, {"m": ast}, {"s": {1, 2}}, {"l": [1, object()]}, {"d": {"k": print}}, {"d": {(1, 2): 1}}],
)
def test_evaluator_refuses_constants_that_are_not_plain_data(constants: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        Evaluator(constants)


def test_evaluator_never_parses_again(monkeypatch: pytest.MonkeyPatch) -> None:
    expr = parse("a + 1 > b")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed at evaluation time")

    monkeypatch.setattr(ast, "parse", refuse)
    monkeypatch.setattr(Evaluator, "parse", staticmethod(refuse))
    assert EVALUATOR.evaluate(expr, {"a": 1, "b": 0}) is True


# --------------------------------------------------------------------------- calendar


def naive_business_days(cal: Calendar, start: date, end: date) -> int:
    """numpy.busday_count by walking day by day."""
    one = timedelta(days=1)
    if start <= end:
        days = [start + one * i for i in range((end - start).days)]
        return sum(cal.is_business_day(d) for d in days)
    days = [end + one * (i + 1) for i in range((start - end).days)]  # (end, start]
    return -sum(cal.is_business_day(d) for d in days)


def test_calendar_defaults() -> None:
    cal = Calendar()
    assert cal.weekend == frozenset({6, 7})
    monday = date(2024, 1, 1)
    assert cal.business_days_between(monday, monday + timedelta(days=7)) == 5
    assert cal.business_days_between(monday + timedelta(days=7), monday) == -5
    assert cal.business_days_between(monday, monday) == 0
    # numpy >= 1.25 (numpy/numpy#23197): the start counts, the end never does.
    assert cal.business_days_between(date(1999, 12, 30), date(2000, 1, 1)) == 2
    assert cal.business_days_between(date(2000, 1, 1), date(1999, 12, 30)) == -1


def test_calendar_holidays_and_make_up_days() -> None:
    cal = GOLDEN_WEEK
    assert not cal.is_business_day(date(2024, 10, 1))  # holiday on a Tuesday
    assert cal.is_business_day(date(2024, 9, 29))  # make-up Sunday
    assert cal.is_business_day(date(2024, 10, 12))  # make-up Saturday
    assert not cal.is_business_day(date(2024, 10, 13))
    assert cal.is_business_day(datetime(2024, 10, 8, 9, tzinfo=CST))
    assert cal.business_days_between(date(2024, 9, 27), date(2024, 10, 14)) == 8
    # Across the year boundary, with New Year's Day off.
    assert cal.business_days_between(date(2023, 12, 29), date(2024, 1, 2)) == 1
    # A datetime counts by its own date, in the zone it carries.
    late_friday = datetime(2024, 9, 27, 20, 0, tzinfo=UTC)  # Saturday 04:00 in +08:00
    assert cal.business_days_between(late_friday, date(2024, 9, 30)) == 2
    assert cal.business_days_between(late_friday.astimezone(CST), date(2024, 9, 30)) == 1


def test_calendar_long_ranges_are_arithmetic() -> None:
    cal = Calendar(holidays=frozenset({date(2000, 1, 3)}), workdays=frozenset({date(2000, 1, 8)}))
    count = cal.business_days_between(date(1, 1, 1), date(9999, 12, 31))
    total_days = (date(9999, 12, 31) - date(1, 1, 1)).days
    assert total_days % 7 == 4  # 0001-01-01 is a Monday: whole weeks, then Monday to Thursday
    assert count == total_days // 7 * 5 + 4  # the holiday and the make-up Saturday cancel out
    # Reversed: (start, end] instead of [start, end); both ends are business days.
    assert cal.business_days_between(date(9999, 12, 31), date(1, 1, 1)) == -count


def test_calendar_validation() -> None:
    with pytest.raises(ValueError):
        Calendar(holidays=frozenset({date(2024, 1, 1)}), workdays=frozenset({date(2024, 1, 1)}))
    with pytest.raises(ValueError):
        Calendar(weekend=frozenset({0}))
    with pytest.raises(TypeError):
        Calendar(holidays=frozenset({datetime(2024, 1, 1)}))
    with pytest.raises(TypeError):
        Calendar().business_days_between("2024-01-01", date(2024, 1, 2))  # type: ignore[arg-type]
    assert Calendar(weekend={5, 6}) == Calendar(weekend=frozenset({5, 6}))  # type: ignore[arg-type]


DAY0 = date(2023, 6, 1)
days = st.integers(0, 900).map(lambda n: DAY0 + timedelta(days=n))


@settings(max_examples=150, deadline=None)
@given(
    weekend=st.frozensets(st.integers(1, 7)),
    holidays=st.frozensets(days, max_size=40),
    workdays=st.frozensets(days, max_size=40),
    start=days,
    end=days,
)
def test_business_days_match_a_day_by_day_count(
    weekend: frozenset[int], holidays: frozenset[date], workdays: frozenset[date], start: date, end: date
) -> None:
    cal = Calendar(weekend=weekend, holidays=holidays, workdays=workdays - holidays)
    assert cal.business_days_between(start, end) == naive_business_days(cal, start, end)
    # Backwards counts (low, high] instead of [low, high).
    low, high = min(start, end), max(start, end)
    one = timedelta(days=1)
    assert cal.business_days_between(high, low) == -cal.business_days_between(low + one, high + one)


# --------------------------------------------------------------------------- properties

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
)
LEAVES = st.one_of(
    st.sampled_from(["a", "b", "c", "None", "True", "False", "0", "1", "-1", "2.5", "0.0", "10"]),
    st.integers(-1000, 1000).map(str),
)
BINARY = ["+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", ">=", "and", "or"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+", "not "]), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})"),
        children.map(lambda c: f"({c} is None)"),
        children.map(lambda c: f"({c} is not None)"),
        st.tuples(children, st.lists(children, max_size=3)).map(lambda t: f"({t[0]} in [{', '.join(t[1])}])"),
        children.map(lambda c: f"abs({c})"),
        children.map(lambda c: f"round({c})"),
        st.tuples(children, children).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(
            st.sampled_from(["min", "max", "coalesce"]), st.lists(children, min_size=2, max_size=3)
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        children.map(lambda c: f"levels[{c}]"),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=EXPRESSIONS, a=VALUES, b=VALUES, c=VALUES)
def test_random_expressions_only_raise_expression_errors(source: str, a: Any, b: Any, c: Any) -> None:
    try:
        expr = parse(source)
    except ExpressionError:
        return
    assert (
        list(iter_errors(source, names={"a": "field", "b": "field", "c": "field", "levels": "constant"}))
        == []
    )
    try:
        EVALUATOR.evaluate(expr, {"a": a, "b": b, "c": c})
    except ExpressionError as exc:
        assert exc.code == "evaluation-error"


TRUTHY = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.text(max_size=2), st.floats())


@given(a=TRUTHY, b=TRUTHY)
def test_kleene_and_or_are_commutative_and_obey_de_morgan(a: Any, b: Any) -> None:
    env = {"a": a, "b": b}
    assert ev("a and b", env) is ev("b and a", env)
    assert ev("a or b", env) is ev("b or a", env)
    assert ev("a and b", env) in (True, False, None)
    assert ev("not (a and b)", env) is ev("not a or not b", env)
    assert ev("not (a or b)", env) is ev("not a and not b", env)


# --------------------------------------------------------------------------- Excel habits


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("complaint = TRUE", 11, "'=' compares in Excel; write '==' (and TRUE → True)"),
        ("a >= 1 and b = 2", 14, "'=' compares in Excel; write '=='"),
        ("channel <> 'phone'", 9, "'<>' means 'not equal' in Excel; write '!='"),
        ("a AND b", 3, "AND is Excel's spelling; write 'and'"),
        ("a OR FALSE", 3, "OR is Excel's spelling; write 'or' (and FALSE → False)"),
        ("channel == 'a=b' AND c", 18, "AND is Excel's spelling; write 'and'"),
    ],
)
def test_excel_habits_get_their_own_message(source: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    assert (info.value.code, info.value.message, info.value.location.column) == ("excel-habit", message, column)


def test_excel_habit_is_not_guessed_for_other_syntax_errors() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("channel == 'a = b' +")
    assert info.value.code == "expression-syntax"


def test_upper_case_true_is_hinted_as_excel() -> None:
    [error] = iter_errors("resolved == TRUE", names={"resolved": "field"})
    assert (error.code, error.hint) == ("unknown-name", "TRUE is Excel's spelling; write True")
