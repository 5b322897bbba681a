"""The Spark engine (``pip install 'qualiscore[spark]'``): the committee's scheme where the data lives.

Spark does what it is for: reading input files from any file system the cluster reads,
finding ids repeated across files, and shuffling rows so each subject's records meet in
one task. Everything a rule decides (typing, derived values, measures, vetoes, scores,
rounding) is the columnar engine's own code, run on the executors, so the outputs are
the bytes the reference engine writes. See docs/scale-out.md.

API: :data:`ENGINE` (``RunOptions(engine="spark")``, ``--engine spark``); :func:`session`;
:func:`score` and :class:`SparkResult` for notebooks and jobs (:mod:`.library`).

Modules: :mod:`.engine` (the run's steps), :mod:`.files` (inputs: files, directories,
globs, URIs), :mod:`.tasks` (what executors run), :mod:`.wire` (typed frames through
Spark), :mod:`.session`, :mod:`.library`.
"""

from __future__ import annotations

from .engine import ENGINE, SparkEngine
from .library import SparkResult, score
from .session import session

__all__ = ["ENGINE", "SparkEngine", "SparkResult", "score", "session"]
