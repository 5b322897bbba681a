"""The Excel reader: calamine's reading with the values openpyxl gave, the same records as the CSV of the
same rows, far-reaching sheets read sparsely, and every damaged part calamine refuses refused with its place."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualiscore.errors import DataError
from qualiscore.model import Field, RecordContract
from qualiscore.records import excel, read_records

openpyxl = pytest.importorskip("openpyxl")

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
_spec = importlib.util.spec_from_file_location("hostile_make_fixtures", HOSTILE / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
FIX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(FIX)

ID = Field("id", "string")


def contract(*fields: Field) -> RecordContract:
    return RecordContract("id", "Asia/Shanghai", (ID, *fields))


def book(path: Path, rows: list[str], **options: Any) -> Path:
    """A workbook whose sheet holds these <row> elements (raw XML)."""
    path.write_bytes(FIX.workbook(rows, **options))
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER = '<row r="1">' + inline("A1", "id") + inline("B1", "n") + "</row>"


def row(number: int, cell: str) -> str:
    return f'<row r="{number}">' + inline(f"A{number}", f"x{number}") + cell + "</row>"


# --------------------------------------------------------------------------- damaged parts

DAMAGED = [  # what calamine refuses: the exact reader names the place
    ("number-with-comma", row(2, '<c r="B2" t="n"><v>1,5</v></c>'), 2, "cell B2 is a number cell holding '1,5'"),
    ("number-5000-digits", row(2, '<c r="B2"><v>' + "9" * 5000 + "</v></c>"), 2,
     "cell B2 is a number cell of 5,000 digits"),
    ("shared-string-out-of-range", row(2, '<c r="B2" t="s"><v>7</v></c>'), 2,
     "cell B2 refers to shared string 7, but the workbook has 1"),
    ("boolean-cell-word", row(2, '<c r="B2" t="b"><v>maybe</v></c>'), 2,
     "cell B2 is a boolean cell holding 'maybe', not 0 or 1"),
    ("unknown-cell-type", row(2, '<c r="B2" t="zz"><v>1</v></c>'), 2, "cell B2 has the unknown type 'zz'"),
    ("reference-with-symbol", row(2, '<c r="B!2"><v>1</v></c>'), 2, "a cell of row 2 is at 'B!2'"),
    ("reference-digits-first", row(2, '<c r="2B"><v>1</v></c>'), 2, "a cell of row 2 is at '2B'"),
    ("reference-four-letters", row(2, '<c r="ABCD2"><v>1</v></c>'), 2, "a cell of row 2 is at 'ABCD2'"),
    ("reference-beyond-xfd", row(2, '<c r="XFE2"><v>1</v></c>'), 2, "cell XFE2 is beyond the last column"),
    ("row-number-word", '<row r="two">' + inline("A2", "x") + "</row>", 2, "a row is numbered 'two'"),
    ("row-beyond-excel", row(1_048_577, ""), 1_048_577, "row 1,048,577 is beyond the last row"),
    ("row-zero", '<row r="0"></row>', 2, "a row is numbered '0'"),
]


# What only a hand-written worksheet holds and calamine reads without complaint: read as calamine reads
# it (a cell stored twice keeps its last value, cells go where their references say, text in a number
# cell is that text), so the row is typed like any other and a wrong value lands in the rejects.
READ_AS_STORED = [
    ("number-holds-text", row(2, '<c r="B2"><v>abc</v></c>'), [], [(2, "not-number", "abc")]),
    ("number-inf", row(2, '<c r="B2"><v>inf</v></c>'), [], [(2, "not-finite", "inf")]),
    ("shared-string-negative", row(2, '<c r="B2" t="s"><v>-1</v></c>'), [], [(2, "not-number", "x")]),
    ("shared-string-not-an-index", row(2, '<c r="B2" t="s"><v>x</v></c>'), [], [(2, "not-number", "x")]),
    ("date-cell-not-a-date", row(2, '<c r="B2" t="d"><v>notadate</v></c>'), [], [(2, "not-number", "notadate")]),
    ("style-not-a-number", row(2, '<c r="B2" s="x"><v>1</v></c>'), [(2, "x2", 1.0)], []),
    ("reference-other-row", row(2, '<c r="B5"><v>1</v></c>'), [(2, "x2", None)], [(5, "missing-value", None)]),
    ("cell-twice", row(2, '<c r="B2"><v>1</v></c><c r="B2"><v>2</v></c>'), [(2, "x2", 2.0)], []),
    ("cells-out-of-order", row(2, '<c r="C2"><v>1</v></c><c r="B2"><v>2</v></c>'), [(2, "x2", 2.0)], []),
]


@pytest.mark.parametrize(("case", "rows", "records", "problems"), READ_AS_STORED, ids=[c[0] for c in READ_AS_STORED])
def test_what_calamine_reads_is_typed_as_read(tmp_path: Path, case: str, rows: str, records: list[Any],
                                              problems: list[Any]) -> None:
    path = book(tmp_path / "d.xlsx", [HEADER, rows], shared=["x"])
    ds = read_records([path], contract(Field("n", "number", nullable=True)))
    assert [(o[1], r["id"], r["n"]) for o, r in zip(ds.origins, ds.records)] == records
    assert [(p.row, p.code, p.value) for p in ds.problems] == problems


@pytest.mark.parametrize(("case", "rows", "line", "message"), DAMAGED, ids=[c[0] for c in DAMAGED])
def test_a_damaged_part_is_refused_with_its_place(tmp_path: Path, case: str, rows: str, line: int,
                                                   message: str) -> None:
    path = book(tmp_path / "d.xlsx", [HEADER, rows], shared=["x"])
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("n", "number", nullable=True)))
    err = info.value
    assert err.code == "unreadable" and err.exit_code == 4
    assert err.location is not None and err.location.file == str(path) and err.location.row == line
    assert err.message.startswith(f"sheet 'Sheet1': {message}"), err.message
    assert "save it again" in (err.hint or "")


def test_xml_that_does_not_parse_is_refused_after_the_last_good_row(tmp_path: Path) -> None:
    path = book(tmp_path / "t.xlsx", [HEADER, row(2, "")], tail="<row r='3'><c")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "unreadable"
    assert info.value.message.startswith("sheet 'Sheet1' cannot be read after row 2: ParseError")


def test_a_date_formatted_number_outside_excels_dates_is_the_number(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "n", "when"])
    ws.append(["a", 1e20, 45000])
    ws["B2"].number_format = ws["C2"].number_format = "yyyy-mm-dd"
    wb.save(tmp_path / "d.xlsx")
    ds = read_records([tmp_path / "d.xlsx"], contract(Field("n", "number"), Field("when", "date")))
    assert ds.problems == ()
    assert ds.records[0]["n"] == 1e20
    assert ds.records[0]["when"] == dt.date(2023, 3, 15)


# --------------------------------------------------------------------------- sparse reading


def test_cells_far_out_cost_nothing_and_keep_their_row_numbers(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A header cell at XFD1 and a row at 1,048,576: rows are as wide as the columns the contract reads."""
    header = HEADER[:-len("</row>")] + inline("XFD1", "note") + "</row>"
    rows = [header, row(2, '<c r="B2"><v>1</v></c><c r="XFD2"><v>9</v></c>'),
            row(1_048_576, '<c r="B1048576"><v>2</v></c>')]
    path = book(tmp_path / "far.xlsx", rows, dimension="A1:XFD1048576")
    widths: list[int] = []
    typing = excel.type_table_rows

    def spy(records: Any, *args: Any, **kwargs: Any) -> int:
        def seen() -> Any:
            for number, cells in records:
                widths.append(len(cells))
                yield number, cells

        return typing(seen(), *args, **kwargs)

    monkeypatch.setattr(excel, "type_table_rows", spy)
    ds = read_records([path], contract(Field("n", "integer")))
    assert [(o[1], r["n"]) for o, r in zip(ds.origins, ds.records)] == [(2, 1), (1_048_576, 2)]
    assert widths == [2, 2]


