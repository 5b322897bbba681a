"""The report as data: every fact and figure the page shows, computed once from a :class:`RunOutput`.

The HTML page and the Markdown summary both format one :class:`ReportView`, so they
cannot disagree on a count or a mean. Renderers only choose words, markup and
charts; nothing below them reads a scorecard.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._display import mean
from ..approval import Approval, approval_of
from ..explain import explain_text, measured_text
from ..i18n import _
from ..model import Scheme
from ..rulesrepo import GitPlace
from .breakdowns import Breakdown, BreakdownRow
from .run import NO_GRADE, RunOutput, Signature
from .stats import (
    SHARE_MEASURES,
    DimensionStats,
    IndicatorStats,
    finite_float,
    indicator_stats,
    median,
    quantile,
)

TOP_N = 10  # lowest and highest scorecards listed
# Every scorecard is listed with its explanation up to MAX_EXPLANATIONS (the page carries them gzipped:
# about 1 kB a scorecard in all, so 5,000 make a page of about 5 MB); a larger run lists those that most
# need a look: lowest, highest, vetoed, uncertain, then the lowest scores.
MAX_EXPLANATIONS = 5000
REJECT_ROWS = 20  # rows of rejects.csv listed
UNCERTAIN_ROWS = 200  # grades that may change listed, least stable first
EVIDENCE_SHOWN = 20  # record ids listed per triggered veto
SCORE_BIN = 5  # width of the score histogram's bins
TREND_SERIES = 12  # breakdown values drawn in the trend


def _text(x: Any) -> str | None:
    return None if x is None else str(x)


# --------------------------------------------------------------------------- run facts


@dataclass(frozen=True, slots=True)
class SchemeEntry:
    """One scheme version as the manifest records it."""

    id: str | None
    version: str | None
    effective_from: str | None
    effective_to: str | None
    scorecards: str | None
    sha256: str


@dataclass(frozen=True, slots=True)
class InputEntry:
    """One input file as the manifest records it."""

    path: str | None
    rows_read: str | None
    format: str | None
    encoding: str | None
    sha256: str


@dataclass(frozen=True, slots=True)
class RowCounts:
    read: int
    scored: int
    rejected: int

    def __str__(self) -> str:
        read, scored, rejected = (format(n, ",") for n in (self.read, self.scored, self.rejected))
        return _("read {read} = scored {scored} + rejected {rejected}", read=read, scored=scored, rejected=rejected)


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What was run, on what, by which engine, and whether the outputs are still the published ones."""

    scheme_ids: tuple[str, ...]
    entries: tuple[SchemeEntry, ...]
    titles: tuple[str, ...]  # distinct titles, latest version first
    schemes: tuple[Scheme, ...]  # the scheme files still available, oldest first
    approvals: tuple[Approval, ...]  # of those schemes, with what the manifest's git record allows to say
    changelog: tuple[tuple[str, str], ...]  # (version, line)
    data_period: str
    rows: RowCounts
    sources: tuple[tuple[str, RowCounts], ...]  # per record source, for a scheme with several
    group_by: tuple[str, ...]
    inputs: tuple[InputEntry, ...]
    manifest_sha256: str  # "" when the report is one of the run's outputs (in_run)
    in_run: bool
    engine_version: str | None
    engine_name: str | None
    option_by: tuple[str, ...]
    option_as_of: str | None
    option_encoding: str | None
    signature: Signature | None  # None: not signed
    outputs: tuple[str, ...]
    output_problems: tuple[str, ...]
    notes: tuple[str, ...]
    outdir_name: str


# --------------------------------------------------------------------------- grades and scores


@dataclass(frozen=True, slots=True)
class GradeCount:
    grade: str
    scorecards: int
    by_veto: int  # scorecards whose grade a veto decided
    by_version: tuple[int, ...]  # one count per ReportView.versions


@dataclass(frozen=True, slots=True)
class GradeBand:
    name: str
    min: float


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """The distribution of total scores; ``histogram`` counts scorecards per grade and per bin of SCORE_BIN."""

    scored: int
    unscored: int
    mean: float | None
    median: float | None
    p10: float | None
    p90: float | None
    lowest: float | None
    highest: float | None
    histogram: tuple[tuple[str, tuple[int, ...]], ...]


# --------------------------------------------------------------------------- subjects and vetoes


@dataclass(frozen=True, slots=True)
class TriggeredVeto:
    id: str | None
    name: str | None
    reason: str | None
    evidence: tuple[str | None, ...]  # ids of the records that triggered it
    measured: str | None = None  # a veto on a measured value: the value and its threshold (explain.measured_text)


