"""Loading schemes for evaluation: one file, or a directory of versions routed by date."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from .errors import SchemeValidationError, UsageError
from .loader import load_path
from .model import Scheme, compile_document
from .validation import iter_findings, scheme_files, validate_paths


def load_scheme(path: str | Path) -> Scheme:
    """Load, validate and compile one scheme file; refuse it if it has any error finding."""
    doc = load_path(path)
    findings = list(iter_findings(doc))
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, str(path))
    scheme = compile_document(doc)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return dataclasses.replace(scheme, sha256=digest)


def load_versions(path: str | Path) -> list[Scheme]:
    """All versions of one scheme in a directory, oldest first; refuses mixed or inconsistent sets."""
    p = Path(path)
    if not p.is_dir():
        return [load_scheme(p)]
    findings = [f for f in validate_paths([p]) if f.severity == "error"]
    if findings:
        raise SchemeValidationError(findings, str(p))
    files = scheme_files(p)
    if not files:
        raise UsageError(f"{p} holds no .yaml scheme files", hint="give a scheme file or a directory of versions")
    schemes = [load_scheme(f) for f in files]
    ids = sorted({s.id for s in schemes})
    if len(ids) > 1:
        raise UsageError(f"{p} holds several schemes ({', '.join(ids)})",
                         hint="give the directory of one scheme, e.g. rules/cs-quality/")
    return sorted(schemes, key=lambda s: s.effective_from)


__all__ = ["load_scheme", "load_versions"]
