"""qualiscore: customer-service quality scorecards from readable, versioned schemes.

The library's entry points are loaded on first use, so that `qualiscore --help` and
`qualiscore validate` never import the engines or the record readers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0.dev0"

if TYPE_CHECKING:
    from .analysis import Result, Summary, score
    from .engine import Run, evaluate, evaluate_versions
    from .records import read_records
    from .runs import execute
    from .schemes import load_scheme, load_versions

_EXPORTS = {
    "Result": "analysis",
    "Summary": "analysis",
    "score": "analysis",
    "Run": "engine",
    "evaluate": "engine",
    "evaluate_versions": "engine",
    "execute": "runs",
    "read_records": "records",
    "load_scheme": "schemes",
    "load_versions": "schemes",
}

__all__ = ["Result", "Run", "Summary", "__version__", "evaluate", "evaluate_versions", "execute", "load_scheme",
           "load_versions", "read_records", "score"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
