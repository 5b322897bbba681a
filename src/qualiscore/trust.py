"""Which keys may sign runs, and whether a run's signer is one of them on the day it signed.

A valid signature only proves that *some* key signed a run: whoever edits an input can
re-run and sign with a key of their own. The committee therefore keeps
``trusted-keys.yaml`` in its rules repository, listing each key it trusts with its owner,
fingerprint, public key and the dates between which it may sign. ``verify`` looks the
signer up there (``--trusted-keys FILE``, ``--public-key`` for one key, or the
``trusted-keys.yaml`` nearest to the run's schemes), on the UTC date the envelope says
the run was signed. The file is read with the scheme loader (hostile YAML refused, every
value located) and checked against ``schemas/trusted-keys.schema.json``; a wrong
fingerprint, a date that does not exist or a key listed twice is an error at its line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

from .errors import Location, QualiscoreError, UsageError
from .i18n import _
from .loader import Document, load_path
from .provenance import MANIFEST
from .signing import (
    SIGNATURE_FILE,
    Envelope,
    SignatureError,
    check,
    fingerprint,
    public_key_raw,
    read_envelope,
    read_public_key,
)
from .validation import TRUSTED_KEYS, Finding, explain_schema_error, shipped_schema

FORMAT = "qualiscore-trusted-keys/v1"
SCHEMA = "trusted-keys.schema.json"
_DOCS = "docs/auditing.md, \"Who signed, and when\""


class TrustedKeysError(QualiscoreError):
    """A trusted-keys file cannot be used; carries every finding, each at its line and column."""

    code = "trusted-keys"

    def __init__(self, findings: Sequence[Finding], path: str) -> None:
        self.findings = tuple(findings)
        first = self.findings[0]
        super().__init__(_("{path} cannot be used: {n} error(s); first: {message}", path=path, n=len(self.findings),
                           message=first.message),
                         location=first.location, hint=first.hint)

    def format(self) -> str:
        return "\n".join(f.format() for f in self.findings)


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One key a trusted-keys file lists: whose it is, and the days it may sign on (None: unbounded)."""

    owner: str
    fingerprint: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    location: Location

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def validity(self) -> str:
        if self.valid_from and self.valid_to:
            return _("from {start} to {end}", start=self.valid_from, end=self.valid_to)
        return _("from {start}", start=self.valid_from) if self.valid_from else _("until {end}", end=self.valid_to)


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """The keys of one trusted-keys file (or of the one key given with ``--public-key``)."""

    source: str  # the file, as shown in messages
    keys: tuple[TrustedKey, ...]
    single: bool = False  # a --public-key: "not by this key" rather than "not listed"

    def lookup(self, key_fingerprint: str) -> TrustedKey | None:
        return next((k for k in self.keys if k.fingerprint == key_fingerprint), None)


# --------------------------------------------------------------------------- reading the file


def load_trusted_keys(path: str | os.PathLike[str]) -> TrustedKeys:
    """The keys of a trusted-keys file; TrustedKeysError listing every mistake, each located."""
    doc = load_path(path)
    findings = [_with_our_docs(f) for error in _validator().iter_errors(doc.data)
                for f in explain_schema_error(doc, error)]
    keys = list(_keys(doc, findings))
    if findings:
        raise TrustedKeysError(sorted(findings, key=Finding.sort_key), doc.path)
    return TrustedKeys(doc.path, tuple(keys))


def one_key(path: str | os.PathLike[str]) -> TrustedKeys:
    """``--public-key FILE``: that key alone, owned by the file's name, on any date."""
    key_path = Path(path)
    key = TrustedKey(key_path.name, fingerprint(read_public_key(key_path)), None, None, Location(str(key_path)))
    return TrustedKeys(str(key_path), (key,), single=True)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(shipped_schema(SCHEMA))


def _with_our_docs(finding: Finding) -> Finding:
    """The schema's finding with a hint for this file (the schema's hints speak of schemes)."""
    if finding.hint and "docs/scheme-format.md" in finding.hint:
        return dataclasses.replace(finding, hint=finding.hint.replace("docs/scheme-format.md", _DOCS))
    if finding.code == "invalid-value" and (finding.location.pointer or "").endswith("/fingerprint"):
        return dataclasses.replace(finding, hint=_("write the fingerprint as `qualiscore keygen` prints it: SHA256: "
                                                   "and 43 letters, digits, + or /"))
    return finding


