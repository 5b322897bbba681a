"""The semantic differ: every difference between two versions of a scheme, as :class:`Change` objects.

Two loaded documents are compared *by meaning*, not by text:

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
  compared by position, ``subject.group_by`` (it spells the subject key) as a sequence;
* the ``changelog`` belongs to its version (what changed from the superseded one), so
  two different versions' changelogs are not compared: :mod:`.changelog` reads the
  new one against the changes instead. Two files of the same version share one
  changelog, and its lines are compared as a sequence.

Each difference has a kind (see :data:`KINDS`), a readable path
(``dimensions.outcome.indicators.fcr.scoring.linear.from``), the old and new values
and the line of each in its file.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._plain import dict_of, list_of, number_or_none
from ..i18n import N_, _
from ..loader import Document
from ..model import THRESHOLD_TESTS
from .values import (
    band_text,
    canonical,
    expr_text,
    json_value,
    measure_kind,
    measure_text,
    normalise_expression,
    percent,
    pointer,
    same_value,
    scoring_kind,
    scoring_text,
    show,
)

# Categories in the order they are printed, with their headings (translated where they are shown).
CATEGORIES: dict[str, str] = {
    "metadata": N_("Metadata"),
    "records": N_("Record contract"),
    "subject": N_("Subject"),
    "settings": N_("Rounding and calendar"),
    "constants": N_("Constants"),
    "derived": N_("Derived values"),
    "structure": N_("Dimensions and indicators"),
    "weights": N_("Weights"),
    "measures": N_("Measures"),
    "scoring": N_("Scoring"),
    "applicability": N_("Sample size and not-applicable rules"),
    "targets": N_("Targets"),
    "vetoes": N_("Vetoes"),
    "sampling": N_("Sampling plan"),
    "grades": N_("Grades"),
    "text": N_("Names, descriptions and labels"),
    "tests": N_("Tests"),
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
    "source-added": "records",
    "source-removed": "records",
    "source-period-changed": "records",
    "lookup-changed": "records",
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
    "veto-threshold-changed": "vetoes",
    "veto-effect-changed": "vetoes",
    "veto-reason-changed": "vetoes",
    "sampling-changed": "sampling",
    "grade-added": "grades",
    "grade-removed": "grades",
    "grade-min-changed": "grades",
    "description-changed": "text",
    "label-changed": "text",
    "test-added": "tests",
    "test-removed": "tests",
    "test-changed": "tests",
}

# The notes of a holiday or workday added to or removed from the calendar.
_DAY_NOTES: dict[tuple[str, str], str] = {
    ("holidays", "added"): N_("holiday added"),
    ("holidays", "removed"): N_("holiday removed"),
    ("workdays", "added"): N_("workday added"),
    ("workdays", "removed"): N_("workday removed"),
}

_METADATA_KEYS = ("scheme", "version", "title", "description", "effective_from", "effective_to", "supersedes",
                  "approved_by", "approved_on")
_KNOWN_TOP = {*_METADATA_KEYS, "format", "changelog", "rounding", "calendar", "subject", "records", "sources",
              "constants", "derive", "dimensions", "vetoes", "sampling", "grades", "tests"}


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
            "old": json_value(self.old),
            "new": json_value(self.new),
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


# --------------------------------------------------------------------------- the differ


class _Differ:
    """Walks two documents side by side and collects :class:`Change` objects."""

    def __init__(self, old: Document, new: Document) -> None:
        self.docs = (old, new)
        self.old = dict_of(old.data)
        self.new = dict_of(new.data)
        self.changes: list[Change] = []

    # -- recording

    def _line(self, side: int, ptr: str | None) -> int | None:
        """The line of JSON pointer ``ptr``, else of its nearest ancestor below the top level (None there)."""
        doc = self.docs[side]
        current = ptr
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
        if not same_value(a, b):
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
        self.sampling()
        self.grades()
        self.tests()
        self.others()
        return self.changes

    def sampling(self) -> None:
        """The sampling plan, key by key (expressions compared by meaning)."""
        o, n = self.old.get("sampling"), self.new.get("sampling")
        if o is None or n is None:
            self.value("sampling-changed", "sampling", o, n, "/sampling", "/sampling")
            return
        o, n = dict_of(o), dict_of(n)
        for key in ("source", "every", "rate", "count", "min_per_stratum", "seed"):
            self.value("sampling-changed", f"sampling.{key}", o.get(key), n.get(key), f"/sampling/{key}",
                       f"/sampling/{key}")
        for key in ("strata", "fields"):
            self.value("sampling-changed", f"sampling.{key}", o.get(key), n.get(key), f"/sampling/{key}",
                       f"/sampling/{key}")
        if normalise_expression(o.get("exclude")) != normalise_expression(n.get("exclude")):
            self.add("sampling-changed", "sampling.exclude", expr_text(o.get("exclude")), expr_text(n.get("exclude")),
                     "/sampling/exclude", "/sampling/exclude")
        risks = [[(normalise_expression(dict_of(r).get("when")), dict_of(r).get("weight"))
                  for r in list_of(side.get("oversample"))] for side in (o, n)]
        if risks[0] != risks[1]:
            self.add("sampling-changed", "sampling.oversample", o.get("oversample"), n.get("oversample"),
                     "/sampling/oversample", "/sampling/oversample")

    # -- metadata

    def metadata(self) -> None:
        o, n = self.old, self.new
        for key in _METADATA_KEYS:
            a, b = o.get(key), n.get(key)
            if key == "title":  # the title defaults to the scheme id
                a = o.get("scheme") if a is None else a
                b = n.get("scheme") if b is None else b
            note = _("the two files are different schemes") if key == "scheme" else None
            self.value("metadata", key, a, b, f"/{key}", f"/{key}", note=note)
        if str(o.get("version")) != str(n.get("version")):
            return
        old_lines = [str(x) for x in list_of(o.get("changelog"))]
        new_lines = [str(x) for x in list_of(n.get("changelog"))]
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                for i in range(i1, i2):
                    self.add("metadata", "changelog", old_lines[i], None, f"/changelog/{i}", None,
                             _("changelog line removed"))
            if tag in ("replace", "insert"):
                for j in range(j1, j2):
                    self.add("metadata", "changelog", None, new_lines[j], None, f"/changelog/{j}",
                             _("changelog line added"))

    # -- record contract

    def records(self) -> None:
        """The record contract, or each record source's (added, removed, or changed like a contract)."""
        old_sources, new_sources = dict_of(self.old.get("sources")), dict_of(self.new.get("sources"))
        if not old_sources and not new_sources:
            self.contract(("records",), dict_of(self.old.get("records")), dict_of(self.new.get("records")))
            return
        if not old_sources:
            self.add("source-removed", "records", _source_text(self.old.get("records")), None, "/records", None,
                     _("one table becomes several sources"))
        if not new_sources:
            self.add("source-added", "records", None, _source_text(self.new.get("records")), None, "/records",
                     _("several sources become one table"))
        for name, spec in new_sources.items():
            if name not in old_sources:
                self.add("source-added", f"sources.{name}", None, _source_text(spec), None, pointer("sources", name))
        for name, spec in old_sources.items():
            if name not in new_sources:
                self.add("source-removed", f"sources.{name}", _source_text(spec), None, pointer("sources", name), None)
                continue
            o, n = dict_of(spec), dict_of(new_sources[name])
            self.contract(("sources", name), o, n)
            optr, nptr = pointer("sources", name, "period"), pointer("sources", name, "period")
            self.value("source-period-changed", f"sources.{name}.period", o.get("period"), n.get("period"),
                       optr, nptr)
            if _lookups(o) != _lookups(n):
                self.add("lookup-changed", f"sources.{name}.lookup", _lookups(o) or None, _lookups(n) or None,
                         pointer("sources", name, "lookup") if "lookup" in o else pointer("sources", name),
                         pointer("sources", name, "lookup") if "lookup" in n else pointer("sources", name))

    def contract(self, where: tuple[str, ...], o: dict[str, Any], n: dict[str, Any]) -> None:
        path = ".".join(where)
        self.value("records-id-changed", f"{path}.id", o.get("id"), n.get("id"), pointer(*where, "id"),
                   pointer(*where, "id"))
        self.value("timezone-changed", f"{path}.timezone", o.get("timezone"), n.get("timezone"),
                   pointer(*where, "timezone"), pointer(*where, "timezone"), default="UTC")
        of, nf = dict_of(o.get("fields")), dict_of(n.get("fields"))
        for name, spec in nf.items():
            ptr = pointer(*where, "fields", name)
            if name not in of:
                self.add("field-added", f"{path}.fields.{name}", None, _field_text(spec), None, ptr)
                continue
            self.field(f"{path}.fields.{name}", dict_of(of[name]), dict_of(spec), ptr)
        for name, spec in of.items():
            if name not in nf:
                self.add("field-removed", f"{path}.fields.{name}", _field_text(spec), None,
                         pointer(*where, "fields", name), None)

    def field(self, path: str, o: dict[str, Any], n: dict[str, Any], ptr: str) -> None:
        name = path.rsplit(".", 1)[-1]

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
            return canonical(str(v).strip() if strip else v)

        ok = {key(v): v for v in list_of(old)}
        nk = {key(v): v for v in list_of(new)}
        if ok.keys() == nk.keys():
            return
        added = [v for k, v in nk.items() if k not in ok]
        removed = [v for k, v in ok.items() if k not in nk]
        self.add(kind, path, old, new, optr, nptr, _added_removed(added, removed))

    # -- subject, rounding, calendar

    def subject(self) -> None:
        o, n = dict_of(self.old.get("subject")), dict_of(self.new.get("subject"))
        self.value("subject-changed", "subject.group_by", o.get("group_by"), n.get("group_by"),
                   "/subject/group_by", "/subject/group_by", default=[],
                   note=_("the subject key changes, so scorecards of the two versions do not match one to one"))
        op, np_ = o.get("period"), n.get("period")
        if op is None or np_ is None:
            self.value("subject-changed", "subject.period", op, np_, "/subject/period", "/subject/period")
        else:
            for key in ("field", "every"):
                self.value("subject-changed", f"subject.period.{key}", dict_of(op).get(key),
                           dict_of(np_).get(key), f"/subject/period/{key}", f"/subject/period/{key}")
        self.value_set("subject-changed", "subject.breakdowns", o.get("breakdowns") or [],
                       n.get("breakdowns") or [], "/subject/breakdowns", "/subject/breakdowns", strip=False)

    def settings(self) -> None:
        self.value("rounding-changed", "rounding.decimals", dict_of(self.old.get("rounding")).get("decimals"),
                   dict_of(self.new.get("rounding")).get("decimals"), "/rounding/decimals", "/rounding/decimals",
                   default=2)
        oc, nc = dict_of(self.old.get("calendar")), dict_of(self.new.get("calendar"))
        ow = oc.get("weekend") if oc.get("weekend") is not None else [6, 7]
        nw = nc.get("weekend") if nc.get("weekend") is not None else [6, 7]
        if {canonical(x) for x in list_of(ow)} != {canonical(x) for x in list_of(nw)}:
            self.add("calendar-changed", "calendar.weekend", ow, nw, "/calendar/weekend", "/calendar/weekend")
        for key in ("holidays", "workdays"):
            olist, nlist = [str(x) for x in list_of(oc.get(key))], [str(x) for x in list_of(nc.get(key))]
            for i, day in enumerate(olist):
                if day not in nlist:
                    self.add("calendar-changed", f"calendar.{key}", day, None, f"/calendar/{key}/{i}",
                             f"/calendar/{key}", _(_DAY_NOTES[key, "removed"]))
            for j, day in enumerate(nlist):
                if day not in olist:
                    self.add("calendar-changed", f"calendar.{key}", None, day, f"/calendar/{key}",
                             f"/calendar/{key}/{j}", _(_DAY_NOTES[key, "added"]))

    # -- constants and derived values

    def constants(self) -> None:
        oc, nc = dict_of(self.old.get("constants")), dict_of(self.new.get("constants"))
        for name, value in nc.items():
            ptr = pointer("constants", name)
            if name not in oc:
                self.add("constant-added", f"constants.{name}", None, value, None, ptr)
                continue
            old = oc[name]
            if isinstance(old, dict) and isinstance(value, dict):
                for key in [*old, *(k for k in value if k not in old)]:
                    kp = pointer("constants", name, key)
                    if key not in value:
                        self.add("constant-changed", f"constants.{name}.{key}", old[key], None, kp, ptr,
                                 _("key removed"))
                    elif key not in old:
                        self.add("constant-changed", f"constants.{name}.{key}", None, value[key], ptr, kp,
                                 _("key added"))
                    else:
                        self.value("constant-changed", f"constants.{name}.{key}", old[key], value[key], kp, kp)
            elif isinstance(old, list) and isinstance(value, list):
                if same_value(old, value):
                    continue
                ok, nk = [canonical(v) for v in old], [canonical(v) for v in value]
                if sorted(ok) == sorted(nk):
                    note = _("same items, different order")
                else:
                    note = _added_removed([v for v, k in zip(value, nk) if k not in ok],
                                          [v for v, k in zip(old, ok) if k not in nk])
                self.add("constant-changed", f"constants.{name}", old, value, ptr, ptr, note)
            else:
                self.value("constant-changed", f"constants.{name}", old, value, ptr, ptr)
        for name, value in oc.items():
            if name not in nc:
                self.add("constant-removed", f"constants.{name}", value, None, pointer("constants", name), None)

    def derive(self) -> None:
        od, nd = dict_of(self.old.get("derive")), dict_of(self.new.get("derive"))
        for name, expr in nd.items():
            ptr = pointer("derive", name)
            if name not in od:
                self.add("derived-added", f"derive.{name}", None, expr_text(expr), None, ptr)
            elif normalise_expression(od[name]) != normalise_expression(expr):
                self.add("derived-changed", f"derive.{name}", expr_text(od[name]), expr_text(expr), ptr, ptr)
        for name, expr in od.items():
            if name not in nd:
                self.add("derived-removed", f"derive.{name}", expr_text(expr), None, pointer("derive", name),
                         None)

    # -- dimensions and indicators

    def structure(self) -> None:
        odims, oinds = _index_dimensions(self.old)
        ndims, ninds = _index_dimensions(self.new)
        oeff, neff = _effective_weights(self.old), _effective_weights(self.new)
        for did, (dim, ptr) in ndims.items():
            path = f"dimensions.{did}"
            if did not in odims:
                self.add("dimension-added", path, None, _name(dim, did), None, ptr,
                         _("weight {weight} ({share} of the total)", weight=show(dim.get("weight")),
                           share=percent(_share(self.new, did))))
                continue
            odim, optr = odims[did]
            self.value("dimension-renamed", f"{path}.name", odim.get("name"), dim.get("name"),
                       f"{optr}/name", f"{ptr}/name", default=did)
            self.value("description-changed", f"{path}.description", odim.get("description"),
                       dim.get("description"), f"{optr}/description", f"{ptr}/description")
            if not same_value(odim.get("weight"), dim.get("weight")):
                before, after = _share(self.old, did), _share(self.new, did)
                self.add("weight-changed", f"{path}.weight", odim.get("weight"), dim.get("weight"),
                         f"{optr}/weight", f"{ptr}/weight", _share_note(None, before, after))
            self.value("not-applicable-changed", f"{path}.when_not_applicable", odim.get("when_not_applicable"),
                       dim.get("when_not_applicable"), f"{optr}/when_not_applicable",
                       f"{ptr}/when_not_applicable", default="redistribute")
        for did, (dim, ptr) in odims.items():
            if did not in ndims:
                self.add("dimension-removed", f"dimensions.{did}", _name(dim, did), None, ptr, None,
                         _("weight {weight} ({share} of the total)", weight=show(dim.get("weight")),
                           share=percent(_share(self.old, did))))
        for iid, (did, ind, ptr) in ninds.items():
            path = f"dimensions.{did}.indicators.{iid}"
            if iid not in oinds:
                self.add("indicator-added", path, None, _indicator_text(ind, iid), None, ptr,
                         _("effective weight {share}", share=percent(neff.get(iid))))
                continue
            odid, oind, optr = oinds[iid]
            if odid != did:
                self.add("indicator-moved", path, odid, did, optr, ptr,
                         _("moved from dimension {old} to {new}", old=odid, new=did))
            self.indicator(path, iid, oind, ind, optr, ptr, did)
        for iid, (did, ind, ptr) in oinds.items():
            if iid not in ninds:
                self.add("indicator-removed", f"dimensions.{did}.indicators.{iid}", _indicator_text(ind, iid), None,
                         ptr, None, _("effective weight {share}", share=percent(oeff.get(iid))))
        for iid, (did, _ind, ptr) in ninds.items():
            if iid in oinds and iid in oeff and iid in neff and not math.isclose(
                    oeff[iid], neff[iid], rel_tol=1e-9, abs_tol=1e-9):
                self.add("effective-weight-changed", f"dimensions.{did}.indicators.{iid}.effective_weight",
                         round(oeff[iid], 4), round(neff[iid], 4), f"{oinds[iid][2]}/weight", f"{ptr}/weight",
                         _("share of the total score in %, all indicators applicable"))

    def indicator(self, path: str, iid: str, o: dict[str, Any], n: dict[str, Any], optr: str, nptr: str,
                  did: str) -> None:
        self.value("indicator-renamed", f"{path}.name", o.get("name"), n.get("name"), f"{optr}/name",
                   f"{nptr}/name", default=iid)
        self.value("description-changed", f"{path}.description", o.get("description"), n.get("description"),
                   f"{optr}/description", f"{nptr}/description")
        self.measure("measure-changed", f"{path}.measure", o.get("measure"), n.get("measure"), f"{optr}/measure",
                     f"{nptr}/measure")
        self.scoring(f"{path}.scoring", o.get("scoring"), n.get("scoring"), f"{optr}/scoring", f"{nptr}/scoring")
        if not same_value(o.get("weight"), n.get("weight")):
            before = _indicator_share(self.old, iid)
            after = _indicator_share(self.new, iid)
            self.add("weight-changed", f"{path}.weight", o.get("weight"), n.get("weight"), f"{optr}/weight",
                     f"{nptr}/weight", _share_note(did, before, after))
        self.value("target-changed", f"{path}.target", o.get("target"), n.get("target"), f"{optr}/target",
                   f"{nptr}/target")
        self.value("min-sample-changed", f"{path}.min_sample", o.get("min_sample"), n.get("min_sample"),
                   f"{optr}/min_sample", f"{nptr}/min_sample", default=1)
        self.value("not-applicable-changed", f"{path}.when_not_applicable", o.get("when_not_applicable"),
                   n.get("when_not_applicable"), f"{optr}/when_not_applicable", f"{nptr}/when_not_applicable",
                   default="redistribute")

    def measure(self, kind: str, path: str, o: Any, n: Any, optr: str, nptr: str) -> None:
        o, n = dict_of(o), dict_of(n)
        ok, nk = measure_kind(o), measure_kind(n)
        if ok != nk:
            self.add(kind, path, measure_text(o), measure_text(n), optr, nptr,
                     _("measure kind {old} → {new}", old=ok, new=nk))
        elif ok == "ratio":
            orat, nrat = dict_of(o["ratio"]), dict_of(n["ratio"])
            for part in ("numerator", "denominator"):
                if isinstance(orat.get(part), dict) or isinstance(nrat.get(part), dict):  # a measure of its own
                    self.measure(kind, f"{path}.ratio.{part}", orat.get(part), nrat.get(part),
                                 f"{optr}/ratio/{part}", f"{nptr}/ratio/{part}")
                elif normalise_expression(orat.get(part)) != normalise_expression(nrat.get(part)):
                    self.add(kind, f"{path}.ratio.{part}", expr_text(orat.get(part)), expr_text(nrat.get(part)),
                             f"{optr}/ratio/{part}", f"{nptr}/ratio/{part}")
        elif ok is not None and normalise_expression(o[ok]) != normalise_expression(n[ok]):
            self.add(kind, f"{path}.{ok}", expr_text(o[ok]), expr_text(n[ok]), f"{optr}/{ok}", f"{nptr}/{ok}")
        if normalise_expression(o.get("where")) != normalise_expression(n.get("where")):
            self.add(kind, f"{path}.where", expr_text(o.get("where")), expr_text(n.get("where")),
                     f"{optr}/where", f"{nptr}/where")
        self.value(kind, f"{path}.p", o.get("p"), n.get("p"), f"{optr}/p", f"{nptr}/p")
        self.value(kind, f"{path}.source", o.get("source"), n.get("source"), f"{optr}/source", f"{nptr}/source",
                   note=_("the measure reads another record source"))

    def scoring(self, path: str, o: Any, n: Any, optr: str, nptr: str) -> None:
        o, n = dict_of(o), dict_of(n)
        ok, nk = scoring_kind(o), scoring_kind(n)
        if ok != nk:
            self.add("scoring-changed", path, scoring_text(o), scoring_text(n), optr, nptr,
                     _("scoring kind {old} → {new}", old=ok, new=nk))
            return
        if ok == "bands":
            ob, nb = list_of(o["bands"]), list_of(n["bands"])
            for i in range(max(len(ob), len(nb))):
                bpath, bo, bn = f"{path}.bands[{i}]", f"{optr}/bands/{i}", f"{nptr}/bands/{i}"
                if i >= len(ob):
                    self.add("scoring-changed", bpath, None, band_text(nb[i]), f"{optr}/bands", bn,
                             _("band added"))
                elif i >= len(nb):
                    self.add("scoring-changed", bpath, band_text(ob[i]), None, bo, f"{nptr}/bands",
                             _("band removed"))
                else:
                    a, b = dict_of(ob[i]), dict_of(nb[i])
                    for key in ("min", "max", "points"):
                        self.value("scoring-changed", f"{bpath}.{key}", a.get(key), b.get(key), f"{bo}/{key}",
                                   f"{bn}/{key}")
                    self.value("label-changed", f"{bpath}.label", a.get("label"), b.get("label"), f"{bo}/label",
                               f"{bn}/label")
        elif ok == "linear":
            a, b = dict_of(o["linear"]), dict_of(n["linear"])
            for key in ("from", "to"):
                self.value("scoring-changed", f"{path}.linear.{key}", a.get(key), b.get(key),
                           f"{optr}/linear/{key}", f"{nptr}/linear/{key}")
        elif ok == "pass":
            a, b = dict_of(o["pass"]), dict_of(n["pass"])
            for key in ("min", "max", "equals"):
                self.value("scoring-changed", f"{path}.pass.{key}", a.get(key), b.get(key),
                           f"{optr}/pass/{key}", f"{nptr}/pass/{key}")
        elif ok == "map":
            a, b = dict_of(o["map"]), dict_of(n["map"])
            for key in [*a, *(k for k in b if k not in a)]:
                kp = f"{path}.map.{key}"
                if key not in b:
                    self.add("scoring-changed", kp, a[key], None, optr + pointer("map", key), f"{nptr}/map",
                             _("map entry removed"))
                elif key not in a:
                    self.add("scoring-changed", kp, None, b[key], f"{optr}/map", nptr + pointer("map", key),
                             _("map entry added"))
                else:
                    self.value("scoring-changed", kp, a[key], b[key], optr + pointer("map", key),
                               nptr + pointer("map", key))
        if ok == "map" or "default" in o or "default" in n:
            self.value("scoring-changed", f"{path}.default", o.get("default"), n.get("default"),
                       f"{optr}/default", f"{nptr}/default", default=0)

    # -- vetoes, grades, tests

    def vetoes(self) -> None:
        ov = _index_by(self.old.get("vetoes"), "id", "vetoes")
        nv = _index_by(self.new.get("vetoes"), "id", "vetoes")
        for vid, (veto, ptr) in nv.items():
            path = f"vetoes.{vid}"
            if vid not in ov:
                self.add("veto-added", path, None, _veto_text(veto), None, ptr)
                continue
            old, optr = ov[vid]
            self.value("veto-renamed", f"{path}.name", old.get("name"), veto.get("name"), f"{optr}/name",
                       f"{ptr}/name", default=vid)
            self.veto_tested(path, old, veto, optr, ptr)
            oe, ne = _effect(old), _effect(veto)
            if oe != ne:
                self.add("veto-effect-changed", f"{path}.effect", _effect_text(oe), _effect_text(ne),
                         f"{optr}/effect", f"{ptr}/effect")
            self.value("veto-reason-changed", f"{path}.reason", old.get("reason"), veto.get("reason"),
                       f"{optr}/reason", f"{ptr}/reason", default="")
        for vid, (veto, ptr) in ov.items():
            if vid not in nv:
                self.add("veto-removed", f"vetoes.{vid}", _veto_text(veto), None, ptr, None)

    def veto_tested(self, path: str, o: dict[str, Any], n: dict[str, Any], optr: str, nptr: str) -> None:
        """What a veto tests (a measure, or an indicator's value) and the threshold it compares it with."""
        if "indicator" in o or "indicator" in n:
            if "indicator" in o and "indicator" in n:
                self.value("veto-when-changed", f"{path}.indicator", o["indicator"], n["indicator"],
                           f"{optr}/indicator", f"{nptr}/indicator")
            else:
                okey, nkey = _tested_key(o), _tested_key(n)
                self.add("veto-when-changed", f"{path}.{nkey}", _tested_text(o), _tested_text(n), f"{optr}/{okey}",
                         f"{nptr}/{nkey}", _("the veto tests an indicator's value instead of a measure")
                         if nkey == "indicator" else _("the veto tests a measure instead of an indicator's value"))
        else:
            self.measure("veto-when-changed", f"{path}.when", o.get("when"), n.get("when"), f"{optr}/when",
                         f"{nptr}/when")
        ot, nt = _threshold(o), _threshold(n)
        if ot is not None and nt is not None and ot[0] == nt[0]:
            self.value("veto-threshold-changed", f"{path}.{ot[0]}", ot[1], nt[1], f"{optr}/{ot[0]}",
                       f"{nptr}/{nt[0]}")
        elif ot != nt:
            note = (_("threshold added: the veto compares the measured value, no longer triggering on any true or "
                      "non-zero value") if ot is None else _("threshold removed: the veto triggers on any true or "
                                                             "non-zero value") if nt is None else None)
            self.add("veto-threshold-changed", f"{path}.threshold", _threshold_text(ot), _threshold_text(nt),
                     f"{optr}/{ot[0]}" if ot else None, f"{nptr}/{nt[0]}" if nt else None, note)

    def grades(self) -> None:
        og = _index_by(self.old.get("grades"), "name", "grades")
        ng = _index_by(self.new.get("grades"), "name", "grades")
        for name, (grade, ptr) in ng.items():
            path = f"grades.{name}"
            if name not in og:
                self.add("grade-added", path, None, grade.get("min"), None, f"{ptr}/min",
                         _("grade added (min)"))
            else:
                old, optr = og[name]
                self.value("grade-min-changed", f"{path}.min", old.get("min"), grade.get("min"), f"{optr}/min",
                           f"{ptr}/min")
        for name, (grade, ptr) in og.items():
            if name not in ng:
                self.add("grade-removed", f"grades.{name}", grade.get("min"), None, f"{ptr}/min", None,
                         _("grade removed (min)"))

    def tests(self) -> None:
        ot = _index_by(self.old.get("tests"), "name", "tests")
        nt = _index_by(self.new.get("tests"), "name", "tests")
        for name, (test, ptr) in nt.items():
            path = f"tests.{name}"
            if name not in ot:
                self.add("test-added", path, None, _test_text(test), None, ptr)
                continue
            old, optr = ot[name]
            a, b = _test_normal(old), _test_normal(test)
            differing = [k for k in dict.fromkeys([*a, *b]) if not same_value(a.get(k), b.get(k))]
            if differing:
                self.add("test-changed", path, _test_text(old), _test_text(test), optr, ptr,
                         _("changed: {keys}", keys=", ".join(differing)))
        for name, (test, ptr) in ot.items():
            if name not in nt:
                self.add("test-removed", f"tests.{name}", _test_text(test), None, ptr, None)

    def others(self) -> None:
        """Top-level keys the format does not know (only in documents that do not validate)."""
        for key in [*self.old, *(k for k in self.new if k not in self.old)]:
            if key not in _KNOWN_TOP:
                self.value("metadata", str(key), self.old.get(key), self.new.get(key), pointer(key), pointer(key))


