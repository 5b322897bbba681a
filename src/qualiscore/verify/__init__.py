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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, inputchanges
from ..errors import DamagedOutputError
from ..i18n import N_, _, language
from ..manifest import MANIFEST, RECORD_FILES, REPORTS_FILE, read_manifest, read_reports, sha256_file
from ..options import EngineName
from ..privacy import key_id
from ..provenance import SAMPLE_FORMAT
from ..records import split_sheet
from ..records.arrow import FORMAT as TABLE_FORMAT
from ..records.database import FORMAT as QUERY_FORMAT
from ..records.database import QueryTable
from ..runs import recorded_path
from ..signing import SIGNATURE_FILE, Envelope
from ..trust import SignerStatus, check_signer, described
from .differences import _recompute
from .discrepancy import Discrepancy
from .query import check_query
from .schemes import _check_schemes

__all__ = ["Check", "Discrepancy", "Report", "verify"]

# Exit codes of `qualiscore verify`, most fundamental first (documented in docs/errors.md).
EXIT_VERIFIED = 0
EXIT_SIGNATURE = 9
EXIT_SCHEME_CHANGED = 10
EXIT_INPUT_CHANGED = 11
EXIT_ENGINE_CHANGED = 12
EXIT_OUTPUT_CHANGED = 13
EXIT_NOT_REPRODUCED = 14
EXIT_SIGNER_UNCHECKED = 17  # the mildest: a valid signature whose key nothing said to trust
EXIT_INPUT_UNREACHABLE = 18  # a query input cannot be run again (no DSN, the database refuses): not recomputed
EXIT_KEY_MISSING = 19  # the run pseudonymised personal fields and no --pseudonymise-key was given: not recomputed
EXIT_KEY_MISMATCH = 20  # the key given is not the one the run was made with (its id differs): not recomputed

_EXIT = {
    "signature": EXIT_SIGNATURE,
    "scheme-changed": EXIT_SCHEME_CHANGED,
    "scheme-missing": EXIT_SCHEME_CHANGED,
    "scheme-not-approved": EXIT_SCHEME_CHANGED,  # --rules-rev: the run's scheme is not the one required
    "input-changed": EXIT_INPUT_CHANGED,
    "input-missing": EXIT_INPUT_CHANGED,
    "input-in-memory": EXIT_INPUT_CHANGED,  # a table scored in memory: no file to check or to read again
    "input-unreachable": EXIT_INPUT_UNREACHABLE,  # a query's rows cannot be read again to check them
    "engine-version": EXIT_ENGINE_CHANGED,
    "output-changed": EXIT_OUTPUT_CHANGED,
    "output-missing": EXIT_OUTPUT_CHANGED,
    "output-extra": EXIT_OUTPUT_CHANGED,
    "not-reproduced": EXIT_NOT_REPRODUCED,
    "recompute-failed": EXIT_NOT_REPRODUCED,
    "signer-unchecked": EXIT_SIGNER_UNCHECKED,
    "scheme-git-mismatch": EXIT_NOT_REPRODUCED,
    "key-missing": EXIT_KEY_MISSING,
    "key-mismatch": EXIT_KEY_MISMATCH,
}


@dataclass(frozen=True, slots=True)
class Check:
    """One thing verify checked, what the run recorded and what was found: a row of the verification record."""

    check: str  # "scheme SHA-256", "input SHA-256", ...: in English, a name the record's renderings translate
    item: str  # the file (or revision) checked
    expected: str | None  # the hash or fact recorded, or a phrase in the language of the verification
    found: str | None
    result: str  # "pass", "fail" or "not checked" (data: the renderings translate it)

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
        return described(self.signature_status, self.envelope.facts() if self.envelope else None, self.signer_owner)

    checks: tuple[Check, ...] = ()  # every check made, passed or not, in the order made
    manifest_sha256: str | None = None
    language: str = field(default_factory=language)  # the language of the messages, the notes and the checks' phrases

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
        # The lowest status, the most fundamental; a signer left unchecked is the mildest of all.
        return min((_EXIT[d.kind] for d in self.discrepancies), key=lambda code: (code == EXIT_SIGNER_UNCHECKED, code))


