"""Scoring: one group_by gathers every measure of every subject, then the shared scorecards.

See "How a run goes" (step 3) in the package docstring. Rows are grouped by the values of
their key fields and the label of their period; each group's key texts and name come from
engine.subjects, its measures' statistics from :mod:`.measures`, their meaning from
measures.finish, and the scorecards from scoring.build_scorecards, as in the reference engine.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

from ..._polars import pl
from ...model import Measure
from ...scorecard import Scorecard
from ..measures import finish
from ..scoring import Subjects, build_scorecards
from ..subjects import subject_order
from .clock import Clock
from .fallback import Fallback
from .fixups import ExecutionResult
from .frames import PDATE, ROW, SRC, STATE, fold_column, python_value
from .measures import MeasureColumns
from .plan import CompiledScheme, ExpressionColumn
from .translate import NOT_CONSTANT, lookup

LABEL = "__label"  # the label of the row's period


def score(plan: CompiledScheme, result: ExecutionResult) -> list[Scorecard]:
    """The scorecards of every subject of one run (STATE 0 rows are scored), in subject order."""
    assert plan.scheme is not None and plan.grouping is not None
    scheme, frame = plan.scheme, result.frame
    _check_measure_errors(plan, result)
    if not frame.height:
        return []
    if not plan.grouping.fields and plan.kinds.get(plan.id_field) == "float" and any(
            mp.measure.kind == "value" for mp in plan.measures.values()):
        raise Fallback("record-level scheme with a number id")

    def columns(k: int, m: Measure, veto: bool) -> MeasureColumns:
        return MeasureColumns(k, plan.measures[id(m)], veto=veto, id_field=plan.id_field,
                              id_kind=plan.kinds.get(plan.id_field), zone=plan.zone, columns=frame.columns,
                              level=scheme.confidence.level)

    indicators = [columns(k, ind.measure, False) for k, ind in enumerate(scheme.indicators)]
    # A veto on an indicator reads the indicator's statistics; only a veto without a threshold gathers evidence.
    vetoes = {k: columns(len(indicators) + k, veto.when, veto.threshold is None)
              for k, veto in enumerate(scheme.vetoes) if veto.when is not None}
    clock = Clock()
    table = _gathered(plan, frame, indicators + list(vetoes.values()))
    clock.lap("group_by")
    order, subjects = _subjects(plan, table)
    table = table[order]
    indicator_stats = [m.statistics(table) for m in indicators]
    veto_stats = {k: m.statistics(table) for k, m in vetoes.items()}
    labels = table.get_column(LABEL).to_list() if LABEL in table.columns else [None] * table.height
    level = scheme.confidence.level
    cards = build_scorecards(scheme, Subjects(
        [plan.grouping.subject(keys, label) for keys, label in zip(subjects, labels)], subjects, labels,
        table.get_column("__scored").to_list(),
        {ind.id: [finish(ind.measure, s, level) for s in stats] for ind, stats in zip(scheme.indicators,
                                                                                       indicator_stats)},
        {veto.id: [finish(veto.when, s, level) for s in veto_stats[v]] for v, veto in enumerate(scheme.vetoes)
         if veto.when is not None}))
    clock.lap("scorecards")
    return cards


def _gathered(plan: CompiledScheme, frame: pl.DataFrame, gathered: Sequence[MeasureColumns]) -> pl.DataFrame:
    """One row per group (key values, period label) with scored rows: ``__scored`` and every measure's aggregations."""
    assert plan.grouping is not None
    group = [c for f in plan.grouping.key_fields for c in (f, fold_column(f)) if c in frame.columns]
    lf = frame.lazy()
    if plan.grouping.period is not None:
        days = frame.get_column(PDATE).unique().drop_nulls()
        labels = pl.Series([plan.grouping.period_label(d) for d in days.to_list()], dtype=pl.String)
        lf = lf.with_columns(lookup(pl.col(PDATE).cast(pl.Int32), days.cast(pl.Int32).to_list(), labels).alias(LABEL))
        group.append(LABEL)
    lf = lf.with_columns([c for m in gathered for c in m.row_cols])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aggs = [(pl.col(STATE) == 0).sum().alias("__scored"), *(a for m in gathered for a in m.aggs)]
        table = lf.group_by(group).agg(aggs).filter(pl.col("__scored") > 0).collect(engine="streaming")
        # Sums stream in bounded memory; lists of veto evidence do not, so they are gathered
        # from the few rows that are evidence at all.
        evidence = [e for m in gathered for e in m.evidence]
        if evidence:
            marks = [pl.col(m.prefix + "evidence") for m in gathered if m.evidence]
            found = lf.filter(pl.any_horizontal(marks)).group_by(group).agg(evidence).collect()
            table = table.join(found, on=group, how="left", nulls_equal=True)
    return table


def _subjects(plan: CompiledScheme, table: pl.DataFrame) -> tuple[list[int], list[dict[str, str]]]:
    """The rows of ``table`` in subject order, and each one's key texts (subjects.Grouping.keys of its key values)."""
    assert plan.grouping is not None
    fields = plan.grouping.key_fields
    subjects = []
    wanted = {*fields, *(fold_column(f) for f in fields), LABEL}
    for position, row in enumerate(table.select(c for c in table.columns if c in wanted).iter_rows(named=True)):
        keys = plan.grouping.keys({f: python_value(row, f, plan.kinds.get(f), plan.zone) for f in fields})
        subjects.append((subject_order(keys, row.get(LABEL)), position, keys))
    subjects.sort(key=lambda s: s[0])
    if any(a[0] == b[0] for a, b in itertools.pairwise(subjects)):
        raise Fallback("two key values with the same text")  # e.g. -0.0 and 0.0: one subject for the reference
    return [position for _, position, _ in subjects], [keys for _, _, keys in subjects]


def _check_measure_errors(plan: CompiledScheme, result: ExecutionResult) -> None:
    """A measure expression (or where) that raised for a scored, measured record: the reference decides."""
    if not result.measure_errors:
        return
    frame = result.frame
    scored = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"), SRC, ROW, STATE).filter(
        pl.col(STATE) == 0)
    failing = {(e[0], e[1]) for e in result.measure_errors}
    where = {(s, r): i for i, s, r, _ in scored.iter_rows() if (s, r) in failing}
    for src, row, colname in result.measure_errors:
        pos = where.get((src, row))
        if pos is None:
            continue
        for mp in plan.measures.values():
            parts = [mp.expr, mp.numerator, mp.denominator]
            if mp.where is not None and mp.where.name == colname:
                raise Fallback(f"a measure's where raises for a record ({mp.where.expr.source!r})")
            if any(c is not None and c.name == colname for c in parts):
                measured = True if mp.where is None else _where_value(frame, mp.where, pos)
                if measured:
                    raise Fallback("a measure expression raises for a measured record")


def _where_value(frame: pl.DataFrame, col: ExpressionColumn, pos: int) -> bool:
    if col.const is not NOT_CONSTANT:
        return col.const is True
    if col.kind != "bool":
        return False
    return frame.get_column(col.name)[pos] is True
