"""Breakdowns per team, channel…: each group scored from its own pooled records.

A team's figure is never averaged from its agents' scorecards when the records are
at hand: the scheme is applied again to the pooled records of each team
(``evaluate --by team``), from the run's own inputs, after checking their SHA-256
against the manifest. Directories written by ``evaluate --by FIELD`` can be given
instead (``--by-dir``). Only for record-level schemes, or a field that is part of
the subject key, is a group's figure the mean of its subjects' scores.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .._display import mean
from ..errors import QualiscoreError
from ..i18n import _
from ..manifest import find_recorded, read_manifest
from ..model import Scheme
from ..options import RunOptions
from ..redaction import redact
from ..runs import execute, read_inputs, recorded_options
from ..scorecard import scorecard_dict
from .files import read_cards
from .stats import finite_float


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One value of a breakdown field in one period."""

    value: str
    period: str | None
    version: str | None
    score: float | None
    grade: str | None
    records: int
    subjects: int | None = None  # when the score is a mean of subject scores


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The scores of every value of one field (or fields joined by ``,``), and where they come from."""

    field: str
    label: str
    method: str  # "pooled" | "mean"
    source: str
    rows: tuple[BreakdownRow, ...]


@dataclass(frozen=True, slots=True)
class Breakdowns:
    """The breakdowns the scheme asks for (``fields``), those that could be made, and why others are missing."""

    fields: tuple[str, ...]
    shown: tuple[Breakdown, ...]
    notes: tuple[str, ...]


def field_descriptions(schemes: Sequence[Scheme]) -> dict[str, str]:
    """Field descriptions from the scheme files (the compiled contract does not keep them)."""
    out: dict[str, str] = {}
    for s in schemes:
        try:
            doc = yaml.safe_load(Path(s.path).read_text(encoding="utf-8-sig"))
            fields = doc["records"]["fields"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
            continue
        if isinstance(fields, dict):
            for name, spec in fields.items():
                if isinstance(spec, dict) and isinstance(spec.get("description"), str):
                    out[str(name)] = spec["description"]
    return out


def _field_label(descriptions: Mapping[str, str], name: str) -> str:
    """``team · 班组``: the field name and the short head of its description, when there is one."""
    text = descriptions.get(name, "")
    for sep in ("：", ":", "（", "(", "，", ",", ";", "；"):
        text = text.split(sep)[0]
    text = text.strip()
    return f"{name} · {text}" if text and len(text) <= 12 else name


def _rows_from_cards(cards: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> tuple[BreakdownRow, ...]:
    rows = []
    for c in cards:
        keys = c.get("keys") or {}
        value = redact("/".join(str(keys.get(f, "")) for f in fields)) or ""  # a label shows no phone or e-mail
        rows.append(BreakdownRow(value, c.get("period"), (c.get("scheme") or {}).get("version"),
                                 finite_float(c.get("score")), c.get("grade"), int(c.get("records") or 0)))
    return tuple(rows)


def _mean_rows(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[BreakdownRow, ...]:
    """Mean subject score per (value, period): for record-level schemes or composite subject keys."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for value, c in pairs:
        groups[(redact(value) or "", c.get("period") or "")].append(c)
    rows = []
    for (value, period), cs in sorted(groups.items()):
        scores = [float(c["score"]) for c in cs if c.get("score") is not None]
        versions = sorted({(c.get("scheme") or {}).get("version") or "" for c in cs})
        rows.append(BreakdownRow(value, period or None, ", ".join(versions), mean(scores), None,
                                 sum(int(c.get("records") or 0) for c in cs), len(cs)))
    return tuple(rows)


