"""Semantic diff of two versions of a scheme, and their impact on the same data.

A committee revises a scheme every quarter; an auditor must be able to read exactly
what changed, rule by rule, and check it against the changelog. This module compares
two loaded documents *by meaning*, not by text:

* dimensions, indicators and vetoes are matched by ``id`` (an indicator that changed
  dimension is *moved*), grades by ``name``, constants, fields and derived values by
  name, tests by ``name``;
* reformatting, comments, quoting, reordering of mappings or of the dimension,
  indicator and veto lists, and writing a default explicitly (``min_sample: 1``,
  ``when_not_applicable: redistribute``, ``nullable: false``, ``rounding.decimals: 2``,
  ``calendar.weekend: [6, 7]``, ``records.timezone: UTC``, ``column`` equal to the
  field name, ``name`` equal to the id, ``scoring.default: 0``, ``tolerance: 1e-6``)
  are *no change*;
* expressions are compared by their parsed syntax tree (``ast.dump``), so whitespace
  and redundant parentheses are no change;
* order still matters where it has meaning: scoring bands (the first match wins) are
  compared by position, ``subject.group_by`` (it spells the subject key) and
  ``changelog`` lines as sequences.

Each difference is a :class:`Change` with a kind (see :data:`KINDS`), a readable path
(``dimensions.outcome.indicators.fcr.scoring.linear.from``), the old and new values
and the line of each in its file.

:func:`impact` scores the same records with both versions (each with its own record
contract; effective dates are ignored on purpose: the point is to back-test new rules
on old data) and summarises how grades, scores, indicators and vetoes move.

``qualiscore diff OLD NEW`` (:func:`diff_command`) prints either as text, Markdown
or JSON. Exit status: 0 equivalent, 1 different, 2 usage error, 3 a side is not a
valid scheme (4 unreadable data with ``--data``).
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import (
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    Location,
    QualiscoreError,
    SchemeLoadError,
    UsageError,
)
from .loader import MAX_BYTES, Document, escape_pointer_token, load_path, load_text

if TYPE_CHECKING:  # only for annotations: the CLI imports this module at start-up
    from .model import Scheme
    from .scorecard import Scorecard

__all__ = [
    "CATEGORIES",
    "KINDS",
    "Change",
    "DimensionMean",
    "Impact",
    "IndicatorDelta",
    "IndicatorMean",
    "SubjectMove",
    "check_document",
    "diff_command",
    "diff_documents",
    "impact",
    "load_side",
    "render_json",
    "render_markdown",
    "render_text",
]

# Categories in the order they are printed, with their headings.
CATEGORIES: dict[str, str] = {
    "metadata": "Metadata",
    "records": "Record contract",
    "subject": "Subject",
    "settings": "Rounding and calendar",
    "constants": "Constants",
    "derived": "Derived values",
    "structure": "Dimensions and indicators",
    "weights": "Weights",
    "measures": "Measures",
    "scoring": "Scoring",
    "applicability": "Sample size and not-applicable rules",
    "targets": "Targets",
    "vetoes": "Vetoes",
    "grades": "Grades",
    "text": "Names, descriptions and labels",
    "tests": "Tests",
}

# Every kind of change, and its category.
KINDS: dict[str, str] = {
    "metadata": "metadata",
    "records-id-changed": "records",
    "timezone-changed": "records",
    "field-added": "records",
    "field-removed": "records",
    "field-type-changed": "records",
    "field-enum-changed": "records",
    "field-range-changed": "records",
    "field-nullable-changed": "records",
    "field-column-changed": "records",
    "field-format-changed": "records",
    "field-values-changed": "records",
    "subject-changed": "subject",
    "rounding-changed": "settings",
    "calendar-changed": "settings",
    "constant-added": "constants",
    "constant-removed": "constants",
    "constant-changed": "constants",
    "derived-added": "derived",
    "derived-removed": "derived",
    "derived-changed": "derived",
    "dimension-added": "structure",
    "dimension-removed": "structure",
    "dimension-renamed": "structure",
    "indicator-added": "structure",
    "indicator-removed": "structure",
    "indicator-moved": "structure",
    "indicator-renamed": "structure",
    "weight-changed": "weights",
    "effective-weight-changed": "weights",
    "measure-changed": "measures",
    "scoring-changed": "scoring",
    "min-sample-changed": "applicability",
    "not-applicable-changed": "applicability",
    "target-changed": "targets",
    "veto-added": "vetoes",
    "veto-removed": "vetoes",
    "veto-renamed": "vetoes",
    "veto-when-changed": "vetoes",
    "veto-effect-changed": "vetoes",
    "veto-reason-changed": "vetoes",
    "grade-added": "grades",
    "grade-removed": "grades",
    "grade-min-changed": "grades",
    "description-changed": "text",
    "label-changed": "text",
    "test-added": "tests",
    "test-removed": "tests",
    "test-changed": "tests",
}

_MEASURE_KINDS = (
    "count", "sum", "mean", "median", "percentile", "min", "max",
    "share", "ratio", "nps", "any", "all", "value",
)
_SCORING_KINDS = ("bands", "linear", "pass", "map")
_METADATA_KEYS = ("scheme", "version", "title", "description", "effective_from", "effective_to", "supersedes",
                  "approved_by", "approved_on")
_KNOWN_TOP = {*_METADATA_KEYS, "format", "changelog", "rounding", "calendar", "subject", "records", "constants",
              "derive", "dimensions", "vetoes", "grades", "tests"}
_NONE = "(none)"  # the grade column/row of subjects without a grade (or absent from one run)
_TOP_MOVES = 10


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True, slots=True)
class Change:
    """One semantic difference between two versions of a scheme.

    ``old``/``new`` are plain values (``None`` where the thing is absent); the lines
    are 1-based lines in each file (``None`` where it has no place there).
    """

    kind: str
    path: str
    old: Any = None
    new: Any = None
    old_line: int | None = None
    new_line: int | None = None
    note: str | None = None

    @property
    def category(self) -> str:
        return KINDS.get(self.kind, "metadata")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "path": self.path,
            "old": _json_value(self.old),
            "new": _json_value(self.new),
            "old_line": self.old_line,
            "new_line": self.new_line,
            "note": self.note,
        }


def diff_documents(old: Document, new: Document) -> list[Change]:
    """Every semantic difference between two loaded scheme documents.

    Meant for documents that validate; anything malformed is compared as well as it
    can be, never raised on.
    """
    return _Differ(old, new).run()


# --------------------------------------------------------------------------- value helpers


def _ptr(*tokens: Any) -> str:
    return "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def _dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _number(x: Any) -> float | None:
    return float(x) if _is_number(x) else None


def _eq(a: Any, b: Any) -> bool:
    """Deep equality that tells booleans from numbers (``True != 1``) but not ``1`` from ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _canon(x: Any) -> str:
    """A hashable, type-aware spelling of a plain value (for set comparisons)."""
    if isinstance(x, bool):
        return f"b:{x}"
    if _is_number(x):
        f = float(x)
        return f"n:{int(f)}" if f.is_integer() else f"n:{f!r}"
    return f"{type(x).__name__}:{x!r}"


