"""Confirm a published run: hashes of scheme, inputs and outputs, then a full recomputation.

An auditor learns either that the run is reproduced exactly, or what differs: the
scheme file, an input, an output edited by hand (which subject, which field), a file
that the run did not write, or the engine version. Every file of the directory is
accounted for: the manifest's outputs, the manifest and its signature, and reports
written later by ``qualiscore report``, whose SHA-256 ``reports.json`` records (they
are not covered by the manifest or its signature, and the report says so). Who signed
the run, and whether their key is trusted on the day they signed, is
:func:`qualiscore.trust.check_signer`'s answer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, inputchanges
from .diff import change_lines, check_document, diff_documents
from .errors import DamagedOutputError, QualiscoreError, UsageError
from .formats import explain_difference
from .loader import MAX_BYTES, load_text
from .manifest import (
    MANIFEST,
    RECORD_FILES,
    REPORTS_FILE,
    read_manifest,
    read_reports,
    render_outputs,
    sha256_bytes,
    sha256_file,
)
from .records import split_sheet
from .records.arrow import FORMAT as TABLE_FORMAT
from .rulesrepo import GitPlace, Repository, algorithm_of, blob_id
from .runs import recorded_path, rerun
from .signing import SIGNATURE_FILE, Envelope
from .trust import SignerStatus, check_signer, described

# Exit codes of `qualiscore verify`, most fundamental first (documented in docs/errors.md).
EXIT_VERIFIED = 0
EXIT_SIGNATURE = 9
EXIT_SCHEME_CHANGED = 10
EXIT_INPUT_CHANGED = 11
EXIT_ENGINE_CHANGED = 12
EXIT_OUTPUT_CHANGED = 13
EXIT_NOT_REPRODUCED = 14
EXIT_SIGNER_UNCHECKED = 17  # the mildest: a valid signature whose key nothing said to trust

# Outputs a run lists that the recomputation cannot produce: taken as published (their SHA-256 is checked).
UNRECOMPUTED = ("report.html",)

_EXIT = {
    "signature": EXIT_SIGNATURE,
    "scheme-changed": EXIT_SCHEME_CHANGED,
    "scheme-missing": EXIT_SCHEME_CHANGED,
    "scheme-not-approved": EXIT_SCHEME_CHANGED,  # --rules-rev: the run's scheme is not the one required
    "input-changed": EXIT_INPUT_CHANGED,
    "input-missing": EXIT_INPUT_CHANGED,
    "input-in-memory": EXIT_INPUT_CHANGED,  # a table scored in memory: no file to check or to read again
    "engine-version": EXIT_ENGINE_CHANGED,
    "output-changed": EXIT_OUTPUT_CHANGED,
    "output-missing": EXIT_OUTPUT_CHANGED,
    "output-extra": EXIT_OUTPUT_CHANGED,
    "not-reproduced": EXIT_NOT_REPRODUCED,
    "recompute-failed": EXIT_NOT_REPRODUCED,
    "signer-unchecked": EXIT_SIGNER_UNCHECKED,
    "scheme-git-mismatch": EXIT_NOT_REPRODUCED,
}


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str
    file: str
    message: str
    subject: str | None = None
    field: str | None = None  # a column, or a JSON pointer into a scorecard
    published: Any = None  # the field's value in the output, when a field differs
    recomputed: Any = None  # ... and in the recomputation
    details: tuple[str, ...] = ()  # lines shown under the message: what changed in a scheme, or why it cannot be shown

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "message": self.message, "subject": self.subject,
                "field": self.field, "published": self.published, "recomputed": self.recomputed,
                "details": list(self.details)}


@dataclass(frozen=True, slots=True)
class Check:
    """One thing verify checked, what the run recorded and what was found: a row of the verification record."""

    check: str  # "scheme SHA-256", "input SHA-256", "output SHA-256", "signature", "recomputation", ...
    item: str  # the file (or revision) checked
    expected: str | None
    found: str | None
    result: str  # "pass", "fail" or "not checked"

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "item": self.item, "expected": self.expected, "found": self.found,
                "result": self.result}


@dataclass(frozen=True, slots=True)
class Report:
    outdir: str
    discrepancies: tuple[Discrepancy, ...]
    recomputed: bool
    signer: str | None = None  # fingerprint of the key that signed the manifest, when the signature is valid
    later_reports: tuple[str, ...] = ()  # reports written after the run, matching reports.json (not signed)
    notes: tuple[Discrepancy, ...] = ()  # told, but no reason to fail: a scheme run with uncommitted changes
    approved: tuple[str, ...] = ()  # with --rules-rev: each scheme that is exactly the file at that revision
    signature_status: SignerStatus = "not-signed"  # trusted, unchecked, untrusted, invalid or not-signed
    envelope: Envelope | None = None  # a valid signature's facts: signed_at, operator, host, command, ...
    signer_owner: str | None = None  # the owner the trusted keys give the signer's key (trusted, or not that day)
    trusted_keys: tuple[str, ...] = ()  # the trusted-keys files (or --public-key) the signer was looked up in

    @property
    def signed(self) -> str:
        """Who signed, when, where: ``signed by OWNER (FINGERPRINT) at TIME by OPERATOR on HOST``, or ``not signed``."""
        return described(self.signature_status, self.envelope, self.signer_owner)

    checks: tuple[Check, ...] = ()  # every check made, passed or not, in the order made
    manifest_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def as_dict(self) -> dict[str, Any]:
        """The report as ``verify --format json`` gives it (the verification record adds who, when and a seal)."""
        facts = self.envelope.facts() if self.envelope is not None else {}
        signature = {"status": self.signature_status, "owner": self.signer_owner,
                     **{key: facts.get(key) for key in ("fingerprint", "signed_at", "operator", "host", "qualiscore",
                                                        "command", "manifest_sha256")},
                     "trusted_keys": list(self.trusted_keys)}
        return {"outdir": self.outdir, "verified": self.ok, "recomputed": self.recomputed, "signer": self.signer,
                "signature": signature, "later_reports": list(self.later_reports), "exit_code": self.exit_code,
                "discrepancies": [d.as_dict() for d in self.discrepancies],
                "notes": [d.as_dict() for d in self.notes], "approved": list(self.approved),
                "checks": [c.as_dict() for c in self.checks]}

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_VERIFIED
        return min(_EXIT[d.kind] for d in self.discrepancies)


def verify(outdir: str | Path, *, base: str | Path | None = None, public_key: str | Path | None = None,
           trusted_keys: str | Path | None = None, rules_rev: str | None = None,
           rules_repo: str | Path | None = None) -> Report:
    """Check the signature and its signer, every hash the manifest records, then recompute and compare.

    The signer is looked up in ``trusted_keys`` or ``public_key`` (either requires a
    signature), else in the trusted-keys.yaml nearest to the run's schemes. ``rules_rev``
    also requires every scheme of the run to be exactly its file at that revision of the
    rules repository: ``rules_repo``, or the repository holding the scheme file
    (UsageError when ``rules_repo`` is not a repository or has no such revision).
    """
    out = Path(outdir)
    manifest = read_manifest(out)
    root = Path(base) if base is not None else None
    found: list[Discrepancy] = []
    seen: dict[str, str | None] = {}  # the SHA-256 found of each file checked (None: missing)
    signed = check_signer(out, [recorded_path(s["path"], root) for s in manifest["schemes"]],
                          trusted_keys=trusted_keys, public_key=public_key)
    if signed.problem is not None:
        found.append(Discrepancy(signed.kind, SIGNATURE_FILE, signed.problem))
    version = manifest["engine"]["version"]
    if version != __version__:
        found.append(Discrepancy("engine-version", MANIFEST,
                                 f"the run was made by qualiscore {version}; this is {__version__}"))
    schemes = _check_schemes(manifest["schemes"], root, rules_rev, rules_repo)
    found.extend(schemes.found)
    for s in manifest["schemes"]:
        path = recorded_path(s["path"], root)
        seen[s["path"]] = sha256_file(path) if path.is_file() else None
    for i in manifest["inputs"]:
        if i["format"] == TABLE_FORMAT:
            found.append(_in_memory(i))
            continue
        path = Path(split_sheet(recorded_path(i["path"], root))[0])  # "book.xlsx#Sheet1" -> book.xlsx
        seen[i["path"]] = sha256_file(path) if path.is_file() else None
        if seen[i["path"]] is None:
            found.append(Discrepancy("input-missing", i["path"], f"input {i['path']} is missing"))
        elif seen[i["path"]] != i["sha256"]:
            found.append(Discrepancy("input-changed", i["path"], f"input {i['path']} was changed after the run"))
    outputs: dict[str, str] = manifest["outputs"]
    for name, digest in sorted(outputs.items()):
        path = out / name
        seen[name] = sha256_file(path) if path.is_file() else None
        if seen[name] is None:
            found.append(Discrepancy("output-missing", name, f"{name} is missing from {out}"))
        elif seen[name] != digest:
            found.append(Discrepancy("output-changed", name, f"{name} does not match its hash in the manifest"))
    later = _later_reports(out, set(outputs), found)
    for entry in sorted(out.iterdir()):
        name = entry.name
        if entry.is_dir() and not entry.is_symlink():
            found.append(Discrepancy("output-extra", name, f"{name}/ is a folder the run did not write"))
        elif name not in outputs and name not in RECORD_FILES and name not in later:
            found.append(Discrepancy("output-extra", name, f"{name} is not listed in the manifest"))
    changed = [d.file for d in found if d.kind == "input-changed"]
    if changed and not any(d.kind in ("scheme-changed", "scheme-missing", "input-missing", "input-in-memory")
                           for d in found):
        found += [Discrepancy("input-changed", file, message, subject=subject, published=old, recomputed=new)
                  for file, message, subject, old, new in inputchanges.explain(manifest, out, root, changed)]
    recomputed = False
    if not any(d.kind in ("scheme-changed", "scheme-missing", "input-changed", "input-missing", "input-in-memory")
               for d in found):
        recomputed = True
        found.extend(_recompute(manifest, out, root))
    found = _dedupe(found)
    checks = _checks(manifest, found, seen, signed.status, recomputed, rules_rev, later)
    return Report(str(out), tuple(found), recomputed, signed.envelope.fingerprint if signed.envelope else None,
                  tuple(sorted(later)), schemes.notes, schemes.approved, signed.status, signed.envelope, signed.owner,
                  signed.trusted_keys, checks, sha256_file(out / MANIFEST))


def _in_memory(entry: Mapping[str, Any]) -> Discrepancy:
    """A table scored in memory (``qualiscore.score`` of a DataFrame): its SHA-256 is recorded, but no file holds it."""
    return Discrepancy(
        "input-in-memory", entry["path"],
        f"input {entry['path']} was a table in memory ({entry['rows_read']} rows, SHA-256 of its Arrow stream "
        f"{entry['sha256'][:12]}…): no file holds it, so it cannot be checked and the run cannot be computed again",
        details=("to publish a run that verify can reproduce, save the table first (e.g. frame.write_parquet("
                 "'data.parquet')) and score the file",))


def _checks(manifest: Mapping[str, Any], found: Sequence[Discrepancy], seen: Mapping[str, str | None],
            signature: SignerStatus, recomputed: bool, rules_rev: str | None, later: set[str]) -> tuple[Check, ...]:
    """Every check made, as the verification record lists it: what was expected, what was found, the result."""
    failed = {(d.kind, d.file) for d in found}
    kinds = {d.kind for d in found}

    def result(*bad: tuple[str, str]) -> str:
        return "fail" if any(b in failed for b in bad) else "pass"

    def sha(check: str, name: str, expected: str, *bad: str) -> Check:
        return Check(check, name, expected, seen.get(name) or "(missing)", result(*((k, name) for k in bad)))

    status = {"trusted": "pass", "not-signed": "pass", "unchecked": "not checked"}.get(signature, "fail")
    version = manifest["engine"]["version"]
    out = [Check("signature", SIGNATURE_FILE, "a valid signature by a trusted key, when signed", signature, status),
           Check("engine version", MANIFEST, version, __version__, "pass" if version == __version__ else "fail")]
    for s in manifest["schemes"]:
        out.append(sha("scheme SHA-256", s["path"], s["sha256"], "scheme-changed", "scheme-missing"))
        if s.get("git") is not None:
            place = f"blob {s['git']['blob']} at commit {s['git']['commit'] or '(none)'}"
            out.append(Check("scheme place in git", s["path"], place, "as recorded" if
                             result(("scheme-git-mismatch", s["path"])) == "pass" else "contradicted",
                             result(("scheme-git-mismatch", s["path"]))))
        if rules_rev is not None:
            out.append(Check("scheme is the approved file", s["path"], f"{s['path']} at {rules_rev}", None,
                             result(("scheme-not-approved", s["path"]))))
    out += [Check("input SHA-256", i["path"], i["sha256"], "(a table in memory: no file to read)", "not checked")
            if i["format"] == TABLE_FORMAT else sha("input SHA-256", i["path"], i["sha256"], "input-changed",
                                                    "input-missing")
            for i in manifest["inputs"]]
    out += [sha("output SHA-256", name, digest, "output-changed", "output-missing")
            for name, digest in sorted(manifest["outputs"].items())]
    out += [Check("later report SHA-256", name, f"as recorded in {REPORTS_FILE}", "as recorded", "pass")
            for name in sorted(later)]
    out.append(Check("nothing else in the directory", ".", "only the run's files", None,
                     "fail" if "output-extra" in kinds else "pass"))
    out.append(Check("recomputation", "scorecards, rejects, manifest", "the published bytes", None,
                     ("fail" if kinds & {"not-reproduced", "recompute-failed"} else "pass") if recomputed
                     else "not checked"))
    return tuple(out)


# --------------------------------------------------------------------------- the schemes and their rules repository


@dataclass(frozen=True, slots=True)
class _SchemeChecks:
    """What verify found about the schemes of the run."""

    found: tuple[Discrepancy, ...]
    notes: tuple[Discrepancy, ...]
    approved: tuple[str, ...] = ()  # with --rules-rev, each scheme that is exactly the file at that revision


def _check_schemes(entries: Sequence[Mapping[str, Any]], root: Path | None, rules_rev: str | None,
                   rules_repo: str | Path | None) -> _SchemeChecks:
    """Every scheme of the run checked (:func:`_check_scheme`), against ``rules_repo`` when given."""
    given = _rules_repository(Path(rules_repo), rules_rev) if rules_repo is not None else None
    checked = [_check_scheme(entry, root, given, rules_rev) for entry in entries]
    return _SchemeChecks(tuple(d for c in checked for d in c.found), tuple(d for c in checked for d in c.notes),
                         tuple(a for c in checked for a in c.approved))


def _rules_repository(directory: Path, rules_rev: str | None) -> Repository:
    """``--rules-repo DIR``, which must be a git repository holding ``rules_rev`` when that is given."""
    repo = Repository.at(directory)
    if repo is None:
        raise UsageError(f"--rules-repo {directory} is not a git repository (or git is not installed)",
                         hint="give the directory of a clone of the rules repository")
    if rules_rev is not None and repo.commit(rules_rev) is None:
        raise UsageError(f"the rules repository {repo.top} has no revision {rules_rev!r}",
                         hint="give a tag, branch or commit of that repository (`git tag`, `git branch -a`)")
    return repo


def _check_scheme(entry: Mapping[str, Any], root: Path | None, given: Repository | None,
                  rules_rev: str | None) -> _SchemeChecks:
    """The scheme file's SHA-256, its recorded place in git, and with ``rules_rev`` whether it is the approved file.

    The version that ran is the file itself while its SHA-256 matches; otherwise it is read
    from git when the recorded commit (or ``rules_rev``) holds it, to show what changed.
    """
    name, path, what = entry["path"], recorded_path(entry["path"], root), f"scheme {entry['id']} {entry['version']}"
    place = GitPlace.from_manifest(entry.get("git"))
    data = path.read_bytes() if path.is_file() else None
    changed = data is not None and sha256_bytes(data) != entry["sha256"]
    repo = given or (Repository.holding(path) if place is not None or rules_rev is not None or changed else None)
    rel = place.path if place is not None else repo.relative(path) if repo is not None else None
    ran, source = data, name  # the bytes that ran, and where they were found (or why they were not)
    if data is None or changed:
        ran, source = _version_run(entry, place, repo, rel, rules_rev)
    found: list[Discrepancy] = []
    notes: list[Discrepancy] = []
    if data is None:
        found.append(Discrepancy("scheme-missing", name, f"scheme file {name} is missing"))
    elif changed:
        details = (f"the version that ran is {source}; what changed since:", *_semantic_changes(ran, source, data, name)) \
            if ran is not None else (f"what changed cannot be shown: {source}",)
        found.append(Discrepancy("scheme-changed", name, f"{what} was changed after the run (SHA-256 differs)",
                                 details=details))
    if place is not None:
        found += _check_place(entry, place, repo, None if changed else data)
        if not place.committed:
            last = f"last committed in {place.short_commit}" if place.commit else "never committed"
            notes.append(Discrepancy("scheme-uncommitted", name,
                                     f"{what} was run with uncommitted changes to {place.path} ({last}): the version "
                                     "that ran is not one its repository holds"))
        if place.commit is not None and repo is None:
            notes.append(Discrepancy("scheme-git-unchecked", name,
                                     f"the commit recorded for {what} ({place.short_commit}) could not be checked: "
                                     f"{name} is not in a git repository here (see --rules-repo)"))
    if rules_rev is None:
        return _SchemeChecks(tuple(found), tuple(notes))
    approval = _check_approved(entry, repo, rel, rules_rev, ran, source)
    if isinstance(approval, Discrepancy):
        return _SchemeChecks((*found, approval), tuple(notes))
    return _SchemeChecks(tuple(found), tuple(notes), (approval,))


def _check_place(entry: Mapping[str, Any], place: GitPlace, repo: Repository | None,
                 ran: bytes | None) -> list[Discrepancy]:
    """The recorded place against the facts: the blob of the bytes that ran, and the recorded commit's content."""
    name, found = entry["path"], []

    def wrong(message: str) -> None:
        found.append(Discrepancy("scheme-git-mismatch", name, f"the manifest's git record of {name} is wrong: "
                                 + message))

    if ran is not None and blob_id(ran, algorithm_of(place.blob)) != place.blob:
        wrong(f"it names blob {place.blob[:12]}, but the scheme file that ran is blob "
              f"{blob_id(ran, algorithm_of(place.blob))[:12]}")
    if place.committed and place.commit is None:
        wrong("it says the file was committed, but names no commit")
    if place.commit is None or repo is None:
        return found
    commit, blob = repo.objects([place.commit + "^{commit}", f"{place.commit}:{place.path}"])
    if commit is None:
        wrong(f"the rules repository {repo.top} has no commit {place.commit}")
    elif place.committed and blob != place.blob:
        held = f"holds blob {blob[:12]} there" if blob else "has no such file"
        wrong(f"it says the file ran as committed in {place.short_commit} as {place.path}, but that commit {held}")
    return found


