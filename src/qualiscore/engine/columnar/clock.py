"""Phase timings of the last run, logged at DEBUG (the benchmark reads them)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

LAST_TIMINGS: dict[str, float] = {}


class Clock:
    """Seconds spent in each phase of a run, added up by name into :data:`LAST_TIMINGS`."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        took = now - self.last
        self.phases[name] = self.phases.get(name, 0.0) + took
        self.last = now
        LAST_TIMINGS[name] = self.phases[name]
        log.debug("columnar: %s took %.3fs", name, took)
