"""Subjects: whom one scorecard is about, and in which period.

A subject is the text of its key fields (the scheme's ``group_by``, or ``--by``; a
record-level scheme has one subject per record id) plus, when the scheme has a
period, the label of the period the record's date falls in. Every engine names,
labels and orders subjects with these functions, so the same records give the same
subjects whichever engine grouped them; a vectorised engine applies them to the few
distinct values of a column and maps the rest by lookup.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..i18n import _
from ..model import Period, Scheme
from ..records import Problem

__all__ = [
    "NO_KEY",
    "Grouping",
    "as_date",
    "group_fields",
    "group_key",
    "id_text",
    "key_text",
    "no_period_problem",
    "period_bounds",
    "subject_order",
]

NO_KEY = "(none)"  # the key text of a record whose group field is empty


def key_text(value: Any) -> str:
    """The text of a key value as a scorecard shows it ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def id_text(value: Any) -> str | None:
    """The text of a record id as problems and veto evidence show it (None for null).

    Unlike key_text, a whole float keeps its ".0": it is the id as read, not a subject's name.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def group_key(value: Any) -> str:
    """The key text of a group field: records whose field is empty form the subject "(none)"."""
    return key_text(value) or NO_KEY


def as_date(value: Any) -> dt.date | None:
    """The day of a date or date-time value; None for anything else (null included)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def period_bounds(day: dt.date, every: str) -> tuple[str, dt.date, dt.date]:
    """The label, first and last day of the period containing ``day``.

    Years have four digits in every label (``0001-01``, as in ``0001-01-01``), so labels
    sort as their periods do.
    """
    if every == "day":
        return day.isoformat(), day, day
    if every == "week":
        year, week, weekday = day.isocalendar()
        start = day - dt.timedelta(days=weekday - 1)
        end = day + dt.timedelta(days=min(7 - weekday, (dt.date.max - day).days))
        return f"{year:04d}-W{week:02d}", start, end
    if every == "month":
        end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return f"{day.year:04d}-{day.month:02d}", day.replace(day=1), end
    if every == "quarter":
        q = (day.month - 1) // 3 + 1
        end = dt.date(day.year, 3 * q, calendar.monthrange(day.year, 3 * q)[1])
        return f"{day.year:04d}-Q{q}", dt.date(day.year, 3 * q - 2, 1), end
    return f"{day.year:04d}", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def group_fields(scheme: Scheme, by: Sequence[str] | None) -> tuple[str, ...]:
    """The fields subjects are keyed by: ``--by`` when given (checked against the contract), else the scheme's."""
    if not by:
        return scheme.subject.group_by
    names = {f.name for f in scheme.records.fields}
    unknown = [b for b in by if b not in names]
    if unknown:
        raise UsageError(_("--by {fields}: not a field of the record contract of {scheme}", fields=",".join(unknown),
                           scheme=scheme.id), hint=_("choose from: {names}", names=", ".join(sorted(names))))
    if any(i.measure.kind == "value" for i in scheme.indicators):
        raise UsageError(_("--by cannot regroup a record-level scheme (it uses `value` measures)"))
    return tuple(by)


def no_period_problem(scheme: Scheme, source: str, row: int, record: Mapping[str, Any]) -> Problem:
    """The rejection of a record whose period field is empty under ``scheme``."""
    assert scheme.subject.period is not None
    name = scheme.subject.period.field
    return Problem(source, row, key_text(record.get(scheme.records.id)), name, None, "no-period",
                   _("{field} is empty, so the record belongs to no period", field=name))


def subject_order(keys: Mapping[str, str], period: str | None) -> tuple[str, ...]:
    """How scorecards are sorted: by key texts, then period label."""
    return (*keys.values(), period or "")


@dataclass(frozen=True, slots=True)
class Grouping:
    """How one scheme version (and ``--by``) puts records into subjects."""

    fields: tuple[str, ...]  # group fields; () = one subject per record id
    id_field: str
    period: Period | None

    @classmethod
    def of(cls, scheme: Scheme, by: Sequence[str] | None = None) -> Grouping:
        return cls(group_fields(scheme, by), scheme.records.id, scheme.subject.period)

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The fields a scorecard's ``keys`` name."""
        return self.fields or (self.id_field,)

    def keys(self, record: Mapping[str, Any]) -> dict[str, str]:
        """A record's key texts, field by field."""
        if self.fields:
            return {f: group_key(record.get(f)) for f in self.fields}
        return {self.id_field: key_text(record.get(self.id_field))}

    def period_day(self, record: Mapping[str, Any]) -> dt.date | None:
        """The day that puts a record in its period (None: the record belongs to no period)."""
        assert self.period is not None
        return as_date(record.get(self.period.field))

    def period_label(self, day: dt.date) -> str:
        assert self.period is not None
        return period_bounds(day, self.period.every)[0]

    def subject(self, keys: Mapping[str, str], period: str | None) -> str:
        """The subject's name, e.g. ``A017/2026-05``; a record-level subject is its id alone."""
        if self.fields:
            return "/".join([*keys.values(), *([period] if period else [])])
        return keys[self.id_field]
