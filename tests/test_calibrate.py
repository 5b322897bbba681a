"""`qualiscore calibrate`: reviewer agreement, checked against published worked examples.

Every worked example is written as a reviewers' results CSV for a small form and read
through qualiscore's own input path (records typed by the form, (id, reviewer) unique),
so a wrong reading, a wrong matrix layout or a wrong call of the libraries fails here.

Sources of the expected figures:

* Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School
  for Communication, University of Pennsylvania, https://repository.upenn.edu/asc_papers/43
  — section C, 4 observers × 12 units with missing values: nominal α = 0.743,
  ordinal α = 0.815, interval α = 0.849.
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  Psychological Bulletin 76(5), 378–382 — 30 patients, 6 psychiatrists, 5 diagnoses:
  κ = 0.430 (the data as R's irr package ships it, `diagnoses`).
* Wikipedia, "Fleiss' kappa", worked example — 10 subjects, 14 raters, 5 categories:
  P̄ = 0.378, κ = 0.210.
* Wikipedia, "Cohen's kappa", simple example — 50 proposals, 20 yes/yes, 15 no/no,
  5 yes/no, 10 no/yes: p_o = 0.7, κ = 0.4.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import Cli
from qualiscore.calibration import TOTAL, Calibrated, ItemAgreement, calibrate, read_reviews
from qualiscore.errors import UsageError
from qualiscore.loader import load_text
from qualiscore.schemes import load_scheme
from qualiscore.validation import iter_findings

pytest.importorskip("krippendorff")
pytest.importorskip("statsmodels")

ROOT = Path(__file__).resolve().parents[1]
QA_FORM = ROOT / "rules" / "qa-form" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "qa-reviews.csv"


def form(item_type: str = "integer", level: str | None = None, *, nullable: bool = False,
         min_alpha: float = 0.8, extra: str = "") -> str:
    """A one-item form: unit id, reviewer, rating; the rating is scored so the total exists."""
    scoring = "{pass: {equals: true}}" if item_type == "boolean" else "{linear: {from: 0, to: 5}}"
    levels = f"\n  levels: {{rating: {level}}}" if level else ""
    return f"""\
format: qualiscore/v1
scheme: calibration-demo
version: v1
effective_from: 2026-01-01
records:
  id: unit
  fields:
    unit: {{type: string}}
    coder: {{type: string, nullable: true}}
    rating: {{type: {item_type}, nullable: {str(nullable).lower()}}}{extra}
dimensions:
  - id: main
    weight: 100
    indicators:
      - id: rating
        measure: {{value: rating}}
        scoring: {scoring}
        weight: 100
grades:
  - {{name: pass, min: 60}}
  - {{name: fail, min: 0}}
calibration:
  reviewer: coder{levels}
  min_alpha: {min_alpha}
