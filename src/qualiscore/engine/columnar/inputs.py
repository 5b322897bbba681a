"""What a run reads (:class:`Inputs`), and each input file: how it is read, its header, codec, SHA-256 and first values."""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._polars import pl
from ...errors import DataError, Location
from ...i18n import _
from ...model import RecordContract
from ...options import RunOptions
from ...records import Dataset
from ...records.arrow import FORMAT as TABLE_FORMAT
from ...records.arrow import Table, table_of
from ...records.engine_api import (
    KNOWN_FORMATS,
    Typer,
    check_file,
    column_index,
    input_format,
    scan_text,
    split_sheet,
)
from ..lookups import DatasetRows
from ..protocol import ArrowStream, Source, source_paths
from ..rows import reader

if TYPE_CHECKING:
    from .reader import ColumnarData

log = logging.getLogger(__name__)

FIELD_SIZE_LIMIT = 131072  # csv.field_size_limit() default: a longer cell makes csv raise
_CHUNK = 1 << 22


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a run reads: input files (``paths``), a table in memory (``table``), or a Dataset.

    ``read`` types them against a record contract as the reference engine reads them: it
    is how a Dataset reaches the columnar query, and how the reference code reads
    anything when the engine falls back to it. A table in memory is read as a Parquet
    file is, its frame in place of the file.
    """

    paths: tuple[str, ...] | None
    read: Callable[[RecordContract], Dataset]
    encoding: str | None = None
    sheet: str | None = None
    table: Table | None = None
    typed: ColumnarData | None = None  # rows typed already (a source joined by a lookup)

    @classmethod
    def of(cls, source: Source, options: RunOptions, *, personal: bool = False) -> Inputs:
        """``personal``: a contract declares personal fields, so files and tables are read by the records
        package, de-identified (privacy.protect), and scored as a Dataset is: no raw value reaches a frame."""
        from .reader import ColumnarData

        if isinstance(source, ColumnarData):
            typed = source
            return cls(None, lambda _contract: typed.to_dataset(), typed=typed)
        if isinstance(source, DatasetRows):
            source = source.dataset
        table = table_of(source) if isinstance(source, ArrowStream) else None
        read = reader(table if table is not None else source, options)
        if personal:
            return cls(None, read, options.encoding, options.sheet)
        return cls(source_paths(source), read, options.encoding, options.sheet, table)


@dataclass
class Input:
    """One input file and how it is read."""

    index: int
    source: str  # as given (Problem.source)
    path: str
    fmt: str  # csv | tsv | jsonl | json | parquet | arrow (a table in memory)
    route: str = ""  # lines | parquet | python
    codec: str = "utf-8"
    read_path: str = ""  # what polars reads (a transcoded UTF-8 copy for other encodings)
    sha: str = ""
    header: list[str] = field(default_factory=list)
    header_line: int = 0  # 0-based line index of the header
    delim: str = ","
    ncols: int = 0
    cells: dict[str, int | None] = field(default_factory=dict)  # field -> header cell (None: missing)
    columns: dict[str, str | None] = field(default_factory=dict)  # field -> Parquet column
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    rows_read: int = 0
    missing: list[str] = field(default_factory=list)  # nullable fields without a column
    header_delims: int = 0  # delimiters in the header line (and blank lines above it)
    frame: pl.DataFrame | None = None  # a table in memory, read in place of a Parquet file

    @classmethod
    def of_table(cls, table: Table) -> Input:
        return cls(0, table.name, table.name, TABLE_FORMAT, sha=table.sha256, frame=table.frame)

    @property
    def kind(self) -> str:
        return "jsonl" if self.fmt in ("jsonl", "json") else "parquet" if self.fmt in ("parquet", TABLE_FORMAT) \
            else "csv"

    def scan(self) -> pl.LazyFrame:
        """The typed columns of a Parquet file or a table in memory."""
        return self.frame.lazy() if self.frame is not None else pl.scan_parquet(self.path)


class Hasher:
    """SHA-256 of the inputs, computed in a background thread while Polars reads them."""

    def __init__(self, inputs: Sequence[Input]) -> None:
        self.digests: dict[int, str] = {}
        self.errors: dict[int, BaseException] = {}
        # For the Polars CSV route: (delimiters, quote seen, lone CR seen, NUL seen) of the whole file.
        self.stats: dict[int, tuple[int, bool, bool, bool]] = {}
        self._todo = [i for i in inputs if not i.sha or i.route == "csv"]
        self._thread = threading.Thread(target=self._run, name="qualiscore-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for inp in self._todo:
            h = hashlib.sha256()
            counting = inp.route == "csv"
            hashing = not inp.sha
            # A transcoded input is counted in its UTF-8 copy (its digest is known already).
            path = inp.path if hashing else inp.read_path
            delim = inp.delim.encode("utf-8")
            delims, quote, cr, crlf, nul = 0, False, 0, 0, False
            tail = b""
            try:
                with open(path, "rb") as f:
                    while True:
                        chunk = f.read(_CHUNK)
                        if not chunk:
                            break
                        if hashing:
                            h.update(chunk)
                        if counting:
                            delims += chunk.count(delim)
                            quote = quote or b'"' in chunk
                            nul = nul or b"\x00" in chunk
                            if b"\r" in chunk:
                                joined = tail + chunk
                                cr += chunk.count(b"\r")
                                crlf += joined.count(b"\r\n") - tail.count(b"\r\n")
                            tail = chunk[-1:]
            except OSError as exc:
                self.errors[inp.index] = exc
                continue
            if hashing:
                self.digests[inp.index] = h.hexdigest()
            if counting:
                self.stats[inp.index] = (delims, quote, cr != crlf, nul)

    def join(self) -> None:
        self._thread.join()

    def finish(self, inputs: Sequence[Input]) -> None:
        self._thread.join()
        for inp in inputs:
            if inp.index in self.errors:
                exc = self.errors[inp.index]
                raise DataError(_("cannot be read: {error}", error=getattr(exc, 'strerror', None) or exc),
                                location=Location(inp.source), hint=_("check the file's permissions"),
                                code="unreadable")
            if not inp.sha and inp.index in self.digests:
                inp.sha = self.digests[inp.index]


class Workspace:
    """Temporary files (transcoded copies) of one run."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def path(self, name: str) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="qualiscore-")
        return os.path.join(self._dir.name, name)

    def close(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class WholeDataset(Exception):
    """Inputs the columnar reader leaves to the records package as a whole (records in hand, Excel, sheets)."""


def prepare_inputs(paths: Sequence[str | Path] | str | Path, encoding: str | None) -> list[Input]:
    """The checks records.read_records makes before reading, in the same order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    inputs: list[Input] = []
    seen: dict[str, str] = {}
    for k, p in enumerate(paths):
        source = str(p)
        path, _sheet = split_sheet(p)
        try:
            check_file(path, source)
            fmt = input_format(path, source)
            if fmt == "xlsx":
                raise WholeDataset(source)
            key = os.path.realpath(path)
            if key in seen:
                raise DataError(_("is the same file as {other!r}", other=seen[key]), location=Location(source),
                                hint=_("pass each input file (or sheet) once"), code="duplicate-input")
        except DataError:
            # The reference reads (and may refuse) the earlier files before it checks this one.
            for earlier in inputs:
                if earlier.fmt == "parquet":
                    check_parquet(earlier)
                else:
                    scan_text(earlier.path, earlier.source, encoding)
            raise
        seen[key] = source
        inputs.append(Input(k, source, path, fmt, read_path=path))
    return inputs


def check_parquet(inp: Input) -> None:
    """The refusals of records.tables.read_parquet: not a Parquet file, a damaged footer."""
    if inp.frame is not None:
        inp.schema = dict(inp.frame.schema)
        return
    with open(inp.path, "rb") as f:
        head = f.read(4)
    if head != b"PAR1":
        raise DataError(_("is not a Parquet file (it does not start with PAR1)"), location=Location(inp.source),
                        hint=_("check the file; qualiscore reads {formats} files", formats=_(KNOWN_FORMATS)), code="format")
    try:
        inp.schema = dict(pl.read_parquet_schema(inp.path))
    except OSError:
        raise
    except Exception as exc:
        raise DataError(_("cannot be read as Parquet: {kind}: {error}", kind=type(exc).__name__, error=exc), location=Location(inp.source),
                        hint=_("write the file again (it may be truncated), or export the records as CSV UTF-8"),
                        code="unreadable") from None


def sniff_codec(inp: Input, encoding: str | None, work: Workspace) -> None:
    """Pick the codec; UTF-8 is confirmed later by Polars (or by records.inputs.scan_text when it is not)."""
    if encoding is not None:
        inp.sha, inp.codec = scan_text(inp.path, inp.source, encoding)
    else:
        with open(inp.path, "rb") as f:
            head = f.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            inp.sha, inp.codec = scan_text(inp.path, inp.source, None)
        else:
            inp.codec = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if inp.codec not in ("utf-8", "utf-8-sig"):
        transcode(inp, work)


def transcode(inp: Input, work: Workspace) -> None:
    """Write a UTF-8 copy of a text file in another encoding (the rows and bytes of lines stay the same)."""
    target = work.path(f"input-{inp.index}.txt")
    decoder = codecs.getincrementaldecoder(inp.codec)("strict")
    with open(inp.path, "rb") as src, open(target, "wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            dst.write(text.encode("utf-8", "surrogatepass"))
            if not chunk:
                break
    log.debug("%s: transcoded from %s to a temporary UTF-8 file", inp.source, inp.codec)
    inp.read_path = target


def read_csv_header(inp: Input, typer: Typer) -> bool:
    """Read the header like records.text.read_csv; False if the file needs the row-by-row reader."""
    with open(inp.read_path, encoding="utf-8-sig" if inp.read_path == inp.path else "utf-8", newline="") as f:
        first = f.readline()
        skipped = 0
        while first and not first.strip():
            first = f.readline()
            skipped += 1
        if not first:
            raise DataError(_("is empty: a CSV file needs a header row naming its columns"),
                            location=Location(inp.source, line=1),
                            hint=_("export the data with column headers in the first row"), code="empty")
    if inp.fmt == "tsv":
        delim = "\t"
    elif "," not in first and ("\t" in first or ";" in first):
        delim = "\t" if first.count("\t") >= first.count(";") else ";"
    else:
        delim = ","
    if first.endswith("\r"):
        return False  # a lone carriage return ends the line: the row-by-row reader splits such files
    line = first.rstrip("\n")
    if line.endswith("\r"):
        line = line[:-1]
    if '"' in line or "\r" in line or "\x00" in line or len(line) > FIELD_SIZE_LIMIT:
        return False
    header = line.split(delim)
    if not any(header):
        return False
    if header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    inp.header, inp.delim, inp.header_line, inp.ncols = header, delim, skipped, len(header)
    inp.header_delims = first.count(delim)
    for fr in typer.readers:
        idx = column_index(header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(idx, location=Location(inp.source, line=skipped + 1, field=fr.name),
                            hint=_("rename one of the columns so each field reads exactly one"),
                            code="ambiguous-column")
        inp.cells[fr.name] = idx
        if idx is None and fr.nullable:
            inp.missing.append(fr.name)
    return True


SAMPLE_ROWS = 2000


def sample_columns(inp: Input) -> dict[str, list[Any]]:
    """The first values of each field's column (they only choose expressions, never answers)."""
    out: dict[str, list[Any]] = {}
    try:
        if inp.kind == "csv":
            with open(inp.read_path, encoding="utf-8-sig" if inp.read_path == inp.path else "utf-8",
                      errors="replace", newline="") as f:
                for _ in range(inp.header_line + 1):
                    f.readline()
                rows = [f.readline().rstrip("\r\n").split(inp.delim) for _ in range(SAMPLE_ROWS)]
            for name, idx in inp.cells.items():
                if idx is not None:
                    out[name] = [r[idx] for r in rows if idx < len(r)]
        elif inp.kind == "parquet":
            cols = sorted({c for c in inp.columns.values() if c is not None})
            head = None if not cols else inp.frame.select(cols).head(SAMPLE_ROWS) if inp.frame is not None \
                else pl.read_parquet(inp.path, columns=cols, n_rows=SAMPLE_ROWS)
            for name, col in inp.columns.items():
                if col is not None and head is not None:
                    out[name] = head.get_column(col).to_list()
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return {}
    return out


def parquet_columns(inp: Input, typer: Typer) -> None:
    """The column plan of records.tables.read_parquet over the Parquet schema: each field's column (exact header, else trimmed)."""
    check_parquet(inp)
    inp.header = list(inp.schema)
    inp.ncols = len(inp.header)
    for fr in typer.readers:
        idx = column_index(inp.header, fr.source, fr.name)
        if isinstance(idx, str):
            raise DataError(idx, location=Location(inp.source, line=None, field=fr.name),
                            hint=_("rename one of the columns so each field reads exactly one"),
                            code="ambiguous-column")
        inp.cells[fr.name] = idx
        inp.columns[fr.name] = None if idx is None else inp.header[idx]
        if idx is None and fr.nullable:
            inp.missing.append(fr.name)
    # Decimals become floats, as records.tables.read_parquet reads them.
    inp.schema = {k: (pl.Float64() if v.is_decimal() else v) for k, v in inp.schema.items()}
