"""Confirm a published run: hashes of scheme, inputs and outputs, then a full recomputation.

An auditor learns either that the run is reproduced exactly, or what differs: the
scheme file, an input, an output edited by hand (which subject, which field), a file
that the run did not write, or the engine version. Every file of the directory is
accounted for: the manifest's outputs, the manifest and its signature, and reports
written later by ``qualiscore report``, whose SHA-256 ``reports.json`` records (they
are not covered by the manifest or its signature, and the report says so).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import DamagedOutputError, QualiscoreError
from .formats import explain_difference
from .manifest import (
    MANIFEST,
    RECORD_FILES,
    REPORTS_FILE,
    read_manifest,
    read_reports,
    render_outputs,
    sha256_file,
)
from .records import split_sheet
from .runs import recorded_path, rerun
from .signing import SIGNATURE_FILE, SignatureError, check_signature

# Exit codes of `qualiscore verify`, most fundamental first (documented in docs/errors.md).
EXIT_VERIFIED = 0
EXIT_SIGNATURE = 9
EXIT_SCHEME_CHANGED = 10
EXIT_INPUT_CHANGED = 11
EXIT_ENGINE_CHANGED = 12
EXIT_OUTPUT_CHANGED = 13
EXIT_NOT_REPRODUCED = 14

# Outputs a run lists that the recomputation cannot produce: taken as published (their SHA-256 is checked).
UNRECOMPUTED = ("report.html",)

_EXIT = {
    "signature": EXIT_SIGNATURE,
    "scheme-changed": EXIT_SCHEME_CHANGED,
    "scheme-missing": EXIT_SCHEME_CHANGED,
    "input-changed": EXIT_INPUT_CHANGED,
    "input-missing": EXIT_INPUT_CHANGED,
    "engine-version": EXIT_ENGINE_CHANGED,
    "output-changed": EXIT_OUTPUT_CHANGED,
    "output-missing": EXIT_OUTPUT_CHANGED,
    "output-extra": EXIT_OUTPUT_CHANGED,
    "not-reproduced": EXIT_NOT_REPRODUCED,
    "recompute-failed": EXIT_NOT_REPRODUCED,
}


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str
    file: str
    message: str
    subject: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "message": self.message, "subject": self.subject,
                "field": self.field}


@dataclass(frozen=True, slots=True)
class Report:
    outdir: str
    discrepancies: tuple[Discrepancy, ...]
    recomputed: bool
    signer: str | None = None  # fingerprint of the key that signed the manifest, when signed
    later_reports: tuple[str, ...] = ()  # reports written after the run, matching reports.json (not signed)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_VERIFIED
        return min(_EXIT[d.kind] for d in self.discrepancies)


def verify(outdir: str | Path, *, base: str | Path | None = None, public_key: str | Path | None = None) -> Report:
    """Check the signature (if any), every hash the manifest records, then recompute and compare."""
    out = Path(outdir)
    manifest = read_manifest(out)
    root = Path(base) if base is not None else None
    found: list[Discrepancy] = []
    signer = None
    if public_key is not None or (out / SIGNATURE_FILE).is_file():
        try:
            signer = check_signature(out, Path(public_key) if public_key is not None else None)
        except SignatureError as exc:
            found.append(Discrepancy("signature", SIGNATURE_FILE, exc.message))
    version = manifest["engine"]["version"]
    if version != __version__:
        found.append(Discrepancy("engine-version", MANIFEST,
                                 f"the run was made by qualiscore {version}; this is {__version__}"))
    for s in manifest["schemes"]:
        path = recorded_path(s["path"], root)
        if not path.is_file():
            found.append(Discrepancy("scheme-missing", s["path"], f"scheme file {s['path']} is missing"))
        elif sha256_file(path) != s["sha256"]:
            found.append(Discrepancy("scheme-changed", s["path"],
                                     f"scheme {s['id']} {s['version']} was changed after the run (SHA-256 differs)"))
    for i in manifest["inputs"]:
        path = Path(split_sheet(recorded_path(i["path"], root))[0])  # "book.xlsx#Sheet1" -> book.xlsx
        if not path.is_file():
            found.append(Discrepancy("input-missing", i["path"], f"input {i['path']} is missing"))
        elif sha256_file(path) != i["sha256"]:
            found.append(Discrepancy("input-changed", i["path"], f"input {i['path']} was changed after the run"))
    outputs: dict[str, str] = manifest["outputs"]
    for name, digest in sorted(outputs.items()):
        path = out / name
        if not path.is_file():
            found.append(Discrepancy("output-missing", name, f"{name} is missing from {out}"))
        elif sha256_file(path) != digest:
            found.append(Discrepancy("output-changed", name, f"{name} does not match its hash in the manifest"))
    later = _later_reports(out, set(outputs), found)
    for entry in sorted(out.iterdir()):
        name = entry.name
        if entry.is_dir() and not entry.is_symlink():
            found.append(Discrepancy("output-extra", name, f"{name}/ is a folder the run did not write"))
        elif name not in outputs and name not in RECORD_FILES and name not in later:
            found.append(Discrepancy("output-extra", name, f"{name} is not listed in the manifest"))
    recomputed = False
    if not any(d.kind in ("scheme-changed", "scheme-missing", "input-changed", "input-missing") for d in found):
        recomputed = True
        found.extend(_recompute(manifest, out, root))
    return Report(str(out), tuple(_dedupe(found)), recomputed, signer, tuple(sorted(later)))


def _later_reports(out: Path, outputs: set[str], found: list[Discrepancy]) -> set[str]:
    """The reports ``qualiscore report`` wrote into ``out`` after the run whose SHA-256 still match reports.json.

    A report changed since, a record made for another manifest, or a damaged record is a discrepancy.
    """
    try:
        record = read_reports(out)
    except DamagedOutputError as exc:
        found.append(Discrepancy("output-changed", REPORTS_FILE, exc.message))
        return set()
    if record is None:
        return set()
    if record["manifest_sha256"] != sha256_file(out / MANIFEST):
        found.append(Discrepancy("output-changed", REPORTS_FILE,
                                 f"{REPORTS_FILE} records reports of another manifest, not of this run"))
        return set()
    later = set()
    for name, digest in sorted(record["reports"].items()):
        path = out / name
        if name in outputs:
            found.append(Discrepancy("output-changed", REPORTS_FILE,
                                     f"{REPORTS_FILE} lists {name}, which is one of the run's outputs"))
        elif not path.is_file():
            found.append(Discrepancy("output-missing", name, f"{name} (recorded in {REPORTS_FILE}) is missing"))
        elif sha256_file(path) != digest:
            found.append(Discrepancy("output-changed", name,
                                     f"{name} was changed after `qualiscore report` wrote it (SHA-256 differs "
                                     f"from {REPORTS_FILE})"))
        else:
            later.add(name)
    return later


def _recompute(manifest: dict[str, Any], out: Path, root: Path | None) -> list[Discrepancy]:
    try:
        run = rerun(manifest, root)
    except QualiscoreError as exc:
        return [Discrepancy("recompute-failed", MANIFEST, f"the run could not be recomputed: {exc.message}")]
    found = []
    listed = [name for name in manifest["outputs"] if name in UNRECOMPUTED]
    published = {name: (out / name).read_bytes() for name in listed
                 if (out / name).is_file() and sha256_file(out / name) == manifest["outputs"][name]}
    for name, data in render_outputs(run, published).items():
        path = out / name
        if not path.is_file() or (name == MANIFEST and len(published) < len(listed)):
            continue  # a missing or changed report is reported already; the manifest cannot be rebuilt without it
        stored = path.read_bytes()
        if stored != data:
            found.extend(_explain(name, stored, data))
    return found


def _explain(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Say which subject and field of an output differ from the recomputation."""
    if name.endswith(".csv"):
        old = list(csv.reader(io.StringIO(stored.decode("utf-8", "replace"))))
        new = list(csv.reader(io.StringIO(fresh.decode("utf-8", "replace"))))
        header = new[0] if new else []
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b:
                for j, (x, y) in enumerate(zip(a, b)):
                    if x != y:
                        field = header[j] if j < len(header) else f"column {j + 1}"
                        return [Discrepancy("not-reproduced", name,
                                            f"line {i + 1} (subject {b[0] if b else '?'}), {field}: "
                                            f"published {x!r}, recomputed {y!r}",
                                            subject=b[0] if b else None, field=field)]
                return [Discrepancy("not-reproduced", name, f"line {i + 1} has a different number of cells",
                                    subject=b[0] if b else None)]
        return [Discrepancy("not-reproduced", name, f"published {len(old)} lines, recomputed {len(new)}")]
    if name.endswith(".jsonl"):
        old_lines = stored.decode("utf-8", "replace").splitlines()
        new_lines = fresh.decode("utf-8", "replace").splitlines()
        for old_line, new_line in zip(old_lines, new_lines):
            if old_line != new_line:
                try:
                    ca, cb = json.loads(old_line), json.loads(new_line)
                except (json.JSONDecodeError, RecursionError):
                    return [Discrepancy("not-reproduced", name, "a line is not valid JSON")]
                field = _first_difference(ca, cb, "")
                return [Discrepancy("not-reproduced", name, f"{cb.get('subject')}: {field} differs",
                                    subject=cb.get("subject"), field=field)]
        return [Discrepancy("not-reproduced", name,
                            f"published {len(old_lines)} scorecards, recomputed {len(new_lines)}")]
    if name.endswith((".parquet", ".xlsx")):  # compared by content: library upgrades change bytes only
        return [Discrepancy("not-reproduced", name, message, subject=subject, field=field)
                for message, subject, field in explain_difference(name, stored, fresh)]
    return [Discrepancy("not-reproduced", name, f"{name} differs from the recomputation")]


def _first_difference(a: Any, b: Any, path: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}/{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}/{i}")
    return path or "/"


def _dedupe(items: list[Discrepancy]) -> list[Discrepancy]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in items:
        key = (d.kind, d.file, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
