"""When the columnar engine cannot vouch for a run, the reference code answers it.

Anything raising :class:`Fallback` (or an unexpected Polars error) during a run makes the
engine hand the whole run to the reference engine (see engine.ColumnarEngine): the answer
is then the reference's by construction.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class Fallback(Exception):
    """The columnar engine cannot vouch for this run: use the reference engine."""


def log_fallback(why: BaseException) -> None:
    if isinstance(why, Fallback):
        log.info("columnar engine: using the reference code: %s", why)
    else:  # a Polars error the engine did not expect: still answer, exactly, the slow way
        log.warning("columnar engine: unexpected %s (%s); using the reference code", type(why).__name__, why)
