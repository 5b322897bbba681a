"""Schemes with several record sources: each source scored alone, then one scorecard per subject.

A scheme that declares ``sources:`` is evaluated as one single-source *view* per source
(:func:`views`): the source's contract, plus the fields it looks up from other sources
(:mod:`.lookups`), its period field, the derived values it can compute, and, as the view's
indicators, exactly the measures that read it. Any engine scores a view as it scores any
scheme, so no engine knows about sources; this module then puts each subject's measures
back together (a ratio of two measures of different sources is
:func:`~.measures.quotient`) and builds the real scheme's scorecards with the shared
scoring. A subject with no record in a source has that source's measures over no record
(:func:`~.measures.nothing_measured`).

Rows read = rows scored + rows rejected holds for every source: a row is read by its
source's view or rejected there, or rejected by a lookup that finds no row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..expressions import parse
from ..i18n import _, ngettext
from ..model import (
    Dimension,
    Indicator,
    Measure,
    Period,
    RecordContract,
    Scheme,
    Scoring,
    Source,
    Subject,
    Veto,
)
from ..options import RunOptions
from ..records import Dataset, InputFile, Problem
from ..scorecard import IndicatorResult, Scorecard
from .lookups import looked_up, lookup_fields
from .measures import MeasureResult, nothing_measured, quotient
from .protocol import Progress, Rows, Run
from .scoring import Subjects, build_scorecards
from .subjects import subject_order

if TYPE_CHECKING:
    from .protocol import Engine
    from .protocol import Source as Input

__all__ = ["evaluate_sources", "reading", "source_of", "versions_for", "views"]

_VIEW_SCORING = Scoring("map")  # a view's indicators are measured, never scored
_RECORDS = Measure("count", parse(True))  # what a view measures when nothing reads its source: its records


def versions_for(versions: Sequence[Scheme], named: bool) -> list[Scheme]:
    """Of versions some of which read one table and some several sources, those the inputs are given for:
    inputs by source name go to the versions with sources, unnamed ones to those with one table. So a
    directory of versions still scores last year's one-table exports after a version with sources is added."""
    several = [s for s in versions if s.sources]
    if not several or len(several) == len(versions):
        return list(versions)
    return several if named else [s for s in versions if not s.sources]


def source_of(scheme: Scheme, m: Measure) -> str:
    """The name of the source ``m`` reads (a measure without ``source`` reads the first)."""
    return m.source or scheme.sources[0].name


def _measures(scheme: Scheme) -> list[tuple[str, Measure]]:
    """Every single-source measure of the scheme, by the key its view indicator has."""
    out: list[tuple[str, Measure]] = []
    for ind in scheme.indicators:
        out.extend(_parts(f"i:{ind.id}", ind.measure))
    for veto in scheme.vetoes:
        if veto.when is not None:
            out.extend(_parts(f"v:{veto.id}", veto.when))
    return out


def _parts(key: str, m: Measure) -> list[tuple[str, Measure]]:
    if m.terms is None:
        return [(key, m)]
    return [*_parts(f"{key}/0", m.terms[0]), *_parts(f"{key}/1", m.terms[1])]


def views(scheme: Scheme) -> dict[str, Scheme]:
    """One single-source scheme per source, that measures what the scheme measures in it."""
    out = {}
    measures = _measures(scheme)
    for source in scheme.sources:
        contract = view_contract(scheme, source)
        names = {f.name for f in contract.fields} | set(scheme.constants)
        derive = []
        for name, expr in scheme.derive:
            if expr.names <= names:
                derive.append((name, expr))
                names.add(name)
        mine = [(key, m) for key, m in measures if source_of(scheme, m) == source.name]
        indicators = tuple(Indicator(key, key, dataclasses.replace(m, source=None), _VIEW_SCORING, 1.0)
                           for key, m in mine) or (Indicator("records", "records", _RECORDS, _VIEW_SCORING, 1.0),)
        vetoes = tuple(Veto(v.id, v.name, dataclasses.replace(v.when, source=None), "grade", scheme.grades[-1].name)
                       for v in scheme.vetoes
                       if v.when is not None and v.threshold is None and source_of(scheme, v.when) == source.name)
        period = scheme.subject.period
        if period is not None and source.period is not None:
            period = Period(source.period, period.every)
        fields = {f.name for f in contract.fields}
        subject = Subject(scheme.subject.group_by, period, tuple(b for b in scheme.subject.breakdowns if b in fields))
        out[source.name] = dataclasses.replace(
            scheme, records=contract, subject=subject, derive=tuple(derive), vetoes=vetoes, tests=(), sources=(),
            dimensions=(Dimension(source.name, source.name, 1.0, indicators),), measured_only=True)
    return out


