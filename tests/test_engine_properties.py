"""Properties of the engine over random small datasets and one fixed, busy scheme.

The scheme has nullable fields, a derived value that can be null, indicators of most
measure kinds with every not-applicable rule, a dimension that falls back to zero,
a grade veto and a cap veto; a variant replaces them with vetoes on measured values.
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualiscore.engine import Run, evaluate
from qualiscore.loader import load_text
from qualiscore.model import Scheme, compile_document
from qualiscore.records import records_from_dicts
from qualiscore.scorecard import scorecard_dict, scorecards_csv, scorecards_jsonl
from qualiscore.validation import iter_findings

PROPERTY = settings(max_examples=100, deadline=None, database=None)

# Weights are template slots so that the scaling property can multiply them.
WEIGHTS = {
    "D1": 30, "D2": 50, "D3": 20,
    "sh": 50, "np": 30, "mn": 20,
    "rt": 2, "pc": 1, "ct": 1, "ft": 3,
    "an": 1, "mi": 2,
}
DIMENSIONS = {"D1": ("sh", "np", "mn"), "D2": ("rt", "pc", "ct", "ft"), "D3": ("an", "mi")}

SCHEME = """\
format: qualiscore/v1
scheme: props
version: p1
effective_from: 2026-01-01
subject:
  group_by: [agent_id]
  period: {{field: day, every: month}}
records:
  id: id
  fields:
    id: {{type: string}}
    agent_id: {{type: string}}
    team: {{type: string}}
    channel: {{type: string, enum: [chat, phone, email]}}
    day: {{type: date}}
    x: {{type: number, nullable: true, minimum: 0, maximum: 100}}
    flag: {{type: boolean, nullable: true}}
    r: {{type: integer, nullable: true, minimum: 0, maximum: 10}}
constants:
  targets: {{chat: 60, phone: 30}}
derive:
  fast: x <= targets[channel]
dimensions:
  - id: D1
    weight: {D1}
    indicators:
      - id: sh
        weight: {sh}
        measure: {{share: flag}}
        min_sample: 2
        scoring: {{bands: [{{min: 0.9, points: 100}}, {{min: 0.5, points: 60}}, {{points: 0}}]}}
      - id: np
        weight: {np}
        measure: {{nps: r}}
        when_not_applicable: zero
        scoring: {{linear: {{from: -20, to: 50}}}}
      - id: mn
        weight: {mn}
        measure: {{mean: x}}
        scoring: {{linear: {{from: 0, to: 100}}}}
  - id: D2
    weight: {D2}
    indicators:
      - id: rt
        weight: {rt}
        measure: {{ratio: {{numerator: x, denominator: r}}}}
        scoring: {{bands: [{{max: 5, points: 100}}, {{max: 20, points: 50}}, {{points: 10}}]}}
      - id: pc
        weight: {pc}
        measure: {{percentile: x, p: 90}}
        when_not_applicable: full
        scoring: {{linear: {{from: 100, to: 0}}}}
      - id: ct
        weight: {ct}
        measure: {{count: flag, where: channel == 'chat'}}
        scoring: {{bands: [{{max: 1, points: 100}}, {{points: 40}}]}}
      - id: ft
        weight: {ft}
        measure: {{share: fast}}
        scoring: {{pass: {{min: 0.5}}}}
  - id: D3
    weight: {D3}
    when_not_applicable: zero
    indicators:
      - id: an
        weight: {an}
        measure: {{any: flag}}
        scoring: {{map: {{'true': 100, 'false': 20}}}}
      - id: mi
        weight: {mi}
        measure: {{min: x, where: channel == 'email'}}
        scoring: {{pass: {{min: 10}}}}
vetoes:
  - {{id: big, when: {{any: x > 95}}, effect: {{grade: 不合格}}, reason: too big}}
  - {{id: zero_r, when: {{count: r == 0}}, effect: {{cap: 合格}}}}
grades:
  - {{name: 优秀, min: 90}}
  - {{name: 良好, min: 75}}
  - {{name: 合格, min: 60}}
  - {{name: 不合格, min: 0}}
