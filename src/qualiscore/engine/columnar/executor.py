"""One run over the inputs: the main pass, the row-by-row inputs, then the exact fix-ups.

See "How a run goes" in the package docstring (steps 1 and 2).
"""

from __future__ import annotations

import logging
import warnings

from ..._polars import pl
from ...records.engine_api import scan_text
from .clock import LAST_TIMINGS, Clock
from .fallback import Fallback
from .fields import FieldTyper
from .fixups import ExecutionResult, FixUps
from .frames import (
    RAGGED,
    ROW,
    SRC,
    SUS,
    WEIRD,
    check_frame,
    flagged_cells,
    frame_of_records,
    in_origin_order,
    typed_csv,
    typed_lines,
    typed_parquet,
)
from .inputs import (
    Hasher,
    Input,
    Inputs,
    WholeDataset,
    Workspace,
    parquet_columns,
    prepare_inputs,
    read_csv_header,
    sample_columns,
    sniff_codec,
    transcode,
)
from .plan import CompiledScheme
from .pyrows import PythonRows, RowTyper, read_python
from .zones import Zone

log = logging.getLogger(__name__)


class Executor:
    """One run over the inputs of one contract, for a compiled scheme (or only the typing).

    A Dataset, Excel workbooks and ``sheet=`` are read by ``inputs.read`` (the records
    package) as a whole, then evaluated by the same columnar query; a table in memory is
    read as a Parquet file is.
    """

    def __init__(self, plan: CompiledScheme, inputs: Inputs) -> None:
        self.plan = plan
        self.contract = plan.contract
        self.inputs = inputs
        self.encoding = inputs.encoding
        self.row_typer = RowTyper(self.contract)  # raises bad-timezone first, like read_records
        self.zone = Zone(self.contract.timezone)
        self._typers: dict[int, dict[str, FieldTyper]] = {}
        self.work = Workspace()
        self.fix_ups = FixUps(plan, self.row_typer)
        self.flagged: dict[int, pl.DataFrame] = {}  # input index -> its flagged cells (frames.flagged_cells)

    def run(self) -> ExecutionResult:
        typed = self.inputs.typed
        if typed is not None:  # typed already: only the evaluation is left
            check_frame(self.contract, typed.contract)
            frame = typed.frame.with_columns(pl.lit(0, pl.Int64).alias(SUS), pl.lit(False).alias(RAGGED),
                                             pl.lit(False).alias(WEIRD))
            return self.fix_ups.whole_frame(frame, typed.dataset, typed.records_at)
        try:
            try:
                return self._run(self._inputs())
            except WholeDataset:
                return self.fix_ups.whole_dataset(self.inputs.read(self.contract))
        finally:
            self.work.close()

    def _inputs(self) -> list[Input]:
        """The inputs the columnar reader reads; WholeDataset for what the records package reads whole."""
        if self.inputs.table is not None:
            return [Input.of_table(self.inputs.table)]
        if self.inputs.paths is None or self.inputs.sheet is not None:
            raise WholeDataset()
        return prepare_inputs(self.inputs.paths, self.encoding)

    # -- routes
    def _route(self, inp: Input) -> None:
        if inp.kind == "parquet":
            parquet_columns(inp, self.row_typer.typer)
            inp.route, inp.codec = "parquet", ""
            return
        if inp.kind == "jsonl":
            inp.route = "python"
            return
        sniff_codec(inp, self.encoding, self.work)
        try:
            ok = read_csv_header(inp, self.row_typer.typer)
        except UnicodeDecodeError:
            inp.sha, inp.codec = scan_text(inp.path, inp.source, self.encoding)
            transcode(inp, self.work)
            ok = read_csv_header(inp, self.row_typer.typer)
        inp.route = "csv" if ok else "python"

    def typers(self, inp: Input) -> dict[str, FieldTyper]:
        got = self._typers.get(inp.index)
        if got is None:
            sample = sample_columns(inp)
            got = {f.name: FieldTyper(f, self.zone, f"__t{i}_", sample.get(f.name, ()))
                   for i, f in enumerate(self.contract.fields)}
            self._typers[inp.index] = got
        return got

    def _typed(self, inp: Input) -> pl.LazyFrame:
        if inp.route == "csv":
            return typed_csv(inp, self.contract, self.typers(inp))
        if inp.route == "lines":
            return typed_lines(inp, self.contract, self.typers(inp))
        return typed_parquet(inp, self.contract, self.typers(inp))

    def main_query(self, fast: list[Input]) -> pl.LazyFrame:
        """Typing, derived values and measure expressions of every fast input: one streaming query."""
        return self.main_queries(fast)[0]

    def main_queries(self, fast: list[Input]) -> list[pl.LazyFrame]:
        """The main query, then each input's flagged cells (frames.flagged_cells): queries over the same
        typed frames, collected together in one streaming pass."""
        typed = [self._typed(inp) for inp in fast]
        narrow = self.plan.narrow(pl.concat(typed, how="vertical"))
        id_pos = self.row_typer.id_pos
        return [narrow, *(flagged_cells(t, self.contract, inp, id_pos) for t, inp in zip(typed, fast))]

    def _main_pass(self, fast: list[Input]) -> pl.DataFrame:
        """The narrow frame of ``fast``; each input's flagged cells go to ``self.flagged``."""
        for attempt in range(3):
            queries = self.main_queries(fast)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nf, *cells = pl.collect_all(queries, engine="streaming")
                self.flagged.update({inp.index: c for inp, c in zip(fast, cells)})
                return nf
            except Fallback:
                raise
            except pl.exceptions.SchemaError as exc:
                # The first row of a CSV has fewer cells than the header: read CSV files by lines.
                if not any(inp.route == "csv" for inp in fast):
                    raise Fallback(f"polars could not read the input: {exc}") from exc
                for inp in fast:
                    if inp.route == "csv":
                        inp.route = "lines"
                continue
            except pl.exceptions.ComputeError as exc:
                text = str(exc).lower()
                if "more fields" in text or "ragged" in text:
                    # A row with too many cells: read the CSV files by lines, which sees every cell count.
                    for inp in fast:
                        if inp.route == "csv":
                            inp.route = "lines"
                    continue
                if ("utf8" not in text and "utf-8" not in text) or attempt:
                    raise Fallback(f"polars could not read the input: {exc}") from exc
                # Not UTF-8 after all: scan_text (records.inputs) finds the codec (or raises its error).
                for inp in fast:
                    if inp.route in ("csv", "lines") and inp.read_path == inp.path:
                        inp.sha, inp.codec = scan_text(inp.path, inp.source, self.encoding)
                        if inp.codec not in ("utf-8", "utf-8-sig"):
                            transcode(inp, self.work)
        raise AssertionError("unreachable")

    # -- the run
    def _run(self, inputs: list[Input]) -> ExecutionResult:
        LAST_TIMINGS.clear()
        clock = self.clock = Clock()
        for inp in inputs:
            self._route(inp)
        fast = [i for i in inputs if i.route in ("csv", "lines", "parquet")]
        hasher = Hasher(fast)
        frames = []
        clock.lap("prepare")
        if fast:
            nf = self._main_pass(fast)
            clock.lap("main pass")
            nf = self._verify_csv(nf, fast, hasher)
            clock.lap("csv checks")
            weird = set(nf.filter(pl.col(WEIRD)).get_column(SRC).unique().to_list()) if nf.height else set()
            for inp in fast:
                if inp.index in weird:
                    log.debug("%s: quotes, carriage returns or NUL bytes: typed row by row", inp.source)
                    inp.route = "python"
            if weird:
                nf = nf.filter(~pl.col(SRC).is_in(list(weird)))
            frames.append(nf)
        counts = dict(frames[0].get_column(SRC).value_counts().iter_rows()) if frames else {}
        for inp in inputs:
            if inp.route in ("csv", "lines", "parquet"):
                inp.rows_read = counts.get(inp.index, 0)
        slow = [i for i in inputs if i.route == "python"]
        py: PythonRows | None = None
        if slow:
            py = read_python(slow, self.contract, self.encoding)
            rank = {i.source: i.index for i in slow}
            origins = [(rank[src], row) for src, row in py.collector.origins]
            frame = frame_of_records(self.contract, py.collector.records, origins)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frames.append(self.plan.narrow(frame.lazy()).collect())
        clock.lap("row-by-row inputs")
        hasher.finish(inputs)
        clock.lap("sha256 wait")
        nf = pl.concat(frames, how="vertical") if frames else self.plan.narrow(
            frame_of_records(self.contract, [], []).lazy()).collect()
        if not in_origin_order(nf):
            nf = nf.sort([SRC, ROW])
        flagged = {i.index: self.flagged[i.index] for i in inputs
                   if i.route in ("csv", "lines", "parquet") and i.index in self.flagged}
        result = self.fix_ups.apply(nf, inputs, py, flagged)
        clock.lap("fix-ups")
        return result

    def _verify_csv(self, nf: pl.DataFrame, fast: list[Input], hasher: Hasher) -> pl.DataFrame:
        """Files read by Polars' CSV parser: keep them only if every row provably had all its cells."""
        csv_files = [i for i in fast if i.route == "csv"]
        if not csv_files:
            return nf
        hasher.join()
        counts = {s: (n, b) for s, n, b in nf.filter(pl.col(SRC).is_in([i.index for i in csv_files]))
                  .group_by(SRC).agg(pl.len(), pl.col(RAGGED).sum()).iter_rows()}
        redo: list[Input] = []
        for inp in csv_files:
            delims, quote, lone_cr, nul = hasher.stats.get(inp.index, (0, True, True, True))
            rows, blank = counts.get(inp.index, (0, 0))
            if quote or lone_cr or nul:
                inp.route = "python"
                log.debug("%s: quotes, carriage returns or NUL bytes: typed row by row", inp.source)
            elif blank or delims - inp.header_delims != (inp.ncols - 1) * rows:
                inp.route = "lines"
                log.debug("%s: blank or short rows: read again line by line", inp.source)
            else:
                continue
            redo.append(inp)
        if not redo:
            return nf
        nf = nf.filter(~pl.col(SRC).is_in([i.index for i in redo]))
        again = [i for i in redo if i.route == "lines"]
        if again:
            nf = pl.concat([nf, self._main_pass(again)], how="vertical")
        return nf
