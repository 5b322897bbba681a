"""Text inputs: CSV/TSV and JSON Lines, read with the codec the scan chose, every row typed."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
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
    ragged_row_reason,
    type_mapping,
    type_row,
)
from .fields import Typer
from .results import Problem, clip_value
from .values import json_kind


def read_csv(path: str, source: str, encoding: str, tab: bool, out: Collector) -> int:
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
                _("is empty: a CSV file needs a header row naming its columns"),
                location=Location(source, line=1),
                hint=_("export the data with column headers in the first row"),
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
    reader: Iterator[list[str]], source: str, typer: Typer, out: Collector, skipped: int = 0
) -> int:
    """Find the header (the first row with a cell), plan each field's column, type the rows under it."""
    rownum = skipped
    try:
        header = next(reader)
        rownum += 1
        while not any(header):
            header = next(reader)
            rownum += 1
    except StopIteration:
        raise DataError(
            _("is empty: a CSV file needs a header row naming its columns"),
            location=Location(source, line=1),
            hint=_("export the data with column headers in the first row"),
            code="empty",
        ) from None
    except csv.Error as exc:
        raise _csv_error(source, rownum + 1, exc) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    ncols = len(header)

    # The plan: (name, column index, text parser) per field, in contract order.
    plan: RowPlan = []
    cells_of: list[int | None] = []
    for fr in typer.readers:
        idx = column_index(header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(
                idx,
                location=Location(source, line=rownum, field=fr.name),
                hint=_("rename one of the columns so each field reads exactly one"),
                code="ambiguous-column",
            )
        cells_of.append(idx)
        if idx is not None:
            plan.append((fr.name, idx, fr.text))
        elif fr.nullable:
            out.missing_columns.append((source, fr.name))
            plan.append((fr.name, 0, always_none))
        else:
            message = missing_column_reason(fr.source, header)
            plan.append((fr.name, 0, always_missing_column(message)))
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
                    clip_value(rid),
                    None,
                    None,
                    "ragged-row",
                    ragged_row_reason(len(row), ncols),
                )
            )
            continue
        if not any(row):
            continue  # all cells empty (",,,"): a blank row
        read += 1
        type_row(row, plan, typer, source, rownum, id_cell, out)
    return read


def _csv_error(source: str, row: int, exc: csv.Error) -> DataError:
    return DataError(
        _("cannot be read as CSV near row {row}: {error}", row=row, error=exc),
        location=Location(source, row=row),
        hint=_("check that quotes are balanced and that no cell is larger than 128 KB"),
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


def _line_problem(source: str, lineno: int, line: str, code: str, reason: str) -> Problem:
    """A JSON Lines line that is no record: the whole line is the value shown."""
    return Problem(source, lineno, None, None, clip_value(line.rstrip("\r\n")), code, reason)


def read_jsonl(path: str, source: str, encoding: str, is_json: bool, out: Collector) -> int:
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
                    _("is a JSON document, not JSON Lines (one object per line)"),
                    location=Location(source, line=lineno),
                    hint=_("write one JSON object per line and name the file .jsonl"),
                    code="format",
                )
            read += 1
            try:
                obj = loads(line)
                if _SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(obj):
                    raise ValueError(_("a \\u escape is half of a surrogate pair, not a character"))
            except (ValueError, RecursionError) as exc:
                what = (
                    _("{error} at column {column}", error=exc.msg, column=exc.colno)
                    if isinstance(exc, json.JSONDecodeError) else str(exc)
                )
                out.problems.append(_line_problem(source, lineno, line, "bad-json",
                                                  _("the line is not valid JSON ({error}); it may be truncated: "
                                                    "write one complete JSON object per line", error=what)))
                continue
            if not isinstance(obj, dict):
                out.problems.append(_line_problem(source, lineno, line, "not-an-object",
                                                  _("the line holds {kind}, not an object; write one "
                                                    "{{...}} object per line", kind=json_kind(obj))))
                continue
            type_mapping(obj, source, lineno, out)
    return read
