"""Reading records: files or in-memory rows in, one typed Dataset out."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, Location, UsageError
from ..i18n import _
from .collect import Collector, type_mapping
from .excel import Workbook, read_xlsx
from .fields import Typer
from .inputs import KNOWN_FORMATS, check_file, hash_file, input_format, scan_text, split_sheet
from .results import Dataset, Problem, clip_value
from .tables import read_parquet
from .text import read_csv, read_jsonl
from .values import json_kind

if TYPE_CHECKING:
    from ..model import RecordContract


def read_records(
    paths: Sequence[str | Path] | str | Path,
    contract: RecordContract,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    unique_with: str | None = None,
) -> Dataset:
    """Read CSV/TSV/JSONL, Excel (.xlsx) and Parquet files and type every row against ``contract``.

    Rows that break the contract are in ``Dataset.problems``, never dropped; what
    cannot be read at all raises :class:`DataError`. ``encoding`` forces a codec
    (strictly) for text files; without it UTF-8 (BOM or not) is used when the bytes
    decode as UTF-8, else GB18030 (a superset of GBK, as Excel writes in China).

    ``sheet`` names the worksheet of Excel inputs (default: the first one); a path
    may also choose its own, ``book.xlsx#Sheet1``. Parquet needs polars
    (``qualiscore[fast]``), Excel needs openpyxl (``qualiscore[excel]``).

    ``unique_with`` names a field that joins the id in the duplicate check, so an id may
    repeat once per value of it (one row per record and reviewer); rows rejected for
    another reason then take no part in that check.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    typer = Typer(contract)
    out = Collector(typer, unique_with)
    inputs: list[tuple[str, str, str, str, int, str | None]] = []
    seen: dict[tuple[str, str | None], str] = {}
    workbooks = 0

    def claim(key: tuple[str, str | None], source: str) -> None:
        if key in seen:
            raise DataError(
                _("is the same file as {other!r} (sheet {sheet!r})", other=seen[key], sheet=key[1])
                if key[1] is not None else _("is the same file as {other!r}", other=seen[key]),
                location=Location(source),
                hint=_("pass each input file (or sheet) once"),
                code="duplicate-input",
            )
        seen[key] = source

    for p in paths:
        source = str(p)
        path, sheet_in_path = split_sheet(p)
        check_file(path, source)
        fmt = input_format(path, source)
        real = os.path.realpath(path)
        if sheet_in_path is not None and fmt != "xlsx":  # cannot happen: split only after .xlsx
            raise DataError(_("a sheet can only be chosen in an Excel workbook"), location=Location(source),
                            code="format")
        try:
            if fmt == "xlsx":
                workbooks += 1
                sha, _head = hash_file(path)
                book = Workbook(path, source, sheet_in_path if sheet_in_path is not None else sheet)
                try:
                    title = book.sheet.title
                    claim((real, title), source)
                    out.sources.append(source)
                    read = read_xlsx(book, source, out)
                finally:
                    book.close()
                inputs.append((source, sha, "xlsx", "", read, title))
                continue
            claim((real, None), source)
            out.sources.append(source)
            if fmt == "parquet":
                sha, head = hash_file(path)
                if head != b"PAR1":
                    raise DataError(
                        _("is not a Parquet file (it does not start with PAR1)"),
                        location=Location(source),
                        hint=_("check the file; qualiscore reads {formats} files", formats=_(KNOWN_FORMATS)),
                        code="format",
                    )
                read = read_parquet(path, source, out)
                inputs.append((source, sha, "parquet", "", read, None))
                continue
            sha, codec = scan_text(path, source, encoding)
            if fmt in ("csv", "tsv"):
                read = read_csv(path, source, codec, fmt == "tsv", out)
                inputs.append((source, sha, "csv", codec, read, None))
            else:
                read = read_jsonl(path, source, codec, fmt == "json", out)
                inputs.append((source, sha, "jsonl", codec, read, None))
        except UnicodeDecodeError as exc:  # only if the file changed between scan and read
            raise DataError(
                _("cannot be decoded: {error}", error=exc),
                location=Location(source),
                hint=_("pass --encoding with the file's real encoding"),
                code="encoding",
            ) from None
        except OSError as exc:
            raise DataError(
                _("cannot be read: {error}", error=exc.strerror or exc),
                location=Location(source),
                hint=_("check the file's permissions"),
                code="unreadable",
            ) from None
    if sheet is not None and not workbooks:
        raise UsageError(
            _("sheet {sheet!r} was given, but no input is an Excel workbook", sheet=sheet),
            hint=_("a sheet applies to .xlsx inputs only; leave it out for CSV, JSONL and Parquet"),
        )
    return out.finish(inputs)


def records_from_dicts(
    rows: Sequence[Mapping[str, Any]],
    contract: RecordContract,
    *,
    source: str = "<inline>",
) -> Dataset:
    """Type in-memory records (scheme fixture tests, library callers) by the JSONL rules.

    Values may be JSON-typed or text; ``datetime``/``date``/``timedelta`` objects are
    accepted too. Row numbers are 1-based positions.
    """
    rows = list(rows)
    typer = Typer(contract)
    out = Collector(typer)
    out.sources.append(source)
    read = 0
    for index, obj in enumerate(rows, 1):
        read += 1
        if not isinstance(obj, Mapping):
            out.problems.append(
                Problem(
                    source,
                    index,
                    None,
                    None,
                    clip_value(obj),
                    "not-an-object",
                    _("record {index} is {kind}, not a mapping of field names to values", index=index, kind=json_kind(obj)),
                )
            )
            continue
        type_mapping(obj, source, index, out)
    return out.finish([(source, _inline_digest(rows), "inline", "", read, None)])


def records_from_table(data: Any, contract: RecordContract) -> Dataset:
    """Type a table in memory (a DataFrame, Arrow data: see records.arrow) as a Parquet file is typed.

    Its row numbers are 1-based positions in the table; its input is named ``<memory>``,
    format ``arrow``, with the SHA-256 of its Arrow IPC stream. Needs polars.
    """
    from .arrow import FORMAT, table_of
    from .tables import read_frame

    table = table_of(data)
    out = Collector(Typer(contract))
    out.sources.append(table.name)
    read = read_frame(table.frame, table.name, out)
    return out.finish([(table.name, table.sha256, FORMAT, "", read, None)])


def _inline_digest(rows: Sequence[Any]) -> str:
    try:
        text = json.dumps(list(rows), sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(rows)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