@dataclass(frozen=True, slots=True)
class SubjectCard:
    """One scorecard as the report lists it; ``index`` is its line in scorecards.jsonl."""

    index: int
    subject: str
    period: str | None
    version: str | None
    records: str | None
    score: float | None
    grade: str | None
    score_grade: str | None  # the grade the score alone gives
    decided_by: str | None
    deciding_veto: str | None  # the name of the veto that decided the grade
    vetoes: tuple[TriggeredVeto, ...]
    explained: bool  # the page shows its explanation
    stability: float | None = None  # share of plausible draws that keep the grade; None: not estimated
    uncertain: bool = False  # the grade may change with more data


@dataclass(frozen=True, slots=True)
class VetoSummary:
    id: str
    name: str | None
    effect: str | None
    grade: str | None
    scorecards: int
    records: int  # evidence records over all scorecards


@dataclass(frozen=True, slots=True)
class Stability:
    """How sure the grades are: the scorecards whose grade may change with more data, least stable first."""

    estimated: int  # scorecards with a stability figure (graded ones, in a scheme with estimates)
    uncertain: tuple[SubjectCard, ...]
    stable_at: float | None  # the scheme's threshold (latest version available); None without the scheme file
    level: float | None  # the confidence level of the indicators' intervals


@dataclass(frozen=True, slots=True)
class SubjectIndicator:
    """One indicator of one scorecard: its value with the interval, against its target."""

    id: str
    name: str
    status: str
    value: float | None  # true/false as 1/0
    low: float | None  # the value's confidence interval, when it is an estimate
    high: float | None
    target: float | None
    points: float | None
    share_like: bool  # shown as a percentage


@dataclass(frozen=True, slots=True)
class Explanation:
    card: SubjectCard
    tree: str  # the same text as `qualiscore explain`
    indicators: tuple[SubjectIndicator, ...] = ()


# --------------------------------------------------------------------------- rejects, breakdowns, trend


@dataclass(frozen=True, slots=True)
class RejectCount:
    code: str
    problems: int
    fields: tuple[tuple[str, int], ...]  # most frequent first


@dataclass(frozen=True, slots=True)
class RejectSummary:
    problems: int
    by_code: tuple[RejectCount, ...]
    by_field: tuple[tuple[str, int], ...]
    first: tuple[Mapping[str, str], ...]  # the first REJECT_ROWS rows of rejects.csv


@dataclass(frozen=True, slots=True)
class BreakdownTable:
    """A breakdown laid out as values × periods ("" is no period)."""

    breakdown: Breakdown
    periods: tuple[str, ...]
    values: tuple[str, ...]
    cells: Mapping[tuple[str, str], BreakdownRow]  # (value, period) → row


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    period: str
    versions: str  # the versions in force, joined with ", "
    subjects: int
    mean: float | None
    grades: tuple[int, ...]  # scorecards per grade of ReportView.grade_order
    version_changed: bool  # other versions than in the period before


@dataclass(frozen=True, slots=True)
class Trend:
    """Mean score per period; ``series`` is the breakdown drawn beside it (team when there is one)."""

    periods: tuple[PeriodSummary, ...]
    series: Breakdown | None
    series_scores: tuple[tuple[str, tuple[float | None, ...]], ...]  # value → score per period


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True, slots=True)
class ReportView:
    run: RunOutput
    facts: RunFacts
    versions: tuple[str, ...]
    periods: tuple[str, ...]
    scorecards: int
    grade_order: tuple[str, ...]
    grades: tuple[GradeCount, ...]  # in grade order; "(none)" only when some scorecard has no grade
    best_grade: GradeCount | None
    worst_grade: GradeCount | None
    grade_bands: tuple[GradeBand, ...]  # of the latest version, as the scheme lists them
    grade_bands_version: str | None
    scores: ScoreStats
    dimensions: tuple[DimensionStats, ...]
    indicators: tuple[IndicatorStats, ...]
    dimension_order: tuple[tuple[str, str], ...]  # (id, name)
    indicator_order: tuple[tuple[str, str, str], ...]  # (dimension id, id, name)
    lowest: tuple[SubjectCard, ...]
    highest: tuple[SubjectCard, ...]
    vetoed: tuple[SubjectCard, ...]
    veto_summary: tuple[VetoSummary, ...]
    rejects: RejectSummary
    breakdowns: tuple[BreakdownTable, ...]
    trend: Trend | None  # None for a single period
    stability: Stability
    # every scorecard up to MAX_EXPLANATIONS, else those most worth a look; in the order of scorecards.jsonl
    explanations: tuple[Explanation, ...]

    @property
    def multi_version(self) -> bool:
        return len(self.versions) > 1


