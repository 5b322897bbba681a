"""Confidence intervals: each method against a reference implementation or a hand computation,
and a simulation with known true values showing that 95% intervals cover them 93–97% of the time.

The simulation scores one subject per replicate through the whole pipeline (CSV → engine →
scorecards), so it checks what a committee reads, not only the formulas. ``make test`` runs
it with 1,000 subjects; QUALISCORE_SLOW=1 (``make test-slow``) with 10,000.
"""

from __future__ import annotations

import csv
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import qualiscore as qs
from qualiscore.engine import intervals, measures
from qualiscore.engine.measures import (
    MeasureResult,
    Promoters,
    Ranked,
    RatioSums,
    Total,
    Truths,
    finish,
    quotient,
)
from qualiscore.model import Measure

SLOW = bool(os.environ.get("QUALISCORE_SLOW"))


# --------------------------------------------------------------------------- each method


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_the_t_quantile_is_scipys_to_twelve_digits(level: float) -> None:
    for df in [*range(1, 320), 500, 1_000, 10_000, 1_000_000]:
        assert intervals.t_quantile(level, df) == pytest.approx(stats.t.ppf(0.5 + level / 2, df), rel=1e-11)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (1, 1), (3, 10), (0, 40), (40, 40), (17, 60), (999, 1000)])
def test_wilson_is_statsmodels_wilson(successes: int, n: int) -> None:
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    assert intervals.wilson_interval(successes, n, 0.95) == pytest.approx((low, high), abs=1e-12)


def test_the_mean_interval_is_scipys_t_interval() -> None:
    rng = random.Random(7)
    for _ in range(50):
        xs = [rng.choice([1, 2, 3, 4, 5]) for _ in range(rng.randint(2, 80))]
        expected = stats.t.interval(0.9, len(xs) - 1, loc=stats.tmean(xs), scale=stats.sem(xs))
        got = intervals.mean_interval(math.fsum(xs), math.fsum(x * x for x in xs), len(xs), 0.9)
        assert got == pytest.approx(expected, abs=1e-9)
    assert intervals.mean_interval(3.0, 9.0, 1, 0.95) is None  # one value has no spread


def test_the_nps_interval_is_rocks_adjusted_wald_by_hand() -> None:
    # 50 answers: 20 promoters, 10 detractors. n' = 53, p = 20.75/53, d = 10.75/53
    p, d = 20.75 / 53, 10.75 / 53
    half = 1.959963984540054 * math.sqrt((p + d - (p - d) ** 2) / 53)
    assert intervals.nps_interval(20, 10, 50, 0.95) == pytest.approx((100 * (p - d - half), 100 * (p - d + half)))
    low, high = intervals.nps_interval(5, 0, 5, 0.95)  # type: ignore[misc]
    assert high <= 100.0 and low > -100.0


def test_the_count_interval_is_the_poisson_score_interval() -> None:
    z = 1.959963984540054
    for x in (0, 1, 5, 60):
        low, high = intervals.poisson_interval(x, 0.95)
        # the score interval's ends are where (x − λ)² / λ = z²
        for end in (low, high):
            if end > 0:
                assert (x - end) ** 2 / end == pytest.approx(z * z)
    assert intervals.poisson_interval(0, 0.95) == (0.0, pytest.approx(z * z))


def test_the_ratio_interval_is_the_ratio_estimators_by_hand() -> None:
    rng = random.Random(3)
    ys = [rng.uniform(0, 10) for _ in range(30)]
    xs = [rng.uniform(5, 15) for _ in range(30)]
    r = sum(ys) / sum(xs)
    residual_var = sum((y - r * x) ** 2 for x, y in zip(xs, ys)) / 29
    half = stats.t.ppf(0.975, 29) * math.sqrt(residual_var / 30) / (sum(xs) / 30)
    got = intervals.ratio_interval(sum(ys), sum(xs), sum(y * y for y in ys), sum(x * x for x in xs),
                                   sum(x * y for x, y in zip(xs, ys)), 30, 0.95)
    assert got == pytest.approx((r - half, r + half))


@pytest.mark.parametrize(("n", "p", "outer"), [
    (30, 50, (9, 20)),  # the tables' 10th and 21st of 30, then a little inwards
    (5, 50, None),  # too few values for a distribution-free 95% interval of a median
    (6, 50, (0, 5)),
    (100, 90, (83, 95)),
    (10, 0, None),
])
def test_percentile_interval_ends_start_from_the_tables_order_statistics(n: int, p: float,
                                                                          outer: tuple[int, int] | None) -> None:
    ends = intervals.order_statistic_ends(n, p, 0.95)
    assert (None if ends is None else (ends[0][0], ends[1][0])) == outer
    if ends is not None:
        assert ends[0][1] == ends[0][0] + 1 and ends[1][1] == ends[1][0] - 1  # each interpolates inwards


