"""measures.finish: each measure kind's meaning, from statistics alone, checked by hand.

Whatever engine gathers the statistics, these are the results a scorecard shows. The
values are checked here; their intervals in test_intervals.
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

import pytest

from qualiscore.engine import measures
from qualiscore.engine.measures import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    STATISTICS,
    Extreme,
    First,
    MeasureResult,
    Promoters,
    Ranked,
    RatioSums,
    Total,
    Truths,
    is_evidence,
    percentile,
    percentile_ranks,
)
from qualiscore.model import Measure

KINDS = ["count", "sum", "mean", "median", "percentile", "min", "max", "share", "ratio", "nps", "any", "all", "value"]


def m(kind: str, p: float | None = None) -> Measure:
    return Measure(kind, p=p)


def finish(measure: Measure, stats: Any) -> MeasureResult:
    """The result without its interval (test_intervals checks those)."""
    return dataclasses.replace(measures.finish(measure, stats, 0.95), interval=None)


def test_every_kind_has_one_statistics_type() -> None:
    assert sorted(STATISTICS) == sorted(KINDS)


# --------------------------------------------------------------------------- count, share, any, all


def test_count_counts_true_values_and_skips_nothing() -> None:
    # 5 measured, 1 null, 3 true: the null is simply not true
    assert finish(m("count"), Truths(5, 4, 3, ("r2", "r1"))) == MeasureResult(3, 5, 0, 3, 5, evidence=("r1", "r2"))


def test_share_is_true_among_known() -> None:
    assert finish(m("share"), Truths(5, 4, 3)) == MeasureResult(0.75, 4, 1, 3, 4)


def test_share_of_nothing_known_is_undefined() -> None:
    assert finish(m("share"), Truths(2, 0, 0)) == MeasureResult(None, 0, 2, 0, 0)


@pytest.mark.parametrize(("kind", "true", "known", "value"), [
    ("any", 1, 3, True), ("any", 0, 3, False), ("all", 3, 3, True), ("all", 2, 3, False),
])
def test_any_and_all(kind: str, true: int, known: int, value: bool) -> None:
    assert finish(m(kind), Truths(4, known, true)) == MeasureResult(value, known, 4 - known, true, known)


@pytest.mark.parametrize("kind", ["any", "all"])
def test_any_and_all_of_nothing_known_are_undefined(kind: str) -> None:
    assert finish(m(kind), Truths(2, 0, 0, ("x",))) == MeasureResult(None, 0, 2, evidence=("x",))


# --------------------------------------------------------------------------- ratio


def test_ratio_divides_the_sums_of_pairs_both_known() -> None:
    assert finish(m("ratio"), RatioSums(4, 3, 3.0, 12.0, ("b", "a"))) == MeasureResult(
        0.25, 3, 1, 3.0, 12.0, evidence=("a", "b"))


@pytest.mark.parametrize(("used", "den"), [(0, 0.0), (2, 0.0)])
def test_ratio_without_pairs_or_with_a_zero_denominator_is_undefined(used: int, den: float) -> None:
    assert finish(m("ratio"), RatioSums(2, used, 0.0, den)) == MeasureResult(None, used, 2 - used, 0.0, den)


# --------------------------------------------------------------------------- value, nps


def test_value_is_the_first_records_value_even_when_null() -> None:
    assert finish(m("value"), First(1, 1, "gold")) == MeasureResult("gold", 1, 0)
    assert finish(m("value"), First(1, 0, None)) == MeasureResult(None, 0, 1)
    assert finish(m("value"), First(0, 0, None)) == MeasureResult(None, 0, 0)


def test_nps_is_percent_promoters_minus_percent_detractors() -> None:
    # 10 known answers: 5 promoters, 2 passives, 3 detractors → 50 % − 30 % = 20; one null skipped
    result = finish(m("nps"), Promoters(11, 10, 5, 3))
    assert result == MeasureResult(20.0, 10, 1, 2, 10, {"promoters": 5, "passives": 2, "detractors": 3})
    assert list(result.inputs or {}) == ["promoters", "passives", "detractors"]


def test_nps_of_nothing_known_is_undefined_with_zero_counts() -> None:
    assert finish(m("nps"), Promoters(3, 0, 0, 0)) == MeasureResult(
        None, 0, 3, 0, 0, {"promoters": 0, "passives": 0, "detractors": 0})


def test_nps_thresholds() -> None:
    assert (PROMOTER_MIN, DETRACTOR_MAX) == (9, 6)


# --------------------------------------------------------------------------- sum, mean, min, max


def test_sum_has_no_denominator_and_mean_divides_by_known() -> None:
    assert finish(m("sum"), Total(5, 4, 10.0)) == MeasureResult(10.0, 4, 1, 10.0, None)
    assert finish(m("mean"), Total(5, 4, 10.0)) == MeasureResult(2.5, 4, 1, 10.0, 4)


@pytest.mark.parametrize("kind", ["sum", "mean"])
def test_sum_and_mean_of_nothing_known_are_undefined(kind: str) -> None:
    assert finish(m(kind), Total(2, 0, 0.0, ("e",))) == MeasureResult(None, 0, 2, evidence=("e",))


@pytest.mark.parametrize("kind", ["min", "max"])
def test_min_and_max_give_the_gathered_extreme(kind: str) -> None:
    assert finish(m(kind), Extreme(3, 2, 7.0)) == MeasureResult(7.0, 2, 1)
    assert finish(m(kind), Extreme(3, 0, None)) == MeasureResult(None, 0, 3)


def test_an_infinite_total_is_passed_on_for_scoring_to_call_not_applicable() -> None:
    assert finish(m("sum"), Total(2, 2, math.inf)).value == math.inf


# --------------------------------------------------------------------------- median, percentile


@pytest.mark.parametrize(("n", "p", "ranks"), [
    (0, 50, ()),
    (1, 90, (0,)),
    (5, 0, (0,)),
    (5, 25, (1,)),  # rank 1 exactly
    (5, 90, (3, 4)),  # rank 3.6
    (5, 100, (4,)),
    (4, 50, (1, 2)),  # rank 1.5
    (3, 90, (1, 2)),  # rank 1.8
])
def test_percentile_ranks_name_one_or_two_order_statistics(n: int, p: float, ranks: tuple[int, ...]) -> None:
    assert percentile_ranks(n, p) == ranks


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([0, 10, 20, 30, 40], 90, 36.0),  # 30 + 0.6 × 10
    ([0, 10, 20, 30, 40], 10, 4.0),
    ([0, 10, 20, 30, 40], 25, 10.0),
    ([0, 10, 20, 30, 40], 100, 40.0),
    ([40], 90, 40.0),
    ([1, 2, 3, 4], 50, 2.5),
])
def test_percentile_interpolates_between_closest_ranks(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected
    stats = Ranked(len(values) + 1, len(values), tuple(float(values[r]) for r in measures.ranks(len(values), p, 0.95)))
    kind = "median" if p == 50 else "percentile"
    result = finish(m(kind, None if kind == "median" else p), stats)
    assert result == MeasureResult(expected, len(values), 1, inputs={"p": float(p)})


def test_percentile_matches_numpys_linear_method_on_random_data() -> None:
    rng = random.Random(20261202)
    for _ in range(200):
        values = sorted(rng.uniform(-1e6, 1e6) for _ in range(rng.randint(1, 40)))
        p = rng.choice([0.0, 12.5, 50.0, 90.0, 99.9, 100.0, rng.uniform(0, 100)])
        rank = (len(values) - 1) * p / 100
        lo, hi = math.floor(rank), min(math.floor(rank) + 1, len(values) - 1)
        expected = values[lo] + (values[hi] - values[lo]) * (rank - lo) if rank != lo else values[lo]
        assert percentile(values, p) == expected


@pytest.mark.parametrize("kind", ["median", "percentile"])
def test_median_and_percentile_of_nothing_known_are_undefined(kind: str) -> None:
    assert finish(m(kind, 90.0), Ranked(2, 0, ())) == MeasureResult(None, 0, 2)


# --------------------------------------------------------------------------- evidence and mistakes


@pytest.mark.parametrize(("value", "evidence"), [
    (None, False), (False, False), (0, False), (0.0, False), (True, True), (1, True), (-2.5, True), ("x", True),
    ("", True),
])
def test_evidence_is_any_value_but_null_false_and_zero(value: Any, evidence: bool) -> None:
    assert is_evidence(value) is evidence


@pytest.mark.parametrize(("kind", "stats"), [
    ("share", Total(1, 1, 1.0)), ("sum", Truths(1, 1, 1)), ("median", Extreme(1, 1, 1.0)), ("nope", Truths(1, 1, 1)),
])
def test_statistics_of_another_kind_are_refused(kind: str, stats: Any) -> None:
    with pytest.raises(TypeError, match=kind):
        finish(m(kind), stats)


def test_statistics_are_frozen_values() -> None:
    stats = Truths(1, 1, 1)
    with pytest.raises(AttributeError):
        stats.true = 2  # type: ignore[misc]
    assert not hasattr(stats, "__dict__")
