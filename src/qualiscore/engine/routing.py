"""Versions in force: which scheme version scores which subject period.

Given several versions of a scheme, each subject period is scored by the version in
force at the start of that period. Every version reads every row with its own record
contract; a row's period starts at the period start the first version that read it
(and found a period day) gives it. Then, for each row:

* the version in force on that day read it: that version scores it;
* that version could not read it: it is rejected with that version's reasons;
* no version is in force on that day: it is rejected as ``no-version``;
* no version read it (or none found a period day): the newest version's reasons,
  else those of the first version that gave any.

The decision depends only on which versions read the row and its period start, of
which a run has few distinct values, so a vectorised engine calls :func:`decide` (or
:func:`route`) once per distinct value and maps its rows by lookup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import UsageError
from ..i18n import _
from ..model import Scheme
from ..records import Problem
from .subjects import as_date, key_text, period_bounds

__all__ = [
    "Decision",
    "decide",
    "first_start",
    "no_version_problem",
    "period_start",
    "reasons_for_unread",
    "route",
    "version_in_force",
    "versions_to_use",
]


def versions_to_use(schemes: Sequence[Scheme], as_of: dt.date | None) -> tuple[Scheme, ...]:
    """The versions a run scores with, oldest first: the one in force on ``as_of``, the only one, or all to route.

    Routing needs a period in every version: without one it is a usage error.
    """
    ordered = sorted(schemes, key=lambda s: s.effective_from)
    if as_of is not None:
        return (version_in_force(ordered, as_of),)
    if len(ordered) > 1 and any(s.subject.period is None for s in ordered):
        raise UsageError(_("these versions have no subject.period, so records cannot be routed by date"),
                         hint=_("give one version file, or choose one with --as-of YYYY-MM-DD"))
    return tuple(ordered)


def version_in_force(ordered: Sequence[Scheme], day: dt.date) -> Scheme:
    """The version `--as-of DAY` asks for, or a usage error listing the ranges there are."""
    k = route(ordered, day)
    if k is None:
        ranges = ", ".join(f"{s.version} {s.effective_from}…{s.effective_to or ''}" for s in ordered)
        raise UsageError(_("no version is in force on {day}", day=day), hint=_("versions: {ranges}", ranges=ranges))
    return ordered[k]


def route(ordered: Sequence[Scheme], start: dt.date) -> int | None:
    """The index of the (first) version in force on ``start``; None when none is."""
    return next((k for k, s in enumerate(ordered) if s.covers(start)), None)


def period_start(scheme: Scheme, record: Mapping[str, Any]) -> dt.date | None:
    """The first day of the record's period under ``scheme``; None when it has no period day."""
    period = scheme.subject.period
    day = as_date(record.get(period.field)) if period is not None else None
    return period_bounds(day, period.every)[1] if day is not None and period is not None else None


def first_start(starts: Iterable[dt.date | None]) -> dt.date | None:
    """The row's period start: from the first version, oldest first, that read it and gave it one.

    ``starts[k]`` is None when version k did not read the row or found no period day.
    """
    return next((s for s in starts if s is not None), None)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one row read: scored or rejected, and by which version's rules."""

    outcome: Literal["scored", "refused", "no-version", "unread"]
    version: int | None  # scored, refused: the version in force on start; else None
    start: dt.date | None


def decide(ordered: Sequence[Scheme], read: Sequence[bool], start: dt.date | None) -> Decision:
    """The fate of a row that the versions in ``read`` (by index) read, whose period starts on ``start``."""
    if start is None:
        return Decision("unread", None, None)
    k = route(ordered, start)
    if k is None:
        return Decision("no-version", None, start)
    return Decision("scored" if read[k] else "refused", k, start)


def no_version_problem(ordered: Sequence[Scheme], source: str, row: int, record_id: Any,
                       start: dt.date) -> Problem:
    """The rejection of a row whose period starts on a day no version is in force (``record_id`` as read)."""
    return Problem(source, row, key_text(record_id), None, None, "no-version",
                   _("no version of {scheme} is in force on {day}", scheme=ordered[0].id, day=start))


def reasons_for_unread(per_version: Sequence[Sequence[Problem]]) -> Sequence[Problem]:
    """Why no version read a row: the newest version's reasons, else the first version's that gave any."""
    return per_version[-1] or next((p for p in per_version if p), ())
