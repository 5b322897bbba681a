"""The one way to run a scheme: choose the engine, read the inputs, evaluate, record the options.

`evaluate`, `explain SCHEME DATA`, `verify`, scheme tests, the report's breakdowns
and `diff --data` all run a scheme through :func:`execute`, so every caller reads the
same inputs the same way, the engine façade (:func:`qualiscore.engine.evaluate`)
chooses the engine, and a published run can be recomputed (:func:`rerun`) exactly as
it was made. :func:`check_publishable` holds the promises a run must keep before
``evaluate`` publishes it (something scored, every declared column found), the same
whichever engine ran, since it looks only at the Run.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .engine import Progress as EngineProgress
from .engine import Run, evaluate, evaluate_versions, resolve_engine
from .engine.protocol import ArrowStream, Source
from .engine.sources import versions_for
from .errors import Location, NothingScoredError, UsageError
from .i18n import _, ngettext
from .model import RecordContract, Scheme
from .options import EngineName, RunOptions
from .privacy import protect, require_key
from .records import Dataset, InputFile, Problem, read_records, split_sheet
from .records.database import QueryTable, query_source
from .rulesrepo import GitPlace
from .schemes import load_versions

# Records already in hand (a scheme test's inline records): typed against each version's contract on demand.
Reader = Callable[[RecordContract], Dataset]


class Progress(Protocol):
    """What a progress bar offers (tqdm's names): the total once the inputs are read, then records done."""

    def reset(self, total: int | None = None) -> object: ...

    def update(self, n: int = 1) -> object: ...


def execute(scheme: str | Path | Scheme | Sequence[Scheme],
            data: Sequence[str | Path] | Reader | ArrowStream | Mapping[str, Source],
            options: RunOptions, *, progress: Progress | None = None) -> Run:
    """Score ``data`` with ``scheme`` as ``options`` say; the Run records the options and the engine used.

    ``scheme`` is a scheme file, a directory of its versions, or schemes already loaded;
    ``data`` the input files, a table in memory (Arrow data, see records.arrow), or a
    :data:`Reader` for records already in hand (scored by the reference engine, which reads
    no files). The engine façade chooses the engine. A query file (``.sql``, the only input)
    is run on its database first, and its rows are scored as a table in memory (records.database).
    """
    schemes = _schemes(scheme)
    if not callable(data):  # records in hand (a scheme's own tests) are not an export: no key is needed
        require_key(schemes, options.pseudonymise_key)
    names = {src.name for s in schemes for src in s.sources}
    schemes = versions_for(schemes, isinstance(data, Mapping) or (
        not callable(data) and not isinstance(data, ArrowStream)
        and any(str(item).partition("=")[0] in names for item in data)))
    if any(s.sources for s in schemes) or isinstance(data, Mapping):
        named = data if isinstance(data, Mapping) else named_inputs(schemes, data)
        queries = {name: query_source(given, options.encoding, options.sheet) for name, given in named.items()
                   if isinstance(given, Sequence) and not isinstance(given, str)}
        named = {name: queries.get(name) or given for name, given in named.items()}
        run = evaluate(schemes, named, options, progress=_scored(progress))
        for table in named.values():
            run = table.recorded(run) if isinstance(table, QueryTable) else run
        return run
    if not callable(data) and not isinstance(data, ArrowStream):
        data = query_source(data, options.encoding, options.sheet) or data
    if isinstance(data, QueryTable):
        return data.recorded(evaluate(schemes, data, options, progress=_scored(progress)))
    if isinstance(data, ArrowStream):
        return evaluate(schemes, data, options, progress=_scored(progress))
    if callable(data) or (progress is not None and resolve_engine(options.engine) == "rows"):
        # The façade takes sources, not a reader per record contract, and tells a bar of the records
        # scored but not how many follow: here the reference engine is handed the reader itself.
        run = evaluate_versions(schemes, _reader(data, options, progress), by=options.by, as_of=options.as_of,
                                progress=_scored(progress))
        return dataclasses.replace(run, options=options.manifest_dict("rows"))
    return evaluate(schemes, [str(p) for p in data], options, progress=_scored(progress))


def named_inputs(schemes: Sequence[Scheme], data: Sequence[str | Path] | Reader | ArrowStream, *,
                 complete: bool = True) -> Mapping[str, Source]:
    """Each source's input of a scheme with several sources: ``NAME=PATH`` (repeat a name for several files).

    A scheme with one source also takes its input unnamed, as a `records:` scheme does.
    ``complete``: every source must have an input (a run); else some may be left out (a check).
    """
    names = [s.name for s in schemes[0].sources]
    if callable(data) or isinstance(data, ArrowStream):
        if len(names) == 1:
            return {names[0]: data}  # type: ignore[dict-item]
        raise UsageError(_("scheme {scheme} reads the sources {sources}: give one input per source",
                           scheme=schemes[0].id, sources=", ".join(names)))
    out: dict[str, list[str]] = {}
    for item in map(str, data):
        name, sep, path = item.partition("=")
        if sep and name in names:
            out.setdefault(name, []).append(path)
        elif len(names) == 1:
            out.setdefault(names[0], []).append(item)
        else:
            close = difflib.get_close_matches(name, names, n=1) if sep else []
            message = _("{item!r} does not say which source it is: scheme {scheme} reads {sources}", item=item,
                        scheme=schemes[0].id, sources=", ".join(names))
            raise UsageError(
                _("{message} (did you mean {name}=…?)", message=message, name=close[0]) if close else message,
                hint=_("give each input as NAME=PATH, e.g. {example}", example=" ".join(f"{n}=PATH" for n in names)))
    missing = [n for n in names if n not in out]
    if missing and complete:
        raise UsageError(ngettext("no input was given for the source {sources} of scheme {scheme}",
                                  "no input was given for the sources {sources} of scheme {scheme}", len(missing),
                                  sources=", ".join(missing), scheme=schemes[0].id),
                         hint=_("give each input as NAME=PATH, e.g. {example}", example=" ".join(f"{n}=PATH" for n in names)))
    return out


def _schemes(scheme: str | Path | Scheme | Sequence[Scheme]) -> list[Scheme]:
    if isinstance(scheme, Scheme):
        return [scheme]
    if isinstance(scheme, (str, Path)):  # the one place a run's scheme files are read: located in git once
        return load_versions(scheme, locate=True)
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
    """``paths`` typed against ``contract``, read as ``options`` say (encoding, sheet), as a run reads them:
    personal fields de-identified with the options' key."""
    return protect(read_records([str(p) for p in paths], contract, encoding=options.encoding, sheet=options.sheet),
                   contract, options.pseudonymise_key)


def _scored(progress: Progress | None) -> EngineProgress | None:
    """What the engines call with each number of records scored: the bar's ``update``."""
    return progress.update if progress is not None else None


def rerun(manifest: Mapping[str, Any], base: str | Path | None = None, *,
          queries: Mapping[str, QueryTable] | None = None, pseudonymise_key: bytes | None = None,
          engine: EngineName = "rows", spark_master: str | None = None) -> Run:
    """The run ``manifest`` records, computed again from its scheme and inputs by the reference engine
    (or ``engine``: "spark" for inputs only a cluster reads, on ``spark_master``).

    Relative paths are resolved against ``base`` (default: the current directory). The
    Run carries the paths, options and scheme files' places in git as recorded (git is not
    asked again: the repository may have moved on since), so it renders to the published
    bytes when nothing changed; ``verify`` checks the recorded places by themselves.
    ``queries``: the rows of the run's query files, already read again (by ``verify``), by recorded path.
    ``pseudonymise_key``: the key of a run that pseudonymised personal fields (privacy.py).
    """
    root = Path(base) if base is not None else None
    recorded: dict[str, Any] = dict(manifest.get("options", {}))
    options = recorded_options(manifest)
    scheme_path = options.scheme_path or manifest["schemes"][0]["path"]
    queries = queries or {}
    inputs = manifest.get("inputs", [])
    data: Any = [recorded_input(i["path"], root) for i in inputs]
    if any(i.get("source") for i in inputs):  # a scheme with several sources: each source's inputs
        data = {}
        for i in inputs:
            if i["path"] in queries:
                data[i["source"]] = queries[i["path"]]
            else:
                data.setdefault(i["source"], []).append(recorded_input(i["path"], root))
    elif queries:
        data = next(iter(queries.values()))
    schemes = load_versions(recorded_path(scheme_path, root))  # their place in git is the one recorded
    run = execute(schemes, data, dataclasses.replace(options, engine=engine, pseudonymise_key=pseudonymise_key,
                                                     spark_master=spark_master))
    return _as_recorded(dataclasses.replace(run, options=recorded), manifest)


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


def recorded_input(path: str, base: Path | None) -> str:
    """An input as a manifest records it, to read again: a path resolved against ``base``; a URI (``hdfs://…``,
    which the spark engine reads) as it is."""
    return path if "://" in path else str(recorded_path(path, base))


def _as_recorded(run: Run, manifest: Mapping[str, Any]) -> Run:
    inputs = tuple(dataclasses.replace(i, path=rec["path"], opened=i.path, server=rec.get("server", i.server))
                   for i, rec in zip(run.dataset.inputs, manifest["inputs"]))
    by_path = {str(Path(i.path)): rec["path"] for i, rec in zip(run.dataset.inputs, manifest["inputs"])}
    problems = tuple(dataclasses.replace(p, source=by_path.get(str(Path(p.source)), p.source)) for p in run.problems)
    schemes = tuple(dataclasses.replace(s, path=rec["path"], git=GitPlace.from_manifest(rec.get("git")))
                    for s, rec in zip(run.schemes, manifest["schemes"]))
    return dataclasses.replace(run, dataset=dataclasses.replace(run.dataset, inputs=inputs), problems=problems,
                               schemes=schemes)


# --------------------------------------------------------------------------- what a published run promises


@dataclasses.dataclass(frozen=True, slots=True)
class MissingColumn:
    """A contract field whose column is not in an input's header."""

    source: str  # the input, as given
    field: str
    column: str  # the header name the contract reads the field from
    nullable: bool  # True: every row read it as empty; False: every row was rejected
    suggestion: str | None  # the closest header name, if one is close


def check_publishable(run: Run, options: RunOptions) -> None:
    """Raise NothingScoredError (exit 15) for a run that must not be published as it is.

    A field's column missing from an input's header (unless ``allow_missing_columns``)
    and a run that scores no row (unless ``allow_empty``) are failures, not results: a
    misspelt ``column:`` rejects or empties every row and would otherwise pass as a
    run with exit status 0.
    """
    if not options.allow_missing_columns:
        missing = missing_columns(run)
        if missing:
            raise _missing_column_error(run, missing)
    unknown = unknown_columns(run)
    if unknown:
        first = unknown[0]
        guess = _(" (did you mean {name!r}?)", name=first.suggestion) if first.suggestion else ""
        more = _("; also: {columns}", columns=", ".join(_("{column!r} in {source}", column=u.column, source=u.source)
                                                         for u in unknown[1:4])) if len(unknown) > 1 else ""
        raise NothingScoredError(
            _("column {column!r} of {source} is read by no field of the contract{guess}, which refuses other "
              "columns (other_columns: refuse){more}; nothing was written", column=first.column, source=first.source,
              guess=guess, more=more),
            location=Location(first.source, line=1), code="unknown-column",
            hint=_("rename the column to the field it means, remove it from the file, or declare it in the contract"))
    if options.allow_empty or (run.rows_scored and run.scorecards):
        return
    inputs = run.dataset.inputs
    if run.rows_read == 0:
        what = (_("the inputs hold no data rows (rows read 0)") if len(inputs) > 1 else
                _("the input holds no data rows (rows read 0)"))
    else:
        what = _("rows read {read} = scored {scored} + rejected {rejected}; most rejected: {reasons}",
                 read=run.rows_read, scored=run.rows_scored, rejected=run.rows_rejected,
                 reasons=reject_reasons(run.problems))
    raise NothingScoredError(
        _("no row was scored: {what}; nothing was written", what=what),
        location=Location(inputs[0].path) if len(inputs) == 1 else None,
        hint=_("fix the export or the scheme's records contract; pass --allow-empty to publish a run that scores "
               "nothing (its rejects.csv lists every rejected row and why)"),
    )


def reject_reasons(problems: Iterable[Problem], top: int = 3) -> str:
    """The most frequent reasons rows were rejected, as ``6 × not-in-enum (channel), 1 × ragged-row``."""
    counts = Counter((p.code, p.field) for p in problems)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or ""))
    text = ", ".join(f"{n} × {code}" + (f" ({field})" if field else "") for (code, field), n in ranked[:top])
    if len(ranked) > top:
        text = _("{reasons} and {n} other reason(s)", reasons=text, n=len(ranked) - top)
    return text


