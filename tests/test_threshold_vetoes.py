"""Vetoes on measured values (docs/scheme-format.md §17): a measure's or an indicator's value against
one threshold, from the scheme's own tests to `explain` and the report.

What such a veto decides is in the golden cases (tests/fixtures/golden/vetoes.yaml, every engine);
its validation findings are in the broken-scheme corpus (tests/fixtures/broken/veto-*.yaml) and its
diff in the diff corpus (veto-threshold). Here: the command line, the compiled form and the
checks whose examples need a scheme of their own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Cli
from qualiscore.loader import load_text
from qualiscore.model import Threshold, compile_document
from qualiscore.validation import iter_findings

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "golden" / "thresholds"
SCHEME = FIXTURE / "v1.yaml"


@pytest.fixture
def out(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The contact-centre scheme evaluated over its CSV export, in tmp_path (the current directory)."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURE, tmp_path / "cc")
    result = cli("evaluate", "cc/v1.yaml", "cc/calls.csv", "-o", "out", "-q")
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


# --------------------------------------------------------------------------- the command line


def test_the_schemes_own_tests_with_threshold_vetoes_pass(cli: Cli) -> None:
    result = cli("test", str(SCHEME))
    assert result.exit_code == 0, result.output
    assert "7 passed, 0 failed" in result.output


def test_a_test_expecting_no_veto_fails_on_a_threshold_veto(cli: Cli, tmp_path: Path) -> None:
    text = SCHEME.read_text(encoding="utf-8")
    wrong = text.replace("      score: 75\n      grade: 合格\n      vetoes: [high_abandon]",
                         "      score: 75\n      grade: 良好\n      vetoes: []")
    assert wrong != text
    (tmp_path / "v1.yaml").write_text(wrong, encoding="utf-8")
    result = cli("test", str(tmp_path / "v1.yaml"))
    assert result.exit_code == 1, result.output
    assert "6 passed, 1 failed" in result.output
    assert "high_abandon" in result.output


@pytest.mark.parametrize(("subject", "line"), [
    ("A2/2026-04", "Veto 放弃率过高 [high_abandon]: grade capped at 合格 — 放弃率高于25%，等级最高为合格; "
                   "abandon_rate 0.4 > 0.25"),
    ("A4/2026-04", "Veto 满意度过低 [low_csat]: grade 不合格 — 满意度低于60%为不合格; "
                   "share(csat >= 4, where csat is not None) 0.5 < 0.6"),
    ("A6/2026-04", "Veto 首次响应过慢 [slow_first_response]: grade capped at 良好 — 平均首次响应超过300秒，等级最高为良好; "
                   "mean(first_response_s) 366.666666667 > 300"),
])
def test_explain_shows_the_value_and_the_threshold(cli: Cli, out: Path, subject: str, line: str) -> None:
    from_dir = cli("explain", "out", "--subject", subject)
    assert from_dir.exit_code == 0, from_dir.output
    assert from_dir.output.splitlines()[-1] == line
    assert "record(s)" not in from_dir.output.splitlines()[-1]
    from_data = cli("explain", "cc/v1.yaml", "cc/calls.csv", "--subject", subject)
    assert from_data.output == from_dir.output


def test_explain_lists_a_threshold_veto_beside_a_record_veto(cli: Cli, out: Path) -> None:
    lines = cli("explain", "out", "--subject", "A7/2026-04").output.splitlines()
    assert lines[-4] == "Grade 不合格: decided by veto promise (the score alone gives 良好)"
    assert lines[-3].startswith("Stability 100%")  # a grade a veto sets is certain
    assert lines[-2].endswith("; abandon_rate 0.5 > 0.25")
    assert lines[-1].endswith("; 1 record(s): C62")


def test_explain_json_carries_the_measured_value(cli: Cli, out: Path) -> None:
    result = cli("explain", "out", "--subject", "A6/2026-04", "--format", "json")
    veto = json.loads(result.output)["vetoes"][0]
    assert veto["evidence"] == []
    assert veto["measured"] == {"of": "mean(first_response_s)", "value": 366.666666667, "above": 300}
    line = next(ln for ln in (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()
                if '"subject":"A6/2026-04"' in ln)
    assert '"measured":{"above":300.0,"of":"mean(first_response_s)","value":366.666666667}' in line


def test_the_report_shows_the_value_and_the_threshold(cli: Cli, out: Path) -> None:
    result = cli("report", "out", "--format", "md", "-o", "report.md")
    assert result.exit_code == 0, result.output
    md = Path("report.md").read_text(encoding="utf-8")
    vetoes = md.split("## Vetoes")[1].split("## ")[0]
    assert "| Evidence (record ids, or value and threshold) |" in vetoes
    assert "| abandon\\_rate 0.4 &gt; 0.25 |" in vetoes
    assert "| C62 |" in vetoes


# --------------------------------------------------------------------------- the compiled form


@pytest.mark.parametrize(("test", "value", "holds"), [
    ("above", 0.25, False), ("above", 0.2500001, True), ("at_least", 0.25, True), ("at_least", 0.2499999, False),
    ("below", 0.25, False), ("below", 0.2499999, True), ("at_most", 0.25, True), ("at_most", 0.2500001, False),
])
def test_a_threshold_compares_as_its_key_says(test: str, value: float, holds: bool) -> None:
    assert Threshold(test, 0.25).holds(value) is holds  # type: ignore[arg-type]


def test_the_compiled_vetoes_name_what_they_test() -> None:
    scheme = compile_document(load_text(SCHEME.read_text(encoding="utf-8"), str(SCHEME)))
    by_id = {v.id: v for v in scheme.vetoes}
    assert by_id["high_abandon"].when is None
    assert (by_id["high_abandon"].indicator, by_id["high_abandon"].threshold) == ("abandon_rate", Threshold("above", 0.25))
    assert by_id["high_abandon"].tested() == "abandon_rate"
    assert by_id["low_csat"].tested() == "share(csat >= 4, where csat is not None)"
    assert by_id["slow_first_response"].threshold == Threshold("above", 300.0)
    assert by_id["promise"].threshold is None and by_id["promise"].indicator is None


# --------------------------------------------------------------------------- validation


def _findings(text: str) -> list[tuple[str, str, int | None]]:
    return [(f.severity, f.code, f.location.line) for f in iter_findings(load_text(text, "v1.yaml"))]


def _scheme(vetoes: str, indicator: str = "measure: {share: resolved}") -> str:
    text = SCHEME.read_text(encoding="utf-8").split("tests:\n")[0]
    text = text.replace("measure: {share: resolved}", indicator)
    return text.split("vetoes:\n")[0] + "vetoes:\n" + vetoes + "grades:\n" + text.split("grades:\n")[1]


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_a_threshold_on_an_indicator_that_is_true_or_false_is_an_error() -> None:
    text = _scheme("  - id: v\n    indicator: fcr\n    below: 1\n    effect: {cap: 合格}\n", "measure: {all: resolved}")
    assert [f for f in _findings(text) if f[0] == "error"] == [("error", "veto-not-numeric", _line(text, "below: 1"))]


def test_a_threshold_on_a_text_value_is_an_error() -> None:
    text = _scheme("  - id: v\n    when: {value: call_id}\n    above: 3\n    effect: {cap: 合格}\n"
                   ).replace("  group_by: [agent_id]\n  period: {field: started_at, every: month}\n", "  group_by: []\n")
    assert ("error", "veto-not-numeric", _line(text, "above: 3")) in _findings(text)


def test_a_threshold_of_a_mean_above_100_is_no_percentage() -> None:
    text = _scheme("  - id: v\n    when: {mean: first_response_s}\n    at_most: 80\n    effect: {cap: 合格}\n")
    assert [f for f in _findings(text) if f[0] == "error"] == []


def test_the_threshold_of_a_share_indicator_is_a_fraction() -> None:
    text = _scheme("  - id: v\n    indicator: abandon_rate\n    above: 25\n    effect: {cap: 合格}\n")
    found = [f for f in iter_findings(load_text(text, "v1.yaml")) if f.severity == "error"]
    assert [(f.code, f.location.line) for f in found] == [("share-as-percent", _line(text, "above: 25"))]
    assert "did you mean 0.25?" in found[0].message
