"""When the columnar engine cannot vouch for a run, the reference code answers it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...model import RecordContract, Scheme
from ...records import Dataset
from ...records.engine_api import read_records
from .. import Run
from .. import evaluate as reference_evaluate

log = logging.getLogger(__name__)


class Fallback(Exception):
    """The columnar engine cannot vouch for this run: use the reference engine."""


def reference_dataset(paths: Sequence[str | Path] | str | Path, contract: RecordContract,
                      encoding: str | None, sheet: str | None = None) -> Dataset:
    """The reference reader."""
    return read_records(paths, contract, encoding=encoding, sheet=sheet)


def log_fallback(why: BaseException) -> None:
    if isinstance(why, Fallback):
        log.info("columnar engine: using the reference code: %s", why)
    else:  # a Polars error the engine did not expect: still answer, exactly, the slow way
        log.warning("columnar engine: unexpected %s (%s); using the reference code", type(why).__name__, why)


def reference_run(scheme: Scheme, paths: Any, encoding: str | None, by: Sequence[str] | None,
                  why: BaseException, sheet: str | None) -> Run:
    log_fallback(why)
    return reference_evaluate(scheme, reference_dataset(paths, scheme.records, encoding, sheet), by=by)