def _added_removed(added: Sequence[Any], removed: Sequence[Any]) -> str:
    parts = []
    if added:
        parts.append(_("added {values}", values=", ".join(show(v) for v in added)))
    if removed:
        parts.append(_("removed {values}", values=", ".join(show(v) for v in removed)))
    return _("; ").join(parts) or _("reordered")


def _name(item: Mapping[str, Any], default: str) -> str:
    name = item.get("name")
    return str(name) if name is not None else default


def _field_text(spec: Any) -> str:
    spec = dict_of(spec)
    text = str(spec.get("type", "?"))
    if spec.get("nullable"):
        text += ", nullable"
    if "enum" in spec:
        text += f", enum {show(spec['enum'])}"
    return text


def _source_text(spec: Any) -> str:
    spec = dict_of(spec)
    text = _("id {id}, {n} field(s)", id=spec.get("id"), n=len(dict_of(spec.get("fields"))))
    for lk in _lookups(spec):
        text += _("; {lookup}", lookup=lk)
    return text


def _lookups(spec: Mapping[str, Any]) -> list[str]:
    """A source's lookups as the words a diff shows: ``agent_id, team from interactions by interaction_id``."""
    return [_("{fields} from {source} by {key}", fields=", ".join(map(str, list_of(lk.get("fields")))),
              source=lk.get("from"), key=lk.get("key"))
            for lk in map(dict_of, list_of(spec.get("lookup")))]


