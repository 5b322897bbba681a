"""Constant lookups by position: replace_strict's answers, in bounded memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...._polars import pl

DENSE_LOOKUP = 1 << 20  # integer keys spanning at most this many values are looked up by position


def lookup(key: pl.Expr, keys: Sequence[Any], values: pl.Series) -> pl.Expr:
    """The value of ``values`` at the position of ``key`` in ``keys`` (unique); null if absent.

    What ``key.replace_strict(keys, values, default=None)`` gives, in a form Polars' streaming
    engine runs in bounded memory: replace_strict makes it read the whole input first. Keys
    compare as Python's ``==`` does (1 == 1.0, 0.0 == -0.0).
    """
    n = len(keys)
    if not n:
        return pl.lit(None, dtype=values.dtype)
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
        lo, hi = min(keys), max(keys)
        if hi - lo < DENSE_LOOKUP:
            dense: list[Any] = [None] * (hi - lo + 2)  # the last slot: absent
            for k, v in zip(keys, values.to_list()):
                dense[k - lo] = v
            position = pl.when(key.is_between(lo, hi)).then(key - lo).otherwise(hi - lo + 1)
            return pl.lit(pl.Series(dense, dtype=values.dtype)).gather(position)
    if all(isinstance(k, str) for k in keys):
        position = key.cast(pl.Enum(list(keys)), strict=False).to_physical().cast(pl.Int64).fill_null(n)
    else:
        position = pl.lit(n, dtype=pl.Int64)
        for i, k in reversed(list(enumerate(keys))):
            position = pl.when(key == k).then(i).otherwise(position)
    return pl.lit(values.append(pl.Series([None], dtype=values.dtype))).gather(position)
