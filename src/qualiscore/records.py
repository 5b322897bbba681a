"""Stage: interaction records in, typed rows out, every broken row accounted for.

Records come from exports (CSV from Excel or a contact-centre system, JSON Lines from
an API, Excel workbooks, Parquet files from a data platform) that rarely match the
scheme exactly. This module reads them and types every
row against the scheme's record contract (:class:`~qualiscore.model.RecordContract`).
A row that breaks the contract is *rejected with a reason*, never dropped silently,
so ``rows_read == rows_accepted + rows_rejected`` always holds and the run can list
each rejected row (file, row, field, value, reason) in ``rejects.csv``.

What cannot be read at all (missing file, unknown format, undecodable bytes, no
header) is a :class:`~qualiscore.errors.DataError` with a location and a hint.

Decisions (see also notes/SEMANTICS.md, "Record contract"):

* Row numbers are what a user sees when opening the file: CSV rows count like Excel
  (header = row 1, first data row = 2; a quoted cell with line breaks is still one
  row; blank rows are skipped but keep their number); Excel rows are the sheet's own
  row numbers (the header is the first non-empty row); JSONL rows are line numbers;
  Parquet rows and inline records are 1-based positions.
* Excel cells and Parquet columns carry types, so their values are typed by the JSON
  rules (a number cell is a number, a date cell a date-time, an empty cell null), and
  text cells by the CSV text rules: a workbook and its CSV export give the same
  records. Naive date-times (Excel has no time zones) are read in the contract's zone.
  A time-of-day cell in a duration field (Excel turns a typed ``0:05:12`` into one) is
  that many hours, minutes and seconds. Formula cells give their cached value (a
  workbook saved by a program that never calculated it gives null).
* A CSV row whose cells are all empty (``,,,`` as Excel writes for formatted but empty
  rows) is a blank row: skipped, not read.
* Text values are kept exactly as written (no trimming); other types ignore
  surrounding whitespace. A value that is empty or only whitespace is null.
* Duplicate ids reject *every* occurrence, so the result does not depend on row order.
  Rows that could not be typed far enough to read their id (ragged rows, bad JSON)
  take no part in the duplicate check.
* A field's key is looked up under its ``column`` first, then under its name, so
  inline fixture records may use field names even when the contract maps a header.
* Besides ISO 8601, year-first dates with slashes (``2026/5/14 9:30``, as Excel
  writes them in China) are accepted: they are unambiguous.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import DataError, Location, RejectLimitError, UsageError

if TYPE_CHECKING:  # only for annotations: keeps this module importable on its own
    from .model import Field, RecordContract

__all__ = [
    "PROBLEM_CODES",
    "Dataset",
    "InputFile",
    "Problem",
    "check_reject_limit",
    "parse_max_rejects",
    "read_records",
    "records_from_dicts",
    "split_sheet",
]

PROBLEM_CODES = (
    "missing-value",
    "not-integer",
    "not-number",
    "not-boolean",
    "not-string",
    "bad-date",
    "bad-datetime",
    "bad-duration",
    "not-in-enum",
    "below-minimum",
    "above-maximum",
    "not-finite",
    "duplicate-id",
    "missing-column",
    "ragged-row",
    "bad-json",
    "not-an-object",
)

MAX_VALUE_CHARS = 200
_CHUNK = 1 << 20
_CACHE_LIMIT = 10_000
_DEFAULT_TRUE = ("true", "1", "yes", "y", "t", "是")
_DEFAULT_FALSE = ("false", "0", "no", "n", "f", "否")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_PARQUET_BATCH = 8192  # Parquet rows turned into Python values at a time


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason one row was rejected: enough to find the cell and fix it."""

    source: str  # input path as given (or the inline source name)
    row: int  # CSV/Excel: as the spreadsheet shows it; JSONL: line number; Parquet, inline: 1-based index
    record_id: str | None  # the row's raw id value, when it can be read
    field: str | None  # contract field name; None for row-level problems (ragged row, bad JSON)
    value: str | None  # the raw value as read (str() of it), at most 200 characters
    code: str  # one of PROBLEM_CODES
    reason: str  # a sentence saying what is wrong and how to fix it


@dataclass(frozen=True, slots=True)
class InputFile:
    """What was read from one input, for the run manifest and for audit."""

    path: str  # as given (an Excel sheet chosen in the path stays in it: "book.xlsx#Sheet1")
    sha256: str  # of the raw bytes (of the canonical JSON for inline records)
    format: str  # "csv" | "jsonl" | "xlsx" | "parquet" | "inline"
    encoding: str  # codec actually used ("" for inline records and binary formats)
    rows_read: int
    rows_rejected: int
    sheet: str | None = None  # the worksheet read, for Excel inputs


@dataclass(frozen=True, slots=True)
class Dataset:
    """Typed, accepted records plus every rejected row's problems and the inputs read."""

    records: tuple[dict[str, Any], ...]  # field name -> typed value; every contract field present
    origins: tuple[tuple[str, int], ...]  # (source, row) of each record, same order
    problems: tuple[Problem, ...]  # one per failing (row, field), sorted by input, row, field
    inputs: tuple[InputFile, ...]
    # (source, field) of nullable fields whose column was absent, so every row got null:
    # not a rejection, but worth a warning (a misspelt optional column looks like this).
    missing_columns: tuple[tuple[str, str], ...] = ()

    @property
    def rows_read(self) -> int:
        return sum(i.rows_read for i in self.inputs)

    @property
    def rows_rejected(self) -> int:
        return len({(p.source, p.row) for p in self.problems})

    @property
    def rows_accepted(self) -> int:
        return len(self.records)


# --------------------------------------------------------------------------- typing values


class _Bad(Exception):
    """A value breaks the contract (internal: becomes a Problem)."""

    def __init__(self, code: str, reason: str, *, has_value: bool = True) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.has_value = has_value


_MISSING: Any = object()

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


