"""Ed25519 signatures of a run: who signed its manifest, when, on which host, with which command.

``manifest.json.sig`` is an envelope (format ``qualiscore-signature/v2``): a payload that
names the manifest by SHA-256 and records the time, operator, host, qualiscore version
and command line of the signing, and an Ed25519 signature over the payload's canonical
JSON. The manifest pins every input and output by SHA-256, so the signature vouches for
the whole run. The envelope lives beside the manifest, not in it, so two runs of the same
data still write the same manifest and outputs byte for byte; only their envelopes
differ. Whether the key that signed is one to trust is :mod:`qualiscore.trust`'s
question. Needs the optional ``cryptography`` package (``pip install 'qualiscore[sign]'``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import getpass
import hashlib
import json
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from ._display import json_shown
from .errors import Location, QualiscoreError, UsageError
from .i18n import N_, _

SIGNATURE_FILE = "manifest.json.sig"
FORMAT = "qualiscore-signature/v2"
ALGORITHM = "ed25519"
MAX_SIGNATURE_BYTES = 1 << 20  # an envelope holds a command line and a few names; more than this is not one
UNKNOWN_OPERATOR = "(unknown)"  # when the login name cannot be found and no --operator was given

_SIGNED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_RESIGN = N_("re-sign the run with `qualiscore evaluate --sign-key KEY`, or restore the published manifest.json.sig")


class SignatureError(QualiscoreError):
    """A signature is missing, malformed or does not match."""

    exit_code = 9
    code = "signature"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        from ._install import install_hint

        raise UsageError(_("signing needs the cryptography package"), hint=install_hint("sign")) from None
    return serialization, ed25519


def fingerprint(raw_public_key: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw_public_key).digest()).decode().rstrip("=")


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new PEM key pair; returns the public key's fingerprint."""
    serialization, ed25519 = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public = key.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    private_path.write_bytes(private_pem)
    private_path.chmod(0o600)
    public_path.write_bytes(public_pem)
    return fingerprint(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def public_key_raw(pem: bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 public key in PEM; ValueError when the text is not one."""
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ValueError(_("not a PEM public key")) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError(_("not an Ed25519 public key"))
    raw: bytes = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw


def read_public_key(path: Path) -> bytes:
    """The raw Ed25519 public key of a PEM file; UsageError when it cannot be read as one."""
    try:
        return public_key_raw(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(_("cannot read public key {path}: {reason}", path=path, reason=exc),
                         hint=_("give a .pub.pem file written by `qualiscore keygen`")) from None


def _private_key(path: Path) -> Any:
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(_("cannot read private key {path}: {reason}", path=path, reason=exc),
                         hint=_("give a PEM file written by `qualiscore keygen`")) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise UsageError(_("{path} is not an Ed25519 key", path=path), hint=_("create one with `qualiscore keygen`"))
    return key


def _raw_public(private_key: Any) -> bytes:
    serialization, _ed25519 = _crypto()
    raw: bytes = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw


def key_fingerprint(private_key_path: Path) -> str:
    """The fingerprint of the public half of a private key: what a report of a run it signs can name."""
    return fingerprint(_raw_public(_private_key(private_key_path)))


# --------------------------------------------------------------------------- the envelope


@dataclass(frozen=True, slots=True)
class Envelope:
    """A signature file as read: what its payload states, the key and the signature (checked by :func:`check`)."""

    manifest_sha256: str
    signed_at: str  # UTC, ISO 8601 to the second: 2026-12-03T09:15:00Z
    operator: str
    host: str
    qualiscore: str  # the version that signed
    command: tuple[str, ...]  # the command line as run: ("qualiscore", "evaluate", ...)
    public_key: bytes  # raw Ed25519 key
    fingerprint: str  # as stated; :func:`check` holds it to the key
    signature: bytes

    @property
    def payload(self) -> dict[str, Any]:
        """What the signature is over, as :func:`canonical` writes it."""
        return {"manifest_sha256": self.manifest_sha256, "signed_at": self.signed_at, "operator": self.operator,
                "host": self.host, "qualiscore": self.qualiscore, "command": list(self.command)}

    @property
    def signed_on(self) -> dt.date:
        """The UTC date of ``signed_at``: the day a trusted key's validity dates are held to."""
        return dt.date.fromisoformat(self.signed_at[:10])

    def facts(self) -> dict[str, Any]:
        """The payload with the key's fingerprint: what ``verify --format json`` shows."""
        return {"fingerprint": self.fingerprint, **self.payload}


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The bytes a payload is signed as: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def default_operator() -> str:
    """The login name of whoever runs qualiscore; UNKNOWN_OPERATOR when the system cannot say."""
    try:
        return getpass.getuser() or UNKNOWN_OPERATOR
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no passwd entry (a bare container)
        return UNKNOWN_OPERATOR


def _now() -> dt.datetime:
    """The time of signing, in UTC (one place, so tests can set it)."""
    return dt.datetime.now(dt.timezone.utc)


def host_name() -> str:
    try:
        return socket.gethostname() or "(unknown)"
    except OSError:
        return "(unknown)"


def _text(value: str) -> str:
    """``value`` as valid Unicode: bytes the command line could not decode become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def sign_manifest(manifest: bytes, private_key_path: Path, *, operator: str | None, command: Sequence[str]) -> bytes:
    """The signature file's content for these manifest bytes, signed now by ``operator`` (default: the login name)."""
    key = _private_key(private_key_path)
    raw = _raw_public(key)
    moment = _now()
    payload = {
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "signed_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "operator": _text(operator if operator is not None else default_operator()),
        "host": _text(host_name()),
        "qualiscore": __version__,
        "command": [_text(arg) for arg in command],
    }
    doc = {
        "format": FORMAT,
        "payload": payload,
        "algorithm": ALGORITHM,
        "public_key": base64.b64encode(raw).decode(),
        "fingerprint": fingerprint(raw),
        "signature": base64.b64encode(key.sign(canonical(payload))).decode(),
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def sign_bytes(data: bytes, private_key_path: Path) -> dict[str, str]:
    """A detached signature of ``data``: algorithm, public key, fingerprint and signature (for other records)."""
    key = _private_key(private_key_path)
    raw = _raw_public(key)
    return {"algorithm": ALGORITHM, "public_key": base64.b64encode(raw).decode(), "fingerprint": fingerprint(raw),
            "signature": base64.b64encode(key.sign(data)).decode()}


def check_bytes(doc: Any, data: bytes) -> str:
    """The fingerprint of the key whose :func:`sign_bytes` signature ``doc`` is of ``data``; SignatureError if not."""
    _serialization, ed25519 = _crypto()
    from cryptography.exceptions import InvalidSignature

    try:
        if not isinstance(doc, dict) or doc.get("algorithm") != ALGORITHM:
            raise ValueError(_("not an {algorithm} signature", algorithm=ALGORITHM))
        raw = base64.b64decode(doc["public_key"], validate=True)
        signature = base64.b64decode(doc["signature"], validate=True)
        ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (InvalidSignature, ValueError, KeyError, TypeError) as exc:
        reason = str(exc) or _("the signature does not match")
        raise SignatureError(_("the signature is not valid: {reason}", reason=reason),
                             hint=_("do not rely on this record")) from None
    if doc.get("fingerprint") != fingerprint(raw):
        raise SignatureError(_("the signature states the fingerprint {stated}, but its key is {actual}",
                               stated=doc.get("fingerprint"), actual=fingerprint(raw)),
                             hint=_("do not rely on this record"))
    return fingerprint(raw)


def read_envelope(outdir: Path) -> Envelope | None:
    """The envelope of ``outdir`` (None when the run is not signed), its whole structure checked.

    SignatureError naming the key at fault when it is damaged, and when it is a
    ``qualiscore-signature/v1`` file (a signature over the manifest's bytes alone, with
    no time or operator to hold a trusted key's dates to): such a run is re-signed.
    """
    path = outdir / SIGNATURE_FILE
    if not path.exists() and not path.is_symlink():
        return None
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SIGNATURE_BYTES + 1)
    except OSError as exc:
        raise SignatureError(_("cannot read {path}: {reason}", path=path, reason=exc.strerror or exc),
                             location=Location(str(path)), hint=_(_RESIGN)) from None
    if len(data) > MAX_SIGNATURE_BYTES:
        _damaged(path, "", _("more than {limit:,} bytes: not a signature file", limit=MAX_SIGNATURE_BYTES))
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        _damaged(path, "", _("not UTF-8 text ({reason} at byte {byte})", reason=exc.reason, byte=exc.start))
    except json.JSONDecodeError as exc:
        _damaged(path, "", _("not valid JSON ({reason} at line {line} column {column})", reason=exc.msg,
                             line=exc.lineno, column=exc.colno))
    except RecursionError:
        _damaged(path, "", _("JSON nested too deeply to be read"))
    return _envelope(doc, path)


def check(envelope: Envelope, manifest: bytes, path: Path) -> None:
    """SignatureError unless the envelope's signature is its key's, over its payload, for these manifest bytes."""
    _serialization, ed25519 = _crypto()
    from cryptography.exceptions import InvalidSignature

    actual = fingerprint(envelope.public_key)
    if envelope.fingerprint != actual:
        raise SignatureError(_("{path} states the fingerprint {stated}, but its public key is {actual}", path=path,
                               stated=envelope.fingerprint, actual=actual),
                             location=Location(str(path), pointer="/fingerprint"), hint=_(_RESIGN))
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(envelope.public_key).verify(envelope.signature,
                                                                               canonical(envelope.payload))
    except (InvalidSignature, ValueError):
        raise SignatureError(_("the signature in {path} does not match its payload: the envelope was changed "
                               "after signing (its time, operator, host, command or manifest SHA-256)", path=path),
                             location=Location(str(path), pointer="/payload"),
                             hint=_("do not trust this run; ask its publisher for the signed copy")) from None
    if hashlib.sha256(manifest).hexdigest() != envelope.manifest_sha256:
        raise SignatureError(_("the signature does not match manifest.json: the manifest was changed after signing "
                               "(its SHA-256 is not the one signed)"), location=Location(str(path)),
                             hint=_("do not trust this run"))


# --------------------------------------------------------------------------- reading the envelope


def _damaged(path: Path, pointer: str, what: str) -> NoReturn:
    message = (_("{path} is damaged: {pointer}: {reason}", path=path, pointer=pointer, reason=what) if pointer
               else _("{path} is damaged: {reason}", path=path, reason=what))
    raise SignatureError(message, location=Location(str(path), pointer=pointer or "/"), hint=_(_RESIGN))


def _field(doc: Mapping[str, Any], key: str, pointer: str, path: Path, expected: str,
           ok: Callable[[Any], bool]) -> Any:
    where = f"{pointer}/{key}"
    if key not in doc:
        _damaged(path, where, _("this key is missing"))
    value = doc[key]
    if not ok(value):
        _damaged(path, where, _("expected {expected}, found {found}", expected=expected, found=json_shown(value)))
    return value


def _unicode(value: Any) -> bool:
    """Text that is valid Unicode (a JSON string may hold a lone surrogate, which no UTF-8 can encode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and _unicode(value)


def _is_name(value: Any) -> bool:
    return _is_text(value) and bool(value.strip())


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


def _is_time(value: Any) -> bool:
    if not isinstance(value, str) or not _SIGNED_AT.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


def _is_command(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_text(arg) for arg in value)


def _base64(size: int) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        try:
            return isinstance(value, str) and len(base64.b64decode(value, validate=True)) == size
        except (binascii.Error, ValueError):
            return False

    return ok


def _only(doc: Mapping[str, Any], keys: Sequence[str], pointer: str, path: Path) -> None:
    for key in doc:
        if key not in keys:
            _damaged(path, f"{pointer}/{key}", _("unexpected key (a {format} envelope has {keys})", format=FORMAT,
                                                 keys=", ".join(keys)))


_TOP = ("format", "payload", "algorithm", "public_key", "fingerprint", "signature")
_PAYLOAD = ("manifest_sha256", "signed_at", "operator", "host", "qualiscore", "command")


def _envelope(doc: Any, path: Path) -> Envelope:
    if not isinstance(doc, dict):
        _damaged(path, "", _("expected a JSON object, found {found}", found=json_shown(doc)))
    if "format" not in doc and "signature" in doc and "payload" not in doc:
        raise SignatureError(_("{path} is a signature of the old format (qualiscore-signature/v1: over the manifest "
                               "alone, without the time, operator, host or command of the signing), which this "
                               "version does not read: re-sign the run", path=path), location=Location(str(path)),
                             hint=_("run the same `qualiscore evaluate` again with --sign-key (and --operator): the "
                                    "outputs and the manifest come out the same, with a new manifest.json.sig"))
    _field(doc, "format", "", path, repr(FORMAT), lambda v: v == FORMAT)
    _only(doc, _TOP, "", path)
    payload = _field(doc, "payload", "", path, _("a JSON object"), lambda v: isinstance(v, dict))
    _field(doc, "algorithm", "", path, repr(ALGORITHM), lambda v: v == ALGORITHM)
    public_key = _field(doc, "public_key", "", path, _("an Ed25519 public key in base64 (32 bytes)"), _base64(32))
    stated = _field(doc, "fingerprint", "", path, _("a fingerprint SHA256:…"),
                    lambda v: isinstance(v, str) and v.startswith("SHA256:"))
    signature = _field(doc, "signature", "", path, _("an Ed25519 signature in base64 (64 bytes)"), _base64(64))
    _only(payload, _PAYLOAD, "/payload", path)
    p = "/payload"
    return Envelope(
        manifest_sha256=_field(payload, "manifest_sha256", p, path, _("a SHA-256 (64 lower-case hex digits)"),
                               _is_sha256),
        signed_at=_field(payload, "signed_at", p, path, _("a UTC time YYYY-MM-DDTHH:MM:SSZ that exists"), _is_time),
        operator=_field(payload, "operator", p, path, _("a name (text, not blank)"), _is_name),
        host=_field(payload, "host", p, path, _("text"), _is_text),
        qualiscore=_field(payload, "qualiscore", p, path, _("text"), _is_text),
        command=tuple(_field(payload, "command", p, path, _("a non-empty JSON array of texts"), _is_command)),
        public_key=base64.b64decode(public_key, validate=True),
        fingerprint=stated,
        signature=base64.b64decode(signature, validate=True),
    )
