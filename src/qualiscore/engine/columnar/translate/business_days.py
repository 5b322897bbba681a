"""Calendar.business_days_between, vectorised."""

from __future__ import annotations

from ...._polars import pl
from ....calendar import Calendar
from .lookups import lookup

UNIX_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


def _ordinal(date_expr: pl.Expr) -> pl.Expr:
    return date_expr.cast(pl.Int64) + UNIX_EPOCH_ORDINAL


def _days_before(ordinal: pl.Expr, cal: Calendar) -> pl.Expr:
    """Calendar._before, vectorised: business days from 0001-01-01 up to (not including) ``ordinal``."""
    prefix = cal._week_prefix
    zero_based = ordinal - 1
    weeks = zero_based // 7
    rest = zero_based % 7
    count = weeks * prefix[7] + lookup(rest, range(7), pl.Series(prefix[:7], dtype=pl.Int64))
    if cal._holiday_ordinals:
        count = count - pl.lit(pl.Series(cal._holiday_ordinals, dtype=pl.Int64)).search_sorted(
            ordinal, side="left").cast(pl.Int64)
    if cal._workday_ordinals:
        count = count + pl.lit(pl.Series(cal._workday_ordinals, dtype=pl.Int64)).search_sorted(
            ordinal, side="left").cast(pl.Int64)
    return count


def business_days_expr(start_date: pl.Expr, end_date: pl.Expr, cal: Calendar) -> pl.Expr:
    """Calendar.business_days_between for Date expressions."""
    s = _ordinal(start_date)
    e = _ordinal(end_date)
    forward = _days_before(e, cal) - _days_before(s, cal)
    backward = -(_days_before(s + 1, cal) - _days_before(e + 1, cal))
    return pl.when(s <= e).then(forward).otherwise(backward)