def test_rows_and_cells_without_references_follow_the_previous_ones(tmp_path: Path) -> None:
    """A row without a number follows the row before; a cell without a reference, the cell before.
    (A row without a number whose cells name another row is read as calamine counts it.)"""
    rows = [HEADER, '<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row>',
            '<row r="7"><c t="inlineStr"><is><t>b</t></is></c><c><v>2</v></c></row>']
    ds = read_records([book(tmp_path / "r.xlsx", rows)], contract(Field("n", "integer")))
    assert [(o[1], r["id"], r["n"]) for o, r in zip(ds.origins, ds.records)] == [(2, "a", 1), (7, "b", 2)]


def test_a_row_with_cells_only_beyond_the_header_is_read(tmp_path: Path) -> None:
    """Only rows without any value are blank: a stray cell off to the right makes its row count."""
    rows = [HEADER, row(2, '<c r="B2"><v>1</v></c>'), '<row r="3"><c r="Z3"><v>1</v></c></row>',
            '<row r="4"><c r="C4" t="inlineStr"><is><t></t></is></c></row>']
    ds = read_records([book(tmp_path / "s.xlsx", rows)], contract(Field("n", "integer")))
    assert ds.rows_read == 2 and ds.rows_accepted == 1
    assert {(p.row, p.code) for p in ds.problems} == {(3, "missing-value")}


