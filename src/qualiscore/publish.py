"""Publishing an output directory: checked, locked, staged in a fresh sibling and swapped in whole.

What ``evaluate -o DIR`` promises about DIR and everything around it:

* It replaces a directory only when that directory provably holds an earlier run's
  output: a manifest of this format whose outputs, with the files qualiscore itself
  writes beside them (signature, reports), are all the directory holds. Anything else
  is refused unless ``--force``; and even ``--force`` never replaces the root of the
  file system, the home directory, the current directory, a directory above any of
  these, or a directory holding an input, the scheme or the signing key.
* ``-o LINK`` (a symbolic link to a directory) publishes into the directory the link
  points to, replaced in place; the link is left as it was.
* Runs into the same output take turns: each holds an exclusive lock
  (``fcntl.flock`` on the sibling ``.DIR.lock``, removed when done) from the check
  until the swap, so the last one to finish is the output and every one succeeds.
* Each run stages its files in its own temporary sibling (``.DIR.tmp-*``), removed on
  every failure (an error, a full disk, Ctrl-C); a run killed outright leaves it
  behind, and the next run into DIR clears it. The staged directory takes DIR's place
  in one atomic exchange, so DIR is always the previous output or the new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, QualiscoreError
from .i18n import N_, _
from .manifest import RECORD_FILES, read_manifest, read_reports
from .records import split_sheet

# Reports qualiscore writes into an output directory (`evaluate --report`, `report OUTDIR`).
REPORT_NAMES = ("report.html", "report.md")
_FORCE_HINT = N_("choose a new -o directory, or pass --force to replace it and everything in it")


@dataclass(frozen=True, slots=True)
class Stage:
    """The temporary directory a run's files are written into before it takes the output's place."""

    path: Path
    out: Path  # the output directory as given

    def write(self, files: Mapping[str, bytes]) -> None:
        """Write (or overwrite) ``files`` in the stage, each synced to disk."""
        for name, data in files.items():
            try:
                with open(self.path / name, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                raise OutputError(_("cannot write {outdir}: {reason}; nothing was published", outdir=self.out,
                                    reason=exc.strerror or exc),
                                  hint=_("check the free space, the path and the permissions")) from None


def write_outputs(files: Mapping[str, bytes], outdir: str | Path, *, force: bool = False,
                  protect: Sequence[str | Path] = ()) -> Path:
    """Replace ``outdir`` with exactly ``files`` (see :func:`publish`); return ``outdir``."""
    with publish(outdir, force=force, protect=protect) as stage:
        stage.write(files)
    return Path(outdir)


@contextlib.contextmanager
def publish(outdir: str | Path, *, force: bool = False, protect: Sequence[str | Path] = ()) -> Iterator[Stage]:
    """Stage a run's files; when the block ends without an error, they become ``outdir`` in one step.

    ``protect`` are the run's own files (scheme, inputs, key): no directory holding one
    is ever replaced. On any error the stage is removed and ``outdir`` is as it was.
    """
    out = Path(outdir)
    target = _target(out)
    _check_replaceable(out, target, force, protect)  # fail early, before waiting for the lock
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(_("cannot write {outdir}: {reason}", outdir=out, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None
    with _locked(target.parent, target.name, out):
        _check_replaceable(out, target, force, protect)  # again: another run may have published meanwhile
        _remove_stale(target.parent, target.name)
        stage = _stage(target, out)
        try:
            yield Stage(stage, out)
            _swap(stage, target, out)
        finally:
            shutil.rmtree(stage, ignore_errors=True)  # after a swap: the previous output, or nothing


def _target(out: Path) -> Path:
    """Where the output really is: symbolic links (of the directory or its parents) followed."""
    if out.is_symlink() and not out.exists():
        raise OutputError(_("{outdir} is a symbolic link to {target}, which does not exist", outdir=out,
                            target=os.readlink(out)),
                          hint=_("create the directory it points to, or give another -o directory"))
    try:
        target = out.resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(_("cannot resolve {outdir}: {reason}", outdir=out, reason=exc), hint=_("check the path")) \
            from None
    if target.exists() and not target.is_dir():
        raise OutputError(_("{outdir} exists and is not a directory", outdir=out),
                          hint=_("choose another -o directory"))
    return target


def _check_replaceable(out: Path, target: Path, force: bool, protect: Sequence[str | Path]) -> None:
    """Refuse to replace what is not an earlier run's output (unless ``force``) or what must never go."""
    why = _protected(target, protect)
    if why:
        raise OutputError(_("refusing to replace {outdir}: it is {why}", outdir=out, why=why),
                          hint=_("give -o a new directory of its own, e.g. -o out/ (--force does not change this)"))
    if force or not target.is_dir():
        return
    try:
        entries = sorted(os.scandir(target), key=lambda e: e.name)
    except OSError as exc:
        raise OutputError(_("cannot read {outdir}: {reason}", outdir=out, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None
    if not entries:
        return
    if not any(e.name == RECORD_FILES[0] for e in entries):
        raise OutputError(_("{outdir} is not empty and holds no {file}, so it is not an earlier run's output; "
                            "refusing to replace it", outdir=out, file=RECORD_FILES[0]), hint=_(_FORCE_HINT))
    try:
        manifest = read_manifest(target)
        reports = read_reports(target)
    except QualiscoreError as exc:
        raise OutputError(_("{outdir} holds a {file} that is not a valid run manifest ({reason}), so it is not "
                            "provably an earlier run's output; refusing to replace it", outdir=out,
                            file=RECORD_FILES[0], reason=exc.message),
                          hint=_(_FORCE_HINT)) from None
    known = {*manifest["outputs"], *RECORD_FILES, *REPORT_NAMES, *(reports or {}).get("reports", {})}
    foreign = [e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries
               if e.name not in known or not e.is_file(follow_symlinks=False)]
    if foreign:
        shown = ", ".join(foreign[:5])
        if len(foreign) > 5:
            shown = _("{names} and {n} more", names=shown, n=len(foreign) - 5)
        raise OutputError(_("{outdir} holds what no run wrote ({names}) beside its {file}, so it is not just an "
                            "earlier run's output; refusing to replace it", outdir=out, names=shown,
                            file=RECORD_FILES[0]), hint=_(_FORCE_HINT))


def _protected(target: Path, protect: Sequence[str | Path]) -> str | None:
    """Why ``target`` must never be replaced, even with --force; None when it may be."""
    def within(path: Path) -> bool:
        return target == path or target in path.parents

    if target == Path(target.anchor):
        return _("the root of the file system")
    cwd = Path.cwd().resolve()
    if within(cwd):
        return _("the current directory") if target == cwd else _("a parent of the current directory ({path})",
                                                                   path=cwd)
    with contextlib.suppress(RuntimeError, KeyError):  # no home directory known
        home = Path.home().resolve()
        if within(home):
            return _("your home directory") if target == home else _("a parent of your home directory ({path})",
                                                                     path=home)
    for given in protect:
        path = Path(split_sheet(given)[0]).resolve()
        if within(path):
            return (_("{file}, which this run reads", file=given) if target == path
                    else _("a parent of {file}, which this run reads", file=given))
    return None


@contextlib.contextmanager
def _locked(parent: Path, name: str, out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``parent/.name.lock`` (waiting for other runs into the same output)."""
    if sys.platform == "win32":  # no flock: runs into one output are not serialised there
        yield
        return
    import fcntl

    path = parent / f".{name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise OutputError(_("cannot write {outdir}: {reason}", outdir=out, reason=exc.strerror or exc),
                              hint=_("check the path and permissions")) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:  # the run before removed the lock file while this one waited: lock the new one
                current = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it: a waiter then sees the file is gone and locks afresh
        os.close(fd)


def _stage(target: Path, out: Path) -> Path:
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise OutputError(_("cannot write {outdir}: {reason}", outdir=out, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None
    umask = os.umask(0)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is an ordinary directory
    return stage


def _swap(stage: Path, target: Path, out: Path) -> None:
    """Put ``stage`` in ``target``'s place in one step; afterwards ``stage`` holds the previous output, if any."""
    parent = target.parent
    try:
        if not target.exists():
            os.rename(stage, target)
        elif not _exchange(stage, target):
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rename(target, old / "previous")
            os.rename(stage, target)
            os.rename(old / "previous", stage)
            os.rmdir(old)
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise OutputError(_("cannot write {outdir}: {reason}", outdir=out, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot; fall back
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def _remove_stale(parent: Path, name: str) -> None:
    """Clear up after a run killed while writing: restore a moved-aside output, drop its stage.

    Called with the lock held, so no stage here belongs to a run still going.
    """
    out = parent / name
    for old in sorted(parent.glob(f".{name}.old-*")):
        if not out.exists() and (old / "previous").is_dir():
            os.rename(old / "previous", out)
        shutil.rmtree(old, ignore_errors=True)
    for stale in parent.glob(f".{name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