def _versions(run: RunOutput) -> list[str]:
    seen = [(c.get("scheme") or {}).get("version") or "" for c in run.cards]
    listed = [str(s.get("version")) for s in run.manifest.get("schemes", [])]
    return list(dict.fromkeys([*listed, *seen]))


def _scored(cards: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [c for c in cards if finite_float(c.get("score")) is not None]


def _approvals(run: RunOutput) -> tuple[Approval, ...]:
    """Each available scheme's approval, shown as one only where the manifest records it committed unchanged."""
    places = {s.get("sha256"): GitPlace.from_manifest(s.get("git")) for s in run.manifest.get("schemes", [])}
    found = (approval_of(s, places.get(s.sha256)) for s in run.schemes)
    return tuple(a for a in found if a is not None)


def _facts(run: RunOutput, periods: Sequence[str]) -> RunFacts:
    m = run.manifest
    rows = m.get("rows") or {}
    engine = m.get("engine") or {}
    opts = m.get("options") or {}
    data_period = "—" if not periods else periods[0] if len(periods) == 1 else f"{periods[0]} – {periods[-1]}"
    return RunFacts(
        scheme_ids=tuple(dict.fromkeys(str(s.get("id")) for s in m.get("schemes", []))),
        entries=tuple(SchemeEntry(_text(s.get("id")), _text(s.get("version")), _text(s.get("effective_from")),
                                  _text(s.get("effective_to")), _text(s.get("scorecards")),
                                  str(s.get("sha256", ""))) for s in m.get("schemes", [])),
        titles=tuple(dict.fromkeys(s.title for s in reversed(run.schemes) if s.title)),
        schemes=run.schemes,
        approvals=_approvals(run),
        changelog=tuple((s.version, c) for s in run.schemes for c in s.changelog),
        data_period=data_period,
        rows=RowCounts(rows.get("read", 0), rows.get("scored", 0), rows.get("rejected", 0)),
        sources=tuple((str(name), RowCounts(c.get("read", 0), c.get("scored", 0), c.get("rejected", 0)))
                      for name, c in (m.get("sources") or {}).items() if isinstance(c, dict)),
        group_by=tuple(m.get("group_by") or ()),
        inputs=tuple(InputEntry(_text(i.get("path")), _text(i.get("rows_read")), _text(i.get("format")),
                                _text(i.get("encoding")), str(i.get("sha256", ""))) for i in m.get("inputs", [])),
        manifest_sha256=run.manifest_sha256,
        in_run=run.in_run,
        engine_version=_text(engine.get("version")),
        engine_name=_text(engine.get("engine")),
        option_by=tuple(opts.get("by") or ()),
        option_as_of=opts.get("as_of") or None,
        option_encoding=opts.get("encoding") or None,
        signature=run.signature,
        outputs=tuple(sorted(m.get("outputs", {}))),
        output_problems=run.output_problems,
        notes=run.notes,
        outdir_name=run.name,
    )


def _grades(run: RunOutput, versions: Sequence[str]) -> tuple[GradeCount, ...]:
    counts = Counter(c.get("grade") or NO_GRADE for c in run.cards)
    by_version = Counter(((c.get("scheme") or {}).get("version"), c.get("grade") or NO_GRADE) for c in run.cards)
    by_veto = Counter(c.get("grade") or NO_GRADE for c in run.cards
                      if str(c.get("decided_by", "")).startswith("veto:"))
    return tuple(GradeCount(g, counts.get(g, 0), by_veto.get(g, 0),
                            tuple(by_version.get((v, g), 0) for v in versions))
                 for g in run.grade_order if counts.get(g) or g != NO_GRADE)


def _scores(run: RunOutput) -> ScoreStats:
    scored = _scored(run.cards)
    in_order = [float(c["score"]) for c in scored]
    ordered = sorted(in_order)
    bins = len(range(0, 100, SCORE_BIN))
    histogram = []
    for g in run.grade_order:
        counts = [0] * bins
        for c in scored:
            if (c.get("grade") or NO_GRADE) == g:
                counts[min(max(int(float(c["score"]) // SCORE_BIN), 0), bins - 1)] += 1
        if any(counts):
            histogram.append((g, tuple(counts)))
    return ScoreStats(len(ordered), len(run.cards) - len(ordered), mean(in_order), median(ordered),
                      quantile(ordered, 0.1), quantile(ordered, 0.9), ordered[0] if ordered else None,
                      ordered[-1] if ordered else None, tuple(histogram))


def _subject(run: RunOutput, i: int, explained: set[int]) -> SubjectCard:
    c = run.cards[i]
    decided = str(c.get("decided_by") or "")
    vetoes = tuple(TriggeredVeto(_text(v.get("id")), _text(v.get("name")), _text(v.get("reason")),
                                 tuple(_text(x) for x in v.get("evidence") or []),
                                 measured_text(v["measured"]) if isinstance(v.get("measured"), Mapping) else None)
                   for v in c.get("vetoes") or [])
    deciding = None
    if decided.startswith("veto:"):
        names = {v.get("id"): v.get("name") for v in c.get("vetoes") or []}
        deciding = _text(names.get(decided[5:]) or decided[5:])
    return SubjectCard(i, str(c["subject"]), c.get("period"), _text((c.get("scheme") or {}).get("version")),
                       _text(c.get("records")), finite_float(c.get("score")), c.get("grade"), c.get("score_grade"),
                       _text(c.get("decided_by")), deciding, vetoes, i in explained,
                       finite_float(c.get("stability")), c.get("uncertain") is True)


def _subject_indicators(card: Mapping[str, Any]) -> tuple[SubjectIndicator, ...]:
    out = []
    for d in card.get("dimensions") or []:
        for i in d.get("indicators") or []:
            value, interval = i.get("value"), i.get("interval")
            low, high = (finite_float(interval[0]), finite_float(interval[1])) if (
                isinstance(interval, list) and len(interval) == 2) else (None, None)
            out.append(SubjectIndicator(
                str(i["id"]), str(i.get("name") or i["id"]), str(i.get("status") or ""),
                float(value) if isinstance(value, bool) else finite_float(value), low, high,
                finite_float(i.get("target")), finite_float(i.get("points")),
                isinstance(value, bool) or i.get("measure") in SHARE_MEASURES))
    return tuple(out)


def _uncertain(run: RunOutput) -> list[int]:
    """The scorecards whose grade may change with more data, least stable first."""
    cards = run.cards
    return sorted((i for i, c in enumerate(cards) if c.get("uncertain") is True),
                  key=lambda i: (finite_float(cards[i].get("stability")) or 0.0, str(cards[i]["subject"])))


def _worth_a_look(run: RunOutput, first: Sequence[int]) -> list[int]:
    """Every scorecard, those that most need a look first: ``first``, those with no score, then by score."""
    cards = run.cards
    unscored = [i for i, c in enumerate(cards) if finite_float(c.get("score")) is None]
    rest = sorted((i for i, c in enumerate(cards) if finite_float(c.get("score")) is not None),
                  key=lambda i: float(cards[i]["score"]))
    return list(dict.fromkeys([*first, *unscored, *rest]))


def _veto_summary(run: RunOutput, vetoed: Sequence[int]) -> tuple[VetoSummary, ...]:
    summary: dict[str, dict[str, Any]] = {}
    for i in vetoed:
        for v in run.cards[i]["vetoes"]:
            s = summary.setdefault(v["id"], {"name": v.get("name"), "effect": v.get("effect"),
                                             "grade": v.get("grade"), "scorecards": 0, "records": 0})
            s["scorecards"] += 1
            s["records"] += len(v.get("evidence") or [])
    return tuple(VetoSummary(vid, _text(s["name"]), _text(s["effect"]), _text(s["grade"]), s["scorecards"],
                             s["records"]) for vid, s in sorted(summary.items()))


def _rejects(run: RunOutput) -> RejectSummary:
    by_code = Counter(r.get("code", "") for r in run.rejects)
    fields_by_code: dict[str, Counter[str]] = defaultdict(Counter)
    whole = _("(row)")  # a problem of the whole row, not of one field
    for r in run.rejects:
        fields_by_code[r.get("code", "")][r.get("field") or whole] += 1
    by_field = Counter(r.get("field") or whole for r in run.rejects)
    return RejectSummary(len(run.rejects),
                         tuple(RejectCount(c, n, tuple(fields_by_code[c].most_common()))
                               for c, n in by_code.most_common()),
                         tuple(by_field.most_common()), run.rejects[:REJECT_ROWS])


def _breakdown_table(b: Breakdown) -> BreakdownTable:
    cells: dict[tuple[str, str], BreakdownRow] = {}
    for r in b.rows:
        cells.setdefault((r.value, r.period or ""), r)
    periods = tuple(sorted({r.period or "" for r in b.rows}))
    return BreakdownTable(b, periods, tuple(sorted({r.value for r in b.rows})), cells)


def _trend(run: RunOutput, periods: Sequence[str]) -> Trend | None:
    if len(periods) < 2:
        return None
    by_period: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in run.cards:
        if c.get("period"):
            by_period[c["period"]].append(c)
    summaries: list[PeriodSummary] = []
    for k, p in enumerate(periods):
        cards = by_period[p]
        versions = ", ".join(sorted({(c.get("scheme") or {}).get("version") or "" for c in cards}))
        grades = Counter(c.get("grade") or NO_GRADE for c in cards)
        summaries.append(PeriodSummary(p, versions, len(cards), mean([float(c["score"]) for c in _scored(cards)]),
                                       tuple(grades.get(g, 0) for g in run.grade_order),
                                       k > 0 and versions != summaries[k - 1].versions))
    series = next((b for b in run.breakdowns if b.field == "team"), None) or (
        run.breakdowns[0] if run.breakdowns else None)
    scores = []
    if series is not None:
        for v in sorted({r.value for r in series.rows})[:TREND_SERIES]:
            by = {r.period: r.score for r in series.rows if r.value == v}
            scores.append((v, tuple(by.get(p) for p in periods)))
    return Trend(tuple(summaries), series, tuple(scores))


def build_view(run: RunOutput) -> ReportView:
    """Every fact and figure of the report of ``run``."""
    periods = sorted({c["period"] for c in run.cards if c.get("period")})
    versions = _versions(run)
    idx = [i for i, c in enumerate(run.cards) if finite_float(c.get("score")) is not None]
    low = sorted(idx, key=lambda i: (float(run.cards[i]["score"]), str(run.cards[i]["subject"])))[:TOP_N]
    high = sorted(idx, key=lambda i: (-float(run.cards[i]["score"]), str(run.cards[i]["subject"])))[:TOP_N]
    vetoed = [i for i, c in enumerate(run.cards) if c.get("vetoes")]
    uncertain = _uncertain(run)
    explained = set(_worth_a_look(run, [*low, *high, *vetoed, *uncertain])[:MAX_EXPLANATIONS])
    subjects = {i: _subject(run, i, explained)
                for i in dict.fromkeys([*sorted(explained), *low, *high, *vetoed, *uncertain])}
    grades = _grades(run, versions)
    counts = {g.grade: g for g in grades}
    best = run.grade_order[0] if run.grade_order else None
    worst = next((g for g in reversed(run.grade_order) if g != NO_GRADE), None)
    latest = run.schemes[-1] if run.schemes else None
    dims, inds = indicator_stats(run.cards, run.schemes)
    explanations = []
    for i in sorted(explained):
        c = run.cards[i]
        try:
            tree, indicators = explain_text(c, int(c.get("decimals", 2))), _subject_indicators(c)
        except (KeyError, TypeError, ValueError) as exc:
            tree, indicators = _("(this scorecard cannot be explained: {error!r})", error=exc) + "\n", ()
        explanations.append(Explanation(subjects[i], tree, indicators))
    return ReportView(
        run=run,
        facts=_facts(run, periods),
        versions=tuple(versions),
        periods=tuple(periods),
        scorecards=len(run.cards),
        grade_order=run.grade_order,
        grades=grades,
        best_grade=counts[best] if best and best != NO_GRADE else None,
        worst_grade=counts[worst] if worst and worst != best else None,
        grade_bands=tuple(GradeBand(g.name, g.min) for g in latest.grades) if latest else (),
        grade_bands_version=latest.version if latest else None,
        scores=_scores(run),
        dimensions=dims,
        indicators=inds,
        dimension_order=tuple(dict.fromkeys((d.id, d.name) for d in dims)),
        indicator_order=tuple(dict.fromkeys((i.dim_id, i.id, i.name) for i in inds)),
        lowest=tuple(subjects[i] for i in low),
        highest=tuple(subjects[i] for i in high),
        vetoed=tuple(subjects[i] for i in vetoed),
        veto_summary=_veto_summary(run, vetoed),
        rejects=_rejects(run),
        breakdowns=tuple(_breakdown_table(b) for b in run.breakdowns),
        trend=_trend(run, periods),
        stability=Stability(sum(1 for c in run.cards if finite_float(c.get("stability")) is not None),
                            tuple(subjects[i] for i in uncertain),
                            latest.confidence.stable_at if latest else None,
                            latest.confidence.level if latest else None),
        explanations=tuple(explanations),
    )