def _q(value: Any) -> str:
    """A value quoted for a reason sentence (shortened: the full value is in `value`)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "…"
    return repr(text)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _clip(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


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


def _bool_tables(field: Field) -> tuple[dict[str, bool], dict[str, bool]]:
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
    return (
        f"use one of {', '.join(map(str, trues))} for true or {', '.join(map(str, falses))} for false, "
        "or declare the export's words with true_values/false_values"
    )


class _FieldReader:
    """Everything needed to type one field, prepared once per contract.

    ``text`` types a raw text cell (CSV, or a JSON string); ``value`` types a JSON
    value of any kind. Both return the typed value or raise :class:`_Bad`.
    """

    __slots__ = ("field", "name", "nullable", "source", "text", "value")

    def __init__(self, field: Field, zone: ZoneInfo) -> None:
        self.field = field
        self.name = field.name
        self.source = field.source
        self.nullable = field.nullable
        builder = _BUILDERS.get(field.type)
        if builder is None:
            raise ValueError(f"field {field.name!r} has unknown type {field.type!r}")
        base_text, base_value = builder(field, zone)
        check = self._make_check(field, base_text, base_value)
        nullable = field.nullable
        name = field.name

        def null() -> None:
            if nullable:
                return None
            raise _Bad(
                "missing-value",
                f"{name!r} is empty but required; fill it in, or declare the field `nullable: true`",
            )

        if field.type == "string" and check is None:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return s

        elif check is None:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return base_text(s)

        else:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return check(base_text(s), s)

        def value(v: Any) -> Any:
            if v is None:
                return null()
            if isinstance(v, str):
                return text(v)
            typed = base_value(v)
            return typed if check is None else check(typed, v)

        self.text = text
        self.value = value

    @staticmethod
    def _make_check(
        field: Field, base_text: Callable[[str], Any], base_value: Callable[[Any], Any]
    ) -> Callable[[Any, Any], Any] | None:
        """Enum and range checks on the typed value, or None when the field has neither."""
        allowed: frozenset[Any] | None = None
        shown = ""
        if field.enum is not None:
            typed = set()
            for e in field.enum:
                try:
                    typed.add(base_text(e) if isinstance(e, str) else base_value(e))
                except (_Bad, ValueError, TypeError, OverflowError):
                    continue  # an enum value of the wrong type never matches (validation warns)
            allowed = frozenset(typed)
            listed = [str(e) for e in field.enum[:20]]
            shown = ", ".join(listed) + (", …" if len(field.enum) > 20 else "")
        numeric = field.type in ("integer", "number", "duration")
        lo = field.minimum if numeric else None
        hi = field.maximum if numeric else None
        if allowed is None and lo is None and hi is None:
            return None
        unit = " seconds" if field.type == "duration" else ""

        def check(v: Any, raw: Any) -> Any:
            if allowed is not None and v not in allowed:
                raise _Bad("not-in-enum", f"{_q(raw)} is not one of: {shown}; use one of these values")
            if lo is not None and v < lo:
                raise _Bad(
                    "below-minimum",
                    f"{_q(raw)} is below the minimum {_num(lo)}{unit}; correct the value or the contract",
                )
            if hi is not None and v > hi:
                raise _Bad(
                    "above-maximum",
                    f"{_q(raw)} is above the maximum {_num(hi)}{unit}; correct the value or the contract",
                )
            return v

        return check


# Builders: field type -> (text parser, JSON value parser). Text parsers get a cell that
# is not blank; JSON parsers get a value that is neither None nor a str.

_Builder = Callable[["Field", ZoneInfo], tuple[Callable[[str], Any], Callable[[Any], Any]]]


def _build_string(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    def text(s: str) -> str:
        return s

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        raise _Bad("not-string", f"{_json_type(v)} is not a text value; write the value as a string")

    return text, value


def _not_finite(raw: Any) -> _Bad:
    return _Bad("not-finite", f"{_q(raw)} is not a finite number; use a real number or leave the cell empty")


def _build_integer(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    dot_zero = _INT_DOT_ZERO.fullmatch
    isfinite = math.isfinite

    def bad(raw: Any) -> _Bad:
        return _Bad("not-integer", f"{_q(raw)} is not an integer; write a whole number such as 12")

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

    def bad(raw: Any) -> _Bad:
        hint = "write a plain decimal such as 1234.5 or 1.2e3"
        if isinstance(raw, str) and ("," in raw or "%" in raw):
            hint += " (no thousands separators, units or % signs)"
        return _Bad("not-number", f"{_q(raw)} is not a number; {hint}")

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
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad(v)
        try:
            x = float(v)
        except OverflowError:
            raise _not_finite(v) from None
        if not isfinite(x):
            raise _not_finite(v)
        return x

    return text, value


def _build_boolean(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    exact, folded = _bool_tables(field)
    hint = _bool_hint(field)

    def text(s: str) -> bool:
        t = s.strip()
        r = exact.get(t)
        if r is None:
            r = folded.get(t.casefold())
            if r is None:
                raise _Bad("not-boolean", f"{_q(s)} is not a boolean; {hint}")
        return r

    def value(v: Any) -> bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return text(str(v))
        raise _Bad("not-boolean", f"{_q(v)} is not a boolean; {hint}")

    return text, value


def _build_date(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    fmt = field.format
    as_datetime = _datetime_text(zone, fmt)
    fromiso = dt.date.fromisoformat
    cache: dict[str, dt.date] = {}
    if fmt:
        how = f"does not match the format {fmt!r}; fix the value or the field's `format:`"
    else:
        how = 'is not a date; write YYYY-MM-DD, or declare the export\'s `format:` (e.g. "%d-%m-%Y")'

    def text(s: str) -> dt.date:
        d = cache.get(s)
        if d is None:
            t = s.strip()
            try:
                d = as_datetime(t).date() if fmt else fromiso(t)
            except (ValueError, OverflowError):
                if fmt:
                    raise _Bad("bad-date", f"{_q(s)} {how}") from None
                try:
                    d = as_datetime(t).date()
                except (ValueError, OverflowError):
                    raise _Bad("bad-date", f"{_q(s)} {how}") from None
            if len(cache) < _CACHE_LIMIT:
                cache[s] = d
        return d

    def value(v: Any) -> dt.date:
        if isinstance(v, dt.datetime):
            try:
                return _to_zone(v, zone).date()
            except OverflowError:
                raise _Bad("bad-date", f"{_q(v)} is out of range") from None
        if isinstance(v, dt.date):
            return v
        raise _Bad("bad-date", f"{_json_type(v)} is not a date; write the date as text YYYY-MM-DD")

    return text, value


def _build_datetime(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    fmt = field.format
    parse = _datetime_text(zone, fmt)
    if fmt:
        how = f"does not match the format {fmt!r}; fix the value or the field's `format:`"
    else:
        how = (
            "is not a date-time; write ISO 8601 such as 2026-05-14T09:30:00 (add Z or +08:00 for "
            "an offset), or declare the export's `format:`"
        )

    def text(s: str) -> dt.datetime:
        try:
            return parse(s)
        except (ValueError, OverflowError):
            raise _Bad("bad-datetime", f"{_q(s)} {how}") from None

    def value(v: Any) -> dt.datetime:
        if isinstance(v, dt.datetime):
            try:
                return _to_zone(v, zone)
            except OverflowError:
                raise _Bad("bad-datetime", f"{_q(v)} is out of range") from None
        raise _Bad("bad-datetime", f"{_json_type(v)} is not a date-time; write it as ISO 8601 text")

    return text, value


def _build_duration(field: Field, zone: ZoneInfo) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    isfinite = math.isfinite
    clock = _CLOCK.fullmatch

    def bad(raw: Any) -> _Bad:
        return _Bad(
            "bad-duration",
            f"{_q(raw)} is not a duration; write seconds (179), MM:SS (02:59) or HH:MM:SS (00:02:59)",
        )

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
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad(v)
        try:
            x = float(v)
        except OverflowError:
            raise _not_finite(v) from None
        if not isfinite(x):
            raise _not_finite(v)
        return x

    return text, value


_BUILDERS: dict[str, _Builder] = {
    "string": _build_string,
    "integer": _build_integer,
    "number": _build_number,
    "boolean": _build_boolean,
    "date": _build_date,
    "datetime": _build_datetime,
    "duration": _build_duration,
}
# What a value that breaks a parser in an unforeseen way is reported as (a safety net:
# typing a row must never raise).
_FALLBACK_CODE = {
    "string": "not-string",
    "integer": "not-integer",
    "number": "not-number",
    "boolean": "not-boolean",
    "date": "bad-date",
    "datetime": "bad-datetime",
    "duration": "bad-duration",
}
_UNFORESEEN = (ValueError, TypeError, OverflowError, ArithmeticError, KeyError, IndexError)


class _Typer:
    """A contract prepared for typing rows: one reader per field, built once."""

    def __init__(self, contract: RecordContract) -> None:
        try:
            zone = ZoneInfo(contract.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise DataError(
                f"unknown time zone {contract.timezone!r} in the record contract",
                hint="set records.timezone to an IANA name such as Asia/Shanghai or UTC",
                code="bad-timezone",
            ) from None
        self.contract = contract
        self.readers = tuple(_FieldReader(f, zone) for f in contract.fields)
        self.names = tuple(r.name for r in self.readers)
        self.order = {name: i for i, name in enumerate(self.names)}
        self.id_pos = self.order.get(contract.id)
        self.id_reader = self.readers[self.id_pos] if self.id_pos is not None else None


def _problem_from(
    exc: BaseException, reader: _FieldReader, src: str, row: int, rid: str | None, raw: Any
) -> Problem:
    if isinstance(exc, _Bad):
        return Problem(
            src, row, rid, reader.name, _clip(raw) if exc.has_value else None, exc.code, exc.reason
        )
    return Problem(
        src,
        row,
        rid,
        reader.name,
        _clip(raw),
        _FALLBACK_CODE.get(reader.field.type, "not-string"),
        f"{_q(raw)} cannot be read as {reader.field.type} ({exc}); correct the value",
    )


def _closest(wanted: str, available: Iterable[str]) -> str:
    names = [a for a in available if isinstance(a, str)]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    if close:
        return f"closest is {close[0]!r}"
    if not names:
        return "there are none"
    shown = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
    return f"available: {shown}"


# --------------------------------------------------------------------------- collecting rows


class _Collector:
    """Accepted records, problems and id occurrences across all inputs of one dataset."""

    def __init__(self, typer: _Typer) -> None:
        self.typer = typer
        self.records: list[dict[str, Any]] = []
        self.origins: list[tuple[str, int]] = []
        self.problems: list[Problem] = []
        self.first_seen: dict[Any, tuple[str, int, int, str | None]] = {}
        self.repeated: dict[Any, list[tuple[str, int, int, str | None]]] = {}
        self.sources: list[str] = []
        self.missing_columns: list[tuple[str, str]] = []

    def id_seen(self, value: Any, src: str, row: int, accepted_at: int, rid: str | None) -> None:
        if value is None:
            return
        occurrence = (src, row, accepted_at, rid)
        first = self.first_seen.setdefault(value, occurrence)
        if first is not occurrence:
            self.repeated.setdefault(value, [first]).append(occurrence)

    def accept(self, record: dict[str, Any], src: str, row: int) -> int:
        self.records.append(record)
        self.origins.append((src, row))
        return len(self.records) - 1

    def finish(self, inputs: list[tuple[str, str, str, str, int, str | None]]) -> Dataset:
        """Reject every occurrence of a repeated id, sort the problems, count per input."""
        typer = self.typer
        drop: set[int] = set()
        if typer.id_reader is not None:
            id_name = typer.id_reader.name
            for occurrences in self.repeated.values():
                for src, row, accepted_at, rid in occurrences:
                    others = [o for o in occurrences if (o[0], o[1]) != (src, row)]
                    where = [f"row {o[1]}" if o[0] == src else f"{o[0]} row {o[1]}" for o in others[:10]]
                    more = f" and {len(others) - 10} more" if len(others) > 10 else ""
                    self.problems.append(
                        Problem(
                            src,
                            row,
                            _clip(rid),
                            id_name,
                            _clip(rid),
                            "duplicate-id",
                            f"id {_q(rid)} also appears in {', '.join(where)}{more}; ids must be unique, so "
                            "every occurrence is rejected: remove the duplicates or correct the ids",
                        )
                    )
                    if accepted_at >= 0:
                        drop.add(accepted_at)
        rank = {s: i for i, s in enumerate(self.sources)}
        order = typer.order
        problems = sorted(
            self.problems,
            key=lambda p: (
                rank.get(p.source, len(rank)),
                p.row,
                -1 if p.field is None else order.get(p.field, -1),
            ),
        )
        rejected: dict[str, set[int]] = {}
        for p in problems:
            rejected.setdefault(p.source, set()).add(p.row)
        files = tuple(
            InputFile(path, sha, fmt, enc, read, len(rejected.get(path, ())), sheet)
            for path, sha, fmt, enc, read, sheet in inputs
        )
        if drop:
            keep = [i for i in range(len(self.records)) if i not in drop]
            records = tuple(self.records[i] for i in keep)
            origins = tuple(self.origins[i] for i in keep)
        else:
            records, origins = tuple(self.records), tuple(self.origins)
        return Dataset(records, origins, tuple(problems), files, tuple(self.missing_columns))


def _type_mapping(obj: Mapping[Any, Any], src: str, row: int, out: _Collector) -> None:
    """Type one JSON object / inline record (keys: the field's column, else its name)."""
    typer = out.typer
    id_reader = typer.id_reader
    rid = None
    if id_reader is not None:
        raw_id = obj.get(id_reader.source, _MISSING)
        if raw_id is _MISSING and id_reader.source != id_reader.name:
            raw_id = obj.get(id_reader.name, _MISSING)
        rid = None if raw_id is _MISSING or raw_id is None else _clip(raw_id)
    record: dict[str, Any] = {}
    failed = False
    id_value = None
    for pos, reader in enumerate(typer.readers):
        raw = obj.get(reader.source, _MISSING)
        if raw is _MISSING and reader.source != reader.name:
            raw = obj.get(reader.name, _MISSING)
        if raw is _MISSING:
            if reader.nullable:
                record[reader.name] = None
                continue
            failed = True
            keys = [k for k in obj if isinstance(k, str)]
            out.problems.append(
                Problem(
                    src,
                    row,
                    rid,
                    reader.name,
                    None,
                    "missing-column",
                    f"the record has no {reader.source!r} ({_closest(reader.source, keys)}); "
                    "add the key, or map it with `column:` in the contract",
                )
            )
            continue
        try:
            value = reader.value(raw)
        except (_Bad, *_UNFORESEEN) as exc:
            failed = True
            out.problems.append(_problem_from(exc, reader, src, row, rid, raw))
            continue
        record[reader.name] = value
        if pos == typer.id_pos:
            id_value = value
    accepted_at = -1 if failed else out.accept(record, src, row)
    if id_reader is not None:
        out.id_seen(_hashable(id_value), src, row, accepted_at, rid)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return None
    return value


# --------------------------------------------------------------------------- reading files


def _decode_error(path: str, encoding: str, offset: int, line: int) -> DataError:
    return DataError(
        f"cannot be decoded as {encoding}: bad byte at line {line}, byte offset {offset}",
        location=Location(path, line=line),
        hint="pass --encoding with the file's real encoding (e.g. --encoding gb18030), or re-save it as UTF-8",
        code="encoding",
    )


def _scan(path: str, source: str, encoding: str | None) -> tuple[str, str]:
    """Hash the raw bytes and choose the codec, streaming (the text is decoded again to read).

    Returns (sha256, codec name). The check here is complete, so reading later never
    fails half-way through on an undecodable byte.
    """

    def attempt(codec: str, hasher: Any | None) -> tuple[int, int] | None:
        """Decode the whole file; return (byte offset, line) of the first bad byte, or None."""
        decoder = codecs.getincrementaldecoder(codec)("strict")
        offset = 0
        lines = 0
        failure: tuple[int, int] | None = None
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_CHUNK)
                if hasher is not None:
                    hasher.update(chunk)
                if failure is None:
                    pending = decoder.getstate()[0]
                    try:
                        decoder.decode(chunk, final=not chunk)
                    except UnicodeDecodeError as exc:
                        data = pending + chunk
                        bad = max(exc.start, 0)
                        failure = (offset - len(pending) + bad, lines + data[:bad].count(b"\n") + 1)
                        if hasher is None:
                            return failure
                    lines += chunk.count(b"\n")
                    offset += len(chunk)
                if not chunk:
                    return failure

    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4)
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(
                f"unknown encoding {encoding!r}",
                hint="use a Python codec name such as utf-8, gb18030, gbk or utf-16",
            ) from None
        if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        failure = attempt(codec, hasher)
        if failure is not None:
            raise _decode_error(source, codec, *failure)
        return hasher.hexdigest(), codec
    if head.startswith(codecs.BOM_UTF8):
        first = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        first = "utf-16"
    else:
        first = "utf-8"
    failure = attempt(first, hasher)
    if failure is None:
        return hasher.hexdigest(), first
    if first == "utf-16":
        raise _decode_error(source, first, *failure)
    if attempt("gb18030", None) is None:
        return hasher.hexdigest(), "gb18030"
    offset, line = failure
    raise DataError(
        f"is neither UTF-8 nor GB18030: bad byte at line {line}, byte offset {offset}",
        location=Location(source, line=line),
        hint="pass --encoding with the file's real encoding, or re-save it as UTF-8",
        code="encoding",
    )


