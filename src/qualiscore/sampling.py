"""The inspection sample (质检抽样): which records reviewers inspect in one period, drawn reproducibly.

A scheme's ``sampling:`` plan says, for one record source, how often (``every``), how many
(``rate`` of each stratum, or a ``count`` shared among the strata by size, with
``min_per_stratum``), what is never sampled (``exclude``) and which risks are drawn more
often (``oversample``). :func:`draw` applies it to the records of one period:

* the records are the source's accepted rows (typed against its contract by the chosen
  engine), with the derived values the source can compute; a row the contract rejects, or
  whose expression fails, is rejected with its reason, so rows read = kept + rejected;
* a record belongs to the period of its source's period field (in the contract's zone);
* within each stratum, every eligible record has a key from the SHA-256 of the plan's
  seed (default the scheme id), the period and its id, ``u`` in (0, 1], and its weight
  ``w`` (the largest ``oversample`` weight of the risks it has, else 1); the records with
  the largest ``log(u) / w`` are drawn (Efraimidis and Spirakis' weighted sampling
  without replacement). The key depends on nothing but the record's id, so the sample is
  the same whatever the order of the rows and however the input is split into files, and
  an auditor can draw it again (``qualiscore verify``).

:func:`render` writes the sample for reviewers (``sample.csv``, and ``sample.xlsx`` when
asked), the strata (``strata.csv``: population, excluded, eligible, sampled, rate), the
rejected rows and a manifest (``qualiscore-sample/v1``) with the scheme, the inputs and
every file's SHA-256.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import ExpressionError, UsageError
from .expressions import Evaluator
from .i18n import LANGUAGES, _, language, using
from .model import SamplingPlan, Scheme, Source
from .privacy import REDACTED, key_id, privacy_manifest
from .provenance import SAMPLE_FORMAT
from .records import Dataset, InputFile, Problem
from .redaction import redact
from .scorecard import rejects_csv

FORMAT = SAMPLE_FORMAT
SAMPLE, STRATA, REJECTS, WORKBOOK = "sample.csv", "strata.csv", "rejects.csv", "sample.xlsx"
_ALL = "(all)"  # the stratum of a plan without strata

# A period label, for each length (as engine.subjects.period_bounds writes it).
_LABELS = {"day": r"\d{4}-\d{2}-\d{2}", "week": r"\d{4}-W\d{2}", "month": r"\d{4}-\d{2}", "quarter": r"\d{4}-Q[1-4]",
           "year": r"\d{4}"}
_EXAMPLES = {"day": "2026-04-03", "week": "2026-W14", "month": "2026-04", "quarter": "2026-Q2", "year": "2026"}


@dataclass(frozen=True, slots=True)
class Stratum:
    """One stratum of a period's sample: its records, those excluded, those eligible and those drawn."""

    key: str  # the strata fields' values, joined by " · " ("(all)" without strata)
    population: int
    excluded: int
    eligible: int
    sampled: int


@dataclass(frozen=True, slots=True)
class Sample:
    """One period's sample: the rows for reviewers, the strata, and what was read."""

    scheme: Scheme
    period: str
    columns: tuple[str, ...]  # the sample file's columns after "stratum"
    rows: tuple[tuple[str, ...], ...]  # stratum, then the columns, as text
    strata: tuple[Stratum, ...]
    problems: tuple[Problem, ...]
    inputs: tuple[InputFile, ...]
    rows_read: int
    in_period: int

    @property
    def rows_rejected(self) -> int:
        return len({(p.source, p.row) for p in self.problems})


def plan_of(scheme: Scheme) -> SamplingPlan:
    if scheme.sampling is None:
        raise UsageError(_("scheme {scheme} {version} has no sampling plan", scheme=scheme.id, version=scheme.version),
                         hint=_("add a `sampling:` section to the scheme (see docs/inspection.md)"))
    return scheme.sampling


def source_of(scheme: Scheme) -> Source | None:
    """The source the plan samples; None for a scheme with one table (`records:`)."""
    plan = plan_of(scheme)
    if not scheme.sources:
        return None
    name = plan.source or scheme.sources[0].name
    return next(s for s in scheme.sources if s.name == name)


