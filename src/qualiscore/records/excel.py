"""Excel workbooks: the chosen worksheet read by calamine, its values as openpyxl gives them.

python-calamine (Rust) opens the workbook and reads the sheet, about twenty times as fast
as openpyxl; its values are turned into the ones the earlier openpyxl reader gave, so the
same rows type to the same records, rejects and scorecards: whole numbers are ints (below
10**16), numbers formatted as dates are date-times (midnight for a whole day), times of
day are times, ``[h]:mm:ss`` durations are timedeltas (to the millisecond, in either the
1900 or the 1904 date system), booleans are booleans, a formula is its cached value, and
an empty cell is ``None``. A number formatted as a date that is outside Excel's dates
stays the number.

Before calamine reads the sheet, one pass over its XML (decompressed in chunks, searched
by compiled patterns, not parsed) does what calamine does not:

* Error cells (``#DIV/0!``, ``#N/A``, …) keep their text, as openpyxl gave it (calamine
  reads them as empty); a number of 16 digits or more keeps all of them (calamine reads
  a float).
* calamine holds a sheet as one grid from its first to its last cell, so a cell at
  ``XFD1048576`` would ask for hundreds of gigabytes. The pass finds the farthest row and
  column any cell names; a sheet whose grid would exceed ``MAX_GRID_CELLS``, or that names
  rows or columns in a way the pass cannot follow, is read by the exact reader below.

The exact reader is the streaming XML reader of earlier versions (openpyxl opens the
workbook's parts; the rows are read here, as sparsely as they are stored). It reads the
sheets calamine should not, and every sheet calamine refuses (calamine's errors name no
place), refusing what is damaged with its place: a cell whose value does not fit its type,
a cell or row reference that is no place on a sheet or lies beyond Excel's 1,048,576 rows
and 16,384 columns, rows or cells out of order or stored twice, XML that does not parse.
Each is a :class:`DataError` naming the file, the sheet, the cell or row and what to do.
The last sheet calamine read is kept (one, keyed by the file's identity), so the row
digests written with a run do not read the workbook again.

What calamine reads without complaint is read as calamine reads it; only a hand-written
worksheet holds such things, never a spreadsheet program's: a cell stored twice keeps its
last value, cells and rows out of order are put where their references say, a cell whose
reference names another row goes to that row (a row without a number is the one after the
row before), a number cell holding text is that text, a shared string that is no index is
the first, a style that is no number is the default style (python-calamine 0.8, the last
for Python 3.10, also reads a boolean cell holding a word as TRUE). A cell of type ``d``
holding a date alone is a midnight date-time. Text of white space alone is kept only when
the XML says to (``xml:space="preserve"``, as Excel writes it); it types as empty either way.

An encrypted (password-protected) workbook is not a zip archive but an OLE file: it is
refused with what to do. The first worksheet is read unless one is named (hidden sheets
too; a chart sheet holds no table).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from typing import Any, cast

from ..errors import DataError, Location
from ..i18n import N_, _
from .collect import Collector
from .inputs import KNOWN_FORMATS, split_sheet
from .tables import missing_library, table_plan, type_table_rows

MAX_ROWS = 1_048_576  # Excel's limits: a reference beyond them is no cell of a sheet
MAX_COLUMNS = 16_384  # XFD
MAX_GRID_CELLS = 1 << 27  # calamine's grid of a sheet, first to last cell: 4 GiB at most (32 bytes a cell)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted workbook, or an old .xls
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v", f"{_MAIN}is"
_TEXT, _RUN = f"{_MAIN}t", f"{_MAIN}r"
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_ROW_NUMBER = re.compile(r"\s*([0-9]+)(?:\.0*)?\s*")  # openpyxl reads 2.0 as row 2, and so do we
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
_HINT_DAMAGED = N_("the workbook is damaged (or was not written by a spreadsheet program): open it in Excel "
                   "and save it again, or export the sheet as CSV UTF-8")  # shown as _(_HINT_DAMAGED)
_WHOLE = 1e16  # whole floats below this are ints, as openpyxl read the digits Excel writes for them


def _not_a_workbook(source: str, detail: str) -> DataError:
    return DataError(
        _("is not an Excel .xlsx workbook ({detail})", detail=detail),
        location=Location(source),
        hint=_("save it from Excel as .xlsx; if it is a text export, name it .csv. qualiscore reads {formats} files",
               formats=_(KNOWN_FORMATS)),
        code="format",
    )


def _unreadable(source: str, exc: BaseException) -> DataError:
    return DataError(
        _("cannot be read as an Excel workbook: {kind}: {error}", kind=type(exc).__name__, error=exc),
        location=Location(source),
        hint=_("open it in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8"),
        code="unreadable",
    )


class _Sheet:
    """The chosen worksheet: its name (``title``, as openpyxl named it) and place among the sheets."""

    __slots__ = ("index", "title")

    def __init__(self, title: str, index: int) -> None:
        self.title = title
        self.index = index


class Workbook:
    """An Excel workbook opened to read one worksheet (cached values of formulas)."""

    def __init__(self, path: str, source: str, sheet: str | None) -> None:
        try:
            import python_calamine
        except ImportError:
            raise missing_library(source, _("Excel workbooks"), "python-calamine", "excel") from None
        self.path = path
        self.source = source
        with open(path, "rb") as f:
            magic = f.read(8)
        if magic == _OLE:
            raise DataError(
                _("is password-protected (encrypted), or an old .xls workbook named .xlsx"),
                location=Location(source),
                hint=_("open it in Excel, remove the password (File > Info > Protect Workbook) and save it as "
                       ".xlsx, or export the sheet as CSV UTF-8"),
                code="format",
            )
        if magic[:4] != b"PK\x03\x04":
            raise _not_a_workbook(source, _("it is not a zip archive"))
        try:
            self.book = python_calamine.CalamineWorkbook.from_path(path)
        except python_calamine.ZipError as exc:
            raise _not_a_workbook(source, _("damaged zip archive: {error}", error=exc)) from None
        except python_calamine.CalamineError as exc:
            raise _unreadable(source, exc) from None
        try:
            self.sheet = self._choose(sheet)
        except BaseException:
            self.book.close()
            raise

    def _choose(self, wanted: str | None) -> _Sheet:
        from python_calamine import SheetTypeEnum

        sheets = list(self.book.sheets_metadata)
        names = [s.name for s in sheets]
        if wanted is None:
            for index, meta in enumerate(sheets):
                if meta.typ == SheetTypeEnum.WorkSheet:
                    return _Sheet(meta.name, index)
            raise DataError(
                _("is empty: the workbook has no worksheet"),
                location=Location(self.source),
                hint=_("put the records on a worksheet, with column headers in the first row"),
                code="empty",
            )
        name = wanted if wanted in names else None
        if name is None:  # Excel sheet names are unique regardless of case
            folded = [n for n in names if n.casefold() == wanted.strip().casefold()]
            name = folded[0] if len(folded) == 1 else None
        if name is None:
            shown = ", ".join(repr(n) for n in names[:20]) + (", …" if len(names) > 20 else "")
            close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
            base = split_sheet(self.source)[0]
            raise DataError(
                _("has no sheet {sheet!r}; its sheets are: {sheets}", sheet=wanted, sheets=shown),
                location=Location(self.source),
                hint=_("name one of its sheets, e.g. {path}#{sheet}", path=base, sheet=close[0] if close else names[0])
                if names
                else _("the workbook has no sheets"),
                code="format",
            )
        index = names.index(name)
        if sheets[index].typ != SheetTypeEnum.WorkSheet:
            raise DataError(
                _("sheet {sheet!r} is a chart sheet, not a table", sheet=name),
                location=Location(self.source),
                hint=_("name the worksheet that holds the records"),
                code="format",
            )
        return _Sheet(name, index)

    def close(self) -> None:
        self.book.close()


# --------------------------------------------------------------------------- the pass over the sheet's XML

_CHUNK = 1 << 22  # bytes of the sheet's XML searched at a time
_CARRY = 1 << 16  # bytes kept from one chunk to the next, so a cell cut in two is searched whole
# Quotes and white space as one kind each, so one pattern finds every r attribute however it is
# written, and a namespace prefix (x:c) as a space.
_NORMAL = bytes.maketrans(b"'\t\n\r\x0c:", b'"     ')
_ERROR = re.compile(rb' t *= *"e"')
_LONG = re.compile(rb"<v>(-?[0-9]{16,})</v>")
_TAG = re.compile(rb'<(?:[\w.-]+ )?c\s([^>]*)>')
_ATTR_R = re.compile(rb'\sr="([A-Za-z]{1,3})([0-9]{1,7})"')
_ATTR_T = re.compile(rb'\st="([^"]*)"')
_VALUE_END = re.compile(rb"<(?:[\w.-]+ )?v>([^<]*)</")
_DIMENSION = re.compile(rb'<(?:[\w.-]+ )?dimension +ref="(?:[A-Za-z]+[0-9]+ )?([A-Za-z]{1,3})([0-9]{1,7})"')
_REF_AT = re.compile(rb'r="([A-Za-z]{0,3})([0-9]{1,7})"')
_CELL_END = re.compile(rb"</(?:[\w.-]+ )?c>")


def _at_most(text: str, digits: bool) -> str:
    """A pattern for column letters (or row digits) not after ``text``: shorter, or as long and not greater.

    Letters may be none (a row's r attribute), digits at least one; letters in either case.
    """
    alphabet = "0123456789" if digits else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    unit = "[0-9]" if digits else "[A-Za-z]"

    def one(c: str) -> str:
        return c if digits else f"[{c}{c.lower()}]"

    def below(c: str) -> str:
        rest = alphabet[:alphabet.index(c)]
        if not rest:
            return ""
        return f"[{rest[0]}-{rest[-1]}]" if digits else f"[{rest[0]}-{rest[-1]}{rest[0].lower()}-{rest[-1].lower()}]"

    shortest = 1 if digits else 0
    options = [f"{unit}{{{shortest},{len(text) - 1}}}"] if len(text) > shortest else []
    for i, c in enumerate(text):
        lower = below(c)
        if lower:
            rest = len(text) - i - 1
            options.append("".join(one(x) for x in text[:i]) + lower + (f"{unit}{{{rest}}}" if rest else ""))
    options.append("".join(one(x) for x in text))
    return "(?:" + "|".join(options) + ")"


class _Scan:
    """What one pass over the sheet's XML found: how far its cells reach, error cells and long numbers."""

    def __init__(self) -> None:
        self.columns = 1  # at least the farthest column and row an r attribute names
        self.rows = 1
        self.unsure = False  # an r attribute the pass cannot follow: how far the cells reach is unknown
        self.patches: dict[tuple[int, int], Any] = {}  # (row, column), both 1-based -> value

    def safe(self) -> bool:
        """Whether calamine may read the sheet: its grid fits, and every reference is one of a sheet."""
        return (not self.unsure and self.rows <= MAX_ROWS and self.columns <= MAX_COLUMNS
                and self.rows * self.columns <= MAX_GRID_CELLS)

    def pattern(self) -> re.Pattern[bytes]:
        """An r attribute beyond the farthest cell yet, or written otherwise than r="A1"."""
        near = _at_most(_column_letters(self.columns), False) + _at_most(str(self.rows), True)
        return re.compile(f'r(?:="(?!{near}")| +=|= +)'.encode())

    def reach(self, buf: bytes, at: int) -> None:
        """Take in the r attribute at ``at``, which goes beyond the farthest yet."""
        if at == 0 or buf[at - 1] not in b' "':
            return  # another attribute whose name ends in r (header="0.5")
        match = _REF_AT.match(buf, at)
        if match is None or int(match[2]) == 0:
            self.unsure = True
            return
        if match[1]:
            self.columns = max(self.columns, _column_number(match[1].decode().upper()))
        row = int(match[2])
        # Rows rise all through a sheet: counted by their digits, so the pattern changes seldom.
        self.rows = max(self.rows, row if row > MAX_ROWS else min(10 ** len(match[2]) - 1, MAX_ROWS))

    def cells(self, buf: bytes, end: int) -> None:
        """Error cells and long numbers that start before ``end``, as patches."""
        if b'"e"' in buf:
            for found in _ERROR.finditer(buf):
                if found.start() >= end:
                    break
                self._patch(buf, buf.rfind(b"<", 0, found.start()), found.start(), error=True)
        for found in _LONG.finditer(buf):
            if found.start() >= end:
                break
            self._patch(buf, buf.rfind(b"<c ", 0, found.start()), found.start(), error=False)

    def _patch(self, buf: bytes, start: int, at: int, *, error: bool) -> None:
        tag = _TAG.match(buf, start) if start >= 0 else None
        if tag is None or (not error and tag.end() > at):
            self.unsure = self.unsure or error  # an error cell that cannot be placed: the exact reader reads it
            return
        attrs = b" " + tag[1]
        ref = _ATTR_R.search(attrs)
        kind = _ATTR_T.search(attrs)
        if tag[1].endswith(b"/"):
            return  # no value
        value = _VALUE_END.search(buf, tag.end())
        close = _CELL_END.search(buf, tag.end())
        if ref is None or value is None or (close is not None and close.start() < value.start()):
            self.unsure = self.unsure or error
            return
        place = (int(ref[2]), _column_number(ref[1].decode().upper()))
        if error:
            self.patches[place] = value[1].decode("utf-8", "replace")
        elif value.start() == at and (kind is None or kind[1] == b"n"):
            self.patches[place] = int(value[1])


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The zip member holding the worksheet named ``title`` (None when the workbook's parts do not say)."""
    import posixpath
    import xml.etree.ElementTree as ET

    relation = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        root = ET.fromstring(archive.read("_rels/.rels"))
        book = next(r.get("Target", "") for r in root if r.get("Type", "").endswith("/officeDocument")).lstrip("/")
        folder = posixpath.dirname(book)
        workbook = ET.fromstring(archive.read(book))
        rid = next(s.get(relation) for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == title)
        rels = ET.fromstring(archive.read(posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")))
        part = next(r.get("Target", "") for r in rels if r.get("Id") == rid)
    except (KeyError, StopIteration, ET.ParseError, zipfile.BadZipFile, ValueError, zlib.error, EOFError):
        return None
    return part.lstrip("/") if part.startswith("/") else posixpath.normpath(posixpath.join(folder, part))


def _scan(path: str, title: str) -> _Scan | None:
    """One pass over the sheet's XML; None when it cannot be made (the exact reader then reads the sheet)."""
    scan = _Scan()
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, title)
            if part is None:
                return None
            with archive.open(part) as stream:
                buf = stream.read(_CHUNK).translate(_NORMAL)
                declared = _DIMENSION.search(buf, 0, 1 << 14)
                if declared is not None:
                    scan.columns = max(1, _column_number(declared[1].decode().upper()))
                    scan.rows = max(1, int(declared[2]))
                pattern = scan.pattern()
                while True:
                    chunk = stream.read(_CHUNK).translate(_NORMAL)
                    buf += chunk
                    end = max(0, len(buf) - _CARRY) if chunk else len(buf)
                    at = 0
                    while (found := pattern.search(buf, at)) is not None and found.start() < end:
                        scan.reach(buf, found.start())
                        if not scan.safe():
                            return scan
                        pattern = scan.pattern()
                        at = found.start() + 1
                    scan.cells(buf, end)
                    if not chunk:
                        return scan
                    buf = buf[end:]
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError, RuntimeError):
        return None  # calamine or the exact reader says what is wrong


# --------------------------------------------------------------------------- reading the rows


def read_xlsx(book: Workbook, source: str, out: Collector) -> int:
    """Type every row of the chosen worksheet; returns rows read (empty rows excluded)."""
    title = book.sheet.title
    grid = _calamine_rows(book, keep=True)
    if grid is not None:
        return _type_rows(grid, title, source, out, exact=False)
    rows = _exact_rows(book, title, source)
    try:
        return _type_rows(rows, title, source, out, exact=True)
    finally:
        rows.close()  # the sheet's stream stays open until its generator ends


def _sheet_rows(book: Workbook, title: str, source: str) -> Iterator[tuple[int, dict[int, Any]]]:
    """The sheet's rows that hold a value, each as {column: value} (1-based), values as openpyxl gives them
    (the row digests of a run: the sheet ``read_xlsx`` just read is taken, not read again)."""
    grid = _calamine_rows(book, keep=False)
    if grid is None:
        yield from _exact_rows(book, title, source)
        return
    value = _value
    for number, row in grid:
        yield number, {c: v for c, raw in enumerate(row, 1)
                       if (v := raw if raw.__class__ is str and raw else value(raw)) is not None}


# The last sheet read_xlsx read by calamine, with its patches, keyed by the file's identity and the
# sheet: the row digests written with a run read the same sheet again, and take it from here.
_KEPT: list[tuple[tuple[Any, ...], Any, dict[tuple[int, int], Any]]] = []


def _identity(book: Workbook) -> tuple[Any, ...] | None:
    try:
        st = os.stat(book.path)
    except OSError:
        return None
    return os.path.realpath(book.path), st.st_size, st.st_mtime_ns, st.st_ino, book.sheet.title


def _calamine_rows(book: Workbook, *, keep: bool) -> Iterator[tuple[int, list[Any]]] | None:
    """The sheet's rows that hold a value as calamine reads them, patched by the pass over the XML
    (lists from column A; raw values, "" empty); None when the exact reader must read the sheet.

    ``keep``: read the sheet afresh and keep it; else take the kept sheet when it is this one.
    """
    import python_calamine

    key = _identity(book)
    kept = _KEPT[0] if not keep and _KEPT and key is not None and _KEPT[0][0] == key else None
    _KEPT.clear()
    if kept is not None:
        sheet, patches = kept[1], kept[2]
    else:
        scan = _scan(book.path, book.sheet.title)
        if scan is None or not scan.safe():
            return None
        try:
            sheet = book.book.get_sheet_by_index(book.sheet.index)
        except python_calamine.CalamineError:
            return None  # damaged: the exact reader names the place
        except BaseException as exc:  # a panic in the Rust reader is a BaseException
            if type(exc).__name__ != "PanicException":
                raise
            return None
        patches = scan.patches
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return iter(())
    if end[0] >= MAX_ROWS or end[1] >= MAX_COLUMNS:
        return None
    if keep and key is not None:
        _KEPT.append((key, sheet, patches))
    return _grid_rows(sheet, start, patches)


def _grid_rows(sheet: Any, start: tuple[int, int], patches: dict[tuple[int, int], Any]
               ) -> Iterator[tuple[int, list[Any]]]:
    first_column = start[1]  # rows are counted from row 1 (empty lists before the first), columns from start
    pad = [""] * first_column
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), v in patches.items():
        by_row.setdefault(r, {})[c] = v
    for number, found in enumerate(sheet.iter_rows(), 1):
        row = found
        if first_column:
            row = pad + row
        fix = by_row.get(number)
        if fix:
            for c, v in fix.items():
                if c <= len(row):
                    row[c - 1] = v
        if row.count("") != len(row):
            yield number, row


_DATE, _DATETIME = dt.date, dt.datetime


def _value(v: Any) -> Any:
    """A calamine value as openpyxl gave it: "" is None, a whole float an int, a date a midnight date-time."""
    kind = type(v)
    if kind is str:
        return v or None
    if kind is float:
        return int(v) if v.is_integer() and -_WHOLE < v < _WHOLE else v
    if kind is _DATE:
        return _DATETIME(v.year, v.month, v.day)
    return v


def _type_rows(rows: Iterator[tuple[int, Any]], title: str, source: str, out: Collector, *, exact: bool) -> int:
    """Find the header (the first row with a cell), then type the rows under it.

    Rows are {column: value} from the exact reader, lists of calamine's values from column A else.
    """
    header: list[str] | None = None
    header_row = 0
    for number, found in rows:
        cells = found if exact else {c: v for c, raw in enumerate(found, 1) if (v := _value(raw)) is not None}
        texts = {column: _header_text(value) for column, value in cells.items()}
        if any(not (isinstance(v, str) and not v.strip()) for v in cells.values()):
            width = max((c for c, text in texts.items() if text), default=0)
            header = [texts.get(c, "") for c in range(1, width + 1)]
            header_row = number
            break
    if header is None:
        raise DataError(
            _("is empty: sheet {sheet!r} needs a header row naming its columns", sheet=title),
            location=Location(source),
            hint=_("put column headers in the first row of the sheet, records below"),
            code="empty",
        )
    plan, id_cell = table_plan(header, source, header_row, out)
    # Keep only the columns the contract reads, in a row of their own.
    used = sorted({idx for _, idx, _ in plan if idx >= 0})
    where = {idx: pos for pos, idx in enumerate(used)}
    plan = [(name, where[idx] if idx >= 0 else -1, conv) for name, idx, conv in plan]
    columns = [idx + 1 for idx in used]

    def exact_records() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in rows:
            if all(v == "" for v in cells.values()):
                continue  # an empty spreadsheet row: not read, but it keeps its number
            yield number, [cells.get(c) for c in columns]

    def records() -> Iterator[tuple[int, list[Any]]]:
        value = _value
        last = used[-1] if used else -1
        for number, row in rows:  # only rows that hold a value, as wide as the sheet
            if len(row) > last:  # text (most cells) is itself
                yield number, [v if v.__class__ is str and v else value(v) for v in map(row.__getitem__, used)]
            else:
                yield number, [value(row[i]) if i < len(row) else None for i in used]

    return type_table_rows(exact_records() if exact else records(), plan,
                           where.get(id_cell) if id_cell is not None else None, len(used),
                           source, out, skip_blank=False)


def _exact_rows(book: Workbook, title: str, source: str) -> Generator[tuple[int, dict[int, Any]]]:
    """The sheet's stored rows read by the exact reader; damage becomes a located DataError."""
    import warnings

    try:
        import openpyxl
    except ImportError:
        raise missing_library(source, _("this Excel workbook"), "openpyxl", "excel") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, missing styles: not our business
            workbook = openpyxl.load_workbook(book.path, read_only=True, data_only=True, keep_links=False)
    except zipfile.BadZipFile as exc:
        raise _not_a_workbook(source, _("damaged zip archive: {error}", error=exc)) from None
    except OSError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on malformed parts
        raise _unreadable(source, exc) from None
    row: int | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for row, cells in _SheetCells(workbook[title], workbook).rows():
                yield row, cells
    except _Damaged as damage:
        raise DataError(_("sheet {sheet!r}: {problem}", sheet=title, problem=damage.message), location=Location(source, row=damage.row),
                        hint=_(_HINT_DAMAGED), code="unreadable") from None
    except (SyntaxError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        message = (_("sheet {sheet!r} cannot be read after row {row}: {kind}: {error}", sheet=title, row=row,
                     kind=type(exc).__name__, error=exc) if row is not None else
                   _("sheet {sheet!r} cannot be read: {kind}: {error}", sheet=title, kind=type(exc).__name__, error=exc))
        raise DataError(message,
                        location=Location(source), hint=_(_HINT_DAMAGED), code="unreadable") from None
    finally:
        workbook.close()


# --------------------------------------------------------------------------- the exact reader

class _Damaged(Exception):
    """A part of the sheet that is not what Excel writes: where (row) and what."""

    def __init__(self, row: int | None, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _column_letters(column: int) -> str:
    """1 -> A, 27 -> AA, 16384 -> XFD."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for c in letters.upper():
        number = number * 26 + ord(c) - 64
    return number


class _SheetCells:
    """The stored rows of one worksheet, each as {column: value}, in order, every damage refused."""

    def __init__(self, sheet: Any, book: Any) -> None:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        ws = cast(Any, sheet)  # the read-only sheet's parts are openpyxl's own attributes
        workbook = cast(Any, book)
        self.ws = ws
        self.strings = ws._shared_strings
        self.epoch = workbook.epoch
        self.date_styles = frozenset(workbook._date_formats)
        self.timedelta_styles = frozenset(workbook._timedelta_formats)
        self.from_excel = from_excel
        self.from_iso = from_ISO8601

    def rows(self) -> Iterator[tuple[int, dict[int, Any]]]:
        from openpyxl.xml.functions import iterparse

        last = 0
        with self.ws._get_source() as stream:
            for _, element in iterparse(stream):
                if element.tag == _ROW:
                    last = self._row_number(element, last)
                    yield last, self._cells(element, last)
                    element.clear()  # only an empty element stays behind (as in openpyxl)

    @staticmethod
    def _row_number(row: Any, last: int) -> int:
        """The row's own number; else its first cell's; else the one after the last row."""
        text = row.get("r")
        if text is None:
            first = row.find(_CELL)
            match = _REFERENCE.fullmatch(first.get("r") or "") if first is not None else None
            number = int(match[2]) if match and int(match[2]) > last else last + 1
        else:
            match = _ROW_NUMBER.fullmatch(text)
            if match is None or int(match[1]) < 1:
                raise _Damaged(last + 1, _("a row is numbered {text!r}, which is no row number", text=text[:20]))
            number = int(match[1])
        if number <= last:
            raise _Damaged(number, _("row {row} is stored after row {last}: the rows are out of order or repeated",
                                     row=number, last=last))
        if number > MAX_ROWS:
            raise _Damaged(number, _("row {row:,} is beyond the last row of a sheet ({limit:,})", row=number,
                                     limit=MAX_ROWS))
        return number

    def _cells(self, row: Any, number: int) -> dict[int, Any]:
        cells: dict[int, Any] = {}
        column = 0
        for element in row:
            if element.tag != _CELL:
                continue
            reference = element.get("r")
            if reference is None:
                column += 1
                reference = f"{_column_letters(column)}{number}"
            else:
                column = self._column(reference, number, column)
            if column > MAX_COLUMNS:
                raise _Damaged(number, _("cell {cell} is beyond the last column of a sheet (XFD)", cell=reference))
            try:
                value = self._value(element)
            except (ValueError, TypeError, IndexError, OverflowError) as exc:
                raise _Damaged(number, _("cell {cell} {problem}", cell=reference, problem=exc)) from None
            if value is not None:
                cells[column] = value
        return cells

    @staticmethod
    def _column(reference: str, number: int, previous: int) -> int:
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            raise _Damaged(number, _("a cell of row {row} is at {reference!r}, which is no cell reference", row=number,
                                     reference=reference[:20]))
        column = _column_number(match[1])
        if int(match[2]) != number:
            raise _Damaged(number, _("cell {cell} is stored in row {row}", cell=reference, row=number))
        if column <= previous:
            raise _Damaged(number, _("cell {cell} is stored after column {column}: the cells are out of order or "
                                     "repeated", cell=reference, column=_column_letters(previous)))
        return column

    def _value(self, cell: Any) -> Any:
        """The cell's value as openpyxl gives it; ValueError (and kin) saying why when it has none."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            return _inline_text(inline) if inline is not None else None
        text = cell.findtext(_VALUE) or None
        if text is None:
            return None
        if kind == "n":
            number = _number(text)
            style = cell.get("s") or "0"
            if not style.isdigit():
                raise ValueError(_("has the style {style!r}, which is no style number", style=style[:20]))
            if int(style) not in self.date_styles:
                return number
            try:
                return self.from_excel(number, self.epoch, timedelta=int(style) in self.timedelta_styles)
            except (OverflowError, ValueError):
                return number  # formatted as a date, but outside Excel's dates: the number it holds
        if kind == "s":
            try:
                index = int(text)
            except ValueError:
                raise ValueError(_("refers to shared string {text!r}, which is no index", text=text[:20])) from None
            if not 0 <= index < len(self.strings):
                raise IndexError(_("refers to shared string {index}, but the workbook has {n}", index=index,
                                   n=len(self.strings)))
            return self.strings[index]
        if kind == "b":
            if text.strip() not in ("0", "1"):
                raise ValueError(_("is a boolean cell holding {text!r}, not 0 or 1", text=text[:20]))
            return text.strip() == "1"
        if kind == "d":
            try:
                return self.from_iso(text)
            except ValueError:
                raise ValueError(_("is a date cell holding {text!r}, not an ISO 8601 date", text=text[:20])) from None
        if kind in ("str", "e"):  # a formula's text result; an error such as #DIV/0!
            return text
        raise ValueError(_("has the unknown type {kind!r}", kind=kind[:20]))


def _inline_text(inline: Any) -> str:
    """An inline string's text: its ``t``, or the ``t`` of each rich-text run (phonetic runs left out)."""
    parts = []
    for node in inline:
        if node.tag == _RUN:
            node = node.find(_TEXT)
            if node is None:
                continue
        elif node.tag != _TEXT:
            continue
        parts.append(node.text or "")
    return "".join(parts)


def _number(text: str) -> int | float:
    if _NUMBER.fullmatch(text) is None:
        raise ValueError(_("is a number cell holding {text!r}, which is not a number", text=text[:20]))
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise ValueError(_("is a number cell of {n:,} digits", n=len(text.strip()))) from None



def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
