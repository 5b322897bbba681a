"""One input before its rows are read: the path (and Excel sheet), its format, its bytes' hash and codec."""

from __future__ import annotations

import codecs
import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import DataError, Location, UsageError
from ..i18n import N_, _

_CHUNK = 1 << 20  # bytes read at a time to hash and decode
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
KNOWN_FORMATS = N_(".csv, .tsv, .jsonl, .ndjson, .xlsx and .parquet")  # shown as _(KNOWN_FORMATS)


def split_sheet(path: str | Path) -> tuple[str, str | None]:
    """``"book.xlsx#Sheet1"`` -> ``("book.xlsx", "Sheet1")``; any other path -> ``(path, None)``.

    The sheet follows the first ``#`` that comes right after an Excel suffix, so a sheet
    name may itself contain ``#``. A path that exists as written is never split (a file
    may have ``#`` in its name), and ``book.xlsx#`` (nothing after ``#``) means the
    default sheet.
    """
    text = os.fspath(path)
    if "#" not in text or os.path.exists(text):
        return text, None
    start = 0
    while True:
        i = text.find("#", start)
        if i < 0:
            return text, None
        if text[:i].lower().endswith(_EXCEL_SUFFIXES):
            return text[:i], (text[i + 1 :] or None)
        start = i + 1


def check_file(path: str, source: str) -> None:
    if not os.path.exists(path):
        raise DataError(
            _("no such file"),
            location=Location(source),
            hint=_("check the path; it is relative to the current directory"),
            code="file-not-found",
        )
    if os.path.isdir(path):
        raise DataError(
            _("is a directory, not a records file"),
            location=Location(source),
            hint=_("pass the data files themselves (e.g. data/*.csv)"),
            code="file-not-found",
        )


def input_format(path: str, source: str) -> str:
    fmt = _SUFFIXES.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        suffix = os.path.splitext(path)[1] or "(none)"
        if suffix.lower() in (".xls", ".et", ".ods"):
            hint = _("qualiscore reads {formats} files; rename the file or convert it (an old .xls workbook: open it "
                     "in Excel and save it as .xlsx, or as CSV UTF-8)", formats=_(KNOWN_FORMATS))
        else:
            hint = _("qualiscore reads {formats} files; rename the file or convert it", formats=_(KNOWN_FORMATS))
        raise DataError(
            _("unknown input format {suffix!r}", suffix=suffix),
            location=Location(source),
            hint=hint,
            code="format",
        )
    return fmt


def hash_file(path: str) -> tuple[str, bytes]:
    """(sha256 of the raw bytes, the first 4 bytes), streaming."""
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4)
        hasher.update(head)
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest(), head


def _decode_error(path: str, encoding: str, offset: int, line: int) -> DataError:
    return DataError(
        _("cannot be decoded as {encoding}: bad byte at line {line}, byte offset {offset}", encoding=encoding,
          line=line, offset=offset),
        location=Location(path, line=line),
        hint=_("pass --encoding with the file's real encoding (e.g. --encoding gb18030), or re-save it as UTF-8"),
        code="encoding",
    )


def first_utf8_line(path: str) -> int | None:
    """The first line that is UTF-8 text beyond ASCII and Latin (a character from U+0800 on: CJK...).

    In a file that is not UTF-8 as a whole, such a line is evidence of a second encoding:
    GB18030 decodes UTF-8 bytes too, as other characters (张三 as 寮犱笁). Characters below
    U+0800 are not evidence, because short runs of GB18030 bytes often happen to form them.
    """
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if max(text) >= "\u0800":
                return number
    return None


def _mixed_error(source: str, utf8: int, offset: int, line: int) -> DataError:
    """A file whose lines are in two encodings, located at the first line not in the encoding it starts with."""
    if utf8 < line:
        message = _("mixes encodings: line {utf8} is UTF-8, but line {line} is not UTF-8 (bad byte at offset "
                    "{offset}; perhaps GB18030)", utf8=utf8, line=line, offset=offset)
    else:
        message = _("mixes encodings: line {line} is not UTF-8 (bad byte at offset {offset}; perhaps GB18030), "
                    "but line {utf8} is UTF-8", utf8=utf8, line=line, offset=offset)
    return DataError(
        message,
        location=Location(source, line=max(line, utf8)),
        hint=_("save the whole file in one encoding (UTF-8), or pass --encoding to read every line "
               "with one codec (e.g. --encoding gb18030)"),
        code="encoding",
    )


def scan_text(path: str, source: str, encoding: str | None) -> tuple[str, str]:
    """Hash the raw bytes and choose the codec, streaming (the text is decoded again to read).

    Returns (sha256, codec name). The check here is complete, so reading later never
    fails half-way through on an undecodable byte.
    """

    def attempt(codec: str, hasher: Any | None) -> tuple[int, int] | None:
        """Decode the whole file; return (byte offset, line) of the first bad byte, or None."""
        # A byte order mark is skipped here, so that offsets count from the start of the file.
        skip = len(codecs.BOM_UTF8) if codec == "utf-8-sig" else 0
        decoder = codecs.getincrementaldecoder("utf-8" if skip else codec)("strict")
        offset = skip
        lines = 0
        failure: tuple[int, int] | None = None
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_CHUNK)
                if hasher is not None:
                    hasher.update(chunk)
                if skip:
                    chunk, skip = chunk[skip:], 0
                if failure is None:
                    pending = decoder.getstate()[0]
                    try:
                        decoder.decode(chunk, final=not chunk)
                    except UnicodeDecodeError as exc:
                        data = pending + chunk
                        bad = max(exc.start, 0)
                        failure = (offset - len(pending) + bad, lines + data[:bad].count(b"\n") + 1)
                        if hasher is None:
                            return failure
                    lines += chunk.count(b"\n")
                    offset += len(chunk)
                if not chunk:
                    return failure

    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4)
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(
                _("unknown encoding {encoding!r}", encoding=encoding),
                hint=_("use a Python codec name such as utf-8, gb18030, gbk or utf-16"),
            ) from None
        if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        failure = attempt(codec, hasher)
        if failure is not None:
            raise _decode_error(source, codec, *failure)
        return hasher.hexdigest(), codec
    if head.startswith(codecs.BOM_UTF8):
        first = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        first = "utf-16"
    else:
        first = "utf-8"
    failure = attempt(first, hasher)
    if failure is None:
        return hasher.hexdigest(), first
    if first == "utf-16":
        raise _decode_error(source, first, *failure)
    utf8 = first_utf8_line(path)
    if utf8 is not None:
        raise _mixed_error(source, utf8, *failure)
    if attempt("gb18030", None) is None:
        return hasher.hexdigest(), "gb18030"
    offset, line = failure
    raise DataError(
        _("is neither UTF-8 nor GB18030: bad byte at line {line}, byte offset {offset}", line=line, offset=offset),
        location=Location(source, line=line),
        hint=_("pass --encoding with the file's real encoding, or re-save it as UTF-8"),
        code="encoding",
    )