def _format_of(path: str, source: str) -> str:
    fmt = _SUFFIXES.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        suffix = os.path.splitext(path)[1] or "(none)"
        extra = (
            " (an old .xls workbook: open it in Excel and save it as .xlsx, or as CSV UTF-8)"
            if suffix.lower() in (".xls", ".et", ".ods")
            else ""
        )
        raise DataError(
            f"unknown input format {suffix!r}",
            location=Location(source),
            hint=f"qualiscore reads {_KNOWN_FORMATS} files; rename the file or convert it" + extra,
            code="format",
        )
    return fmt


def _open_checked(path: str, source: str) -> None:
    if not os.path.exists(path):
        raise DataError(
            "no such file",
            location=Location(source),
            hint="check the path; it is relative to the current directory",
            code="file-not-found",
        )
    if os.path.isdir(path):
        raise DataError(
            "is a directory, not a records file",
            location=Location(source),
            hint="pass the data files themselves (e.g. data/*.csv)",
            code="file-not-found",
        )


def _header_index(header: list[str], source_name: str, field_name: str) -> int | str | None:
    """Column index of a field (exact header, else the header trimmed), None if absent.

    Returns a message string if the column is ambiguous.
    """
    for wanted in (source_name, field_name) if source_name != field_name else (source_name,):
        hits = [i for i, h in enumerate(header) if h == wanted]
        if not hits:
            hits = [i for i, h in enumerate(header) if h.strip() == wanted.strip()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return f"column {wanted!r} appears {len(hits)} times in the header"
    return None


def _read_csv(path: str, source: str, encoding: str, tab: bool, out: _Collector) -> int:
    """Type every CSV row; returns rows read (blank rows excluded)."""
    typer = out.typer
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
        skipped = 0  # blank lines above the header still count as rows, as in Excel
        while first and not first.strip():
            first = f.readline()
            skipped += 1
        if not first:
            raise DataError(
                "is empty: a CSV file needs a header row naming its columns",
                location=Location(source, line=1),
                hint="export the data with column headers in the first row",
                code="empty",
            )
        if tab:
            delimiter = "\t"
        elif "," not in first and ("\t" in first or ";" in first):
            delimiter = "\t" if first.count("\t") >= first.count(";") else ";"
        else:
            delimiter = ","
        reader = csv.reader(_chain(first, f), delimiter=delimiter, strict=True)
        return _type_csv_rows(reader, source, typer, out, skipped)


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def _type_csv_rows(
    reader: Iterator[list[str]], source: str, typer: _Typer, out: _Collector, skipped: int = 0
) -> int:
    rownum = skipped
    try:
        header = next(reader)
        rownum += 1
        while not any(header):
            header = next(reader)
            rownum += 1
    except StopIteration:
        raise DataError(
            "is empty: a CSV file needs a header row naming its columns",
            location=Location(source, line=1),
            hint="export the data with column headers in the first row",
            code="empty",
        ) from None
    except csv.Error as exc:
        raise _csv_error(source, rownum + 1, exc) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    ncols = len(header)

    # The plan: (name, column index, text parser) per field, in contract order.
    plan: list[tuple[str, int, Callable[[str], Any]]] = []
    cells_of: list[int | None] = []
    for fr in typer.readers:
        idx = _header_index(header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(
                idx,
                location=Location(source, line=rownum, field=fr.name),
                hint="rename one of the columns so each field reads exactly one",
                code="ambiguous-column",
            )
        cells_of.append(idx)
        if idx is not None:
            plan.append((fr.name, idx, fr.text))
        elif fr.nullable:
            out.missing_columns.append((source, fr.name))
            plan.append((fr.name, 0, _always_none))
        else:
            message = (
                f"column {fr.source!r} is not in the header ({_closest(fr.source, header)}); "
                "rename the column, or map it with `column:` in the contract"
            )
            plan.append((fr.name, 0, _always_missing(message)))
    id_pos = typer.id_pos
    id_cell = cells_of[id_pos] if id_pos is not None else None
    problems = out.problems

    read = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(source, rownum + 1, exc) from None
        rownum += 1
        if len(row) != ncols:
            if not any(row) or (len(row) == 1 and row[0].isspace()):
                continue  # blank line: not read, but it keeps its number
            read += 1
            rid = row[id_cell] if id_cell is not None and id_cell < len(row) else None
            problems.append(
                Problem(
                    source,
                    rownum,
                    _clip(rid),
                    None,
                    None,
                    "ragged-row",
                    f"the row has {len(row)} cells but the header has {ncols}; look for an unquoted "
                    "delimiter or a missing quote, or quote cells that contain the delimiter",
                )
            )
            continue
        if not any(row):
            continue  # all cells empty (",,,"): a blank row
        read += 1
        _type_row(row, plan, typer, source, rownum, id_cell, out)
    return read


def _type_row(
    row: Sequence[Any],
    plan: list[tuple[str, int, Callable[[Any], Any]]],
    typer: _Typer,
    source: str,
    rownum: int,
    id_cell: int | None,
    out: _Collector,
) -> None:
    """Type one row of cells, accept it and note its id; a row with a problem is typed slowly.

    Used for every tabular format (CSV cells are text; Excel and Parquet cells are values).
    """
    try:
        record = {name: conv(row[idx]) for name, idx, conv in plan}
    except (_Bad, *_UNFORESEEN):
        _type_row_slowly(row, plan, typer, source, rownum, id_cell, out)
        return
    at = out.accept(record, source, rownum)
    if typer.id_pos is not None:
        out.id_seen(_hashable(record[typer.names[typer.id_pos]]), source, rownum, at,
                    row[id_cell] if id_cell is not None else None)


def _type_row_slowly(
    row: Sequence[Any],
    plan: list[tuple[str, int, Callable[[Any], Any]]],
    typer: _Typer,
    source: str,
    rownum: int,
    id_cell: int | None,
    out: _Collector,
) -> None:
    """A row with at least one problem: type each field separately to report them all."""
    rid = _clip(row[id_cell]) if id_cell is not None else None
    id_value = None
    for pos, ((_name, idx, conv), reader) in enumerate(zip(plan, typer.readers, strict=True)):
        raw = row[idx]
        try:
            value = conv(raw)
        except (_Bad, *_UNFORESEEN) as exc:
            out.problems.append(_problem_from(exc, reader, source, rownum, rid, raw))
            continue
        if pos == typer.id_pos:
            id_value = value
    if typer.id_pos is not None:
        out.id_seen(id_value, source, rownum, -1, rid)


def _always_none(_cell: Any) -> None:
    return None


def _always_missing(message: str) -> Callable[[Any], Any]:
    def conv(_cell: Any) -> Any:
        raise _Bad("missing-column", message, has_value=False)

    return conv


def _csv_error(source: str, row: int, exc: csv.Error) -> DataError:
    return DataError(
        f"cannot be read as CSV near row {row}: {exc}",
        location=Location(source, row=row),
        hint="check that quotes are balanced and that no cell is larger than 128 KB",
        code="csv",
    )


def _is_object_line(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value: Any) -> bool:
    """Text that no file can hold: JSON may escape half a surrogate pair, UTF-8 cannot encode it."""
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _read_jsonl(path: str, source: str, encoding: str, is_json: bool, out: _Collector) -> int:
    """Type every JSON Lines row; returns rows read (blank lines excluded)."""
    read = 0
    loads = json.loads
    with open(path, encoding=encoding) as f:
        for lineno, line in enumerate(f, 1):
            if not line or line.isspace():
                continue
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
                if line.isspace():
                    continue
            if is_json and read == 0 and not _is_object_line(line):
                raise DataError(
                    "is a JSON document, not JSON Lines (one object per line)",
                    location=Location(source, line=lineno),
                    hint="write one JSON object per line and name the file .jsonl",
                    code="format",
                )
            read += 1
            try:
                obj = loads(line)
                if _SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(obj):
                    raise ValueError("a \\u escape is half of a surrogate pair, not a character")
            except (ValueError, RecursionError) as exc:
                what = (
                    f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                )
                out.problems.append(
                    Problem(
                        source,
                        lineno,
                        None,
                        None,
                        _clip(line.rstrip("\r\n")),
                        "bad-json",
                        f"the line is not valid JSON ({what}); it may be truncated: write one complete "
                        "JSON object per line",
                    )
                )
                continue
            if not isinstance(obj, dict):
                out.problems.append(
                    Problem(
                        source,
                        lineno,
                        None,
                        None,
                        _clip(line.rstrip("\r\n")),
                        "not-an-object",
                        f"the line holds {_json_type(obj)}, not an object; write one {{...}} object per line",
                    )
                )
                continue
            _type_mapping(obj, source, lineno, out)
    return read


# --------------------------------------------------------------------------- typed tables (Excel, Parquet)

_KNOWN_FORMATS = ".csv, .tsv, .jsonl, .ndjson, .xlsx and .parquet"


def split_sheet(path: str | Path) -> tuple[str, str | None]:
    """``"book.xlsx#Sheet1"`` -> ``("book.xlsx", "Sheet1")``; any other path -> ``(path, None)``.

    The sheet follows the first ``#`` that comes right after an Excel suffix, so a sheet
    name may itself contain ``#``. A path that exists as written is never split (a file
    may have ``#`` in its name), and ``book.xlsx#`` (nothing after ``#``) means the
    default sheet.
    """
    text = os.fspath(path)
    if "#" not in text or os.path.exists(text):
        return text, None
    start = 0
    while True:
        i = text.find("#", start)
        if i < 0:
            return text, None
        if text[:i].lower().endswith(_EXCEL_SUFFIXES):
            return text[:i], (text[i + 1 :] or None)
        start = i + 1


def _hash_file(path: str) -> tuple[str, bytes]:
    """(sha256 of the raw bytes, the first 4 bytes), streaming."""
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4)
        hasher.update(head)
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest(), head


def _value_converter(fr: _FieldReader) -> Callable[[Any], Any]:
    """The typed-cell parser of a field: the JSON rules, plus Excel's time-of-day durations."""
    value = fr.value
    if fr.field.type != "duration":
        return value
    time_type = dt.time
    timedelta = dt.timedelta

    def duration(v: Any) -> Any:
        if isinstance(v, time_type):
            v = timedelta(hours=v.hour, minutes=v.minute, seconds=v.second, microseconds=v.microsecond)
        return value(v)

    return duration


def _table_plan(
    header: Sequence[str], source: str, header_line: int | None, out: _Collector
) -> tuple[list[tuple[str, int, Callable[[Any], Any]]], int | None]:
    """(name, column index, value parser) per contract field, and the id column (or None)."""
    typer = out.typer
    plan: list[tuple[str, int, Callable[[Any], Any]]] = []
    id_cell: int | None = None
    for pos, fr in enumerate(typer.readers):
        idx = _header_index(list(header), fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(
                idx,
                location=Location(source, line=header_line, field=fr.name),
                hint="rename one of the columns so each field reads exactly one",
                code="ambiguous-column",
            )
        if pos == typer.id_pos:
            id_cell = idx
        if idx is not None:
            plan.append((fr.name, idx, _value_converter(fr)))
        elif fr.nullable:
            out.missing_columns.append((source, fr.name))
            plan.append((fr.name, -1, _always_none))
        else:
            message = (
                f"column {fr.source!r} is not in the header ({_closest(fr.source, header)}); "
                "rename the column, or map it with `column:` in the contract"
            )
            plan.append((fr.name, -1, _always_missing(message)))
    return plan, id_cell


def _type_table_rows(
    rows: Iterable[tuple[int, Sequence[Any]]],
    plan: list[tuple[str, int, Callable[[Any], Any]]],
    id_cell: int | None,
    width: int,
    source: str,
    out: _Collector,
    *,
    skip_blank: bool,
) -> int:
    """Type rows of typed cells (``width`` cells each, shorter rows padded); returns rows read.

    Plan entries with column -1 (absent columns) read a cell that is always None.
    """
    typer = out.typer
    # Absent columns read an extra cell past the end of the row, always None.
    plan = [(name, width if idx < 0 else idx, conv) for name, idx, conv in plan]
    pad = (None,) * (width + 1)
    read = 0
    for rownum, cells in rows:
        if skip_blank and all(v is None or v == "" for v in cells):
            continue  # an empty spreadsheet row: not read, but it keeps its number
        read += 1
        row = (*cells[:width], *pad[len(cells) if len(cells) < width else width :])
        _type_row(row, plan, typer, source, rownum, id_cell, out)
    return read


def _missing_library(source: str, what: str, module: str, extra: str) -> DataError:
    return DataError(
        f"cannot be read: reading {what} needs the {module} package, which is not installed",
        location=Location(source),
        hint=f"pip install 'qualiscore[{extra}]'",
        code="unreadable",
    )


def _not_a_workbook(source: str, detail: str) -> DataError:
    return DataError(
        f"is not an Excel .xlsx workbook ({detail})",
        location=Location(source),
        hint=f"save it from Excel as .xlsx; if it is a text export, name it .csv. qualiscore reads {_KNOWN_FORMATS} files",
        code="format",
    )


class _Workbook:
    """An Excel workbook opened to stream one worksheet (read-only, cached values)."""

    def __init__(self, path: str, source: str, sheet: str | None) -> None:
        try:
            import openpyxl
        except ImportError:
            raise _missing_library(source, "Excel workbooks", "openpyxl", "excel") from None
        import warnings
        import zipfile

        self.source = source
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic != b"PK\x03\x04":
            raise _not_a_workbook(source, "it is not a zip archive")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unsupported extensions, missing styles: not our business
                self.book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except zipfile.BadZipFile as exc:
            raise _not_a_workbook(source, f"damaged zip archive: {exc}") from None
        except OSError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on malformed parts
            raise DataError(
                f"cannot be read as an Excel workbook: {type(exc).__name__}: {exc}",
                location=Location(source),
                hint="open it in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8",
                code="unreadable",
            ) from None
        try:
            self.sheet = self._choose(sheet)
        except BaseException:
            self.book.close()
            raise

    def _choose(self, wanted: str | None) -> Any:
        book = self.book
        names = list(book.sheetnames)
        if wanted is None:
            sheets = book.worksheets
            if not sheets:
                raise DataError(
                    "is empty: the workbook has no worksheet",
                    location=Location(self.source),
                    hint="put the records on a worksheet, with column headers in the first row",
                    code="empty",
                )
            return sheets[0]
        name = wanted if wanted in names else None
        if name is None:  # Excel sheet names are unique regardless of case
            folded = [n for n in names if n.casefold() == wanted.strip().casefold()]
            name = folded[0] if len(folded) == 1 else None
        if name is None:
            shown = ", ".join(repr(n) for n in names[:20]) + (", …" if len(names) > 20 else "")
            close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
            base = split_sheet(self.source)[0]
            raise DataError(
                f"has no sheet {wanted!r}; its sheets are: {shown}",
                location=Location(self.source),
                hint=f"name one of its sheets, e.g. {base}#{close[0] if close else names[0]}"
                if names
                else "the workbook has no sheets",
                code="format",
            )
        ws = book[name]
        if not hasattr(ws, "iter_rows"):
            raise DataError(
                f"sheet {name!r} is a chart sheet, not a table",
                location=Location(self.source),
                hint="name the worksheet that holds the records",
                code="format",
            )
        return ws

    def close(self) -> None:
        self.book.close()


def _read_xlsx(book: _Workbook, source: str, out: _Collector) -> int:
    """Type every row of the chosen worksheet, streaming; returns rows read (empty rows excluded)."""
    import warnings

    ws = book.sheet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # the stored dimension is often wrong: read every cell there is
        cells_of = ws.iter_rows(values_only=True)
        try:
            return _type_xlsx_rows(enumerate(cells_of, 1), ws.title, source, out)
        finally:
            close = getattr(cells_of, "close", None)
            if close is not None:
                close()  # the open sheet stream keeps the file open until the generator ends


def _type_xlsx_rows(rows: Iterator[tuple[int, Sequence[Any]]], title: str, source: str, out: _Collector) -> int:
    """Find the header (the first non-empty row), then type the rows under it."""
    header: list[str] | None = None
    header_row = 0
    for rownum, cells in rows:
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in cells):
            header = [_header_text(v) for v in cells]
            header_row = rownum
            break
    if header is None:
        raise DataError(
            f"is empty: sheet {title!r} needs a header row naming its columns",
            location=Location(source),
            hint="put column headers in the first row of the sheet, records below",
            code="empty",
        )
    while header and not header[-1]:
        header.pop()
    plan, id_cell = _table_plan(header, source, header_row, out)
    return _type_table_rows(rows, plan, id_cell, len(header), source, out, skip_blank=True)


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_parquet(path: str, source: str, out: _Collector) -> int:
    """Type every row of a Parquet file, a batch at a time; returns rows read."""
    try:
        from ._polars import pl
    except ImportError:
        raise _missing_library(source, "Parquet files", "polars", "fast") from None

    def unreadable(exc: Exception) -> DataError:
        return DataError(
            f"cannot be read as Parquet: {type(exc).__name__}: {exc}",
            location=Location(source),
            hint="write the file again (it may be truncated), or export the records as CSV UTF-8",
            code="unreadable",
        )

    try:
        schema = pl.read_parquet_schema(path)
    except OSError:
        raise
    except Exception as exc:  # polars' own errors (ComputeError, …) on a damaged footer
        raise unreadable(exc) from None
    header = list(schema)
    plan, id_cell = _table_plan(header, source, None, out)
    # Read only the columns the contract uses (at least one, to count the rows).
    used = sorted({idx for _, idx, _ in plan if idx >= 0}) or ([0] if header else [])
    where = {idx: pos for pos, idx in enumerate(used)}
    plan = [(name, where[idx] if idx >= 0 else -1, conv) for name, idx, conv in plan]
    id_pos = where.get(id_cell) if id_cell is not None else None
    if not used:
        return 0
    names = [header[i] for i in used]
    try:
        frame = pl.read_parquet(path, columns=names, use_pyarrow=False, memory_map=False)
    except OSError:
        raise
    except Exception as exc:
        raise unreadable(exc) from None
    # Decimals become floats (or ints when whole), as a JSON number would be read.
    casts = [pl.col(n).cast(pl.Float64) for n, dtype in frame.schema.items() if dtype.is_decimal()]
    if casts:
        frame = frame.with_columns(casts)

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        rownum = 0
        for chunk in frame.iter_slices(n_rows=_PARQUET_BATCH):
            for cells in chunk.rows():
                rownum += 1
                yield rownum, cells

    return _type_table_rows(rows(), plan, id_pos, len(used), source, out, skip_blank=False)


# --------------------------------------------------------------------------- public API


def read_records(
    paths: Sequence[str | Path] | str | Path,
    contract: RecordContract,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Dataset:
    """Read CSV/TSV/JSONL, Excel (.xlsx) and Parquet files and type every row against ``contract``.

    Rows that break the contract are in ``Dataset.problems``, never dropped; what
    cannot be read at all raises :class:`DataError`. ``encoding`` forces a codec
    (strictly) for text files; without it UTF-8 (BOM or not) is used when the bytes
    decode as UTF-8, else GB18030 (a superset of GBK, as Excel writes in China).

    ``sheet`` names the worksheet of Excel inputs (default: the first one); a path
    may also choose its own, ``book.xlsx#Sheet1``. Parquet needs polars
    (``qualiscore[fast]``), Excel needs openpyxl (``qualiscore[excel]``).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    typer = _Typer(contract)
    out = _Collector(typer)
    inputs: list[tuple[str, str, str, str, int, str | None]] = []
    seen: dict[tuple[str, str | None], str] = {}
    workbooks = 0

    def claim(key: tuple[str, str | None], source: str) -> None:
        if key in seen:
            raise DataError(
                f"is the same file as {seen[key]!r}" + (f" (sheet {key[1]!r})" if key[1] is not None else ""),
                location=Location(source),
                hint="pass each input file (or sheet) once",
                code="duplicate-input",
            )
        seen[key] = source

    for p in paths:
        source = str(p)
        path, sheet_in_path = split_sheet(p)
        _open_checked(path, source)
        fmt = _format_of(path, source)
        real = os.path.realpath(path)
        if sheet_in_path is not None and fmt != "xlsx":  # cannot happen: split only after .xlsx
            raise DataError("a sheet can only be chosen in an Excel workbook", location=Location(source),
                            code="format")
        try:
            if fmt == "xlsx":
                workbooks += 1
                sha, _ = _hash_file(path)
                book = _Workbook(path, source, sheet_in_path if sheet_in_path is not None else sheet)
                try:
                    title = book.sheet.title
                    claim((real, title), source)
                    out.sources.append(source)
                    read = _read_xlsx(book, source, out)
                finally:
                    book.close()
                inputs.append((source, sha, "xlsx", "", read, title))
                continue
            claim((real, None), source)
            out.sources.append(source)
            if fmt == "parquet":
                sha, head = _hash_file(path)
                if head != b"PAR1":
                    raise DataError(
                        "is not a Parquet file (it does not start with PAR1)",
                        location=Location(source),
                        hint=f"check the file; qualiscore reads {_KNOWN_FORMATS} files",
                        code="format",
                    )
                read = _read_parquet(path, source, out)
                inputs.append((source, sha, "parquet", "", read, None))
                continue
            sha, codec = _scan(path, source, encoding)
            if fmt in ("csv", "tsv"):
                read = _read_csv(path, source, codec, fmt == "tsv", out)
                inputs.append((source, sha, "csv", codec, read, None))
            else:
                read = _read_jsonl(path, source, codec, fmt == "json", out)
                inputs.append((source, sha, "jsonl", codec, read, None))
        except UnicodeDecodeError as exc:  # only if the file changed between scan and read
            raise DataError(
                f"cannot be decoded: {exc}",
                location=Location(source),
                hint="pass --encoding with the file's real encoding",
                code="encoding",
            ) from None
        except OSError as exc:
            raise DataError(
                f"cannot be read: {exc.strerror or exc}",
                location=Location(source),
                hint="check the file's permissions",
                code="unreadable",
            ) from None
    if sheet is not None and not workbooks:
        raise UsageError(
            f"sheet {sheet!r} was given, but no input is an Excel workbook",
            hint="a sheet applies to .xlsx inputs only; leave it out for CSV, JSONL and Parquet",
        )
    return out.finish(inputs)


def records_from_dicts(
    rows: Sequence[Mapping[str, Any]],
    contract: RecordContract,
    *,
    source: str = "<inline>",
) -> Dataset:
    """Type in-memory records (scheme fixture tests, library callers) by the JSONL rules.

    Values may be JSON-typed or text; ``datetime``/``date``/``timedelta`` objects are
    accepted too. Row numbers are 1-based positions.
    """
    rows = list(rows)
    typer = _Typer(contract)
    out = _Collector(typer)
    out.sources.append(source)
    read = 0
    for index, obj in enumerate(rows, 1):
        read += 1
        if not isinstance(obj, Mapping):
            out.problems.append(
                Problem(
                    source,
                    index,
                    None,
                    None,
                    _clip(obj),
                    "not-an-object",
                    f"record {index} is {_json_type(obj)}, not a mapping of field names to values",
                )
            )
            continue
        _type_mapping(obj, source, index, out)
    return out.finish([(source, _inline_digest(rows), "inline", "", read, None)])


def _inline_digest(rows: Sequence[Any]) -> str:
    try:
        text = json.dumps(list(rows), sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(rows)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_max_rejects(text: str) -> tuple[int | None, float | None]:
    """``"100"`` -> (100, None); ``"2.5%"`` -> (None, 2.5). Raises ValueError on anything else."""
    t = str(text).strip()
    if t.endswith("%"):
        number = t[:-1].strip()
        try:
            share = float(number)
        except ValueError:
            share = math.nan
        if not number or not math.isfinite(share) or not 0 <= share <= 100 or "_" in number:
            raise ValueError(
                f"--max-rejects {text!r}: a share must be a percentage from 0% to 100%, e.g. 2.5%"
            )
        return None, share
    if not t.isascii() or not t.isdigit():
        raise ValueError(
            f"--max-rejects {text!r}: give a number of rows (e.g. 100) or a share of rows read (e.g. 2.5%)"
        )
    return int(t), None


def check_reject_limit(dataset: Dataset, limit: str | None) -> None:
    """Raise :class:`RejectLimitError` when more rows were rejected than ``limit`` allows.

    ``limit`` is ``--max-rejects`` text: a count of rows, or a percentage of rows read;
    reaching it exactly is allowed. None means no limit.
    """
    if limit is None:
        return
    count, share = parse_max_rejects(limit)
    rejected, read = dataset.rows_rejected, dataset.rows_read
    if count is not None:
        exceeded = rejected > count
        allowed = f"{count} row(s)"
    else:
        assert share is not None
        exceeded = Fraction(rejected * 100) > Fraction(repr(share)) * read
        allowed = f"{_num(share)}% of rows read"
    if not exceeded:
        return
    worst = max(dataset.inputs, key=lambda i: i.rows_rejected, default=None)
    percent = 100 * rejected / read if read else 0.0
    where = ""
    if worst is not None and len(dataset.inputs) > 1:
        where = f"; most in {worst.path} ({worst.rows_rejected} of {worst.rows_read})"
    raise RejectLimitError(
        f"{rejected} of {read} rows ({percent:.2f}%) were rejected, more than --max-rejects {limit.strip()} "
        f"allows ({allowed}){where}",
        location=Location(worst.path if worst is not None else None),
        hint="see rejects.csv for each rejected row's field, value and reason; fix the data, "
        "or raise --max-rejects if these rows may be left out",
    )
