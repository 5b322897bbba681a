"""routing: which version scores which subject period, decided once for every engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qualiscore.engine import evaluate, evaluate_versions, version_in_force
from qualiscore.engine.routing import (
    Decision,
    decide,
    first_start,
    no_version_problem,
    period_start,
    reasons_for_unread,
    route,
    versions_to_use,
)
from qualiscore.errors import UsageError
from qualiscore.model import RecordContract, Scheme
from qualiscore.records import Dataset, Problem, records_from_dicts
from qualiscore.schemes import load_versions

ROOT = Path(__file__).resolve().parent.parent
D = dt.date


@pytest.fixture(scope="module")
def versions() -> list[Scheme]:
    q1, q2 = (s for s in load_versions(ROOT / "rules" / "cs-quality") if not s.sources)
    assert (q1.effective_from, q1.effective_to, q2.effective_from, q2.effective_to) == (
        D(2026, 1, 1), D(2026, 3, 31), D(2026, 4, 1), D(2026, 6, 30))
    return [q1, q2]


def with_field(scheme: Scheme, name: str, **changes: Any) -> Scheme:
    fields = tuple(dataclasses.replace(f, **changes) if f.name == name else f for f in scheme.records.fields)
    return dataclasses.replace(scheme, records=dataclasses.replace(scheme.records, fields=fields))


# --------------------------------------------------------------------------- the versions a run uses


def test_versions_are_used_oldest_first(versions: list[Scheme]) -> None:
    q1, q2 = versions
    assert versions_to_use([q2, q1], None) == (q1, q2)
    assert versions_to_use([q2], None) == (q2,)


@pytest.mark.parametrize(("day", "version"), [(D(2026, 1, 1), 0), (D(2026, 3, 31), 0), (D(2026, 4, 1), 1),
                                              (D(2026, 6, 30), 1)])
def test_as_of_chooses_the_one_version_in_force(versions: list[Scheme], day: dt.date, version: int) -> None:
    assert versions_to_use(versions[::-1], day) == (versions[version],)
    assert version_in_force(versions, day) is versions[version]


@pytest.mark.parametrize("day", [D(2025, 12, 31), D(2026, 7, 1)])
def test_as_of_a_day_no_version_covers_lists_the_ranges(versions: list[Scheme], day: dt.date) -> None:
    with pytest.raises(UsageError, match=f"no version is in force on {day}") as err:
        versions_to_use(versions, day)
    assert err.value.hint == "versions: 2026Q1 2026-01-01…2026-03-31, 2026Q2 2026-04-01…2026-06-30"


def test_versions_without_a_period_cannot_be_routed(versions: list[Scheme]) -> None:
    q1, q2 = versions
    no_period = dataclasses.replace(q2, subject=dataclasses.replace(q2.subject, period=None))
    with pytest.raises(UsageError, match=r"no subject\.period") as err:
        versions_to_use([q1, no_period], None)
    assert err.value.hint is not None and "--as-of" in err.value.hint
    assert versions_to_use([no_period], None) == (no_period,)  # one version needs no routing
    assert versions_to_use([q1, no_period], D(2026, 5, 1)) == (no_period,)


# --------------------------------------------------------------------------- the rule, row by row


def test_route_is_the_first_version_in_force(versions: list[Scheme]) -> None:
    assert [route(versions, d) for d in (D(2025, 12, 31), D(2026, 2, 1), D(2026, 4, 1), D(2026, 7, 1))] == [
        None, 0, 1, None]
    open_ended = dataclasses.replace(versions[1], effective_to=None)
    assert route([versions[0], open_ended], D(2099, 1, 1)) == 1


def test_period_start_is_the_first_day_of_the_records_period(versions: list[Scheme]) -> None:
    q2 = versions[1]
    assert period_start(q2, {"started_at": dt.datetime(2026, 5, 31, 23, 59)}) == D(2026, 5, 1)
    assert period_start(q2, {"started_at": None}) is None
    quarterly = dataclasses.replace(q2, subject=dataclasses.replace(
        q2.subject, period=dataclasses.replace(q2.subject.period, every="quarter")))
    assert period_start(quarterly, {"started_at": D(2026, 5, 31)}) == D(2026, 4, 1)


def test_first_start_comes_from_the_first_version_that_gives_one() -> None:
    assert first_start([None, D(2026, 4, 1), D(2026, 5, 1)]) == D(2026, 4, 1)
    assert first_start([None, None]) is None
    assert first_start(iter([D(2026, 3, 1)])) == D(2026, 3, 1)


@pytest.mark.parametrize(("read", "start", "decision"), [
    ([True, True], D(2026, 3, 1), Decision("scored", 0, D(2026, 3, 1))),
    ([True, True], D(2026, 4, 1), Decision("scored", 1, D(2026, 4, 1))),
    ([True, False], D(2026, 4, 1), Decision("refused", 1, D(2026, 4, 1))),  # in force, but it could not read it
    ([False, True], D(2026, 3, 1), Decision("refused", 0, D(2026, 3, 1))),
    ([True, True], D(2026, 7, 1), Decision("no-version", None, D(2026, 7, 1))),
    ([False, False], None, Decision("unread", None, None)),
    ([True, True], None, Decision("unread", None, None)),  # read, but no period day anywhere
])
def test_decide(versions: list[Scheme], read: list[bool], start: dt.date | None, decision: Decision) -> None:
    assert decide(versions, read, start) == decision


def test_no_version_problem(versions: list[Scheme]) -> None:
    assert no_version_problem(versions, "d.csv", 9, 42.0, D(2026, 7, 1)) == Problem(
        "d.csv", 9, "42", None, None, "no-version", "no version of cs-quality is in force on 2026-07-01")


def test_unread_rows_take_the_newest_versions_reasons_else_the_first_given() -> None:
    a, b, c = (Problem("d.csv", 2, "I", f, None, "missing-value", "…") for f in ("x", "y", "z"))
    assert reasons_for_unread([[a], [b], [c]]) == [c]
    assert reasons_for_unread([[a], [b], []]) == [a]
    assert reasons_for_unread([[], [b], []]) == [b]
    assert reasons_for_unread([[], []]) == ()


# --------------------------------------------------------------------------- the rows engine routes by the rule


def row(iid: str, started_at: Any, **changes: Any) -> dict[str, Any]:
    return {
        "interaction_id": iid, "agent_id": "A001", "team": "T1", "channel": "chat", "started_at": started_at,
        "first_response_s": 30, "handle_time_s": 200, "resolved_first_contact": True, "repeat_contact_7d": False,
        "complaint": False, "csat": 5, "nps": 10, "transcript": "您好", "unauthorised_promise": False, **changes,
    }


def routed(schemes: list[Scheme], rows: list[dict[str, Any]]) -> tuple[Counter[str], dict[int, Problem]]:
    def read(contract: RecordContract) -> Dataset:
        return records_from_dicts(rows, contract, source="d")

    run = evaluate_versions(schemes, read)
    assert run.rows_read == len(rows) == run.rows_scored + run.rows_rejected
    versions = Counter(f"{c.scheme_version} {c.period}" for c in run.scorecards for _ in range(c.records))
    return versions, {p.row: p for p in run.problems}


def test_each_period_is_scored_by_the_version_in_force_at_its_start(versions: list[Scheme]) -> None:
    scored, problems = routed(versions, [row("I1", "2026-03-31T23:59:00+08:00"), row("I2", "2026-04-01T00:00:00+08:00"),
                                         row("I3", "2026-05-20T10:00:00+08:00")])
    assert scored == Counter({"2026Q1 2026-03": 1, "2026Q2 2026-04": 1, "2026Q2 2026-05": 1})
    assert problems == {}


def test_a_row_the_version_in_force_cannot_read_has_that_versions_reasons(versions: list[Scheme]) -> None:
    q1, q2 = versions
    strict = with_field(q2, "transcript", nullable=False)  # Q1 reads the row and dates it; Q2 cannot read it
    scored, problems = routed([q1, strict], [row("I1", "2026-04-02T09:00:00+08:00", transcript=None),
                                             row("I2", "2026-03-02T09:00:00+08:00", transcript=None)])
    assert scored == Counter({"2026Q1 2026-03": 1})
    assert (problems[1].field, problems[1].code) == ("transcript", "missing-value")


def test_a_row_in_force_in_no_version_is_rejected_as_no_version(versions: list[Scheme]) -> None:
    scored, problems = routed(versions, [row("I1", "2026-07-01T09:00:00+08:00"), row("I2", "2026-06-30T09:00:00+08:00")])
    assert scored == Counter({"2026Q2 2026-06": 1})
    assert problems == {1: Problem("d", 1, "I1", None, None, "no-version",
                                   "no version of cs-quality is in force on 2026-07-01")}


def test_a_row_no_version_reads_has_the_newest_versions_reasons(versions: list[Scheme]) -> None:
    scored, problems = routed(versions, [row("I1", "2026-04-02T09:00:00+08:00", csat=9)])
    assert not scored
    assert (problems[1].field, problems[1].code) == ("csat", "above-maximum")


def test_a_row_every_version_reads_without_a_period_day_belongs_to_no_period(versions: list[Scheme]) -> None:
    # It used to end the run with a traceback (StopIteration); it is rejected as a single version rejects it.
    optional = [with_field(s, "started_at", nullable=True) for s in versions]
    rows = [row("I1", None), row("I2", "2026-05-02T09:00:00+08:00")]
    scored, problems = routed(optional, rows)
    assert scored == Counter({"2026Q2 2026-05": 1})
    expected = Problem("d", 1, "I1", "started_at", None, "no-period",
                       "started_at is empty, so the record belongs to no period")
    assert problems == {1: expected}
    alone = evaluate(optional[1], records_from_dicts(rows, optional[1].records, source="d"))
    assert alone.problems == (expected,)