def _from_dir(d: Path, manifest: Mapping[str, Any], descriptions: Mapping[str, str],
              notes: list[str]) -> Breakdown | None:
    """The breakdown an ``evaluate --by FIELD`` directory holds, said to differ if made from other files."""
    try:
        m = read_manifest(d)
        cards = read_cards(d)
    except QualiscoreError as exc:
        notes.append(_("--by-dir {dir}: {reason}", dir=d, reason=exc.message))
        return None
    fields = [str(f) for f in m.get("group_by") or []]
    if not fields:
        notes.append(_("--by-dir {dir}: the run has no group_by fields; give a directory made with "
                       "`evaluate --by FIELD`.", dir=d))
        return None
    same_schemes = {s.get("sha256") for s in m.get("schemes", [])} == {
        s.get("sha256") for s in manifest.get("schemes", [])}
    same_inputs = {i.get("sha256") for i in m.get("inputs", [])} == {
        i.get("sha256") for i in manifest.get("inputs", [])}
    source = _("from {dir} (evaluate --by {fields})", dir=d, fields=",".join(fields))
    if not (same_schemes and same_inputs):
        what = (_("scheme versions and inputs") if not same_schemes and not same_inputs
                else _("scheme versions") if not same_schemes else _("inputs"))
        notes.append(_("--by-dir {dir} was made from other {what} than this run (SHA-256 differ).", dir=d, what=what))
        source += _(" — other {what} than this run", what=what)
    label = " + ".join(_field_label(descriptions, f) for f in fields)
    return Breakdown(",".join(fields), label, "pooled", source, _rows_from_cards(cards, fields))


def _input_paths(manifest: Mapping[str, Any], schemes: Sequence[Scheme], outdir: Path
                 ) -> tuple[list[str] | None, str]:
    """The run's inputs (``NAME=PATH`` for a source's), if they are all on disk and unchanged; else None and why not."""
    if not schemes or len(schemes) != len(manifest.get("schemes", [])):
        return None, _("the run's scheme files are not all available unchanged")
    paths = []
    for i in manifest.get("inputs", []):
        if i.get("format") == "sql":  # its rows are in the database, which a report does not query
            return None, _("input {path} is a database query, which the report does not run again",
                           path=i.get("path"))
        path, why = find_recorded(str(i.get("path", "")), i.get("sha256"), outdir)
        if path is None:
            return None, _("input {path} is {why}", path=i.get("path"), why=why)
        paths.append(("" if i.get("source") is None else f"{i['source']}=") + str(path))
    if not paths:
        return None, _("the manifest lists no input files")
    return paths, ""


def collect_breakdowns(outdir: Path, manifest: Mapping[str, Any], cards: Sequence[Mapping[str, Any]],
                       schemes: Sequence[Scheme], by_dirs: Sequence[Path], recompute: bool,
                       pseudonymise_key: bytes | None = None) -> Breakdowns:
    """The scheme's breakdowns of a run: from ``by_dirs`` first, then its own scorecards, then recomputed."""
    descriptions = field_descriptions(schemes)
    fields = list(dict.fromkeys(f for s in schemes for f in s.subject.breakdowns))
    shown: list[Breakdown] = []
    notes: list[str] = []
    for d in by_dirs:
        b = _from_dir(d, manifest, descriptions, notes)
        if b is not None:
            shown.append(b)
    done = {b.field for b in shown}
    group_by = [str(f) for f in manifest.get("group_by") or []]
    todo = []
    for f in (f for f in fields if f not in done):
        if group_by == [f]:  # the run itself is grouped by exactly this field: its scorecards are the breakdown
            shown.append(Breakdown(f, _field_label(descriptions, f), "pooled", _("this run's scorecards"),
                                   _rows_from_cards(cards, [f])))
        elif f in group_by:
            pairs = [(str((c.get("keys") or {}).get(f, "")), c) for c in cards]
            shown.append(Breakdown(f, _field_label(descriptions, f), "mean", _("mean of this run's subject scores"),
                                   _mean_rows(pairs)))
        else:
            todo.append(f)
    if todo and not recompute:
        notes.append(_("Breakdowns by {fields} were not recomputed (--no-recompute).", fields=", ".join(todo)))
    elif todo:
        shown += _recomputed(todo, outdir, manifest, schemes, cards, descriptions, notes, pseudonymise_key)
    return Breakdowns(tuple(fields), tuple(shown), tuple(notes))


