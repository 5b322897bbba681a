"""A first look at data before a run: each input's header and a sample of its rows, against the scheme.

A committee that changes a records contract, or an analyst with a new export, wants
to know in a second whether a month will be read: every field's column in the
header, and what a run would reject. The first rows of each input are copied to a
sample file of the same kind and scored by :func:`qualiscore.runs.execute`, exactly
as ``evaluate`` would score them, so the findings are the run's own: a missing
column (``missing-column``, an error) and the sample's rejects (``sample-rejects``, a
warning), located in the input, never in the sample. A query file (``.sql``) is run
for its first rows, and a query without an ORDER BY is a warning (``query-unordered``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError, Location, QualiscoreError
from .i18n import _
from .validation import Finding

if TYPE_CHECKING:
    from .engine import Run
    from .model import Scheme
    from .records.arrow import Table

# The engines and readers are imported when data is checked, so `validate` without --data stays light.

SAMPLE_ROWS = 1000
_TEXT = (".csv", ".tsv", ".tab")
_LINES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class Sampled:
    """What the sample of one input showed: its rows read, and how many a run would reject."""

    path: str
    rows: int
    rejected: int
    whole: bool  # the sample is the whole input


@dataclass(frozen=True, slots=True)
class DataCheck:
    findings: tuple[Finding, ...]
    inputs: tuple[Sampled, ...]


def check_data(schemes: Sequence[Scheme], paths: Sequence[str], *, sample: int = SAMPLE_ROWS,
               encoding: str | None = None, sheet: str | None = None) -> DataCheck:
    """Each input's header and its first ``sample`` rows checked against ``schemes`` as a run checks them."""
    from .options import RunOptions
    from .records.database import is_query
    from .runs import execute

    findings: list[Finding] = []
    sampled: list[Sampled] = []
    # Personal fields are de-identified as a run does; the tokens of a check are never kept, so any key will do.
    key = os.urandom(32)
    with tempfile.TemporaryDirectory(prefix="qualiscore-sample-") as tmp:
        for n, (path, readers) in enumerate(_by_source(schemes, paths)):
            where = Path(tmp) / str(n)
            try:
                if is_query(path):
                    findings += _query_shape(path)
                    table, whole = _query_sample(path, sample)
                    run = execute(readers, table, RunOptions(engine="rows", pseudonymise_key=key))
                else:
                    copy, whole = _sample(path, where, sample, sheet)
                    run = execute(readers, [copy], RunOptions(engine="rows", encoding=encoding, sheet=sheet,
                                                              pseudonymise_key=key))
            except DataError as exc:
                findings.append(Finding("error", exc.code, exc.message, _moved(exc.location, str(where), path),
                                        exc.hint))
                continue
            except QualiscoreError as exc:
                findings.append(Finding("error", exc.code, exc.message, Location(path), exc.hint))
                continue
            findings += _findings(run, path, whole)
            sampled.append(Sampled(path, run.rows_read, run.rows_rejected, whole))
    return DataCheck(tuple(findings), tuple(sampled))


def _by_source(schemes: Sequence[Scheme], paths: Sequence[str]) -> list[tuple[str, Sequence[Scheme]]]:
    """Each input with the schemes that read it: a source's own contract (``NAME=PATH``) in a scheme with several,
    since its lookups need the other sources' rows, which a sample does not have."""
    if not schemes[0].sources:
        return [(path, schemes) for path in paths]
    from .engine.sources import reading
    from .runs import named_inputs

    named = named_inputs(schemes, paths, complete=False)
    return [(str(path), [reading(s, name) for s in schemes]) for name, given in named.items()
            for path in given]  # type: ignore[union-attr]


def _query_shape(path: str) -> list[Finding]:
    """A query without an ORDER BY: its rows may come back in another order, renumbered, and verify would differ."""
    from .records.database import has_order_by, read_query_file

    if has_order_by(read_query_file(path).text):
        return []
    return [Finding("warning", "query-unordered",
                    _("the query has no ORDER BY: the server may return its rows in another order on another day, "
                      "so row numbers in rejects.csv and the SHA-256 of the rows that verify checks would differ"),
                    Location(path),
                    _("end the query with ORDER BY a column that identifies each row, e.g. ORDER BY interaction_id"))]


def _query_sample(path: str, rows: int) -> tuple[Table, bool]:
    """The first ``rows`` rows of the query's result, as a table named by the query file, and whether that is all."""
    from .records.arrow import Table
    from .records.database import read_query

    table = read_query(path, limit=rows + 1)
    return Table(table.frame.head(rows), table.sha256, path), table.rows <= rows


