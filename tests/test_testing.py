"""Scheme fixture tests: the comparison rules of qualiscore.testing, and the `qualiscore test` command.

Comparison rules: an expected number matches within `tolerance` of the full-precision
value or of the printed (rounded) one; booleans match only booleans; text and null
match exactly; vetoes are compared as a set of ids; an expected indicator the scorecard
does not have is reported.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli
from qualiscore.model import TestCase as SchemeTest
from qualiscore.scorecard import DimensionResult, IndicatorResult, Scorecard, VetoResult
from qualiscore.testing import Mismatch, _close, check

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cli"

# --------------------------------------------------------------------------- building scorecards


def indicator(id: str, value: Any = 0.5, points: float | None = 50.0, status: str = "scored") -> IndicatorResult:
    return IndicatorResult(
        id=id, name=id, measure="share", value=value, sample=10, skipped=0, status=status, points=points,
        counted=points is not None, counted_points=points, weight=1.0, effective_weight=50.0,
        contribution=(points or 0.0) / 2,
    )


def veto(id: str) -> VetoResult:
    return VetoResult(id, id, "grade", "不合格", "because", ("R-1",))


def card(score: float | None = 70.0, grade: str | None = "合格", *, inds: tuple[IndicatorResult, ...] = (),
         dim_score: float | None = None, vetoes: tuple[str, ...] = (), decimals: int = 2) -> Scorecard:
    inds = inds or (indicator("a"), indicator("b"))
    dim = DimensionResult("d", "d", score if dim_score is None else dim_score, 1.0, 100.0, "scored", True, inds)
    return Scorecard(
        subject="A001/2026-04", keys={"agent_id": "A001"}, period="2026-04", scheme_id="s", scheme_version="v",
        scheme_sha256="0" * 64, records=10, score=score, grade=grade, score_grade=grade, decided_by="score",
        note=None, dimensions=(dim,), vetoes=tuple(veto(v) for v in vetoes), decimals=decimals,
    )


def case(expect: Mapping[str, Any], tolerance: float = 1e-6) -> SchemeTest:
    return SchemeTest(name="t", expect=dict(expect), records=(), tolerance=tolerance)


def whats(mismatches: list[Mismatch]) -> list[str]:
    return [m.what for m in mismatches]


# --------------------------------------------------------------------------- _close


@pytest.mark.parametrize(
    ("expected", "candidates", "tol", "ok"),
    [
        (70.5, [70.5], 1e-6, True),
        (70.5, [70.5000004], 1e-6, True),
        (70.5, [70.5001], 1e-6, False),
        (70.5, [70.5001], 0.001, True),
        (70.5, [70.6], 0.1 + 1e-9, True),
        (70, [70.0], 0, True),  # int and float compare as numbers
        (70.0, [70], 0, True),
        (85.71, [85.71428571428571, 85.71], 1e-6, True),  # the printed value matches
        (85.71, [85.71428571428571], 1e-6, False),  # the full value alone does not
        (85.714, [85.71428571428571, 85.71], 1e-3, True),  # the full value within tolerance
        (85.72, [85.71428571428571, 85.71], 1e-6, False),
        (-20, [-20.0000001], 1e-6, True),
        (0, [None], 1e-6, False),
        (None, [None], 1e-6, True),
        (None, [0], 1e-6, False),
        (None, [False], 1e-6, False),
        (0, [False], 1e-6, False),  # a number never matches a boolean
        (1, [True], 1e-6, False),
        (1.0, [True, True], 1e-6, False),
        (True, [True], 1e-6, True),
        (False, [False], 1e-6, True),
        (True, [1], 1e-6, False),  # a boolean never matches a number
        (True, [1.0], 1e-6, False),
        (False, [0], 1e-6, False),
        (False, [None], 1e-6, False),
        ("优秀", ["优秀"], 1e-6, True),
        ("优秀", ["良好"], 1e-6, False),
        ("100", [100], 1e-6, False),  # text is not a number
        (100, ["100"], 1e-6, False),
        ("scored", ["scored"], 1e-6, True),
    ],
)
def test_close(expected: Any, candidates: list[Any], tol: float, ok: bool) -> None:
    assert _close(expected, candidates, tol) is ok


# --------------------------------------------------------------------------- check: score, grade, dimensions


def test_everything_as_computed_passes() -> None:
    c = card(70.0, "合格", vetoes=("v1",))
    exp = {"score": 70, "grade": "合格", "vetoes": ["v1"], "dimensions": {"d": 70.0}, "rejected": 2,
           "indicators": {"a": {"value": 0.5, "points": 50, "status": "scored"}}}
    assert check(c, 2, case(exp)) == []


def test_score_within_tolerance_of_the_full_value() -> None:
    c = card(85.71428571428571)
    assert check(c, 0, case({"score": 85.714}, tolerance=0.001)) == []
    assert check(c, 0, case({"score": 85.7142857143})) == []
    assert whats(check(c, 0, case({"score": 85.7}, tolerance=0.001))) == ["score"]


def test_score_matches_its_printed_value() -> None:
    c = card(85.71428571428571)
    assert check(c, 0, case({"score": 85.71})) == []  # as printed on the scorecard, default tolerance
    (m,) = check(c, 0, case({"score": 85.72}))
    assert m == Mismatch("score", 85.72, 85.71)  # the mismatch shows the printed value


def test_printed_value_uses_the_schemes_decimals_and_half_even() -> None:
    assert check(card(92.125, decimals=2), 0, case({"score": 92.12})) == []  # half-even
    assert check(card(92.125, decimals=1), 0, case({"score": 92.1})) == []
    assert whats(check(card(92.125, decimals=1), 0, case({"score": 92.13}))) == ["score"]
    assert check(card(92.16666666666667, decimals=0), 0, case({"score": 92})) == []


def test_no_score_is_expected_as_null() -> None:
    c = card(None, None)
    assert check(c, 0, case({"score": None, "grade": None})) == []
    assert whats(check(c, 0, case({"score": 0, "grade": "不合格"}))) == ["score", "grade"]
    assert whats(check(card(0.0, "不合格"), 0, case({"score": None}))) == ["score"]


def test_grade_is_compared_exactly() -> None:
    assert check(card(70.0, "合格"), 0, case({"grade": "合格"})) == []
    (m,) = check(card(70.0, "合格"), 0, case({"grade": "良好"}))
    assert m == Mismatch("grade", "良好", "合格")


def test_dimension_score_full_or_printed() -> None:
    c = card(70.0, dim_score=66.66666666666667)
    assert check(c, 0, case({"dimensions": {"d": 66.67}})) == []
    assert check(c, 0, case({"dimensions": {"d": 66.6666666667}})) == []
    (m,) = check(c, 0, case({"dimensions": {"d": 66.66}}))
    assert m == Mismatch("dimensions.d.score", 66.66, 66.67)


def test_unknown_dimension_is_reported() -> None:
    assert whats(check(card(), 0, case({"dimensions": {"nope": 50}}))) == ["dimensions.nope.score"]


def test_rejected_count() -> None:
    assert check(card(), 3, case({"rejected": 3})) == []
    (m,) = check(card(), 3, case({"rejected": 2}))
    assert m == Mismatch("rejected", 2, 3)


def test_without_a_scorecard_only_rejected_is_checked() -> None:
    assert check(None, 4, case({"rejected": 4})) == []
    assert whats(check(None, 4, case({"rejected": 5}))) == ["rejected"]


# --------------------------------------------------------------------------- check: indicators


def test_indicator_points_full_or_printed() -> None:
    c = card(inds=(indicator("a", value=0.5, points=66.66666666666667),))
    assert check(c, 0, case({"indicators": {"a": {"points": 66.67}}})) == []
    assert check(c, 0, case({"indicators": {"a": {"points": 66.666}}}, tolerance=0.001)) == []
    (m,) = check(c, 0, case({"indicators": {"a": {"points": 66.6}}}))
    assert m == Mismatch("indicators.a.points", 66.6, 66.67)


def test_indicator_value_within_tolerance() -> None:
    c = card(inds=(indicator("a", value=0.8333333333333334, points=85.0),))
    assert check(c, 0, case({"indicators": {"a": {"value": 0.8333333333}}})) == []
    assert check(c, 0, case({"indicators": {"a": {"value": 0.83}}}, tolerance=0.005)) == []
    (m,) = check(c, 0, case({"indicators": {"a": {"value": 0.83}}}))
    assert m.what == "indicators.a.value" and m.actual == 0.8333333333333334


def test_indicator_boolean_value_matches_only_booleans() -> None:
    c = card(inds=(indicator("flag", value=True, points=100.0),))
    assert check(c, 0, case({"indicators": {"flag": {"value": True}}})) == []
    assert whats(check(c, 0, case({"indicators": {"flag": {"value": 1}}}))) == ["indicators.flag.value"]
    zero = card(inds=(indicator("n", value=0, points=0.0),))
    assert whats(check(zero, 0, case({"indicators": {"n": {"value": False}}}))) == ["indicators.n.value"]
    assert check(zero, 0, case({"indicators": {"n": {"value": 0}}})) == []


def test_indicator_status_and_not_applicable_points() -> None:
    c = card(inds=(indicator("a"), indicator("na", value=None, points=None, status="not_applicable")))
    assert check(c, 0, case({"indicators": {"na": {"status": "not_applicable", "points": None, "value": None}}})) == []
    got = check(c, 0, case({"indicators": {"na": {"status": "scored", "points": 0}}}))
    assert whats(got) == ["indicators.na.status", "indicators.na.points"]
    assert got[1].actual is None


def test_missing_indicator_is_reported() -> None:
    c = card()
    (m,) = check(c, 0, case({"indicators": {"nope": {"points": 50, "value": 0.5}}}))
    assert m == Mismatch("indicators.nope", "present", "absent")  # once, not once per key


def test_missing_indicator_with_no_expected_keys_is_reported() -> None:
    # silently accepted until a fix made while these tests were written
    assert whats(check(card(), 0, case({"indicators": {"nope": {}}}))) == ["indicators.nope"]


# --------------------------------------------------------------------------- check: vetoes


def test_vetoes_compared_as_sets() -> None:
    c = card(vetoes=("v2", "v1"))
    assert check(c, 0, case({"vetoes": ["v1", "v2"]})) == []
    assert check(c, 0, case({"vetoes": ["v2", "v1"]})) == []
    (m,) = check(c, 0, case({"vetoes": ["v1"]}))
    assert m == Mismatch("vetoes", ["v1"], ["v1", "v2"])
    assert whats(check(c, 0, case({"vetoes": ["v1", "v2", "v3"]}))) == ["vetoes"]
    assert whats(check(c, 0, case({"vetoes": []}))) == ["vetoes"]


def test_no_vetoes_expected_as_empty_list() -> None:
    assert check(card(), 0, case({"vetoes": []})) == []
    (m,) = check(card(), 0, case({"vetoes": ["v1"]}))
    assert m == Mismatch("vetoes", ["v1"], [])


def test_only_given_expectations_are_checked() -> None:
    assert check(card(12.0, "不合格", vetoes=("v1",)), 0, case({})) == []


# --------------------------------------------------------------------------- the `qualiscore test` command


SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)
RESULT_KEYS = {"file", "scheme", "name", "passed", "error", "mismatches"}


def counts(output: str) -> tuple[int, int]:
    m = SUMMARY.search(output)
    assert m, output
    return int(m[1]), int(m[2])


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _with_extra_tests(work: Path, text: str | None = None) -> Path:
    """Put tests/fixtures/cli's test file (or ``text``) and its records next to the 2026Q2 copy."""
    dest = work / "rules" / "cs-quality"
    shutil.copy(FIXTURES / "2026-05-one-agent.csv", dest / "fixtures" / "2026-05-one-agent.csv")
    path = dest / "cs-quality-extra.tests.yaml"
    if text is None:
        shutil.copy(FIXTURES / "cs-quality-extra.tests.yaml", path)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _results(output: str) -> dict[str, Any]:
    doc = json.loads(output)
    assert set(doc) == {"passed", "failed", "results"}
    for r in doc["results"]:
        assert set(r) == RESULT_KEYS
        for m in r["mismatches"]:
            assert set(m) == {"what", "expected", "actual"}
    assert doc["passed"] == sum(r["passed"] for r in doc["results"])
    assert doc["failed"] == sum(not r["passed"] for r in doc["results"])
    return doc