def _indicator_text(ind: Mapping[str, Any], iid: str) -> str:
    return _("{name}: {measure}; {scoring}; weight {weight}", name=_name(ind, iid),
             measure=measure_text(ind.get("measure")), scoring=scoring_text(ind.get("scoring")),
             weight=show(ind.get("weight")))


def _effect(veto: Mapping[str, Any]) -> tuple[str, str] | None:
    effect = dict_of(veto.get("effect"))
    if not effect:
        return None
    kind, grade = next(iter(effect.items()))
    return str(kind), str(grade)


def _effect_text(effect: tuple[str, str] | None) -> str | None:
    return None if effect is None else f"{effect[0]}: {effect[1]}"


def _threshold(veto: Mapping[str, Any]) -> tuple[str, Any] | None:
    """A veto's comparison and number (the first one written, as the compiler reads it), or None."""
    test = next((t for t in THRESHOLD_TESTS if t in veto), None)
    return None if test is None else (test, veto[test])


def _threshold_text(threshold: tuple[str, Any] | None) -> str | None:
    return None if threshold is None else f"{threshold[0]}: {show(threshold[1])}"


def _tested_key(veto: Mapping[str, Any]) -> str:
    return "indicator" if "indicator" in veto else "when"


def _tested_text(veto: Mapping[str, Any]) -> str:
    if "indicator" in veto:
        return f"indicator {show(veto['indicator'])}"
    return measure_text(veto.get("when"))