def _keys(doc: Document, findings: list[Finding]) -> Iterator[TrustedKey]:
    """Each well-formed entry as a TrustedKey; the mistakes the schema cannot see added to ``findings``."""
    entries = doc.data.get("keys") if isinstance(doc.data, dict) else None
    first_seen: dict[str, Location] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        at = f"/keys/{i}"
        stated = entry.get("fingerprint")
        actual = _actual_fingerprint(doc, at, entry.get("public_key"), findings)
        if actual is not None and isinstance(stated, str) and stated != actual:
            findings.append(Finding("error", "key-fingerprint-mismatch",
                                    _("fingerprint {stated} is not that of this public key, which is {actual}",
                                      stated=stated, actual=actual),
                                    doc.locate(f"{at}/fingerprint"),
                                    _("copy the fingerprint and the public key from the same `qualiscore keygen` "
                                      "output (or from the same .pub.pem file)")))
        valid_from = _date(doc, f"{at}/valid_from", entry.get("valid_from"), findings)
        valid_to = _date(doc, f"{at}/valid_to", entry.get("valid_to"), findings)
        if valid_from and valid_to and valid_to < valid_from:
            findings.append(Finding("error", "key-dates-reversed",
                                    _("valid_to {end} is before valid_from {start}: the key could sign on no day",
                                      end=valid_to, start=valid_from),
                                    doc.locate(f"{at}/valid_to"), _("swap the two dates")))
        key = actual or stated
        if isinstance(key, str):
            if key in first_seen:
                earlier = first_seen[key]
                findings.append(Finding("error", "key-duplicate",
                                        _("the key {key} is listed already, at line {line}", key=key,
                                          line=earlier.line),
                                        doc.locate(at), _("list each key once; to change its owner or dates, edit "
                                                          "its first entry")))
            else:
                first_seen[key] = doc.locate(at)
        owner = entry.get("owner")
        if isinstance(owner, str) and isinstance(stated, str) and valid_from is not None:
            yield TrustedKey(owner, stated, valid_from, valid_to, doc.locate(at))  # kept only when nothing is wrong


def _actual_fingerprint(doc: Document, at: str, pem: Any, findings: list[Finding]) -> str | None:
    if not isinstance(pem, str):
        return None
    try:
        return fingerprint(public_key_raw(pem.encode("utf-8")))
    except ValueError as exc:
        findings.append(Finding("error", "key-unreadable", _("public_key is {reason}", reason=exc),
                                doc.locate(f"{at}/public_key"),
                                _("paste the whole .pub.pem file written by `qualiscore keygen`, its BEGIN and END "
                                  "lines included, under `public_key: |`")))
        return None


def _date(doc: Document, pointer: str, value: Any, findings: list[Finding]) -> dt.date | None:
    """A date the schema let through by its form (YYYY-MM-DD); a finding when no such day exists."""
    if not isinstance(value, str) or len(value) != 10:
        return None  # absent, or the schema's finding
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        findings.append(Finding("error", "key-bad-date", _("{value} is not a date that exists", value=value),
                                doc.locate(pointer), _("write the date as YYYY-MM-DD, e.g. 2026-12-31")))
        return None


# --------------------------------------------------------------------------- finding the file


def find_trusted_keys(schemes: Sequence[Path]) -> tuple[Path, ...]:
    """The ``trusted-keys.yaml`` nearest to each scheme: in its directory or one above it, up to the root of
    the git repository holding it (the file-system root outside one); each file once."""
    found: dict[Path, None] = {}
    for scheme in schemes:
        directory = Path(os.path.abspath(scheme)).parent
        while True:
            candidate = directory / TRUSTED_KEYS
            if candidate.is_file():
                found[candidate] = None
                break
            if (directory / ".git").exists() or directory.parent == directory:
                break
            directory = directory.parent
    return tuple(found)


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the current directory when it lies under it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


# --------------------------------------------------------------------------- the signer


SignerStatus = Literal["not-signed", "trusted", "unchecked", "untrusted", "invalid"]


@dataclass(frozen=True, slots=True)
class Signer:
    """What verify found out about who signed a run, and whether they are trusted to."""

    status: SignerStatus
    envelope: Envelope | None = None  # the envelope, when its signature is valid
    owner: str | None = None  # the owner the trusted keys give the signer's key (also when not on that day)
    trusted_keys: tuple[str, ...] = ()  # the files (or --public-key) the signer was looked up in
    problem: str | None = None  # why the run cannot be taken as signed by a trusted key; None when it can,
    #                             or when it is not signed and nothing asked for a signature

    @property
    def kind(self) -> str:
        """The kind of verify's discrepancy for ``problem``: only an unchecked signer is not exit 9."""
        return "signer-unchecked" if self.status == "unchecked" else "signature"



def described(status: str, facts: Mapping[str, Any] | None, owner: str | None) -> str:
    """``signed by OWNER (FINGERPRINT) at TIME by OPERATOR on HOST`` when trusted, else ``signed with key …``.

    ``facts`` are a valid signature's (``Envelope.facts()``, as ``verify --format json`` and the
    verification record keep them), None when there is none.
    """
    if not facts or not facts.get("fingerprint"):
        return _("not signed") if status == "not-signed" else _("signature not valid")
    if owner and status == "trusted":
        return _("signed by {owner} ({fingerprint}) at {time} by {operator} on {host}", owner=owner,
                 fingerprint=facts["fingerprint"], time=facts.get("signed_at"), operator=facts.get("operator"),
                 host=facts.get("host"))
    return _("signed with key {fingerprint} at {time} by {operator} on {host}", fingerprint=facts["fingerprint"],
             time=facts.get("signed_at"), operator=facts.get("operator"), host=facts.get("host"))


