"""Extra output formats of a run: a Parquet table of scorecards and an Excel workbook.

Both are optional (``evaluate --format parquet --format xlsx``) and, like every other
output, deterministic: the same run gives the same bytes, so they can be hashed in the
manifest and checked by ``verify``.

* ``scorecards.parquet`` (polars): one row per scorecard, the columns of
  scorecards.csv with native types (score and points as rounded floats, indicator
  values as numbers, booleans or text, vetoes as a list of ids). Written with fixed
  compression and no column statistics; Parquet holds no timestamps.
* ``scorecards.xlsx`` (openpyxl, write-only, streamed): sheets ``summary`` (run facts and
  the grade distribution), ``scorecards`` (flat, as scorecards.csv), ``indicators``
  (one row per subject and indicator, rounded as in scorecards.jsonl, contributions
  adding up to the score), ``rejects`` (as rejects.csv) and ``manifest`` (key/value
  rows). Text cells are stored as text and protected against formula injection as in
  the CSV outputs (:func:`qualiscore.scorecard.safe_cell`: text starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR gets a leading ``'``). The document properties carry a
  fixed date and the zip entries a fixed date, attributes and order.

The workbook's ``manifest`` sheet shows the manifest as it stands before the workbook
is added: a file cannot hold its own hash. The run's manifest.json lists the workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ._plain import is_number
from .errors import UsageError
from .provenance import manifest_dict, sha256_bytes
from .scorecard import Scorecard, quantize, safe_cell, scorecard_dict

if TYPE_CHECKING:
    from .engine import Run

__all__ = [
    "FORMAT_FILES",
    "deterministic_zip",
    "explain_difference",
    "indicator_ids",
    "key_columns",
    "render_formats",
    "scorecards_parquet",
    "workbook_xlsx",
]

# `evaluate --format` choice -> output file name.
FORMAT_FILES = {"parquet": "scorecards.parquet", "xlsx": "scorecards.xlsx"}

FIXED_TIME = dt.datetime(2000, 1, 1)  # document properties of every workbook written
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
PARQUET_COMPRESSION = "zstd"
PARQUET_LEVEL = 3
PARQUET_ROW_GROUP = 65_536
MAX_CELL_TEXT = 32_767  # Excel's limit on the characters of one cell
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0 (openpyxl refuses them)


# --------------------------------------------------------------------------- shared


def _polars() -> Any:
    try:
        from ._polars import pl as polars
    except ImportError:
        from ._install import install_hint

        raise UsageError("writing Parquet needs the polars package, which is not installed",
                         hint=install_hint("fast")) from None
    return polars


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        from ._install import install_hint

        raise UsageError("writing an Excel workbook needs the openpyxl package, which is not installed",
                         hint=install_hint("excel")) from None
    return openpyxl


def indicator_ids(run: Run) -> list[str]:
    """The indicators of every version of the run, each once, in order: the columns of the scorecard tables."""
    return list(dict.fromkeys(i.id for s in run.schemes for i in s.indicators))


def key_columns(group_by: Sequence[str]) -> list[str]:
    """Column names of the subject keys in a typed table; a key named like a fixed column is ``key.<name>``."""
    return [f"key.{g}" if g in _FIXED else g for g in group_by]


def _finite(x: Any) -> Any:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def _rounded(x: float | None, decimals: int) -> float | None:
    q = quantize(_finite(x), decimals)
    return None if q is None else float(q)


def _plain(v: Any) -> Any:
    """An indicator value as a JSON-like scalar (dates as ISO text, non-finite as null)."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    return _finite(v)


_FIXED = ("subject", "period", "scheme_version", "records", "score", "grade", "decided_by", "vetoes")


# --------------------------------------------------------------------------- Parquet


