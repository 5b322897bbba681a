"""Tests for qualiscore.records: reading CSV/JSONL records and typing them against the contract.

The central promise: every row read is either accepted (typed) or rejected with a
reason; rows_read == rows_accepted + rows_rejected, always.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualiscore.errors import DataError, UsageError
from qualiscore.model import Field, RecordContract
from qualiscore.records import (
    PROBLEM_CODES,
    Dataset,
    InputFile,
    read_records,
    records_from_dicts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "records"
SH = ZoneInfo("Asia/Shanghai")
ID = Field("id", "string")


def contract(*fields: Field, tz: str = "Asia/Shanghai") -> RecordContract:
    """A contract with a string id field ``id`` first."""
    return RecordContract("id", tz, (ID, *fields))


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


def write_jsonl(path: Path, objects: list[Any]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


class Code:
    """Expected outcome: the value is rejected with this problem code."""

    def __init__(self, code: str) -> None:
        assert code in PROBLEM_CODES, code
        self.code = code

    def __repr__(self) -> str:
        return f"Code({self.code!r})"


def check_outcome(ds: Dataset, name: str, expected: Any) -> None:
    assert ds.rows_read == 1
    assert ds.rows_read == ds.rows_accepted + ds.rows_rejected
    if isinstance(expected, Code):
        assert ds.records == ()
        assert [(p.field, p.code) for p in ds.problems] == [(name, expected.code)], ds.problems
        assert ds.problems[0].reason
    else:
        assert ds.problems == (), ds.problems
        got = ds.records[0][name]
        assert got == expected
        assert type(got) is type(expected)
        if isinstance(expected, dt.datetime):
            assert got.tzinfo is SH  # converted to the contract's zone, not merely equal


# --------------------------------------------------------------------------- typing table

# (field spec, raw text as in a CSV cell, expected typed value or Code)
TEXT_CASES: list[tuple[Field, str, Any]] = [
    # string: kept exactly, blank is null
    (Field("v", "string"), "abc", "abc"),
    (Field("v", "string"), " abc ", " abc "),
    (Field("v", "string"), '客户说:"谢谢"', '客户说:"谢谢"'),
    (Field("v", "string", enum=("chat", "phone")), "chat", "chat"),
    (Field("v", "string", enum=("chat", "phone")), "Chat", Code("not-in-enum")),
    (Field("v", "string", enum=(1, 2)), "2", "2"),
    # integer
    (Field("v", "integer"), "12", 12),
    (Field("v", "integer"), " 12 ", 12),
    (Field("v", "integer"), "+3", 3),
    (Field("v", "integer"), "-4", -4),
    (Field("v", "integer"), "12.0", 12),
    (Field("v", "integer"), "12.00", 12),
    (Field("v", "integer"), "12.5", Code("not-integer")),
    (Field("v", "integer"), "abc", Code("not-integer")),
    (Field("v", "integer"), "1_000", Code("not-integer")),
    (Field("v", "integer"), "１２", Code("not-integer")),
    (Field("v", "integer"), "1e3", Code("not-integer")),
    (Field("v", "integer"), "9" * 5000, Code("not-integer")),
    (Field("v", "integer"), "nan", Code("not-finite")),
    (Field("v", "integer"), "inf", Code("not-finite")),
    (Field("v", "integer", minimum=1, maximum=5), "1", 1),
    (Field("v", "integer", minimum=1, maximum=5), "5", 5),
    (Field("v", "integer", minimum=1, maximum=5), "0", Code("below-minimum")),
    (Field("v", "integer", minimum=1, maximum=5), "6", Code("above-maximum")),
    (Field("v", "integer", enum=(1, 2, 3)), "2.0", 2),
    (Field("v", "integer", enum=(1, 2, 3)), "4", Code("not-in-enum")),
    # number: plain decimal or scientific only, finite
    (Field("v", "number"), "1.5", 1.5),
    (Field("v", "number"), " 2 ", 2.0),
    (Field("v", "number"), "1e3", 1000.0),
    (Field("v", "number"), "-0.5", -0.5),
    (Field("v", "number"), ".5", 0.5),
    (Field("v", "number"), "1,234.5", Code("not-number")),
    (Field("v", "number"), "85%", Code("not-number")),
    (Field("v", "number"), "0x10", Code("not-number")),
    (Field("v", "number"), "1_0", Code("not-number")),
    (Field("v", "number"), "NaN", Code("not-finite")),
    (Field("v", "number"), "inf", Code("not-finite")),
    (Field("v", "number"), "-Infinity", Code("not-finite")),
    (Field("v", "number"), "1e999", Code("not-finite")),
    (Field("v", "number", minimum=0, maximum=100), "0", 0.0),
    (Field("v", "number", minimum=0, maximum=100), "100", 100.0),
    (Field("v", "number", minimum=0, maximum=100), "-0.1", Code("below-minimum")),
    (Field("v", "number", minimum=0, maximum=100), "100.01", Code("above-maximum")),
    (Field("v", "number", enum=(1, 2.5)), "1", 1.0),
    (Field("v", "number", enum=(1, 2.5)), "2", Code("not-in-enum")),
    # boolean: defaults, case-insensitive
    *[
        (Field("v", "boolean"), raw, True)
        for raw in ("true", "TRUE", "True", "1", "yes", "Y", "t", "是", " yes ")
    ],
    *[(Field("v", "boolean"), raw, False) for raw in ("false", "FALSE", "0", "no", "N", "f", "否")],
    (Field("v", "boolean"), "maybe", Code("not-boolean")),
    (Field("v", "boolean"), "2", Code("not-boolean")),
    # boolean: the export's own words, matched exactly
    (Field("v", "boolean", true_values=("是",), false_values=("否",)), "是", True),
    (Field("v", "boolean", true_values=("是",), false_values=("否",)), "否", False),
    (Field("v", "boolean", true_values=("是",), false_values=("否",)), "yes", Code("not-boolean")),
    (Field("v", "boolean", true_values=("Y",), false_values=("N",)), "Y", True),
    (Field("v", "boolean", true_values=("Y",), false_values=("N",)), " N ", False),
    (Field("v", "boolean", true_values=("Y",), false_values=("N",)), "y", Code("not-boolean")),
    # only one side declared: the other keeps the defaults
    (Field("v", "boolean", true_values=("Y",)), "Y", True),
    (Field("v", "boolean", true_values=("Y",)), "no", False),
    (Field("v", "boolean", true_values=("Y",)), "yes", Code("not-boolean")),
    (Field("v", "boolean", enum=(True,)), "yes", True),
    (Field("v", "boolean", enum=(True,)), "no", Code("not-in-enum")),
    # date
    (Field("v", "date"), "2026-05-14", dt.date(2026, 5, 14)),
    (Field("v", "date"), " 2026-05-14 ", dt.date(2026, 5, 14)),
    (Field("v", "date"), "2026/5/14", dt.date(2026, 5, 14)),
    (Field("v", "date"), "2026-05-14T10:00:00", dt.date(2026, 5, 14)),
    (Field("v", "date"), "2026-05-14T23:30:00Z", dt.date(2026, 5, 15)),  # the date in Asia/Shanghai
    (Field("v", "date"), "14/05/2026", Code("bad-date")),
    (Field("v", "date"), "2026-02-30", Code("bad-date")),
    (Field("v", "date", format="%d-%m-%Y"), "14-05-2026", dt.date(2026, 5, 14)),
    (Field("v", "date", format="%d-%m-%Y"), "2026-05-14", Code("bad-date")),
    (Field("v", "date", format="%d-%m-%Y"), "31-02-2026", Code("bad-date")),
    # datetime: naive is read in the contract's zone, offsets and Z are converted to it
    (Field("v", "datetime"), "2026-05-14T09:30:00", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14 09:30", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), " 2026-05-14 09:30 ", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14T01:30:00Z", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14T09:30:00+08:00", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14T03:30:00+02:00", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-13T20:30:00-05:00", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14T09:30:00.123456", sh(2026, 5, 14, 9, 30, 0, 123456)),
    (Field("v", "datetime"), "2026-05-14T01:30:00.5Z", sh(2026, 5, 14, 9, 30, 0, 500000)),
    (Field("v", "datetime"), "2026-05-14T01:30:00,25Z", sh(2026, 5, 14, 9, 30, 0, 250000)),
    (Field("v", "datetime"), "2026-05-14T01:30:00+0000", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026/5/14 9:30", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), "2026-05-14", sh(2026, 5, 14, 0, 0)),
    (Field("v", "datetime"), "14.05.2026 09:30", Code("bad-datetime")),
    (Field("v", "datetime"), "2026-05-14T25:00", Code("bad-datetime")),
    (Field("v", "datetime"), "2026-05-14T09:30:00+25:00", Code("bad-datetime")),
    (Field("v", "datetime"), "0001-01-01T00:00:00+08:00", Code("bad-datetime")),  # out of range in UTC+8
    (Field("v", "datetime", format="%d/%m/%Y %H:%M"), "14/05/2026 09:30", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime", format="%d/%m/%Y %H:%M %z"), "14/05/2026 01:30 +0000", sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime", format="%d/%m/%Y %H:%M"), "2026-05-14 09:30", Code("bad-datetime")),
    # duration: seconds, MM:SS, H:MM:SS(.fff)
    (Field("v", "duration"), "179", 179.0),
    (Field("v", "duration"), "179.5", 179.5),
    (Field("v", "duration"), "00:02:59", 179.0),
    (Field("v", "duration"), "02:59", 179.0),
    (Field("v", "duration"), "1:02:03.5", 3723.5),
    (Field("v", "duration"), "75:30", 4530.0),
    (Field("v", "duration"), "100:00:00", 360000.0),
    (Field("v", "duration"), "-5", -5.0),
    (Field("v", "duration"), "-00:01:00", -60.0),
    (Field("v", "duration"), "00:60:00", Code("bad-duration")),
    (Field("v", "duration"), "00:00:60", Code("bad-duration")),
    (Field("v", "duration"), "2m59s", Code("bad-duration")),
    (Field("v", "duration"), "1:2:3:4", Code("bad-duration")),
    (Field("v", "duration"), "nan", Code("not-finite")),
    (Field("v", "duration", minimum=0), "-5", Code("below-minimum")),
    (Field("v", "duration", minimum=0), "-00:00:01", Code("below-minimum")),
    (Field("v", "duration", maximum=3600), "01:00:00", 3600.0),
    (Field("v", "duration", maximum=3600), "01:00:01", Code("above-maximum")),
]

# (field spec, JSON value, expected): JSONL and inline records may carry typed values
JSON_CASES: list[tuple[Field, Any, Any]] = [
    (Field("v", "string"), 12, "12"),
    (Field("v", "string"), True, "true"),
    (Field("v", "string"), [1], Code("not-string")),
    (Field("v", "string"), {"a": 1}, Code("not-string")),
    (Field("v", "integer"), 12, 12),
    (Field("v", "integer"), 12.0, 12),
    (Field("v", "integer"), 12.5, Code("not-integer")),
    (Field("v", "integer"), True, Code("not-integer")),
    (Field("v", "integer"), "12", 12),
    (Field("v", "integer"), [12], Code("not-integer")),
    (Field("v", "integer", maximum=5), 6, Code("above-maximum")),
    (Field("v", "number"), 3, 3.0),
    (Field("v", "number"), 2.5, 2.5),
    (Field("v", "number"), True, Code("not-number")),
    (Field("v", "number"), 10**400, Code("not-finite")),
    (Field("v", "number", minimum=0), -1, Code("below-minimum")),
    (Field("v", "boolean"), True, True),
    (Field("v", "boolean"), False, False),
    (Field("v", "boolean"), 1, True),
    (Field("v", "boolean"), 0, False),
    (Field("v", "boolean"), 2, Code("not-boolean")),
    (Field("v", "boolean"), 1.0, Code("not-boolean")),
    (Field("v", "date"), 20260514, Code("bad-date")),
    (Field("v", "datetime"), 1778000000, Code("bad-datetime")),
    (Field("v", "duration"), 42, 42.0),
    (Field("v", "duration"), 1.5, 1.5),
    (Field("v", "duration"), True, Code("bad-duration")),
]

# Only for in-memory records (library callers): Python objects
OBJECT_CASES: list[tuple[Field, Any, Any]] = [
    (Field("v", "date"), dt.date(2026, 5, 14), dt.date(2026, 5, 14)),
    (Field("v", "date"), dt.datetime(2026, 5, 14, 23, 30, tzinfo=dt.timezone.utc), dt.date(2026, 5, 15)),
    (Field("v", "datetime"), dt.datetime(2026, 5, 14, 9, 30), sh(2026, 5, 14, 9, 30)),
    (Field("v", "datetime"), dt.datetime(2026, 5, 14, 1, 30, tzinfo=dt.timezone.utc), sh(2026, 5, 14, 9, 30)),
    (Field("v", "duration"), dt.timedelta(minutes=2), 120.0),
    (Field("v", "number"), math.nan, Code("not-finite")),
    (Field("v", "number"), math.inf, Code("not-finite")),
    (Field("v", "integer"), math.nan, Code("not-finite")),
]


def _ids(cases: list[tuple[Field, Any, Any]]) -> list[str]:
    out = []
    for f, raw, _ in cases:
        opts = ",".join(
            f"{k}={getattr(f, k)}"
            for k in ("enum", "minimum", "maximum", "format", "true_values", "false_values")
            if getattr(f, k) is not None
        )
        out.append(f"{f.type}[{opts}]:{str(raw)[:30]!r}")
    return out


@pytest.mark.parametrize(("field", "raw", "expected"), TEXT_CASES, ids=_ids(TEXT_CASES))
def test_text_value_in_csv(tmp_path: Path, field: Field, raw: str, expected: Any) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "v"], ["r1", raw]])
    ds = read_records([path], contract(field))
    check_outcome(ds, "v", expected)
    if isinstance(expected, Code):
        p = ds.problems[0]
        assert (p.source, p.row, p.record_id, p.value) == (
            str(path),
            2,
            "r1",
            raw[:199] + "…" if len(raw) > 200 else raw,
        )


@pytest.mark.parametrize(("field", "raw", "expected"), TEXT_CASES, ids=_ids(TEXT_CASES))
def test_text_value_inline(field: Field, raw: str, expected: Any) -> None:
    check_outcome(records_from_dicts([{"id": "r1", "v": raw}], contract(field)), "v", expected)


@pytest.mark.parametrize(("field", "raw", "expected"), JSON_CASES, ids=_ids(JSON_CASES))
def test_json_value_in_jsonl(tmp_path: Path, field: Field, raw: Any, expected: Any) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "v": raw}])
    check_outcome(read_records([path], contract(field)), "v", expected)


@pytest.mark.parametrize(
    ("field", "raw", "expected"), JSON_CASES + OBJECT_CASES, ids=_ids(JSON_CASES + OBJECT_CASES)
)
def test_json_value_inline(field: Field, raw: Any, expected: Any) -> None:
    check_outcome(records_from_dicts([{"id": "r1", "v": raw}], contract(field)), "v", expected)


def test_every_problem_code_is_exercised() -> None:
    """The typing tables plus the row/file tests below cover every documented code."""
    in_tables = {e.code for _, _, e in TEXT_CASES + JSON_CASES + OBJECT_CASES if isinstance(e, Code)}
    elsewhere = {"missing-value", "duplicate-id", "missing-column", "ragged-row", "bad-json", "not-an-object"}
    assert in_tables | elsewhere == set(PROBLEM_CODES)


# --------------------------------------------------------------------------- nulls

TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "duration")


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_blank_cell_is_null(tmp_path: Path, type_: str, blank: str) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "opt", "req"], ["r1", blank, blank]])
    ds = read_records([path], contract(Field("opt", type_, nullable=True), Field("req", type_)))
    assert ds.records == ()
    [p] = ds.problems
    assert (p.field, p.code, p.value, p.row) == ("req", "missing-value", blank, 2)
    assert "nullable: true" in p.reason

    ok = write_csv(tmp_path / "ok.csv", [["id", "opt"], ["r1", blank]])
    ds = read_records([ok], contract(Field("opt", type_, nullable=True)))
    assert ds.records == ({"id": "r1", "opt": None},)


@pytest.mark.parametrize("type_", TYPES)
def test_json_null(tmp_path: Path, type_: str) -> None:
    rows = [{"id": "r1", "opt": None, "req": None}, {"id": "r2", "opt": "", "req": "  "}]
    c = contract(Field("opt", type_, nullable=True), Field("req", type_))
    for ds in (read_records([write_jsonl(tmp_path / "r.jsonl", rows)], c), records_from_dicts(rows, c)):
        assert ds.problems[0].value is None
        assert [(p.row, p.field, p.code) for p in ds.problems] == [
            (1, "req", "missing-value"),
            (2, "req", "missing-value"),
        ]
        assert ds.rows_accepted == 0


def test_enum_and_ranges_do_not_apply_to_null() -> None:
    c = contract(Field("v", "integer", nullable=True, enum=(1, 2), minimum=1, maximum=2))
    ds = records_from_dicts([{"id": "a", "v": None}, {"id": "b", "v": ""}], c)
    assert ds.records == ({"id": "a", "v": None}, {"id": "b", "v": None})


# --------------------------------------------------------------------------- a real-looking export

ZH_CONTRACT = RecordContract(
    "interaction_id",
    "Asia/Shanghai",
    (
        Field("interaction_id", "string", column="工单编号"),
        Field("agent_id", "string", column="坐席工号"),
        Field("channel", "string", enum=("chat", "phone", "ticket", "email"), column="渠道"),
        Field("connect_s", "number", minimum=0, nullable=True, column="接通时长(秒)"),
        Field("talk_time", "duration", column="通话时长"),
        Field("resolved", "boolean", column="是否解决", true_values=("是",), false_values=("否",)),
        Field("call_date", "date", column="日期", format="%d-%m-%Y"),
        Field("started_at", "datetime", column="开始时间"),
        Field("csat", "integer", minimum=1, maximum=5, nullable=True, column="满意度"),
        Field("note", "string", nullable=True, column="备注"),
    ),
)


def test_chinese_export_fixture() -> None:
    """Chinese headers, CRLF, a quoted cell with a line break and quotes, a blank row, every kind of problem."""
    path = FIXTURES / "export_zh.csv"
    ds = read_records([path], ZH_CONTRACT)
    assert ds.records == (
        {
            "interaction_id": "W002",
            "agent_id": "A017",
            "channel": "chat",
            "connect_s": None,
            "talk_time": 130.0,
            "resolved": False,
            "call_date": dt.date(2026, 5, 15),
            "started_at": sh(2026, 5, 15, 9, 0),
            "csat": None,
            "note": "第一行\r\n第二行, 含逗号",
        },
    )
    assert ds.origins == ((str(path), 3),)
    got = [(p.row, p.record_id, p.field, p.value, p.code) for p in ds.problems]
    assert got == [
        (2, "W001", "interaction_id", "W001", "duplicate-id"),
        (4, "W003", "channel", "fax", "not-in-enum"),
        (5, "W004", "connect_s", "abc", "not-number"),
        (5, "W004", "resolved", "也许", "not-boolean"),
        (5, "W004", "call_date", "2026-05-16", "bad-date"),
        (5, "W004", "csat", "9", "above-maximum"),
        (7, "W005", None, None, "ragged-row"),  # row 6 is blank: skipped, but keeps its number
        (8, "W001", "interaction_id", "W001", "duplicate-id"),
    ]
    assert (ds.rows_read, ds.rows_accepted, ds.rows_rejected) == (6, 1, 5)
    reasons = {(p.row, p.field): p.reason for p in ds.problems}
    assert "row 8" in reasons[(2, "interaction_id")]
    assert "row 2" in reasons[(8, "interaction_id")]
    assert "chat, phone, ticket, email" in reasons[(4, "channel")]
    assert "'%d-%m-%Y'" in reasons[(5, "call_date")]
    assert "是" in reasons[(5, "resolved")] and "否" in reasons[(5, "resolved")]
    assert "9 cells" in reasons[(7, None)] and "11" in reasons[(7, None)]
    [info] = ds.inputs
    assert info == InputFile(str(path), hashlib.sha256(path.read_bytes()).hexdigest(), "csv", "utf-8", 6, 5)


def test_jsonl_fixture() -> None:
    """Typed and text values, a blank line, a non-object line, a truncated last line."""
    c = RecordContract(
        "interaction_id",
        "Asia/Shanghai",
        (
            Field("interaction_id", "string"),
            Field("agent_id", "string"),
            Field("csat", "integer", minimum=1, maximum=5, nullable=True),
            Field("resolved", "boolean"),
            Field("started_at", "datetime"),
        ),
    )
    path = FIXTURES / "interactions.jsonl"
    ds = read_records([path], c)
    assert [r["interaction_id"] for r in ds.records] == ["J1", "J2"]
    assert ds.records[1] == {
        "interaction_id": "J2",
        "agent_id": "A017",
        "csat": None,
        "resolved": False,
        "started_at": sh(2026, 5, 14, 10, 0),
    }
    assert ds.origins == ((str(path), 1), (str(path), 2))
    got = [(p.row, p.record_id, p.field, p.code) for p in ds.problems]
    assert got == [
        (4, None, None, "not-an-object"),
        (5, "J4", "csat", "above-maximum"),
        (5, "J4", "resolved", "not-boolean"),
        (6, None, None, "bad-json"),
    ]
    assert ds.problems[-1].value == '{"interaction_id": "J5", "agent_id": "A018", "csat": 4, "resol'
    assert "truncated" in ds.problems[-1].reason
    assert "a list" in ds.problems[0].reason
    assert (ds.rows_read, ds.rows_accepted, ds.rows_rejected) == (5, 2, 3)
    assert ds.inputs[0].format == "jsonl"


# --------------------------------------------------------------------------- columns and rows


def test_missing_required_column_rejects_every_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "cast"], ["a", "1"], ["b", "2"]])
    ds = read_records([path], contract(Field("csat", "integer")))
    assert ds.records == ()
    assert [(p.row, p.field, p.code, p.value) for p in ds.problems] == [
        (2, "csat", "missing-column", None),
        (3, "csat", "missing-column", None),
    ]
    assert "'csat'" in ds.problems[0].reason and "closest is 'cast'" in ds.problems[0].reason
    assert ds.rows_rejected == 2


def test_missing_nullable_column_is_null_for_every_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id"], ["a"], ["b"]])
    ds = read_records([path], contract(Field("csat", "integer", nullable=True)))
    assert ds.records == ({"id": "a", "csat": None}, {"id": "b", "csat": None})
    assert ds.problems == ()
    assert ds.missing_columns == ((str(path), "csat"),)


def test_missing_key_in_json_records(tmp_path: Path) -> None:
    c = contract(Field("csat", "integer"), Field("nps", "integer", nullable=True))
    rows = [{"id": "a", "cats": 3}, {"id": "b", "csat": 3}]
    for ds in (records_from_dicts(rows, c), read_records([write_jsonl(tmp_path / "r.jsonl", rows)], c)):
        assert [(p.row, p.field, p.code) for p in ds.problems] == [(1, "csat", "missing-column")]
        assert "closest is 'cats'" in ds.problems[0].reason
        assert ds.records == ({"id": "b", "csat": 3, "nps": None},)


def test_extra_columns_are_ignored_and_order_does_not_matter(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["x", "csat", "y", "id", "z"], ["1", "4", "2", "a", "3"]])
    ds = read_records([path], contract(Field("csat", "integer")))
    assert ds.records == ({"id": "a", "csat": 4},)
    assert list(ds.records[0]) == ["id", "csat"]  # contract order


def test_column_mapping_falls_back_to_the_field_name(tmp_path: Path) -> None:
    """Inline fixtures (and renamed exports) may use the field name instead of the mapped header."""
    c = contract(Field("talk", "duration", column="AvgTalkDuration"))
    assert records_from_dicts([{"id": "a", "talk": "00:02:59"}], c).records[0]["talk"] == 179.0
    assert records_from_dicts([{"id": "a", "AvgTalkDuration": "00:02:59"}], c).records[0]["talk"] == 179.0
    path = write_csv(tmp_path / "r.csv", [["id", "talk"], ["a", "00:01:00"]])
    assert read_records([path], c).records[0]["talk"] == 60.0


def test_header_cells_are_matched_ignoring_surrounding_spaces(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", " Answered (Y/N) "], ["a", "Y"]])
    c = contract(
        Field("answered", "boolean", column="Answered (Y/N)", true_values=("Y",), false_values=("N",))
    )
    assert read_records([path], c).records == ({"id": "a", "answered": True},)


def test_column_named_twice_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "csat", "csat"], ["a", "1", "2"]])
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("csat", "integer")))
    assert info.value.code == "ambiguous-column"
    assert info.value.location is not None and info.value.location.file == str(path)


def test_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,a,b\nr1,1,2\nr2,1\nr3,1,2,3\nr4,1,2\n", encoding="utf-8")
    ds = read_records([path], contract(Field("a", "integer"), Field("b", "integer")))
    assert [r["id"] for r in ds.records] == ["r1", "r4"]
    assert [(p.row, p.record_id, p.field, p.code) for p in ds.problems] == [
        (3, "r2", None, "ragged-row"),
        (4, "r3", None, "ragged-row"),
    ]


def test_embedded_newlines_quotes_and_delimiters(tmp_path: Path) -> None:
    text = 'id,note,n\nr1,"line one\nline two",1\nr2,"say ""hi"", then go",2\nr3,plain,3\n'
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    ds = read_records([path], contract(Field("note", "string"), Field("n", "integer")))
    assert [r["note"] for r in ds.records] == ["line one\nline two", 'say "hi", then go', "plain"]
    assert [row for _, row in ds.origins] == [2, 3, 4]  # a record spanning two lines is one row


def test_blank_lines_and_all_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,n\n\nr1,1\n,\n\r\nr2,2\n\n", encoding="utf-8")
    ds = read_records([path], contract(Field("n", "integer")))
    assert [r["id"] for r in ds.records] == ["r1", "r2"]
    assert [row for _, row in ds.origins] == [3, 6]
    assert ds.rows_read == 2


def test_rows_are_numbered_as_in_excel_even_above_the_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\n\nid,n\nr1,x\n   \nr2,y\n", encoding="utf-8")
    ds = read_records([path], contract(Field("n", "integer")))
    assert [p.row for p in ds.problems] == [4, 6]
    assert ds.rows_read == 2


def test_a_row_of_blanks_with_spaces_is_read_not_skipped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "n"], [" ", " "]])
    ds = read_records([path], contract(Field("n", "integer")))
    assert ds.rows_read == 1 and ds.rows_rejected == 1
    assert {p.code for p in ds.problems} == {"missing-value"}


def test_several_problems_in_one_row_count_once(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "a", "b", "c"], ["r1", "x", "y", "1"]])
    ds = read_records([path], contract(Field("a", "integer"), Field("b", "number"), Field("c", "integer")))
    assert [p.field for p in ds.problems] == ["a", "b"]
    assert (ds.rows_read, ds.rows_accepted, ds.rows_rejected) == (1, 0, 1)
    assert ds.inputs[0].rows_rejected == 1


def test_long_values_are_truncated_in_problems() -> None:
    raw = "x" * 500
    ds = records_from_dicts([{"id": "r1", "n": raw}], contract(Field("n", "integer")))
    [p] = ds.problems
    assert p.value is not None and len(p.value) == 200 and p.value.endswith("…")
    assert len(p.reason) < 300


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("r.csv", "id;n\nr1;1\nr2;2\n"),
        ("r.csv", "id\tn\nr1\t1\nr2\t2\n"),
        ("r.tsv", "id\tn\nr1\t1,5\nr2\t2\n"),
    ],
)
def test_delimiters(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    ds = read_records([path], contract(Field("n", "string")))
    assert [r["id"] for r in ds.records] == ["r1", "r2"]
    assert ds.records[0]["n"] in ("1", "1,5")


# --------------------------------------------------------------------------- duplicate ids


def test_duplicate_ids_across_files_reject_every_occurrence(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", [["id", "n"], ["x", "1"], ["y", "2"], ["x", "3"]])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "z", "n": 4}, {"id": "x", "n": 5}, {"id": "y", "n": "bad"}])
    c = contract(Field("n", "integer"))
    ds = read_records([a, b], c)
    assert [r["id"] for r in ds.records] == ["z"]
    dup = [(p.source, p.row) for p in ds.problems if p.code == "duplicate-id"]
    assert dup == [(str(a), 2), (str(a), 3), (str(a), 4), (str(b), 2), (str(b), 3)]
    reason = next(p.reason for p in ds.problems if (p.source, p.row) == (str(a), 2))
    assert "row 4" in reason and f"{b} row 2" in reason
    # a row with a bad value and a repeated id gets both problems
    assert [p.code for p in ds.problems if (p.source, p.row) == (str(b), 3)] == [
        "duplicate-id",
        "not-integer",
    ]
    assert (ds.rows_read, ds.rows_accepted, ds.rows_rejected) == (6, 1, 5)
    assert [(i.rows_read, i.rows_rejected) for i in ds.inputs] == [(3, 3), (3, 2)]

    # the outcome does not depend on which file comes first
    swapped = read_records([b, a], c)
    assert {(p.source, p.row, p.code) for p in swapped.problems} == {
        (p.source, p.row, p.code) for p in ds.problems
    }
    assert swapped.records == ds.records


def test_long_duplicate_ids_are_truncated(tmp_path: Path) -> None:
    long_id = "x" * 300
    path = write_csv(tmp_path / "r.csv", [["id"], [long_id], [long_id]])
    ds = read_records([path], contract())
    assert [p.code for p in ds.problems] == ["duplicate-id", "duplicate-id"]
    assert all(p.record_id is not None and len(p.record_id) == 200 for p in ds.problems)
    assert all(p.value == p.record_id for p in ds.problems)


def test_typed_ids_compare_by_value() -> None:
    c = RecordContract("n", "UTC", (Field("n", "integer"),))
    ds = records_from_dicts([{"n": "7"}, {"n": 7.0}, {"n": 8}], c)
    assert ds.records == ({"n": 8},)
    assert [(p.row, p.code) for p in ds.problems] == [(1, "duplicate-id"), (2, "duplicate-id")]


def test_same_file_twice_is_an_error(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", [["id"], ["x"]])
    with pytest.raises(DataError) as info:
        read_records([a, tmp_path / "." / "a.csv"], contract())
    assert info.value.code == "duplicate-input"


# --------------------------------------------------------------------------- files, formats, encodings


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    for name, content in (("empty.csv", b""), ("blank.csv", b"\n\r\n  \n"), ("commas.csv", b",,\n,,\n")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError) as info:
            read_records([path], contract())
        assert "is empty" in info.value.message
        assert info.value.location is not None and info.value.location.file == str(path)
        assert str(path) in str(info.value)


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id", "n"]])
    ds = read_records([path], contract(Field("n", "integer")))
    assert (ds.records, ds.problems, ds.rows_read) == ((), (), 0)
    assert ds.inputs[0].rows_read == 0


def test_empty_jsonl_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert read_records([path], contract()).rows_read == 0


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_records([str(tmp_path / "nope.csv")], contract())
    assert info.value.code == "file-not-found"
    assert info.value.location is not None and info.value.location.file == str(tmp_path / "nope.csv")
    assert info.value.exit_code == 4


@pytest.mark.parametrize("name", ["data.xlsx", "data.txt", "data"])
def test_unknown_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("id\nx\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "format" and info.value.hint and ".csv" in info.value.hint


def test_json_array_is_refused_but_json_lines_named_json_are_read(tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_text('[{"id": "x"}]', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records([array], contract())
    assert info.value.code == "format" and "JSON Lines" in info.value.message
    lines = write_jsonl(tmp_path / "b.json", [{"id": "x"}, {"id": "y"}])
    assert read_records([lines], contract()).rows_accepted == 2


def test_pretty_printed_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{\n  "id": "x"\n}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "format"
    assert info.value.location is not None and info.value.location.line == 1


def test_a_single_path_is_accepted(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id"], ["x"]])
    assert read_records(str(path), contract()).rows_accepted == 1


GBK_ROWS = [["工单编号", "备注"], ["W1", "客户非常满意"], ["W2", "不清楚，不归我管"]]
GBK_CONTRACT = RecordContract(
    "id", "UTC", (Field("id", "string", column="工单编号"), Field("note", "string", column="备注"))
)


def _gbk_file(tmp_path: Path) -> Path:
    path = tmp_path / "gbk.csv"
    path.write_bytes("".join(",".join(r) + "\r\n" for r in GBK_ROWS).encode("gbk"))
    return path


def test_gbk_file_is_detected(tmp_path: Path) -> None:
    path = _gbk_file(tmp_path)
    ds = read_records([path], GBK_CONTRACT)
    assert [r["note"] for r in ds.records] == ["客户非常满意", "不清楚，不归我管"]
    assert ds.inputs[0].encoding == "gb18030"
    assert ds.inputs[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_explicit_encoding_is_used(tmp_path: Path) -> None:
    ds = read_records([_gbk_file(tmp_path)], GBK_CONTRACT, encoding="GBK")
    assert ds.rows_accepted == 2 and ds.inputs[0].encoding == "gbk"


def test_explicit_wrong_encoding_says_where(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    body = "id,note\r\nW1,ok\r\nW2,客户\r\n".encode("gbk")
    path.write_bytes(body)
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("note", "string")), encoding="utf-8")
    err = info.value
    assert err.code == "encoding" and err.exit_code == 4
    assert err.location is not None and err.location.line == 3
    assert f"byte offset {body.index('客'.encode('gbk'))}" in err.message
    assert err.hint is not None and "--encoding" in err.hint


def test_bad_byte_position_is_exact_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qualiscore.records import inputs

    monkeypatch.setattr(inputs, "_CHUNK", 7)
    body = "id\nr1\n宽\n".encode() + b"\xff\n"
    path = tmp_path / "r.csv"
    path.write_bytes(body)
    with pytest.raises(DataError) as info:
        read_records([path], contract(), encoding="utf-8")
    assert info.value.location is not None and info.value.location.line == 4
    bad = body.index(b"\xff")
    assert f"byte offset {bad}" in info.value.message


def test_undecodable_file_without_encoding(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"id\n\xff\xff\x80\n")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "encoding" and "neither UTF-8 nor GB18030" in info.value.message
    assert info.value.location is not None and info.value.location.line == 2


def test_unknown_encoding_name_is_a_usage_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["id"], ["x"]])
    with pytest.raises(UsageError):
        read_records([path], contract(), encoding="no-such-codec")


def test_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffid,备注\r\nW1,好\r\n".encode())
    c = contract(Field("note", "string", column="备注"))
    for enc in (None, "utf-8"):
        ds = read_records([path], c, encoding=enc)
        assert ds.records == ({"id": "W1", "note": "好"},)
        assert ds.inputs[0].encoding == "utf-8-sig"
    jl = tmp_path / "r.jsonl"
    jl.write_bytes('\ufeff{"id": "W1"}\n'.encode())
    assert read_records([jl], contract()).records == ({"id": "W1"},)


def test_bad_utf16_says_so(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "id\r\n".encode("utf-16-le") + b"\x00")
    with pytest.raises(DataError) as info:
        read_records([path], contract())
    assert info.value.code == "encoding" and "utf-16" in info.value.message


def test_utf16_with_bom_is_detected(tmp_path: Path) -> None:
    """Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated."""
    path = tmp_path / "r.tsv"
    path.write_bytes("id\t备注\r\nW1\t好\r\n".encode("utf-16"))
    ds = read_records([path], contract(Field("note", "string", column="备注")))
    assert ds.records == ({"id": "W1", "note": "好"},)
    assert ds.inputs[0].encoding == "utf-16"


def test_unknown_time_zone(tmp_path: Path) -> None:
    for zone in ("Mars/Olympus", "localtime", "posix/Asia/Shanghai"):
        with pytest.raises(DataError) as info:
            records_from_dicts([], contract(tz=zone))
        assert info.value.code == "bad-timezone"


# --------------------------------------------------------------------------- mixed encodings


def test_utf8_lines_then_gb18030_lines_are_refused_at_the_first_gb18030_line(tmp_path: Path) -> None:
    """张三 in UTF-8 decodes as GB18030 too (寮犱笁): a mixed file must not be read as GB18030."""
    path = tmp_path / "m.csv"
    head = "id,note\nA1,张三\nA2,ok\n".encode()
    path.write_bytes(head + "A3,李四\n".encode("gb18030"))
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("note", "string")))
    err = info.value
    assert err.code == "encoding" and err.location is not None and err.location.line == 4
    assert err.message == f"mixes encodings: line 2 is UTF-8, but line 4 is not UTF-8 (bad byte at offset {len(head) + 3}; " \
                          "perhaps GB18030)"
    assert "--encoding" in (err.hint or "")
    # Told which encoding to use, the reader reads every line with it.
    assert read_records([path], contract(Field("note", "string")), encoding="gb18030").rows_accepted == 3


def test_gb18030_lines_then_utf8_lines_are_refused_at_the_first_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes("id,note\nA1,李四\n".encode("gb18030") + "A2,张三\n".encode())
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("note", "string")))
    assert info.value.location is not None and info.value.location.line == 3
    assert info.value.message.endswith("but line 3 is UTF-8")


def test_a_utf8_bom_then_gb18030_is_mixed_and_offsets_count_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    head = codecs.BOM_UTF8 + b"id,note\nA1,ok\n"
    path.write_bytes(head + "A2,李四\n".encode("gb18030"))
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("note", "string")))
    assert info.value.location is not None and info.value.location.line == 3
    assert f"bad byte at offset {len(head) + 3}" in info.value.message
    with pytest.raises(DataError) as info:
        read_records([path], contract(Field("note", "string")), encoding="utf-8")
    assert f"bad byte at line 3, byte offset {len(head) + 3}" in info.value.message


# GB2312 characters whose GB18030 lead byte (B0-C1) can start no UTF-8 sequence: a line written in
# GB18030 with one of them is never valid UTF-8. (Other characters can be: 一 is D2 BB in GB18030, which
# is also U+04BB in UTF-8, so a whole file of 一 is UTF-8 text, and is read as such.)
COMMON_HANZI = sorted({bytes([lead, trail]).decode("gb2312") for lead in range(0xB0, 0xC2) for trail in range(0xA1, 0xFF)})
# Cells are trimmed and a blank one is null: the lines' texts are neither.
LINE_TEXT = st.text(st.sampled_from(COMMON_HANZI + list("abc 123")), min_size=1, max_size=12).filter(
    lambda text: text == text.strip() and text != "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(LINE_TEXT, st.sampled_from(["utf-8", "gb18030"])), min_size=1, max_size=12),
       crlf=st.booleans())
def test_mixed_encodings_are_detected(tmp_path: Path, lines: list[tuple[str, str]], crlf: bool) -> None:
    """A file read without --encoding is read exactly when its lines beyond ASCII share one encoding,
    and refused at the first line in another encoding than the first such line's otherwise."""
    newline = "\r\n" if crlf else "\n"
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,note" + newline.encode() + b"".join(
        f"R{k},{text}{newline}".encode(codec) for k, (text, codec) in enumerate(lines)))
    used = [codec for text, codec in lines if not text.isascii()]
    try:
        ds = read_records([path], contract(Field("note", "string")))
    except DataError as err:
        assert err.code == "encoding" and "mixes encodings" in err.message
        first = next(k for k, (text, codec) in enumerate(lines) if not text.isascii() and codec != used[0])
        assert err.location is not None and err.location.line == first + 2
        return
    assert len(set(used)) <= 1, "a mixed file was read"
    assert [r["note"] for r in ds.records] == [text for text, _ in lines]
    assert ds.inputs[0].encoding == (used[0] if used else "utf-8")


