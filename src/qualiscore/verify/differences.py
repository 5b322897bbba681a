"""The recomputation compared with the published outputs, and each difference named.

Scorecards are matched by subject and rejects by source and row, never by line, so a
removed or added line names that one scorecard or reject; each differing field is
named with its published and recomputed values.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import QualiscoreError
from ..formats import explain_difference
from ..i18n import _, ngettext
from ..manifest import MANIFEST, render_outputs, sha256_file
from ..options import EngineName
from ..provenance import SAMPLE_FORMAT
from ..records.database import QueryTable
from ..runs import rerun
from .discrepancy import Discrepancy

# Outputs a run lists that the recomputation cannot produce: taken as published (their SHA-256 is checked).
UNRECOMPUTED = ("report.html",)

def _recompute(manifest: dict[str, Any], out: Path, root: Path | None,
               queries: Mapping[str, QueryTable] | None = None,
               pseudonymise_key: bytes | None = None, engine: EngineName = "rows",
               spark_master: str | None = None) -> list[Discrepancy]:
    listed = [name for name in manifest["outputs"] if name in UNRECOMPUTED]
    published = {name: (out / name).read_bytes() for name in listed
                 if (out / name).is_file() and sha256_file(out / name) == manifest["outputs"][name]}
    try:
        if manifest["format"] == SAMPLE_FORMAT:  # an inspection sample: drawn again
            from ..sampling import resample

            fresh = resample(manifest, root, pseudonymise_key=pseudonymise_key)
        else:
            fresh = render_outputs(rerun(manifest, root, queries=queries, pseudonymise_key=pseudonymise_key,
                                         engine=engine, spark_master=spark_master), published)
    except QualiscoreError as exc:
        return [Discrepancy("recompute-failed", MANIFEST, _("the run could not be recomputed: {reason}",
                                                           reason=exc.message))]
    found = []
    for name, data in fresh.items():
        path = out / name
        if not path.is_file() or (name == MANIFEST and len(published) < len(listed)):
            continue  # a missing or changed report is reported already; the manifest cannot be rebuilt without it
        stored = path.read_bytes()
        if stored != data:
            found.extend(_explain(name, stored, data))
    return found


# Differences named per output file; the rest are counted in one last line.
MAX_NAMED = 20

_ABSENT = object()  # a key or cell one side lacks


def _explain(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Say which subject (or reject) and which field of an output differ, with both values."""
    if name == "scorecards.jsonl":
        found = _explain_jsonl(name, stored, fresh)
    elif name == "rejects.csv":
        found = _explain_rejects(name, stored, fresh)
    elif name == "scorecards.csv":
        found = _explain_scorecards_csv(name, stored, fresh)
    elif name.endswith((".parquet", ".xlsx")):  # compared by content: library upgrades change bytes only
        return [Discrepancy("not-reproduced", name, message, subject=subject, field=field)
                for message, subject, field in explain_difference(name, stored, fresh)]
    else:
        found = []
    if not found:  # same content, other bytes (line endings, key order)
        return [Discrepancy("not-reproduced", name, _("{name} differs from the recomputation", name=name))]
    if len(found) > MAX_NAMED:
        rest = len(found) - MAX_NAMED
        more = ngettext("… and {n} more difference in {name}", "… and {n} more differences in {name}", rest,
                        name=name)
        found = [*found[:MAX_NAMED], Discrepancy("not-reproduced", name, more)]
    return found


def _changed(name: str, subject: str, label: str, field: str, old: Any, new: Any) -> Discrepancy:
    return Discrepancy("not-reproduced", name, _("{label} {field}: published {published}, recomputed {recomputed}",
                                                 label=label, field=field, published=_shown(old),
                                                 recomputed=_shown(new)),
                       subject=subject, field=field, published=None if old is _ABSENT else old,
                       recomputed=None if new is _ABSENT else new)


def _shown(value: Any) -> str:
    return _("(absent)") if value is _ABSENT else repr(value)


