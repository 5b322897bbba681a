"""A short digest of every line (or worksheet row) of each input, so ``verify`` can name what changed.

An input's SHA-256 says only *that* it changed. ``row-digests.bin``, written with the
outputs and listed in the manifest, holds a CRC-32 per physical line of each text input
(CSV, TSV, JSON Lines) and per row of an Excel worksheet, numbered as the rejects number
them. ``verify`` computes the same digests of the input as it is now and aligns the two
sequences, naming each line changed, added or removed. CRC-32 only locates: the SHA-256
remains the proof, so a collision can hide which line changed but never that the input
did. Parquet inputs are typed columns written by programs, not edited by hand; they get
no line digests (their entry says so), and ``verify`` names only the subjects they move.

File format (``qualiscore-row-digests/v1``): that line, one line of JSON
``{"inputs": [{"path", "unit", "count"}]}``, then each input's ``count`` digests as
4-byte big-endian integers, in the manifest's order of inputs.
"""

from __future__ import annotations

import difflib
import json
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .i18n import _
from .records import InputFile, split_sheet

FILE = "row-digests.bin"
FORMAT = "qualiscore-row-digests/v1"
_CHUNK = 1 << 22
# Up to this many lines between the first and the last difference are aligned minimally (difflib);
# a longer stretch is walked linearly, resynchronising within RESYNC lines, naming at most MAX_CHANGES.
MAX_ALIGNED = 2_000
RESYNC = 50
MAX_CHANGES = 10_000
_UNITS = {"csv": "line", "tsv": "line", "jsonl": "line", "json": "line", "xlsx": "row"}


@dataclass(frozen=True, slots=True)
class Digests:
    """The digests of one input: ``unit`` is "line", "row" (worksheet) or "none" (not recorded)."""

    path: str
    unit: str
    values: array[int]


def compute(path: str, fmt: str, sheet: str | None = None) -> Digests:
    """The digests of the input ``path`` (as a manifest records it, ``book.xlsx#Sheet`` included)."""
    unit = _UNITS.get(fmt, "none")
    real = split_sheet(path)[0]
    if unit == "line":
        values = _line_digests(real)
    elif unit == "row":
        values = _row_digests(real, sheet if sheet is not None else split_sheet(path)[1])
    else:
        values = array("I")
    return Digests(path, unit, values)


def _line_digests(path: str) -> array[int]:
    """CRC-32 of each line's bytes without its ``\\n`` (a final line without one counts too)."""
    out = array("I")
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            out.extend(map(zlib.crc32, lines))
    if tail:
        out.append(zlib.crc32(tail))
    return out


def _row_digests(path: str, sheet: str | None) -> array[int]:
    """CRC-32 of each worksheet row's cells (as the reader sees them), by row number from 1."""
    from .records.excel import Workbook, _sheet_rows

    out = array("I")
    book = Workbook(path, path, sheet)
    try:
        rows = _sheet_rows(book, book.sheet.title, path)
        for number, cells in rows:
            out.extend([zlib.crc32(b"")] * (number - 1 - len(out)))  # rows the sheet does not store are empty
            text = json.dumps(sorted(cells.items()), ensure_ascii=False, default=str, separators=(",", ":"))
            out.append(zlib.crc32(text.encode("utf-8") if cells else b""))
    finally:
        book.close()
    return out


def render(inputs: Iterable[Digests]) -> bytes:
    items = list(inputs)
    head = {"inputs": [{"path": d.path, "unit": d.unit, "count": len(d.values)} for d in items]}
    parts = [FORMAT.encode() + b"\n", json.dumps(head, ensure_ascii=False, sort_keys=True).encode() + b"\n"]
    for d in items:
        values = array("I", d.values)
        if sys.byteorder == "little":  # the file is big-endian on every machine
            values.byteswap()
        parts.append(values.tobytes())
    return b"".join(parts)