def _show(x: Any) -> str:
    """A value as a person writes it: 180 not 180.0, true not True."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(_show(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in x.items()) + "}"
    return str(x)


def _json_value(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, list):
        return [_json_value(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _json_value(v) for k, v in x.items()}
    return x


def _expr_source(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if _is_number(value):
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def normalise_expression(value: Any) -> str | None:
    """The parsed syntax tree of an expression as text (``ast.dump``); None for no expression.

    Whitespace, line breaks and redundant parentheses do not change it; a text that
    does not parse is compared as its stripped text.
    """
    if value is None:
        return None
    source = _expr_source(value).strip()
    try:
        return ast.dump(ast.parse(source, mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "text:" + source


def _expr_text(value: Any) -> str | None:
    return None if value is None else " ".join(_expr_source(value).split())


def _measure_kind(spec: Any) -> str | None:
    return next((k for k in _MEASURE_KINDS if k in _dict(spec)), None)


def _measure_text(spec: Any) -> str:
    spec = _dict(spec)
    kind = _measure_kind(spec)
    if kind is None:
        return "?"
    if kind == "ratio":
        r = _dict(spec["ratio"])
        text = f"ratio: {_expr_text(r.get('numerator'))} / {_expr_text(r.get('denominator'))}"
    else:
        text = f"{kind}: {_expr_text(spec[kind])}"
    if "p" in spec:
        text += f", p {_show(spec['p'])}"
    if "where" in spec:
        text += f", where {_expr_text(spec['where'])}"
    return text


def _scoring_kind(spec: Any) -> str | None:
    return next((k for k in _SCORING_KINDS if k in _dict(spec)), None)


def _band_text(band: Any) -> str:
    b = _dict(band)
    parts = []
    if "min" in b:
        parts.append(f"≥ {_show(b['min'])}")
    if "max" in b:
        parts.append(f"≤ {_show(b['max'])}")
    cond = " and ".join(parts) or "otherwise"
    return f"{cond} → {_show(b.get('points'))}"


def _scoring_text(spec: Any) -> str:
    spec = _dict(spec)
    kind = _scoring_kind(spec)
    if kind == "bands":
        return "bands: " + "; ".join(_band_text(b) for b in _list(spec["bands"]))
    if kind == "linear":
        lin = _dict(spec["linear"])
        return f"linear {_show(lin.get('from'))} → {_show(lin.get('to'))}"
    if kind == "pass":
        return "pass " + ", ".join(f"{k} {_show(v)}" for k, v in _dict(spec["pass"]).items())
    if kind == "map":
        text = "map " + _show(_dict(spec["map"]))
        if "default" in spec:
            text += f", default {_show(spec['default'])}"
        return text
    return "?"


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}%".replace(".00%", "%")


# --------------------------------------------------------------------------- the differ


class _Differ:
    """Walks two documents side by side and collects :class:`Change` objects."""

    def __init__(self, old: Document, new: Document) -> None:
        self.docs = (old, new)
        self.o = _dict(old.data)
        self.n = _dict(new.data)
        self.changes: list[Change] = []

    # -- recording

    def _line(self, side: int, pointer: str | None) -> int | None:
        """The line of ``pointer``, else of its nearest ancestor below the top level (None there)."""
        doc = self.docs[side]
        current = pointer
        while current:
            if current in doc.values:
                return doc.values[current][0]
            current = current.rpartition("/")[0]
        return None

    def add(self, kind: str, path: str, old: Any = None, new: Any = None, optr: str | None = None,
            nptr: str | None = None, note: str | None = None) -> None:
        self.changes.append(Change(kind, path, old, new, self._line(0, optr), self._line(1, nptr), note))

    def value(self, kind: str, path: str, old: Any, new: Any, optr: str, nptr: str, *, default: Any = None,
              note: str | None = None) -> None:
        """Record ``kind`` when two plain values differ (absent = ``default``)."""
        a = default if old is None else old
        b = default if new is None else new
        if not _eq(a, b):
            self.add(kind, path, a, b, optr, nptr, note)

    def run(self) -> list[Change]:
        self.metadata()
        self.records()
        self.subject()
        self.settings()
        self.constants()
        self.derive()
        self.structure()
        self.vetoes()
        self.grades()
        self.tests()
        self.others()
        return self.changes

    # -- metadata

    def metadata(self) -> None:
        o, n = self.o, self.n
        for key in _METADATA_KEYS:
            a, b = o.get(key), n.get(key)
            if key == "title":  # the title defaults to the scheme id
                a = o.get("scheme") if a is None else a
                b = n.get("scheme") if b is None else b
            note = "the two files are different schemes" if key == "scheme" else None
            self.value("metadata", key, a, b, f"/{key}", f"/{key}", note=note)
        old_lines = [str(x) for x in _list(o.get("changelog"))]
        new_lines = [str(x) for x in _list(n.get("changelog"))]
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                for i in range(i1, i2):
                    self.add("metadata", "changelog", old_lines[i], None, f"/changelog/{i}", None,
                             "changelog line removed")
            if tag in ("replace", "insert"):
                for j in range(j1, j2):
                    self.add("metadata", "changelog", None, new_lines[j], None, f"/changelog/{j}",
                             "changelog line added")

    # -- record contract

    def records(self) -> None:
        o, n = _dict(self.o.get("records")), _dict(self.n.get("records"))
        self.value("records-id-changed", "records.id", o.get("id"), n.get("id"), "/records/id", "/records/id")
        self.value("timezone-changed", "records.timezone", o.get("timezone"), n.get("timezone"),
                   "/records/timezone", "/records/timezone", default="UTC")
        of, nf = _dict(o.get("fields")), _dict(n.get("fields"))
        for name, spec in nf.items():
            ptr = _ptr("records", "fields", name)
            if name not in of:
                self.add("field-added", f"records.fields.{name}", None, _field_text(spec), None, ptr)
                continue
            self.field(name, _dict(of[name]), _dict(spec), ptr)
        for name, spec in of.items():
            if name not in nf:
                self.add("field-removed", f"records.fields.{name}", _field_text(spec), None,
                         _ptr("records", "fields", name), None)

    def field(self, name: str, o: dict[str, Any], n: dict[str, Any], ptr: str) -> None:
        path = f"records.fields.{name}"

        def simple(kind: str, key: str, default: Any = None) -> None:
            self.value(kind, f"{path}.{key}", o.get(key), n.get(key), f"{ptr}/{key}", f"{ptr}/{key}",
                       default=default)

        simple("field-type-changed", "type")
        simple("field-nullable-changed", "nullable", False)
        simple("field-range-changed", "minimum")
        simple("field-range-changed", "maximum")
        simple("field-column-changed", "column", name)
        simple("field-format-changed", "format")
        simple("description-changed", "description")
        self.value_set("field-enum-changed", f"{path}.enum", o.get("enum"), n.get("enum"),
                       f"{ptr}/enum", f"{ptr}/enum", strip=False)
        for key in ("true_values", "false_values"):
            self.value_set("field-values-changed", f"{path}.{key}", o.get(key), n.get(key),
                           f"{ptr}/{key}", f"{ptr}/{key}", strip=True)

    def value_set(self, kind: str, path: str, old: Any, new: Any, optr: str, nptr: str, *, strip: bool) -> None:
        """Compare two lists as sets (None = absent); the note says what was added and removed."""
        if old is None and new is None:
            return
        if old is None or new is None:
            self.add(kind, path, old, new, optr, nptr)
            return

        def key(v: Any) -> str:
            return _canon(str(v).strip() if strip else v)

        ok = {key(v): v for v in _list(old)}
        nk = {key(v): v for v in _list(new)}
        if ok.keys() == nk.keys():
            return
        added = [v for k, v in nk.items() if k not in ok]
        removed = [v for k, v in ok.items() if k not in nk]
        self.add(kind, path, old, new, optr, nptr, _added_removed(added, removed))

    # -- subject, rounding, calendar

    def subject(self) -> None:
        o, n = _dict(self.o.get("subject")), _dict(self.n.get("subject"))
        self.value("subject-changed", "subject.group_by", o.get("group_by"), n.get("group_by"),
                   "/subject/group_by", "/subject/group_by", default=[],
                   note="the subject key changes, so scorecards of the two versions do not match one to one")
        op, np_ = o.get("period"), n.get("period")
        if op is None or np_ is None:
            self.value("subject-changed", "subject.period", op, np_, "/subject/period", "/subject/period")
        else:
            for key in ("field", "every"):
                self.value("subject-changed", f"subject.period.{key}", _dict(op).get(key), _dict(np_).get(key),
                           f"/subject/period/{key}", f"/subject/period/{key}")
        self.value_set("subject-changed", "subject.breakdowns", o.get("breakdowns") or [],
                       n.get("breakdowns") or [], "/subject/breakdowns", "/subject/breakdowns", strip=False)

    def settings(self) -> None:
        self.value("rounding-changed", "rounding.decimals", _dict(self.o.get("rounding")).get("decimals"),
                   _dict(self.n.get("rounding")).get("decimals"), "/rounding/decimals", "/rounding/decimals",
                   default=2)
        oc, nc = _dict(self.o.get("calendar")), _dict(self.n.get("calendar"))
        ow = oc.get("weekend") if oc.get("weekend") is not None else [6, 7]
        nw = nc.get("weekend") if nc.get("weekend") is not None else [6, 7]
        if {_canon(x) for x in _list(ow)} != {_canon(x) for x in _list(nw)}:
            self.add("calendar-changed", "calendar.weekend", ow, nw, "/calendar/weekend", "/calendar/weekend")
        for key in ("holidays", "workdays"):
            olist, nlist = [str(x) for x in _list(oc.get(key))], [str(x) for x in _list(nc.get(key))]
            for i, day in enumerate(olist):
                if day not in nlist:
                    self.add("calendar-changed", f"calendar.{key}", day, None, f"/calendar/{key}/{i}",
                             f"/calendar/{key}", f"{key[:-1]} removed")
            for j, day in enumerate(nlist):
                if day not in olist:
                    self.add("calendar-changed", f"calendar.{key}", None, day, f"/calendar/{key}",
                             f"/calendar/{key}/{j}", f"{key[:-1]} added")

    # -- constants and derived values

    def constants(self) -> None:
        oc, nc = _dict(self.o.get("constants")), _dict(self.n.get("constants"))
        for name, value in nc.items():
            ptr = _ptr("constants", name)
            if name not in oc:
                self.add("constant-added", f"constants.{name}", None, value, None, ptr)
                continue
            old = oc[name]
            if isinstance(old, dict) and isinstance(value, dict):
                for key in [*old, *(k for k in value if k not in old)]:
                    kp = _ptr("constants", name, key)
                    if key not in value:
                        self.add("constant-changed", f"constants.{name}.{key}", old[key], None, kp, ptr, "key removed")
                    elif key not in old:
                        self.add("constant-changed", f"constants.{name}.{key}", None, value[key], ptr, kp, "key added")
                    else:
                        self.value("constant-changed", f"constants.{name}.{key}", old[key], value[key], kp, kp)
            elif isinstance(old, list) and isinstance(value, list):
                if _eq(old, value):
                    continue
                ok, nk = [_canon(v) for v in old], [_canon(v) for v in value]
                if sorted(ok) == sorted(nk):
                    note = "same items, different order"
                else:
                    note = _added_removed([v for v, k in zip(value, nk) if k not in ok],
                                          [v for v, k in zip(old, ok) if k not in nk])
                self.add("constant-changed", f"constants.{name}", old, value, ptr, ptr, note)
            else:
                self.value("constant-changed", f"constants.{name}", old, value, ptr, ptr)
        for name, value in oc.items():
            if name not in nc:
                self.add("constant-removed", f"constants.{name}", value, None, _ptr("constants", name), None)

    def derive(self) -> None:
        od, nd = _dict(self.o.get("derive")), _dict(self.n.get("derive"))
        for name, expr in nd.items():
            ptr = _ptr("derive", name)
            if name not in od:
                self.add("derived-added", f"derive.{name}", None, _expr_text(expr), None, ptr)
            elif normalise_expression(od[name]) != normalise_expression(expr):
                self.add("derived-changed", f"derive.{name}", _expr_text(od[name]), _expr_text(expr), ptr, ptr)
        for name, expr in od.items():
            if name not in nd:
                self.add("derived-removed", f"derive.{name}", _expr_text(expr), None, _ptr("derive", name), None)

    # -- dimensions and indicators

    def structure(self) -> None:
        odims, oinds = _index_dimensions(self.o)
        ndims, ninds = _index_dimensions(self.n)
        oeff, neff = _effective_weights(self.o), _effective_weights(self.n)
        for did, (dim, ptr) in ndims.items():
            path = f"dimensions.{did}"
            if did not in odims:
                self.add("dimension-added", path, None, _name(dim, did), None, ptr,
                         f"weight {_show(dim.get('weight'))} ({_percent(_share(self.n, did))} of the total)")
                continue
            odim, optr = odims[did]
            self.value("dimension-renamed", f"{path}.name", odim.get("name"), dim.get("name"),
                       f"{optr}/name", f"{ptr}/name", default=did)
            self.value("description-changed", f"{path}.description", odim.get("description"),
                       dim.get("description"), f"{optr}/description", f"{ptr}/description")
            if not _eq(odim.get("weight"), dim.get("weight")):
                before, after = _share(self.o, did), _share(self.n, did)
                self.add("weight-changed", f"{path}.weight", odim.get("weight"), dim.get("weight"),
                         f"{optr}/weight", f"{ptr}/weight", _share_note("the total", before, after))
            self.value("not-applicable-changed", f"{path}.when_not_applicable", odim.get("when_not_applicable"),
                       dim.get("when_not_applicable"), f"{optr}/when_not_applicable",
                       f"{ptr}/when_not_applicable", default="redistribute")
        for did, (dim, ptr) in odims.items():
            if did not in ndims:
                self.add("dimension-removed", f"dimensions.{did}", _name(dim, did), None, ptr, None,
                         f"weight {_show(dim.get('weight'))} ({_percent(_share(self.o, did))} of the total)")
        for iid, (did, ind, ptr) in ninds.items():
            path = f"dimensions.{did}.indicators.{iid}"
            if iid not in oinds:
                self.add("indicator-added", path, None, _indicator_text(ind, iid), None, ptr,
                         f"effective weight {_percent(neff.get(iid))}")
                continue
            odid, oind, optr = oinds[iid]
            if odid != did:
                self.add("indicator-moved", path, odid, did, optr, ptr, f"moved from dimension {odid} to {did}")
            self.indicator(path, iid, oind, ind, optr, ptr, did)
        for iid, (did, ind, ptr) in oinds.items():
            if iid not in ninds:
                self.add("indicator-removed", f"dimensions.{did}.indicators.{iid}", _indicator_text(ind, iid), None,
                         ptr, None, f"effective weight {_percent(oeff.get(iid))}")
        for iid, (did, _ind, ptr) in ninds.items():
            if iid in oinds and iid in oeff and iid in neff and not math.isclose(
                    oeff[iid], neff[iid], rel_tol=1e-9, abs_tol=1e-9):
                self.add("effective-weight-changed", f"dimensions.{did}.indicators.{iid}.effective_weight",
                         round(oeff[iid], 4), round(neff[iid], 4), f"{oinds[iid][2]}/weight", f"{ptr}/weight",
                         "share of the total score in %, all indicators applicable")

    def indicator(self, path: str, iid: str, o: dict[str, Any], n: dict[str, Any], optr: str, nptr: str,
                  did: str) -> None:
        self.value("indicator-renamed", f"{path}.name", o.get("name"), n.get("name"), f"{optr}/name",
                   f"{nptr}/name", default=iid)
        self.value("description-changed", f"{path}.description", o.get("description"), n.get("description"),
                   f"{optr}/description", f"{nptr}/description")
        self.measure("measure-changed", f"{path}.measure", o.get("measure"), n.get("measure"), f"{optr}/measure",
                     f"{nptr}/measure")
        self.scoring(f"{path}.scoring", o.get("scoring"), n.get("scoring"), f"{optr}/scoring", f"{nptr}/scoring")
        if not _eq(o.get("weight"), n.get("weight")):
            before = _indicator_share(self.o, iid)
            after = _indicator_share(self.n, iid)
            self.add("weight-changed", f"{path}.weight", o.get("weight"), n.get("weight"), f"{optr}/weight",
                     f"{nptr}/weight", _share_note(f"dimension {did}", before, after))
        self.value("target-changed", f"{path}.target", o.get("target"), n.get("target"), f"{optr}/target",
                   f"{nptr}/target")
        self.value("min-sample-changed", f"{path}.min_sample", o.get("min_sample"), n.get("min_sample"),
                   f"{optr}/min_sample", f"{nptr}/min_sample", default=1)
        self.value("not-applicable-changed", f"{path}.when_not_applicable", o.get("when_not_applicable"),
                   n.get("when_not_applicable"), f"{optr}/when_not_applicable", f"{nptr}/when_not_applicable",
                   default="redistribute")

    def measure(self, kind: str, path: str, o: Any, n: Any, optr: str, nptr: str) -> None:
        o, n = _dict(o), _dict(n)
        ok, nk = _measure_kind(o), _measure_kind(n)
        if ok != nk:
            self.add(kind, path, _measure_text(o), _measure_text(n), optr, nptr, f"measure kind {ok} → {nk}")
        elif ok == "ratio":
            orat, nrat = _dict(o["ratio"]), _dict(n["ratio"])
            for part in ("numerator", "denominator"):
                if normalise_expression(orat.get(part)) != normalise_expression(nrat.get(part)):
                    self.add(kind, f"{path}.ratio.{part}", _expr_text(orat.get(part)), _expr_text(nrat.get(part)),
                             f"{optr}/ratio/{part}", f"{nptr}/ratio/{part}")
        elif ok is not None and normalise_expression(o[ok]) != normalise_expression(n[ok]):
            self.add(kind, f"{path}.{ok}", _expr_text(o[ok]), _expr_text(n[ok]), f"{optr}/{ok}", f"{nptr}/{ok}")
        if normalise_expression(o.get("where")) != normalise_expression(n.get("where")):
            self.add(kind, f"{path}.where", _expr_text(o.get("where")), _expr_text(n.get("where")),
                     f"{optr}/where", f"{nptr}/where")
        self.value(kind, f"{path}.p", o.get("p"), n.get("p"), f"{optr}/p", f"{nptr}/p")

    def scoring(self, path: str, o: Any, n: Any, optr: str, nptr: str) -> None:
        o, n = _dict(o), _dict(n)
        ok, nk = _scoring_kind(o), _scoring_kind(n)
        if ok != nk:
            self.add("scoring-changed", path, _scoring_text(o), _scoring_text(n), optr, nptr,
                     f"scoring kind {ok} → {nk}")
            return
        if ok == "bands":
            ob, nb = _list(o["bands"]), _list(n["bands"])
            for i in range(max(len(ob), len(nb))):
                bpath, bo, bn = f"{path}.bands[{i}]", f"{optr}/bands/{i}", f"{nptr}/bands/{i}"
                if i >= len(ob):
                    self.add("scoring-changed", bpath, None, _band_text(nb[i]), f"{optr}/bands", bn, "band added")
                elif i >= len(nb):
                    self.add("scoring-changed", bpath, _band_text(ob[i]), None, bo, f"{nptr}/bands", "band removed")
                else:
                    a, b = _dict(ob[i]), _dict(nb[i])
                    for key in ("min", "max", "points"):
                        self.value("scoring-changed", f"{bpath}.{key}", a.get(key), b.get(key), f"{bo}/{key}",
                                   f"{bn}/{key}")
                    self.value("label-changed", f"{bpath}.label", a.get("label"), b.get("label"), f"{bo}/label",
                               f"{bn}/label")
        elif ok == "linear":
            a, b = _dict(o["linear"]), _dict(n["linear"])
            for key in ("from", "to"):
                self.value("scoring-changed", f"{path}.linear.{key}", a.get(key), b.get(key),
                           f"{optr}/linear/{key}", f"{nptr}/linear/{key}")
        elif ok == "pass":
            a, b = _dict(o["pass"]), _dict(n["pass"])
            for key in ("min", "max", "equals"):
                self.value("scoring-changed", f"{path}.pass.{key}", a.get(key), b.get(key),
                           f"{optr}/pass/{key}", f"{nptr}/pass/{key}")
        elif ok == "map":
            a, b = _dict(o["map"]), _dict(n["map"])
            for key in [*a, *(k for k in b if k not in a)]:
                kp = f"{path}.map.{key}"
                if key not in b:
                    self.add("scoring-changed", kp, a[key], None, f"{optr}/map/{_esc(key)}", f"{nptr}/map",
                             "map entry removed")
                elif key not in a:
                    self.add("scoring-changed", kp, None, b[key], f"{optr}/map", f"{nptr}/map/{_esc(key)}",
                             "map entry added")
                else:
                    self.value("scoring-changed", kp, a[key], b[key], f"{optr}/map/{_esc(key)}",
                               f"{nptr}/map/{_esc(key)}")
        if ok == "map" or "default" in o or "default" in n:
            self.value("scoring-changed", f"{path}.default", o.get("default"), n.get("default"),
                       f"{optr}/default", f"{nptr}/default", default=0)

    # -- vetoes, grades, tests

    def vetoes(self) -> None:
        ov = _index_by(self.o.get("vetoes"), "id", "vetoes")
        nv = _index_by(self.n.get("vetoes"), "id", "vetoes")
        for vid, (veto, ptr) in nv.items():
            path = f"vetoes.{vid}"
            if vid not in ov:
                self.add("veto-added", path, None, _veto_text(veto), None, ptr)
                continue
            old, optr = ov[vid]
            self.value("veto-renamed", f"{path}.name", old.get("name"), veto.get("name"), f"{optr}/name",
                       f"{ptr}/name", default=vid)
            self.measure("veto-when-changed", f"{path}.when", old.get("when"), veto.get("when"), f"{optr}/when",
                         f"{ptr}/when")
            oe, ne = _effect(old), _effect(veto)
            if oe != ne:
                self.add("veto-effect-changed", f"{path}.effect", _effect_text(oe), _effect_text(ne),
                         f"{optr}/effect", f"{ptr}/effect")
            self.value("veto-reason-changed", f"{path}.reason", old.get("reason"), veto.get("reason"),
                       f"{optr}/reason", f"{ptr}/reason", default="")
        for vid, (veto, ptr) in ov.items():
            if vid not in nv:
                self.add("veto-removed", f"vetoes.{vid}", _veto_text(veto), None, ptr, None)

    def grades(self) -> None:
        og = _index_by(self.o.get("grades"), "name", "grades")
        ng = _index_by(self.n.get("grades"), "name", "grades")
        for name, (grade, ptr) in ng.items():
            path = f"grades.{name}"
            if name not in og:
                self.add("grade-added", path, None, grade.get("min"), None, f"{ptr}/min", "grade added (min)")
            else:
                old, optr = og[name]
                self.value("grade-min-changed", f"{path}.min", old.get("min"), grade.get("min"), f"{optr}/min",
                           f"{ptr}/min")
        for name, (grade, ptr) in og.items():
            if name not in ng:
                self.add("grade-removed", f"grades.{name}", grade.get("min"), None, f"{ptr}/min", None,
                         "grade removed (min)")

    def tests(self) -> None:
        ot = _index_by(self.o.get("tests"), "name", "tests")
        nt = _index_by(self.n.get("tests"), "name", "tests")
        for name, (test, ptr) in nt.items():
            path = f"tests.{name}"
            if name not in ot:
                self.add("test-added", path, None, _test_text(test), None, ptr)
                continue
            old, optr = ot[name]
            a, b = _test_normal(old), _test_normal(test)
            differing = [k for k in dict.fromkeys([*a, *b]) if not _eq(a.get(k), b.get(k))]
            if differing:
                self.add("test-changed", path, _test_text(old), _test_text(test), optr, ptr,
                         "changed: " + ", ".join(differing))
        for name, (test, ptr) in ot.items():
            if name not in nt:
                self.add("test-removed", f"tests.{name}", _test_text(test), None, ptr, None)

    def others(self) -> None:
        """Top-level keys the format does not know (only in documents that do not validate)."""
        for key in [*self.o, *(k for k in self.n if k not in self.o)]:
            if key not in _KNOWN_TOP:
                self.value("metadata", str(key), self.o.get(key), self.n.get(key), _ptr(key), _ptr(key))


def _esc(key: Any) -> str:
    return escape_pointer_token(str(key))


def _added_removed(added: Sequence[Any], removed: Sequence[Any]) -> str:
    parts = []
    if added:
        parts.append("added " + ", ".join(_show(v) for v in added))
    if removed:
        parts.append("removed " + ", ".join(_show(v) for v in removed))
    return "; ".join(parts) or "reordered"


def _name(item: Mapping[str, Any], default: str) -> str:
    name = item.get("name")
    return str(name) if name is not None else default


def _field_text(spec: Any) -> str:
    spec = _dict(spec)
    text = str(spec.get("type", "?"))
    if spec.get("nullable"):
        text += ", nullable"
    if "enum" in spec:
        text += f", enum {_show(spec['enum'])}"
    return text


def _indicator_text(ind: Mapping[str, Any], iid: str) -> str:
    return (f"{_name(ind, iid)}: {_measure_text(ind.get('measure'))}; {_scoring_text(ind.get('scoring'))}; "
            f"weight {_show(ind.get('weight'))}")


def _effect(veto: Mapping[str, Any]) -> tuple[str, str] | None:
    effect = _dict(veto.get("effect"))
    if not effect:
        return None
    kind, grade = next(iter(effect.items()))
    return str(kind), str(grade)


def _effect_text(effect: tuple[str, str] | None) -> str | None:
    return None if effect is None else f"{effect[0]}: {effect[1]}"


def _veto_text(veto: Mapping[str, Any]) -> str:
    return f"when {_measure_text(veto.get('when'))} → {_effect_text(_effect(veto))}"


_TEST_DEFAULTS: dict[str, Any] = {"tolerance": 1e-6}


def _test_text(test: Mapping[str, Any]) -> str:
    if "records_file" in test:
        source = f"records from {test['records_file']}"
    else:
        source = f"{len(_list(test.get('records')))} record(s)"
    subject = f"subject {test['subject']}, " if test.get("subject") is not None else ""
    expect = ", ".join(str(k) for k in _dict(test.get("expect")))
    return f"{subject}{source}; expects {expect or 'nothing'}"


def _test_normal(test: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in test.items() if k != "name"}
    for key, default in _TEST_DEFAULTS.items():
        out.setdefault(key, default)
    if out.get("expect") is None:
        out["expect"] = {}
    return out


def _index_by(items: Any, key: str, top: str) -> dict[str, tuple[dict[str, Any], str]]:
    """Items of a top-level list by their ``key``; a repeated key gets ``#2``, ``#3``…"""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for i, item in enumerate(_list(items)):
        if not isinstance(item, dict):
            continue
        name = str(item.get(key, f"#{i + 1}"))
        unique, k = name, 2
        while unique in out:
            unique, k = f"{name}#{k}", k + 1
        out[unique] = (item, f"/{top}/{i}")
    return out


