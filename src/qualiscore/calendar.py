"""The business calendar a scheme counts working days with.

Service targets are often stated in business days ("resolve within 3 business
days"), so a scheme may name its weekend, its public holidays and its make-up
working days (调休: a Saturday or Sunday worked in exchange for a longer holiday).
Counting has to be cheap because it runs once per record: whole weeks are counted
arithmetically and the holidays and make-up days inside the range are found by
bisecting sorted lists, so a call costs O(log n) however long the range is.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from .i18n import _

__all__ = ["Calendar", "as_date"]


def as_date(value: object) -> date:
    """The calendar date of a date or datetime (a datetime's date in the zone it carries)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(_("expected a date or datetime, got {kind}", kind=type(value).__name__))


@dataclass(frozen=True, slots=True)
class Calendar:
    """Which days are business days: not a weekend day nor a holiday, or a make-up workday.

    ``weekend`` holds ISO weekday numbers (Monday = 1 … Sunday = 7). ``holidays`` are
    days off that would otherwise be business days; ``workdays`` are weekend days
    that are worked (调休). A day cannot be both a holiday and a workday.
    """

    weekend: frozenset[int] = frozenset({6, 7})
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    # Derived in __post_init__, so counting never re-sorts anything.
    _week_prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _workday_ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekend = frozenset(self.weekend)
        for day in weekend:
            if type(day) is not int or not 1 <= day <= 7:
                raise ValueError(_("weekend days must be ISO weekday numbers 1-7, got {day!r}", day=day))
        holidays = _date_set(self.holidays, "holidays")
        workdays = _date_set(self.workdays, "workdays")
        clash = holidays & workdays
        if clash:
            first = min(clash).isoformat()
            raise ValueError(_("{day} is listed both as a holiday and as a make-up workday", day=first))
        object.__setattr__(self, "weekend", weekend)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "workdays", workdays)
        # _week_prefix[k]: business days among the first k days of an ISO week (Mon..).
        prefix = [0]
        for iso_day in range(1, 8):
            prefix.append(prefix[-1] + (iso_day not in weekend))
        object.__setattr__(self, "_week_prefix", tuple(prefix))
        # Only holidays on would-be business days and workdays on weekend days change counts.
        object.__setattr__(
            self,
            "_holiday_ordinals",
            tuple(sorted(d.toordinal() for d in holidays if d.isoweekday() not in weekend)),
        )
        object.__setattr__(
            self,
            "_workday_ordinals",
            tuple(sorted(d.toordinal() for d in workdays if d.isoweekday() in weekend)),
        )

    def is_business_day(self, day: date | datetime) -> bool:
        """Whether ``day`` (a date, or a datetime's date) is worked."""
        d = as_date(day)
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.isoweekday() not in self.weekend

    def business_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """Business days in ``[start, end)``, like ``numpy.busday_count``.

        When ``end`` is before ``start`` the count is negative: minus the business days
        in ``(end, start]`` (numpy >= 1.25), so the start day counts and the end day
        never does, whichever way the range runs.
        """
        s = as_date(start).toordinal()
        e = as_date(end).toordinal()
        if s <= e:
            return self._before(e) - self._before(s)
        return -(self._before(s + 1) - self._before(e + 1))

    def _before(self, ordinal: int) -> int:
        """Business days from 0001-01-01 (a Monday, ordinal 1) up to, not including, ``ordinal``."""
        weeks, rest = divmod(ordinal - 1, 7)
        prefix = self._week_prefix
        count = weeks * prefix[7] + prefix[rest]
        count -= bisect_left(self._holiday_ordinals, ordinal)
        count += bisect_left(self._workday_ordinals, ordinal)
        return count


def _date_set(values: Iterable[object], what: str) -> frozenset[date]:
    days: set[date] = set()
    for value in frozenset(values):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(_("{what} must be dates, got {kind}: {value!r}",
                              what=what, kind=type(value).__name__, value=value))
        days.add(value)
    return frozenset(days)