def verify(outdir: str | Path, *, base: str | Path | None = None, public_key: str | Path | None = None,
           trusted_keys: str | Path | None = None, rules_rev: str | None = None,
           rules_repo: str | Path | None = None, pseudonymise_key: bytes | None = None,
           engine: EngineName = "rows", spark_master: str | None = None) -> Report:
    """Check the signature and its signer, every hash the manifest records, then recompute and compare.

    The signer is looked up in ``trusted_keys`` or ``public_key`` (either requires a
    signature), else in the trusted-keys.yaml nearest to the run's schemes. ``rules_rev``
    also requires every scheme of the run to be exactly its file at that revision of the
    rules repository: ``rules_repo``, or the repository holding the scheme file
    (UsageError when ``rules_repo`` is not a repository or has no such revision).
    ``pseudonymise_key``: the key of a run that pseudonymised personal fields, which recomputing it needs.
    ``engine``: what recomputes the run, the reference ("rows") or "spark" (on ``spark_master``), whose
    executors also hash the inputs given as URIs (``hdfs://…``), which this machine cannot open.
    """
    out = Path(outdir)
    manifest = read_manifest(out)
    root = Path(base) if base is not None else None
    found: list[Discrepancy] = []
    seen: dict[str, str | None] = {}  # the SHA-256 found of each file checked (None: missing)
    rows_seen: dict[str, str] = {}  # the SHA-256 of the rows each query input returns now, when it was run
    queries: dict[str, QueryTable] = {}  # the rows of the run's queries (by path), when they are the run's
    signed = check_signer(out, [recorded_path(s["path"], root) for s in manifest["schemes"]],
                          trusted_keys=trusted_keys, public_key=public_key)
    if signed.problem is not None:
        found.append(Discrepancy(signed.kind, SIGNATURE_FILE, signed.problem))
    version = manifest["engine"]["version"]
    if version != __version__:
        found.append(Discrepancy("engine-version", MANIFEST,
                                 _("the run was made by qualiscore {version}; this is {current}",
                                   version=version, current=__version__)))
    schemes = _check_schemes(manifest["schemes"], root, rules_rev, rules_repo)
    found.extend(schemes.found)
    for s in manifest["schemes"]:
        path = recorded_path(s["path"], root)
        seen[s["path"]] = sha256_file(path) if path.is_file() else None
    remote = [i["path"] for i in manifest["inputs"] if "://" in i["path"]]
    hashed = _cluster_hashes(remote, spark_master) if remote and engine == "spark" else {}
    for i in manifest["inputs"]:
        if i["format"] == TABLE_FORMAT:
            found.append(_in_memory(i))
            continue
        if i["path"] in remote:
            seen[i["path"]] = hashed.get(i["path"])
        else:
            path = Path(split_sheet(recorded_path(i["path"], root))[0])  # "book.xlsx#Sheet1" -> book.xlsx
            seen[i["path"]] = sha256_file(path) if path.is_file() else None
        if seen[i["path"]] is None:
            message = (_("input {path} is missing (or, read by a cluster, not checked: verify with --engine spark)",
                         path=i["path"]) if i["path"] in remote and engine != "spark"
                       else _("input {path} is missing", path=i["path"]))
            found.append(Discrepancy("input-missing", i["path"], message))
        elif seen[i["path"]] != i["sha256"]:
            message = (_("the query file {path} was edited after the run", path=i["path"])
                       if i["format"] == QUERY_FORMAT else _("input {path} was changed after the run", path=i["path"]))
            found.append(Discrepancy("input-changed", i["path"], message))
        elif i["format"] == QUERY_FORMAT:
            problem, query, rows = check_query(i, path)
            found.extend([problem] if problem is not None else [])
            queries.update({i["path"]: query} if query is not None else {})
            rows_seen.update({i["path"]: rows} if rows is not None else {})
    outputs: dict[str, str] = manifest["outputs"]
    for name, digest in sorted(outputs.items()):
        path = out / name
        seen[name] = sha256_file(path) if path.is_file() else None
        if seen[name] is None:
            found.append(Discrepancy("output-missing", name, _("{name} is missing from {outdir}", name=name,
                                                                  outdir=str(out))))
        elif seen[name] != digest:
            found.append(Discrepancy("output-changed", name,
                                     _("{name} does not match its hash in the manifest", name=name)))
    later = _later_reports(out, set(outputs), found)
    for entry in sorted(out.iterdir()):
        name = entry.name
        if entry.is_dir() and not entry.is_symlink():
            found.append(Discrepancy("output-extra", name, _("{name}/ is a folder the run did not write", name=name)))
        elif name not in outputs and name not in RECORD_FILES and name not in later:
            found.append(Discrepancy("output-extra", name, _("{name} is not listed in the manifest", name=name)))
    found.extend(_key_problems(manifest, pseudonymise_key))
    changed = [d.file for d in found if d.kind == "input-changed" and d.file not in remote]
    if changed and manifest["format"] != SAMPLE_FORMAT and not any(
            d.kind in ("scheme-changed", "scheme-missing", "input-missing", "input-in-memory", "input-unreachable")
            for d in found):
        found += [Discrepancy("input-changed", file, message, subject=subject, published=old, recomputed=new)
                  for file, message, subject, old, new in inputchanges.explain(manifest, out, root, changed,
                                                                               pseudonymise_key)]
    recomputed = False
    if not any(d.kind in ("scheme-changed", "scheme-missing", "input-changed", "input-missing", "input-in-memory",
                          "input-unreachable", "key-missing", "key-mismatch") for d in found):
        recomputed = True
        found.extend(_recompute(manifest, out, root, queries, pseudonymise_key, engine, spark_master))
    found = _dedupe(found)
    checks = _checks(manifest, found, seen, rows_seen, signed.status, recomputed, rules_rev, later)
    return Report(str(out), tuple(found), recomputed, signed.envelope.fingerprint if signed.envelope else None,
                  tuple(sorted(later)), schemes.notes, schemes.approved, signed.status, signed.envelope, signed.owner,
                  signed.trusted_keys, checks, sha256_file(out / MANIFEST))


