"""What the report and ``explain`` may say about a scheme's approval.

``approved_by`` and ``approved_on`` are text in the scheme file: whoever edits the file
can write them. So they are shown as an approval ("Approved by X, DATE (committed as
abc123…)") only for a scheme that the run's manifest records as committed unchanged
in its git repository; otherwise the words say what ``approved_by`` claims and why
that is not an approved version. ``qualiscore verify --rules-rev`` is the proof that
a run's scheme is the approved file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import QualiscoreError
from .i18n import _
from .manifest import find_recorded
from .model import Scheme
from .rulesrepo import GitPlace
from .schemes import load_scheme

State = Literal["committed", "uncommitted", "untracked"]


@dataclass(frozen=True, slots=True)
class Approval:
    """A scheme version's approval as its file states it, and what the run's record of it in git allows to say."""

    version: str
    approved_by: str | None
    approved_on: str | None
    place: GitPlace | None  # the manifest's ``git`` of the scheme

    @property
    def state(self) -> State:
        """committed: as committed, unchanged; uncommitted: changed from what its repository holds; untracked: not
        in a git repository."""
        if self.place is None:
            return "untracked"
        return "committed" if self.place.committed else "uncommitted"

    @property
    def who(self) -> str:
        """``X, DATE`` as the file states them."""
        return ", ".join(x for x in (self.approved_by or "—", self.approved_on) if x)

    def text(self, *, label: bool = True) -> str:
        """One line: ``Approved by X, DATE (committed as abc123…)`` ("Approved by " left out when not ``label``), or
        what approved_by claims and why it is not an approved version."""
        if self.place is not None and self.place.committed:
            if label:
                return _("Approved by {who} (committed as {commit})", who=self.who, commit=self.place.short_commit)
            return _("{who} (committed as {commit})", who=self.who, commit=self.place.short_commit)
        if self.state == "uncommitted":
            return _("approved_by says {who}, but the scheme file was not committed unchanged when run (not an "
                     "approved version)", who=self.who)
        return _("approved_by says {who}, but the scheme file was not in a rules repository when run (not shown to "
                 "be approved)", who=self.who)


def approval_of(scheme: Scheme, place: GitPlace | None) -> Approval | None:
    """The approval ``scheme`` states, with its file's recorded place in git; None when it states none."""
    if not scheme.approved_by and not scheme.approved_on:
        return None
    return Approval(scheme.version, scheme.approved_by, scheme.approved_on, place)


def published_approval(manifest: Mapping[str, Any], outdir: Path, sha256: str) -> Approval | None:
    """The approval of the run's scheme whose SHA-256 is ``sha256``, read from its file while that still matches;
    None when the file states none or is not found unchanged."""
    entry = next((s for s in manifest.get("schemes", []) if s.get("sha256") == sha256), None)
    if entry is None:
        return None
    path, _why = find_recorded(str(entry.get("path", "")), sha256, outdir)
    if path is None:
        return None
    try:
        scheme = load_scheme(path)
    except QualiscoreError:
        return None
    return approval_of(scheme, GitPlace.from_manifest(entry.get("git")))
