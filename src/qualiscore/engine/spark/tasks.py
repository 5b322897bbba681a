"""What runs on Spark's executors: reading input files, and scoring one group of subjects.

Both are the columnar engine's own code, called on the executor: a file is read by
:func:`..columnar.reader.read_inputs` from a local copy of the bytes Spark read, and a
group's typed rows are scored by :data:`..columnar.ENGINE` as rows typed already. So no
typing rule, measure, veto or rounding rule is written here. What comes back besides
the typed rows (an input's problems and hashes, a group's scorecards, an error) is a
payload in the meta column (see wire).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ... import rowdigests
from ..._polars import pl
from ...errors import QualiscoreError
from ...i18n import using
from ...model import RecordContract, Scheme
from ...options import RunOptions
from ...records import Dataset, InputFile, Problem
from ...records.inputs import split_sheet
from ...scorecard import Scorecard
from ..columnar import ENGINE as COLUMNAR
from ..columnar.frames import ROW, SRC
from ..columnar.inputs import Inputs
from ..columnar.reader import ColumnarData, read_inputs
from .wire import from_wire, meta_table, to_wire

CARDS_PER_PAYLOAD = 2_000  # scorecards per meta row: a group's payloads stay far below Arrow's 2 GiB per cell


@dataclass(frozen=True, slots=True)
class FileRead:
    """One input as an executor read it: its manifest entry, its rejected rows, its line digests."""

    index: int
    input: InputFile
    problems: tuple[Problem, ...]
    missing_columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class GroupScored:
    """Part of one group's scorecards, or (the last part) its problems and grouping fields."""

    cards: tuple[Scorecard, ...]
    problems: tuple[Problem, ...] = ()
    group_by: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """An error an executor raised, to be raised again on the driver (the first input's first)."""

    order: int
    kind: type[QualiscoreError]
    state: dict[str, Any]

    @classmethod
    def of(cls, order: int, error: QualiscoreError, names: Mapping[str, str]) -> Failed:
        state = dict(error.__dict__)
        location = error.location
        if location is not None and location.file is not None and location.file in names:
            state["location"] = dataclasses.replace(location, file=names[location.file])
        state["message"] = _renamed(error.message, names)
        return cls(order, type(error), state)

    def error(self) -> QualiscoreError:
        error = self.kind.__new__(self.kind)
        Exception.__init__(error, self.state["message"])
        error.__dict__.update(self.state)
        return error


def read_files(items: Sequence[tuple[int, str, bytes | str]], contract: RecordContract, options: RunOptions,
               schema: Mapping[str, pl.DataType]) -> pa.Table:
    """Input files, given as (index, name, its bytes or the local path to read in place), read together: their
    typed rows (``__src`` the index) and a FileRead each, or what refused them."""
    with using(options.language), tempfile.TemporaryDirectory(prefix="qualiscore-spark-") as tmp:
        local: list[str] = []
        for k, (_index, name, content) in enumerate(items):
            real, _sheet = split_sheet(name)
            if isinstance(content, str):
                path = content
            else:  # bytes Spark read: a local copy, keeping the file's name (its suffix says its format)
                folder = os.path.join(tmp, str(k))
                os.mkdir(folder)
                path = os.path.join(folder, os.path.basename(real.rstrip("/")) or "input")
                with open(path, "wb") as out:
                    out.write(content)
            local.append(path + name[len(real):])  # the sheet, if named
        names = {path: item[1] for path, item in zip(local, items)}
        order = min(i for i, _, _ in items)
        try:
            data = read_inputs(Inputs.of(local, options, personal=bool(contract.personal)), contract)
        except QualiscoreError as error:
            return meta_table([Failed.of(order, error, names)], schema)
        reads = []
        for k, (inp, (index, name, _)) in enumerate(zip(data.dataset.inputs, items)):
            digests = rowdigests.compute(local[k], inp.format, inp.sheet)
            entry = dataclasses.replace(inp, path=name, digests=(digests.unit, digests.values.tobytes()))
            problems = tuple(_problem(p, names) for p in data.dataset.problems if p.source == local[k])
            missing = tuple((name, f) for s, f in data.dataset.missing_columns if s == local[k])
            reads.append(FileRead(index, entry, problems, missing))
        indices = {k: index for k, (index, _, _) in enumerate(items)}
        frame = data.frame.with_columns(pl.col(SRC).replace_strict(indices, return_dtype=pl.Int32))
    return pa.concat_tables([to_wire(frame, schema), meta_table(reads, schema)])


def score_group(table: pa.Table, schemes: Sequence[Scheme], options: RunOptions, inputs: tuple[InputFile, ...],
                schema: Mapping[str, pl.DataType]) -> pa.Table:
    """The scorecards and problems of one group's subjects, scored by the columnar engine from their typed rows."""
    frame = from_wire(table, schema).sort([SRC, ROW])
    data = ColumnarData(Dataset((), (), (), inputs), frame, schemes[0].records)
    try:
        with using(options.language):
            run = COLUMNAR.evaluate(schemes, data, dataclasses.replace(options, engine="columnar"))
    except QualiscoreError as error:
        return meta_table([Failed.of(0, error, {})], schema)
    cards = run.scorecards
    parts = [GroupScored(cards[k:k + CARDS_PER_PAYLOAD]) for k in range(0, len(cards), CARDS_PER_PAYLOAD)]
    parts.append(GroupScored((), run.problems, run.group_by))
    return meta_table(parts, schema)


def _problem(problem: Problem, names: Mapping[str, str]) -> Problem:
    return dataclasses.replace(problem, source=names.get(problem.source, problem.source),
                               reason=_renamed(problem.reason, names))


def _renamed(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each local copy's path replaced by the input's name (a duplicate id names the other file)."""
    for path, name in sorted(names.items(), key=lambda item: -len(item[0])):  # a path within another: longer first
        text = text.replace(path, name)
    return text
