"""The exact fix-ups: the rows the vectorised pass flags, decided by the reference code.

A flagged row is read again and typed by the records package's readers (:mod:`.pyrows`); an accepted
one is derived and measured by the row Evaluator. Duplicate ids reject every occurrence;
a record without a period day is rejected. See "How a run goes" (step 2) in the package
docstring.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from ..._polars import pl
from ...errors import ExpressionError
from ...expressions import Evaluator
from ...records import MAX_VALUE_CHARS, Dataset, InputFile, Problem
from ...records.engine_api import MISSING, clip_value, duplicate_id_reason
from ..subjects import as_date, id_text, no_period_problem
from .fallback import Fallback
from .fields import FIELD_KINDS
from .frames import (
    DFAIL,
    PDATE,
    RAGGED,
    RAW_ID,
    ROW,
    SRC,
    STATE,
    SUS,
    WEIRD,
    check_typed,
    fold_column,
    frame_of_records,
    python_value,
    raw_column,
)
from .inputs import Input
from .plan import CompiledScheme, from_python
from .pyrows import CellOutcomes, PythonRows, RowTyper
from .translate import NOT_CONSTANT


@dataclass
class ExecutionResult:
    frame: pl.DataFrame  # every row read: origin, kept fields, period day, measure columns, STATE
    dataset: Dataset  # records=(); problems, inputs and missing columns as records.read_records gives them
    run_problems: list[Problem]  # evaluation errors of derived values, records without a period
    measure_errors: list[tuple[int, int, str]]  # (src, row, measure column) where the Evaluator raised
    inputs: list[Input]


def _is_in(col: str, values: Sequence[int]) -> pl.Expr:
    return pl.col(col).cast(pl.Int64).is_in(pl.lit(pl.Series(list(values), dtype=pl.Int64)).implode())


def _patch(frame: pl.DataFrame, patches: Mapping[str, Mapping[int, Any]]) -> pl.DataFrame:
    cols = []
    for name, upd in patches.items():
        if not upd:
            continue
        s = frame[name].clone()
        s.scatter(list(upd), pl.Series(list(upd.values()), dtype=s.dtype))
        cols.append(s)
    return frame.with_columns(cols) if cols else frame


class FixUps:
    """Decides, with the reference code, every row the vectorised pass is not sure of."""

    def __init__(self, plan: CompiledScheme, row_typer: RowTyper) -> None:
        self.plan = plan
        self.contract = plan.contract
        self.row_typer = row_typer

    def whole_dataset(self, ds: Dataset) -> ExecutionResult:
        """Records read by the records package as a whole (in hand, Excel): evaluated by the same columnar query."""
        check_typed(self.contract, ds.records)
        if len({i.path for i in ds.inputs}) < len(ds.inputs) or not {s for s, _ in ds.origins} <= {
                i.path for i in ds.inputs}:
            raise Fallback("records whose origins are not among the dataset's inputs")
        index = {f.path: k for k, f in enumerate(ds.inputs)}
        origins = [(index[src], row) for src, row in ds.origins]
        by_origin = dict(zip(origins, ds.records))
        return self.whole_frame(frame_of_records(self.contract, ds.records, origins), ds,
                                lambda rows: [by_origin[o] for o in rows])

    def whole_frame(self, frame: pl.DataFrame, ds: Dataset,
                    records_at: Callable[[Sequence[tuple[int, int]]], Sequence[dict[str, Any]]]) -> ExecutionResult:
        """Typed rows in hand (a frame with the typed-frame schema, origins indexing ``ds.inputs``): evaluated by
        the columnar query; ``records_at`` gives the records of some origins, for the rows the reference decides."""
        inputs = [Input(k, f.path, f.path, f.format, route="python", codec=f.encoding, sha=f.sha256,
                        rows_read=f.rows_read) for k, f in enumerate(ds.inputs)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nf = self.plan.narrow(frame.lazy()).collect()
        records: dict[int, dict[str, Any]] = {}
        if not self.plan.read_mode:
            flagged = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, DFAIL)
                       .filter(pl.col(DFAIL)).drop(DFAIL))
            positions = flagged.get_column("__pos").to_list()
            at = list(zip(flagged.get_column(SRC).to_list(), flagged.get_column(ROW).to_list()))
            records = dict(zip(positions, records_at(at)))
        rejected: set[int] = set()
        run_problems: list[Problem] = []
        measure_errors: list[tuple[int, str]] = []
        by_index = {i.index: i for i in inputs}
        if not self.plan.read_mode:
            nf = self._evaluate_rows(nf, records, rejected, by_index, run_problems, measure_errors)
            if self.plan.period is not None:
                nf = self._no_period(nf, rejected, by_index, run_problems)
        errors = [(int(nf[SRC][p]), int(nf[ROW][p]), c) for p, c in measure_errors if p not in rejected]
        frame = nf.drop(SUS, RAGGED, WEIRD, DFAIL).with_columns(_state(nf.height, set(), rejected))
        dataset = dataclasses.replace(ds, records=(), origins=())
        return ExecutionResult(frame, dataset, run_problems, errors, inputs)

    # -- fetching rows again
    def _fetch(self, inp: Input, rows: Sequence[int], fields: set[int] | None = None) -> dict[int, Any]:
        """Raw cells of some rows (CSV: the split line; Parquet: values by header position, None past the end).

        ``fields`` (contract positions) limits the Parquet columns read; the id column is always read.
        """
        idx = [r - 1 for r in rows]
        if inp.route in ("lines", "csv"):
            got = (pl.scan_lines(inp.read_path).with_row_index("__i").filter(_is_in("__i", idx)).collect())
            return {int(i) + 1: line.split(inp.delim) for i, line in zip(got["__i"], got["line"])}
        if fields is None:
            used = sorted({i for i in inp.cells.values() if i is not None})
        else:
            names_of = [f.name for f in self.contract.fields]
            chosen = {names_of[i] for i in fields} | {self.contract.id}
            wanted = [inp.cells.get(n) for n in chosen]
            used = sorted({c for c in wanted if c is not None})
        names = [inp.header[i] for i in used]
        got = (inp.scan().with_row_index("__i").filter(_is_in("__i", idx))
               .select([pl.col("__i")] + [pl.col(n).cast(pl.Float64) if inp.schema[n] == pl.Float64 else pl.col(n)
                                          for n in names]).collect())
        out = {}
        for i, *values in got.rows():
            cells: list[Any] = [None] * (inp.ncols + 1)
            for j, v in zip(used, values):
                cells[j] = v
            out[int(i) + 1] = cells
        return out

    def apply(self, nf: pl.DataFrame, inputs: list[Input], py: PythonRows | None,
              cells: Mapping[int, pl.DataFrame] | None = None) -> ExecutionResult:
        """Decide the flagged rows of ``nf``; ``cells`` holds each fast input's flagged cells (frames.flagged_cells)."""
        plan, row_typer = self.plan, self.row_typer
        by_index = {i.index: i for i in inputs}
        id_name = self.contract.id
        id_kind = FIELD_KINDS[self.contract.field(id_name).type] if self._has_id() else None
        typing_problems: list[Problem] = []
        checked: list[Problem] = []  # the problems of stage 1a, by input, row and field already
        rejected: set[int] = set()
        records: dict[int, dict[str, Any]] = {}
        raw_ids: dict[int, str | None] = {}
        raw_id_frames: list[pl.DataFrame] = []
        id_patch: dict[int, Any] = {}
        fast_routes = {i.index for i in inputs if i.route in ("csv", "lines", "parquet")}

        flagged = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, SUS, RAGGED, DFAIL)
                   .filter((pl.col(SUS) != 0) | pl.col(RAGGED) | pl.col(DFAIL)).drop(DFAIL))
        # Stage 1a: the flagged cells of the fast inputs, checked by the records package's rules once per
        # distinct cell; the answers reach the rows by joins, not by a loop over the rows.
        accepted: set[int] = set()
        for src, side in sorted((cells or {}).items()):  # in input order, as the problems are listed
            if src not in fast_routes:
                continue
            got = self._check_cells(flagged.filter((pl.col(SRC) == src) & (pl.col(SUS) != 0) & ~pl.col(RAGGED)),
                                    by_index[src], side)
            if got is None:
                continue
            checked.extend(got.problems)
            rejected.update(got.rejected)
            accepted.update(got.accepted)
            id_patch.update(got.ids)
            raw_id_frames.append(got.raw_ids)
            flagged = flagged.filter((pl.col(SRC) != src) | ~pl.col("__pos").is_in(got.rejected.implode()))
        by_src: dict[int, list[tuple[int, int, int, bool]]] = {}
        for pos, src, row, sus, ragged in flagged.iter_rows():
            by_src.setdefault(src, []).append((pos, row, sus, ragged))
        # Stage 1b: the other flagged rows (ragged rows, expressions to evaluate, rows read row by row, and
        # the rows of 1a whose every flagged cell was accepted) typed by the records package row by row.
        for src, items in by_src.items():
            inp = by_index[src]
            if src not in fast_routes:
                assert py is not None
                for pos, row, _sus, _ragged in items:
                    records[pos] = py.by_origin[(inp.source, row)]
                continue
            nfields = len(self.contract.fields)
            wanted: set[int] = set()
            for _pos, _row, sus, _ragged in items:
                if _pos not in accepted:
                    wanted |= _bits(sus, nfields)
            raw = self._fetch(inp, [row for _, row, _, _ in items], wanted)
            full_rows = []
            for pos, row, sus, ragged in items:
                cells_of = raw[row]
                if ragged:
                    typing_problems.append(row_typer.ragged(inp, cells_of, row))
                    rejected.add(pos)
                    id_patch[pos] = None
                    continue
                if pos in accepted:
                    full_rows.append((pos, row))
                    continue
                # Only the unsure cells can fail: type them with the records package's readers.
                probs, idv, rid = row_typer.check_cells(inp, cells_of, row, sorted(_bits(sus, nfields)))
                raw_ids[pos] = rid
                if id_kind is not None and idv is not MISSING:
                    id_patch[pos] = idv
                if probs:
                    typing_problems.extend(probs)
                    rejected.add(pos)
                else:
                    full_rows.append((pos, row))
            if full_rows:
                full = raw if inp.route in ("lines", "csv") else self._fetch(inp, [row for _, row in full_rows])
                for pos, row in full_rows:
                    rec, probs, idv, rid = row_typer.table_row(inp, full[row], row)
                    if probs:  # cannot happen: the cells the fast path typed are valid
                        typing_problems.extend(probs)
                        rejected.add(pos)
                        continue
                    assert rec is not None
                    records[pos] = rec
        if id_kind is not None and id_patch:
            patches = {id_name: {p: _from_field(v, id_kind) for p, v in id_patch.items()}}
            if id_kind == "datetime":
                folds = {p: bool(v is not None and v.fold) for p, v in id_patch.items()}
                patches[fold_column(id_name)] = folds
            nf = _patch(nf, patches)
        # Stage 2: duplicate ids reject every occurrence.
        dup_problems = self._duplicates(nf, inputs, py, raw_ids, raw_id_frames, fast_routes, rejected) \
            if id_kind else []
        typing_rejected = set(rejected)
        # Stage 3: derive and measure the accepted flagged rows with the row Evaluator.
        run_problems: list[Problem] = []
        measure_errors: list[tuple[int, str]] = []
        if not plan.read_mode:
            nf = self._evaluate_rows(nf, records, rejected, by_index, run_problems, measure_errors)
        else:
            nf = self._retype_rows(nf, records, rejected)
        # Records without a period day.
        if plan.period is not None and not plan.read_mode:
            nf = self._no_period(nf, rejected, by_index, run_problems)
        errors = [(int(nf[SRC][p]), int(nf[ROW][p]), c) for p, c in measure_errors if p not in rejected]
        frame = nf.drop(SUS, RAGGED, WEIRD, DFAIL).with_columns(_state(nf.height, typing_rejected, rejected))
        dataset = self._dataset(inputs, py, typing_problems + dup_problems, checked)
        return ExecutionResult(frame, dataset, run_problems, errors, inputs)

    def _check_cells(self, flagged: pl.DataFrame, inp: Input, side: pl.DataFrame) -> CheckedCells | None:
        """The flagged rows of one fast input whose flagged cells are checked once per distinct cell.

        ``flagged``: (__pos, SRC, ROW, SUS, RAGGED) of the input's rows with flagged cells; ``side``: those
        rows' cells (frames.flagged_cells). Each distinct cell of a field is typed by the records package
        (RowTyper.cell_outcomes), so its Problem is worded by the records package itself; joins take the
        answers to the rows. None when a column holds values this cannot key (the rows are then
        checked row by row).
        """
        if side.height != flagged.height or any(not _keyable(t) for t in side.schema.values()):
            return None
        rows = flagged.select("__pos", ROW, SUS).join(side.drop(SRC, SUS), on=ROW, how="left",
                                                       maintain_order="left")
        id_pos = self.row_typer.id_pos
        failed: list[pl.DataFrame] = []
        ids: dict[int, Any] = {}
        for k in range(len(self.contract.fields)):
            sub = rows.filter((pl.col(SUS) & (1 << min(k, 62))) != 0)
            if not sub.height:
                continue
            col = raw_column(k)
            if col in rows.columns:
                raw = pl.col(col)
                key = raw.cast(pl.String) if rows.schema[col].is_float() else raw  # -0.0 is not 0.0 here
                keyed = sub.select("__pos", ROW, raw, key.alias("__key"))
                distinct = keyed.select(col, "__key").unique(subset="__key", maintain_order=True)
                out = self.row_typer.cell_outcomes(inp, k, distinct.get_column(col).to_list())
                answers = distinct.select("__key").with_columns(_answers(out))
                joined = keyed.join(answers, on="__key", how="left", nulls_equal=True, maintain_order="left")
            else:  # no column: one answer for every row
                out = self.row_typer.cell_outcomes(inp, k, [None])
                joined = sub.select("__pos", ROW).with_columns(a.gather([0] * sub.height) for a in _answers(out))
            if k == id_pos:
                ids.update(zip(joined.get_column("__pos").to_list(),
                               [out.values[i] for i in joined.get_column("__i").to_list()]))
            failed.append(joined.filter(~pl.col("__ok")).select("__pos", ROW, pl.lit(k, pl.Int32).alias("__k"),
                                                                 "__shown", "__code", "__reason"))
        problems = pl.concat(failed, how="vertical").sort(ROW, "__k") if failed else None
        if problems is None or not problems.height:
            bad = pl.Series("__pos", [], dtype=pl.Int64)
            found: list[Problem] = []
        else:
            bad = problems.get_column("__pos").unique()
            if RAW_ID in rows.columns:
                rids = _clipped(problems.join(rows.select("__pos", RAW_ID), on="__pos", how="left",
                                              maintain_order="left").get_column(RAW_ID))
            else:
                rids = [None] * problems.height
            names = pl.Series(self.row_typer.typer.names, dtype=pl.String)
            cols = problems.select(ROW, pl.lit(names).gather(pl.col("__k")).alias("__field"), "__shown", "__code", "__reason")
            found = list(map(Problem, repeat(inp.source), *(c.to_list() for c in cols.get_columns()[:1]), rids,
                             *(c.to_list() for c in cols.get_columns()[1:])))
        good = rows.filter(~pl.col("__pos").is_in(bad.implode())).get_column("__pos")
        raw_ids = rows.select("__pos", RAW_ID) if RAW_ID in rows.columns else rows.select(
            "__pos", pl.lit(None, pl.String).alias(RAW_ID))
        return CheckedCells(found, bad, good.to_list(), ids, raw_ids)

    def _has_id(self) -> bool:
        return any(f.name == self.contract.id for f in self.contract.fields)

    # -- duplicates
    def _duplicates(self, nf: pl.DataFrame, inputs: list[Input], py: PythonRows | None,
                    raw_ids: dict[int, str | None], raw_id_frames: Sequence[pl.DataFrame], fast_routes: set[int],
                    rejected: set[int]) -> list[Problem]:
        id_name = self.contract.id
        kind = FIELD_KINDS[self.contract.field(id_name).type]
        keys = [id_name] + ([fold_column(id_name)] if kind == "datetime" else [])
        # Equal ids have equal hashes: only rows whose hash repeats are compared by value, so
        # no copy of the whole id column is made (100M rows).
        key_hash = (pl.struct(keys) if len(keys) > 1 else pl.col(id_name)).hash().alias("__h")
        eligible = pl.col(SRC).is_in(sorted(fast_routes)) & ~pl.col(RAGGED) & pl.col(id_name).is_not_null()
        hashed = (nf.lazy().select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), key_hash,
                                   eligible.alias("__ok")).filter("__ok").drop("__ok").collect())
        parts = [hashed]
        rid_of: dict[tuple[int, int], str | None] = {}
        if py is not None:
            rank = {i.source: i.index for i in inputs}
            occ = py.occurrences()
            values = [_from_field(v, kind) for v, *_ in occ]
            frame: dict[str, Any] = {
                "__pos": pl.Series([None] * len(occ), dtype=pl.Int64),
                SRC: pl.Series([rank[o[1]] for o in occ], dtype=pl.Int32),
                ROW: pl.Series([o[2] for o in occ], dtype=pl.Int64),
                id_name: pl.Series(values, dtype=nf.schema[id_name]),
            }
            if kind == "datetime":
                frame[fold_column(id_name)] = pl.Series([bool(v.fold) for v, *_ in occ], dtype=pl.Boolean)
            slow_rows = pl.DataFrame(frame).with_columns(key_hash)
            parts.append(slow_rows.select("__pos", "__h"))
            for _v, source, row, _at, rid in occ:
                rid_of[(rank[source], row)] = rid
        hashes = pl.concat(parts, how="vertical")
        # Sorting the hashes finds repeats several times faster than is_duplicated's hash table
        # once there are tens of millions (1.7 s against 14 s for 100M).
        ordered = hashes.get_column("__h").sort()
        twice = ordered.filter(ordered == ordered.shift(1))
        repeated = hashes.filter(pl.col("__h").is_in(twice.implode()))
        at = repeated.get_column("__pos").drop_nulls()
        candidates = [nf.select(SRC, ROW, *keys)[at].select(at.alias("__pos"), SRC, ROW, *keys)]
        if py is not None:
            candidates.append(slow_rows.filter(pl.col("__h").is_in(repeated.get_column("__h").implode()))
                              .select("__pos", SRC, ROW, *keys))
        both = pl.concat(candidates, how="vertical")
        # (The struct form is much faster in Polars 2.1 than is_duplicated on a bare string column.)
        dups = both.filter(pl.struct(keys).is_duplicated()).sort([SRC, ROW])
        if not dups.height:
            return []
        by_index = {i.index: i for i in inputs}
        at_dups = dups.get_column("__pos").drop_nulls().implode()
        for ids in raw_id_frames:  # the id cells of flagged rows, as the main pass read them
            found = ids.filter(pl.col("__pos").is_in(at_dups))
            raw_ids.update(zip(found.get_column("__pos").to_list(), found.get_column(RAW_ID).to_list()))
        # Raw id texts of the fast-route occurrences that were not fetched already.
        need: dict[int, list[tuple[int, int]]] = {}
        for pos, src, row in dups.select("__pos", SRC, ROW).iter_rows():
            if pos is not None and pos not in raw_ids and kind != "str":
                need.setdefault(src, []).append((pos, row))
        for src, items in need.items():
            inp = by_index[src]
            got = self._fetch(inp, [row for _, row in items])
            for pos, row in items:
                cell = self.row_typer.id_cell(inp)
                raw_ids[pos] = got[row][cell] if cell is not None else None
        # Positions of duplicate rows of the row-by-row inputs in the narrow frame.
        slow_pos: dict[tuple[int, int], int] = {}
        if py is not None:
            slow = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW)
                    .filter(~pl.col(SRC).is_in(sorted(fast_routes))))
            wanted = {(s, r) for s, r in dups.select(SRC, ROW).iter_rows()}
            for pos, src, row in slow.select("__pos", SRC, ROW).iter_rows():
                if (src, row) in wanted:
                    slow_pos[(src, row)] = pos
        groups: dict[Any, list[tuple[int, int, int | None, str | None]]] = {}
        for rec in dups.iter_rows(named=True):
            key = tuple(rec[k] for k in keys)
            pos = rec["__pos"]
            src, row = rec[SRC], rec[ROW]
            if pos is None:
                rid = rid_of.get((src, row))
                pos = slow_pos.get((src, row))
            else:
                rid = raw_ids[pos] if pos in raw_ids else rec[id_name]
            groups.setdefault(key, []).append((src, row, pos, rid))
        problems = []
        for occurrences in groups.values():
            for src, row, pos, rid in occurrences:
                source = by_index[src].source
                others = [(by_index[o[0]].source, o[1]) for o in occurrences if (o[0], o[1]) != (src, row)]
                problems.append(Problem(
                    source, row, clip_value(rid), id_name, clip_value(rid), "duplicate-id",
                    duplicate_id_reason(rid, source, others)))
                if pos is not None:
                    rejected.add(pos)
        return problems

    # -- the flagged rows, by the reference code
    def _origin(self, nf: pl.DataFrame, pos: int, by_index: Mapping[int, Input]) -> tuple[str, int]:
        return by_index[nf[SRC][pos]].source, nf[ROW][pos]

    def _evaluate_rows(self, nf: pl.DataFrame, records: Mapping[int, dict[str, Any]], rejected: set[int],
                       by_index: Mapping[int, Input], run_problems: list[Problem],
                       measure_errors: list[tuple[int, str]]) -> pl.DataFrame:
        plan = self.plan
        scheme = plan.scheme
        assert scheme is not None
        evaluator = Evaluator(scheme.constants, scheme.calendar)
        patches: dict[str, dict[int, Any]] = {}
        kept = plan.kept_fields()
        for pos, rec in records.items():
            if pos in rejected:
                continue
            env = dict(rec)
            if plan.period is not None:
                patches.setdefault(PDATE, {})[pos] = as_date(env.get(plan.period.field))
            failed = None
            for name, expr in scheme.derive:
                try:
                    env[name] = evaluator.evaluate(expr, env)
                except ExpressionError as exc:
                    failed = (name, exc)
                    break
            if failed is not None:
                source, row = self._origin(nf, pos, by_index)
                rid = id_text(rec.get(plan.id_field))
                run_problems.append(Problem(source, row, rid, failed[0], None, "evaluation-error",
                                            failed[1].message))
                rejected.add(pos)
                continue
            for name in kept:
                v = env.get(name)
                patches.setdefault(name, {})[pos] = _from_field(v, plan.kinds[name])
                if self.contract.field(name).type == "datetime":
                    patches.setdefault(fold_column(name), {})[pos] = bool(v is not None and v.fold)
            for col in plan.columns.values():
                if col.const is not NOT_CONSTANT:
                    continue
                body = col.expr.tree.body
                try:
                    if isinstance(body, ast.Name) and body.id not in scheme.constants:
                        v = env.get(body.id)
                    elif isinstance(body, ast.Constant):
                        v = body.value
                    else:
                        v = evaluator.evaluate(col.expr, env)
                except ExpressionError:
                    measure_errors.append((pos, col.name))
                    v = None
                patches.setdefault(col.name, {})[pos] = from_python(v, col.kind)
        return _patch(nf, patches)

    def _retype_rows(self, nf: pl.DataFrame, records: Mapping[int, dict[str, Any]], rejected: set[int]) -> pl.DataFrame:
        patches: dict[str, dict[int, Any]] = {}
        for pos, rec in records.items():
            if pos in rejected:
                continue
            for f in self.contract.fields:
                v = rec.get(f.name)
                patches.setdefault(f.name, {})[pos] = _from_field(v, FIELD_KINDS[f.type])
                if f.type == "datetime":
                    patches.setdefault(fold_column(f.name), {})[pos] = bool(v is not None and v.fold)
        return _patch(nf, patches)

    def _no_period(self, nf: pl.DataFrame, rejected: set[int], by_index: Mapping[int, Input],
                   run_problems: list[Problem]) -> pl.DataFrame:
        plan = self.plan
        assert plan.period is not None and plan.scheme is not None
        datetime_id = plan.kinds.get(plan.id_field) == "datetime"
        cols = [plan.id_field] + ([fold_column(plan.id_field)] if datetime_id else [])
        empty = (nf.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, PDATE, *cols)
                 .filter(pl.col(PDATE).is_null()))
        for rec in empty.iter_rows(named=True):
            pos = rec["__pos"]
            if pos in rejected:
                continue
            rid = python_value(rec, plan.id_field, plan.kinds.get(plan.id_field), plan.zone)
            run_problems.append(no_period_problem(plan.scheme, by_index[rec[SRC]].source, rec[ROW],
                                                  {plan.id_field: rid}))
            rejected.add(pos)
        return nf

    def _dataset(self, inputs: list[Input], py: PythonRows | None, problems: list[Problem],
                 in_order: Sequence[Problem] = ()) -> Dataset:
        """The Dataset of a run's inputs and problems; ``in_order``: problems sorted already (alone, they
        need no sort: there are as many as rejected cells)."""
        if py is not None:
            problems = problems + list(py.collector.problems)
        if problems:
            problems = [*in_order, *problems]
            rank = {i.source: i.index for i in inputs}
            order = self.row_typer.typer.order
            problems.sort(key=lambda p: (rank.get(p.source, len(rank)), p.row,
                                         -1 if p.field is None else order.get(p.field, -1)))
        else:
            problems = list(in_order)
        rejected: dict[str, set[int]] = {}
        for p in problems:
            rejected.setdefault(p.source, set()).add(p.row)
        files = tuple(
            InputFile(i.source, i.sha, i.fmt if i.fmt == "arrow" else i.kind, i.codec,
                      i.rows_read, len(rejected.get(i.source, ())))
            for i in inputs)
        missing = tuple((i.source, name) for i in inputs for name in i.missing)
        return Dataset((), (), tuple(problems), files, missing)


