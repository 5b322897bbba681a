"""What a run's manifest records: the hashes and facts that let `verify` reproduce it.

Both the output directory (manifest.py) and the workbook's manifest sheet
(formats.py) need this record, so it lives apart from either.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    from .engine import Run
    from .model import Scheme

MANIFEST = "manifest.json"
FORMAT = "qualiscore-run/v1"
SAMPLE_FORMAT = "qualiscore-sample/v1"  # the manifest of an inspection sample (sampling.py)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_dict(run: Run, outputs: Mapping[str, str]) -> dict[str, Any]:
    """The manifest object; ``outputs`` are the hashes of the files it vouches for (name -> sha256)."""
    rejected_by_source = Counter(source for source, _ in {(p.source, p.row) for p in run.problems})
    from .privacy import privacy_manifest

    grades = Counter(c.grade or "(none)" for c in run.scorecards)
    privacy = privacy_manifest(run.schemes, run.options.get("pseudonymise_key_id"))
    versions = Counter(c.scheme_version for c in run.scorecards)
    return {
        "format": FORMAT,
        "engine": {"name": "qualiscore", "version": __version__, "engine": run.options.get("engine", "rows")},
        "schemes": [scheme_entry(s, versions.get(s.version, 0)) for s in run.schemes],
        "inputs": [
            {"path": i.path, "sha256": i.sha256, "format": i.format, "encoding": i.encoding,
             "rows_read": i.rows_read, "rows_rejected": rejected_by_source.get(i.path, 0),
             **({"sheet": i.sheet} if i.sheet is not None else {}),
             **({"source": i.source} if i.source is not None else {}),
             **({"server": i.server, "rows_sha256": i.rows_sha256} if i.rows_sha256 is not None else {})}
            for i in run.dataset.inputs
        ],
        **({"sources": {name: {"read": read, "scored": scored, "rejected": rejected}
                        for name, (read, scored, rejected) in run.by_source().items()}}
           if run.schemes[0].sources else {}),
        "rows": {"read": run.rows_read, "scored": run.rows_scored, "rejected": run.rows_rejected},
        "subjects": len(run.scorecards),
        "group_by": list(run.group_by),
        "grades": dict(sorted(grades.items())),
        "options": run.options,
        "outputs": dict(sorted(outputs.items())),
        # personal fields (privacy.py): each one's policy by source, and the id of the key (never the key)
        **({"privacy": privacy} if privacy is not None else {}),
    }


def scheme_entry(s: Scheme, scorecards: int) -> dict[str, Any]:
    """A scheme version as a manifest names it: where it is, what it is, its place in git."""
    return {"id": s.id, "version": s.version, "path": s.path, "sha256": s.sha256,
            "effective_from": s.effective_from.isoformat(),
            "effective_to": s.effective_to.isoformat() if s.effective_to else None,
            "scorecards": scorecards, "git": s.git.manifest_dict() if s.git else None}
