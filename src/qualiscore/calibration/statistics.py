"""The agreement statistics, computed by well-kept libraries: the one place they are called.

Krippendorff's alpha comes from the ``krippendorff`` package, Cohen's and Fleiss' kappa
from statsmodels (``statsmodels.stats.inter_rater``); both are the optional extra
``qualiscore[stats]``, imported only when a calibration runs. Ratings arrive as a
reviewers × records matrix of numbers, None where a reviewer did not rate a record.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from itertools import combinations
from types import ModuleType
from typing import Any

from ..errors import UsageError
from ..i18n import _
from ..model import AgreementLevel

Matrix = Sequence[Sequence[float | None]]  # one row per reviewer, one column per record


def _libraries() -> tuple[ModuleType, ModuleType, ModuleType]:
    """numpy, krippendorff and statsmodels' inter_rater, or how to install them."""
    try:
        import krippendorff
        import numpy
        from statsmodels.stats import inter_rater
    except ImportError as exc:
        from .._install import install_hint

        raise UsageError(_("calibrate needs the statistics packages ({package} is missing)", package=exc.name),
                         hint=install_hint("stats")) from None
    return numpy, krippendorff, inter_rater


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def alpha(matrix: Matrix, level: AgreementLevel) -> float | None:
    """Krippendorff's alpha at ``level``; None when undefined (fewer than two values in all, nothing pairable)."""
    np, krippendorff, _inter_rater = _libraries()
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    if data.shape[0] < 2 or len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    if not any(np.count_nonzero(~np.isnan(data[:, j])) >= 2 for j in range(data.shape[1])):
        return None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def complete(matrix: Matrix) -> list[list[float]]:
    """The records every reviewer rated, one row per record (the layout kappa takes)."""
    columns = zip(*matrix)
    return [[float(v) for v in column] for column in columns if all(v is not None for v in column)]


def kappa(rows: Sequence[Sequence[float]]) -> tuple[str, float | None]:
    """Cohen's kappa for two reviewers, Fleiss' for more, on records every reviewer rated.

    Returns which one ("cohen" or "fleiss", "" for fewer than two reviewers) and its
    value, None when it is undefined (no record, or one category in all).
    """
    if not rows or len(rows[0]) < 2:
        return "", None
    np, _krippendorff, inter_rater = _libraries()
    data = np.asarray(rows, dtype=float)
    categories = np.unique(data)
    if len(categories) < 2:
        return ("cohen" if data.shape[1] == 2 else "fleiss"), None
    codes = np.searchsorted(categories, data)  # categories as 0..k-1, as both functions count them
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if data.shape[1] == 2:
            table, _bins = inter_rater.to_table(codes, bins=np.arange(len(categories) + 1) - 0.5)
            return "cohen", _finite(inter_rater.cohens_kappa(table, return_results=False))
        counts, _categories = inter_rater.aggregate_raters(codes, n_cat=len(categories))
        return "fleiss", _finite(inter_rater.fleiss_kappa(counts, method="fleiss"))


def percent_agreement(matrix: Matrix) -> float | None:
    """The share of pairs of ratings of one record that are equal, over records rated at least twice.

    Each record counts once (the mean of its pairs' agreement, as Fleiss' P̄); for two
    reviewers it is the share of records they rated alike (Cohen's p_o).
    """
    shares = []
    for column in zip(*matrix):
        values = [v for v in column if v is not None]
        pairs = list(combinations(values, 2))
        if pairs:
            shares.append(sum(a == b for a, b in pairs) / len(pairs))
    return sum(shares) / len(shares) if shares else None
