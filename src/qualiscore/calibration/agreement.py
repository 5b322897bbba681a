"""Agreement per item and for the total score, and each reviewer's distance from the consensus."""

from __future__ import annotations

import statistics as stats
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import evaluate
from ..engine.subjects import key_text
from ..model import AgreementLevel, Scheme
from ..records import Dataset, Problem
from . import statistics
from .reviews import calibration_of, read_reviews

TOTAL = "total"  # the row of the form's total score, after the items
# Interval and ratio ratings disagree with the consensus (their mean) when this far from it or farther.
HALF_UNIT = 0.5


@dataclass(frozen=True, slots=True)
class ItemAgreement:
    """How well the reviewers agree on one item (or on the total score)."""

    item: str  # a field name, or TOTAL
    level: AgreementLevel
    records: int  # records rated by at least two reviewers: what alpha compares
    reviewers: int  # reviewers who rated any of them
    alpha: float | None  # Krippendorff's alpha at ``level``; None when undefined
    kappa_kind: str  # "cohen" (two reviewers), "fleiss" (more), "" (none computed)
    kappa: float | None  # on the ``kappa_records`` every reviewer rated; for the total, on the grades
    kappa_records: int
    agreement: float | None  # pairwise percent agreement (for the total: of the grades)
    calibrated: bool  # alpha ≥ min_alpha (undefined alpha: only when every rating is equal)


@dataclass(frozen=True, slots=True)
class ReviewerItem:
    """One reviewer against the consensus on one item."""

    item: str
    rated: int  # ratings compared: records with a consensus that this reviewer rated
    disagreement: float | None  # share of them that differ from the consensus
    mean_difference: float | None  # mean of (rating − consensus): > 0 lenient, < 0 strict; None for text


@dataclass(frozen=True, slots=True)
class ReviewerDeviation:
    """One reviewer's distance from the others: per item, and on the total score."""

    reviewer: str
    rows: int
    items: tuple[ReviewerItem, ...]
    total_difference: float | None  # mean of (total score − the record's mean total score)


@dataclass(frozen=True, slots=True)
class Calibrated:
    """The result of one calibration: per item and total, per reviewer, and the rows read."""

    scheme: Scheme
    min_alpha: float
    items: tuple[ItemAgreement, ...]  # the items in calibration order, then TOTAL
    reviewers: tuple[ReviewerDeviation, ...]
    dataset: Dataset  # the reviewers' rows used, and the rejected ones with their reasons
    unscored: tuple[Problem, ...] = ()  # rows used for the items that the form could not score

    @property
    def calibrated(self) -> bool:
        """Whether every item and the total reach min_alpha: what the exit status says."""
        return all(i.calibrated for i in self.items)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.dataset.problems


def calibrate(scheme: Scheme, source: Sequence[str | Path] | Dataset, *, encoding: str | None = None,
              sheet: str | None = None) -> Calibrated:
    """Compare the reviewers of ``source`` (result files, or reviews already read) on ``scheme``'s items."""
    calibration = calibration_of(scheme)
    dataset = source if isinstance(source, Dataset) else read_reviews(source, scheme, encoding=encoding,
                                                                         sheet=sheet)
    records = list(dict.fromkeys(r[scheme.records.id] for r in dataset.records))
    reviewers = sorted({key_text(r[calibration.reviewer]) for r in dataset.records})
    column = {rid: j for j, rid in enumerate(records)}
    row = {name: i for i, name in enumerate(reviewers)}
    ratings: dict[str, list[list[Any]]] = {item: [[None] * len(records) for _ in reviewers]
                                             for item in calibration.items}
    by_reviewer: dict[str, list[dict[str, Any]]] = {name: [] for name in reviewers}
    origins: dict[str, list[tuple[str, int]]] = {name: [] for name in reviewers}
    for record, origin in zip(dataset.records, dataset.origins):
        i, j = row[key_text(record[calibration.reviewer])], column[record[scheme.records.id]]
        for item in calibration.items:
            ratings[item][i][j] = record[item]
        by_reviewer[reviewers[i]].append(record)
        origins[reviewers[i]].append(origin)
    totals, grades, unscored = _totals(scheme, reviewers, by_reviewer, origins, column, len(records))

    items = [_agreement(item, calibration.levels[item], ratings[item], calibration.min_alpha)
             for item in calibration.items]
    items.append(_agreement(TOTAL, "interval", totals, calibration.min_alpha, kappa_of=grades))
    consensus = {item: _consensus(ratings[item], calibration.levels[item]) for item in calibration.items}
    total_consensus = _consensus(totals, "interval")
    deviations = tuple(
        ReviewerDeviation(
            name, len(by_reviewer[name]),
            tuple(_deviation(item, ratings[item][i], consensus[item], calibration.levels[item])
                  for item in calibration.items),
            _deviation(TOTAL, totals[i], total_consensus, "interval").mean_difference)
        for i, name in enumerate(reviewers))
    return Calibrated(scheme, calibration.min_alpha, tuple(items), deviations, dataset, unscored)


