"""Hand-computed golden cases for the reference engine, straight from notes/SEMANTICS.md.

Every expected number is worked out by hand in the comment next to it; the engine is
never asked what the answer is. Schemes are built from small YAML strings around a
minimal valid skeleton (``make_scheme``), records are typed by ``records_from_dicts``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qualiscore.engine import Run, evaluate
from qualiscore.errors import UsageError
from qualiscore.loader import load_text
from qualiscore.model import Scheme, compile_document
from qualiscore.records import read_records, records_from_dicts
from qualiscore.schemes import load_scheme
from qualiscore.scorecard import (
    STATUS_NA,
    STATUS_SCORED,
    IndicatorResult,
    Scorecard,
    rejects_csv,
    scorecard_dict,
    scorecards_csv,
)
from qualiscore.validation import iter_findings

# --------------------------------------------------------------------------- scheme builder

FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string"},
    "agent_id": {"type": "string"},
    "team": {"type": "string"},
    "channel": {"type": "string", "enum": ["chat", "phone", "email"]},
    "day": {"type": "date"},
    "kind": {"type": "string", "nullable": True},
    "x": {"type": "number", "nullable": True},
    "a": {"type": "number", "nullable": True},
    "b": {"type": "number", "nullable": True},
    "f1": {"type": "number", "nullable": True},
    "f2": {"type": "number", "nullable": True},
    "f3": {"type": "number", "nullable": True},
    "g1": {"type": "number", "nullable": True},
    "r": {"type": "integer", "minimum": 0, "maximum": 10, "nullable": True},
    "flag": {"type": "boolean", "nullable": True},
    "other": {"type": "boolean", "nullable": True},
    "text": {"type": "string", "nullable": True},
}

GRADES = """\
- {name: 优秀, min: 90}
- {name: 良好, min: 75}
- {name: 合格, min: 60}
- {name: 不合格, min: 0}
"""


def _block(key: str, text: str) -> str:
    body = textwrap.dedent(text).strip("\n")
    return f"{key}:\n" + textwrap.indent(body, "  ") + "\n"


def make_scheme(
    dimensions: str,
    *,
    fields: Mapping[str, Any] | None = None,
    group_by: Sequence[str] = ("agent_id",),
    period: Mapping[str, str] | None = None,
    vetoes: str = "",
    grades: str = GRADES,
    derive: Mapping[str, str] | None = None,
    constants: Mapping[str, Any] | None = None,
    calendar: Mapping[str, Any] | None = None,
    timezone: str | None = None,
    decimals: int | None = None,
) -> Scheme:
    """A minimal valid scheme around ``dimensions`` (a YAML list), validated and compiled."""
    head: dict[str, Any] = {
        "format": "qualiscore/v1",
        "scheme": "t",
        "version": "t",
        "effective_from": "2020-01-01",
    }
    if decimals is not None:
        head["rounding"] = {"decimals": decimals}
    if calendar is not None:
        head["calendar"] = dict(calendar)
    subject: dict[str, Any] = {}
    if group_by:
        subject["group_by"] = list(group_by)
    if period is not None:
        subject["period"] = dict(period)
    if subject:
        head["subject"] = subject
    records: dict[str, Any] = {"id": "id"}
    if timezone is not None:
        records["timezone"] = timezone
    records["fields"] = dict(fields or FIELDS)
    head["records"] = records
    if constants:
        head["constants"] = dict(constants)
    if derive:
        head["derive"] = dict(derive)
    text = yaml.safe_dump(head, allow_unicode=True, sort_keys=False)
    text += _block("dimensions", dimensions)
    if vetoes:
        text += _block("vetoes", vetoes)
    text += _block("grades", grades)
    doc = load_text(text, "t.yaml")
    errors = [f.format() for f in iter_findings(doc) if f.severity == "error"]
    assert not errors, "\n".join(errors) + "\n" + text
    return compile_document(doc)


def one_indicator(measure: str, scoring: str = "{bands: [{points: 100}]}", extra: str = "", **kw: Any) -> Scheme:
    """A scheme with one dimension holding one indicator ``i``."""
    return make_scheme(
        f"""
        - id: d
          weight: 1
          indicators:
            - {{id: i, weight: 1, measure: {measure}, scoring: {scoring}{extra}}}
        """,
        **kw,
    )


DEFAULTS = {"agent_id": "A1", "team": "T1", "channel": "chat", "day": "2026-04-10"}


def rec(id: str, **values: Any) -> dict[str, Any]:
    return {"id": id, **DEFAULTS, **values}


def run(scheme: Scheme, rows: Sequence[Mapping[str, Any]], **kw: Any) -> Run:
    dataset = records_from_dicts(rows, scheme.records)
    assert not dataset.problems, dataset.problems
    return evaluate(scheme, dataset, **kw)


def card_of(r: Run, subject: str) -> Scorecard:
    cards = {c.subject: c for c in r.scorecards}
    assert subject in cards, sorted(cards)
    return cards[subject]


def only_card(r: Run) -> Scorecard:
    assert len(r.scorecards) == 1, [c.subject for c in r.scorecards]
    return r.scorecards[0]


def ind(card: Scorecard, iid: str) -> IndicatorResult:
    return {i.id: i for i in card.indicators}[iid]


def same_value(actual: Any, expected: Any) -> bool:
    """Same kind of value; numbers equal to 1e-9 (the exact-precision rule has its own test)."""
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    return isinstance(actual, (int, float)) and not isinstance(actual, bool) and math.isclose(
        actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def check_weights(card: Scorecard) -> None:
    """Effective weights of counted indicators sum to 100, contributions to the score."""
    counted = [i for i in card.indicators if i.counted]
    assert math.isclose(math.fsum(i.effective_weight for i in counted), 100.0, abs_tol=1e-9)
    assert card.score is not None
    assert math.isclose(math.fsum(i.contribution for i in counted), card.score, abs_tol=1e-9)
    for i in card.indicators:
        if not i.counted:
            assert i.effective_weight == 0 and i.contribution == 0


# --------------------------------------------------------------------------- measures

# Six records of one agent. Nulls: r3 has x, flag, r, a null; r4 has b null.
#        x     flag   r     a     b     kind
# r1     10    T      10    1     2     p
# r2     20    F      9     2     3     p
# r3     None  None   None  None  5     q
# r4     0     T      6     3     None  q
# r5     40    T      3     4     5     p
# r6     30    F      7     1     0     q
MEASURE_ROWS = [
    rec("r1", x=10, flag=True, r=10, a=1, b=2, kind="p"),
    rec("r2", x=20, flag=False, r=9, a=2, b=3, kind="p"),
    rec("r3", x=None, flag=None, r=None, a=None, b=5, kind="q"),
    rec("r4", x=0, flag=True, r=6, a=3, b=None, kind="q"),
    rec("r5", x=40, flag=True, r=3, a=4, b=5, kind="p"),
    rec("r6", x=30, flag=False, r=7, a=1, b=0, kind="q"),
]
WHERE_P = "where: kind == 'p'"  # r1 r2 r5
WHERE_Q = "where: kind == 'q'"  # r3 r4 r6

# (case id, measure, value, sample, skipped or None when SEMANTICS does not define it)
MEASURE_CASES: list[tuple[str, str, Any, int, int | None]] = [
    # count: records where X is true; sample = measured records
    ("count-true", "{count: true}", 6, 6, None),  # every record: 6 of 6
    ("count-flag", "{count: flag}", 3, 6, None),  # flag true: r1 r4 r5 = 3; r3's null is not true
    # where flag: null is not true, so r3 is not measured: r1 r4 r5 measured, x > 15 only r5 → 1 of 3
    ("count-where", "{count: x > 15, where: flag}", 1, 3, None),
    ("count-where-q", f"{{count: flag, {WHERE_Q}}}", 1, 3, None),  # r3 null, r4 T, r6 F → 1 of 3
    # sum/mean/median/percentile/min/max over non-null x: 10 20 0 40 30 (r3 skipped)
    ("sum", "{sum: x}", 100, 5, 1),  # 10+20+0+40+30 = 100
    ("sum-where", f"{{sum: x, {WHERE_Q}}}", 30, 2, 1),  # r4 0 + r6 30 = 30; r3 null skipped
    ("mean", "{mean: x}", 20, 5, 1),  # 100 / 5 = 20 (the zero counts in n)
    ("mean-where", f"{{mean: x, {WHERE_Q}}}", 15, 2, 1),  # (0 + 30) / 2 = 15
    ("median", "{median: x}", 20, 5, 1),  # sorted 0 10 20 30 40 → middle 20
    ("median-where", f"{{median: x, {WHERE_Q}}}", 15, 2, 1),  # sorted 0 30 → (0 + 30) / 2 = 15
    # p90, linear: rank = (n − 1) × 0.9
    ("p90", "{percentile: x, p: 90}", 36, 5, 1),  # rank 3.6 → 30 + 0.6 × (40 − 30) = 36
    ("p90-where", f"{{percentile: x, p: 90, {WHERE_Q}}}", 27, 2, 1),  # rank 0.9 → 0 + 0.9 × 30 = 27
    ("p90-where-p", f"{{percentile: x, p: 90, {WHERE_P}}}", 36, 3, 0),  # 10 20 40, rank 1.8 → 20 + 0.8 × 20
    ("p0", "{percentile: x, p: 0}", 0, 5, 1),  # rank 0 → the smallest
    ("p10", "{percentile: x, p: 10}", 4, 5, 1),  # rank 0.4 → 0 + 0.4 × (10 − 0) = 4
    ("p25", "{percentile: x, p: 25}", 10, 5, 1),  # rank 1 → exactly the second value
    ("p100", "{percentile: x, p: 100}", 40, 5, 1),  # rank 4 → the largest
    ("p90-single", "{percentile: x, p: 90, where: kind == 'p' and x > 30}", 40, 1, 0),  # one value → itself
    ("min", "{min: x}", 0, 5, 1),  # r4's 0 is a value, not missing → min 0
    ("min-where", f"{{min: x, {WHERE_P}}}", 10, 3, 0),  # 10 20 40 → 10
    ("max", "{max: x}", 40, 5, 1),
    ("max-where", f"{{max: x, {WHERE_Q}}}", 30, 2, 1),  # 0 30 → 30
    # share: numerator = C true, denominator = C non-null
    ("share", "{share: flag}", 0.6, 5, 1),  # true r1 r4 r5 = 3; non-null 5 (r3 out) → 3/5
    ("share-where-p", f"{{share: flag, {WHERE_P}}}", 2 / 3, 3, 0),  # T F T → 2/3
    ("share-where-q", f"{{share: flag, {WHERE_Q}}}", 0.5, 2, 1),  # None T F → 1/2, r3 skipped
    # ratio: rows where both sides are non-null: r1 r2 r5 r6 (r3 a null, r4 b null)
    ("ratio", "{ratio: {numerator: a, denominator: b}}", 0.8, 4, 2),  # (1+2+4+1) / (2+3+5+0) = 8/10
    ("ratio-where", f"{{ratio: {{numerator: a, denominator: b}}, {WHERE_P}}}", 0.7, 3, 0),  # 7/10
    # where q: only r6 usable, and its denominator is 0 → sum(D) = 0 → not applicable
    ("ratio-zero-den", f"{{ratio: {{numerator: a, denominator: b}}, {WHERE_Q}}}", None, 1, 2),
    # nps over non-null r: 10 9 6 3 7 → promoters 2 (10, 9), detractors 2 (6, 3) → 0 (a value)
    ("nps", "{nps: r}", 0.0, 5, 1),
    ("nps-where-p", f"{{nps: r, {WHERE_P}}}", 100 / 3, 3, 0),  # 10 9 3 → 100 × (2 − 1) / 3
    ("nps-where-q", f"{{nps: r, {WHERE_Q}}}", -50.0, 2, 1),  # 6 7 → 100 × (0 − 1) / 2
    # any / all over non-null values
    ("any", "{any: x > 35}", True, 5, 1),  # r5 40 > 35
    ("any-where", f"{{any: x > 35, {WHERE_Q}}}", False, 2, 1),  # 0, 30 → False; r3 null skipped
    ("all", "{all: x >= 0}", True, 5, 1),  # every non-null x ≥ 0 (r3 skipped, not false)
    ("all-false", "{all: flag}", False, 5, 1),  # r2 false
    ("all-where", f"{{all: x >= 10, {WHERE_P}}}", True, 3, 0),  # 10 20 40
    # only nulls measured → no value → not applicable
    ("any-only-null", "{any: flag, where: flag is None}", None, 0, 1),  # r3 only, flag null
    ("mean-only-null", "{mean: x, where: x is None}", None, 0, 1),  # r3 only, x null
    ("max-nothing-measured", "{max: x, where: kind == 'z'}", None, 0, 0),  # no record measured
]


@pytest.mark.parametrize(("measure", "value", "sample", "skipped"),
                         [c[1:] for c in MEASURE_CASES], ids=[c[0] for c in MEASURE_CASES])
def test_measure(measure: str, value: Any, sample: int, skipped: int | None) -> None:
    card = only_card(run(one_indicator(measure), MEASURE_ROWS))
    i = ind(card, "i")
    assert same_value(i.value, value), (i.value, value)
    assert i.sample == sample
    if skipped is not None:
        assert i.skipped == skipped
    if value is None:
        assert i.status == STATUS_NA and i.points is None and not i.counted
        assert card.score is None
    else:
        assert i.status == STATUS_SCORED and i.points == 100 and i.counted


def test_share_numerator_and_denominator_exclude_nulls() -> None:
    # share: flag → numerator 3 (r1 r4 r5), denominator 5 (r3's null excluded), skipped 1
    i = ind(only_card(run(one_indicator("{share: flag}"), MEASURE_ROWS)), "i")
    assert (i.numerator, i.denominator, i.skipped) == (3, 5, 1)


def test_ratio_numerator_and_denominator_skip_half_null_rows() -> None:
    # used r1 r2 r5 r6: numerator 1+2+4+1 = 8, denominator 2+3+5+0 = 10
    i = ind(only_card(run(one_indicator("{ratio: {numerator: a, denominator: b}}"), MEASURE_ROWS)), "i")
    assert (i.numerator, i.denominator, i.sample, i.skipped) == (8, 10, 4, 2)


def test_ratio_zero_denominator_is_not_applicable_not_zero_points() -> None:
    # one row a=5, b=0: sum(D) = 0 → N/A; with a second indicator the score is that indicator's 100
    scheme = make_scheme("""
        - id: d
          weight: 1
          indicators:
            - {id: rt, weight: 3, measure: {ratio: {numerator: a, denominator: b}}, scoring: {linear: {from: 0, to: 1}}}
            - {id: c, weight: 1, measure: {count: true}, scoring: {bands: [{points: 100}]}}
        """)
    card = only_card(run(scheme, [rec("z1", a=5, b=0)]))
    assert ind(card, "rt").status == STATUS_NA and ind(card, "rt").value is None
    assert card.score == 100  # rt's weight 3 redistributed to c
    check_weights(card)


def test_zero_is_a_value_not_missing() -> None:
    # mean of x = 0, 0 → 0, applicable, linear 0→10 gives 0 points but the indicator counts;
    # with a second indicator at 100 points and equal weight the score is (0 + 100) / 2 = 50
    scheme = make_scheme("""
        - id: d
          weight: 1
          indicators:
            - {id: m, weight: 1, measure: {mean: x}, scoring: {linear: {from: 0, to: 10}}}
            - {id: s, weight: 1, measure: {share: flag}, scoring: {linear: {from: 0, to: 1}}}
        """)
    card = only_card(run(scheme, [rec("z1", x=0, flag=False), rec("z2", x=0, flag=True)]))
    m = ind(card, "m")
    assert (m.value, m.sample, m.skipped, m.status, m.points, m.counted) == (0, 2, 0, STATUS_SCORED, 0, True)
    # share: 1 of 2 → 0.5 → 50 points; score (0 + 50) / 2 = 25
    assert ind(card, "s").points == 50
    assert card.score == 25


def test_measured_values_keep_twelve_significant_digits() -> None:
    # Documented rule: a measured value is kept to 12 significant digits (so every row order and
    # engine gives the same bytes). 89.99999999999999 (the float just below 90) is 90.0000000000 to
    # 12 digits: pass {min: 90} → 100 points. 89.9999999 (9 digits) stays below 90 → 0 points.
    scheme = one_indicator("{value: x}", "{pass: {min: 90}}", group_by=())
    card = only_card(run(scheme, [rec("fp", x=89.99999999999999)]))
    i = ind(card, "i")
    assert (i.value, i.points, card.score) == (90.0, 100, 100)
    card = only_card(run(scheme, [rec("fp", x=89.9999999)]))
    i = ind(card, "i")
    assert (i.value, i.points, card.score) == (89.9999999, 0, 0)


def test_nps_inputs_count_promoters_passives_detractors() -> None:
    # r: 10 9 6 3 7 → promoters 2, passives 1 (7), detractors 2 (6 and 3)
    i = ind(only_card(run(one_indicator("{nps: r}"), MEASURE_ROWS)), "i")
    assert dict(i.inputs) == {"promoters": 2, "passives": 1, "detractors": 2}


# -- value, in a record-level scheme


def test_value_measure_in_record_level_scheme() -> None:
    # one scorecard per record, keyed by id; value x: 5 → 5, 0 → 0 (a value), null → not applicable
    scheme = one_indicator("{value: x}", "{linear: {from: 0, to: 10}}", group_by=())
    r = run(scheme, [rec("v1", x=5), rec("v2", x=0), rec("v3", x=None)])
    assert [c.subject for c in r.scorecards] == ["v1", "v2", "v3"]
    v1, v2, v3 = (ind(c, "i") for c in r.scorecards)
    assert (v1.value, v1.sample, v1.points) == (5, 1, 50)  # 5 / 10 → 50
    assert (v2.value, v2.sample, v2.points, v2.status) == (0, 1, 0, STATUS_SCORED)
    assert (v3.value, v3.sample, v3.skipped, v3.status) == (None, 0, 1, STATUS_NA)
    assert [c.score for c in r.scorecards] == [50, 0, None]
    assert dict(r.scorecards[0].keys) == {"id": "v1"}


def test_value_measure_with_where() -> None:
    # where flag: w1 (flag true) measured → 7 → 70 points; w2 (flag false) not measured → N/A
    scheme = one_indicator("{value: x, where: flag}", "{linear: {from: 0, to: 10}}", group_by=())
    r = run(scheme, [rec("w1", x=7, flag=True), rec("w2", x=7, flag=False)])
    w1, w2 = (ind(c, "i") for c in r.scorecards)
    assert (w1.value, w1.points) == (7, 70)
    assert (w2.value, w2.sample, w2.status) == (None, 0, STATUS_NA)


# --------------------------------------------------------------------------- scoring

# (case id, scoring, [(value of x, expected points)])  — record-level scheme, value: x
SCORING_CASES: list[tuple[str, str, list[tuple[Any, float]]]] = [
    ("bands-min", "{bands: [{min: 90, points: 100}, {min: 80, points: 85}, {min: 60, points: 60}, {points: 0}]}",
     [(95, 100), (90, 100), (89.99, 85), (80, 85), (60, 60), (59.9, 0)]),  # min is inclusive
    # lower is better: first band whose max the value does not exceed
    ("bands-max", "{bands: [{max: 2, points: 100}, {max: 5, points: 80}, {max: 10, points: 50}, {points: 0}]}",
     [(0, 100), (2, 100), (2.5, 80), (5, 80), (10, 50), (10.01, 0)]),
    # both bounds; 10 is in both bands → the first wins; 25 and −1 match no band → 0 points
    ("bands-both", "{bands: [{min: 0, max: 10, points: 100}, {min: 10, max: 20, points: 50}]}",
     [(0, 100), (10, 100), (15, 50), (20, 50), (25, 0), (-1, 0)]),
    ("bands-catch-all", "{bands: [{min: 50, points: 100}, {points: 20}]}", [(50, 100), (49, 20), (-5, 20)]),
    # points = clamp((x − 60) / (80 − 60), 0, 1) × 100
    ("linear-up", "{linear: {from: 60, to: 80}}",
     [(70, 50), (65, 25), (60, 0), (50, 0), (80, 100), (95, 100)]),
    # from > to: lower is better; points = clamp((x − 900) / (300 − 900), 0, 1) × 100
    ("linear-down", "{linear: {from: 900, to: 300}}",
     [(600, 50), (750, 25), (300, 100), (200, 100), (900, 0), (1000, 0)]),
    ("pass-min", "{pass: {min: 0.9}}", [(0.9, 100), (1, 100), (0.89, 0)]),
    ("pass-max", "{pass: {max: 5}}", [(5, 100), (0, 100), (5.1, 0)]),
    ("pass-min-max", "{pass: {min: 1, max: 3}}", [(1, 100), (2, 100), (3, 100), (0.5, 0), (4, 0)]),
    ("pass-equals", "{pass: {equals: 3}}", [(3, 100), (3.0, 100), (4, 0)]),
    # the value's text: 4.0 → "4"; 2 is not listed → default 10
    ("map-default", "{map: {'5': 100, '4': 80, '3': 50}, default: 10}", [(5, 100), (4.0, 80), (3, 50), (2, 10)]),
    ("map-no-default", "{map: {'5': 100, '2.5': 40}}", [(5, 100), (2.5, 40), (1, 0)]),  # absent default → 0
]


@pytest.mark.parametrize(("scoring", "cases"), [c[1:] for c in SCORING_CASES], ids=[c[0] for c in SCORING_CASES])
def test_scoring(scoring: str, cases: list[tuple[Any, float]]) -> None:
    scheme = one_indicator("{value: x}", scoring, group_by=())
    rows = [rec(f"s{n:02d}", x=x) for n, (x, _) in enumerate(cases)]
    r = run(scheme, rows)
    got = [(ind(c, "i").value, ind(c, "i").points) for c in r.scorecards]
    assert got == [(x, pytest.approx(p, abs=1e-9)) for x, p in cases]


# (case id, scoring, [(flag, expected points)]) — booleans
BOOLEAN_SCORING_CASES: list[tuple[str, str, list[tuple[bool, float]]]] = [
    ("pass-equals-true", "{pass: {equals: true}}", [(True, 100), (False, 0)]),
    ("pass-equals-false", "{pass: {equals: false}}", [(True, 0), (False, 100)]),
    ("pass-min-bool", "{pass: {min: 1}}", [(True, 100), (False, 0)]),  # boolean counts as 1/0
    ("bands-bool", "{bands: [{min: 1, points: 100}, {points: 30}]}", [(True, 100), (False, 30)]),
    ("linear-bool", "{linear: {from: 0, to: 1}}", [(True, 100), (False, 0)]),
    ("map-bool-quoted", "{map: {'true': 100, 'false': 20}}", [(True, 100), (False, 20)]),
    ("map-bool-plain", "{map: {true: 90, false: 10}}", [(True, 90), (False, 10)]),  # keys read as text
    ("map-bool-default", "{map: {'true': 100}, default: 5}", [(True, 100), (False, 5)]),
]


@pytest.mark.parametrize(("scoring", "cases"), [c[1:] for c in BOOLEAN_SCORING_CASES],
                         ids=[c[0] for c in BOOLEAN_SCORING_CASES])
def test_scoring_boolean_values(scoring: str, cases: list[tuple[bool, float]]) -> None:
    scheme = one_indicator("{value: flag}", scoring, group_by=())
    r = run(scheme, [rec(f"b{n}", flag=f) for n, (f, _) in enumerate(cases)])
    assert [(ind(c, "i").value, ind(c, "i").points) for c in r.scorecards] == cases


def test_map_on_text_and_pass_equals_text() -> None:
    # kind 'p' → 100, 'q' → not listed → default 40; pass equals 'p' → 100 / 0
    s1 = one_indicator("{value: kind}", "{map: {p: 100}, default: 40}", group_by=())
    r1 = run(s1, [rec("k1", kind="p"), rec("k2", kind="q")])
    assert [ind(c, "i").points for c in r1.scorecards] == [100, 40]
    s2 = one_indicator("{value: kind}", "{pass: {equals: p}}", group_by=())
    r2 = run(s2, [rec("k1", kind="p"), rec("k2", kind="q")])
    assert [ind(c, "i").points for c in r2.scorecards] == [100, 0]


# --------------------------------------------------------------------------- min_sample


@pytest.mark.parametrize(("n", "applicable"), [(2, False), (3, True), (4, True)])
def test_min_sample(n: int, applicable: bool) -> None:
    # mean x with min_sample 3: sample 2 is below → N/A; 3 (exactly at) and 4 are applicable.
    # Nulls do not count toward the sample: one extra null row is always added.
    scheme = one_indicator("{mean: x}", "{linear: {from: 0, to: 10}}", extra=", min_sample: 3")
    rows = [rec(f"m{k}", x=5) for k in range(n)] + [rec("mnull", x=None)]
    i = ind(only_card(run(scheme, rows)), "i")
    assert i.sample == n and i.skipped == 1
    if applicable:
        assert (i.status, i.points) == (STATUS_SCORED, 50)  # mean 5 → 50
    else:
        assert i.status == STATUS_NA and i.points is None and "min_sample" in (i.reason or "")


# --------------------------------------------------------------------------- not applicable and weights

# D1 (weight 60): i1 w50 mean f1, i2 w30 mean f2, i3 w20 mean f3; D2 (weight 40): j1 w1 mean g1.
# linear 0 → 100, so points = the value.
def na_scheme(i2_rule: str = "redistribute", d1_rule: str = "redistribute") -> Scheme:
    return make_scheme(f"""
        - id: D1
          weight: 60
          when_not_applicable: {d1_rule}
          indicators:
            - {{id: i1, weight: 50, measure: {{mean: f1}}, scoring: {{linear: {{from: 0, to: 100}}}}}}
            - {{id: i2, weight: 30, measure: {{mean: f2}}, scoring: {{linear: {{from: 0, to: 100}}}},
                when_not_applicable: {i2_rule}}}
            - {{id: i3, weight: 20, measure: {{mean: f3}}, scoring: {{linear: {{from: 0, to: 100}}}}}}
        - id: D2
          weight: 40
          indicators:
            - {{id: j1, weight: 1, measure: {{mean: g1}}, scoring: {{linear: {{from: 0, to: 100}}}}}}
        """)


# i2 not applicable (f2 null); i1 80, i3 40, j1 100.
# (rule, D1 score, total, {indicator: (effective weight, contribution)})
INDICATOR_NA_CASES = [
    # redistribute: D1 = (80×50 + 40×20) / 70 = 4800/70 = 68.571428…
    # total = (68.5714×60 + 100×40) / 100 = 41.142857 + 40 = 81.142857…
    # eff i1 = 60 × 50/70 = 42.857142…, i3 = 60 × 20/70 = 17.142857…, j1 = 40
    # contributions 80×0.428571 = 34.285714, 40×0.171428 = 6.857142, 100×0.4 = 40 → 81.142857
    ("redistribute", 4800 / 70, 0.6 * 4800 / 70 + 40,
     {"i1": (300 / 7, 240 / 7), "i2": (0, 0), "i3": (120 / 7, 48 / 7), "j1": (40, 40)}),
    # zero: D1 = (4000 + 0 + 800) / 100 = 48; total = 48×0.6 + 40 = 68.8
    # eff i1 30, i2 18, i3 12, j1 40; contributions 24, 0, 4.8, 40
    ("zero", 48, 68.8, {"i1": (30, 24), "i2": (18, 0), "i3": (12, 4.8), "j1": (40, 40)}),
    # full: D1 = (4000 + 3000 + 800) / 100 = 78; total = 46.8 + 40 = 86.8
    ("full", 78, 86.8, {"i1": (30, 24), "i2": (18, 18), "i3": (12, 4.8), "j1": (40, 40)}),
]


@pytest.mark.parametrize(("rule", "d1", "total", "expected"), INDICATOR_NA_CASES, ids=[c[0] for c in INDICATOR_NA_CASES])
def test_indicator_not_applicable_rules(rule: str, d1: float, total: float,
                                        expected: dict[str, tuple[float, float]]) -> None:
    card = only_card(run(na_scheme(i2_rule=rule), [rec("n1", f1=80, f2=None, f3=40, g1=100)]))
    dims = {d.id: d for d in card.dimensions}
    assert dims["D1"].score == pytest.approx(d1, abs=1e-9)
    assert dims["D1"].effective_weight == pytest.approx(60)
    assert card.score == pytest.approx(total, abs=1e-9)
    for iid, (eff, contribution) in expected.items():
        i = ind(card, iid)
        assert i.effective_weight == pytest.approx(eff, abs=1e-9), iid
        assert i.contribution == pytest.approx(contribution, abs=1e-9), iid
    i2 = ind(card, "i2")
    assert i2.status == STATUS_NA and i2.points is None
    assert i2.counted is (rule != "redistribute")
    assert i2.counted_points == {"redistribute": None, "zero": 0, "full": 100}[rule]
    check_weights(card)


# D1 entirely not applicable (f1 f2 f3 null, all redistribute); j1 = 70.
DIMENSION_NA_CASES = [
    # redistribute: only D2 counts → total 70, D2 effective 100, D1 effective 0
    ("redistribute", 70, {"D1": (False, None, 0), "D2": (True, 70, 100)},
     {"i1": (0, 0), "i2": (0, 0), "i3": (0, 0), "j1": (100, 70)}),
    # zero: D1 counts with 0: total = (0×60 + 70×40) / 100 = 28; D1's indicators keep its 60 (30/18/12)
    ("zero", 28, {"D1": (True, 0, 60), "D2": (True, 70, 40)},
     {"i1": (30, 0), "i2": (18, 0), "i3": (12, 0), "j1": (40, 28)}),
    # full: D1 counts with 100: total = 60 + 28 = 88; contributions 30 + 18 + 12 + 28 = 88
    ("full", 88, {"D1": (True, 100, 60), "D2": (True, 70, 40)},
     {"i1": (30, 30), "i2": (18, 18), "i3": (12, 12), "j1": (40, 28)}),
]


@pytest.mark.parametrize(("rule", "total", "dims", "inds"), DIMENSION_NA_CASES, ids=[c[0] for c in DIMENSION_NA_CASES])
def test_dimension_not_applicable_rules(rule: str, total: float, dims: dict[str, tuple[bool, float | None, float]],
                                        inds: dict[str, tuple[float, float]]) -> None:
    card = only_card(run(na_scheme(d1_rule=rule), [rec("n1", f1=None, f2=None, f3=None, g1=70)]))
    assert card.score == pytest.approx(total, abs=1e-9)
    by_id = {d.id: d for d in card.dimensions}
    for did, (counted, score, eff) in dims.items():
        d = by_id[did]
        assert d.counted is counted, did
        assert (d.score is None) if score is None else d.score == pytest.approx(score), did
        assert d.effective_weight == pytest.approx(eff), did
    assert by_id["D1"].status == STATUS_NA
    for iid, (eff, contribution) in inds.items():
        assert ind(card, iid).effective_weight == pytest.approx(eff, abs=1e-9), iid
        assert ind(card, iid).contribution == pytest.approx(contribution, abs=1e-9), iid
    check_weights(card)
    # per dimension: its counted indicators' effective weights add up to its own
    for d in card.dimensions:
        assert math.fsum(i.effective_weight for i in d.indicators if i.counted) == pytest.approx(d.effective_weight)


def test_nothing_applicable_gives_no_score_no_grade_and_a_note() -> None:
    card = only_card(run(na_scheme(), [rec("n1")]))  # every f/g null
    assert card.score is None and card.grade is None and card.score_grade is None
    assert card.decided_by == "none"
    assert card.note
    assert all(not i.counted for i in card.indicators)
    out = scorecard_dict(card)
    assert out["score"] is None and out["grade"] is None and out["note"] == card.note
    csv_text = scorecards_csv([card], ["agent_id"], [])
    assert csv_text.splitlines()[1].split(",")[5] == ""  # score column is empty


# --------------------------------------------------------------------------- vetoes

# Score from one indicator: value mean x, points = x (linear 0→100).
VETO_DIMS = """
- id: d
  weight: 1
  indicators:
    - {id: i, weight: 1, measure: {mean: x}, scoring: {linear: {from: 0, to: 100}}}
