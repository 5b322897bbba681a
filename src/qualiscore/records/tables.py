"""Typed tables: Excel worksheets and Parquet files, whose cells carry types of their own."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..errors import DataError, Location
from .collect import (
    Collector,
    RowPlan,
    always_missing_column,
    always_none,
    closest_hint,
    column_index,
    type_row,
)
from .fields import FieldReader
from .inputs import KNOWN_FORMATS, split_sheet

_PARQUET_BATCH = 8192  # Parquet rows turned into Python values at a time


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


def _table_plan(
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
                hint="rename one of the columns so each field reads exactly one",
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
            message = (
                f"column {fr.source!r} is not in the header ({closest_hint(fr.source, header)}); "
                "rename the column, or map it with `column:` in the contract"
            )
            plan.append((fr.name, -1, always_missing_column(message)))
    return plan, id_cell


def _type_table_rows(
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


def _missing_library(source: str, what: str, module: str, extra: str) -> DataError:
    from .._install import install_hint

    return DataError(
        f"cannot be read: reading {what} needs the {module} package, which is not installed",
        location=Location(source),
        hint=install_hint(extra),
        code="unreadable",
    )


def _not_a_workbook(source: str, detail: str) -> DataError:
    return DataError(
        f"is not an Excel .xlsx workbook ({detail})",
        location=Location(source),
        hint=f"save it from Excel as .xlsx; if it is a text export, name it .csv. qualiscore reads {KNOWN_FORMATS} files",
        code="format",
    )


class Workbook:
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


def read_xlsx(book: Workbook, source: str, out: Collector) -> int:
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


def _type_xlsx_rows(rows: Iterator[tuple[int, Sequence[Any]]], title: str, source: str, out: Collector) -> int:
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


def read_parquet(path: str, source: str, out: Collector) -> int:
    """Type every row of a Parquet file, a batch at a time; returns rows read."""
    try:
        from .._polars import pl
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
