"""The schemes of a run against their files and their rules repository.

Each scheme file's SHA-256, the place in git the manifest records for it (checked
against the file and the repository, never trusted), with ``--rules-rev`` whether it
is exactly the approved file, and, when a scheme changed, what changed: the version
that ran is read from git and compared with ``qualiscore diff``'s semantics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diff import change_lines, check_document, diff_documents
from ..errors import QualiscoreError, UsageError
from ..i18n import _
from ..loader import MAX_BYTES, load_text
from ..manifest import sha256_bytes
from ..rulesrepo import GitPlace, Repository, algorithm_of, blob_id
from ..runs import recorded_path
from .discrepancy import Discrepancy


@dataclass(frozen=True, slots=True)
class _SchemeChecks:
    """What verify found about the schemes of the run."""

    found: tuple[Discrepancy, ...]
    notes: tuple[Discrepancy, ...]
    approved: tuple[str, ...] = ()  # with --rules-rev, each scheme that is exactly the file at that revision


def _check_schemes(entries: Sequence[Mapping[str, Any]], root: Path | None, rules_rev: str | None,
                   rules_repo: str | Path | None) -> _SchemeChecks:
    """Every scheme of the run checked (:func:`_check_scheme`), against ``rules_repo`` when given."""
    given = _rules_repository(Path(rules_repo), rules_rev) if rules_repo is not None else None
    checked = [_check_scheme(entry, root, given, rules_rev) for entry in entries]
    return _SchemeChecks(tuple(d for c in checked for d in c.found), tuple(d for c in checked for d in c.notes),
                         tuple(a for c in checked for a in c.approved))


def _rules_repository(directory: Path, rules_rev: str | None) -> Repository:
    """``--rules-repo DIR``, which must be a git repository holding ``rules_rev`` when that is given."""
    repo = Repository.at(directory)
    if repo is None:
        raise UsageError(_("--rules-repo {directory} is not a git repository (or git is not installed)",
                           directory=directory),
                         hint=_("give the directory of a clone of the rules repository"))
    if rules_rev is not None and repo.commit(rules_rev) is None:
        raise UsageError(_("the rules repository {top} has no revision {rev!r}", top=repo.top, rev=rules_rev),
                         hint=_("give a tag, branch or commit of that repository (`git tag`, `git branch -a`)"))
    return repo


def _check_scheme(entry: Mapping[str, Any], root: Path | None, given: Repository | None,
                  rules_rev: str | None) -> _SchemeChecks:
    """The scheme file's SHA-256, its recorded place in git, and with ``rules_rev`` whether it is the approved file.

    The version that ran is the file itself while its SHA-256 matches; otherwise it is read
    from git when the recorded commit (or ``rules_rev``) holds it, to show what changed.
    """
    name, path = entry["path"], recorded_path(entry["path"], root)
    what = _("scheme {id} {version}", id=entry["id"], version=entry["version"])
    place = GitPlace.from_manifest(entry.get("git"))
    data = path.read_bytes() if path.is_file() else None
    changed = data is not None and sha256_bytes(data) != entry["sha256"]
    repo = given or (Repository.holding(path) if place is not None or rules_rev is not None or changed else None)
    rel = place.path if place is not None else repo.relative(path) if repo is not None else None
    ran, source = data, name  # the bytes that ran, and where they were found (or why they were not)
    if data is None or changed:
        ran, source = _version_run(entry, place, repo, rel, rules_rev)
    found: list[Discrepancy] = []
    notes: list[Discrepancy] = []
    if data is None:
        found.append(Discrepancy("scheme-missing", name, _("scheme file {name} is missing", name=name)))
    elif changed:
        details = (_("the version that ran is {source}; what changed since:", source=source),
                   *_semantic_changes(ran, source, data, name)) \
            if ran is not None else (_("what changed cannot be shown: {why}", why=source),)
        found.append(Discrepancy("scheme-changed", name, _("{scheme} was changed after the run (SHA-256 differs)",
                                                           scheme=what),
                                 details=details))
    if place is not None:
        found += _check_place(entry, place, repo, None if changed else data)
        if not place.committed:
            last = (_("last committed in {commit}", commit=place.short_commit) if place.commit
                    else _("never committed"))
            notes.append(Discrepancy("scheme-uncommitted", name,
                                     _("{scheme} was run with uncommitted changes to {path} ({last}): the version "
                                       "that ran is not one its repository holds", scheme=what, path=place.path,
                                       last=last)))
        if place.commit is not None and repo is None:
            notes.append(Discrepancy("scheme-git-unchecked", name,
                                     _("the commit recorded for {scheme} ({commit}) could not be checked: {name} is "
                                       "not in a git repository here (see --rules-repo)", scheme=what,
                                       commit=place.short_commit, name=name)))
    if rules_rev is None:
        return _SchemeChecks(tuple(found), tuple(notes))
    approval = _check_approved(entry, repo, rel, rules_rev, ran, source)
    if isinstance(approval, Discrepancy):
        return _SchemeChecks((*found, approval), tuple(notes))
    return _SchemeChecks(tuple(found), tuple(notes), (approval,))


def _check_place(entry: Mapping[str, Any], place: GitPlace, repo: Repository | None,
                 ran: bytes | None) -> list[Discrepancy]:
    """The recorded place against the facts: the blob of the bytes that ran, and the recorded commit's content."""
    name, found = entry["path"], []

    def wrong(message: str) -> None:
        found.append(Discrepancy("scheme-git-mismatch", name, _("the manifest's git record of {name} is wrong: "
                                                                "{reason}", name=name, reason=message)))

    if ran is not None and blob_id(ran, algorithm_of(place.blob)) != place.blob:
        wrong(_("it names blob {recorded}, but the scheme file that ran is blob {actual}", recorded=place.blob[:12],
                actual=blob_id(ran, algorithm_of(place.blob))[:12]))
    if place.committed and place.commit is None:
        wrong(_("it says the file was committed, but names no commit"))
    if place.commit is None or repo is None:
        return found
    commit, blob = repo.objects([place.commit + "^{commit}", f"{place.commit}:{place.path}"])
    if commit is None:
        wrong(_("the rules repository {top} has no commit {commit}", top=repo.top, commit=place.commit))
    elif place.committed and blob != place.blob:
        wrong(_("it says the file ran as committed in {commit} as {path}, but that commit holds blob {blob} there",
                commit=place.short_commit, path=place.path, blob=blob[:12]) if blob else
              _("it says the file ran as committed in {commit} as {path}, but that commit has no such file",
                commit=place.short_commit, path=place.path))
    return found