"""


def write_form(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "v1.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_results(tmp_path: Path, rows: Sequence[tuple[str, str, object]], name: str = "results.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["unit", "coder", "rating"])
        w.writerows(rows)
    return path


def run(tmp_path: Path, text: str, rows: Sequence[tuple[str, str, object]]) -> Calibrated:
    return calibrate(load_scheme(write_form(tmp_path, text)), [write_results(tmp_path, rows)])


def item(result: Calibrated, name: str = "rating") -> ItemAgreement:
    return next(i for i in result.items if i.item == name)


# --------------------------------------------------------------------------- Krippendorff (2011)

# Observers A–D × units 1–12; None: the observer did not code the unit.
KRIPPENDORFF = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def krippendorff_rows(*, empty_cells: bool) -> list[tuple[str, str, object]]:
    """A row per coded value; with ``empty_cells``, uncoded units are rows with an empty rating."""
    return [(f"u{u + 1}", coder, "" if v is None else v)
            for coder, values in KRIPPENDORFF.items() for u, v in enumerate(values)
            if v is not None or empty_cells]


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_2011_reliability_data(tmp_path: Path, level: str, expected: float) -> None:
    result = run(tmp_path, form("integer", level), krippendorff_rows(empty_cells=False))
    rating = item(result)
    assert rating.level == level
    assert rating.alpha == pytest.approx(expected, abs=5e-4)
    # Unit 12 has one value only: 11 units are pairable; all four observers coded 8 (units 2–9).
    assert (rating.records, rating.reviewers, rating.kappa_kind, rating.kappa_records) == (11, 4, "fleiss", 8)
    assert result.dataset.rows_read == 41 and not result.dataset.problems


def test_missing_ratings_may_be_empty_cells(tmp_path: Path) -> None:
    """The same table with a row for every (unit, observer) and empty cells: the same alpha."""
    result = run(tmp_path, form("integer", "nominal", nullable=True), krippendorff_rows(empty_cells=True))
    assert result.dataset.rows_read == 48
    assert item(result).alpha == pytest.approx(0.743, abs=5e-4)


# --------------------------------------------------------------------------- Fleiss (1971), Wikipedia

# Fleiss (1971): 30 patients, each diagnosed by 6 psychiatrists into one of 5 categories.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]

# Wikipedia's worked example: per subject, how many of the 14 raters chose each of 5 categories.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_1971_diagnoses(tmp_path: Path) -> None:
    rows = [(f"p{s + 1:02d}", f"psychiatrist{r + 1}", v)
            for s, ratings in enumerate(FLEISS_1971) for r, v in enumerate(ratings)]
    rating = item(run(tmp_path, form("integer", "nominal"), rows))
    assert (rating.kappa_kind, rating.kappa_records, rating.reviewers) == ("fleiss", 30, 6)
    assert rating.kappa == pytest.approx(0.430, abs=5e-4)


def test_wikipedia_fleiss_example(tmp_path: Path) -> None:
    """Counts become one row per (subject, rater): rater r gives the r-th of the subject's answers."""
    rows = []
    for s, counts in enumerate(WIKIPEDIA_FLEISS):
        answers = [category + 1 for category, n in enumerate(counts) for _ in range(n)]
        rows += [(f"s{s + 1:02d}", f"rater{r + 1:02d}", v) for r, v in enumerate(answers)]
    rating = item(run(tmp_path, form("integer", "nominal"), rows))
    assert (rating.kappa_kind, rating.kappa_records, rating.reviewers) == ("fleiss", 10, 14)
    assert rating.kappa == pytest.approx(0.210, abs=5e-4)
    assert rating.agreement == pytest.approx(0.378, abs=5e-4)  # Wikipedia's P̄


# --------------------------------------------------------------------------- Cohen

def test_wikipedia_cohen_example(tmp_path: Path) -> None:
    pairs = [("true", "true")] * 20 + [("true", "false")] * 5 + [("false", "true")] * 10 + [("false", "false")] * 15
    rows = [row for n, (a, b) in enumerate(pairs) for row in ((f"p{n:02d}", "A", a), (f"p{n:02d}", "B", b))]
    result = run(tmp_path, form("boolean"), rows)
    rating = item(result)
    assert rating.level == "nominal"  # the default for a boolean item
    assert (rating.kappa_kind, rating.kappa_records) == ("cohen", 50)
    assert rating.kappa == pytest.approx(0.4, abs=1e-9)
    assert rating.agreement == pytest.approx(0.7, abs=1e-9)
    # The total: pass = 100 points, fail = 0; the grades are the same split, so the same kappa.
    total = item(result, TOTAL)
    assert total.kappa == pytest.approx(0.4, abs=1e-9) and total.records == 50
    # Reviewer A says yes 25 times, B 30 times: with two reviewers a disagreement is a tie, no majority.
    a, b = result.reviewers
    assert a.reviewer == "A" and a.items[0].rated == 35 and a.items[0].disagreement == 0
    assert a.total_difference == pytest.approx(-5.0) and b.total_difference == pytest.approx(5.0)


# --------------------------------------------------------------------------- reading reviewers' rows