def _version_run(entry: Mapping[str, Any], place: GitPlace | None, repo: Repository | None, rel: str | None,
                 rules_rev: str | None) -> tuple[bytes | None, str]:
    """The bytes of the scheme that ran, read from git, and where from (``PATH at COMMIT``); else None and why not.

    Tried: the recorded commit, then ``rules_rev``; a version counts only if its SHA-256 is the recorded one.
    """
    if repo is None:
        return None, f"{entry['path']} is not in a git repository here (see --rules-repo)"
    revisions = [(place.commit, place.path, f"commit {place.short_commit}")] if place is not None and place.commit else []
    if rules_rev is not None and rel is not None:
        revisions.append((rules_rev, rel, rules_rev))
    for rev, path, label in revisions:
        data = repo.read(rev, path, limit=MAX_BYTES)
        if data is not None and sha256_bytes(data) == entry["sha256"]:
            return data, f"{path} at {label}"
    if place is None:
        return None, "the run recorded no place in git for it (the file was not in a git repository)"
    if not place.committed:
        return None, "it had uncommitted changes when run, so no commit holds the version that ran"
    return None, f"commit {place.short_commit} does not hold it in the repository {repo.top}"


def _check_approved(entry: Mapping[str, Any], repo: Repository | None, rel: str | None, rules_rev: str,
                    ran: bytes | None, why: str) -> Discrepancy | str:
    """Whether the scheme that ran is exactly its file at ``rules_rev``: the approval line, or why not.

    ``ran`` is the bytes that ran, for the changes shown, or None and ``why`` they are not at hand.
    """
    name, what = entry["path"], f"scheme {entry['id']} {entry['version']}"

    def refused(message: str, details: tuple[str, ...] = ()) -> Discrepancy:
        return Discrepancy("scheme-not-approved", name, f"{what} is not the file at {rules_rev}: {message}",
                           details=details)

    if repo is None:
        return refused(f"{name} is not in a git repository here (pass --rules-repo)")
    if rel is None:
        return refused(f"the run recorded no place in git for {name}, and it is not inside {repo.top}")
    commit = repo.commit(rules_rev)
    if commit is None:
        return refused(f"the rules repository {repo.top} has no revision {rules_rev!r}")
    approved = repo.read(commit, rel, limit=MAX_BYTES)
    if approved is None:
        return refused(f"{rel} does not exist at commit {commit[:12]}")
    if sha256_bytes(approved) == entry["sha256"]:
        return f"{what} is {rel} at {rules_rev} (commit {commit[:12]})"
    details = (f"what the run used differs from {rel} at {rules_rev} by:",
               *_semantic_changes(approved, f"{rules_rev}:{rel}", ran, name)) if ran is not None \
        else (f"what the run used cannot be shown: {why}",)
    return refused(f"the file that ran differs from {rel} at commit {commit[:12]}", details)