def reading(scheme: Scheme, name: str) -> Scheme:
    """A scheme that only reads the source ``name`` with its own contract, one scorecard per record:
    what checking a source's export alone (``validate --data``) runs, with no other source to look up."""
    source = next(s for s in scheme.sources if s.name == name)
    return dataclasses.replace(
        scheme, records=source.contract, subject=Subject(), derive=(), vetoes=(), tests=(), sources=(),
        dimensions=(Dimension(name, name, 1.0, (Indicator("records", "records", _RECORDS, _VIEW_SCORING, 1.0),)),))


def view_contract(scheme: Scheme, source: Source) -> RecordContract:
    """A source's contract with the fields it looks up, typed as their own source types them."""
    return dataclasses.replace(source.contract, fields=source.contract.fields + lookup_fields(scheme, source))


# -- evaluation


def evaluate_sources(engine: Engine, schemes: Sequence[Scheme], inputs: Mapping[str, Input], options: RunOptions,
                     *, progress: Progress | None = None) -> Run:
    """Score a scheme with several sources: every source's view by ``engine``, then the scorecards.

    ``inputs`` gives each source's input (paths, a Dataset typed against the source's own
    contract, or Arrow data). A source with lookups is read by ``engine`` first, joined
    (see lookups), then scored as it was joined.
    """
    from . import routing

    ordered = routing.versions_to_use(schemes, options.as_of)
    first = ordered[0]
    _check_versions(ordered)
    missing = [s.name for s in first.sources if s.name not in inputs]
    unknown = [name for name in inputs if name not in {s.name for s in first.sources}]
    if unknown or missing:
        names = ", ".join(s.name for s in first.sources)
        raise UsageError(
            _("scheme {scheme} reads the sources {sources}; no source is called {names}", scheme=first.id,
              sources=names, names=", ".join(map(repr, unknown))) if unknown else
            _("scheme {scheme} reads the sources {sources}; no input was given for {names}", scheme=first.id,
              sources=names, names=", ".join(missing)),
            hint=_("give each source's input as NAME=PATH, e.g. {example}",
                   example=" ".join(f"{s.name}=..." for s in first.sources)))
    per_version = [views(s) for s in ordered]
    _check_by(per_version[0], options.by)
    by_name = {s.name: s for s in first.sources}
    typed: dict[str, Rows] = {}  # sources read as a whole: for a lookup, and those joined

    def rows_of(name: str) -> Rows:
        if name not in typed:
            typed[name] = engine.read(inputs[name], by_name[name].contract, options)
        return typed[name]

    runs: dict[str, Run] = {}
    indexes: dict[str, Mapping[Any, int]] = {}  # each looked-up source's rows by id, built once
    for source in _in_lookup_order(first):
        if source.lookups:
            typed[source.name] = looked_up(first, source, view_contract(first, source), rows_of(source.name),
                                           rows_of, indexes)
        # A source read already (for a lookup) is scored from the rows read, not read again, when every
        # version types it alike; a source with lookups is joined once, so its versions must (_check_versions).
        same = len({v[source.name].records for v in per_version}) == 1
        given = typed[source.name] if source.name in typed and (same or source.lookups) else inputs[source.name]
        runs[source.name] = engine.evaluate([v[source.name] for v in per_version], given, options, progress=progress)
    return _combined(ordered, first, runs)


def _check_by(views: Mapping[str, Scheme], by: Sequence[str] | None) -> None:
    """Regrouping (``--by``) needs the fields in every source: a subject's records of each meet by them."""
    fields = {name: {f.name for f in view.records.fields} for name, view in views.items()}
    for f in by or ():
        lacking = [name for name, have in fields.items() if f not in have]
        if lacking:
            common = sorted(set.intersection(*fields.values()))
            raise UsageError(ngettext("--by {field}: the source {sources} has no field {field}",
                                      "--by {field}: the sources {sources} have no field {field}", len(lacking),
                                      field=f, sources=", ".join(lacking)),
                             hint=_("take {field} from another source with lookup, or regroup by a field every "
                                    "source has: {fields}", field=f, fields=", ".join(common)))