def missing_columns(run: Run) -> list[MissingColumn]:
    """Every (input, field) whose column the input's header lacks, in input and contract order.

    Required fields show it as ``missing-column`` rejects, nullable ones in
    ``Dataset.missing_columns``; both engines report both the same way.
    """
    columns = {f.name: f.source for s in run.schemes for f in s.records.fields}
    found = {(p.source, p.field): False for p in run.problems if p.code == "missing-column" and p.field}
    found.update({key: True for key in run.dataset.missing_columns})
    inputs = {i.path: i for i in run.dataset.inputs}
    input_rank, field_rank = {name: n for n, name in enumerate(inputs)}, {name: n for n, name in enumerate(columns)}
    headers = {source: _header(inputs.get(source)) for source, _ in found}
    return [MissingColumn(source, field, columns.get(field, field), nullable,
                          _closest(columns.get(field, field), headers[source]))
            for (source, field), nullable in sorted(found.items(), key=lambda item: (
                input_rank.get(item[0][0], len(inputs)), field_rank.get(item[0][1], len(columns))))]


@dataclasses.dataclass(frozen=True, slots=True)
class UnknownColumn:
    """A column of an input's header that no field reads, in a contract that refuses other columns."""

    source: str
    column: str
    suggestion: str | None


def unknown_columns(run: Run) -> list[UnknownColumn]:
    """Every header column no field reads, of the inputs whose contract says ``other_columns: refuse``."""
    scheme = run.schemes[0]
    contracts = {s.name: s.contract for s in scheme.sources}
    out = []
    for i in run.dataset.inputs:
        contract = contracts.get(i.source or "") if scheme.sources else scheme.records
        if contract is None or contract.other_columns != "refuse":
            continue
        read = [f.source for f in contract.fields]
        out += [UnknownColumn(i.path, column, _closest(column, read)) for column in _header(i)
                if column not in read and column.strip() not in read]
    return out


