"""Excel workbooks: the chosen worksheet read cell by cell, as sparsely as it is stored.

openpyxl opens the workbook (its parts, shared strings and number formats); the rows of
the sheet are read here, from its XML, because a worksheet is a file anyone can write:

* Only the cells that are stored cost time. A cell at ``XFD40000`` or a header cell in
  the last column does not turn every row into 16,384 cells, rows missing between two
  rows are not produced one by one, and only the columns the contract reads are kept.
* A damaged part is refused with its place: a cell whose value does not fit its type
  (a number cell holding text, a shared string that does not exist, a date cell that is
  no date), a cell or row reference that is no place on a sheet or lies beyond Excel's
  1,048,576 rows and 16,384 columns, rows or cells out of order or stored twice (openpyxl
  would drop or overwrite them without a word), XML that does not parse. Each is a
  :class:`DataError` naming the file, the sheet, the cell or row and what to do.

The values are openpyxl's: numbers, shared and inline strings (without phonetic runs),
booleans, ISO 8601 date cells, and numbers formatted as dates turned into dates with
the workbook's epoch. A number formatted as a date that is outside Excel's dates stays
the number (openpyxl would make it the text ``#VALUE!``).
"""

from __future__ import annotations

import difflib
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from typing import Any, cast

from ..errors import DataError, Location
from .collect import Collector
from .inputs import KNOWN_FORMATS, split_sheet
from .tables import missing_library, table_plan, type_table_rows

MAX_ROWS = 1_048_576  # Excel's limits: a reference beyond them is no cell of a sheet
MAX_COLUMNS = 16_384  # XFD

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v", f"{_MAIN}is"
_TEXT, _RUN = f"{_MAIN}t", f"{_MAIN}r"
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_ROW_NUMBER = re.compile(r"\s*([0-9]+)(?:\.0*)?\s*")  # openpyxl reads 2.0 as row 2, and so do we
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
_HINT_DAMAGED = ("the workbook is damaged (or was not written by a spreadsheet program): open it in Excel "
                 "and save it again, or export the sheet as CSV UTF-8")


def _not_a_workbook(source: str, detail: str) -> DataError:
    return DataError(
        f"is not an Excel .xlsx workbook ({detail})",
        location=Location(source),
        hint=f"save it from Excel as .xlsx; if it is a text export, name it .csv. qualiscore reads {KNOWN_FORMATS} files",
        code="format",
    )


class Workbook:
    """An Excel workbook opened to read one worksheet (read-only, cached values of formulas)."""

    def __init__(self, path: str, source: str, sheet: str | None) -> None:
        try:
            import openpyxl
        except ImportError:
            raise missing_library(source, "Excel workbooks", "openpyxl", "excel") from None
        import warnings

        self.source = source
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic != b"PK\x03\x04":
            raise _not_a_workbook(source, "it is not a zip archive")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unsupported extensions, missing styles: not our business
                self.book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except zipfile.BadZipFile as exc:
            raise _not_a_workbook(source, f"damaged zip archive: {exc}") from None
        except OSError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on malformed parts
            raise DataError(
                f"cannot be read as an Excel workbook: {type(exc).__name__}: {exc}",
                location=Location(source),
                hint="open it in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8",
                code="unreadable",
            ) from None
        try:
            self.sheet = self._choose(sheet)
        except BaseException:
            self.book.close()
            raise

    def _choose(self, wanted: str | None) -> Any:
        book = self.book
        names = list(book.sheetnames)
        if wanted is None:
            sheets = book.worksheets
            if not sheets:
                raise DataError(
                    "is empty: the workbook has no worksheet",
                    location=Location(self.source),
                    hint="put the records on a worksheet, with column headers in the first row",
                    code="empty",
                )
            return sheets[0]
        name = wanted if wanted in names else None
        if name is None:  # Excel sheet names are unique regardless of case
            folded = [n for n in names if n.casefold() == wanted.strip().casefold()]
            name = folded[0] if len(folded) == 1 else None
        if name is None:
            shown = ", ".join(repr(n) for n in names[:20]) + (", …" if len(names) > 20 else "")
            close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
            base = split_sheet(self.source)[0]
            raise DataError(
                f"has no sheet {wanted!r}; its sheets are: {shown}",
                location=Location(self.source),
                hint=f"name one of its sheets, e.g. {base}#{close[0] if close else names[0]}"
                if names
                else "the workbook has no sheets",
                code="format",
            )
        ws = book[name]
        if not hasattr(ws, "iter_rows"):
            raise DataError(
                f"sheet {name!r} is a chart sheet, not a table",
                location=Location(self.source),
                hint="name the worksheet that holds the records",
                code="format",
            )
        return ws

    def close(self) -> None:
        self.book.close()


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

    def __init__(self, book: Workbook) -> None:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        ws = cast(Any, book.sheet)  # the read-only sheet's parts are openpyxl's own attributes
        workbook = cast(Any, book.book)
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
                raise _Damaged(last + 1, f"a row is numbered {text[:20]!r}, which is no row number")
            number = int(match[1])
        if number <= last:
            raise _Damaged(number, f"row {number} is stored after row {last}: the rows are out of order or repeated")
        if number > MAX_ROWS:
            raise _Damaged(number, f"row {number:,} is beyond the last row of a sheet ({MAX_ROWS:,})")
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
                raise _Damaged(number, f"cell {reference} is beyond the last column of a sheet (XFD)")
            try:
                value = self._value(element)
            except (ValueError, TypeError, IndexError, OverflowError) as exc:
                raise _Damaged(number, f"cell {reference} {exc}") from None
            if value is not None:
                cells[column] = value
        return cells

    @staticmethod
    def _column(reference: str, number: int, previous: int) -> int:
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            raise _Damaged(number, f"a cell of row {number} is at {reference[:20]!r}, which is no cell reference")
        column = _column_number(match[1])
        if int(match[2]) != number:
            raise _Damaged(number, f"cell {reference} is stored in row {number}")
        if column <= previous:
            raise _Damaged(number, f"cell {reference} is stored after column {_column_letters(previous)}: "
                                   "the cells are out of order or repeated")
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
                raise ValueError(f"has the style {style[:20]!r}, which is no style number")
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
                raise ValueError(f"refers to shared string {text[:20]!r}, which is no index") from None
            if not 0 <= index < len(self.strings):
                raise IndexError(f"refers to shared string {index}, but the workbook has {len(self.strings)}")
            return self.strings[index]
        if kind == "b":
            if text.strip() not in ("0", "1"):
                raise ValueError(f"is a boolean cell holding {text[:20]!r}, not 0 or 1")
            return text.strip() == "1"
        if kind == "d":
            try:
                return self.from_iso(text)
            except ValueError:
                raise ValueError(f"is a date cell holding {text[:20]!r}, not an ISO 8601 date") from None
        if kind in ("str", "e"):  # a formula's text result; an error such as #DIV/0!
            return text
        raise ValueError(f"has the unknown type {kind[:20]!r}")


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
        raise ValueError(f"is a number cell holding {text[:20]!r}, which is not a number")
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise ValueError(f"is a number cell of {len(text.strip()):,} digits") from None