def _cluster_hashes(uris: Sequence[str], master: str | None) -> dict[str, str | None]:
    """The SHA-256 of inputs only a cluster reads, computed by Spark's executors."""
    from ..engine import engine_named
    from ..engine.spark.files import file_hashes
    from ..engine.spark.session import session

    engine_named("spark")  # pyspark installed, or how to install it
    return file_hashes(session(master), uris)


def _key_problems(manifest: Mapping[str, Any], key: bytes | None) -> list[Discrepancy]:
    """A run that pseudonymised personal fields is recomputed only with its own key (the ids must match)."""
    recorded = (manifest.get("privacy") or {}).get("key_id")
    if recorded is None:
        return []
    if key is None:
        return [Discrepancy("key-missing", MANIFEST, _("the run pseudonymised personal fields with the key "
                                                       "{key_id}, and no --pseudonymise-key was given, so it was "
                                                       "not recomputed", key_id=recorded),
                            details=(_("give the key the run was made with: --pseudonymise-key FILE"),))]
    if key_id(key) != recorded:
        return [Discrepancy("key-mismatch", MANIFEST, _("the key given (id {given}) is not the key the run was made "
                                                        "with (id {recorded}), so it was not recomputed",
                                                        given=key_id(key), recorded=recorded),
                            details=(_("give the key the run was made with: the ids must match"),))]
    return []


def _in_memory(entry: Mapping[str, Any]) -> Discrepancy:
    """A table scored in memory (``qualiscore.score`` of a DataFrame): its SHA-256 is recorded, but no file holds it."""
    return Discrepancy(
        "input-in-memory", entry["path"],
        _("input {path} was a table in memory ({rows} rows, SHA-256 of its Arrow stream {sha256}…): no file "
          "holds it, so it cannot be checked and the run cannot be computed again",
          path=entry["path"], rows=entry["rows_read"], sha256=entry["sha256"][:12]),
        details=(_("to publish a run that verify can reproduce, save the table first (e.g. frame.write_parquet("
                   "'data.parquet')) and score the file"),))