def test_inline_rich_text_leaves_phonetic_runs_out() -> None:
    import xml.etree.ElementTree as ET

    from openpyxl.cell.text import Text

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    for body in ["<t>plain</t>", "<t xml:space='preserve'>  two  spaces </t>", "<t/>", "",
                 "<r><t>rich</t></r><r><rPr/><t> text</t></r>",
                 "<r><t>东京</t></r><rPh sb='0' eb='2'><t>とうきょう</t></rPh><phoneticPr fontId='1'/>"]:
        element = ET.fromstring(f"<is xmlns='{main}'>{body}</is>")
        assert excel._inline_text(element) == Text.from_tree(element).content, body


# --------------------------------------------------------------------------- the values openpyxl gives

CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    # openpyxl writes text of white space alone without xml:space="preserve", which XML readers (calamine)
    # may drop; Excel preserves it, and typing reads such text as empty anyway.
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12).filter(
        lambda text: text.strip() != ""),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0)),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=6), min_size=1, max_size=8),
       gaps=st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_values_are_those_openpyxl_reads(tmp_path: Path, rows: list[list[Any]], gaps: list[int]) -> None:
    """Whatever openpyxl writes (numbers, text, booleans, dates, times, empty cells, missing rows),
    the reader gives openpyxl's own values, row by row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    number = 0
    for cells, gap in zip(rows, gaps):
        number += 1 + gap
        for column, value in enumerate(cells, 1):
            if value is not None:
                ws.cell(number, column).value = value
    path = tmp_path / "v.xlsx"
    wb.save(path)
    expected = _openpyxl_rows(path)
    opened = excel.Workbook(str(path), str(path), None)
    try:
        got = {n: cells for n, cells in excel._sheet_rows(opened, "Sheet", str(path))}
    finally:
        opened.close()
    assert {n: cells for n, cells in got.items() if cells} == expected


def _openpyxl_rows(path: Path) -> dict[int, dict[int, Any]]:
    book_ = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = {}
        for number, cells in enumerate(book_.worksheets[0].iter_rows(values_only=True), 1):
            values = {c: v for c, v in enumerate(cells, 1) if v is not None}
            if values:
                out[number] = values
        return out
    finally:
        book_.close()


# --------------------------------------------------------------------------- calamine's reading


def _cs_contract() -> RecordContract:
    from qualiscore.schemes import load_scheme

    return load_scheme(Path(__file__).resolve().parents[1] / "rules" / "cs-quality" / "2026Q2.yaml").records


def _typed(name: str, text: str) -> Any:
    """A CSV export's text as a spreadsheet holds it: numbers, booleans, times of day, local date-times."""
    import re

    if text == "" or name in ("interaction_id", "agent_id", "team", "channel", "transcript"):
        return text or None
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    clock = re.fullmatch(r"([01][0-9]):([0-5][0-9]):([0-5][0-9])", text)
    if clock:
        return dt.time(*map(int, clock.groups()))
    if name == "started_at" and text.endswith("+08:00"):
        try:
            return dt.datetime.fromisoformat(text[:-6])
        except ValueError:
            return text
    return text


