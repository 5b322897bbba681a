"""A run's manifest: rendered with the outputs it vouches for, and checked whole when read back.

``manifest.json`` is the one file that ``verify``, ``report`` and ``explain`` trust to
say what a run was. It is read in one place, :func:`read_manifest`, which checks its
whole structure first, so a damaged or edited manifest is one clear error
(``damaged-manifest``, exit 16) naming the key at fault, never a traceback half-way
through a command. Reports written into an output directory after the run are
recorded beside it in ``reports.json`` (:func:`read_reports`, :func:`record_report`).
Writing the directory itself is :mod:`qualiscore.publish`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import rowdigests
from ._display import json_shown
from .errors import DamagedOutputError, Location, OutputError
from .formats import indicator_ids, render_formats
from .i18n import N_, _
from .model import PRIVACY_POLICIES
from .provenance import FORMAT, MANIFEST, SAMPLE_FORMAT, manifest_dict, sha256_bytes, sha256_file
from .rulesrepo import OBJECT_ID
from .scorecard import rejects_csv, scorecards_csv, scorecards_jsonl
from .signing import SIGNATURE_FILE

if TYPE_CHECKING:
    from .engine import Run

__all__ = [
    "FORMAT",
    "MANIFEST",
    "REPORTS_FILE",
    "REPORTS_FORMAT",
    "check_manifest",
    "find_recorded",
    "manifest_dict",
    "read_manifest",
    "read_reports",
    "record_report",
    "render_outputs",
    "sha256_bytes",
    "sha256_file",
    "with_outputs",
]

# Reports written into an output directory after its run, with their SHA-256 and the manifest they describe.
REPORTS_FILE = "reports.json"
REPORTS_FORMAT = "qualiscore-reports/v1"
# Files of an output directory that no manifest lists: the manifest, its signature, the later reports' record.
RECORD_FILES = (MANIFEST, SIGNATURE_FILE, REPORTS_FILE)
MAX_MANIFEST_BYTES = 64 << 20  # a manifest lists files and counts; more than this is not one


def render_outputs(run: Run, extra: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """Every output file of a run, by name, as bytes (the manifest last).

    ``extra`` are further files of the run (``evaluate --report``'s report.html), hashed
    and listed in the manifest like the rest. The inputs' line digests are read from the
    input files again.
    """
    files = {
        "scorecards.jsonl": scorecards_jsonl(run.scorecards).encode("utf-8"),
        "scorecards.csv": scorecards_csv(run.scorecards, run.group_by, indicator_ids(run)).encode("utf-8"),
        "rejects.csv": rejects_csv(run.problems).encode("utf-8"),
        rowdigests.FILE: rowdigests.digests_of(run.dataset.inputs),
    }
    formats = run.options.get("formats") or ()
    if formats:  # evaluate --format parquet/xlsx: hashed and listed like every other output
        files.update(render_formats(run, formats, {name: sha256_bytes(data) for name, data in files.items()}))
    return with_outputs(run, files, extra or {})


def with_outputs(run: Run, files: Mapping[str, bytes], extra: Mapping[str, bytes]) -> dict[str, bytes]:
    """``files`` (rendered outputs) with ``extra`` added and the manifest made again to list them all.

    ``evaluate --report`` adds the report this way once the other outputs are written,
    without rendering them (and reading the inputs for their digests) a second time.
    """
    out = {name: data for name, data in files.items() if name != MANIFEST}
    out.update(extra)
    manifest = manifest_dict(run, {name: sha256_bytes(data) for name, data in out.items()})
    out[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
    return out


# --------------------------------------------------------------------------- reading and checking

def read_manifest(outdir: str | Path) -> dict[str, Any]:
    """The manifest of the output directory ``outdir``, its whole structure checked.

    OutputError (exit 6) when there is none or it is another program's manifest.json;
    DamagedOutputError (exit 16) when it is not the manifest ``evaluate`` writes.
    """
    path = Path(outdir) / MANIFEST
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            _damaged(path, "", _("at most {limit:,} bytes", limit=MAX_MANIFEST_BYTES),
                     _("{size:,} bytes", size=path.stat().st_size))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutputError(_("{outdir} has no {file}: it is not a qualiscore output directory", outdir=outdir,
                            file=MANIFEST),
                          hint=_("give the -o directory of `qualiscore evaluate`")) from None
    except UnicodeDecodeError as exc:
        raise DamagedOutputError(_("{file} is not UTF-8 text ({reason} at byte {byte})", file=path.name,
                                   reason=exc.reason, byte=exc.start),
                                 location=Location(str(path)), hint=_(_DAMAGED_HINT)) from None
    except OSError as exc:
        raise OutputError(_("cannot read {path}: {reason}", path=path, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None
    return check_manifest(parse_json(text, path), path)


def parse_json(text: str, path: Path) -> Any:
    """JSON text of a file of an output directory; DamagedOutputError when it is not JSON (or nested absurdly)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DamagedOutputError(_("{file} is not valid JSON: {reason}", file=path.name, reason=exc.msg),
                                 location=Location(str(path), line=exc.lineno, column=exc.colno),
                                 hint=_(_DAMAGED_HINT)) from None
    except RecursionError:
        raise DamagedOutputError(_("{file} is JSON nested too deeply to be read", file=path.name),
                                 location=Location(str(path)), hint=_(_DAMAGED_HINT)) from None


def check_manifest(data: Any, path: str | Path = MANIFEST) -> dict[str, Any]:
    """``data`` if it has the structure of a run manifest; else DamagedOutputError naming the first bad key.

    Another program's ``manifest.json`` (an object without ``format: qualiscore-run/v1``)
    is an OutputError: the directory is not a qualiscore output directory at all.
    """
    where = Path(path)
    if not isinstance(data, dict):
        _damaged(where, "", _("a JSON object"), data)
    if data.get("format") == SAMPLE_FORMAT:
        _SAMPLE_MANIFEST(data, "", where)
        return data
    if data.get("format") != FORMAT:
        if "format" in data and "outputs" in data:  # ours, but of a format this version does not know
            _damaged(where, "/format", repr(FORMAT), data.get("format"))
        raise OutputError(_("{path} is not a qualiscore run manifest", path=where), location=None,
                          hint=_("give the -o directory of `qualiscore evaluate`"))
    _MANIFEST(data, "", where)
    return data


_DAMAGED_HINT = N_("the manifest was edited or damaged after the run: do not trust this directory; "
                   "re-run `qualiscore evaluate`, or restore the published copy")

Check = Callable[[Any, str, Path], None]


def _damaged(path: Path, pointer: str, expected: str, found: Any) -> NoReturn:
    """``expected``: what should be there, in the language of the message (or a literal value's repr)."""
    what = (_("this key is missing") if isinstance(found, _Missing)
            else _("expected {expected}, found {found}", expected=expected, found=json_shown(found)))
    raise DamagedOutputError(_("{file} is damaged here: {reason}", file=path.name, reason=what),
                             location=Location(str(path), pointer=pointer or "/"), hint=_(_DAMAGED_HINT))


class _Missing:
    """Stands for a key that is not there, so a message can say so."""

def _pointer(base: str, key: str | int) -> str:
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _is(kind: type, expected: str) -> Check:
    def check(value: Any, pointer: str, path: Path) -> None:
        if not isinstance(value, kind):
            _damaged(path, pointer, _(expected), value)

    return check


_TEXT = _is(str, N_("text"))
_BOOL = _is(bool, N_("true or false"))


def _count(value: Any, pointer: str, path: Path) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _damaged(path, pointer, _("a whole number, 0 or more"), value)


def _sha256(value: Any, pointer: str, path: Path) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        _damaged(path, pointer, _("a SHA-256 (64 lower-case hex digits)"), value)


def _date(value: Any, pointer: str, path: Path) -> None:
    try:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            dt.date.fromisoformat(value)
            return
    except ValueError:
        pass
    _damaged(path, pointer, _("a date (YYYY-MM-DD) that exists"), value)


def _key_id(value: Any, pointer: str, path: Path) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{16}", value):
        _damaged(path, pointer, _("a key id (16 lower-case hex digits)"), value)


def _policy(value: Any, pointer: str, path: Path) -> None:
    if value not in PRIVACY_POLICIES:
        _damaged(path, pointer, _("pseudonymise, redact or drop"), value)


def _object_id(value: Any, pointer: str, path: Path) -> None:
    if not isinstance(value, str) or not OBJECT_ID.fullmatch(value):
        _damaged(path, pointer, _("a git object id (40 or 64 lower-case hex digits)"), value)


def _repository_path(value: Any, pointer: str, path: Path) -> None:
    """A file's path in its repository: relative, with '/', never out of the repository."""
    parts = value.split("/") if isinstance(value, str) else []
    if not parts or any(p in ("", ".", "..") for p in parts) or "\0" in value:
        _damaged(path, pointer, _("a path inside a git repository (relative, with '/')"), value)


def _file_name(value: Any, pointer: str, path: Path) -> None:
    """An output's name: a plain file name in the directory, never a path out of it or a record file."""
    if (not isinstance(value, str) or not value or value in (".", "..") or "/" in value or "\\" in value
            or "\0" in value or value in RECORD_FILES):
        _damaged(path, pointer, _("the name of a file in the output directory"), value)


def _or_null(check: Check) -> Check:
    def either(value: Any, pointer: str, path: Path) -> None:
        if value is not None:
            check(value, pointer, path)

    return either


def _list(item: Check, *, min_items: int = 0) -> Check:
    def check(value: Any, pointer: str, path: Path) -> None:
        if not isinstance(value, list) or len(value) < min_items:
            _damaged(path, pointer, _("a JSON array of at least {n} item(s)", n=min_items) if min_items
                     else _("a JSON array"), value)
        for i, v in enumerate(value):
            item(v, _pointer(pointer, i), path)

    return check


def _mapping(key: Check, value: Check) -> Check:
    def check(data: Any, pointer: str, path: Path) -> None:
        if not isinstance(data, dict):
            _damaged(path, pointer, _("a JSON object"), data)
        for k, v in data.items():
            key(k, _pointer(pointer, k), path)
            value(v, _pointer(pointer, k), path)

    return check


def _object(required: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    """A JSON object with these keys (others are allowed: a later version may record more)."""
    def check(data: Any, pointer: str, path: Path) -> None:
        if not isinstance(data, dict):
            _damaged(path, pointer, _("a JSON object"), data)
        for key, item in required.items():
            if key not in data:
                _damaged(path, _pointer(pointer, key), _("this key"), _Missing())
            item(data[key], _pointer(pointer, key), path)
        for key, item in (optional or {}).items():
            if key in data:
                item(data[key], _pointer(pointer, key), path)

    return check


_TEXTS = _list(_TEXT)
_PRIVACY = _object({"fields": _mapping(_TEXT, _mapping(_TEXT, _policy)), "key_id": _or_null(_key_id)})
_ENGINE = _object({"name": _TEXT, "version": _TEXT, "engine": _TEXT})
_SCHEMES = _list(_object({"id": _TEXT, "version": _TEXT, "path": _TEXT, "sha256": _sha256,
                          "effective_from": _date, "effective_to": _or_null(_date), "scorecards": _count},
                         # absent from manifests written before runs recorded it: such a run is still one
                         {"git": _or_null(_object({"path": _repository_path, "blob": _object_id,
                                                   "commit": _or_null(_object_id), "committed": _BOOL}))}),
                 min_items=1)
_INPUTS = _list(_object({"path": _TEXT, "sha256": _sha256, "format": _TEXT, "encoding": _TEXT,
                         "rows_read": _count, "rows_rejected": _count},
                        # a query (format "sql") also records its server and the SHA-256 of its rows
                        {"sheet": _TEXT, "source": _TEXT, "server": _TEXT, "rows_sha256": _sha256}),
                min_items=1)
_MANIFEST = _object({
    "format": _TEXT,
    "engine": _ENGINE,
    "schemes": _SCHEMES,
    "inputs": _INPUTS,
    "rows": _object({"read": _count, "scored": _count, "rejected": _count}),
    "subjects": _count,
    "group_by": _TEXTS,
    "grades": _mapping(_TEXT, _count),
    "options": _object({}, {"by": _or_null(_TEXTS), "engine": _or_null(_TEXT), "encoding": _or_null(_TEXT),
                            "max_rejects": _or_null(_TEXT), "as_of": _or_null(_date),
                            "scheme_path": _or_null(_TEXT), "data": _TEXTS, "formats": _TEXTS,
                            "sheet": _or_null(_TEXT), "allow_empty": _BOOL, "allow_missing_columns": _BOOL,
                            "pseudonymise_key_id": _key_id, "language": _TEXT}),
    "outputs": _mapping(_file_name, _sha256),
}, {
    # a scheme with several record sources: rows read = scored + rejected for each
    "sources": _mapping(_TEXT, _object({"read": _count, "scored": _count, "rejected": _count})),
    # personal fields: policy by source and field, and the id of the pseudonymisation key
    "privacy": _PRIVACY,
})

# An inspection sample (`qualiscore sample`): the scheme and inputs as a run's, the period, the outputs.
_SAMPLE_MANIFEST = _object({
    "format": _TEXT,
    "engine": _ENGINE,
    "schemes": _SCHEMES,
    "inputs": _INPUTS,
    "period": _TEXT,
    "rows": _object({"read": _count, "rejected": _count, "in_period": _count, "sampled": _count}),
    "options": _object({}, {"pseudonymise_key_id": _key_id, "language": _TEXT}),
    "outputs": _mapping(_file_name, _sha256),
}, {"privacy": _PRIVACY})

# --------------------------------------------------------------------------- files the manifest names


def find_recorded(path: str, digest: str | None, outdir: Path) -> tuple[Path | None, str]:
    """The scheme or input file a manifest names, only while its SHA-256 is the recorded one; else None and why.

    A relative path is looked for from the current directory, then beside the output directory.
    """
    p = Path(path)
    candidates = [p] if p.is_absolute() else list(dict.fromkeys([Path.cwd() / p, outdir.resolve().parent / p]))
    seen = False
    for c in candidates:
        if c.is_file():
            seen = True
            if digest is None or sha256_file(c) == digest:
                return c, ""
    return None, _("changed since the run (SHA-256 differs)") if seen else _("not found")


# --------------------------------------------------------------------------- reports written after the run

_REPORTS = _object({"format": _TEXT, "manifest_sha256": _sha256, "reports": _mapping(_file_name, _sha256)})


def read_reports(outdir: str | Path) -> dict[str, Any] | None:
    """``reports.json`` of ``outdir`` checked (None when there is none); DamagedOutputError when damaged."""
    path = Path(outdir) / REPORTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedOutputError(_("cannot read {path}: {reason}", path=path, reason=exc),
                                 location=Location(str(path)), hint=_(_DAMAGED_HINT)) from None
    data = parse_json(text, path)
    _REPORTS(data, "", path)
    if data["format"] != REPORTS_FORMAT:
        _damaged(path, "/format", repr(REPORTS_FORMAT), data["format"])
    return dict(data)


def record_report(outdir: str | Path, name: str, data: bytes) -> None:
    """Record in ``outdir/reports.json`` that ``name`` (just written there) is a report of this run.

    The record names the manifest's SHA-256, so a report of an earlier run in the same
    place is not taken for one of this run; entries for another manifest are dropped.
    """
    out = Path(outdir)
    manifest = sha256_file(out / MANIFEST)
    try:
        old = read_reports(out)
    except DamagedOutputError:
        old = None  # rewritten whole below
    reports = dict(old["reports"]) if old is not None and old["manifest_sha256"] == manifest else {}
    reports[name] = sha256_bytes(data)
    record = {"format": REPORTS_FORMAT, "manifest_sha256": manifest, "reports": dict(sorted(reports.items()))}
    write_file_atomically(out / REPORTS_FILE, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def write_file_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` through a synced temporary file beside it, so readers see the old or the new bytes."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
