"""Escape and denial-of-service attempts written as scheme expressions.

Every attempt must be refused with a located ExpressionError: by ``parse`` (syntax
outside the allow-list), by ``iter_errors`` (names and functions the scheme does
not have), or, for the few that are legal syntax (huge powers and repetitions), by
``Evaluator.evaluate`` quickly and without eating memory.
"""

from __future__ import annotations

import contextlib
import operator
import os
import signal
import tracemalloc
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest

from qualiscore.errors import ExpressionError, Location
from qualiscore.expressions import MAX_SOURCE, Evaluator, iter_errors, parse

BASE = Location("scheme.yaml", 12, 20, pointer="/derive/evil")
NAMES = {"x": "field", "text": "field", "targets": "constant", "phrases": "constant"}
CONSTANTS: dict[str, Any] = {"targets": {"chat": 60}, "phrases": ["sorry"]}
ENV: dict[str, Any] = {"x": 1, "text": "hello"}

PARSE_CODES = {"expression-syntax", "disallowed-syntax", "expression-too-long", "expression-too-deep", "excel-habit"}

# (id, expression, expected code). "evaluation-error" marks legal syntax that must fail
# at evaluation time, fast.
CORPUS: list[tuple[str, str, str]] = [
    # attribute walks to the interpreter
    ("tuple-class", "().__class__", "disallowed-syntax"),
    ("function-globals", "x.__globals__", "disallowed-syntax"),
    ("str-mro", '"".__class__.__mro__', "disallowed-syntax"),
    ("subclasses", "[].__class__.__base__.__subclasses__()", "disallowed-syntax"),
    ("bool-subclasses", "True.__class__.__class__.__base__.__subclasses__()[-1]", "disallowed-syntax"),
    ("attr-on-call", "lower(x).__class__", "disallowed-syntax"),
    ("plain-attr", "text.upper", "disallowed-syntax"),
    ("generator-frame", "(y for y in []).gi_frame.f_builtins", "disallowed-syntax"),
    # dangerous builtins called by name
    ("getattr", 'getattr(x, "a")', "unknown-function"),
    ("eval", 'eval("1")', "unknown-function"),
    ("exec", 'exec("1")', "unknown-function"),
    ("open", 'open("/etc/passwd")', "unknown-function"),
    ("compile", 'compile("1", "", "eval")', "unknown-function"),
    ("globals", "globals()", "unknown-function"),
    ("locals", "locals()", "unknown-function"),
    ("vars", "vars()", "unknown-function"),
    ("type", "type(1)", "unknown-function"),
    ("print", "print(x)", "unknown-function"),
    ("breakpoint", "breakpoint()", "unknown-function"),
    ("help", "help()", "unknown-function"),
    ("os-system", "system('id')", "unknown-function"),
    ("os-popen", "popen('id')", "unknown-function"),
    ("os-execl", "execl('/bin/sh', 'sh')", "unknown-function"),
    ("os-posix-spawn", "posix_spawn('/bin/sh', ['sh'], [])", "unknown-function"),
    ("bare-builtin-name", "os", "unknown-name"),
    # dunder and private names
    ("dunder-import", '__import__("os")', "disallowed-syntax"),
    ("dunder-builtins", "__builtins__", "disallowed-syntax"),
    ("private-name", "_x", "disallowed-syntax"),
    ("dunder-in-branch", "x if x else __import__('os')", "disallowed-syntax"),
    ("fullwidth-dunder", "＿＿import＿＿('os')", "expression-syntax"),
    # format strings
    ("format-method", '"{0.__class__}".format(x)', "disallowed-syntax"),
    ("format-map", '"{a.__class__}".format_map(x)', "disallowed-syntax"),
    ("f-string", 'f"{x}"', "disallowed-syntax"),
    ("f-string-dunder", 'f"{x.__class__}"', "disallowed-syntax"),
    ("f-string-spec", "f'{x:{\"9\" * 1000}}'", "disallowed-syntax"),
    ("percent-format-width", "'%0999999999d' % 1", "evaluation-error"),
    ("percent-format-star", "'%*d' % (10**9, 1)", "evaluation-error"),
    # denial of service by arithmetic and repetition
    ("power-tower", "9**9**9", "evaluation-error"),
    ("power-huge-exponent", "2**4000000", "evaluation-error"),
    ("power-under-simpleeval-limit", "3999999**3999999", "evaluation-error"),
    ("power-of-power", "(10**300)**(10**300)", "evaluation-error"),
    ("str-repeat", "'a'*10**9", "evaluation-error"),
    ("str-repeat-reversed", "10**9*'a'", "evaluation-error"),
    ("list-repeat", "[1]*10**9", "evaluation-error"),
    ("tuple-repeat", "(1,)*10**9", "evaluation-error"),
    ("nested-repeat", "('a'*1000)*1000", "evaluation-error"),
    ("concat-over-limit", "'a'*100000 + 'b'", "evaluation-error"),
    ("round-huge-ndigits", "round(5, -10**9)", "evaluation-error"),
    ("float-overflow", "10.0**10**6", "evaluation-error"),
    # nesting and size
    ("open-parens", "(" * 1000, "expression-too-deep"),
    ("balanced-parens", "(" * 500 + "1" + ")" * 500, "expression-too-deep"),
    ("unary-chain", "-" * 1000 + "1", "expression-too-deep"),
    ("not-chain", "not " * 400 + "x", "expression-too-deep"),
    ("nested-lists", "[" * 60 + "]" * 60, "expression-too-deep"),
    ("nested-calls", "abs(" * 60 + "1" + ")" * 60, "expression-too-deep"),
    ("nested-subscripts", "targets[" * 60 + "1" + "]" * 60, "expression-too-deep"),
    ("long-expression", "x + " * 2500 + "x", "expression-too-long"),
    ("hundred-thousand-terms", "+".join(["1"] * 100_000), "expression-too-long"),
    ("long-string-literal", "'" + "a" * 5000 + "'", "expression-too-long"),
    ("long-int-literal", "9" * 10_000, "expression-too-long"),
    # comprehensions, lambdas and friends
    ("list-comprehension", "[y for y in phrases]", "disallowed-syntax"),
    ("set-comprehension", "{y for y in phrases}", "disallowed-syntax"),
    ("dict-comprehension", "{y: 1 for y in phrases}", "disallowed-syntax"),
    ("generator", "(y for y in phrases)", "disallowed-syntax"),
    ("generator-argument", "min(y for y in phrases)", "disallowed-syntax"),
    ("lambda", "lambda: 1", "disallowed-syntax"),
    ("lambda-call", "(lambda: 1)()", "disallowed-syntax"),
    ("walrus", "(y := 1)", "disallowed-syntax"),
    ("await", "await x", "disallowed-syntax"),
    ("yield", "(yield x)", "disallowed-syntax"),
    # call tricks
    ("starred-call", "min(*x)", "disallowed-syntax"),
    ("double-starred-call", "round(**x)", "disallowed-syntax"),
    ("keyword-argument", "round(x, ndigits=2)", "disallowed-syntax"),
    ("call-on-call", "abs(x)(1)", "disallowed-syntax"),
    ("call-on-subscript", "targets['chat']()", "disallowed-syntax"),
    ("field-called", "x(1)", "unknown-function"),
    # literals and subscripts
    ("dict-literal-dunder", '{"__class__": 1}', "disallowed-syntax"),
    ("set-literal", "{x}", "disallowed-syntax"),
    ("bytes-literal", 'b"abc"', "disallowed-syntax"),
    ("complex-literal", "1j", "disallowed-syntax"),
    ("ellipsis", "...", "disallowed-syntax"),
    ("subscript-string-literal", '"abc"[0]', "disallowed-syntax"),
    ("subscript-list-literal", "[1, 2][0]", "disallowed-syntax"),
    ("subscript-field", "x[0]", "subscript-not-constant"),
    ("subscript-call", "lower(text)[0]", "disallowed-syntax"),
    ("slice", "targets[0:2]", "disallowed-syntax"),
    ("slice-huge", "targets[0:10**9]", "disallowed-syntax"),
    ("starred-list", "[*phrases]", "disallowed-syntax"),
    # operators outside the language
    ("is-literal", "x is 1", "disallowed-syntax"),
    ("is-name", "x is text", "disallowed-syntax"),
    ("invert", "~x", "disallowed-syntax"),
    ("left-shift", "1 << 10**6", "disallowed-syntax"),
    ("matmul", "x @ x", "disallowed-syntax"),
    ("bit-or", "x | x", "disallowed-syntax"),
    # statements
    ("import", "import os", "expression-syntax"),
    ("assignment", "x = 1", "excel-habit"),  # refused; read as Excel's "=" for "=="
    ("two-statements", "1; import os", "expression-syntax"),
    ("newline-statement", "1\nimport os", "expression-syntax"),
    ("null-byte", "x\x00", "expression-syntax"),
]


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Fail instead of hanging when a pure-Python loop runs away (POSIX only)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def timeout(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_corpus_is_big_and_ids_are_unique() -> None:
    assert len(CORPUS) >= 35
    assert len({case_id for case_id, _, _ in CORPUS}) == len(CORPUS)


def assert_located_inside(err: ExpressionError, source: str) -> None:
    assert err.location is not None
    assert err.location.file == BASE.file and err.location.pointer == BASE.pointer
    assert err.location.line is not None and err.location.column is not None
    lines = source.split("\n")
    offset = err.location.line - BASE.line
    assert 0 <= offset < len(lines)
    # Every line of a (block) scalar starts at the same column as the first.
    assert BASE.column <= err.location.column < BASE.column + max(len(lines[offset]), 1)


@pytest.mark.parametrize(("case_id", "source", "code"), CORPUS, ids=[c[0] for c in CORPUS])
def test_attempt_is_refused(case_id: str, source: str, code: str) -> None:
    evaluator = Evaluator(CONSTANTS)
    with watchdog(5):
        errors = list(iter_errors(source, names=NAMES, location=BASE))
        if code == "evaluation-error":
            assert errors == []
            expr = parse(source, location=BASE)
            tracemalloc.start()
            try:
                with pytest.raises(ExpressionError) as info:
                    evaluator.evaluate(expr, ENV)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert info.value.code == "evaluation-error"
            assert peak < 5_000_000, f"evaluation allocated {peak} bytes"
            assert_located_inside(info.value, source)
        else:
            assert errors, "not refused"
            assert errors[0].code == code
            for err in errors:
                assert_located_inside(err, source)
            if code in PARSE_CODES:
                with pytest.raises(ExpressionError) as info:
                    parse(source, location=BASE)
                assert info.value.code == code
            else:
                # Legal syntax, refused by name checks; the evaluator refuses it too when
                # validation is skipped.
                expr = parse(source, location=BASE)
                with pytest.raises(ExpressionError) as info:
                    evaluator.evaluate(expr, ENV)
                assert info.value.code == "evaluation-error"


def test_limits_are_simpleevals() -> None:
    import simpleeval

    assert tuple(int(p) for p in version("simpleeval").split(".")[:3]) >= (1, 0, 8)
    assert simpleeval.MAX_STRING_LENGTH == 100_000
    assert issubclass(Evaluator, simpleeval.SimpleEval)
    # Just under the limits still works.
    evaluator = Evaluator({})
    assert len(evaluator.evaluate(parse("'a' * 100000"), {})) == 100_000
    assert evaluator.evaluate(parse("2 ** 1022 - 1 + 2 ** 1022"), {}) == 2**1023 - 1
    with pytest.raises(ExpressionError):
        evaluator.evaluate(parse("2 ** 1022 * 2"), {})
    assert len(parse("1" + " " * (MAX_SOURCE - 1)).source) == MAX_SOURCE


# ------------------------------------------------------------------ simpleeval advisories
# simpleeval 1.0.x fixed escapes where a module or a dangerous function was reachable
# through names: directly, as an object's attribute, inside containers (list, tuple,
# dict, nested, and - in 1.0.8 - set/frozenset), returned by a function, or via the
# `operator` module (attrgetter/methodcaller, fixed in 1.0.8) and os.exec*/spawn*
# functions. In a scheme, names are record values and YAML constants, so the
# equivalent attacks are expressions reaching for attributes or calling values, and
# constants that are not plain data.

ADVISORY_EXPRESSIONS = [
    ("module-attribute", "path.os.popen('id').read()", "disallowed-syntax"),
    ("object-attribute-function", "thing.p('exit')", "disallowed-syntax"),
    ("function-in-list", "funcs[0]('exit')", "disallowed-syntax"),
    ("function-in-dict", "funcs['bad']('exit')", "disallowed-syntax"),
    ("module-in-nested-dict", "data['mods']['p'].os.popen('id').read()", "disallowed-syntax"),
    ("function-returning-module", "get_module().os.popen('id').read()", "disallowed-syntax"),
    ("module-dunder-dict", "os.__dict__", "disallowed-syntax"),
    ("operator-attrgetter", "getter(x)", "unknown-function"),
    ("operator-methodcaller", "methodcaller('system', 'id')(os)", "disallowed-syntax"),
    ("forbidden-function-by-name", "evil('1+1')", "unknown-function"),
]


@pytest.mark.parametrize(
    ("case_id", "source", "code"), ADVISORY_EXPRESSIONS, ids=[c[0] for c in ADVISORY_EXPRESSIONS]
)
def test_advisory_expressions_are_refused(case_id: str, source: str, code: str) -> None:
    names = {"x": "field", "getter": "constant", "evil": "field", "os": "constant", "funcs": "constant"}
    errors = list(iter_errors(source, names=names, location=BASE))
    assert errors and errors[0].code == code
    assert_located_inside(errors[0], source)


class _Escape:
    p = exec
    path = os.path

    @property
    def evil(self) -> Any:
        return exec


@pytest.mark.parametrize(
    "constants",
    [
        {"path": os.path},
        {"os": os},
        {"thing": _Escape()},
        {"funcs": [exec, eval]},
        {"funcs": (exec,)},
        {"funcs": {"bad": exec}},
        {"data": {"nested": {"mods": {"p": os.path}}}},
        {"mods": frozenset({os})},
        {"mods": {os.path}},
        {"getter": operator.attrgetter("__class__")},
        {"caller": operator.methodcaller("system", "id")},
        {"system": os.system},
    ],
    ids=lambda c: next(iter(c)),
)
def test_constants_must_be_plain_data(constants: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        Evaluator(constants)


@pytest.mark.parametrize("value", [exec, os, os.system, operator.attrgetter("__class__"), _Escape()])
def test_record_values_cannot_be_called_or_leak(value: Any) -> None:
    """Even if a record carried a function or module, no expression can use it."""
    evaluator = Evaluator({})
    for source in ("evil('1')", "evil"):
        with pytest.raises(ExpressionError) as info:
            evaluator.evaluate(parse(source), {"evil": value})
        assert info.value.code == "evaluation-error"


def test_hand_built_tree_cannot_reach_attributes() -> None:
    """The evaluator has handlers only for allowed nodes, even if the tree was tampered with."""
    import ast

    from qualiscore.expressions import Expression

    tree = ast.parse("x.__class__", mode="eval")
    forged = Expression("x.__class__", tree, frozenset({"x"}), frozenset())
    with pytest.raises(ExpressionError) as info:
        Evaluator({}).evaluate(forged, {"x": 1})
    assert info.value.code == "evaluation-error"
    tree = ast.parse("x(1)", mode="eval")
    forged = Expression("x(1)", tree, frozenset({"x"}), frozenset({"x"}))
    with pytest.raises(ExpressionError):
        Evaluator({}).evaluate(forged, {"x": exec})