def _semantic_changes(old: bytes, old_name: str, new: bytes, new_name: str) -> tuple[str, ...]:
    """What changed from ``old`` to ``new``, as `qualiscore diff` prints it; or why that cannot be shown."""
    try:
        old_doc, new_doc = load_text(old, old_name), load_text(new, new_name)
        check_document(old_doc)
        check_document(new_doc)
    except QualiscoreError as exc:
        return (f"(the changes cannot be shown: {exc.message})",)
    changes = diff_documents(old_doc, new_doc)
    return tuple(change_lines(changes)) or ("no semantic change: only layout or comments differ",)


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
        return [Discrepancy("not-reproduced", name, f"{name} differs from the recomputation")]
    if len(found) > MAX_NAMED:
        rest = len(found) - MAX_NAMED
        more = f"… and {rest} more difference{'s' if rest > 1 else ''} in {name}"
        found = [*found[:MAX_NAMED], Discrepancy("not-reproduced", name, more)]
    return found


def _changed(name: str, subject: str, label: str, field: str, old: Any, new: Any) -> Discrepancy:
    return Discrepancy("not-reproduced", name, f"{label} {field}: published {_shown(old)}, recomputed {_shown(new)}",
                       subject=subject, field=field, published=None if old is _ABSENT else old,
                       recomputed=None if new is _ABSENT else new)