def _index_dimensions(data: Mapping[str, Any]) -> tuple[
        dict[str, tuple[dict[str, Any], str]], dict[str, tuple[str, dict[str, Any], str]]]:
    dims = _index_by(data.get("dimensions"), "id", "dimensions")
    inds: dict[str, tuple[str, dict[str, Any], str]] = {}
    for did, (dim, ptr) in dims.items():
        for j, ind in enumerate(_list(dim.get("indicators"))):
            if isinstance(ind, dict):
                iid = str(ind.get("id", f"#{j + 1}"))
                if iid not in inds:
                    inds[iid] = (did, ind, f"{ptr}/indicators/{j}")
    return dims, inds


def _weight(item: Mapping[str, Any]) -> float:
    w = _number(item.get("weight"))
    return w if w is not None and w > 0 and math.isfinite(w) else 0.0


def _share(data: Mapping[str, Any], did: str) -> float | None:
    """A dimension's share of the total in percent."""
    dims = [d for d in _list(data.get("dimensions")) if isinstance(d, dict)]
    total = sum(_weight(d) for d in dims)
    for d in dims:
        if str(d.get("id")) == did and total > 0:
            return _weight(d) / total * 100
    return None


def _indicator_share(data: Mapping[str, Any], iid: str) -> float | None:
    """An indicator's share of its dimension in percent."""
    for d in _list(data.get("dimensions")):
        inds = [i for i in _list(_dict(d).get("indicators")) if isinstance(i, dict)]
        total = sum(_weight(i) for i in inds)
        for i in inds:
            if str(i.get("id")) == iid and total > 0:
                return _weight(i) / total * 100
    return None


