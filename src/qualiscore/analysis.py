"""Scoring in a notebook: a scheme and a table (or files) in, a :class:`Result` with data frames out.

``score(scheme, data)`` runs a scheme as ``qualiscore evaluate`` does (:func:`runs.execute`,
the fast engine when Polars is installed) on input files or on a table in memory: a Polars
or pandas DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, or anything with the
Arrow stream (``__arrow_c_stream__``). A table is converted once, by Arrow
(:mod:`qualiscore.records.arrow`), and typed as a Parquet file is; its rejects name the
row's 1-based position in the table and the source ``<memory>``.

The :class:`Result` shows the run as the output directory would: ``scorecards_frame()`` and
``rejects_frame()`` are scorecards.csv and rejects.csv as Polars frames, ``summary`` the
counts ``evaluate`` prints, ``explain(subject)`` one scorecard's tree, and ``write(outdir)``
publishes the very files ``evaluate -o`` writes (atomically, with the manifest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import io
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .approval import approval_of
from .errors import UsageError
from .explain import explain_text
from .formats import indicator_ids, key_columns
from .i18n import _
from .manifest import render_outputs
from .model import Scheme
from .options import EngineName, RunOptions
from .publish import write_outputs
from .records.arrow import MEMORY, Table, is_table, table_of
from .runs import check_publishable, execute, reject_reasons
from .scorecard import Scorecard, rejects_csv, scorecard_dict, scorecards_csv

if TYPE_CHECKING:
    from ._polars import pl
    from .engine import Run

__all__ = ["Result", "Summary", "score"]

SchemeSource = str | os.PathLike[str] | Scheme | Sequence[Scheme]


def score(scheme: SchemeSource, data: Any, *, by: str | Sequence[str] | None = None,
          as_of: dt.date | None = None, engine: EngineName = "auto", encoding: str | None = None,
          sheet: str | None = None, pseudonymise_key: bytes | None = None) -> Result:
    """Score ``data`` with ``scheme``: the same scorecards and rejects as ``qualiscore evaluate``.

    ``scheme`` is a scheme file, a directory of its versions (each subject period scored by
    the version in force at its start) or schemes already loaded. ``data`` is input file
    paths, or a table in memory (see the module docstring; needs ``qualiscore[fast]``); for a
    scheme with several record sources, a dict of those by source name.
    ``by`` regroups (``"team"`` or ``["team", "channel"]``), ``as_of`` picks the version in
    force on that day for all records, ``engine`` is ``"auto"`` (columnar when Polars is
    installed), ``"columnar"`` or ``"rows"``; ``encoding`` and ``sheet`` apply to files only.
    ``pseudonymise_key``: the secret key of a scheme that pseudonymises personal fields (docs/privacy.md).
    """
    fields = (by,) if isinstance(by, str) else tuple(by) if by is not None else None
    scheme_path = os.fspath(scheme) if isinstance(scheme, (str, os.PathLike)) else None
    schemes = scheme_path if scheme_path is not None else cast("Scheme | Sequence[Scheme]", scheme)
    source: Table | list[str] | dict[str, Table | list[str]]
    if isinstance(data, Mapping):  # a scheme with several sources: each source's input by name
        given = {str(name): _source(value, encoding, sheet, f"<memory:{name}>") for name, value in data.items()}
        source = {name: value for name, (value, _) in given.items()}
        paths = tuple(f"{name}={p}" for name, (_, named) in given.items() for p in named)
    else:
        source, paths = _source(data, encoding, sheet)
    options = RunOptions(engine=engine, by=fields, as_of=as_of, encoding=encoding, sheet=sheet,
                         scheme_path=scheme_path, data=paths, pseudonymise_key=pseudonymise_key)
    return Result(execute(schemes, source, options), options)


def _source(data: Any, encoding: str | None, sheet: str | None, name: str = MEMORY
            ) -> tuple[Table | list[str], tuple[str, ...]]:
    """One input: a table in memory (named ``<memory:SOURCE>`` when a scheme has several), or file paths
    (and the paths, as the manifest records them)."""
    if is_table(data):
        if encoding is not None or sheet is not None:
            raise UsageError(_("encoding and sheet apply to input files, not to a table in memory"))
        return table_of(data, name), ()
    paths = _paths(data)
    return list(paths), paths


def _paths(data: Any) -> tuple[str, ...]:
    if isinstance(data, (str, os.PathLike)):
        return (os.fspath(data),)
    if isinstance(data, Sequence) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        return tuple(os.fspath(p) for p in data)
    raise UsageError(_("cannot score a {kind}", kind=type(data).__name__),
                     hint=_("pass input file paths, a Polars or pandas DataFrame, or Arrow data (a pyarrow Table, "
                            "anything with __arrow_c_stream__); for a scheme with several sources, a dict of them "
                            "by source name"))


NO_GRADE = "(none)"  # the key of Summary.grades for scorecards without a grade


def grade_name(grade: str) -> str:
    """A grade of :attr:`Summary.grades` as shown: the scheme's own name, and "(none)" in the language of the day."""
    return _("(none)") if grade == NO_GRADE else grade