def scorecards_parquet(run: Run) -> bytes:
    """One row per scorecard: subject, keys, period, scheme_version, records, score, grade,
    decided_by, vetoes, stability, uncertain, then ``<id>.value``, ``.low``, ``.high`` and ``.points``."""
    pl = _polars()
    cards = run.scorecards
    group = list(run.group_by)
    keys = key_columns(group)
    ids = indicator_ids(run)
    data: dict[str, list[Any]] = {
        "subject": [c.subject for c in cards],
        **{k: [c.keys.get(g) for c in cards] for k, g in zip(keys, group)},
        "period": [c.period for c in cards],
        "scheme_version": [c.scheme_version for c in cards],
        "records": [c.records for c in cards],
        "score": [_rounded(c.score, c.decimals) for c in cards],
        "grade": [c.grade for c in cards],
        "decided_by": [c.decided_by for c in cards],
        "vetoes": [[v.id for v in c.vetoes] for c in cards],
        "stability": [c.stability for c in cards],
        "uncertain": [c.uncertain for c in cards],
    }
    schema: dict[str, Any] = {
        "subject": pl.String, **dict.fromkeys(keys, pl.String), "period": pl.String,
        "scheme_version": pl.String, "records": pl.Int64, "score": pl.Float64, "grade": pl.String,
        "decided_by": pl.String, "vetoes": pl.List(pl.String), "stability": pl.Float64, "uncertain": pl.Boolean,
    }
    by_card = [{i.id: i for i in c.indicators} for c in cards]
    for iid in ids:
        found = [by.get(iid) for by in by_card]
        values = [None if i is None else _plain(i.value) for i in found]
        data[f"{iid}.value"], schema[f"{iid}.value"] = _typed_column(pl, values)
        for end, name in enumerate(("low", "high")):
            data[f"{iid}.{name}"] = [None if i is None or i.interval is None else i.interval[end] for i in found]
            schema[f"{iid}.{name}"] = pl.Float64
        data[f"{iid}.points"] = [None if i is None else _rounded(i.points, c.decimals) for i, c in zip(found, cards)]
        schema[f"{iid}.points"] = pl.Float64
    frame = pl.DataFrame(data, schema=schema)
    buf = io.BytesIO()
    frame.write_parquet(buf, compression=PARQUET_COMPRESSION, compression_level=PARQUET_LEVEL, statistics=False,
                        row_group_size=PARQUET_ROW_GROUP, use_pyarrow=False)
    return buf.getvalue()


