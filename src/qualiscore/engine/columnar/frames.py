"""Typed frames: every input as one frame of typed fields, and the names of its columns.

A typed frame has a column per contract field (datetimes as wall-clock times in
records.timezone, with their fold in :func:`fold_column`), plus the row's origin and the
flags the fix-ups read. The narrow frame (plan.CompiledScheme.narrow) and the run's frame
(executor.ExecutionResult) keep some of these columns and add their own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from ...model import RecordContract
from .fallback import Fallback
from .fields import FIELD_KINDS, FieldTyper, Typed
from .inputs import FIELD_SIZE_LIMIT, Input
from .text import whitespace_class
from .translate import DTYPES

SRC = "__src"  # the input's index
ROW = "__row"  # the row number in its input
SUS = "__sus"  # a bit per field whose cell the vectorised typing is not sure of (_sus_mask)
RAGGED = "__ragged"  # a row without the header's cell count (Polars' CSV route: a blank row, decided later)
WEIRD = "__weird"  # a row only the row-by-row reader reads (quotes, carriage returns, NUL, long cells)
DFAIL = "__dfail"  # a derived value or measure expression the vectorised form may get wrong
STATE = "__state"  # 0: scored; 1: rejected by the contract (or a duplicate id); 2: rejected later (derive, period)
PDATE = "__pdate"  # the day of the subject period field
RAW_ID = "__rawid"  # the id cell as read, in the frame of flagged cells (flagged_cells)


def raw_column(position: int) -> str:
    """The column of a field's cell as read (before typing), by the field's place in the contract."""
    return f"__raw{position}"


def fold_column(name: str) -> str:
    """The column of a datetime field's fold (which of two equal wall-clock times it is)."""
    return f"__fold__{name}"


def _sus_mask(flags: Sequence[pl.Expr]) -> pl.Expr:
    """A bit per field (fields beyond 62 share bit 62) of cells the fast path did not type."""
    if not flags:
        return pl.lit(0, dtype=pl.Int64)
    terms = [f.cast(pl.Int64) * (1 << min(i, 62)) for i, f in enumerate(flags)]
    if len(flags) > 62:
        return pl.sum_horizontal(terms[:62]) + pl.max_horizontal(terms[62:])
    return terms[0] if len(terms) == 1 else pl.sum_horizontal(terms)


def _field_columns(contract: RecordContract, typed: Mapping[str, Typed]) -> list[pl.Expr]:
    cols = []
    for f in contract.fields:
        t = typed[f.name]
        cols.append(t.value.cast(DTYPES[FIELD_KINDS[f.type]]).alias(f.name))
        if f.type == "datetime":
            fold = t.fold if t.fold is not None else pl.lit(False)
            cols.append(fold.fill_null(False).alias(fold_column(f.name)))
    return cols


def _raw_columns(contract: RecordContract, cells: Mapping[str, str | None],
                 floats: set[str] | None = None) -> list[pl.Expr]:
    """Each field's cell as read, for the flagged cells' checks (:func:`flagged_cells`); Parquet
    decimals as the floats records.tables reads."""
    out = []
    for k, f in enumerate(contract.fields):
        name = cells.get(f.name)
        if name is not None:
            col = pl.col(name).cast(pl.Float64) if floats and name in floats else pl.col(name)
            out.append(col.alias(raw_column(k)))
    return out


