"""Typing values: one parser pair per field type, for text cells and for typed (JSON, Excel, Parquet) values."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..i18n import _
from .results import quote_value

if TYPE_CHECKING:
    from ..model import Field

_CACHE_LIMIT = 10_000  # distinct date texts remembered per field
_DEFAULT_TRUE = ("true", "1", "yes", "y", "t", "是")
_DEFAULT_FALSE = ("false", "0", "no", "n", "f", "否")


class RejectedValue(Exception):
    """Raised by a parser when a value breaks the contract; the caller turns it into a Problem."""

    def __init__(self, code: str, reason: str, *, has_value: bool = True) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.has_value = has_value


_INT_DOT_ZERO = re.compile(r"\s*([+-]?[0-9]+)\.0*\s*")
_CLOCK = re.compile(r"\s*([+-]?)([0-9]+):([0-9]{1,2})(?::([0-9]{1,2}))?((?:\.[0-9]+)?)\s*")
_ISO = re.compile(
    r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?"
    r"\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?\s*",
    re.IGNORECASE,
)
_SLASHED = re.compile(
    r"\s*([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"
    r"(?:[T ]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?"
    r"\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?\s*",
    re.IGNORECASE,
)


def json_kind(value: Any) -> str:
    """What a JSON value is, for a reason sentence: "a number", "an object", ..."""
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, (int, float)):
        return _("a number")
    if isinstance(value, Mapping):
        return _("an object")
    if isinstance(value, (list, tuple)):
        return _("a list")
    return _("a {type}", type=type(value).__name__)


def _parse_iso_datetime(text: str, zone: ZoneInfo) -> dt.datetime:
    """ISO 8601 (or year-first slashed) date-time text -> aware datetime in ``zone``.

    Tried after ``datetime.fromisoformat`` fails, so Python 3.10 (no ``Z``, fixed
    fraction lengths) reads the same texts as 3.11+.
    """
    m = _ISO.fullmatch(text) or _SLASHED.fullmatch(text)
    if m is None:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    value = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    if off is None:
        return value.replace(tzinfo=zone)
    if off in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        digits = off[1:].replace(":", "")
        delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = dt.timezone(-delta if off[0] == "-" else delta)
    return value.replace(tzinfo=tz).astimezone(zone)


def _to_zone(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Naive -> read in ``zone``; aware -> converted to ``zone``."""
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def _datetime_text(zone: ZoneInfo, fmt: str | None) -> Callable[[str], dt.datetime]:
    """A parser of date-time text, raising ValueError/OverflowError when it does not parse."""
    if fmt:
        strptime = dt.datetime.strptime

        def parse_format(text: str) -> dt.datetime:
            return _to_zone(strptime(text.strip(), fmt), zone)

        return parse_format
    fromiso = dt.datetime.fromisoformat

    def parse_iso(text: str) -> dt.datetime:
        try:
            value = fromiso(text)
        except ValueError:
            return _parse_iso_datetime(text, zone)
        if value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return value.astimezone(zone)

    return parse_iso


def boolean_tables(field: Field) -> tuple[dict[str, bool], dict[str, bool]]:
    """(exact table from the contract, case-insensitive defaults for sides it leaves out)."""
    exact: dict[str, bool] = {}
    folded: dict[str, bool] = {}
    for values, truth, defaults in (
        (field.true_values, True, _DEFAULT_TRUE),
        (field.false_values, False, _DEFAULT_FALSE),
    ):
        if values is None:
            for v in defaults:
                folded.setdefault(v.casefold(), truth)
        else:
            for v in values:
                exact.setdefault(str(v).strip(), truth)
    return exact, folded


def _bool_hint(field: Field) -> str:
    trues = list(field.true_values) if field.true_values is not None else ["true", "1", "yes", "Y", "是"]
    falses = list(field.false_values) if field.false_values is not None else ["false", "0", "no", "N", "否"]
    return _("use one of {trues} for true or {falses} for false, "
             "or declare the export's words with true_values/false_values",
             trues=", ".join(map(str, trues)), falses=", ".join(map(str, falses)))


