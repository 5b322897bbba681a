"""Personal fields of a record contract, de-identified once, as the records are read.

A contract may declare fields personal (``personal: {agent_id: pseudonymise,
customer_phone: drop}``), so that the files a run writes, which are shared beyond the
team, hold no personal value (PIPL: minimised, de-identified processing):

* ``pseudonymise``: the value becomes a token, ``p:`` and 20 base32 letters of its
  HMAC-SHA256 under the run's key. The same value under the same key is always the same
  token, so subjects, lookups between sources and ``verify`` work as before; without the
  key the value cannot be found again (``qualiscore reveal`` finds it, for a key holder).
* ``redact``: the value is not kept; an output that lists the field shows ``[redacted]``.
* ``drop``: the value is not kept, and the field is left out of every output that lists fields.

:func:`protect` applies the policy to a Dataset just read — its records and the problems of
its rejected rows — before any engine sees it; both engines read a contract with personal
fields through it, so nothing downstream ever holds the raw value. Validation makes sure no
measure, key or lookup reads a redacted or dropped field, so the scores do not change.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Location, UsageError
from .i18n import N_, _
from .model import PrivacyPolicy as Policy

if TYPE_CHECKING:
    from .model import RecordContract, Scheme
    from .records import Dataset, Problem

__all__ = [
    "REDACTED",
    "Policy",
    "joint",
    "key_id",
    "privacy_manifest",
    "protect",
    "pseudonymised",
    "read_key",
    "require_key",
    "scheme_contracts",
    "shown",
    "token",
    "without_personal",
]

REDACTED = "[redacted]"
DROPPED = "[dropped]"  # how a problem's reason names the value of a dropped field
TOKEN_PREFIX = "p:"
TOKEN_LETTERS = 20  # 100 bits: no two values of a run's data share a token in practice
MIN_KEY_BYTES = 16
KEY_HINT = N_("make a key once with `head -c 32 /dev/urandom > qualiscore.key`, keep it secret, and pass "
              "--pseudonymise-key qualiscore.key")  # shown as _(KEY_HINT)
_KEY_ID_MESSAGE = b"qualiscore key id"


def token(key: bytes, value: Any) -> str:
    """The token of ``value`` (its text) under ``key``: stable, keyed, the same for the same text in any field."""
    text = value if isinstance(value, str) else str(value)
    digest = hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.b32encode(digest).decode("ascii")[:TOKEN_LETTERS].lower()


def key_id(key: bytes) -> str:
    """What the manifest records of the key: 16 hex digits of an HMAC under it, which tells keys apart only."""
    return hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def read_key(path: str | Path) -> bytes:
    """The bytes of a key file; a UsageError for a file too short to be a secret."""
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(_("cannot read the pseudonymisation key {path}: {error}", path=path,
                           error=exc.strerror or exc),
                         location=Location(str(path)), hint=_(KEY_HINT), code="pseudonymise-key") from None
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(_("the pseudonymisation key {path} holds {n} byte(s); a key needs at least "
                           "{minimum} random bytes", path=path, n=len(key), minimum=MIN_KEY_BYTES),
                         location=Location(str(path)), hint=_(KEY_HINT), code="pseudonymise-key")
    return key


def pseudonymised(schemes: Any) -> bool:
    """Whether any record contract of ``schemes`` (Schemes, or contracts) pseudonymises a field."""
    return any("pseudonymise" in dict(c.personal).values() for c in _contracts(schemes))


def require_key(schemes: Any, key: bytes | None) -> None:
    """A UsageError (exit 2) when a contract pseudonymises a field and no key was given."""
    if key is not None:
        return
    for contract in _contracts(schemes):
        fields = [name for name, policy in contract.personal if policy == "pseudonymise"]
        if fields:
            raise UsageError(_("the record contract pseudonymises {fields}, so a run needs the key "
                               "its tokens are made with (--pseudonymise-key FILE)", fields=", ".join(fields)),
                             hint=_(KEY_HINT), code="pseudonymise-key-missing")


def _contracts(schemes: Any) -> list[RecordContract]:
    from .model import RecordContract, Scheme

    out: list[RecordContract] = []
    for item in schemes if isinstance(schemes, (list, tuple)) else (schemes,):
        if isinstance(item, RecordContract):
            out.append(item)
        elif isinstance(item, Scheme):
            out.extend([s.contract for s in item.sources] or [item.records])
    return out


def shown(policy: Policy, key: bytes | None, value: Any) -> str | None:
    """A value of a personal field as an output may show it: its token, ``[redacted]``, or nothing."""
    if value is None:
        return None
    if policy == "pseudonymise":
        assert key is not None
        return token(key, value)
    return REDACTED if policy == "redact" else None


def protect(dataset: Dataset, contract: RecordContract, key: bytes | None) -> Dataset:
    """``dataset`` with the contract's personal fields de-identified: its records and its problems.

    A pseudonymised value becomes its token; a redacted or dropped one None (nothing reads it).
    A problem of a personal field shows the value as the policy says, and so does its reason;
    with a pseudonymised id, every problem names its row by the id's token.
    """
    if not contract.personal:
        return dataset
    require_key(contract, key)
    policies = dict(contract.personal)
    records = tuple(_record(r, policies, key) for r in dataset.records)
    problems = tuple(_problem(p, policies, contract.id, key) for p in dataset.problems)
    return dataclasses.replace(dataset, records=records, problems=problems)


def _record(record: dict[str, Any], policies: Mapping[str, Policy], key: bytes | None) -> dict[str, Any]:
    out = dict(record)
    for name, policy in policies.items():
        if name in out:
            value = out[name]
            out[name] = None if value is None or policy != "pseudonymise" else token(key or b"", value)
    return out


def _problem(p: Problem, policies: Mapping[str, Policy], id_field: str, key: bytes | None) -> Problem:
    from .records.results import quote_value

    reason, value, record_id = p.reason, p.value, p.record_id
    if p.field is not None and p.field in policies and p.value is not None:
        value = shown(policies[p.field], key, p.value)
        reason = _unquoted(reason, p.value, value if value is not None else DROPPED, p.field, p.code)
    if id_field in policies and record_id is not None:
        record_id = shown(policies[id_field], key, p.record_id)
        reason = reason.replace(quote_value(p.record_id), quote_value(record_id or DROPPED))
    return dataclasses.replace(p, value=value, record_id=record_id, reason=reason)


def _unquoted(reason: str, raw: str, instead: str, field: str, code: str) -> str:
    """``reason`` with the raw value's quotation replaced; a reason that still holds it is said without it."""
    from .records.results import quote_value

    out = reason.replace(quote_value(raw), quote_value(instead))
    if raw.strip() and raw in out:
        return _("the value of {field} is not accepted ({code}); it is personal, so it is not shown here",
                 field=field, code=code)
    return out


