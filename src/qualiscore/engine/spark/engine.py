"""The Spark engine behind the engine protocol: Spark reads, finds duplicate ids and shuffles; the columnar
engine types and scores.

A run goes in four steps (docs/scale-out.md):

1. **Read.** Spark reads each input file's bytes (``binaryFile``: any file system the
   cluster reads); an executor types it with the columnar reader, computing its SHA-256
   and line digests on the way, and sends back the typed rows and the file's rejected
   rows. (A Dataset or a table in memory is typed on the driver and handed to Spark.)
2. **Duplicate ids across files.** An id is unique within a file once the file is read;
   Spark finds the ids that appear in more than one file (``groupBy``), and the files
   that share one are read again together, so every occurrence is rejected and worded
   exactly as one reader reading all inputs would.
3. **Shuffle and score.** Rows are sent by a hash of their subject key (the grouping
   fields, else the id) to groups; each group is scored by the columnar engine as rows
   typed already (``groupBy(...).applyInArrow``), so each subject's records meet in one
   task and every rule is the columnar engine's.
4. **Assemble.** The driver sorts the scorecards and problems as every engine does and
   returns the Run; the output files are written from it as for any engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from ..._polars import pl
from ...errors import SparkJobError, UsageError
from ...i18n import _
from ...model import RecordContract, Scheme
from ...options import RunOptions
from ...records import Dataset, InputFile, Problem
from ...records.engine_api import UNFORESEEN_ERRORS, RejectedValue, Typer
from ..columnar import ENGINE as COLUMNAR
from ..columnar.fallback import Fallback
from ..columnar.frames import RAGGED, ROW, SRC, SUS, WEIRD, check_typed, frame_of_records
from ..columnar.inputs import Inputs
from ..columnar.reader import ColumnarData, read_inputs
from ..lookups import DatasetRows
from ..protocol import ArrowStream, Progress, Rows, Run, Source, source_paths
from ..routing import versions_to_use
from ..subjects import group_fields, subject_order
from .files import Listed, expand, local_path
from .session import session
from .tasks import Failed, FileRead, GroupScored, read_files, score_group
from .wire import META, payloads, spark_schema, to_wire

MAX_READ_TASKS = 10_000  # local files are read one per task, up to this many tasks
ROWS_PER_GROUP = 1_000_000  # about this many rows per scoring task, and at least one task per core
# Wall-clock seconds of each step of the last run on this driver, and its counts (the benchmark reads them).
LAST_TIMINGS: dict[str, float] = {}


class SparkEngine:
    """Spark for reading and shuffling, the columnar engine for everything a rule decides."""

    name = "spark"

    def evaluate(self, schemes: Sequence[Scheme], source: Source, options: RunOptions, *,
                 progress: Progress | None = None) -> Run:
        with _spark_errors():
            return self._evaluate(schemes, source, options, progress)

    def _evaluate(self, schemes: Sequence[Scheme], source: Source, options: RunOptions,
                  progress: Progress | None) -> Run:
        paths = source_paths(source)
        if paths is not None:
            return self._score_files(schemes, expand(session(options.spark_master), paths), options, progress)
        ordered, contract = _versions(schemes, options)
        typed = _typed_here(source, contract, options)
        if isinstance(typed, ColumnarData):
            job = _Job(session(options.spark_master), ordered, contract, options)
            run = job.score(*job.given(typed))
        else:  # records in hand a frame cannot hold: the columnar engine answers them (its fallback, the reference)
            run = COLUMNAR.evaluate(ordered, typed, options)
        return self._finish(run, options, progress)

    def score_files(self, schemes: Sequence[Scheme], listed: Sequence[Listed], options: RunOptions, *,
                    progress: Progress | None = None) -> Run:
        """Input files listed already (files.expand), each named as ``Listed.name``."""
        with _spark_errors():
            return self._score_files(schemes, listed, options, progress)

    def _score_files(self, schemes: Sequence[Scheme], listed: Sequence[Listed], options: RunOptions,
                     progress: Progress | None) -> Run:
        ordered, contract = _versions(schemes, options)
        job = _Job(session(options.spark_master), ordered, contract, options)
        LAST_TIMINGS.clear()
        start = time.perf_counter()
        rows, reads = job.read(list(listed))
        LAST_TIMINGS["read"] = time.perf_counter() - start
        run = job.score(rows, reads)
        LAST_TIMINGS["score"] = time.perf_counter() - start - LAST_TIMINGS["read"]
        LAST_TIMINGS["files"] = len(listed)
        return self._finish(run, options, progress)

    def _finish(self, run: Run, options: RunOptions, progress: Progress | None) -> Run:
        if progress is not None:
            for card in run.scorecards:
                progress(card.records)
        return dataclasses.replace(run, options=options.manifest_dict(self.name))

    def read(self, source: Source, contract: RecordContract, options: RunOptions) -> Rows:
        """The rows a lookup joins: read on the driver, as the columnar engine reads them."""
        return COLUMNAR.read(source, contract, options)


ENGINE = SparkEngine()


def _versions(schemes: Sequence[Scheme], options: RunOptions) -> tuple[tuple[Scheme, ...], RecordContract]:
    """The versions to use, which must share one record contract, and that contract."""
    ordered = tuple(versions_to_use(schemes, options.as_of))
    contract = ordered[0].records
    other = next((s for s in ordered[1:] if s.records != contract), None)
    if other is not None:
        raise UsageError(_("versions {first} and {other} read different record contracts (records:), which the "
                           "spark engine cannot route between", first=ordered[0].version, other=other.version),
                         hint=_("score each version's period with --as-of, or use --engine columnar"))
    return ordered, contract


def _typed_here(source: Source, contract: RecordContract, options: RunOptions) -> ColumnarData | Dataset:
    """A source in the driver's memory as a typed frame (or, when a frame cannot hold it, the Dataset)."""
    if isinstance(source, ColumnarData):
        return source
    if isinstance(source, DatasetRows):
        source = source.dataset
    if isinstance(source, Dataset):
        index = {i.path: k for k, i in enumerate(source.inputs)}
        try:
            check_typed(contract, source.records)
            frame = frame_of_records(contract, source.records, [(index[s], r) for s, r in source.origins])
        except Fallback:
            return source
        return ColumnarData(dataclasses.replace(source, records=(), origins=()),
                            frame.drop(SUS, RAGGED, WEIRD), contract)
    if isinstance(source, (ArrowStream, Rows)):
        return read_inputs(Inputs.of(source, options, personal=bool(contract.personal)), contract)
    raise TypeError(f"not a source: {type(source).__name__}")


