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

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from ..model import RecordContract, Scheme
from ..options import RunOptions
from ..records import Dataset, Problem
from ..scorecard import Scorecard

__all__ = ["ArrowStream", "Engine", "Paths", "Progress", "Run", "Source", "source_paths"]


@runtime_checkable
class ArrowStream(Protocol):
    """Arrow data by the Arrow PyCapsule interface."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


Paths: TypeAlias = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Source: TypeAlias = Paths | Dataset | ArrowStream
Progress: TypeAlias = Callable[[int], object]  # told of n more records scored; what it returns is ignored


def source_paths(source: Source) -> tuple[str, ...] | None:
    """The input paths of a source, as given; None when it is a Dataset or Arrow data."""
    if isinstance(source, (str, os.PathLike)):
        return (os.fspath(source),)
    if isinstance(source, (Dataset, ArrowStream)):
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

    def read(self, source: Source, contract: RecordContract, options: RunOptions) -> Dataset:
        """``source`` typed against ``contract`` as this engine reads it: a lookup's other source (see sources)."""
        ...
