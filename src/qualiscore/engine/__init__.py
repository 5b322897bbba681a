"""Evaluation: records in, scorecards out.

`rows` is the reference engine. Grouping into subjects and periods, and routing
each subject period to the scheme version in force, happen here, once, for every
engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Location, RejectLimitError, UsageError
from ..model import RecordContract, Scheme
from ..records import Dataset, Problem
from ..scorecard import Scorecard
from .common import as_date, key_text, period_bounds


@dataclass(frozen=True, slots=True)
class Run:
    """The result of one evaluation, with everything the manifest records."""

    schemes: tuple[Scheme, ...]
    scorecards: tuple[Scorecard, ...]
    problems: tuple[Problem, ...]
    dataset: Dataset
    group_by: tuple[str, ...]
    options: dict[str, Any]

    @property
    def rows_read(self) -> int:
        return self.dataset.rows_read

    @property
    def rows_rejected(self) -> int:
        return len({(p.source, p.row) for p in self.problems})

    @property
    def rows_scored(self) -> int:
        return self.rows_read - self.rows_rejected

    def check_reject_limit(self, limit: str | None) -> None:
        """Refuse to publish a run whose input is too bad (``--max-rejects N`` or ``P%``)."""
        if limit is None:
            return
        text = limit.strip()
        try:
            share = float(text[:-1]) if text.endswith("%") else None
            count = None if share is not None else int(text)
        except ValueError:
            share = count = None
        if (share is None and count is None) or (share is not None and not 0 <= share <= 100) or (
                count is not None and count < 0):
            raise UsageError(f"--max-rejects {limit!r} is neither a count (0 or more) nor a percentage (0%–100%)",
                             hint="write e.g. --max-rejects 100 or --max-rejects 2%")
        allowed = self.rows_read * share / 100 if share is not None else count
        if self.rows_rejected > allowed:
            worst = max(self.dataset.inputs, key=lambda i: i.rows_rejected, default=None)
            raise RejectLimitError(
                f"{self.rows_rejected} of {self.rows_read} rows were rejected, more than --max-rejects {limit}; "
                "nothing was written",
                location=Location(worst.path) if worst else None,
                hint="run without --max-rejects to write rejects.csv and see why, fix the export, "
                     "or raise the limit",
            )


def group_fields(scheme: Scheme, by: Sequence[str] | None) -> tuple[str, ...]:
    if not by:
        return scheme.subject.group_by
    names = {f.name for f in scheme.records.fields}
    unknown = [b for b in by if b not in names]
    if unknown:
        raise UsageError(f"--by {','.join(unknown)}: not a field of the record contract of {scheme.id}",
                         hint=f"choose from: {', '.join(sorted(names))}")
    if any(i.measure.kind == "value" for i in scheme.indicators):
        raise UsageError("--by cannot regroup a record-level scheme (it uses `value` measures)")
    return tuple(by)


Progress = Callable[[int], None]


def evaluate(scheme: Scheme, dataset: Dataset, *, by: Sequence[str] | None = None,
             progress: Progress | None = None) -> Run:
    """Score every subject of ``dataset`` with one scheme version; ``progress(n)`` is told of n records done."""
    from .rows import RowEngine

    fields = group_fields(scheme, by)
    engine = RowEngine(scheme)
    derived, problems = engine.derive(dataset.records, dataset.origins)
    groups: dict[tuple[Any, ...], tuple[str, dict[str, str], str | None, list[dict[str, Any]]]] = {}
    period = scheme.subject.period
    id_field = scheme.records.id
    for rec, (source, row) in derived:
        label = None
        if period is not None:
            day = as_date(rec.get(period.field))
            if day is None:
                problems.append(Problem(source, row, key_text(rec.get(id_field)), period.field, None, "no-period",
                                        f"{period.field} is empty, so the record belongs to no period"))
                continue
            label = period_bounds(day, period.every)[0]
        if fields:
            keys = {f: key_text(rec.get(f)) or "(none)" for f in fields}
            subject = "/".join([*keys.values(), *([label] if label else [])])
        else:
            keys = {id_field: key_text(rec.get(id_field))}
            subject = keys[id_field]
        sort_key = (*keys.values(), label or "")
        groups.setdefault(sort_key, (subject, keys, label, []))[3].append(rec)
    cards = []
    for _, (subject, keys, label, recs) in sorted(groups.items()):
        cards.append(engine.scorecard(subject, keys, label, recs))
        if progress is not None:
            progress(len(recs))
    all_problems = tuple(sorted([*dataset.problems, *problems], key=lambda p: (p.source, p.row, p.field or "")))
    return Run((scheme,), tuple(cards), all_problems, dataset, fields, {"by": list(by) if by else None})


def evaluate_versions(schemes: Sequence[Scheme], read: Callable[[RecordContract], Dataset], *,
                      by: Sequence[str] | None = None, as_of: dt.date | None = None,
                      progress: Progress | None = None) -> Run:
    """Score each subject period with the version in force at the start of that period.

    ``read`` types the input against a version's record contract; each version reads
    the rows with its own contract, and every row is scored by exactly one version
    or rejected, so counts still reconcile.
    """
    ordered = sorted(schemes, key=lambda s: s.effective_from)
    if as_of is not None:
        chosen = version_in_force(ordered, as_of)
        run = evaluate(chosen, read(chosen.records), by=by, progress=progress)
        return dataclasses.replace(run, options={**run.options, "as_of": as_of.isoformat()})
    if len(ordered) == 1:
        return evaluate(ordered[0], read(ordered[0].records), by=by, progress=progress)
    if any(s.subject.period is None for s in ordered):
        raise UsageError("these versions have no subject.period, so records cannot be routed by date",
                         hint="give one version file, or choose one with --as-of YYYY-MM-DD")
    datasets = [read(s.records) for s in ordered]
    accepted = [dict(zip(ds.origins, ds.records)) for ds in datasets]
    problems: list[dict[tuple[str, int], list[Problem]]] = []
    for ds in datasets:
        by_origin: dict[tuple[str, int], list[Problem]] = {}
        for p in ds.problems:
            by_origin.setdefault((p.source, p.row), []).append(p)
        problems.append(by_origin)
    origins = sorted({o for ds in datasets for o in (*ds.origins, *((p.source, p.row) for p in ds.problems))},
                     key=lambda o: (_input_order(datasets[-1], o[0]), o[1]))
    chosen_rows: list[list[tuple[dict[str, Any], tuple[str, int]]]] = [[] for _ in ordered]
    rejected: list[Problem] = []
    for origin in origins:
        start = _period_start(ordered, accepted, origin)
        if start is None:  # no version could read the row: report the newest version's reasons
            rejected.extend(problems[-1].get(origin) or next(p[origin] for p in problems if origin in p))
            continue
        k = next((i for i, s in enumerate(ordered) if s.covers(start)), None)
        if k is None:
            rec = next(a[origin] for a in accepted if origin in a)
            rejected.append(Problem(origin[0], origin[1], key_text(rec.get(ordered[-1].records.id)), None, None,
                                    "no-version", f"no version of {ordered[0].id} is in force on {start}"))
        elif origin in accepted[k]:
            chosen_rows[k].append((accepted[k][origin], origin))
        else:
            rejected.extend(problems[k][origin])
    runs = []
    for k, scheme in enumerate(ordered):
        if chosen_rows[k]:
            part = dataclasses.replace(datasets[k], records=tuple(r for r, _ in chosen_rows[k]),
                                       origins=tuple(o for _, o in chosen_rows[k]), problems=())
            runs.append(evaluate(scheme, part, by=by, progress=progress))
    cards = sorted((c for r in runs for c in r.scorecards), key=lambda c: (*c.keys.values(), c.period or ""))
    all_problems = sorted([*rejected, *(p for r in runs for p in r.problems)],
                          key=lambda p: (p.source, p.row, p.field or ""))
    used = tuple(s for k, s in enumerate(ordered) if chosen_rows[k]) or (ordered[-1],)
    combined = dataclasses.replace(datasets[-1], records=(), origins=(), problems=tuple(all_problems))
    fields = runs[0].group_by if runs else group_fields(ordered[-1], by)
    return Run(used, tuple(cards), tuple(all_problems), combined, fields, {"by": list(by) if by else None})


def version_in_force(ordered: Sequence[Scheme], day: dt.date) -> Scheme:
    """The version `--as-of DAY` asks for, or a usage error listing the ranges there are."""
    chosen = next((s for s in ordered if s.covers(day)), None)
    if chosen is None:
        ranges = ", ".join(f"{s.version} {s.effective_from}…{s.effective_to or ''}" for s in ordered)
        raise UsageError(f"no version is in force on {day}", hint=f"versions: {ranges}")
    return chosen


def _input_order(ds: Dataset, source: str) -> int:
    return next((i for i, f in enumerate(ds.inputs) if f.path == source), len(ds.inputs))


def _period_start(ordered: Sequence[Scheme], accepted: Sequence[dict[tuple[str, int], dict[str, Any]]],
                  origin: tuple[str, int]) -> dt.date | None:
    for scheme, rows in zip(ordered, accepted):
        rec = rows.get(origin)
        period = scheme.subject.period
        if rec is not None and period is not None:
            day = as_date(rec.get(period.field))
            if day is not None:
                return period_bounds(day, period.every)[1]
    return None
