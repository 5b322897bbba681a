"""The reference engine: one record at a time, simple and obviously right.

It is the yardstick the columnar engine is proven against, so it favours clarity
over speed. It only gathers each measure's statistics (measures.py gives them their
meaning) and groups records into subjects (subjects.py) and versions (routing.py).
Sums use math.fsum, and each subject's records are taken in id order, so the result
does not depend on the order of the input rows.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ExpressionError
from ..expressions import Evaluator, Expression, as_number
from ..model import Measure, RecordContract, Scheme
from ..options import RunOptions
from ..privacy import protect
from ..records import Dataset, Problem, read_records, records_from_table
from . import common, measures, routing
from .lookups import DatasetRows
from .measures import MeasureResult, Statistics, finish
from .protocol import ArrowStream, Progress, Run, Source, source_paths
from .scoring import Subjects, build_scorecards
from .subjects import Grouping, group_fields, id_text, no_period_problem, subject_order

Record = dict[str, Any]
Origin = tuple[str, int]


def _getter(evaluator: Evaluator, expr: Expression, constants: Mapping[str, Any]) -> Callable[[Record], Any]:
    """A per-record function for ``expr``; bare names and literals skip the evaluator."""
    body = expr.tree.body
    if isinstance(body, ast.Name) and body.id not in constants:
        name = body.id
        return lambda env: env.get(name)
    if isinstance(body, ast.Constant):
        const = body.value
        return lambda env: const
    return lambda env: evaluator.evaluate(expr, env)


class RowEngine:
    """Evaluates one scheme version over typed records."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.evaluator = Evaluator(scheme.constants, scheme.calendar)
        self.id_field = scheme.records.id

    # -- per record
    def derive(self, records: Sequence[Record], origins: Sequence[Origin]
               ) -> tuple[list[tuple[Record, Origin]], list[Problem]]:
        """Add derived values; a record whose expression fails at run time is rejected, not dropped."""
        out: list[tuple[Record, Origin]] = []
        problems: list[Problem] = []
        for rec, (source, row) in zip(records, origins):
            env = dict(rec)
            try:
                for name, expr in self.scheme.derive:
                    env[name] = self.evaluator.evaluate(expr, env)
            except ExpressionError as exc:
                problems.append(Problem(source, row, id_text(rec.get(self.id_field)), name, None,
                                        "evaluation-error", exc.message))
                continue
            out.append((env, (source, row)))
        return out, problems

    # -- measures
    def measure(self, m: Measure, records: Sequence[Record]) -> MeasureResult:
        return finish(m, self.statistics(m, records), self.scheme.confidence.level)

    def statistics(self, m: Measure, records: Sequence[Record]) -> Statistics:
        """The statistics of ``m`` over ``records`` (see measures.STATISTICS)."""
        constants = self.scheme.constants
        if m.where is not None:
            where = _getter(self.evaluator, m.where, constants)
            records = [r for r in records if where(r) is True]
        ids: list[Any] = [id_text(r.get(self.id_field)) for r in records]
        family = measures.STATISTICS[m.kind]
        if family is measures.RatioSums:
            assert m.numerator is not None and m.denominator is not None
            num_of = _getter(self.evaluator, m.numerator, constants)
            den_of = _getter(self.evaluator, m.denominator, constants)
            pairs = [(num_of(r), den_of(r)) for r in records]
            used = [(as_number(a, m.numerator, "a ratio"), as_number(b, m.denominator, "a ratio"))
                    for a, b in pairs if a is not None and b is not None]
            return measures.RatioSums(len(pairs), len(used), common.fsum(a for a, _ in used),
                                      common.fsum(b for _, b in used),
                                      tuple(i for i, (a, _b) in zip(ids, pairs) if a),
                                      (common.fsum(a * a for a, _ in used), common.fsum(b * b for _, b in used),
                                       common.fsum(a * b for a, b in used)))
        assert m.expr is not None
        get = _getter(self.evaluator, m.expr, constants)
        values = [get(r) for r in records]
        evidence = tuple(i for i, v in zip(ids, values) if measures.is_evidence(v))
        known = [v for v in values if v is not None]
        measured = len(values)
        if family is measures.Truths:
            return measures.Truths(measured, len(known), sum(1 for v in known if v), evidence)
        if family is measures.First:
            return measures.First(measured, len(known), values[0] if values else None, evidence)
        what = f"a {m.kind} measure"
        nums = [as_number(v, m.expr, what) for v in known]
        if family is measures.Promoters:
            return measures.Promoters(measured, len(nums), sum(1 for v in nums if v >= measures.PROMOTER_MIN),
                                      sum(1 for v in nums if v <= measures.DETRACTOR_MAX), evidence)
        if family is measures.Total:
            return measures.Total(measured, len(nums), common.fsum(nums), evidence, common.fsum(x * x for x in nums))
        if family is measures.Extreme:
            extreme = (min if m.kind == "min" else max)(nums) if nums else None
            return measures.Extreme(measured, len(nums), extreme, evidence)
        nums.sort()
        ranks = measures.ranks(len(nums), measures.percentile_p(m), self.scheme.confidence.level)
        return measures.Ranked(measured, len(nums), tuple(nums[r] for r in ranks), evidence)

    # -- subjects
    def measured(self, records: Sequence[Record]) -> tuple[dict[str, MeasureResult], dict[str, MeasureResult]]:
        """One subject's indicators and vetoes' ``when`` measured (what scoring.Subjects holds per subject)."""
        records = sorted(records, key=lambda r: id_text(r.get(self.id_field)) or "")
        return ({ind.id: self.measure(ind.measure, records) for ind in self.scheme.indicators},
                {veto.id: self.measure(veto.when, records) for veto in self.scheme.vetoes if veto.when is not None})