def parse(data: bytes) -> list[Digests]:
    """The digests ``render`` wrote; ValueError when ``data`` is not such a file."""
    try:
        first, rest = data.split(b"\n", 1)
        head, body = rest.split(b"\n", 1)
        if first.decode() != FORMAT:
            raise ValueError(_("not a {format} file", format=FORMAT))
        entries = json.loads(head)["inputs"]
        out = []
        offset = 0
        for entry in entries:
            count = int(entry["count"])
            values = array("I")
            values.frombytes(body[offset:offset + 4 * count])
            if len(values) != count:
                raise ValueError(_("shorter than its header says"))
            if sys.byteorder == "little":
                values.byteswap()
            out.append(Digests(str(entry["path"]), str(entry["unit"]), values))
            offset += 4 * count
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(_("{file} is damaged: {error}", file=FILE, error=exc)) from None
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """One line (or row) of an input that differs from the run's: "changed", "added" or "removed".

    ``number`` is the line's number in the input as it is now (for "removed": in the input
    as it was); ``count`` > 1 names a span of that many lines, when too many differ to align.
    """

    kind: str
    number: int
    count: int = 1


def changes(published: Sequence[int], current: Sequence[int]) -> list[Change]:
    """The lines that differ between the run's digests and today's, aligned so an insertion is one line."""
    start = 0
    limit = min(len(published), len(current))
    while start < limit and published[start] == current[start]:
        start += 1
    end_p, end_c = len(published), len(current)
    while end_p > start and end_c > start and published[end_p - 1] == current[end_c - 1]:
        end_p -= 1
        end_c -= 1
    old, new = list(published[start:end_p]), list(current[start:end_c])
    if len(old) + len(new) <= MAX_ALIGNED:
        return _aligned(old, new, start)
    return _walked(old, new, start)


def _aligned(old: list[int], new: list[int], start: int) -> list[Change]:
    """A minimal alignment (difflib), for a short stretch between the first and the last difference."""
    found = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        found += [Change("changed", start + j1 + k + 1) for k in range(paired)]
        found += [Change("added", start + j1 + k + 1) for k in range(paired, j2 - j1)]
        found += [Change("removed", start + i1 + k + 1) for k in range(paired, i2 - i1)]
    return found


def _walked(old: list[int], new: list[int], start: int) -> list[Change]:
    """A linear alignment for a long stretch: edits far apart in a big file, each resynchronised nearby.

    At a difference, the next ``RESYNC`` lines of each side are searched for the other's
    line (an insertion or a removal); failing that, the line was changed. After
    ``MAX_CHANGES`` differences the rest is named as one span.
    """
    found: list[Change] = []
    i = j = 0
    while i < len(old) and j < len(new):
        if old[i] == new[j]:
            i += 1
            j += 1
            continue
        if len(found) >= MAX_CHANGES:
            return found + _span(len(old) - i, len(new) - j, start + i, start + j)
        removed = next((k for k in range(1, RESYNC) if i + k < len(old) and old[i + k] == new[j]), None)
        added = next((k for k in range(1, RESYNC) if j + k < len(new) and new[j + k] == old[i]), None)
        if added is not None and (removed is None or added <= removed):
            found += [Change("added", start + j + k + 1) for k in range(added)]
            j += added
        elif removed is not None:
            found += [Change("removed", start + i + k + 1) for k in range(removed)]
            i += removed
        else:
            found.append(Change("changed", start + j + 1))
            i += 1
            j += 1
    found += [Change("removed", start + k + 1) for k in range(i, len(old))]
    found += [Change("added", start + k + 1) for k in range(j, len(new))]
    return found


def _span(rest_old: int, rest_new: int, at_old: int, at_new: int) -> list[Change]:
    """The rest of a stretch as spans: lines changed, then the lines one side has more of."""
    paired = min(rest_old, rest_new)
    found = [Change("changed", at_new + 1, paired)] if paired else []
    if rest_new > paired:
        found.append(Change("added", at_new + paired + 1, rest_new - paired))
    if rest_old > paired:
        found.append(Change("removed", at_old + paired + 1, rest_old - paired))
    return found


def line_text(path: str, number: int, limit: int = 120) -> str | None:
    """Line ``number`` of the text file ``path`` as it is now, clipped (None past the end)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if n == number:
                text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                return text if len(text) <= limit else text[: limit - 1] + "…"
    return None


def digests_of(run_inputs: Iterable[InputFile]) -> bytes:
    """``row-digests.bin`` for a run's inputs, each read again from where it was read (unless its digests
    came with it)."""
    items = []
    for i in run_inputs:
        if i.digests is not None:
            unit, raw = i.digests
            values = array("I")
            values.frombytes(raw)
            items.append(Digests(i.path, unit, values))
            continue
        d = compute(i.opened or i.path, i.format, i.sheet)
        items.append(Digests(i.path, d.unit, d.values))
    return render(items)
