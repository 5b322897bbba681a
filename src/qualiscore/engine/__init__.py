"""Evaluation: records in, scorecards out.

`rows` is the reference engine. Grouping into subjects and periods, and routing
each subject period to the scheme version in force, happen here, once, for every
engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Location, RejectLimitError, UsageError
from ..model import Scheme
from ..records import Dataset, Problem
from ..scorecard import Scorecard
from .common import as_date, key_text, period_bounds

ENGINES = ("rows",)


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
            allowed = self.rows_read * float(text[:-1]) / 100 if text.endswith("%") else int(text)
        except ValueError:
            raise UsageError(f"--max-rejects {limit!r} is neither a count nor a percentage",
                             hint="write e.g. --max-rejects 100 or --max-rejects 2%") from None
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


def evaluate(scheme: Scheme, dataset: Dataset, *, by: Sequence[str] | None = None) -> Run:
    """Score every subject of ``dataset`` with one scheme version."""
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
    cards = tuple(
        engine.scorecard(subject, keys, label, recs)
        for _, (subject, keys, label, recs) in sorted(groups.items())
    )
    all_problems = tuple(sorted([*dataset.problems, *problems], key=lambda p: (p.source, p.row, p.field or "")))
    return Run((scheme,), cards, all_problems, dataset, fields, {"by": list(by) if by else None})