def test_inline_non_mapping_and_input_record() -> None:
    ds = records_from_dicts([{"id": "a"}, ["id", "b"], "c"], contract(), source="fixture test 1")
    assert ds.records == ({"id": "a"},)
    assert [(p.source, p.row, p.code) for p in ds.problems] == [
        ("fixture test 1", 2, "not-an-object"),
        ("fixture test 1", 3, "not-an-object"),
    ]
    [info] = ds.inputs
    assert (info.path, info.format, info.rows_read, info.rows_rejected) == ("fixture test 1", "inline", 3, 2)
    assert len(info.sha256) == 64


# --------------------------------------------------------------------------- the invariant, for any input

GARBAGE = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "1",
            "-1",
            "1.0",
            "1e999",
            "nan",
            "是",
            "Y",
            "2026-05-14",
            "2026-05-14T09:30:00Z",
            "00:02:59",
            "99:99",
            "a,b",
            '"',
            "\r\n",
            "\ufeff",
            "chat",
            "0001-01-01T00:00:00+08:00",
        ]
    ),
)
JSONISH = st.one_of(
    GARBAGE,
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
)
PROPERTY_CONTRACT = RecordContract(
    "id",
    "Asia/Shanghai",
    (
        Field("id", "string"),
        Field("i", "integer", minimum=1, maximum=5, nullable=True),
        Field("n", "number", minimum=0),
        Field("b", "boolean", true_values=("是",), false_values=("否",), nullable=True),
        Field("d", "date", format="%d-%m-%Y", nullable=True),
        Field("t", "datetime"),
        Field("u", "duration", nullable=True),
        Field("e", "string", enum=("chat", "phone")),
    ),
)
NAMES = [f.name for f in PROPERTY_CONTRACT.fields]


