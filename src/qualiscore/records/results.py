"""What reading records gives back: accepted records, each rejected row's problems, the inputs read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason one row was rejected: enough to find the cell and fix it."""

    source: str  # input path as given (or the inline source name)
    row: int  # CSV/Excel: as the spreadsheet shows it; JSONL: line number; Parquet, tables, inline: 1-based index
    record_id: str | None  # the row's raw id value, when it can be read
    field: str | None  # contract field name; None for row-level problems (ragged row, bad JSON)
    value: str | None  # the raw value as read (str() of it), at most 200 characters
    code: str  # one of PROBLEM_CODES
    reason: str  # a sentence saying what is wrong and how to fix it


@dataclass(frozen=True, slots=True)
class InputFile:
    """What was read from one input, for the run manifest and for audit."""

    path: str  # as given (an Excel sheet chosen in the path stays in it: "book.xlsx#Sheet1")
    sha256: str  # of the raw bytes (a table in memory: its Arrow IPC stream; inline records: their canonical JSON)
    format: str  # "csv" | "jsonl" | "xlsx" | "parquet" | "arrow" (a table in memory) | "sql" (a query) | "inline"
    encoding: str  # codec actually used ("" for inline records and binary formats)
    rows_read: int
    rows_rejected: int
    sheet: str | None = None  # the worksheet read, for Excel inputs
    opened: str | None = None  # where the file was read from, when ``path`` is as a manifest recorded it
    source: str | None = None  # the scheme's record source it was read for, in a scheme with `sources:`
    server: str | None = None  # a query: the server it ran on, "postgresql://host:port/dbname" (no credentials)
    rows_sha256: str | None = None  # a query: the SHA-256 of the rows it returned, as an Arrow IPC stream
    # Line digests computed where the file was read (rowdigests: unit, 4-byte values), for an input the
    # machine writing the outputs cannot open (a Spark executor read it).
    digests: tuple[str, bytes] | None = field(default=None, compare=False, repr=False)


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


def quote_value(value: Any) -> str:
    """A value quoted for a reason sentence (shortened: the full value is in `value`)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "…"
    return repr(text)


def clip_value(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