def _effective_weights(data: Mapping[str, Any]) -> dict[str, float]:
    """Indicator id -> effective weight in percent of the total, assuming every indicator applies."""
    dims = [d for d in _list(data.get("dimensions")) if isinstance(d, dict)]
    dim_total = sum(_weight(d) for d in dims)
    out: dict[str, float] = {}
    for d in dims:
        inds = [i for i in _list(d.get("indicators")) if isinstance(i, dict)]
        ind_total = sum(_weight(i) for i in inds)
        for i in inds:
            iid = str(i.get("id"))
            if iid in out:
                continue
            if dim_total > 0 and ind_total > 0:
                out[iid] = _weight(d) / dim_total * _weight(i) / ind_total * 100
            else:
                out[iid] = 0.0
    return out


def _share_note(parent: str, before: float | None, after: float | None) -> str:
    if before is not None and after is not None and math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9):
        return f"share of {parent} unchanged at {_percent(after)} (proportional rescale)"
    return f"share of {parent} {_percent(before)} → {_percent(after)}"


# --------------------------------------------------------------------------- loading a side


def load_side(spec: str) -> Document:
    """Load one side of a diff: a file path, or ``REV:path`` read with ``git show`` in the current directory.

    An existing file always wins over the ``REV:path`` reading. A missing file or an
    unknown revision or path is a :class:`UsageError`; a document that is not YAML a
    :class:`SchemeLoadError`. The document's display name is ``spec`` itself, so every
    line cited refers to it.
    """
    rev, sep, rel = spec.partition(":")
    if os.path.exists(spec) or not sep or not rev or not rel:
        try:
            return load_path(spec)
        except SchemeLoadError as exc:
            if exc.code == "file-not-found":
                raise UsageError(
                    f"no such file: {spec}",
                    location=Location(file=spec),
                    hint="give a scheme file, or REV:path to read a committed version (e.g. HEAD~1:rules/x/2026Q1.yaml)",
                ) from None
            raise
    return load_text(_git_show(rev, rel, spec), spec)


