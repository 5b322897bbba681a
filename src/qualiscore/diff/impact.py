"""What a revision does to real data: the same records scored with both versions, compared.

Each version reads the records with its own record contract; effective dates are
ignored on purpose, since the point is to back-test new rules on old data. The
:class:`Impact` is computed once and every renderer formats the same value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._display import mean
from .._plain import is_number
from ..errors import UsageError
from ..i18n import N_, _
from ..model import Scheme
from ..options import RunOptions
from ..privacy import joint
from ..scorecard import Scorecard, rounded

if TYPE_CHECKING:
    from ..engine import Run

NO_GRADE = N_("(none)")  # the grade column/row of subjects without a grade (or absent from one run); shown translated
TOP_MOVES = 10


@dataclass(frozen=True, slots=True)
class IndicatorDelta:
    """How much one indicator's contribution to a subject's score moved (points of the total)."""

    id: str
    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old


@dataclass(frozen=True, slots=True)
class SubjectMove:
    """One subject's score and grade under both versions; ``causes`` largest first."""

    subject: str
    old_grade: str | None
    new_grade: str | None
    old_score: float | None
    new_score: float | None
    delta: float | None
    causes: tuple[IndicatorDelta, ...] = ()
    # The share of plausible draws of the indicators that keep each grade (engine.stability).
    old_stability: float | None = None
    new_stability: float | None = None
    uncertain: bool = False  # either grade is uncertain: more records could change it

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
            "old_score": self.old_score,
            "new_score": self.new_score,
            "delta": self.delta,
            "old_stability": self.old_stability,
            "new_stability": self.new_stability,
            "uncertain": self.uncertain,
            "causes": [{"indicator": c.id, "old": c.old, "new": c.new, "delta": _round(c.delta, 6)}
                       for c in self.causes],
        }


@dataclass(frozen=True, slots=True)
class IndicatorMean:
    """Means over subjects of an indicator's points and value (over subjects where it was scored)."""

    id: str
    dimension: str
    old_points: float | None
    new_points: float | None
    old_value: float | None
    new_value: float | None
    old_n: int
    new_n: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "dimension": self.dimension, "old_points": self.old_points,
                "new_points": self.new_points, "old_value": self.old_value, "new_value": self.new_value,
                "old_n": self.old_n, "new_n": self.new_n}


@dataclass(frozen=True, slots=True)
class DimensionMean:
    """Mean dimension score over subjects where the dimension counted."""

    id: str
    old_score: float | None
    new_score: float | None
    old_n: int
    new_n: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "old_score": self.old_score, "new_score": self.new_score,
                "old_n": self.old_n, "new_n": self.new_n}


@dataclass(frozen=True, slots=True)
class Impact:
    """What scoring the same records with both versions changes.

    ``matrix[i][j]`` counts subjects with old grade ``grades[i]`` and new grade
    ``grades[j]``; ``grades`` ends with ``(none)`` (no grade, or no scorecard in that
    run); the counts add up to ``subjects``.
    """

    data: tuple[str, ...]
    old_version: str
    new_version: str
    rows_read: int
    old_rejected: int
    new_rejected: int
    subjects: int
    grades: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    grade_changes: tuple[SubjectMove, ...]
    movements: tuple[SubjectMove, ...]
    indicators: tuple[IndicatorMean, ...]
    dimensions: tuple[DimensionMean, ...]
    vetoes_triggered: tuple[tuple[str, str], ...]
    vetoes_cleared: tuple[tuple[str, str], ...]
    old_mean_score: float | None
    new_mean_score: float | None
    decimals: int = 2
    # Subjects whose grade under either version is uncertain, least stable first.
    uncertain: tuple[SubjectMove, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": list(self.data),
            "old_version": self.old_version,
            "new_version": self.new_version,
            "rows_read": self.rows_read,
            "old_rejected": self.old_rejected,
            "new_rejected": self.new_rejected,
            "subjects": self.subjects,
            "mean_score": {"old": self.old_mean_score, "new": self.new_mean_score},
            "grades": list(self.grades),
            "matrix": [list(row) for row in self.matrix],
            "grade_changes": [m.as_dict() for m in self.grade_changes],
            "movements": [m.as_dict() for m in self.movements],
            "indicators": [i.as_dict() for i in self.indicators],
            "dimensions": [d.as_dict() for d in self.dimensions],
            "vetoes_triggered": [{"subject": s, "veto": v} for s, v in self.vetoes_triggered],
            "vetoes_cleared": [{"subject": s, "veto": v} for s, v in self.vetoes_cleared],
            "uncertain": [m.as_dict() for m in self.uncertain],
        }


