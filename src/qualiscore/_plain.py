"""Plain values as YAML and JSON give them, read without raising.

The semantic lint and the differ walk documents that may not validate: a mapping
where a list belongs is read as an empty list, ``true`` is never a number.
"""

from __future__ import annotations

from typing import Any


def dict_of(x: Any) -> dict[str, Any]:
    """``x`` if it is a mapping, else an empty one."""
    return x if isinstance(x, dict) else {}


def list_of(x: Any) -> list[Any]:
    """``x`` if it is a list, else an empty one."""
    return x if isinstance(x, list) else []


def is_number(x: Any) -> bool:
    """An int or a float, not a boolean (YAML's ``true`` is not 1)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def number_or_none(x: Any) -> float | None:
    """``x`` as a float when it is a number, else None."""
    return float(x) if is_number(x) else None