def _git_show(rev: str, rel: str, spec: str) -> bytes:
    where = Location(file=spec)
    hint = ("check the revision (`git log --oneline`) and the path inside the repository: relative to its "
            "top directory, or starting with ./ for the current directory")
    if rev.startswith("-"):
        raise UsageError(f"{spec}: a revision cannot start with '-'", location=where, hint=hint)
    env = {**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.Popen(["git", "show", f"{rev}:{rel}"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        raise UsageError(f"cannot run git to read {spec}: {exc.strerror or exc}", location=where,
                         hint="install git, or give the scheme as a file path") from None
    assert proc.stdout is not None and proc.stderr is not None
    with proc:
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = proc.stdout.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:  # refuse before reading more; the loader says why
            proc.kill()
            proc.wait()
            return b"".join(chunks)
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        code = proc.wait()
    out = b"".join(chunks)
    if code != 0:
        first = err.splitlines()[0] if err else f"git show exited with status {code}"
        raise UsageError(f"cannot read {spec} from git: {first.removeprefix('fatal: ')}", location=where,
                         hint=hint)
    if out.startswith(f"tree {rev}:{rel}\n".encode()):
        raise UsageError(f"{spec} is a directory in git, not a scheme file", location=where,
                         hint="name the scheme file, e.g. REV:rules/cs-quality/2026Q1.yaml")
    return out


def check_document(doc: Document) -> Scheme:
    """Validate a loaded side and compile it; a document with any error is refused (SchemeValidationError)."""
    import dataclasses
    import hashlib

    from .errors import SchemeValidationError
    from .model import compile_document
    from .validation import iter_findings

    findings = list(iter_findings(doc))
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, doc.path)
    scheme = compile_document(doc)
    return dataclasses.replace(scheme, sha256=hashlib.sha256(doc.text.encode("utf-8")).hexdigest())


# --------------------------------------------------------------------------- impact


@dataclass(frozen=True, slots=True)
class IndicatorDelta:
    """How much one indicator's contribution to a subject's score moved (points of the total)."""

    id: str
    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old


@dataclass(frozen=True, slots=True)
class SubjectMove:
    """One subject's score and grade under both versions; ``causes`` largest first."""

    subject: str
    old_grade: str | None
    new_grade: str | None
    old_score: float | None
    new_score: float | None
    delta: float | None
    causes: tuple[IndicatorDelta, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
            "old_score": self.old_score,
            "new_score": self.new_score,
            "delta": self.delta,
            "causes": [{"indicator": c.id, "old": c.old, "new": c.new, "delta": _r(c.delta, 6)}
                       for c in self.causes],
        }


@dataclass(frozen=True, slots=True)
class IndicatorMean:
    """Means over subjects of an indicator's points and value (over subjects where it was scored)."""

    id: str
    dimension: str
    old_points: float | None
    new_points: float | None
    old_value: float | None
    new_value: float | None
    old_n: int
    new_n: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "dimension": self.dimension, "old_points": self.old_points,
                "new_points": self.new_points, "old_value": self.old_value, "new_value": self.new_value,
                "old_n": self.old_n, "new_n": self.new_n}


@dataclass(frozen=True, slots=True)
class DimensionMean:
    """Mean dimension score over subjects where the dimension counted."""

    id: str
    old_score: float | None
    new_score: float | None
    old_n: int
    new_n: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "old_score": self.old_score, "new_score": self.new_score,
                "old_n": self.old_n, "new_n": self.new_n}