def _synth_pair(tmp_path: Path, n: int) -> tuple[Path, Path]:
    import csv

    from qualiscore import synth

    csv_path = tmp_path / "records.csv"
    synth.write_csv(csv_path, n, seed=11, dirty=0.05)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("records")
    with open(csv_path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        ws.append(header)
        for cells in rows:
            ws.append([_typed(name, text) for name, text in zip(header, cells)])
    xlsx_path = tmp_path / "records.xlsx"
    wb.save(xlsx_path)
    return csv_path, xlsx_path


def test_the_same_rows_as_csv_give_the_same_records_and_rejects(tmp_path: Path) -> None:
    """Typed cells (numbers, booleans, date-times, times of day as durations) give what their CSV text gives."""
    csv_path, xlsx_path = _synth_pair(tmp_path, 600)
    contract_ = _cs_contract()
    a = read_records([csv_path], contract_)
    b = read_records([xlsx_path], contract_)
    assert b.problems, "the synthetic rows are meant to include broken ones"
    assert [o[1] for o in a.origins] == [o[1] for o in b.origins]
    assert list(a.records) == list(b.records)
    assert [(p.row, p.record_id, p.field, p.value, p.code, p.reason) for p in a.problems] == \
        [(p.row, p.record_id, p.field, p.value, p.code, p.reason) for p in b.problems]


@pytest.mark.parametrize("engine", ["rows", "columnar"])
def test_evaluate_writes_the_same_scorecards_and_rejects_as_from_csv(tmp_path: Path, engine: str) -> None:
    import subprocess
    import sys

    if engine == "columnar":
        pytest.importorskip("polars")
    csv_path, xlsx_path = _synth_pair(tmp_path, 800)
    scheme = Path(__file__).resolve().parents[1] / "rules" / "cs-quality" / "2026Q2.yaml"
    outputs = {}
    for path in (csv_path, xlsx_path):
        out = tmp_path / f"out-{path.suffix[1:]}"
        res = subprocess.run([sys.executable, "-m", "qualiscore", "evaluate", str(scheme), path.name, "-o", str(out),
                              "-q", "--engine", engine], cwd=tmp_path, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
        outputs[path.suffix] = out
    assert (outputs[".csv"] / "scorecards.csv").read_bytes() == (outputs[".xlsx"] / "scorecards.csv").read_bytes()
    rejects = {k: (v / "rejects.csv").read_text(encoding="utf-8").replace("records.csv,", "SOURCE,")
               .replace("records.xlsx,", "SOURCE,") for k, v in outputs.items()}
    assert rejects[".csv"] == rejects[".xlsx"] and rejects[".csv"].count("\n") > 10


@pytest.mark.parametrize("epoch", ["1900", "1904"])
def test_date_times_times_and_durations_to_the_millisecond(tmp_path: Path, epoch: str) -> None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    if epoch == "1904":
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["id", "started", "day", "handle", "longest", "early"])
    ws.append(["a", dt.datetime(2026, 4, 1, 10, 0, 0, 123000), dt.date(2026, 4, 30), dt.time(0, 2, 59, 500000),
               dt.timedelta(hours=30, milliseconds=5), dt.datetime(1904, 1, 2, 23, 59, 59, 999000)])
    ws.append(["b", dt.datetime(2026, 12, 31, 23, 59, 59, 1000), dt.datetime(2026, 5, 1, 0, 0), dt.time(23, 59, 59),
               dt.timedelta(0), dt.datetime(1904, 3, 1)])
    wb.save(tmp_path / "t.xlsx")
    ds = read_records([tmp_path / "t.xlsx"], contract(
        Field("started", "datetime"), Field("day", "date"), Field("handle", "duration"),
        Field("longest", "duration"), Field("early", "datetime")))
    assert ds.problems == ()
    got = [(r["started"].replace(tzinfo=None), r["day"], r["handle"], r["longest"], r["early"].replace(tzinfo=None))
           for r in ds.records]
    assert got == [
        (dt.datetime(2026, 4, 1, 10, 0, 0, 123000), dt.date(2026, 4, 30), 179.5, 108000.005,
         dt.datetime(1904, 1, 2, 23, 59, 59, 999000)),
        (dt.datetime(2026, 12, 31, 23, 59, 59, 1000), dt.date(2026, 5, 1), 86399.0, 0.0, dt.datetime(1904, 3, 1)),
    ]


def test_booleans_and_whole_numbers_are_read_as_written(tmp_path: Path) -> None:
    """A whole number is an int (an id 1001 is "1001", 1 and 0 are booleans); a float stays a float."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "ok", "flag", "n", "ratio"])
    ws.append([1001, True, 1, 3, 0.25])
    ws.append([2002, False, 0, -0.0, 1e20])
    wb.save(tmp_path / "b.xlsx")
    ds = read_records([tmp_path / "b.xlsx"], contract(
        Field("ok", "boolean"), Field("flag", "boolean"), Field("n", "integer"), Field("ratio", "string")))
    assert ds.problems == ()
    assert [(r["id"], r["ok"], r["flag"], r["n"], r["ratio"]) for r in ds.records] == [
        ("1001", True, True, 3, "0.25"), ("2002", False, False, 0, "1e+20")]


def test_a_number_of_many_digits_keeps_them_all(tmp_path: Path) -> None:
    """calamine reads a float; the digits stored (by a program other than Excel) are kept, as before."""
    rows = [HEADER, '<row r="2"><c r="A2"><v>1234567890123456789</v></c><c r="B2" t="n"><v>-98765432109876543</v>'
                    "</c></row>"]
    ds = read_records([book(tmp_path / "l.xlsx", rows)], contract(Field("n", "integer")))
    assert [(r["id"], r["n"]) for r in ds.records] == [("1234567890123456789", -98765432109876543)]


FORMULAS = [HEADER.replace("</row>", inline("C1", "s") + inline("D1", "b") + "</row>"),
            '<row r="2">' + inline("A2", "x2") + '<c r="B2"><f>1+1</f><v>2</v></c>'
            '<c r="C2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="D2" t="b"><f>TRUE()</f><v>1</v></c></row>',
            '<row r="3">' + inline("A3", "x3") + '<c r="B3" s="0" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
            '<c r="C3" t="e"><v>#N/A</v></c><c r="D3" t="b"><v>0</v></c></row>',
            '<row r="4">' + inline("A4", "x4") + "<c r='B4' t = 'e'><v>#VALUE!</v></c>"
            '<c r="C4" t="str"><f>A4</f><v>12345678901234567</v></c><c r="D4" t="b"><v>0</v></c></row>']


@pytest.mark.parametrize("chunk", [None, 37])
def test_formulas_are_their_cached_values_and_errors_their_text(tmp_path: Path, chunk: int | None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An error cell (#DIV/0!, #N/A) is its text, not an empty cell: a nullable number field rejects it."""
    if chunk is not None:  # the pass over the XML, in pieces smaller than a cell
        monkeypatch.setattr(excel, "_CHUNK", chunk)
        monkeypatch.setattr(excel, "_CARRY", 200)
    path = book(tmp_path / "f.xlsx", FORMULAS)
    ds = read_records([path], contract(Field("n", "number", nullable=True), Field("s", "string", nullable=True),
                                       Field("b", "boolean")))
    assert [(r["id"], r["n"], r["s"], r["b"]) for r in ds.records] == [("x2", 2.0, "ab", True)]
    assert [(p.row, p.field, p.value, p.code) for p in ds.problems] == [
        (3, "n", "#DIV/0!", "not-number"), (4, "n", "#VALUE!", "not-number")]
    opened = excel.Workbook(str(path), str(path), None)
    try:
        rows = dict(excel._sheet_rows(opened, "Sheet1", str(path)))
    finally:
        opened.close()
    assert rows[3] == {1: "x3", 2: "#DIV/0!", 3: "#N/A", 4: False}
    assert rows[4][3] == "12345678901234567"  # a formula's text result stays text


def test_a_normal_workbook_is_read_by_calamine_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def exact(*args: Any) -> Any:
        raise AssertionError("the exact reader was used")

    monkeypatch.setattr(excel, "_exact_rows", exact)
    excel._KEPT.clear()
    path = book(tmp_path / "n.xlsx", FORMULAS, dimension="A1:D4")
    ds = read_records([path], contract(Field("n", "number", nullable=True)))
    assert ds.rows_read == 3


FAR = [HEADER, row(2, '<c r="B2"><v>1</v></c>'),
       '<row r="3">' + inline("A3", "x3") + "<c r = 'B3'><v>2</v></c><c r='XFD3'><v>9</v></c></row>",
       row(1_048_576, '<c r="B1048576"><v>3</v></c>')]


@pytest.mark.parametrize("dimension", ["A1:B3", "A1:XFD1048576"])
def test_cells_far_out_are_read_sparsely_whatever_the_dimension_says(tmp_path: Path, dimension: str) -> None:
    """calamine would hold XFD1048576 cells (hundreds of gigabytes): such a sheet goes to the exact reader,
    also when its dimension says it is small, or its references are written with spaces and single quotes."""
    path = book(tmp_path / "far.xlsx", FAR, dimension=dimension)
    scan = excel._scan(str(path), "Sheet1")
    assert scan is not None and not scan.safe()
    ds = read_records([path], contract(Field("n", "integer")))
    assert [(o[1], r["id"], r["n"]) for o, r in zip(ds.origins, ds.records)] == [
        (2, "x2", 1), (3, "x3", 2), (1_048_576, "x1048576", 3)]


def test_data_away_from_a1_keeps_its_rows_and_columns(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"] = "id", "n"
    ws["C5"], ws["D5"] = "a", 1
    ws["D7"] = 2
    wb.save(tmp_path / "away.xlsx")
    ds = read_records([tmp_path / "away.xlsx"], contract(Field("n", "integer")))
    assert [(o[1], r["id"], r["n"]) for o, r in zip(ds.origins, ds.records)] == [(5, "a", 1)]
    assert [(p.row, p.field, p.code) for p in ds.problems] == [(7, "id", "missing-value")]


def _two_sheets(path: Path) -> Path:
    wb = openpyxl.Workbook()
    calls = wb.active
    calls.title = "Calls"
    calls.append(["id"])
    calls.append(["c1"])
    chats = wb.create_sheet("Chats")
    chats.append(["id"])
    chats.append(["h1"])
    chats.append(["h2"])
    wb.save(path)
    return path


def test_a_sheet_is_chosen_by_name_or_is_the_first(tmp_path: Path) -> None:
    path = _two_sheets(tmp_path / "two.xlsx")
    assert [r["id"] for r in read_records([path], contract()).records] == ["c1"]
    assert [r["id"] for r in read_records([path], contract(), sheet="Chats").records] == ["h1", "h2"]
    assert [r["id"] for r in read_records([f"{path}#chats"], contract()).records] == ["h1", "h2"]


def test_a_sheet_that_does_not_exist_is_refused_with_the_names_that_do(tmp_path: Path) -> None:
    path = _two_sheets(tmp_path / "two.xlsx")
    with pytest.raises(DataError) as info:
        read_records([path], contract(), sheet="Call")
    err = info.value
    assert err.code == "format" and err.location is not None and err.location.file == str(path)
    assert err.message == "has no sheet 'Call'; its sheets are: 'Calls', 'Chats'"
    assert err.hint == f"name one of its sheets, e.g. {path}#Calls"


@pytest.mark.parametrize(("content", "code", "message"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000), "format", "is password-protected (encrypted)"),
    (b"id,n\na,1\n", "format", "is not an Excel .xlsx workbook (it is not a zip archive)"),
    (b"PK\x03\x04" + bytes(100), "format", "is not an Excel .xlsx workbook (damaged zip archive"),
], ids=["encrypted", "text", "damaged-zip"])
def test_a_file_that_is_no_workbook_is_refused(tmp_path: Path, content: bytes, code: str, message: str) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == code and info.value.message.startswith(message), info.value.message
    assert info.value.location is not None and info.value.location.file == str(path) and info.value.hint


def test_a_zip_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "unreadable" and info.value.message.startswith("cannot be read as an Excel workbook")