def period_start(label: str, every: str) -> dt.date:
    """The first day of the period ``label`` (``2026-W14``, ``2026-04``…); UsageError when it is not one."""
    if not re.fullmatch(_LABELS[every], label):
        raise UsageError(_("--period {label!r} is not a {every}", label=label, every=every),
                         hint=_("write it as {example}", example=_EXAMPLES[every]))
    try:
        if every == "week":
            return dt.date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
        if every == "quarter":
            return dt.date(int(label[:4]), 3 * int(label[6]) - 2, 1)
        if every == "month":
            return dt.date(int(label[:4]), int(label[5:]), 1)
        if every == "year":
            return dt.date(int(label), 1, 1)
        return dt.date.fromisoformat(label)
    except ValueError:
        raise UsageError(_("--period {label!r} is not a {every} of the calendar", label=label, every=every),
                         hint=_("write it as {example}", example=_EXAMPLES[every])) from None


def draw(scheme: Scheme, period: str, data: Dataset) -> Sample:
    """The sample of ``period`` from ``data``, the sampled source's rows typed against its own contract."""
    from .engine.rows import RowEngine
    from .engine.sources import views
    from .engine.subjects import as_date, id_text, key_text, period_bounds

    plan = plan_of(scheme)
    period_start(period, plan.every)
    source = source_of(scheme)
    view = scheme if source is None else views(scheme)[source.name]
    contract = scheme.records if source is None else source.contract
    assert view.subject.period is not None  # validation requires a period
    field = view.subject.period.field
    derived, problems = RowEngine(view).derive(data.records, data.origins)
    evaluator = Evaluator(scheme.constants, scheme.calendar)
    strata: dict[str, list[tuple[float, str, dict[str, Any]]]] = {}
    excluded: dict[str, int] = {}
    in_period = 0
    for record, origin in derived:
        day = as_date(record.get(field))
        if day is None or period_bounds(day, plan.every)[0] != period:
            continue
        rid = id_text(record.get(contract.id)) or ""
        try:
            out = plan.exclude is not None and evaluator.evaluate(plan.exclude, record) is True
            weight = max([w for expr, w in plan.oversample if evaluator.evaluate(expr, record) is True], default=1.0)
        except ExpressionError as exc:
            problems.append(Problem(origin[0], origin[1], rid, None, None, "evaluation-error", exc.message))
            continue
        in_period += 1
        stratum = " · ".join(key_text(record.get(f)) for f in plan.strata) if plan.strata else _ALL
        if out:
            excluded[stratum] = excluded.get(stratum, 0) + 1
            strata.setdefault(stratum, [])
            continue
        strata.setdefault(stratum, []).append((_key(plan.seed or scheme.id, period, rid, weight), rid, record))
    quotas = _quotas(plan, {k: len(v) for k, v in strata.items()})
    # A dropped personal field is no column; a redacted one shows [redacted]; text is redacted (redaction.py).
    columns = tuple(c for c in plan.fields or tuple(f.name for f in contract.fields) if contract.policy(c) != "drop")
    text = {f.name for f in contract.fields if f.type == "string"}  # free text; numbers and dates are left alone
    shown = [(c, contract.policy(c) == "redact", c in text) for c in columns]
    rows: list[tuple[str, ...]] = []
    counts = []
    for stratum in sorted(strata):
        ranked = sorted(strata[stratum], key=lambda c: (-c[0], c[1]))[:quotas[stratum]]
        for _score, _order, record in sorted(ranked, key=lambda c: c[1]):
            rows.append((stratum, *(REDACTED if hidden else (redact(key_text(record.get(c))) or "") if free
                                    else key_text(record.get(c)) for c, hidden, free in shown)))
        eligible = len(strata[stratum])
        counts.append(Stratum(stratum, eligible + excluded.get(stratum, 0), excluded.get(stratum, 0), eligible,
                              len(ranked)))
    all_problems = tuple(sorted([*data.problems, *problems], key=lambda p: (p.source, p.row, p.field or "")))
    return Sample(scheme, period, columns, tuple(rows), tuple(counts), all_problems, data.inputs, data.rows_read,
                  in_period)


