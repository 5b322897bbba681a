"""The columnar engine: the reference engine's answers, at the speed of reading the data.

``pip install 'qualiscore[fast]'`` (polars). This module is the only one, with
:mod:`qualiscore.engine.polars_expr`, that imports polars.

API: :func:`read_columnar` (records.read_records' rows and problems, as a Polars frame),
:func:`evaluate` and :func:`evaluate_versions` (the same :class:`~qualiscore.engine.Run`
as the reference engine's, from file paths; ``run.dataset.records`` is empty).

How a run goes
--------------

1. **One streaming pass** over every input (:meth:`_Executor._main_pass`): CSV files are
   parsed by Polars without quote handling (they have no quote character, so a line is a
   record split on the delimiter, as csv.reader splits it), Parquet by column; every field
   is typed with vectorised expressions, the derived values and every measure expression
   are computed (:mod:`polars_expr`), and only a *narrow* frame is kept: row origin, id,
   grouping fields, period day and one column per measure expression. Long texts such as
   transcripts are never materialised. The first rows of each column choose the fastest
   expressions for the shapes they show; other shapes are still typed exactly (step 2).

2. **Exact fix-ups.** A cell the vectorised parsers are not sure about (anything outside
   the common forms, every value that breaks the contract) and a row whose vectorised
   expression might differ from the row Evaluator (integer overflow, a NaN comparison, a
   rounding tie, an error) is flagged. Only those rows are read again and typed, derived
   and measured by the reference code (records.py's field readers, the row Evaluator),
   which decides their problems and values. Duplicate ids reject every occurrence.
   A CSV whose delimiter count shows short rows, or that has blank rows, is read again
   line by line (:func:`_typed_lines`), where every row's cell count is seen.

3. **One group_by** computes every indicator and veto of every subject, streaming over the
   narrow frame (rejected rows are masked, not filtered into a copy; the ids of veto
   evidence come from the evidence rows alone); then, per subject,
   :func:`~qualiscore.engine.scoring.build_scorecard` (shared with the reference engine)
   turns the MeasureResults into the scorecard.

Memory is bounded by the narrow frame: the main pass never makes Polars read a whole
input first (no ``replace_strict``: constant lookups go by position, :func:`polars_expr.lookup`).

What the vectorised path does not cover is still answered exactly, more slowly:

* an expression without a vectorised form (float ``//``/``%``, text repetition, a
  per-record ``round`` digit count, …) is evaluated for that one column with the row
  Evaluator (``map_batches``), logged at DEBUG;
* JSON Lines, CSV files with quote characters, lone carriage returns, NUL bytes or cells
  over 128 KB are typed row by row with records.py's readers, then evaluated by the same
  columnar query; Excel workbooks (and ``sheet=``) are read by records.read_records;
* a CSV that is not UTF-8 (GB18030, UTF-16, or ``encoding=``) is transcoded once to a
  temporary UTF-8 file;
* anything the engine cannot vouch for (an expression whose result type is not fixed, a
  measure over text, integers beyond 64 bits, NaN or -0.0 where order matters, an
  overflowing sum, a measure expression that raises, an unexpected Polars error) makes the
  whole run fall back to the reference code, logged at INFO (WARNING for a Polars error).
  The answer is then the reference's by construction.
"""

from __future__ import annotations

import ast
import codecs
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import math
import os
import re
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .. import records as R
from .._polars import pl
from ..errors import DataError, ExpressionError, Location, UsageError
from ..expressions import Evaluator, Expression
from ..model import Field, Measure, RecordContract, Scheme
from ..records import Dataset, InputFile, Problem
from ..scorecard import VetoResult
from . import Run, common, group_fields, version_in_force
from . import evaluate as reference_evaluate
from . import evaluate_versions as reference_evaluate_versions
from . import polars_expr as px
from .scoring import MeasureResult, build_scorecard

__all__ = ["ColumnarData", "evaluate", "evaluate_versions", "read_columnar"]

log = logging.getLogger(__name__)

FIELD_KINDS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "date": "date",
    "datetime": "datetime",
    "duration": "float",
}
SRC, ROW, SUS, RAGGED, DFAIL = "__src", "__row", "__sus", "__ragged", "__dfail"
FAST_SHAPE_SHARE = 0.98  # of the sampled cells of a column, for its fast expressions (_FieldTyper._mostly)
STATE = "__state"  # 0: scored; 1: rejected by the contract (or a duplicate id); 2: rejected later (derive, period)
PDATE = "__pdate"
FIELD_SIZE_LIMIT = 131072  # csv.field_size_limit() default: a longer cell makes csv raise
_CHUNK = 1 << 22


class Fallback(Exception):
    """The columnar engine cannot vouch for this run: use the reference engine."""


def _fold_col(name: str) -> str:
    return f"__fold__{name}"


# --------------------------------------------------------------------------- whitespace

_WS: str | None = None


def _ws() -> str:
    """Every character str.isspace() accepts (the blank-cell rule), as a regex class body."""
    global _WS
    if _WS is None:
        everything = "".join(map(chr, range(0x110000)))
        chars = [c for c in re.findall(r"\s", everything) if c.isspace()]
        _WS = "".join(f"\\x{{{ord(c):x}}}" for c in chars)
    return _WS


class _Clock:
    """Phase timings, logged at DEBUG (the benchmark reads them)."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.phases: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        took = now - self.t
        self.phases[name] = self.phases.get(name, 0.0) + took
        self.t = now
        LAST_TIMINGS[name] = self.phases[name]
        log.debug("columnar: %s took %.3fs", name, took)


LAST_TIMINGS: dict[str, float] = {}


def _ws_chars() -> str:
    return "".join(chr(int(h, 16)) for h in _ws()[3:-1].split("}\\x{"))


def _blank(raw: pl.Expr) -> pl.Expr:
    """Null, empty or only whitespace (never null). Stripping stops at the first other character."""
    return (raw.is_null() | (raw.str.strip_chars_start(_ws_chars()).str.len_bytes() == 0)).fill_null(True)


def _ascii(raw: pl.Expr) -> pl.Expr:
    return raw.str.len_bytes() == raw.str.len_chars()


# --------------------------------------------------------------------------- dates and times

def _days_from_civil(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y2 = y - (m <= 2).cast(pl.Int64)
    era = y2 // 400
    yoe = y2 - era * 400
    mp = pl.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _valid_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    lengths = pl.Series([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=pl.Int64)
    dim = px.lookup(m, range(1, 13), lengths).fill_null(0) + ((m == 2) & leap).cast(pl.Int64)
    return ((y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)).fill_null(False)


def _int(e: pl.Expr) -> pl.Expr:
    return e.str.to_integer(strict=False).cast(pl.Int64)


class _Zone:
    """Conversion of UTC instants to wall-clock times in records.timezone, exactly as zoneinfo does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone = ZoneInfo(name)
        self.utc = name in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu")
        self._hours: dict[int, tuple[int, bool] | None] = {}
        self._tables: dict[tuple[int, int], tuple[list[int], list[int], list[bool], int | None]] = {}

    def _hour(self, hour: int) -> tuple[int, bool] | None:
        """(offset µs, fold) valid for every instant of this UTC hour, or None if it changes inside."""
        hit = self._hours.get(hour, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        try:
            base = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=hour)
            a = base.astimezone(self.zone)
            b = (base + dt.timedelta(microseconds=3_599_999_999)).astimezone(self.zone)
        except (OverflowError, ValueError):
            self._hours[hour] = None
            return None
        oa, ob = a.utcoffset(), b.utcoffset()
        if oa != ob or a.fold != b.fold or oa is None:
            out = None
        else:
            out = (int(oa / dt.timedelta(microseconds=1)), bool(a.fold))
        self._hours[hour] = out
        return out

    def table(self, lo_year: int, hi_year: int) -> tuple[list[int], list[int], list[bool], int | None]:
        """(hours, offset µs, fold) for every UTC hour of the years lo..hi whose offset and fold are
        uniform, and the offset if it is the same for all of them with no fold (else None)."""
        key = (lo_year, hi_year)
        got = self._tables.get(key)
        if got is None:
            first = (dt.datetime(lo_year, 1, 1) - _EPOCH) // dt.timedelta(hours=1)
            last = (dt.datetime(hi_year, 12, 31, 23) - _EPOCH) // dt.timedelta(hours=1)
            hours, offsets, folds = [], [], []
            for h in range(first, last + 1):
                v = self._hour(h)
                if v is not None:
                    hours.append(h)
                    offsets.append(v[0])
                    folds.append(v[1])
            uniform = (len(hours) == last - first + 1 and len(set(offsets)) == 1 and not any(folds))
            got = (hours, offsets, folds, offsets[0] if uniform else None)
            self._tables[key] = got
        return got


_MISSING: Any = object()
_EPOCH = dt.datetime(1970, 1, 1)
_MIN_US = (dt.date(1, 1, 1).toordinal() - 719163) * 86_400_000_000
_MAX_US = (dt.date(9999, 12, 31).toordinal() - 719163 + 1) * 86_400_000_000 - 1


def _in_range(wall_us: pl.Expr) -> pl.Expr:
    """A wall-clock time Python's datetime can hold (years 1 to 9999); never null."""
    return ((wall_us >= _MIN_US) & (wall_us <= _MAX_US)).fill_null(False)


def _sample_years(sample: Sequence[Any]) -> tuple[int, int]:
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


# --------------------------------------------------------------------------- typing a text column


@dataclass
class _Typed:
    """A typed field: its value (null where blank or unsure), sus mask and fold, over staged columns.

    ``stages`` are lists of named expressions to add in order (each may use the columns of the
    stages before it): Polars then computes a parsed part once, however often it is used.
    """

    value: pl.Expr
    sus: pl.Expr
    fold: pl.Expr | None = None
    stages: list[list[pl.Expr]] = field(default_factory=list)


