"""Validation: the JSON Schema, then semantic lint, as one stream of findings.

Every check yields :class:`Finding` objects instead of raising, so a committee
member sees every mistake in one run. The lint is written defensively: it runs even
when the schema already found structural errors, skipping only what it cannot read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache, reduce
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import jsonschema

from . import expressions
from ._plain import dict_of, list_of, number_or_none
from .errors import ExpressionError, Location, SchemeLoadError
from .i18n import N_, _
from .loader import Document, escape_pointer_token, load_path
from .model import (
    ITEM_TYPES,
    MEASURE_KINDS,
    NUMERIC_ITEM_TYPES,
    PRIVACY_POLICIES,
    THRESHOLD_TESTS,
    TRUTH_KINDS,
    time_zone,
    time_zone_names,
)

# An error refuses the scheme; a warning is printed and the scheme is still used.
Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
# The severity as a reader sees it in the text form; `severity` itself (and JSON) keeps the code.
SEVERITY_WORDS: dict[str, str] = {"error": N_("error"), "warning": N_("warning")}


def severity_word(severity: str) -> str:
    """``error`` or ``warning`` in the current language."""
    return _(SEVERITY_WORDS[severity]) if severity in SEVERITY_WORDS else severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One mistake, located in the YAML, with a code that tests and docs can name and a hint to fix it."""

    severity: Severity
    code: str
    message: str
    location: Location
    hint: str | None = None

    def format(self, *, mark: Callable[[str], str] | None = None) -> str:
        """``file:line:col: error[code] /pointer: message — hint``, the severity word in the current
        language (``mark`` may dress it, e.g. in colour)."""
        word = severity_word(self.severity)
        pointer = f" {self.location.pointer}:" if self.location.pointer else ""
        text = _("{where}: {severity}[{code}]{pointer} {message}", where=str(self.location),
                 severity=mark(word) if mark else word, code=self.code, pointer=pointer, message=self.message)
        return text + _(" — {hint}", hint=self.hint) if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "pointer": loc.pointer,
        }

    def sort_key(self) -> tuple[Any, ...]:
        loc = self.location
        return (loc.file or "", loc.line or 0, loc.column or 0, self.code)


def best_match(findings: Iterable[Finding]) -> Finding | None:
    """The finding a human should read first: the earliest error, else the earliest warning."""
    ordered = sorted(findings, key=lambda f: (f.severity != "error", *f.sort_key()))
    return ordered[0] if ordered else None


def scheme_schema() -> dict[str, Any]:
    """The JSON Schema of the scheme format."""
    return shipped_schema("scheme.schema.json")


@cache
def shipped_schema(name: str) -> dict[str, Any]:
    """A JSON Schema of schemas/, shipped inside the package (falls back to the source tree)."""
    packaged = resources.files("qualiscore").joinpath(f"schemas/{name}")
    if packaged.is_file():
        return json.loads(packaged.read_text(encoding="utf-8"))
    source = Path(__file__).resolve().parents[2] / "schemas" / name
    return json.loads(source.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scheme_schema())


# --------------------------------------------------------------------------- schema


def _pointer(parts: Iterable[Any]) -> str:
    return "".join(f"/{escape_pointer_token(str(p))}" for p in parts)


def _schema_findings(doc: Document) -> Iterator[Finding]:
    for error in _validator().iter_errors(doc.data):
        yield from explain_schema_error(doc, error)


# What a oneOf chooses the kind of (its code is "<what>-kind"): a kind missing, or several given.
_NEEDS_ONE_KIND = {
    "sampling": N_("sampling needs one of: {kinds}"),
    "measure": N_("measure needs one of: {kinds}"),
    "scoring": N_("scoring needs one of: {kinds}"),
    "veto": N_("veto needs one of: {kinds}"),
    "test": N_("test needs one of: {kinds}"),
}
_SEVERAL_KINDS = {
    "sampling": N_("sampling has several kinds: {kinds}"),
    "measure": N_("measure has several kinds: {kinds}"),
    "scoring": N_("scoring has several kinds: {kinds}"),
    "veto": N_("veto has several kinds: {kinds}"),
    "test": N_("test has several kinds: {kinds}"),
}
# jsonschema's own messages for the bounds, written as it writes them, so that they can be translated.
_BOUND_MESSAGES = {
    "minimum": N_("{value!r} is less than the minimum of {limit!r}"),
    "maximum": N_("{value!r} is greater than the maximum of {limit!r}"),
    "exclusiveMinimum": N_("{value!r} is less than or equal to the minimum of {limit!r}"),
    "exclusiveMaximum": N_("{value!r} is greater than or equal to the maximum of {limit!r}"),
}