"""


def veto_scheme(vetoes: str) -> Scheme:
    return make_scheme(VETO_DIMS, vetoes=vetoes)


def test_veto_grade_overrides_a_better_score_grade() -> None:
    # mean x = (90 + 100) / 2 = 95 → 优秀 by score; v1 triggers (v02 flag) → 合格; score unchanged
    scheme = veto_scheme("- {id: v1, when: {any: flag}, effect: {grade: 合格}, reason: 违规}")
    card = only_card(run(scheme, [rec("v01", x=90, flag=False), rec("v02", x=100, flag=True)]))
    assert card.score == 95
    assert card.score_grade == "优秀"
    assert card.grade == "合格"
    assert card.decided_by == "veto:v1"
    assert [(v.id, v.reason, v.evidence) for v in card.vetoes] == [("v1", "违规", ("v02",))]


def test_veto_grade_sets_the_grade_even_below_it() -> None:
    # SEMANTICS: effect {grade: G} sets the grade to G. Score 50 (不合格) with a 合格 veto → 合格.
    scheme = veto_scheme("- {id: v1, when: {any: flag}, effect: {grade: 合格}}")
    card = only_card(run(scheme, [rec("v01", x=50, flag=True)]))
    assert (card.score, card.score_grade, card.grade, card.decided_by) == (50, "不合格", "合格", "veto:v1")


def test_veto_not_triggered_leaves_grade_to_score() -> None:
    # flag all false or null → any is False → no trigger; count 0 → no trigger
    scheme = veto_scheme("""
        - {id: v1, when: {any: flag}, effect: {grade: 不合格}}
        - {id: v2, when: {count: flag}, effect: {cap: 合格}}
        """)
    card = only_card(run(scheme, [rec("v01", x=95, flag=False), rec("v02", x=95, flag=None)]))
    assert (card.grade, card.decided_by, card.vetoes) == ("优秀", "score", ())


def test_veto_not_applicable_never_triggers() -> None:
    # any over only nulls is N/A → never triggers
    scheme = veto_scheme("- {id: v1, when: {any: flag}, effect: {grade: 不合格}}")
    card = only_card(run(scheme, [rec("v01", x=95, flag=None)]))
    assert (card.grade, card.vetoes) == ("优秀", ())


@pytest.mark.parametrize(("x", "grade", "decided"), [
    (95, "良好", "veto:cap"),  # 优秀 capped to 良好
    (80, "良好", "score"),  # already 良好: the cap changes nothing
    (65, "合格", "score"),  # 合格 is below the cap: a cap only lowers
])
def test_veto_cap_only_lowers(x: float, grade: str, decided: str) -> None:
    scheme = veto_scheme("- {id: cap, when: {count: flag}, effect: {cap: 良好}}")
    card = only_card(run(scheme, [rec("c1", x=x, flag=True)]))
    assert card.score == x
    assert (card.grade, card.decided_by) == (grade, decided)
    assert [v.id for v in card.vetoes] == ["cap"]  # it triggered, whether or not it changed the grade


@pytest.mark.parametrize("order", ["mild-first", "severe-first"])
def test_two_grade_vetoes_lowest_wins(order: str) -> None:
    mild = "- {id: mild, when: {any: flag}, effect: {grade: 合格}}"
    severe = "- {id: severe, when: {any: other}, effect: {grade: 不合格}}"
    vetoes = f"{mild}\n{severe}" if order == "mild-first" else f"{severe}\n{mild}"
    card = only_card(run(veto_scheme(vetoes), [rec("t1", x=99, flag=True, other=True)]))
    assert card.score == 99
    assert (card.grade, card.decided_by) == ("不合格", "veto:severe")
    assert sorted(v.id for v in card.vetoes) == ["mild", "severe"]


def test_grade_veto_and_cap_together() -> None:
    # grade veto → 合格; cap 良好 does not raise it back
    scheme = veto_scheme("""
        - {id: g, when: {any: flag}, effect: {grade: 合格}}
        - {id: c, when: {any: flag}, effect: {cap: 良好}}
        """)
    card = only_card(run(scheme, [rec("t1", x=99, flag=True)]))
    assert (card.score, card.grade, card.decided_by) == (99, "合格", "veto:g")


@pytest.mark.parametrize(("flags", "triggered"), [
    ([False, False, None], False),  # share 0/2 = 0 → a zero number does not trigger
    ([False, True, None], True),  # share 1/2 = 0.5 → non-zero → triggers, evidence the true one
])
def test_veto_on_a_share_triggers_when_non_zero(flags: list[bool | None], triggered: bool) -> None:
    scheme = veto_scheme("- {id: v, when: {share: flag}, effect: {cap: 合格}}")
    card = only_card(run(scheme, [rec(f"s{k}", x=95, flag=f) for k, f in enumerate(flags)]))
    assert [(v.id, v.evidence) for v in card.vetoes] == ([("v", ("s1",))] if triggered else [])
    assert card.grade == ("合格" if triggered else "优秀")


def test_veto_evidence_is_sorted_ids_of_triggering_measured_records() -> None:
    # count flag where kind == 'p': measured e10 e2 e3 e5 (kind p); flag true among them: e10, e2, e5
    # e1 has flag true but kind q (not measured); e4 flag null. Sorted as text: e10 < e2 < e5.
    scheme = veto_scheme("- {id: v, when: {count: flag, where: kind == 'p'}, effect: {grade: 不合格}}")
    rows = [
        rec("e5", x=90, flag=True, kind="p"),
        rec("e3", x=90, flag=False, kind="p"),
        rec("e1", x=90, flag=True, kind="q"),
        rec("e10", x=90, flag=True, kind="p"),
        rec("e4", x=90, flag=None, kind="p"),
        rec("e2", x=90, flag=True, kind="p"),
    ]
    card = only_card(run(scheme, rows))
    assert card.vetoes[0].evidence == ("e10", "e2", "e5")
    assert scorecard_dict(card)["vetoes"][0]["evidence"] == ["e10", "e2", "e5"]
    assert card.score == 90 and card.score_grade == "优秀" and card.grade == "不合格"


# --------------------------------------------------------------------------- grades and rounding


def points_scheme(points: Sequence[float], decimals: int | None = None) -> Scheme:
    """One dimension of equally weighted indicators with fixed points (catch-all bands)."""
    lines = [f"    - {{id: p{k}, weight: 1, measure: {{count: true}}, scoring: {{bands: [{{points: {p!r}}}]}}}}"
             for k, p in enumerate(points)]
    return make_scheme("- id: d\n  weight: 1\n  indicators:\n" + "\n".join(lines), decimals=decimals)


@pytest.mark.parametrize(("points", "decimals", "grade"), [
    (90, None, "优秀"),  # exactly at a min → in that grade
    (89.99, None, "良好"),
    (75, None, "良好"),
    (74.99, None, "合格"),
    (60, None, "合格"),
    (0, None, "不合格"),
    (89.996, None, "优秀"),  # prints 90.00 → 优秀 (the grade is read from the printed score)
    (89.995, None, "优秀"),  # half-even: 89.995 → 90.00 (9 is odd, rounds up)
    (89.985, None, "良好"),  # half-even: 89.985 → 89.98
    (89.996, 3, "良好"),  # with 3 decimals it prints 89.996 → 良好
    (89.5, 0, "优秀"),  # 0 decimals: 89.5 → 90 (half-even, 9 odd → up)
    (74.5, 0, "合格"),  # 74.5 → 74 (4 even)
])
def test_grade_from_printed_score(points: float, decimals: int | None, grade: str) -> None:
    card = only_card(run(points_scheme([points], decimals), [rec("g1")]))
    assert card.score == points  # full precision kept
    assert card.grade == grade and card.score_grade == grade




@pytest.mark.parametrize(("weights", "points", "printed", "grade"), [
    # (80×1 + 99.99×1) / 2 = 179.99 / 2 = 89.995 exactly → half-even → 90.00 → 优秀
    pytest.param((1, 1), (80, 99.99), 90.00, "优秀", id="89.995-w1"),
    pytest.param((2, 2), (80, 99.99), 90.00, "优秀", id="89.995-w2"),
    # the same with weights 7/7: (80×7 + 99.99×7) / 14 = 89.995 → must still print 90.00 → 优秀
    pytest.param((7, 7), (80, 99.99), 90.00, "优秀", id="89.995-w7"),
    # (50×2 + 85.1×1 + 100×1) / 4 = 285.1 / 4 = 71.275 exactly → 71.28
    pytest.param((2, 1, 1), (50, 85.1, 100), 71.28, "合格", id="71.275-w211"),
    # the same with weights × 3: (300 + 255.3 + 300) / 12 = 71.275 → 71.28
    pytest.param((6, 3, 3), (50, 85.1, 100), 71.28, "合格", id="71.275-w633"),
])
def test_weights_are_relative_even_at_a_rounding_tie(weights: tuple[float, ...], points: tuple[float, ...],
                                                    printed: float, grade: str) -> None:
    lines = [f"    - {{id: p{k}, weight: {w}, measure: {{count: true}}, scoring: {{bands: [{{points: {p}}}]}}}}"
             for k, (w, p) in enumerate(zip(weights, points))]
    scheme = make_scheme("- id: d\n  weight: 1\n  indicators:\n" + "\n".join(lines))
    card = only_card(run(scheme, [rec("t1")]))
    out = scorecard_dict(card)
    assert (out["score"], out["dimensions"][0]["score"]) == (printed, printed)
    assert card.grade == grade


@pytest.mark.parametrize(("points", "printed"), [(0.125, 0.12), (0.135, 0.14), (0.145, 0.14), (66.665, 66.66)])
def test_half_even_rounding_at_output(points: float, printed: float) -> None:
    card = only_card(run(points_scheme([points]), [rec("h1")]))
    out = scorecard_dict(card)
    assert out["score"] == printed
    assert out["dimensions"][0]["score"] == printed
    ind_out = out["dimensions"][0]["indicators"][0]
    assert ind_out["points"] == printed and ind_out["contribution"] == printed
    assert card.score == points  # the scorecard itself keeps full precision


@pytest.mark.parametrize(("points", "score", "contributions"), [
    # three equal thirds of 100: 33.333… each → floors 33.33 ×3 = 99.99, one unit left → first gets 33.34
    ([100, 100, 100], 100, [33.34, 33.33, 33.33]),
    # 100, 100, 0: score 66.666… → 66.67; contributions 33.333…, 33.333…, 0 → 33.34 + 33.33 + 0
    ([100, 100, 0], 66.67, [33.34, 33.33, 0]),
    # 50, 50, 50 → score 50; 16.666… each → floors 16.66 ×3 = 49.98, two units left → 16.67 16.67 16.66
    ([50, 50, 50], 50, [16.67, 16.67, 16.66]),
])
def test_printed_contributions_add_up_to_printed_score(points: list[float], score: float,
                                                       contributions: list[float]) -> None:
    card = only_card(run(points_scheme(points), [rec("t1")]))
    out = scorecard_dict(card)
    assert out["score"] == score
    printed = [i["contribution"] for i in out["dimensions"][0]["indicators"]]
    assert printed == contributions
    total = sum((Decimal(repr(c)) for c in printed), Decimal(0))
    assert total == Decimal(repr(out["score"])).quantize(Decimal("0.01"))
    assert out["dimensions"][0]["contribution"] == out["score"]
    for i in out["dimensions"][0]["indicators"]:
        assert i["effective_weight"] == 33.3333  # effective weights print with decimals + 2


def test_printed_contributions_across_dimensions() -> None:
    # D1 (w1): 100; D2 (w1): 100; D3 (w1): 0 → total 66.666… → 66.67; dims print 33.34 / 33.33 / 0
    scheme = make_scheme("""
        - id: D1
          weight: 1
          indicators: [{id: a, weight: 1, measure: {count: true}, scoring: {bands: [{points: 100}]}}]
        - id: D2
          weight: 1
          indicators: [{id: b, weight: 1, measure: {count: true}, scoring: {bands: [{points: 100}]}}]
        - id: D3
          weight: 1
          indicators: [{id: c, weight: 1, measure: {count: true}, scoring: {bands: [{points: 0}]}}]
        """)
    out = scorecard_dict(only_card(run(scheme, [rec("t1")])))
    assert out["score"] == 66.67
    assert [d["contribution"] for d in out["dimensions"]] == [33.34, 33.33, 0]


# --------------------------------------------------------------------------- subjects and periods

COUNT_DIMS = """
- id: d
  weight: 1
  indicators:
    - {id: n, weight: 1, measure: {count: true}, scoring: {bands: [{points: 100}]}}