def _veto_text(veto: Mapping[str, Any]) -> str:
    threshold = _threshold_text(_threshold(veto))
    tested = _tested_text(veto) + (_("; {threshold}", threshold=threshold) if threshold else "")
    return _("when {tested} → {effect}", tested=tested, effect=_effect_text(_effect(veto)))


_TEST_DEFAULTS: dict[str, Any] = {"tolerance": 1e-6}


def _test_text(test: Mapping[str, Any]) -> str:
    if "records_file" in test:
        source = _("records from {file}", file=test["records_file"])
    else:
        source = _("{n} record(s)", n=len(list_of(test.get("records"))))
    expect = ", ".join(str(k) for k in dict_of(test.get("expect"))) or _("nothing")
    if test.get("subject") is not None:
        return _("subject {subject}, {records}; expects {expect}", subject=test["subject"], records=source,
                 expect=expect)
    return _("{records}; expects {expect}", records=source, expect=expect)


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
    for i, item in enumerate(list_of(items)):
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
        for j, ind in enumerate(list_of(dim.get("indicators"))):
            if isinstance(ind, dict):
                iid = str(ind.get("id", f"#{j + 1}"))
                if iid not in inds:
                    inds[iid] = (did, ind, f"{ptr}/indicators/{j}")
    return dims, inds


