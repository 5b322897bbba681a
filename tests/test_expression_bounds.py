"""The bounds of expression values, one property per bound, in the Evaluator and in both engines.

Hypothesis writes expressions that grow integers (arithmetic, powers), texts (concatenation,
repetition, case mapping that lengthens 'ß', 'ﬃ', 'İ') and nested lists. For each one:

* the Evaluator gives a value within the bounds (``MAX_INT_BITS``, ``MAX_SIZE``, no lone
  surrogate) or an ExpressionError with code evaluation-error, never another exception;
* constant folding, which validation uses, finds a part never-computable exactly when the
  Evaluator fails on it, at the same place (one mechanism);
* a scheme deriving that value from record fields gives the same scorecards.jsonl,
  scorecards.csv and rejects.csv with the reference and the columnar engine, rejected rows
  included (``QUALISCORE_BOUNDS_EXAMPLES`` examples per bound, default 15).
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HAS_POLARS
from qualiscore.errors import ExpressionError, QualiscoreError
from qualiscore.expressions import MAX_INT_BITS, MAX_SIZE, Evaluator, Folder, parse, size_of
from qualiscore.validation import validate_file

CONSTANTS = {"words": ["alpha", "ß", "ﬃ"]}
EVALUATOR = Evaluator(CONSTANTS)
ENGINE_EXAMPLES = int(os.environ.get("QUALISCORE_BOUNDS_EXAMPLES", "15"))

# --------------------------------------------------------------------------- expressions


def _binary(inner: st.SearchStrategy[str], ops: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(inner, st.sampled_from(ops), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")


def _repeated(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    times = st.sampled_from([0, 1, 2, 3, 1000, 30_000, 100_000, 10**9])
    return st.tuples(inner, times).map(lambda t: f"({t[0]}) * {t[1]}")


def _expressions(leaves: list[str], grow: Callable[[st.SearchStrategy[str]], st.SearchStrategy[str]]
                 ) -> st.SearchStrategy[str]:
    return st.recursive(st.sampled_from(leaves), grow, max_leaves=8)


def integers(leaves: list[str], test: str) -> st.SearchStrategy[str]:
    return _expressions(leaves, lambda inner: st.one_of(
        _binary(inner, ["+", "-", "*", "//", "%"]),
        st.tuples(inner, st.sampled_from([0, 1, 2, 3, 17, 64, 1023, 5000])).map(lambda t: f"({t[0]}) ** {t[1]}"),
        inner.map(lambda a: f"abs({a})"),
        inner.map(lambda a: f"-({a})"),
        st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} if {test} else {t[1]})"),
    ))


def texts(leaves: list[str], test: str) -> st.SearchStrategy[str]:
    return _expressions(leaves, lambda inner: st.one_of(
        _binary(inner, ["+"]),
        _repeated(inner),
        inner.map(lambda a: f"upper({a})"),
        inner.map(lambda a: f"lower({a})"),
        st.tuples(inner, inner).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} if {test} else {t[1]})"),
    ))


def lists(leaves: list[str], test: str) -> st.SearchStrategy[str]:
    return _expressions(leaves, lambda inner: st.one_of(
        _binary(inner, ["+"]),
        _repeated(inner),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} if {test} else {t[1]})"),
    ))


LITERALS = {
    "ints": ["0", "1", "-1", "7", "3", "2 ** 62", "2 ** 1000"],
    "texts": ["''", "'a'", "'ß'", "'ﬃ'", "'İ'", "'xyz'", "'\\ud800'"],
    "lists": ["[]", "words", "['a', 'b']", "[['ß']]", "[1, 'x']"],
}
FIELDS = {"ints": ["n", "len(s)", "n * 2 ** 960"], "texts": ["s", "upper(s)"],
          "lists": ["[s]", "[n, s]", "[[s], ['ß']]", "[s, s]"]}
STRATEGIES = {"ints": integers, "texts": texts, "lists": lists}
# Expressions over record values (n, s), and the same without them (what validation folds).
BOUNDED = {b: STRATEGIES[b](LITERALS[b] + FIELDS[b], "n") for b in STRATEGIES}
CONSTANT = st.one_of(*(STRATEGIES[b](LITERALS[b], "len(words) > 2") for b in STRATEGIES))

# Record values, themselves within the bounds: what an operation builds from them may not be.
TEXT_VALUES = ["", "chat", "ß" * 50_000, "a" * 99_999, "ﬃ" * 40_000, "İ" * 60_000, None]
INT_VALUES = [0, 7, -1, 2**62 - 1, -(2**63), 123_456_789, None]
ENVS = st.fixed_dictionaries({"n": st.sampled_from(INT_VALUES), "s": st.sampled_from(TEXT_VALUES)})


def within_bounds(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return True
    if isinstance(value, int):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, str):
        return len(value) <= MAX_SIZE and not any("\ud800" <= c <= "\udfff" for c in value)
    return size_of(value) <= MAX_SIZE


def evaluate(source: str, env: dict[str, Any]) -> Any:
    """The value, or the ExpressionError; a value out of bounds or another exception fails the test."""
    start = time.perf_counter()
    try:
        value = EVALUATOR.evaluate(parse(source), env)
    except ExpressionError as exc:
        assert exc.code == "evaluation-error", exc
        return exc
    finally:
        assert time.perf_counter() - start < 2, f"{source} took {time.perf_counter() - start:.1f}s"
    assert within_bounds(value), f"{source} gave a value beyond the bounds"
    return value


# --------------------------------------------------------------------------- the Evaluator

EVALUATOR_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EVALUATOR_SETTINGS
@given(source=BOUNDED["ints"], env=ENVS)
def test_integers_stay_within_their_bits(source: str, env: dict[str, Any]) -> None:
    value = evaluate(source, env)
    assert not isinstance(value, int) or value.bit_length() <= MAX_INT_BITS


@EVALUATOR_SETTINGS
@given(source=BOUNDED["texts"], env=ENVS)
def test_texts_stay_within_their_length_after_case_mapping_too(source: str, env: dict[str, Any]) -> None:
    value = evaluate(source, env)
    assert not isinstance(value, str) or len(value) <= MAX_SIZE


@EVALUATOR_SETTINGS
@given(source=BOUNDED["lists"], env=ENVS)
def test_nested_lists_stay_within_their_size(source: str, env: dict[str, Any]) -> None:
    value = evaluate(source, env)
    assert not isinstance(value, list) or size_of(value) <= MAX_SIZE


@pytest.mark.parametrize(("source", "message"), [
    ("upper(s)", "a text of 100,002 characters"),  # 'ß' * 50,001: each becomes 'SS'
    ("upper(t)", "a text of 120,000 characters"),  # 'ﬃ' * 40,000: each becomes 'FFI'
    ("lower(u)", "a text of 120,000 characters"),  # 'İ' * 60,000: each becomes 'i̇'
    ("s + s", "a text of 100,002 characters"),
    ("[['aaaaaaaaaa'] * 100000] * 100000", "a list larger than 100,000"),
    ("[s, s]", "a list larger than 100,000"),
    ("n * n * n", "an integer of 1,201 bits"),
    ("m ** 400", "an integer of more than 1,023 bits"),
    ("'\\ud800' + t", "lone surrogate"),
])
def test_each_bound_is_an_evaluation_error(source: str, message: str) -> None:
    env = {"s": "ß" * 50_001, "t": "ﬃ" * 40_000, "u": "İ" * 60_000, "n": 2**400, "m": 7}
    with pytest.raises(ExpressionError) as info:
        EVALUATOR.evaluate(parse(source), env)
    assert info.value.code == "evaluation-error" and message in info.value.message, info.value.message


def test_values_passed_on_are_not_built() -> None:
    """A record value beyond a bound is as read; only what an operation builds from it is checked."""
    long = "a" * (MAX_SIZE + 10)
    assert EVALUATOR.evaluate(parse("coalesce(s, '')"), {"s": long}) == long
    assert EVALUATOR.evaluate(parse("s if n else ''"), {"s": long, "n": 1}) == long
    with pytest.raises(ExpressionError):
        EVALUATOR.evaluate(parse("s + ''"), {"s": long})


# --------------------------------------------------------------------------- constant folding

@settings(max_examples=150, deadline=None)
@given(source=CONSTANT)
def test_folding_refuses_exactly_what_the_evaluator_refuses(source: str) -> None:
    expr = parse(source)
    folded = Folder(CONSTANTS).fold(expr, CONSTANTS)
    outcome = evaluate(source, {})
    if isinstance(outcome, ExpressionError):
        assert [e.code for e in folded.errors] == ["never-computable"]
        assert folded.errors[0].location == outcome.location
    else:
        assert not folded.errors and folded.is_constant and folded.value == outcome


def test_folding_checks_only_the_parts_without_record_values() -> None:
    expr = parse("x + 1 if x else len('a' * 10 ** 6)")
    folded = Folder({}).fold(expr, {})
    assert [e.code for e in folded.errors] == ["never-computable"] and not folded.is_constant
    assert "'a' * 10 ** 6" in folded.errors[0].message
    assert Folder({}).fold(parse("x * 2 ** 1000"), {}).errors == ()


def test_folding_stops_when_its_budget_is_spent() -> None:
    """Validation cannot hang: past the budget, parts are left unchecked (and not refused)."""
    heavy = parse("len(lower('A' * 99999)) + len(upper('b' * 99999))")
    folder = Folder({}, budget=2_000_000)
    start = time.perf_counter()
    results = [folder.fold(heavy, {}) for _ in range(1000)]
    assert time.perf_counter() - start < 5
    assert results[0].is_constant and not results[-1].is_constant
    assert folder.fold(parse("9 ** 9 ** 9"), {}).errors == ()  # no budget left to find it
    phrases = [f"w{i}" for i in range(100_000)]
    assert Folder({"p": phrases}).fold(parse("count_matches('w1', p)"), {"p": phrases}).errors == ()


def test_validation_reports_never_computable_at_line_and_column(tmp_path: Path) -> None:
    scheme = Path(__file__).resolve().parents[1] / "rules" / "cs-quality" / "2026Q2.yaml"
    text = scheme.read_text(encoding="utf-8")
    old = "  used_forbidden_phrase: contains_any(transcript, forbidden_phrases)\n"
    text = text.replace(old, old + "  base: 7 ** 360\n  square: channel if base * base else team\n")
    path = tmp_path / "2026Q2.yaml"
    path.write_text(text, encoding="utf-8")
    _, findings = validate_file(path)
    errors = [f for f in findings if f.severity == "error"]
    assert [f.code for f in errors] == ["never-computable"]
    square = "  square: channel if base * base else team"
    line = text.splitlines().index(square) + 1
    assert (errors[0].location.line, errors[0].location.column) == (line, square.index("base * base") + 1)


# --------------------------------------------------------------------------- both engines

SCHEME = """\
format: qualiscore/v1
scheme: bounds
version: v1
effective_from: 2026-01-01
subject: {{group_by: [g]}}
records:
  id: id
  fields:
    id: {{type: string}}
    g: {{type: string}}
    n: {{type: integer, nullable: true}}
    s: {{type: string, nullable: true}}