def flagged_cells(lf: pl.LazyFrame, contract: RecordContract, inp: Input, id_pos: int | None) -> pl.LazyFrame:
    """The flagged rows of one input's typed frame: each flagged cell as read (null where not flagged),
    and the id cell (RAW_ID).

    Collected in the same streaming pass as the narrow frame, so no flagged row is read twice.
    A text cell is never null here: an empty one is "", as csv.reader gives it.
    """
    text = inp.kind == "csv"
    cols = [pl.col(SRC), pl.col(ROW), pl.col(SUS)]
    for k, f in enumerate(contract.fields):
        if inp.cells.get(f.name) is None:
            continue
        raw = pl.col(raw_column(k))
        if text:
            raw = raw.fill_null("")
        if k == id_pos:
            cols.append(raw.alias(RAW_ID))
        flagged = (pl.col(SUS) & (1 << min(k, 62))) != 0
        cols.append(pl.when(flagged).then(raw).alias(raw_column(k)))
    return lf.filter((pl.col(SUS) != 0) & ~pl.col(RAGGED) & ~pl.col(WEIRD)).select(cols)


def _staged(lf: pl.LazyFrame, typed: Mapping[str, Typed]) -> pl.LazyFrame:
    """Add every field's staged columns, level by level."""
    depth = max((len(t.stages) for t in typed.values()), default=0)
    for level in range(depth):
        exprs = [e for t in typed.values() if level < len(t.stages) for e in t.stages[level]]
        if exprs:
            lf = lf.with_columns(exprs)
    return lf


def typed_lines(inp: Input, contract: RecordContract, typers: Mapping[str, FieldTyper]) -> pl.LazyFrame:
    """A CSV without quotes, read as lines and split on the delimiter (exactly what csv.reader does then)."""
    d = inp.delim
    line = pl.col("line")
    lf = pl.scan_lines(inp.read_path).with_row_index("__i").filter(pl.col("__i") > inp.header_line)
    ncells = line.str.count_matches(d, literal=True) + 1
    all_empty = line.str.strip_chars(d) == ""
    lone_space = (ncells == 1) & pl.lit(inp.ncols != 1) & line.str.contains(f"^[{whitespace_class()}]+$")
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
    typed: dict[str, Typed] = {}
    for f in contract.fields:
        idx = inp.cells.get(f.name)
        if idx is None:
            nulled = pl.lit(None, dtype=DTYPES[FIELD_KINDS[f.type]])
            typed[f.name] = Typed(nulled, pl.lit(not f.nullable))
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
        *_raw_columns(contract, {n: None if i is None else f"__c{i}" for n, i in inp.cells.items()}),
    )


def typed_csv(inp: Input, contract: RecordContract, typers: Mapping[str, FieldTyper]) -> pl.LazyFrame:
    """A CSV read by Polars' own parser, without quote handling (the file has no quote character).

    Every line is then one record split on the delimiter, as csv.reader splits it. Rows with
    fewer cells are padded by Polars: the run checks afterwards that the file's delimiter
    count matches full rows, else the file is read again by lines (typed_lines).
    """
    names = [f"__c{i}" for i in range(inp.ncols)]
    lf = pl.scan_csv(inp.read_path, has_header=False, skip_lines=inp.header_line + 1, separator=inp.delim,
                     quote_char=None, schema=dict.fromkeys(names, pl.String), empty_string_is_null=True,
                     truncate_ragged_lines=False, row_index_name="__i", encoding="utf8", raise_if_empty=False)
    cells = [pl.col(n) for n in names]
    blank = pl.all_horizontal([c.is_null() for c in cells]) if cells else pl.lit(True)
    too_long = pl.any_horizontal([(c.str.len_bytes() > FIELD_SIZE_LIMIT).fill_null(False) for c in cells])
    typed: dict[str, Typed] = {}
    for f in contract.fields:
        idx = inp.cells.get(f.name)
        if idx is None:
            typed[f.name] = Typed(pl.lit(None, dtype=DTYPES[FIELD_KINDS[f.type]]), pl.lit(not f.nullable))
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
        *_raw_columns(contract, {n: None if i is None else names[i] for n, i in inp.cells.items()}),
    )