@dataclass(frozen=True, slots=True)
class Summary:
    """What ``qualiscore evaluate`` prints after a run: rows read = scored + rejected, and the grades."""

    rows_read: int
    rows_scored: int
    rows_rejected: int
    grades: Mapping[str, int]  # grade -> scorecards, in the scheme's order of grades, "(none)" last
    versions: tuple[str, ...]  # "cs-quality 2026Q2", each version that scored
    most_rejected: str  # the most frequent reasons rows were rejected ("" when none was)
    sources: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> read, scored, rejected
    uncertain: int = 0  # scorecards whose grade is uncertain (docs/confidence.md)

    @classmethod
    def of(cls, run: Run) -> Summary:
        counted = Counter(c.grade or NO_GRADE for c in run.scorecards)
        order = [g.name for s in run.schemes for g in s.grades] + [NO_GRADE]
        grades = {g: counted[g] for g in dict.fromkeys(order) if counted.get(g)}
        return cls(run.rows_read, run.rows_scored, run.rows_rejected, grades,
                   tuple(f"{s.id} {s.version}" for s in run.schemes),
                   reject_reasons(run.problems) if run.problems else "", run.by_source(),
                   sum(c.uncertain for c in run.scorecards))

    @property
    def scorecards(self) -> int:
        return sum(self.grades.values())

    def source_lines(self) -> list[str]:
        """Rows read = scored + rejected for each record source, when the scheme has several."""
        width = max((len(n) for n in self.sources), default=0)
        return [f"  {name:<{width}}  " + _("read {read} = scored {scored} + rejected {rejected}", read=read,
                                            scored=scored, rejected=rejected)
                for name, (read, scored, rejected) in self.sources.items()]

    def rows_line(self) -> str:
        """Rows read = scored + rejected."""
        return _("rows read {read} = scored {scored} + rejected {rejected}", read=self.rows_read,
                 scored=self.rows_scored, rejected=self.rows_rejected)

    def scorecards_line(self, shown: Callable[[str], str] = str) -> str:
        """How many scorecards, by which versions, and how many of each grade (each grade name ``shown``)."""
        dist = ", ".join(f"{shown(grade_name(g))} {n}" for g, n in self.grades.items())
        return _("{n} scorecard(s) by {versions}: {grades}", n=self.scorecards, versions=", ".join(self.versions),
                 grades=dist or _("none"))

    def uncertain_line(self) -> str | None:
        """How many grades more records could change, when any could."""
        if not self.uncertain:
            return None
        return _("{n} grade(s) uncertain: more records could change them "
                 "(the stability column; docs/confidence.md)", n=self.uncertain)

    def __str__(self) -> str:
        lines = [self.rows_line(), *self.source_lines(), self.scorecards_line()]
        if (uncertain := self.uncertain_line()) is not None:
            lines.append(uncertain)
        if self.most_rejected:
            lines.append(_("most rejected: {reasons}", reasons=self.most_rejected))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Result:
    """One run scored by :func:`score`: the :class:`~qualiscore.engine.Run` and the options it was asked with."""

    run: Run
    options: RunOptions

    @property
    def scorecards(self) -> tuple[Scorecard, ...]:
        return self.run.scorecards

    @property
    def summary(self) -> Summary:
        return Summary.of(self.run)

    def scorecards_frame(self) -> pl.DataFrame:
        """scorecards.csv as a Polars frame: one row per subject, the same columns and values.

        ``records`` is an integer, ``score``, ``stability`` and each ``<indicator>.low``,
        ``.high`` and ``.points`` a number, ``uncertain`` a boolean, each ``<indicator>.value``
        a number, boolean or text as its values are; every other column is text, as written
        (an empty cell is null).
        """
        pl = _polars()
        run, ids = self.run, indicator_ids(self.run)
        columns = ["subject", *key_columns(run.group_by), "period", "scheme_version", "records", "score", "grade",
                   "decided_by", "vetoes", "stability", "uncertain",
                   *(f"{i}.{part}" for i in ids for part in ("value", "low", "high", "points"))]
        frame = _read_csv(pl, scorecards_csv(run.scorecards, run.group_by, ids), columns)
        values = [{i.id: i.value for i in c.indicators} for c in run.scorecards]
        return frame.with_columns(
            pl.col("records").cast(pl.Int64), pl.col("score").cast(pl.Float64),
            pl.col("stability").cast(pl.Float64), pl.col("uncertain") == "true",
            *(pl.col(f"{i}.{part}").cast(pl.Float64) for i in ids for part in ("low", "high", "points")),
            *(_typed(pl, f"{i}.value", [v.get(i) for v in values]) for i in ids))

    def rejects_frame(self) -> pl.DataFrame:
        """rejects.csv as a Polars frame: source, row (an integer), record_id, field, value, code, reason.

        For a table in memory, source is ``<memory>`` (``<memory:NAME>`` for the source NAME of a scheme with
        several) and row the 1-based position in the table.
        """
        pl = _polars()
        columns = ["source", "row", "record_id", "field", "value", "code", "reason"]
        return _read_csv(pl, rejects_csv(self.run.problems), columns).with_columns(pl.col("row").cast(pl.Int64))

    def scorecard(self, subject: str) -> Scorecard:
        """The scorecard of ``subject`` (as scorecards.csv names it, e.g. ``A001/2026-04``)."""
        found = next((c for c in self.run.scorecards if c.subject == subject), None)
        if found is None:
            names = [c.subject for c in self.run.scorecards]
            close = difflib.get_close_matches(subject, names, n=3)
            raise UsageError(_("there is no scorecard for subject {subject!r}", subject=subject),
                             hint=_("did you mean {subjects}?", subjects=", ".join(map(repr, close))) if close else
                             _("subjects are named as in scorecards.csv, e.g. {subject!r}", subject=names[0])
                             if names else _("the run has no scorecards"))
        return found

    def explain(self, subject: str) -> str:
        """The scorecard of ``subject`` as ``qualiscore explain`` shows it: every value, band, weight and contribution."""
        card = self.scorecard(subject)
        scheme = next((s for s in self.run.schemes if s.sha256 == card.scheme_sha256), None)
        approval = approval_of(scheme, scheme.git) if scheme is not None else None
        return explain_text(scorecard_dict(card), card.decimals, approval.text() if approval else None)

    def write(self, outdir: str | os.PathLike[str], *, force: bool = False, formats: Sequence[str] = (),
              allow_empty: bool = False, allow_missing_columns: bool = False) -> Path:
        """Publish the run as ``qualiscore evaluate -o outdir`` does; return ``outdir``.

        The same files (scorecards, rejects, row digests, manifest; ``formats`` adds
        ``"parquet"`` or ``"xlsx"``), replaced atomically, and only over an earlier run's
        output unless ``force``. A run that scores nothing, or misses a field's column, is
        refused (NothingScoredError) unless allowed. A table in memory is recorded as
        ``<memory>`` with the SHA-256 of its Arrow stream: ``qualiscore verify`` checks the
        outputs and says the input cannot be read again (save the table as Parquet and
        score the file for a run it can reproduce).
        """
        options = dataclasses.replace(self.options, formats=tuple(formats), allow_empty=allow_empty,
                                      allow_missing_columns=allow_missing_columns)
        run = dataclasses.replace(self.run, options=options.manifest_dict(self.run.options.get("engine", "rows")))
        check_publishable(run, options)
        protect = [*(s.path for s in run.schemes), *options.data]
        return write_outputs(render_outputs(run), Path(outdir), force=force, protect=protect)


def _read_csv(pl: Any, text: str, columns: list[str]) -> pl.DataFrame:
    """A CSV output as text columns named ``columns`` (an empty cell is null), for the caller to type."""
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False, new_columns=columns)


def _typed(pl: Any, column: str, values: Sequence[Any]) -> Any:
    """The column of an indicator's values typed as the values are: booleans, integers, numbers, else text.

    The text is the CSV's; the type is decided from the values themselves, so an id such as
    ``007`` stays text and a date stays its ISO text, as the CSV writes it.
    """
    present = [v for v in values if v is not None and not (isinstance(v, float) and not math.isfinite(v))]
    if present and all(isinstance(v, bool) for v in present):
        return (pl.col(column) == "true").alias(column)
    if present and all(isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63 for v in present):
        return pl.col(column).cast(pl.Int64)
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pl.col(column).cast(pl.Float64)
    return pl.col(column)


def _polars() -> Any:
    try:
        from ._polars import pl
    except ImportError:
        from ._install import install_hint

        raise UsageError(_("data frames of a result need polars: {command}", command=install_hint("fast"))) from None
    return pl