constants:
  words: [alpha, ß, ﬃ]
derive:
  v: {expr}
dimensions:
  - id: d
    name: d
    weight: 1
    indicators:
      - id: i
        name: i
        measure: {{count: 'v is not None'}}
        scoring: {{linear: {{from: 0, to: 10}}}}
        weight: 1
grades:
  - {{name: A, min: 50}}
  - {{name: B, min: 0}}
"""


# A record value may itself be beyond a bound (a long text): it is as read, but not what is built from it.
DATA = [*zip(INT_VALUES, TEXT_VALUES), (2**40, "b" * (MAX_SIZE + 500))]
# A list is only vectorised where it is used (`len`, `in`); a list-valued derived value falls back.
USES = {"ints": ["{}"], "texts": ["{}"], "lists": ["{}", "len({})", "'ß' in {}"]}


def write_data(path: Path) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "g", "n", "s"])
    for i, (n, s) in enumerate(DATA):
        writer.writerow([f"r{i}", "g" + str(i % 2), "" if n is None else n, "" if s is None else s])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.skipif(not HAS_POLARS, reason="polars is not installed")
@pytest.mark.parametrize("bound", list(BOUNDED))
def test_engines_reject_the_same_rows(bound: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from qualiscore.schemes import load_scheme
    from test_engine_differential import assert_same

    @settings(max_examples=ENGINE_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(source=BOUNDED[bound].filter(lambda s: bool(parse(s).names & {"n", "s"})),
           use=st.sampled_from(USES[bound]))
    def check(source: str, use: str) -> None:
        source = use.format(source)
        tmp = tmp_path_factory.mktemp(bound)
        path = tmp / "v1.yaml"
        path.write_text(SCHEME.format(expr="'" + source.replace("'", "''") + "'"), encoding="utf-8")
        try:
            scheme = load_scheme(path)
        except QualiscoreError:
            return  # refused before any record is read (never-computable), by every engine alike
        assert_same([scheme], [str(write_data(tmp / "data.csv"))])

    check()
