"""qualiscore: customer-service quality scorecards from readable, versioned schemes."""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import Run, evaluate, evaluate_versions
from .records import read_records
from .schemes import load_scheme, load_versions

__all__ = ["Run", "__version__", "evaluate", "evaluate_versions", "load_scheme", "load_versions", "read_records"]
