"""Summary statistics and number formatting shared by the report and the diff.

Both show means over scorecards with a fixed number of decimals; writing these once
keeps a "—" for "nothing to average" and the rounding the same in every output.
"""

from __future__ import annotations

from collections.abc import Sequence


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None when there is nothing to average."""
    return sum(values) / len(values) if values else None


def fmt_number(x: float | None, decimals: int = 2) -> str:
    """``x`` with ``decimals`` decimals; "—" for no value."""
    return "—" if x is None else f"{x:.{decimals}f}"