def _recomputed(todo: Sequence[str], outdir: Path, manifest: Mapping[str, Any], schemes: Sequence[Scheme],
                cards: Sequence[Mapping[str, Any]], descriptions: Mapping[str, str],
                notes: list[str], pseudonymise_key: bytes | None = None) -> list[Breakdown]:
    """Breakdowns by the ``todo`` fields from the run's own inputs, read with its own options (encoding,
    sheet, as_of): pooled records, or record means. Both engines give the same scorecards, so the one
    installed here scores them."""
    fields = ", ".join(todo)
    paths, why = _input_paths(manifest, schemes, outdir)
    if paths is None:
        notes.append(_("Breakdowns by {fields} cannot be recomputed: {reason}.", fields=fields, reason=why))
        return []
    try:
        options = dataclasses.replace(recorded_options(manifest), engine="auto", data=tuple(map(str, paths)),
                                      pseudonymise_key=pseudonymise_key)
    except QualiscoreError as exc:
        notes.append(_("Breakdowns by {fields} cannot be recomputed: {reason}", fields=fields, reason=exc.message))
        return []
    if not manifest.get("group_by"):
        return _record_means(todo, schemes, options, cards, descriptions, notes)
    return _pooled(todo, schemes, options, manifest, descriptions, notes)


def _record_means(todo: Sequence[str], schemes: Sequence[Scheme], options: RunOptions,
                  cards: Sequence[Mapping[str, Any]], descriptions: Mapping[str, str],
                  notes: list[str]) -> list[Breakdown]:
    """One scorecard per record: a group's figure is the mean of its records' scores, grouped by the
    ``todo`` fields of the records read from the run's own inputs."""
    try:
        datasets = [(s.records.id, read_inputs(options.data, s.records, options)) for s in schemes]
    except QualiscoreError as exc:
        notes += [_("Breakdown by {field} cannot be recomputed: {reason}", field=f, reason=exc.message) for f in todo]
        return []
    out = []
    unknown = _("(unknown)")  # a scorecard of a record not found in the inputs
    for f in todo:
        values: dict[str, str] = {}
        for id_field, ds in datasets:
            for rec in ds.records:
                values.setdefault(str(rec.get(id_field)), "" if rec.get(f) is None else str(rec.get(f)))
        pairs = [(values.get(str(c.get("subject")), unknown), c) for c in cards]
        out.append(Breakdown(f, _field_label(descriptions, f), "mean", _("mean of record scores, records read from "
                             "the run's inputs (SHA-256 checked)"), _mean_rows(pairs)))
    return out


def _pooled(todo: Sequence[str], schemes: Sequence[Scheme], options: RunOptions, manifest: Mapping[str, Any],
            descriptions: Mapping[str, str], notes: list[str]) -> list[Breakdown]:
    """Breakdowns by the ``todo`` fields: the run's schemes applied again to its inputs, grouped by each."""
    out = []
    for f in todo:
        label = _field_label(descriptions, f)
        try:
            fresh = execute(schemes, options.data, dataclasses.replace(options, by=(f,)))
        except QualiscoreError as exc:
            notes.append(_("Breakdown by {field} cannot be recomputed: {reason}", field=f, reason=exc.message))
            continue
        if fresh.rows_read != (manifest.get("rows") or {}).get("read", fresh.rows_read):
            notes.append(_("Breakdown by {field}: {n} rows read, but the run read {read}.", field=f,
                           n=fresh.rows_read, read=manifest["rows"]["read"]))
        out.append(Breakdown(f, label, "pooled", _("recomputed from the run's inputs (SHA-256 checked): "
                             "the scheme applied to the pooled records of each group"),
                             _rows_from_cards([scorecard_dict(c) for c in fresh.scorecards], [f])))
    return out