def _check_invariant(ds: Dataset) -> None:
    assert ds.rows_read == ds.rows_accepted + ds.rows_rejected
    assert len(ds.origins) == len(ds.records)
    assert not {o for o in ds.origins} & {(p.source, p.row) for p in ds.problems}
    assert all(p.code in PROBLEM_CODES for p in ds.problems)
    assert all(p.value is None or len(p.value) <= 200 for p in ds.problems)
    for r in ds.records:
        assert list(r) == NAMES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(JSONISH, min_size=len(NAMES), max_size=len(NAMES)), max_size=8))
def test_inline_never_raises_and_accounts_for_every_row(rows: list[list[Any]]) -> None:
    dicts = [dict(zip(NAMES, r, strict=True)) for r in rows]
    ds = records_from_dicts(dicts, PROPERTY_CONTRACT)
    assert ds.rows_read == len(rows)
    _check_invariant(ds)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(GARBAGE, min_size=1, max_size=len(NAMES) + 1), max_size=8),
    st.sampled_from(["csv", "jsonl"]),
)
def test_files_never_raise_and_account_for_every_row(rows: list[list[Any]], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"r.{fmt}"
        if fmt == "csv":
            cells = [["" if v is None else v for v in r] for r in rows]
            write_csv(path, [NAMES, *cells])
        else:
            write_jsonl(path, [dict(zip(NAMES, r, strict=False)) for r in rows])
        ds = read_records([path], PROPERTY_CONTRACT)
        _check_invariant(ds)
        assert ds.inputs[0].rows_read == ds.rows_read


# --------------------------------------------------------------------------- speed

SLOW = bool(os.environ.get("QUALISCORE_SLOW"))


@pytest.mark.slow
def test_large_file_is_typed_completely(tmp_path: Path) -> None:
    """Every row of a large file is typed (`make test` runs a small size; speed is measured in bench/)."""
    n = 100_000 if SLOW else 5_000
    fields = (
        Field("agent_id", "string"),
        Field("team", "string", nullable=True),
        Field("channel", "string", enum=("chat", "phone", "ticket", "email")),
        Field("started_at", "datetime"),
        Field("call_date", "date"),
        Field("first_response_s", "number", minimum=0, nullable=True),
        Field("talk_time", "duration", nullable=True),
        Field("resolved", "boolean"),
        Field("csat", "integer", minimum=1, maximum=5, nullable=True),
        Field("nps", "integer", minimum=0, maximum=10, nullable=True),
        Field("transcript", "string", nullable=True),
        Field("promise", "boolean"),
        Field("handle_s", "number", nullable=True),
    )
    c = contract(*fields)
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", *(x.name for x in fields)])
        for i in range(n):
            w.writerow(
                [
                    f"I{i:07d}",
                    f"A{i % 200:03d}",
                    "" if i % 3 else "t1",
                    ("chat", "phone", "ticket", "email")[i % 4],
                    f"2026-05-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
                    f"2026-05-{1 + i % 28:02d}",
                    f"{i % 997 / 10}",
                    f"00:{i % 60:02d}:{i % 59:02d}",
                    ("true", "false")[i % 2],
                    ("1", "2", "3", "4", "5", "")[i % 6],
                    str(i % 11),
                    "您好，我会帮您处理这个问题。" * 3,
                    ("0", "1")[i % 2],
                    str(i % 1000),
                ]
            )
    ds = read_records([path], c)
    assert (ds.rows_read, ds.rows_accepted) == (n, n)
    assert ds.records[-1]["csat"] == (1, 2, 3, 4, 5, None)[(n - 1) % 6]