def privacy_manifest(schemes: Any, recorded_key_id: str | None) -> dict[str, Any] | None:
    """What the manifest records: each personal field's policy (by source) and the key's id; None without any."""
    fields: dict[str, dict[str, str]] = {}
    for scheme in schemes:
        for name, contract in scheme_contracts(scheme):
            for field, policy in contract.personal:
                fields.setdefault(name, {})[field] = policy
    if not fields:
        return None
    return {"fields": {n: dict(sorted(f.items())) for n, f in sorted(fields.items())},
            "key_id": recorded_key_id if pseudonymised(list(schemes)) else None}


def joint(scheme: Scheme, other: Scheme) -> Scheme:
    """``scheme`` with the fields ``other`` pseudonymises pseudonymised too (source by source; its own policies
    stay), so that two versions compared on the same data (``diff --data``) show the same tokens and their
    subjects meet. A field ``other`` redacts or drops is left alone: only keys are shown, and those are
    pseudonymised or not personal."""
    def merged(contract: RecordContract, theirs: RecordContract | None) -> RecordContract:
        if theirs is None:
            return contract
        names = {f.name for f in contract.fields}
        own = dict(contract.personal)
        extra = [(n, p) for n, p in theirs.personal if p == "pseudonymise" and n not in own and n in names]
        return dataclasses.replace(contract, personal=(*contract.personal, *extra)) if extra else contract

    if not scheme.sources:
        return dataclasses.replace(scheme, records=merged(scheme.records, other.records))
    by_name = {s.name: s.contract for s in other.sources}
    sources = tuple(dataclasses.replace(s, contract=merged(s.contract, by_name.get(s.name))) for s in scheme.sources)
    return dataclasses.replace(scheme, sources=sources, records=sources[0].contract)


def without_personal(scheme: Scheme) -> Scheme:
    """``scheme`` with no field declared personal: for its own tests, whose records are made up, not exported."""
    if not any(c.personal for _, c in scheme_contracts(scheme)):
        return scheme
    sources = tuple(dataclasses.replace(s, contract=dataclasses.replace(s.contract, personal=())) for s in scheme.sources)
    records = sources[0].contract if sources else dataclasses.replace(scheme.records, personal=())
    return dataclasses.replace(scheme, sources=sources, records=records)


def scheme_contracts(scheme: Scheme) -> list[tuple[str, RecordContract]]:
    """Each record contract of ``scheme`` by the name the manifest gives it (``records`` for a single table)."""
    return [(s.name, s.contract) for s in scheme.sources] or [("records", scheme.records)]
