"""Running git: the one place qualiscore starts a git process.

``qualiscore diff REV:path`` reads a committed version with ``git show``, a run
records where its scheme files sit in their repository, and ``verify`` reads that
repository again (:mod:`qualiscore.rulesrepo`). git is optional: when it cannot be
started, :func:`git` raises ``OSError`` and each caller decides what that means.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .i18n import _

# Variables that would make git use another repository than the one around ``cwd``.
_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")


@dataclass(frozen=True, slots=True)
class GitOutput:
    """What one git command printed, and how it ended."""

    status: int
    out: bytes
    err: str
    truncated: bool = False  # stdout went past the limit, and git was stopped there

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.truncated

    @property
    def text(self) -> str:
        """stdout as text, without the final line break (paths as the file system spells them)."""
        return os.fsdecode(self.out).rstrip("\n")

    @property
    def first_error(self) -> str:
        """The first line git wrote to stderr, without its ``fatal:`` prefix."""
        first = (self.err.strip().splitlines()[0] if self.err.strip()
                 else _("git exited with status {status}", status=self.status))
        return first.removeprefix("fatal: ")


def git(args: Sequence[str], *, cwd: str | Path | None = None, stdin: bytes | None = None,
        limit: int | None = None) -> GitOutput:
    """Run ``git ARGS`` in ``cwd`` (default: the current directory) and collect what it prints.

    Pathspecs are literal (a file named ``*.yaml`` is that file), no pager or prompt is
    started, and the repository is the one around ``cwd`` whatever ``GIT_DIR`` says.
    With ``limit``, stdout is read up to just past ``limit`` bytes and git is stopped
    there (``truncated``). Raises ``OSError`` when git cannot be started.
    """
    env = {key: value for key, value in os.environ.items() if key not in _REPOSITORY_VARIABLES}
    env.update(GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0", GIT_LITERAL_PATHSPECS="1")
    proc = subprocess.Popen(["git", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
    if limit is None:
        out, errors = proc.communicate(stdin)
        return GitOutput(proc.returncode, out, errors.decode("utf-8", "replace"))
    assert proc.stdout is not None and proc.stderr is not None and stdin is None
    with proc:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = proc.stdout.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # refuse before reading more
            proc.kill()
            proc.wait()
            return GitOutput(proc.returncode, b"".join(chunks), "", truncated=True)
        err = proc.stderr.read().decode("utf-8", "replace")
        status = proc.wait()
    return GitOutput(status, b"".join(chunks), err)