def _key(seed: str, period: str, record_id: str, weight: float) -> float:
    """The record's rank key: log(u) / w, u in (0, 1] from the SHA-256 of the seed, the period and the id."""
    digest = hashlib.sha256("\x1f".join((seed, period, record_id)).encode("utf-8")).digest()
    u = (int.from_bytes(digest[:8], "big") + 1) / 2**64
    return math.log(u) / weight


def _quotas(plan: SamplingPlan, sizes: Mapping[str, int]) -> dict[str, int]:
    """How many records each stratum gives: its rate (rounded up), or its share of the count by size (largest
    remainder), at least ``min_per_stratum``, at most all of it."""
    if plan.rate is not None:
        rate = Fraction(str(plan.rate))
        wanted = {k: math.ceil(rate * n) for k, n in sizes.items()}
    else:
        assert plan.count is not None
        total = sum(sizes.values())
        exact = {k: Fraction(plan.count * n, total) if total else Fraction(0) for k, n in sizes.items()}
        wanted = {k: math.floor(v) for k, v in exact.items()}
        left = min(plan.count, total) - sum(wanted.values())
        for k in sorted(sizes, key=lambda k: (-(exact[k] - wanted[k]), k))[:max(left, 0)]:
            wanted[k] += 1
    return {k: min(n, max(wanted[k], plan.min_per_stratum)) for k, n in sizes.items()}


# --------------------------------------------------------------------------- the files


def render(sample: Sample, options: Mapping[str, Any], *, xlsx: bool = False) -> dict[str, bytes]:
    """The sample's files and its manifest, by name (the manifest lists every other file's SHA-256)."""
    from . import __version__
    from .provenance import scheme_entry

    files = {SAMPLE: _csv(("stratum", *sample.columns), sample.rows),
             STRATA: _csv(("stratum", "population", "excluded", "eligible", "sampled", "rate"),
                          [(s.key, str(s.population), str(s.excluded), str(s.eligible), str(s.sampled),
                            f"{s.sampled / s.eligible:.4f}" if s.eligible else "") for s in sample.strata]),
             REJECTS: rejects_csv(sample.problems).encode("utf-8")}
    if xlsx:
        from .formats import sheets_xlsx

        files[WORKBOOK] = sheets_xlsx([("sample", ("stratum", *sample.columns), sample.rows)])
    rejected = {(p.source, p.row) for p in sample.problems}
    privacy = privacy_manifest([sample.scheme], options.get("pseudonymise_key_id"))
    manifest = {
        "format": FORMAT,
        "engine": {"name": "qualiscore", "version": __version__, "engine": options.get("engine", "rows")},
        "schemes": [scheme_entry(sample.scheme, sum(s.sampled for s in sample.strata))],
        "inputs": [{"path": i.path, "sha256": i.sha256, "format": i.format, "encoding": i.encoding,
                    "rows_read": i.rows_read, "rows_rejected": sum(1 for s, _ in rejected if s == i.path),
                    **({"sheet": i.sheet} if i.sheet is not None else {})} for i in sample.inputs],
        "period": sample.period,
        "rows": {"read": sample.rows_read, "rejected": sample.rows_rejected, "in_period": sample.in_period,
                 "sampled": len(sample.rows)},
        "options": dict(options),
        "outputs": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        **({"privacy": privacy} if privacy is not None else {}),
    }
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    return files


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def options_dict(scheme_path: str | None, data: Sequence[str], period: str, engine: str, encoding: str | None,
                 sheet: str | None, xlsx: bool, pseudonymise_key: bytes | None = None) -> dict[str, Any]:
    """What the manifest records to draw the sample again (of a pseudonymisation key, its id only; the
    language its reasons are worded in, when not English)."""
    return {"scheme_path": scheme_path, "data": list(data), "period": period, "engine": engine,
            "encoding": encoding, "sheet": sheet, "formats": ["xlsx"] if xlsx else [],
            **({"pseudonymise_key_id": key_id(pseudonymise_key)} if pseudonymise_key is not None else {}),
            **({"language": language()} if language() != LANGUAGES[0] else {})}


