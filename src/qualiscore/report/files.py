"""Reading an output directory: its scorecards and rejects, and the files its manifest names.

A scheme or input file is used only if its SHA-256 is still the one the manifest
recorded; otherwise the report says why it is missing instead of showing figures
from another file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DamagedOutputError, OutputError, QualiscoreError
from ..i18n import N_, _
from ..manifest import find_recorded, sha256_file
from ..model import Scheme
from ..schemes import load_scheme

DAMAGED_HINT = N_("the output was edited or damaged after the run; re-run evaluate")


def read_cards(outdir: Path) -> list[dict[str, Any]]:
    """The scorecards of ``outdir/scorecards.jsonl``; OutputError when missing or damaged."""
    path = outdir / "scorecards.jsonl"
    cards = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                card = json.loads(line)
                if not isinstance(card, dict) or "subject" not in card or not isinstance(card.get("dimensions"), list):
                    raise DamagedOutputError(_("{path}:{line} is not a scorecard", path=path, line=n),
                                             code="damaged-output", hint=_(DAMAGED_HINT))
                cards.append(card)
    except FileNotFoundError:
        raise OutputError(_("{path} has no scorecards.jsonl", path=outdir),
                          hint=_("give the -o directory of `qualiscore evaluate`")) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DamagedOutputError(_("cannot read {path}: {reason}", path=path, reason=exc), code="damaged-output",
                                 hint=_(DAMAGED_HINT)) from None
    return cards


def read_rejects(outdir: Path, notes: list[str]) -> list[dict[str, str]]:
    """The rows of ``rejects.csv``; a missing or unreadable file is a note, not an error."""
    path = outdir / "rejects.csv"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return [dict(r) for r in csv.DictReader(f)]
    except FileNotFoundError:
        notes.append(_("rejects.csv is missing from the output directory: rejected rows cannot be listed."))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        notes.append(_("rejects.csv cannot be read ({reason}): rejected rows cannot be listed.", reason=exc))
    return []


def load_schemes(manifest: Mapping[str, Any], outdir: Path, notes: list[str]) -> list[Scheme]:
    """The run's scheme versions whose files still match the manifest, oldest first."""
    out = []
    for s in manifest.get("schemes", []):
        path, why = find_recorded(str(s.get("path", "")), s.get("sha256"), outdir)
        if path is None:
            notes.append(_("scheme file {path} ({id} {version}) is {why}: its title, approver, grade bands and "
                           "target directions are not shown.", path=s.get("path"), id=s.get("id"),
                           version=s.get("version"), why=why))
            continue
        try:
            out.append(load_scheme(path))
        except QualiscoreError as exc:
            notes.append(_("scheme file {path} cannot be loaded: {reason}", path=s.get("path"), reason=exc.message))
    return sorted(out, key=lambda s: s.effective_from)


def check_outputs(manifest: Mapping[str, Any], outdir: Path) -> list[str]:
    """What differs between the output files and the SHA-256 the manifest recorded for them."""
    problems = []
    for name, digest in sorted(manifest.get("outputs", {}).items()):
        path = outdir / name
        if not path.is_file():
            problems.append(_("{file} is missing", file=name))
        elif sha256_file(path) != digest:
            problems.append(_("{file} does not match its SHA-256 in manifest.json", file=name))
    return problems