def _missing_column_error(run: Run, missing: Sequence[MissingColumn]) -> NothingScoredError:
    first = missing[0]
    rows = next((i.rows_read for i in run.dataset.inputs if i.path == first.source), 0)
    guess = _(" (did you mean {name!r}?)", name=first.suggestion) if first.suggestion else ""
    effect = (_("the field is nullable, so all {rows} row(s) of {source} would be read without it", rows=rows,
                source=first.source)
              if first.nullable else _("all {rows} row(s) of {source} were rejected", rows=rows, source=first.source))
    more = ""
    if len(missing) > 1:
        listed = ", ".join(_("{column!r} (field {field!r}) in {source}", column=m.column, field=m.field,
                             source=m.source) for m in missing[1:4])
        if len(missing) > 4:
            listed = _("{columns} and {n} more", columns=listed, n=len(missing) - 4)
        more = _("; also missing: {columns}", columns=listed)
    return NothingScoredError(
        _("field {field!r} reads column {column!r}, which is not in the header of {source}{guess}: "
          "{effect}{more}; nothing was written", field=first.field, column=first.column, source=first.source,
          guess=guess, effect=effect, more=more),
        location=Location(first.source, field=first.field),
        hint=_("correct `column:` of field {field!r} in the scheme's records (or the input's header); "
               "pass --allow-missing-columns to publish anyway (a required field's rows are rejected, a nullable "
               "field is read as empty)", field=first.field),
        code="missing-column",
    )


