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