class _Job:
    """One Spark run of one scheme's versions (which share one record contract)."""

    read_in_place = True  # local files read by the executors where they are (False: their bytes through Spark)

    def __init__(self, spark: Any, ordered: Sequence[Scheme], contract: RecordContract, options: RunOptions) -> None:
        self.spark = spark
        self.ordered = tuple(ordered)
        self.contract = contract
        self.options = options
        self.schema = dict(frame_of_records(contract, [], []).drop(SUS, RAGGED, WEIRD).schema)

    # -- 1. read
    def read(self, listed: list[Listed]) -> tuple[Any, list[FileRead]]:
        rows, reads = self._read(listed, None)
        shared = self._components(rows, reads)
        if shared:
            again, reread = self._read(listed, shared)
            redone = sorted(i for group in shared for i in group)
            from pyspark.sql import functions as F

            rows = rows.filter(~F.col(SRC).isin(redone)).unionByName(again)
            by_index = {r.index: r for r in reads} | {r.index: r for r in reread}
            reads = [by_index[i] for i in sorted(by_index)]
        return rows, reads

    def _read(self, listed: list[Listed], groups: list[list[int]] | None) -> tuple[Any, list[FileRead]]:
        """Typed rows of the files (each alone, or ``groups`` of files together) and what each read says."""
        from pyspark.sql import functions as F

        contract, options, schema = self.contract, self.options, self.schema
        wanted = [listed[i] for g in groups for i in g] if groups is not None else listed
        index = {_key(item.uri): k for k, item in enumerate(listed)}
        names = [item.name for item in listed]
        files = self._files(wanted)
        out_schema = spark_schema(schema)

        def source(uri: str, content: bytes | None) -> bytes | str:
            """A file's bytes as Spark read them, or the local path an executor reads in place."""
            return content if content is not None else local_path(uri) or ""

        if groups is None:
            def each(batches: Any) -> Any:
                for batch in batches:
                    for uri, content in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                        k = index[_key(uri)]
                        yield from read_files([(k, names[k], source(uri, content))], contract, options,
                                              schema).to_batches()

            rows = files.mapInArrow(each, out_schema)
        else:
            group_of = {i: g for g, members in enumerate(groups) for i in members}
            tag = F.udf(lambda uri: group_of[index[_key(uri)]], "int")

            def together(table: pa.Table) -> pa.Table:
                found = sorted((index[_key(u)], source(u, c)) for u, c in zip(table.column("path").to_pylist(),
                                                                              table.column("content").to_pylist()))
                return read_files([(k, names[k], c) for k, c in found], contract, options, schema)

            rows = files.withColumn("__group", tag("path")).groupBy("__group").applyInArrow(together, out_schema)
        rows = rows.persist()
        sent = payloads(r[0] for r in rows.filter(F.col(META).isNotNull()).select(META).collect())
        seen = {p.index for p in sent if isinstance(p, FileRead)} | {p.order for p in sent if isinstance(p, Failed)}
        for item in wanted if groups is None else []:
            k = index[_key(item.uri)]
            if k not in seen:  # Spark plans no task for an empty file: read it here
                sent.extend(payloads(read_files([(k, names[k], b"")], contract, options, schema).column(META)
                                     .to_pylist()))
        _raise_first(sent)
        reads = sorted((p for p in sent if isinstance(p, FileRead)), key=lambda r: r.index)
        return rows.filter(F.col(META).isNull()).drop(META), reads

    def _files(self, wanted: list[Listed]) -> Any:
        """One row per file, ``path`` and ``content``: Spark reads the bytes of a URI's files (binaryFile: any file
        system the cluster reads); a local file's content is left null, for the executor to read in place, so a
        file of any size is read without a copy (local mode, or a directory every executor mounts)."""
        in_place = [self.read_in_place and local_path(item.uri) is not None for item in wanted]
        local = [item.uri for item, here in zip(wanted, in_place) if here]
        remote = [item.uri for item, here in zip(wanted, in_place) if not here]
        parts = []
        if local:
            rdd = self.spark.sparkContext.parallelize([(uri, None) for uri in local], min(len(local), MAX_READ_TASKS))
            parts.append(self.spark.createDataFrame(rdd, "path string, content binary"))
        if remote:
            parts.append(self.spark.read.format("binaryFile").load(remote).select("path", "content"))
        return parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])

    # -- 2. duplicate ids across files
    def _components(self, rows: Any, reads: list[FileRead]) -> list[list[int]]:
        """Files that share an id (directly or through others), each group with more than one file."""
        id_name = self.contract.id
        if len(reads) < 2 or id_name not in self.schema:
            return []
        from pyspark.sql import functions as F

        ids = rows.select(id_name, SRC)
        hints = self._rejected_ids(reads)
        if hints.height:
            ids = ids.unionByName(self.spark.createDataFrame(to_wire(hints, self.schema).select([id_name, SRC])))
        shared = (ids.filter(F.col(id_name).isNotNull()).groupBy(id_name).agg(F.collect_set(SRC).alias("files"))
                  .filter(F.size("files") > 1).select("files").collect())
        parent = {i: i for r in shared for i in r.files}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for r in shared:
            first, *rest = r.files
            for i in rest:
                parent[find(i)] = find(first)
        groups: dict[int, list[int]] = {}
        for i in parent:
            groups.setdefault(find(i), []).append(i)
        return sorted(sorted(g) for g in groups.values())

    def _rejected_ids(self, reads: list[FileRead]) -> pl.DataFrame:
        """The typed ids of rejected rows (which take part in the duplicate check), from their problems."""
        reader = Typer(self.contract).id_reader
        seen: dict[tuple[int, int], Any] = {}
        for read in reads:
            for p in read.problems:
                if reader is None or p.record_id is None or (read.index, p.row) in seen:
                    continue
                try:
                    value = reader.text(p.record_id)
                except (RejectedValue, *UNFORESEEN_ERRORS):
                    continue
                if not (isinstance(value, int) and not -(2**63) <= value < 2**63):  # what a typed frame holds
                    seen[(read.index, p.row)] = value
        records = [{self.contract.id: v} for v in seen.values()]
        frame = frame_of_records(self.contract, records, list(seen))
        return frame.select(pl.col(c) for c in self.schema)

    def given(self, data: ColumnarData) -> tuple[Any, list[FileRead]]:
        """Rows typed on the driver (a Dataset, a table in memory), handed to Spark."""
        rows = self.spark.createDataFrame(to_wire(data.frame, self.schema).drop([META]))
        ds = data.dataset
        reads = [FileRead(k, i, tuple(p for p in ds.problems if p.source == i.path),
                          tuple(m for m in ds.missing_columns if m[0] == i.path)) for k, i in enumerate(ds.inputs)]
        return rows, reads

    # -- 3. shuffle and score; 4. assemble
    def score(self, rows: Any, reads: list[FileRead]) -> Run:
        from pyspark.sql import functions as F

        ordered, options, schema = self.ordered, self.options, self.schema
        inputs = tuple(dataclasses.replace(r.input, digests=None) for r in reads)
        read_problems = [p for r in reads for p in r.problems]
        total = sum(i.rows_read for i in inputs)
        sent: list[Any] = []
        if total - len({(p.source, p.row) for p in read_problems}):
            keys = list(group_fields(ordered[-1], options.by)) or [self.contract.id]
            keys = [k for k in keys if k in schema] or [SRC, ROW]
            groups = max(self.spark.sparkContext.defaultParallelism, math.ceil(total / ROWS_PER_GROUP))
            LAST_TIMINGS["groups"] = groups
            bucket = F.pmod(F.xxhash64(*keys), F.lit(groups)).alias("__group")

            def each(table: pa.Table) -> pa.Table:
                return score_group(table.drop(["__group"]), ordered, options, inputs, schema)

            scored = (rows.withColumn(META, F.lit(None).cast("binary")).select(*schema, META, bucket)
                      .groupBy("__group").applyInArrow(each, spark_schema(schema)))
            before = self.spark.conf.get("spark.sql.shuffle.partitions")
            self.spark.conf.set("spark.sql.shuffle.partitions", str(groups))  # one shuffle partition per group
            try:
                sent = payloads(r[0] for r in scored.select(META).collect())
            finally:
                self.spark.conf.set("spark.sql.shuffle.partitions", before)
            _raise_first(sent)
            rows.unpersist()
        else:  # nothing to score: what the columnar engine makes of no rows (or the error it raises)
            sent = [self._nothing(inputs)]
        parts = [p for p in sent if isinstance(p, GroupScored)]
        cards = sorted((c for p in parts for c in p.cards), key=lambda c: subject_order(c.keys, c.period))
        used = {c.scheme_version for c in cards}
        fields = next((p.group_by for p in parts if p.group_by is not None), None)
        problems = sorted([*read_problems, *(q for p in parts for q in p.problems)],
                          key=lambda p: (p.source, p.row, p.field or ""))
        missing = tuple(m for r in reads for m in r.missing_columns)
        dataset = Dataset((), (), tuple(read_problems), tuple(r.input for r in reads), missing)
        versions = tuple(s for s in ordered if s.version in used) or (ordered[-1],)
        return Run(versions, tuple(cards), tuple(_unique(problems)), dataset,
                   fields if fields is not None else group_fields(ordered[-1], options.by), {})

    def _nothing(self, inputs: tuple[InputFile, ...]) -> GroupScored:
        empty = ColumnarData(Dataset((), (), (), inputs), pl.DataFrame(schema=self.schema), self.contract)
        run = COLUMNAR.evaluate(self.ordered, empty, dataclasses.replace(self.options, engine="columnar"))
        return GroupScored(run.scorecards, run.problems, run.group_by)


@contextlib.contextmanager
def _spark_errors() -> Iterator[None]:
    """A failure of Spark itself (an executor out of memory or lost, a file it cannot read) as SparkJobError."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        text = str(exc).strip()
        first = next((line.strip() for line in text.splitlines() if "Error" in line or "Exception" in line),
                     text.splitlines()[0] if text else type(exc).__name__)
        raise SparkJobError(_("the Spark job failed: {error}", error=first[:500]), hint=_(
            "an executor short of memory is the usual cause: give executors more (spark.executor.memory and "
            "spark.executor.memoryOverhead; in local mode SPARK_DRIVER_MEMORY), or split large input files "
            "(docs/scale-out.md); Spark's own log has the whole error")) from None


def _key(uri: str) -> str:
    """A file as Spark names it and as it was listed, compared (``file:/a`` and ``file:///a`` alike)."""
    path = local_path(uri)
    return path if path is not None else uri


def _raise_first(sent: list[Any]) -> None:
    failed = sorted((p for p in sent if isinstance(p, Failed)), key=lambda f: f.order)
    if failed:
        raise failed[0].error()


def _unique(problems: list[Problem]) -> list[Problem]:
    """Problems once each (a row's reading problem may come back from its group too)."""
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