"""

PERIOD_CASES = [
    ("day", "2026-05-14", "2026-05-14"),
    ("week", "2026-05-14", "2026-W20"),  # Thursday of ISO week 20
    ("week", "2025-12-28", "2025-W52"),  # Sunday ending 2025's last week
    ("week", "2025-12-29", "2026-W01"),  # Monday: 2026's week 1 holds Thursday 2026-01-01
    ("week", "2026-12-31", "2026-W53"),  # 2026 starts on a Thursday → it has 53 ISO weeks
    ("week", "2027-01-03", "2026-W53"),  # Sunday of that week is still 2026-W53
    ("week", "2027-01-04", "2027-W01"),
    ("month", "2026-05-31", "2026-05"),
    ("month", "2026-06-01", "2026-06"),
    ("quarter", "2026-03-31", "2026-Q1"),
    ("quarter", "2026-04-01", "2026-Q2"),
    ("quarter", "2026-12-31", "2026-Q4"),
    ("year", "2026-12-31", "2026"),
    ("year", "2027-01-01", "2027"),
]


@pytest.mark.parametrize(("every", "day", "label"), PERIOD_CASES, ids=[f"{e}-{d}" for e, d, _ in PERIOD_CASES])
def test_period_labels(every: str, day: str, label: str) -> None:
    scheme = make_scheme(COUNT_DIMS, period={"field": "day", "every": every})
    card = only_card(run(scheme, [rec("p1", agent_id="A017", day=day)]))
    assert card.period == label
    assert card.subject == f"A017/{label}"


def test_records_split_by_period() -> None:
    # weekly: 2026-12-31 and 2027-01-03 share 2026-W53; 2027-01-04 opens 2027-W01
    scheme = make_scheme(COUNT_DIMS, period={"field": "day", "every": "week"})
    r = run(scheme, [rec("w1", day="2026-12-31"), rec("w2", day="2027-01-03"), rec("w3", day="2027-01-04")])
    assert [(c.subject, c.records) for c in r.scorecards] == [("A1/2026-W53", 2), ("A1/2027-W01", 1)]


TZ_FIELDS = {**FIELDS, "at": {"type": "datetime"}}


@pytest.mark.parametrize(("timezone", "at", "label"), [
    # 23:30 UTC on 31 March is 07:30 on 1 April in Shanghai
    ("Asia/Shanghai", "2026-03-31T23:30:00+00:00", "2026-04"),
    ("Asia/Shanghai", "2026-03-31T23:30:00Z", "2026-04"),
    # no offset: read as Shanghai time → still March
    ("Asia/Shanghai", "2026-03-31T23:30:00", "2026-03"),
    # default zone UTC: 07:30 +08:00 on 1 April is 23:30 UTC on 31 March
    (None, "2026-04-01T07:30:00+08:00", "2026-03"),
    (None, "2026-03-31T23:30:00", "2026-03"),
])
def test_period_cut_in_records_timezone(timezone: str | None, at: str, label: str) -> None:
    scheme = make_scheme(COUNT_DIMS, fields=TZ_FIELDS, period={"field": "at", "every": "month"}, timezone=timezone)
    card = only_card(run(scheme, [rec("z1", at=at)]))
    assert card.subject == f"A1/{label}"


def test_multi_key_group_by() -> None:
    # (agent_id, channel) per month → "A1/chat/2026-04"; sorted by keys then period
    scheme = make_scheme(COUNT_DIMS, group_by=("agent_id", "channel"), period={"field": "day", "every": "month"})
    rows = [
        rec("g1", agent_id="A1", channel="chat", day="2026-04-02"),
        rec("g2", agent_id="A1", channel="phone", day="2026-04-03"),
        rec("g3", agent_id="A1", channel="chat", day="2026-04-30"),
        rec("g4", agent_id="A2", channel="chat", day="2026-05-01"),
        rec("g5", agent_id="A1", channel="chat", day="2026-05-01"),
    ]
    r = run(scheme, rows)
    assert [(c.subject, c.records) for c in r.scorecards] == [
        ("A1/chat/2026-04", 2), ("A1/chat/2026-05", 1), ("A1/phone/2026-04", 1), ("A2/chat/2026-05", 1)]
    first = r.scorecards[0]
    assert dict(first.keys) == {"agent_id": "A1", "channel": "chat"}
    assert first.period == "2026-04"


def test_record_level_scheme_one_scorecard_per_record() -> None:
    scheme = one_indicator("{value: x}", "{linear: {from: 0, to: 10}}", group_by=())
    r = run(scheme, [rec("b2", x=1), rec("a9", x=2), rec("c1", x=3)])
    assert [(c.subject, dict(c.keys), c.records, c.score) for c in r.scorecards] == [
        ("a9", {"id": "a9"}, 1, 20), ("b2", {"id": "b2"}, 1, 10), ("c1", {"id": "c1"}, 1, 30)]


def test_by_team_regroups_pooled_records() -> None:
    # share ok, linear 0→1 (points = share × 100), per agent per month:
    #   A1: 1 record, ok → 1/1 → 100;  A2: 3 records, none ok → 0/3 → 0
    #   mean of the agents would be 50; pooled team T: 1/4 = 0.25 → 25
    scheme = make_scheme("""
        - id: d
          weight: 1
          indicators:
            - {id: ok, weight: 1, measure: {share: flag}, scoring: {linear: {from: 0, to: 1}}}
        """, period={"field": "day", "every": "month"})
    rows = [
        rec("t1", agent_id="A1", team="T", flag=True),
        rec("t2", agent_id="A2", team="T", flag=False),
        rec("t3", agent_id="A2", team="T", flag=False),
        rec("t4", agent_id="A2", team="T", flag=False),
    ]
    agents = run(scheme, rows)
    assert [(c.subject, c.score) for c in agents.scorecards] == [("A1/2026-04", 100), ("A2/2026-04", 0)]
    teams = run(scheme, rows, by=["team"])
    assert [(c.subject, c.records, c.score) for c in teams.scorecards] == [("T/2026-04", 4, 25)]
    assert dict(teams.scorecards[0].keys) == {"team": "T"}
    assert teams.group_by == ("team",)


def test_by_unknown_field_or_record_level_is_refused() -> None:
    scheme = make_scheme(COUNT_DIMS)
    dataset = records_from_dicts([rec("u1")], scheme.records)
    with pytest.raises(UsageError):
        evaluate(scheme, dataset, by=["no_such_field"])
    record_level = one_indicator("{value: x}", group_by=())
    with pytest.raises(UsageError):
        evaluate(record_level, records_from_dicts([rec("u1")], record_level.records), by=["team"])


# --------------------------------------------------------------------------- derive and null semantics

DERIVE = {
    "both": "flag and other",
    "either": "flag or other",
    "negated": "not flag",
    "x_or_zero": "coalesce(x, 0)",
    "ratio_ab": "a / b",
    "target": "targets[channel]",
    "on_time": "x <= targets[channel]",
    "deflected": "contains_any(text, forbidden)",
    "bdays": "business_days_between(day, due)",
    "late": "bdays > 2",
    "choice": "'big' if x > 10 else 'small'",
    "member": "kind in ['p', 'q']",
    "length": "len(text)",
    "rounded_x": "round(x, 1)",
}
DERIVE_FIELDS = {**FIELDS, "due": {"type": "date", "nullable": True}}
# one indicator per derived value, value measure (record-level), bands catch-all
DERIVE_DIMS = "- id: d\n  weight: 1\n  indicators:\n" + "\n".join(
    f"    - {{id: {name}, weight: 1, measure: {{value: {name}}}, scoring: {{bands: [{{points: 100}}]}}}}"
    for name in DERIVE
)


def derive_scheme() -> Scheme:
    return make_scheme(
        DERIVE_DIMS,
        group_by=(),
        fields=DERIVE_FIELDS,
        derive=DERIVE,
        constants={"targets": {"chat": 60, "phone": 30}, "forbidden": ["不清楚", "没办法"]},
        calendar={"holidays": [f"2026-05-0{d}" for d in range(1, 6)], "workdays": ["2026-05-09"]},
    )


# (record values, {derived name: expected value})
DERIVE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # Kleene: False and null = False; True and null = null; True or null = True; False or null = null
    ("false-and-null", {"flag": False, "other": None}, {"both": False, "either": None, "negated": True}),
    ("true-and-null", {"flag": True, "other": None}, {"both": None, "either": True, "negated": False}),
    ("null-null", {"flag": None, "other": None}, {"both": None, "either": None, "negated": None}),
    ("true-true", {"flag": True, "other": True}, {"both": True, "either": True}),
    ("null-and-false", {"flag": None, "other": False}, {"both": False, "either": None}),
    ("null-or-true", {"flag": None, "other": True}, {"both": None, "either": True}),
    # coalesce: the first non-null; zero is a value
    ("coalesce-null", {"x": None}, {"x_or_zero": 0}),
    ("coalesce-zero", {"x": 0}, {"x_or_zero": 0}),
    ("coalesce-value", {"x": 7.5}, {"x_or_zero": 7.5}),
    # x / 0 is null; null propagates through arithmetic
    ("div-zero", {"a": 3, "b": 0}, {"ratio_ab": None}),
    ("div-null", {"a": None, "b": 2}, {"ratio_ab": None}),
    ("div", {"a": 3, "b": 2}, {"ratio_ab": 1.5}),
    # constant map lookup; email is not in the map → null, and the comparison with null is null
    ("map-hit", {"channel": "chat", "x": 60}, {"target": 60, "on_time": True}),
    ("map-hit-late", {"channel": "phone", "x": 31}, {"target": 30, "on_time": False}),
    ("map-miss", {"channel": "email", "x": 10}, {"target": None, "on_time": None}),
    ("compare-null", {"channel": "chat", "x": None}, {"on_time": None}),
    # contains_any on forbidden phrases; a null text → null
    ("forbidden-hit", {"text": "这个我不清楚"}, {"deflected": True}),
    ("forbidden-miss", {"text": "您好，马上为您处理"}, {"deflected": False}),
    ("forbidden-null", {"text": None}, {"deflected": None}),
    # business days in [day, due): 2026-04-30 (Thu) to 2026-05-08 (Fri):
    #   Apr 30 ✓, May 1–5 holidays (Fri..Tue) ✗, May 6 ✓, May 7 ✓ → 3
    ("bdays-holiday", {"day": "2026-04-30", "due": "2026-05-08"}, {"bdays": 3, "late": True}),
    # to 2026-05-11 (Mon): + May 8 (Fri) ✓, May 9 (Sat, make-up workday) ✓, May 10 (Sun) ✗ → 5
    ("bdays-workday", {"day": "2026-04-30", "due": "2026-05-11"}, {"bdays": 5}),
    # 2026-05-06 (Wed) to 2026-05-08 (Fri): May 6, 7 → 2, not late (2 > 2 is false)
    ("bdays-short", {"day": "2026-05-06", "due": "2026-05-08"}, {"bdays": 2, "late": False}),
    ("bdays-null", {"day": "2026-05-06", "due": None}, {"bdays": None, "late": None}),
    # `a if c else b` with c null is null; `in`, functions and round propagate null; round is half-even
    ("if-null", {"x": None}, {"choice": None, "rounded_x": None}),
    ("if-true", {"x": 11}, {"choice": "big"}),
    ("if-false", {"x": 0}, {"choice": "small"}),
    ("in-null", {"kind": None, "text": None}, {"member": None, "length": None}),
    ("in", {"kind": "q", "text": "您好"}, {"member": True, "length": 2}),
    ("round-half-even", {"x": 0.25}, {"rounded_x": 0.2}),
    ("round-half-even-up", {"x": 0.75}, {"rounded_x": 0.8}),  # exact binary ties: .25 → .2, .75 → .8
]


@pytest.mark.parametrize(("values", "expected"), [c[1:] for c in DERIVE_CASES], ids=[c[0] for c in DERIVE_CASES])
def test_derived_values_null_semantics(values: dict[str, Any], expected: dict[str, Any]) -> None:
    card = only_card(run(derive_scheme(), [rec("d1", **values)]))
    for name, want in expected.items():
        i = ind(card, name)
        if isinstance(want, str):
            assert i.value == want, (name, i.value, want)
            continue  # text is not a number, so catch-all bands cannot score it
        assert same_value(i.value, want), (name, i.value, want)
        # a null derived value makes its indicator not applicable; any value (False, 0) is scored
        assert i.status == (STATUS_NA if want is None else STATUS_SCORED), name


def test_derived_null_is_skipped_by_share() -> None:
    # deflected over texts: "不清楚" → True, "好的" → False, null → null (skipped)
    # share not deflected: numerator 1 (the clean one), denominator 2 → 0.5; skipped 1
    scheme = make_scheme(
        """
        - id: d
          weight: 1
          indicators:
            - {id: clean, weight: 1, measure: {share: not deflected}, scoring: {linear: {from: 0, to: 1}}}
        """,
        derive={"deflected": "contains_any(text, forbidden)"},
        constants={"forbidden": ["不清楚"]},
    )
    i = ind(only_card(run(scheme, [rec("s1", text="我不清楚"), rec("s2", text="好的"), rec("s3", text=None)])),
            "clean")
    assert (i.value, i.numerator, i.denominator, i.skipped, i.points) == (0.5, 1, 2, 1, 50)


# --------------------------------------------------------------------------- a realistic scheme


def test_cs_quality_2026q2_mixed_month() -> None:
    """The Q2 scheme's own "mixed month" case, recomputed here from its hand arithmetic."""
    path = Path(__file__).resolve().parents[1] / "rules" / "cs-quality" / "2026Q2.yaml"
    scheme = load_scheme(path)
    case = next(t for t in scheme.tests if t.subject == "A001/2026-05")
    r = run(scheme, list(case.records or ()))
    card = card_of(r, "A001/2026-05")
    # total = (65.714×30 + 33×30 + 24×30 + 100×10) / 100 = 46.814… → 46.81 → 不合格
    out = scorecard_dict(card)
    assert out["score"] == 46.81 and card.grade == "不合格"
    assert {d["id"]: d["score"] for d in out["dimensions"]} == {
        "perception": 65.71, "process": 33, "outcome": 24, "support": 100}
    check_weights(card)