def _shown(value: Any) -> str:
    return "(absent)" if value is _ABSENT else repr(value)


def _explain_jsonl(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Scorecards matched by subject; every differing leaf named by JSON pointer."""
    old, bad = _cards(stored)
    new, _ = _cards(fresh)
    found = [Discrepancy("not-reproduced", name, f"line {n} is not a JSON scorecard") for n in bad]
    for subject, cb in new.items():
        if subject not in old:
            found.append(Discrepancy("not-reproduced", name,
                                     f"the scorecard of {subject} is recomputed but missing from {name}",
                                     subject=subject))
            continue
        for pointer, a, b in _differences(old[subject], cb, ""):
            found.append(_changed(name, subject, subject, pointer, a, b))
    found += [Discrepancy("not-reproduced", name, f"the scorecard of {subject} is published but not recomputed",
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
            found.append(Discrepancy("not-reproduced", name, f"the row of {subject} is recomputed but missing "
                                     f"from {name}", subject=str(subject)))
        else:
            found += _cell_changes(name, str(subject), str(subject), old[subject], b, ("subject",))
    found += [Discrepancy("not-reproduced", name, f"{name} has a row for {subject}, published but not recomputed",
                          subject=str(subject)) for subject in old if subject not in new]
    return found


def _explain_rejects(name: str, stored: bytes, fresh: bytes) -> list[Discrepancy]:
    """Rejects matched by (source, row): missing, added, or with another record id, field, code or reason."""
    def key(r: dict[str, str]) -> tuple[str, str]:
        return r.get("source", ""), r.get("row", "")

    def what(r: dict[str, str]) -> str:
        return f"{r.get('record_id', '')}, {r.get('code', '')} {r.get('field', '')}"

    old, new = _keyed(_rows(stored), key), _keyed(_rows(fresh), key)
    found = []
    for k, b in new.items():
        where = f"{b.get('source', '')} row {b.get('row', '')}"
        if k not in old:
            found.append(Discrepancy("not-reproduced", name, f"the reject of {where} ({what(b)}) is missing from "
                                     f"{name}", subject=where))
        else:
            found += _cell_changes(name, where, f"the reject of {where} ({b.get('record_id', '')})", old[k], b,
                                   ("source", "row"))
    for k, a in old.items():
        if k not in new:
            where = f"{a.get('source', '')} row {a.get('row', '')}"
            found.append(Discrepancy("not-reproduced", name, f"{name} lists {where} ({what(a)}), which the "
                                     "recomputation did not reject", subject=where))
    return found


def _dedupe(items: Sequence[Discrepancy]) -> list[Discrepancy]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in items:
        key = (d.kind, d.file, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
