"""Unit tests of the columnar engine: the expression translation and the vectorised reader.

Each translated operator and function is checked against the row Evaluator, value by
value and with nulls: on every row the translation does not flag (its fail mask), the
vectorised value must be the Evaluator's, of the same type; flagged rows are the ones
the engine hands back to the Evaluator. The reader is checked against
records.read_records on text cells of every field type and on messy files.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from qualiscore.calendar import Calendar  # noqa: E402
from qualiscore.engine import columnar as C  # noqa: E402
from qualiscore.engine.columnar.executor import Executor  # noqa: E402
from qualiscore.engine.columnar.inputs import SAMPLE_ROWS, Inputs, prepare_inputs  # noqa: E402
from qualiscore.engine.columnar.plan import CompiledScheme  # noqa: E402
from qualiscore.engine.columnar.translate import (  # noqa: E402
    DTYPES,
    NeedsPython,
    Translator,
    Untranslatable,
    business_days_expr,
    lookup,
)
from qualiscore.errors import ExpressionError  # noqa: E402
from qualiscore.expressions import Evaluator, parse  # noqa: E402
from qualiscore.model import Field, RecordContract  # noqa: E402
from qualiscore.options import RunOptions  # noqa: E402
from qualiscore.records import read_records  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
CAL = Calendar(holidays=frozenset({dt.date(2026, 5, 1), dt.date(2026, 5, 4)}), workdays=frozenset({dt.date(2026, 5, 9)}))
CONSTANTS: dict[str, Any] = {
    "tgt": {"chat": 60, "phone": 30.5, "none": None},
    "lst": [10, 20, 30],
    "phr": ["不清楚", "不", "ab", "", None],
    "specials": ["a.b", "c+", "(x)", "\\d", "[", "<", "$"],
    "ik": {1: "one", 2.0: "two"},
    "n4": 4,
}
KINDS = {"a": "int", "b": "int", "x": "float", "y": "float", "s": "str", "t": "str", "d": "date", "e": "date",
         "u": "datetime", "v": "datetime", "f": "bool", "g": "bool"}
VALUES: dict[str, list[Any]] = {
    "int": [0, 1, -1, 2, 3, 7, -7, 10, 59, 60, 2**62, -(2**63)],
    "float": [0.0, -0.0, 1.5, -2.5, 0.1, 2.675, 1e308, 60.0, 30.5, 2.5, 3.0, float("inf"), 0.125],
    "str": ["chat", "phone", "ab", "不清楚不清楚不", "Straße", "x", "abab", "ΣΑΣ", "A"],
    "date": [dt.date(2026, 4, 25) + dt.timedelta(days=k) for k in range(0, 22, 3)],
    "datetime": [dt.datetime(2026, 3, 29, 1, 30) + dt.timedelta(minutes=k * 97) for k in range(-6, 7)]
    + [dt.datetime(2026, 10, 25, 2, 30)],
    "bool": [True, False],
}


def _rows(n: int = 300, seed: int = 5) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [{k: (None if rnd.random() < 0.15 else rnd.choice(VALUES[kind])) for k, kind in KINDS.items()}
            for _ in range(n)]


ROWS = _rows()
FRAME = pl.DataFrame({k: [r[k] for r in ROWS] for k in KINDS}, schema={k: DTYPES[v] for k, v in KINDS.items()})
EVALUATOR = Evaluator(CONSTANTS, CAL)


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.replace(tzinfo=ZONE) if isinstance(v, dt.datetime) else v) for k, v in row.items()}


def _same(want: Any, got: Any, kind: str) -> bool:
    if isinstance(want, dt.datetime):
        want = want.replace(tzinfo=None)
    if kind == "num" and isinstance(want, int) and not isinstance(want, bool):
        return isinstance(got, float) and got == want
    if type(want) is not type(got):
        return False
    if isinstance(want, float):
        return (math.isnan(want) and math.isnan(got)) or (want == got and math.copysign(1, want) == math.copysign(1, got))
    return want == got


def check_translation(source: str) -> tuple[str, int]:
    """(kind, rows flagged) of a translated expression; asserts agreement on every other row."""
    expr = parse(source)
    t = Translator(CONSTANTS, CAL, KINDS).translate(expr)
    out = FRAME.select(t.value.alias("v"), (t.fail if t.fail is not None else pl.lit(False)).alias("f"))
    flagged = 0
    for row, value, fail in zip(ROWS, out["v"].to_list(), out["f"].to_list()):
        if fail:
            flagged += 1
            continue
        try:
            want = EVALUATOR.evaluate(expr, _aware(row))
        except ExpressionError as exc:
            raise AssertionError(f"{source!r} raises for {row} but the row is not flagged: {exc}") from None
        assert _same(want, value, t.kind), f"{source!r} on {row}: Evaluator {want!r}, Polars {value!r}"
    return t.kind, flagged


# (expression, expected kind, whether some rows are expected to be flagged)
TABLE = [
    ("a + b", "int", True), ("a - b", "int", True), ("a * b", "int", True), ("a / b", "float", True),
    ("a // b", "int", False), ("a % b", "int", False), ("x + y", "float", False), ("x - a", "float", False),
    ("x * y", "float", False), ("x / y", "float", False), ("a ** 2", "int", True), ("x ** 2", "float", True),
    ("x ** 0.5", "float", True), ("a ** -1", "float", True), ("-a", "int", True), ("-x", "float", False),
    ("+f", "int", False), ("not a", "bool", False), ("not s", "bool", False), ("f + g", "int", False),
    ("a == b", "bool", False), ("a < x", "bool", True), ("x < y", "bool", True), ("x == y", "bool", True),
    ("s < t", "bool", False), ("s == a", "bool", False), ("s < a", "bool", True), ("d < e", "bool", False),
    ("u < v", "bool", False), ("u == v", "bool", False), ("d == u", "bool", False), ("0 <= a < 10", "bool", False),
    ("a < b < x", "bool", True), ("s in ['chat', 'phone']", "bool", False), ("a in [1, 2.0, True]", "bool", False),
    ("x in [1, 2.5, 'a']", "bool", True), ("f in [1]", "bool", False), ("s in tgt", "bool", False),
    ("s not in lst", "bool", False), ("'ab' in s", "bool", False), ("s in [t, 'chat', None]", "bool", False),
    ("a is None", "bool", False), ("a is not None", "bool", False), ("f and g", "bool", False),
    ("f or g", "bool", False), ("a and s", "bool", False), ("x or f", "bool", False),
    ("a and a / 0", "bool", True), ("s if f else t", "str", False), ("a if f else x", "num", False),
    ("a if s else None", "int", False), ("tgt[s]", "num", False), ("lst[a]", "int", False),
    ("lst[f]", "int", False), ("lst[x]", "int", True), ("ik[a]", "str", False), ("ik[x]", "str", True),
    ("ik[s]", "str", False), ("abs(a)", "int", True), ("abs(x)", "float", False), ("abs(s)", "null", True),
    ("min(a, b)", "int", False), ("max(a, x)", "num", True), ("min(s, t)", "str", False),
    ("min(u, v)", "datetime", False), ("max(a, 3)", "int", False), ("round(x)", "int", True),
    ("round(x, 2)", "float", True), ("round(a, 1)", "int", False), ("coalesce(a, b, 0)", "int", False),
    ("coalesce(x, a)", "num", False), ("len(s)", "int", False), ("len(a)", "null", True),
    ("lower(s)", "str", True), ("upper(s)", "str", True), ("contains(s, t)", "bool", False),
    ("contains(s, 'b')", "bool", False), ("contains_any(s, phr)", "bool", False),
    ("contains_any(s, ['x', 'ab'])", "bool", False), ("count_matches(s, phr)", "int", False),
    ("count_matches(s, ['不清楚', '不', 'ab'])", "int", False), ("minutes_between(u, v)", "float", False),
    ("hours_between(d, e)", "float", False), ("minutes_between(d, u)", "float", True),
    ("days_between(d, u)", "int", False), ("days_between(u, v)", "int", False),
    ("business_days_between(d, e)", "int", False), ("business_days_between(u, v)", "int", False),
    ("business_days_between(d, a)", "int", True), ("s + t", "str", False), ("s + a", "null", True),
    ("n4 + 1", "int", False), ("tgt['chat'] + a", "int", True), ("a > 2 and s == 'chat' or not f", "bool", False),
    ("coalesce(tgt[s], 0) > x", "bool", True), ("a if a > 3 else b", "int", False),
    ("count_matches(s + 'a.b(x)c+', specials)", "int", False), ("contains_any(s + '<', specials)", "bool", False),
    ("count_matches('xa.bxa_b<<$', specials)", "int", False),
]


@pytest.mark.parametrize(("source", "kind", "flags"), TABLE, ids=[s for s, _, _ in TABLE])
def test_translation_matches_evaluator(source: str, kind: str, flags: bool) -> None:
    got_kind, flagged = check_translation(source)
    assert got_kind == kind
    if not flags:
        assert flagged == 0, f"{source!r} needlessly flags {flagged} rows"


@pytest.mark.parametrize("source", ["x // y", "x % a", "s * 2", "round(x, a)"])
def test_no_vectorised_form_says_so(source: str) -> None:
    with pytest.raises(NeedsPython):
        Translator(CONSTANTS, CAL, KINDS).translate(parse(source))


def test_mixed_kinds_are_untranslatable() -> None:
    with pytest.raises(Untranslatable):
        Translator(CONSTANTS, CAL, KINDS).translate(parse("coalesce(s, a)"))


def test_constant_subtrees_are_folded_by_the_evaluator() -> None:
    t = Translator(CONSTANTS, CAL, KINDS).translate(parse("tgt['chat'] * 2 + len(lst)"))
    assert t.is_const and t.const == 123
    t = Translator(CONSTANTS, CAL, KINDS).translate(parse("1 / 0"))
    assert t.is_const and t.const is None
    bad = Translator(CONSTANTS, CAL, KINDS).translate(parse("'a' + 1"))
    assert bad.fail is not None  # raises for every record


@settings(max_examples=200, deadline=None, database=None)
@given(start=st.dates(dt.date(2025, 12, 1), dt.date(2026, 12, 31)), end=st.dates(dt.date(2025, 12, 1), dt.date(2026, 12, 31)),
       weekend=st.sets(st.integers(1, 7), max_size=3))
def test_business_days_match_the_calendar(start: dt.date, end: dt.date, weekend: set[int]) -> None:
    cal = Calendar(weekend=frozenset(weekend), holidays=frozenset({dt.date(2026, 5, 1), dt.date(2026, 10, 1)}),
                   workdays=frozenset(d for d in (dt.date(2026, 5, 9), dt.date(2026, 10, 10)) if d.isoweekday() in weekend))
    frame = pl.DataFrame({"s": [start], "e": [end]})
    got = frame.select(business_days_expr(pl.col("s"), pl.col("e"), cal)).item()
    assert got == cal.business_days_between(start, end)


@settings(max_examples=200, deadline=None, database=None)
@given(x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), nd=st.integers(0, 4))
def test_round_is_python_round(x: float, nd: int) -> None:
    t = Translator({}, Calendar(), {"x": "float"}).translate(parse(f"round(x, {nd})"))
    value, fail = pl.DataFrame({"x": [x]}).select(t.value.alias("v"), t.fail.alias("f")).row(0)
    if not fail:
        assert value == round(x, nd)


# --------------------------------------------------------------------------- the vectorised reader

TYPES = {
    "integer": ["1", "+5", "-0", "007", " 5", "5 ", "1.0", "1.5", "1e3", "99999999999999999999", "x", "", "  ", "٣",
                "1_000", "-12"],
    "number": ["1", "1.5", ".5", "5.", "-0", "1e3", "1E-3", "+.5e+2", "inf", "nan", "1e999", " 1", "1,5", "0x10", "",
               "12.125", "3.14159265358979323846"],
    "boolean": ["true", "false", "TRUE", "True", "yes", "Y", "n", "是", "否", "1", "0", " true", "maybe", "", "t",
                "F", "ǅ"],
    "date": ["2026-05-14", "2026-02-30", "20260514", "2026-05-14T10:00:00+08:00", "2026/5/14", "0000-01-01",
             " 2026-05-14", "", "14-05-2026", "2026-W20-4"],
    "datetime": ["2026-05-14T09:30:00", "2026-05-14 09:30:00+08:00", "2026-05-14T09:30:00Z", "2026-05-14T09:30",
                 "2026-05-14", "2026-05-14T09:30:00.5", "2026-05-14T09:30:00.1234567", "2026-05-14T24:00:00",
                 "2026/5/14 9:30", " 2026-05-14T09:30:00", "2026-03-29T02:30:00", "2026-10-25T02:30:00",
                 "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-05-14T09:30:00+24:00", "x", ""],
    "duration": ["179", "179.5", "00:02:59", "02:59", "1:00:00", "90:00", "1:60:00", "00:00:60", "-00:01:00",
                 "00:01:00.5", " 00:01:00", "1e2", "inf", "", "abc"],
    "string": ["abc", " padded ", "", "   ", "\u3000", "x\u3000", "中文"],
}


@pytest.mark.parametrize("ftype", sorted(TYPES))
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Shanghai"])
def test_text_typing_matches_records(tmp_path: Path, ftype: str, zone: str) -> None:
    cells = TYPES[ftype]
    extra: dict[str, Any] = {}
    if ftype in ("integer", "number", "duration"):
        extra = {"minimum": -10, "maximum": 5000}
    contract = RecordContract("id", zone, (Field("id", "string"), Field("v", ftype, nullable=True, **extra)))
    path = tmp_path / "cells.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "v"])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", cell])
    _same_dataset(path, contract)


@pytest.mark.parametrize("fmt", ["%d-%m-%Y", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%d.%m.%Y %H:%M:%S.%f", "%b %d %Y"])
def test_formats_match_strptime(tmp_path: Path, fmt: str) -> None:
    cells = ["14-05-2026", "2026/05/14 09:30", "2026/5/4 9:3", "2026-05-14T09:30:00+0800", "2026-05-14T09:30:00Z",
             "14.05.2026 09:30:00.25", "May 14 2026", "31-02-2026", " 14-05-2026 ", "2026/05/14  09:30", "x", ""]
    for ftype in ("date", "datetime"):
        contract = RecordContract("id", "Europe/Berlin",
                                  (Field("id", "string"), Field("v", ftype, nullable=True, format=fmt)))
        path = tmp_path / f"{ftype}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "v"])
            for i, cell in enumerate(cells):
                w.writerow([f"r{i}", cell])
        _same_dataset(path, contract)


def _same_dataset(path: Path, contract: RecordContract, **kw: Any) -> None:
    ref = read_records([path], contract, **kw)
    got = C.read_columnar([path], contract, **kw).to_dataset()
    assert got.problems == ref.problems
    assert got.inputs == ref.inputs
    assert got.missing_columns == ref.missing_columns
    assert got.origins == ref.origins
    assert len(got.records) == len(ref.records)
    for a, b in zip(got.records, ref.records):
        assert a.keys() == b.keys()
        for k in a:
            assert type(a[k]) is type(b[k]) and a[k] == b[k], (k, a[k], b[k])
            if isinstance(a[k], dt.datetime):
                assert a[k].utcoffset() == b[k].utcoffset() and a[k].fold == b[k].fold


MESSY = [
    "id,v,w\n1,2,3\n\n4,5,6\n",
    "id,v,w\n1,2,3\n   \n4,5,6\n",
    "id,v,w\n1,2\n4,5,6\n",
    "id,v,w\n1,2,3,4\n4,5,6\n",
    "id,v,w\n,,\n4,,6\n",
    'id,v,w\n"x,y",2,3\n"mul\nti",5,6\n',
    'id,v,w\nab"c,2,3\n"ab"c,5,6\n',
    "id,v,w\r\n1,2,3\r\n4,5,6\r\n",
    "id,v,w\r1,2,3\r4,5,6\r",
    "id,v,w\n1,2,3\n\n\n",
    "\n\nid,v,w\n1,2,3\n",
    "id;v;w\n1;2;3\n",
    "id\tv\tw\n1\t2\t3\n",
    "\ufeffid,v,w\n1,2,3\n",
    "id,v,w\n1,2,3\n1,5,6\n2,x,\n2,7,8\n",
    "id,v\n1,2\n",
    "id,v,w,v\n1,2,3,4\n",
    "id,w\n1,2\n",
    "",
    "id,v,w\n",
    "\n\n",
    "id,v,w\n1,2,3,\n4,5,6,\n",
    "id,v,w,\n1,2,3,\n",
    ",,,\nid,v,w\n1,2,3\n",
    "id,v,w\n1,2,3\n4,5,6",
    "id,v,w\n1,2,\n3,,\n",
    "id,v,w\n \t,,\n1,2,3\n",
]


@pytest.mark.parametrize("text", MESSY)
def test_messy_csv_matches_records(tmp_path: Path, text: str) -> None:
    contract = RecordContract("id", "UTC", (Field("id", "string"), Field("v", "integer", nullable=True),
                                            Field("w", "integer")))
    path = tmp_path / "messy.csv"
    path.write_bytes(text.encode("utf-8"))
    try:
        ref = read_records([path], contract)
    except Exception as exc:  # the reader refuses the file: so must the columnar reader
        with pytest.raises(type(exc)) as info:
            C.read_columnar([path], contract)
        assert str(info.value) == str(exc)
        return
    del ref
    _same_dataset(path, contract)


def test_gb18030_and_forced_encodings(tmp_path: Path) -> None:
    contract = RecordContract("id", "UTC", (Field("id", "string"), Field("name", "string"),
                                            Field("ok", "boolean", true_values=("是",), false_values=("否",))))
    text = "id,name,ok\n1,张三,是\n2,李四,否\n3,王五,也许\n"
    gb = tmp_path / "gb.csv"
    gb.write_bytes(text.encode("gb18030"))
    _same_dataset(gb, contract)
    _same_dataset(gb, contract, encoding="gbk")
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(text.encode("utf-16"))
    _same_dataset(u16, contract)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_cells_match_records(tmp_path: Path, data: st.DataObject) -> None:
    alphabet = st.sampled_from([*"0123456789-+.:eE TZ/xy,", "是", "\u3000"])
    cells = data.draw(st.lists(st.text(alphabet, max_size=25), min_size=1, max_size=30))
    fields = tuple(Field(f"f{i}", t, nullable=True) for i, t in enumerate(TYPES))
    contract = RecordContract("id", "Europe/Berlin", (Field("id", "string"), *fields))
    path = tmp_path / "random.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *(fl.name for fl in fields)])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", *([cell] * len(fields))])
    _same_dataset(path, contract)


def test_parquet_native_types_match_records(tmp_path: Path) -> None:
    contract = RecordContract("id", "Asia/Shanghai", (
        Field("id", "integer"), Field("i", "integer", nullable=True), Field("x", "number", nullable=True),
        Field("b", "boolean", nullable=True), Field("d", "date", nullable=True), Field("t", "datetime", nullable=True),
        Field("u", "duration", nullable=True), Field("s", "string", nullable=True), Field("missing", "string", nullable=True)))
    frame = pl.DataFrame({
        "id": [1, 2, 3, 3, 5],
        "i": [1.0, 2.5, None, 4.0, float("nan")],
        "x": [1, 2, None, 4, 2**60],
        "b": [True, False, None, True, False],
        "d": [dt.datetime(2026, 1, 1, 23, 30), None, dt.datetime(2026, 3, 29, 2, 30), None, None],
        "t": [dt.datetime(2026, 1, 1, 23, 30, tzinfo=dt.timezone.utc), None, None, None, None],
        "u": [dt.timedelta(seconds=90), None, dt.timedelta(microseconds=5), None, None],
        "s": [1.5, 2.0, None, 1e16, 0.1],
    })
    path = tmp_path / "typed.parquet"
    frame.write_parquet(path)
    _same_dataset(path, contract)


def _datetime_cells(rnd: random.Random, n: int) -> list[str]:
    def digits(k: int) -> str:
        return "".join(rnd.choice("0123456789") for _ in range(k))

    out = []
    for _ in range(n):
        y = rnd.choice(["2026", "2024", "0000", "0001", "9999", digits(4)])
        mo = rnd.choice(["01", "02", "03", "10", "12", "13", "00", digits(2)])
        d = rnd.choice(["01", "28", "29", "30", "31", "25", digits(2)])
        h = rnd.choice(["00", "01", "02", "03", "23", "24", digits(2)])
        mi = rnd.choice(["00", "30", "59", "60", digits(2)])
        s = rnd.choice(["00", "59", "60", digits(2)])
        frac = rnd.choice(["", "", ".5", ".123456", ".1234567"])
        off = rnd.choice(["", "", "Z", "+08:00", "-01:30", "+23:59", "+24:00", "+0800", "z", "-23:00"])
        sep = rnd.choice(["T", "T", " ", "t"])
        shape = rnd.random()
        if shape < 0.1:
            out.append(f"{y}-{mo}-{d}")
        elif shape < 0.2:
            out.append(f"{y}-{mo}-{d}{sep}{h}:{mi}{off}")
        else:
            out.append(f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{off}")
    return out


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("fmt", [None, "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"])
def test_datetime_shapes_match_records(tmp_path: Path, zone: str, fmt: str | None) -> None:
    cells = _datetime_cells(random.Random(f"{zone}{fmt}"), 400)
    contract = RecordContract("id", zone, (Field("id", "string"), Field("a", "datetime", nullable=True, format=fmt),
                                           Field("b", "date", nullable=True, format=fmt)))
    path = tmp_path / "times.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "a", "b"])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", cell, cell])
    _same_dataset(path, contract)


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Shanghai", "+08:00"), ("Asia/Shanghai", "+09:00"),
                                              ("Europe/Berlin", "+01:00"), ("UTC", "Z"), ("Europe/Berlin", ""),
                                              ("America/New_York", "-05:00")])
@pytest.mark.parametrize("dirty_sample", [False, True], ids=["clean-sample", "dirty-sample"])
def test_datetime_fast_paths_chosen_by_the_sample(tmp_path: Path, zone: str, offset: str, dirty_sample: bool) -> None:
    """The first rows choose the expressions (one offset, the zone's own offset…), even with a few
    cells of other shapes among them; every cell of another shape must still be typed exactly."""
    rnd = random.Random(f"{zone}{offset}")
    start = dt.datetime(2026, 1, 1)
    usual = [(start + dt.timedelta(minutes=rnd.randrange(0, 60 * 24 * 365))).strftime("%Y-%m-%dT%H:%M:%S") + offset
             for _ in range(SAMPLE_ROWS + 50)]
    odd = ["2026-13-45 25:00", "2026-04-01 10:00", "2026-04-01T10:00:00+09:00", "01/04/2026", "2026-02-29T00:00:00"]
    first = odd if dirty_sample else []
    cells = first + usual + _datetime_cells(rnd, 300) + ["2031-06-01T00:00:00" + offset, "1999-03-28T02:30:00" + offset]
    contract = RecordContract("id", zone, (Field("id", "string"), Field("a", "datetime", nullable=True)))
    path = tmp_path / "times.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "a"])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", cell])
    _same_dataset(path, contract)


@pytest.mark.parametrize("dirty_sample", [False, True], ids=["clean-sample", "dirty-sample"])
def test_duration_fast_path_chosen_by_the_sample(tmp_path: Path, dirty_sample: bool) -> None:
    rnd = random.Random(3)
    usual = [rnd.choice([f"{rnd.randrange(100):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}",
                         f"{rnd.randrange(99):02d}:{rnd.randrange(60):02d}", str(rnd.randrange(5000)), "12.5"])
             for _ in range(SAMPLE_ROWS + 50)]
    odd = ["00:60:00", "99:59", "00:00:60", "1:2:3", "-00:01:00", " 60", "7e2"]
    cells = (odd if dirty_sample else []) + usual + TYPES["duration"] + odd
    contract = RecordContract("id", "UTC", (Field("id", "string"), Field("d", "duration", nullable=True, minimum=0)))
    path = tmp_path / "durations.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "d"])
        for i, cell in enumerate(cells):
            w.writerow([f"r{i}", cell])
    _same_dataset(path, contract)


# --------------------------------------------------------------------------- streaming


KEY_SETS = st.one_of(
    st.lists(st.integers(-5, 40), unique=True, max_size=12),  # dense: looked up by position
    st.lists(st.integers(-(2**40), 2**40), unique=True, max_size=6),  # sparse
    st.lists(st.text(max_size=4), unique=True, max_size=8),
    st.lists(st.floats(allow_nan=False, width=32), unique=True, max_size=6).map(
        lambda ks: list({k: None for k in ks})),  # unique as dict keys (0.0 == -0.0)
)


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data(), keys=KEY_SETS)
def test_lookup_is_a_dict_lookup(data: st.DataObject, keys: list[Any]) -> None:
    """lookup, the streaming stand-in for replace_strict, answers what a Python dict does."""
    values = data.draw(st.lists(st.one_of(st.none(), st.integers(-99, 99)), min_size=len(keys), max_size=len(keys)))
    pool = st.sampled_from(keys) if keys else st.nothing()
    kind = type(keys[0]) if keys else int
    other = {int: st.integers(-50, 50), str: st.text(max_size=4), float: st.floats(width=32)}[kind]
    column = data.draw(st.lists(st.one_of(st.none(), pool, other), max_size=30))
    dtype = {int: pl.Int64, str: pl.String, float: pl.Float64}[kind]
    frame = pl.DataFrame({"k": pl.Series(column, dtype=dtype)})
    got = frame.with_columns(lookup(pl.col("k"), keys, pl.Series(values, dtype=pl.Int64)).alias("v"))["v"].to_list()
    table = dict(zip(keys, values))
    assert got == [None if k is None else table.get(k) for k in column]


MAIN_QUERIES = [
    ("rules/cs-quality/2026Q2.yaml", "data/sample/interactions.csv", None),
    ("rules/cs-quality/2026Q2.yaml", "data/sample/interactions.csv", "Europe/Berlin"),  # zone hours looked up
    ("rules/qa-form/2026Q2.yaml", "data/sample/qa-inspections.csv", None),
]


@pytest.mark.parametrize(("scheme_path", "data_path", "zone"), MAIN_QUERIES)
def test_main_query_streams(scheme_path: str, data_path: str, zone: str | None) -> None:
    """No operation in the main pass makes Polars read the whole input into memory first.

    replace/replace_strict do (Polars 2.1): 100M rows then needed over 24 GiB.
    """
    import dataclasses

    from qualiscore.schemes import load_scheme

    root = Path(__file__).resolve().parents[1]
    scheme = load_scheme(root / scheme_path)
    if zone is not None:
        scheme = dataclasses.replace(scheme, records=dataclasses.replace(scheme.records, timezone=zone))
    executor = Executor(CompiledScheme(scheme.records, scheme, None), Inputs.of([str(root / data_path)], RunOptions()))
    inputs = prepare_inputs([root / data_path], None)
    for inp in inputs:
        executor._route(inp)
    plan = executor.main_query(inputs).explain(engine="streaming")
    assert "replace" not in plan
