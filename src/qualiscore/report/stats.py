"""Statistics over scorecards: quantiles, and per-dimension and per-indicator means against targets.

Only scorecards where a dimension counted, or an indicator was scored, enter its
means: a not-applicable indicator has no value to average. An indicator whose values
are estimates also gets the mean of its confidence intervals' ends, and the number of
subjects whose interval holds the target (more data could put them either side of it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._display import mean
from ..model import Indicator, Scheme

SHARE_MEASURES = ("share", "any", "all")


def finite_float(x: Any) -> float | None:
    """A number read from JSON as a float; None for no value, text or a non-finite number."""
    if x is None or isinstance(x, str):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of ascending values, interpolated linearly; None for no values."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float | None:
    return quantile(sorted(values), 0.5)


@dataclass(frozen=True, slots=True)
class DimensionStats:
    """One dimension of one version over all scorecards."""

    version: str
    id: str
    name: str
    subjects: int
    counted: int  # scorecards where the dimension counted and has a score
    mean: float | None


@dataclass(frozen=True, slots=True)
class IndicatorStats:
    """One indicator of one version over the scorecards where it was scored.

    ``met`` counts the values that meet the target, in the direction the scheme's
    scoring gives (``lower_better``); both are None when the target or the
    direction is unknown.
    """

    version: str
    dim_id: str
    dim_name: str
    id: str
    name: str
    measure: str
    target: float | None
    lower_better: bool | None
    subjects: int
    scored: int
    valued: int  # scored with a numeric (or true/false) value
    met: int
    mean_value: float | None
    mean_points: float | None
    share_like: bool  # a share of records (or true/false values): shown as a percentage
    mean_low: float | None = None  # the mean of the low ends of the subjects' confidence intervals
    mean_high: float | None = None
    undecided: int = 0  # valued subjects whose interval holds the target

    @property
    def met_share(self) -> float | None:
        if self.target is None or self.lower_better is None or not self.valued:
            return None
        return self.met / self.valued

    @property
    def mean_meets_target(self) -> bool | None:
        """Whether the mean value meets the target; None when it cannot be said."""
        if self.mean_value is None or self.target is None or self.lower_better is None:
            return None
        return self.mean_value <= self.target if self.lower_better else self.mean_value >= self.target


@dataclass(slots=True)
class _DimensionTally:
    """The running counts of one dimension while the scorecards are read."""

    version: str
    id: str
    name: str
    subjects: int = 0
    scores: list[float] = field(default_factory=list)

    def add(self, result: Mapping[str, Any]) -> None:
        self.subjects += 1
        if result.get("counted") and finite_float(result.get("score")) is not None:
            self.scores.append(float(result["score"]))

    def stats(self) -> DimensionStats:
        return DimensionStats(self.version, self.id, self.name, self.subjects, len(self.scores), mean(self.scores))


@dataclass(slots=True)
class _IndicatorTally:
    """The running counts of one indicator while the scorecards are read."""

    version: str
    dim_id: str
    dim_name: str
    id: str
    name: str
    measure: str
    target: float | None
    lower_better: bool | None
    subjects: int = 0
    scored: int = 0
    values: list[float] = field(default_factory=list)
    points: list[float] = field(default_factory=list)
    met: int = 0
    boolean: bool = False  # values were true/false
    lows: list[float] = field(default_factory=list)
    highs: list[float] = field(default_factory=list)
    undecided: int = 0

    def add(self, result: Mapping[str, Any]) -> None:
        if self.target is None and finite_float(result.get("target")) is not None:
            self.target = float(result["target"])
        self.subjects += 1
        if result.get("status") != "scored":
            return
        self.scored += 1
        v = result.get("value")
        if isinstance(v, bool):
            self.boolean = True
            v = 1.0 if v else 0.0
        fv = finite_float(v)
        if fv is not None:
            self.values.append(fv)
            if self.target is not None and self.lower_better is not None and (
                    fv <= self.target if self.lower_better else fv >= self.target):
                self.met += 1
        p = finite_float(result.get("points"))
        if p is not None:
            self.points.append(p)
        interval = result.get("interval")
        if fv is not None and isinstance(interval, list) and len(interval) == 2:
            low, high = finite_float(interval[0]), finite_float(interval[1])
            if low is not None and high is not None:
                self.lows.append(low)
                self.highs.append(high)
                if self.target is not None and self.lower_better is not None and low < self.target < high:
                    self.undecided += 1

    def stats(self) -> IndicatorStats:
        return IndicatorStats(
            self.version, self.dim_id, self.dim_name, self.id, self.name, self.measure, self.target,
            self.lower_better, self.subjects, self.scored, len(self.values), self.met, mean(self.values),
            mean(self.points), self.measure in SHARE_MEASURES or self.boolean, mean(self.lows), mean(self.highs),
            self.undecided,
        )


def _lower_is_better(ind: Indicator) -> bool | None:
    """The direction of an indicator's target, read from its scoring; None when scoring does not say."""
    sc = ind.scoring
    if sc.kind == "linear" and sc.start is not None and sc.end is not None:
        return sc.start > sc.end
    if sc.kind == "bands" and sc.bands:
        return any(b.max is not None for b in sc.bands) and all(b.min is None for b in sc.bands)
    if sc.kind == "pass":
        return sc.pass_max is not None and sc.pass_min is None
    return None


def indicator_stats(cards: Iterable[Mapping[str, Any]], schemes: Sequence[Scheme]
                    ) -> tuple[tuple[DimensionStats, ...], tuple[IndicatorStats, ...]]:
    """Per version, each dimension's and each indicator's statistics, in the order first met."""
    direction: dict[tuple[str, str], bool | None] = {}
    for s in schemes:
        for ind in s.indicators:
            direction[(s.version, ind.id)] = _lower_is_better(ind)
    dims: dict[tuple[str, str], _DimensionTally] = {}
    inds: dict[tuple[str, str], _IndicatorTally] = {}
    for c in cards:
        version = (c.get("scheme") or {}).get("version") or ""
        for d in c.get("dimensions", []):
            dims.setdefault((version, d["id"]), _DimensionTally(version, d["id"], d.get("name") or d["id"])).add(d)
            for i in d.get("indicators", []):
                key = (version, i["id"])
                tally = inds.get(key)
                if tally is None:
                    tally = inds[key] = _IndicatorTally(
                        version, d["id"], d.get("name") or d["id"], i["id"], i.get("name") or i["id"],
                        str(i.get("measure") or ""), finite_float(i.get("target")), direction.get(key))
                tally.add(i)
    return tuple(t.stats() for t in dims.values()), tuple(t.stats() for t in inds.values())