def _in_lookup_order(scheme: Scheme) -> list[Source]:
    """Sources after the sources they look up (validation refuses cycles)."""
    done: list[Source] = []
    by_name = {s.name: s for s in scheme.sources}

    def visit(s: Source) -> None:
        if s in done:
            return
        for lk in s.lookups:
            visit(by_name[lk.source])
        done.append(s)

    for s in scheme.sources:
        visit(s)
    return done


def _check_versions(ordered: Sequence[Scheme]) -> None:
    """Versions routed by date in one run read the same sources, with the same lookups; the sources a lookup
    joins (on either side) are joined once, so with the same contracts too."""
    first = ordered[0]
    joined = {s.name for s in first.sources if s.lookups} | {lk.source for s in first.sources for lk in s.lookups}

    def shape(scheme: Scheme) -> list[Any]:
        return [(s.name, s.lookups, s.contract if s.name in joined else None) for s in scheme.sources]

    for other in ordered[1:]:
        if not other.sources or shape(other) != shape(first):
            raise UsageError(
                _("versions {first} and {other} of {scheme} read different record sources (or join them "
                  "differently), so one run cannot route records between them", first=first.version,
                  other=other.version, scheme=first.id),
                hint=_("score each version on its own (give its file, or --as-of a date it is in force)"))


def _combined(ordered: Sequence[Scheme], first: Scheme, runs: Mapping[str, Run]) -> Run:
    by_version = {s.version: s for s in ordered}
    cards: dict[tuple[tuple[str, ...], str], dict[str, Scorecard]] = {}
    for name, run in runs.items():
        for card in run.scorecards:
            cards.setdefault((subject_order(card.keys, card.period), card.scheme_version), {})[name] = card
    columns: dict[str, tuple[Scheme, list[Any]]] = {}  # by version: the subjects' columns (scoring.Subjects)
    for (_order, version), parts in sorted(cards.items()):
        scheme = by_version[version]
        some = next(iter(parts.values()))
        found = {name: {i.id: i for i in card.indicators} for name, card in parts.items()}
        evidence = {v.id: v.evidence for card in parts.values() for v in card.vetoes}

        def result(key: str, m: Measure, scheme: Scheme = scheme, found: Mapping = found) -> MeasureResult:
            if m.terms is not None:
                return quotient(result(f"{key}/0", m.terms[0]), result(f"{key}/1", m.terms[1]),
                                scheme.confidence.level, exposure=m.terms[1].kind == "count")
            got = found.get(source_of(scheme, m), {}).get(key)
            return nothing_measured(m, scheme.confidence.level) if got is None else _measured(got)

        measured = {ind.id: result(f"i:{ind.id}", ind.measure) for ind in scheme.indicators}
        whens = {v.id: dataclasses.replace(result(f"v:{v.id}", v.when), evidence=evidence.get(v.id, ()))
                 for v in scheme.vetoes if v.when is not None}
        columns.setdefault(version, (scheme, []))[1].append(
            (some.subject, some.keys, some.period, sum(c.records for c in parts.values()), measured, whens))
    scorecards = []
    for scheme, rows in columns.values():
        scorecards.extend(build_scorecards(scheme, Subjects(
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
            {ind.id: [r[4][ind.id] for r in rows] for ind in scheme.indicators},
            {v.id: [r[5][v.id] for r in rows] for v in scheme.vetoes if v.when is not None})))
    scorecards.sort(key=lambda c: (subject_order(c.keys, c.period), c.scheme_version))
    inputs: list[InputFile] = []
    problems: list[Problem] = []
    missing: list[tuple[str, str]] = []
    for name in (s.name for s in first.sources):
        run = runs[name]
        rejected = {(p.source, p.row) for p in run.problems}
        for i in run.dataset.inputs:
            count = sum(1 for s, _ in rejected if s == i.path)
            inputs.append(dataclasses.replace(i, source=name, rows_rejected=count))
        problems.extend(run.problems)
        missing.extend(run.dataset.missing_columns)
    used = tuple(s for s in ordered if any(c.scheme_version == s.version for c in scorecards)) or (ordered[-1],)
    dataset = Dataset((), (), tuple(problems), tuple(inputs), tuple(missing))
    main = runs[first.sources[0].name]
    return Run(used, tuple(scorecards), tuple(problems), dataset, main.group_by, main.options)


def _measured(ind: IndicatorResult) -> MeasureResult:
    """A view indicator's result as the measure result it was built from."""
    return MeasureResult(ind.value, ind.sample, ind.skipped, ind.numerator, ind.denominator, ind.inputs or None,
                         interval=ind.interval)
