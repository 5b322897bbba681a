"""Errors a user can cause, one class per pipeline stage.

Every error carries a :class:`Location` and a hint, and maps to an exit code, so
the CLI can print it without a traceback and scripts can tell stages apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING

from .i18n import _

if TYPE_CHECKING:  # validation imports this module
    from .validation import Finding

# Exit codes, documented in docs/errors.md.
EXIT_OK = 0
EXIT_FINDINGS = 1  # validation errors, failed scheme tests, schemes that differ (diff)
EXIT_USAGE = 2
EXIT_SCHEME = 3
EXIT_DATA = 4
EXIT_REJECT_LIMIT = 5
EXIT_OUTPUT = 6
EXIT_MEMORY = 7  # the process ran out of memory (an address-space or container limit)
EXIT_DATABASE = 8  # a .sql input: the database cannot be reached, or it refused the query
EXIT_NOTHING_SCORED = 15  # evaluate: no row scored, or a field's column missing from an input; nothing published
EXIT_DAMAGED_OUTPUT = 16  # an output directory's manifest.json is not what evaluate writes
EXIT_SPARK = 21  # --engine spark: the Spark job failed (an executor out of memory or lost, a file unreadable there)


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is: a file position and/or a JSON pointer, or a data row and field."""

    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    pointer: str | None = None
    row: int | None = None  # 1-based data row number (header is row 1 in CSV)
    field: str | None = None
    # For a scalar whose text is not its source (quoted escapes, folded lines): the source
    # (line, column) of each character of the value, so positions inside it stay exact.
    chars: tuple[tuple[int, int], ...] | None = dataclass_field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.row is not None:
            text += _(": row {row}", row=self.row)
            if self.field:
                text += _(", field {field!r}", field=self.field)
        return text

    def shifted(self, columns: int) -> Location:
        """The place ``columns`` characters further into the value (exact across escapes and folds)."""
        if self.chars is not None and 0 <= columns < len(self.chars):
            line, column = self.chars[columns]
            return Location(self.file, line, column, self.pointer, self.row, self.field)
        if self.column is None:
            return self
        return Location(self.file, self.line, self.column + columns, self.pointer, self.row, self.field)


class QualiscoreError(Exception):
    """Base of every error qualiscore raises on purpose."""

    exit_code = EXIT_SCHEME
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        if code is not None:
            self.code = code

    def format(self) -> str:
        head = f"{self.location}: " if self.location else ""
        pointer = f" {self.location.pointer}:" if self.location and self.location.pointer else ""
        text = _("{where}error[{code}]{pointer} {message}", where=head, code=self.code, pointer=pointer,
                 message=self.message)
        if self.hint:
            text += "\n  " + _("hint: {hint}", hint=self.hint)
        return text

    def __str__(self) -> str:
        return self.format()


class UsageError(QualiscoreError):
    exit_code = EXIT_USAGE
    code = "usage"


class SchemeLoadError(QualiscoreError):
    """The YAML text cannot be turned into a document (syntax, aliases, tags, limits)."""

    code = "yaml"


class ExpressionError(QualiscoreError):
    """An expression in a scheme is malformed or uses something not allowed."""

    code = "expression"


class SchemeValidationError(QualiscoreError):
    """A scheme has error findings; carries all of them."""

    code = "invalid-scheme"

    def __init__(self, findings: list[Finding], path: str | None = None) -> None:
        self.findings = findings
        errors = [f for f in findings if f.severity == "error"]
        first = errors[0] if errors else None
        super().__init__(
            _("scheme has {n} error(s)", n=len(errors))
            + (_("; first: {message}", message=first.message) if first else ""),
            location=first.location if first else Location(path),
            hint=_("run `qualiscore validate` on the scheme to see every finding"),
        )

    def format(self) -> str:
        return "\n".join(f.format() for f in self.findings if f.severity == "error")


class DataError(QualiscoreError):
    """Input records cannot be read at all (missing file, undecodable, wrong format)."""

    exit_code = EXIT_DATA
    code = "data"


class DatabaseError(DataError):
    """A query file's records cannot be read: the server is unreachable or refuses the login, or the query fails.

    Its message names the query file (and, for an error in the SQL, its line and column)
    and never the password.
    """

    exit_code = EXIT_DATABASE
    code = "query-failed"


class RejectLimitError(DataError):
    exit_code = EXIT_REJECT_LIMIT
    code = "too-many-rejects"


class OutputError(QualiscoreError):
    exit_code = EXIT_OUTPUT
    code = "output"



class NothingScoredError(QualiscoreError):
    """A run that would publish no score, or scores read past a column the contract names.

    ``evaluate`` refuses to publish it (``--allow-empty``, ``--allow-missing-columns``):
    a misspelt ``column:`` must not pass as a run whose every row happened to be rejected.
    """

    exit_code = EXIT_NOTHING_SCORED
    code = "nothing-scored"


class DamagedOutputError(OutputError):
    """An output directory's manifest.json cannot be read as the manifest of a run (which key, what was expected)."""

    exit_code = EXIT_DAMAGED_OUTPUT
    code = "damaged-manifest"


class SparkJobError(QualiscoreError):
    """The Spark job of ``--engine spark`` failed in Spark itself, not on a rule or a row: its first line, and
    what to change."""

    exit_code = EXIT_SPARK
    code = "spark-job"