@dataclass(frozen=True, slots=True)
class Impact:
    """What scoring the same records with both versions changes.

    ``matrix[i][j]`` counts subjects with old grade ``grades[i]`` and new grade
    ``grades[j]``; ``grades`` ends with ``(none)`` (no grade, or no scorecard in that
    run); the counts add up to ``subjects``.
    """

    data: tuple[str, ...]
    old_version: str
    new_version: str
    rows_read: int
    old_rejected: int
    new_rejected: int
    subjects: int
    grades: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    grade_changes: tuple[SubjectMove, ...]
    movements: tuple[SubjectMove, ...]
    indicators: tuple[IndicatorMean, ...]
    dimensions: tuple[DimensionMean, ...]
    vetoes_triggered: tuple[tuple[str, str], ...]
    vetoes_cleared: tuple[tuple[str, str], ...]
    old_mean_score: float | None
    new_mean_score: float | None
    decimals: int = 2

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": list(self.data),
            "old_version": self.old_version,
            "new_version": self.new_version,
            "rows_read": self.rows_read,
            "old_rejected": self.old_rejected,
            "new_rejected": self.new_rejected,
            "subjects": self.subjects,
            "mean_score": {"old": self.old_mean_score, "new": self.new_mean_score},
            "grades": list(self.grades),
            "matrix": [list(row) for row in self.matrix],
            "grade_changes": [m.as_dict() for m in self.grade_changes],
            "movements": [m.as_dict() for m in self.movements],
            "indicators": [i.as_dict() for i in self.indicators],
            "dimensions": [d.as_dict() for d in self.dimensions],
            "vetoes_triggered": [{"subject": s, "veto": v} for s, v in self.vetoes_triggered],
            "vetoes_cleared": [{"subject": s, "veto": v} for s, v in self.vetoes_cleared],
        }


def _r(x: float | None, decimals: int) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    value = round(x, decimals)
    return 0.0 if value == 0 else value


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _numeric(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if _is_number(v) and math.isfinite(v):
        return float(v)
    return None


def impact(old_scheme: Scheme, new_scheme: Scheme, paths: Sequence[str | os.PathLike[str]] | str,
           encoding: str | None = None) -> Impact:
    """Score ``paths`` with both versions (each reading them with its own contract) and compare.

    Effective dates are ignored: the point is to back-test the new rules on old data.
    Subjects are matched by subject key.
    """
    from .engine import evaluate
    from .records import read_records
    from .scorecard import rounded

    files = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    old_run = evaluate(old_scheme, read_records(files, old_scheme.records, encoding=encoding))
    new_run = evaluate(new_scheme, read_records(files, new_scheme.records, encoding=encoding))
    decimals = max(old_scheme.decimals, new_scheme.decimals)
    old_cards = {c.subject: c for c in old_run.scorecards}
    new_cards = {c.subject: c for c in new_run.scorecards}
    subjects = [*old_cards, *(s for s in new_cards if s not in old_cards)]

    grades = _grade_order(old_scheme, new_scheme)
    index = {g: i for i, g in enumerate(grades)}
    matrix = [[0] * len(grades) for _ in grades]
    moves: list[tuple[float, SubjectMove]] = []
    changed: list[SubjectMove] = []
    for subject in subjects:
        oc, nc = old_cards.get(subject), new_cards.get(subject)
        og = oc.grade if oc is not None and oc.grade is not None else None
        ng = nc.grade if nc is not None and nc.grade is not None else None
        matrix[index.get(og or _NONE, index[_NONE])][index.get(ng or _NONE, index[_NONE])] += 1
        os_ = oc.score if oc is not None else None
        ns_ = nc.score if nc is not None else None
        raw_delta = ns_ - os_ if os_ is not None and ns_ is not None else None
        move = SubjectMove(subject, og, ng, rounded(os_, decimals), rounded(ns_, decimals),
                           _r(raw_delta, decimals), _causes(oc, nc, decimals))
        if og != ng:
            changed.append(move)
        if raw_delta is not None:
            moves.append((raw_delta, move))
    moves.sort(key=lambda m: (-abs(m[0]), m[1].subject))
    movements = tuple(m for d, m in moves[:_TOP_MOVES] if abs(d) > 1e-9)

    old_v = {(c.subject, v.id) for c in old_run.scorecards for v in c.vetoes}
    new_v = {(c.subject, v.id) for c in new_run.scorecards for v in c.vetoes}
    old_scores = [c.score for c in old_run.scorecards if c.score is not None]
    new_scores = [c.score for c in new_run.scorecards if c.score is not None]
    return Impact(
        data=tuple(files),
        old_version=old_scheme.version,
        new_version=new_scheme.version,
        rows_read=new_run.rows_read,
        old_rejected=old_run.rows_rejected,
        new_rejected=new_run.rows_rejected,
        subjects=len(subjects),
        grades=grades,
        matrix=tuple(tuple(row) for row in matrix),
        grade_changes=tuple(changed),
        movements=movements,
        indicators=_indicator_means(old_scheme, new_scheme, old_run.scorecards, new_run.scorecards, decimals),
        dimensions=_dimension_means(old_scheme, new_scheme, old_run.scorecards, new_run.scorecards, decimals),
        vetoes_triggered=tuple(sorted(new_v - old_v)),
        vetoes_cleared=tuple(sorted(old_v - new_v)),
        old_mean_score=_r(_mean(old_scores), decimals),
        new_mean_score=_r(_mean(new_scores), decimals),
        decimals=decimals,
    )


def _grade_order(old: Scheme, new: Scheme) -> tuple[str, ...]:
    """Grades of both versions, highest first (by min, new version's min when both have it), then (none)."""
    mins: dict[str, float] = {g.name: g.min for g in old.grades}
    mins.update({g.name: g.min for g in new.grades})
    position = {g.name: i for i, g in enumerate([*new.grades, *old.grades]) if g.name}
    names = sorted(mins, key=lambda g: (-mins[g], position.get(g, 0)))
    return (*[n for n in names if n != _NONE], _NONE)


def _causes(old: Scorecard | None, new: Scorecard | None, decimals: int) -> tuple[IndicatorDelta, ...]:
    if old is None or new is None:
        return ()
    oc = {i.id: i.contribution if i.counted else 0.0 for i in old.indicators}
    nc = {i.id: i.contribution if i.counted else 0.0 for i in new.indicators}
    deltas = []
    for iid in [*nc, *(k for k in oc if k not in nc)]:
        a, b = oc.get(iid, 0.0), nc.get(iid, 0.0)
        if abs(b - a) > 1e-9:
            deltas.append((abs(b - a), iid, a, b))
    deltas.sort(key=lambda d: (-d[0], d[1]))
    return tuple(IndicatorDelta(iid, _r(a, decimals) or 0.0, _r(b, decimals) or 0.0) for _, iid, a, b in deltas)


def _indicator_means(old: Scheme, new: Scheme, old_cards: Sequence[Scorecard], new_cards: Sequence[Scorecard],
                     decimals: int) -> tuple[IndicatorMean, ...]:
    dims = {i.id: d.id for d in old.dimensions for i in d.indicators}
    dims.update({i.id: d.id for d in new.dimensions for i in d.indicators})
    order = [*(i.id for i in new.indicators), *(i.id for i in old.indicators)]
    out = []
    for iid in dict.fromkeys(order):
        stats = []
        for cards in (old_cards, new_cards):
            points, values = [], []
            for card in cards:
                for ind in card.indicators:
                    if ind.id == iid and ind.points is not None:
                        points.append(ind.points)
                        v = _numeric(ind.value)
                        if v is not None:
                            values.append(v)
            stats.append((_r(_mean(points), decimals), _r(_mean(values), 4), len(points)))
        (op, ov, on), (np_, nv, nn) = stats
        out.append(IndicatorMean(iid, dims[iid], op, np_, ov, nv, on, nn))
    return tuple(out)


def _dimension_means(old: Scheme, new: Scheme, old_cards: Sequence[Scorecard], new_cards: Sequence[Scorecard],
                     decimals: int) -> tuple[DimensionMean, ...]:
    out = []
    for did in dict.fromkeys([*(d.id for d in new.dimensions), *(d.id for d in old.dimensions)]):
        stats = []
        for cards in (old_cards, new_cards):
            scores = [d.score for c in cards for d in c.dimensions if d.id == did and d.score is not None]
            stats.append((_r(_mean(scores), decimals), len(scores)))
        (os_, on), (ns_, nn) = stats
        out.append(DimensionMean(did, os_, ns_, on, nn))
    return tuple(out)


# --------------------------------------------------------------------------- rendering


def _side(doc: Document) -> dict[str, Any]:
    data = _dict(doc.data)
    return {"id": data.get("scheme"), "version": None if data.get("version") is None else str(data["version"]),
            "path": doc.path}


def _lines(c: Change) -> str:
    a = "—" if c.old_line is None else str(c.old_line)
    b = "—" if c.new_line is None else str(c.new_line)
    return f"{a} → {b}"


def _sign(c: Change) -> str:
    if c.kind.endswith("-added") or (c.old is None and c.new is not None):
        return "+"
    if c.kind.endswith("-removed") or (c.new is None and c.old is not None):
        return "-"
    if c.kind == "indicator-moved":
        return ">"
    return "~"


def _grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.category, []).append(c)
    return [(cat, groups[cat]) for cat in dict.fromkeys([*CATEGORIES, *groups]) if cat in groups]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def _fmt(x: float | None, decimals: int = 2) -> str:
    return "—" if x is None else f"{x:.{decimals}f}"


