"""Typed tables: the plan and typing shared by Excel worksheets, Parquet files and tables in memory; their readers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..errors import DataError, Location
from ..i18n import _
from .collect import (
    Collector,
    RowPlan,
    always_missing_column,
    always_none,
    column_index,
    missing_column_reason,
    type_row,
)
from .fields import FieldReader

_PARQUET_BATCH = 8192  # rows of a typed table turned into Python values at a time


def typed_cell_parser(fr: FieldReader) -> Callable[[Any], Any]:
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


def table_plan(
    header: Sequence[str], source: str, header_line: int | None, out: Collector
) -> tuple[RowPlan, int | None]:
    """(name, column index, value parser) per contract field, and the id column (or None)."""
    typer = out.typer
    plan: RowPlan = []
    id_cell: int | None = None
    for pos, fr in enumerate(typer.readers):
        idx = column_index(list(header), fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(
                idx,
                location=Location(source, line=header_line, field=fr.name),
                hint=_("rename one of the columns so each field reads exactly one"),
                code="ambiguous-column",
            )
        if pos == typer.id_pos:
            id_cell = idx
        if idx is not None:
            plan.append((fr.name, idx, typed_cell_parser(fr)))
        elif fr.nullable:
            out.missing_columns.append((source, fr.name))
            plan.append((fr.name, -1, always_none))
        else:
            message = missing_column_reason(fr.source, header)
            plan.append((fr.name, -1, always_missing_column(message)))
    return plan, id_cell


def type_table_rows(
    rows: Iterable[tuple[int, Sequence[Any]]],
    plan: RowPlan,
    id_cell: int | None,
    width: int,
    source: str,
    out: Collector,
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
        type_row(row, plan, typer, source, rownum, id_cell, out)
    return read


def missing_library(source: str, what: str, module: str, extra: str) -> DataError:
    from .._install import install_hint

    return DataError(
        _("cannot be read: reading {what} needs the {module} package, which is not installed", what=what,
          module=module),
        location=Location(source),
        hint=install_hint(extra),
        code="unreadable",
    )


def read_parquet(path: str, source: str, out: Collector) -> int:
    """Type every row of a Parquet file, a batch at a time; returns rows read."""
    try:
        from .._polars import pl
    except ImportError:
        raise missing_library(source, _("Parquet files"), "polars", "fast") from None

    def unreadable(exc: Exception) -> DataError:
        return DataError(
            _("cannot be read as Parquet: {kind}: {error}", kind=type(exc).__name__, error=exc),
            location=Location(source),
            hint=_("write the file again (it may be truncated), or export the records as CSV UTF-8"),
            code="unreadable",
        )

    try:
        schema = pl.read_parquet_schema(path)
    except OSError:
        raise
    except Exception as exc:  # polars' own errors (ComputeError, …) on a damaged footer
        raise unreadable(exc) from None
    header = list(schema)

    def load(names: list[str]) -> pl.DataFrame:
        try:
            return pl.read_parquet(path, columns=names, use_pyarrow=False, memory_map=False)
        except OSError:
            raise
        except Exception as exc:
            raise unreadable(exc) from None

    return type_columns(header, load, source, out)


def read_frame(frame: Any, source: str, out: Collector) -> int:
    """Type every row of a Polars DataFrame (a table in memory) as a Parquet file's; returns rows read."""
    return type_columns(list(frame.columns), frame.select, source, out)


def type_columns(header: list[str], load: Callable[[list[str]], Any], source: str, out: Collector) -> int:
    """Type the rows of typed columns named ``header``; ``load(names)`` gives those columns as a Polars frame.

    Only the columns the contract uses are loaded (at least one, to count the rows).
    """
    from .._polars import pl

    plan, id_cell = table_plan(header, source, None, out)
    used = sorted({idx for _, idx, _ in plan if idx >= 0}) or ([0] if header else [])
    where = {idx: pos for pos, idx in enumerate(used)}
    plan = [(name, where[idx] if idx >= 0 else -1, conv) for name, idx, conv in plan]
    id_pos = where.get(id_cell) if id_cell is not None else None
    if not used:
        return 0
    frame = load([header[i] for i in used])
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

    return type_table_rows(rows(), plan, id_pos, len(used), source, out, skip_blank=False)