def test_an_id_repeats_once_per_reviewer_not_more(tmp_path: Path) -> None:
    rows = [("u1", "A", 1), ("u1", "B", 1), ("u1", "A", 2), ("u2", "A", 3), ("u2", "", 3), ("u2", "B", 9.5)]
    scheme = load_scheme(write_form(tmp_path, form("integer")))
    ds = read_reviews([write_results(tmp_path, rows)], scheme)
    assert ds.rows_read == 6 and ds.rows_accepted == 2 and ds.rows_rejected == 4
    codes = {(p.row, p.code) for p in ds.problems}
    assert codes == {(2, "duplicate-id"), (4, "duplicate-id"), (6, "missing-value"), (7, "not-integer")}
    reason = next(p.reason for p in ds.problems if p.row == 2)
    assert "with coder 'A'" in reason and "row 4" in reason


def test_a_form_without_calibration_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    scheme = load_scheme(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")
    with pytest.raises(UsageError, match="declares no calibration"):
        calibrate(scheme, [write_results(tmp_path, [])])
    result = cli("calibrate", str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml"), str(SAMPLE))
    assert result.exit_code == 2 and "calibration:" in result.output


def test_missing_statistics_packages_give_the_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "krippendorff", None)
    with pytest.raises(UsageError) as caught:
        run(tmp_path, form("integer"), [("u1", "A", 1), ("u1", "B", 2)])
    assert "krippendorff" in caught.value.message and "pip install" in (caught.value.hint or "")
    assert "[stats]" in (caught.value.hint or "")


def test_perfect_agreement_on_one_value_is_calibrated(tmp_path: Path) -> None:
    """Alpha is undefined when every rating is the same value; all equal still counts as calibrated."""
    rating = item(run(tmp_path, form("integer"), [("u1", "A", 3), ("u1", "B", 3), ("u2", "A", 3), ("u2", "B", 3)]))
    assert rating.alpha is None and rating.agreement == 1.0 and rating.calibrated


# --------------------------------------------------------------------------- the scheme's calibration:

def test_defaults_are_the_value_fields_and_their_types(tmp_path: Path) -> None:
    text = form("integer").replace("  min_alpha: 0.8\n", "")
    scheme = load_scheme(write_form(tmp_path, text))
    assert scheme.calibration is not None
    assert (scheme.calibration.items, dict(scheme.calibration.levels), scheme.calibration.min_alpha) == (
        ("rating",), {"rating": "interval"}, 0.8)
    qa = load_scheme(QA_FORM).calibration
    assert qa is not None and qa.reviewer == "reviewer_id" and qa.levels["greeting"] == "nominal"
    assert qa.levels["empathy"] == "ordinal"


@pytest.mark.parametrize(("old", "new", "code", "pointer"), [
    ("reviewer: coder", "reviewer: unit", "calibration-item", "/calibration/reviewer"),
    ("reviewer: coder", "reviewer: coder\n  items: [rating, rating]", "calibration-item", "/calibration/items/1"),
    ("reviewer: coder", "reviewer: coder\n  items: [unit]", "calibration-item", "/calibration/items/0"),
    ("reviewer: coder", "reviewer: coder\n  items: [ratin]", "unknown-field", "/calibration/items/0"),
    ("reviewer: coder", "reviewer: coder\n  levels: {unit: nominal}", "calibration-level", "/calibration/levels/unit"),
    ("min_alpha: 0.8", "min_alpha: 1.5", "out-of-range", "/calibration/min_alpha"),
])
def test_validation_locates_calibration_mistakes(old: str, new: str, code: str, pointer: str) -> None:
    text = form("integer").replace(old, new)
    findings = [f for f in iter_findings(load_text(text, "v1.yaml")) if f.severity == "error"]
    assert [(f.code, f.location.pointer) for f in findings][:1] == [(code, pointer)], findings
    assert findings[0].location.line is not None


def test_validation_refuses_levels_and_schemes_that_cannot_be_compared() -> None:
    text = form("string", "ordinal")
    text = text.replace("scoring: {linear: {from: 0, to: 5}}", "scoring: {map: {a: 100}}")
    codes = {f.code for f in iter_findings(load_text(text, "v1.yaml")) if f.severity == "error"}
    assert codes == {"calibration-level"}
    grouped = form("integer").replace("records:", "subject: {group_by: [coder]}\nrecords:")
    grouped = grouped.replace("measure: {value: rating}", "measure: {mean: rating}")
    codes = {f.code for f in iter_findings(load_text(grouped, "v1.yaml")) if f.severity == "error"}
    assert codes == {"calibration-scheme"}


# --------------------------------------------------------------------------- the command line

def test_cli_on_the_bundled_sample(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "cal"
    result = cli("calibrate", str(QA_FORM), str(SAMPLE), "-o", str(out))
    assert result.exit_code == 1, result.output  # the judgement items are not calibrated
    assert "rows read 400 = used 396 + rejected 4" in result.output
    assert "not calibrated: " in result.output and "empathy" in result.output.split("not calibrated: ")[1]
    assert sorted(p.name for p in out.iterdir()) == ["calibration.csv", "calibration.json", "calibration.md",
                                                     "rejects.csv", "reviewers.csv"]
    section = (out / "calibration.md").read_text(encoding="utf-8")
    assert "## Reviewer calibration · qa-form 2026Q2" in section
    assert "| greeting | nominal | 100 | 4 | 0.939 | 0.938 Fleiss | 96 | 99.5% | yes |" in section
    assert "| R03 | 100 |" in section and "(-0.63)" in section  # the strict reviewer, on empathy
    doc = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert doc["rows"] == {"read": 400, "used": 396, "rejected": 4, "without_total": 0}
    by_item = {i["item"]: i for i in doc["items"]}
    assert by_item["greeting"]["calibrated"] and not by_item["empathy"]["calibrated"]
    assert by_item["greeting"]["alpha"] > by_item["empathy"]["alpha"]
    assert [r["reviewer"] for r in doc["reviewers"]] == ["R01", "R02", "R03", "R04"]
    lenient, strict = doc["reviewers"][1], doc["reviewers"][2]
    assert lenient["items"]["empathy"]["mean_difference"] > 0 > strict["items"]["empathy"]["mean_difference"]
    assert lenient["total_difference"] > 0 > strict["total_difference"]
    assert len((out / "rejects.csv").read_text(encoding="utf-8").splitlines()) == 5
    assert len((out / "reviewers.csv").read_text(encoding="utf-8").splitlines()) == 1 + 4 * 8
    # Run again into the same directory: the files are replaced.
    assert cli("calibrate", str(QA_FORM), str(SAMPLE), "-o", str(out), "--format", "csv").exit_code == 1


def test_cli_formats_and_exit_status(cli: Cli, tmp_path: Path) -> None:
    scheme = write_form(tmp_path, form("integer"))
    agreed = write_results(tmp_path, [("u1", "A", 1), ("u1", "B", 1), ("u2", "A", 4), ("u2", "B", 4)])
    result = cli("calibrate", str(scheme), str(agreed), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["calibrated"] is True
    result = cli("calibrate", str(scheme), str(agreed), "--format", "csv")
    assert result.output.splitlines()[0].startswith("item,level,records,reviewers,alpha,kappa")
    text = cli("calibrate", str(scheme), str(agreed)).output
    assert "every item is calibrated" in text and "rows read 4 = used 4 + rejected 0" in text
    bad = write_results(tmp_path, [("u1", "A", "x"), ("u1", "B", "y")], "bad.csv")
    assert cli("calibrate", str(scheme), str(bad)).exit_code == 15
    assert cli("calibrate", str(scheme), str(agreed), str(bad), "--max-rejects", "0").exit_code == 5
    assert cli("calibrate", str(scheme), str(tmp_path / "absent.csv")).exit_code == 4