def _signed(x: float | None, decimals: int = 2) -> str:
    return "—" if x is None else f"{x:+.{decimals}f}"


def _title(o: Mapping[str, Any], n: Mapping[str, Any]) -> str:
    if o["id"] == n["id"]:
        return f"{o['id']} {o['version']} → {n['version']}"
    return f"{o['id']} {o['version']} → {n['id']} {n['version']}"


def render_text(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None, *,
                color: bool = False) -> str:
    """Plain text, one line per change grouped by category; styled with ANSI colours when ``color``."""

    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    o, n = _side(old), _side(new)
    out = [style(f"qualiscore diff: {_title(o, n)}", bold=True),
           f"  old: {o['path']}", f"  new: {n['path']}"]
    if not changes:
        out.append(style("no semantic differences: the two versions are equivalent", fg="green"))
    else:
        out.append(style(f"{len(changes)} change(s)", fg="yellow", bold=True))
    colours = {"+": "green", "-": "red", "~": "yellow", ">": "cyan"}
    for cat, items in _grouped(changes):
        out.append("")
        out.append(style(f"{CATEGORIES.get(cat, cat)} ({len(items)})", bold=True))
        for c in items:
            sign = _sign(c)
            if c.old is not None and c.new is not None:
                what = f"{_show(c.old)} → {_show(c.new)}"
            else:
                what = _show(c.new if c.new is not None else c.old)
            out.append(f"  {style(sign, fg=colours[sign], bold=True)} {c.path}: {what}"
                       + style(f"  [{c.kind}; lines {_lines(c)}]", dim=True))
            if c.note:
                out.append(style(f"      {c.note}", dim=True))
    if impact is not None:
        out.append("")
        out.extend(_impact_text(impact, style))
    return "\n".join(out) + "\n"


def _impact_text(imp: Impact, style: Any) -> list[str]:
    d = imp.decimals
    out = [style(f"Impact on {', '.join(imp.data)}", bold=True),
           f"  rows read {imp.rows_read}; rejected {imp.old_rejected} by {imp.old_version}, "
           f"{imp.new_rejected} by {imp.new_version}",
           f"  {imp.subjects} subject(s); mean score {_fmt(imp.old_mean_score, d)} → {_fmt(imp.new_mean_score, d)}",
           "",
           style(f"  Grade migration (rows: {imp.old_version}, columns: {imp.new_version})", bold=True)]
    first = max([_width(g) for g in imp.grades] + [_width(imp.old_version)]) + 2
    cols = [max(_width(g), 5) + 2 for g in imp.grades]
    out.append("  " + _pad("", first) + "".join(_pad(g, w, right=True) for g, w in zip(imp.grades, cols)))
    for g, row in zip(imp.grades, imp.matrix):
        cells = "".join(_pad(str(v) if v else "·", w, right=True) for v, w in zip(row, cols))
        out.append("  " + _pad(g, first) + cells)
    out.append("")
    out.append(style(f"  {len(imp.grade_changes)} subject(s) change grade", bold=True))
    for m in imp.grade_changes:
        out.append(f"    {m.subject}: {m.old_grade or _NONE} → {m.new_grade or _NONE}  "
                   f"({_fmt(m.old_score, d)} → {_fmt(m.new_score, d)})")
    out.append("")
    out.append(style(f"  Largest score movements (top {_TOP_MOVES})", bold=True))
    if not imp.movements:
        out.append("    none")
    for m in imp.movements:
        causes = ", ".join(f"{c.id} {_signed(c.delta, d)}" for c in m.causes) or "—"
        out.append(f"    {m.subject}: {_fmt(m.old_score, d)} → {_fmt(m.new_score, d)} ({_signed(m.delta, d)})  "
                   f"{m.old_grade or _NONE} → {m.new_grade or _NONE}; by indicator: {causes}")
    out.append("")
    out.append(style("  Indicator means over subjects (points; value)", bold=True))
    width = max([_width(i.id) for i in imp.indicators] + [4]) + 2
    for i in imp.indicators:
        out.append(f"    {_pad(i.id, width)}points {_fmt(i.old_points, d)} → {_fmt(i.new_points, d)}   "
                   f"value {_fmt(i.old_value, 4)} → {_fmt(i.new_value, 4)}   (n {i.old_n} → {i.new_n})")
    out.append("")
    out.append(style("  Dimension means over subjects (score)", bold=True))
    width = max([_width(x.id) for x in imp.dimensions] + [4]) + 2
    for x in imp.dimensions:
        out.append(f"    {_pad(x.id, width)}{_fmt(x.old_score, d)} → {_fmt(x.new_score, d)}   "
                   f"(n {x.old_n} → {x.new_n})")
    out.append("")
    for title, pairs in (("Vetoes newly triggered", imp.vetoes_triggered), ("Vetoes cleared", imp.vetoes_cleared)):
        out.append(style(f"  {title}: {len(pairs)}", bold=True))
        out.extend(f"    {s}: {v}" for s, v in pairs)
    return out