def _weight(item: Mapping[str, Any]) -> float:
    w = number_or_none(item.get("weight"))
    return w if w is not None and w > 0 and math.isfinite(w) else 0.0


def _share(data: Mapping[str, Any], did: str) -> float | None:
    """A dimension's share of the total in percent."""
    dims = [d for d in list_of(data.get("dimensions")) if isinstance(d, dict)]
    total = sum(_weight(d) for d in dims)
    for d in dims:
        if str(d.get("id")) == did and total > 0:
            return _weight(d) / total * 100
    return None


def _indicator_share(data: Mapping[str, Any], iid: str) -> float | None:
    """An indicator's share of its dimension in percent."""
    for d in list_of(data.get("dimensions")):
        inds = [i for i in list_of(dict_of(d).get("indicators")) if isinstance(i, dict)]
        total = sum(_weight(i) for i in inds)
        for i in inds:
            if str(i.get("id")) == iid and total > 0:
                return _weight(i) / total * 100
    return None


def _effective_weights(data: Mapping[str, Any]) -> dict[str, float]:
    """Indicator id -> effective weight in percent of the total, assuming every indicator applies."""
    dims = [d for d in list_of(data.get("dimensions")) if isinstance(d, dict)]
    dim_total = sum(_weight(d) for d in dims)
    out: dict[str, float] = {}
    for d in dims:
        inds = [i for i in list_of(d.get("indicators")) if isinstance(i, dict)]
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


def _share_note(dimension: str | None, before: float | None, after: float | None) -> str:
    """The share of a weight in its dimension (or, for a dimension's weight, None: in the total) before and after."""
    if before is not None and after is not None and math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9):
        if dimension is None:
            return _("share of the total unchanged at {share} (proportional rescale)", share=percent(after))
        return _("share of dimension {dimension} unchanged at {share} (proportional rescale)", dimension=dimension,
                 share=percent(after))
    if dimension is None:
        return _("share of the total {old} → {new}", old=percent(before), new=percent(after))
    return _("share of dimension {dimension} {old} → {new}", dimension=dimension, old=percent(before),
             new=percent(after))

