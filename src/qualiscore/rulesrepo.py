"""A scheme file's place in its git repository, the committee's rules repository.

Committees keep their schemes in git and approve a version by committing (and often
tagging) it. ``approved_by`` in the file says who approved it, but only git can show
that the bytes a run used are the committed ones. So at evaluate time each scheme file
is located once (:func:`locate`) and the manifest records a :class:`GitPlace`: its path
in the repository, the git blob id of the bytes that ran, the last commit that changed
that path (not HEAD, so the record stays the same across unrelated commits), and
whether the file was exactly as committed at HEAD. ``verify`` reads the repository
again through :class:`Repository` to check those facts and to compare a run's scheme
with an approved revision.

git is optional: a file outside any repository, or no git installed, has no place
(``None``), never an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._git import GitOutput, git

OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1, or SHA-256 in repositories made with it


@dataclass(frozen=True, slots=True)
class GitPlace:
    """Where a scheme file that ran sits in its repository, as the manifest's ``git`` records it."""

    path: str  # relative to the repository's top directory, with '/'
    blob: str  # the git blob id of the bytes that ran
    commit: str | None  # the last commit that changed ``path``; None when it was never committed
    committed: bool  # the bytes that ran are HEAD's, and the file had no uncommitted change

    def manifest_dict(self) -> dict[str, Any]:
        return {"path": self.path, "blob": self.blob, "commit": self.commit, "committed": self.committed}

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any] | None) -> GitPlace | None:
        """The place a manifest's scheme entry records (its structure checked when the manifest was read)."""
        if entry is None:
            return None
        return cls(entry["path"], entry["blob"], entry["commit"], entry["committed"])

    @property
    def short_commit(self) -> str:
        return (self.commit or "")[:12]


def blob_id(data: bytes, algorithm: str = "sha1") -> str:
    """The id git gives a blob of ``data``, computed without git: the hash of ``blob <size>\\0`` and the bytes.

    ``algorithm`` is the repository's object format: "sha1", or "sha256" for one made with it.
    """
    return hashlib.new(algorithm, b"blob %d\0" % len(data) + data).hexdigest()


def algorithm_of(object_id: str) -> str:
    """The object format an id was made with, told by its length."""
    return "sha256" if len(object_id) == 64 else "sha1"


def locate(path: str | Path, data: bytes) -> GitPlace | None:
    """The place in its repository of the scheme file ``path``, whose bytes ``data`` ran; None outside git.

    A handful of git commands, run once per file: the repository, the last commit that
    changed the path, the blob at HEAD and the file's status.
    """
    repo = Repository.holding(Path(path))
    if repo is None:
        return None
    rel = repo.relative(Path(path))
    if rel is None:
        return None
    blob = blob_id(data, repo.object_format)
    last = repo.run(["log", "-1", "--format=%H", "--", rel])
    commit = last.text if last.ok and OBJECT_ID.fullmatch(last.text) else None
    committed = False
    if commit is not None and repo.object("HEAD:" + rel) == blob:
        status = repo.run(["--no-optional-locks", "status", "--porcelain", "-z", "--", rel])
        committed = status.ok and not status.out
    return GitPlace(rel, blob, commit, committed)


@dataclass(frozen=True, slots=True)
class Repository:
    """A git work tree, read with git; every method answers None or False when git cannot say."""

    top: Path  # the work tree's top directory, symbolic links resolved
    object_format: str  # "sha1", or "sha256" for a repository made with it

    @classmethod
    def holding(cls, path: Path) -> Repository | None:
        """The repository whose work tree holds ``path`` (or its nearest existing directory); None if none."""
        where = path.parent if not path.is_dir() else path
        while not where.is_dir() and where != where.parent:
            where = where.parent
        return cls.at(where)

    @classmethod
    def at(cls, directory: Path) -> Repository | None:
        """The repository whose work tree holds ``directory``; None when there is none or git is missing."""
        try:
            found = git(["rev-parse", "--show-toplevel", "--show-object-format"], cwd=directory)
        except OSError:
            return None
        lines = found.text.splitlines()
        if not found.ok or len(lines) != 2 or not lines[0]:
            return None
        return cls(Path(lines[0]).resolve(), "sha256" if lines[1] == "sha256" else "sha1")

    def run(self, args: Sequence[str], *, stdin: bytes | None = None, limit: int | None = None) -> GitOutput:
        """``git ARGS`` in the work tree; a git that cannot be started answers as a failed command."""
        try:
            return git(args, cwd=self.top, stdin=stdin, limit=limit)
        except OSError as exc:
            return GitOutput(-1, b"", str(exc))

    def relative(self, path: Path) -> str | None:
        """``path`` relative to the top directory, with '/'; None when it lies outside the work tree."""
        try:
            real = path.parent.resolve() / path.name
            return real.relative_to(self.top).as_posix()
        except (ValueError, OSError):
            return None

    def commit(self, rev: str) -> str | None:
        """The commit ``rev`` (a branch, tag or id) names; None when it names none."""
        return None if rev.startswith("-") else self.object(rev + "^{commit}")

    def object(self, name: str) -> str | None:
        """The id of the object ``name`` (``REV``, ``REV:path``) names; None when there is none."""
        return self.objects([name])[0]

    def objects(self, names: Sequence[str]) -> list[str | None]:
        """The id of each object named (``REV``, ``REV:path``), in one git command; None where there is none."""
        if any("\n" in name for name in names):
            return [None] * len(names)
        answer = self.run(["cat-file", "--batch-check=%(objectname)"],
                          stdin="".join(name + "\n" for name in names).encode())
        lines = answer.text.splitlines() if answer.ok else []
        if len(lines) != len(names):
            return [None] * len(names)
        return [line if OBJECT_ID.fullmatch(line) else None for line in lines]

    def read(self, rev: str, path: str, *, limit: int) -> bytes | None:
        """The bytes of the file ``path`` at ``rev``; None when there is no such file or it is over ``limit``."""
        if rev.startswith("-"):
            return None
        answer = self.run(["cat-file", "blob", f"{rev}:{path}"], limit=limit)
        return answer.out if answer.ok else None
