"""Collecting rows: typed rows accepted or rejected into one dataset, ids checked across all inputs.

A tabular row (CSV, Excel, Parquet) is typed through a *plan*: (field name, cell index,
parser) per contract field, in contract order, made once from the header. A mapping
(a JSON object, an inline record) is typed by looking each field up by key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..i18n import _
from .fields import UNFORESEEN_ERRORS, Typer, problem_from_error
from .results import Dataset, InputFile, Problem, clip_value, quote_value
from .values import RejectedValue

# A key that is not there at all, unlike a key whose value is null.
MISSING: Any = object()

# How a tabular row is typed: (field name, cell index, parser) per contract field, in contract order.
RowPlan = list[tuple[str, int, Callable[[Any], Any]]]


class Collector:
    """Accepted records, problems and id occurrences across all inputs of one dataset."""

    def __init__(self, typer: Typer, unique_with: str | None = None) -> None:
        self.typer = typer
        # A field whose value joins the id in the duplicate check: (record id, reviewer) for `calibrate`.
        self.unique_with = unique_with
        self.records: list[dict[str, Any]] = []
        self.origins: list[tuple[str, int]] = []
        self.problems: list[Problem] = []
        self.first_seen: dict[Any, tuple[str, int, int, str | None]] = {}
        self.repeated: dict[Any, list[tuple[str, int, int, str | None]]] = {}
        self.sources: list[str] = []
        self.missing_columns: list[tuple[str, str]] = []

    def id_seen(self, value: Any, src: str, row: int, accepted_at: int, rid: str | None) -> None:
        """Note a row's typed id (None: not checked); ``accepted_at`` is its record's index, or -1."""
        if value is None:
            return
        if self.unique_with is not None:
            if accepted_at < 0:  # a rejected row's second key is unknown: it takes no part
                return
            value = (value, hashable_or_none(self.records[accepted_at][self.unique_with]))
        occurrence = (src, row, accepted_at, rid)
        first = self.first_seen.setdefault(value, occurrence)
        if first is not occurrence:
            self.repeated.setdefault(value, [first]).append(occurrence)

    def accept(self, record: dict[str, Any], src: str, row: int) -> int:
        self.records.append(record)
        self.origins.append((src, row))
        return len(self.records) - 1

    def finish(self, inputs: list[tuple[str, str, str, str, int, str | None]]) -> Dataset:
        """Reject every occurrence of a repeated id, sort the problems, count per input."""
        typer = self.typer
        drop: set[int] = set()
        if typer.id_reader is not None:
            id_name = typer.id_reader.name
            for key, occurrences in self.repeated.items():
                for src, row, accepted_at, rid in occurrences:
                    others = [(o[0], o[1]) for o in occurrences if (o[0], o[1]) != (src, row)]
                    reason = duplicate_id_reason(rid, src, others, None if self.unique_with is None
                                                 else (self.unique_with, key[1]))
                    self.problems.append(
                        Problem(src, row, clip_value(rid), id_name, clip_value(rid), "duplicate-id", reason)
                    )
                    if accepted_at >= 0:
                        drop.add(accepted_at)
        rank = {s: i for i, s in enumerate(self.sources)}
        order = typer.order
        problems = sorted(
            self.problems,
            key=lambda p: (
                rank.get(p.source, len(rank)),
                p.row,
                -1 if p.field is None else order.get(p.field, -1),
            ),
        )
        rejected: dict[str, set[int]] = {}
        for p in problems:
            rejected.setdefault(p.source, set()).add(p.row)
        files = tuple(
            InputFile(path, sha, fmt, enc, read, len(rejected.get(path, ())), sheet)
            for path, sha, fmt, enc, read, sheet in inputs
        )
        if drop:
            keep = [i for i in range(len(self.records)) if i not in drop]
            records = tuple(self.records[i] for i in keep)
            origins = tuple(self.origins[i] for i in keep)
        else:
            records, origins = tuple(self.records), tuple(self.origins)
        return Dataset(records, origins, tuple(problems), files, tuple(self.missing_columns))


def type_mapping(obj: Mapping[Any, Any], src: str, row: int, out: Collector) -> None:
    """Type one JSON object / inline record (keys: the field's column, else its name)."""
    typer = out.typer
    id_reader = typer.id_reader
    rid = None
    if id_reader is not None:
        raw_id = obj.get(id_reader.source, MISSING)
        if raw_id is MISSING and id_reader.source != id_reader.name:
            raw_id = obj.get(id_reader.name, MISSING)
        rid = None if raw_id is MISSING or raw_id is None else clip_value(raw_id)
    record: dict[str, Any] = {}
    failed = False
    id_value = None
    for pos, reader in enumerate(typer.readers):
        raw = obj.get(reader.source, MISSING)
        if raw is MISSING and reader.source != reader.name:
            raw = obj.get(reader.name, MISSING)
        if raw is MISSING:
            if reader.nullable:
                record[reader.name] = None
                continue
            failed = True
            keys = [k for k in obj if isinstance(k, str)]
            out.problems.append(
                Problem(
                    src,
                    row,
                    rid,
                    reader.name,
                    None,
                    "missing-column",
                    _("the record has no {key!r} ({closest}); add the key, or map it with `column:` in the "
                      "contract", key=reader.source, closest=closest_hint(reader.source, keys)),
                )
            )
            continue
        try:
            value = reader.value(raw)
        except (RejectedValue, *UNFORESEEN_ERRORS) as exc:
            failed = True
            out.problems.append(problem_from_error(exc, reader, src, row, rid, raw))
            continue
        record[reader.name] = value
        if pos == typer.id_pos:
            id_value = value
    accepted_at = -1 if failed else out.accept(record, src, row)
    if id_reader is not None:
        out.id_seen(hashable_or_none(id_value), src, row, accepted_at, rid)


def hashable_or_none(value: Any) -> Any:
    """An id value as the duplicate check keys it; None (not checked) when it cannot be a key."""
    try:
        hash(value)
    except TypeError:
        return None
    return value


def column_index(header: list[str], source_name: str, field_name: str) -> int | str | None:
    """Column index of a field (exact header, else the header trimmed), None if absent.

    Returns a message string if the column is ambiguous.
    """
    for wanted in (source_name, field_name) if source_name != field_name else (source_name,):
        hits = [i for i, h in enumerate(header) if h == wanted]
        if not hits:
            hits = [i for i, h in enumerate(header) if h.strip() == wanted.strip()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return _("column {column!r} appears {n} times in the header", column=wanted, n=len(hits))
    return None


def closest_hint(wanted: str, available: Iterable[str]) -> str:
    """The part of a missing-column reason that says what there is instead."""
    names = [a for a in available if isinstance(a, str)]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    if close:
        return _("closest is {name!r}", name=close[0])
    if not names:
        return _("there are none")
    shown = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
    return _("available: {names}", names=shown)


# The reasons both engines give, worded here once.

def missing_column_reason(column: str, header: Iterable[str]) -> str:
    """The reason of each row of an input whose header lacks a required field's column."""
    return _("column {column!r} is not in the header ({closest}); rename the column, or map it with `column:` in "
             "the contract", column=column, closest=closest_hint(column, header))


def ragged_row_reason(cells: int, columns: int) -> str:
    """The reason of a CSV row whose number of cells is not the header's."""
    return _("the row has {cells} cells but the header has {columns}; look for an unquoted delimiter or a missing "
             "quote, or quote cells that contain the delimiter", cells=cells, columns=columns)


def duplicate_id_reason(rid: Any, source: str, others: Sequence[tuple[str, int]],
                        with_value: tuple[str, Any] | None = None) -> str:
    """The reason of one occurrence, in ``source``, of an id that ``others`` (source, row) hold too
    (``with_value``: the field, and its value, that joins the id in the check)."""
    where = ", ".join(_("row {row}", row=row) if src == source else _("{source} row {row}", source=src, row=row)
                      for src, row in others[:10])
    if len(others) > 10:
        where = _("{rows} and {n} more", rows=where, n=len(others) - 10)
    if with_value is not None:
        return _("id {id} with {field} {value} also appears in {rows}; ids must be unique, so every occurrence is "
                 "rejected: remove the duplicates or correct the ids", id=quote_value(rid), field=with_value[0],
                 value=quote_value(with_value[1]), rows=where)
    return _("id {id} also appears in {rows}; ids must be unique, so every occurrence is rejected: remove the "
             "duplicates or correct the ids", id=quote_value(rid), rows=where)


def always_none(_cell: Any) -> None:
    """The parser of a nullable field whose column is absent."""
    return None


def always_missing_column(message: str) -> Callable[[Any], Any]:
    """The parser of a required field whose column is absent: every row is rejected with ``message``."""

    def conv(_cell: Any) -> Any:
        raise RejectedValue("missing-column", message, has_value=False)

    return conv


def type_row(
    row: Sequence[Any],
    plan: RowPlan,
    typer: Typer,
    source: str,
    rownum: int,
    id_cell: int | None,
    out: Collector,
) -> None:
    """Type one row of cells, accept it and note its id; a row with a problem is typed slowly.

    Used for every tabular format (CSV cells are text; Excel and Parquet cells are values).
    """
    try:
        record = {name: conv(row[idx]) for name, idx, conv in plan}
    except (RejectedValue, *UNFORESEEN_ERRORS):
        _type_row_slowly(row, plan, typer, source, rownum, id_cell, out)
        return
    at = out.accept(record, source, rownum)
    if typer.id_pos is not None:
        out.id_seen(hashable_or_none(record[typer.names[typer.id_pos]]), source, rownum, at,
                    row[id_cell] if id_cell is not None else None)


def _type_row_slowly(
    row: Sequence[Any],
    plan: RowPlan,
    typer: Typer,
    source: str,
    rownum: int,
    id_cell: int | None,
    out: Collector,
) -> None:
    """A row with at least one problem: type each field separately to report them all."""
    rid = clip_value(row[id_cell]) if id_cell is not None else None
    id_value = None
    for pos, ((_name, idx, conv), reader) in enumerate(zip(plan, typer.readers, strict=True)):
        raw = row[idx]
        try:
            value = conv(raw)
        except (RejectedValue, *UNFORESEEN_ERRORS) as exc:
            out.problems.append(problem_from_error(exc, reader, source, rownum, rid, raw))
            continue
        if pos == typer.id_pos:
            id_value = value
    if typer.id_pos is not None:
        out.id_seen(id_value, source, rownum, -1, rid)
