"""Typing rows in Python with the records package's own readers: the exact answers, row by row.

For the rows the vectorised typing flags, and for whole inputs it does not read (JSON Lines,
CSV files with quote characters, lone carriage returns, NUL bytes or very long cells).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import DataError, Location
from ...i18n import _
from ...model import RecordContract
from ...records import Problem
from ...records.engine_api import (
    MISSING,
    UNFORESEEN_ERRORS,
    Collector,
    RejectedValue,
    Typer,
    always_missing_column,
    always_none,
    clip_value,
    hash_file,
    hashable_or_none,
    missing_column_reason,
    problem_from_error,
    ragged_row_reason,
    read_csv,
    read_frame,
    read_jsonl,
    read_parquet,
    scan_text,
    typed_cell_parser,
)
from .inputs import Input, check_parquet


class RowTyper:
    """The records package's rules for one row at a time: the exact answer for the rows the fast path flags."""

    def __init__(self, contract: RecordContract) -> None:
        self.typer = Typer(contract)
        self.readers = self.typer.readers
        self.id_pos = self.typer.id_pos
        self.plans: dict[int, list[tuple[str, int, Callable[[str], Any]]]] = {}

    def plan(self, inp: Input) -> list[tuple[str, int, Callable[[str], Any]]]:
        """The plan of records.text.read_csv (text cells) or records.tables.read_parquet (typed cells):
        (name, cell, parser) per field."""
        got = self.plans.get(inp.index)
        if got is None:
            got = []
            pad = 0 if inp.kind == "csv" else inp.ncols  # tables read a None cell past the end
            for fr in self.readers:
                idx = inp.cells.get(fr.name)
                if idx is not None:
                    got.append((fr.name, idx, fr.text if inp.kind == "csv" else typed_cell_parser(fr)))
                elif fr.nullable:
                    got.append((fr.name, pad, always_none))
                else:
                    message = missing_column_reason(fr.source, inp.header)
                    got.append((fr.name, pad, always_missing_column(message)))
            self.plans[inp.index] = got
        return got

    def id_cell(self, inp: Input) -> int | None:
        if self.id_pos is None:
            return None
        return inp.cells.get(self.readers[self.id_pos].name)

    def table_row(self, inp: Input, cells: Sequence[Any], rownum: int
                  ) -> tuple[dict[str, Any] | None, list[Problem], Any, Any]:
        """(record or None, problems, typed id or None, raw id) of a CSV row with the header's width,
        or of a Parquet row (its cells by header position, plus a None past the end)."""
        plan = self.plan(inp)
        id_cell = self.id_cell(inp)
        raw_id = cells[id_cell] if id_cell is not None else None
        try:
            record = {name: conv(cells[idx]) for name, idx, conv in plan}
        except (RejectedValue, *UNFORESEEN_ERRORS):
            pass
        else:
            idv = hashable_or_none(record[self.readers[self.id_pos].name]) if self.id_pos is not None else None
            return record, [], idv, raw_id
        rid = clip_value(raw_id) if id_cell is not None else None
        problems: list[Problem] = []
        id_value = None
        for pos, ((_name, idx, conv), reader) in enumerate(zip(plan, self.readers, strict=True)):
            raw = cells[idx]
            try:
                value = conv(raw)
            except (RejectedValue, *UNFORESEEN_ERRORS) as exc:
                problems.append(problem_from_error(exc, reader, inp.source, rownum, rid, raw))
                continue
            if pos == self.id_pos:
                id_value = value
        return None, problems, id_value, raw_id

    def check_cells(self, inp: Input, cells: Sequence[Any], rownum: int, positions: Sequence[int]
                    ) -> tuple[list[Problem], Any, Any]:
        """(problems, typed id (MISSING if not among ``positions``), raw id) of some fields of a row."""
        plan = self.plan(inp)
        id_cell = self.id_cell(inp)
        raw_id = cells[id_cell] if id_cell is not None else None
        rid = clip_value(raw_id) if id_cell is not None else None
        problems: list[Problem] = []
        id_value: Any = MISSING
        for pos in positions:
            _name, idx, conv = plan[pos]
            reader = self.readers[pos]
            raw = cells[idx]
            try:
                value = conv(raw)
            except (RejectedValue, *UNFORESEEN_ERRORS) as exc:
                problems.append(problem_from_error(exc, reader, inp.source, rownum, rid, raw))
                if pos == self.id_pos:
                    id_value = None
                continue
            if pos == self.id_pos:
                id_value = value
        return problems, id_value, raw_id

    def cell_outcomes(self, inp: Input, position: int, cells: Sequence[Any]) -> CellOutcomes:
        """The records package's answer for each of some distinct cells of one field (the field at
        ``position`` in the contract), as check_cells would give it for any row holding that cell."""
        _name, _idx, conv = self.plan(inp)[position]
        reader = self.readers[position]
        out = CellOutcomes([], [], [], [], [])
        for raw in cells:
            try:
                value = conv(raw)
            except (RejectedValue, *UNFORESEEN_ERRORS) as exc:
                p = problem_from_error(exc, reader, inp.source, 0, None, raw)
                out.add(False, None, p.value, p.code, p.reason)
            else:
                out.add(True, value, None, None, None)
        return out

    def ragged(self, inp: Input, cells: list[str], rownum: int) -> Problem:
        id_cell = self.id_cell(inp)
        rid = cells[id_cell] if id_cell is not None and id_cell < len(cells) else None
        return Problem(inp.source, rownum, clip_value(rid), None, None, "ragged-row",
                       ragged_row_reason(len(cells), inp.ncols))


