"""Figures and text as every output lays them out: the report, the diff and the command line.

Means over scorecards keep a "—" for "nothing to average" and the same decimals in
every output; columns and carets line up under Chinese grade names and scheme text,
whose East Asian wide characters take two terminal cells.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None when there is nothing to average."""
    return sum(values) / len(values) if values else None


def fmt_number(x: float | None, decimals: int = 2) -> str:
    """``x`` with ``decimals`` decimals; "—" for no value."""
    return "—" if x is None else f"{x:.{decimals}f}"


def display_width(text: str) -> int:
    """The terminal cells ``text`` takes: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
