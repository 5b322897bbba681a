"""Reading only: input files typed against a record contract, the rows kept as a Polars frame.

The engine reads this way when a scheme cannot be scored (a ``--by`` field the contract
lacks), so that the inputs' own errors come first, as in the reference engine; the tests
compare it with records.read_records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..._polars import pl
from ...model import RecordContract
from ...options import RunOptions
from ...records import Dataset
from .executor import Executor
from .fallback import Fallback, log_fallback
from .fields import FIELD_KINDS
from .frames import RAGGED, ROW, SRC, STATE, SUS, WEIRD, frame_of_records, python_value
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

    def records(self) -> list[dict[str, Any]]:
        zone = ZoneInfo(self.contract.timezone)
        kinds = {f.name: FIELD_KINDS[f.type] for f in self.contract.fields}
        return [{f.name: python_value(rec, f.name, kinds[f.name], zone) for f in self.contract.fields}
                for rec in self.frame.iter_rows(named=True)]

    def origins(self) -> list[tuple[str, int]]:
        sources = [i.path for i in self.dataset.inputs]
        return [(sources[s], r) for s, r in self.frame.select(SRC, ROW).iter_rows()]

    def to_dataset(self) -> Dataset:
        return dataclasses.replace(self.dataset, records=tuple(self.records()), origins=tuple(self.origins()))


def read_columnar(paths: Sequence[str | Path] | str | Path, contract: RecordContract, *,
                  encoding: str | None = None, sheet: str | None = None) -> ColumnarData:
    """Read CSV/TSV, JSON Lines, Parquet (and Excel) files and type every row against ``contract``.

    The accepted rows and the problems are those of records.read_records.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    inputs = Inputs.of([str(p) for p in paths], RunOptions(encoding=encoding, sheet=sheet))
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
