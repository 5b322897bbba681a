"""The columnar engine behind the engine protocol: input files, a Dataset or Arrow data in, a Run out.

Input files and tables in memory (Arrow data, read as a Parquet file is) are read by the
columnar reader; a Dataset goes as it is to the same columnar query.
What the engine cannot vouch for is answered by the reference code (see .fallback).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..._polars import pl
from ...errors import UsageError
from ...model import RecordContract, Scheme
from ...options import RunOptions
from ...records import Dataset
from .. import routing, rows
from ..protocol import Progress, Rows, Run, Source
from .aggregate import score
from .executor import Executor
from .fallback import Fallback, log_fallback
from .inputs import Inputs
from .plan import CompiledScheme
from .reader import read_columnar, read_inputs
from .routing import score_versions

__all__ = ["ENGINE", "ColumnarEngine"]


class ColumnarEngine:
    """The Polars engine: the reference engine's Run, at the speed of reading the data.

    ``progress`` is told of each scorecard's records once all are built (the reference code
    tells it as it goes, when it answers instead). ``Run.dataset.records`` is empty, unless
    the source is a Dataset scored with one version: then it is that Dataset, as the
    reference engine gives it.
    """

    name = "columnar"

    def evaluate(self, schemes: Sequence[Scheme], source: Source, options: RunOptions, *,
                 progress: Progress | None = None) -> Run:
        ordered = routing.versions_to_use(schemes, options.as_of)
        inputs = Inputs.of(source, options, personal=any(s.records.personal for s in ordered))
        try:
            run = _score_one(ordered[0], inputs, options.by) if len(ordered) == 1 else \
                score_versions(ordered, inputs, options.by)
        except (Fallback, pl.exceptions.PolarsError) as why:
            log_fallback(why)
            run = rows.score_versions(ordered, inputs.read, by=options.by, progress=progress)
        else:
            for card in run.scorecards:
                if progress is not None:
                    progress(card.records)
        if isinstance(source, Dataset) and len(ordered) == 1:
            run = dataclasses.replace(run, dataset=source)
        return dataclasses.replace(run, options=options.manifest_dict(self.name))

    def read(self, source: Source, contract: RecordContract, options: RunOptions) -> Rows:
        """Files and tables in memory as a typed frame (the rows a lookup joins in Polars); records in hand
        as the reference engine holds them."""
        if isinstance(source, Rows):
            return source
        if isinstance(source, Dataset):
            return rows.ENGINE.read(source, contract, options)
        return read_inputs(Inputs.of(source, options, personal=bool(contract.personal)), contract)


ENGINE = ColumnarEngine()


def _score_one(scheme: Scheme, inputs: Inputs, by: Sequence[str] | None) -> Run:
    """Every subject of the inputs, scored with one scheme version."""
    try:
        plan = CompiledScheme(scheme.records, scheme, by)
    except UsageError:
        # The reference reads the inputs first: their errors come first.
        if inputs.paths is None:
            inputs.read(scheme.records)
        else:
            read_columnar(inputs.paths, scheme.records, encoding=inputs.encoding, sheet=inputs.sheet)
        raise
    result = Executor(plan, inputs).run()
    cards = score(plan, result)
    problems = sorted([*result.dataset.problems, *result.run_problems], key=lambda p: (p.source, p.row, p.field or ""))
    return Run((scheme,), tuple(cards), tuple(problems), result.dataset, plan.fields, {})
