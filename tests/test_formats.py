"""Excel and Parquet: reading records from them, writing scorecards to them.

The promise for readers: a workbook (or Parquet file) gives the same records, the
same rejects and the same scorecards as its CSV export. For writers: the same run
gives the same bytes, text is never a formula, and Chinese text survives.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import polars as pl
import pytest

from qualiscore._install import install_hint
from qualiscore.engine import Run, evaluate
from qualiscore.errors import DataError, UsageError
from qualiscore.formats import (
    FORMAT_FILES,
    ZIP_TIME,
    explain_difference,
    render_formats,
    scorecards_parquet,
    workbook_xlsx,
)
from qualiscore.manifest import manifest_dict, sha256_bytes
from qualiscore.model import Field, RecordContract
from qualiscore.records import Dataset, read_records, records_from_dicts, split_sheet
from qualiscore.schemes import load_scheme
from qualiscore.scorecard import scorecards_csv, scorecards_jsonl

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
XLSX = FIXTURES / "interactions.xlsx"
GBK_CSV = FIXTURES / "interactions-gbk.csv"
SHEET = "2026年4月"
SH = ZoneInfo("Asia/Shanghai")
ID = Field("id", "string")


@pytest.fixture(scope="module")
def scheme() -> Any:
    return load_scheme(FIXTURES / "scheme.yaml")


@pytest.fixture(scope="module")
def run(scheme: Any) -> Run:
    return evaluate(scheme, read_records([XLSX], scheme.records))


def contract(*fields: Field, tz: str = "Asia/Shanghai") -> RecordContract:
    return RecordContract("id", tz, (ID, *fields))


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook with these sheets, in order; a cell value "=..." is stored as text unless it is a
    _Formula (a real formula)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value is None:
                    continue
                cell = ws.cell(r, c)
                if isinstance(value, _Formula):
                    cell.value = value.text
                else:
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"
    wb.save(path)
    return path


class _Formula:
    def __init__(self, text: str) -> None:
        self.text = text


def without_source(ds: Dataset) -> list[Any]:
    return [dataclasses.replace(p, source="") for p in ds.problems]


def sheet_rows(data: bytes, title: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        rows = [tuple(r) for r in wb[title].iter_rows(values_only=True)]
    finally:
        wb.close()
    width = max((len(r) for r in rows), default=0)  # trailing empty cells are not stored
    return [r + (None,) * (width - len(r)) for r in rows]


# --------------------------------------------------------------------------- the committee's fixture


def test_fixture_workbook_and_gbk_csv_give_the_same_dataset_and_scorecards(scheme: Any) -> None:
    excel = read_records([XLSX], scheme.records)
    text = read_records([GBK_CSV], scheme.records)
    assert excel.records == text.records and len(excel.records) == 22
    assert [row for _, row in excel.origins] == [row for _, row in text.origins]
    assert without_source(excel) == without_source(text)
    assert [(p.row, p.field, p.code, p.value) for p in excel.problems] == [
        (7, "channel", "not-in-enum", "微信"),
        (12, "csat", "above-maximum", "6"),
    ]
    assert (excel.rows_read, excel.rows_rejected) == (text.rows_read, text.rows_rejected) == (24, 2)
    (xi,), (ci,) = excel.inputs, text.inputs
    assert (xi.format, xi.encoding, xi.sheet) == ("xlsx", "", SHEET)
    assert (ci.format, ci.encoding, ci.sheet) == ("csv", "gb18030", None)
    assert xi.sha256 == sha256_bytes(XLSX.read_bytes())
    # Real datetime cells, read in the contract's zone; "00:05:12" text; formula-looking text kept.
    first = excel.records[0]
    assert first["started_at"] == dt.datetime(2026, 4, 1, 16, 13, tzinfo=SH)
    assert first["handle_time_s"] == 187.0 and first["resolved"] is True
    assert any(r["note"] == "=SUM(A1:A3)" for r in excel.records)
    a, b = evaluate(scheme, excel), evaluate(scheme, text)
    assert scorecards_jsonl(a.scorecards) == scorecards_jsonl(b.scorecards)
    assert a.rows_read == a.rows_scored + a.rows_rejected == 24


def test_fixture_script_reproduces_the_committed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ among the fixtures
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.records()
    module.write_xlsx(tmp_path / "i.xlsx", rows)
    module.write_gbk_csv(tmp_path / "i.csv", rows)
    assert (tmp_path / "i.xlsx").read_bytes() == XLSX.read_bytes()
    assert (tmp_path / "i.csv").read_bytes() == GBK_CSV.read_bytes()
    assert not GBK_CSV.read_bytes().startswith(b"\xef\xbb\xbf")


def test_fixture_as_parquet_gives_the_same_scorecards(scheme: Any, tmp_path: Path) -> None:
    """The same export as a Parquet file with typed columns (and the dirty rows)."""
    wb = openpyxl.load_workbook(XLSX, read_only=True, data_only=True)
    rows = [r for r in wb[SHEET].iter_rows(values_only=True) if any(v is not None for v in r)]
    wb.close()
    header, body = rows[0], rows[1:]
    columns = {str(h): [r[i] for r in body] for i, h in enumerate(header)}
    columns["满意度"] = [None if v is None else int(v) for v in columns["满意度"]]
    columns["首次响应秒数"] = [None if v is None else float(v) for v in columns["首次响应秒数"]]
    path = tmp_path / "interactions.parquet"
    pl.DataFrame(columns).write_parquet(path)
    parquet = read_records([path], scheme.records)
    excel = read_records([XLSX], scheme.records)
    assert parquet.records == excel.records
    assert [(p.field, p.code, p.value) for p in parquet.problems] == [(p.field, p.code, p.value) for p in excel.problems]
    run = evaluate(scheme, parquet)
    assert run.rows_read == run.rows_scored + run.rows_rejected == 24 and run.rows_rejected == 2
    assert scorecards_jsonl(run.scorecards) == scorecards_jsonl(evaluate(scheme, excel).scorecards)
    assert parquet.inputs[0].format == "parquet" and parquet.inputs[0].sha256 == sha256_bytes(path.read_bytes())


# --------------------------------------------------------------------------- Excel reader


def two_sheets(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "book.xlsx", {
        "说明": [["本工作簿包含两张表"]],
        "数据": [["id", "csat"], ["a", 5], ["b", 4]],
    })


def test_xlsx_sheet_by_keyword_by_path_and_by_default(tmp_path: Path) -> None:
    book = two_sheets(tmp_path)
    c = contract(Field("csat", "integer"))
    named = read_records([book], c, sheet="数据")
    assert [r["csat"] for r in named.records] == [5, 4] and named.inputs[0].sheet == "数据"
    by_path = read_records([f"{book}#数据"], c)
    assert by_path.records == named.records
    assert by_path.inputs[0].path == f"{book}#数据" and by_path.origins[0] == (f"{book}#数据", 2)
    assert read_records([book], c, sheet=" 数据 ").records == named.records  # as Excel: trimmed, any case
    # Default: the first sheet (here a note with no records under its header).
    first = read_records([book], c)
    assert first.inputs[0].sheet == "说明" and first.rows_read == 0
    assert split_sheet(f"{book}#数据") == (str(book), "数据")
    assert split_sheet(f"{book}#") == (str(book), None)
    assert split_sheet("x.csv#y") == ("x.csv#y", None)


def test_xlsx_sheet_name_with_hash_and_case(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "b.xlsx", {"Sheet#1": [["id"], ["x"]], "Data": [["id"], ["y"]]})
    assert read_records([f"{book}#Sheet#1"], contract()).records == ({"id": "x"},)
    assert read_records([f"{book}#data"], contract()).records == ({"id": "y"},)  # Excel names ignore case


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    book = two_sheets(tmp_path)
    with pytest.raises(DataError) as info:
        read_records([f"{book}#数剧"], contract())
    err = info.value
    assert err.code == "format" and "'说明'" in err.message and "'数据'" in err.message
    assert err.hint and f"{book}#数据" in err.hint  # the closest name
    with pytest.raises(DataError):
        read_records([book], contract(), sheet="Sheet1")


def test_sheet_keyword_without_a_workbook_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id\nx\n", encoding="utf-8")
    with pytest.raises(UsageError):
        read_records([path], contract(), sheet="数据")


def test_xlsx_two_sheets_of_one_workbook_are_two_inputs_but_not_the_same_sheet_twice(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "b.xlsx", {"A": [["id"], ["x"]], "B": [["id"], ["y"]]})
    ds = read_records([f"{book}#A", f"{book}#B"], contract())
    assert [r["id"] for r in ds.records] == ["x", "y"] and len(ds.inputs) == 2
    with pytest.raises(DataError) as info:
        read_records([book, f"{book}#A"], contract())
    assert info.value.code == "duplicate-input"


def test_xlsx_cell_types(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "t.xlsx", {"S": [
        ["id", "when", "day", "talk", "n", "x", "ok", "text"],
        [1001, dt.datetime(2026, 4, 1, 9, 30), dt.datetime(2026, 4, 2), dt.time(0, 5, 12), 5.0, 3, True, "=1+2"],
        ["b", "2026-04-01T01:30:00Z", "2026-04-03", "00:02:59", 4, 2.5, "是", "  keep  "],
        ["c", dt.datetime(2026, 4, 1, 23, 59, 59), dt.date(2026, 4, 4), dt.timedelta(hours=26), "7", "1e3", "否",
         12],
    ]})
    c = contract(
        Field("when", "datetime"), Field("day", "date"), Field("talk", "duration"), Field("n", "integer"),
        Field("x", "number"), Field("ok", "boolean"), Field("text", "string"),
    )
    ds = read_records([book], c)
    assert ds.problems == ()
    a, b, d = ds.records
    assert a == {"id": "1001", "when": dt.datetime(2026, 4, 1, 9, 30, tzinfo=SH), "day": dt.date(2026, 4, 2),
                 "talk": 312.0, "n": 5, "x": 3.0, "ok": True, "text": "=1+2"}
    assert b["when"] == dt.datetime(2026, 4, 1, 9, 30, tzinfo=SH) and b["talk"] == 179.0 and b["ok"] is True
    assert b["text"] == "  keep  "  # text is kept exactly
    assert d["talk"] == 26 * 3600.0 and d["x"] == 1000.0 and d["n"] == 7 and d["text"] == "12"
    assert d["when"].tzinfo is SH or d["when"].utcoffset() == dt.timedelta(hours=8)


def test_xlsx_empty_cells_rows_and_header_position(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "e.xlsx", {"S": [
        [],  # rows 1–2 empty: the header is the first non-empty row
        [],
        ["id", "csat", "note", None, "extra"],
        ["a", None, "   "],  # short row: padded with empty cells
        [],  # empty row 5: skipped, keeps its number
        ["b", 6, "x", None, "ignored", "beyond the header"],
        ["c", "", "y"],
    ]})
    c = contract(Field("csat", "integer", minimum=1, maximum=5, nullable=True), Field("note", "string", nullable=True))
    ds = read_records([book], c)
    assert ds.records == ({"id": "a", "csat": None, "note": None}, {"id": "c", "csat": None, "note": "y"})
    assert [row for _, row in ds.origins] == [4, 7]
    assert [(p.row, p.field, p.code) for p in ds.problems] == [(6, "csat", "above-maximum")]
    assert ds.rows_read == 3 == ds.rows_accepted + ds.rows_rejected
    required = read_records([book], contract(Field("csat", "integer")))
    assert [(p.row, p.code) for p in required.problems] == [(4, "missing-value"), (7, "missing-value")]


def test_xlsx_missing_and_ambiguous_columns(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "m.xlsx", {"S": [["id", "scor"], ["a", 1], ["b", 2]]})
    ds = read_records([book], contract(Field("score", "integer"), Field("opt", "string", nullable=True)))
    assert ds.records == () and {p.code for p in ds.problems} == {"missing-column"}
    assert "closest is 'scor'" in ds.problems[0].reason and ds.problems[0].value is None
    assert ds.missing_columns == ((str(book), "opt"),)
    amb = write_xlsx(tmp_path / "a.xlsx", {"S": [["id", "id"], ["a", "b"]]})
    with pytest.raises(DataError) as info:
        read_records([amb], contract())
    assert info.value.code == "ambiguous-column" and info.value.location.line == 1  # type: ignore[union-attr]


def test_xlsx_formula_cell_gives_its_cached_value_or_null(tmp_path: Path) -> None:
    """openpyxl cannot compute formulas, so a formula saved by it has no cached value: null."""
    book = write_xlsx(tmp_path / "f.xlsx", {"S": [["id", "n"], ["a", _Formula("=1+2")], ["b", "=1+2"]]})
    ds = read_records([book], contract(Field("n", "string", nullable=True)))
    assert ds.records == ({"id": "a", "n": None}, {"id": "b", "n": "=1+2"})


def test_xlsx_duplicate_ids_and_dirty_row_reconcile(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "d.xlsx", {"S": [["id", "n"], ["a", 1], ["a", 2], ["b", "many"], ["c", 3]]})
    ds = read_records([book], contract(Field("n", "integer")))
    assert [r["id"] for r in ds.records] == ["c"]
    assert [(p.row, p.code) for p in ds.problems] == [(2, "duplicate-id"), (3, "duplicate-id"), (4, "not-integer")]
    assert ds.rows_read == 4 == ds.rows_accepted + ds.rows_rejected


def test_xlsx_empty_workbook_and_damaged_files(tmp_path: Path) -> None:
    empty = write_xlsx(tmp_path / "empty.xlsx", {"S": []})
    with pytest.raises(DataError) as info:
        read_records([empty], contract())
    assert info.value.code == "empty"
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError) as info:
        read_records([damaged], contract())
    assert info.value.code == "format"
    text = tmp_path / "renamed.xlsx"
    text.write_text("id\nx\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records([text], contract())
    assert info.value.code == "format" and ".csv" in (info.value.hint or "")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError) as info:
        read_records([old], contract())
    assert info.value.code == "format" and ".xlsx" in (info.value.hint or "")


def test_missing_openpyxl_and_polars_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = two_sheets(tmp_path)
    path = tmp_path / "r.parquet"
    pl.DataFrame({"id": ["a"]}).write_parquet(path)
    monkeypatch.setitem(sys.modules, "polars", None)
    monkeypatch.delitem(sys.modules, "qualiscore._polars", raising=False)
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # which reads workbooks; openpyxl writes them
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.hint == install_hint("fast") and "polars" in info.value.message
    with pytest.raises(DataError) as info:
        read_records([book], contract())
    assert info.value.hint == install_hint("excel")
    with pytest.raises(UsageError) as usage:
        scorecards_parquet(None)  # type: ignore[arg-type]
    assert usage.value.hint == install_hint("fast")


# --------------------------------------------------------------------------- Parquet reader


def test_parquet_typed_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame([
        pl.Series("id", ["a", "b", "c"]),
        pl.Series("naive", [dt.datetime(2026, 4, 1, 9, 30), None, dt.datetime(2026, 4, 1, 23, 0)]),
        pl.Series("aware", [dt.datetime(2026, 4, 1, 1, 30)] * 3, dtype=pl.Datetime("us", "UTC")),
        pl.Series("ny", [dt.datetime(2026, 4, 1, 9, 30)] * 3, dtype=pl.Datetime("ns")).dt.replace_time_zone(
            "America/New_York"),
        pl.Series("day", [dt.date(2026, 4, 1), dt.date(2026, 4, 2), None]),
        pl.Series("n", [1, None, 3], dtype=pl.Int32),
        pl.Series("x", [1.5, None, 2.0]),
        pl.Series("ok", [True, False, None]),
        pl.Series("talk", [dt.timedelta(seconds=90), None, dt.timedelta(minutes=2)]),
        pl.Series("price", [decimal.Decimal("1.10"), decimal.Decimal("2.00"), None], dtype=pl.Decimal(10, 2)),
        pl.Series("team", ["华东一组", None, "华南二组"], dtype=pl.Categorical),
        pl.Series("unused", [[1], [2], [3]]),
    ])
    path = tmp_path / "t.parquet"
    frame.write_parquet(path)
    c = contract(
        Field("naive", "datetime", nullable=True), Field("aware", "datetime"), Field("ny", "datetime"),
        Field("day", "date", nullable=True), Field("n", "integer", nullable=True),
        Field("x", "number", nullable=True), Field("ok", "boolean", nullable=True),
        Field("talk", "duration", nullable=True), Field("price", "number", nullable=True),
        Field("team", "string", nullable=True),
    )
    ds = read_records([path], c)
    assert ds.problems == ()
    a, b, d = ds.records
    assert a["naive"] == dt.datetime(2026, 4, 1, 9, 30, tzinfo=SH)
    assert a["aware"] == dt.datetime(2026, 4, 1, 9, 30, tzinfo=SH) and a["aware"].tzinfo == SH
    assert a["ny"] == dt.datetime(2026, 4, 1, 21, 30, tzinfo=SH)  # 09:30 in New York (EDT) is 21:30 in Beijing
    assert (a["day"], a["n"], a["x"], a["ok"], a["talk"], a["price"], a["team"]) == (
        dt.date(2026, 4, 1), 1, 1.5, True, 90.0, 1.1, "华东一组")
    assert b == {"id": "b", "naive": None, "aware": b["aware"], "ny": b["ny"], "day": dt.date(2026, 4, 2),
                 "n": None, "x": None, "ok": False, "talk": None, "price": 2.0, "team": None}
    assert d["price"] is None and d["talk"] == 120.0 and d["ok"] is None
    assert ds.origins == ((str(path), 1), (str(path), 2), (str(path), 3))
    assert ds.inputs[0].format == "parquet" and ds.inputs[0].encoding == ""


def test_parquet_rejects_with_positions_and_reconciles(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    n = 20_000  # more than one batch
    ids = [f"r{i}" for i in range(n)]
    csat = [5] * n
    csat[3] = None  # required: rejected
    csat[n - 1] = 9  # above the maximum: rejected
    x = [1.0] * n
    x[10_000] = float("nan")
    ids[15_000] = "r0"  # duplicate id: both occurrences rejected
    pl.DataFrame({"id": ids, "csat": csat, "x": x, "extra": ["e"] * n}).write_parquet(path)
    c = contract(Field("csat", "integer", minimum=1, maximum=5), Field("x", "number"))
    ds = read_records([path], c)
    assert [(p.row, p.field, p.code) for p in ds.problems] == [
        (1, "id", "duplicate-id"), (4, "csat", "missing-value"), (10_001, "x", "not-finite"),
        (15_001, "id", "duplicate-id"), (n, "csat", "above-maximum"),
    ]
    assert ds.rows_read == n == ds.rows_accepted + ds.rows_rejected and ds.rows_rejected == 5


def test_parquet_missing_column_and_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pl.DataFrame({"id": ["a", "b"], "other": [1, 2]}).write_parquet(path)
    ds = read_records([path], contract(Field("csat", "integer")))
    assert ds.rows_read == 2 and {p.code for p in ds.problems} == {"missing-column"}
    only_missing = read_records([path], RecordContract("x", "UTC", (Field("x", "string"),)))
    assert only_missing.rows_read == 2 and only_missing.rows_rejected == 2
    bad = tmp_path / "bad.pq"
    bad.write_text("id\nx\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records([bad], contract())
    assert info.value.code == "format"
    truncated = tmp_path / "t.parquet"
    truncated.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError) as info:
        read_records([truncated], contract())
    assert info.value.code == "unreadable"


# --------------------------------------------------------------------------- writers


def test_writers_are_deterministic(run: Run) -> None:
    manifest = manifest_dict(run, {})
    assert scorecards_parquet(run) == scorecards_parquet(run)
    first, second = workbook_xlsx(run, manifest), workbook_xlsx(run, manifest)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        infos = z.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {ZIP_TIME}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and core.count("2000-01-01") == 2


def test_workbook_sheets_and_columns(run: Run) -> None:
    data = workbook_xlsx(run, manifest_dict(run, {"scorecards.csv": "0" * 64}))
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["summary", "scorecards", "indicators", "rejects", "manifest"]
    wb.close()
    cards = sheet_rows(data, "scorecards")
    ids = [i.id for i in run.schemes[0].indicators]
    assert list(cards[0]) == ["subject", "agent_id", "period", "scheme_version", "records", "score", "grade",
                              "stability", "uncertain", "decided_by", "vetoes",
                              *[f"{i}.{k}" for i in ids for k in ("value", "low", "high", "points")]]
    # The same table as scorecards.csv, with numbers as numbers.
    text = list(csv.reader(io.StringIO(scorecards_csv(run.scorecards, run.group_by, ids))))
    assert len(cards) == len(text) == 4
    for got, want in zip(cards[1:], text[1:]):
        assert ["" if v is None else v for v in got[:4]] == want[:4]
        assert got[5] == float(want[5]) and got[6] == want[6]
    indicators = sheet_rows(data, "indicators")
    assert indicators[0] == ("subject", "dimension", "indicator", "name", "value", "low", "high", "numerator",
                             "denominator", "sample", "skipped", "status", "reason", "rule", "points", "weight",
                             "effective_weight", "contribution")
    assert len(indicators) == 1 + len(run.scorecards) * len(ids)
    for card in run.scorecards:  # contributions add up to the printed score
        mine = [r for r in indicators[1:] if r[0] == card.subject]
        assert round(sum(r[17] for r in mine), 2) == round(card.score, 2)
    rejects = sheet_rows(data, "rejects")
    assert rejects[0] == ("source", "row", "record_id", "field", "value", "code", "reason")
    assert [(r[1], r[3], r[4]) for r in rejects[1:]] == [(7, "channel", "微信"), (12, "csat", "6")]
    summary = dict((r[0], r[1]) for r in sheet_rows(data, "summary") if r[0])
    assert summary["rows read"] == 24 and summary["rows rejected"] == 2 and summary["scorecards"] == 3
    assert summary["良好"] == 1 and summary["不合格"] == 2 and summary["优秀"] == 0
    manifest = dict(sheet_rows(data, "manifest")[1:])
    assert manifest["format"] == "qualiscore-run/v1" and manifest["outputs.scorecards.csv"] == "0" * 64
    assert manifest["inputs[0].sha256"] == sha256_bytes(XLSX.read_bytes())


def test_formula_injection_is_stored_as_quoted_text(scheme: Any) -> None:
    link = '=HYPERLINK("http://evil.example","点我")'
    base = {"工单号": "X1", "坐席": link, "班组": "@组", "渠道": "chat", "开始时间": "2026-04-01T09:00:00",
            "首次响应秒数": 10, "通话时长": "00:01:00", "一次解决": "是", "投诉": "否", "满意度": 5, "备注": None}
    dirty = {**base, "工单号": "-X2", "坐席": "A1", "满意度": "+1-2"}
    ds = records_from_dicts([base, dirty], scheme.records, source="=cmd|' /C calc'!A0")
    run = evaluate(scheme, ds)
    data = workbook_xlsx(run, manifest_dict(run, {}))
    cards = sheet_rows(data, "scorecards")
    assert cards[1][0] == "'" + link + "/2026-04" and cards[1][1] == "'" + link
    rejects = sheet_rows(data, "rejects")
    assert rejects[1][:5] == ("'=cmd|' /C calc'!A0", 2, "'-X2", "csat", "'+1-2")
    wb = openpyxl.load_workbook(io.BytesIO(data))  # not read-only: cell types
    assert wb["scorecards"]["A2"].data_type == "s" and wb["rejects"]["E2"].data_type == "s"
    assert wb["scorecards"]["A2"].value.startswith("'=")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.startswith("xl/"))
    # Numbers stay numbers; number-looking text (a negative id) is left alone, as in the CSV.
    assert cards[1][5] == 100 and not isinstance(cards[1][5], str)


def test_control_characters_and_long_text_are_written_safely(scheme: Any) -> None:
    row = {"工单号": "X\x01", "坐席": "A1", "班组": "T", "渠道": "chat", "开始时间": "2026-04-01T09:00:00",
           "首次响应秒数": 1, "通话时长": "00:01:00", "一次解决": "是", "投诉": "否", "满意度": "x" * 40_000,
           "备注": None}
    run = evaluate(scheme, records_from_dicts([row], scheme.records))
    rejects = sheet_rows(workbook_xlsx(run, {}), "rejects")
    assert rejects[1][2] == "X\\x01" and len(rejects[1][4]) == 200  # values are clipped when read


def test_chinese_round_trips(run: Run, tmp_path: Path) -> None:
    names = {i.name for i in run.schemes[0].indicators}
    grades = {c.grade for c in run.scorecards}
    data = workbook_xlsx(run, manifest_dict(run, {}))
    assert {r[3] for r in sheet_rows(data, "indicators")[1:]} == names
    assert {r[6] for r in sheet_rows(data, "scorecards")[1:]} == grades
    assert SHEET not in {r[0] for r in sheet_rows(data, "rejects")}  # sources are file paths
    frame = pl.read_parquet(io.BytesIO(scorecards_parquet(run)))
    assert frame["grade"].to_list() == [c.grade for c in run.scorecards]
    assert frame["subject"].to_list() == [c.subject for c in run.scorecards]
    assert frame["score"].to_list() == [round(c.score, 2) for c in run.scorecards]
    assert frame["vetoes"].to_list() == [[] for _ in run.scorecards]
    assert frame.schema["records"] == pl.Int64 and frame.schema["fcr.points"] == pl.Float64
    # Chinese CSV (UTF-8 with BOM, as Excel's "CSV UTF-8") read back with the same strings.
    path = tmp_path / "zh.csv"
    path.write_text("\ufeffid,班组,备注\n甲1,华东一组,\"客户说:\"\"谢谢\"\"\"\n", encoding="utf-8")
    c = contract(Field("team", "string", column="班组"), Field("note", "string", column="备注"))
    assert read_records([path], c).records == ({"id": "甲1", "team": "华东一组", "note": '客户说:"谢谢"'},)
    # Chinese headers and values through a workbook written by the writer's own conventions.
    book = write_xlsx(tmp_path / "zh.xlsx", {"二〇二六": [["id", "班组", "备注"], ["甲1", "华东一组", "客户说:\"谢谢\""]]})
    assert read_records([f"{book}#二〇二六"], c).records == read_records([path], c).records


def test_parquet_columns_for_keys_periods_and_missing_indicators(scheme: Any) -> None:
    empty = evaluate(scheme, records_from_dicts([], scheme.records))
    frame = pl.read_parquet(io.BytesIO(scorecards_parquet(empty)))
    assert frame.height == 0 and "csat.value" in frame.columns and frame.schema["vetoes"] == pl.List(pl.String)
    data = workbook_xlsx(empty, manifest_dict(empty, {}))
    assert len(sheet_rows(data, "scorecards")) == 1


def test_render_formats_and_explain_difference(run: Run) -> None:
    files = render_formats(run, ["xlsx", "parquet"], {"scorecards.csv": "c" * 64})
    assert list(files) == [FORMAT_FILES["parquet"], FORMAT_FILES["xlsx"]]
    manifest = dict(sheet_rows(files["scorecards.xlsx"], "manifest")[1:])
    assert manifest["outputs.scorecards.parquet"] == sha256_bytes(files["scorecards.parquet"])
    assert "outputs.scorecards.xlsx" not in manifest  # a file cannot hold its own hash
    with pytest.raises(UsageError):
        render_formats(run, ["pdf"], {})
    for name, data in files.items():
        assert explain_difference(name, data, data) == []
    # An edited workbook: the difference names the sheet, subject and column.
    wb = openpyxl.load_workbook(io.BytesIO(files["scorecards.xlsx"]))
    wb["scorecards"]["G3"].value = "优秀"
    buf = io.BytesIO()
    wb.save(buf)
    ((message, subject, field),) = explain_difference("scorecards.xlsx", buf.getvalue(), files["scorecards.xlsx"])
    assert subject == run.scorecards[1].subject and field == "grade" and "sheet scorecards, row 3" in message
    # A recomputed Parquet file with another score.
    changed = dataclasses.replace(run, scorecards=(
        run.scorecards[0], dataclasses.replace(run.scorecards[1], score=1.0), *run.scorecards[2:]))
    ((message, subject, field),) = explain_difference(
        "scorecards.parquet", files["scorecards.parquet"], scorecards_parquet(changed))
    assert subject == run.scorecards[1].subject and field == "score"
    assert explain_difference("scorecards.xlsx", b"not a zip", files["scorecards.xlsx"])
