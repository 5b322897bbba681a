"""Stage: interaction records in, typed rows out, every broken row accounted for.

Records come from exports (CSV from Excel or a contact-centre system, JSON Lines from
an API, Excel workbooks, Parquet files from a data platform) that rarely match the
scheme exactly. This package reads them and types every row against the scheme's
record contract (:class:`~qualiscore.model.RecordContract`).
A row that breaks the contract is *rejected with a reason*, never dropped silently,
so ``rows_read == rows_accepted + rows_rejected`` always holds and the run can list
each rejected row (file, row, field, value, reason) in ``rejects.csv``.

What cannot be read at all (missing file, unknown format, undecodable bytes, no
header) is a :class:`~qualiscore.errors.DataError` with a location and a hint.

Decisions (the user's side is docs/scheme-format.md, "records: the data contract"):

* Row numbers are what a user sees when opening the file: CSV rows count like Excel
  (header = row 1, first data row = 2; a quoted cell with line breaks is still one
  row; blank rows are skipped but keep their number); Excel rows are the sheet's own
  row numbers (the header is the first non-empty row); JSONL rows are line numbers;
  Parquet rows, tables in memory and inline records are 1-based positions.
* Excel cells, Parquet columns and tables in memory carry types, so their values are
  typed by the JSON rules (a number cell is a number, a date cell a date-time, an empty
  cell null), and text cells by the CSV text rules: a workbook and its CSV export give
  the same records. Naive date-times (Excel has no time zones) are read in the contract's zone.
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

Modules, in reading order: ``results`` (Dataset, InputFile, Problem), ``values`` (a
parser pair per field type), ``fields`` (a contract prepared for typing), ``collect``
(rows into one dataset), ``inputs`` (path, format, hash and codec of an input),
``text`` (CSV, JSON Lines), ``tables`` (typed tables, Parquet), ``arrow`` (tables in
memory, converted once), ``excel`` (Excel workbooks), ``api`` (read_records,
records_from_dicts, records_from_table). ``engine_api`` declares what an engine may use beyond ``__all__``.
"""

from __future__ import annotations

from .api import read_records, records_from_dicts, records_from_table
from .inputs import split_sheet
from .results import MAX_VALUE_CHARS, PROBLEM_CODES, Dataset, InputFile, Problem

__all__ = [
    "MAX_VALUE_CHARS",
    "PROBLEM_CODES",
    "Dataset",
    "InputFile",
    "Problem",
    "read_records",
    "records_from_dicts",
    "records_from_table",
    "split_sheet",
]
