"""Versions in force, columnar: engine.routing decides, once per distinct value.

Each version reads the inputs once with its own contract. A join of the rows each version
read gives every row's versions that read it and their period starts; a run has few
distinct combinations of these, so :func:`~qualiscore.engine.routing.first_start` and
:func:`~qualiscore.engine.routing.decide` are called once per combination and their
decisions joined back to the rows. Problems are worded by engine.routing too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..._polars import pl
from ...errors import UsageError
from ...model import Scheme
from ...records import Problem
from ...scorecard import Scorecard
from .. import routing
from ..protocol import Run
from ..subjects import group_fields, period_bounds, subject_order
from .aggregate import score
from .executor import Executor
from .fallback import Fallback
from .fixups import ExecutionResult
from .frames import PDATE, ROW, SRC, STATE, fold_column, python_value
from .inputs import Inputs
from .plan import CompiledScheme

Origin = tuple[str, int]
OUTCOMES = ("scored", "refused", "no-version", "unread")


def score_versions(ordered: Sequence[Scheme], inputs: Inputs, by: Sequence[str] | None) -> Run:
    """Several versions with a subject period: each row is scored by the version in force on its period start."""
    plans: list[CompiledScheme] = []
    usage: list[UsageError | None] = []
    for scheme in ordered:
        try:
            plans.append(CompiledScheme(scheme.records, scheme, by))
            usage.append(None)
        except UsageError as exc:  # raised below if this version scores any row, as the reference does
            plans.append(CompiledScheme(scheme.records, scheme, None))
            usage.append(exc)
    results = [Executor(plan, inputs).run() for plan in plans]
    sources = [i.path for i in results[-1].dataset.inputs]
    table = _decided(ordered, plans, results)
    if table.filter(pl.col("__outcome") == OUTCOMES.index("unread")).height:
        raise Fallback("a record without a period day in every version")
    reasons = [_by_origin(res.dataset.problems) for res in results]
    rejected = _unread(table, reasons, sources)
    rejected += _no_version(ordered, plans, results, table, sources)
    for k in range(len(ordered)):
        refused = table.filter(_decision("refused", k)).select(SRC, ROW)
        for src, row in refused.iter_rows():
            rejected.extend(reasons[k][(sources[src], row)])
    chosen = [table.filter(_decision("scored", k)).select(SRC, ROW) for k in range(len(ordered))]
    for k, error in enumerate(usage):
        if chosen[k].height and error is not None:
            raise error
    cards: list[Scorecard] = []
    late: list[Problem] = []
    used: list[Scheme] = []
    fields: tuple[str, ...] | None = None
    for scheme, plan, result, rows in zip(ordered, plans, results, chosen):
        if not rows.height:
            continue
        frame = result.frame.join(rows, on=[SRC, ROW], how="semi").sort([SRC, ROW])
        cards.extend(score(plan, dataclasses.replace(result, frame=frame)))
        rejected_later = {(sources[s], r) for s, r in frame.filter(pl.col(STATE) == 2).select(SRC, ROW).iter_rows()}
        late.extend(p for p in result.run_problems if (p.source, p.row) in rejected_later)
        used.append(scheme)
        fields = fields if fields is not None else plan.fields
    cards.sort(key=lambda c: subject_order(c.keys, c.period))
    problems = tuple(sorted([*rejected, *late], key=lambda p: (p.source, p.row, p.field or "")))
    combined = dataclasses.replace(results[-1].dataset, problems=problems)
    if fields is None:
        fields = group_fields(ordered[-1], by)
    return Run(tuple(used) or (ordered[-1],), tuple(cards), problems, combined, fields, {})  # options: the engine's


def _decided(ordered: Sequence[Scheme], plans: Sequence[CompiledScheme], results: Sequence[ExecutionResult]
             ) -> pl.DataFrame:
    """Every row some version read: ``read{k}``, ``start{k}`` and the decision (``__outcome``, ``__version``,
    ``__start``)."""
    table: pl.DataFrame | None = None
    for k, (plan, result) in enumerate(zip(plans, results)):
        assert plan.period is not None
        frame = result.frame.select(SRC, ROW, STATE, PDATE)
        days = frame.get_column(PDATE).drop_nulls().unique()
        starts = pl.Series([period_bounds(d, plan.period.every)[1] for d in days.to_list()], dtype=pl.Date)
        part = frame.filter(pl.col(STATE) != 1).select(
            SRC, ROW, pl.lit(True).alias(f"read{k}"),
            pl.col(PDATE).replace_strict(days, starts, default=None, return_dtype=pl.Date).alias(f"start{k}"))
        table = part if table is None else table.join(part, on=[SRC, ROW], how="full", coalesce=True)
    assert table is not None
    n = len(ordered)
    read, start = [f"read{k}" for k in range(n)], [f"start{k}" for k in range(n)]
    table = table.with_columns(pl.col(read).fill_null(False))
    combinations = table.select(*read, *start).unique()
    decisions: dict[str, list[Any]] = {"__outcome": [], "__version": [], "__start": []}
    for values in combinations.iter_rows():
        flags, starts_read = values[:n], values[n:]
        first = routing.first_start(s if r else None for r, s in zip(flags, starts_read))
        decision = routing.decide(ordered, flags, first)
        decisions["__outcome"].append(OUTCOMES.index(decision.outcome))
        decisions["__version"].append(decision.version)
        decisions["__start"].append(decision.start)
    decided = combinations.with_columns(pl.Series("__outcome", decisions["__outcome"], dtype=pl.Int8),
                                        pl.Series("__version", decisions["__version"], dtype=pl.Int32),
                                        pl.Series("__start", decisions["__start"], dtype=pl.Date))
    return table.join(decided, on=[*read, *start], how="left", nulls_equal=True)


def _decision(outcome: str, version: int) -> pl.Expr:
    return (pl.col("__outcome") == OUTCOMES.index(outcome)) & (pl.col("__version") == version)


def _by_origin(problems: Sequence[Problem]) -> dict[Origin, list[Problem]]:
    found: dict[Origin, list[Problem]] = {}
    for p in problems:
        found.setdefault((p.source, p.row), []).append(p)
    return found


def _unread(table: pl.DataFrame, reasons: Sequence[dict[Origin, list[Problem]]], sources: Sequence[str]
            ) -> list[Problem]:
    """The problems of rows no version read: routing.reasons_for_unread."""
    index_of = {src: i for i, src in enumerate(sources)}
    with_problems = sorted({(index_of[src], row) for found in reasons for src, row in found})
    unread = pl.DataFrame({SRC: [o[0] for o in with_problems], ROW: [o[1] for o in with_problems]},
                          schema={SRC: pl.Int32, ROW: pl.Int64}).join(table.select(SRC, ROW), on=[SRC, ROW], how="anti")
    out: list[Problem] = []
    for src, row in unread.sort([SRC, ROW]).iter_rows():
        origin = (sources[src], row)
        out.extend(routing.reasons_for_unread([found.get(origin, []) for found in reasons]))
    return out


def _no_version(ordered: Sequence[Scheme], plans: Sequence[CompiledScheme], results: Sequence[ExecutionResult],
                table: pl.DataFrame, sources: Sequence[str]) -> list[Problem]:
    """Rows read whose period starts on a day no version is in force on, with the id the first version read."""
    lost = table.filter(pl.col("__outcome") == OUTCOMES.index("no-version"))
    if not lost.height:
        return []
    out: list[Problem] = []
    id_name = ordered[-1].records.id
    for k, (plan, result) in enumerate(zip(plans, results)):
        earlier = [pl.col(f"read{j}") for j in range(k)] or [pl.lit(False)]
        mine = lost.filter(pl.col(f"read{k}") & ~pl.any_horizontal(earlier))
        if not mine.height:
            continue
        cols = [c for c in (id_name, fold_column(id_name)) if c in result.frame.columns]
        rows = result.frame.select(SRC, ROW, *cols).join(mine.select(SRC, ROW, "__start"), on=[SRC, ROW])
        for rec in rows.iter_rows(named=True):
            record_id = python_value(rec, id_name, plan.kinds.get(id_name), plan.zone) if id_name in rec else None
            out.append(routing.no_version_problem(ordered, sources[rec[SRC]], rec[ROW], record_id, rec["__start"]))
    return out
