"""Ed25519 signatures over a run's manifest, so an auditor can confirm who published it.

The manifest already pins every input and output by SHA-256; signing its bytes
therefore vouches for the whole run. Needs the optional `cryptography` package
(`pip install 'qualiscore[sign]'`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import QualiscoreError, UsageError

SIGNATURE_FILE = "manifest.json.sig"
ALGORITHM = "ed25519"


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

        raise UsageError("signing needs the cryptography package", hint=install_hint("sign")) from None
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


def _load(path: Path, private: bool) -> Any:
    serialization, ed25519 = _crypto()
    try:
        data = path.read_bytes()
        key = (serialization.load_pem_private_key(data, password=None) if private
               else serialization.load_pem_public_key(data))
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot read {'private' if private else 'public'} key {path}: {exc}",
                         hint="give a PEM file written by `qualiscore keygen`") from None
    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, wanted):
        raise UsageError(f"{path} is not an Ed25519 key", hint="create one with `qualiscore keygen`")
    return key


def sign_manifest(manifest: bytes, private_key_path: Path) -> bytes:
    """The signature file's content for these manifest bytes."""
    serialization, _ = _crypto()
    key = _load(private_key_path, private=True)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    doc = {
        "algorithm": ALGORITHM,
        "public_key": base64.b64encode(raw).decode(),
        "fingerprint": fingerprint(raw),
        "signature": base64.b64encode(key.sign(manifest)).decode(),
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def check_signature(outdir: Path, public_key_path: Path | None) -> str:
    """Verify manifest.json.sig; returns the signer's fingerprint, raises SignatureError otherwise.

    With a trusted public key the signature must be that key's; without one, it must
    at least be a valid signature by the key it names.
    """
    serialization, ed25519 = _crypto()
    sig_path = outdir / SIGNATURE_FILE
    if not sig_path.is_file():
        raise SignatureError(f"{outdir} is not signed (no {SIGNATURE_FILE})",
                             hint="sign runs with `qualiscore evaluate --sign-key KEY`")
    try:
        doc = json.loads(sig_path.read_text(encoding="utf-8"))
        raw = base64.b64decode(doc["public_key"], validate=True)
        signature = base64.b64decode(doc["signature"], validate=True)
        if doc.get("algorithm") != ALGORITHM:
            raise ValueError(f"unsupported algorithm {doc.get('algorithm')!r}")
        embedded = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"{sig_path} is malformed: {exc}", hint="re-sign the run") from None
    if public_key_path is not None:
        trusted = _load(public_key_path, private=False)
        trusted_raw = trusted.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if trusted_raw != raw:
            raise SignatureError(f"the run was signed by {fingerprint(raw)}, not by {public_key_path} "
                                 f"({fingerprint(trusted_raw)})", hint="check who published this run")
    from cryptography.exceptions import InvalidSignature

    try:
        embedded.verify(signature, (outdir / "manifest.json").read_bytes())
    except InvalidSignature:
        raise SignatureError("the signature does not match manifest.json: the manifest was changed after signing",
                             hint="do not trust this run") from None
    return fingerprint(raw)
