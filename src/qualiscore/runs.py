"""The one way to run a scheme: choose the engine, read the inputs, evaluate, record the options.

`evaluate`, `explain SCHEME DATA`, `verify`, scheme tests, the report's breakdowns
and `diff --data` all run a scheme through :func:`execute`, so every caller reads the
same inputs the same way, the engine façade (:func:`qualiscore.engine.evaluate`)
chooses the engine, and a published run can be recomputed (:func:`rerun`) exactly as
it was made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .engine import Progress as EngineProgress
from .engine import Run, evaluate, evaluate_versions, resolve_engine
from .model import RecordContract, Scheme
from .options import RunOptions
from .records import Dataset, read_records
from .schemes import load_versions

# Records already in hand (a scheme test's inline records): typed against each version's contract on demand.
Reader = Callable[[RecordContract], Dataset]


class Progress(Protocol):
    """What a progress bar offers (tqdm's names): the total once the inputs are read, then records done."""

    def reset(self, total: int | None = None) -> object: ...

    def update(self, n: int = 1) -> object: ...


def execute(scheme: str | Path | Scheme | Sequence[Scheme], data: Sequence[str | Path] | Reader,
            options: RunOptions, *, progress: Progress | None = None) -> Run:
    """Score ``data`` with ``scheme`` as ``options`` say; the Run records the options and the engine used.

    ``scheme`` is a scheme file, a directory of its versions, or schemes already loaded;
    ``data`` the input files, or a :data:`Reader` for records already in hand (scored by
    the reference engine, which reads no files). The engine façade chooses the engine.
    """
    schemes = _schemes(scheme)
    if callable(data) or (progress is not None and resolve_engine(options.engine) == "rows"):
        # The façade takes sources, not a reader per record contract, and tells a bar of the records
        # scored but not how many follow: here the reference engine is handed the reader itself.
        run = evaluate_versions(schemes, _reader(data, options, progress), by=options.by, as_of=options.as_of,
                                progress=_scored(progress))
        return dataclasses.replace(run, options=options.manifest_dict("rows"))
    return evaluate(schemes, [str(p) for p in data], options, progress=_scored(progress))


def _schemes(scheme: str | Path | Scheme | Sequence[Scheme]) -> list[Scheme]:
    if isinstance(scheme, Scheme):
        return [scheme]
    if isinstance(scheme, (str, Path)):
        return load_versions(scheme)
    return list(scheme)


def _reader(data: Sequence[str | Path] | Reader, options: RunOptions, progress: Progress | None) -> Reader:
    """Each version reads the inputs with its own record contract; the bar learns how many records follow."""
    def read(contract: RecordContract) -> Dataset:
        dataset = data(contract) if callable(data) else read_inputs(data, contract, options)
        if progress is not None:
            progress.reset(total=dataset.rows_accepted)
        return dataset

    return read


def read_inputs(paths: Sequence[str | Path], contract: RecordContract, options: RunOptions) -> Dataset:
    """``paths`` typed against ``contract``, read as ``options`` say (encoding, sheet), as a run reads them."""
    return read_records([str(p) for p in paths], contract, encoding=options.encoding, sheet=options.sheet)


def _scored(progress: Progress | None) -> EngineProgress | None:
    """What the engines call with each number of records scored: the bar's ``update``."""
    return progress.update if progress is not None else None


def rerun(manifest: Mapping[str, Any], base: str | Path | None = None) -> Run:
    """The run ``manifest`` records, computed again from its scheme and inputs by the reference engine.

    Relative paths are resolved against ``base`` (default: the current directory). The
    Run carries the paths and options as recorded, so it renders to the published bytes
    when nothing changed.
    """
    root = Path(base) if base is not None else None
    recorded: dict[str, Any] = dict(manifest.get("options", {}))
    options = recorded_options(manifest)
    scheme_path = options.scheme_path or manifest["schemes"][0]["path"]
    data = [str(recorded_path(i["path"], root)) for i in manifest.get("inputs", [])]
    run = execute(recorded_path(scheme_path, root), data, dataclasses.replace(options, engine="rows"))
    return _with_recorded_paths(dataclasses.replace(run, options=recorded), manifest)


def recorded_options(manifest: Mapping[str, Any]) -> RunOptions:
    """The options the run ``manifest`` records, to compute it again; UsageError on a damaged value.

    The reject limit decided whether the run was published, not what it holds: a limit
    written before --max-rejects had one grammar must not stop the recomputation.
    """
    return RunOptions.from_manifest({**(manifest.get("options") or {}), "max_rejects": None})


def recorded_path(path: str, base: Path | None) -> Path:
    """A path as a manifest records it, resolved against ``base`` (None: the current directory)."""
    p = Path(path)
    return p if p.is_absolute() or base is None else base / p


def _with_recorded_paths(run: Run, manifest: Mapping[str, Any]) -> Run:
    inputs = tuple(dataclasses.replace(i, path=rec["path"]) for i, rec in zip(run.dataset.inputs, manifest["inputs"]))
    by_path = {str(Path(i.path)): rec["path"] for i, rec in zip(run.dataset.inputs, manifest["inputs"])}
    problems = tuple(dataclasses.replace(p, source=by_path.get(str(Path(p.source)), p.source)) for p in run.problems)
    schemes = tuple(dataclasses.replace(s, path=rec["path"]) for s, rec in zip(run.schemes, manifest["schemes"]))
    return dataclasses.replace(run, dataset=dataclasses.replace(run.dataset, inputs=inputs), problems=problems,
                               schemes=schemes)
