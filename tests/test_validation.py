"""Unit tests of qualiscore.validation: Finding.format, best_match, iter_findings, and a
property: validate_file never raises, whatever is done to a valid scheme."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qualiscore import validation
from qualiscore.errors import Location, SchemeLoadError
from qualiscore.loader import load_text
from qualiscore.validation import (
    SEVERITIES,
    Finding,
    best_match,
    iter_findings,
    load_error_finding,
    validate_file,
)

HERE = Path(__file__).parent
VALIDATE = HERE / "fixtures" / "validate"
CLEAN_TEXT = (VALIDATE / "clean.yaml").read_text(encoding="utf-8")

# file:line:col: severity[code] /pointer: message — hint
FORMAT = re.compile(
    r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning)\[(?P<code>[a-z0-9-]+)\]"
    r" (?P<pointer>/[^ ]*): (?P<message>.+?) — (?P<hint>.+)"
)


def finding(severity: str = "error", code: str = "c", line: int | None = 1, column: int | None = 1,
            file: str = "a.yaml", pointer: str | None = "/x", hint: str | None = "h",
            message: str = "m") -> Finding:
    return Finding(severity, code, message, Location(file, line, column, pointer), hint)


def doc_from(text: str, path: str = "clean.yaml"):
    return load_text(text, path)


def edit(old: str, new: str, text: str = CLEAN_TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --------------------------------------------------------------------------- Finding.format


def test_format_full() -> None:
    f = Finding("error", "unknown-key", "unknown key 'titel'", Location("rules/x/2026Q1.yaml", 3, 5, "/titel"),
                "did you mean 'title'?")
    assert f.format() == "rules/x/2026Q1.yaml:3:5: error[unknown-key] /titel: unknown key 'titel' — did you mean 'title'?"
    m = FORMAT.fullmatch(f.format())
    assert m is not None
    assert m.groupdict() == {
        "file": "rules/x/2026Q1.yaml", "line": "3", "column": "5", "severity": "error",
        "code": "unknown-key", "pointer": "/titel", "message": "unknown key 'titel'", "hint": "did you mean 'title'?",
    }


def test_format_warning_without_hint() -> None:
    f = finding("warning", "unused-field", 7, 5, pointer="/records/fields/team", hint=None, message="unused")
    assert f.format() == "a.yaml:7:5: warning[unused-field] /records/fields/team: unused"
    assert " — " not in f.format()


def test_format_without_pointer() -> None:
    f = finding(pointer=None, hint=None, message="the document is empty")
    assert f.format() == "a.yaml:1:1: error[c] the document is empty"
    assert finding(pointer="", hint=None).format() == "a.yaml:1:1: error[c] m"


def test_format_without_position_or_file() -> None:
    assert finding(line=None, column=None, pointer=None, hint=None).format() == "a.yaml: error[c] m"
    assert finding(column=None, pointer=None, hint=None).format() == "a.yaml:1: error[c] m"
    f = Finding("error", "c", "m", Location())
    assert f.format() == "<input>: error[c] m"


def test_format_of_real_findings_matches_the_form() -> None:
    path = VALIDATE / "several-mistakes.yaml"
    _doc, findings = validate_file(path)
    assert len(findings) == 5
    for f in findings:
        m = FORMAT.fullmatch(f.format())
        assert m is not None, f.format()
        assert m["file"] == str(path)
        assert (int(m["line"]), int(m["column"])) == (f.location.line, f.location.column)
        assert (m["severity"], m["code"], m["pointer"]) == (f.severity, f.code, f.location.pointer)
        assert (m["message"], m["hint"]) == (f.message, f.hint)


def test_as_dict() -> None:
    f = finding("warning", "unused-constant", 4, 3, pointer="/constants/spare", hint=None, message="unused")
    assert f.as_dict() == {
        "severity": "warning", "code": "unused-constant", "message": "unused", "hint": None,
        "file": "a.yaml", "line": 4, "column": 3, "pointer": "/constants/spare",
    }


# --------------------------------------------------------------------------- best_match


def test_best_match_empty() -> None:
    assert best_match([]) is None
    assert best_match(iter(())) is None


def test_best_match_prefers_an_error_over_an_earlier_warning() -> None:
    warning = finding("warning", "unused-field", 2, 1)
    error = finding("error", "unknown-key", 40, 3)
    assert best_match([warning, error]) is error
    assert best_match(iter([error, warning])) is error


def test_best_match_earliest_error() -> None:
    late = finding("error", "a", 10, 1)
    early_col = finding("error", "z", 3, 2)
    earliest = finding("error", "z", 3, 1)
    assert best_match([late, early_col, earliest]) is earliest
    # Same position: the code breaks the tie, so the choice does not depend on input order.
    x, y = finding("error", "b-code", 3, 1), finding("error", "a-code", 3, 1)
    assert best_match([x, y]) is y and best_match([y, x]) is y


def test_best_match_by_file_then_position() -> None:
    in_b = finding(file="b.yaml", line=1)
    in_a = finding(file="a.yaml", line=50)
    assert best_match([in_b, in_a]) is in_a


def test_best_match_only_warnings() -> None:
    later, earlier = finding("warning", "w", 9, 1), finding("warning", "w", 2, 7)
    assert best_match([later, earlier]) is earlier


def test_best_match_of_a_real_scheme() -> None:
    _doc, findings = validate_file(VALIDATE / "several-mistakes.yaml")
    best = best_match(reversed(findings))
    assert best is not None
    assert (best.code, best.location.line, best.location.column) == ("unknown-key", 23, 5)


# --------------------------------------------------------------------------- iter_findings


def test_iter_findings_interleaves_schema_and_lint_by_position() -> None:
    text = edit("effective_to: 2026-12-31", "effective_to: 2025-12-31")  # lint, line 6
    text = edit("    weight: 60", "    weight: sixty", text)  # schema, line 27 after the added constant
    text = edit("  good_csat: 4", "  good_csat: 4\n  spare: 1", text)  # lint warning, line 22
    text = edit("      grade: good", "      grade: good\n      colour: red", text)  # schema, last line
    findings = list(iter_findings(doc_from(text)))
    assert [(f.code, f.location.line) for f in findings] == [
        ("effective-range", 6),
        ("unused-constant", 22),
        ("wrong-type", 27),
        ("unknown-key", 60),
    ]
    assert findings == sorted(findings, key=Finding.sort_key)


def test_iter_findings_same_line_by_column_then_code() -> None:
    text = edit("- {name: fair, min: 60}", "- {name: good, min: 80}")  # duplicate name + overlap, one line
    findings = list(iter_findings(doc_from(text)))
    assert [(f.code, f.location.column) for f in findings] == [("duplicate-id", 12), ("grades-overlap", 23)]


def test_iter_findings_removes_exact_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = doc_from(CLEAN_TEXT)
    twice = Finding("warning", "w", "same", doc.locate("/title"))
    other_message = Finding("warning", "w", "different", doc.locate("/title"))
    monkeypatch.setattr(validation._Lint, "run", lambda self: [twice, other_message, twice])
    assert list(iter_findings(doc)) == [twice, other_message]  # same position: input order kept


def test_iter_findings_is_empty_for_a_clean_scheme() -> None:
    assert list(iter_findings(doc_from(CLEAN_TEXT))) == []


def test_iter_findings_reports_lint_despite_schema_errors() -> None:
    text = edit("format: qualiscore/v1", "format: 1")
    text = edit("{name: poor, min: 0}", "{name: poor, min: 5}", text)
    assert [f.code for f in iter_findings(doc_from(text))] == ["invalid-value", "grades-gap"]


# --------------------------------------------------------------------------- load errors


def test_validate_file_missing(tmp_path: Path) -> None:
    doc, findings = validate_file(tmp_path / "gone.yaml")
    assert doc is None
    assert [f.code for f in findings] == ["file-not-found"]


def test_validate_file_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(CLEAN_TEXT.replace("title: Demo quality", "title: Démo quality").encode("latin-1"))
    doc, findings = validate_file(path)
    assert doc is None
    assert len(findings) == 1
    f = findings[0]
    assert (f.severity, f.code, f.location.line, f.location.column) == ("error", "yaml-encoding", 4, 9)
    assert "0xe9" in f.message and f.hint


def test_load_error_finding() -> None:
    err = SchemeLoadError("bad", location=Location("x.yaml", 2, 3), hint="fix it", code="yaml-syntax")
    assert load_error_finding(err) == Finding("error", "yaml-syntax", "bad", Location("x.yaml", 2, 3), "fix it")
    bare = load_error_finding(SchemeLoadError("bad"))
    assert bare.location == Location() and bare.code == "yaml" and bare.hint is None


# --------------------------------------------------------------------------- messages and numbers (once bugs)


def test_unknown_reference_message_grammar() -> None:
    text = edit("        fcr: {value: 1.0}", "        fcrr: {value: 1.0}")
    [f] = [f for f in iter_findings(doc_from(text)) if f.code == "unknown-reference"]
    assert f.message == "'fcrr' is not an indicator of this scheme"


@pytest.mark.parametrize(("old", "new", "pointer"), [
    ("    weight: 40", "    weight: .nan", "/dimensions/1/weight"),
    ("    weight: 40", "    weight: .inf", "/dimensions/1/weight"),
    ("{name: fair, min: 60}", "{name: fair, min: .nan}", "/grades/1/min"),
    ("- {min: 0.7, points: 60}", "- {min: .nan, points: 60}", "/dimensions/0/indicators/0/scoring/bands/1/min"),
])
def test_non_finite_numbers_are_errors(old: str, new: str, pointer: str) -> None:
    doc = doc_from(edit(old, new))
    where = doc.locate(pointer)
    assert where.pointer == pointer and where.line is not None
    findings = list(iter_findings(doc))
    assert [(f.severity, f.location.line, f.location.column) for f in findings] == [
        ("error", where.line, where.column)
    ]


# --------------------------------------------------------------------------- property: never raises

BASE: dict[str, Any] = load_text(CLEAN_TEXT).data


def _walk(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], bool]]:
    """(path, is_scalar) for every node below the root."""
    out: list[tuple[tuple[Any, ...], bool]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append(((*path, key), not isinstance(child, (dict, list))))
        out.extend(_walk(child, (*path, key)))
    return out


NODES = _walk(BASE)
SCALARS = [p for p, is_scalar in NODES if is_scalar]
KEYS = [p for p, _ in NODES if isinstance(p[-1], str)]  # mapping entries, deletable


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


def _mutate(delete: int | None, replace: tuple[int, Any] | None) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    if replace is not None:
        path = SCALARS[replace[0] % len(SCALARS)]
        _parent(data, path)[path[-1]] = replace[1]
    if delete is not None:
        path = KEYS[delete % len(KEYS)]
        parent = _parent(data, path)
        if isinstance(parent, dict):  # a replacement may have removed it
            parent.pop(path[-1], None)
    return data


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([
        "", "2026-02-30", "2026-13-01", "2026/01/01", "month", "monthly", "poor", "csat", "good_csat",
        "happy", "Asia/Shangai", "csat >=", "csat.real", "__import__('os')", "lambda: 1", "x[0]",
        "round(1, 2, 3)", "rnd(csat)", "[c for c in x]", "qualiscore/v1", "-1", "0", "1e309",
    ]),
)
collections = st.one_of(
    st.lists(scalars, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["min", "max", "name", "a", "share", "id"]), scalars, min_size=1, max_size=2),
)
PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutants") / "mutant.yaml"


def _check_never_raises(scratch: Path, data: dict[str, Any]) -> None:
    scratch.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _doc, findings = validate_file(scratch)  # must not raise
    lines = len(scratch.read_text(encoding="utf-8").splitlines()) + 1
    for f in findings:
        assert isinstance(f, Finding)
        assert f.severity in SEVERITIES
        assert f.code and f.message
        assert f.location.file == str(scratch)
        if f.location.line is not None:
            assert 1 <= f.location.line <= lines
            assert f.location.column is not None and f.location.column >= 1
        f.format()
        f.as_dict()


def test_mutation_helpers_reach_every_part() -> None:
    assert ("grades", 1, "name") in SCALARS
    assert ("records", "fields", "csat", "minimum") in SCALARS
    assert ("dimensions", 0, "indicators") in KEYS
    assert _mutate(None, None) == BASE


@PROPERTY
@given(
    delete=st.none() | st.integers(min_value=0, max_value=10_000),
    replace=st.none() | st.tuples(st.integers(min_value=0, max_value=10_000), scalars),
)
@example(delete=None, replace=(SCALARS.index(("grades", 2, "min")), math.nan))
@example(delete=KEYS.index(("derive",)), replace=None)
@example(delete=KEYS.index(("records",)), replace=None)
def test_validate_never_raises_on_scalar_mutations(
    scratch: Path, delete: int | None, replace: tuple[int, Any] | None
) -> None:
    """Delete a random key and/or replace a random scalar with a random scalar: only findings come out."""
    _check_never_raises(scratch, _mutate(delete, replace))


# A richer base that also reaches true_values/false_values and tests.expect.vetoes, where
# list or non-text items once crashed the lint (unhashable / difflib TypeErrors).
RICH_TEXT = edit(
    "    rude: {type: boolean}", "    rude: {type: boolean, true_values: [Y, yes], false_values: [N, no]}"
)
RICH_TEXT = edit("      grade: good\n", """      grade: good
  - name: rudeness decides the grade
    records:
      - {ticket_id: T2, agent_id: A2, day: 2026-03-02, csat: 5, resolved: true, rude: Y}
    expect:
      vetoes: [rudeness]
      grade: poor