def _round(x: float | None, decimals: int) -> float | None:
    """``x`` rounded for output: None for no value or a non-finite one, and never ``-0.0``."""
    if x is None or not math.isfinite(x):
        return None
    value = round(x, decimals)
    return 0.0 if value == 0 else value


def _numeric(v: Any) -> float | None:
    """An indicator value as a number to average (true is 1), or None."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if is_number(v) and math.isfinite(v):
        return float(v)
    return None


def impact(old_scheme: Scheme, new_scheme: Scheme, paths: Sequence[str | os.PathLike[str]] | str,
           encoding: str | None = None, pseudonymise_key: bytes | None = None) -> Impact:
    """Score ``paths`` with both versions (each reading them with its own contract) and compare.

    Effective dates are ignored: the point is to back-test the new rules on old data.
    Subjects are matched by subject key. A field either version declares personal is
    de-identified on both sides (privacy.joint), so no raw value is shown and subjects still meet.
    """
    files = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    if bool(old_scheme.sources) != bool(new_scheme.sources):
        one, several = (old_scheme, new_scheme) if new_scheme.sources else (new_scheme, old_scheme)
        raise UsageError(
            _("{one} reads one table and {several} reads the record sources {sources}, so no one set of records "
              "is scored by both", one=one.version, several=several.version,
              sources=", ".join(s.name for s in several.sources)),
            hint=_("compare the rules without --data, and score each version on its own data with `qualiscore "
                   "evaluate`; or write the next version with the same sources (`qualiscore revise`)"))
    old_scheme, new_scheme = joint(old_scheme, new_scheme), joint(new_scheme, old_scheme)
    old_run = _run(old_scheme, files, encoding, pseudonymise_key)
    new_run = _run(new_scheme, files, encoding, pseudonymise_key)
    decimals = max(old_scheme.decimals, new_scheme.decimals)
    old_cards = {c.subject: c for c in old_run.scorecards}
    new_cards = {c.subject: c for c in new_run.scorecards}
    subjects = [*old_cards, *(s for s in new_cards if s not in old_cards)]

    grades = _grade_order(old_scheme, new_scheme)
    index = {g: i for i, g in enumerate(grades)}
    matrix = [[0] * len(grades) for _grade in grades]
    moves: list[tuple[float, SubjectMove]] = []
    changed: list[SubjectMove] = []
    uncertain: list[SubjectMove] = []
    for subject in subjects:
        old_card, new_card = old_cards.get(subject), new_cards.get(subject)
        old_grade = old_card.grade if old_card is not None and old_card.grade is not None else None
        new_grade = new_card.grade if new_card is not None and new_card.grade is not None else None
        row = index.get(old_grade or NO_GRADE, index[NO_GRADE])
        matrix[row][index.get(new_grade or NO_GRADE, index[NO_GRADE])] += 1
        old_score = old_card.score if old_card is not None else None
        new_score = new_card.score if new_card is not None else None
        raw_delta = new_score - old_score if old_score is not None and new_score is not None else None
        move = SubjectMove(subject, old_grade, new_grade, rounded(old_score, decimals),
                           rounded(new_score, decimals), _round(raw_delta, decimals),
                           _causes(old_card, new_card, decimals),
                           old_card.stability if old_card is not None else None,
                           new_card.stability if new_card is not None else None,
                           any(c is not None and c.uncertain for c in (old_card, new_card)))
        if old_grade != new_grade:
            changed.append(move)
        if move.uncertain:
            uncertain.append(move)
        if raw_delta is not None:
            moves.append((raw_delta, move))
    moves.sort(key=lambda m: (-abs(m[0]), m[1].subject))
    movements = tuple(m for d, m in moves[:TOP_MOVES] if abs(d) > 1e-9)

    old_vetoes = {(c.subject, v.id) for c in old_run.scorecards for v in c.vetoes}
    new_vetoes = {(c.subject, v.id) for c in new_run.scorecards for v in c.vetoes}
    old_scores = [c.score for c in old_run.scorecards if c.score is not None]
    new_scores = [c.score for c in new_run.scorecards if c.score is not None]
    return Impact(
        data=tuple(files),
        old_version=old_scheme.version,
        new_version=new_scheme.version,
        rows_read=new_run.rows_read,
        old_rejected=old_run.rows_rejected,
        new_rejected=new_run.rows_rejected,
        subjects=len(subjects),
        grades=grades,
        matrix=tuple(tuple(row) for row in matrix),
        grade_changes=tuple(changed),
        movements=movements,
        indicators=_indicator_means(old_scheme, new_scheme, old_run.scorecards, new_run.scorecards, decimals),
        dimensions=_dimension_means(old_scheme, new_scheme, old_run.scorecards, new_run.scorecards, decimals),
        vetoes_triggered=tuple(sorted(new_vetoes - old_vetoes)),
        vetoes_cleared=tuple(sorted(old_vetoes - new_vetoes)),
        old_mean_score=_round(mean(old_scores), decimals),
        new_mean_score=_round(mean(new_scores), decimals),
        decimals=decimals,
        uncertain=tuple(sorted(uncertain, key=lambda m: (_least_stable(m), m.subject))),
    )


def _least_stable(m: SubjectMove) -> float:
    return min(x for x in (m.old_stability, m.new_stability, 1.0) if x is not None)


def _run(scheme: Scheme, files: Sequence[str], encoding: str | None, pseudonymise_key: bytes | None) -> Run:
    """``files`` read with the scheme's own contract and scored as `evaluate` scores them (the engine it
    would choose): the one place this package runs a scheme. Imported here, so that reading a changelog
    (validation) never loads the engine."""
    from ..runs import execute

    return execute(scheme, files, RunOptions(encoding=encoding, pseudonymise_key=pseudonymise_key))


def _grade_order(old: Scheme, new: Scheme) -> tuple[str, ...]:
    """Grades of both versions, highest first (by min, new version's min when both have it), then (none)."""
    mins: dict[str, float] = {g.name: g.min for g in old.grades}
    mins.update({g.name: g.min for g in new.grades})
    position = {g.name: i for i, g in enumerate([*new.grades, *old.grades]) if g.name}
    names = sorted(mins, key=lambda g: (-mins[g], position.get(g, 0)))
    return (*[n for n in names if n != NO_GRADE], NO_GRADE)


def _causes(old: Scorecard | None, new: Scorecard | None, decimals: int) -> tuple[IndicatorDelta, ...]:
    """The indicators whose contribution to the total moved, largest move first."""
    if old is None or new is None:
        return ()
    old_parts = {i.id: i.contribution if i.counted else 0.0 for i in old.indicators}
    new_parts = {i.id: i.contribution if i.counted else 0.0 for i in new.indicators}
    deltas = []
    for iid in [*new_parts, *(k for k in old_parts if k not in new_parts)]:
        a, b = old_parts.get(iid, 0.0), new_parts.get(iid, 0.0)
        if abs(b - a) > 1e-9:
            deltas.append((abs(b - a), iid, a, b))
    deltas.sort(key=lambda d: (-d[0], d[1]))
    return tuple(IndicatorDelta(iid, _round(a, decimals) or 0.0, _round(b, decimals) or 0.0)
                 for _, iid, a, b in deltas)


def _indicator_means(old: Scheme, new: Scheme, old_cards: Sequence[Scorecard], new_cards: Sequence[Scorecard],
                     decimals: int) -> tuple[IndicatorMean, ...]:
    dims = {i.id: d.id for d in old.dimensions for i in d.indicators}
    dims.update({i.id: d.id for d in new.dimensions for i in d.indicators})
    order = [*(i.id for i in new.indicators), *(i.id for i in old.indicators)]
    out = []
    for iid in dict.fromkeys(order):
        stats = []
        for cards in (old_cards, new_cards):
            points, values = [], []
            for card in cards:
                for ind in card.indicators:
                    if ind.id == iid and ind.points is not None:
                        points.append(ind.points)
                        v = _numeric(ind.value)
                        if v is not None:
                            values.append(v)
            stats.append((_round(mean(points), decimals), _round(mean(values), 4), len(points)))
        (old_points, old_value, old_n), (new_points, new_value, new_n) = stats
        out.append(IndicatorMean(iid, dims[iid], old_points, new_points, old_value, new_value, old_n, new_n))
    return tuple(out)


def _dimension_means(old: Scheme, new: Scheme, old_cards: Sequence[Scorecard], new_cards: Sequence[Scorecard],
                     decimals: int) -> tuple[DimensionMean, ...]:
    out = []
    for did in dict.fromkeys([*(d.id for d in new.dimensions), *(d.id for d in old.dimensions)]):
        stats = []
        for cards in (old_cards, new_cards):
            scores = [d.score for c in cards for d in c.dimensions if d.id == did and d.score is not None]
            stats.append((_round(mean(scores), decimals), len(scores)))
        (old_score, old_n), (new_score, new_n) = stats
        out.append(DimensionMean(did, old_score, new_score, old_n, new_n))
    return tuple(out)

