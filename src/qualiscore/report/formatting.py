"""Text shared by the HTML and Markdown renderers: escaping for HTML, measures and percentages."""

from __future__ import annotations

import html
from typing import Any

from ..i18n import _
from .run import NO_GRADE


def escape(x: Any) -> str:
    """Escaped text for HTML element content and attribute values (None is empty)."""
    return html.escape("" if x is None else str(x), quote=True)


def grade_label(grade: str) -> str:
    """A grade as the report shows it: the scheme's name, or "(none)" in the current language."""
    return _(NO_GRADE) if grade == NO_GRADE else grade


def fmt_measure(x: float | None, share: bool) -> str:
    """An indicator's value as its measure reads: 77.0% for a share, 1,234 or 12.5 otherwise."""
    if x is None:
        return "—"
    if share:
        return f"{x * 100:.1f}%"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def fmt_interval(x: float | None, low: float | None, high: float | None, share: bool) -> str:
    """``77.0% [70.1%, 83.9%]``: a value with its confidence interval, or the value alone without one."""
    text = fmt_measure(x, share)
    if x is None or low is None or high is None:
        return text
    return f"{text} [{fmt_measure(low, share)}, {fmt_measure(high, share)}]"


def fmt_target(target: float | None, lower_better: bool | None, share: bool) -> str:
    """``≥ 85.0%`` or ``≤ 300``: the target with its direction, when the direction is known."""
    text = fmt_measure(target, share)
    if target is not None and lower_better is not None:
        text = ("≤ " if lower_better else "≥ ") + text
    return text


def pct(n: int, total: int) -> str:
    """``n`` as a percentage of ``total`` with one decimal; "—" when there is no total."""
    return f"{100 * n / total:.1f}%" if total else "—"
