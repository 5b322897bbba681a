"""Tokens of a pseudonymised run turned back into values, for a holder of the run's key.

No table of tokens and values is ever stored: ``qualiscore reveal`` reads the run's own
inputs again, as its manifest names them (SHA-256 checked), types them with the run's
scheme, and computes the token of every value of each pseudonymised field with the key.
The key must be the run's (its id is the manifest's), or nothing is read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Location, UsageError
from .i18n import _
from .manifest import find_recorded, read_manifest
from .privacy import key_id, scheme_contracts, token
from .records import read_records
from .schemes import load_versions

__all__ = ["FORMATS", "Revealed", "render", "reveal"]

FORMATS = ("text", "csv", "json")


@dataclass(frozen=True, slots=True)
class Revealed:
    """One token and the value it stands for in one field (``value`` None: no value of the inputs has it)."""

    token: str
    field: str | None
    value: str | None


def reveal(outdir: str | Path, key: bytes, tokens: Sequence[str] = ()) -> tuple[Revealed, ...]:
    """Each of ``tokens`` (all of the run's, when none) with its field and value, read from the run's inputs.

    UsageError when the run pseudonymised nothing, when ``key`` is not the run's key, or when an
    input is missing or changed since the run (its values would not be the run's).
    """
    out = Path(outdir)
    manifest = read_manifest(out)
    recorded = (manifest.get("privacy") or {}).get("key_id")
    if recorded is None:
        raise UsageError(_("the run in {outdir} pseudonymised no field, so it has no token to reveal", outdir=outdir),
                         hint=_("reveal applies to runs of a scheme whose contract declares `personal:` fields "
                                "with pseudonymise"))
    if key_id(key) != recorded:
        raise UsageError(_("the key given (id {given}) is not the key the run was made with (id {recorded}); "
                           "nothing was read", given=key_id(key), recorded=recorded),
                         hint=_("give the key the run was made with: the ids must match"),
                         code="pseudonymise-key-mismatch")
    found: dict[tuple[str, str], str] = {}
    for contract, paths, options in _inputs(manifest, out):
        dataset = read_records(paths, contract, encoding=options.get("encoding"), sheet=options.get("sheet"))
        pseudonymised = [name for name, policy in contract.personal if policy == "pseudonymise"]
        for name in pseudonymised:
            for value in _values(dataset.records, dataset.problems, name, contract.id):
                found.setdefault((token(key, value), name), value)
    wanted = list(dict.fromkeys(tokens))
    if not wanted:
        return tuple(Revealed(t, f, v) for (t, f), v in sorted(found.items()))
    out_rows = []
    for t in wanted:
        hits = [Revealed(t, f, v) for (tok, f), v in sorted(found.items()) if tok == t]
        out_rows.extend(hits or [Revealed(t, None, None)])
    return tuple(out_rows)


def _values(records: Iterable[Mapping[str, Any]], problems: Iterable[Any], name: str, id_field: str) -> list[str]:
    """Every text a token of field ``name`` was made from: its typed values, a rejected cell's raw value, and,
    for the record id, the raw id each problem names its row by."""
    out = [v if isinstance(v, str) else str(v) for r in records if (v := r.get(name)) is not None]
    for p in problems:
        if p.field == name and p.value is not None:
            out.append(p.value)
        if name == id_field and p.record_id is not None:
            out.append(p.record_id)
    return out


def _inputs(manifest: Mapping[str, Any], out: Path) -> list[tuple[Any, list[str], Mapping[str, Any]]]:
    """(contract, paths, options) for each record contract of the run's schemes, its inputs found
    while their SHA-256 is the recorded one."""
    options: Mapping[str, Any] = manifest.get("options") or {}
    scheme_path = options.get("scheme_path") or manifest["schemes"][0]["path"]
    located, why = find_recorded(scheme_path, None, out)
    if located is None:
        raise UsageError(_("the run's scheme {path} is {why}", path=scheme_path, why=why),
                         location=Location(scheme_path),
                         hint=_("run reveal where the run was made, with its scheme and inputs in place"))
    recorded = {s["sha256"] for s in manifest["schemes"]}
    schemes = [s for s in load_versions(located) if s.sha256 in recorded] or load_versions(located)
    paths: dict[str | None, list[str]] = {}
    for entry in manifest["inputs"]:
        if entry.get("format") in ("sql", "arrow"):
            raise UsageError(_("input {path} was a query, which reveal cannot read again", path=entry["path"])
                             if entry["format"] == "sql" else
                             _("input {path} was a table in memory, which reveal cannot read again",
                               path=entry["path"]), hint=_("reveal reads the run's input files"))
        found, why = find_recorded(entry["path"], entry["sha256"], out)
        if found is None:
            raise UsageError(_("input {path} is {why}, so its values are not the run's; nothing was revealed",
                               path=entry["path"], why=why),
                             location=Location(entry["path"]), hint=_("restore the inputs the run read"))
        paths.setdefault(entry.get("source"), []).append(str(found))
    out_list = []
    seen: set[tuple[str, Any]] = set()
    for scheme in schemes:
        for name, contract in scheme_contracts(scheme):
            inputs = paths.get(name if scheme.sources else None, [])
            if inputs and contract.personal and (name, contract) not in seen:
                seen.add((name, contract))
                out_list.append((contract, inputs, options))
    return out_list


def render(rows: Sequence[Revealed], fmt: str) -> str:
    """The rows as a table (text), CSV with a header, or a JSON array."""
    if fmt == "json":
        return json.dumps([{"token": r.token, "field": r.field, "value": r.value} for r in rows],
                          ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("token", "field", "value"))
        writer.writerows((r.token, r.field or "", r.value or "") for r in rows)
        return buf.getvalue()
    width = max((len(r.token) for r in rows), default=5)
    fwidth = max((len(r.field or "") for r in rows), default=5)
    lines = [f"{'token':<{width}}  {'field':<{fwidth}}  value"]
    missing = _("(not found)")
    lines += [f"{r.token:<{width}}  {(r.field or '-'):<{fwidth}}  {r.value if r.value is not None else missing}"
              for r in rows]
    return "\n".join(lines) + "\n"
