"""Typing a text (or native Parquet) column against one contract field, vectorised.

The answer is exactly the records package's (records.values, records.fields), or "unsure": an
unsure cell is flagged and typed by the records package itself in the fix-ups.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._polars import pl
from ...model import Field
from ...records.engine_api import (
    PARSER_BUILDERS,
    UNFORESEEN_ERRORS,
    FieldReader,
    RejectedValue,
    boolean_tables,
)
from .text import is_ascii, is_blank
from .translate import DTYPES, EXACT_INT, lookup
from .zones import Zone, days_from_civil, in_range, sample_years, valid_date

log = logging.getLogger(__name__)

FIELD_KINDS = {  # the kind (translate.values) of each contract field type
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "date": "date",
    "datetime": "datetime",
    "duration": "float",
}
FAST_SHAPE_SHARE = 0.98  # of the sampled cells of a column, for its fast expressions (FieldTyper._mostly)


def _int(e: pl.Expr) -> pl.Expr:
    return e.str.to_integer(strict=False).cast(pl.Int64)


@dataclass
class Typed:
    """A typed field: its value (null where blank or unsure), sus mask and fold, over staged columns.

    ``stages`` are lists of named expressions to add in order (each may use the columns of the
    stages before it): Polars then computes a parsed part once, however often it is used.
    """

    value: pl.Expr
    sus: pl.Expr
    fold: pl.Expr | None = None
    stages: list[list[pl.Expr]] = field(default_factory=list)


class FieldTyper:
    """Vectorised typing of one contract field, returning exactly what records.fields.FieldReader returns, or 'unsure'."""

    def __init__(self, f: Field, zone: Zone, tmp: str, sample: Sequence[Any] = ()) -> None:
        self.field = f
        self.zone = zone
        self.tmp = tmp  # prefix of this field's temporary columns
        # The first values of the column: they choose the fastest expressions that type the usual
        # shapes; a value of another shape is still typed exactly (by Python), only more slowly.
        self.sample = [v for v in sample if isinstance(v, str) and v.strip()]
        # The years the zone tables cover: those of texts, and of typed dates and date-times.
        self.years = sample_years([v for v in sample if isinstance(v, (str, dt.date))]) \
            if f.type in ("date", "datetime") else (1, 1)
        self.kind = FIELD_KINDS[f.type]
        base_text, base_value = PARSER_BUILDERS[f.type](f, zone.zone)
        self.allowed: list[Any] | None = None
        if f.enum is not None:
            allowed = []
            for e in f.enum:
                try:
                    allowed.append(base_text(e) if isinstance(e, str) else base_value(e))
                except (RejectedValue, ValueError, TypeError, OverflowError):
                    continue
            self.allowed = allowed
        numeric = f.type in ("integer", "number", "duration")
        self.lo = f.minimum if numeric else None
        self.hi = f.maximum if numeric else None

    def col(self, name: str) -> pl.Expr:
        """This field's staged column ``name`` (see :class:`Typed`)."""
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
                bad = bad | (x.abs() > EXACT_INT)  # exact int/float comparison: let Python decide
        return bad.fill_null(False)

    def _in_allowed(self, value: pl.Expr) -> pl.Expr:
        allowed = self.allowed or []
        if self.field.type == "datetime":
            vals = [a.replace(tzinfo=None) for a in allowed if isinstance(a, dt.datetime)]
            return value.is_in(pl.lit(pl.Series(vals, dtype=pl.Datetime("us"))).implode())
        dtype = DTYPES[self.kind]
        vals = [a for a in allowed if _fits(a, self.kind)]
        return value.is_in(pl.lit(pl.Series(vals, dtype=dtype)).implode())

    def _mostly(self, shape: re.Pattern[str]) -> bool:
        """Whether nearly every sampled cell has ``shape``, so its fast expressions suit the column.

        Not every one: a few dirty cells among the first rows must not slow down the millions
        after them. Cells of other shapes are flagged and typed exactly in the fix-ups.
        """
        hits = sum(1 for v in self.sample if shape.match(v))
        return bool(self.sample) and hits >= FAST_SHAPE_SHARE * len(self.sample)

    def _finish(self, stages: list[list[pl.Expr]], blank: pl.Expr, value: pl.Expr, ok: pl.Expr | None,
                fold: pl.Expr | None = None, *, native: bool = False) -> Typed:
        """Decide each cell: typed, null, or unsure (sus). Only two booleans are materialised; the
        expensive parts of ``value`` are staged columns already.

        ``ok`` None: every non-blank cell types (no parse can fail). ``native``: ``blank`` is the
        column's nulls, where ``value`` is null already (a typed column).
        """
        v = value.cast(DTYPES[self.kind])
        checks = self._checks(v) if self._has_checks() else None
        required = pl.lit(not self.field.nullable)
        if ok is None and checks is None:
            # Nothing can fail: no staged booleans, only the blank rule.
            if native:
                return Typed(v, blank & required if not self.field.nullable else pl.lit(False), fold, stages)
            stages = [*stages, [blank.alias(self.tmp + "_blank")]]
            blank_c = self.col("_blank")
            final = pl.when(blank_c).then(None).otherwise(v)
            f = pl.when(blank_c).then(False).otherwise(fold.fill_null(False)) if fold is not None else None
            return Typed(final, blank_c & required, f, stages)
        good = pl.lit(True) if ok is None else ok.fill_null(False)
        if checks is not None:
            good = good & ~checks
        # (Names of the typers' own temporary columns never start with "_".)
        stages = [*stages, [blank.alias(self.tmp + "_blank"), good.alias(self.tmp + "_good")]]
        blank_c, good_c = self.col("_blank"), self.col("_good")
        sus = (~blank_c & ~good_c) | (blank_c & required)
        final = pl.when(blank_c | ~good_c).then(None).otherwise(v)
        f = pl.when(blank_c | ~good_c).then(False).otherwise(fold.fill_null(False)) if fold is not None else None
        return Typed(final, sus, f, stages)

    def _has_checks(self) -> bool:
        return self.allowed is not None or self.lo is not None or self.hi is not None

    # -- text cells (CSV, or string columns of Parquet)
    def text(self, raw: pl.Expr) -> Typed:
        t = self.field.type
        blank = is_blank(raw)
        if t == "string":
            return self._finish([], blank, raw, None)
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

    def _duration_text(self, raw: pl.Expr, blank: pl.Expr) -> Typed:
        col = self.col
        num, num_ok = self._float_text(raw)
        usual = re.compile(r"^(?:[0-9]{1,9}(?:\.[0-9]{1,6})?|[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$")
        if self._mostly(usual):
            # Seconds, MM:SS or HH:MM:SS with two digits each: slices instead of a regex with groups.
            s1 = [num.alias(self.tmp + "num"), num_ok.fill_null(False).alias(self.tmp + "numok"),
                  raw.str.len_bytes().alias(self.tmp + "len"),
                  raw.str.contains(r"^[0-9]{2}:[0-9]{2}(?::[0-9]{2})?$").fill_null(False).alias(self.tmp + "clk"),
                  _int(raw.str.slice(0, 2)).alias(self.tmp + "a"), _int(raw.str.slice(3, 2)).alias(self.tmp + "b"),
                  _int(raw.str.slice(6, 2)).alias(self.tmp + "cc")]
            a, b, cc, has_c = col("a"), col("b"), col("cc"), col("len") == 8
            hours = pl.when(has_c).then(a).otherwise(0)
            minutes = pl.when(has_c).then(b).otherwise(a)
            seconds = pl.when(has_c).then(cc).otherwise(b)
            clock_ok = (col("clk") & (seconds < 60) & (~has_c | (minutes < 60))).fill_null(False)
            x = (hours * 3600 + minutes * 60 + seconds).cast(pl.Float64) + 0.0
            value = pl.when(col("numok")).then(col("num")).otherwise(x)
            return self._finish([s1], blank, value, col("numok") | clock_ok)
        g = raw.str.extract_groups(r"^([+-]?)([0-9]{1,9}):([0-9]{1,2})(?::([0-9]{1,2}))?((?:\.[0-9]{1,15})?)$")
        s1 = [num.alias(self.tmp + "num"), num_ok.fill_null(False).alias(self.tmp + "numok"),
              g.alias(self.tmp + "g")]
        gs = [col("g").struct.field(str(i)) for i in range(1, 6)]
        s2 = [gs[0].alias(self.tmp + "sign"), _int(gs[1]).alias(self.tmp + "a"), _int(gs[2]).alias(self.tmp + "b"),
              _int(gs[3]).alias(self.tmp + "cc"), (gs[3].is_not_null() & (gs[3].str.len_bytes() > 0)).alias(
                  self.tmp + "hasc"),
              pl.when(gs[4].str.len_bytes() > 0).then(gs[4].cast(pl.Float64, strict=False)).otherwise(0.0).alias(
                  self.tmp + "frac")]
        a, b, cc, has_c = col("a"), col("b"), col("cc"), col("hasc")
        hours = pl.when(has_c).then(a).otherwise(0)
        minutes = pl.when(has_c).then(b).otherwise(a)
        seconds = pl.when(has_c).then(cc).otherwise(b)
        clock_ok = (a.is_not_null() & (seconds < 60) & (~has_c | (minutes < 60))).fill_null(False)
        x = (hours * 3600 + minutes * 60 + seconds).cast(pl.Float64) + col("frac")
        x = pl.when(col("sign") == "-").then(-x).otherwise(x)
        value = pl.when(col("numok")).then(col("num")).otherwise(x)
        return self._finish([s1, s2], blank, value, col("numok") | clock_ok)

    def _boolean_text(self, raw: pl.Expr, blank: pl.Expr) -> Typed:
        # The usual spellings, each typed once by a FieldReader itself; any other text is left to Python.
        exact, folded = boolean_tables(self.field)
        reader = FieldReader(dataclasses.replace(self.field, nullable=True), self.zone.zone)
        table: dict[str, bool] = {}
        for word in [*exact, *folded]:
            for spelling in {word, word.lower(), word.upper(), word.title(), word.capitalize()}:
                if spelling and not spelling.isspace() and spelling == spelling.strip():
                    try:
                        table[spelling] = reader.text(spelling)
                    except (RejectedValue, *UNFORESEEN_ERRORS):
                        continue
        if not table:
            return self._finish([], blank, pl.lit(None, dtype=pl.Boolean), pl.lit(False))
        value = lookup(raw, list(table), pl.Series(list(table.values()), dtype=pl.Boolean))
        s1 = [value.alias(self.tmp + "x")]
        return self._finish([s1], blank, self.col("x"), self.col("x").is_not_null())

    def _date_text(self, raw: pl.Expr, blank: pl.Expr) -> Typed:
        if self.field.format:
            got = self._strptime(raw, self.field.format)
            if got is None:
                return self._python_text(raw, blank)
            stages, wall, ok, _fold = got
            return self._finish(stages, blank, wall.dt.date(), ok)
        col = self.col
        s1 = [raw.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").fill_null(False).alias(self.tmp + "shape"),
              _int(raw.str.slice(0, 4)).alias(self.tmp + "y"), _int(raw.str.slice(5, 2)).alias(self.tmp + "m"),
              _int(raw.str.slice(8, 2)).alias(self.tmp + "d")]
        s2 = [(col("shape") & valid_date(col("y"), col("m"), col("d"))).alias(self.tmp + "okd")]
        days = days_from_civil(col("y"), col("m"), col("d"))
        value = pl.when(col("okd")).then(days).cast(pl.Int32).cast(pl.Date)
        return self._finish([s1, s2], blank, value, col("okd"))

    _ISO = (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})?)?$")

    _FAST_DT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}%s[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"

    def _datetime_text(self, raw: pl.Expr, blank: pl.Expr) -> Typed:
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
        col, tmp = self.col, self.tmp
        s1 = [raw.str.extract_groups(self._ISO).alias(tmp + "g")]
        parts = [col("g").struct.field(str(i)) for i in range(1, 9)]
        frac, off = parts[6], parts[7]
        s2 = [*(_int(p).alias(tmp + n) for p, n in zip(parts[:3], ("y", "mo", "d"))),
              *(_int(p).fill_null(0).alias(tmp + n) for p, n in zip(parts[3:6], ("h", "mi", "s"))),
              pl.when(frac.is_null()).then(0).otherwise(_int(frac.str.pad_end(6, "0"))).alias(tmp + "us"),
              *self._offset_fields(off, off.is_not_null())]
        y, mo, d, h, mi, sec = col("y"), col("mo"), col("d"), col("h"), col("mi"), col("s")
        offset_ok, offset = self._offset()
        ok = (y.is_not_null() & valid_date(y, mo, d) & (h <= 23) & (mi <= 59) & (sec <= 59) & offset_ok
              ).fill_null(False)
        local = (days_from_civil(y, mo, d) * 86_400_000_000 + h * 3_600_000_000 + mi * 60_000_000
                 + sec * 1_000_000 + col("us"))
        s3 = [ok.alias(tmp + "okdt"), pl.when(ok).then(local).alias(tmp + "local"),
              pl.when(ok & col("hasoff")).then(local - offset).alias(tmp + "utc")]
        return self._finish_zoned([s1, s2, s3], blank)

    def _offset_fields(self, off: pl.Expr, present: pl.Expr) -> list[pl.Expr]:
        """Stage columns hasoff, zulu, neg, oh, om of an offset text (Z or ±HH:MM)."""
        tmp = self.tmp
        return [present.fill_null(False).alias(tmp + "hasoff"),
                (off == "Z").fill_null(False).alias(tmp + "zulu"),
                (off.str.slice(0, 1) == "-").fill_null(False).alias(tmp + "neg"),
                _int(off.str.slice(1, 2)).alias(tmp + "oh"), _int(off.str.slice(4, 2)).alias(tmp + "om")]

    def _offset(self) -> tuple[pl.Expr, pl.Expr]:
        """(the offset is absent or valid, the offset in µs), from the _offset_fields columns."""
        col = self.col
        valid = ~col("hasoff") | col("zulu") | ((col("oh") <= 23) & (col("om") <= 59)).fill_null(False)
        offset = pl.when(col("zulu")).then(0).otherwise(
            pl.when(col("neg")).then(-1).otherwise(1) * (col("oh") * 3_600_000_000 + col("om") * 60_000_000))
        return valid, offset

    def _finish_zoned(self, stages: list[list[pl.Expr]], blank: pl.Expr) -> Typed:
        """Wall-clock time in records.timezone of the okdt/local/utc/hasoff stage columns."""
        col = self.col
        wall, fold, more = self._zone_stages(col("utc"))
        ok = col("okdt") & (~col("hasoff") | in_range(wall))
        wall = pl.when(col("hasoff")).then(wall).otherwise(col("local"))
        fold = pl.when(col("hasoff")).then(fold).otherwise(False)
        return self._finish([*stages, *more], blank, wall.cast(pl.Datetime("us")), ok, fold)

    def _datetime_fast(self, raw: pl.Expr, blank: pl.Expr, sep: str, shape: re.Pattern[str]) -> Typed:
        """YYYY-MM-DD{sep}HH:MM:SS with an optional Z or ±HH:MM, as the sample shows: chrono parses it."""
        col, tmp = self.col, self.tmp
        offsets = {v[19:] for v in self.sample if shape.match(v)}
        if len(offsets) == 1:
            fixed = self._datetime_one_offset(raw, blank, sep, offsets.pop())
            if fixed is not None:
                return fixed
        s1 = [raw.str.contains(self._FAST_DT % sep).fill_null(False).alias(tmp + "shape"),
              raw.str.slice(0, 19).str.to_datetime(f"%Y-%m-%d{sep}%H:%M:%S", strict=False, time_unit="us")
              .cast(pl.Int64).alias(tmp + "local"),
              ((raw.str.slice(0, 4) != "0000") & (raw.str.slice(17, 2) < "60")).fill_null(False)
              .alias(tmp + "sane"),
              raw.str.slice(19).alias(tmp + "off")]
        off = col("off")
        s2 = self._offset_fields(off, off.str.len_bytes() > 0)
        offset_ok, offset = self._offset()
        ok = (col("shape") & col("local").is_not_null() & col("sane") & offset_ok).fill_null(False)
        s3 = [ok.alias(tmp + "okdt"),
              pl.when(ok & col("hasoff")).then(col("local") - offset).alias(tmp + "utc")]
        return self._finish_zoned([s1, s2, s3], blank)

    def _datetime_one_offset(self, raw: pl.Expr, blank: pl.Expr, sep: str, offset: str) -> Typed | None:
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
        col, tmp = self.col, self.tmp
        shape = "^[0-9]{4}-[0-9]{2}-[0-9]{2}" + sep + "[0-9]{2}:[0-9]{2}:[0-9]{2}" + re.escape(offset) + "$"
        s1 = [raw.str.contains(shape).fill_null(False).alias(tmp + "shape"),
              raw.str.slice(0, 19).str.to_datetime(f"%Y-%m-%d{sep}%H:%M:%S", strict=False, time_unit="us")
              .cast(pl.Int64).alias(tmp + "local"),
              ((raw.str.slice(0, 4) != "0000") & (raw.str.slice(17, 2) < "60")).fill_null(False)
              .alias(tmp + "sane")]
        ok = (col("shape") & col("local").is_not_null() & col("sane")).fill_null(False)
        if offset == "":  # naive: read in the zone, the wall-clock time as written
            return self._finish([s1], blank, col("local").cast(pl.Datetime("us")), ok, pl.lit(False))
        s2 = [ok.alias(tmp + "okdt"), pl.when(ok).then(col("local") - off_us).alias(tmp + "utc")]
        if not self.zone.utc:
            lo, hi = self.years
            hours, _offsets, _folds, constant = self.zone.table(lo, hi)
            if constant == off_us:
                known = (col("utc") // 3_600_000_000 >= hours[0]) & (col("utc") // 3_600_000_000 <= hours[-1])
                ok = col("okdt") & known.fill_null(False)
                return self._finish([s1, s2], blank, col("local").cast(pl.Datetime("us")), ok, pl.lit(False))
        wall, fold, more = self._zone_stages(col("utc"))
        ok = col("okdt") & in_range(wall)
        return self._finish([s1, s2, *more], blank, wall.cast(pl.Datetime("us")), ok, fold)

    def _zone_stages(self, utc: pl.Expr) -> tuple[pl.Expr, pl.Expr, list[list[pl.Expr]]]:
        """(wall µs, fold) of UTC µs in records.timezone, with the stages that compute them.

        zoneinfo's offsets for every hour of the years the sample shows (± 1) are looked up by
        hour; an instant in another year, or in an hour where the offset changes, gets a null
        wall time, so its cell is typed by Python.
        """
        if self.zone.utc:
            return utc, pl.lit(False), []
        lo, hi = self.years
        hours, offsets, folds, constant = self.zone.table(lo, hi)
        hour = utc // 3_600_000_000
        tmp = self.tmp
        if constant is not None:
            known = (hour >= hours[0]) & (hour <= hours[-1])
            return self.col("zw"), pl.lit(False), [[pl.when(known).then(utc + constant).alias(tmp + "zw")]]
        stage = [(utc + lookup(hour, hours, pl.Series(offsets, dtype=pl.Int64))).alias(tmp + "zw"),
                 lookup(hour, hours, pl.Series(folds, dtype=pl.Boolean)).alias(tmp + "zf")]
        return self.col("zw"), self.col("zf"), [stage]

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
        col, tmp = self.col, self.tmp
        text = raw.str.strip_chars(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
        s1 = [text.alias(tmp + "txt")]
        s2 = [col("txt").str.extract(f"^(?i)({pattern})", 1).alias(tmp + "full"),
              col("txt").str.extract_groups(f"^(?i)(?:{pattern})").alias(tmp + "g")]
        get = {n: col("g").struct.field(n) for n in names}
        s3 = [(_int(get["Y"]) if "Y" in get else pl.lit(1900, dtype=pl.Int64)).alias(tmp + "y"),
              (_int(get["m"]) if "m" in get else pl.lit(1, dtype=pl.Int64)).alias(tmp + "mo"),
              (_int(get["d"].str.strip_chars(" ")) if "d" in get else pl.lit(1, dtype=pl.Int64))
              .alias(tmp + "d"),
              (_int(get["H"]) if "H" in get else pl.lit(0, dtype=pl.Int64)).alias(tmp + "h"),
              (_int(get["M"]) if "M" in get else pl.lit(0, dtype=pl.Int64)).alias(tmp + "mi"),
              (_int(get["S"]) if "S" in get else pl.lit(0, dtype=pl.Int64)).alias(tmp + "s"),
              (_int(get["f"].str.pad_end(6, "0")) if "f" in get else pl.lit(0, dtype=pl.Int64))
              .alias(tmp + "us"),
              (is_ascii(raw) & (col("full").str.len_bytes() == col("txt").str.len_bytes())).fill_null(False)
              .alias(tmp + "shape")]
        if "z" in get:
            z = get["z"]
            digits = z.str.replace_all(":", "", literal=True)
            s3 += [(z.str.to_uppercase() == "Z").fill_null(False).alias(tmp + "zulu"),
                   digits.str.len_bytes().alias(tmp + "zlen"),
                   _int(digits.str.slice(1, 2)).alias(tmp + "zh"),
                   _int(digits.str.slice(3, 2)).alias(tmp + "zm"),
                   (z.str.slice(0, 1) == "-").fill_null(False).alias(tmp + "neg")]
        y, mo, d, h, mi, sec = col("y"), col("mo"), col("d"), col("h"), col("mi"), col("s")
        ok = col("shape") & valid_date(y, mo, d) & (sec <= 59)
        if "z" in get:
            ok = ok & (col("zulu") | ((col("zlen") == 5) & (col("zh") <= 23)).fill_null(False))
        ok = ok.fill_null(False)
        local = (days_from_civil(y, mo, d) * 86_400_000_000 + h * 3_600_000_000 + mi * 60_000_000
                 + sec * 1_000_000 + col("us"))
        s4 = [ok.alias(tmp + "okdt"), pl.when(ok).then(local).alias(tmp + "local")]
        stages = [s1, s2, s3, s4]
        if "z" in get:
            sign = pl.when(col("neg")).then(-1).otherwise(1)
            offset = pl.when(col("zulu")).then(0).otherwise(
                sign * (col("zh") * 3_600_000_000 + col("zm") * 60_000_000))
            stages.append([(col("local") - offset).alias(tmp + "utc")])
            wall, fold, more = self._zone_stages(col("utc"))
            stages += more
            ok = col("okdt") & in_range(wall)
        else:
            wall, fold, ok = col("local"), pl.lit(False), col("okdt")
        return stages, wall.cast(pl.Datetime("us")), ok, fold

    def _python_text(self, raw: pl.Expr, blank: pl.Expr) -> Typed:
        """Type every cell with a FieldReader (a format the fast path does not know)."""
        log.debug("field %s: format %r is typed cell by cell in Python", self.field.name, self.field.format)
        reader = FieldReader(dataclasses.replace(self.field, nullable=True, enum=None, minimum=None,
                                                    maximum=None), self.zone.zone)
        kind = self.kind

        def run(s: pl.Series) -> pl.Series:
            values, folds, oks = [], [], []
            for cell in s.to_list():
                try:
                    v = reader.text(cell if cell is not None else "")
                    ok = True
                except (RejectedValue, *UNFORESEEN_ERRORS):
                    v, ok = None, False
                fold = False
                if isinstance(v, dt.datetime):
                    fold = bool(v.fold)
                    v = v.replace(tzinfo=None)
                values.append(v)
                folds.append(fold)
                oks.append(ok)
            return pl.struct([pl.Series("v", values, dtype=DTYPES[kind]),
                              pl.Series("fold", folds, dtype=pl.Boolean),
                              pl.Series("ok", oks, dtype=pl.Boolean)], eager=True)

        dtype = pl.Struct({"v": DTYPES[kind], "fold": pl.Boolean, "ok": pl.Boolean})
        out = raw.map_batches(run, return_dtype=dtype)
        col = self.col
        fold = col("py").struct.field("fold") if kind == "datetime" else None
        return self._finish([[out.alias(self.tmp + "py")]], blank, col("py").struct.field("v"),
                            col("py").struct.field("ok"), fold)

    # -- native Parquet columns (the JSON-value rules of records.fields.FieldReader.value)
    def native(self, col: pl.Expr, dtype: pl.DataType) -> Typed | None:
        """None when the column's type has no vectorised rule (every value is then typed in Python)."""
        t = self.field.type
        isnull = col.is_null()

        def done(value: pl.Expr, ok: pl.Expr | None, fold: pl.Expr | None = None,
                 stages: list[list[pl.Expr]] | None = None) -> Typed:
            return self._finish(stages or [], isnull, value, ok, fold, native=True)

        if dtype.is_integer():
            if t == "integer":
                if dtype in _WITHIN_INT64:  # every value fits: nothing to check
                    return done(col.cast(pl.Int64), None)
                return done(col.cast(pl.Int64, strict=False), col.cast(pl.Int64, strict=False).is_not_null())
            if t in ("number", "duration"):
                big = col.cast(pl.Float64).abs() > EXACT_INT
                return done(col.cast(pl.Float64), ~big)
            if t == "string":
                return done(col.cast(pl.String), None)
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
                return done(col, None)
            if t == "string":
                return done(pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")), None)
            return None
        if dtype == pl.Date:
            if t == "date":
                return done(col, None)
            return None
        if isinstance(dtype, pl.Datetime) and dtype.time_unit in ("us", "ms") and t in ("date", "datetime"):
            micros = col.dt.epoch("us")
            stages: list[list[pl.Expr]] = [[micros.alias(self.tmp + "utc")]]
            if dtype.time_zone is None:
                wall, fold = self.col("utc"), pl.lit(False)
            else:
                wall, fold, more = self._zone_stages(self.col("utc"))
                stages += more
            value = wall.cast(pl.Datetime("us"))
            if t == "date":
                return done(value.dt.date(), in_range(wall), stages=stages)
            return done(value, in_range(wall), fold, stages=stages)
        if isinstance(dtype, pl.Duration) and t == "duration":
            micros = col.dt.total_microseconds()
            return done(micros.cast(pl.Float64) / 1e6, micros.abs() <= EXACT_INT)
        if dtype == pl.String:
            return self.text(col)
        return None


_WITHIN_INT64 = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


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