def _checks(manifest: Mapping[str, Any], found: Sequence[Discrepancy], seen: Mapping[str, str | None],
            rows_seen: Mapping[str, str], signature: SignerStatus, recomputed: bool, rules_rev: str | None,
            later: set[str]) -> tuple[Check, ...]:
    """Every check made, as the verification record lists it: what was expected, what was found, the result."""
    failed = {(d.kind, d.file) for d in found}
    kinds = {d.kind for d in found}

    def result(*bad: tuple[str, str]) -> str:
        return "fail" if any(b in failed for b in bad) else "pass"

    def sha(check: str, name: str, expected: str, *bad: str) -> Check:
        return Check(check, name, expected, seen.get(name) or _("(missing)"), result(*((k, name) for k in bad)))

    # The checks' names (N_) are the record's data, in English; its renderings show them translated.
    status = {"trusted": "pass", "not-signed": "pass", "unchecked": "not checked"}.get(signature, "fail")
    version = manifest["engine"]["version"]
    out = [Check(N_("signature"), SIGNATURE_FILE, _("a valid signature by a trusted key, when signed"), signature,
                 status),
           Check(N_("engine version"), MANIFEST, version, __version__, "pass" if version == __version__ else "fail")]
    for s in manifest["schemes"]:
        out.append(sha(N_("scheme SHA-256"), s["path"], s["sha256"], "scheme-changed", "scheme-missing"))
        if s.get("git") is not None:
            commit = s["git"]["commit"] or _("(none)")
            place = _("blob {blob} at commit {commit}", blob=s["git"]["blob"], commit=commit)
            out.append(Check(N_("scheme place in git"), s["path"], place, _("as recorded") if
                             result(("scheme-git-mismatch", s["path"])) == "pass" else _("contradicted"),
                             result(("scheme-git-mismatch", s["path"]))))
        if rules_rev is not None:
            out.append(Check(N_("scheme is the approved file"), s["path"],
                             _("{path} at {rev}", path=s["path"], rev=rules_rev), None,
                             result(("scheme-not-approved", s["path"]))))
    out += [Check(N_("input SHA-256"), i["path"], i["sha256"], _("(a table in memory: no file to read)"),
                  "not checked")
            if i["format"] == TABLE_FORMAT else sha(N_("input SHA-256"), i["path"], i["sha256"], "input-changed",
                                                    "input-missing")
            for i in manifest["inputs"]]
    out += [Check(N_("query rows SHA-256"), i["path"], i.get("rows_sha256"),
                  rows_seen.get(i["path"]) or _("(not read: the query was not run again)"),
                  "pass" if rows_seen.get(i["path"]) == i.get("rows_sha256") else
                  "fail" if i["path"] in rows_seen else "not checked")
            for i in manifest["inputs"] if i["format"] == QUERY_FORMAT]
    out += [sha(N_("output SHA-256"), name, digest, "output-changed", "output-missing")
            for name, digest in sorted(manifest["outputs"].items())]
    out += [Check(N_("later report SHA-256"), name, _("as recorded in {file}", file=REPORTS_FILE), _("as recorded"),
                  "pass")
            for name in sorted(later)]
    out.append(Check(N_("nothing else in the directory"), ".", _("only the run's files"), None,
                     "fail" if "output-extra" in kinds else "pass"))
    out.append(Check(N_("recomputation"), "scorecards, rejects, manifest", _("the published bytes"), None,
                     ("fail" if kinds & {"not-reproduced", "recompute-failed"} else "pass") if recomputed
                     else "not checked"))
    return tuple(out)


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
                                 _("{file} records reports of another manifest, not of this run",
                                   file=REPORTS_FILE)))
        return set()
    later = set()
    for name, digest in sorted(record["reports"].items()):
        path = out / name
        if name in outputs:
            found.append(Discrepancy("output-changed", REPORTS_FILE,
                                     _("{file} lists {name}, which is one of the run's outputs", file=REPORTS_FILE,
                                       name=name)))
        elif not path.is_file():
            found.append(Discrepancy("output-missing", name, _("{name} (recorded in {file}) is missing", name=name,
                                                               file=REPORTS_FILE)))
        elif sha256_file(path) != digest:
            found.append(Discrepancy("output-changed", name,
                                     _("{name} was changed after `qualiscore report` wrote it (SHA-256 differs "
                                       "from {file})", name=name, file=REPORTS_FILE)))
        else:
            later.add(name)
    return later


def _dedupe(items: Sequence[Discrepancy]) -> list[Discrepancy]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in items:
        key = (d.kind, d.file, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
