"""Dates, and UTC instants as wall-clock times in records.timezone, as Python computes them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from .translate import lookup


def days_from_civil(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y2 = y - (m <= 2).cast(pl.Int64)
    era = y2 // 400
    yoe = y2 - era * 400
    mp = pl.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def valid_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    lengths = pl.Series([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=pl.Int64)
    dim = lookup(m, range(1, 13), lengths).fill_null(0) + ((m == 2) & leap).cast(pl.Int64)
    return ((y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)).fill_null(False)


class Zone:
    """Conversion of UTC instants to wall-clock times in records.timezone, exactly as zoneinfo does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone = ZoneInfo(name)
        self.utc = name in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu")
        self._tables: dict[tuple[int, int], tuple[list[int], list[int], list[bool], int | None]] = {}

    def _at(self, hour: int) -> tuple[int, bool] | None:
        """(offset µs, fold) at the first instant of a UTC hour; None where Python cannot say."""
        try:
            a = dt.datetime.fromtimestamp(hour * 3600, self.zone)
        except (OverflowError, ValueError, OSError):
            return None
        offset = a.utcoffset()
        return None if offset is None else (offset // dt.timedelta(microseconds=1), bool(a.fold))

    def table(self, lo_year: int, hi_year: int) -> tuple[list[int], list[int], list[bool], int | None]:
        """(hours, offset µs, fold) for every UTC hour of the years lo..hi whose offset and fold are
        uniform, and the offset if it is the same for all of them with no fold (else None).

        An hour counts as uniform when its first instant and the next hour's agree: an hour that
        ends where the offset changes is left out too (its cells are typed by Python), and one
        zoneinfo call per hour is enough.
        """
        key = (lo_year, hi_year)
        got = self._tables.get(key)
        if got is None:
            first = (dt.datetime(lo_year, 1, 1) - _EPOCH) // dt.timedelta(hours=1)
            last = (dt.datetime(hi_year, 12, 31, 23) - _EPOCH) // dt.timedelta(hours=1)
            at = [self._at(h) for h in range(first, last + 2)]
            hours, offsets, folds = [], [], []
            for i, h in enumerate(range(first, last + 1)):
                v = at[i]
                if v is not None and v == at[i + 1]:
                    hours.append(h)
                    offsets.append(v[0])
                    folds.append(v[1])
            uniform = (len(hours) == last - first + 1 and len(set(offsets)) == 1 and not any(folds))
            got = (hours, offsets, folds, offsets[0] if uniform else None)
            self._tables[key] = got
        return got


_EPOCH = dt.datetime(1970, 1, 1)
_MIN_US = (dt.date(1, 1, 1).toordinal() - 719163) * 86_400_000_000
_MAX_US = (dt.date(9999, 12, 31).toordinal() - 719163 + 1) * 86_400_000_000 - 1


def in_range(wall_us: pl.Expr) -> pl.Expr:
    """A wall-clock time Python's datetime can hold (years 1 to 9999); never null."""
    return ((wall_us >= _MIN_US) & (wall_us <= _MAX_US)).fill_null(False)


def sample_years(sample: Sequence[Any]) -> tuple[int, int]:
    """The years the first values of a column show, widened by one year each way (1..9999)."""
    years = []
    for v in sample:
        if isinstance(v, (dt.date, dt.datetime)):
            years.append(v.year)
        elif isinstance(v, str):
            m = re.search(r"(?<![0-9])([0-9]{4})(?![0-9])", v)
            if m:
                years.append(int(m.group(1)))
    years = [y for y in years if 1 <= y <= 9999]
    if not years:
        this = dt.date.today().year
        return this - 2, this + 2
    lo, hi = min(years), max(years)
    if hi - lo > 20:  # a spread-out sample: keep the table small, let other years be typed by Python
        hi = lo + 20
    return max(1, lo - 1), min(9999, hi + 1)