""", RICH_TEXT)
RICH: dict[str, Any] = load_text(RICH_TEXT).data
RICH_SCALARS = [p for p, is_scalar in _walk(RICH) if is_scalar]


def test_rich_base_is_clean() -> None:
    assert list(iter_findings(load_text(RICH_TEXT, "clean.yaml"))) == []


@PROPERTY
@given(
    delete=st.none() | st.integers(min_value=0, max_value=10_000),
    replace=st.tuples(st.integers(min_value=0, max_value=10_000), scalars | collections),
)
@example(delete=None, replace=(RICH_SCALARS.index(("grades", 1, "name")), ["fair"]))
@example(delete=None, replace=(RICH_SCALARS.index(("grades", 1, "name")), {"a": 1}))
@example(delete=None, replace=(RICH_SCALARS.index(("records", "fields", "rude", "true_values", 0)), ["Y"]))
@example(delete=None, replace=(RICH_SCALARS.index(("tests", 1, "expect", "vetoes", 0)), ["rudeness"]))
@example(delete=None, replace=(RICH_SCALARS.index(("tests", 1, "expect", "vetoes", 0)), 1))
@example(delete=None, replace=(RICH_SCALARS.index(("tests", 1, "expect", "vetoes", 0)), None))
def test_validate_never_raises_on_any_mutation(
    scratch: Path, delete: int | None, replace: tuple[int, Any]
) -> None:
    """Replace a random scalar with a random scalar, list or mapping (and maybe delete a key)."""
    data = copy.deepcopy(RICH)
    path = RICH_SCALARS[replace[0] % len(RICH_SCALARS)]
    _parent(data, path)[path[-1]] = replace[1]
    if delete is not None:
        keys = [p for p, _ in _walk(data) if isinstance(p[-1], str)]
        path = keys[delete % len(keys)]
        _parent(data, path).pop(path[-1])
    _check_never_raises(scratch, data)


# --------------------------------------------------------------------------- checks a later command made


def codes_at(text: str, path: str = "clean.yaml") -> list[tuple[str, str, int | None, int | None, str | None]]:
    """(severity, code, line, column, pointer) of every finding."""
    return [(f.severity, f.code, f.location.line, f.location.column, f.location.pointer)
            for f in iter_findings(doc_from(text, path))]


def test_a_day_both_off_and_worked_is_an_error_at_the_workday() -> None:
    text = edit("subject:\n", "calendar:\n  holidays: [2026-05-01, 2026-05-02]\n"
                               "  workdays: [2026-05-09, 2026-05-02]\nsubject:\n")
    found = [f for f in iter_findings(doc_from(text)) if f.code == "calendar-conflict"]
    assert [(f.location.line, f.location.column, f.location.pointer) for f in found] == [
        (9, 26, "/calendar/workdays/1")]
    assert "2026-05-02 is listed both as a holiday (line 8)" in found[0].message


def test_a_calendar_that_validates_compiles() -> None:
    from qualiscore.model import compile_document

    text = edit("subject:\n", "calendar:\n  holidays: [2026-05-01]\n  workdays: [2026-05-09]\nsubject:\n")
    assert codes_at(text) == []
    calendar = compile_document(doc_from(text)).calendar
    assert calendar.business_days_between(dt.date(2026, 5, 8), dt.date(2026, 5, 11)) == 2


@pytest.mark.parametrize(("zone", "hint"), [
    ("localtime", "depends on the machine"),
    ("posixrules", "depends on the machine"),
    ("posix/Asia/Shanghai", "did you mean 'Asia/Shanghai'?"),
    ("right/UTC", "did you mean"),
    ("asia/shanghai", "did you mean 'Asia/Shanghai'?"),
    ("utc", "did you mean 'UTC'?"),
    ("/etc/localtime", None),
    ("../../etc/passwd", None),
    ("", None),
])
def test_only_iana_time_zone_names_are_accepted(zone: str, hint: str | None) -> None:
    found = [f for f in iter_findings(doc_from(edit("timezone: Asia/Shanghai", f"timezone: '{zone}'")))
             if f.code == "unknown-timezone"]
    assert [(f.location.line, f.location.column) for f in found] == [(12, 14)]
    assert found[0].message == f"{zone!r} is not an IANA time zone name"
    assert hint is None or hint in (found[0].hint or "")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "Etc/GMT-8", "America/Argentina/Buenos_Aires", "GMT"])
def test_iana_time_zone_names_are_accepted(zone: str) -> None:
    assert codes_at(edit("timezone: Asia/Shanghai", f"timezone: {zone}")) == []


def test_the_record_reader_refuses_what_validation_refuses() -> None:
    from qualiscore.errors import DataError
    from qualiscore.model import Field, RecordContract
    from qualiscore.records import records_from_dicts

    with pytest.raises(DataError) as info:
        records_from_dicts([], RecordContract("id", "localtime", (Field("id", "string"),)))
    assert info.value.code == "bad-timezone"


@pytest.mark.parametrize(("fmt", "why"), [
    ("%Y-%m-%Q", "bad directive"),
    ("%Y-%m-%d %", "stray %"),
    ("%G-W%V", "ISO year directive"),
])
def test_a_format_that_reads_nothing_is_an_error(fmt: str, why: str) -> None:
    text = edit("day: {type: date}", f"day: {{type: date, format: '{fmt}'}}")
    found = [f for f in iter_findings(doc_from(text)) if f.code == "field-option"]
    assert [(f.location.line, f.location.pointer) for f in found] == [(16, "/records/fields/day/format")]
    assert why in found[0].message


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%d.%m.%y %I:%M %p", "%Z %Y-%m-%d"])
def test_usual_formats_are_accepted(fmt: str) -> None:
    assert codes_at(edit("day: {type: date}", f"day: {{type: date, format: '{fmt}'}}")) == []


def test_enum_values_that_no_value_of_the_field_can_equal_are_errors() -> None:
    text = edit("csat: {type: integer, minimum: 1, maximum: 5, nullable: true}",
                "csat: {type: integer, enum: [1, '2', 3.0, ' 4 ', 4.5, five, '1e3'], nullable: true}")
    found = [(f.location.pointer, f.message) for f in iter_findings(doc_from(text)) if f.code == "field-option"]
    assert found == [("/records/fields/csat/enum/4", "enum value 4.5 is not an integer, so no value equals it"),
                     ("/records/fields/csat/enum/5", "enum value 'five' is not an integer, so no value equals it"),
                     ("/records/fields/csat/enum/6", "enum value '1e3' is not an integer, so no value equals it")]


# --------------------------------------------------------------------------- file references


def scheme_with_fixture(tmp_path: Path, reference: str) -> Path:
    directory = tmp_path / "rules" / "demo"
    (directory / "fixtures").mkdir(parents=True, exist_ok=True)
    (directory / "fixtures" / "june.csv").write_text("ticket_id\n", encoding="utf-8")
    path = directory / "clean.yaml"
    path.write_text(edit("    records:\n      - {ticket_id: T1, agent_id: A1, day: 2026-03-01, csat: 5, "
                         "resolved: true, rude: false}\n", f"    records_file: '{reference}'\n"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("reference", "why"), [
    ("/etc/passwd", "is an absolute path"),
    ("\\\\server\\share\\x.csv", "is an absolute path"),
    ("C:/data/x.csv", "is an absolute path"),
    ("../secret.csv", "climbs out of the directory with '..'"),
    ("fixtures/../../x.csv", "climbs out of the directory with '..'"),
    ("fixtures\\..\\..\\x.csv", "climbs out of the directory with '..'"),
    ("book.xlsx#../../../x", None),  # a sheet name after '#' is not a path: this one is only missing
])
def test_a_records_file_outside_the_schemes_directory_is_an_error(tmp_path: Path, reference: str,
                                                                   why: str | None) -> None:
    _doc, found = validate_file(scheme_with_fixture(tmp_path, reference))
    outside = [f for f in found if f.code == "file-outside-tree"]
    if why is None:
        assert outside == [] and [f.code for f in found] == ["missing-fixture"]
        return
    assert [(f.severity, f.location.line, f.location.column, f.location.pointer) for f in outside] == [
        ("error", 53, 20, "/tests/0/records_file")]
    assert why in outside[0].message


def test_a_link_that_leads_out_of_the_directory_is_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("ticket_id\nS1\n", encoding="utf-8")
    path = scheme_with_fixture(tmp_path, "fixtures/link.csv")
    (path.parent / "fixtures" / "link.csv").symlink_to(secret)
    (path.parent / "fixtures" / "inside.csv").symlink_to(path.parent / "fixtures" / "june.csv")
    _doc, found = validate_file(path)
    assert [f.code for f in found] == ["file-outside-tree"]
    assert f"through a symbolic link (to {secret})" in found[0].message
    path.write_text(path.read_text(encoding="utf-8").replace("link.csv", "inside.csv"), encoding="utf-8")
    assert validate_file(path)[1] == []


def test_a_scheme_in_a_linked_directory_names_files_of_that_directory(tmp_path: Path) -> None:
    path = scheme_with_fixture(tmp_path, "fixtures/june.csv")
    (tmp_path / "elsewhere").symlink_to(path.parent)
    assert validate_file(tmp_path / "elsewhere" / "clean.yaml")[1] == []


def test_a_missing_fixture_is_a_warning_saying_where_it_was_looked_for(tmp_path: Path) -> None:
    path = scheme_with_fixture(tmp_path, "fixtures/july.csv")
    _doc, found = validate_file(path)
    assert [(f.severity, f.code, f.location.line) for f in found] == [("warning", "missing-fixture", 53)]
    assert str(path.parent / "fixtures" / "july.csv") in found[0].message
    assert f"relative to the directory of this file ({path.parent})" in (found[0].hint or "")
    assert validate_file(scheme_with_fixture(tmp_path, "fixtures/june.csv"))[1] == []
    assert validate_file(scheme_with_fixture(tmp_path, "fixtures"))[1][0].code == "missing-fixture"


def test_a_scheme_that_is_no_file_is_checked_by_its_text_alone() -> None:
    """A scheme read from git (diff REV:path) or from text: no directory to look in, no link to follow."""
    text = edit("    records:\n      - {ticket_id: T1, agent_id: A1, day: 2026-03-01, csat: 5, "
                "resolved: true, rude: false}\n", "    records_file: fixtures/x.csv\n")
    assert codes_at(text, "HEAD:rules/demo/clean.yaml") == []
    assert codes_at(text.replace("fixtures/x.csv", "../x.csv"), "HEAD:rules/demo/clean.yaml") == [
        ("error", "file-outside-tree", 53, 19, "/tests/0/records_file")]


def test_versions_without_a_period_are_a_warning_of_a_directory(tmp_path: Path) -> None:
    for version, start, end in (("2026Q1", "2026-01-01", "2026-03-31"), ("2026Q2", "2026-04-01", "2026-06-30")):
        text = edit("version: clean", f"version: {version}").replace("effective_from: 2026-01-01", f"effective_from: {start}")
        text = text.replace("effective_to: 2026-12-31", f"effective_to: {end}")
        text = text.replace("  period: {field: day, every: month}\n", "")
        (tmp_path / f"{version}.yaml").write_text(text, encoding="utf-8")
    found = validation.validate_paths([tmp_path])
    assert {(f.severity, f.code, Path(f.location.file or "").name) for f in found} >= {
        ("warning", "versions-no-period", "2026Q1.yaml"), ("warning", "versions-no-period", "2026Q2.yaml")}
    assert all(f.code != "versions-no-period" for f in validation.validate_paths([tmp_path / "2026Q1.yaml"]))


def test_validate_checks_tests_files_too(tmp_path: Path) -> None:
    """A *.tests.yaml file is checked like the `test` command checks it: its form and the files it names."""
    scheme = scheme_with_fixture(tmp_path, "fixtures/june.csv")
    tests = scheme.parent / "more.tests.yaml"
    tests.write_text("format: qualiscore-tests/v1\nscheme: ../other/clean.yaml\ntests:\n"
                     "  - {name: t, records_file: fixtures/july.csv, expect: {}, extra: 1}\n", encoding="utf-8")
    found = validation.validate_paths([tmp_path / "rules"])
    assert [(f.severity, f.code, f.location.line, f.location.column) for f in found] == [
        ("error", "file-outside-tree", 2, 9), ("warning", "missing-fixture", 4, 29),
        ("error", "unknown-key", 4, 60)]
    assert validation.checked_files(tmp_path / "rules") == [scheme, tests]
    tests.write_text("format: qualiscore-tests/v1\nscheme: nope.yaml\ntests: []\n", encoding="utf-8")
    assert [(f.code, f.location.line) for f in validate_file(tests)[1]] == [("file-not-found", 2)]


# --------------------------------------------------------------------------- the mistakes people make


def _found(text: str) -> list[tuple[str, str, int | None]]:
    return [(f.severity, f.code, f.location.line) for f in iter_findings(doc_from(text))]


def test_share_bounds_within_zero_and_one_are_fine() -> None:
    text = edit("{from: 0.5, to: 0.9}", "{from: 1, to: 0}")
    assert _found(text) == []


def test_share_bound_above_one_that_looks_like_a_percentage_suggests_the_fraction() -> None:
    text = edit("{min: 0.7, points: 60}", "{min: 75, points: 60}")
    [f] = iter_findings(doc_from(text))
    assert (f.code, f.location.line, f.location.pointer) == (
        "share-as-percent", 33, "/dimensions/0/indicators/0/scoring/bands/1/min")
    assert f.message == "band 2 min is 75, but a share is between 0 and 1: did you mean 0.75?"


def test_share_max_below_zero_can_never_be_reached() -> None:
    text = edit("scoring: {linear: {from: 0.5, to: 0.9}}", "scoring: {pass: {max: -0.1}}")
    assert _found(text) == [("error", "share-unreachable", 41)]


def test_percent_text_is_one_finding_and_reads_as_its_fraction() -> None:
    text = edit("{min: 0.9, points: 100}", "{min: '90 %', points: 100}")
    [f] = iter_findings(doc_from(text))
    assert (f.code, f.message) == ("percent-text", "90 % is written as text; write 0.90")


def test_weights_summing_near_one_are_read_as_fractions() -> None:
    text = edit("    weight: 60\n", "    weight: 0.6\n")
    text = edit("    weight: 40\n", "    weight: 0.5\n", text)
    [f] = iter_findings(doc_from(text))
    assert f.code == "weights-not-100"
    assert f.message == "the dimension weights sum to 1.1, not 1, so 0.6 is 54.5%, 0.5 is 45.5%"
    assert f.hint == "make them sum to 1 if they are meant as fractions"


def test_relative_weights_far_from_100_are_not_questioned() -> None:
    text = edit("    weight: 60\n", "    weight: 3\n")
    text = edit("    weight: 40\n", "    weight: 2\n", text)
    assert _found(text) == []


def test_approved_on_the_first_day_is_fine() -> None:
    assert _found(edit("effective_to: 2026-12-31\n", "effective_to: 2026-12-31\napproved_on: 2026-01-01\n")) == []


def test_test_subject_period_outside_the_version_is_a_warning() -> None:
    text = edit("    records:\n", "    subject: A1/2027-01\n    records:\n")
    [f] = iter_findings(doc_from(text))
    assert (f.severity, f.code, f.location.pointer) == ("warning", "test-outside-effective", "/tests/0/subject")
    assert f.message == "test subject period 2027-01 is outside this version's effective range (2026-01-01 to 2026-12-31)"


def test_test_subject_period_inside_the_version_is_fine() -> None:
    assert _found(edit("    records:\n", "    subject: A1/2026-03\n    records:\n")) == []


def test_full_width_colon_in_a_flow_key_is_named_in_the_unknown_key_hint() -> None:
    text = edit("{min: 0.7, points: 60}", "{min： 0.7, points: 60}")
    hints = [f.hint or "" for f in iter_findings(doc_from(text)) if f.code == "unknown-key"]
    assert hints and "full-width colon (U+FF1A)" in hints[0]


def test_ratio_of_a_condition_over_every_record_is_a_share() -> None:
    text = edit("measure: {share: resolved}", "measure: {ratio: {numerator: resolved, denominator: 1}}")
    assert _found(text) == []
    text = edit("{from: 0.5, to: 0.9}", "{from: 50, to: 0.9}", text)
    assert _found(text) == [("error", "share-as-percent", 41)]


def test_ratio_of_sums_is_not_taken_for_a_share() -> None:
    text = edit("measure: {share: resolved}", "measure: {ratio: {numerator: csat, denominator: 1}}")
    found = _found(edit("{from: 0.5, to: 0.9}", "{from: 2, to: 4.5}", text))
    assert found == [("warning", "unused-field", 18)]  # resolved; no share finding


def test_test_record_datetime_outside_the_version_is_a_warning() -> None:
    text = edit("    day: {type: date}", "    day: {type: datetime}")
    text = edit("day: 2026-03-01,", "day: '2027-03-01 09:00:00',", text)
    assert _found(text) == [("warning", "test-outside-effective", 54)]


def test_percent_text_of_a_grade_is_a_number_of_points() -> None:
    [f] = iter_findings(doc_from(edit("{name: good, min: 80}", "{name: good, min: 80%}")))
    assert (f.code, f.message, f.hint) == ("percent-text", "80% is written as text; write 80", "write the number without %")