def _moved(location: Location | None, sample_dir: str, path: str) -> Location:
    """A location in the sample, as a location in the input it was copied from."""
    if location is None:
        return Location(path)
    if not (location.file or "").startswith(sample_dir):
        return location
    return dataclasses.replace(location, file=path)


def _findings(run: Run, path: str, whole: bool) -> list[Finding]:
    from .runs import missing_columns, reject_reasons, unknown_columns

    out = [Finding("error", "unknown-column",
                   _("column {column!r} is read by no field of the contract{guess}, which refuses other columns "
                     "(other_columns: refuse): a run stops (exit 15)", column=u.column, guess=_guess(u.suggestion)),
                   Location(path, line=1, field=u.column),
                   _("rename the column to the field it means, remove it, or declare it in the contract"))
           for u in unknown_columns(run)]
    for m in missing_columns(run):
        effect = (_("a run stops (exit 15; with --allow-missing-columns every row reads it as empty)") if m.nullable
                  else _("a run stops (exit 15; with --allow-missing-columns every row is rejected)"))
        out.append(Finding("error", "missing-column",
                           _("field {field!r} reads column {column!r}, which is not in the header{guess}: {effect}",
                             field=m.field, column=m.column, guess=_guess(m.suggestion), effect=effect),
                           Location(path, line=1, field=m.field),
                           _("rename the column in the export, or set `column:` of field {field!r} to the header's "
                             "name", field=m.field)))
    rejected = [p for p in run.problems if p.code != "missing-column"]
    if rejected:
        rows = len({p.row for p in rejected})
        first = min(rejected, key=lambda p: p.row)
        values = {"rows": rows, "total": run.rows_read, "reasons": reject_reasons(rejected), "row": first.row,
                  "reason": first.reason}
        out.append(Finding("warning", "sample-rejects",
                           _("{rows} of its {total} row(s) would be rejected: {reasons}; the first, row {row}: "
                             "{reason}", **values) if whole else
                           _("{rows} of the first {total} row(s) would be rejected: {reasons}; the first, row {row}: "
                             "{reason}", **values),
                           Location(path, row=first.row, field=first.field),
                           _("fix the export, or the scheme's records contract; rejects.csv of a run lists every "
                             "row and why")))
    return out


def _guess(suggestion: str | None) -> str:
    """`` (did you mean 'x'?)`` after a column's name, or nothing."""
    return _(" (did you mean {name!r}?)", name=suggestion) if suggestion else ""


def _sample(path: str, dest: Path, rows: int, sheet: str | None) -> tuple[str, bool]:
    """A copy of the first ``rows`` data rows of ``path`` under ``dest`` (same name), and whether that is all of it."""
    from .records import split_sheet

    real, chosen = split_sheet(path)
    source = Path(real)
    if not source.is_file():
        return path, True  # the reader says what is wrong, where
    dest.mkdir()
    target = dest / source.name
    suffix = source.suffix.lower()
    if suffix in _TEXT or suffix in _LINES:
        whole = _head_lines(source, target, rows + (suffix in _TEXT), quoted=suffix in _TEXT)  # CSV: + header
    elif suffix == ".parquet" or suffix == ".pq":
        whole = _head_parquet(source, target, rows)
    elif suffix in (".xlsx", ".xlsm"):
        whole = _head_workbook(source, target.with_suffix(".xlsx"), rows + 1, chosen or sheet)
        target = target.with_suffix(".xlsx")
    else:
        shutil.copyfile(source, target)
        whole = True
    return str(target) + (f"#{chosen}" if chosen else ""), whole


def _head_lines(source: Path, target: Path, records: int, quoted: bool) -> bool:
    """Copy the first ``records`` records; in CSV a quoted field may hold line breaks, so quotes are counted."""
    with open(source, "rb") as f, open(target, "wb") as out:
        inside = False
        for line in f:
            out.write(line)
            if quoted:
                inside ^= line.count(b'"') % 2 == 1
            if not inside:
                records -= 1
                if records == 0:
                    return f.read(1) == b""
    return True


def _head_parquet(source: Path, target: Path, rows: int) -> bool:
    from ._polars import pl

    frame = pl.scan_parquet(source).head(rows + 1).collect()
    frame.head(rows).write_parquet(target)
    return frame.height <= rows


def _head_workbook(source: Path, target: Path, rows: int, sheet: str | None) -> bool:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(source, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        out = Workbook(write_only=True)
        copy = out.create_sheet(ws.title)
        whole = True
        for taken, values in enumerate(ws.iter_rows(max_row=rows + 1, values_only=True)):
            if taken == rows:
                whole = False
                break
            copy.append(values)
        out.save(target)
        return whole
    finally:
        book.close()