def _totals(scheme: Scheme, reviewers: Sequence[str], by_reviewer: Mapping[str, list[dict[str, Any]]],
            origins: Mapping[str, list[tuple[str, int]]], column: Mapping[Any, int],
            width: int) -> tuple[list[list[Any]], list[list[Any]], tuple[Problem, ...]]:
    """Each reviewer's rows scored with the form itself: total scores and grades, reviewers × records."""
    totals: list[list[Any]] = []
    grades: list[list[Any]] = []
    unscored: list[Problem] = []
    ids = {key_text(rid): j for rid, j in column.items()}
    for name in reviewers:
        score_row: list[Any] = [None] * width
        grade_row: list[Any] = [None] * width
        rows = Dataset(tuple(by_reviewer[name]), tuple(origins[name]), (), ())
        run = evaluate(scheme, rows)
        unscored.extend(run.problems)
        for card in run.scorecards:
            j = ids.get(card.subject)
            if j is not None and card.score is not None:
                score_row[j], grade_row[j] = card.score, card.grade
        totals.append(score_row)
        grades.append(grade_row)
    return totals, grades, tuple(sorted(unscored, key=lambda p: (p.source, p.row)))


def _numbers(matrix: Sequence[Sequence[Any]]) -> list[list[float | None]]:
    """Ratings as numbers for the statistics: booleans 0/1, text by its rank among the values given."""
    texts = sorted({v for row in matrix for v in row if isinstance(v, str)})
    rank = {t: float(k) for k, t in enumerate(texts)}
    return [[None if v is None else rank[v] if isinstance(v, str) else float(v) for v in row] for row in matrix]


def _agreement(item: str, level: AgreementLevel, matrix: Sequence[Sequence[Any]], min_alpha: float, *,
               kappa_of: Sequence[Sequence[Any]] | None = None) -> ItemAgreement:
    numbers = _numbers(matrix)
    rated = [j for j, column in enumerate(zip(*numbers)) if sum(v is not None for v in column) >= 2]
    raters = sum(1 for r in numbers if any(r[j] is not None for j in rated))
    alpha = statistics.alpha(numbers, level)
    categorical = _numbers(kappa_of) if kappa_of is not None else numbers
    full = statistics.complete(categorical)
    kind, kappa = statistics.kappa(full)
    agreement = statistics.percent_agreement(categorical)
    calibrated = alpha >= min_alpha if alpha is not None else bool(rated) and agreement == 1.0
    return ItemAgreement(item, level, len(rated), raters, alpha, kind, kappa, len(full), agreement, calibrated)


def _consensus(matrix: Sequence[Sequence[Any]], level: AgreementLevel) -> list[Any]:
    """Per record: the majority value (nominal, ordinal; None on a tie), or the mean (interval, ratio)."""
    out: list[Any] = []
    for column in zip(*matrix):
        values = [v for v in column if v is not None]
        if len(values) < 2:
            out.append(None)
        elif level in ("interval", "ratio"):
            out.append(stats.fmean(float(v) for v in values))
        else:
            ranked = Counter(values).most_common(2)
            out.append(ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else None)
    return out


def _deviation(item: str, ratings: Sequence[Any], consensus: Sequence[Any], level: AgreementLevel) -> ReviewerItem:
    pairs = [(v, c) for v, c in zip(ratings, consensus) if v is not None and c is not None]
    if not pairs:
        return ReviewerItem(item, 0, None, None)
    if level in ("interval", "ratio"):
        differ = [abs(float(v) - c) >= HALF_UNIT for v, c in pairs]
    else:
        differ = [v != c for v, c in pairs]
    numeric = all(not isinstance(v, str) for v, _ in pairs)
    mean = stats.fmean(float(v) - float(c) for v, c in pairs) if numeric else None
    return ReviewerItem(item, len(pairs), sum(differ) / len(pairs), mean)
