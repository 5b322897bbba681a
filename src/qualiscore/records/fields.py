"""A record contract prepared for typing: one reader per field, and how a failure becomes a Problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..errors import DataError
from ..i18n import _
from ..model import time_zone
from .results import Problem, clip_value, quote_value
from .values import PARSER_BUILDERS, RejectedValue

if TYPE_CHECKING:
    from ..model import Field, RecordContract


class FieldReader:
    """Everything needed to type one field, prepared once per contract.

    ``text`` types a raw text cell (CSV, or a JSON string); ``value`` types a JSON
    value of any kind. Both return the typed value or raise :class:`RejectedValue`.
    """

    __slots__ = ("field", "name", "nullable", "source", "text", "value")

    def __init__(self, field: Field, zone: ZoneInfo) -> None:
        self.field = field
        self.name = field.name
        self.source = field.source
        self.nullable = field.nullable
        builder = PARSER_BUILDERS.get(field.type)
        if builder is None:
            raise ValueError(_("field {name!r} has unknown type {type!r}", name=field.name, type=field.type))
        base_text, base_value = builder(field, zone)
        check = self._make_check(field, base_text, base_value)
        nullable = field.nullable
        name = field.name

        def null() -> None:
            if nullable:
                return None
            raise RejectedValue("missing-value", _(
                "{name!r} is empty but required; fill it in, or declare the field `nullable: true`", name=name))

        if field.type == "string" and check is None:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return s

        elif check is None:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return base_text(s)

        else:

            def text(s: str) -> Any:
                if not s or s.isspace():
                    return null()
                return check(base_text(s), s)

        def value(v: Any) -> Any:
            if v is None:
                return null()
            if isinstance(v, str):
                return text(v)
            typed = base_value(v)
            return typed if check is None else check(typed, v)

        self.text = text
        self.value = value

    @staticmethod
    def _make_check(
        field: Field, base_text: Callable[[str], Any], base_value: Callable[[Any], Any]
    ) -> Callable[[Any, Any], Any] | None:
        """Enum and range checks on the typed value, or None when the field has neither."""
        allowed: frozenset[Any] | None = None
        shown = ""
        if field.enum is not None:
            typed = set()
            for e in field.enum:
                try:
                    typed.add(base_text(e) if isinstance(e, str) else base_value(e))
                except (RejectedValue, ValueError, TypeError, OverflowError):
                    continue  # an enum value of the wrong type never matches (validation warns)
            allowed = frozenset(typed)
            listed = [str(e) for e in field.enum[:20]]
            shown = ", ".join(listed) + (", …" if len(field.enum) > 20 else "")
        numeric = field.type in ("integer", "number", "duration")
        lo = field.minimum if numeric else None
        hi = field.maximum if numeric else None
        if allowed is None and lo is None and hi is None:
            return None
        seconds = field.type == "duration"

        def check(v: Any, raw: Any) -> Any:
            if allowed is not None and v not in allowed:
                raise RejectedValue("not-in-enum", _("{value} is not one of: {allowed}; use one of these values",
                                                     value=quote_value(raw), allowed=shown))
            if lo is not None and v < lo:
                raise RejectedValue("below-minimum", _(
                    "{value} is below the minimum {minimum} seconds; correct the value or the contract",
                    value=quote_value(raw), minimum=_number_text(lo)) if seconds else _(
                    "{value} is below the minimum {minimum}; correct the value or the contract",
                    value=quote_value(raw), minimum=_number_text(lo)))
            if hi is not None and v > hi:
                raise RejectedValue("above-maximum", _(
                    "{value} is above the maximum {maximum} seconds; correct the value or the contract",
                    value=quote_value(raw), maximum=_number_text(hi)) if seconds else _(
                    "{value} is above the maximum {maximum}; correct the value or the contract",
                    value=quote_value(raw), maximum=_number_text(hi)))
            return v

        return check


def _number_text(x: float) -> str:
    """A bound as the contract shows it: ``5`` rather than ``5.0``."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# What a value that breaks a parser in an unforeseen way is reported as (a safety net:
# typing a row must never raise).
_FALLBACK_CODE = {
    "string": "not-string",
    "integer": "not-integer",
    "number": "not-number",
    "boolean": "not-boolean",
    "date": "bad-date",
    "datetime": "bad-datetime",
    "duration": "bad-duration",
}
# What a parser may raise besides RejectedValue: caught, so a row is rejected, never a crash.
UNFORESEEN_ERRORS = (ValueError, TypeError, OverflowError, ArithmeticError, KeyError, IndexError)


class Typer:
    """A contract prepared for typing rows: one reader per field, built once."""

    def __init__(self, contract: RecordContract) -> None:
        zone = time_zone(contract.timezone) if isinstance(contract.timezone, str) else None
        if zone is None:
            raise DataError(
                _("unknown time zone {zone!r} in the record contract", zone=contract.timezone),
                hint=_("set records.timezone to an IANA name such as Asia/Shanghai or UTC"),
                code="bad-timezone",
            )
        self.readers = tuple(FieldReader(f, zone) for f in contract.fields)
        self.names = tuple(r.name for r in self.readers)
        self.order = {name: i for i, name in enumerate(self.names)}
        self.id_pos = self.order.get(contract.id)
        self.id_reader = self.readers[self.id_pos] if self.id_pos is not None else None


def problem_from_error(
    exc: BaseException, reader: FieldReader, src: str, row: int, rid: str | None, raw: Any
) -> Problem:
    """The Problem a reader's failure on ``raw`` makes (a RejectedValue, or an unforeseen error)."""
    if isinstance(exc, RejectedValue):
        return Problem(
            src, row, rid, reader.name, clip_value(raw) if exc.has_value else None, exc.code, exc.reason
        )
    return Problem(
        src,
        row,
        rid,
        reader.name,
        clip_value(raw),
        _FALLBACK_CODE.get(reader.field.type, "not-string"),
        _("{value} cannot be read as {type} ({error}); correct the value", value=quote_value(raw),
          type=reader.field.type, error=exc),
    )

