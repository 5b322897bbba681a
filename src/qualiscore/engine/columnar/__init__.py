"""The columnar engine: the reference engine's answers, at the speed of reading the data.

``pip install 'qualiscore[fast]'`` (polars). This package is the only part of the engine that
imports polars (through :mod:`qualiscore._polars`); :mod:`.translate` is its translator of the
expression language.

API: :data:`ENGINE` (:class:`.engine.ColumnarEngine`, named ``columnar``), which implements
:class:`qualiscore.engine.protocol.Engine` and is what ``engine.evaluate`` runs for
``RunOptions(engine="columnar")``: input files, a Dataset or Arrow data in, the same
:class:`~qualiscore.engine.Run` as the reference engine's out. :func:`read_columnar` reads only
(records.read_records' rows and problems, the rows as a Polars frame).

What the engine does its own way is only gathering: reading and typing rows, evaluating
expressions, computing per-subject statistics. What a measure means
(:func:`qualiscore.engine.measures.finish`), subject keys, names and periods
(:mod:`qualiscore.engine.subjects`), which version scores a row
(:mod:`qualiscore.engine.routing`) and the scorecard (:mod:`qualiscore.engine.scoring`) are
the reference engine's own functions.

How a run goes
--------------

1. **One streaming pass** over every input (:meth:`.executor.Executor.run`): CSV files are
   parsed by Polars without quote handling (they have no quote character, so a line is a
   record split on the delimiter, as csv.reader splits it), Parquet files and tables in
   memory (records.arrow) by column; every field
   is typed with vectorised expressions, the derived values and every measure expression
   are computed (:mod:`.translate`), and only a *narrow* frame is kept: row origin, id,
   grouping fields, period day and one column per measure expression. Long texts such as
   transcripts are never materialised. The first rows of each column choose the fastest
   expressions for the shapes they show; other shapes are still typed exactly (step 2).
   A typed column (Parquet, a table in memory) is not parsed: its values are cast, and
   only what its type does not guarantee is checked (NaN, the contract's range and enum,
   instants Python cannot hold); a column that cannot break the contract (Boolean, Date,
   integers within 64 bits) is kept as it is. The same pass (``pl.collect_all`` over the
   same typed frames, so each input is read once) also collects each input's *flagged*
   rows: their flagged cells as read, and their id cell (:func:`.frames.flagged_cells`).

2. **Exact fix-ups** (:mod:`.fixups`). A cell the vectorised parsers are not sure about
   (anything outside the common forms, every value that breaks the contract) and a row whose
   vectorised expression might differ from the row Evaluator (integer overflow, a NaN
   comparison, a rounding tie, an error) is flagged. Each *distinct* flagged cell of a field
   is typed once by the records package's own reader (:meth:`.pyrows.RowTyper.cell_outcomes`:
   the FieldReader and problem_from_error of :mod:`qualiscore.records.engine_api`), and joins
   take its answer (accepted, or the Problem's value, code and reason) to every row holding
   it: a rejected row's problems are worded by the records package itself, with no loop over
   the rows and no second reading of the input. Only rare rows are still read again and
   typed, derived and measured by the reference code one by one: rows whose every flagged
   cell was accepted (a valid but unusual shape), rows whose expressions the Evaluator must
   compute, rows with the wrong cell count, and cells of types Polars cannot group by
   (nested Parquet columns). Duplicate ids reject every occurrence. A CSV whose delimiter
   count shows short rows, or that has blank rows, is read again line by line
   (:func:`.frames.typed_lines`), where every row's cell count is seen.

3. **One group_by** (:mod:`.aggregate`) gathers the statistics of every indicator and veto
   of every subject (:mod:`.measures`), streaming over the narrow frame (rejected rows are
   masked, not filtered into a copy; the ids of veto evidence come from the evidence rows
   alone); then, per subject, measures.finish gives each measure's result and
   scoring.build_scorecards the scorecards. With several versions, :mod:`.routing` first sends
   each row to the version in force on its period start (engine.routing decides, once per
   distinct value).

Memory is bounded by the narrow frame: the main pass never makes Polars read a whole
input first (no ``replace_strict``: constant lookups go by position, :func:`.translate.lookup`).

What the vectorised path does not cover is still answered exactly, more slowly:

* an expression without a vectorised form (float ``//``/``%``, text repetition, a
  per-record ``round`` digit count, …) is evaluated for that one column with the row
  Evaluator (``map_batches``), logged at DEBUG;
* JSON Lines, CSV files with quote characters, lone carriage returns, NUL bytes or cells
  over 128 KB are typed row by row with the records package's readers, then evaluated by
  the same columnar query; so are a Dataset (as it is), Excel workbooks and ``sheet=``
  (read by records.read_records);
* a CSV that is not UTF-8 (GB18030, UTF-16, or ``encoding=``) is transcoded once to a
  temporary UTF-8 file;
* anything the engine cannot vouch for (an expression whose result type is not fixed, a
  measure over text, integers beyond 64 bits, NaN or -0.0 where order matters, an
  overflowing sum, a measure expression that raises, two key values with the same text,
  records in hand not typed as their contract types them, an unexpected Polars error)
  makes the whole run fall back to the reference code, logged at INFO (WARNING for a
  Polars error). The answer is then the reference's by construction.

Modules, in the order of a run
------------------------------

:mod:`.engine` (the protocol's ``evaluate``: versions, fallback), :mod:`.inputs` (what a run
reads; each file's route, codec, header, SHA-256 and samples), :mod:`.fields` (typing a column:
:mod:`.text`, :mod:`.zones`), :mod:`.frames` (a typed frame per input), :mod:`.plan` (a scheme
version compiled), :mod:`.executor` (one run over the inputs), :mod:`.pyrows` and
:mod:`.fixups` (rows decided by the records package and the row Evaluator), :mod:`.routing`
(rows to versions), :mod:`.aggregate` (the group_by and the scorecards), :mod:`.measures`
(statistics gathered for measures.finish), :mod:`.reader` (reading only), :mod:`.fallback`
(the reference answers instead), :mod:`.clock` (phase timings).
"""

from __future__ import annotations

from .clock import LAST_TIMINGS
from .engine import ENGINE, ColumnarEngine
from .reader import ColumnarData, read_columnar

__all__ = ["ENGINE", "LAST_TIMINGS", "ColumnarData", "ColumnarEngine", "read_columnar"]