def test_each_end_interpolates_to_the_nominal_tail_between_a_conservative_and_a_liberal_rank() -> None:
    for n in (6, 7, 10, 25, 60, 199):
        for p in (10.0, 50.0, 75.0, 90.0):
            ends = intervals.order_statistic_ends(n, p, 0.95)
            if ends is None:
                continue
            (lo, lo_in, w_lo), (hi, hi_in, w_hi) = ends
            binom = stats.binom(n, p / 100)
            # lo (0-based) alone misses the percentile below it with P(B ≤ lo) ≤ 2.5 %, lo + 1 with more
            assert binom.cdf(lo) <= 0.025 < binom.cdf(lo_in)
            assert binom.sf(hi) <= 0.025 < binom.sf(hi_in)
            assert w_lo == pytest.approx((0.025 - binom.cdf(lo)) / (binom.cdf(lo_in) - binom.cdf(lo)), abs=1e-9)
            assert w_hi == pytest.approx((0.025 - binom.sf(hi)) / (binom.sf(hi_in) - binom.sf(hi)), abs=1e-9)
            assert 0 <= w_lo < 1 and 0 <= w_hi < 1


def test_finish_gives_each_kind_its_interval() -> None:
    def fin(kind: str, statistics: Any, p: float | None = None) -> MeasureResult:
        return finish(Measure(kind, p=p), statistics, 0.95)  # type: ignore[arg-type]

    assert fin("share", Truths(5, 4, 3)).interval == intervals.wilson_interval(3, 4, 0.95)
    assert fin("count", Truths(5, 4, 3)).interval == intervals.poisson_interval(3, 0.95)
    assert fin("nps", Promoters(11, 10, 5, 3)).interval == intervals.nps_interval(5, 3, 10, 0.95)
    mean = fin("mean", Total(5, 4, 10.0, (), 30.0))
    assert mean.interval == intervals.mean_interval(10.0, 30.0, 4, 0.95)
    total = fin("sum", Total(5, 4, 10.0, (), 30.0))
    assert total.interval == pytest.approx((mean.interval[0] * 4, mean.interval[1] * 4))  # type: ignore[index]
    assert fin("ratio", RatioSums(4, 3, 3.0, 12.0, (), (5.0, 50.0, 12.0))).interval == intervals.ratio_interval(
        3.0, 12.0, 5.0, 50.0, 12.0, 3, 0.95)
    values = list(range(30))
    median = fin("median", Ranked(30, 30, tuple(float(values[r]) for r in measures.ranks(30, 50.0, 0.95))))
    (_, _, w_lo), (_, _, w_hi) = intervals.order_statistic_ends(30, 50.0, 0.95)  # type: ignore[misc]
    assert median.value == 14.5 and median.interval == (9.0 + w_lo, 20.0 - w_hi)
    for kind, statistics in (("any", Truths(3, 3, 1)), ("all", Truths(3, 3, 1)), ("min", measures.Extreme(3, 3, 1.0)),
                             ("max", measures.Extreme(3, 3, 1.0)), ("value", measures.First(1, 1, 2))):
        assert fin(kind, statistics).interval is None, kind


def test_a_quotient_over_an_exposure_divides_the_numerators_interval() -> None:
    complaints = MeasureResult(4, 4, 0, interval=(1.5, 10.2))
    served = MeasureResult(200, 200, 0, interval=(170.0, 230.0))
    rate = quotient(complaints, served, 0.95, exposure=True)
    assert rate.value == 0.02 and rate.interval == (1.5 / 200, 10.2 / 200)
    both = quotient(MeasureResult(4.0, 10, 0, interval=(3.0, 5.0)), MeasureResult(2.0, 10, 0, interval=(1.5, 2.5)),
                    0.95, exposure=False)
    z = 1.959963984540054
    se_a, se_b = 2.0 / (2 * z), 1.0 / (2 * z)  # each interval's width over 2z
    half = z * 2.0 * math.sqrt((se_a / 4.0) ** 2 + (se_b / 2.0) ** 2)
    assert both.interval == pytest.approx((2.0 - half, 2.0 + half))


# --------------------------------------------------------------------------- coverage, end to end