# --------------------------------------------------------------------------- a CSV export, end to end

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "engine"


def test_csv_export_end_to_end() -> None:
    """fixtures/engine/team.yaml over fixtures/engine/team-april.csv, read as a real export.

    Shanghai time; E01 at 23:30Z on 31 March is 07:30 on 1 April; E02 has no offset (Shanghai);
    E04's channel "wechat" is not in the enum → rejected; E05 at 20:00Z on 30 April is 04:00 on
    1 May; E03's empty duration cell is null; "10:00" is MM:SS = 600 s.
    fcr: share resolved, linear 0.5 → 1.0;  aht: mean handle time, linear 600 → 300;  weights 60 / 40.
    """
    scheme = load_scheme(FIXTURES / "team.yaml")
    dataset = read_records(FIXTURES / "team-april.csv", scheme.records)
    agents = evaluate(scheme, dataset)
    assert (agents.rows_read, agents.rows_rejected, agents.rows_scored) == (6, 1, 5)
    [problem] = agents.problems
    assert (problem.row, problem.record_id, problem.field, problem.value, problem.code) == (
        5, "E04", "channel", "wechat", "not-in-enum")
    assert rejects_csv(agents.problems).splitlines()[1].split(",")[1:6] == [
        "5", "E04", "channel", "wechat", "not-in-enum"]
    # A1/2026-04: E01 300 s resolved, E02 450 s not → fcr 1/2 = 0.5 → 0; aht 375 → (375−600)/(300−600) = 0.75 → 75
    #   total = (0×60 + 75×40) / 100 = 30 → 不合格; E02 is an unresolved phone call → cap veto, evidence E02
    # A2/2026-04: E03 (null duration) resolved, E06 240 s resolved → fcr 1.0 → 100; aht 240 (E03 skipped)
    #   → clamp(1.2) → 100; total 100 → 优秀
    # A2/2026-05: E05 600 s not resolved → fcr 0 → 0; aht 600 → 0; total 0 → 不合格
    summary = [(c.subject, c.records, c.score, c.grade, c.decided_by) for c in agents.scorecards]
    assert summary == [
        ("A1/2026-04", 2, 30, "不合格", "score"),
        ("A2/2026-04", 2, 100, "优秀", "score"),
        ("A2/2026-05", 1, 0, "不合格", "score"),
    ]
    a1, a2, _ = agents.scorecards
    assert [(v.id, v.evidence) for v in a1.vetoes] == [("phone_unresolved", ("E02",))]
    assert (ind(a2, "aht").value, ind(a2, "aht").sample, ind(a2, "aht").skipped) == (240, 1, 1)
    # by team, pooled: T/2026-04 = E01 E02 E03 E06 → fcr 3/4 = 0.75 → 50; aht (300+450+240)/3 = 330 → 90
    #   total = 50×0.6 + 90×0.4 = 66 → 合格 (the mean of the two agents would be 65); E02 caps at 合格: no change
    teams = evaluate(scheme, dataset, by=["team"])
    assert [(c.subject, c.records, c.score, c.grade) for c in teams.scorecards] == [
        ("T/2026-04", 4, 66, "合格"), ("T/2026-05", 1, 0, "不合格")]