class _FieldTyper:
    """Vectorised typing of one contract field, returning exactly what records.py returns, or 'unsure'."""

    def __init__(self, f: Field, zone: _Zone, tmp: str, sample: Sequence[Any] = ()) -> None:
        self.field = f
        self.zone = zone
        self.tmp = tmp  # prefix of this field's temporary columns
        # The first values of the column: they choose the fastest expressions that type the usual
        # shapes; a value of another shape is still typed exactly (by Python), only more slowly.
        self.sample = [v for v in sample if isinstance(v, str) and v.strip()]
        self.kind = FIELD_KINDS[f.type]
        base_text, base_value = R._BUILDERS[f.type](f, zone.zone)
        self.allowed: list[Any] | None = None
        if f.enum is not None:
            allowed = []
            for e in f.enum:
                try:
                    allowed.append(base_text(e) if isinstance(e, str) else base_value(e))
                except (R._Bad, ValueError, TypeError, OverflowError):
                    continue
            self.allowed = allowed
        numeric = f.type in ("integer", "number", "duration")
        self.lo = f.minimum if numeric else None
        self.hi = f.maximum if numeric else None

    def c(self, name: str) -> pl.Expr:
        return pl.col(self.tmp + name)

    # -- checks shared by text and native typing
    def _checks(self, value: pl.Expr) -> pl.Expr:
        """Rows where the typed value breaks enum/minimum/maximum (never null)."""
        bad = pl.lit(False)
        if self.allowed is not None:
            bad = bad | ~self._in_allowed(value)
        if self.lo is not None or self.hi is not None:
            x = value.cast(pl.Float64)
            if self.lo is not None:
                bad = bad | (x < self.lo)
            if self.hi is not None:
                bad = bad | (x > self.hi)
            if self.kind == "int":
                bad = bad | (x.abs() > px.EXACT_INT)  # exact int/float comparison: let Python decide
        return bad.fill_null(False)

    def _in_allowed(self, value: pl.Expr) -> pl.Expr:
        allowed = self.allowed or []
        if self.field.type == "datetime":
            vals = [a.replace(tzinfo=None) for a in allowed if isinstance(a, dt.datetime)]
            return value.is_in(pl.lit(pl.Series(vals, dtype=pl.Datetime("us"))).implode())
        dtype = px.DTYPES[self.kind]
        vals = [a for a in allowed if _fits(a, self.kind)]
        return value.is_in(pl.lit(pl.Series(vals, dtype=dtype)).implode())

    def _mostly(self, shape: re.Pattern[str]) -> bool:
        """Whether nearly every sampled cell has ``shape``, so its fast expressions suit the column.

        Not every one: a few dirty cells among the first rows must not slow down the millions
        after them. Cells of other shapes are flagged and typed exactly in the fix-ups.
        """
        hits = sum(1 for v in self.sample if shape.match(v))
        return bool(self.sample) and hits >= FAST_SHAPE_SHARE * len(self.sample)

    def _finish(self, stages: list[list[pl.Expr]], blank: pl.Expr, value: pl.Expr, ok: pl.Expr,
                fold: pl.Expr | None = None) -> _Typed:
        """Decide each cell: typed, null, or unsure (sus). Only two booleans are materialised; the
        expensive parts of ``value`` are staged columns already."""
        v = value.cast(px.DTYPES[self.kind])
        # (Names of the typers' own temporary columns never start with "_".)
        stages = [*stages, [blank.alias(self.tmp + "_blank"),
                            (ok.fill_null(False) & ~self._checks(v)).alias(self.tmp + "_good")]]
        blank_c, good = self.c("_blank"), self.c("_good")
        sus = (~blank_c & ~good) | (blank_c & pl.lit(not self.field.nullable))
        final = pl.when(blank_c | ~good).then(None).otherwise(v)
        f = pl.when(blank_c | ~good).then(False).otherwise(fold.fill_null(False)) if fold is not None else None
        return _Typed(final, sus, f, stages)

    # -- text cells (CSV, or string columns of Parquet)
    def text(self, raw: pl.Expr) -> _Typed:
        t = self.field.type
        blank = _blank(raw)
        if t == "string":
            return self._finish([], blank, raw, pl.lit(True))
        if t == "integer":
            ok = raw.str.contains(r"^[+-]?[0-9]{1,18}$")
            return self._finish([], blank, _int(raw), ok)
        if t == "number":
            v, ok = self._float_text(raw)
            return self._finish([], blank, v, ok)
        if t == "duration":
            return self._duration_text(raw, blank)
        if t == "boolean":
            return self._boolean_text(raw, blank)
        if t == "date":
            return self._date_text(raw, blank)
        return self._datetime_text(raw, blank)

    @staticmethod
    def _float_text(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        ok = raw.str.contains(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?$") & (
            raw.str.len_bytes() <= 64)
        v = raw.cast(pl.Float64, strict=False)
        return v, ok & v.is_finite()

    def _duration_text(self, raw: pl.Expr, blank: pl.Expr) -> _Typed:
        c = self.c
        num, num_ok = self._float_text(raw)
        usual = re.compile(r"^(?:[0-9]{1,9}(?:\.[0-9]{1,6})?|[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$")
        if self._mostly(usual):
            # Seconds, MM:SS or HH:MM:SS with two digits each: slices instead of a regex with groups.
            s1 = [num.alias(self.tmp + "num"), num_ok.fill_null(False).alias(self.tmp + "numok"),
                  raw.str.len_bytes().alias(self.tmp + "len"),
                  raw.str.contains(r"^[0-9]{2}:[0-9]{2}(?::[0-9]{2})?$").fill_null(False).alias(self.tmp + "clk"),
                  _int(raw.str.slice(0, 2)).alias(self.tmp + "a"), _int(raw.str.slice(3, 2)).alias(self.tmp + "b"),
                  _int(raw.str.slice(6, 2)).alias(self.tmp + "cc")]
            a, b, cc, has_c = c("a"), c("b"), c("cc"), c("len") == 8
            hours = pl.when(has_c).then(a).otherwise(0)
            minutes = pl.when(has_c).then(b).otherwise(a)
            seconds = pl.when(has_c).then(cc).otherwise(b)
            clock_ok = (c("clk") & (seconds < 60) & (~has_c | (minutes < 60))).fill_null(False)
            x = (hours * 3600 + minutes * 60 + seconds).cast(pl.Float64) + 0.0
            value = pl.when(c("numok")).then(c("num")).otherwise(x)
            return self._finish([s1], blank, value, c("numok") | clock_ok)
        g = raw.str.extract_groups(r"^([+-]?)([0-9]{1,9}):([0-9]{1,2})(?::([0-9]{1,2}))?((?:\.[0-9]{1,15})?)$")
        s1 = [num.alias(self.tmp + "num"), num_ok.fill_null(False).alias(self.tmp + "numok"),
              g.alias(self.tmp + "g")]
        gs = [c("g").struct.field(str(i)) for i in range(1, 6)]
        s2 = [gs[0].alias(self.tmp + "sign"), _int(gs[1]).alias(self.tmp + "a"), _int(gs[2]).alias(self.tmp + "b"),
              _int(gs[3]).alias(self.tmp + "cc"), (gs[3].is_not_null() & (gs[3].str.len_bytes() > 0)).alias(
                  self.tmp + "hasc"),
              pl.when(gs[4].str.len_bytes() > 0).then(gs[4].cast(pl.Float64, strict=False)).otherwise(0.0).alias(
                  self.tmp + "frac")]
        a, b, cc, has_c = c("a"), c("b"), c("cc"), c("hasc")
        hours = pl.when(has_c).then(a).otherwise(0)
        minutes = pl.when(has_c).then(b).otherwise(a)
        seconds = pl.when(has_c).then(cc).otherwise(b)
        clock_ok = (a.is_not_null() & (seconds < 60) & (~has_c | (minutes < 60))).fill_null(False)
        x = (hours * 3600 + minutes * 60 + seconds).cast(pl.Float64) + c("frac")
        x = pl.when(c("sign") == "-").then(-x).otherwise(x)
        value = pl.when(c("numok")).then(c("num")).otherwise(x)
        return self._finish([s1, s2], blank, value, c("numok") | clock_ok)

    def _boolean_text(self, raw: pl.Expr, blank: pl.Expr) -> _Typed:
        # The usual spellings, each typed once by records.py itself; any other text is left to Python.
        exact, folded = R._bool_tables(self.field)
        reader = R._FieldReader(dataclasses.replace(self.field, nullable=True), self.zone.zone)
        table: dict[str, bool] = {}
        for word in [*exact, *folded]:
            for spelling in {word, word.lower(), word.upper(), word.title(), word.capitalize()}:
                if spelling and not spelling.isspace() and spelling == spelling.strip():
                    try:
                        table[spelling] = reader.text(spelling)
                    except (R._Bad, *R._UNFORESEEN):
                        continue
        if not table:
            return self._finish([], blank, pl.lit(None, dtype=pl.Boolean), pl.lit(False))
        value = px.lookup(raw, list(table), pl.Series(list(table.values()), dtype=pl.Boolean))
        s1 = [value.alias(self.tmp + "x")]
        return self._finish([s1], blank, self.c("x"), self.c("x").is_not_null())

    def _date_text(self, raw: pl.Expr, blank: pl.Expr) -> _Typed:
        if self.field.format:
            got = self._strptime(raw, self.field.format)
            if got is None:
                return self._python_text(raw, blank)
            stages, wall, ok, _fold = got
            return self._finish(stages, blank, wall.dt.date(), ok)
        c = self.c
        s1 = [raw.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").fill_null(False).alias(self.tmp + "shape"),
              _int(raw.str.slice(0, 4)).alias(self.tmp + "y"), _int(raw.str.slice(5, 2)).alias(self.tmp + "m"),
              _int(raw.str.slice(8, 2)).alias(self.tmp + "d")]
        s2 = [(c("shape") & _valid_date(c("y"), c("m"), c("d"))).alias(self.tmp + "okd")]
        value = pl.when(c("okd")).then(_days_from_civil(c("y"), c("m"), c("d"))).cast(pl.Int32).cast(pl.Date)
        return self._finish([s1, s2], blank, value, c("okd"))

    _ISO = (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})?)?$")

    _FAST_DT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}%s[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"

    def _datetime_text(self, raw: pl.Expr, blank: pl.Expr) -> _Typed:
        if self.field.format:
            got = self._strptime(raw, self.field.format)
            if got is None:
                return self._python_text(raw, blank)
            stages, wall, ok, fold = got
            return self._finish(stages, blank, wall, ok, fold)
        for sep in ("T", " "):
            shape = re.compile(self._FAST_DT % sep)
            if self._mostly(shape):
                return self._datetime_fast(raw, blank, sep, shape)
        c, t = self.c, self.tmp
        s1 = [raw.str.extract_groups(self._ISO).alias(t + "g")]
        parts = [c("g").struct.field(str(i)) for i in range(1, 9)]
        frac, off = parts[6], parts[7]
        s2 = [*(_int(p).alias(t + n) for p, n in zip(parts[:3], ("y", "mo", "d"))),
              *(_int(p).fill_null(0).alias(t + n) for p, n in zip(parts[3:6], ("h", "mi", "s"))),
              pl.when(frac.is_null()).then(0).otherwise(_int(frac.str.pad_end(6, "0"))).alias(t + "us"),
              *self._offset_fields(off, off.is_not_null())]
        y, mo, d, h, mi, sec = c("y"), c("mo"), c("d"), c("h"), c("mi"), c("s")
        offset_ok, offset = self._offset()
        ok = (y.is_not_null() & _valid_date(y, mo, d) & (h <= 23) & (mi <= 59) & (sec <= 59) & offset_ok
              ).fill_null(False)
        local = (_days_from_civil(y, mo, d) * 86_400_000_000 + h * 3_600_000_000 + mi * 60_000_000
                 + sec * 1_000_000 + c("us"))
        s3 = [ok.alias(t + "okdt"), pl.when(ok).then(local).alias(t + "local"),
              pl.when(ok & c("hasoff")).then(local - offset).alias(t + "utc")]
        return self._finish_zoned([s1, s2, s3], blank)

    def _offset_fields(self, off: pl.Expr, present: pl.Expr) -> list[pl.Expr]:
        """Stage columns hasoff, zulu, neg, oh, om of an offset text (Z or ±HH:MM)."""
        t = self.tmp
        return [present.fill_null(False).alias(t + "hasoff"), (off == "Z").fill_null(False).alias(t + "zulu"),
                (off.str.slice(0, 1) == "-").fill_null(False).alias(t + "neg"),
                _int(off.str.slice(1, 2)).alias(t + "oh"), _int(off.str.slice(4, 2)).alias(t + "om")]

    def _offset(self) -> tuple[pl.Expr, pl.Expr]:
        """(the offset is absent or valid, the offset in µs), from the _offset_fields columns."""
        c = self.c
        valid = ~c("hasoff") | c("zulu") | ((c("oh") <= 23) & (c("om") <= 59)).fill_null(False)
        offset = pl.when(c("zulu")).then(0).otherwise(
            pl.when(c("neg")).then(-1).otherwise(1) * (c("oh") * 3_600_000_000 + c("om") * 60_000_000))
        return valid, offset

    def _finish_zoned(self, stages: list[list[pl.Expr]], blank: pl.Expr) -> _Typed:
        """Wall-clock time in records.timezone of the okdt/local/utc/hasoff stage columns."""
        c = self.c
        wall, fold, more = self._zone_stages(c("utc"))
        ok = c("okdt") & (~c("hasoff") | _in_range(wall))
        wall = pl.when(c("hasoff")).then(wall).otherwise(c("local"))
        fold = pl.when(c("hasoff")).then(fold).otherwise(False)
        return self._finish([*stages, *more], blank, wall.cast(pl.Datetime("us")), ok, fold)

    def _datetime_fast(self, raw: pl.Expr, blank: pl.Expr, sep: str, shape: re.Pattern[str]) -> _Typed:
        """YYYY-MM-DD{sep}HH:MM:SS with an optional Z or ±HH:MM, as the sample shows: chrono parses it."""
        c, t = self.c, self.tmp
        offsets = {v[19:] for v in self.sample if shape.match(v)}
        if len(offsets) == 1:
            fixed = self._datetime_one_offset(raw, blank, sep, offsets.pop())
            if fixed is not None:
                return fixed
        s1 = [raw.str.contains(self._FAST_DT % sep).fill_null(False).alias(t + "shape"),
              raw.str.slice(0, 19).str.to_datetime(f"%Y-%m-%d{sep}%H:%M:%S", strict=False, time_unit="us")
              .cast(pl.Int64).alias(t + "local"),
              ((raw.str.slice(0, 4) != "0000") & (raw.str.slice(17, 2) < "60")).fill_null(False).alias(t + "sane"),
              raw.str.slice(19).alias(t + "off")]
        off = c("off")
        s2 = self._offset_fields(off, off.str.len_bytes() > 0)
        offset_ok, offset = self._offset()
        ok = (c("shape") & c("local").is_not_null() & c("sane") & offset_ok).fill_null(False)
        s3 = [ok.alias(t + "okdt"), pl.when(ok & c("hasoff")).then(c("local") - offset).alias(t + "utc")]
        return self._finish_zoned([s1, s2, s3], blank)

    def _datetime_one_offset(self, raw: pl.Expr, blank: pl.Expr, sep: str, offset: str) -> _Typed | None:
        """Every sampled value carries the same offset (or none): other offsets are left to Python.

        When that offset is the zone's own for the whole period (+08:00 in Asia/Shanghai), the
        wall-clock time is the text itself.
        """
        if offset in ("", "Z"):
            off_us = 0
        else:
            m = re.fullmatch(r"([+-])([0-9]{2}):([0-9]{2})", offset)
            if m is None or int(m.group(2)) > 23 or int(m.group(3)) > 59:
                return None
            off_us = (1 if m.group(1) == "+" else -1) * (int(m.group(2)) * 3_600_000_000 + int(m.group(3)) * 60_000_000)
        c, t = self.c, self.tmp
        shape = "^[0-9]{4}-[0-9]{2}-[0-9]{2}" + sep + "[0-9]{2}:[0-9]{2}:[0-9]{2}" + re.escape(offset) + "$"
        s1 = [raw.str.contains(shape).fill_null(False).alias(t + "shape"),
              raw.str.slice(0, 19).str.to_datetime(f"%Y-%m-%d{sep}%H:%M:%S", strict=False, time_unit="us")
              .cast(pl.Int64).alias(t + "local"),
              ((raw.str.slice(0, 4) != "0000") & (raw.str.slice(17, 2) < "60")).fill_null(False).alias(t + "sane")]
        ok = (c("shape") & c("local").is_not_null() & c("sane")).fill_null(False)
        if offset == "":  # naive: read in the zone, the wall-clock time as written
            return self._finish([s1], blank, c("local").cast(pl.Datetime("us")), ok, pl.lit(False))
        s2 = [ok.alias(t + "okdt"), pl.when(ok).then(c("local") - off_us).alias(t + "utc")]
        if not self.zone.utc:
            lo, hi = _sample_years(self.sample)
            hours, _offsets, _folds, constant = self.zone.table(lo, hi)
            if constant == off_us:
                known = (c("utc") // 3_600_000_000 >= hours[0]) & (c("utc") // 3_600_000_000 <= hours[-1])
                ok = c("okdt") & known.fill_null(False)
                return self._finish([s1, s2], blank, c("local").cast(pl.Datetime("us")), ok, pl.lit(False))
        wall, fold, more = self._zone_stages(c("utc"))
        return self._finish([s1, s2, *more], blank, wall.cast(pl.Datetime("us")), c("okdt") & _in_range(wall), fold)

    def _zone_stages(self, utc: pl.Expr) -> tuple[pl.Expr, pl.Expr, list[list[pl.Expr]]]:
        """(wall µs, fold) of UTC µs in records.timezone, with the stages that compute them.

        zoneinfo's offsets for every hour of the years the sample shows (± 1) are looked up by
        hour; an instant in another year, or in an hour where the offset changes, gets a null
        wall time, so its cell is typed by Python.
        """
        if self.zone.utc:
            return utc, pl.lit(False), []
        lo, hi = _sample_years(self.sample)
        hours, offsets, folds, constant = self.zone.table(lo, hi)
        hour = utc // 3_600_000_000
        t = self.tmp
        if constant is not None:
            known = (hour >= hours[0]) & (hour <= hours[-1])
            return self.c("zw"), pl.lit(False), [[pl.when(known).then(utc + constant).alias(t + "zw")]]
        stage = [(utc + px.lookup(hour, hours, pl.Series(offsets, dtype=pl.Int64))).alias(t + "zw"),
                 px.lookup(hour, hours, pl.Series(folds, dtype=pl.Boolean)).alias(t + "zf")]
        return self.c("zw"), self.c("zf"), [stage]

    def _strptime(self, raw: pl.Expr, fmt: str
                  ) -> tuple[list[list[pl.Expr]], pl.Expr, pl.Expr, pl.Expr] | None:
        """Python's strptime for the common directives: (stages, wall, ok, fold); None if unsupported."""
        import _strptime

        allowed = set("YmdHMSfz%")
        i = 0
        while i < len(fmt):
            if fmt[i] == "%":
                if i + 1 >= len(fmt) or fmt[i + 1] not in allowed:
                    return None
                i += 2
            else:
                i += 1
        try:
            pattern = _strptime._TimeRE_cache.pattern(fmt)
        except (KeyError, ValueError, IndexError):
            return None
        # Only ASCII text takes this path, where Python's \s is this class.
        pattern = pattern.replace("\\s", "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ]")
        names = [n for n in ("Y", "m", "d", "H", "M", "S", "f", "z") if f"(?P<{n}>" in pattern]
        c, t = self.c, self.tmp
        text = raw.str.strip_chars(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
        s1 = [text.alias(t + "txt")]
        s2 = [c("txt").str.extract(f"^(?i)({pattern})", 1).alias(t + "full"),
              c("txt").str.extract_groups(f"^(?i)(?:{pattern})").alias(t + "g")]
        get = {n: c("g").struct.field(n) for n in names}
        s3 = [(_int(get["Y"]) if "Y" in get else pl.lit(1900, dtype=pl.Int64)).alias(t + "y"),
              (_int(get["m"]) if "m" in get else pl.lit(1, dtype=pl.Int64)).alias(t + "mo"),
              (_int(get["d"].str.strip_chars(" ")) if "d" in get else pl.lit(1, dtype=pl.Int64)).alias(t + "d"),
              (_int(get["H"]) if "H" in get else pl.lit(0, dtype=pl.Int64)).alias(t + "h"),
              (_int(get["M"]) if "M" in get else pl.lit(0, dtype=pl.Int64)).alias(t + "mi"),
              (_int(get["S"]) if "S" in get else pl.lit(0, dtype=pl.Int64)).alias(t + "s"),
              (_int(get["f"].str.pad_end(6, "0")) if "f" in get else pl.lit(0, dtype=pl.Int64)).alias(t + "us"),
              (_ascii(raw) & (c("full").str.len_bytes() == c("txt").str.len_bytes())).fill_null(False).alias(
                  t + "shape")]
        if "z" in get:
            z = get["z"]
            digits = z.str.replace_all(":", "", literal=True)
            s3 += [(z.str.to_uppercase() == "Z").fill_null(False).alias(t + "zulu"),
                   digits.str.len_bytes().alias(t + "zlen"),
                   _int(digits.str.slice(1, 2)).alias(t + "zh"), _int(digits.str.slice(3, 2)).alias(t + "zm"),
                   (z.str.slice(0, 1) == "-").fill_null(False).alias(t + "neg")]
        y, mo, d, h, mi, sec = c("y"), c("mo"), c("d"), c("h"), c("mi"), c("s")
        ok = c("shape") & _valid_date(y, mo, d) & (sec <= 59)
        if "z" in get:
            ok = ok & (c("zulu") | ((c("zlen") == 5) & (c("zh") <= 23)).fill_null(False))
        ok = ok.fill_null(False)
        local = (_days_from_civil(y, mo, d) * 86_400_000_000 + h * 3_600_000_000 + mi * 60_000_000
                 + sec * 1_000_000 + c("us"))
        s4 = [ok.alias(t + "okdt"), pl.when(ok).then(local).alias(t + "local")]
        stages = [s1, s2, s3, s4]
        if "z" in get:
            offset = pl.when(c("zulu")).then(0).otherwise(
                pl.when(c("neg")).then(-1).otherwise(1) * (c("zh") * 3_600_000_000 + c("zm") * 60_000_000))
            stages.append([(c("local") - offset).alias(t + "utc")])
            wall, fold, more = self._zone_stages(c("utc"))
            stages += more
            ok = c("okdt") & _in_range(wall)
        else:
            wall, fold, ok = c("local"), pl.lit(False), c("okdt")
        return stages, wall.cast(pl.Datetime("us")), ok, fold

    def _python_text(self, raw: pl.Expr, blank: pl.Expr) -> _Typed:
        """Type every cell with records.py's reader (a format the fast path does not know)."""
        log.debug("field %s: format %r is typed cell by cell in Python", self.field.name, self.field.format)
        reader = R._FieldReader(dataclasses.replace(self.field, nullable=True, enum=None, minimum=None,
                                                    maximum=None), self.zone.zone)
        kind = self.kind

        def run(s: pl.Series) -> pl.Series:
            values, folds, oks = [], [], []
            for cell in s.to_list():
                try:
                    v = reader.text(cell if cell is not None else "")
                    ok = True
                except (R._Bad, *R._UNFORESEEN):
                    v, ok = None, False
                fold = False
                if isinstance(v, dt.datetime):
                    fold = bool(v.fold)
                    v = v.replace(tzinfo=None)
                values.append(v)
                folds.append(fold)
                oks.append(ok)
            return pl.struct([pl.Series("v", values, dtype=px.DTYPES[kind]), pl.Series("fold", folds, dtype=pl.Boolean),
                              pl.Series("ok", oks, dtype=pl.Boolean)], eager=True)

        out = raw.map_batches(run, return_dtype=pl.Struct({"v": px.DTYPES[kind], "fold": pl.Boolean, "ok": pl.Boolean}))
        c = self.c
        fold = c("py").struct.field("fold") if kind == "datetime" else None
        return self._finish([[out.alias(self.tmp + "py")]], blank, c("py").struct.field("v"),
                            c("py").struct.field("ok"), fold)

    # -- native Parquet columns (the JSON-value rules of records._FieldReader.value)
    def native(self, col: pl.Expr, dtype: pl.DataType) -> _Typed | None:
        """None when the column's type has no vectorised rule (every value is then typed in Python)."""
        t = self.field.type
        isnull = col.is_null()

        def done(value: pl.Expr, ok: pl.Expr, fold: pl.Expr | None = None, stages: list[list[pl.Expr]] | None = None
                 ) -> _Typed:
            return self._finish(stages or [], isnull, value, ok, fold)

        if dtype.is_integer():
            if t == "integer":
                return done(col.cast(pl.Int64, strict=False), col.cast(pl.Int64, strict=False).is_not_null())
            if t in ("number", "duration"):
                big = col.cast(pl.Float64).abs() > px.EXACT_INT
                return done(col.cast(pl.Float64), ~big)
            if t == "string":
                return done(col.cast(pl.String), pl.lit(True))
            return None
        if dtype.is_float():
            x = col.cast(pl.Float64)
            if t in ("number", "duration"):
                return done(x, x.is_finite())
            if t == "integer":
                ok = x.is_finite() & (x == x.floor()) & (x.abs() < 2.0**62)
                return done(pl.when(ok).then(x).cast(pl.Int64), ok)
            return None
        if dtype == pl.Boolean:
            if t == "boolean":
                return done(col, pl.lit(True))
            if t == "string":
                return done(pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false")), pl.lit(True))
            return None
        if dtype == pl.Date:
            if t == "date":
                return done(col, pl.lit(True))
            return None
        if isinstance(dtype, pl.Datetime) and dtype.time_unit in ("us", "ms") and t in ("date", "datetime"):
            micros = col.dt.epoch("us")
            stages: list[list[pl.Expr]] = [[micros.alias(self.tmp + "utc")]]
            if dtype.time_zone is None:
                wall, fold = self.c("utc"), pl.lit(False)
            else:
                wall, fold, more = self._zone_stages(self.c("utc"))
                stages += more
            value = wall.cast(pl.Datetime("us"))
            if t == "date":
                return done(value.dt.date(), _in_range(wall), stages=stages)
            return done(value, _in_range(wall), fold, stages=stages)
        if isinstance(dtype, pl.Duration) and t == "duration":
            micros = col.dt.total_microseconds()
            return done(micros.cast(pl.Float64) / 1e6, micros.abs() <= px.EXACT_INT)
        if dtype == pl.String:
            return self.text(col)
        return None


def _fits(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    if kind == "float":
        return isinstance(value, float)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    return False


# --------------------------------------------------------------------------- inputs


@dataclass
class _Input:
    """One input file and how it is read."""

    index: int
    source: str  # as given (Problem.source)
    path: str
    fmt: str  # csv | tsv | jsonl | json | parquet
    route: str = ""  # lines | parquet | python
    codec: str = "utf-8"
    read_path: str = ""  # what polars reads (a transcoded UTF-8 copy for other encodings)
    sha: str = ""
    header: list[str] = field(default_factory=list)
    header_line: int = 0  # 0-based line index of the header
    delim: str = ","
    ncols: int = 0
    cells: dict[str, int | None] = field(default_factory=dict)  # field -> header cell (None: missing)
    columns: dict[str, str | None] = field(default_factory=dict)  # field -> Parquet column
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    rows_read: int = 0
    missing: list[str] = field(default_factory=list)  # nullable fields without a column
    header_delims: int = 0  # delimiters in the header line (and blank lines above it)

    @property
    def kind(self) -> str:
        return "jsonl" if self.fmt in ("jsonl", "json") else "parquet" if self.fmt == "parquet" else "csv"


class _Hasher:
    """SHA-256 of the inputs, computed in a background thread while Polars reads them."""

    def __init__(self, inputs: Sequence[_Input]) -> None:
        self.digests: dict[int, str] = {}
        self.errors: dict[int, BaseException] = {}
        # For the Polars CSV route: (delimiters, quote seen, lone CR seen, NUL seen) of the whole file.
        self.stats: dict[int, tuple[int, bool, bool, bool]] = {}
        self._todo = [i for i in inputs if not i.sha or i.route == "csv"]
        self._thread = threading.Thread(target=self._run, name="qualiscore-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for inp in self._todo:
            h = hashlib.sha256()
            counting = inp.route == "csv"
            hashing = not inp.sha
            # A transcoded input is counted in its UTF-8 copy (its digest is known already).
            path = inp.path if hashing else inp.read_path
            delim = inp.delim.encode("utf-8")
            delims, quote, cr, crlf, nul = 0, False, 0, 0, False
            tail = b""
            try:
                with open(path, "rb") as f:
                    while True:
                        chunk = f.read(_CHUNK)
                        if not chunk:
                            break
                        if hashing:
                            h.update(chunk)
                        if counting:
                            delims += chunk.count(delim)
                            quote = quote or b'"' in chunk
                            nul = nul or b"\x00" in chunk
                            if b"\r" in chunk:
                                joined = tail + chunk
                                cr += chunk.count(b"\r")
                                crlf += joined.count(b"\r\n") - tail.count(b"\r\n")
                            tail = chunk[-1:]
            except OSError as exc:
                self.errors[inp.index] = exc
                continue
            if hashing:
                self.digests[inp.index] = h.hexdigest()
            if counting:
                self.stats[inp.index] = (delims, quote, cr != crlf, nul)

    def join(self) -> None:
        self._thread.join()

    def finish(self, inputs: Sequence[_Input]) -> None:
        self._thread.join()
        for inp in inputs:
            if inp.index in self.errors:
                exc = self.errors[inp.index]
                raise DataError(f"cannot be read: {getattr(exc, 'strerror', None) or exc}",
                                location=Location(inp.source), hint="check the file's permissions",
                                code="unreadable")
            if not inp.sha and inp.index in self.digests:
                inp.sha = self.digests[inp.index]


class _Workspace:
    """Temporary files (transcoded copies) of one run."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def path(self, name: str) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="qualiscore-")
        return os.path.join(self._dir.name, name)

    def close(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class _WholeDataset(Exception):
    """Inputs the columnar reader leaves to records.read_records as a whole (Excel workbooks, sheets)."""


def _prepare(paths: Sequence[str | Path] | str | Path, encoding: str | None) -> list[_Input]:
    """The checks records.read_records makes before reading, in the same order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    inputs: list[_Input] = []
    seen: dict[str, str] = {}
    for k, p in enumerate(paths):
        source = str(p)
        path, _sheet = R.split_sheet(p)
        try:
            R._open_checked(path, source)
            fmt = R._format_of(path, source)
            if fmt == "xlsx":
                raise _WholeDataset(source)
            key = os.path.realpath(path)
            if key in seen:
                raise DataError(f"is the same file as {seen[key]!r}", location=Location(source),
                                hint="pass each input file (or sheet) once", code="duplicate-input")
        except DataError:
            # The reference reads (and may refuse) the earlier files before it checks this one.
            for earlier in inputs:
                if earlier.fmt == "parquet":
                    _check_parquet(earlier)
                else:
                    R._scan(earlier.path, earlier.source, encoding)
            raise
        seen[key] = source
        inputs.append(_Input(k, source, path, fmt, read_path=path))
    return inputs


def _check_parquet(inp: _Input) -> None:
    """records._read_parquet's refusals: not a Parquet file, a damaged footer."""
    with open(inp.path, "rb") as f:
        head = f.read(4)
    if head != b"PAR1":
        raise DataError("is not a Parquet file (it does not start with PAR1)", location=Location(inp.source),
                        hint=f"check the file; qualiscore reads {R._KNOWN_FORMATS} files", code="format")
    try:
        inp.schema = dict(pl.read_parquet_schema(inp.path))
    except OSError:
        raise
    except Exception as exc:
        raise DataError(f"cannot be read as Parquet: {type(exc).__name__}: {exc}", location=Location(inp.source),
                        hint="write the file again (it may be truncated), or export the records as CSV UTF-8",
                        code="unreadable") from None


def _sniff_codec(inp: _Input, encoding: str | None, work: _Workspace) -> None:
    """Pick the codec; UTF-8 is confirmed later by Polars (or by records._scan when it is not)."""
    if encoding is not None:
        inp.sha, inp.codec = R._scan(inp.path, inp.source, encoding)
    else:
        with open(inp.path, "rb") as f:
            head = f.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            inp.sha, inp.codec = R._scan(inp.path, inp.source, None)
        else:
            inp.codec = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if inp.codec not in ("utf-8", "utf-8-sig"):
        _transcode(inp, work)


def _transcode(inp: _Input, work: _Workspace) -> None:
    """Write a UTF-8 copy of a text file in another encoding (the rows and bytes of lines stay the same)."""
    target = work.path(f"input-{inp.index}.txt")
    decoder = codecs.getincrementaldecoder(inp.codec)("strict")
    with open(inp.path, "rb") as src, open(target, "wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            dst.write(text.encode("utf-8", "surrogatepass"))
            if not chunk:
                break
    log.debug("%s: transcoded from %s to a temporary UTF-8 file", inp.source, inp.codec)
    inp.read_path = target


def _csv_header(inp: _Input, typer: R._Typer) -> bool:
    """Read the header like records._read_csv; False if the file needs the row-by-row reader."""
    with open(inp.read_path, encoding="utf-8-sig" if inp.read_path == inp.path else "utf-8", newline="") as f:
        first = f.readline()
        skipped = 0
        while first and not first.strip():
            first = f.readline()
            skipped += 1
        if not first:
            raise DataError("is empty: a CSV file needs a header row naming its columns",
                            location=Location(inp.source, line=1),
                            hint="export the data with column headers in the first row", code="empty")
    if inp.fmt == "tsv":
        delim = "\t"
    elif "," not in first and ("\t" in first or ";" in first):
        delim = "\t" if first.count("\t") >= first.count(";") else ";"
    else:
        delim = ","
    if first.endswith("\r"):
        return False  # a lone carriage return ends the line: the row-by-row reader splits such files
    line = first.rstrip("\n")
    if line.endswith("\r"):
        line = line[:-1]
    if '"' in line or "\r" in line or "\x00" in line or len(line) > FIELD_SIZE_LIMIT:
        return False
    header = line.split(delim)
    if not any(header):
        return False
    if header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    inp.header, inp.delim, inp.header_line, inp.ncols = header, delim, skipped, len(header)
    inp.header_delims = first.count(delim)
    for fr in typer.readers:
        idx = R._header_index(header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(idx, location=Location(inp.source, line=skipped + 1, field=fr.name),
                            hint="rename one of the columns so each field reads exactly one",
                            code="ambiguous-column")
        inp.cells[fr.name] = idx
        if idx is None and fr.nullable:
            inp.missing.append(fr.name)
    return True


SAMPLE_ROWS = 2000


def _sample(inp: _Input) -> dict[str, list[Any]]:
    """The first values of each field's column (they only choose expressions, never answers)."""
    out: dict[str, list[Any]] = {}
    try:
        if inp.kind == "csv":
            with open(inp.read_path, encoding="utf-8-sig" if inp.read_path == inp.path else "utf-8",
                      errors="replace", newline="") as f:
                for _ in range(inp.header_line + 1):
                    f.readline()
                rows = [f.readline().rstrip("\r\n").split(inp.delim) for _ in range(SAMPLE_ROWS)]
            for name, idx in inp.cells.items():
                if idx is not None:
                    out[name] = [r[idx] for r in rows if idx < len(r)]
        elif inp.kind == "parquet":
            cols = sorted({c for c in inp.columns.values() if c is not None})
            head = pl.read_parquet(inp.path, columns=cols, n_rows=SAMPLE_ROWS) if cols else None
            for name, col in inp.columns.items():
                if col is not None and head is not None:
                    out[name] = head.get_column(col).to_list()
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return {}
    return out


def _parquet_columns(inp: _Input, typer: R._Typer) -> None:
    """records._table_plan over the Parquet schema: each field's column (exact header, else trimmed)."""
    _check_parquet(inp)
    inp.header = list(inp.schema)
    inp.ncols = len(inp.header)
    for fr in typer.readers:
        idx = R._header_index(inp.header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(idx, location=Location(inp.source, line=None, field=fr.name),
                            hint="rename one of the columns so each field reads exactly one",
                            code="ambiguous-column")
        inp.cells[fr.name] = idx
        inp.columns[fr.name] = None if idx is None else inp.header[idx]
        if idx is None and fr.nullable:
            inp.missing.append(fr.name)
    # Decimals become floats, as records._read_parquet reads them.
    inp.schema = {k: (pl.Float64() if v.is_decimal() else v) for k, v in inp.schema.items()}


# --------------------------------------------------------------------------- typing rows in Python


class _RowTyper:
    """records.py's rules for one row at a time: the exact answer for the rows the fast path flags."""

    def __init__(self, contract: RecordContract) -> None:
        self.typer = R._Typer(contract)
        self.readers = self.typer.readers
        self.id_pos = self.typer.id_pos
        self.plans: dict[int, list[tuple[str, int, Callable[[str], Any]]]] = {}

    def plan(self, inp: _Input) -> list[tuple[str, int, Callable[[str], Any]]]:
        """records._type_csv_rows' plan: (name, cell, parser) per field."""
        got = self.plans.get(inp.index)
        if got is None:
            got = []
            pad = 0 if inp.kind == "csv" else inp.ncols  # tables read a None cell past the end
            for fr in self.readers:
                idx = inp.cells.get(fr.name)
                if idx is not None:
                    got.append((fr.name, idx, fr.text if inp.kind == "csv" else R._value_converter(fr)))
                elif fr.nullable:
                    got.append((fr.name, pad, R._always_none))
                else:
                    message = (f"column {fr.source!r} is not in the header ({R._closest(fr.source, inp.header)}); "
                               "rename the column, or map it with `column:` in the contract")
                    got.append((fr.name, pad, R._always_missing(message)))
            self.plans[inp.index] = got
        return got

    def id_cell(self, inp: _Input) -> int | None:
        if self.id_pos is None:
            return None
        return inp.cells.get(self.readers[self.id_pos].name)

    def table_row(self, inp: _Input, cells: Sequence[Any], rownum: int
                  ) -> tuple[dict[str, Any] | None, list[Problem], Any, Any]:
        """(record or None, problems, typed id or None, raw id) of a CSV row with the header's width,
        or of a Parquet row (its cells by header position, plus a None past the end)."""
        plan = self.plan(inp)
        id_cell = self.id_cell(inp)
        raw_id = cells[id_cell] if id_cell is not None else None
        try:
            record = {name: conv(cells[idx]) for name, idx, conv in plan}
        except (R._Bad, *R._UNFORESEEN):
            pass
        else:
            idv = R._hashable(record[self.readers[self.id_pos].name]) if self.id_pos is not None else None
            return record, [], idv, raw_id
        rid = R._clip(raw_id) if id_cell is not None else None
        problems: list[Problem] = []
        id_value = None
        for pos, ((_name, idx, conv), reader) in enumerate(zip(plan, self.readers, strict=True)):
            raw = cells[idx]
            try:
                value = conv(raw)
            except (R._Bad, *R._UNFORESEEN) as exc:
                problems.append(R._problem_from(exc, reader, inp.source, rownum, rid, raw))
                continue
            if pos == self.id_pos:
                id_value = value
        return None, problems, id_value, raw_id

    def check_cells(self, inp: _Input, cells: Sequence[Any], rownum: int, positions: Sequence[int]
                    ) -> tuple[list[Problem], Any, Any]:
        """(problems, typed id (records._MISSING if not among ``positions``), raw id) of some fields of a row."""
        plan = self.plan(inp)
        id_cell = self.id_cell(inp)
        raw_id = cells[id_cell] if id_cell is not None else None
        rid = R._clip(raw_id) if id_cell is not None else None
        problems: list[Problem] = []
        id_value: Any = R._MISSING
        for pos in positions:
            _name, idx, conv = plan[pos]
            reader = self.readers[pos]
            raw = cells[idx]
            try:
                value = conv(raw)
            except (R._Bad, *R._UNFORESEEN) as exc:
                problems.append(R._problem_from(exc, reader, inp.source, rownum, rid, raw))
                if pos == self.id_pos:
                    id_value = None
                continue
            if pos == self.id_pos:
                id_value = value
        return problems, id_value, raw_id

    def ragged(self, inp: _Input, cells: list[str], rownum: int) -> Problem:
        id_cell = self.id_cell(inp)
        rid = cells[id_cell] if id_cell is not None and id_cell < len(cells) else None
        return Problem(inp.source, rownum, R._clip(rid), None, None, "ragged-row",
                       f"the row has {len(cells)} cells but the header has {inp.ncols}; look for an unquoted "
                       "delimiter or a missing quote, or quote cells that contain the delimiter")


@dataclass
class _PyRows:
    """Rows typed by records.py (JSON Lines, CSV the fast path does not read, Parquet fix-ups)."""

    collector: R._Collector
    by_origin: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def occurrences(self) -> list[tuple[Any, str, int, int, str | None]]:
        out = []
        c = self.collector
        for value, first in c.first_seen.items():
            for occ in c.repeated.get(value) or [first]:
                out.append((value, *occ))
        return out


def _read_python(inputs: Sequence[_Input], contract: RecordContract, encoding: str | None) -> _PyRows:
    """Type whole files row by row with records.py, into one collector (duplicates are checked later)."""
    out = R._Collector(R._Typer(contract))
    for inp in inputs:
        out.sources.append(inp.source)
        try:
            if inp.kind == "parquet":
                inp.sha = R._hash_file(inp.path)[0]
                _check_parquet(inp)
                inp.rows_read = R._read_parquet(inp.path, inp.source, out)
                inp.codec = ""
                inp.missing = [name for src, name in out.missing_columns if src == inp.source]
                continue
            inp.sha, inp.codec = R._scan(inp.path, inp.source, encoding)
            if inp.kind == "csv":
                inp.rows_read = R._read_csv(inp.path, inp.source, inp.codec, inp.fmt == "tsv", out)
            else:
                inp.rows_read = R._read_jsonl(inp.path, inp.source, inp.codec, inp.fmt == "json", out)
        except UnicodeDecodeError as exc:
            raise DataError(f"cannot be decoded: {exc}", location=Location(inp.source),
                            hint="pass --encoding with the file's real encoding", code="encoding") from None
        except OSError as exc:
            raise DataError(f"cannot be read: {exc.strerror or exc}", location=Location(inp.source),
                            hint="check the file's permissions", code="unreadable") from None
        inp.missing = [name for src, name in out.missing_columns if src == inp.source]
    rows = _PyRows(out)
    rows.by_origin = dict(zip(out.origins, out.records))
    return rows


# --------------------------------------------------------------------------- typed frames

WEIRD = "__weird"


def _sus_mask(flags: Sequence[pl.Expr]) -> pl.Expr:
    """A bit per field (fields beyond 62 share bit 62) of cells the fast path did not type."""
    if not flags:
        return pl.lit(0, dtype=pl.Int64)
    terms = [f.cast(pl.Int64) * (1 << min(i, 62)) for i, f in enumerate(flags)]
    if len(flags) > 62:
        return pl.sum_horizontal(terms[:62]) + pl.max_horizontal(terms[62:])
    return terms[0] if len(terms) == 1 else pl.sum_horizontal(terms)


def _field_columns(contract: RecordContract, typed: Mapping[str, _Typed]) -> list[pl.Expr]:
    cols = []
    for f in contract.fields:
        t = typed[f.name]
        cols.append(t.value.cast(px.DTYPES[FIELD_KINDS[f.type]]).alias(f.name))
        if f.type == "datetime":
            cols.append((t.fold if t.fold is not None else pl.lit(False)).fill_null(False).alias(_fold_col(f.name)))
    return cols


def _staged(lf: pl.LazyFrame, typed: Mapping[str, _Typed]) -> pl.LazyFrame:
    """Add every field's staged columns, level by level."""
    depth = max((len(t.stages) for t in typed.values()), default=0)
    for level in range(depth):
        exprs = [e for t in typed.values() if level < len(t.stages) for e in t.stages[level]]
        if exprs:
            lf = lf.with_columns(exprs)
    return lf


def _typed_lines(inp: _Input, contract: RecordContract, typers: Mapping[str, _FieldTyper]) -> pl.LazyFrame:
    """A CSV without quotes, read as lines and split on the delimiter (exactly what csv.reader does then)."""
    d = inp.delim
    line = pl.col("line")
    lf = pl.scan_lines(inp.read_path).with_row_index("__i").filter(pl.col("__i") > inp.header_line)
    ncells = line.str.count_matches(d, literal=True) + 1
    all_empty = line.str.strip_chars(d) == ""
    lone_space = (ncells == 1) & pl.lit(inp.ncols != 1) & line.str.contains(f"^[{_ws()}]+$")
    lf = lf.with_columns(ncells.alias("__ncells"))
    lf = lf.filter(~(all_empty | lone_space).fill_null(True))
    weird = (line.str.contains('"', literal=True) | line.str.contains("\r", literal=True)
             | line.str.contains("\x00", literal=True) | (line.str.len_bytes() > FIELD_SIZE_LIMIT))
    used = sorted({i for i in inp.cells.values() if i is not None})
    if inp.ncols > 1:
        parts = line.str.split_exact(d, inp.ncols - 1)
        lf = lf.with_columns(parts.alias("__parts"))
        lf = lf.with_columns([pl.col("__parts").struct.field(f"field_{i}").alias(f"__c{i}") for i in used])
    elif used:
        lf = lf.with_columns(line.alias("__c0"))
    typed: dict[str, _Typed] = {}
    for f in contract.fields:
        idx = inp.cells.get(f.name)
        if idx is None:
            nulled = pl.lit(None, dtype=px.DTYPES[FIELD_KINDS[f.type]])
            typed[f.name] = _Typed(nulled, pl.lit(not f.nullable))
        else:
            typed[f.name] = typers[f.name].text(pl.col(f"__c{idx}"))
    lf = _staged(lf, typed)
    ragged = pl.col("__ncells") != inp.ncols
    return lf.select(
        pl.lit(inp.index, dtype=pl.Int32).alias(SRC),
        (pl.col("__i").cast(pl.Int64) + 1).alias(ROW),
        pl.when(ragged).then(0).otherwise(_sus_mask([typed[f.name].sus for f in contract.fields])).alias(SUS),
        ragged.alias(RAGGED),
        weird.alias(WEIRD),
        *_field_columns(contract, typed),
    )


BLANK = "__blank"


def _typed_csv(inp: _Input, contract: RecordContract, typers: Mapping[str, _FieldTyper]) -> pl.LazyFrame:
    """A CSV read by Polars' own parser, without quote handling (the file has no quote character).

    Every line is then one record split on the delimiter, as csv.reader splits it. Rows with
    fewer cells are padded by Polars: the run checks afterwards that the file's delimiter
    count matches full rows, else the file is read again by lines (_typed_lines).
    """
    names = [f"__c{i}" for i in range(inp.ncols)]
    lf = pl.scan_csv(inp.read_path, has_header=False, skip_lines=inp.header_line + 1, separator=inp.delim,
                     quote_char=None, schema=dict.fromkeys(names, pl.String), empty_string_is_null=True,
                     truncate_ragged_lines=False, row_index_name="__i", encoding="utf8", raise_if_empty=False)
    cells = [pl.col(n) for n in names]
    blank = pl.all_horizontal([c.is_null() for c in cells]) if cells else pl.lit(True)
    too_long = pl.any_horizontal([(c.str.len_bytes() > FIELD_SIZE_LIMIT).fill_null(False) for c in cells])
    typed: dict[str, _Typed] = {}
    for f in contract.fields:
        idx = inp.cells.get(f.name)
        if idx is None:
            typed[f.name] = _Typed(pl.lit(None, dtype=px.DTYPES[FIELD_KINDS[f.type]]), pl.lit(not f.nullable))
        else:
            typed[f.name] = typers[f.name].text(pl.col(names[idx]))
    lf = _staged(lf, typed)
    return lf.select(
        pl.lit(inp.index, dtype=pl.Int32).alias(SRC),
        (pl.col("__i").cast(pl.Int64) + inp.header_line + 2).alias(ROW),
        pl.when(blank).then(0).otherwise(_sus_mask([typed[f.name].sus for f in contract.fields])).alias(SUS),
        blank.alias(RAGGED),  # blank rows: the check after the pass decides
        too_long.alias(WEIRD),
        *_field_columns(contract, typed),
    )


def _typed_parquet(inp: _Input, contract: RecordContract, typers: Mapping[str, _FieldTyper]) -> pl.LazyFrame:
    lf = pl.scan_parquet(inp.path).with_row_index("__i")
    typed: dict[str, _Typed] = {}
    for f in contract.fields:
        col = inp.columns.get(f.name)
        kind = FIELD_KINDS[f.type]
        if col is None:
            typed[f.name] = _Typed(pl.lit(None, dtype=px.DTYPES[kind]), pl.lit(not f.nullable))
            continue
        source = pl.col(col).cast(pl.Float64) if inp.schema[col] == pl.Float64 else pl.col(col)
        got = typers[f.name].native(source, inp.schema[col])
        if got is None:
            # No vectorised rule for this column type: every non-null value is typed in Python.
            got = _Typed(pl.lit(None, dtype=px.DTYPES[kind]), ~pl.col(col).is_null() | pl.lit(not f.nullable))
        typed[f.name] = got
    lf = _staged(lf, typed)
    return lf.select(
        pl.lit(inp.index, dtype=pl.Int32).alias(SRC),
        (pl.col("__i").cast(pl.Int64) + 1).alias(ROW),
        _sus_mask([typed[f.name].sus for f in contract.fields]).alias(SUS),
        pl.lit(False).alias(RAGGED),
        pl.lit(False).alias(WEIRD),
        *_field_columns(contract, typed),
    )


def _in_origin_order(nf: pl.DataFrame) -> bool:
    """Rows already by (source, row), as the streaming read usually leaves them: no sorted copy needed."""
    if nf.height < 2:
        return True
    step = nf.select(((pl.col(SRC).diff() > 0) | ((pl.col(SRC).diff() == 0) & (pl.col(ROW).diff() > 0)))
                     .slice(1).all()).item()
    return bool(step)


def _frame_of_records(contract: RecordContract, records: Sequence[Mapping[str, Any]],
                      origins: Sequence[tuple[int, int]]) -> pl.DataFrame:
    """Typed Python records as a frame with the typed-frame schema (datetimes as wall clock + fold)."""
    data: dict[str, Any] = {
        SRC: pl.Series(SRC, [o[0] for o in origins], dtype=pl.Int32),
        ROW: pl.Series(ROW, [o[1] for o in origins], dtype=pl.Int64),
        SUS: pl.Series(SUS, [0] * len(origins), dtype=pl.Int64),
        RAGGED: pl.Series(RAGGED, [False] * len(origins), dtype=pl.Boolean),
        WEIRD: pl.Series(WEIRD, [False] * len(origins), dtype=pl.Boolean),
    }
    for f in contract.fields:
        kind = FIELD_KINDS[f.type]
        values = [r.get(f.name) for r in records]
        if f.type == "datetime":
            data[f.name] = pl.Series(f.name, [None if v is None else v.replace(tzinfo=None) for v in values],
                                     dtype=pl.Datetime("us"))
            data[_fold_col(f.name)] = pl.Series(_fold_col(f.name), [bool(v is not None and v.fold) for v in values],
                                                dtype=pl.Boolean)
            continue
        if kind == "int" and any(v is not None and not -(2**63) <= v < 2**63 for v in values):
            raise Fallback(f"field {f.name} holds an integer beyond 64 bits")
        data[f.name] = pl.Series(f.name, values, dtype=px.DTYPES[kind])
    return pl.DataFrame(data)


# --------------------------------------------------------------------------- a scheme, compiled

NUMERIC_MEASURES = frozenset({"sum", "mean", "median", "percentile", "min", "max", "nps"})
_NC: Any = px._NC


def _expr_key(expr: Expression) -> str:
    return ast.dump(expr.tree.body)


def _to_python(value: Any, kind: str, zone: ZoneInfo) -> Any:
    """A column value as the Evaluator sees it."""
    if kind == "datetime" and value is not None:
        return value.replace(tzinfo=zone)
    return value


def _from_python(value: Any, kind: str) -> Any:
    """A value from the Evaluator as the column of ``kind`` stores it; raises Fallback on a surprise."""
    if value is None:
        return None
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise Fallback("an integer beyond 64 bits")
        return value
    if kind in ("float", "num") and isinstance(value, (int, float)) and not isinstance(value, bool):
        if kind == "num" and isinstance(value, int) and abs(value) > px.EXACT_INT:
            raise Fallback("an int-or-float value beyond 2**53")
        return float(value) if kind == "num" or isinstance(value, float) else _raise(value, kind)
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return _raise(value, kind)


def _physical(kind: str) -> pl.DataType:
    """The column type of a kind; an always-null value is stored as Float64 (Polars has few kernels for Null)."""
    return pl.Float64() if kind == "null" else px.DTYPES[kind]


def _raise(value: Any, kind: str) -> Any:
    raise Fallback(f"the Evaluator returned {type(value).__name__} {value!r} where the engine expected {kind}")


@dataclass
class _Column:
    """A derived value or a measure expression as a column of the narrow frame."""

    name: str
    expr: Expression
    kind: str
    value: pl.Expr | None = None  # None when constant
    const: Any = _NC
    fail: pl.Expr | None = None
    python: bool = False

    @property
    def t(self) -> px.T:
        if self.const is not _NC:
            return px.T(self.kind, const=self.const)
        return px.T(self.kind, expr=pl.col(self.name))


@dataclass
class _MeasurePlan:
    measure: Measure
    where: _Column | None
    expr: _Column | None
    numerator: _Column | None = None
    denominator: _Column | None = None


class _Plan:
    """What the columnar engine computes for one contract: only typing (read mode) or a scheme version."""

    def __init__(self, contract: RecordContract, scheme: Scheme | None = None, by: Sequence[str] | None = None) -> None:
        self.scheme = scheme
        self.contract = contract
        self.read_mode = scheme is None
        self.fields = group_fields(scheme, by) if scheme is not None else ()
        self.id_field = contract.id
        self.period = scheme.subject.period if scheme is not None else None
        R._Typer(contract)  # an unknown time zone is refused here, as records.read_records refuses it
        self.zone = ZoneInfo(contract.timezone)
        self.kinds = {f.name: FIELD_KINDS[f.type] for f in contract.fields}
        self.derived: list[_Column] = []
        self.columns: dict[str, _Column] = {}
        self.measures: dict[int, _MeasurePlan] = {}
        if scheme is None:
            return
        self.tr = px.Translator(scheme.constants, scheme.calendar, self.kinds)
        for name, expr in scheme.derive:
            col = self._column(name, expr)
            self.derived.append(col)
            if col.const is not _NC:
                self.tr.with_constant(name, col.const)
            else:
                self.tr.with_column(name, col.kind)
                self.kinds[name] = col.kind
        owners = [i.measure for i in scheme.indicators] + [v.when for v in scheme.vetoes]
        for m in owners:
            self.measures[id(m)] = self._measure(m)

    # -- compiling
    def _column(self, name: str, expr: Expression) -> _Column:
        try:
            t = self.tr.translate(expr)
        except px.NeedsPython as why:
            if why.kind not in px.DTYPES:
                raise Fallback(f"{expr.source!r}: {why.why}") from None
            log.debug("columnar: %s = %r is evaluated row by row in Python: %s", name, expr.source, why.why)
            return _Column(name, expr, why.kind, python=True)
        except px.Untranslatable as why:
            raise Fallback(f"{expr.source!r}: {why}") from None
        if t.is_const:
            if t.fail is not None:
                return _Column(name, expr, "null", value=pl.lit(None), fail=t.fail)
            return _Column(name, expr, t.kind, const=t.const)
        if t.kind not in px.DTYPES:
            raise Fallback(f"{expr.source!r} has no single type")
        return _Column(name, expr, t.kind, value=t.e, fail=t.fail)

    def _measure(self, m: Measure) -> _MeasurePlan:
        def col(expr: Expression | None) -> _Column | None:
            if expr is None:
                return None
            key = _expr_key(expr)
            got = self.columns.get(key)
            if got is None:
                got = self._column(f"__m{len(self.columns)}", expr)
                self.columns[key] = got
            return got

        plan = _MeasurePlan(m, col(m.where), col(m.expr), col(m.numerator), col(m.denominator))
        numeric = [plan.expr] if m.kind in NUMERIC_MEASURES else [plan.numerator, plan.denominator] \
            if m.kind == "ratio" else []
        for c in numeric:
            if c is not None and c.kind not in px.NUMERIC and c.kind != "null":
                raise Fallback(f"a {m.kind} measure over {c.kind} values ({c.expr.source!r})")
        if m.kind == "value" and plan.expr is not None:
            c = plan.expr
            if c.kind == "num" or (c.kind == "datetime" and c.expr.tree.body.__class__ is not ast.Name):
                raise Fallback(f"a value measure of {c.kind} values ({c.expr.source!r})")
        return plan

    # -- the Polars side
    def _python_value(self, col: _Column) -> pl.Expr:
        """struct(v: value, e: error) of an expression evaluated by the row Evaluator."""
        assert self.scheme is not None
        refs = sorted(n for n in col.expr.names if n in self.kinds)
        kinds = {n: self.kinds[n] for n in refs}
        folded = dict(self.tr.folded)
        constants, calendar = self.scheme.constants, self.scheme.calendar
        local = threading.local()  # an Evaluator is not thread-safe, and Polars calls from several threads
        zone, kind, expr = self.zone, col.kind, col.expr
        dtype = _physical(kind)

        def run(s: pl.Series) -> pl.Series:
            evaluator = getattr(local, "evaluator", None)
            if evaluator is None:
                evaluator = local.evaluator = Evaluator(constants, calendar)
            values, errors = [], []
            for row in s.to_list():
                env = dict(folded)
                for n in refs:
                    env[n] = _to_python(row[n] if row else None, kinds[n], zone)
                try:
                    v = _from_python(evaluator.evaluate(expr, env), kind)
                    err = False
                except ExpressionError:
                    v, err = None, True
                values.append(v)
                errors.append(err)
            return pl.struct([pl.Series("v", values, dtype=dtype), pl.Series("e", errors, dtype=pl.Boolean)],
                             eager=True)

        arg = pl.struct([pl.col(n) for n in refs]) if refs else pl.struct(pl.lit(0).alias("_"))
        return arg.map_batches(run, return_dtype=pl.Struct({"v": dtype, "e": pl.Boolean}))

    def add_columns(self, lf: pl.LazyFrame, cols: Sequence[_Column], fails: list[pl.Expr]) -> pl.LazyFrame:
        for col in cols:
            if col.const is not _NC:
                continue
            if col.python:
                lf = lf.with_columns(self._python_value(col).alias("__tmp"))
                lf = lf.with_columns(pl.col("__tmp").struct.field("v").alias(col.name),
                                     pl.col("__tmp").struct.field("e").alias(f"__e_{col.name}")).drop("__tmp")
                fails.append(pl.col(f"__e_{col.name}"))
                continue
            assert col.value is not None
            if col.fail is not None:
                lf = lf.with_columns(col.value.cast(_physical(col.kind)).alias(col.name),
                                     col.fail.fill_null(False).alias(f"__e_{col.name}"))
                fails.append(pl.col(f"__e_{col.name}"))
            else:
                lf = lf.with_columns(col.value.cast(_physical(col.kind)).alias(col.name))
        return lf

    def narrow(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Derive, compute the measure expressions, and keep only what the group_by needs."""
        if self.read_mode:
            return lf.with_columns(pl.lit(False).alias(DFAIL))
        fails: list[pl.Expr] = []
        lf = self.add_columns(lf, self.derived, fails)
        lf = self.add_columns(lf, list(self.columns.values()), fails)
        keep = [pl.col(SRC), pl.col(ROW), pl.col(SUS), pl.col(RAGGED), pl.col(WEIRD)]
        keep.append(pl.any_horizontal(fails).alias(DFAIL) if fails else pl.lit(False).alias(DFAIL))
        for name in self.kept_fields():
            keep.append(pl.col(name))
            if self.contract.field(name).type == "datetime":
                keep.append(pl.col(_fold_col(name)))
        if self.period is not None:
            k = self.kinds[self.period.field]
            p = pl.col(self.period.field)
            keep.append((p.dt.date() if k == "datetime" else p).alias(PDATE))
        for col in self.columns.values():
            if col.const is _NC:
                keep.append(pl.col(col.name))
        return lf.select(keep)

    def kept_fields(self) -> list[str]:
        """Fields the narrow frame keeps: the id, the grouping fields, and datetime fields a `value`
        measure reports (their fold is needed to print them)."""
        if self.read_mode:
            return [f.name for f in self.contract.fields]
        shown = [mp.expr.expr.tree.body.id for mp in self.measures.values()  # type: ignore[attr-defined]
                 if mp.measure.kind == "value" and mp.expr is not None and mp.expr.kind == "datetime"
                 and isinstance(mp.expr.expr.tree.body, ast.Name) and mp.expr.expr.tree.body.id in self.kinds
                 and any(f.name == mp.expr.expr.tree.body.id for f in self.contract.fields)]
        return list(dict.fromkeys([self.id_field, *self.fields, *shown]))


# --------------------------------------------------------------------------- one run over the inputs


@dataclass
class _Result:
    frame: pl.DataFrame  # every row read: origin, kept fields, period day, measure columns, STATE
    dataset: Dataset  # records=(); problems, inputs and missing columns as records.read_records gives them
    run_problems: list[Problem]  # evaluation errors of derived values, records without a period
    measure_errors: list[tuple[int, int, str]]  # (src, row, measure column) where the Evaluator raised
    inputs: list[_Input]


def _is_in(col: str, values: Sequence[int]) -> pl.Expr:
    return pl.col(col).cast(pl.Int64).is_in(pl.lit(pl.Series(list(values), dtype=pl.Int64)).implode())


def _patch(frame: pl.DataFrame, patches: Mapping[str, Mapping[int, Any]]) -> pl.DataFrame:
    cols = []
    for name, upd in patches.items():
        if not upd:
            continue
        s = frame[name].clone()
        s.scatter(list(upd), pl.Series(list(upd.values()), dtype=s.dtype))
        cols.append(s)
    return frame.with_columns(cols) if cols else frame


class _Executor:
    def __init__(self, plan: _Plan, paths: Sequence[str | Path] | str | Path, encoding: str | None,
                 sheet: str | None = None) -> None:
        self.plan = plan
        self.contract = plan.contract
        self.encoding = encoding
        self.sheet = sheet
        self.rt = _RowTyper(self.contract)  # raises bad-timezone first, like read_records
        self.paths = paths
        self.zone = _Zone(self.contract.timezone)
        self._typers: dict[int, dict[str, _FieldTyper]] = {}
        self.work = _Workspace()

    def run(self) -> _Result:
        try:
            try:
                if self.sheet is not None:
                    raise _WholeDataset(self.sheet)
                return self._run()
            except _WholeDataset:
                ds = R.read_records(self.paths, self.contract, encoding=self.encoding, sheet=self.sheet)
                return self._run_dataset(ds)
        finally:
            self.work.close()

    def _run_dataset(self, ds: Dataset) -> _Result:
        """Inputs read by records.read_records as a whole (Excel): evaluated by the same columnar query."""
        inputs = [_Input(k, f.path, f.path, f.format, route="python", codec=f.encoding, sha=f.sha256,
                         rows_read=f.rows_read) for k, f in enumerate(ds.inputs)]
        index = {i.source: i.index for i in inputs}
        origins = [(index[src], row) for src, row in ds.origins]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nf = self.plan.narrow(_frame_of_records(self.contract, ds.records, origins).lazy()).collect()
        records: dict[int, dict[str, Any]] = {}
        if not self.plan.read_mode:
            by_origin = dict(zip(origins, ds.records))
            flagged = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, DFAIL)
                       .filter(pl.col(DFAIL)).drop(DFAIL))
            for pos, src, row in flagged.iter_rows():
                records[pos] = by_origin[(src, row)]
        rejected: set[int] = set()
        run_problems: list[Problem] = []
        measure_errors: list[tuple[int, str]] = []
        by_index = {i.index: i for i in inputs}
        if not self.plan.read_mode:
            nf = self._evaluate_rows(nf, records, rejected, by_index, run_problems, measure_errors)
            if self.plan.period is not None:
                nf = self._no_period(nf, rejected, by_index, run_problems)
        errors = [(int(nf[SRC][p]), int(nf[ROW][p]), c) for p, c in measure_errors if p not in rejected]
        frame = nf.drop(SUS, RAGGED, WEIRD, DFAIL).with_columns(_state(nf.height, set(), rejected))
        return _Result(frame, dataclasses.replace(ds, records=(), origins=()), run_problems, errors, inputs)

    # -- routes
    def _route(self, inp: _Input) -> None:
        if inp.kind == "parquet":
            _parquet_columns(inp, self.rt.typer)
            inp.route, inp.codec = "parquet", ""
            return
        if inp.kind == "jsonl":
            inp.route = "python"
            return
        _sniff_codec(inp, self.encoding, self.work)
        try:
            ok = _csv_header(inp, self.rt.typer)
        except UnicodeDecodeError:
            inp.sha, inp.codec = R._scan(inp.path, inp.source, self.encoding)
            _transcode(inp, self.work)
            ok = _csv_header(inp, self.rt.typer)
        inp.route = "csv" if ok else "python"

    def typers(self, inp: _Input) -> dict[str, _FieldTyper]:
        got = self._typers.get(inp.index)
        if got is None:
            sample = _sample(inp)
            got = {f.name: _FieldTyper(f, self.zone, f"__t{i}_", sample.get(f.name, ()))
                   for i, f in enumerate(self.contract.fields)}
            self._typers[inp.index] = got
        return got

    def _typed(self, inp: _Input) -> pl.LazyFrame:
        if inp.route == "csv":
            return _typed_csv(inp, self.contract, self.typers(inp))
        if inp.route == "lines":
            return _typed_lines(inp, self.contract, self.typers(inp))
        return _typed_parquet(inp, self.contract, self.typers(inp))

    def main_query(self, fast: list[_Input]) -> pl.LazyFrame:
        """Typing, derived values and measure expressions of every fast input: one streaming query."""
        return self.plan.narrow(pl.concat([self._typed(inp) for inp in fast], how="vertical"))

    def _main_pass(self, fast: list[_Input]) -> pl.DataFrame:
        for attempt in range(3):
            query = self.main_query(fast)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return query.collect(engine="streaming")
            except Fallback:
                raise
            except pl.exceptions.SchemaError as exc:
                # The first row of a CSV has fewer cells than the header: read CSV files by lines.
                if not any(inp.route == "csv" for inp in fast):
                    raise Fallback(f"polars could not read the input: {exc}") from exc
                for inp in fast:
                    if inp.route == "csv":
                        inp.route = "lines"
                continue
            except pl.exceptions.ComputeError as exc:
                text = str(exc).lower()
                if "more fields" in text or "ragged" in text:
                    # A row with too many cells: read the CSV files by lines, which sees every cell count.
                    for inp in fast:
                        if inp.route == "csv":
                            inp.route = "lines"
                    continue
                if ("utf8" not in text and "utf-8" not in text) or attempt:
                    raise Fallback(f"polars could not read the input: {exc}") from exc
                # Not UTF-8 after all: records._scan finds the codec (or raises its error).
                for inp in fast:
                    if inp.route in ("csv", "lines") and inp.read_path == inp.path:
                        inp.sha, inp.codec = R._scan(inp.path, inp.source, self.encoding)
                        if inp.codec not in ("utf-8", "utf-8-sig"):
                            _transcode(inp, self.work)
        raise AssertionError("unreachable")

    # -- the run
    def _run(self) -> _Result:
        LAST_TIMINGS.clear()
        clock = self.clock = _Clock()
        inputs = _prepare(self.paths, self.encoding)
        for inp in inputs:
            self._route(inp)
        fast = [i for i in inputs if i.route in ("csv", "lines", "parquet")]
        hasher = _Hasher(fast)
        frames = []
        clock.lap("prepare")
        if fast:
            nf = self._main_pass(fast)
            clock.lap("main pass")
            nf = self._verify_csv(nf, fast, hasher)
            clock.lap("csv checks")
            weird = set(nf.filter(pl.col(WEIRD)).get_column(SRC).unique().to_list()) if nf.height else set()
            for inp in fast:
                if inp.index in weird:
                    log.debug("%s: quotes, carriage returns or NUL bytes: typed row by row", inp.source)
                    inp.route = "python"
            if weird:
                nf = nf.filter(~pl.col(SRC).is_in(list(weird)))
            frames.append(nf)
        counts = dict(frames[0].get_column(SRC).value_counts().iter_rows()) if frames else {}
        for inp in inputs:
            if inp.route in ("csv", "lines", "parquet"):
                inp.rows_read = counts.get(inp.index, 0)
        slow = [i for i in inputs if i.route == "python"]
        py: _PyRows | None = None
        if slow:
            py = _read_python(slow, self.contract, self.encoding)
            rank = {i.source: i.index for i in slow}
            origins = [(rank[src], row) for src, row in py.collector.origins]
            frame = _frame_of_records(self.contract, py.collector.records, origins)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frames.append(self.plan.narrow(frame.lazy()).collect())
        clock.lap("row-by-row inputs")
        hasher.finish(inputs)
        clock.lap("sha256 wait")
        nf = pl.concat(frames, how="vertical") if frames else self.plan.narrow(
            _frame_of_records(self.contract, [], []).lazy()).collect()
        if not _in_origin_order(nf):
            nf = nf.sort([SRC, ROW])
        result = self._fix(nf, inputs, py)
        clock.lap("fix-ups")
        return result

    def _verify_csv(self, nf: pl.DataFrame, fast: list[_Input], hasher: _Hasher) -> pl.DataFrame:
        """Files read by Polars' CSV parser: keep them only if every row provably had all its cells."""
        csv_files = [i for i in fast if i.route == "csv"]
        if not csv_files:
            return nf
        hasher.join()
        counts = {s: (n, b) for s, n, b in nf.filter(pl.col(SRC).is_in([i.index for i in csv_files]))
                  .group_by(SRC).agg(pl.len(), pl.col(RAGGED).sum()).iter_rows()}
        redo: list[_Input] = []
        for inp in csv_files:
            delims, quote, lone_cr, nul = hasher.stats.get(inp.index, (0, True, True, True))
            rows, blank = counts.get(inp.index, (0, 0))
            if quote or lone_cr or nul:
                inp.route = "python"
                log.debug("%s: quotes, carriage returns or NUL bytes: typed row by row", inp.source)
            elif blank or delims - inp.header_delims != (inp.ncols - 1) * rows:
                inp.route = "lines"
                log.debug("%s: blank or short rows: read again line by line", inp.source)
            else:
                continue
            redo.append(inp)
        if not redo:
            return nf
        nf = nf.filter(~pl.col(SRC).is_in([i.index for i in redo]))
        again = [i for i in redo if i.route == "lines"]
        if again:
            nf = pl.concat([nf, self._main_pass(again)], how="vertical")
        return nf

    # -- fetching rows again
    def _fetch(self, inp: _Input, rows: Sequence[int], fields: set[int] | None = None) -> dict[int, Any]:
        """Raw cells of some rows (CSV: the split line; Parquet: values by header position, None past the end).

        ``fields`` (contract positions) limits the Parquet columns read; the id column is always read.
        """
        idx = [r - 1 for r in rows]
        if inp.route in ("lines", "csv"):
            got = (pl.scan_lines(inp.read_path).with_row_index("__i").filter(_is_in("__i", idx)).collect())
            return {int(i) + 1: line.split(inp.delim) for i, line in zip(got["__i"], got["line"])}
        if fields is None:
            used = sorted({i for i in inp.cells.values() if i is not None})
        else:
            names_of = [f.name for f in self.contract.fields]
            chosen = {names_of[i] for i in fields} | {self.contract.id}
            used = sorted({inp.cells[n] for n in chosen if inp.cells.get(n) is not None})
        names = [inp.header[i] for i in used]
        got = (pl.scan_parquet(inp.path).with_row_index("__i").filter(_is_in("__i", idx))
               .select([pl.col("__i")] + [pl.col(n).cast(pl.Float64) if inp.schema[n] == pl.Float64 else pl.col(n)
                                          for n in names]).collect())
        out = {}
        for i, *values in got.rows():
            cells: list[Any] = [None] * (inp.ncols + 1)
            for j, v in zip(used, values):
                cells[j] = v
            out[int(i) + 1] = cells
        return out

    def _fix(self, nf: pl.DataFrame, inputs: list[_Input], py: _PyRows | None) -> _Result:
        plan, rt = self.plan, self.rt
        by_index = {i.index: i for i in inputs}
        id_name = self.contract.id
        id_kind = FIELD_KINDS[self.contract.field(id_name).type] if self._has_id() else None
        typing_problems: list[Problem] = []
        rejected: set[int] = set()
        records: dict[int, dict[str, Any]] = {}
        raw_ids: dict[int, str | None] = {}
        id_patch: dict[int, Any] = {}
        fast_routes = {i.index for i in inputs if i.route in ("csv", "lines", "parquet")}

        flagged = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, SUS, RAGGED, DFAIL)
                   .filter((pl.col(SUS) != 0) | pl.col(RAGGED) | pl.col(DFAIL)).drop(DFAIL))
        by_src: dict[int, list[tuple[int, int, int, bool]]] = {}
        for pos, src, row, sus, ragged in flagged.iter_rows():
            by_src.setdefault(src, []).append((pos, row, sus, ragged))
        # Stage 1: type the flagged rows with records.py's rules.
        for src, items in by_src.items():
            inp = by_index[src]
            if src not in fast_routes:
                assert py is not None
                for pos, row, _sus, _ragged in items:
                    records[pos] = py.by_origin[(inp.source, row)]
                continue
            nfields = len(self.contract.fields)
            wanted: set[int] = set()
            for _pos, _row, sus, _ragged in items:
                wanted |= _bits(sus, nfields)
            raw = self._fetch(inp, [row for _, row, _, _ in items], wanted)
            full_rows = []
            for pos, row, sus, ragged in items:
                cells = raw[row]
                if ragged:
                    typing_problems.append(rt.ragged(inp, cells, row))
                    rejected.add(pos)
                    id_patch[pos] = None
                    continue
                # Only the unsure cells can fail: type them with records.py's readers.
                probs, idv, rid = rt.check_cells(inp, cells, row, sorted(_bits(sus, nfields)))
                raw_ids[pos] = rid
                if id_kind is not None and idv is not R._MISSING:
                    id_patch[pos] = idv
                if probs:
                    typing_problems.extend(probs)
                    rejected.add(pos)
                else:
                    full_rows.append((pos, row))
            if full_rows:
                full = raw if inp.route in ("lines", "csv") else self._fetch(inp, [row for _, row in full_rows])
                for pos, row in full_rows:
                    rec, probs, idv, rid = rt.table_row(inp, full[row], row)
                    if probs:  # cannot happen: the cells the fast path typed are valid
                        typing_problems.extend(probs)
                        rejected.add(pos)
                        continue
                    assert rec is not None
                    records[pos] = rec
        if id_kind is not None and id_patch:
            patches = {id_name: {p: _from_field(v, id_kind) for p, v in id_patch.items()}}
            if id_kind == "datetime":
                patches[_fold_col(id_name)] = {p: bool(v is not None and v.fold) for p, v in id_patch.items()}
            nf = _patch(nf, patches)
        # Stage 2: duplicate ids reject every occurrence.
        dup_problems = self._duplicates(nf, inputs, py, raw_ids, fast_routes, rejected) if id_kind else []
        typing_rejected = set(rejected)
        # Stage 3: derive and measure the accepted flagged rows with the row Evaluator.
        run_problems: list[Problem] = []
        measure_errors: list[tuple[int, str]] = []
        if not plan.read_mode:
            nf = self._evaluate_rows(nf, records, rejected, by_index, run_problems, measure_errors)
        else:
            nf = self._retype_rows(nf, records, rejected)
        # Records without a period day.
        if plan.period is not None and not plan.read_mode:
            nf = self._no_period(nf, rejected, by_index, run_problems)
        measure_errors = [(int(nf[SRC][p]), int(nf[ROW][p]), c) for p, c in measure_errors if p not in rejected]
        frame = nf.drop(SUS, RAGGED, WEIRD, DFAIL).with_columns(_state(nf.height, typing_rejected, rejected))
        dataset = self._dataset(inputs, py, typing_problems + dup_problems)
        return _Result(frame, dataset, run_problems, measure_errors, inputs)

    def _has_id(self) -> bool:
        return any(f.name == self.contract.id for f in self.contract.fields)

    # -- duplicates
    def _duplicates(self, nf: pl.DataFrame, inputs: list[_Input], py: _PyRows | None, raw_ids: dict[int, str | None],
                    fast_routes: set[int], rejected: set[int]) -> list[Problem]:
        id_name = self.contract.id
        kind = FIELD_KINDS[self.contract.field(id_name).type]
        keys = [id_name] + ([_fold_col(id_name)] if kind == "datetime" else [])
        # Equal ids have equal hashes: only rows whose hash repeats are compared by value, so
        # no copy of the whole id column is made (100M rows).
        key_hash = (pl.struct(keys) if len(keys) > 1 else pl.col(id_name)).hash().alias("__h")
        eligible = pl.col(SRC).is_in(sorted(fast_routes)) & ~pl.col(RAGGED) & pl.col(id_name).is_not_null()
        hashed = (nf.lazy().select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), key_hash,
                                   eligible.alias("__ok")).filter("__ok").drop("__ok").collect())
        parts = [hashed]
        rid_of: dict[tuple[int, int], str | None] = {}
        if py is not None:
            rank = {i.source: i.index for i in inputs}
            occ = py.occurrences()
            values = [_from_field(v, kind) for v, *_ in occ]
            frame: dict[str, Any] = {
                "__pos": pl.Series([None] * len(occ), dtype=pl.Int64),
                SRC: pl.Series([rank[o[1]] for o in occ], dtype=pl.Int32),
                ROW: pl.Series([o[2] for o in occ], dtype=pl.Int64),
                id_name: pl.Series(values, dtype=nf.schema[id_name]),
            }
            if kind == "datetime":
                frame[_fold_col(id_name)] = pl.Series([bool(v.fold) for v, *_ in occ], dtype=pl.Boolean)
            slow_rows = pl.DataFrame(frame).with_columns(key_hash)
            parts.append(slow_rows.select("__pos", "__h"))
            for _v, src, row, _at, rid in occ:
                rid_of[(rank[src], row)] = rid
        hashes = pl.concat(parts, how="vertical")
        # Sorting the hashes finds repeats several times faster than is_duplicated's hash table
        # once there are tens of millions (1.7 s against 14 s for 100M).
        ordered = hashes.get_column("__h").sort()
        twice = ordered.filter(ordered == ordered.shift(1))
        repeated = hashes.filter(pl.col("__h").is_in(twice.implode()))
        at = repeated.get_column("__pos").drop_nulls()
        candidates = [nf.select(SRC, ROW, *keys)[at].select(at.alias("__pos"), SRC, ROW, *keys)]
        if py is not None:
            candidates.append(slow_rows.filter(pl.col("__h").is_in(repeated.get_column("__h").implode()))
                              .select("__pos", SRC, ROW, *keys))
        both = pl.concat(candidates, how="vertical")
        # (The struct form is much faster in Polars 2.1 than is_duplicated on a bare string column.)
        dups = both.filter(pl.struct(keys).is_duplicated()).sort([SRC, ROW])
        if not dups.height:
            return []
        by_index = {i.index: i for i in inputs}
        # Raw id texts of the fast-route occurrences that were not fetched already.
        need: dict[int, list[tuple[int, int]]] = {}
        for pos, src, row in dups.select("__pos", SRC, ROW).iter_rows():
            if pos is not None and pos not in raw_ids and kind != "str":
                need.setdefault(src, []).append((pos, row))
        for src, items in need.items():
            inp = by_index[src]
            got = self._fetch(inp, [row for _, row in items])
            for pos, row in items:
                cell = self.rt.id_cell(inp)
                raw_ids[pos] = got[row][cell] if cell is not None else None
        # Positions of duplicate rows of the row-by-row inputs in the narrow frame.
        slow_pos: dict[tuple[int, int], int] = {}
        if py is not None:
            slow = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW)
                    .filter(~pl.col(SRC).is_in(sorted(fast_routes))))
            wanted = {(s, r) for s, r in dups.select(SRC, ROW).iter_rows()}
            for pos, src, row in slow.select("__pos", SRC, ROW).iter_rows():
                if (src, row) in wanted:
                    slow_pos[(src, row)] = pos
        groups: dict[Any, list[tuple[int, int, int | None, str | None]]] = {}
        for rec in dups.iter_rows(named=True):
            key = tuple(rec[k] for k in keys)
            pos = rec["__pos"]
            src, row = rec[SRC], rec[ROW]
            if pos is None:
                rid = rid_of.get((src, row))
                pos = slow_pos.get((src, row))
            else:
                rid = raw_ids[pos] if pos in raw_ids else rec[id_name]
            groups.setdefault(key, []).append((src, row, pos, rid))
        problems = []
        for occurrences in groups.values():
            for src, row, pos, rid in occurrences:
                source = by_index[src].source
                others = [o for o in occurrences if (o[0], o[1]) != (src, row)]
                where = [f"row {o[1]}" if o[0] == src else f"{by_index[o[0]].source} row {o[1]}" for o in others[:10]]
                more = f" and {len(others) - 10} more" if len(others) > 10 else ""
                problems.append(Problem(
                    source, row, R._clip(rid), id_name, R._clip(rid), "duplicate-id",
                    f"id {R._q(rid)} also appears in {', '.join(where)}{more}; ids must be unique, so "
                    "every occurrence is rejected: remove the duplicates or correct the ids"))
                if pos is not None:
                    rejected.add(pos)
        return problems

    # -- the flagged rows, by the reference code
    def _origin(self, nf: pl.DataFrame, pos: int, by_index: Mapping[int, _Input]) -> tuple[str, int]:
        return by_index[nf[SRC][pos]].source, nf[ROW][pos]

    def _evaluate_rows(self, nf: pl.DataFrame, records: Mapping[int, dict[str, Any]], rejected: set[int],
                       by_index: Mapping[int, _Input], run_problems: list[Problem],
                       measure_errors: list[tuple[int, str]]) -> pl.DataFrame:
        plan = self.plan
        scheme = plan.scheme
        assert scheme is not None
        evaluator = Evaluator(scheme.constants, scheme.calendar)
        patches: dict[str, dict[int, Any]] = {}
        kept = plan.kept_fields()
        for pos, rec in records.items():
            if pos in rejected:
                continue
            env = dict(rec)
            if plan.period is not None:
                patches.setdefault(PDATE, {})[pos] = common.as_date(env.get(plan.period.field))
            failed = None
            for name, expr in scheme.derive:
                try:
                    env[name] = evaluator.evaluate(expr, env)
                except ExpressionError as exc:
                    failed = (name, exc)
                    break
            if failed is not None:
                source, row = self._origin(nf, pos, by_index)
                run_problems.append(Problem(source, row, _text(rec.get(plan.id_field)), failed[0], None,
                                            "evaluation-error", failed[1].message))
                rejected.add(pos)
                continue
            for name in kept:
                v = env.get(name)
                patches.setdefault(name, {})[pos] = _from_field(v, plan.kinds[name])
                if self.contract.field(name).type == "datetime":
                    patches.setdefault(_fold_col(name), {})[pos] = bool(v is not None and v.fold)
            for col in plan.columns.values():
                if col.const is not _NC:
                    continue
                body = col.expr.tree.body
                try:
                    if isinstance(body, ast.Name) and body.id not in scheme.constants:
                        v = env.get(body.id)
                    elif isinstance(body, ast.Constant):
                        v = body.value
                    else:
                        v = evaluator.evaluate(col.expr, env)
                except ExpressionError:
                    measure_errors.append((pos, col.name))
                    v = None
                patches.setdefault(col.name, {})[pos] = _from_python(v, col.kind)
        return _patch(nf, patches)

    def _retype_rows(self, nf: pl.DataFrame, records: Mapping[int, dict[str, Any]], rejected: set[int]) -> pl.DataFrame:
        patches: dict[str, dict[int, Any]] = {}
        for pos, rec in records.items():
            if pos in rejected:
                continue
            for f in self.contract.fields:
                v = rec.get(f.name)
                patches.setdefault(f.name, {})[pos] = _from_field(v, FIELD_KINDS[f.type])
                if f.type == "datetime":
                    patches.setdefault(_fold_col(f.name), {})[pos] = bool(v is not None and v.fold)
        return _patch(nf, patches)

    def _no_period(self, nf: pl.DataFrame, rejected: set[int], by_index: Mapping[int, _Input],
                   run_problems: list[Problem]) -> pl.DataFrame:
        plan = self.plan
        assert plan.period is not None
        field_name = plan.period.field
        cols = [plan.id_field] + ([_fold_col(plan.id_field)] if plan.kinds.get(plan.id_field) == "datetime" else [])
        empty = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, PDATE, *cols)
                 .filter(pl.col(PDATE).is_null()))
        for rec in empty.iter_rows(named=True):
            pos = rec["__pos"]
            if pos in rejected:
                continue
            rid = _python_value_of(rec, plan.id_field, plan.kinds.get(plan.id_field), plan.zone)
            run_problems.append(Problem(by_index[rec[SRC]].source, rec[ROW], common.key_text(rid), field_name, None,
                                        "no-period", f"{field_name} is empty, so the record belongs to no period"))
            rejected.add(pos)
        return nf

    def _dataset(self, inputs: list[_Input], py: _PyRows | None, problems: list[Problem]) -> Dataset:
        if py is not None:
            problems = problems + list(py.collector.problems)
        rank = {i.source: i.index for i in inputs}
        order = self.rt.typer.order
        problems.sort(key=lambda p: (rank.get(p.source, len(rank)), p.row,
                                     -1 if p.field is None else order.get(p.field, -1)))
        rejected: dict[str, set[int]] = {}
        for p in problems:
            rejected.setdefault(p.source, set()).add(p.row)
        files = tuple(
            InputFile(i.source, i.sha, {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[i.kind], i.codec,
                      i.rows_read, len(rejected.get(i.source, ())))
            for i in inputs)
        missing = tuple((i.source, name) for i in inputs for name in i.missing)
        return Dataset((), (), tuple(problems), files, missing)


def _state(height: int, typing: set[int], later: set[int]) -> pl.Series:
    state = pl.zeros(height, dtype=pl.UInt8, eager=True).alias(STATE)
    if later:
        state.scatter(sorted(later), 2)
    if typing:
        state.scatter(sorted(typing), 1)
    return state


@functools.lru_cache(maxsize=4096)
def _bits(mask: int, nfields: int) -> frozenset[int]:
    """Field positions flagged in a sus mask (bit 62 stands for every field from 62 on)."""
    out = {i for i in range(min(nfields, 62)) if mask >> i & 1}
    if mask >> 62 & 1:
        out |= set(range(62, nfields))
    return frozenset(out)


def _from_field(value: Any, kind: str | None) -> Any:
    """A typed field value as its column stores it."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if kind == "int" and not -(2**63) <= value < 2**63:
        raise Fallback("an integer beyond 64 bits")
    return value


def _python_value_of(rec: Mapping[str, Any], name: str, kind: str | None, zone: ZoneInfo) -> Any:
    """The Python value (as records.py types it) of a field of a narrow-frame row."""
    v = rec.get(name)
    if kind == "datetime" and v is not None:
        return v.replace(tzinfo=zone, fold=int(bool(rec.get(_fold_col(name)))))
    return v


def _text(v: Any) -> str | None:
    from .rows import _text as text

    return text(v)


# --------------------------------------------------------------------------- scoring


def _key_text_expr(frame: pl.DataFrame, name: str, kind: str, zone: ZoneInfo) -> pl.Expr:
    """common.key_text of a column, vectorised ("" for null)."""
    col = pl.col(name)
    if kind == "str":
        return col.fill_null("")
    if kind == "int":
        return col.cast(pl.String).fill_null("")
    if kind == "bool":
        return pl.when(col.is_null()).then(pl.lit("")).when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    # Dates, numbers, datetimes: Python's own text of each distinct value.
    cols = [name] + ([_fold_col(name)] if kind == "datetime" else [])
    uniq = frame.select(cols).unique()
    texts = []
    for rec in uniq.iter_rows(named=True):
        texts.append(common.key_text(_python_value_of(rec, name, kind, zone)))
    if kind == "datetime":
        key = pl.struct(cols)
        old = uniq.select(pl.struct(cols).alias("k")).get_column("k")
        return key.replace_strict(old, pl.Series(texts, dtype=pl.String), default=None,
                                  return_dtype=pl.String).fill_null("")
    uniq_values = uniq.get_column(name)
    pairs = [(v, t) for v, t in zip(uniq_values.to_list(), texts) if v is not None]
    return col.replace_strict(pl.Series([v for v, _ in pairs], dtype=uniq_values.dtype),
                              pl.Series([t for _, t in pairs], dtype=pl.String), default=None,
                              return_dtype=pl.String).fill_null("")


@dataclass
class _Agg:
    """Row-level helper columns and per-group aggregations of one measure."""

    k: int
    mp: _MeasurePlan
    veto: bool
    row_cols: list[pl.Expr] = field(default_factory=list)
    aggs: list[pl.Expr] = field(default_factory=list)
    evidence: list[pl.Expr] = field(default_factory=list)  # lists of ids: aggregated apart (see scorecards)


class _Scorer:
    def __init__(self, plan: _Plan, result: _Result) -> None:
        self.plan = plan
        self.scheme = plan.scheme
        self.result = result
        self.frame = result.frame  # every row the contract accepted; STATE 0 are scored
        self.zone = plan.zone

    def _measure_aggs(self, k: int, mp: _MeasurePlan, veto: bool) -> _Agg:
        a = _Agg(k, mp, veto)
        m = mp.measure
        p = f"m{k}_"
        # Only scored rows (STATE 0) count: the group_by reads the frame as it is, no filtered copy.
        w = (pl.col(STATE) == 0) & (px.where_mask(mp.where.t) if mp.where is not None else pl.lit(True))
        a.row_cols.append(w.alias(p + "w"))
        a.aggs.append(pl.col(p + "w").sum().alias(p + "n"))

        def count(name: str, expr: pl.Expr) -> pl.Expr:
            mask = w & expr.fill_null(False)
            a.row_cols.append(mask.alias(p + name))
            a.aggs.append(pl.col(p + name).sum().alias(p + name))
            return mask

        if m.kind == "ratio":
            assert mp.numerator is not None and mp.denominator is not None
            n, d = mp.numerator.t, mp.denominator.t
            used = count("u", n.not_null() & d.not_null())
            a.row_cols.append(pl.when(used).then(n.e.cast(pl.Float64)).alias(p + "nv"))
            a.row_cols.append(pl.when(used).then(d.e.cast(pl.Float64)).alias(p + "dv"))
            a.aggs += [pl.col(p + "nv").sum().alias(p + "ns"), pl.col(p + "dv").sum().alias(p + "ds"),
                       pl.col(p + "nv").is_nan().sum().alias(p + "nan"),
                       pl.col(p + "dv").is_nan().sum().alias(p + "nan2")]
            if veto:
                self._evidence(a, w, px.is_true(n))
            return a
        assert mp.expr is not None
        x = mp.expr.t
        if m.kind == "count":
            count("t", px.is_true(x))
        elif m.kind in ("share", "any", "all"):
            count("t", px.is_true(x))
            count("k", x.not_null())
        elif m.kind == "value":
            count("k", x.not_null())
            a.row_cols.append(x.e.alias(p + "v"))
            a.aggs.append(pl.col(p + "v").filter(pl.col(p + "w")).first().alias(p + "v"))
            if x.kind == "datetime":
                name = mp.expr.expr.tree.body.id  # type: ignore[attr-defined]
                if name not in self.frame.columns:
                    raise Fallback("a value measure of a derived datetime")
                a.row_cols.append(pl.col(_fold_col(name)).alias(p + "f"))
                a.aggs.append(pl.col(p + "f").filter(pl.col(p + "w")).first().alias(p + "f"))
        else:
            known = count("k", x.not_null())
            xf = x.e.cast(pl.Float64)
            if m.kind == "nps":
                count("pro", xf >= 9)
                count("det", xf <= 6)
            else:
                a.row_cols.append(pl.when(known).then(
                    x.e.cast(pl.Int64) if (x.kind in px.INTLIKE and m.kind == "sum") or
                    (x.kind in px.INTLIKE and m.kind == "mean") else xf).alias(p + "x"))
                xs = pl.col(p + "x")
                if m.kind in ("sum", "mean"):
                    a.aggs.append(xs.sum().alias(p + "s"))
                    if x.kind in px.INTLIKE:
                        a.aggs.append(xs.cast(pl.Float64).abs().sum().alias(p + "abs"))
                elif m.kind in ("min", "max"):
                    a.aggs.append((xs.min() if m.kind == "min" else xs.max()).alias(p + "s"))
                else:
                    a.aggs.append(xs.drop_nulls().sort().alias(p + "list"))
                if x.kind in ("float", "num"):
                    a.aggs.append(xs.is_nan().sum().alias(p + "nan"))
                    if m.kind in ("min", "max", "median", "percentile"):
                        a.aggs.append(((xs == 0) & ((1.0 / xs) < 0)).sum().alias(p + "negzero"))
        if veto:
            self._evidence(a, w, px.evidence_mask(x))
        return a

    def _evidence(self, a: _Agg, w: pl.Expr, mask: pl.Expr) -> None:
        p = f"m{a.k}_"
        id_name = self.plan.id_field
        a.row_cols.append((w & mask.fill_null(False)).alias(p + "e"))
        a.evidence.append(pl.col(id_name).filter(pl.col(p + "e")).alias(p + "ids"))
        if self.plan.kinds.get(id_name) == "datetime":
            a.evidence.append(pl.col(_fold_col(id_name)).filter(pl.col(p + "e")).alias(p + "idf"))

    def _check_measure_errors(self) -> None:
        frame = self.frame
        if not self.result.measure_errors:
            return
        scored = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, STATE).filter(
            pl.col(STATE) == 0)
        failing = {(e[0], e[1]) for e in self.result.measure_errors}
        where = {(s, r): i for i, s, r, _ in scored.iter_rows() if (s, r) in failing}
        for src, row, colname in self.result.measure_errors:
            pos = where.get((src, row))
            if pos is None:
                continue
            for mp in self.plan.measures.values():
                parts = [mp.expr, mp.numerator, mp.denominator]
                if mp.where is not None and mp.where.name == colname:
                    raise Fallback(f"a measure's where raises for a record ({mp.where.expr.source!r})")
                if any(c is not None and c.name == colname for c in parts):
                    w = True if mp.where is None else _where_value(frame, mp.where, pos)
                    if w:
                        raise Fallback("a measure expression raises for a measured record")

    def scorecards(self) -> list[Any]:
        plan, scheme, frame = self.plan, self.scheme, self.frame
        assert scheme is not None
        self._check_measure_errors()
        if not frame.height:
            return []
        key_cols: list[pl.Expr] = []
        names: list[str] = []
        if plan.fields:
            for i, f in enumerate(plan.fields):
                kt = _key_text_expr(frame, f, plan.kinds[f], plan.zone)
                key_cols.append(pl.when(kt == "").then(pl.lit("(none)")).otherwise(kt).alias(f"__k{i}"))
                names.append(f)
        else:
            if plan.kinds.get(plan.id_field) == "float" and any(
                    mp.measure.kind == "value" for mp in plan.measures.values()):
                raise Fallback("record-level scheme with a number id")
            key_cols.append(_key_text_expr(frame, plan.id_field, plan.kinds[plan.id_field], plan.zone).alias("__k0"))
            names.append(plan.id_field)
        if plan.period is not None:
            days = frame.get_column(PDATE).unique().drop_nulls()
            labels = [common.period_bounds(d, plan.period.every)[0] for d in days.to_list()]
            key_cols.append(px.lookup(pl.col(PDATE).cast(pl.Int32), days.cast(pl.Int32).to_list(),
                                      pl.Series(labels, dtype=pl.String)).alias("__label"))
        else:
            key_cols.append(pl.lit("").alias("__label"))
        aggs: list[_Agg] = []
        indicator_k: dict[str, int] = {}
        for ind in scheme.indicators:
            k = len(aggs)
            indicator_k[ind.id] = k
            aggs.append(self._measure_aggs(k, plan.measures[id(ind.measure)], False))
        veto_k = []
        for veto in scheme.vetoes:
            k = len(aggs)
            veto_k.append(k)
            aggs.append(self._measure_aggs(k, plan.measures[id(veto.when)], True))
        group = [f"__k{i}" for i in range(len(names))] + ["__label"]
        lf = frame.lazy().with_columns(key_cols)
        row_cols = [c for a in aggs for c in a.row_cols]
        lf = lf.with_columns(row_cols)
        agg_exprs = [(pl.col(STATE) == 0).sum().alias("__n")] + [e for a in aggs for e in a.aggs]
        clock = _Clock()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = lf.group_by(group).agg(agg_exprs).filter(pl.col("__n") > 0).collect(engine="streaming")
            # Sums stream in bounded memory; lists of veto evidence do not, so they are gathered
            # from the few rows that are evidence at all.
            evidence = [e for a in aggs for e in a.evidence]
            if evidence:
                marks = [pl.col(f"m{a.k}_e") for a in aggs if a.evidence]
                found = lf.filter(pl.any_horizontal(marks)).group_by(group).agg(evidence).collect()
                table = table.join(found, on=group, how="left", nulls_equal=True)
        clock.lap("group_by")
        cards = []
        rows = list(table.iter_rows(named=True))
        rows.sort(key=lambda r: tuple(r[g] for g in group))
        for r in rows:
            keys = {n: r[f"__k{i}"] for i, n in enumerate(names)}
            label = r["__label"] or None
            if plan.fields:
                subject = "/".join([*keys.values(), *([label] if label else [])])
            else:
                subject = keys[plan.id_field]
            measured = {ind.id: self._result(aggs[indicator_k[ind.id]], r) for ind in scheme.indicators}
            vetoes = []
            for veto, k in zip(scheme.vetoes, veto_k):
                res = self._result(aggs[k], r)
                if common.veto_triggered(res.value):
                    vetoes.append(VetoResult(veto.id, veto.name, veto.effect, veto.grade, veto.reason,
                                             self._evidence_ids(aggs[k], r)))
            cards.append(build_scorecard(scheme, subject, keys, label, r["__n"], measured, vetoes))
        clock.lap("scorecards")
        return cards

    def _evidence_ids(self, a: _Agg, r: Mapping[str, Any]) -> tuple[str, ...]:
        p = f"m{a.k}_"
        ids = r[p + "ids"] or []
        kind = self.plan.kinds.get(self.plan.id_field)
        if kind == "datetime":
            folds = r[p + "idf"] or []
            values = [None if v is None else v.replace(tzinfo=self.zone, fold=int(f)) for v, f in zip(ids, folds)]
        else:
            values = ids
        return tuple(sorted(_text(v) for v in values))  # type: ignore[type-var]

    def _result(self, a: _Agg, r: Mapping[str, Any]) -> MeasureResult:
        p = f"m{a.k}_"
        m = a.mp.measure
        measured = r[p + "n"]
        if r.get(p + "nan") or r.get(p + "nan2"):
            raise Fallback("NaN among measured values")
        if r.get(p + "negzero"):
            raise Fallback("-0.0 among ordered measured values")
        if m.kind == "ratio":
            used = r[p + "u"]
            num = (r[p + "ns"] or 0.0) + 0.0
            den = (r[p + "ds"] or 0.0) + 0.0
            if not (math.isfinite(num) and math.isfinite(den)):
                raise Fallback("a ratio sum overflows")  # common.fsum then sums in the reference's order
            value = num / den if used and den != 0 else None
            return MeasureResult(value, used, measured - used, num, den)
        if m.kind == "count":
            n = r[p + "t"]
            return MeasureResult(n, measured, 0, n, measured)
        if m.kind == "share":
            n, known = r[p + "t"], r[p + "k"]
            return MeasureResult(n / known if known else None, known, measured - known, n, known)
        if m.kind in ("any", "all"):
            n, known = r[p + "t"], r[p + "k"]
            if not known:
                return MeasureResult(None, 0, measured - known)
            value = n > 0 if m.kind == "any" else n == known
            return MeasureResult(value, known, measured - known, n, known)
        known = r[p + "k"]
        skipped = measured - known
        if m.kind == "value":
            v = r[p + "v"]
            if a.mp.expr is not None and a.mp.expr.kind == "datetime" and v is not None:
                v = v.replace(tzinfo=self.zone, fold=int(bool(r[p + "f"])))
            return MeasureResult(v, known, skipped)
        if m.kind == "nps":
            pro, det = r[p + "pro"], r[p + "det"]
            value = 100.0 * (pro - det) / known if known else None
            inputs = {"promoters": pro, "passives": known - pro - det, "detractors": det}
            return MeasureResult(value, known, skipped, pro - det, known, inputs)
        if not known:
            return MeasureResult(None, 0, skipped)
        if m.kind in ("sum", "mean"):
            if r.get(p + "abs") is not None and r[p + "abs"] > px.EXACT_INT:
                raise Fallback("an integer sum beyond 64 bits")
            total = float(r[p + "s"]) + 0.0
            if not math.isfinite(total):
                raise Fallback("a sum overflows")  # common.fsum then sums in the reference's order
            if m.kind == "sum":
                return MeasureResult(total, known, skipped, total, None)
            return MeasureResult(total / known, known, skipped, total, known)
        if m.kind in ("min", "max"):
            return MeasureResult(float(r[p + "s"]), known, skipped)
        pct = 50.0 if m.kind == "median" else float(m.p)  # type: ignore[arg-type]
        return MeasureResult(common.percentile(r[p + "list"], pct), known, skipped, inputs={"p": pct})


def _where_value(frame: pl.DataFrame, col: _Column, pos: int) -> bool:
    if col.const is not _NC:
        return col.const is True
    if col.kind != "bool":
        return False
    return frame.get_column(col.name)[pos] is True


# --------------------------------------------------------------------------- public API


@dataclass
class ColumnarData:
    """What :func:`read_columnar` read: the reference Dataset's problems and inputs, and the typed rows.

    ``dataset.records`` is empty: the rows are in ``frame`` (one column per field, plus ``__src``
    (input index), ``__row`` (row number) and, for datetime fields, ``__fold__<field>``;
    datetimes are wall-clock times in records.timezone). :meth:`to_dataset` gives the
    Dataset records.read_records would give.
    """

    dataset: Dataset
    frame: pl.DataFrame
    contract: RecordContract

    def records(self) -> list[dict[str, Any]]:
        zone = ZoneInfo(self.contract.timezone)
        kinds = {f.name: FIELD_KINDS[f.type] for f in self.contract.fields}
        out = []
        for rec in self.frame.iter_rows(named=True):
            out.append({f.name: _python_value_of(rec, f.name, kinds[f.name], zone) for f in self.contract.fields})
        return out

    def origins(self) -> list[tuple[str, int]]:
        sources = [i.path for i in self.dataset.inputs]
        return [(sources[s], r) for s, r in self.frame.select(SRC, ROW).iter_rows()]

    def to_dataset(self) -> Dataset:
        return dataclasses.replace(self.dataset, records=tuple(self.records()), origins=tuple(self.origins()))


def read_columnar(paths: Sequence[str | Path] | str | Path, contract: RecordContract, *,
                  encoding: str | None = None, sheet: str | None = None) -> ColumnarData:
    """Read CSV/TSV, JSON Lines, Parquet (and Excel) files and type every row against ``contract``.

    The accepted rows and the problems are those of records.read_records.
    """
    plan = _Plan(contract)
    try:
        result = _Executor(plan, paths, encoding, sheet).run()
    except (Fallback, pl.exceptions.PolarsError) as why:
        _fell_back(why)
        ds = _python_dataset(paths, contract, encoding, sheet)
        return ColumnarData(dataclasses.replace(ds, records=(), origins=()), _frame_from_dataset(ds, contract),
                            contract)
    frame = result.frame.filter(pl.col(STATE) == 0).drop(STATE).sort([SRC, ROW])
    return ColumnarData(result.dataset, frame, contract)


def _frame_from_dataset(ds: Dataset, contract: RecordContract) -> pl.DataFrame:
    sources = {i.path: k for k, i in enumerate(ds.inputs)}
    return _frame_of_records(contract, ds.records, [(sources[s], r) for s, r in ds.origins]).drop(
        SUS, RAGGED, WEIRD)


def _python_dataset(paths: Sequence[str | Path] | str | Path, contract: RecordContract,
                    encoding: str | None, sheet: str | None = None) -> Dataset:
    """The reference reader."""
    return R.read_records(paths, contract, encoding=encoding, sheet=sheet)


def _fell_back(why: BaseException) -> None:
    if isinstance(why, Fallback):
        log.info("columnar engine: using the reference code: %s", why)
    else:  # a Polars error the engine did not expect: still answer, exactly, the slow way
        log.warning("columnar engine: unexpected %s (%s); using the reference code", type(why).__name__, why)


def _options(by: Sequence[str] | None) -> dict[str, Any]:
    return {"by": list(by) if by else None}


def _reference(scheme: Scheme, paths: Any, encoding: str | None, by: Sequence[str] | None, why: BaseException,
               sheet: str | None) -> Run:
    _fell_back(why)
    return reference_evaluate(scheme, _python_dataset(paths, scheme.records, encoding, sheet), by=by)


def _score(plan: _Plan, result: _Result) -> list[Any]:
    return _Scorer(plan, result).scorecards()


def evaluate(scheme: Scheme, paths: Sequence[str | Path] | str | Path, *, encoding: str | None = None,
             by: Sequence[str] | None = None, sheet: str | None = None) -> Run:
    """Score every subject of the input files with one scheme version.

    The same Run as ``engine.evaluate(scheme, records.read_records(paths, scheme.records, ...), by=by)``,
    except that ``run.dataset.records`` is empty.
    """
    try:
        plan = _Plan(scheme.records, scheme, by)
    except UsageError:
        # The reference reads the inputs first: their errors come first.
        read_columnar(paths, scheme.records, encoding=encoding, sheet=sheet)
        raise
    except Fallback as why:
        return _reference(scheme, paths, encoding, by, why, sheet)
    try:
        result = _Executor(plan, paths, encoding, sheet).run()
        cards = _score(plan, result)
    except (Fallback, pl.exceptions.PolarsError) as why:
        return _reference(scheme, paths, encoding, by, why, sheet)
    problems = sorted([*result.dataset.problems, *result.run_problems], key=lambda p: (p.source, p.row, p.field or ""))
    return Run((scheme,), tuple(cards), tuple(problems), result.dataset, plan.fields, _options(by))


def evaluate_versions(schemes: Sequence[Scheme], paths: Sequence[str | Path] | str | Path, *,
                      encoding: str | None = None, by: Sequence[str] | None = None,
                      as_of: dt.date | None = None, sheet: str | None = None) -> Run:
    """engine.evaluate_versions, columnar: each subject period is scored by the version in force at its start."""
    ordered = sorted(schemes, key=lambda s: s.effective_from)
    if as_of is not None:
        chosen = version_in_force(ordered, as_of)
        run = evaluate(chosen, paths, encoding=encoding, by=by, sheet=sheet)
        return dataclasses.replace(run, options={**run.options, "as_of": as_of.isoformat()})
    if len(ordered) == 1:
        return evaluate(ordered[0], paths, encoding=encoding, by=by, sheet=sheet)
    if any(s.subject.period is None for s in ordered):
        raise UsageError("these versions have no subject.period, so records cannot be routed by date",
                         hint="give one version file, or choose one with --as-of YYYY-MM-DD")
    try:
        return _versions(ordered, paths, encoding, by, sheet)
    except (Fallback, pl.exceptions.PolarsError) as why:
        _fell_back(why)
        return reference_evaluate_versions(ordered, lambda c: _python_dataset(paths, c, encoding, sheet), by=by)


def _versions(ordered: list[Scheme], paths: Any, encoding: str | None, by: Sequence[str] | None,
              sheet: str | None) -> Run:
    plans: list[_Plan] = []
    results: list[_Result] = []
    usage: list[UsageError | None] = []
    for s in ordered:
        try:
            plan = _Plan(s.records, s, by)
            usage.append(None)
        except UsageError as exc:  # raised below if this version scores any row, as the reference does
            usage.append(exc)
            plan = _Plan(s.records, s, None)
        plans.append(plan)
        results.append(_Executor(plan, paths, encoding, sheet).run())
    # Route every row read (vectorised): the period start comes from the first version that read the
    # row and gives it a period day; the row goes to the version in force on that day.
    newest = results[-1]
    sources = [i.path for i in newest.dataset.inputs]
    table: pl.DataFrame | None = None
    for k, (plan, res) in enumerate(zip(plans, results)):
        assert plan.period is not None
        frame = res.frame.select(SRC, ROW, STATE, PDATE)
        days = frame.get_column(PDATE).drop_nulls().unique()
        starts = [common.period_bounds(d, plan.period.every)[1] for d in days.to_list()]
        part = frame.filter(pl.col(STATE) != 1).select(
            SRC, ROW, pl.lit(True).alias(f"acc{k}"),
            pl.col(PDATE).replace_strict(days, pl.Series(starts, dtype=pl.Date), default=None,
                                         return_dtype=pl.Date).alias(f"start{k}"))
        table = part if table is None else table.join(part, on=[SRC, ROW], how="full", coalesce=True)
    assert table is not None
    n = len(ordered)
    table = table.with_columns([pl.col(f"acc{k}").fill_null(False) for k in range(n)])
    start = pl.coalesce([pl.when(pl.col(f"acc{k}")).then(pl.col(f"start{k}")) for k in range(n)])
    version: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for k in reversed(range(n)):
        s_ = ordered[k]
        covers = pl.col("__start") >= s_.effective_from
        if s_.effective_to is not None:
            covers = covers & (pl.col("__start") <= s_.effective_to)
        version = pl.when(covers).then(pl.lit(k, dtype=pl.Int32)).otherwise(version)
    table = table.with_columns(start.alias("__start")).with_columns(version.alias("__k"))
    if table.filter(pl.col("__start").is_null()).height:
        raise Fallback("a record without a period day in every version")
    chosen: list[pl.DataFrame] = []
    for k in range(n):
        chosen.append(table.filter((pl.col("__k") == k) & pl.col(f"acc{k}")).select(SRC, ROW))
    by_origin: list[dict[tuple[str, int], list[Problem]]] = []
    for res in results:
        d: dict[tuple[str, int], list[Problem]] = {}
        for p in res.dataset.problems:
            d.setdefault((p.source, p.row), []).append(p)
        by_origin.append(d)
    rejected: list[Problem] = []
    # Rows no version reads: the newest version's reasons (else the first version with reasons).
    index_of = {src: i for i, src in enumerate(sources)}
    with_problems = sorted({(index_of[src], row) for d in by_origin for src, row in d})
    unread = pl.DataFrame({SRC: [o[0] for o in with_problems], ROW: [o[1] for o in with_problems]},
                          schema={SRC: pl.Int32, ROW: pl.Int64}).join(table.select(SRC, ROW), on=[SRC, ROW], how="anti")
    for s_, r in unread.sort([SRC, ROW]).iter_rows():
        key = (sources[s_], r)
        rejected.extend(by_origin[-1].get(key) or next(d[key] for d in by_origin if key in d))
    # Rows read, but in force in no version: "no-version", with the id read by the first version that read it.
    lost = table.filter(pl.col("__k").is_null())
    if lost.height:
        id_name = ordered[-1].records.id
        for k in range(n):
            mine = lost.filter(pl.col(f"acc{k}") & ~pl.any_horizontal([pl.col(f"acc{j}") for j in range(k)] or
                                                                       [pl.lit(False)]))
            if not mine.height:
                continue
            res, plan = results[k], plans[k]
            cols = [c for c in (id_name, _fold_col(id_name)) if c in res.frame.columns]
            rows = res.frame.select(SRC, ROW, *cols).join(mine.select(SRC, ROW, "__start"), on=[SRC, ROW])
            for rec in rows.iter_rows(named=True):
                rid = _python_value_of(rec, id_name, plan.kinds.get(id_name), plan.zone) if id_name in rec else None
                rejected.append(Problem(sources[rec[SRC]], rec[ROW], common.key_text(rid), None, None, "no-version",
                                        f"no version of {ordered[0].id} is in force on {rec['__start']}"))
    # Rows in force in a version that did not read them: that version's reasons.
    for k in range(n):
        refused = table.filter((pl.col("__k") == k) & ~pl.col(f"acc{k}")).select(SRC, ROW)
        for s_, r in refused.iter_rows():
            rejected.extend(by_origin[k][(sources[s_], r)])
    for k in range(len(ordered)):
        error = usage[k]
        if chosen[k].height and error is not None:
            raise error
    cards: list[Any] = []
    run_problems: list[Problem] = []
    used: list[Scheme] = []
    fields: tuple[str, ...] | None = None
    for k, (scheme, plan, res) in enumerate(zip(ordered, plans, results)):
        if not chosen[k].height:
            continue
        frame = res.frame.join(chosen[k], on=[SRC, ROW], how="semi").sort([SRC, ROW])
        part = dataclasses.replace(res, frame=frame)
        cards.extend(_score(plan, part))
        late = {(sources[s_], r) for s_, r in frame.filter(pl.col(STATE) == 2).select(SRC, ROW).iter_rows()}
        run_problems.extend(p for p in res.run_problems if (p.source, p.row) in late)
        used.append(scheme)
        fields = fields if fields is not None else plan.fields
    cards.sort(key=lambda c: (*c.keys.values(), c.period or ""))
    problems = sorted([*rejected, *run_problems], key=lambda p: (p.source, p.row, p.field or ""))
    combined = dataclasses.replace(newest.dataset, problems=tuple(problems))
    if fields is None:
        fields = group_fields(ordered[-1], by)
    return Run(tuple(used) or (ordered[-1],), tuple(cards), tuple(problems), combined, fields, _options(by))

