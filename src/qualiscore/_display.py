"""Figures and text as every output lays them out: the report, the diff and the command line.

Means over scorecards keep a "—" for "nothing to average" and the same decimals in
every output; columns and carets line up under Chinese grade names and scheme text,
whose East Asian wide characters take two terminal cells. Text from schemes and data
is shown with its control characters made :func:`visible`, so that it cannot drive
the terminal it is printed on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from .i18n import _


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None when there is nothing to average."""
    return sum(values) / len(values) if values else None


def fmt_number(x: float | None, decimals: int = 2) -> str:
    """``x`` with ``decimals`` decimals; "—" for no value."""
    return "—" if x is None else f"{x:.{decimals}f}"


def display_width(text: str) -> int:
    """The terminal cells ``text`` takes as the command line prints it: East Asian wide and
    full-width characters take two, a control character the width of its :func:`visible` escape."""
    return sum(2 if wide(ch) else 1 for ch in visible(text))


def wide(char: str) -> bool:
    """Whether the terminal gives ``char`` two cells (East Asian wide and full-width characters)."""
    return unicodedata.east_asian_width(char) in "WF"


# C0, DEL and C1 controls (ESC starts every terminal sequence; C1 has one-byte CSI and OSC),
# the line and paragraph separators, the Unicode Bidi_Control characters that reorder
# what is shown, and lone surrogates (undecodable bytes of a file name).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match[0]
    if ch in _SHORT:
        return _SHORT[ch]
    return f"\\x{ord(ch):02x}" if ch < " " else f"\\u{ord(ch):04x}"


def visible(text: str) -> str:
    """``text`` with each control, bidi and separator character written as an escape.

    ESC is printed as the four characters ``\\x1b`` and U+202E as ``\\u202e`` (tab,
    newline and carriage return as ``\\t``, ``\\n``, ``\\r``), so a value taken from a
    scheme or a record can neither retitle the terminal, write its clipboard or clear
    it, nor reorder or break the line it is shown on. Everything from DEL up gets the
    four-digit form, which is also valid inside a JSON string. Text without such
    characters, Chinese included, is returned unchanged.
    """
    return _CONTROL.sub(_escape, text)


def json_shown(value: Any) -> str:
    """A value found in a JSON file, for a message saying what was expected instead: short, never a whole tree."""
    if isinstance(value, (dict, list)):
        return _("a JSON object") if isinstance(value, dict) else _("a JSON array")
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"
