"""Whitespace and other properties of text cells, as Python's str methods see them."""

from __future__ import annotations

import array
import functools
import re
import sys

from ..._polars import pl


@functools.cache
def _whitespace_chars() -> str:
    """Every character str.isspace() accepts (the blank-cell rule), found in every code point.

    All code points as one string, decoded from UTF-32 (building it with chr() one by one costs
    several times more, at the start of every run).
    """
    points = array.array("I" if array.array("I").itemsize == 4 else "L", range(sys.maxunicode + 1))
    everything = points.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be",
                                          "surrogatepass")
    return "".join(c for c in re.findall(r"\s", everything) if c.isspace())


def whitespace_class() -> str:
    """Every character str.isspace() accepts, as a regex class body."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in _whitespace_chars())


def is_blank(raw: pl.Expr) -> pl.Expr:
    """Null, empty or only whitespace (never null). Stripping stops at the first other character."""
    only_space = raw.str.strip_chars_start(_whitespace_chars()).str.len_bytes() == 0
    return (raw.is_null() | only_space).fill_null(True)


def is_ascii(raw: pl.Expr) -> pl.Expr:
    return raw.str.len_bytes() == raw.str.len_chars()