SIMULATION = """\
format: qualiscore/v1
scheme: coverage
version: c1
effective_from: 2026-01-01
subject:
  group_by: [agent_id]
  period: {field: day, every: month}
records:
  id: id
  fields:
    id: {type: string}
    agent_id: {type: string}
    day: {type: date}
    resolved: {type: boolean}
    csat: {type: integer}
    ltr: {type: integer}
    wait_s: {type: number}
    handle_s: {type: number}
    talk_s: {type: number}
dimensions:
  - id: all
    weight: 1
    indicators:
      - {id: share, weight: 1, measure: {share: resolved}, scoring: {linear: {from: 0, to: 1}}}
      - {id: mean, weight: 1, measure: {mean: csat}, scoring: {linear: {from: 1, to: 5}}}
      - {id: total, weight: 1, measure: {sum: csat}, scoring: {linear: {from: 0, to: 500}}}
      - {id: nps, weight: 1, measure: {nps: ltr}, scoring: {linear: {from: -100, to: 100}}}
      - {id: median, weight: 1, measure: {median: wait_s}, scoring: {linear: {from: 600, to: 0}}}
      - {id: p90, weight: 1, measure: {percentile: wait_s, p: 90}, scoring: {linear: {from: 1200, to: 0}}}
      - {id: count, weight: 1, measure: {count: "True"}, scoring: {linear: {from: 0, to: 100}}}
      - {id: ratio, weight: 1, measure: {ratio: {numerator: talk_s, denominator: handle_s}},
         scoring: {linear: {from: 0, to: 1}}}
grades:
  - {name: good, min: 50}
  - {name: poor, min: 0}
"""

RESOLVED, CSAT, LTR_PROMOTE, LTR_DETRACT, WAIT_SCALE, RECORDS = 0.7, (0.05, 0.1, 0.2, 0.35, 0.3), 0.45, 0.2, 300.0, 60
TRUTH = {
    "share": RESOLVED,
    "mean": sum((k + 1) * p for k, p in enumerate(CSAT)),
    "nps": 100 * (LTR_PROMOTE - LTR_DETRACT),
    "median": WAIT_SCALE * math.log(2),
    "p90": WAIT_SCALE * math.log(10),
    "count": RECORDS,
    "ratio": 0.8,  # talk = handle × U(0.6, 1.0), independent of handle
}


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's multiplication method is fine at λ = 60 in log space
    k, total = 0, 0.0
    while True:
        total += rng.expovariate(1.0)
        if total > lam:
            return k
        k += 1


def _simulated(path: Path, subjects: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "agent_id", "day", "resolved", "csat", "ltr", "wait_s", "handle_s", "talk_s"])
        for s in range(subjects):
            for r in range(_poisson(rng, RECORDS)):
                u = rng.random()
                ltr = rng.randint(9, 10) if u < LTR_PROMOTE else rng.randint(0, 6) if u < LTR_PROMOTE + LTR_DETRACT \
                    else rng.randint(7, 8)
                handle = rng.gammavariate(4.0, 75.0)
                w.writerow([f"S{s}-{r}", f"S{s:05d}", "2026-03-15", str(rng.random() < RESOLVED).lower(),
                            rng.choices(range(1, 6), CSAT)[0], ltr, round(rng.expovariate(1 / WAIT_SCALE), 3),
                            round(handle, 3), round(handle * rng.uniform(0.6, 1.0), 3)])
    return path


def test_95_percent_intervals_cover_known_true_values_93_to_97_percent_of_the_time(tmp_path: Path) -> None:
    scheme = tmp_path / "coverage.yaml"
    scheme.write_text(SIMULATION, encoding="utf-8")
    subjects = 10_000 if SLOW else 1_000
    result = qs.score(scheme, [str(_simulated(tmp_path / "sim.csv", subjects, seed=20261203))], engine="columnar")
    covered, intervals_given = dict.fromkeys([*TRUTH, "total"], 0), dict.fromkeys([*TRUTH, "total"], 0)
    for card in result.scorecards:
        for ind in card.indicators:
            truth = CSAT_TOTAL * ind.sample if ind.id == "total" else TRUTH[ind.id]
            if ind.interval is None:  # a 90th percentile of 35 values or fewer has no 95% upper bound (0.9³⁵ > 2.5%)
                assert ind.id == "p90" and ind.sample <= 35, (card.subject, ind.id)
                continue
            intervals_given[ind.id] += 1
            covered[ind.id] += ind.interval[0] <= truth <= ind.interval[1]
    coverage = {k: v / intervals_given[k] for k, v in covered.items()}
    assert len(result.scorecards) == subjects and min(intervals_given.values()) > 0.99 * subjects
    assert all(0.93 <= c <= 0.97 for c in coverage.values()), str(coverage)


CSAT_TOTAL = TRUTH["mean"]