def _explain_jsonl(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Scorecards matched by subject; every differing leaf named by JSON pointer."""
    old, bad = _cards(stored)
    new, _unreadable = _cards(fresh)
    found = [Discrepancy("not-reproduced", name, _("line {n} is not a JSON scorecard", n=n)) for n in bad]
    for subject, cb in new.items():
        if subject not in old:
            found.append(Discrepancy("not-reproduced", name,
                                     _("the scorecard of {subject} is recomputed but missing from {name}",
                                       subject=subject, name=name),
                                     subject=subject))
            continue
        for pointer, a, b in _differences(old[subject], cb, ""):
            found.append(_changed(name, subject, subject, pointer, a, b))
    found += [Discrepancy("not-reproduced", name, _("the scorecard of {subject} is published but not recomputed",
                                                    subject=subject),
                          subject=subject) for subject in old if subject not in new]
    return found


def _cards(data: bytes) -> tuple[dict[str, Any], list[int]]:
    """Scorecards by subject (a repeated subject is published but not recomputed), and unreadable line numbers."""
    cards: dict[str, Any] = {}
    bad = []
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        try:
            card = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            card = None
        if not isinstance(card, dict) or not isinstance(card.get("subject"), str):
            bad.append(n)
            continue
        key = card["subject"]
        while key in cards:
            key += " (again)"
        cards[key] = card
    return cards, bad


def _differences(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Every leaf where ``a`` and ``b`` differ, as (JSON pointer, a's value, b's value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b))
                for d in _differences(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{path}/{key}")]
    if isinstance(a, list) and isinstance(b, list):
        return [d for i in range(max(len(a), len(b)))
                for d in _differences(a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT,
                                      f"{path}/{i}")]
    if a == b and type(a) is type(b):
        return []
    return [(path or "/", a, b)]


def _rows(data: bytes) -> list[dict[str, str]]:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
    header = lines[0] if lines else []
    return [dict(zip(header, cells)) for cells in lines[1:]]


def _keyed(rows: list[dict[str, str]], key: Any) -> dict[Any, dict[str, str]]:
    out: dict[Any, dict[str, str]] = {}
    for row in rows:
        k = key(row)
        while k in out:
            k = (k, "again")
        out[k] = row
    return out


def _cell_changes(name: str, subject: str, label: str, a: dict[str, str], b: dict[str, str],
                  skip: tuple[str, ...]) -> list[Discrepancy]:
    return [_changed(name, subject, label, column, a.get(column, _ABSENT), b.get(column, _ABSENT))
            for column in list(b) + [c for c in a if c not in b]
            if column not in skip and a.get(column, _ABSENT) != b.get(column, _ABSENT)]


def _explain_scorecards_csv(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Rows matched by subject (the first column); every differing column named."""
    old = _keyed(_rows(stored), lambda r: r.get("subject", ""))
    new = _keyed(_rows(fresh), lambda r: r.get("subject", ""))
    found = []
    for subject, b in new.items():
        if subject not in old:
            found.append(Discrepancy("not-reproduced", name, _("the row of {subject} is recomputed but missing "
                                                               "from {name}", subject=subject, name=name),
                                     subject=str(subject)))
        else:
            found += _cell_changes(name, str(subject), str(subject), old[subject], b, ("subject",))
    found += [Discrepancy("not-reproduced", name, _("{name} has a row for {subject}, published but not recomputed",
                                                    name=name, subject=subject),
                          subject=str(subject)) for subject in old if subject not in new]
    return found


def _explain_rejects(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Rejects matched by (source, row): missing, added, or with another record id, field, code or reason."""
    def key(r: dict[str, str]) -> tuple[str, str]:
        return r.get("source", ""), r.get("row", "")

    def what(r: dict[str, str]) -> str:
        return f"{r.get('record_id', '')}, {r.get('code', '')} {r.get('field', '')}"

    def where(r: dict[str, str]) -> str:  # the reject's place as the discrepancy's subject (data, in English)
        return f"{r.get('source', '')} row {r.get('row', '')}"

    def shown(r: dict[str, str]) -> str:  # ... and as its message says it
        return _("{source} row {row}", source=r.get("source", ""), row=r.get("row", ""))

    old, new = _keyed(_rows(stored), key), _keyed(_rows(fresh), key)
    found = []
    for k, b in new.items():
        if k not in old:
            found.append(Discrepancy("not-reproduced", name, _("the reject of {where} ({what}) is missing from "
                                                               "{name}", where=shown(b), what=what(b), name=name),
                                     subject=where(b)))
        else:
            label = _("the reject of {where} ({record_id})", where=shown(b), record_id=b.get("record_id", ""))
            found += _cell_changes(name, where(b), label, old[k], b, ("source", "row"))
    for k, a in old.items():
        if k not in new:
            found.append(Discrepancy("not-reproduced", name, _("{name} lists {where} ({what}), which the "
                                                               "recomputation did not reject", name=name,
                                                               where=shown(a), what=what(a)),
                                     subject=where(a)))
    return found
