"""What a run was asked to do, typed once for every caller.

`evaluate`, `verify`, report breakdowns, `diff --data` and scheme tests all run a
scheme the same way; the options they pass, and the ones the manifest records, are
this one frozen value rather than a dict rebuilt at each call site.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from .errors import Location, RejectLimitError, UsageError
from .i18n import LANGUAGES, _, language

EngineName = Literal["auto", "rows", "columnar", "spark"]
ENGINES: tuple[EngineName, ...] = ("auto", "rows", "columnar", "spark")

# The one grammar of --max-rejects: ASCII digits only (no sign, no "_", no other scripts' digits).
_COUNT = re.compile(r"[0-9]+", re.ASCII)
_SHARE = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)%", re.ASCII)


@dataclass(frozen=True, slots=True)
class RejectLimit:
    """``--max-rejects``: at most ``count`` rows, or at most ``percent`` % of the rows read.

    Reaching the limit exactly is allowed. ``text`` is what the user wrote, spaces
    around it included, as the manifest records it; messages show it trimmed.
    """

    text: str
    count: int | None = None
    percent: Fraction | None = None

    @classmethod
    def parse(cls, text: str) -> RejectLimit:
        trimmed = text.strip()
        if _COUNT.fullmatch(trimmed):
            return cls(text, count=int(trimmed))
        share = _SHARE.fullmatch(trimmed)
        if share and Fraction(share.group(1)) <= 100:
            return cls(text, percent=Fraction(share.group(1)))
        raise UsageError(_("--max-rejects {text!r} is neither a number of rows (e.g. 100) nor a share of the "
                           "rows read from 0% to 100% (e.g. 2.5%)", text=text),
                         hint=_("write e.g. --max-rejects 100 or --max-rejects 2.5%, with the digits 0-9"))

    def exceeded(self, rejected: int, read: int) -> bool:
        if self.count is not None:
            return rejected > self.count
        assert self.percent is not None
        return Fraction(rejected * 100) > self.percent * read

    def allowed(self) -> str:
        if self.count is not None:
            return _("{n} row(s)", n=self.count)
        return _("{percent}% of rows read", percent=self.text.strip()[:-1])

    def check(self, rejected: int, read: int, inputs: Sequence[Any] = ()) -> None:
        """Raise RejectLimitError when more rows were rejected than this limit allows.

        ``inputs`` are the run's InputFiles (``path``, ``rows_read``, ``rows_rejected``):
        the message names the one with most rejects.
        """
        if not self.exceeded(rejected, read):
            return
        worst = max(inputs, key=lambda i: i.rows_rejected, default=None)
        percent = 100 * rejected / read if read else 0.0
        where = ""
        if worst is not None and len(inputs) > 1:
            where = _("; most in {path} ({rejected} of {read})", path=worst.path, rejected=worst.rows_rejected,
                      read=worst.rows_read)
        raise RejectLimitError(
            _("{rejected} of {read} rows ({percent:.2f}%) were rejected, more than --max-rejects {limit} "
              "allows ({allowed}){where}; nothing was written", rejected=rejected, read=read, percent=percent,
              limit=self.text.strip(), allowed=self.allowed(), where=where),
            location=Location(worst.path) if worst is not None else None,
            hint=_("see rejects.csv (run without --max-rejects) for each rejected row's field, value and reason; "
                   "fix the export, or raise --max-rejects if these rows may be left out"),
        )


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to read the inputs and score them, and what to write besides the scorecards.

    ``engine`` is what was asked for ("auto" included); the Run records the engine
    that actually ran. ``scheme_path`` and ``data`` are the paths as given, so a
    manifest can be recomputed from where it was made.
    """

    engine: EngineName = "auto"
    by: tuple[str, ...] | None = None
    as_of: dt.date | None = None
    encoding: str | None = None
    sheet: str | None = None
    max_rejects: RejectLimit | None = None
    formats: tuple[str, ...] = ()
    scheme_path: str | None = None
    data: tuple[str, ...] = field(default=())
    allow_empty: bool = False  # publish a run that scores no row
    allow_missing_columns: bool = False  # publish although a field's column is missing from an input
    # The secret of pseudonymised fields (privacy.py); the manifest records only its id, never the key.
    pseudonymise_key: bytes | None = field(default=None, repr=False, compare=False)
    # Where the spark engine runs (a Spark master URL; None: the active session, else every local core).
    # How a run was computed, not what it computed: the manifest records the engine, not the cluster.
    spark_master: str | None = field(default=None, compare=False)
    # The language of the reasons in rejects.csv and other sentences a run writes: the one in force when the
    # options were made, so that `verify` recomputes the run in the language it was published in.
    language: str = field(default_factory=language)

    def manifest_dict(self, engine_used: str) -> dict[str, Any]:
        """The ``options`` object of manifest.json (``formats``, ``sheet`` and the ``allow_*`` only when given)."""
        out: dict[str, Any] = {
            "by": list(self.by) if self.by else None,
            "engine": engine_used,
            "encoding": self.encoding,
            "max_rejects": self.max_rejects.text if self.max_rejects else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "scheme_path": self.scheme_path,
            "data": list(self.data),
        }
        if self.formats:
            out["formats"] = sorted(set(self.formats))
        if self.sheet is not None:
            out["sheet"] = self.sheet
        if self.allow_empty:
            out["allow_empty"] = True
        if self.allow_missing_columns:
            out["allow_missing_columns"] = True
        if self.language != LANGUAGES[0]:
            out["language"] = self.language
        if self.pseudonymise_key is not None:
            from .privacy import key_id

            out["pseudonymise_key_id"] = key_id(self.pseudonymise_key)
        return out

    @classmethod
    def from_manifest(cls, options: Mapping[str, Any]) -> RunOptions:
        """The options a published run was made with; raises UsageError on a damaged value."""
        def text(key: str) -> str | None:
            value = options.get(key)
            if value is None or isinstance(value, str):
                return value
            raise UsageError(_("manifest.json: options/{key} should be text, not {type}", key=key,
                               type=type(value).__name__))

        def texts(key: str) -> tuple[str, ...]:
            value = options.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(_("manifest.json: options/{key} should be a list of texts", key=key))
            return tuple(value)

        as_of_text = text("as_of")
        try:
            as_of = dt.date.fromisoformat(as_of_text) if as_of_text else None
        except ValueError:
            raise UsageError(_("manifest.json: options/as_of {value!r} is not a date (YYYY-MM-DD)",
                               value=as_of_text)) from None
        limit = text("max_rejects")
        lang = text("language") or LANGUAGES[0]
        if lang not in LANGUAGES:
            raise UsageError(_("manifest.json: options/language {value!r} is not one of {languages}", value=lang,
                               languages=", ".join(LANGUAGES)))
        engine = text("engine") or "rows"
        return cls(
            engine=engine if engine in ENGINES else "rows",
            by=texts("by") or None,
            as_of=as_of,
            encoding=text("encoding"),
            sheet=text("sheet"),
            max_rejects=RejectLimit.parse(limit) if limit else None,
            formats=texts("formats"),
            scheme_path=text("scheme_path"),
            data=texts("data"),
            allow_empty=options.get("allow_empty") is True,
            allow_missing_columns=options.get("allow_missing_columns") is True,
            language=lang,
        )
