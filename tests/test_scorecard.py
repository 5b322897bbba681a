"""Output rules: half-even rounding, apportioned contributions, safe CSV cells, deterministic output."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualiscore.records import Problem
from qualiscore.scorecard import (
    STATUS_NA,
    STATUS_SCORED,
    DimensionResult,
    IndicatorResult,
    Scorecard,
    VetoResult,
    apportion,
    quantize,
    rejects_csv,
    rounded,
    safe_cell,
    scorecard_dict,
    scorecards_csv,
    scorecards_jsonl,
)

PROPERTY = settings(max_examples=100, deadline=None, database=None)

# --------------------------------------------------------------------------- quantize / rounded


@pytest.mark.parametrize(("x", "decimals", "expected"), [
    (0.125, 2, "0.12"),  # half-even: 2 is even, stays
    (0.135, 2, "0.14"),  # 3 is odd, rounds up
    (0.145, 2, "0.14"),
    (2.675, 2, "2.68"),  # the number as written (2.675), not its binary expansion (2.67499…)
    (1.005, 2, "1.00"),
    (2.5, 0, "2"),
    (3.5, 0, "4"),
    (-2.5, 0, "-2"),
    (89.996, 2, "90.00"),
    (66.66666666666667, 2, "66.67"),
    (100.0, 2, "100.00"),
    (0.0, 3, "0.000"),
    (1e-7, 2, "0.00"),
    (12.3456, 6, "12.345600"),
])
def test_quantize_half_even_of_the_written_number(x: float, decimals: int, expected: str) -> None:
    q = quantize(x, decimals)
    assert q == Decimal(expected) and str(q) == expected
    assert rounded(x, decimals) == float(expected)


def test_quantize_none() -> None:
    assert quantize(None, 2) is None
    assert rounded(None, 2) is None


@PROPERTY
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 6))
def test_quantize_is_within_half_a_unit(x: float, decimals: int) -> None:
    q = quantize(x, decimals)
    assert q is not None
    unit = Decimal(1).scaleb(-decimals)
    assert abs(q - Decimal(repr(x))) <= unit / 2
    assert q == Decimal(repr(x)).quantize(unit, rounding=ROUND_HALF_EVEN)
    assert -q.as_tuple().exponent == decimals  # type: ignore[operator]


# --------------------------------------------------------------------------- apportion


@pytest.mark.parametrize(("parts", "total", "expected"), [
    # three thirds of 100: floors 33.33 × 3 = 99.99; the one unit left goes to the first of equals
    ([100 / 3, 100 / 3, 100 / 3], "100.00", ["33.34", "33.33", "33.33"]),
    # largest remainders first: .008 and .005 get the two units left
    ([1.001, 2.008, 3.005], "6.01", ["1.00", "2.01", "3.00"]),
    ([1.001, 2.008, 3.005], "6.02", ["1.00", "2.01", "3.01"]),
    ([0.0, 50.0, 50.0], "100.00", ["0.00", "50.00", "50.00"]),
    ([], "0.00", []),
])
def test_apportion_examples(parts: list[float], total: str, expected: list[str]) -> None:
    out = apportion(parts, Decimal(total), 2)
    assert [str(p) for p in out] == expected
    assert sum(out, Decimal(0)) == Decimal(total)


@PROPERTY
@given(
    st.lists(st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False), min_size=1,
             max_size=8),
    st.integers(0, 4),
)
def test_apportion_sums_exactly_and_stays_within_one_unit(parts: list[float], decimals: int) -> None:
    unit = Decimal(1).scaleb(-decimals)
    exact = [Decimal(repr(p)) for p in parts]
    total = sum(exact, Decimal(0)).quantize(unit, rounding=ROUND_HALF_EVEN)
    out = apportion(parts, total, decimals)
    assert len(out) == len(parts)
    assert sum(out, Decimal(0)) == total
    for o, e in zip(out, exact):
        assert abs(o - e) < unit
        assert o == o.quantize(unit)


@PROPERTY
@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=8))
def test_apportion_of_a_float_total_still_adds_up(parts: list[float]) -> None:
    # the engine rounds a separately computed score (fsum of contributions), which may differ from the
    # exact decimal sum of the parts in its last bits; the printed parts must still add up to it
    total = quantize(math.fsum(parts), 2)
    assert total is not None
    out = apportion(parts, total, 2)
    assert sum(out, Decimal(0)) == total


# --------------------------------------------------------------------------- safe_cell


@pytest.mark.parametrize(("value", "expected"), [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("-", "'-"),
    # numbers, as values or as text, are not formulas
    (-5, "-5"),
    (-2.5, "-2.5"),
    ("-5", "-5"),
    ("-0.25", "-0.25"),
    ("+3", "+3"),
    ("1e-3", "1e-3"),
    # plain text and other values
    ("A001", "A001"),
    ("优秀", "优秀"),
    ("a=b", "a=b"),
    ("", ""),
    (None, ""),
    (True, "true"),
    (False, "false"),
    (0, "0"),
    (0.1, "0.1"),
    (float("nan"), ""),
    (float("inf"), ""),
])
def test_safe_cell(value: Any, expected: str) -> None:
    assert safe_cell(value) == expected


@PROPERTY
@given(st.text(max_size=20))
def test_safe_cell_never_starts_a_formula(text: str) -> None:
    cell = safe_cell(text)
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        float(cell)  # only a plain number may start with a sign
    assert cell in (text, "'" + text)


@PROPERTY
@given(st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False)))
def test_safe_cell_negative_numbers_not_quoted(x: float) -> None:
    cell = safe_cell(x)
    assert not cell.startswith("'")
    assert float(cell) == x


# --------------------------------------------------------------------------- scorecards by hand


def indicator(iid: str, value: Any, points: float | None, eff: float, *, counted: bool = True) -> IndicatorResult:
    return IndicatorResult(
        id=iid, name=iid, measure="mean", value=value, sample=1 if value is not None else 0, skipped=0,
        status=STATUS_SCORED if points is not None else STATUS_NA, points=points, counted=counted,
        counted_points=points if counted else None, weight=1.0, effective_weight=eff if counted else 0.0,
        contribution=(points or 0) * eff / 100 if counted else 0.0,
    )


def card(subject: str, agent: str, points: list[float | None], *, vetoes: tuple[VetoResult, ...] = (),
         grade: str | None = None) -> Scorecard:
    """A scorecard of one dimension of equally weighted indicators i0, i1, …"""
    n = sum(p is not None for p in points)
    inds = tuple(indicator(f"i{k}", p, p, 100 / n if n else 0, counted=p is not None) for k, p in enumerate(points))
    score = math.fsum(i.contribution for i in inds) if n else None
    dim = DimensionResult("d", "维度", score, 1.0, 100.0 if n else 0.0, STATUS_SCORED if n else STATUS_NA,
                          bool(n), inds)
    return Scorecard(
        subject=subject, keys={"agent_id": agent}, period="2026-04", scheme_id="s", scheme_version="v1",
        scheme_sha256="0" * 64, records=3, score=score, grade=grade, score_grade=grade,
        decided_by=f"veto:{vetoes[0].id}" if vetoes else ("score" if n else "none"),
        note=None if n else "no indicator is applicable, so there is no score",
        dimensions=(dim,), vetoes=vetoes,
    )


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_scorecards_csv_header_and_rows() -> None:
    veto = VetoResult("promise", "超权限承诺", "grade", "不合格", "reason", ("r1",))
    cards = [
        card("A1/2026-04", "A1", [100, 100, 0], vetoes=(veto,), grade="不合格"),
        card("A2/2026-04", "A2", [None, None, None]),
    ]
    cards[0] = dataclasses.replace(cards[0], stability=0.7125, uncertain=True, dimensions=(dataclasses.replace(
        cards[0].dimensions[0], indicators=(dataclasses.replace(cards[0].dimensions[0].indicators[0],
                                                                interval=(87.5, 100.0)),
                                            *cards[0].dimensions[0].indicators[1:])),))
    rows = parse_csv(scorecards_csv(cards, ["agent_id"], ["i0", "i1", "i2", "missing"]))
    assert rows[0] == ["subject", "agent_id", "period", "scheme_version", "records", "score", "grade", "decided_by",
                       "vetoes", "stability", "uncertain",
                       *(f"{i}.{part}" for i in ("i0", "i1", "i2", "missing") for part in ("value", "low", "high",
                                                                                          "points"))]
    assert len(rows) == 3
    assert all(len(r) == len(rows[0]) for r in rows)
    # score 66.666… printed with 2 decimals; points too
    assert rows[1][:11] == ["A1/2026-04", "A1", "2026-04", "v1", "3", "66.67", "不合格", "veto:promise", "promise",
                            "0.7125", "true"]
    assert rows[1][11:23] == ["100", "87.5", "100.0", "100.00", "100", "", "", "100.00", "0", "", "", "0.00"]
    assert rows[1][23:] == ["", "", "", ""]  # an indicator the card does not have
    # no score → empty score and grade, empty points, no stability
    assert rows[2][5:11] == ["", "", "none", "", "", "false"]
    assert rows[2][11:23] == [""] * 12


def test_scorecards_csv_quotes_formula_like_keys() -> None:
    text = scorecards_csv([card("=cmd()/2026-04", "=cmd()", [50])], ["agent_id"], ["i0"])
    rows = parse_csv(text)
    assert rows[1][0] == "'=cmd()/2026-04" and rows[1][1] == "'=cmd()"
    assert rows[1][5] == "50.00"


def test_scorecards_csv_fixed_decimals() -> None:
    c = card("A1/2026-04", "A1", [0.125])
    rows = parse_csv(scorecards_csv([c], ["agent_id"], ["i0"]))
    assert rows[1][5] == "0.12"  # half-even
    c3 = Scorecard(**{**{f: getattr(c, f) for f in c.__dataclass_fields__}, "decimals": 3})
    assert parse_csv(scorecards_csv([c3], ["agent_id"], ["i0"]))[1][5] == "0.125"


def test_rejects_csv() -> None:
    problems = [
        Problem("in.csv", 2, "r1", "channel", "wechat", "not-in-enum", "'wechat' is not one of chat, phone"),
        Problem("in.csv", 5, "=1+1", "csat", "=HYPERLINK(1)", "not-integer", "not an integer"),
        Problem("in.csv", 7, None, None, None, "ragged-row", "the row has 3 cells"),
    ]
    rows = parse_csv(rejects_csv(problems))
    assert rows[0] == ["source", "row", "record_id", "field", "value", "code", "reason"]
    assert rows[1] == ["in.csv", "2", "r1", "channel", "wechat", "not-in-enum", "'wechat' is not one of chat, phone"]
    assert rows[2][2] == "'=1+1" and rows[2][4] == "'=HYPERLINK(1)"
    assert rows[3] == ["in.csv", "7", "", "", "", "ragged-row", "the row has 3 cells"]
    assert rejects_csv([]) == "source,row,record_id,field,value,code,reason\n"


# --------------------------------------------------------------------------- JSON form


def test_scorecard_dict_contributions_add_up_and_round_half_even() -> None:
    out = scorecard_dict(card("A1/2026-04", "A1", [100, 100, 0]))
    assert out["score"] == 66.67
    contributions = [i["contribution"] for i in out["dimensions"][0]["indicators"]]
    assert contributions == [33.34, 33.33, 0]
    assert out["dimensions"][0]["contribution"] == 66.67
    assert [i["points"] for i in out["dimensions"][0]["indicators"]] == [100, 100, 0]


def test_scorecard_dict_not_counted_indicator_contributes_zero() -> None:
    out = scorecard_dict(card("A1/2026-04", "A1", [80, None]))
    i0, i1 = out["dimensions"][0]["indicators"]
    assert (i0["contribution"], i0["effective_weight"]) == (80, 100)
    assert (i1["contribution"], i1["effective_weight"], i1["points"], i1["counted"]) == (0, 0, None, False)


def test_scorecards_jsonl_is_deterministic() -> None:
    veto = VetoResult("v", "否决", "grade", "不合格", "理由", ("r2", "r9"))
    cards = [card("A1/2026-04", "A1", [100, 100, 0], vetoes=(veto,), grade="不合格"),
             card("A2/2026-04", "A2", [None])]
    a = scorecards_jsonl(cards)
    b = scorecards_jsonl([card("A1/2026-04", "A1", [100, 100, 0], vetoes=(veto,), grade="不合格"),
                          card("A2/2026-04", "A2", [None])])
    assert a == b
    lines = a.split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one line per card, newline-terminated
    for line in lines[:-1]:
        obj = json.loads(line)
        # sorted keys, compact separators, no ASCII escaping
        assert line == json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    first = json.loads(lines[0])
    assert first["grade"] == "不合格" and "不合格" in lines[0]
    assert first["vetoes"] == [{"id": "v", "name": "否决", "effect": "grade", "grade": "不合格", "reason": "理由",
                                "evidence": ["r2", "r9"]}]
    assert json.loads(lines[1])["score"] is None
    assert scorecards_jsonl([]) == ""


def test_scorecards_jsonl_non_finite_values_become_null() -> None:
    c = card("A1/2026-04", "A1", [50])
    ind = c.dimensions[0].indicators[0]
    bad = IndicatorResult(**{**{f: getattr(ind, f) for f in ind.__dataclass_fields__}, "value": float("nan")})
    dim = DimensionResult(**{**{f: getattr(c.dimensions[0], f) for f in DimensionResult.__dataclass_fields__},
                             "indicators": (bad,)})
    c2 = Scorecard(**{**{f: getattr(c, f) for f in Scorecard.__dataclass_fields__}, "dimensions": (dim,)})
    obj = json.loads(scorecards_jsonl([c2]))
    assert obj["dimensions"][0]["indicators"][0]["value"] is None
