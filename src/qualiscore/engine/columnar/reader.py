"""Reading only: input files typed against a record contract, the rows kept as a Polars frame.

The engine reads this way when a scheme cannot be scored (a ``--by`` field the contract
lacks), so that the inputs' own errors come first, as in the reference engine; the tests
compare it with records.read_records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from ...model import RecordContract
from ...options import RunOptions
from ...records import Dataset, Problem
from ..lookups import in_zone
from ..protocol import Taken
from .executor import Executor
from .fallback import Fallback, log_fallback
from .fields import FIELD_KINDS
from .frames import RAGGED, ROW, SRC, STATE, SUS, WEIRD, fold_column, frame_of_records, python_value
from .inputs import Inputs
from .plan import CompiledScheme


@dataclass
class ColumnarData:
    """What :func:`read_columnar` read: the reference Dataset's problems and inputs, and the typed rows.

    ``dataset.records`` is empty: the rows are in ``frame`` (one column per field, plus ``__src``
    (input index), ``__row`` (row number) and, for datetimes, ``__fold__<field>``; datetimes
    are wall-clock times in records.timezone). :meth:`to_dataset` gives the Dataset
    records.read_records would give.
    """

    dataset: Dataset
    frame: pl.DataFrame
    contract: RecordContract

    def records(self, frame: pl.DataFrame | None = None) -> list[dict[str, Any]]:
        """The rows (of ``frame``, a part of this one) as the records package types them."""
        zone = ZoneInfo(self.contract.timezone)
        kinds = {f.name: FIELD_KINDS[f.type] for f in self.contract.fields}
        return [{f.name: python_value(rec, f.name, kinds[f.name], zone) for f in self.contract.fields}
                for rec in (self.frame if frame is None else frame).iter_rows(named=True)]

    def origins(self) -> list[tuple[str, int]]:
        sources = [i.path for i in self.dataset.inputs]
        return [(sources[s], r) for s, r in self.frame.select(SRC, ROW).iter_rows()]

    def to_dataset(self) -> Dataset:
        return dataclasses.replace(self.dataset, records=tuple(self.records()), origins=tuple(self.origins()))

    # -- the rows of a lookup (engine.protocol.Rows): the frame's columns, gathered in Polars

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.dataset.problems

    def values(self, name: str) -> list[Any]:
        field = self.contract.field(name)
        if field.type != "datetime":
            return self.frame.get_column(name).to_list()
        zone = ZoneInfo(self.contract.timezone)
        return [python_value(rec, name, "datetime", zone)
                for rec in self.frame.select(name, fold_column(name)).iter_rows(named=True)]

    def joined(self, contract: RecordContract, keep: Sequence[int], taken: Sequence[Taken],
               problems: Sequence[Problem]) -> ColumnarData:
        frame = self.frame[list(keep)] if len(keep) != self.frame.height else self.frame
        zone = ZoneInfo(contract.timezone)
        for take in taken:
            other, at = take.rows, pl.Series(list(take.positions), dtype=pl.Int64)
            for name in take.fields:
                field = contract.field(name)
                if isinstance(other, ColumnarData) and (field.type != "datetime"
                                                        or other.contract.timezone == contract.timezone):
                    names = [name, fold_column(name)] if field.type == "datetime" else [name]
                    frame = frame.with_columns(other.frame.get_column(c).gather(at) for c in names)
                else:  # another zone's date-times (or rows the reference read): their values, moved to this zone
                    values = other.values(name)
                    column = frame_of_records(RecordContract(contract.id, contract.timezone, (field,)),
                                              [{name: in_zone(values[k], zone)} for k in take.positions],
                                              [(0, 0)] * len(take.positions))
                    frame = frame.with_columns(column.drop(SRC, ROW, SUS, RAGGED, WEIRD).get_columns())
        merged = sorted([*self.dataset.problems, *problems], key=lambda p: (p.source, p.row, p.field or ""))
        return ColumnarData(dataclasses.replace(self.dataset, problems=tuple(merged)), frame, contract)

    def within(self, name: str, first: dt.date, last: dt.date) -> ColumnarData:
        day = pl.col(name).cast(pl.Date)  # a date-time's wall-clock day in the contract's zone
        return dataclasses.replace(self, frame=self.frame.filter(day.is_between(first, last)))

    def records_at(self, origins: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
        """The records at some (input index, row) origins: the rows the reference code decides."""
        wanted = pl.DataFrame({SRC: [o[0] for o in origins], ROW: [o[1] for o in origins]},
                              schema={SRC: self.frame.schema[SRC], ROW: self.frame.schema[ROW]})
        found = wanted.join(self.frame, on=[SRC, ROW], how="left", maintain_order="left")
        return self.records(found)


def read_columnar(paths: Sequence[str | Path] | str | Path, contract: RecordContract, *,
                  encoding: str | None = None, sheet: str | None = None) -> ColumnarData:
    """Read CSV/TSV, JSON Lines, Parquet (and Excel) files and type every row against ``contract``.

    The accepted rows and the problems are those of records.read_records.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    return read_inputs(Inputs.of([str(p) for p in paths], RunOptions(encoding=encoding, sheet=sheet)), contract)


def read_inputs(inputs: Inputs, contract: RecordContract) -> ColumnarData:
    """What a run reads (files or a table in memory), typed against ``contract`` (see read_columnar)."""
    try:
        result = Executor(CompiledScheme(contract), inputs).run()
    except (Fallback, pl.exceptions.PolarsError) as why:
        log_fallback(why)
        ds = inputs.read(contract)
        sources = {i.path: k for k, i in enumerate(ds.inputs)}
        frame = frame_of_records(contract, ds.records, [(sources[s], r) for s, r in ds.origins])
        return ColumnarData(dataclasses.replace(ds, records=(), origins=()), frame.drop(SUS, RAGGED, WEIRD), contract)
    frame = result.frame.filter(pl.col(STATE) == 0).drop(STATE).sort([SRC, ROW])
    return ColumnarData(result.dataset, frame, contract)