def test_bundled_rules_pass(cli: Cli, work: Path) -> None:
    result = cli("test", "rules/")
    assert result.exit_code == 0, result.output
    passed, failed = counts(result.output)
    assert passed >= 13 and failed == 0
    assert "FAIL" not in result.output


def test_verbose_lists_every_passing_test(cli: Cli, work: Path) -> None:
    result = cli("test", "-v", "rules/cs-quality/2026Q2.yaml")
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS rules/cs-quality/2026Q2.yaml · ") == counts(result.output)[0] == 4


def test_json_format(cli: Cli, work: Path) -> None:
    result = cli("test", "rules/", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = _results(result.stdout)
    assert doc["failed"] == 0 and doc["passed"] >= 16
    files = {r["file"] for r in doc["results"]}
    assert files == {"rules/cs-quality/2026Q1.yaml", "rules/cs-quality/2026Q2.yaml", "rules/cs-quality/2026Q3.yaml",
                     "rules/cs-inspection/2026Q3.yaml", "rules/qa-form/2026Q2.yaml"}
    assert {r["scheme"] for r in doc["results"]} == {"cs-quality 2026Q1", "cs-quality 2026Q2", "cs-quality 2026Q3",
                                                     "cs-inspection 2026Q3", "qa-form 2026Q2"}
    assert all(r["error"] is None and r["mismatches"] == [] for r in doc["results"])


def _wrong_expectation(work: Path) -> Path:
    path = work / "rules" / "cs-quality" / "2026Q2.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("      score: 70.5\n") == 1
    path.write_text(text.replace("      score: 70.5\n", "      score: 71.5\n"), encoding="utf-8")
    return path


def test_wrong_expectation_fails_showing_expected_and_actual(cli: Cli, work: Path) -> None:
    _wrong_expectation(work)
    result = cli("test", "rules/cs-quality/")
    assert result.exit_code == 1, result.output
    assert counts(result.output) == (10, 1)
    fail = [ln for ln in result.output.splitlines() if ln.startswith("FAIL ")]
    assert len(fail) == 1 and fail[0].startswith("FAIL rules/cs-quality/2026Q2.yaml · ")
    assert "  score: expected 71.5, got 70.5" in result.output


def test_wrong_expectation_in_json(cli: Cli, work: Path) -> None:
    _wrong_expectation(work)
    result = cli("test", "rules/cs-quality/2026Q2.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = _results(result.stdout)
    assert (doc["passed"], doc["failed"]) == (3, 1)
    (failed,) = [r for r in doc["results"] if not r["passed"]]
    assert failed["error"] is None
    assert failed["mismatches"] == [{"what": "score", "expected": 71.5, "actual": 70.5}]


def test_tests_file_in_a_directory_is_picked_up(cli: Cli, work: Path) -> None:
    _with_extra_tests(work)
    result = cli("test", "-v", "rules/cs-quality/")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == (14, 0)  # 4 + 4 + 3 of the three versions, 3 in the test file
    extra = [ln for ln in result.output.splitlines() if "cs-quality-extra.tests.yaml" in ln]
    assert len(extra) == 3 and all(ln.startswith("PASS ") for ln in extra)


def test_tests_file_given_directly_and_its_records_files(cli: Cli, work: Path) -> None:
    path = _with_extra_tests(work)
    result = cli("test", str(path.relative_to(work)), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = _results(result.stdout)
    assert doc["passed"] == 3
    assert {r["scheme"] for r in doc["results"]} == {"cs-quality 2026Q2"}
    names = [r["name"] for r in doc["results"]]
    assert any("records_file, printed figures" in n for n in names)


def test_wrong_expectation_in_a_records_file_test(cli: Cli, work: Path) -> None:
    text = (FIXTURES / "cs-quality-extra.tests.yaml").read_text(encoding="utf-8")
    assert text.count("      score: 92.17\n") == 1
    _with_extra_tests(work, text.replace("      score: 92.17\n", "      score: 92.27\n"))
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml")
    assert result.exit_code == 1, result.output
    assert counts(result.output) == (2, 1)
    assert "  score: expected 92.27, got 92.17" in result.output


def test_records_file_that_does_not_exist_is_reported(cli: Cli, work: Path) -> None:
    text = (FIXTURES / "cs-quality-extra.tests.yaml").read_text(encoding="utf-8")
    _with_extra_tests(work, text.replace("fixtures/2026-05-one-agent.csv", "fixtures/missing.csv"))
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    (failed,) = [r for r in _results(result.stdout)["results"] if not r["passed"]]
    assert "missing.csv" in failed["error"]


def test_tests_file_naming_a_missing_scheme_is_reported(cli: Cli, work: Path) -> None:
    _with_extra_tests(work, "format: qualiscore-tests/v1\nscheme: 2026Q9.yaml\ntests: []\n")
    result = cli("test", "rules/cs-quality/")
    assert result.exit_code == 1, result.output
    assert "FAIL rules/cs-quality/cs-quality-extra.tests.yaml · (load)" in result.output
    assert "2026Q9.yaml" in result.output


def test_tests_file_without_its_format_is_reported(cli: Cli, work: Path) -> None:
    _with_extra_tests(work, "scheme: 2026Q2.yaml\ntests: []\n")
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml")
    assert result.exit_code == 1, result.output
    assert "FAIL rules/cs-quality/cs-quality-extra.tests.yaml · (load)" in result.output
    assert "format" in result.output


def test_broken_scheme_is_reported_and_fails(cli: Cli, work: Path) -> None:
    path = work / "rules" / "cs-quality" / "2026Q2.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        weight: 60\n", "        weight: 0\n", 1), encoding="utf-8")
    line = text[: text.index("        weight: 60\n")].count("\n") + 1
    result = cli("test", "rules/")
    assert result.exit_code == 1, result.output
    assert "FAIL rules/cs-quality/2026Q2.yaml · (load)" in result.output
    assert re.search(rf"rules/cs-quality/2026Q2\.yaml:{line}:\d+: error\[", result.output), result.output
    passed, failed = counts(result.output)
    assert failed == 1 and passed >= 9  # the other schemes still ran

    doc = _results(cli("test", "rules/", "--format", "json").stdout)
    (load,) = [r for r in doc["results"] if r["name"] == "(load)"]
    assert load["scheme"] == "?" and not load["passed"] and "error[" in load["error"]


def test_yaml_syntax_error_is_reported(cli: Cli, work: Path) -> None:
    path = work / "rules" / "cs-quality" / "2026Q2.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("grades:\n", "grades: [\n", 1), encoding="utf-8")
    result = cli("test", "rules/cs-quality/2026Q2.yaml")
    assert result.exit_code == 1, result.output
    assert "(load)" in result.output and "error[" in result.output


# --------------------------------------------------------------------------- malformed *.tests.yaml files
# Until a fix made while these tests were written, tests in *.tests.yaml files were not
# validated: these crashed with a traceback (TypeError / AttributeError in check()), and
# a misspelled `expect:` made a test that checks nothing and passes.


BAD_EXPECTATIONS = [
    pytest.param("vetoes: [unauthorised_promise, 1]", id="veto-not-text"),
    pytest.param("indicators: {csat: 100}", id="indicator-not-mapping"),
    pytest.param("indicators: {csat: {pionts: 100}}", id="indicator-key-typo"),
]


def _single_test_file(work: Path, expect: str, key: str = "expect") -> None:
    _with_extra_tests(work, (
        "format: qualiscore-tests/v1\nscheme: 2026Q2.yaml\ntests:\n"
        "  - name: south team\n    subject: A003/2026-06\n    records_file: fixtures/2026-06-south-team.csv\n"
        f"    {key}: {{{expect}}}\n"
    ))


@pytest.mark.parametrize("expect", BAD_EXPECTATIONS)
def test_malformed_expectation_in_a_tests_file_is_reported_not_a_crash(cli: Cli, work: Path, expect: str) -> None:
    _single_test_file(work, expect)
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml", catch=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output


def test_misspelled_expect_in_a_tests_file_does_not_pass_silently(cli: Cli, work: Path) -> None:
    _single_test_file(work, "grade: 优秀", key="expcet")
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml")
    assert result.exit_code == 1, result.output


def test_well_formed_single_test_file_passes(cli: Cli, work: Path) -> None:
    """The control for the two tests above: the same file with a sound expectation passes."""
    _single_test_file(work, "grade: 不合格, vetoes: [unauthorised_promise], indicators: {aht: {points: 50}}")
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml")
    assert result.exit_code == 0, result.output
    assert counts(result.output) == (1, 0)


# --------------------------------------------------------------------------- files a test may read

CARDS = "6222020200112233"  # a value no message may print from a file outside the rules tree


def _secret(work: Path) -> Path:
    """A records file outside the rules tree, shaped like the contract, holding a card number as agent."""
    path = work / "secret" / "cards.csv"
    path.parent.mkdir()
    rows = (FIXTURES / "2026-05-one-agent.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(rows).replace("A009", CARDS), encoding="utf-8")
    return path


@pytest.mark.parametrize("reference", ["../../secret/cards.csv", "ABSOLUTE", "fixtures/link.csv"])
def test_a_records_file_outside_the_rules_tree_is_never_read(cli: Cli, work: Path, reference: str) -> None:
    secret = _secret(work)
    (work / "rules" / "cs-quality" / "fixtures" / "link.csv").symlink_to(secret)
    text = (FIXTURES / "cs-quality-extra.tests.yaml").read_text(encoding="utf-8")
    reference = str(secret) if reference == "ABSOLUTE" else reference
    _with_extra_tests(work, text.replace("fixtures/2026-05-one-agent.csv", reference))
    for args in (("test", "rules/cs-quality/cs-quality-extra.tests.yaml"), ("test", "rules/")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "FAIL rules/cs-quality/cs-quality-extra.tests.yaml · (load)" in result.output
        assert re.search(r"cs-quality-extra\.tests\.yaml:\d+:\d+: error\[file-outside-tree\] "
                         r"/tests/\d/records_file: records_file ", result.output), result.output
        assert CARDS not in result.output


def test_a_tests_file_may_not_name_a_scheme_outside_its_directory(cli: Cli, work: Path) -> None:
    _with_extra_tests(work, "format: qualiscore-tests/v1\nscheme: ../qa-form/2026Q2.yaml\ntests: []\n")
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml")
    assert result.exit_code == 1, result.output
    assert "cs-quality-extra.tests.yaml:2:9: error[file-outside-tree] /scheme: scheme '../qa-form/2026Q2.yaml' " \
           "climbs out of the directory with '..'" in result.output


def test_a_missing_records_file_is_located_and_relative_to_the_scheme(cli: Cli, work: Path) -> None:
    path = work / "rules" / "cs-quality" / "2026Q2.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("records_file: fixtures/") == 1
    start = text.index("records_file: fixtures/")
    line, column = text[:start].count("\n") + 1, start - text.rfind("\n", 0, start) + len("records_file: ")
    path.write_text(re.sub(r"records_file: fixtures/\S+", "records_file: fixtures/nope.csv", text), encoding="utf-8")
    result = cli("test", "rules/cs-quality/2026Q2.yaml")
    assert result.exit_code == 1, result.output
    assert (f"rules/cs-quality/2026Q2.yaml:{line}:{column}: error[file-not-found] /tests/3/records_file: "
            "records_file 'fixtures/nope.csv' names no file (rules/cs-quality/fixtures/nope.csv does not exist)"
            in result.output), result.output
    assert "relative to the directory of rules/cs-quality/2026Q2.yaml (rules/cs-quality)" in result.output
    assert "current directory" not in result.output
    assert cli("validate", "rules/cs-quality/2026Q2.yaml").exit_code == 0  # a warning: the scheme is usable


def test_a_failure_message_shows_few_values_of_the_records(cli: Cli, work: Path) -> None:
    """Asking for a subject the records do not form lists three of them, each cut short."""
    rows = (FIXTURES / "2026-05-one-agent.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, first = rows[0], rows[1]
    many = [first.replace("A009", f"AGENT-{k:03d}-" + "x" * 60, 1).replace(first.split(",")[0], f"I{k:07d}", 1)
            for k in range(30)]
    (work / "rules" / "cs-quality" / "fixtures" / "many.csv").write_text(header + "".join(many), encoding="utf-8")
    text = (FIXTURES / "cs-quality-extra.tests.yaml").read_text(encoding="utf-8")
    _with_extra_tests(work, text.replace("fixtures/2026-05-one-agent.csv", "fixtures/many.csv"))
    result = cli("test", "rules/cs-quality/cs-quality-extra.tests.yaml", "--format", "json")
    errors = [r["error"] for r in _results(result.stdout)["results"] if r["error"]]
    assert errors and all("have: " in e for e in errors), errors
    for error in errors:
        shown = error.split("(have: ", 1)[1]
        assert shown.count("AGENT-") == 3 and "… (30 in all)" in shown, shown
        assert "x" * 40 not in shown