# Builders: field type -> (text parser, JSON value parser). Text parsers get a cell that
# is not blank; JSON parsers get a value that is neither None nor a str.

ParserBuilder = Callable[["Field", ZoneInfo], tuple[Callable[[str], Any], Callable[[Any], Any]]]


def _build_string(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    def text(s: str) -> str:
        return s

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        raise RejectedValue("not-string", _("{kind} is not a text value; write the value as a string", kind=json_kind(v)))

    return text, value


def _not_finite(raw: Any) -> RejectedValue:
    return RejectedValue("not-finite", _("{value} is not a finite number; use a real number or leave the cell empty",
                                         value=quote_value(raw)))


def _finite_number(v: Any, bad: Callable[[Any], RejectedValue]) -> float:
    """A typed value (JSON, Excel, Parquet) as a finite float; ``bad(v)`` when it is not a number."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise bad(v)
    try:
        x = float(v)
    except OverflowError:
        raise _not_finite(v) from None
    if not math.isfinite(x):
        raise _not_finite(v)
    return x


def _build_integer(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    dot_zero = _INT_DOT_ZERO.fullmatch
    isfinite = math.isfinite

    def bad(raw: Any) -> RejectedValue:
        return RejectedValue("not-integer", _("{value} is not an integer; write a whole number such as 12",
                                              value=quote_value(raw)))

    def text(s: str) -> int:
        if s.isascii() and "_" not in s:
            try:
                return int(s)
            except ValueError:
                m = dot_zero(s)
                if m is not None:
                    return int(m.group(1))
                try:
                    x = float(s)
                except ValueError:
                    raise bad(s) from None
                if not isfinite(x) and not any(c.isdigit() for c in s):  # nan, inf (not 1e999)
                    raise _not_finite(s) from None
        raise bad(s)

    def value(v: Any) -> int:
        if isinstance(v, bool):
            raise bad(v)
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            if not isfinite(v):
                raise _not_finite(v)
            if v.is_integer():
                return int(v)
        raise bad(v)

    return text, value


def _build_number(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    isfinite = math.isfinite

    def bad(raw: Any) -> RejectedValue:
        if isinstance(raw, str) and ("," in raw or "%" in raw):
            return RejectedValue("not-number", _(
                "{value} is not a number; write a plain decimal such as 1234.5 or 1.2e3 "
                "(no thousands separators, units or % signs)", value=quote_value(raw)))
        return RejectedValue("not-number", _("{value} is not a number; write a plain decimal such as 1234.5 or 1.2e3",
                                             value=quote_value(raw)))

    def text(s: str) -> float:
        if s.isascii() and "_" not in s:
            try:
                x = float(s)
            except ValueError:
                raise bad(s) from None
            if isfinite(x):
                return x
            raise _not_finite(s)
        raise bad(s)

    def value(v: Any) -> float:
        return _finite_number(v, bad)

    return text, value


def _build_boolean(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    exact, folded = boolean_tables(field)

    def text(s: str) -> bool:
        t = s.strip()
        r = exact.get(t)
        if r is None:
            r = folded.get(t.casefold())
            if r is None:
                raise RejectedValue("not-boolean", _("{value} is not a boolean; {hint}", value=quote_value(s),
                                                     hint=_bool_hint(field)))
        return r

    def value(v: Any) -> bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return text(str(v))
        raise RejectedValue("not-boolean", _("{value} is not a boolean; {hint}", value=quote_value(v),
                                             hint=_bool_hint(field)))

    return text, value


def _build_date(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    fmt = field.format
    as_datetime = _datetime_text(zone, fmt)
    fromiso = dt.date.fromisoformat
    cache: dict[str, dt.date] = {}

    def bad(raw: Any) -> RejectedValue:
        if fmt:
            return RejectedValue("bad-date", _("{value} does not match the format {format!r}; fix the value or the "
                                               "field's `format:`", value=quote_value(raw), format=fmt))
        return RejectedValue("bad-date", _('{value} is not a date; write YYYY-MM-DD, or declare the export\'s '
                                           '`format:` (e.g. "%d-%m-%Y")', value=quote_value(raw)))

    def text(s: str) -> dt.date:
        d = cache.get(s)
        if d is None:
            t = s.strip()
            try:
                d = as_datetime(t).date() if fmt else fromiso(t)
            except (ValueError, OverflowError):
                if fmt:
                    raise bad(s) from None
                try:
                    d = as_datetime(t).date()
                except (ValueError, OverflowError):
                    raise bad(s) from None
            if len(cache) < _CACHE_LIMIT:
                cache[s] = d
        return d

    def value(v: Any) -> dt.date:
        if isinstance(v, dt.datetime):
            try:
                return _to_zone(v, zone).date()
            except OverflowError:
                raise RejectedValue("bad-date", _("{value} is out of range", value=quote_value(v))) from None
        if isinstance(v, dt.date):
            return v
        raise RejectedValue("bad-date", _("{kind} is not a date; write the date as text YYYY-MM-DD", kind=json_kind(v)))

    return text, value


def _build_datetime(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    fmt = field.format
    parse = _datetime_text(zone, fmt)

    def text(s: str) -> dt.datetime:
        try:
            return parse(s)
        except (ValueError, OverflowError):
            if fmt:
                raise RejectedValue("bad-datetime", _(
                    "{value} does not match the format {format!r}; fix the value or the field's `format:`",
                    value=quote_value(s), format=fmt)) from None
            raise RejectedValue("bad-datetime", _(
                "{value} is not a date-time; write ISO 8601 such as 2026-05-14T09:30:00 (add Z or +08:00 for "
                "an offset), or declare the export's `format:`", value=quote_value(s))) from None

    def value(v: Any) -> dt.datetime:
        if isinstance(v, dt.datetime):
            try:
                return _to_zone(v, zone)
            except OverflowError:
                raise RejectedValue("bad-datetime", _("{value} is out of range", value=quote_value(v))) from None
        raise RejectedValue("bad-datetime", _("{kind} is not a date-time; write it as ISO 8601 text",
                                              kind=json_kind(v)))

    return text, value


def _build_duration(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    isfinite = math.isfinite
    clock = _CLOCK.fullmatch

    def bad(raw: Any) -> RejectedValue:
        return RejectedValue("bad-duration", _(
            "{value} is not a duration; write seconds (179), MM:SS (02:59) or HH:MM:SS (00:02:59)",
            value=quote_value(raw)))

    def text(s: str) -> float:
        if s.isascii() and "_" not in s:
            try:
                x = float(s)
            except ValueError:
                m = clock(s)
                if m is None:
                    raise bad(s) from None
                sign, a, b, c, frac = m.groups()
                if c is None:  # MM:SS
                    hours, minutes, seconds = 0, int(a), int(b)
                else:  # H:MM:SS
                    hours, minutes, seconds = int(a), int(b), int(c)
                    if minutes >= 60:
                        raise bad(s) from None
                if seconds >= 60:
                    raise bad(s) from None
                x = hours * 3600 + minutes * 60 + seconds + (float(frac) if frac else 0.0)
                return -x if sign == "-" else x
            if isfinite(x):
                return x
            raise _not_finite(s)
        raise bad(s)

    def value(v: Any) -> float:
        if isinstance(v, dt.timedelta):
            return v.total_seconds()
        return _finite_number(v, bad)

    return text, value


PARSER_BUILDERS: dict[str, ParserBuilder] = {
    "string": _build_string,
    "integer": _build_integer,
    "number": _build_number,
    "boolean": _build_boolean,
    "date": _build_date,
    "datetime": _build_datetime,
    "duration": _build_duration,
}