def _version_run(entry: Mapping[str, Any], place: GitPlace | None, repo: Repository | None, rel: str | None,
                 rules_rev: str | None) -> tuple[bytes | None, str]:
    """The bytes of the scheme that ran, read from git, and where from (``PATH at COMMIT``); else None and why not.

    Tried: the recorded commit, then ``rules_rev``; a version counts only if its SHA-256 is the recorded one.
    """
    if repo is None:
        return None, _("{path} is not in a git repository here (see --rules-repo)", path=entry["path"])
    revisions = [(place.commit, place.path, _("commit {commit}", commit=place.short_commit))] \
        if place is not None and place.commit else []
    if rules_rev is not None and rel is not None:
        revisions.append((rules_rev, rel, rules_rev))
    for rev, path, label in revisions:
        data = repo.read(rev, path, limit=MAX_BYTES)
        if data is not None and sha256_bytes(data) == entry["sha256"]:
            return data, _("{path} at {rev}", path=path, rev=label)
    if place is None:
        return None, _("the run recorded no place in git for it (the file was not in a git repository)")
    if not place.committed:
        return None, _("it had uncommitted changes when run, so no commit holds the version that ran")
    return None, _("commit {commit} does not hold it in the repository {top}", commit=place.short_commit,
                   top=repo.top)


def _check_approved(entry: Mapping[str, Any], repo: Repository | None, rel: str | None, rules_rev: str,
                    ran: bytes | None, why: str) -> Discrepancy | str:
    """Whether the scheme that ran is exactly its file at ``rules_rev``: the approval line, or why not.

    ``ran`` is the bytes that ran, for the changes shown, or None and ``why`` they are not at hand.
    """
    name, what = entry["path"], _("scheme {id} {version}", id=entry["id"], version=entry["version"])

    def refused(message: str, details: tuple[str, ...] = ()) -> Discrepancy:
        return Discrepancy("scheme-not-approved", name, _("{scheme} is not the file at {rev}: {reason}", scheme=what,
                                                          rev=rules_rev, reason=message),
                           details=details)

    if repo is None:
        return refused(_("{name} is not in a git repository here (pass --rules-repo)", name=name))
    if rel is None:
        return refused(_("the run recorded no place in git for {name}, and it is not inside {top}", name=name,
                         top=repo.top))
    commit = repo.commit(rules_rev)
    if commit is None:
        return refused(_("the rules repository {top} has no revision {rev!r}", top=repo.top, rev=rules_rev))
    approved = repo.read(commit, rel, limit=MAX_BYTES)
    if approved is None:
        return refused(_("{path} does not exist at commit {commit}", path=rel, commit=commit[:12]))
    if sha256_bytes(approved) == entry["sha256"]:
        return _("{scheme} is {path} at {rev} (commit {commit})", scheme=what, path=rel, rev=rules_rev,
                 commit=commit[:12])
    details = (_("what the run used differs from {path} at {rev} by:", path=rel, rev=rules_rev),
               *_semantic_changes(approved, f"{rules_rev}:{rel}", ran, name)) if ran is not None \
        else (_("what the run used cannot be shown: {why}", why=why),)
    return refused(_("the file that ran differs from {path} at commit {commit}", path=rel, commit=commit[:12]),
                   details)


def _semantic_changes(old: bytes, old_name: str, new: bytes, new_name: str) -> tuple[str, ...]:
    """What changed from ``old`` to ``new``, as `qualiscore diff` prints it; or why that cannot be shown."""
    try:
        old_doc, new_doc = load_text(old, old_name), load_text(new, new_name)
        check_document(old_doc)
        check_document(new_doc)
    except QualiscoreError as exc:
        return (_("(the changes cannot be shown: {reason})", reason=exc.message),)
    changes = diff_documents(old_doc, new_doc)
    return tuple(change_lines(changes)) or (_("no semantic change: only layout or comments differ"),)
