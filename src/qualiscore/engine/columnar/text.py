"""Whitespace and other properties of text cells, as Python's str methods see them."""

from __future__ import annotations

import re

from ..._polars import pl

_WS: str | None = None


def whitespace_class() -> str:
    """Every character str.isspace() accepts (the blank-cell rule), as a regex class body."""
    global _WS
    if _WS is None:
        everything = "".join(map(chr, range(0x110000)))
        chars = [c for c in re.findall(r"\s", everything) if c.isspace()]
        _WS = "".join(f"\\x{{{ord(c):x}}}" for c in chars)
    return _WS


def _whitespace_chars() -> str:
    return "".join(chr(int(h, 16)) for h in whitespace_class()[3:-1].split("}\\x{"))


def is_blank(raw: pl.Expr) -> pl.Expr:
    """Null, empty or only whitespace (never null). Stripping stops at the first other character."""
    only_space = raw.str.strip_chars_start(_whitespace_chars()).str.len_bytes() == 0
    return (raw.is_null() | only_space).fill_null(True)


def is_ascii(raw: pl.Expr) -> pl.Expr:
    return raw.str.len_bytes() == raw.str.len_chars()
