"""The columnar engine: the reference engine's answers, at the speed of reading the data.

``pip install 'qualiscore[fast]'`` (polars). This package is the only part of the engine that
imports polars (through :mod:`qualiscore._polars`); :mod:`.translate` is its translator of the
expression language.

API: :func:`read_columnar` (records.read_records' rows and problems, as a Polars frame),
:func:`evaluate` and :func:`evaluate_versions` (the same :class:`~qualiscore.engine.Run`
as the reference engine's, from file paths; ``run.dataset.records`` is empty).

How a run goes
--------------

1. **One streaming pass** over every input (:meth:`.executor.Executor.run`): CSV files are
   parsed by Polars without quote handling (they have no quote character, so a line is a
   record split on the delimiter, as csv.reader splits it), Parquet by column; every field
   is typed with vectorised expressions, the derived values and every measure expression
   are computed (:mod:`.translate`), and only a *narrow* frame is kept: row origin, id,
   grouping fields, period day and one column per measure expression. Long texts such as
   transcripts are never materialised. The first rows of each column choose the fastest
   expressions for the shapes they show; other shapes are still typed exactly (step 2).

2. **Exact fix-ups** (:mod:`.fixups`). A cell the vectorised parsers are not sure about
   (anything outside the common forms, every value that breaks the contract) and a row whose
   vectorised expression might differ from the row Evaluator (integer overflow, a NaN
   comparison, a rounding tie, an error) is flagged. Only those rows are read again and
   typed, derived and measured by the reference code (records.py's field readers, the row
   Evaluator), which decides their problems and values. Duplicate ids reject every
   occurrence. A CSV whose delimiter count shows short rows, or that has blank rows, is read
   again line by line (:func:`.frames.typed_lines`), where every row's cell count is seen.

3. **One group_by** (:mod:`.aggregate`) computes every indicator and veto of every subject,
   streaming over the narrow frame (rejected rows are masked, not filtered into a copy; the
   ids of veto evidence come from the evidence rows alone); then, per subject,
   :func:`~qualiscore.engine.scoring.build_scorecard` (shared with the reference engine)
   turns the MeasureResults into the scorecard.

Memory is bounded by the narrow frame: the main pass never makes Polars read a whole
input first (no ``replace_strict``: constant lookups go by position, :func:`.translate.lookup`).

What the vectorised path does not cover is still answered exactly, more slowly:

* an expression without a vectorised form (float ``//``/``%``, text repetition, a
  per-record ``round`` digit count, …) is evaluated for that one column with the row
  Evaluator (``map_batches``), logged at DEBUG;
* JSON Lines, CSV files with quote characters, lone carriage returns, NUL bytes or cells
  over 128 KB are typed row by row with records.py's readers, then evaluated by the same
  columnar query; Excel workbooks (and ``sheet=``) are read by records.read_records;
* a CSV that is not UTF-8 (GB18030, UTF-16, or ``encoding=``) is transcoded once to a
  temporary UTF-8 file;
* anything the engine cannot vouch for (an expression whose result type is not fixed, a
  measure over text, integers beyond 64 bits, NaN or -0.0 where order matters, an
  overflowing sum, a measure expression that raises, an unexpected Polars error) makes the
  whole run fall back to the reference code, logged at INFO (WARNING for a Polars error).
  The answer is then the reference's by construction.

Modules, in the order of a run
------------------------------

:mod:`.inputs` (the files: routes, codecs, headers, SHA-256, samples), :mod:`.fields` (typing a
column: :mod:`.text`, :mod:`.zones`), :mod:`.frames` (a typed frame per input), :mod:`.plan` (a
scheme version compiled), :mod:`.executor` (one run over the inputs), :mod:`.pyrows` and
:mod:`.fixups` (rows decided by records.py and the row Evaluator), :mod:`.aggregate` (the
group_by and the scorecards), :mod:`.versions` (routing rows to versions), :mod:`.fallback`
(the reference answers instead), :mod:`.clock` (phase timings).
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
from ...errors import UsageError
from ...model import RecordContract, Scheme
from ...records import Dataset
from .. import Run, version_in_force
from .. import evaluate_versions as reference_evaluate_versions
from .aggregate import score
from .clock import LAST_TIMINGS
from .executor import Executor
from .fallback import Fallback, log_fallback, reference_dataset, reference_run
from .fields import FIELD_KINDS
from .frames import RAGGED, ROW, SRC, STATE, SUS, WEIRD, frame_of_records, python_value
from .plan import CompiledScheme
from .versions import run_options, score_versions

__all__ = ["LAST_TIMINGS", "ColumnarData", "Fallback", "evaluate", "evaluate_versions", "read_columnar"]


@dataclass
class ColumnarData:
    """What :func:`read_columnar` read: the reference Dataset's problems and inputs, and the typed rows.

    ``dataset.records`` is empty: the rows are in ``frame`` (one column per field, plus ``__src``
    (input index), ``__row`` (row number) and, for datetime fields, ``__fold__<field>``;
    datetimes are wall-clock times in records.timezone). :meth:`to_dataset` gives the
    Dataset records.read_records would give.
    """

    dataset: Dataset
    frame: pl.DataFrame
    contract: RecordContract

    def records(self) -> list[dict[str, Any]]:
        zone = ZoneInfo(self.contract.timezone)
        kinds = {f.name: FIELD_KINDS[f.type] for f in self.contract.fields}
        out = []
        for rec in self.frame.iter_rows(named=True):
            out.append({f.name: python_value(rec, f.name, kinds[f.name], zone) for f in self.contract.fields})
        return out

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
    plan = CompiledScheme(contract)
    try:
        result = Executor(plan, paths, encoding, sheet).run()
    except (Fallback, pl.exceptions.PolarsError) as why:
        log_fallback(why)
        ds = reference_dataset(paths, contract, encoding, sheet)
        return ColumnarData(dataclasses.replace(ds, records=(), origins=()), _frame_from_dataset(ds, contract),
                            contract)
    frame = result.frame.filter(pl.col(STATE) == 0).drop(STATE).sort([SRC, ROW])
    return ColumnarData(result.dataset, frame, contract)


def _frame_from_dataset(ds: Dataset, contract: RecordContract) -> pl.DataFrame:
    sources = {i.path: k for k, i in enumerate(ds.inputs)}
    return frame_of_records(contract, ds.records, [(sources[s], r) for s, r in ds.origins]).drop(
        SUS, RAGGED, WEIRD)


def evaluate(scheme: Scheme, paths: Sequence[str | Path] | str | Path, *, encoding: str | None = None,
             by: Sequence[str] | None = None, sheet: str | None = None) -> Run:
    """Score every subject of the input files with one scheme version.

    The same Run as ``engine.evaluate(scheme, records.read_records(paths, scheme.records, ...), by=by)``,
    except that ``run.dataset.records`` is empty.
    """
    try:
        plan = CompiledScheme(scheme.records, scheme, by)
    except UsageError:
        # The reference reads the inputs first: their errors come first.
        read_columnar(paths, scheme.records, encoding=encoding, sheet=sheet)
        raise
    except Fallback as why:
        return reference_run(scheme, paths, encoding, by, why, sheet)
    try:
        result = Executor(plan, paths, encoding, sheet).run()
        cards = score(plan, result)
    except (Fallback, pl.exceptions.PolarsError) as why:
        return reference_run(scheme, paths, encoding, by, why, sheet)
    problems = sorted([*result.dataset.problems, *result.run_problems], key=lambda p: (p.source, p.row, p.field or ""))
    return Run((scheme,), tuple(cards), tuple(problems), result.dataset, plan.fields, run_options(by))


def evaluate_versions(schemes: Sequence[Scheme], paths: Sequence[str | Path] | str | Path, *,
                      encoding: str | None = None, by: Sequence[str] | None = None,
                      as_of: dt.date | None = None, sheet: str | None = None) -> Run:
    """engine.evaluate_versions, columnar: each subject period is scored by the version in force at its start."""
    ordered = sorted(schemes, key=lambda s: s.effective_from)
    if as_of is not None:
        chosen = version_in_force(ordered, as_of)
        run = evaluate(chosen, paths, encoding=encoding, by=by, sheet=sheet)
        return dataclasses.replace(run, options={**run.options, "as_of": as_of.isoformat()})
    if len(ordered) == 1:
        return evaluate(ordered[0], paths, encoding=encoding, by=by, sheet=sheet)
    if any(s.subject.period is None for s in ordered):
        raise UsageError("these versions have no subject.period, so records cannot be routed by date",
                         hint="give one version file, or choose one with --as-of YYYY-MM-DD")
    try:
        return score_versions(ordered, paths, encoding, by, sheet)
    except (Fallback, pl.exceptions.PolarsError) as why:
        log_fallback(why)
        return reference_evaluate_versions(ordered, lambda c: reference_dataset(paths, c, encoding, sheet),
                                           by=by)