def _md(x: Any) -> str:
    text = _show(x) if not isinstance(x, str) else x
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else _md(text)


def render_markdown(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None) -> str:
    """A Markdown report to paste into a review: a heading, then one table per category."""
    o, n = _side(old), _side(new)
    out = [f"# Scheme diff: {_md(_title(o, n))}", "",
           "| | old | new |", "|---|---|---|",
           f"| file | {_code(o['path'])} | {_code(n['path'])} |",
           f"| version | {_md(o['version'])} | {_md(n['version'])} |", ""]
    if not changes:
        out += ["**No semantic differences: the two versions are equivalent.**", ""]
    else:
        out += [f"**{len(changes)} change(s).**", ""]
    for cat, items in _grouped(changes):
        out += [f"## {CATEGORIES.get(cat, cat)}", "", "| change | path | old | new | lines (old → new) | note |",
                "|---|---|---|---|---|---|"]
        for c in items:
            out.append(f"| {c.kind} | {_code(c.path)} | {_md(c.old)} | {_md(c.new)} | {_lines(c)} | "
                       f"{_md(c.note or '')} |")
        out.append("")
    if impact is not None:
        out += _impact_markdown(impact)
    return "\n".join(out).rstrip("\n") + "\n"


def _impact_markdown(imp: Impact) -> list[str]:
    d = imp.decimals
    out = [f"## Impact on {', '.join(_code(p) for p in imp.data)}", "",
           f"Rows read: {imp.rows_read}; rejected: {imp.old_rejected} by {_md(imp.old_version)}, "
           f"{imp.new_rejected} by {_md(imp.new_version)}. Subjects: {imp.subjects}. "
           f"Mean score: {_fmt(imp.old_mean_score, d)} → {_fmt(imp.new_mean_score, d)}.", "",
           f"### Grade migration (rows: {_md(imp.old_version)}, columns: {_md(imp.new_version)})", "",
           "| old \\ new | " + " | ".join(_md(g) for g in imp.grades) + " |",
           "|---|" + "---:|" * len(imp.grades)]
    for g, row in zip(imp.grades, imp.matrix):
        out.append(f"| **{_md(g)}** | " + " | ".join(str(v) for v in row) + " |")
    out += ["", f"### Subjects whose grade changes ({len(imp.grade_changes)})", ""]
    if imp.grade_changes:
        out += ["| subject | old grade | new grade | old score | new score |", "|---|---|---|---:|---:|"]
        out += [f"| {_md(m.subject)} | {_md(m.old_grade or _NONE)} | {_md(m.new_grade or _NONE)} | "
                f"{_fmt(m.old_score, d)} | {_fmt(m.new_score, d)} |" for m in imp.grade_changes]
    else:
        out.append("None.")
    out += ["", f"### Largest score movements (top {_TOP_MOVES})", ""]
    if imp.movements:
        out += ["| subject | old score | new score | change | grade | by indicator (contribution change) |",
                "|---|---:|---:|---:|---|---|"]
        for m in imp.movements:
            causes = ", ".join(f"{c.id} {_signed(c.delta, d)}" for c in m.causes) or "—"
            out.append(f"| {_md(m.subject)} | {_fmt(m.old_score, d)} | {_fmt(m.new_score, d)} | "
                       f"{_signed(m.delta, d)} | {_md(m.old_grade or _NONE)} → {_md(m.new_grade or _NONE)} | "
                       f"{_md(causes)} |")
    else:
        out.append("None.")
    out += ["", "### Indicator means over subjects", "",
            "| indicator | dimension | points (old) | points (new) | value (old) | value (new) | n (old → new) |",
            "|---|---|---:|---:|---:|---:|---|"]
    out += [f"| {_md(i.id)} | {_md(i.dimension)} | {_fmt(i.old_points, d)} | {_fmt(i.new_points, d)} | "
            f"{_fmt(i.old_value, 4)} | {_fmt(i.new_value, 4)} | {i.old_n} → {i.new_n} |" for i in imp.indicators]
    out += ["", "### Dimension means over subjects", "", "| dimension | score (old) | score (new) | n (old → new) |",
            "|---|---:|---:|---|"]
    out += [f"| {_md(x.id)} | {_fmt(x.old_score, d)} | {_fmt(x.new_score, d)} | {x.old_n} → {x.new_n} |"
            for x in imp.dimensions]
    for title, pairs in (("Vetoes newly triggered", imp.vetoes_triggered), ("Vetoes cleared", imp.vetoes_cleared)):
        out += ["", f"### {title} ({len(pairs)})", ""]
        if pairs:
            out += ["| subject | veto |", "|---|---|"] + [f"| {_md(s)} | {_md(v)} |" for s, v in pairs]
        else:
            out.append("None.")
    out.append("")
    return out


def render_json(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None) -> str:
    """``{"old": {id, version, path}, "new": {...}, "equivalent", "changes": [...], "impact": {...} | null}``."""
    doc = {
        "old": _side(old),
        "new": _side(new),
        "equivalent": not changes,
        "changes": [c.as_dict() for c in changes],
        "impact": impact.as_dict() if impact is not None else None,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- command


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="md: a report to paste into a review; json: for scripts.")
@click.option("--data", "data", multiple=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also score these records (CSV/JSONL) with both versions and show the impact; repeatable.")
@click.option("--encoding", default=None, help="With --data: input text encoding (default: UTF-8, else GB18030).")
def diff_command(old: str, new: str, fmt: str, data: tuple[Path, ...], encoding: str | None) -> None:
    """Show what changed between two versions of a scheme, rule by rule.

    OLD and NEW are scheme files, or REV:path to read a committed version with
    `git show` (e.g. HEAD~1:rules/cs-quality/2026Q2.yaml). The comparison is semantic:
    reformatting, comments, reordering and explicit defaults are no change.

    Exit status: 0 equivalent, 1 different, 2 usage error, 3 a side is not a valid scheme.

    \b
    Examples:
      qualiscore diff rules/cs-quality/2026Q1.yaml rules/cs-quality/2026Q2.yaml
      qualiscore diff HEAD~1:rules/cs-quality/2026Q2.yaml rules/cs-quality/2026Q2.yaml --format md
      qualiscore diff rules/cs-quality/2026Q1.yaml rules/cs-quality/2026Q2.yaml --data q1.csv
    """
    try:
        old_doc, new_doc = load_side(old), load_side(new)
        old_scheme, new_scheme = check_document(old_doc), check_document(new_doc)
        changes = diff_documents(old_doc, new_doc)
        result = impact(old_scheme, new_scheme, [str(p) for p in data], encoding) if data else None
    except QualiscoreError as exc:
        raise CommandError(exc) from None
    if fmt == "json":
        click.echo(render_json(old_doc, new_doc, changes, result), nl=False)
    elif fmt == "md":
        click.echo(render_markdown(old_doc, new_doc, changes, result), nl=False)
    else:  # click strips the colours when the output is not a terminal
        click.echo(render_text(old_doc, new_doc, changes, result, color=True), nl=False)
    sys.exit(EXIT_FINDINGS if changes else EXIT_OK)