def read_source(scheme: Scheme, data: Sequence[str], engine: str, encoding: str | None,
                sheet: str | None, period: str, pseudonymise_key: bytes | None = None) -> Dataset:
    """The sampled source's inputs (``NAME=PATH`` of the sampled source, or plain paths) typed by ``engine``:
    every row's problems, and the records of the period (the others are never drawn); personal fields
    de-identified with ``pseudonymise_key`` (privacy.py)."""
    from .engine import engine_named, resolve_engine
    from .engine.subjects import period_bounds
    from .options import RunOptions

    source = source_of(scheme)
    paths = []
    for item in data:
        name, sep, path = item.partition("=")
        if sep and source is not None and name in {s.name for s in scheme.sources}:
            if name != source.name:
                raise UsageError(_("{item!r}: the plan samples {source}, not {name}", item=item, source=source.name,
                                   name=name), hint=_("give the {source} export only", source=source.name))
            paths.append(path)
        else:
            paths.append(item)
    contract = scheme.records if source is None else source.contract
    options = RunOptions(engine=engine, encoding=encoding, sheet=sheet,  # type: ignore[arg-type]
                         pseudonymise_key=pseudonymise_key)
    plan = plan_of(scheme)
    _label, first, last = period_bounds(period_start(period, plan.every), plan.every)
    rows = engine_named(resolve_engine(engine)).read(paths, contract, options)
    return rows.within(_period_field(scheme), first, last).to_dataset()


def _period_field(scheme: Scheme) -> str:
    """The field that dates the sampled source's records: its own `period`, else the subject's."""
    source = source_of(scheme)
    assert scheme.subject.period is not None  # validation requires a period
    return source.period if source is not None and source.period else scheme.subject.period.field


def resample(manifest: Mapping[str, Any], base: Any = None, *,
             pseudonymise_key: bytes | None = None) -> dict[str, bytes]:
    """The files of the sample ``manifest`` records, drawn again from its scheme and inputs (reference engine),
    worded in the language it was drawn in."""
    with using(str((manifest.get("options") or {}).get("language") or LANGUAGES[0])):
        return _resample(manifest, base, pseudonymise_key=pseudonymise_key)


def _resample(manifest: Mapping[str, Any], base: Any, *, pseudonymise_key: bytes | None) -> dict[str, bytes]:
    from .rulesrepo import GitPlace
    from .runs import recorded_path
    from .schemes import load_versions

    options = dict(manifest.get("options") or {})
    root = None if base is None else base
    scheme = chosen_version(load_versions(recorded_path(options.get("scheme_path") or manifest["schemes"][0]["path"],
                                                         root)), str(manifest["period"]))
    recorded_scheme = manifest["schemes"][0]  # its path and place in git as recorded (git is not asked again)
    scheme = dataclasses.replace(scheme, path=recorded_scheme["path"],
                                 git=GitPlace.from_manifest(recorded_scheme.get("git")))
    data = [str(recorded_path(i["path"], root)) for i in manifest["inputs"]]
    dataset = read_source(scheme, data, "rows", options.get("encoding"), options.get("sheet"),
                          str(manifest["period"]), pseudonymise_key)
    sample = draw(scheme, str(manifest["period"]), dataclasses.replace(
        dataset, inputs=tuple(dataclasses.replace(i, path=rec["path"]) for i, rec in zip(
            dataset.inputs, manifest["inputs"])), problems=tuple(dataclasses.replace(
                p, source=_recorded(p.source, dataset, manifest)) for p in dataset.problems),
        origins=tuple((_recorded(s, dataset, manifest), r) for s, r in dataset.origins)))
    return render(sample, options, xlsx="xlsx" in (options.get("formats") or []))


def _recorded(path: str, dataset: Dataset, manifest: Mapping[str, Any]) -> str:
    for i, rec in zip(dataset.inputs, manifest["inputs"]):
        if i.path == path:
            return str(rec["path"])
    return path


def chosen_version(schemes: Sequence[Scheme], period: str) -> Scheme:
    """Of a scheme's versions, the one in force on the first day of the period (the latest with a plan)."""
    with_plan = [s for s in schemes if s.sampling is not None]
    if not with_plan:
        plan_of(schemes[-1])
    start = period_start(period, with_plan[-1].sampling.every)  # type: ignore[union-attr]
    in_force = [s for s in with_plan if s.covers(start)]
    if not in_force:
        raise UsageError(_("no version of {scheme} with a sampling plan is in force on {day}", scheme=with_plan[-1].id,
                           day=start), hint=_("give a period the scheme's versions cover"))
    return in_force[-1]