def _closest(column: str, header: Sequence[str]) -> str | None:
    by_case = [h for h in header if h.strip().casefold() == column.strip().casefold()]
    close = by_case or difflib.get_close_matches(column, header, n=1, cutoff=0.6)
    return close[0] if close else None


def _header(source: InputFile | None) -> list[str]:
    """The column names of an input, read again only to suggest one; [] when they cannot be read cheaply."""
    if source is None:
        return []
    path, sheet = split_sheet(source.path)
    try:
        if source.format == "csv":
            with open(path, encoding=source.encoding or "utf-8", newline="") as f:
                first = next((line for line in f if line.strip()), "").lstrip("\ufeff")
            tab = str(path).lower().endswith(".tsv") or ("," not in first and "\t" in first)
            semicolon = "," not in first and ";" in first and first.count(";") > first.count("\t")
            return next(csv.reader([first], delimiter=";" if semicolon else "\t" if tab else ","), [])
        if source.format == "parquet":
            from ._polars import pl

            return list(pl.read_parquet_schema(path))
        if source.format == "xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                rows = book[sheet or source.sheet or book.sheetnames[0]].iter_rows(values_only=True)
                return [str(c) for c in next((r for r in rows if any(c is not None for c in r)), ()) if c is not None]
            finally:
                book.close()
    except Exception:  # a suggestion only: the error is complete without it
        return []
    return []