def check_signer(outdir: str | Path, schemes: Sequence[Path], *, trusted_keys: str | Path | None = None,
                 public_key: str | Path | None = None) -> Signer:
    """Whether the run in ``outdir`` is signed, validly, by a key trusted on the day it was signed.

    The keys are ``trusted_keys`` or ``public_key`` when given (a run must then be
    signed), else the trusted-keys.yaml files nearest to ``schemes``.
    """
    if trusted_keys is not None and public_key is not None:
        raise UsageError(_("give --trusted-keys or --public-key, not both"),
                         hint=_("--public-key KEY is a shortcut for a trusted-keys file listing that one key"))
    out = Path(outdir)
    given = ([load_trusted_keys(trusted_keys)] if trusted_keys is not None
             else [one_key(public_key)] if public_key is not None else None)
    try:
        envelope = read_envelope(out)
        if envelope is not None:
            check(envelope, (out / MANIFEST).read_bytes(), out / SIGNATURE_FILE)
    except SignatureError as exc:
        return Signer("invalid", problem=exc.message)
    sources = given if given is not None else [load_trusted_keys(_shown(p)) for p in find_trusted_keys(schemes)]
    if envelope is None:
        if not sources:
            return Signer("not-signed")
        files = tuple(s.source for s in sources)
        problem = (_("{outdir} is not signed (no {file}), but {keys} was given: only a run signed by a trusted key "
                     "verifies", outdir=out, file=SIGNATURE_FILE, keys=", ".join(files)) if given is not None
                   else _("{outdir} is not signed (no {file}), but {keys} lists the keys that sign the runs of these "
                          "schemes: only a run signed by a trusted key verifies", outdir=out, file=SIGNATURE_FILE,
                          keys=", ".join(files)))
        return Signer("not-signed", trusted_keys=files, problem=problem)
    files = tuple(s.source for s in sources)
    if not sources:
        return Signer("unchecked", envelope,
                      problem=_("signature valid, signer not checked: nothing says whether to trust the key "
                                "{fingerprint}; no --trusted-keys or --public-key was given, and no {file} is next "
                                "to the run's schemes or above them (up to the root of their git repository, or of "
                                "the file system)", fingerprint=envelope.fingerprint, file=TRUSTED_KEYS))
    owners = []
    for source in sources:
        key = source.lookup(envelope.fingerprint)
        refusal = _untrusted(envelope, source, key)
        if refusal is not None:
            return Signer("untrusted", envelope, key.owner if key else None, files, refusal)
        owners.append(key.owner)  # type: ignore[union-attr]
    return Signer("trusted", envelope, " / ".join(dict.fromkeys(owners)), files)


def _untrusted(envelope: Envelope, source: TrustedKeys, key: TrustedKey | None) -> str | None:
    """Why ``source`` does not trust the signer (``key``, its entry there) on the day it signed; None when it does."""
    facts = {"fingerprint": envelope.fingerprint, "time": envelope.signed_at, "operator": envelope.operator,
             "host": envelope.host}
    if key is None:
        if source.single:
            return _("the run was signed by {fingerprint} at {time} by {operator} on {host}, not by {key} "
                     "({key_fingerprint})", key=source.source, key_fingerprint=source.keys[0].fingerprint, **facts)
        return _("the run was signed by {fingerprint} (at {time} by {operator} on {host}), a key {keys} does not "
                 "list: do not trust this run", keys=source.source, **facts)
    if key.valid_on(envelope.signed_on):
        return None
    when = (_("its validity ended on {end}", end=key.valid_to) if key.valid_to and envelope.signed_on > key.valid_to
            else _("it is valid only from {start}", start=key.valid_from))
    return _("the run was signed by {owner} ({fingerprint}) at {time} by {operator} on {host}, but {location} "
             "trusts that key {validity}: {when}", owner=key.owner, location=key.location, validity=key.validity(),
             when=when, **facts)


# --------------------------------------------------------------------------- an entry to paste


def entry(owner: str, key_fingerprint: str, public_pem: str, valid_from: dt.date) -> str:
    """The entry of a key for trusted-keys.yaml, ready to paste under ``keys:``."""
    pem = "".join(f"      {line}\n" for line in public_pem.strip().splitlines())
    optional = _("optional: the last day the key may sign")
    return (f"  - owner: {json.dumps(owner, ensure_ascii=False)}\n"
            f"    fingerprint: \"{key_fingerprint}\"\n"
            f"    public_key: |\n{pem}"
            f"    valid_from: {valid_from.isoformat()}\n"
            f"    # valid_to: {valid_from.year}-12-31   # {optional}\n")
