"""Scorecards and what they are written to.

Results keep full precision; rounding happens once, here, at output. Output is
deterministic: sorted keys, sorted subjects, fixed number formatting.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from .redaction import redact

STATUS_SCORED = "scored"
STATUS_NA = "not_applicable"


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    id: str
    name: str
    measure: str
    value: Any
    sample: int
    skipped: int
    status: str
    points: float | None  # the indicator's own points (None when not applicable)
    counted: bool  # whether it takes part in its dimension's score
    counted_points: float | None  # points used: own points, or 0/100 from a not-applicable rule
    weight: float
    effective_weight: float  # percent of the total
    contribution: float
    rule: str | None = None  # band matched / linear / pass / map rule
    reason: str | None = None  # why not applicable, or which rule replaced its points
    numerator: float | None = None
    denominator: float | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    target: float | None = None
    # The record source it measures ("surveys"; "complaints ÷ interactions" for a ratio of two
    # measures); None in a scheme with one table.
    source: str | None = None
    interval: tuple[float, float] | None = None  # the value's confidence interval (engine.intervals)


@dataclass(frozen=True, slots=True)
class DimensionResult:
    id: str
    name: str
    score: float | None
    weight: float
    effective_weight: float
    status: str
    counted: bool
    indicators: tuple[IndicatorResult, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VetoMeasurement:
    """The evidence of a veto on a measured value: what was measured, its value and the threshold it passed."""

    of: str  # the indicator's id, or the measure written out: share(abandoned)
    value: float | int  # to 12 significant digits, as compared
    test: str  # above | below | at_least | at_most
    threshold: float


@dataclass(frozen=True, slots=True)
class VetoResult:
    id: str
    name: str
    effect: str
    grade: str
    reason: str
    evidence: tuple[str, ...]  # ids of the records that made the veto true; none for a threshold veto
    measured: VetoMeasurement | None = None  # a threshold veto's value and threshold


@dataclass(frozen=True, slots=True)
class Scorecard:
    subject: str
    keys: Mapping[str, str]
    period: str | None
    scheme_id: str
    scheme_version: str
    scheme_sha256: str
    records: int
    score: float | None
    grade: str | None
    score_grade: str | None  # the grade the score alone gives
    decided_by: str  # "score" | "veto:<id>" | "none"
    note: str | None
    dimensions: tuple[DimensionResult, ...]
    vetoes: tuple[VetoResult, ...]
    decimals: int = 2
    # Share of plausible draws of the indicators that keep the grade (engine.stability); None without a grade.
    stability: float | None = None
    uncertain: bool = False  # stability below stable_at
    level: float = 0.95  # the scheme's confidence level, of every interval
    stable_at: float = 0.8

    @property
    def indicators(self) -> tuple[IndicatorResult, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)


# --------------------------------------------------------------------------- rounding


def quantize(x: float | None, decimals: int) -> Decimal | None:
    """Half-even rounding of the number as written (its shortest repr), not of its binary expansion."""
    if x is None:
        return None
    x = float(x)
    return _quantize(x, decimals) if x else _quantize.__wrapped__(x, decimals)  # -0.0 == 0.0 keeps its sign


@functools.lru_cache(maxsize=1 << 16)
def _quantize(x: float, decimals: int) -> Decimal:
    # Cached: a scorecard file rounds the same points and weights tens of times per subject.
    return Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def rounded(x: float | None, decimals: int) -> float | None:
    q = quantize(x, decimals)
    return None if q is None else float(q)


def apportion(parts: Sequence[float], total: Decimal, decimals: int) -> list[Decimal]:
    """Round parts so that they add up exactly to ``total`` (largest remainder)."""
    unit = Decimal(1).scaleb(-decimals)
    exact = [Decimal(repr(float(p))) for p in parts]
    floors = [e.quantize(unit, rounding=ROUND_FLOOR) for e in exact]
    left = int(((total - sum(floors, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    out = list(floors)
    if left >= 0:
        for i in order[:left]:
            out[i] += unit
    else:  # only possible through float noise; take units back from the smallest remainders
        for i in list(reversed(order))[: -left]:
            out[i] -= unit
    return out


def _num(q: Decimal | None) -> float | int | None:
    if q is None:
        return None
    f = float(q)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def _value(v: Any) -> Any:
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return None
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


# --------------------------------------------------------------------------- JSON form


def scorecard_dict(card: Scorecard) -> dict[str, Any]:
    """The full explanation of one scorecard, rounded once, contributions adding up to the score."""
    d = card.decimals
    score_q = quantize(card.score, d)
    counted = [i for i in card.indicators if i.counted]
    shares = apportion([i.contribution for i in counted], score_q, d) if score_q is not None else []
    contrib = {i.id: c for i, c in zip(counted, shares)}
    dims = []
    for dim in card.dimensions:
        inds = []
        for i in dim.indicators:
            inds.append({
                "id": i.id,
                "name": i.name,
                "measure": i.measure,
                "value": _value(i.value),
                "numerator": _value(i.numerator),
                "denominator": _value(i.denominator),
                "inputs": {k: _value(v) for k, v in i.inputs.items()},
                "sample": i.sample,
                "skipped": i.skipped,
                "status": i.status,
                "reason": i.reason,
                "rule": i.rule,
                "points": _num(quantize(i.points, d)),
                "counted": i.counted,
                "counted_points": _num(quantize(i.counted_points, d)),
                "weight": _value(i.weight),
                "effective_weight": _num(quantize(i.effective_weight, d + 2)),
                "contribution": _num(contrib.get(i.id)) if i.counted else 0,
                "target": i.target,
                "interval": None if i.interval is None else [_value(i.interval[0]), _value(i.interval[1])],
                **({"source": i.source} if i.source is not None else {}),
            })
        dims.append({
            "id": dim.id,
            "name": dim.name,
            "score": _num(quantize(dim.score, d)),
            "status": dim.status,
            "reason": dim.reason,
            "counted": dim.counted,
            "weight": _value(dim.weight),
            "effective_weight": _num(quantize(dim.effective_weight, d + 2)),
            "contribution": _num(sum((contrib[i.id] for i in dim.indicators if i.id in contrib), Decimal(0)))
            if dim.counted else 0,
            "indicators": inds,
        })
    return {
        "subject": card.subject,
        "keys": dict(card.keys),
        "period": card.period,
        "scheme": {"id": card.scheme_id, "version": card.scheme_version, "sha256": card.scheme_sha256},
        "records": card.records,
        "decimals": d,
        "score": _num(score_q),
        "grade": card.grade,
        "score_grade": card.score_grade,
        "decided_by": card.decided_by,
        "note": card.note,
        "dimensions": dims,
        "vetoes": [_veto_dict(v) for v in card.vetoes],
        "stability": card.stability,
        "uncertain": card.uncertain,
        "confidence": {"level": card.level, "stable_at": card.stable_at},
    }


def _veto_dict(v: VetoResult) -> dict[str, Any]:
    out: dict[str, Any] = {"id": v.id, "name": v.name, "effect": v.effect, "grade": v.grade, "reason": v.reason,
                           "evidence": [redact(e) for e in v.evidence]}
    if v.measured is not None:  # only a threshold veto has the key, so other vetoes print as they always have
        m = v.measured
        out["measured"] = {"of": m.of, "value": _value(m.value), m.test: _value(m.threshold)}
    return out


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def scorecards_jsonl(cards: Iterable[Scorecard]) -> str:
    return "".join(dumps(scorecard_dict(c)) + "\n" for c in cards)


# --------------------------------------------------------------------------- CSV form

_INJECTION = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text for a spreadsheet cell; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _fmt_number(value)
    text = str(value)
    if text.startswith(_INJECTION) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fmt_number(v: float | int) -> str:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return ""
    return repr(v) if isinstance(v, float) else str(v)


def _fixed(q: Decimal | None, decimals: int) -> str:
    return "" if q is None else f"{q:.{decimals}f}"


def scorecards_csv(cards: Sequence[Scorecard], group_fields: Sequence[str], indicator_ids: Sequence[str]) -> str:
    """Flat table: subject keys, score, grade, then value and points of every indicator."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["subject", *group_fields, "period", "scheme_version", "records", "score", "grade", "decided_by",
              "vetoes", "stability", "uncertain"]
    for iid in indicator_ids:
        header += [f"{iid}.value", f"{iid}.low", f"{iid}.high", f"{iid}.points"]
    w.writerow(header)
    for c in cards:
        d = c.decimals
        by_id = {i.id: i for i in c.indicators}
        row = [c.subject, *(c.keys.get(g, "") for g in group_fields), c.period or "", c.scheme_version,
               c.records, _fixed(quantize(c.score, d), d), c.grade or "", c.decided_by,
               ";".join(v.id for v in c.vetoes), c.stability, c.uncertain]
        for iid in indicator_ids:
            ind = by_id.get(iid)
            if ind is None:
                row += ["", "", "", ""]
                continue
            low, high = ind.interval or (None, None)
            row += [_value(ind.value), _value(low), _value(high), _fixed(quantize(ind.points, d), d)]
        w.writerow([safe_cell(x) for x in row])
    return buf.getvalue()


def rejects_csv(problems: Iterable[Any]) -> str:
    """One line per problem: source file, row number, record id, field, value and reason.

    The record id, value and reason are copied from the data, so personal numbers and
    addresses in them are redacted (see redaction).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["source", "row", "record_id", "field", "value", "code", "reason"])
    for p in problems:
        w.writerow([safe_cell(x) for x in (p.source, p.row, redact(p.record_id), p.field, redact(p.value), p.code,
                                           redact(p.reason))])
    return buf.getvalue()