def score(scheme: Scheme, dataset: Dataset, *, by: Sequence[str] | None = None,
          progress: Progress | None = None) -> Run:
    """Score every subject of ``dataset`` with one scheme version; ``progress(n)`` is told of n records done."""
    grouping = Grouping.of(scheme, by)
    engine = RowEngine(scheme)
    derived, problems = engine.derive(dataset.records, dataset.origins)
    groups: dict[tuple[str, ...], tuple[dict[str, str], str | None, list[Record]]] = {}
    for rec, (source, row) in derived:
        label = None
        if grouping.period is not None:
            day = grouping.period_day(rec)
            if day is None:
                problems.append(no_period_problem(scheme, source, row, rec))
                continue
            label = grouping.period_label(day)
        keys = grouping.keys(rec)
        groups.setdefault(subject_order(keys, label), (keys, label, []))[2].append(rec)
    subjects = [group for _, group in sorted(groups.items())]
    measured = []
    for _, _, recs in subjects:
        measured.append(engine.measured(recs))
        if progress is not None:
            progress(len(recs))
    cards = build_scorecards(scheme, Subjects(
        [grouping.subject(keys, label) for keys, label, _ in subjects], [keys for keys, _, _ in subjects],
        [label for _, label, _ in subjects], [len(recs) for _, _, recs in subjects],
        {ind.id: [m[ind.id] for m, _ in measured] for ind in scheme.indicators},
        {veto.id: [w[veto.id] for _, w in measured] for veto in scheme.vetoes if veto.when is not None}))
    all_problems = tuple(sorted([*dataset.problems, *problems], key=_problem_order))
    return Run((scheme,), tuple(cards), all_problems, dataset, grouping.fields, {"by": list(by) if by else None})