def _state(height: int, typing: set[int], later: set[int]) -> pl.Series:
    state = pl.zeros(height, dtype=pl.UInt8, eager=True).alias(STATE)
    if later:
        state.scatter(sorted(later), 2)
    if typing:
        state.scatter(sorted(typing), 1)
    return state


@functools.lru_cache(maxsize=4096)
def _bits(mask: int, nfields: int) -> frozenset[int]:
    """Field positions flagged in a sus mask (bit 62 stands for every field from 62 on)."""
    out = {i for i in range(min(nfields, 62)) if mask >> i & 1}
    if mask >> 62 & 1:
        out |= set(range(62, nfields))
    return frozenset(out)


def _from_field(value: Any, kind: str | None) -> Any:
    """A typed field value as its column stores it."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if kind == "int" and not -(2**63) <= value < 2**63:
        raise Fallback("an integer beyond 64 bits")
    return value


@dataclass(frozen=True, slots=True)
class CheckedCells:
    """What FixUps._check_cells decided for one input's rows with flagged cells."""

    problems: list[Problem]  # by row, then field
    rejected: pl.Series  # positions in the narrow frame
    accepted: list[int]  # positions whose every flagged cell was accepted (evaluated row by row next)
    ids: dict[int, Any]  # position -> the typed id (None: refused), where the id cell was flagged
    raw_ids: pl.DataFrame  # __pos, RAW_ID: each row's id cell as read


def _keyable(dtype: pl.DataType) -> bool:
    """Cells of these types are grouped by value and their Python values are what records.tables types."""
    return (dtype == pl.String or dtype == pl.Boolean or dtype == pl.Date or dtype.is_integer() or dtype.is_float()
            or isinstance(dtype, (pl.Datetime, pl.Duration)))


def _answers(out: CellOutcomes) -> list[pl.Series]:
    """The columns of CellOutcomes, __i indexing its values."""
    return [pl.Series("__i", range(len(out.ok)), dtype=pl.Int64), pl.Series("__ok", out.ok, dtype=pl.Boolean),
            pl.Series("__shown", out.shown, dtype=pl.String), pl.Series("__code", out.codes, dtype=pl.String),
            pl.Series("__reason", out.reasons, dtype=pl.String)]


def _clipped(values: pl.Series) -> list[str | None]:
    """clip_value of each value; it leaves a text of at most MAX_VALUE_CHARS characters as it is."""
    if values.dtype == pl.String and not (values.str.len_chars() > MAX_VALUE_CHARS).any():
        return values.to_list()
    return [clip_value(v) for v in values.to_list()]
