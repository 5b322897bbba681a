"""An output directory of ``evaluate`` as the report reads it: one frozen value, read once."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..i18n import N_, _
from ..manifest import MANIFEST, read_manifest, sha256_bytes
from ..model import Scheme
from ..signing import SignatureError, read_envelope
from .breakdowns import Breakdown, collect_breakdowns
from .files import check_outputs, load_schemes, read_cards, read_rejects

NO_GRADE = N_("(none)")  # the grade of scorecards without one (shown translated: formatting.grade_label)


@dataclass(frozen=True, slots=True)
class Published:
    """How a run will be published when its report is one of its outputs (``evaluate --report``).

    The report is then read from the run's staging directory before the manifest lists
    it, so it cannot show the final manifest's SHA-256 (the manifest holds the report's):
    it says that manifest.json lists it instead, and shows the output's name and the key
    that will sign it (the signature's time and operator are written after the report).
    """

    name: str  # the output directory's name, as the footer shows it
    signer: str | None  # the fingerprint of the key that signs the run; None when it is not signed


@dataclass(frozen=True, slots=True)
class Signature:
    """What manifest.json.sig says of the run, as it says it: ``qualiscore verify`` checks it, the report does not."""

    fingerprint: str | None  # the signing key's, as stated
    signed_at: str | None  # None in the run's own report, written before the signature
    operator: str | None
    unreadable: str | None = None  # why manifest.json.sig cannot be read as a signature


@dataclass(frozen=True, slots=True)
class RunOutput:
    """Everything the report is made from: the output files, the schemes that still match, the breakdowns."""

    outdir: Path
    manifest: Mapping[str, Any]
    manifest_sha256: str
    cards: tuple[Mapping[str, Any], ...]
    rejects: tuple[Mapping[str, str], ...]
    schemes: tuple[Scheme, ...]  # compiled schemes whose files still match the manifest, oldest first
    grade_order: tuple[str, ...]  # best first; NO_GRADE last when a scorecard has no grade
    notes: tuple[str, ...]
    output_problems: tuple[str, ...]
    signature: Signature | None  # None: not signed
    in_run: bool  # the report is one of the run's outputs, listed in its manifest (no manifest SHA-256 shown)
    name: str  # the output directory's name
    breakdowns: tuple[Breakdown, ...]
    breakdown_notes: tuple[str, ...]
    breakdown_fields: tuple[str, ...]


def _grade_order(schemes: Sequence[Scheme], cards: Sequence[Mapping[str, Any]]) -> list[str]:
    order: list[str] = []
    for s in reversed(schemes):
        order += [g.name for g in sorted(s.grades, key=lambda g: -g.min)]
    if not order:  # no scheme file: order grades by the best score that earned them
        best: dict[str, float] = {}
        for c in cards:
            if c.get("grade") and c.get("score") is not None and c.get("decided_by") == "score":
                best[c["grade"]] = max(best.get(c["grade"], -math.inf), float(c["score"]))
        order = sorted(best, key=lambda g: (-best[g], g))
    for c in cards:
        if c.get("grade") and c["grade"] not in order:
            order.append(c["grade"])
    order = list(dict.fromkeys(order))
    if any(not c.get("grade") for c in cards):
        order.append(NO_GRADE)
    return order


def load_run(outdir: str | Path, *, by_dirs: Sequence[str | Path] = (), recompute: bool = True,
             published: Published | None = None, pseudonymise_key: bytes | None = None) -> RunOutput:
    """Everything the report shows, read from ``outdir`` (and the run's inputs for breakdowns).

    ``published``: ``outdir`` is the staging directory of a run whose outputs will include the report.
    """
    out = Path(outdir)
    if not out.is_dir():
        raise OutputError(_("{path} is not a directory", path=out),
                          hint=_("give the -o directory of `qualiscore evaluate`"))
    manifest = read_manifest(out)
    digest = sha256_bytes((out / MANIFEST).read_bytes())
    notes: list[str] = []
    cards = read_cards(out)
    rejects = read_rejects(out, notes)
    schemes = load_schemes(manifest, out, notes)
    output_problems = check_outputs(manifest, out)
    signature = ((Signature(published.signer, None, None) if published.signer else None) if published is not None
                 else _signature(out))
    breakdowns = collect_breakdowns(out, manifest, cards, schemes, [Path(d) for d in by_dirs], recompute,
                                    pseudonymise_key)
    return RunOutput(out, manifest, "" if published is not None else digest, tuple(cards), tuple(rejects),
                     tuple(schemes), tuple(_grade_order(schemes, cards)), tuple(notes), tuple(output_problems), signature,
                     published is not None, published.name if published is not None else out.name,
                     breakdowns.shown, breakdowns.notes, breakdowns.fields)


def _signature(out: Path) -> Signature | None:
    try:
        envelope = read_envelope(out)
    except SignatureError as exc:
        return Signature(None, None, None, exc.message)
    return None if envelope is None else Signature(envelope.fingerprint, envelope.signed_at, envelope.operator)