"""

INDICATOR_IDS = [i for ids in DIMENSIONS.values() for i in ids]


VETOES = SCHEME[SCHEME.index("vetoes:"):SCHEME.index("grades:")]
# Vetoes on measured values: an indicator's (with its min_sample 2), and a measure the same as mn's.
THRESHOLD_VETOES = """vetoes:
  - {{id: low_sh, indicator: sh, below: 0.5, effect: {{cap: 合格}}}}
  - {{id: high_x, when: {{mean: x}}, at_least: 50, effect: {{grade: 不合格}}}}
"""


@functools.lru_cache(maxsize=64)
def build(weights: tuple[tuple[str, float], ...], vetoes: bool | str = True, redistribute_all: bool = False) -> Scheme:
    """The scheme with these weights; optionally without vetoes or with others (their text), or with every
    not-applicable rule redistribute."""
    text = SCHEME if vetoes is True else SCHEME.replace(VETOES, vetoes or "")
    if redistribute_all:
        text = "\n".join(line for line in text.split("\n") if "when_not_applicable" not in line)
    doc = load_text(text.format(**dict(weights)), "p1.yaml")
    errors = [f.format() for f in iter_findings(doc) if f.severity == "error"]
    assert not errors, errors
    return compile_document(doc)


BASE = build(tuple(WEIGHTS.items()))
NO_VETOES = build(tuple(WEIGHTS.items()), vetoes=False)
THRESHOLDS = build(tuple(WEIGHTS.items()), vetoes=THRESHOLD_VETOES)
# nothing falls back to zero or full points here, so a subject can end with no score at all
ALL_REDISTRIBUTE = build(tuple(WEIGHTS.items()), redistribute_all=True)

# --------------------------------------------------------------------------- data

DAYS = ["2026-04-01", "2026-04-15", "2026-04-30", "2026-05-01", "2026-05-20"]
xs = st.one_of(st.none(), st.integers(0, 100), st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)))
row_values = st.fixed_dictionaries({
    "agent_id": st.sampled_from(["A1", "A2", "A3"]),
    "team": st.sampled_from(["T1", "T2"]),
    "channel": st.sampled_from(["chat", "phone", "email"]),
    "day": st.sampled_from(DAYS),
    "x": xs,
    "flag": st.one_of(st.none(), st.booleans()),
    "r": st.one_of(st.none(), st.integers(0, 10)),
})
datasets = st.lists(row_values, min_size=0, max_size=14).map(
    lambda rows: [{"id": f"r{k:02d}", **row} for k, row in enumerate(rows)])

# rows that break the contract; each has a fresh id, so no duplicate-id check touches the others
BAD_ROWS = [
    {"channel": "wechat"},  # not in the enum
    {"r": 11},  # above maximum
    {"x": -1},  # below minimum
    {"flag": "maybe"},  # not a boolean
    {"day": "2026-02-30"},  # not a date
    {"agent_id": None},  # null in a required field
]


def evaluate_rows(scheme: Scheme, rows: Sequence[Mapping[str, Any]], **kw: Any) -> Run:
    return evaluate(scheme, records_from_dicts(rows, scheme.records), **kw)


def outputs(r: Run) -> tuple[str, str]:
    return scorecards_jsonl(r.scorecards), scorecards_csv(r.scorecards, r.group_by, INDICATOR_IDS)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("variant", ["base", "all-redistribute"])
@PROPERTY
@given(datasets)
def test_scores_weights_and_contributions_add_up(variant: str, rows: list[dict[str, Any]]) -> None:
    r = evaluate_rows(BASE if variant == "base" else ALL_REDISTRIBUTE, rows)
    assert sum(c.records for c in r.scorecards) == len(rows)
    for card in r.scorecards:
        if card.score is None:
            assert card.grade is None or card.decided_by.startswith("veto:")
            assert card.note
            assert all(not i.counted for i in card.indicators)
            continue
        assert 0 <= card.score <= 100 + 1e-9
        counted = [i for i in card.indicators if i.counted]
        assert math.isclose(math.fsum(i.effective_weight for i in counted), 100, abs_tol=1e-9)
        assert math.isclose(math.fsum(i.contribution for i in counted), card.score, abs_tol=1e-9)
        dims_eff = 0.0
        for d in card.dimensions:
            inner = math.fsum(i.effective_weight for i in d.indicators if i.counted)
            assert math.isclose(inner, d.effective_weight, abs_tol=1e-9)
            assert d.counted == any(i.counted for i in d.indicators)
            if d.counted:
                assert d.score is not None and 0 <= d.score <= 100 + 1e-9
                dims_eff += d.effective_weight
            else:
                assert d.effective_weight == 0
        assert math.isclose(dims_eff, 100, abs_tol=1e-9)
        for i in card.indicators:
            if i.points is not None:
                assert 0 <= i.points <= 100
        # printed contributions add up exactly to the printed score
        out = scorecard_dict(card)
        printed = sum(round(i["contribution"] * 10**4) for d in out["dimensions"] for i in d["indicators"])
        assert printed == round(out["score"] * 10**4)
        assert card.score_grade is not None


@PROPERTY
@given(datasets)
def test_vetoes_change_the_grade_never_the_score(rows: list[dict[str, Any]]) -> None:
    with_vetoes = evaluate_rows(BASE, rows).scorecards
    without = evaluate_rows(NO_VETOES, rows).scorecards
    assert [c.subject for c in with_vetoes] == [c.subject for c in without]
    rank = {g.name: k for k, g in enumerate(BASE.grades)}
    for a, b in zip(with_vetoes, without):
        assert a.score == b.score and a.score_grade == b.score_grade == b.grade
        assert b.vetoes == () and b.decided_by == "score"
        triggered = {v.id for v in a.vetoes}
        if not triggered:
            assert (a.grade, a.decided_by) == (b.grade, "score")
            continue
        for v in a.vetoes:
            assert v.evidence and list(v.evidence) == sorted(v.evidence)
        if "big" in triggered:  # grade veto: 不合格, whatever the score
            assert (a.grade, a.decided_by) == ("不合格", "veto:big")
        else:  # cap 合格: only lowers
            assert rank[a.grade] == max(rank[b.grade], rank["合格"])
            assert a.decided_by == ("veto:zero_r" if rank[b.grade] < rank["合格"] else "score")


@PROPERTY
@given(datasets)
def test_a_threshold_veto_triggers_when_the_value_on_the_card_passes_it(rows: list[dict[str, Any]]) -> None:
    with_vetoes = evaluate_rows(THRESHOLDS, rows).scorecards
    without = evaluate_rows(NO_VETOES, rows).scorecards
    rank = {g.name: k for k, g in enumerate(THRESHOLDS.grades)}
    for a, b in zip(with_vetoes, without, strict=True):
        assert a.score == b.score and a.score_grade == b.score_grade
        by_id = {i.id: i for i in a.indicators}
        sh, mn = by_id["sh"], by_id["mn"]  # applicable exactly when scored (sh: min_sample 2)
        expected = {"low_sh"} if sh.status == "scored" and sh.value < 0.5 else set()
        if mn.status == "scored" and mn.value >= 50:
            expected.add("high_x")
        assert {v.id for v in a.vetoes} == expected
        for v in a.vetoes:
            assert v.evidence == () and v.measured is not None
            assert v.measured.value == (sh if v.id == "low_sh" else mn).value
        if "high_x" in expected:
            assert (a.grade, a.decided_by) == ("不合格", "veto:high_x")
        elif expected:
            assert rank[a.grade] == max(rank[b.grade], rank["合格"])
        else:
            assert (a.grade, a.decided_by) == (b.grade, b.decided_by)


@PROPERTY
@given(datasets, st.randoms(use_true_random=False))
def test_row_order_does_not_change_output(rows: list[dict[str, Any]], rnd: random.Random) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert outputs(evaluate_rows(BASE, rows)) == outputs(evaluate_rows(BASE, shuffled))
    assert outputs(evaluate_rows(BASE, rows, by=["team"])) == outputs(evaluate_rows(BASE, shuffled, by=["team"]))


def _comparable(card_json: dict[str, Any]) -> dict[str, Any]:
    """The rounded output without what legitimately changes with the weights: raw weights and the scheme hash."""
    out = json.loads(json.dumps(card_json))
    del out["scheme"]
    for d in out["dimensions"]:
        del d["weight"]
        for i in d["indicators"]:
            del i["weight"]
    return out


def _scaled_output_is_unchanged(rows: list[dict[str, Any]], group: str, factor: float) -> None:
    names = list(DIMENSIONS) if group == "dimensions" else list(DIMENSIONS[group])
    weights = {k: (v * factor if k in names else v) for k, v in WEIGHTS.items()}
    scaled = build(tuple(weights.items()))
    before = [_comparable(scorecard_dict(c)) for c in evaluate_rows(BASE, rows).scorecards]
    after = [_comparable(scorecard_dict(c)) for c in evaluate_rows(scaled, rows).scorecards]
    assert before == after


GROUPS = st.sampled_from(["D1", "D2", "D3", "dimensions"])


@PROPERTY
@given(datasets, GROUPS, st.sampled_from([2, 0.5, 4, 0.25, 1024]))
def test_scaling_sibling_weights_by_a_power_of_two_changes_nothing(rows: list[dict[str, Any]], group: str,
                                                                   factor: float) -> None:
    # Scaling by a power of two is exact in binary floating point, so any difference is a logic error.
    _scaled_output_is_unchanged(rows, group, factor)


# Two e-mail records: rt = 15/1 → 50 points (w2), pc = p90 of [14, 15] = 14.9 → 85.1 points (w1),
# ct: one chat record, flag null → count 0 → 100 points (w1); ft not applicable (no e-mail target). D2 = (2×50 + 85.1 + 100) / 4 = 71.275 exactly → 71.28.
# With D2's weights × 3 the engine computes 855.3/12 in binary as 71.27499999999999 and prints 71.27.
TIE = [
    {"id": "t0", "agent_id": "A3", "team": "T1", "channel": "chat", "day": "2026-04-01", "x": None, "flag": None,
     "r": None},
    {"id": "t1", "agent_id": "A3", "team": "T1", "channel": "email", "day": "2026-04-01", "x": 14, "flag": None,
     "r": None},
    {"id": "t2", "agent_id": "A3", "team": "T1", "channel": "email", "day": "2026-04-01", "x": 15, "flag": None,
     "r": 1},
]


@PROPERTY
@example(TIE, "D2", 3)
@given(datasets, GROUPS, st.sampled_from([3, 7.5, 10, 1000]))
def test_scaling_sibling_weights_by_any_factor_changes_nothing(rows: list[dict[str, Any]], group: str,
                                                               factor: float) -> None:
    _scaled_output_is_unchanged(rows, group, factor)


@PROPERTY
@given(datasets, st.sampled_from(BAD_ROWS), row_values)
def test_a_rejected_row_changes_no_scorecard(rows: list[dict[str, Any]], bad: dict[str, Any],
                                             base: dict[str, Any]) -> None:
    bad_row = {"id": "zz-rejected", **base, **bad}
    clean = evaluate_rows(BASE, rows)
    dirty = evaluate_rows(BASE, [*rows, bad_row])
    assert outputs(dirty) == outputs(clean)
    assert dirty.rows_rejected == 1 and clean.rows_rejected == 0
    assert {p.record_id for p in dirty.problems} == {"zz-rejected"}


@PROPERTY
@given(datasets, st.lists(st.sampled_from(BAD_ROWS), max_size=3))
def test_rows_read_equals_scored_plus_rejected(rows: list[dict[str, Any]], bad: list[dict[str, Any]]) -> None:
    extra = [{"id": f"bad{k}", "agent_id": "A1", "team": "T1", "channel": "chat", "day": "2026-04-01", **b}
             for k, b in enumerate(bad)]
    r = evaluate_rows(BASE, [*rows, *extra])
    assert r.rows_read == len(rows) + len(extra)
    assert r.rows_rejected == len(extra)
    assert r.rows_read == r.rows_scored + r.rows_rejected
    assert r.rows_scored == sum(c.records for c in r.scorecards)
