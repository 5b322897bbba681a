"""What an input changed since its run: which lines, and which subjects they move.

``verify`` knows from the SHA-256 that an input changed. Here it learns where, from the
line digests the run published (:mod:`qualiscore.rowdigests`), and what it does, by
scoring the inputs as they are now and setting each subject's score and grade beside
the published ones. Both are facts for the auditor, so they are reported as
``input-changed`` discrepancies (exit 11), after the one that says the input changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import rowdigests
from ._display import visible
from .errors import QualiscoreError
from .i18n import N_, _
from .manifest import sha256_file
from .records import split_sheet
from .redaction import redact
from .runs import recorded_path, rerun
from .scorecard import scorecards_jsonl

MAX_NAMED = 20  # lines, and subjects, named per input; the rest are counted


def explain(manifest: Mapping[str, Any], out: Path, root: Path | None, changed: Sequence[str],
            pseudonymise_key: bytes | None = None) -> Iterator[tuple[str, str, str | None, Any, Any]]:
    """(input path, message, subject, published, now) for each changed line, then each subject moved.

    A changed line's text is quoted with personal numbers and addresses redacted, and not at all when
    the run declares personal fields (its manifest's ``privacy``): the line holds their raw values.
    """
    published = _published_digests(manifest, out)
    quote = "privacy" not in manifest
    for entry in manifest["inputs"]:
        if entry["path"] in changed and entry["format"] != "sql":  # a query's rows have no lines to name
            yield from _lines(entry, published.get(entry["path"]), root, quote)
    yield from _moves(manifest, out, root, changed, pseudonymise_key)


def _published_digests(manifest: Mapping[str, Any], out: Path) -> dict[str, rowdigests.Digests]:
    """The run's line digests by input path; none when the file is missing, edited or damaged."""
    path = out / rowdigests.FILE
    digest = manifest["outputs"].get(rowdigests.FILE)
    if digest is None or not path.is_file() or sha256_file(path) != digest:
        return {}
    try:
        return {d.path: d for d in rowdigests.parse(path.read_bytes())}
    except ValueError:
        return {}


def _lines(entry: Mapping[str, Any], before: rowdigests.Digests | None,
           root: Path | None, quote: bool = True) -> Iterator[tuple[str, str, str | None, Any, Any]]:
    source = entry["path"]
    if before is None:
        yield source, _("the lines of {source} that changed cannot be named: the run's {file} is missing or not "
                        "the one the manifest lists", source=source, file=rowdigests.FILE), None, None, None
        return
    if before.unit == "none":
        yield source, _("the lines of {source} that changed cannot be named: line digests are not recorded for "
                        "{format} inputs", source=source, format=entry['format']), None, None, None
        return
    real = str(recorded_path(split_sheet(source)[0], root))
    now = rowdigests.compute(real, entry["format"], entry.get("sheet"))
    found = rowdigests.changes(before.values, now.values)
    noun = before.unit
    unit = "row" if noun == "row" else "line"
    for change in found[:MAX_NAMED]:
        where = _(_WHERE[unit], source=source, number=change.number)
        if change.count > 1:
            last = change.number + change.count - 1
            message = _(_RANGE[unit], source=source, first=change.number, last=last, count=change.count,
                        verb=_verb(change.kind))
        elif change.kind == "removed":
            message = _("{where} (as numbered at the run) was removed", where=where)
        else:
            text = rowdigests.line_text(real, change.number) if noun == "line" and quote else None
            message = _("{where} {verb}", where=where, verb=_verb(change.kind))
            if text:
                message = _("{message}; it now reads: {text}", message=message, text=visible(redact(text) or ""))
        yield source, message, f"{source} {unit} {change.number}", None, None  # the subject is data: never translated
    if len(found) > MAX_NAMED:
        yield source, _(_MORE[unit], n=len(found) - MAX_NAMED, source=source), None, None, None
    if not found:
        yield source, _(_EVERY[unit], source=source), None, None, None


# Each said of an input's lines (text files) or rows (worksheets), as rowdigests numbers them.
_WHERE = {"line": N_("{source} line {number}"), "row": N_("{source} row {number}")}
_RANGE = {"line": N_("{source} lines {first}–{last} ({count:,}) {verb}"),
          "row": N_("{source} rows {first}–{last} ({count:,}) {verb}")}
_MORE = {"line": N_("… and {n} more changed lines in {source}"), "row": N_("… and {n} more changed rows in {source}")}
_EVERY = {"line": N_("every line of {source} has its digest of the run: the change is in line endings or encoding "
                     "bytes, or the digests collide"),
          "row": N_("every row of {source} has its digest of the run: the change is in line endings or encoding "
                    "bytes, or the digests collide")}
_VERBS = {"changed": N_("was changed"), "added": N_("was added"), "removed": N_("were removed")}


def _verb(kind: str) -> str:
    return _(_VERBS[kind]) if kind in _VERBS else kind


def _moves(manifest: Mapping[str, Any], out: Path, root: Path | None, changed: Sequence[str],
           pseudonymise_key: bytes | None = None) -> Iterator[tuple[str, str, str | None, Any, Any]]:
    """Each subject whose score or grade differs when the inputs as they are now are scored."""
    where = ", ".join(changed)
    cards_path = out / "scorecards.jsonl"
    if not cards_path.is_file() or sha256_file(cards_path) != manifest["outputs"].get("scorecards.jsonl"):
        yield where, _("the subjects the change moves cannot be named: scorecards.jsonl is not as published"), \
            None, None, None
        return
    try:
        now = rerun(manifest, root, pseudonymise_key=pseudonymise_key)
    except QualiscoreError as exc:
        yield where, _("scored as they are now, the inputs fail: {error}", error=exc.message), None, None, None
        return
    before = _cards(cards_path.read_bytes())
    after = _cards(scorecards_jsonl(now.scorecards).encode("utf-8"))
    moves: list[tuple[str, str, tuple[Any, Any] | None, tuple[Any, Any] | None]] = []
    for subject in [*after, *(s for s in before if s not in after)]:
        old, new = before.get(subject), after.get(subject)
        if old == new:
            continue
        if old is None and new is not None:
            moves.append((subject, _("{subject} is new: score {score}, grade {grade}", subject=subject,
                                     score=new[0], grade=new[1]), None, new))
        elif new is None and old is not None:
            moves.append((subject, _("{subject} is no longer scored (it was: score {score}, grade {grade})",
                                     subject=subject, score=old[0], grade=old[1]), old, None))
        elif old is not None and new is not None:
            grade = (_("grade {old} → {new}", old=old[1], new=new[1]) if old[1] != new[1]
                     else _("grade {grade} (unchanged)", grade=old[1]))
            moves.append((subject, _("{subject} moves: score {old} → {new}, {grade}", subject=subject, old=old[0],
                                     new=new[0], grade=grade), old, new))
    for subject, text, old, new in moves[:MAX_NAMED]:
        yield where, _("scored with the inputs as they are now, {change}", change=visible(text)), subject, \
            _pair(old), _pair(new)
    if len(moves) > MAX_NAMED:
        yield where, _("… and {n} more subjects move", n=len(moves) - MAX_NAMED), None, None, None
    if not moves:
        yield where, _("scored with the inputs as they are now, no subject's score or grade changes"), None, None, None


def _cards(data: bytes) -> dict[str, tuple[Any, Any]]:
    out = {}
    for line in data.decode("utf-8").splitlines():
        card = json.loads(line)
        out[card["subject"]] = (card.get("score"), card.get("grade"))
    return out


def _pair(value: tuple[Any, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {"score": value[0], "grade": value[1]}