def _typed_column(pl: Any, values: list[Any]) -> tuple[list[Any], Any]:
    """The column's values and dtype: booleans, integers, numbers, else text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return values, pl.Boolean
    if all(is_number(v) for v in present):
        if present and all(isinstance(v, int) for v in present) and all(-2**63 <= v < 2**63 for v in present):
            return values, pl.Int64
        return [None if v is None else float(v) for v in values], pl.Float64
    return [None if v is None else _as_text(v) for v in values], pl.String


def _as_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


# --------------------------------------------------------------------------- Excel


def workbook_xlsx(run: Run, manifest: Mapping[str, Any]) -> bytes:
    """The run as an Excel workbook: summary, scorecards, indicators, rejects, manifest."""
    openpyxl = _openpyxl()
    book = _Book(openpyxl.Workbook(write_only=True))
    sheet, rows = book.sheet, book.rows

    decimals = max((c.decimals for c in run.scorecards), default=2)
    fixed = "0." + "0" * decimals if decimals > 0 else "0"

    # summary: run facts, then the grade distribution
    ws = sheet("summary", (28, 60, 12))
    rows(ws, ("item", "value", "count"), _summary_rows(run, manifest))

    # scorecards: flat, like scorecards.csv (numbers as numbers)
    group = list(run.group_by)
    ids = indicator_ids(run)
    header = ["subject", *group, "period", "scheme_version", "records", "score", "grade", "decided_by", "vetoes"]
    for iid in ids:
        header += [f"{iid}.value", f"{iid}.points"]
    score_at = header.index("score", 1 + len(group))
    points_at = {n for n, h in enumerate(header) if n > score_at and h.endswith(".points")}
    ws = sheet("scorecards", [16, *[12] * len(group), 10, 14, 9, 9, 10, 22, 16, *[12] * (2 * len(ids))])
    rows(ws, header, _scorecard_rows(run.scorecards, group, ids),
         {score_at: fixed, **dict.fromkeys(points_at, fixed)})

    # indicators: one row per subject and indicator
    ind_header = ["subject", "dimension", "indicator", "name", "value", "numerator", "denominator", "sample",
                  "skipped", "status", "reason", "rule", "points", "weight", "effective_weight", "contribution"]
    ws = sheet("indicators", (16, 14, 18, 18, 12, 11, 11, 8, 8, 14, 30, 24, 9, 8, 15, 12))
    rows(ws, ind_header, _indicator_rows(run.scorecards),
         {ind_header.index("points"): fixed, ind_header.index("contribution"): fixed})

    # rejects: as rejects.csv
    ws = sheet("rejects", (28, 7, 16, 18, 20, 16, 70))
    rows(ws, ("source", "row", "record_id", "field", "value", "code", "reason"),
         ((p.source, p.row, p.record_id, p.field, p.value, p.code, p.reason) for p in run.problems))

    # manifest: key/value rows
    ws = sheet("manifest", (40, 70))
    rows(ws, ("key", "value"), _flatten(manifest))

    return book.saved()


def sheets_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """Plain sheets (title, header, rows) as a workbook: text stays text, the bytes depend on the content alone."""
    book = _Book(_openpyxl().Workbook(write_only=True))
    for title, header, body in sheets:
        book.rows(book.sheet(title, [16] * len(header)), header, body)
    return book.saved()


class _Book:
    """A write-only workbook of sheets with a bold header row; saved deterministically."""

    def __init__(self, wb: Any) -> None:
        from openpyxl.styles import Font

        self.wb = wb
        self.bold = Font(bold=True)

    def sheet(self, title: str, widths: Sequence[float]) -> Any:
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(title)
        for n, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = "A2"
        return ws

    def cell(self, ws: Any, value: Any, number_format: str | None = None, *, header: bool = False) -> Any:
        from openpyxl.cell import WriteOnlyCell

        value = _finite(value)
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        if value is not None and not isinstance(value, (bool, int, float, str)):
            value = str(value)
        if isinstance(value, str):
            c = WriteOnlyCell(ws, value=_excel_text(value))
            c.data_type = "s"  # text, never a formula
        else:
            c = WriteOnlyCell(ws, value=value)
            if number_format and is_number(value):
                c.number_format = number_format
        if header:
            c.font = self.bold
        return c

    def rows(self, ws: Any, header: Sequence[str], body: Iterable[Sequence[Any]],
             formats: Mapping[int, str] | None = None) -> None:
        ws.append([self.cell(ws, h, header=True) for h in header])
        fmt = formats or {}
        for row in body:
            ws.append([self.cell(ws, v, fmt.get(n)) for n, v in enumerate(row)])

    def saved(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return deterministic_zip(buf.getvalue(), {"docProps/core.xml": _core_xml()})


def _excel_text(text: str) -> str:
    """Text for a cell: formula-looking text quoted (as in the CSV outputs), XML-illegal
    control characters written as ``\\xNN``, at most Excel's 32,767 characters."""
    text = safe_cell(text)
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def _summary_rows(run: Run, manifest: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    engine = manifest.get("engine", {})
    yield ("engine", f"{engine.get('name', 'qualiscore')} {engine.get('version', '')}".strip(), None)
    for s in manifest.get("schemes", []):
        yield ("scheme", f"{s.get('id')} {s.get('version')}", s.get("scorecards"))
        yield ("scheme sha256", s.get("sha256"), None)
        yield ("scheme in force", f"{s.get('effective_from')} … {s.get('effective_to') or ''}".strip(), None)
    for i in manifest.get("inputs", []):
        yield ("input", i.get("path"), i.get("rows_read"))
        yield ("input sha256", i.get("sha256"), None)
    rows = manifest.get("rows", {})
    yield ("rows read", rows.get("read", run.rows_read), None)
    yield ("rows scored", rows.get("scored", run.rows_scored), None)
    yield ("rows rejected", rows.get("rejected", run.rows_rejected), None)
    yield ("scorecards", len(run.scorecards), None)
    yield ("group by", ", ".join(run.group_by), None)
    options = manifest.get("options", {})
    if options.get("as_of"):
        yield ("as of", options["as_of"], None)
    yield (None, None, None)
    yield ("grade", "scorecards", "share")
    grades = Counter(c.grade or "(none)" for c in run.scorecards)
    order = list(dict.fromkeys([g.name for s in run.schemes for g in s.grades] + sorted(grades)))
    total = len(run.scorecards)
    for g in order:
        n = grades.get(g, 0)
        yield (g, n, round(n / total, 4) if total else None)


def _scorecard_rows(cards: Sequence[Scorecard], group: Sequence[str], ids: Sequence[str]) -> Iterator[list[Any]]:
    for c in cards:
        d = c.decimals
        by_id = {i.id: i for i in c.indicators}
        row: list[Any] = [c.subject, *(c.keys.get(g) for g in group), c.period, c.scheme_version, c.records,
                          _rounded(c.score, d), c.grade, c.decided_by, ";".join(v.id for v in c.vetoes) or None]
        for iid in ids:
            ind = by_id.get(iid)
            row += [None, None] if ind is None else [_plain(ind.value), _rounded(ind.points, d)]
        yield row


def _indicator_rows(cards: Sequence[Scorecard]) -> Iterator[list[Any]]:
    for c in cards:
        doc = scorecard_dict(c)
        for dim in doc["dimensions"]:
            for i in dim["indicators"]:
                yield [doc["subject"], dim["id"], i["id"], i["name"], i["value"], i["numerator"],
                       i["denominator"], i["sample"], i["skipped"], i["status"], i["reason"], i["rule"],
                       i["points"], i["weight"], i["effective_weight"], i["contribution"]]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested mappings and lists as (dotted key, scalar) rows, keys sorted (as in manifest.json,
    so the rows do not depend on how the mapping was built)."""
    if isinstance(value, Mapping):
        if not value and prefix:
            yield prefix, "{}"
        for k, v in sorted(value.items(), key=lambda kv: str(kv[0])):
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, (list, tuple)):
        if not value:
            yield prefix, "[]"
        for n, v in enumerate(value):
            yield from _flatten(v, f"{prefix}[{n}]")
    else:
        yield prefix, value


def _core_xml() -> bytes:
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.xml.functions import tostring

    props = DocumentProperties(creator="qualiscore", lastModifiedBy="qualiscore", created=FIXED_TIME,
                               modified=FIXED_TIME)
    # openpyxl's tostring is ElementTree's with encoding="utf-8", so bytes; its stub says str.
    return cast(bytes, tostring(props.to_tree()))


def deterministic_zip(data: bytes, replace: Mapping[str, bytes] | None = None) -> bytes:
    """The same zip archive with every entry dated 1980-01-01, fixed attributes, sorted by name.

    ``replace`` swaps the content of named entries (e.g. document properties stamped
    with the save time).
    """
    swap = dict(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            dst.writestr(info, swap.get(name, src.read(name)), compresslevel=6)
    return out.getvalue()


# --------------------------------------------------------------------------- the run's outputs


def render_formats(run: Run, formats: Iterable[str], outputs: Mapping[str, str]) -> dict[str, bytes]:
    """The extra output files asked for (``"parquet"``, ``"xlsx"``), by file name.

    ``outputs`` are the hashes of the files rendered so far (name -> sha256); the
    workbook's manifest sheet lists them and the Parquet file, which is made first.
    """
    wanted = set(formats)
    unknown = sorted(wanted - set(FORMAT_FILES))
    if unknown:
        raise UsageError(f"unknown output format {', '.join(unknown)}",
                         hint=f"choose from: {', '.join(sorted(FORMAT_FILES))}")
    files: dict[str, bytes] = {}
    hashes = dict(outputs)
    if "parquet" in wanted:
        data = scorecards_parquet(run)
        files[FORMAT_FILES["parquet"]] = data
        hashes[FORMAT_FILES["parquet"]] = sha256_bytes(data)
    if "xlsx" in wanted:
        files[FORMAT_FILES["xlsx"]] = workbook_xlsx(run, manifest_dict(run, hashes))
    return files


def explain_difference(name: str, stored: bytes, fresh: bytes) -> list[tuple[str, str | None, str | None]]:
    """Where a published Parquet file or workbook differs in content from its recomputation.

    Returns (message, subject, field) of the first difference, or nothing when the
    contents are equal (the bytes may still differ after a polars or openpyxl upgrade).
    """
    try:
        if name.endswith(".parquet"):
            return _parquet_difference(stored, fresh)
        if name.endswith(".xlsx"):
            return _xlsx_difference(stored, fresh)
    except Exception as exc:  # an unreadable published file is a difference, not a crash
        return [(f"{name} cannot be read to compare it ({type(exc).__name__}: {exc})", None, None)]
    return [] if stored == fresh else [(f"{name} differs from the recomputation", None, None)]


def _parquet_difference(stored: bytes, fresh: bytes) -> list[tuple[str, str | None, str | None]]:
    pl = _polars()
    old = pl.read_parquet(io.BytesIO(stored))
    new = pl.read_parquet(io.BytesIO(fresh))
    if old.columns != new.columns:
        return [(f"columns differ: published {old.columns}, recomputed {new.columns}", None, None)]
    if old.height != new.height:
        return [(f"published {old.height} scorecards, recomputed {new.height}", None, None)]
    if old.schema != new.schema:
        return [("column types differ", None, None)]
    for n, (a, b) in enumerate(zip(old.iter_rows(), new.iter_rows())):
        if a != b:
            col = next(k for k, x, y in zip(new.columns, a, b) if x != y)
            subject = b[0] if b else None
            at = new.columns.index(col)
            return [(f"row {n + 1} (subject {subject}), {col}: published {a[at]!r}, recomputed {b[at]!r}",
                     subject, col)]
    return []


def _xlsx_difference(stored: bytes, fresh: bytes) -> list[tuple[str, str | None, str | None]]:
    openpyxl = _openpyxl()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = openpyxl.load_workbook(io.BytesIO(stored), read_only=True, data_only=False)
        new = openpyxl.load_workbook(io.BytesIO(fresh), read_only=True, data_only=False)
        try:
            if old.sheetnames != new.sheetnames:
                return [(f"sheets differ: published {old.sheetnames}, recomputed {new.sheetnames}", None, None)]
            for title in new.sheetnames:
                a_rows = _trimmed(old[title].iter_rows(values_only=True))
                b_rows = _trimmed(new[title].iter_rows(values_only=True))
                header = b_rows[0] if b_rows else ()
                for n, (a, b) in enumerate(zip(a_rows, b_rows), 1):
                    if a != b:
                        width = max(len(a), len(b))
                        a, b = a + (None,) * (width - len(a)), b + (None,) * (width - len(b))
                        at = next(k for k, (x, y) in enumerate(zip(a, b)) if x != y)
                        field = str(header[at]) if at < len(header) and header[at] is not None else f"column {at + 1}"
                        subject = str(b[0]) if title in ("scorecards", "indicators") and b and n > 1 else None
                        x, y = a[at], b[at]
                        where = f"sheet {title}, row {n}" + (f" (subject {subject})" if subject else "")
                        return [(f"{where}, {field}: published {x!r}, recomputed {y!r}", subject, field)]
                if len(a_rows) != len(b_rows):
                    return [(f"sheet {title}: published {len(a_rows)} rows, recomputed {len(b_rows)}", None, None)]
        finally:
            old.close()
            new.close()
    return []


def _trimmed(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows without trailing empty cells, and without trailing empty rows (how a file stores
    emptiness is not content)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        out.append(tuple(cells))
    while out and not out[-1]:
        out.pop()
    return out