@dataclass(frozen=True, slots=True)
class CellOutcomes:
    """What typing each of some cells gave: accepted and its value, or the Problem's value, code and reason."""

    ok: list[bool]
    values: list[Any]
    shown: list[str | None]  # Problem.value
    codes: list[str | None]
    reasons: list[str | None]

    def add(self, ok: bool, value: Any, shown: str | None, code: str | None, reason: str | None) -> None:
        self.ok.append(ok)
        self.values.append(value)
        self.shown.append(shown)
        self.codes.append(code)
        self.reasons.append(reason)


@dataclass
class PythonRows:
    """Rows typed by the records package (JSON Lines, CSV the fast path does not read, Parquet fix-ups)."""

    collector: Collector
    by_origin: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def occurrences(self) -> list[tuple[Any, str, int, int, str | None]]:
        out = []
        c = self.collector
        for value, first in c.first_seen.items():
            for occ in c.repeated.get(value) or [first]:
                out.append((value, *occ))
        return out


def read_python(inputs: Sequence[Input], contract: RecordContract, encoding: str | None) -> PythonRows:
    """Type whole files row by row with the records package's readers, into one collector (duplicates are checked later)."""
    out = Collector(Typer(contract))
    for inp in inputs:
        out.sources.append(inp.source)
        try:
            if inp.kind == "parquet":
                check_parquet(inp)
                if inp.frame is not None:
                    inp.rows_read = read_frame(inp.frame, inp.source, out)
                else:
                    inp.sha = hash_file(inp.path)[0]
                    inp.rows_read = read_parquet(inp.path, inp.source, out)
                inp.codec = ""
                inp.missing = [name for src, name in out.missing_columns if src == inp.source]
                continue
            inp.sha, inp.codec = scan_text(inp.path, inp.source, encoding)
            if inp.kind == "csv":
                inp.rows_read = read_csv(inp.path, inp.source, inp.codec, inp.fmt == "tsv", out)
            else:
                inp.rows_read = read_jsonl(inp.path, inp.source, inp.codec, inp.fmt == "json", out)
        except UnicodeDecodeError as exc:
            raise DataError(_("cannot be decoded: {error}", error=exc), location=Location(inp.source),
                            hint=_("pass --encoding with the file's real encoding"), code="encoding") from None
        except OSError as exc:
            raise DataError(_("cannot be read: {error}", error=exc.strerror or exc), location=Location(inp.source),
                            hint=_("check the file's permissions"), code="unreadable") from None
        inp.missing = [name for src, name in out.missing_columns if src == inp.source]
    rows = PythonRows(out)
    rows.by_origin = dict(zip(out.origins, out.records))
    return rows