def read_xlsx(book: Workbook, source: str, out: Collector) -> int:
    """Type every row of the chosen worksheet, streaming; returns rows read (empty rows excluded)."""
    title = book.sheet.title
    rows = _sheet_rows(book, title, source)
    try:
        return _type_rows(rows, title, source, out)
    finally:
        rows.close()  # the sheet's stream stays open until its generator ends


def _type_rows(rows: Iterator[tuple[int, dict[int, Any]]], title: str, source: str, out: Collector) -> int:
    """Find the header (the first row with a cell), then type the rows under it."""
    header: list[str] | None = None
    header_row = 0
    for number, cells in rows:
        texts = {column: _header_text(value) for column, value in cells.items()}
        if any(not (isinstance(v, str) and not v.strip()) for v in cells.values()):
            width = max((c for c, text in texts.items() if text), default=0)
            header = [texts.get(c, "") for c in range(1, width + 1)]
            header_row = number
            break
    if header is None:
        raise DataError(
            f"is empty: sheet {title!r} needs a header row naming its columns",
            location=Location(source),
            hint="put column headers in the first row of the sheet, records below",
            code="empty",
        )
    plan, id_cell = table_plan(header, source, header_row, out)
    # Keep only the columns the contract reads, in a row of their own.
    used = sorted({idx for _, idx, _ in plan if idx >= 0})
    where = {idx: pos for pos, idx in enumerate(used)}
    plan = [(name, where[idx] if idx >= 0 else -1, conv) for name, idx, conv in plan]
    columns = [idx + 1 for idx in used]

    def records() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in rows:
            if all(v == "" for v in cells.values()):
                continue  # an empty spreadsheet row: not read, but it keeps its number
            yield number, [cells.get(c) for c in columns]

    return type_table_rows(records(), plan, where.get(id_cell) if id_cell is not None else None, len(used),
                           source, out, skip_blank=False)


def _sheet_rows(book: Workbook, title: str, source: str) -> Generator[tuple[int, dict[int, Any]]]:
    """The sheet's stored rows; damage (in a cell, a row, the XML or the zip) becomes a located DataError."""
    import warnings

    row: int | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for row, cells in _SheetCells(book).rows():
                yield row, cells
    except _Damaged as damage:
        raise DataError(f"sheet {title!r}: {damage.message}", location=Location(source, row=damage.row),
                        hint=_HINT_DAMAGED, code="unreadable") from None
    except (SyntaxError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        after = f" after row {row}" if row is not None else ""
        raise DataError(f"sheet {title!r} cannot be read{after}: {type(exc).__name__}: {exc}",
                        location=Location(source), hint=_HINT_DAMAGED, code="unreadable") from None


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
