"""subjects: key texts, "(none)", subject names, period labels and order, the --by check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qualiscore.engine.subjects import (
    NO_KEY,
    Grouping,
    as_date,
    group_fields,
    group_key,
    key_text,
    no_period_problem,
    period_bounds,
    subject_order,
)
from qualiscore.errors import UsageError
from qualiscore.model import Period, Scheme
from qualiscore.records import Problem
from qualiscore.schemes import load_scheme

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def q2() -> Scheme:
    return load_scheme(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")


@pytest.mark.parametrize(("value", "text"), [
    (None, ""),
    (True, "true"),
    (False, "false"),
    (7, "7"),
    (7.0, "7"),
    (7.5, "7.5"),
    ("A017", "A017"),
    ("", ""),
    (dt.date(2026, 5, 1), "2026-05-01"),
    (dt.datetime(2026, 5, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")), "2026-05-01T09:30:00+08:00"),
])
def test_key_text(value: Any, text: str) -> None:
    assert key_text(value) == text


@pytest.mark.parametrize(("value", "text"), [(None, NO_KEY), ("", NO_KEY), ("T1", "T1"), (0, "0"), (False, "false")])
def test_an_empty_group_key_is_none_in_brackets(value: Any, text: str) -> None:
    assert NO_KEY == "(none)"
    assert group_key(value) == text


@pytest.mark.parametrize(("value", "day"), [
    (dt.datetime(2026, 5, 31, 23, 59), dt.date(2026, 5, 31)),
    (dt.date(2026, 5, 31), dt.date(2026, 5, 31)),
    (None, None),
    ("2026-05-31", None),
])
def test_as_date(value: Any, day: dt.date | None) -> None:
    assert as_date(value) == day


@pytest.mark.parametrize(("day", "every", "bounds"), [
    (dt.date(2026, 5, 14), "day", ("2026-05-14", dt.date(2026, 5, 14), dt.date(2026, 5, 14))),
    (dt.date(2026, 5, 14), "week", ("2026-W20", dt.date(2026, 5, 11), dt.date(2026, 5, 17))),
    (dt.date(2027, 1, 1), "week", ("2026-W53", dt.date(2026, 12, 28), dt.date(2027, 1, 3))),  # ISO weeks
    (dt.date(9999, 12, 31), "week", ("9999-W52", dt.date(9999, 12, 27), dt.date(9999, 12, 31))),  # no overflow
    (dt.date(2024, 2, 10), "month", ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
    (dt.date(2026, 5, 14), "quarter", ("2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30))),
    (dt.date(2026, 12, 31), "quarter", ("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
    (dt.date(2026, 5, 14), "year", ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
    # Four-digit years, as in ISO dates, so that labels sort as their periods do.
    (dt.date(1, 1, 2), "day", ("0001-01-02", dt.date(1, 1, 2), dt.date(1, 1, 2))),
    (dt.date(1, 1, 2), "week", ("0001-W01", dt.date(1, 1, 1), dt.date(1, 1, 7))),
    (dt.date(1, 1, 2), "month", ("0001-01", dt.date(1, 1, 1), dt.date(1, 1, 31))),
    (dt.date(999, 12, 31), "quarter", ("0999-Q4", dt.date(999, 10, 1), dt.date(999, 12, 31))),
    (dt.date(42, 6, 1), "year", ("0042", dt.date(42, 1, 1), dt.date(42, 12, 31))),
])
def test_period_bounds(day: dt.date, every: str, bounds: tuple[str, dt.date, dt.date]) -> None:
    assert period_bounds(day, every) == bounds


@pytest.mark.parametrize("every", ["day", "week", "month", "quarter", "year"])
def test_period_labels_sort_as_their_periods(every: str) -> None:
    days = [dt.date(1, 1, 1), dt.date(99, 7, 1), dt.date(999, 12, 31), dt.date(2026, 5, 14), dt.date(9999, 12, 31)]
    labels = [period_bounds(day, every)[0] for day in days]
    assert labels == sorted(labels)



# --------------------------------------------------------------------------- --by


def test_group_fields_are_the_schemes_without_by(q2: Scheme) -> None:
    assert group_fields(q2, None) == group_fields(q2, []) == ("agent_id",)
    assert group_fields(q2, ["team", "channel"]) == ("team", "channel")


def test_by_an_unknown_field_is_a_usage_error_listing_the_fields(q2: Scheme) -> None:
    with pytest.raises(UsageError, match="--by tema: not a field of the record contract of cs-quality") as err:
        group_fields(q2, ["team", "tema"])
    assert err.value.hint is not None and "team" in err.value.hint and "agent_id" in err.value.hint


def test_by_cannot_regroup_a_record_level_scheme() -> None:
    qa = load_scheme(ROOT / "rules" / "qa-form" / "2026Q2.yaml")
    assert qa.subject.group_by == ()
    field = qa.records.fields[0].name
    with pytest.raises(UsageError, match="record-level"):
        group_fields(qa, [field])


# --------------------------------------------------------------------------- grouping


def test_grouping_keys_name_and_label_a_grouped_subject(q2: Scheme) -> None:
    g = Grouping.of(q2, ["team", "channel"])
    assert (g.fields, g.id_field, g.key_fields) == (("team", "channel"), "interaction_id", ("team", "channel"))
    rec = {"interaction_id": "I1", "team": None, "channel": "chat", "started_at": dt.datetime(2026, 5, 3, 9)}
    keys = g.keys(rec)
    assert keys == {"team": NO_KEY, "channel": "chat"} and list(keys) == ["team", "channel"]
    day = g.period_day(rec)
    assert day == dt.date(2026, 5, 3)
    assert g.period_label(day) == "2026-05"
    assert g.subject(keys, "2026-05") == "(none)/chat/2026-05"
    assert g.subject(keys, None) == "(none)/chat"
    assert g.period_day({"started_at": None}) is None


def test_a_record_level_subject_is_its_id_alone_even_with_a_period(q2: Scheme) -> None:
    g = Grouping(fields=(), id_field="interaction_id", period=Period("started_at", "month"))
    assert g.key_fields == ("interaction_id",)
    keys = g.keys({"interaction_id": 17.0})
    assert keys == {"interaction_id": "17"}
    assert g.subject(keys, "2026-05") == "17"
    assert g.keys({"interaction_id": None}) == {"interaction_id": ""}  # never "(none)"


def test_subjects_sort_by_keys_then_period() -> None:
    subjects = [({"a": "B"}, "2026-04"), ({"a": "A"}, "2026-05"), ({"a": "A"}, None), ({"a": "A"}, "2026-04")]
    ordered = sorted(subjects, key=lambda s: subject_order(*s))
    assert ordered == [({"a": "A"}, None), ({"a": "A"}, "2026-04"), ({"a": "A"}, "2026-05"), ({"a": "B"}, "2026-04")]
    assert subject_order({"a": "A", "b": "x"}, None) == ("A", "x", "")


def test_no_period_problem(q2: Scheme) -> None:
    problem = no_period_problem(q2, "d.csv", 7, {"interaction_id": "I7", "started_at": None})
    assert problem == Problem("d.csv", 7, "I7", "started_at", None, "no-period",
                              "started_at is empty, so the record belongs to no period")


def test_a_grouping_is_a_frozen_value(q2: Scheme) -> None:
    g = Grouping.of(q2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.fields = ()  # type: ignore[misc]
