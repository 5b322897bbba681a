"""Scheme fixture tests: records in, expected results out (`qualiscore test`).

Tests live in a scheme's own `tests:` list, or in `*.tests.yaml` files next to the
schemes (format `qualiscore-tests/v1`, naming the scheme file they exercise), so a
committee can keep long fixtures apart from the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._plain import is_number
from .errors import DataError, Location, QualiscoreError, SchemeValidationError
from .i18n import _
from .loader import load_path
from .model import RecordContract, Scheme, TestCase, compile_tests
from .options import RunOptions
from .privacy import without_personal
from .records import Dataset, records_from_dicts
from .runs import execute
from .schemes import load_scheme
from .scorecard import Scorecard, rounded
from .validation import TESTS_SUFFIX, OutsideTree, resolve_reference, tests_file_findings

# A failure message shows values of the fixture records (subjects, measured values) only this
# much, so a test log never becomes a copy of the data.
SHOWN_VALUES = 3
SHOWN_CHARS = 40
MAX_ERROR_CHARS = 2000
LOAD = "(load)"  # the name of the one result of a file that does not load or validate


@dataclass(frozen=True, slots=True)
class Mismatch:
    what: str  # e.g. "indicators.fcr.points"
    expected: Any
    actual: Any
    # Where the expectation is under the test's `expect:` and the value that would make it pass,
    # for `qualiscore test --update`; no path when no value can be written (an absent indicator).
    path: tuple[str, ...] = field(default=(), compare=False)
    computed: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False  # not a pytest test class
    file: str
    scheme: str  # "<id> <version>"
    name: str
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    pointer: str = ""  # of the test in its file, e.g. "/tests/1"
    # The scorecard the expectations were compared with, for `qualiscore test --explain`.
    card: Scorecard | None = field(default=None, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


def _close(expected: Any, candidates: Sequence[Any], tol: float) -> bool:
    """Numbers match within ``tol`` of the full-precision or the printed value; others exactly."""
    if not is_number(expected):
        return any(_same(expected, c) for c in candidates)
    return any(is_number(c) and math.isclose(c, expected, rel_tol=0, abs_tol=tol) for c in candidates)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def check(card: Scorecard | None, rejected: int, test: TestCase) -> list[Mismatch]:
    exp = test.expect
    tol = test.tolerance
    d = card.decimals if card else 2
    out: list[Mismatch] = []

    def cmp(what: str, expected: Any, exact: Any, printed: Any = None,
            path: tuple[str, ...] | None = None) -> None:
        candidates = [exact] if printed is None else [exact, printed]
        if not _close(expected, candidates, tol):
            computed = printed if printed is not None else _shortest(exact, d, tol)
            out.append(Mismatch(what, expected, _clipped(printed if printed is not None else exact),
                                (what,) if path is None else path, computed))

    if "rejected" in exp:
        cmp("rejected", exp["rejected"], rejected)
    if card is None:
        return out
    if "score" in exp:
        cmp("score", exp["score"], card.score, rounded(card.score, d))
    if "grade" in exp:
        cmp("grade", exp["grade"], card.grade)
    if "vetoes" in exp:
        actual = sorted(v.id for v in card.vetoes)
        if sorted(exp["vetoes"]) != actual:
            out.append(Mismatch("vetoes", sorted(exp["vetoes"]), actual, ("vetoes",), actual))
    dims = {dim.id: dim for dim in card.dimensions}
    for did, expected in (exp.get("dimensions") or {}).items():
        dim = dims.get(did)
        cmp(f"dimensions.{did}.score", expected, dim.score if dim else None, rounded(dim.score, d) if dim else None,
            ("dimensions", did) if dim else ())
    inds = {i.id: i for i in card.indicators}
    for iid, spec in (exp.get("indicators") or {}).items():
        ind = inds.get(iid)
        if ind is None:
            out.append(Mismatch(f"indicators.{iid}", _("present"), _("absent")))  # nothing to write
            continue
        for key, expected in spec.items():
            if key == "points":
                cmp(f"indicators.{iid}.points", expected, ind.points, rounded(ind.points, d), ("indicators", iid, key))
            elif key == "value":
                cmp(f"indicators.{iid}.value", expected, ind.value, path=("indicators", iid, key))
            else:
                cmp(f"indicators.{iid}.{key}", expected, getattr(ind, key), path=("indicators", iid, key))
    return out


def _shortest(value: Any, decimals: int, tol: float) -> Any:
    """A measured value as a test would write it: rounded to the fewest decimals (at least the scheme's)
    that still match it within ``tol``."""
    if not is_number(value) or not math.isfinite(value):
        return value
    for n in range(decimals, 16):
        short = round(float(value), n)
        if math.isclose(short, value, rel_tol=0, abs_tol=tol):
            return short
    return value


def _clipped(value: Any) -> Any:
    """A value from the records as a failure message may show it: text cut to SHOWN_CHARS."""
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return value[: SHOWN_CHARS - 1] + "…"
    return value


def _some(values: Sequence[str]) -> str:
    """At most SHOWN_VALUES of ``values``, each clipped, and how many there are."""
    if not values:
        return _("none")
    shown = ", ".join(_clipped(v) for v in values[:SHOWN_VALUES])
    return shown if len(values) <= SHOWN_VALUES else _("{values}, … ({n} in all)", values=shown, n=len(values))


def _fixture(test: TestCase, base: Path, file: str, reference: str, pointer: str = "/records_file") -> Path:
    """A records file of a test, in the directory of the file that names it; else a DataError located there."""
    where = (test.records_file_location if pointer == "/records_file" else None) or Location(
        file, pointer=f"{test.pointer}{pointer}")
    try:
        resolved = resolve_reference(base, reference)
    except OutsideTree as why:
        raise DataError(_("records_file {reference!r} {why}", reference=reference, why=why), location=where,
                        code="file-outside-tree", hint=_("keep the file in {base} or below", base=base)) from None
    if not resolved.file.is_file():
        raise DataError(_("records_file {reference!r} names no file ({path} does not exist)", reference=reference,
                          path=resolved.file),
                        location=where, code="file-not-found",
                        hint=_("the path is relative to the directory of {file} ({base})", file=file, base=base))
    return resolved.path


def _inputs(scheme: Scheme, test: TestCase, base: Path, file: str) -> Any:
    """What a test scores: its inline records (typed on demand) or its file; by source for a scheme with several."""
    records, files = test.records, test.records_file
    if scheme.sources and (isinstance(records, Mapping) or isinstance(files, Mapping)):
        out: dict[str, Any] = {}
        for s in scheme.sources:
            if isinstance(files, Mapping) and s.name in files:
                out[s.name] = [_fixture(test, base, file, files[s.name], f"/records_file/{s.name}")]
            else:
                rows = records.get(s.name, ()) if isinstance(records, Mapping) else ()
                out[s.name] = records_from_dicts(list(rows), s.contract,
                                                 source=f"{file}#{test.pointer}/records/{s.name}")
        return out
    if records is None:
        return [_fixture(test, base, file, str(files))]
    inline_rows: list[Any] = list(records)

    def inline(contract: RecordContract) -> Dataset:
        return records_from_dicts(inline_rows, contract, source=f"{file}#{test.pointer}")

    return inline


def run_test(scheme: Scheme, test: TestCase, base: Path, file: str) -> TestResult:
    label = f"{scheme.id} {scheme.version}"
    try:
        # A scheme's own worked examples are not exports: their subjects are named by the values as written.
        run = execute(without_personal(scheme), _inputs(scheme, test, base, file), RunOptions(engine="rows"))
    except QualiscoreError as exc:
        text = exc.format()
        cut = ("\n" + _("… ({n:,} more characters)", n=len(text) - MAX_ERROR_CHARS)
               if len(text) > MAX_ERROR_CHARS else "")
        return TestResult(file, label, test.name, error=text[:MAX_ERROR_CHARS] + cut)
    cards = run.scorecards
    card: Scorecard | None
    if test.subject is not None:
        match = [c for c in cards if c.subject == test.subject]
        if not match:
            subjects = _some([c.subject for c in cards])
            return TestResult(file, label, test.name,
                              error=_("no scorecard for subject {subject!r} (have: {subjects})",
                                      subject=_clipped(test.subject), subjects=subjects))
        card = match[0]
    elif len(cards) == 1:
        card = cards[0]
    elif not cards and set(test.expect) <= {"rejected"}:
        card = None
    else:
        return TestResult(file, label, test.name,
                          error=_("the records form {n} scorecards; say which with `subject:`", n=len(cards)))
    return TestResult(file, label, test.name, tuple(check(card, run.rows_rejected, test)), pointer=test.pointer,
                      card=card)


def _test_file_cases(path: Path) -> tuple[Path, tuple[TestCase, ...]]:
    """The scheme a tests file names and its tests, refused like a scheme when it has errors."""
    doc = load_path(path)
    findings = tests_file_findings(doc)
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, str(path))
    return path.parent / doc.data["scheme"], compile_tests(doc.data["tests"], doc)


def iter_results(paths: Sequence[str | Path]) -> Iterator[TestResult]:
    """Results of every test found under ``paths`` (scheme files, test files or directories)."""
    for path in _collect(paths):
        file = str(path)
        try:
            if path.name.endswith(TESTS_SUFFIX):
                scheme_path, tests = _test_file_cases(path)
                scheme = load_scheme(scheme_path)
            else:
                scheme = load_scheme(path)
                tests = scheme.tests
        except QualiscoreError as exc:
            yield TestResult(file, "?", LOAD, error=exc.format())
            continue
        for test in tests:
            yield run_test(scheme, test, path.parent, file)


def _collect(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.yaml") if q.is_file() and _is_scheme_or_tests(q)))
        else:
            out.append(p)
    return out


def _is_scheme_or_tests(path: Path) -> bool:
    if path.name.endswith(TESTS_SUFFIX):
        return True
    try:
        head = path.read_text(encoding="utf-8-sig", errors="replace")[:4096]
    except OSError:
        return False
    return "qualiscore/v1" in head
