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

  Made to be read by a committee: every table has a filter and a frozen header; numbers
  keep their exact value and take a number format from what they are (an indicator's
  value from its measure kind, see :func:`value_format`; scores and points the scheme's
  decimals); widths come from the header and the first rows; grades are filled by rank
  (:mod:`qualiscore.grade_colours`). Rows are streamed: only the first
  ``WIDTH_ROWS`` of a sheet are held, to measure the widths written before them.

The workbook's ``manifest`` sheet shows the manifest as it stands before the workbook
is added: a file cannot hold its own hash. The run's manifest.json lists the workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ._plain import is_number
from .errors import UsageError
from .i18n import LANGUAGES, N_, _, using
from .provenance import manifest_dict, sha256_bytes
from .scorecard import Scorecard, quantize, safe_cell, scorecard_dict

if TYPE_CHECKING:
    from .engine import Run
    from .model import Indicator

__all__ = [
    "FORMAT_FILES",
    "deterministic_zip",
    "explain_difference",
    "indicator_ids",
    "key_columns",
    "render_formats",
    "scorecards_parquet",
    "value_format",
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

        raise UsageError(_("writing Parquet needs the polars package, which is not installed"),
                         hint=install_hint("fast")) from None
    return polars


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        from ._install import install_hint

        raise UsageError(_("writing an Excel workbook needs the openpyxl package, which is not installed"),
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

# Number formats (Excel's codes). A cell holds the number as published (rounded as in
# scorecards.csv, or as measured); its format changes only how the number reads.
PERCENT = "0.0%"  # shares and rates: 0.857142… reads 85.7%
COUNT = "#,##0"  # records, samples, counts
NPS = "0.0"  # net promoter score: points from −100 to 100, not a percentage
NUMBER = "#,##0.00"  # sums, means, medians, percentiles, ratios that are no rate
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
_KIND_FORMATS: dict[str, str] = {"count": COUNT, "nps": NPS, "sum": NUMBER, "mean": NUMBER, "median": NUMBER,
                                 "percentile": NUMBER, "ratio": NUMBER}
_NUMBER_FORMAT = re.compile(r'(#,##)?0(?:\.(0+))?(%|"%")?')  # the codes above, read back to measure a width

# Column widths are measured on the header and the first rows (the rest is streamed), then capped.
WIDTH_ROWS = 1_000
MIN_WIDTH, MAX_WIDTH = 6, 50
HASH_WIDTH = 66  # a key/value sheet's values: a SHA-256 on one line
NO_GRADE = N_("(none)")  # a grade cell of scorecards without one: shown in the workbook's language
GRADE_TINT = 0.3  # a grade's fill: its rank's colour at 30% on white, so black text stays readable
# An uncertain grade (stability below the scheme's stable_at): italics, and its fill hatched
# with the colour at 60%, so it shows in print and to colour-blind readers too.
HATCH_TINT = 0.6


def value_format(indicator: Indicator) -> str | None:
    """The number format of an indicator's measured value, from its measure's kind.

    A share, and a ratio whose target and scoring thresholds all lie within 0–1 (a complaint
    rate, a response rate), read as percentages; a count as an integer; NPS as points; other
    statistics with two decimals; min, max and value as recorded (dates as dates).
    """
    kind = indicator.measure.kind
    if kind == "share" or (kind == "ratio" and _within_one(indicator)):
        return PERCENT
    return _KIND_FORMATS.get(kind)


def _within_one(indicator: Indicator) -> bool:
    sc = indicator.scoring
    written = [indicator.target, sc.start, sc.end, sc.pass_min, sc.pass_max,
               *(b.min for b in sc.bands), *(b.max for b in sc.bands)]
    numbers = [x for x in written if x is not None]
    return bool(numbers) and all(0 <= x <= 1 for x in numbers)


def _fixed(decimals: int) -> str:
    """The number format of scores and points: the scheme's decimals."""
    return "0." + "0" * decimals if decimals > 0 else "0"


@dataclass(frozen=True, slots=True)
class _Graded:
    """A grade cell: filled with its rank's colour; an uncertain grade in italics over hatching."""

    name: str
    uncertain: bool = False
    shown: str | None = None  # the text of the cell, when it is not the name ("(none)" in the workbook's language)

    @property
    def text(self) -> str:
        return self.name if self.shown is None else self.shown


def workbook_xlsx(run: Run, manifest: Mapping[str, Any]) -> bytes:
    """The run as an Excel workbook: summary, scorecards, indicators, rejects, manifest.

    Its words are in the run's language (``RunOptions.language``), whatever the language in force,
    so that ``verify`` recomputes the same workbook: the summary sheet, written for people, is in
    that language; the sheet names, and the headers of the other sheets (the column names of
    scorecards.csv, rejects.csv and manifest.json's keys), stay as they are for the programs
    that read them.
    """
    with using(run.options.get("language") or LANGUAGES[0]):  # as the manifest records it: none is English
        return _workbook(run, manifest)


def _workbook(run: Run, manifest: Mapping[str, Any]) -> bytes:
    book = _Book(_openpyxl().Workbook(write_only=True), _grade_order(run))
    looks = _Looks(run)

    # summary: run facts, then the grade distribution
    book.table("summary", (_("item"), _("value"), _("count")), _summary_rows(run, manifest), filtered=False,
               wrap={1}, widest=HASH_WIDTH)

    # scorecards: flat, like scorecards.csv (numbers as numbers)
    group = list(run.group_by)
    ids = indicator_ids(run)
    # (stability and uncertain beside the grade, an indicator's interval beside its value)
    header = ["subject", *group, "period", "scheme_version", "records", "score", "grade", "stability", "uncertain",
              "decided_by", "vetoes"]
    for iid in ids:
        header += [f"{iid}.value", f"{iid}.low", f"{iid}.high", f"{iid}.points"]
    book.table("scorecards", header, _scorecard_rows(run.scorecards, group, ids, looks), freeze="B2",
               wrap={header.index("vetoes", len(group))})

    # indicators: one row per subject and indicator
    ind_header = ("subject", "dimension", "indicator", "name", "value", "low", "high", "numerator", "denominator",
                  "sample", "skipped", "status", "reason", "rule", "points", "weight", "effective_weight",
                  "contribution")
    book.table("indicators", ind_header, _indicator_rows(run.scorecards, looks), freeze="B2", wrap={3, 12, 13})

    # rejects: as rejects.csv
    book.table("rejects", ("source", "row", "record_id", "field", "value", "code", "reason"),
               (((p.source, p.row, p.record_id, p.field, p.value, p.code, p.reason), _NO_FORMATS)
                for p in run.problems), wrap={0, 4, 6})

    # manifest: key/value rows
    book.table("manifest", ("key", "value"), ((row, _NO_FORMATS) for row in _flatten(manifest)), wrap={1},
               widest=HASH_WIDTH)

    return book.saved()


def sheets_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """Plain sheets (title, header, rows) as a workbook: text stays text, the bytes depend on the content alone."""
    book = _Book(_openpyxl().Workbook(write_only=True))
    for title, header, body in sheets:
        book.table(title, header, ((row, _NO_FORMATS) for row in body))
    return book.saved()


_NO_FORMATS: tuple[str | None, ...] = ()
Row = tuple[Sequence[Any], Sequence[str | None]]  # values, and the number format of each (missing: none)


class _Looks:
    """The number format of each indicator's value, by scheme version (see :func:`value_format`)."""

    def __init__(self, run: Run) -> None:
        self.schemes = {(s.id, s.version): s for s in run.schemes}
        self._values: dict[tuple[str, str, str], str | None] = {}

    def value(self, card: Scorecard, indicator_id: str) -> str | None:
        key = (card.scheme_id, card.scheme_version, indicator_id)
        if key not in self._values:
            scheme = self.schemes.get(key[:2])
            found = next((i for i in scheme.indicators if i.id == indicator_id), None) if scheme else None
            self._values[key] = None if found is None else value_format(found)
        return self._values[key]


class _Book:
    """A write-only workbook of tables (bold frozen header, widths from the content, filters),
    streamed row by row and saved deterministically."""

    def __init__(self, wb: Any, grade_order: Sequence[str] = ()) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        from .grade_colours import grade_colours

        self.wb = wb
        self.bold = Font(bold=True)
        self.doubtful = Font(bold=True, italic=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        colours = grade_colours(grade_order, NO_GRADE)
        self.fills = {g: PatternFill("solid", fgColor="FF" + _tint(c)) for g, c in colours.items()}
        self.hatched = {g: PatternFill("lightUp", fgColor="FF" + _tint(c, HATCH_TINT), bgColor="FF" + _tint(c))
                        for g, c in colours.items()}

    def table(self, title: str, header: Sequence[str], body: Iterable[Row], *, freeze: str = "A2",
              filtered: bool = True, wrap: Collection[int] = (), widest: int = MAX_WIDTH) -> None:
        """A sheet: the header, then the rows; no column wider than ``widest``, and columns ``wrap``
        wrap text longer than their width."""
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(title)
        rows = iter(body)
        first = list(itertools.islice(rows, WIDTH_ROWS))  # widths are written before the first row
        widths = _widths(header, first, widest)
        for n, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = freeze
        ws.append([self._header(ws, h) for h in header])
        wrap_at = {n: widths[n] for n in wrap if n < len(widths)}
        count = 1
        for values, formats in itertools.chain(first, rows):
            ws.append([self.cell(ws, v, formats[n] if n < len(formats) else None, wrap_at.get(n))
                       for n, v in enumerate(values)])
            count += 1
        if filtered and header:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count}"

    def _header(self, ws: Any, text: str) -> Any:
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(ws, value=_excel_text(text))
        c.data_type = "s"
        c.font = self.bold
        return c

    def cell(self, ws: Any, value: Any, number_format: str | None, wrap_width: float | None = None) -> Any:
        """The cell of a value: plain values as they are (openpyxl makes the cell), a number with its
        format, a date as a date, text never a formula, a grade filled by rank."""
        from openpyxl.cell import WriteOnlyCell

        value = _cell_value(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = _excel_text(value)
            wraps = wrap_width is not None and _text_width(text) > wrap_width
            if not wraps and not text.startswith(("=", "#")):  # openpyxl types the rest as text, not as a
                return text  # formula ("=", which safe_cell quotes anyway) or an error value (#N/A)
            c = WriteOnlyCell(ws, value=text)
            c.data_type = "s"  # text, never a formula
            if wraps:
                c.alignment = self.wrap
            return c
        if isinstance(value, _Graded):
            c = WriteOnlyCell(ws, value=_excel_text(value.text))
            c.data_type = "s"
            c.font = self.doubtful if value.uncertain else self.bold
            fill = (self.hatched if value.uncertain else self.fills).get(value.name)
            if fill is not None:
                c.fill = fill
            return c
        if isinstance(value, dt.datetime):
            number_format = DATETIME
        elif isinstance(value, dt.date):
            number_format = DATE
        if number_format is None:
            return value
        c = WriteOnlyCell(ws, value=value)
        c.number_format = number_format
        return c

    def saved(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return deterministic_zip(buf.getvalue(), {"docProps/core.xml": _core_xml()})


def _cell_value(value: Any) -> Any:
    """A value as a cell can hold it: non-finite numbers empty, durations in seconds, date-times
    at their own wall-clock time (Excel has no time zones), anything else unknown as text."""
    value = _finite(value)
    if value is None or isinstance(value, (bool, int, float, str, dt.date, _Graded)):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _widths(header: Sequence[str], rows: Sequence[Row], widest: int) -> list[float]:
    """Column widths for the header (with room for the filter button) and the rows as they read."""
    widths = [_text_width(h) + 3 for h in header]
    for values, formats in rows:
        for n, v in enumerate(values):
            shown = _shown_width(_cell_value(v), formats[n] if n < len(formats) else None)
            if n < len(widths):
                widths[n] = max(widths[n], shown + 1)
            else:
                widths.append(shown + 1)
    return [float(min(max(w, MIN_WIDTH), widest)) for w in widths]


def _shown_width(value: Any, number_format: str | None) -> int:
    """Characters a value takes as Excel shows it."""
    if value is None:
        return 0
    if isinstance(value, _Graded):
        return _text_width(value.text) + 1  # bold
    if isinstance(value, str):
        return _text_width(value[:HASH_WIDTH * 2])
    if isinstance(value, bool):
        return 5  # TRUE, FALSE
    if isinstance(value, dt.datetime):
        return 19
    if isinstance(value, dt.date):
        return 10
    m = _NUMBER_FORMAT.fullmatch(number_format or "")
    if m is None:  # General: up to 11 characters
        return min(len(repr(value)), 11)
    grouping, decimals, percent = m.groups()
    x = value * 100 if percent == "%" else value
    return len(f"{x:{',' if grouping else ''}.{len(decimals or '')}f}") + (1 if percent else 0)


def _text_width(text: str) -> int:
    """Columns a text takes: East Asian wide characters (Chinese) count twice; the longest line."""
    if text.isascii():
        return max((len(line) for line in text.split("\n")), default=0)
    return max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                for line in text.split("\n")), default=0)


def _tint(colour: str, strength: float = GRADE_TINT) -> str:
    """#rrggbb at ``strength`` on white, as Excel's RRGGBB."""
    rgb = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
    return "".join(f"{round(255 - (255 - c) * strength):02X}" for c in rgb)


def _excel_text(text: str) -> str:
    """Text for a cell: formula-looking text quoted (as in the CSV outputs), XML-illegal
    control characters written as ``\\xNN``, at most Excel's 32,767 characters."""
    text = safe_cell(text)
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def _grade_order(run: Run) -> list[str]:
    """Grades best first, as the report ranks them: each version's by its minimum score, the latest
    version's first; grades only a scorecard names, then "(none)", last."""
    order = [g.name for s in reversed(run.schemes) for g in sorted(s.grades, key=lambda g: -g.min)]
    named = sorted({c.grade for c in run.scorecards if c.grade is not None} - set(order))
    none = [NO_GRADE] if any(c.grade is None for c in run.scorecards) else []
    return list(dict.fromkeys([*order, *named, *none]))


def _summary_rows(run: Run, manifest: Mapping[str, Any]) -> Iterator[Row]:
    text, counted, count_beside = (None, None, None), (None, COUNT, None), (None, None, COUNT)
    engine = manifest.get("engine", {})
    yield (_("engine"), f"{engine.get('name', 'qualiscore')} {engine.get('version', '')}".strip(), None), text
    for s in manifest.get("schemes", []):
        yield (_("scheme"), f"{s.get('id')} {s.get('version')}", s.get("scorecards")), count_beside
        yield (_("scheme sha256"), s.get("sha256"), None), text
        yield (_("scheme in force"), f"{s.get('effective_from')} … {s.get('effective_to') or ''}".strip(), None), text
    for i in manifest.get("inputs", []):
        yield (_("input"), i.get("path"), i.get("rows_read")), count_beside
        yield (_("input sha256"), i.get("sha256"), None), text
    rows = manifest.get("rows", {})
    yield (_("rows read"), rows.get("read", run.rows_read), None), counted
    yield (_("rows scored"), rows.get("scored", run.rows_scored), None), counted
    yield (_("rows rejected"), rows.get("rejected", run.rows_rejected), None), counted
    yield (_("scorecards"), len(run.scorecards), None), counted
    yield (_("group by"), ", ".join(run.group_by), None), text
    options = manifest.get("options", {})
    if options.get("as_of"):
        yield (_("as of"), options["as_of"], None), text
    yield (None, None, None), text
    yield (_("grade"), _("scorecards"), _("share")), text
    grades = Counter(c.grade or NO_GRADE for c in run.scorecards)
    # Listed as the schemes list them (as earlier workbooks did: verify compares a published one by content).
    listed = list(dict.fromkeys([g.name for s in run.schemes for g in s.grades] + sorted(grades)))
    total = len(run.scorecards)
    for g in listed:
        n = grades.get(g, 0)
        yield (_Graded(g, shown=_(NO_GRADE) if g == NO_GRADE else g), n, round(n / total, 4) if total else None), \
            (None, COUNT, PERCENT)


def _scorecard_rows(cards: Sequence[Scorecard], group: Sequence[str], ids: Sequence[str],
                    looks: _Looks) -> Iterator[Row]:
    formats: dict[tuple[str, str], list[str | None]] = {}
    for c in cards:
        d = c.decimals
        version = (c.scheme_id, c.scheme_version)
        if version not in formats:
            points = _fixed(c.decimals)
            formats[version] = [*[None] * (3 + len(group)), COUNT, points, None, PERCENT, None, None, None,
                                *(f for iid in ids for v in [looks.value(c, iid)] for f in (v, v, v, points))]
        by_id = {i.id: i for i in c.indicators}
        row: list[Any] = [c.subject, *(c.keys.get(g) for g in group), c.period, c.scheme_version, c.records,
                          _rounded(c.score, d), None if c.grade is None else _Graded(c.grade, c.uncertain),
                          c.stability, c.uncertain, c.decided_by, ";".join(v.id for v in c.vetoes) or None]
        for iid in ids:
            ind = by_id.get(iid)
            if ind is None:
                row += [None] * 4
                continue
            low, high = ind.interval or (None, None)
            row += [ind.value, low, high, _rounded(ind.points, d)]
        yield row, formats[version]


def _indicator_rows(cards: Sequence[Scorecard], looks: _Looks) -> Iterator[Row]:
    formats: dict[tuple[str, str, str], tuple[str | None, ...]] = {}
    for c in cards:
        doc = scorecard_dict(c)
        measured = iter(c.indicators)
        for dim in doc["dimensions"]:
            for i in dim["indicators"]:
                result = next(measured)  # as measured: a date stays a date
                low, high = result.interval or (None, None)
                key = (c.scheme_id, c.scheme_version, i["id"])
                if key not in formats:
                    points, value = _fixed(c.decimals), looks.value(c, i["id"])
                    formats[key] = (None, None, None, None, value, value, value, None, None, COUNT, COUNT,
                                    None, None, None, points, None, f'{points}"%"', points)
                yield ([doc["subject"], dim["id"], i["id"], i["name"], result.value, low, high, i["numerator"],
                        i["denominator"], i["sample"], i["skipped"], i["status"], i["reason"], i["rule"],
                        i["points"], i["weight"], i["effective_weight"], i["contribution"]], formats[key])


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
        raise UsageError(_("unknown output format {formats}", formats=", ".join(unknown)),
                         hint=_("choose from: {choices}", choices=", ".join(sorted(FORMAT_FILES))))
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
        return [(_("{file} cannot be read to compare it ({error}: {reason})", file=name, error=type(exc).__name__,
                   reason=exc), None, None)]
    return [] if stored == fresh else [(_("{file} differs from the recomputation", file=name), None, None)]


def _parquet_difference(stored: bytes, fresh: bytes) -> list[tuple[str, str | None, str | None]]:
    pl = _polars()
    old = pl.read_parquet(io.BytesIO(stored))
    new = pl.read_parquet(io.BytesIO(fresh))
    if old.columns != new.columns:
        return [(_("columns differ: published {published}, recomputed {recomputed}", published=old.columns,
                   recomputed=new.columns), None, None)]
    if old.height != new.height:
        return [(_("published {published} scorecards, recomputed {recomputed}", published=old.height,
                   recomputed=new.height), None, None)]
    if old.schema != new.schema:
        return [(_("column types differ"), None, None)]
    for n, (a, b) in enumerate(zip(old.iter_rows(), new.iter_rows())):
        if a != b:
            col = next(k for k, x, y in zip(new.columns, a, b) if x != y)
            subject = b[0] if b else None
            at = new.columns.index(col)
            return [(_("row {row} (subject {subject}), {column}: published {published!r}, recomputed {recomputed!r}",
                       row=n + 1, subject=subject, column=col, published=a[at], recomputed=b[at]), subject, col)]
    return []


def _xlsx_difference(stored: bytes, fresh: bytes) -> list[tuple[str, str | None, str | None]]:
    openpyxl = _openpyxl()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = openpyxl.load_workbook(io.BytesIO(stored), read_only=True, data_only=False)
        new = openpyxl.load_workbook(io.BytesIO(fresh), read_only=True, data_only=False)
        try:
            if old.sheetnames != new.sheetnames:
                return [(_("sheets differ: published {published}, recomputed {recomputed}",
                           published=old.sheetnames, recomputed=new.sheetnames), None, None)]
            for title in new.sheetnames:
                a_rows = _trimmed(old[title].iter_rows(values_only=True))
                b_rows = _trimmed(new[title].iter_rows(values_only=True))
                header = b_rows[0] if b_rows else ()
                for n, (a, b) in enumerate(zip(a_rows, b_rows), 1):
                    if a != b:
                        width = max(len(a), len(b))
                        a, b = a + (None,) * (width - len(a)), b + (None,) * (width - len(b))
                        at = next(k for k, (x, y) in enumerate(zip(a, b)) if x != y)
                        field = (str(header[at]) if at < len(header) and header[at] is not None
                                 else _("column {n}", n=at + 1))
                        subject = str(b[0]) if title in ("scorecards", "indicators") and b and n > 1 else None
                        x, y = a[at], b[at]
                        where = (_("sheet {sheet}, row {row} (subject {subject})", sheet=title, row=n, subject=subject)
                                 if subject else _("sheet {sheet}, row {row}", sheet=title, row=n))
                        return [(_("{where}, {field}: published {published!r}, recomputed {recomputed!r}",
                                   where=where, field=field, published=x, recomputed=y), subject, field)]
                if len(a_rows) != len(b_rows):
                    return [(_("sheet {sheet}: published {published} rows, recomputed {recomputed}", sheet=title,
                               published=len(a_rows), recomputed=len(b_rows)), None, None)]
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