def explain_schema_error(doc: Document, error: jsonschema.ValidationError) -> Iterator[Finding]:
    pointer = _pointer(error.absolute_path)
    where = doc.locate(pointer)
    validator = error.validator
    # The schema object whose keyword failed; the scheme schema has no boolean subschemas.
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if validator == "additionalProperties":
        allowed = sorted((schema.get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        for key in extra:
            kp = f"{pointer}/{escape_pointer_token(str(key))}"
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = _did_you_mean(close[0]) if close else _("allowed keys: {keys}", keys=", ".join(allowed))
            if "：" in str(key):
                hint = _("{hint}; '：' is a full-width colon (U+FF1A): type ':' (half-width) after a key", hint=hint)
            yield Finding("error", "unknown-key", _("unknown key {key!r}", key=key), doc.locate(kp, key=True), hint)
        return
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        known = set((schema.get("properties") or {}).keys())
        if isinstance(error.instance, dict) and difflib.get_close_matches(
                name, [k for k in error.instance if k not in known], n=1):
            return  # a misspelt key: the unknown-key finding already says "did you mean"
        yield Finding("error", "missing-key", _("missing required key {key!r}", key=name), where,
                      _("add `{key}:` here (see docs/scheme-format.md)", key=name))
        return
    if validator == "oneOf" and isinstance(error.instance, dict) and "sources" in _one_of_kinds(schema):
        if "records" in error.instance:
            yield Finding("error", "records-and-sources", _("a scheme reads one table (`records:`) or several "
                          "sources (`sources:`), not both"), doc.locate("/sources", key=True),
                          _("keep one: move the table under sources:, or remove sources:"))
        else:
            yield Finding("error", "missing-key", _("missing required key 'records' (or 'sources', for several "
                          "record sources)"), where,
                          _("add `records:` with the data contract (see docs/scheme-format.md)"))
        return
    if validator == "oneOf" and isinstance(error.instance, dict):
        kinds = _one_of_kinds(schema)
        present = [k for k in kinds if k in error.instance]
        what = ("sampling" if "rate" in kinds else "measure" if "count" in kinds else "scoring" if "bands" in kinds
                else "veto" if "when" in kinds else "test")
        if not present:
            if set(error.instance) - set(schema.get("properties", {})):
                return  # an unknown key is reported on its own, with a suggestion
            yield Finding("error", f"{what}-kind", _(_NEEDS_ONE_KIND[what], kinds=", ".join(kinds)), where, _("add exactly one of {kinds}", kinds=", ".join(kinds)))
            return
        if len(present) > 1:
            yield Finding("error", f"{what}-kind", _(_SEVERAL_KINDS[what], kinds=", ".join(present)), where, _("keep exactly one"))
            return
        # One kind present but its content is wrong: report the deepest cause.
        for sub in sorted(error.context, key=lambda e: -len(e.absolute_path)):
            if sub.validator != "required":
                yield from explain_schema_error(doc, sub)
                return
    if validator == "enum":
        yield Finding("error", "invalid-value", _("{value!r} is not one of {allowed}", value=error.instance,
                      allowed=error.validator_value), where, _enum_hint(error.instance, schema["enum"]))
        return
    if validator == "const":
        yield Finding("error", "invalid-value", _("{value!r} must be {expected!r}", value=error.instance,
                      expected=error.validator_value), where, _("write {expected}", expected=error.validator_value))
        return
    if validator == "type":
        expected = error.validator_value
        percent = percent_text(error.instance)
        if percent is not None and "number" in [*list_of(expected), expected]:
            # A value compared with a measure is a fraction; points, grades, weights and p are plain numbers.
            last = pointer.rsplit("/", 1)[-1]
            fraction = ("/scoring/" in pointer and last in ("min", "max", "from", "to", "equals")) or (
                pointer.startswith("/vetoes/") and last in THRESHOLD_TESTS)
            number = _fraction(percent) if fraction else f"{percent * 100:g}"
            yield Finding("error", "percent-text", _("{text} is written as text; write {number}",
                          text=str(error.instance).strip(), number=number), where,
                          _("shares are fractions between 0 and 1, written without %") if fraction else
                          _("write the number without %"))
            return
        yield Finding("error", "wrong-type", _("{value} is not of type {expected}", value=_short(error.instance),
                      expected=expected), where, _type_hint(pointer, expected))
        return
    if validator == "pattern":
        hint = _("use YYYY-MM-DD") if "[0-9]{4}" in str(error.validator_value) else (
            _("use letters, digits and underscores, starting with a letter"))
        yield Finding("error", "invalid-value", _("{value} does not have the expected form",
                      value=_short(error.instance)), where, hint)
        return
    if validator in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        allowed = list((schema.get("properties") or {}).keys())
        one = schema.get("maxProperties") == 1
        keys = _joined(allowed, N_("{left} or {right}"))
        yield Finding("error", "schema", _("give exactly one of {keys} here", keys=keys) if one else
                      _("give at least one of {keys} here", keys=keys), where,
                      _("keep only one of {keys}", keys=", ".join(k for k in allowed if k in error.instance)) if one
                      and error.instance else None)
        return
    if validator == "uniqueItems" and isinstance(error.instance, list):
        dupes = [v for i, v in enumerate(error.instance) if v in error.instance[:i]]
        yield Finding("error", "schema", _("{value} is listed twice", value=_short(dupes[0])) if dupes else
                      _("an item is listed twice"), where, _("list each item once"))
        return
    if validator in _BOUND_MESSAGES:
        yield Finding("error", "out-of-range", _(_BOUND_MESSAGES[validator], value=error.instance,
                      limit=error.validator_value), where, None)
        return
    yield Finding("error", "schema", _schema_message(error), where, None)


def _schema_message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message for the keywords the lint does not explain, in the current language."""
    value, limit = error.instance, error.validator_value
    if error.validator in ("minItems", "minLength"):
        return (_("{value!r} should be non-empty", value=value) if limit == 1 else
                _("{value!r} is too short", value=value))
    if error.validator in ("maxItems", "maxLength"):
        return (_("{value!r} is expected to be empty", value=value) if limit == 0 else
                _("{value!r} is too long", value=value))
    if error.validator in ("anyOf", "oneOf") and "is not valid under any" in error.message:
        return _("{value!r} is not valid under any of the given schemas", value=value)
    return error.message  # a keyword the scheme schema does not use


_PERCENT_TEXT = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*[%％]\s*")


def percent_text(value: Any) -> float | None:
    """The fraction a percent written as text means (``"80%"`` is 0.8); None for anything else."""
    match = _PERCENT_TEXT.fullmatch(value) if isinstance(value, str) else None
    return float(match[1]) / 100 if match else None


def _fraction(value: float) -> str:
    """A fraction as a committee member would type it: 0.80, 0.95, 0.125."""
    text = f"{value:.2f}"
    return text if float(text) == value else f"{value:g}"


def _one_of_kinds(schema: Mapping[str, Any]) -> list[str]:
    return [next(iter(alt["required"])) for alt in schema.get("oneOf", ()) if alt.get("required")]


def _did_you_mean(name: str) -> str:
    return _("did you mean {name!r}?", name=name)


def _enum_hint(value: Any, allowed: list[Any]) -> str:
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    return _did_you_mean(close[0]) if close else _("use one of {values}", values=", ".join(map(str, allowed)))


def _type_hint(pointer: str, expected: Any) -> str:
    if "effective" in pointer or pointer.endswith(("approved_on", "valid_from", "valid_to")):
        return _("write the date as YYYY-MM-DD")
    return _("write a value of type {expected}", expected=expected)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- lint helpers

# A name given twice, by the tables that give it (fields come first, then constants, then derive).
_NAME_CLASHES = {
    ("field", "constant"): N_("{name!r} is both a field and a constant"),
    ("field", "derived value"): N_("{name!r} is both a field and a derived value"),
    ("constant", "derived value"): N_("{name!r} is both a constant and a derived value"),
}
# A reference to nothing, by what it should name.
_NOT_OF_THIS_SCHEME = {
    "indicator": N_("{name!r} is not an indicator of this scheme"),
    "dimension": N_("{name!r} is not a dimension of this scheme"),
    "veto": N_("{name!r} is not a veto of this scheme"),
    "grade": N_("{name!r} is not a grade of this scheme"),
    "source": N_("{name!r} is not a source of this scheme"),
}
# An id used twice, by what it identifies.
_ID_USED = {
    "dimension": N_("dimension id {value!r} is already used (line {line})"),
    "indicator": N_("indicator id {value!r} is already used (line {line})"),
    "veto": N_("veto id {value!r} is already used (line {line})"),
    "grade": N_("grade id {value!r} is already used (line {line})"),
}


def _strs(value: Any) -> list[str]:
    """The text items of a list; anything else is the schema's business."""
    return [v for v in list_of(value) if isinstance(v, str)]


class _Lint:
    """Semantic checks over one document."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.data = dict_of(doc.data)
        self.findings: list[Finding] = []
        # Each record contract: (source name or None for `records:`, its pointer, its mapping).
        self.contracts: list[tuple[str | None, str, dict[str, Any]]] = (
            [(name, f"/sources/{escape_pointer_token(name)}", dict_of(spec))
             for name, spec in dict_of(self.data.get("sources")).items()]
            if "sources" in self.data else [(None, "/records", dict_of(self.data.get("records")))])
        self.several = "sources" in self.data
        # Every field by name (the first source that declares it, for its type); per source, with lookups.
        self.fields: dict[str, Any] = {}
        for _source, _base, spec in self.contracts:
            for name, f in dict_of(spec.get("fields")).items():
                self.fields.setdefault(name, f)
        self.available: dict[str, dict[str, Any]] = {}
        self.constants = dict_of(self.data.get("constants"))
        self.derive = dict_of(self.data.get("derive"))
        self.used: set[str] = set()
        self.shown: set[str] = set()  # fields only listed in an output (a sample's columns), never read
        self.in_expressions: set[str] = set()
        # Constant folding: the values of constants, and of derived values that use no record value.
        self.folder = _folder(self.constants)
        self.values = {n: v for n, v in self.constants.items() if n not in self.fields and n not in self.derive}
        self.record_level = not list_of(dict_of(self.data.get("subject")).get("group_by"))
        self.dates: dict[str, dt.date] = {}

    def add(self, severity: Severity, code: str, message: str, pointer: str, hint: str | None = None,
            *, key: bool = False) -> None:
        self.findings.append(Finding(severity, code, message, self.doc.locate(pointer, key=key), hint))

    def run(self) -> list[Finding]:
        self.metadata()
        self.contract()
        self.names()
        self.derived()
        self.dimensions()
        self.vetoes()
        self.sampling()
        self.grades()
        self.tests()
        self.calibration()
        self.personal()
        self.unused()
        return self.findings

    # -- metadata
    def metadata(self) -> None:
        dates = {}
        for key in ("effective_from", "effective_to", "approved_on"):
            value = self.data.get(key)
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = _parse_date(value)
                if day is None:
                    self.add("error", "invalid-date", _("{value!r} is not a calendar date", value=value), f"/{key}",
                             _("check the month and day"))
                else:
                    dates[key] = day
        if "effective_from" in dates and "effective_to" in dates and dates["effective_from"] > dates["effective_to"]:
            self.add("error", "effective-range",
                     _("effective_from {start} is after effective_to {end}", start=self.data["effective_from"],
                       end=self.data["effective_to"]),
                     "/effective_to", _("swap the dates or correct one of them"))
        if "approved_on" in dates and "effective_from" in dates and dates["approved_on"] > dates["effective_from"]:
            self.add("warning", "approved-after-effective",
                     _("approved_on {approved} is after effective_from {start}: the version would apply to days "
                       "before it was approved", approved=self.data["approved_on"], start=self.data["effective_from"]),
                     "/approved_on", _("check the approval date, or start the version on or after it"))
        self.dates = dates
        version = self.data.get("version")
        stem = Path(self.doc.path).stem
        if isinstance(version, str) and self.doc.path.endswith((".yaml", ".yml")) and stem != version:
            self.add("warning", "version-filename",
                     _("version {version!r} differs from the file name {stem!r}", version=version, stem=stem),
                     "/version", _("rename the file to {version}.yaml or set version: {stem}", version=version,
                                   stem=stem))
        if version is not None and self.data.get("supersedes") == version:
            self.add("error", "supersedes-self", _("a version cannot supersede itself"), "/supersedes",
                     _("name the previous version"))
        self.calendar()

    def calendar(self) -> None:
        """Dates that are calendar dates, and no day both off (a holiday) and worked (调休)."""
        cal = dict_of(self.data.get("calendar"))
        listed: dict[str, dict[dt.date, int]] = {"holidays": {}, "workdays": {}}
        for key, days in listed.items():
            for i, value in enumerate(list_of(cal.get(key))):
                day = _parse_date(value)
                if isinstance(value, str) and day is None:
                    self.add("error", "invalid-date", _("{value!r} is not a calendar date", value=value),
                             f"/calendar/{key}/{i}", _("use YYYY-MM-DD"))
                elif day is not None:
                    days.setdefault(day, i)
        for day, i in sorted(listed["workdays"].items()):
            if day in listed["holidays"]:
                line = self.doc.locate(f"/calendar/holidays/{listed['holidays'][day]}").line
                self.add("error", "calendar-conflict",
                         _("{day} is listed both as a holiday (line {line}) and as a make-up workday", day=day,
                           line=line),
                         f"/calendar/workdays/{i}",
                         _("a day is either off or worked: remove it from holidays or from workdays"))

    # -- record contract
    def contract(self) -> None:
        for _source, base, rec in self.contracts:
            self.one_contract(base, rec)
        if self.several:
            self.lookups()
        else:
            self.available[""] = self.fields
        self.subject()

    def one_contract(self, base: str, rec: Mapping[str, Any]) -> None:
        fields = dict_of(rec.get("fields"))
        rid = rec.get("id")
        if isinstance(rid, str) and fields and rid not in fields:
            self.field_missing(rid, f"{base}/id", fields, base)
        if isinstance(rid, str):
            self.used.add(rid)
        tz = rec.get("timezone")
        if isinstance(tz, str) and time_zone(tz) is None:
            self.add("error", "unknown-timezone", _("{zone!r} is not an IANA time zone name", zone=tz),
                     f"{base}/timezone", _zone_hint(tz))
        for name, spec in fields.items():
            spec = dict_of(spec)
            ptr = f"{base}/fields/{escape_pointer_token(name)}"
            ftype = spec.get("type")
            lo, hi = number_or_none(spec.get("minimum")), number_or_none(spec.get("maximum"))
            if lo is not None and hi is not None and lo > hi:
                self.add("error", "field-option", _("minimum {low:g} is greater than maximum {high:g}", low=lo,
                                                     high=hi), f"{ptr}/minimum", _("swap them"))
            if ("minimum" in spec or "maximum" in spec) and ftype not in ("integer", "number", "duration", None):
                self.add("error", "field-option", _("minimum/maximum do not apply to a {type} field", type=ftype),
                         f"{ptr}/type", _("remove them or change the type"))
            if "format" in spec and ftype not in ("date", "datetime"):
                self.add("error", "field-option", _("format applies to date and datetime fields, not {type}",
                                                     type=ftype), f"{ptr}/format",
                         _("remove format or change the type"))
            elif isinstance(spec.get("format"), str) and (why := _format_problem(spec["format"])):
                self.add("error", "field-option", _("format {format!r} cannot read a date: {why}",
                                                     format=spec["format"], why=why), f"{ptr}/format",
                         _("use strptime directives, e.g. %Y-%m-%d %H:%M:%S or %d/%m/%Y"))
            for i, item in enumerate(list_of(spec.get("enum"))):
                if not _enum_item_fits(item, ftype):
                    integer = ftype == "integer"
                    self.add("error", "field-option",
                             _("enum value {value} is not an integer, so no value equals it", value=_short(item))
                             if integer else
                             _("enum value {value} is not a number, so no value equals it", value=_short(item)),
                             f"{ptr}/enum/{i}",
                             _("write it as an integer, or remove it") if integer else
                             _("write it as a number, or remove it"))
            for key in ("true_values", "false_values"):
                if key in spec and ftype != "boolean":
                    self.add("error", "field-option", _("{key} applies to boolean fields only", key=key),
                             f"{ptr}/{key}", _("remove it or change the type to boolean"))
            both = set(_strs(spec.get("true_values"))) & set(_strs(spec.get("false_values")))
            if both:
                self.add("error", "field-option", _("{values} listed as both true and false", values=sorted(both)),
                         f"{ptr}/false_values", _("a text can mean only one of true or false"))

    def subject(self) -> None:
        """Keys, breakdowns and the period, found in every source (its own fields or looked up)."""
        subject = dict_of(self.data.get("subject"))
        main = self.main_fields()
        if self.several and not list_of(subject.get("group_by")):
            self.add("error", "sources-need-group-by",
                     _("a scheme with several sources scores subjects (an agent, a team), not single records"),
                     "/sources", _("add subject.group_by, or keep one source under records:"), key=True)
        for i, name in enumerate(list_of(subject.get("group_by"))):
            if not isinstance(name, str):
                continue
            self.used.add(name)
            if name not in main:
                self.field_missing(name, f"/subject/group_by/{i}", main, self.contracts[0][1])
            elif dict_of(main[name]).get("type") in ("number", "datetime", "duration"):
                self.add("error", "field-type",
                         _("group_by field {name!r} is a {type}; subjects need exact keys", name=name,
                           type=main[name].get("type")),
                         f"/subject/group_by/{i}", _("group by a string, integer, boolean or date field"))
            else:
                self.in_every_source(name, main[name], i)
        for i, name in enumerate(list_of(subject.get("breakdowns"))):
            if isinstance(name, str):
                self.used.add(name)
                if name not in main:
                    self.field_missing(name, f"/subject/breakdowns/{i}", main, self.contracts[0][1])
                    continue
                lacking = [s for s, _b, _s in self.contracts if name not in self.available.get(s or "", {})]
                if self.several and lacking:
                    self.add("warning", "breakdown-not-in-source",
                             _("breakdown {name!r} is not a field of {sources}, so results cannot be regrouped by it "
                               "(evaluate --by, the report's breakdowns)", name=name,
                               sources=", ".join(map(repr, lacking))),
                             f"/subject/breakdowns/{i}",
                             _("take {name!r} into {source!r} with lookup", name=name, source=lacking[0]))
        period = dict_of(subject.get("period"))
        pf = period.get("field")
        if isinstance(pf, str):
            self.used.add(pf)
            if pf not in main and self.contracts[0][2].get("period") is None:
                self.field_missing(pf, "/subject/period/field", main, self.contracts[0][1])
            elif pf in main and dict_of(main[pf]).get("type") not in ("date", "datetime"):
                self.add("error", "field-type",
                         _("period field {name!r} is a {type}, not a date or datetime", name=pf,
                           type=dict_of(main[pf]).get("type")),
                         "/subject/period/field", _("choose a date or datetime field"))
        if not self.several:
            return
        for name, base, spec in self.contracts:
            own = spec.get("period")
            fields = self.available.get(name or "", {})
            if own is not None and not period:
                self.add("error", "source-period",
                         _("source {source!r} names a period field, but the subject has no period", source=name),
                         f"{base}/period", _("add subject.period, or remove this source's period"))
            elif isinstance(own, str):
                self.used.add(own)
                if own not in fields:
                    self.field_missing(own, f"{base}/period", fields, base)
                elif dict_of(fields[own]).get("type") not in ("date", "datetime"):
                    self.add("error", "field-type",
                             _("period field {name!r} of source {source!r} is a {type}, not a date or datetime",
                               name=own, source=name, type=dict_of(fields[own]).get("type")), f"{base}/period",
                             _("choose a date or datetime field"))
            elif isinstance(pf, str) and pf in main and pf not in fields:
                self.add("error", "unknown-field",
                         _("source {source!r} has no field {name!r} to cut its records into periods", source=name,
                           name=pf), base,
                         _("look {name!r} up from another source (lookup), or name this source's own date field "
                           "with period:", name=pf), key=True)

    def main_fields(self) -> dict[str, Any]:
        """The fields of the main source (the first of `sources:`, or `records:`), with its lookups."""
        return self.available.get(self.contracts[0][0] or "", {})

    def in_every_source(self, name: str, spec: Any, index: int) -> None:
        """A subject key (``subject.group_by/index``) every source has, with one type: keys of different
        types never match."""
        if not self.several:
            return
        for source, base, _spec in self.contracts:
            theirs = self.available.get(source or "", {})
            if name not in theirs:
                self.add("error", "unknown-field",
                         _("source {source!r} has no field {name!r} to group by (subject.group_by/{index})",
                           source=source, name=name, index=index), base,
                         _("add {name!r} to its fields, or take it from another source with lookup", name=name),
                         key=True)
            elif dict_of(theirs[name]).get("type") != dict_of(spec).get("type"):
                self.add("error", "key-type",
                         _("{name!r} is {a_type} in source {source!r} but {other_type} in {main!r}, so their "
                           "subjects would never meet", name=name, a_type=_a(dict_of(theirs[name]).get("type")),
                           source=source, other_type=_a(dict_of(spec).get("type")), main=self.contracts[0][0]),
                         base, _("declare it with the same type in every source"), key=True)

    def lookups(self) -> None:
        """Every lookup names a source, a key of the other source's id type and fields it has; no cycle."""
        specs = {name: spec for name, _, spec in self.contracts if name is not None}
        bases = {name: base for name, base, _ in self.contracts if name is not None}
        resolving: list[str] = []

        def fields_of(name: str) -> dict[str, Any]:
            if name in self.available:
                return self.available[name]
            if name in resolving:
                return {}  # reported where the cycle closes
            resolving.append(name)
            spec = specs[name]
            out = dict(dict_of(spec.get("fields")))
            for li, lk in enumerate(list_of(spec.get("lookup"))):
                lk = dict_of(lk)
                ptr = f"{bases[name]}/lookup/{li}"
                other = lk.get("from")
                if not isinstance(other, str):
                    continue
                if other not in specs:
                    self.ref_missing(other, specs, f"{ptr}/from", "source", key=False)
                    continue
                if other == name or other in resolving:
                    loop = " → ".join([*resolving[resolving.index(other):], other])
                    self.add("error", "lookup-cycle", _("lookups go round in a circle: {loop}", loop=loop),
                             f"{ptr}/from",
                             _("a source may take fields only from sources that do not take fields from it"))
                    continue
                theirs = fields_of(other)
                key = lk.get("key")
                their_id = dict_of(specs[other]).get("id")
                if isinstance(key, str):
                    self.used.add(key)
                    if key not in out:
                        self.field_missing(key, f"{ptr}/key", out, bases[name])
                    elif isinstance(their_id, str) and their_id in theirs and (
                            dict_of(out[key]).get("type") != dict_of(theirs[their_id]).get("type")):
                        self.add("error", "key-type",
                                 _("key {key!r} is {a_type}, but the id {id!r} of {other} is {other_type}, so no "
                                   "row would match", key=key, a_type=_a(dict_of(out[key]).get("type")), id=their_id,
                                   other=other, other_type=_a(dict_of(theirs[their_id]).get("type"))),
                                 f"{ptr}/key", _("declare both with the same type"))
                for fi, fname in enumerate(list_of(lk.get("fields"))):
                    if not isinstance(fname, str):
                        continue
                    self.used.add(fname)
                    if fname not in theirs:
                        self.field_missing(fname, f"{ptr}/fields/{fi}", theirs, bases[other])
                    elif fname in out:
                        self.add("error", "name-clash",
                                 _("{name!r} is already a field of source {source!r}", name=fname, source=name),
                                 f"{ptr}/fields/{fi}", _("look up only fields the source lacks, or rename its own"))
                    else:
                        out[fname] = theirs[fname]
            resolving.pop()
            self.available[name] = out
            return out

        for name in specs:
            fields_of(name)

    def field_missing(self, name: str, pointer: str, fields: Mapping[str, Any] | None = None,
                      base: str = "/records") -> None:
        fields = self.fields if fields is None else fields
        close = difflib.get_close_matches(name, list(fields), n=1)
        where = base.strip("/").replace("/", ".")
        hint = (_did_you_mean(close[0]) if close else
                _("declare it under {where}.fields, or take it from another source with lookup", where=where)
                if self.several else _("declare it under {where}.fields", where=where))
        message = (_("{name!r} is not a field of source {source!r}", name=name, source=base.rsplit("/", 1)[-1])
                   if self.several else _("{name!r} is not a field of the record contract", name=name))
        self.add("error", "unknown-field", message, pointer, hint)

    # -- names
    def names(self) -> None:
        seen: dict[str, str] = {}
        tables = [("field", dict_of(spec.get("fields")), f"{base}/fields") for _, base, spec in self.contracts]
        for kind, table, base in (*tables, ("constant", self.constants, "/constants"),
                                  ("derived value", self.derive, "/derive")):
            for name in table:
                if kind == "field" and seen.get(name) == "field":
                    continue  # sources may share field names (agent_id in each)
                if name in seen:
                    self.add("error", "name-clash",
                             _(_NAME_CLASHES[seen[name], kind], name=name), f"{base}/{name}", _("rename one of them"),
                             key=True)
                else:
                    seen[name] = kind
                if name in expressions.FUNCTIONS or name in ("True", "False", "None"):
                    self.add("error", "name-clash", _("{name!r} is a built-in name", name=name), f"{base}/{name}",
                             _("choose another name"), key=True)

    def known(self, derived: Iterable[str]) -> dict[str, str]:
        names = {n: "field" for n in self.fields}
        names.update({n: "constant" for n in self.constants})
        names.update({n: "derived" for n in derived})
        return names

    def expression(self, source: Any, pointer: str, names: Mapping[str, str], *,
                   derived: str | None = None) -> expressions.Expression | None:
        """Check one expression; its parts that use no record value are computed, and one that
        can never be computed is an error. A ``derived`` value that is constant is remembered."""
        if not isinstance(source, (str, int, float, bool)):
            return None  # the schema reports the wrong type
        location = self.doc.locate(pointer)
        errors = list(expressions.iter_errors(source, names=names, location=location))
        for err in errors:
            self.findings.append(Finding("error", err.code, err.message, err.location or location, err.hint))
        try:
            expr = expressions.parse(source, location=location)
        except ExpressionError:
            return None
        self.used.update(expr.names)
        self.in_expressions.update(expr.names)
        if not errors and self.folder is not None:
            folded = self.folder.fold(expr, self.values)
            for err in folded.errors:
                self.findings.append(Finding("error", err.code, err.message, err.location or location, err.hint))
            if derived is not None and folded.is_constant:
                self.values[derived] = folded.value
        return expr

    def derived(self) -> None:
        order = list(self.derive)
        for idx, (name, source) in enumerate(self.derive.items()):
            ptr = f"/derive/{name}"
            earlier = order[:idx]
            later = set(order[idx:])
            names = self.known(earlier)
            # Names defined later are reported as ordering problems, not as unknown names.
            names.update({n: "derived" for n in later})
            expr = self.expression(source, ptr, names, derived=name)
            if expr is None:
                continue
            if name in expr.names:
                self.findings.append(Finding("error", "derived-cycle",
                                             _("{name!r} is defined in terms of itself", name=name),
                                             _name_location(expr, name, self.doc.locate(ptr)),
                                             _("a derived value may use only fields, constants and earlier derived "
                                               "values")))
            for used in sorted(expr.names & later - {name}):
                self.findings.append(Finding("error", "derived-order",
                                             _("{name!r} uses {used!r}, which is defined after it", name=name,
                                               used=used),
                                             _name_location(expr, used, self.doc.locate(ptr)),
                                             _("move {used!r} above {name!r} in derive", used=used, name=name)))

    # -- measures, scoring, dimensions
    def measure(self, spec: Any, pointer: str, *, term: bool = False) -> None:
        spec = dict_of(spec)
        ratio = dict_of(spec.get("ratio"))
        if isinstance(ratio.get("numerator"), dict) or isinstance(ratio.get("denominator"), dict):
            self.ratio_of_measures(spec, pointer, term=term)
            return
        source = self.measure_source(spec, pointer)
        if source is None:
            return
        fields = self.available.get(source, {})
        names = {n: "field" for n in fields}
        names.update({n: "constant" for n in self.constants})
        names.update({n: "derived" for n in self.derive})
        before = len(self.findings)
        for kind in MEASURE_KINDS:
            if kind == "ratio" and isinstance(spec.get("ratio"), dict):
                for part in ("numerator", "denominator"):
                    if part in spec["ratio"]:
                        self.expression(spec["ratio"][part], f"{pointer}/ratio/{part}", names)
            elif kind in spec:
                self.expression(spec[kind], f"{pointer}/{kind}", names)
        if "where" in spec:
            self.expression(spec["where"], f"{pointer}/where", names)
        if "percentile" in spec and "p" not in spec:
            self.add("error", "percentile-p", _("percentile needs p (0–100)"), f"{pointer}/percentile",
                     _("add p: 90"))
        if "p" in spec and "percentile" not in spec:
            self.add("error", "percentile-p", _("p applies to percentile only"), f"{pointer}/p", _("remove p"))
        if "value" in spec and not self.record_level:
            self.add("error", "value-needs-record-level",
                     _("`value` measures one record; this scheme groups records into subjects"), f"{pointer}/value",
                     _("use an aggregate such as mean or share, or remove subject.group_by"))
        if self.several and len(self.findings) == before:
            self.derived_in_source(spec, pointer, source, fields)

    def measure_source(self, spec: Mapping[str, Any], pointer: str) -> str | None:
        """The source a measure reads ("" for `records:`); None, reported, when it names none of them."""
        named = spec.get("source")
        if not self.several:
            if named is not None:
                self.add("error", "unknown-source", _("this scheme reads one table (records:), so there is no "
                         "source to name"), f"{pointer}/source",
                         _("remove source, or declare the tables under sources:"), key=True)
            return ""
        if named is None:
            return self.contracts[0][0]
        if isinstance(named, str) and named not in self.available:
            self.ref_missing(named, self.available, f"{pointer}/source", "source", key=False)
            return None
        return named if isinstance(named, str) else None

    def derived_in_source(self, spec: Mapping[str, Any], pointer: str, source: str,
                          fields: Mapping[str, Any]) -> None:
        """A derived value a measure uses must be computable from its source's fields."""
        for kind in (*MEASURE_KINDS, "where"):
            parts = dict_of(spec.get("ratio")).items() if kind == "ratio" else [(kind, spec.get(kind))]
            for part, text in parts:
                if kind in spec:
                    ptr = f"{pointer}/ratio/{part}" if kind == "ratio" else f"{pointer}/{kind}"
                    self.derived_in(text, ptr, source, fields)

    def derived_in(self, text: Any, pointer: str, source: str, fields: Mapping[str, Any]) -> None:
        """The derived values an expression uses are computable from its source's fields."""
        if not isinstance(text, (str, bool, int, float)):
            return
        try:
            used = expressions.parse(text).names
        except ExpressionError:
            return
        for name in sorted(used & set(self.derive)):
            lacking = sorted(self.derived_fields(name) - set(fields))
            if lacking:
                self.add("error", "unknown-name",
                         _("derived value {name!r} uses {fields}, which source {source!r} does not have", name=name,
                           fields=", ".join(map(repr, lacking)), source=source), pointer,
                         _("measure it in a source that has those fields (source:), or look them up"))

    def derived_fields(self, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        """The fields a derived value reads, through the derived values it uses."""
        try:
            used = expressions.parse(self.derive[name]).names
        except (ExpressionError, TypeError):
            return set()
        out = {n for n in used if n in self.fields}
        for other in used & set(self.derive) - seen - {name}:
            out |= self.derived_fields(other, seen | {name})
        return out

    def ratio_of_measures(self, spec: Mapping[str, Any], pointer: str, *, term: bool) -> None:
        """A ratio of two measures: both parts measures, each a number, no where/source on the ratio itself."""
        ratio = dict_of(spec.get("ratio"))
        if term:
            self.add("error", "ratio-terms", _("a ratio of measures cannot be one of the measures of another ratio"),
                     f"{pointer}/ratio", _("divide two plain measures"))
            return
        for key in ("where", "source"):
            if key in spec:
                self.add("error", "ratio-terms", _("a ratio of two measures takes no {key} of its own", key=key),
                         f"{pointer}/{key}", _("put {key} on the numerator's or denominator's measure", key=key),
                         key=True)
        for part in ("numerator", "denominator"):
            value = ratio.get(part)
            if not isinstance(value, dict):
                self.add("error", "ratio-terms", _("the ratio's {part} is an expression but the other part is a "
                         "measure; write both as measures, e.g. {{count: true, source: complaints}}", part=part),
                         f"{pointer}/ratio/{part}", _("or both as expressions summed over one source's records"))
                continue
            self.measure(value, f"{pointer}/ratio/{part}", term=True)
            kind = next((k for k in MEASURE_KINDS if k in value), None)
            if kind in TRUTH_KINDS or kind == "value":
                self.add("error", "ratio-terms", _("a `{kind}` measure is not a quantity to divide", kind=kind),
                         f"{pointer}/ratio/{part}/{kind}", _("use count, sum, mean or another numeric measure"),
                         key=True)

    def scoring(self, spec: Any, pointer: str, *, share: bool = False) -> None:
        spec = dict_of(spec)
        bands = list_of(spec.get("bands"))
        if bands:
            self.bands(bands, f"{pointer}/bands", share=share)
        if share:
            self.share_scoring(spec, pointer)
        linear = dict_of(spec.get("linear"))
        lo, hi = number_or_none(linear.get("from")), number_or_none(linear.get("to"))
        if lo is not None and hi is not None and lo == hi:
            self.add("error", "linear-degenerate", _("linear from and to are both {value:g}", value=lo),
                     f"{pointer}/linear", _("use pass: {{min: …}} for a threshold, or set different end points"))
        rule = dict_of(spec.get("pass"))
        plo, phi = number_or_none(rule.get("min")), number_or_none(rule.get("max"))
        if plo is not None and phi is not None and plo > phi:
            self.add("error", "pass-empty", _("pass min {low:g} is above max {high:g}: nothing can pass", low=plo,
                                               high=phi), f"{pointer}/pass", _("swap min and max"))
        if "default" in spec and "map" not in spec:
            self.add("error", "scoring-default", _("default applies to map scoring only"), f"{pointer}/default",
                     _("remove default"))

    def share_valued(self, measure: Any) -> bool:
        """Whether a measure's value lies between 0 and 1: a share, or a ratio that counts records
        where a condition holds over all records (a true/false numerator over 1)."""
        spec = dict_of(measure)
        if "share" in spec:
            return True
        ratio = dict_of(spec.get("ratio"))
        return ratio.get("denominator") in (1, True, "1", "True", "true") and self.boolean(ratio.get("numerator"))

    def boolean(self, source: Any) -> bool:
        """Whether an expression is true/false: a comparison, and/or/not, or a boolean field."""
        import ast

        try:
            tree = expressions.parse(source).tree.body if isinstance(source, str) else None
        except ExpressionError:
            return False
        if isinstance(tree, (ast.Compare, ast.BoolOp)) or (isinstance(tree, ast.UnaryOp)
                                                            and isinstance(tree.op, ast.Not)):
            return True
        return isinstance(tree, ast.Name) and dict_of(self.fields.get(tree.id)).get("type") == "boolean"

    def share_scoring(self, spec: Mapping[str, Any], pointer: str) -> None:
        """The bounds of a share's scoring, checked as :meth:`share_bounds` says."""
        bounds: list[tuple[str, str, str, Any]] = []  # pointer, what, key, value
        for i, band in enumerate(list_of(spec.get("bands"))):
            band = dict_of(band)
            bounds += [(f"{pointer}/bands/{i}/{k}", _("band {n} {key}", n=i + 1, key=k), k, band.get(k))
                       for k in ("min", "max")]
        for kind, keys in (("linear", ("from", "to")), ("pass", ("min", "max"))):
            rule = dict_of(spec.get(kind))
            bounds += [(f"{pointer}/{kind}/{k}", f"{kind} {k}", k, rule.get(k)) for k in keys]
        self.share_bounds(bounds)

    def share_bounds(self, bounds: Iterable[tuple[str, str, str, Any]]) -> None:
        """A share lies between 0 and 1: a number compared with one (a scoring bound, a veto's threshold)
        written as a percentage (80), or one no share can reach (a band's min 1.2, linear to 1.5, a veto
        above 1.5), is a mistake the committee cannot see in the scores.

        Each bound is (pointer, what, key, value); ``key`` says which side of the value it bounds:
        ``min`` (the value must reach it), ``max`` (the value must stay under it), ``from`` or ``to``.
        """
        for ptr, what, key, raw in bounds:
            value = number_or_none(raw)
            if value is None or 0 <= value <= 1:
                continue
            if _looks_percent(value):
                self.add("error", "share-as-percent",
                         _("{what} is {value:g}, but a share is between 0 and 1: did you mean {fraction}?",
                           what=what, value=value, fraction=_fraction(value / 100)), ptr,
                         _("write {fraction} for {value:g}%", fraction=_fraction(value / 100), value=value))
            elif (key == "min" and value > 1) or (key == "max" and value < 0) or key == "to":
                # A linear `from` beyond the range only moves where zero points would be.
                self.add("error", "band-unreachable" if "/bands/" in ptr else "share-unreachable",
                         _("{what} {value:g} can never be reached: a share is between 0 and 1", what=what,
                           value=value), ptr, _("write a fraction between 0 and 1 (0.80 for 80%)"))

    def bands(self, bands: list[Any], pointer: str, *, share: bool = False) -> None:
        covered: list[tuple[float, float]] = []
        last_min: float | None = None
        last_max: float | None = None
        exhaustive = False
        for i, band in enumerate(bands):
            band = dict_of(band)
            lo, hi = (_bound(band.get(k), share=share) for k in ("min", "max"))
            ptr = f"{pointer}/{i}"
            if (lo is None and band.get("min") is not None) or (hi is None and band.get("max") is not None):
                continue  # a bound the schema refuses: its band is not guessed at
            a = lo if lo is not None else float("-inf")
            b = hi if hi is not None else float("inf")
            if a > b:
                self.add("error", "band-empty", _("band min {low:g} is above its max {high:g}", low=lo, high=hi), ptr,
                         _("swap min and max"))
                continue
            unordered = (hi is None and lo is not None and last_min is not None and lo > last_min) or (
                lo is None and hi is not None and last_max is not None and hi < last_max)
            if unordered:
                self.add("error", "bands-unordered",
                         _("band {n} is out of order (bands with only min go highest first, bands with only max "
                           "lowest first)", n=i + 1), ptr, _("the first matching band wins; sort them"))
            elif exhaustive or _covered(a, b, covered):
                self.add("error", "band-unreachable", _("band {n} can never match: earlier bands cover it", n=i + 1),
                         ptr, _("bands are tried in order; put narrower bands first or fix the bounds"))
            covered.append((a, b))
            if lo is None and hi is None:
                exhaustive = True
            elif hi is None:
                last_min = lo
            elif lo is None:
                last_max = hi
        if not exhaustive and not _covered(float("-inf"), float("inf"), covered):
            self.add("warning", "bands-not-exhaustive", _("some values match no band and would get 0 points"),
                     pointer, _("end with a catch-all band such as {{points: 0}}"))

    def dimensions(self) -> None:
        dim_ids: dict[str, str] = {}
        ind_ids: dict[str, str] = {}
        measures: dict[str, Any] = {}  # indicator id -> its measure, for vetoes on an indicator's value
        for di, dim in enumerate(list_of(self.data.get("dimensions"))):
            dim = dict_of(dim)
            ptr = f"/dimensions/{di}"
            self.unique(dim.get("id"), dim_ids, f"{ptr}/id", "dimension")
            self.weight(dim.get("weight"), f"{ptr}/weight")
            self.weight_shares([dict_of(i).get("weight") for i in list_of(dim.get("indicators"))],
                               f"{ptr}/indicators", dim.get("id"))
            for ii, ind in enumerate(list_of(dim.get("indicators"))):
                ind = dict_of(ind)
                iptr = f"{ptr}/indicators/{ii}"
                self.unique(ind.get("id"), ind_ids, f"{iptr}/id", "indicator")
                if isinstance(ind.get("id"), str):
                    measures.setdefault(ind["id"], ind.get("measure"))
                self.weight(ind.get("weight"), f"{iptr}/weight")
                self.measure(ind.get("measure"), f"{iptr}/measure")
                self.scoring(ind.get("scoring"), f"{iptr}/scoring", share=self.share_valued(ind.get("measure")))
        self.dimension_ids, self.indicator_ids, self.indicator_measures = dim_ids, ind_ids, measures
        self.weight_shares([dict_of(d).get("weight") for d in list_of(self.data.get("dimensions"))],
                           "/dimensions", None, dimensions=True)

    def unique(self, value: Any, seen: dict[str, str], pointer: str, what: str) -> None:
        if not isinstance(value, str):
            return
        if value in seen:
            line = self.doc.locate(seen[value]).line
            self.add("error", "duplicate-id", _(_ID_USED[what], value=value, line=line), pointer,
                     _("ids must be unique across the scheme; rename one"))
        else:
            seen[value] = pointer

    def weight(self, value: Any, pointer: str) -> None:
        w = number_or_none(value)
        if w is not None and w <= 0:
            self.add("error", "non-positive-weight", _("weight {weight:g} must be greater than 0", weight=w), pointer,
                     _("to switch an item off, remove it; weights are relative, any positive numbers"))

    def weight_shares(self, raw: list[Any], pointer: str, dimension: Any, *, dimensions: bool = False) -> None:
        """Weights that look like percentages (or fractions) but do not add up to 100 (or 1): each
        counts for its share of the sum, which is not the number written. They are the weights of the
        dimensions, or of the indicators of ``dimension`` (its id)."""
        weights = [number_or_none(w) for w in raw]
        if len(weights) < 2 or any(w is None or w <= 0 for w in weights):
            return  # a missing or non-positive weight is reported on its own
        numbers = [w for w in weights if w is not None]
        total = sum(numbers)
        whole = 100.0 if total > 2 else 1.0
        if math.isclose(total, whole) or not 0.8 * whole <= total <= 1.2 * whole:
            return
        shares = _joined([_("{weight:g} is {share:.1f}%", weight=w, share=100 * w / total) for w in numbers],
                         N_("{left}, {right}"))
        message = (_("the dimension weights sum to {total:g}, not {whole:g}, so {shares}", total=total, whole=whole,
                     shares=shares) if dimensions else
                   _("the indicator weights of {dimension!r} sum to {total:g}, not {whole:g}, so {shares}",
                     dimension=dimension, total=total, whole=whole, shares=shares))
        self.add("warning", "weights-not-100", message, f"{pointer}/0/weight",
                 _("make them sum to {whole:g} if they are meant as percentages", whole=whole) if whole == 100 else
                 _("make them sum to {whole:g} if they are meant as fractions", whole=whole))

    # -- vetoes and grades
    def vetoes(self) -> None:
        grade_names = self.grade_names()
        seen: dict[str, str] = {}
        for vi, veto in enumerate(list_of(self.data.get("vetoes"))):
            veto = dict_of(veto)
            ptr = f"/vetoes/{vi}"
            self.unique(veto.get("id"), seen, f"{ptr}/id", "veto")
            if "when" in veto:
                self.measure(veto["when"], f"{ptr}/when")
            self.threshold(veto, ptr)
            for key, grade in dict_of(veto.get("effect")).items():
                if isinstance(grade, str) and grade_names and grade not in grade_names:
                    close = difflib.get_close_matches(grade, sorted(grade_names), n=1)
                    self.add("error", "unknown-grade", _("veto grade {grade!r} is not one of the grades", grade=grade),
                             f"{ptr}/effect/{key}",
                             _did_you_mean(close[0]) if close else _("use a name listed under grades"))
        self.veto_ids = seen

    def threshold(self, veto: Mapping[str, Any], pointer: str) -> None:
        """A veto on a measured value: one threshold, compared with a number (not true or false),
        of a measure or of an indicator that exists; a share's threshold is a fraction."""
        tests = [t for t in THRESHOLD_TESTS if t in veto]
        both = _joined(tests, N_("{left} and {right}"))
        for extra in tests[1:]:
            self.add("error", "veto-threshold", _("a veto compares with one threshold; this one has {tests}", tests=both),
                     f"{pointer}/{extra}", _("keep one; for a range, write a veto for each end"), key=True)
        iid = veto.get("indicator")
        measure = veto.get("when")
        if isinstance(iid, str):
            if iid not in self.indicator_measures:
                self.ref_missing(iid, self.indicator_measures, f"{pointer}/indicator", "indicator", key=False)
                return
            if not tests:
                self.add("error", "veto-threshold", _("a veto on indicator {id!r} needs a threshold", id=iid),
                         f"{pointer}/indicator", _("add one of above, below, at_least or at_most"), key=True)
                return
            measure = self.indicator_measures[iid]
        if not tests or ("when" in veto and "indicator" in veto):
            return  # two things to test: the schema reports it
        test = tests[0]
        why = self.not_numeric(measure)
        if why is not None:
            self.add("error", "veto-not-numeric",
                     _("a threshold compares a number, but {why} (indicator {id!r})", why=why, id=iid)
                     if isinstance(iid, str) else _("a threshold compares a number, but {why}", why=why),
                     f"{pointer}/{test}", _("measure a number (count or share of the condition, for example), or "
                                            "remove the threshold to veto whenever the measure is true"), key=True)
        elif self.share_valued(measure):
            side = "min" if test in ("above", "at_least") else "max"
            self.share_bounds([(f"{pointer}/{test}", _("threshold {test}", test=test), side, veto.get(test))])

    # -- sampling plan
    def sampling(self) -> None:
        """The plan samples a source without lookups, by its period, on fields and expressions it has."""
        plan = self.data.get("sampling")
        if not isinstance(plan, dict):
            return
        source = self.measure_source(plan, "/sampling")
        if source is None:
            return
        spec = next((s for n, _, s in self.contracts if (n or "") == source), {})
        base = next((b for n, b, _ in self.contracts if (n or "") == source), "/records")
        if spec.get("lookup"):
            self.add("error", "sampling-source", _("source {source!r} takes fields from other sources, which a "
                     "sample of its export alone cannot have", source=source),
                     "/sampling/source" if "source" in plan else "/sampling",
                     _("sample the source the others look up (e.g. interactions)"), key="source" in plan)
        period = spec.get("period") or dict_of(dict_of(self.data.get("subject")).get("period")).get("field")
        if not isinstance(period, str):
            self.add("error", "sampling-period", _("a sampling plan draws one sample per period, but the scheme's "
                     "subject has no period field"), "/sampling/every",
                     _("add subject.period (its field dates each record)"), key=True)
        own = dict_of(spec.get("fields"))
        for key in ("strata", "fields"):
            for i, name in enumerate(list_of(plan.get(key))):
                if isinstance(name, str):
                    (self.used if key == "strata" else self.shown).add(name)
                    if name not in own:
                        self.field_missing(name, f"/sampling/{key}/{i}", own, base)
        names = {n: "field" for n in own}
        names.update({n: "constant" for n in self.constants})
        names.update({n: "derived" for n in self.derive})
        rules = [("/sampling/exclude", plan.get("exclude"))] + [
            (f"/sampling/oversample/{k}/when", dict_of(o).get("when")) for k, o in enumerate(list_of(plan.get("oversample")))]
        for ptr, expr in rules:
            if expr is not None:
                before = len(self.findings)
                self.expression(expr, ptr, names)
                if self.several and len(self.findings) == before:
                    self.derived_in(expr, ptr, source, own)

    def not_numeric(self, measure: Any) -> str | None:
        """Why a measure has no number for a threshold to compare (None when it may have one)."""
        spec = dict_of(measure)
        kind = next((k for k in MEASURE_KINDS if k in spec), None)
        if kind in TRUTH_KINDS:
            return _("an `{kind}` measure is true or false", kind=kind)
        if kind != "value":
            return None
        source = spec["value"]
        if self.boolean(source):
            return _("this `value` is true or false")
        ftype = dict_of(self.fields.get(source.strip())).get("type") if isinstance(source, str) else None
        if ftype in ("string", "date", "datetime"):
            return _("this `value` is the {type} field {name!r}", type=ftype, name=source.strip())
        return None

    def grades(self) -> None:
        grades = [dict_of(g) for g in list_of(self.data.get("grades"))]
        names: dict[str, str] = {}
        previous: float | None = None
        for gi, grade in enumerate(grades):
            self.unique(grade.get("name"), names, f"/grades/{gi}/name", "grade")
            m = number_or_none(grade.get("min"))
            if m is None:
                continue
            if previous is not None and m == previous:
                self.add("error", "grades-overlap", _("two grades start at {min:g}; the second can never be given",
                                                       min=m), f"/grades/{gi}/min", _("give each grade its own min"))
            elif previous is not None and m > previous:
                self.add("error", "grades-unordered", _("grades must be listed highest first"),
                         f"/grades/{gi}/min", _("sort grades by min, descending"))
            previous = m
        mins = [m for m in (number_or_none(g.get("min")) for g in grades) if m is not None]
        if grades and len(mins) == len(grades) and min(mins) != 0:
            self.add("error", "grades-gap", _("grades do not reach 0 (lowest min is {min:g})", min=min(mins)),
                     f"/grades/{len(grades) - 1}/min", _("give the lowest grade min: 0 so every score has a grade"))

    # -- tests
    def tests(self) -> None:
        grade_names = self.grade_names()
        for ti, test in enumerate(list_of(self.data.get("tests"))):
            for ptr in self.test_sources(dict_of(test), f"/tests/{ti}", "records_file"):
                self.findings.extend(reference_findings(self.doc, ptr, "records_file"))
            self.test_sources(dict_of(test), f"/tests/{ti}", "records")
            expect = dict_of(dict_of(test).get("expect"))
            ptr = f"/tests/{ti}/expect"
            for iid in dict_of(expect.get("indicators")):
                if iid not in self.indicator_ids:
                    self.ref_missing(iid, self.indicator_ids, f"{ptr}/indicators/{iid}", "indicator")
            for did in dict_of(expect.get("dimensions")):
                if did not in self.dimension_ids:
                    self.ref_missing(did, self.dimension_ids, f"{ptr}/dimensions/{did}", "dimension")
            for vi, vid in enumerate(list_of(expect.get("vetoes"))):
                if isinstance(vid, str) and vid not in self.veto_ids:
                    self.ref_missing(vid, self.veto_ids, f"{ptr}/vetoes/{vi}", "veto")
            grade = expect.get("grade")
            if isinstance(grade, str) and grade not in grade_names:
                self.ref_missing(grade, dict.fromkeys(grade_names, ""), f"{ptr}/grade", "grade", key=False)
            self.test_dates(dict_of(test), f"/tests/{ti}")

    def test_sources(self, test: Mapping[str, Any], pointer: str, key: str) -> list[str]:
        """A test's records (or files) by source in a scheme with several, as one list (or file) in one with
        one; the pointers of the files named."""
        value = test.get(key)
        if value is None:
            return []
        if not isinstance(value, dict):
            if self.several and len(self.contracts) > 1:
                self.add("error", "unknown-source", _("this scheme reads several sources, so a test's {key} says "
                         "which source each belongs to", key=key), f"{pointer}/{key}",
                         _("write {key}: {{{first}: …, {second}: …}}", key=key, first=self.contracts[0][0],
                           second=self.contracts[1][0]), key=True)
            return [f"{pointer}/{key}"]
        if not self.several:
            self.add("error", "unknown-source", _("this scheme reads one table (records:), so a test's {key} is "
                     "not by source", key=key), f"{pointer}/{key}", _("give {key} without source names", key=key),
                     key=True)
            return []
        out = []
        for name in value:
            if name not in self.available:
                self.ref_missing(name, self.available, f"{pointer}/{key}/{name}", "source")
            else:
                out.append(f"{pointer}/{key}/{escape_pointer_token(name)}")
        return out

    def test_dates(self, test: Mapping[str, Any], pointer: str) -> None:
        """A test whose records (or subject period) fall outside the version's effective range
        checks days the version never scores: routing by date would give them to another version."""
        start, end = self.dates.get("effective_from"), self.dates.get("effective_to")
        field = dict_of(dict_of(self.data.get("subject")).get("period")).get("field")
        if start is None or not isinstance(field, str) or (end is not None and end < start):
            return  # an inverted range is reported on its own
        span = _("{start} to {end}", start=start, end=end) if end is not None else _("from {start}", start=start)
        within = (_("date the test's records between {start} and {end}", start=start, end=end) if end is not None
                  else _("date the test's records on or after {start}", start=start))
        check = (_("check a period between {start} and {end}", start=start, end=end) if end is not None
                 else _("check a period on or after {start}", start=start))

        def outside(day: dt.date) -> bool:
            return day < start or (end is not None and day > end)

        for ri, record in enumerate(list_of(test.get("records"))):
            value = dict_of(record).get(field)
            day = _parse_date(value[:10]) if isinstance(value, str) else _day_of(value)
            if day is not None and outside(day):
                self.add("warning", "test-outside-effective",
                         _("test record {n} is dated {day}, outside this version's effective range ({span})",
                           n=ri + 1, day=day, span=span),
                         f"{pointer}/records/{ri}/{escape_pointer_token(field)}", within)
                return
        subject = test.get("subject")
        match = re.search(r"(\d{4})-(\d{2})(?:-(\d{2}))?$", subject) if isinstance(subject, str) else None
        if match is None:
            return
        first = _parse_date(f"{match[1]}-{match[2]}-{match[3] or '01'}")
        if first is None:
            return
        last = first if match[3] else (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if last < start or (end is not None and first > end):
            self.add("warning", "test-outside-effective",
                     _("test subject period {period} is outside this version's effective range ({span})",
                       period=match[0], span=span),
                     f"{pointer}/subject", check)

    def grade_names(self) -> set[str]:
        return {g["name"] for g in map(dict_of, list_of(self.data.get("grades"))) if isinstance(g.get("name"), str)}

    def ref_missing(self, name: str, known: Mapping[str, Any], pointer: str, what: str, *, key: bool = True) -> None:
        close = difflib.get_close_matches(name, list(known), n=1)
        self.add("error", "unknown-reference", _(_NOT_OF_THIS_SCHEME[what], name=name), pointer,
                 _did_you_mean(close[0]) if close else None,
                 key=key and pointer.rsplit("/", 2)[-2] != "vetoes")

    # -- calibration (`qualiscore calibrate`)
    def calibration(self) -> None:
        if "calibration" not in self.data:
            return
        spec = dict_of(self.data["calibration"])
        if self.several or not self.record_level:
            self.add("error", "calibration-scheme",
                     _("calibration compares reviewers' rows of single records, but this scheme reads several "
                       "sources") if self.several else
                     _("calibration compares reviewers' rows of single records, but this scheme groups records "
                       "into subjects"),
                     "/calibration",
                     _("declare calibration on a record-level form: one table (records:), no group_by"), key=True)
            return
        fields = self.fields
        record_id = dict_of(self.data.get("records")).get("id")
        reviewer = spec.get("reviewer")
        if isinstance(reviewer, str):  # a field of the form, or a column of the reviewers' files only
            self.used.add(reviewer)
            if reviewer == record_id:
                self.add("error", "calibration-item", _("the reviewer {name!r} is the record id", name=reviewer),
                         "/calibration/reviewer", _("name the field that says who reviewed the row"))
        items: list[tuple[int | None, str]]
        if "items" in spec:
            items = [(i, n) for i, n in enumerate(list_of(spec["items"])) if isinstance(n, str)]
        else:
            items = [(None, n) for n in self.value_fields()]
            if not items:
                self.add("error", "calibration-item", _("no indicator's `value:` measure reads a field, so there "
                         "is no item to compare"), "/calibration", _("list the fields to compare under items"),
                         key=True)
        seen: set[str] = set()
        for index, name in items:
            pointer = "/calibration" if index is None else f"/calibration/items/{index}"
            if name in seen:
                self.add("error", "calibration-item", _("item {name!r} is listed twice", name=name), pointer,
                         _("list it once"))
                continue
            seen.add(name)
            if name not in fields:
                self.field_missing(name, pointer)
            elif name in (record_id, reviewer):
                self.add("error", "calibration-item",
                         _("{name!r} is the record id, not a checklist item", name=name) if name == record_id else
                         _("{name!r} is the reviewer, not a checklist item", name=name),
                         pointer, _("list only the fields reviewers score"))
            elif dict_of(fields[name]).get("type") not in ITEM_TYPES:
                self.add("error", "calibration-item",
                         _("item {name!r} is {a_type}; agreement is measured on boolean, string, integer, number "
                           "and duration fields", name=name, a_type=_a(dict_of(fields[name]).get("type"))), pointer,
                         _("compare the checklist answers, not dates"))
        for name, level in dict_of(spec.get("levels")).items():
            pointer = f"/calibration/levels/{escape_pointer_token(str(name))}"
            if name not in seen:
                self.add("error", "calibration-level", _("{name!r} has a level but is not an item", name=name),
                         pointer, _("add it to items, or remove its level"), key=True)
            elif level != "nominal" and dict_of(fields.get(name)).get("type") not in NUMERIC_ITEM_TYPES:
                self.add("error", "calibration-level",
                         _("item {name!r} is a string, so its values are only equal or not: level {level} needs "
                           "numbers", name=name, level=level), pointer, _("use nominal, or make the field a number"))

    def value_fields(self) -> list[str]:
        """The fields an indicator's `value:` measure reads: the default calibration items."""
        out: list[str] = []
        for dim in list_of(self.data.get("dimensions")):
            for ind in list_of(dict_of(dim).get("indicators")):
                source = dict_of(dict_of(ind).get("measure")).get("value")
                try:
                    names = expressions.parse(source).names if isinstance(source, str) else frozenset()
                except ExpressionError:
                    continue
                out.extend(n for n in sorted(names) if n in self.fields and n not in out)
        return out

    # -- personal data
    def personal(self) -> None:
        """Personal fields exist; a redacted or dropped one is read by nothing (the scores would change);
        a pseudonymised one is text, and means the same wherever it is matched (lookups, subject keys)."""
        policies: dict[str | None, dict[str, Any]] = {}
        for source, base, spec in self.contracts:
            fields = dict_of(spec.get("fields"))
            own = policies.setdefault(source, {})
            for name, policy in dict_of(spec.get("personal")).items():
                ptr = f"{base}/personal/{escape_pointer_token(str(name))}"
                if not isinstance(name, str) or policy not in PRIVACY_POLICIES:
                    continue  # the schema reports it
                if name not in fields:
                    self.field_missing(name, ptr, fields, base)
                    continue
                own[name] = policy
                self.shown.add(name)
                ftype = dict_of(fields[name]).get("type")
                if policy != "pseudonymise" and name in self.used:
                    self.add("error", "personal-policy",
                             _("{name!r} is the record id, so to {policy} it would change the scores", name=name,
                               policy=policy) if name == spec.get("id") else
                             _("{name!r} is read by the scheme (a measure, where, derived value, key, lookup, period "
                               "or sampling rule), so to {policy} it would change the scores", name=name,
                               policy=policy), ptr,
                             _("pseudonymise it: its token keeps equal values equal ({name}: pseudonymise)", name=name))
                elif policy == "pseudonymise" and ftype != "string":
                    self.add("error", "personal-type",
                             _("{name!r} is {a_type} field, but pseudonymise replaces a value by a text token",
                               name=name, a_type=_a(ftype)),
                             ptr, _("declare {name!r} with type: string (ids of digits are text too), or redact or "
                                    "drop it if nothing reads it", name=name))
                elif policy == "pseudonymise" and name in self.in_expressions:
                    self.add("warning", "personal-in-expression",
                             _("expressions see the token of {name!r}, not its value: comparing it with a constant "
                               "or taking part of its text gives another result than on the raw value", name=name),
                             ptr, _("use it only as a key, to count, or compared with null or another pseudonymised "
                                    "field"))
        self.personal_matches(policies)

    def personal_matches(self, policies: Mapping[str | None, Mapping[str, Any]]) -> None:
        """A lookup key and the id it matches, and a subject key in every source, share one policy."""
        if not self.several:
            return
        specs = {name: spec for name, _, spec in self.contracts}
        for source, base, spec in self.contracts:
            for li, lk in enumerate(list_of(spec.get("lookup"))):
                lk = dict_of(lk)
                other, key = lk.get("from"), lk.get("key")
                their_id = dict_of(specs.get(other)).get("id") if isinstance(other, str) else None
                if not isinstance(key, str) or not isinstance(their_id, str):
                    continue
                mine, theirs = policies.get(source, {}).get(key), policies.get(other, {}).get(their_id)
                if mine != theirs:
                    self.add("error", "personal-mismatch",
                             _("key {key!r} is {policy} here, but the id {id!r} of {other} is {other_policy}, so no "
                               "row would match", key=key, policy=_policy(mine), id=their_id, other=other,
                               other_policy=_policy(theirs)), f"{base}/lookup/{li}/key",
                             _("declare both with the same policy (e.g. {key}: pseudonymise in {source} and "
                               "{id}: pseudonymise in {other})", key=key, source=source, id=their_id, other=other))
        group_by = [n for n in list_of(dict_of(self.data.get("subject")).get("group_by")) if isinstance(n, str)]
        for name in group_by:
            seen = {source: policies.get(source, {}).get(name) for source, _, spec in self.contracts
                    if name in dict_of(spec.get("fields"))}
            if len(set(seen.values())) > 1:
                described = _joined([_("{policy} in {source}", policy=_policy(p), source=s) for s, p in seen.items()],
                                    N_("{left}, {right}"))
                self.add("error", "personal-mismatch",
                         _("subject key {name!r} is {policies}, so the sources' subjects would never meet", name=name,
                           policies=described),
                         "/subject/group_by", _("declare {name!r} with the same policy in every source", name=name))

    # -- unused
    def unused(self) -> None:
        for _source, base, spec in self.contracts:
            if spec.get("other_columns") == "refuse":
                continue  # a field may be declared only so that its column is allowed
            for name in dict_of(spec.get("fields")):
                if name not in self.used and name not in self.shown:
                    self.add("warning", "unused-field", _("field {name!r} is not used by any expression or key",
                                                          name=name), f"{base}/fields/{name}",
                             _("remove it, or use it; unused fields are still type-checked"), key=True)
        for name in self.constants:
            if name not in self.used:
                self.add("warning", "unused-constant", _("constant {name!r} is not used", name=name),
                         f"/constants/{name}", _("remove it or use it in an expression"), key=True)
        for name in self.derive:
            if name not in self.used:
                self.add("warning", "unused-derived", _("derived value {name!r} is not used", name=name),
                         f"/derive/{name}", _("remove it or use it in a measure"), key=True)


# A personal field's policy as a finding says it.
_POLICIES = {"pseudonymise": N_("pseudonymised"), "redact": N_("redacted"), "drop": N_("dropped")}


def _policy(policy: Any) -> str:
    return _(_POLICIES[policy]) if policy in _POLICIES else _("not personal")


def _a(word: Any) -> str:
    """A field type with its article ("a string", "an integer"), as a finding says it."""
    if str(word)[:1] in "aeiou":
        return _("an {field_type}", field_type=word)
    return _("a {field_type}", field_type=word)


def _joined(items: Iterable[str], pair: str) -> str:
    """Items joined two by two with ``pair`` ("{left} and {right}"), in the current language."""
    listed = list(items)
    return reduce(lambda left, right: _(pair, left=left, right=right), listed) if listed else ""


def _folder(constants: Mapping[str, Any]) -> expressions.Folder | None:
    """An evaluator for constant folding; None when the constants are not plain data (reported elsewhere)."""
    try:
        return expressions.Folder(constants)
    except TypeError:
        return None


def _bound(value: Any, *, share: bool) -> float | None:
    """A band bound as the lint reads it: a number, or a percent written as text or (on a share)
    as a number above 1; those are reported on their own, so the bands are checked as meant."""
    number = number_or_none(value)
    if number is None:
        return percent_text(value)
    return number / 100 if share and _looks_percent(number) else number


def _day_of(value: Any) -> dt.date | None:
    """The calendar day of a date or datetime value; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _looks_percent(value: float) -> bool:
    """A bound of a share that reads as a percentage (2 to 100); 1.2 reads as a slip, not as 1.2%."""
    return 2 <= value <= 100


def _zone_hint(name: str) -> str:
    names = time_zone_names()
    folded = [z for z in names if z.casefold() == name.casefold()]
    close = folded or difflib.get_close_matches(name, sorted(names), n=1)
    if close:
        return _did_you_mean(close[0])
    return _("use an IANA name such as Asia/Shanghai or UTC; a name that depends on the machine "
             "(localtime) would make the results depend on where they are computed")


def _format_problem(fmt: str) -> str | None:
    """Why a strptime ``format`` can read no value at all (None when it reads what it writes)."""
    sample = dt.datetime(2026, 5, 14, 9, 30, 15, tzinfo=dt.timezone.utc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python 3.13 warns about a day without a year
            dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        return _strptime_problem(str(exc))
    return None


# Python's strptime errors, worded as Python words them, so that they can be translated.
_STRPTIME_PROBLEMS = (
    (re.compile(r"'(?P<directive>.*)' is a bad directive in format '(?P<format>.*)'", re.S),
     N_("'{directive}' is a bad directive in format '{format}'")),
    (re.compile(r"stray % in format '(?P<format>.*)'", re.S), N_("stray % in format '{format}'")),
    (re.compile(r"unconverted data remains: (?P<rest>.*)", re.S), N_("unconverted data remains: {rest}")),
    (re.compile(r"time data (?P<data>.*) does not match format (?P<format>.*)", re.S),
     N_("time data {data} does not match format {format}")),
)


def _strptime_problem(text: str) -> str:
    for pattern, message in _STRPTIME_PROBLEMS:
        if match := pattern.fullmatch(text):
            return _(message, **match.groupdict())
    return text


_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+(?:\.0*)?\s*")


def _enum_item_fits(item: Any, ftype: Any) -> bool:
    """Whether an enum value can equal a value of the field, as the record reader types it (integer and
    number fields; any value can equal a text, and other types are the schema's business)."""
    if ftype == "integer":
        if isinstance(item, str):
            return item.isascii() and _INTEGER_TEXT.fullmatch(item) is not None
        return isinstance(item, int) or (isinstance(item, float) and item.is_integer())
    if ftype == "number":
        if isinstance(item, str):
            number = _float_or_none(item) if item.isascii() and "_" not in item else None
            return number is not None and math.isfinite(number)
        return isinstance(item, (int, float)) and math.isfinite(item)
    return True


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- file references

# ``book.xlsx#Sheet``: the sheet after an Excel workbook's name is not part of the path.
_SHEET_SUFFIX = re.compile(r"(?is)(.+?\.xls[xm])#.*")


class OutsideTree(ValueError):
    """A file reference that leaves the directory of the file that makes it."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A file a scheme (or a tests file) names, resolved against the directory that holds it."""

    path: Path  # what a reader is given: the file, with ``#Sheet`` for a workbook's sheet
    file: Path  # the file alone


def resolve_reference(directory: Path | None, reference: str) -> Reference:
    """``reference`` relative to ``directory``, which it may not leave.

    The rules tree of a scheme is the directory that holds the scheme file: a reference
    may name files in it and below, never an absolute path, a path that climbs above it
    with ``..``, or a symbolic link that leads out of it (links are followed when
    ``directory`` is given; None checks the text alone, for a scheme that is not a file).
    Raises :class:`OutsideTree` saying why.
    """
    base = directory if directory is not None else Path()
    whole = base / reference
    sheet = _SHEET_SUFFIX.fullmatch(reference)
    file = sheet[1] if sheet and not (directory is not None and whole.exists()) else reference
    if file.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", file):
        raise OutsideTree(_("is an absolute path"))
    depth = 0
    for part in re.split(r"[\\/]", file):
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            raise OutsideTree(_("climbs out of the directory with '..'"))
    if directory is not None:
        root = os.path.realpath(directory)
        target = os.path.realpath(directory / file)
        try:
            inside = os.path.commonpath([root, target]) == root
        except ValueError:  # another drive
            inside = False
        if not inside:
            raise OutsideTree(_("leads out of the directory through a symbolic link (to {target})", target=target))
    return Reference(whole, base / file)


def reference_findings(doc: Document, pointer: str, what: str) -> Iterator[Finding]:
    """A file named at ``pointer`` must stay in the directory of ``doc``, and exist.

    A missing scheme makes a tests file unusable (an error); a missing records file fails
    only its own test (a warning: the scheme is still usable).
    """
    reference = doc.data_at(pointer)
    if not isinstance(reference, str):
        return  # absent, or the schema reports the type
    on_disk = Path(doc.path).is_file()  # a scheme read from git or from text has no directory to look in
    directory = Path(doc.path).parent if on_disk else None
    if not reference.strip():
        yield Finding("error", "invalid-value", _("{key} is empty", key=what), doc.locate(pointer), _("name a file"))
        return
    try:
        resolved = resolve_reference(directory, reference)
    except OutsideTree as why:
        yield Finding("error", "file-outside-tree", _("{key} {path} {why}", key=what, path=_short(reference), why=why),
                      doc.locate(pointer),
                      _("keep the file in {directory} or below, and write its path relative to that directory",
                        directory=directory) if directory else
                      _("keep the file in the directory of this file or below, and write its path relative to that "
                        "directory"))
        return
    if directory is not None and not resolved.file.is_file():
        message = _("{key} {path} is not a file: {file} does not exist", key=what, path=_short(reference),
                    file=resolved.file)
        hint = _("the path is relative to the directory of this file ({directory})", directory=directory)
        if what == "scheme":
            yield Finding("error", "file-not-found", message, doc.locate(pointer), hint)
        else:
            yield Finding("warning", "missing-fixture", message, doc.locate(pointer), hint)


def _name_location(expr: expressions.Expression, name: str, start: Location) -> Location:
    """Where ``name`` first appears inside the expression."""
    import ast

    nodes = [n for n in ast.walk(expr.tree) if isinstance(n, ast.Name) and n.id == name]
    if not nodes:
        return start
    first = min(nodes, key=lambda n: (n.lineno, n.col_offset))
    return expressions.node_location(expr.source, start, first)


def _covered(a: float, b: float, intervals: list[tuple[float, float]]) -> bool:
    """Whether [a, b] lies inside the union of closed intervals."""
    point = a
    for lo, hi in sorted(intervals):
        if lo > point:
            break
        if hi >= point:
            point = hi
            if point >= b:
                return True
    return False


# --------------------------------------------------------------------------- public API


def _non_finite(doc: Document) -> Iterator[Finding]:
    """`.nan` and `.inf` are YAML numbers that no rule can mean; JSON Schema lets them through."""
    stack: list[tuple[str, Any]] = [("", doc.data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            yield Finding("error", "non-finite", _("{value!r} is not a usable number", value=value),
                          doc.locate(pointer), _("write a finite number"))
        elif isinstance(value, dict):
            stack.extend((f"{pointer}/{escape_pointer_token(str(k))}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))


def iter_findings(doc: Document) -> Iterator[Finding]:
    """Every finding for one loaded document, schema first, then lint, sorted by position."""
    findings = [*_schema_findings(doc), *_non_finite(doc)]
    if isinstance(doc.data, dict):
        findings.extend(_Lint(doc).run())
    seen = set()
    for f in sorted(findings, key=Finding.sort_key):
        key = (f.code, f.location, f.message)
        if key not in seen:
            seen.add(key)
            yield f


def load_error_finding(error: SchemeLoadError) -> Finding:
    return Finding("error", error.code, error.message, error.location or Location(), error.hint)


def validate_file(path: str | Path) -> tuple[Document | None, list[Finding]]:
    """Load and validate one file (a scheme, or a ``*.tests.yaml`` file); a load error becomes a finding."""
    try:
        doc = load_path(path)
    except SchemeLoadError as exc:
        return None, [load_error_finding(exc)]
    if Path(path).name.endswith(TESTS_SUFFIX):
        return doc, tests_file_findings(doc)
    if Path(path).name == TRUSTED_KEYS:
        return None, _trusted_keys_findings(path)
    return doc, list(iter_findings(doc))


def _trusted_keys_findings(path: str | Path) -> list[Finding]:
    """The committee's trusted-keys.yaml, kept beside its schemes, checked as ``verify`` will read it."""
    from .trust import TrustedKeysError, load_trusted_keys  # trust reads files with this module's helpers

    try:
        load_trusted_keys(path)
    except TrustedKeysError as exc:
        return list(exc.findings)
    return []


def scheme_files(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        return sorted(
            q for q in p.rglob("*")
            if q.suffix in (".yaml", ".yml") and q.is_file() and not q.name.endswith(TESTS_SUFFIX)
            and q.name != TRUSTED_KEYS
        )
    return [p]


def checked_files(path: str | Path) -> list[Path]:
    """What ``validate`` checks under ``path``: the scheme files, the ``*.tests.yaml`` files, trusted keys."""
    p = Path(path)
    tests = sorted(q for q in p.rglob(f"*{TESTS_SUFFIX}") if q.is_file()) if p.is_dir() else []
    keys = sorted(q for q in p.rglob(TRUSTED_KEYS) if q.is_file()) if p.is_dir() else []
    return [*scheme_files(p), *tests, *keys]


# --------------------------------------------------------------------------- tests files

TESTS_FORMAT = "qualiscore-tests/v1"
TESTS_SUFFIX = ".tests.yaml"
TRUSTED_KEYS = "trusted-keys.yaml"  # the keys that may sign runs, kept beside the schemes (qualiscore.trust)


@lru_cache(maxsize=1)
def _tests_file_validator() -> jsonschema.Draft202012Validator:
    """A *.tests.yaml file is checked with the same `test` definition as a scheme's own tests."""
    base = scheme_schema()
    return jsonschema.Draft202012Validator({
        "$schema": base["$schema"],
        "$defs": base["$defs"],
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "scheme", "tests"],
        "properties": {
            "format": {"const": TESTS_FORMAT},
            "scheme": {"type": "string", "description": "The scheme file tested, relative to this file's directory and inside it."},
            "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}},
        },
    })


def tests_file_findings(doc: Document) -> list[Finding]:
    """A tests file: its form, then the files it names (its scheme, records files), inside its directory."""
    findings = [f for e in _tests_file_validator().iter_errors(doc.data) for f in explain_schema_error(doc, e)]
    findings += reference_findings(doc, "/scheme", "scheme")
    for ti in range(len(list_of(dict_of(doc.data).get("tests")))):
        findings += reference_findings(doc, f"/tests/{ti}/records_file", "records_file")
    return sorted(findings, key=Finding.sort_key)


def iter_version_findings(docs: Iterable[Document]) -> Iterator[Finding]:
    """Cross-version checks among documents of the same scheme id."""
    by_scheme: dict[str, list[Document]] = {}
    for doc in docs:
        data = dict_of(doc.data)
        if isinstance(data.get("scheme"), str):
            by_scheme.setdefault(data["scheme"], []).append(doc)
    for versions in by_scheme.values():
        yield from _check_versions(versions)


def _parse_date(value: Any) -> dt.date | None:
    """The date an ISO text names; None for anything else, which the schema or a finding reports."""
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check_versions(docs: list[Document]) -> Iterator[Finding]:
    names = {str(dict_of(d.data).get("version")): d for d in docs}
    for doc in docs:
        sup = dict_of(doc.data).get("supersedes")
        if isinstance(sup, str) and sup not in names:
            close = difflib.get_close_matches(sup, list(names), n=1)
            yield Finding("error", "unknown-supersedes",
                          _("supersedes {version!r}, but no such version is in this directory", version=sup),
                          doc.locate("/supersedes"), _did_you_mean(close[0]) if close else
                          _("check the version name, or add the superseded file"))
    if len(docs) > 1:
        for doc in docs:
            if not dict_of(dict_of(doc.data).get("subject")).get("period"):
                yield Finding("warning", "versions-no-period",
                              _("version {version} has no subject.period, so records cannot be routed to the versions "
                                "of this directory by date", version=dict_of(doc.data).get("version")),
                              doc.locate("/subject/period"),
                              _("add subject.period to every version, or evaluate one version (a file, or --as-of)"))
    seen: dict[str, Document] = {}
    for doc in docs:
        version = str(dict_of(doc.data).get("version"))
        if version in seen:
            yield Finding("error", "duplicate-version",
                          _("version {version!r} is also defined in {path}", version=version, path=seen[version].path),
                          doc.locate("/version"),
                          _("each version lives in one file; to start the next version from this one, delete this "
                            "copy and run: qualiscore revise {path} NEW_VERSION", path=seen[version].path))
        seen[version] = doc
    ranged = []
    for doc in docs:
        data = dict_of(doc.data)
        start = _parse_date(data.get("effective_from"))
        if start is not None:
            ranged.append((start, _parse_date(data.get("effective_to")), doc))
    ranged.sort(key=lambda r: r[0])
    for (s1, e1, d1), (s2, _e2, d2) in itertools.pairwise(ranged):
        v1, v2 = dict_of(d1.data).get("version"), dict_of(d2.data).get("version")
        if e1 is None or e1 >= s2:
            yield _overlap(d1, d2, s1, e1, s2)
        elif e1 + dt.timedelta(days=1) < s2:
            yield Finding("error", "versions-gap",
                          _("no version covers {first} to {last} (between {earlier} and {later})",
                            first=e1 + dt.timedelta(days=1), last=s2 - dt.timedelta(days=1), earlier=v1, later=v2),
                          d2.locate("/effective_from"),
                          _("start {version} on {day}", version=v2, day=e1 + dt.timedelta(days=1)))


def _overlap(d1: Document, d2: Document, s1: dt.date, e1: dt.date | None, s2: dt.date) -> Finding:
    """Two versions overlap: the advice moves the new one (the later, unless the earlier is the
    unapproved one or supersedes the later), never the approved one."""
    data1, data2 = dict_of(d1.data), dict_of(d2.data)
    v1, v2 = data1.get("version"), data2.get("version")
    message = (_("{earlier} (from {start} open-ended) overlaps {later} (from {later_start})", earlier=v1, start=s1,
                 later=v2, later_start=s2) if e1 is None else
               _("{earlier} (from {start} to {end}) overlaps {later} (from {later_start})", earlier=v1, start=s1,
                 end=e1, later=v2, later_start=s2))
    earlier_is_new = data1.get("supersedes") == v2 or ("approved_on" in data2 and "approved_on" not in data1)
    if earlier_is_new:
        return Finding("error", "versions-overlap", message, d1.locate("/effective_to" if e1 else "/effective_from"),
                       _("end {earlier} on {day}, the day before {later} starts", earlier=v1,
                         day=s2 - dt.timedelta(days=1), later=v2))
    if e1 is None:
        return Finding("error", "versions-overlap", message, d2.locate("/effective_from"),
                       _("{earlier} has no effective_to, so every later start overlaps it; {earlier} needs an end "
                         "date ({day}, the day before {later} starts), which is a change to approve", earlier=v1,
                         day=s2 - dt.timedelta(days=1), later=v2))
    return Finding("error", "versions-overlap", message, d2.locate("/effective_from"),
                   _("start {later} on {day}, the day after {earlier} ends", later=v2, day=e1 + dt.timedelta(days=1),
                     earlier=v1))


def validate_paths(paths: Iterable[str | Path]) -> list[Finding]:
    """All findings for files and directories, including cross-version checks per directory."""
    findings: list[Finding] = []
    for path in paths:
        p = Path(path)
        if not p.exists():
            findings.append(Finding("error", "file-not-found", _("{path} does not exist", path=path),
                                    Location(str(path)), _("check the path")))
            continue
        docs = []
        for file in checked_files(p) if p.is_dir() else [p]:
            doc, found = validate_file(file)
            findings.extend(found)
            if doc is not None and not file.name.endswith(TESTS_SUFFIX):
                docs.append(doc)
        if p.is_dir():
            for parent in sorted({Path(d.path).parent for d in docs}):
                findings.extend(iter_version_findings(d for d in docs if Path(d.path).parent == parent))
        from .diff.changelog import changelog_findings  # diff imports validation

        findings.extend(changelog_findings(docs))
    return findings
