"""The two sides of a diff: a scheme file, or a committed version read with ``git show``.

A side must be a valid scheme before it is compared: :func:`check_document` refuses
one with errors, so every change reported is between two schemes that could run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

from .._git import git
from ..errors import Location, SchemeLoadError, SchemeValidationError, UsageError
from ..i18n import _
from ..loader import MAX_BYTES, Document, load_path, load_text
from ..model import Scheme, compile_document
from ..validation import iter_findings


def load_side(spec: str) -> Document:
    """Load one side of a diff: a file path, or ``REV:path`` read with ``git show`` in the current directory.

    An existing file always wins over the ``REV:path`` reading. A missing file or an
    unknown revision or path is a :class:`UsageError`; a document that is not YAML a
    :class:`SchemeLoadError`. The document's display name is ``spec`` itself, so every
    line cited refers to it.
    """
    rev, sep, rel = spec.partition(":")
    if os.path.exists(spec) or not sep or not rev or not rel:
        try:
            return load_path(spec)
        except SchemeLoadError as exc:
            if exc.code == "file-not-found":
                raise UsageError(
                    _("no such file: {file}", file=spec),
                    location=Location(file=spec),
                    hint=_("give a scheme file, or REV:path to read a committed version (e.g. "
                           "HEAD~1:rules/x/2026Q1.yaml)"),
                ) from None
            raise
    return load_text(_git_show(rev, rel, spec), spec)


def _git_show(rev: str, rel: str, spec: str) -> bytes:
    where = Location(file=spec)
    hint = _("check the revision (`git log --oneline`) and the path inside the repository: relative to its "
             "top directory, or starting with ./ for the current directory")
    if rev.startswith("-"):
        raise UsageError(_("{spec}: a revision cannot start with '-'", spec=spec), location=where, hint=hint)
    try:
        result = git(["show", f"{rev}:{rel}"], limit=MAX_BYTES)
    except OSError as exc:
        raise UsageError(_("cannot run git to read {spec}: {reason}", spec=spec, reason=exc.strerror or exc),
                         location=where, hint=_("install git, or give the scheme as a file path")) from None
    out = result.out
    if result.truncated:  # refused before reading more; the loader says why
        return out
    if result.status != 0:
        raise UsageError(_("cannot read {spec} from git: {reason}", spec=spec, reason=result.first_error),
                         location=where, hint=hint)
    if out.startswith(f"tree {rev}:{rel}\n".encode()):
        raise UsageError(_("{spec} is a directory in git, not a scheme file", spec=spec), location=where,
                         hint=_("name the scheme file, e.g. REV:rules/cs-quality/2026Q1.yaml"))
    return out


def check_document(doc: Document) -> Scheme:
    """Validate a loaded side and compile it; a document with any error is refused (SchemeValidationError)."""
    findings = list(iter_findings(doc))
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, doc.path)
    scheme = compile_document(doc)
    return dataclasses.replace(scheme, sha256=hashlib.sha256(doc.text.encode("utf-8")).hexdigest())