def score_versions(schemes: Sequence[Scheme], read: Callable[[RecordContract], Dataset], *,
                   by: Sequence[str] | None = None, as_of: dt.date | None = None,
                   progress: Progress | None = None) -> Run:
    """Score each subject period with the version in force at the start of that period (see routing).

    ``read`` types the input against a version's record contract; each version reads
    the rows with its own contract, and every row is scored by exactly one version
    or rejected, so counts still reconcile.
    """
    ordered = routing.versions_to_use(schemes, as_of)
    if len(ordered) == 1:
        run = score(ordered[0], read(ordered[0].records), by=by, progress=progress)
        return run if as_of is None else dataclasses.replace(run, options={**run.options, "as_of": as_of.isoformat()})
    datasets = [read(s.records) for s in ordered]
    accepted = [dict(zip(ds.origins, ds.records)) for ds in datasets]
    reasons: list[dict[Origin, list[Problem]]] = []
    for ds in datasets:
        by_origin: dict[Origin, list[Problem]] = {}
        for p in ds.problems:
            by_origin.setdefault((p.source, p.row), []).append(p)
        reasons.append(by_origin)
    origins = sorted({o for ds in datasets for o in (*ds.origins, *((p.source, p.row) for p in ds.problems))},
                     key=lambda o: (_input_order(datasets[-1], o[0]), o[1]))
    chosen_rows: list[list[tuple[Record, Origin]]] = [[] for _ in ordered]
    rejected: list[Problem] = []
    for origin in origins:
        read_by = [origin in a for a in accepted]
        start = routing.first_start(routing.period_start(s, a[origin]) if origin in a else None
                                    for s, a in zip(ordered, accepted))
        decision = routing.decide(ordered, read_by, start)
        k = decision.version
        if decision.outcome == "scored":
            assert k is not None
            chosen_rows[k].append((accepted[k][origin], origin))
        elif decision.outcome == "refused":
            assert k is not None
            rejected.extend(reasons[k][origin])
        elif decision.outcome == "no-version":
            assert start is not None
            rec = next(a[origin] for a in accepted if origin in a)
            rejected.append(routing.no_version_problem(ordered, *origin, rec.get(ordered[-1].records.id), start))
        else:  # read by none, or by some that found no period day (then it belongs to no period)
            why = routing.reasons_for_unread([r.get(origin, []) for r in reasons])
            if not why:
                k = max(j for j, a in enumerate(accepted) if origin in a)
                why = [no_period_problem(ordered[k], *origin, accepted[k][origin])]
            rejected.extend(why)
    runs = []
    for k, scheme in enumerate(ordered):
        if chosen_rows[k]:
            part = dataclasses.replace(datasets[k], records=tuple(r for r, _ in chosen_rows[k]),
                                       origins=tuple(o for _, o in chosen_rows[k]), problems=())
            runs.append(score(scheme, part, by=by, progress=progress))
    cards = sorted((c for r in runs for c in r.scorecards), key=lambda c: subject_order(c.keys, c.period))
    all_problems = sorted([*rejected, *(p for r in runs for p in r.problems)], key=_problem_order)
    used = tuple(s for k, s in enumerate(ordered) if chosen_rows[k]) or (ordered[-1],)
    combined = dataclasses.replace(datasets[-1], records=(), origins=(), problems=tuple(all_problems))
    fields = runs[0].group_by if runs else group_fields(ordered[-1], by)
    return Run(used, tuple(cards), tuple(all_problems), combined, fields, {"by": list(by) if by else None})


class RowsEngine:
    """The reference engine behind the engine protocol: it reads file paths, Datasets and Arrow data."""

    name = "rows"

    def evaluate(self, schemes: Sequence[Scheme], source: Source, options: RunOptions, *,
                 progress: Progress | None = None) -> Run:
        run = score_versions(schemes, reader(source, options), by=options.by, as_of=options.as_of,
                             progress=progress)
        return dataclasses.replace(run, options=options.manifest_dict(self.name))

    def read(self, source: Source, contract: RecordContract, options: RunOptions) -> DatasetRows:
        return DatasetRows(reader(source, options)(contract))


ENGINE = RowsEngine()


def reader(source: Source, options: RunOptions) -> Callable[[RecordContract], Dataset]:
    """A function typing ``source`` against a version's record contract.

    A Dataset is already typed: every version scores it as it is. Arrow data is a table
    in memory, read as a Parquet file is (records.arrow). Files and tables read here have
    the contract's personal fields de-identified at once (privacy.protect).
    """
    if isinstance(source, DatasetRows):
        return lambda _contract: source.dataset
    if isinstance(source, Dataset):
        return lambda _contract: source
    key = options.pseudonymise_key
    if isinstance(source, ArrowStream):
        from ..records.arrow import table_of

        table = table_of(source)  # converted and hashed once, typed against each version's contract
        return lambda contract: protect(records_from_table(table, contract), contract, key)
    paths = source_paths(source)
    assert paths is not None
    return lambda contract: protect(read_records(list(paths), contract, encoding=options.encoding,
                                                 sheet=options.sheet), contract, key)


def _problem_order(p: Problem) -> tuple[str, int, str]:
    return p.source, p.row, p.field or ""


def _input_order(ds: Dataset, source: str) -> int:
    return next((i for i, f in enumerate(ds.inputs) if f.path == source), len(ds.inputs))
