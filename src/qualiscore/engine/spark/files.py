"""The input files of a Spark run: files, directories and globs, local or any URI the cluster's Spark reads.

Each argument is expanded in the order given: a file is itself; a directory is every
readable file beneath it (``.csv``, ``.parquet``, …; names starting with ``_`` or ``.``,
such as ``_SUCCESS``, left out, as Spark leaves them); a glob is its readable matches. Files
under one argument are sorted by name, so the inputs, their order and the names rejects
and the manifest give them are the same on every run. A local file is named as the
argument names it (relative stays relative); a file of a URI (``hdfs://``, ``s3a://``)
by its URI as Spark lists it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import DataError, Location
from ...i18n import _
from ...records.engine_api import check_file, input_format
from ...records.inputs import split_sheet

_GLOB = set("*?[{")


@dataclass(frozen=True, slots=True)
class Listed:
    """One input file: ``name`` as problems and the manifest give it, ``uri`` as Spark reads it."""

    name: str
    uri: str


def expand(spark: Any, paths: Sequence[str]) -> list[Listed]:
    """Every input file of ``paths``, in order; DataError (``file-not-found``) for an argument that names none."""
    out: list[Listed] = []
    for arg in paths:
        out.extend(_remote(spark, arg) if "://" in arg else _local(arg))
    seen: dict[str, str] = {}
    for item in out:
        key = os.path.realpath(split_sheet(item.name)[0]) if "://" not in item.name else item.uri
        if key in seen:
            raise DataError(_("is the same file as {other!r}", other=seen[key]), location=Location(item.name),
                            hint=_("pass each input file (or sheet) once"), code="duplicate-input")
        seen[key] = item.name
    return out


def local_path(uri: str) -> str | None:
    """The local path of a ``file:`` URI as Spark writes it (``file:/a/b``), else None."""
    if not uri.startswith("file:"):
        return None
    rest = uri[len("file:"):]
    while rest.startswith("//"):
        rest = rest[1:]
    return rest


def _local(arg: str) -> list[Listed]:
    path = split_sheet(arg)[0]
    if os.path.isfile(path):
        return [Listed(arg, _uri(path))]
    if os.path.isdir(path):
        found = sorted(os.path.join(top, name) for top, dirs, names in os.walk(path)
                       for name in names if _readable(name) and not _hidden(os.path.relpath(top, path)))
    elif _GLOB & set(arg):
        found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p) and _readable(os.path.basename(p)))
    else:
        check_file(path, arg)  # no such file
        found = []
    if not found:
        raise DataError(_("names no readable records file"), location=Location(arg), code="file-not-found",
                        hint=_("a directory or glob must hold .csv, .tsv, .jsonl, .xlsx or .parquet files"))
    return [Listed(p, _uri(p)) for p in found]


def _remote(spark: Any, arg: str) -> list[Listed]:
    from pyspark.errors import AnalysisException

    try:
        rows = (spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(arg)
                .select("path").collect())
    except AnalysisException as exc:
        raise DataError(_("cannot be listed: {error}", error=str(exc).splitlines()[0]), location=Location(arg),
                        code="file-not-found", hint=_("check the URI and the cluster's access to it")) from None
    found = sorted(r.path for r in rows if _readable(r.path.rsplit("/", 1)[-1]))
    if not found:
        raise DataError(_("names no readable records file"), location=Location(arg), code="file-not-found",
                        hint=_("a directory or glob must hold .csv, .tsv, .jsonl, .xlsx or .parquet files"))
    return [Listed(p, p) for p in found]


def _readable(name: str) -> bool:
    if _hidden(name):
        return False
    try:
        input_format(name, name)
    except DataError:
        return False
    return True


def _hidden(name: str) -> bool:
    return any(part.startswith(("_", ".")) and part not in (".", "..") for part in name.split(os.sep))


def _uri(path: str) -> str:
    return "file:" + os.path.abspath(path)


def file_hashes(spark: Any, uris: Sequence[str]) -> dict[str, str | None]:
    """The SHA-256 of each file, computed by the executors that read it (None: the file cannot be read)."""
    import hashlib

    import pyarrow as pa
    from pyspark.errors import AnalysisException

    def each(batches: Any) -> Any:
        for batch in batches:
            paths, contents = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            yield pa.record_batch([pa.array(paths), pa.array([hashlib.sha256(c).hexdigest() for c in contents])],
                                  names=["path", "sha256"])

    found: dict[str, str | None] = {}
    for uri in uris:  # one at a time: a missing file fails only its own listing
        try:
            files = spark.read.format("binaryFile").load(uri)
            listed = files.inputFiles()
            rows = files.select("path", "content").mapInArrow(each, "path string, sha256 string").collect()
        except AnalysisException:
            listed, rows = [], []
        # Spark lists an empty file but plans no task to read it.
        found[uri] = rows[0].sha256 if len(rows) == 1 else hashlib.sha256(b"").hexdigest() if len(listed) == 1 \
            else None
    return found
