"""`qualiscore validate SCHEME --data FILE`: a header and a sample of rows checked before anyone runs a month.

The sample is scored as a run would score it, so its findings are the run's own,
located in the file (line 1 for the header, row and field for a reject).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Cli

ROOT = Path(__file__).resolve().parent.parent
Q2 = str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_clean_sample_reports_rows_checked(cli: Cli, here: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    Path("clean.csv").write_text(lines[0] + "".join(lines[1:60]), encoding="utf-8")  # no dirty row among them
    result = cli("validate", Q2, "--data", "clean.csv")
    assert result.exit_code == 0, result.output
    assert "clean.csv: all 59 row(s) checked, 59 would be scored, 0 rejected" in result.output
    assert "2 file(s) checked: 0 error(s), 0 warning(s)" in result.output


def test_rejects_of_the_sample_are_a_located_warning(cli: Cli, here: Path) -> None:
    result = cli("validate", Q2, "--data", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert (f"{SAMPLE}: row 93, field 'resolved_first_contact': warning[sample-rejects] 10 of the first 1000 "
            "row(s) would be rejected") in result.output
    assert "the first 1000 row(s) checked, 990 would be scored, 10 rejected" in result.output
    assert cli("validate", Q2, "--data", str(SAMPLE), "--strict").exit_code == 1


def test_a_misspelt_column_is_an_error_at_the_header(cli: Cli, here: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    Path("renamed.csv").write_text(text.replace(",channel,", ",Chanel,", 1), encoding="utf-8")
    result = cli("validate", Q2, "--data", "renamed.csv", "--sample", "20")
    assert result.exit_code == 1, result.output
    assert ("renamed.csv:1: error[missing-column] field 'channel' reads column 'channel', which is not in the "
            "header (did you mean 'Chanel'?): a run stops (exit 15") in result.output
    assert "\n    1 | interaction_id,agent_id,team,Chanel," in result.output  # the header line, shown
    report = json.loads(cli("validate", Q2, "--data", "renamed.csv", "--format", "json").stdout)
    finding = next(f for f in report["findings"] if f["code"] == "missing-column")
    assert (finding["file"], finding["line"]) == ("renamed.csv", 1)
    assert report["data"] == [{"path": "renamed.csv", "rows": 1000, "rejected": 1000, "whole": False}]


@pytest.mark.parametrize("kind", ["xlsx", "parquet", "jsonl"])
def test_other_formats_are_sampled_in_kind(cli: Cli, here: Path, kind: str) -> None:
    import polars as pl

    frame = pl.read_csv(SAMPLE, infer_schema=False).head(120)
    path = f"d.{kind}"
    if kind == "xlsx":
        _xlsx(frame, path)
    elif kind == "parquet":
        frame.write_parquet(path)
    else:
        frame.write_ndjson(path)
    result = cli("validate", Q2, "--data", path, "--sample", "100")
    assert result.exit_code == 0, result.output
    assert f"{path}: the first 100 row(s) checked" in result.output


def _xlsx(frame: object, path: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(frame.columns)  # type: ignore[attr-defined]
    for row in frame.iter_rows():  # type: ignore[attr-defined]
        ws.append(list(row))
    wb.save(path)


def test_a_quoted_line_break_stays_one_record(cli: Cli, here: Path) -> None:
    import csv

    with open(SAMPLE, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[:40]
    for row in rows[1:11]:
        row[12] = row[12].replace("。", "。\n", 1)  # transcripts with line breaks, quoted by the writer
    with open("multi.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    result = cli("validate", Q2, "--data", "multi.csv", "--sample", "10")
    assert result.exit_code == 0, result.output
    assert "multi.csv: the first 10 row(s) checked, 10 would be scored" in result.output, result.output


def test_unreadable_data_is_an_error_in_the_file(cli: Cli, here: Path) -> None:
    Path("bad.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    result = cli("validate", Q2, "--data", "bad.csv", "--data", "nope.csv")
    assert result.exit_code == 1
    assert "bad.csv:2: error[encoding] is neither UTF-8 nor GB18030" in result.output
    assert "nope.csv: error[file-not-found] no such file" in result.output
    assert "qualiscore-sample-" not in result.output  # never the sample's own path


def test_data_needs_one_scheme_and_a_valid_one(cli: Cli, here: Path) -> None:
    result = cli("validate", Q2, Q2, "--data", str(SAMPLE))
    assert result.exit_code == 2 and "--data checks data against one scheme" in result.output
    shutil.copy(Q2, "broken.yaml")
    Path("broken.yaml").write_text(Path("broken.yaml").read_text(encoding="utf-8").replace("grades:", "grade:"),
                                   encoding="utf-8")
    result = cli("validate", "broken.yaml", "--data", str(SAMPLE))
    assert result.exit_code == 1 and "sample-rejects" not in result.output  # the scheme first