def typed_parquet(inp: Input, contract: RecordContract, typers: Mapping[str, FieldTyper]) -> pl.LazyFrame:
    lf = inp.scan().with_row_index("__i")
    typed: dict[str, Typed] = {}
    for f in contract.fields:
        col = inp.columns.get(f.name)
        kind = FIELD_KINDS[f.type]
        if col is None:
            typed[f.name] = Typed(pl.lit(None, dtype=DTYPES[kind]), pl.lit(not f.nullable))
            continue
        source = pl.col(col).cast(pl.Float64) if inp.schema[col] == pl.Float64 else pl.col(col)
        got = typers[f.name].native(source, inp.schema[col])
        if got is None:
            # No vectorised rule for this column type: every non-null value is typed in Python.
            got = Typed(pl.lit(None, dtype=DTYPES[kind]), ~pl.col(col).is_null() | pl.lit(not f.nullable))
        typed[f.name] = got
    lf = _staged(lf, typed)
    return lf.select(
        pl.lit(inp.index, dtype=pl.Int32).alias(SRC),
        (pl.col("__i").cast(pl.Int64) + 1).alias(ROW),
        _sus_mask([typed[f.name].sus for f in contract.fields]).alias(SUS),
        pl.lit(False).alias(RAGGED),
        pl.lit(False).alias(WEIRD),
        *_field_columns(contract, typed),
        *_raw_columns(contract, {n: c for n, c in inp.columns.items()},
                      {c for c, t in inp.schema.items() if t == pl.Float64}),
    )


def in_origin_order(nf: pl.DataFrame) -> bool:
    """Rows already by (source, row), as the streaming read usually leaves them: no sorted copy needed."""
    if nf.height < 2:
        return True
    step = nf.select(((pl.col(SRC).diff() > 0) | ((pl.col(SRC).diff() == 0) & (pl.col(ROW).diff() > 0)))
                     .slice(1).all()).item()
    return bool(step)


def frame_of_records(contract: RecordContract, records: Sequence[Mapping[str, Any]],
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
            folds = [bool(v is not None and v.fold) for v in values]
            data[fold_column(f.name)] = pl.Series(fold_column(f.name), folds, dtype=pl.Boolean)
            continue
        if kind == "int" and any(v is not None and not -(2**63) <= v < 2**63 for v in values):
            raise Fallback(f"field {f.name} holds an integer beyond 64 bits")
        data[f.name] = pl.Series(f.name, values, dtype=DTYPES[kind])
    return pl.DataFrame(data)


_PYTHON_TYPES: dict[str, type[Any]] = {"str": str, "int": int, "float": float, "bool": bool, "date": dt.date, "datetime": dt.datetime}


def check_typed(contract: RecordContract, records: Sequence[Mapping[str, Any]]) -> None:
    """Refuse (Fallback) records that are not typed as the records package types them against ``contract``.

    Records in hand are scored as they are; a frame holds them faithfully only if each value
    is of its field's type: ints, finite floats, datetimes in the contract's time zone.
    """
    zone = ZoneInfo(contract.timezone)
    for f in contract.fields:
        kind = FIELD_KINDS[f.type]
        wanted = _PYTHON_TYPES[kind]
        for record in records:
            v = record.get(f.name)
            if v is None:
                continue
            if type(v) is not wanted or (kind == "float" and not math.isfinite(v)) or (
                    kind == "datetime" and v.tzinfo is not zone):
                raise Fallback(f"field {f.name} holds {type(v).__name__} {v!r}, not a {f.type} typed by the contract")


def check_frame(contract: RecordContract, typed: RecordContract) -> None:
    """Rows typed in hand are scored as they are only against the contract they were typed with."""
    if contract != typed:
        raise Fallback("rows typed against another record contract")


def python_value(rec: Mapping[str, Any], name: str, kind: str | None, zone: ZoneInfo) -> Any:
    """The Python value (as the records package types it) of a field of a narrow-frame row."""
    v = rec.get(name)
    if kind == "datetime" and v is not None:
        return v.replace(tzinfo=zone, fold=int(bool(rec.get(fold_column(name)))))
    return v

