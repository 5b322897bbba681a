"""Version routing, columnar: every row read goes to the scheme version in force on its period start.

The same routing as engine.evaluate_versions, vectorised: each version reads the inputs once
(its contract may differ), then a join of the rows each version accepted decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..._polars import pl
from ...errors import UsageError
from ...model import Scheme
from ...records import Problem
from .. import Run, group_fields
from ..subjects import key_text, period_bounds
from .aggregate import score
from .executor import Executor
from .fallback import Fallback
from .fixups import ExecutionResult
from .frames import PDATE, ROW, SRC, STATE, fold_column, python_value
from .plan import CompiledScheme


def run_options(by: Sequence[str] | None) -> dict[str, Any]:
    """The options a columnar Run records."""
    return {"by": list(by) if by else None}


def score_versions(ordered: list[Scheme], paths: Any, encoding: str | None, by: Sequence[str] | None,
                   sheet: str | None) -> Run:
    """Several versions with a subject period: each row is scored by the version in force on its
    period start."""
    plans: list[CompiledScheme] = []
    results: list[ExecutionResult] = []
    usage: list[UsageError | None] = []
    for s in ordered:
        try:
            plan = CompiledScheme(s.records, s, by)
            usage.append(None)
        except UsageError as exc:  # raised below if this version scores any row, as the reference does
            usage.append(exc)
            plan = CompiledScheme(s.records, s, None)
        plans.append(plan)
        results.append(Executor(plan, paths, encoding, sheet).run())
    # Route every row read (vectorised): the period start comes from the first version that read the
    # row and gives it a period day; the row goes to the version in force on that day.
    newest = results[-1]
    sources = [i.path for i in newest.dataset.inputs]
    table: pl.DataFrame | None = None
    for k, (plan, res) in enumerate(zip(plans, results)):
        assert plan.period is not None
        frame = res.frame.select(SRC, ROW, STATE, PDATE)
        days = frame.get_column(PDATE).drop_nulls().unique()
        starts = [period_bounds(d, plan.period.every)[1] for d in days.to_list()]
        part = frame.filter(pl.col(STATE) != 1).select(
            SRC, ROW, pl.lit(True).alias(f"accepted{k}"),
            pl.col(PDATE).replace_strict(days, pl.Series(starts, dtype=pl.Date), default=None,
                                         return_dtype=pl.Date).alias(f"start{k}"))
        table = part if table is None else table.join(part, on=[SRC, ROW], how="full", coalesce=True)
    assert table is not None
    n = len(ordered)
    table = table.with_columns([pl.col(f"accepted{k}").fill_null(False) for k in range(n)])
    start = pl.coalesce([pl.when(pl.col(f"accepted{k}")).then(pl.col(f"start{k}")) for k in range(n)])
    version: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for k in reversed(range(n)):
        s_ = ordered[k]
        covers = pl.col("__start") >= s_.effective_from
        if s_.effective_to is not None:
            covers = covers & (pl.col("__start") <= s_.effective_to)
        version = pl.when(covers).then(pl.lit(k, dtype=pl.Int32)).otherwise(version)
    table = table.with_columns(start.alias("__start")).with_columns(version.alias("__version"))
    if table.filter(pl.col("__start").is_null()).height:
        raise Fallback("a record without a period day in every version")
    chosen: list[pl.DataFrame] = []
    for k in range(n):
        chosen.append(table.filter((pl.col("__version") == k) & pl.col(f"accepted{k}")).select(SRC, ROW))
    by_origin: list[dict[tuple[str, int], list[Problem]]] = []
    for res in results:
        d: dict[tuple[str, int], list[Problem]] = {}
        for p in res.dataset.problems:
            d.setdefault((p.source, p.row), []).append(p)
        by_origin.append(d)
    rejected: list[Problem] = []
    # Rows no version reads: the newest version's reasons (else the first version with reasons).
    index_of = {src: i for i, src in enumerate(sources)}
    with_problems = sorted({(index_of[src], row) for d in by_origin for src, row in d})
    unread = pl.DataFrame({SRC: [o[0] for o in with_problems], ROW: [o[1] for o in with_problems]},
                          schema={SRC: pl.Int32, ROW: pl.Int64}).join(table.select(SRC, ROW), on=[SRC, ROW], how="anti")
    for s_, r in unread.sort([SRC, ROW]).iter_rows():
        key = (sources[s_], r)
        rejected.extend(by_origin[-1].get(key) or next(d[key] for d in by_origin if key in d))
    # Rows read, but in force in no version: "no-version", with the id read by the first version that read it.
    lost = table.filter(pl.col("__version").is_null())
    if lost.height:
        id_name = ordered[-1].records.id
        for k in range(n):
            earlier = [pl.col(f"accepted{j}") for j in range(k)] or [pl.lit(False)]
            mine = lost.filter(pl.col(f"accepted{k}") & ~pl.any_horizontal(earlier))
            if not mine.height:
                continue
            res, plan = results[k], plans[k]
            cols = [c for c in (id_name, fold_column(id_name)) if c in res.frame.columns]
            rows = res.frame.select(SRC, ROW, *cols).join(mine.select(SRC, ROW, "__start"), on=[SRC, ROW])
            for rec in rows.iter_rows(named=True):
                rid = (python_value(rec, id_name, plan.kinds.get(id_name), plan.zone) if id_name in rec
                       else None)
                rejected.append(Problem(sources[rec[SRC]], rec[ROW], key_text(rid), None, None, "no-version",
                                        f"no version of {ordered[0].id} is in force on {rec['__start']}"))
    # Rows in force in a version that did not read them: that version's reasons.
    for k in range(n):
        refused = table.filter((pl.col("__version") == k) & ~pl.col(f"accepted{k}")).select(SRC, ROW)
        for s_, r in refused.iter_rows():
            rejected.extend(by_origin[k][(sources[s_], r)])
    for k in range(len(ordered)):
        error = usage[k]
        if chosen[k].height and error is not None:
            raise error
    cards: list[Any] = []
    run_problems: list[Problem] = []
    used: list[Scheme] = []
    fields: tuple[str, ...] | None = None
    for k, (scheme, plan, res) in enumerate(zip(ordered, plans, results)):
        if not chosen[k].height:
            continue
        frame = res.frame.join(chosen[k], on=[SRC, ROW], how="semi").sort([SRC, ROW])
        part = dataclasses.replace(res, frame=frame)
        cards.extend(score(plan, part))
        late = {(sources[s_], r) for s_, r in frame.filter(pl.col(STATE) == 2).select(SRC, ROW).iter_rows()}
        run_problems.extend(p for p in res.run_problems if (p.source, p.row) in late)
        used.append(scheme)
        fields = fields if fields is not None else plan.fields
    cards.sort(key=lambda c: (*c.keys.values(), c.period or ""))
    problems = sorted([*rejected, *run_problems], key=lambda p: (p.source, p.row, p.field or ""))
    combined = dataclasses.replace(newest.dataset, problems=tuple(problems))
    if fields is None:
        fields = group_fields(ordered[-1], by)
    return Run(tuple(used) or (ordered[-1],), tuple(cards), tuple(problems), combined, fields, run_options(by))
