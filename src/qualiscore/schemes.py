"""Loading schemes for evaluation: one file, or a directory of versions routed by date."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from . import rulesrepo
from .errors import SchemeValidationError, UsageError
from .i18n import _
from .loader import load_path
from .model import Scheme, compile_document
from .validation import iter_findings, scheme_files, validate_paths


def load_scheme(path: str | Path, *, locate: bool = False) -> Scheme:
    """Load, validate and compile one scheme file; refuse it if it has any error finding.

    ``locate``: also record the file's place in its git repository (``Scheme.git``), as a
    run does, from the same bytes as its SHA-256.
    """
    doc = load_path(path)
    findings = list(iter_findings(doc))
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, str(path))
    scheme = compile_document(doc)
    data = Path(path).read_bytes()
    place = rulesrepo.locate(path, data) if locate else None
    return dataclasses.replace(scheme, sha256=hashlib.sha256(data).hexdigest(), git=place)


def load_versions(path: str | Path, *, locate: bool = False) -> list[Scheme]:
    """All versions of one scheme in a directory, oldest first; refuses mixed or inconsistent sets.

    ``locate`` as for :func:`load_scheme`.
    """
    p = Path(path)
    if not p.is_dir():
        return [load_scheme(p, locate=locate)]
    findings = [f for f in validate_paths([p]) if f.severity == "error"]
    if findings:
        raise SchemeValidationError(findings, str(p))
    files = scheme_files(p)
    if not files:
        raise UsageError(_("{path} holds no .yaml scheme files", path=p),
                         hint=_("give a scheme file or a directory of versions"))
    schemes = [load_scheme(f, locate=locate) for f in files]
    ids = sorted({s.id for s in schemes})
    if len(ids) > 1:
        raise UsageError(_("{path} holds several schemes ({ids})", path=p, ids=", ".join(ids)),
                         hint=_("give the directory of one scheme, e.g. rules/cs-quality/"))
    return sorted(schemes, key=lambda s: s.effective_from)


__all__ = ["load_scheme", "load_versions"]
