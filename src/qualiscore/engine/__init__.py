"""Evaluation: records in, scorecards out, by the engine asked for.

Engines implement protocol.Engine and are registered by name here, imported only
when chosen: ``rows``, the reference engine, ``columnar`` (Polars, from
``qualiscore[fast]``), which ``auto`` chooses when Polars is installed, and ``spark``
(``qualiscore[spark]``), which reads and shuffles on Spark and scores with the columnar engine. What a measure
means (measures), whom a scorecard is about (subjects), which version scores it
(routing) and how it is scored (scoring) are written once, for every engine.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable, Mapping, Sequence

from ..errors import UsageError
from ..i18n import _, using
from ..model import RecordContract, Scheme
from ..options import RunOptions
from ..records import Dataset
from .protocol import Engine, Progress, Run, Source
from .routing import version_in_force
from .subjects import group_fields

__all__ = [
    "ENGINE_NAMES",
    "Engine",
    "Progress",
    "Run",
    "Source",
    "engine_named",
    "evaluate",
    "evaluate_versions",
    "group_fields",
    "resolve_engine",
    "version_in_force",
]


def evaluate(schemes: Scheme | Sequence[Scheme], source: Source | Mapping[str, Source], options: RunOptions | None = None, *,
             by: Sequence[str] | None = None, progress: Progress | None = None) -> Run:
    """Score ``source`` (paths, a Dataset or Arrow data) with one scheme version, or several routed by date.

    With ``options``, the engine is ``options.engine`` ("auto": see resolve_engine) and
    ``Run.options`` is what the manifest records. Without them, as callers wrote it
    before RunOptions (``evaluate(scheme, dataset, by=..., progress=...)``), it is the
    reference engine and ``Run.options`` holds ``by`` alone, as it always did.
    ``progress(n)`` is told of n more records scored. Its sentences (reject reasons) are in
    ``options.language``.
    """
    with using(options.language if options is not None else None):
        return _evaluate(schemes, source, options, by=by, progress=progress)


def _evaluate(schemes: Scheme | Sequence[Scheme], source: Source | Mapping[str, Source], options: RunOptions | None,
              *, by: Sequence[str] | None, progress: Progress | None) -> Run:
    from .sources import versions_for

    versions = tuple(versions_for((schemes,) if isinstance(schemes, Scheme) else schemes,
                                  isinstance(source, Mapping)))
    if any(v.sources for v in versions) or isinstance(source, Mapping):
        from .sources import evaluate_sources

        options = options or RunOptions(engine="rows", by=tuple(by) if by else None)
        engine = engine_named(resolve_engine(options.engine))
        return evaluate_sources(engine, versions, sources_given(versions, source), options, progress=progress)
    if options is None:
        from .rows import reader, score_versions

        return score_versions(versions, reader(source, RunOptions()), by=by, progress=progress)
    if by is not None:
        raise TypeError(_("evaluate: give by in the options (RunOptions.by), not beside them"))
    return engine_named(resolve_engine(options.engine)).evaluate(versions, source, options, progress=progress)


def sources_given(versions: Sequence[Scheme], source: Source | Mapping[str, Source]) -> Mapping[str, Source]:
    """Each record source's input: as given by name, or the one input of a scheme with one source."""
    if isinstance(source, Mapping):
        if not any(v.sources for v in versions):
            raise UsageError(_("scheme {scheme} reads one table (records:), so its input is not named",
                               scheme=versions[0].id), hint=_("give the input without NAME="))
        return source
    names = [s.name for s in versions[0].sources]
    if len(names) == 1:
        return {names[0]: source}
    raise UsageError(_("scheme {scheme} reads the sources {sources}: name each input", scheme=versions[0].id,
                       sources=", ".join(names)),
                     hint=_("give NAME=PATH for each, e.g. {example}", example=" ".join(f"{n}=..." for n in names)))


def evaluate_versions(schemes: Sequence[Scheme], read: Callable[[RecordContract], Dataset], *,
                      by: Sequence[str] | None = None, as_of: dt.date | None = None,
                      progress: Progress | None = None) -> Run:
    """The reference engine over what ``read`` types against each version's record contract (see routing).

    The form callers used before RunOptions; ``Run.options`` holds ``by`` (and ``as_of``, when given).
    """
    from .rows import score_versions

    return score_versions(schemes, read, by=by, as_of=as_of, progress=progress)


# -- engines by name


def resolve_engine(requested: str) -> str:
    """The engine to run: ``auto`` is the columnar engine when Polars is installed, else the reference engine."""
    if requested != "auto":
        return requested
    return "columnar" if importlib.util.find_spec("polars") is not None else "rows"


def _rows() -> Engine:
    from .rows import ENGINE

    return ENGINE


def _columnar() -> Engine:
    try:
        from . import columnar
    except ImportError:
        from .._install import install_hint

        raise UsageError(_("--engine columnar needs polars: {hint}", hint=install_hint('fast'))) from None
    return columnar.ENGINE


def _spark() -> Engine:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401

        from . import columnar  # noqa: F401
    except ImportError:
        from .._install import install_hint

        raise UsageError(_("--engine spark needs pyspark, pyarrow and polars: {hint}", hint=install_hint('spark'))) from None
    from .spark import ENGINE

    return ENGINE


_ENGINES: dict[str, Callable[[], Engine]] = {"rows": _rows, "columnar": _columnar, "spark": _spark}
ENGINE_NAMES = tuple(_ENGINES)


def engine_named(name: str) -> Engine:
    """The engine called ``name``, imported now (never before it is chosen)."""
    load = _ENGINES.get(name)
    if load is None:
        raise UsageError(_("there is no engine {name!r}", name=name),
                         hint=_("choose from: {names}", names=", ".join(("auto", *ENGINE_NAMES))))
    return load()
