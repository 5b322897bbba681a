"""The output directory and its manifest, written atomically.

All files are written into a fresh sibling directory, which then takes the place
of the old one, so an interrupted or failed run leaves the previous output as it was.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OutputError
from .formats import render_formats
from .provenance import FORMAT, MANIFEST, manifest_dict, sha256_bytes, sha256_file
from .scorecard import rejects_csv, scorecards_csv, scorecards_jsonl

if TYPE_CHECKING:
    from .engine import Run

__all__ = [
    "FORMAT",
    "MANIFEST",
    "manifest_dict",
    "read_manifest",
    "render_outputs",
    "sha256_bytes",
    "sha256_file",
    "write_outputs",
]


def render_outputs(run: Run) -> dict[str, bytes]:
    """Every output file of a run, by name, as bytes (the manifest last)."""
    indicator_ids = [i.id for s in run.schemes for i in s.indicators]
    indicator_ids = list(dict.fromkeys(indicator_ids))
    files = {
        "scorecards.jsonl": scorecards_jsonl(run.scorecards).encode("utf-8"),
        "scorecards.csv": scorecards_csv(run.scorecards, run.group_by, indicator_ids).encode("utf-8"),
        "rejects.csv": rejects_csv(run.problems).encode("utf-8"),
    }
    formats = run.options.get("formats") or ()
    if formats:  # evaluate --format parquet/xlsx: hashed and listed like every other output
        files.update(render_formats(run, formats, {name: sha256_bytes(data) for name, data in files.items()}))
    manifest = manifest_dict(run, {name: sha256_bytes(data) for name, data in files.items()})
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
    return files


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
    """Clear up after a run killed while writing: restore a moved-aside output, drop temporaries."""
    out = parent / name
    for old in sorted(parent.glob(f".{name}.old-*")):
        if not out.exists() and (old / "previous").is_dir():
            os.rename(old / "previous", out)
        shutil.rmtree(old, ignore_errors=True)
    for stale in parent.glob(f".{name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def write_outputs(files: Mapping[str, bytes], outdir: str | Path, *, force: bool = False) -> Path:
    """Replace ``outdir`` with exactly ``files``; never leave a half-written directory behind.

    Files are written and synced into a hidden sibling directory, which then takes the
    output's place in one atomic exchange, so a run killed at any moment leaves the
    previous output as it was. An existing directory is replaced only when it is an
    earlier run's output (it holds a manifest) or is empty, unless ``force``:
    `-o ~/Documents` must not delete anything.
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory", hint="choose another -o directory")
    if out.is_dir() and not force and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise OutputError(f"{out} is not empty and holds no {MANIFEST}, so it is not an earlier run's output; "
                          "refusing to replace it",
                          location=None, hint="choose a new -o directory, or pass --force to replace it")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent, out.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is an ordinary directory
        for name, data in files.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        if not out.exists():
            os.rename(tmp, out)
        elif _exchange(tmp, out):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous output
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent)) / "previous"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old.parent, ignore_errors=True)
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}", hint="check the path and permissions") from exc
    return out


def read_manifest(outdir: str | Path) -> dict[str, Any]:
    path = Path(outdir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{outdir} has no {MANIFEST}: it is not a qualiscore output directory",
                          hint="give the -o directory of `qualiscore evaluate`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}", hint="the manifest is damaged; re-run evaluate") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise OutputError(f"{path} is not a qualiscore run manifest", hint="give the -o directory of evaluate")
    return data
