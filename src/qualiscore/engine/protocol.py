"""What every engine implements: scheme versions and a source in, a Run out.

An engine is anything with a ``name`` and an ``evaluate(schemes, source, options)``
method. A source is one of three things:

* input file paths (CSV/TSV, JSON Lines, Excel, Parquet), read with the options'
  encoding and sheet;
* a :class:`~qualiscore.records.Dataset`, records already typed against a contract;
* Arrow data: anything with ``__arrow_c_stream__`` (a pyarrow Table or
  RecordBatchReader, a Polars DataFrame), as a distributed engine hands each
  partition over: a table in memory, which every engine reads as a Parquet file
  (records.arrow), inside the call, so importing an engine never imports Polars.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from ..model import RecordContract, Scheme
from ..options import RunOptions
from ..records import Dataset, Problem
from ..scorecard import Scorecard

__all__ = ["ArrowStream", "Engine", "Paths", "Progress", "Rows", "Run", "Source", "Taken", "source_paths"]


@runtime_checkable
class ArrowStream(Protocol):
    """Arrow data by the Arrow PyCapsule interface."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


@runtime_checkable
class Rows(Protocol):
    """A record source's typed rows as an engine holds them (see lookups): what a lookup reads and joins.

    The engine that read them (``Engine.read``) also scores them (``Engine.evaluate``).
    """

    @property
    def problems(self) -> tuple[Problem, ...]:
        """The rejected rows' problems."""
        ...

    def values(self, name: str) -> Sequence[Any]:
        """A field's typed values, one per accepted row, in row order (as the records package types them)."""
        ...

    def origins(self) -> Sequence[tuple[str, int]]:
        """Each accepted row's (input, row)."""
        ...

    def to_dataset(self) -> Dataset:
        """The rows as the records package gives them: typed records, their origins, problems and inputs."""
        ...

    def within(self, name: str, first: dt.date, last: dt.date) -> Rows:
        """The rows whose date (or date-time's day, in the contract's zone) ``name`` is from ``first`` to ``last``;
        the problems and inputs of all the rows read."""
        ...

    def joined(self, contract: RecordContract, keep: Sequence[int], taken: Sequence[Taken],
               problems: Sequence[Problem]) -> Rows:
        """The rows at ``keep``, with the fields ``taken`` from other rows, typed against ``contract`` (date-times
        in its zone), and ``problems`` added for the rows left out."""
        ...


@dataclass(frozen=True, slots=True)
class Taken:
    """Fields a lookup takes from another source's rows: for each kept row, the other row at ``positions``."""

    rows: Rows
    positions: Sequence[int]
    fields: tuple[str, ...]


Paths: TypeAlias = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Source: TypeAlias = Paths | Dataset | ArrowStream | Rows
Progress: TypeAlias = Callable[[int], object]  # told of n more records scored; what it returns is ignored


def source_paths(source: Source) -> tuple[str, ...] | None:
    """The input paths of a source, as given; None when it is a Dataset, Arrow data or an engine's rows."""
    if isinstance(source, (str, os.PathLike)):
        return (os.fspath(source),)
    if isinstance(source, (Dataset, ArrowStream, Rows)):
        return None
    return tuple(os.fspath(p) for p in source)


@dataclass(frozen=True, slots=True)
class Run:
    """The result of one evaluation, with everything the manifest records."""

    schemes: tuple[Scheme, ...]
    scorecards: tuple[Scorecard, ...]
    problems: tuple[Problem, ...]
    dataset: Dataset
    group_by: tuple[str, ...]
    options: dict[str, Any]

    @property
    def rows_read(self) -> int:
        return self.dataset.rows_read

    @property
    def rows_rejected(self) -> int:
        return len({(p.source, p.row) for p in self.problems})

    @property
    def rows_scored(self) -> int:
        return self.rows_read - self.rows_rejected

    def by_source(self) -> dict[str, tuple[int, int, int]]:
        """Rows read, scored and rejected for each record source of a scheme with several (else empty)."""
        rejected = {(p.source, p.row) for p in self.problems}
        out = {}
        for name in (s.name for s in self.schemes[0].sources):
            paths = {i.path for i in self.dataset.inputs if i.source == name}
            read = sum(i.rows_read for i in self.dataset.inputs if i.source == name)
            refused = sum(1 for source, _ in rejected if source in paths)
            out[name] = (read, read - refused, refused)
        return out


class Engine(Protocol):
    """An evaluation engine; every engine gives the same Run for the same schemes, source and options."""

    @property
    def name(self) -> str:
        """What the manifest records as the engine that ran ("rows", "columnar", ...)."""
        ...

    def evaluate(self, schemes: Sequence[Scheme], source: Source, options: RunOptions, *,
                 progress: Progress | None = None) -> Run:
        """Score ``source`` with the versions of one scheme (see routing); Run.options is
        ``options.manifest_dict(name)``."""
        ...

    def read(self, source: Source, contract: RecordContract, options: RunOptions) -> Rows:
        """``source`` typed against ``contract`` as this engine holds typed rows: what a lookup joins (see lookups),
        then scores."""
        ...
