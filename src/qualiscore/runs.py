"""The one way to run a scheme: choose the engine, read the inputs, evaluate, record the options.

`evaluate`, `explain SCHEME DATA`, `verify` and scheme tests all run a scheme
through :func:`execute`, so every caller reads the same inputs the same way and a
published run can be recomputed (:func:`rerun`) exactly as it was made.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .engine import Run, evaluate_versions
from .errors import UsageError
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


def engine_for(requested: str) -> str:
    """The engine that runs: `auto` is the columnar engine when polars is installed, else the reference."""
    if requested != "auto":
        return requested
    return "columnar" if importlib.util.find_spec("polars") is not None else "rows"


def execute(scheme: str | Path | Scheme | Sequence[Scheme], data: Sequence[str | Path] | Reader,
            options: RunOptions, *, progress: Progress | None = None) -> Run:
    """Score ``data`` with ``scheme`` as ``options`` say; the Run records the options and the engine used.

    ``scheme`` is a scheme file, a directory of its versions, or schemes already loaded;
    ``data`` the input files, or a :data:`Reader` for records already in hand (scored by
    the reference engine, which reads no files).
    """
    schemes = _schemes(scheme)
    paths = None if callable(data) else [str(p) for p in data]
    engine = "rows" if paths is None else engine_for(options.engine)
    if paths is not None and engine == "columnar":
        run = _columnar().evaluate_versions(schemes, paths, encoding=options.encoding, by=options.by,
                                            as_of=options.as_of, sheet=options.sheet)
    else:
        run = evaluate_versions(schemes, _reader(data, options, progress), by=options.by, as_of=options.as_of,
                                progress=progress.update if progress is not None else None)
    return dataclasses.replace(run, options=options.manifest_dict(engine))


def _schemes(scheme: str | Path | Scheme | Sequence[Scheme]) -> list[Scheme]:
    if isinstance(scheme, Scheme):
        return [scheme]
    if isinstance(scheme, (str, Path)):
        return load_versions(scheme)
    return list(scheme)


def _reader(data: Sequence[str | Path] | Reader, options: RunOptions, progress: Progress | None) -> Reader:
    """Each version reads the inputs with its own record contract; the bar learns how many records follow."""
    def read(contract: RecordContract) -> Dataset:
        if callable(data):
            dataset = data(contract)
        else:
            dataset = read_records(list(data), contract, encoding=options.encoding, sheet=options.sheet)
        if progress is not None:
            progress.reset(total=dataset.rows_accepted)
        return dataset

    return read


def _columnar() -> Any:
    try:
        from .engine import columnar  # loads polars: only when this engine runs
    except ImportError:
        raise UsageError("--engine columnar needs polars: pip install 'qualiscore[fast]'") from None
    return columnar


def rerun(manifest: Mapping[str, Any], base: str | Path | None = None) -> Run:
    """The run ``manifest`` records, computed again from its scheme and inputs by the reference engine.

    Relative paths are resolved against ``base`` (default: the current directory). The
    Run carries the paths and options as recorded, so it renders to the published bytes
    when nothing changed.
    """
    root = Path(base) if base is not None else None
    recorded: dict[str, Any] = dict(manifest.get("options", {}))
    # The limit decided whether the run was published, not what it holds: a limit written before
    # --max-rejects had one grammar must not stop the recomputation.
    options = RunOptions.from_manifest({**recorded, "max_rejects": None})
    scheme_path = options.scheme_path or manifest["schemes"][0]["path"]
    data = [str(recorded_path(i["path"], root)) for i in manifest.get("inputs", [])]
    run = execute(recorded_path(scheme_path, root), data, dataclasses.replace(options, engine="rows"))
    return _with_recorded_paths(dataclasses.replace(run, options=recorded), manifest)


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
