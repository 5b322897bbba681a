"""A version's changelog read against the diff from the version it supersedes.

The format's ``changelog`` is per version: it lists what changed *from the
superseded version* (the JSON Schema says so). So the lines of the old version are
not "removed" when a new version is written; they stay true in the old file. What an
auditor and a committee need instead is the other direction: every rule change
between ``supersedes`` and the new version should be named by a line of the new
changelog, and a placeholder line written by ``qualiscore revise`` must not survive
into an approved version.

A changelog line *names* a change when it contains one of the change's terms: the id
or name of the indicator, dimension, veto or grade changed; the name of the constant,
field or derived value changed, or the id or name of an indicator or veto that uses
it (``首次响应及时率`` names a change of ``response_target_s``, which that indicator
uses through ``responded_in_time``); for the subject, rounding, calendar and time
zone, a word for them in English or Chinese. Ids match as whole words, ignoring
case (``fcr`` in ``首次解决率（fcr）``, not in ``fcrx``); other terms as text.

Descriptions, labels and tests are not rules, and an effective weight follows from
the weights, so none of them needs a line. Only a version that supersedes the old
side is checked: the changelog of 2026Q3 says nothing about 2026Q1 → 2026Q3.

:func:`review_changelog` is what ``qualiscore diff`` shows; :func:`changelog_findings`
gives the same as validation findings for the versions of a directory.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._plain import dict_of, list_of
from ..errors import Location, SchemeLoadError
from ..i18n import N_, _
from ..loader import Document, load_path
from ..validation import Finding
from .changes import Change, diff_documents
from .values import show

PLACEHOLDER_PREFIX = "TODO"
"""A changelog line starting with this word is a placeholder still to be written."""

# Changes that need no changelog line: not rules, or a consequence of another change.
_NOT_RULES = frozenset({"metadata", "tests", "text"})
_CONSEQUENCES = frozenset({"effective-weight-changed"})

# Words that name the parts of a scheme that have no id of their own.
_SETTING_TERMS: dict[str, tuple[str, ...]] = {
    "subject": ("subject", "group_by", "period", "breakdowns", "评价对象", "分组", "周期", "细分"),
    "rounding": ("rounding", "decimals", "小数", "舍入", "取整"),
    "calendar": ("calendar", "holiday", "holidays", "workday", "workdays", "weekend", "日历", "节假日", "假日",
                 "调休", "工作日", "周末"),
    "timezone": ("timezone", "时区"),
    "records.id": ("records.id", "编号"),
}

# How a changed rule is named: "indicator fcr (首次解决率)", "the calendar".
_KIND_WORDS: dict[str, str] = {
    "indicator": N_("indicator {id}"),
    "dimension": N_("dimension {id}"),
    "veto": N_("veto {id}"),
    "grade": N_("grade {id}"),
    "constant": N_("constant {id}"),
    "derived": N_("derived {id}"),
    "field": N_("field {id}"),
}
_SETTING_WORDS: dict[str, str] = {
    "subject": N_("the subject"),
    "rounding": N_("the rounding"),
    "calendar": N_("the calendar"),
    "timezone": N_("the timezone"),
    "records.id": N_("the record id (records.id)"),
}

_WORD = re.compile(r"[A-Za-z0-9_.]+")


def is_placeholder(line: Any) -> bool:
    """Whether a changelog line is a placeholder (``TODO …``) rather than a change."""
    return isinstance(line, str) and line.strip().upper().startswith(PLACEHOLDER_PREFIX)


def names_change(line: str, term: str) -> bool:
    """Whether ``line`` contains ``term``: an id as a whole word ignoring case, other text as it is."""
    text, word = line.casefold(), term.casefold()
    if _WORD.fullmatch(term):
        return re.search(rf"(?<![a-z0-9_]){re.escape(word)}(?![a-z0-9_])", text) is not None
    return word in text


@dataclass(frozen=True, slots=True)
class Unmentioned:
    """A rule that changed while no line of the new changelog names it."""

    what: str  # "indicator fcr (首次解决率)"
    terms: tuple[str, ...]  # any of these in a line would name it
    changes: tuple[Change, ...]

    @property
    def line(self) -> int | None:
        """The line of the first change in the new file (None when the rule is gone from it)."""
        return next((c.new_line for c in self.changes if c.new_line is not None), None)

    def named_by(self, most: int = 4) -> str:
        """The first few terms as ``a, b or c``: what a changelog line could name."""
        shown = list(self.terms[:most])
        return shown[0] if len(shown) == 1 else _("{terms} or {last}", terms=", ".join(shown[:-1]), last=shown[-1])

    def summary(self) -> str:
        """The changes as ``path: old → new``, joined."""
        return _("; ").join(_change_text(c) for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "terms": list(self.terms), "line": self.line,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class ChangelogReview:
    """The new version's changelog: its lines, its placeholders and the rule changes it does not name."""

    version: str
    supersedes: str | None
    lines: tuple[str, ...]
    line_numbers: tuple[int | None, ...]
    placeholders: tuple[int, ...]  # indexes into ``lines``
    checked: bool  # whether the diff is the one the changelog describes
    reason: str | None  # why it was not checked
    rules_changed: int  # changes that need a changelog line
    unmentioned: tuple[Unmentioned, ...]

    @property
    def clean(self) -> bool:
        return not self.placeholders and not self.unmentioned

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "supersedes": self.supersedes,
            "lines": [{"text": t, "line": n, "placeholder": i in self.placeholders}
                      for i, (t, n) in enumerate(zip(self.lines, self.line_numbers))],
            "checked": self.checked,
            "not_checked_because": self.reason,
            "rules_changed": self.rules_changed,
            "unmentioned": [u.as_dict() for u in self.unmentioned],
        }


def review_changelog(old: Document, new: Document, changes: Sequence[Change]) -> ChangelogReview | None:
    """The new side's changelog against ``changes``; None when both sides are the same version.

    Two files of one version (say the committed and the edited 2026Q3) share one
    changelog, so the differ compares its lines like any other metadata instead.
    """
    o, n = dict_of(old.data), dict_of(new.data)
    version = _text(n.get("version"))
    if version is None or version == _text(o.get("version")):
        return None
    lines = [str(x) for x in list_of(n.get("changelog"))]
    numbers = tuple(_line(new, f"/changelog/{i}") for i in range(len(lines)))
    placeholders = tuple(i for i, line in enumerate(lines) if is_placeholder(line))
    supersedes = _text(n.get("supersedes"))
    old_version = _text(o.get("version"))
    if supersedes is None:
        reason = _("{version} names no version it supersedes", version=version)
    elif supersedes != old_version:
        reason = _("{version} lists its changes from {supersedes}, not from {old}", version=version,
                   supersedes=supersedes, old=old_version)
    else:
        reason = None
    rules = [c for c in changes if _needs_line(c)]
    unmentioned = () if reason else tuple(_unmentioned(old, new, rules, lines))
    return ChangelogReview(version, supersedes, tuple(lines), numbers, placeholders, reason is None, reason,
                           len(rules), unmentioned)


def changelog_findings(docs: Iterable[Document]) -> list[Finding]:
    """Warnings for the changelogs of scheme versions, as validation reports them.

    For each document: a placeholder line (``changelog-placeholder``); and, when the
    version it ``supersedes`` is among ``docs`` or is a file next to it, every rule
    change that no changelog line names (``changelog-unmentioned``).
    """
    docs = list(docs)
    found: list[Finding] = []
    for doc in docs:
        data = dict_of(doc.data)
        supersedes = _text(data.get("supersedes"))
        for i, line in enumerate(list_of(data.get("changelog"))):
            if is_placeholder(line):
                found.append(Finding(
                    "warning", "changelog-placeholder",
                    _("this changelog line is still a placeholder for the changes from {version}", version=supersedes)
                    if supersedes else _("this changelog line is still a placeholder"),
                    doc.locate(f"/changelog/{i}"),
                    _("replace it with one line per change, naming what changed (e.g. the indicator id)")))
        old = _superseded(doc, supersedes, docs) if supersedes else None
        if old is None:
            continue
        review = review_changelog(old, doc, diff_documents(old, doc))
        for item in review.unmentioned if review else ():
            where = Location(file=doc.path, line=item.line) if item.line else doc.locate("/changelog")
            found.append(Finding(
                "warning", "changelog-unmentioned",
                _("{what} changed from {version} but no changelog line names it: {changes}", what=item.what,
                  version=supersedes, changes=item.summary()),
                where, _("add a changelog line that names {terms}", terms=item.named_by())))
    return found


# --------------------------------------------------------------------------- which rule, which words


def _unmentioned(old: Document, new: Document, changes: Sequence[Change], lines: Sequence[str]) -> Iterator[
        Unmentioned]:
    index = _Index(dict_of(old.data), dict_of(new.data))
    grouped: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        thing = _thing(c)
        if thing is not None:
            grouped.setdefault(thing, []).append(c)
    for thing, items in grouped.items():
        terms = index.terms(thing)
        if not any(names_change(line, term) for line in lines for term in terms):
            yield Unmentioned(index.describe(thing), terms, tuple(items))


def _needs_line(c: Change) -> bool:
    return c.category not in _NOT_RULES and c.kind not in _CONSEQUENCES and _thing(c) is not None


def _thing(c: Change) -> tuple[str, str] | None:
    """What a change is a change of: ``(kind, id)``, e.g. ``("indicator", "fcr")``."""
    parts = c.path.split(".")
    head = parts[0]
    if head == "dimensions" and len(parts) > 1:
        if len(parts) > 3 and parts[2] == "indicators":
            return "indicator", parts[3]
        return "dimension", parts[1]
    if head == "grades":
        name = c.path[len("grades."):]
        return "grade", name.removesuffix(".min") if c.kind == "grade-min-changed" else name
    if head == "vetoes" and len(parts) > 1:
        return "veto", parts[1]
    if head == "constants" and len(parts) > 1:
        return "constant", parts[1]
    if head == "derive" and len(parts) > 1:
        return "derived", parts[1]
    if head == "records" and len(parts) > 2 and parts[1] == "fields":
        return "field", parts[2]
    if c.path == "records.timezone":
        return "setting", "timezone"
    if c.path == "records.id":
        return "setting", "records.id"
    if head in ("subject", "rounding", "calendar"):
        return "setting", head
    return None


class _Index:
    """Ids, names and uses of both sides, to find the words that name a changed rule."""

    def __init__(self, *sides: Mapping[str, Any]) -> None:
        self.names: dict[tuple[str, str], list[str]] = {}
        self.users: dict[str, list[tuple[str, str]]] = {}  # symbol -> things that use it
        self.subject_fields: list[str] = []
        self.id_fields: list[str] = []
        for data in sides:
            self._read(data)

    def _read(self, data: Mapping[str, Any]) -> None:
        for dim in map(dict_of, list_of(data.get("dimensions"))):
            self._name(("dimension", str(dim.get("id"))), dim.get("name"))
            for ind in map(dict_of, list_of(dim.get("indicators"))):
                thing = ("indicator", str(ind.get("id")))
                self._name(thing, ind.get("name"))
                self._uses(thing, ind.get("measure"))
        for veto in map(dict_of, list_of(data.get("vetoes"))):
            thing = ("veto", str(veto.get("id")))
            self._name(thing, veto.get("name"))
            self._uses(thing, veto.get("when"))
        for name, expr in dict_of(data.get("derive")).items():
            self._uses(("derived", str(name)), expr)
        subject = dict_of(data.get("subject"))
        period = dict_of(subject.get("period")).get("field")
        for name in [*list_of(subject.get("group_by")), period]:
            if isinstance(name, str) and name not in self.subject_fields:
                self.subject_fields.append(name)
        rid = dict_of(data.get("records")).get("id")
        if isinstance(rid, str) and rid not in self.id_fields:
            self.id_fields.append(rid)

    def _name(self, thing: tuple[str, str], name: Any) -> None:
        names = self.names.setdefault(thing, [])
        if isinstance(name, str) and name.strip() and name not in names:
            names.append(name)

    def _uses(self, thing: tuple[str, str], spec: Any) -> None:
        for symbol in _symbols(spec):
            users = self.users.setdefault(symbol, [])
            if thing not in users:
                users.append(thing)

    def terms(self, thing: tuple[str, str]) -> tuple[str, ...]:
        kind, ident = thing
        if kind == "setting":
            extra = self.subject_fields if ident == "subject" else self.id_fields if ident == "records.id" else []
            return tuple(dict.fromkeys([*_SETTING_TERMS[ident], *extra]))
        terms = [ident, *self.names.get(thing, [])]
        if kind in ("constant", "field", "derived"):
            seen: set[str] = set()
            todo = [ident]
            while todo:  # through derived values to the indicators and vetoes that use them
                symbol = todo.pop(0)
                for user in self.users.get(symbol, []):
                    if user[1] in seen:
                        continue
                    seen.add(user[1])
                    terms += [user[1], *self.names.get(user, [])]
                    if user[0] == "derived":
                        todo.append(user[1])
        return tuple({term.casefold(): term for term in reversed(terms)}[key]
                     for key in dict.fromkeys(term.casefold() for term in terms))

    def describe(self, thing: tuple[str, str]) -> str:
        kind, ident = thing
        if kind == "setting":
            return _(_SETTING_WORDS[ident])
        names = self.names.get(thing, [])
        what = _(_KIND_WORDS[kind], id=ident)
        return _("{what} ({names})", what=what, names=" / ".join(names)) if names else what


def _symbols(spec: Any) -> list[str]:
    """The names an expression, or a measure or veto condition of expressions, uses."""
    if isinstance(spec, dict):
        return [s for key, value in spec.items() if key != "p" for s in _symbols(value)]
    if not isinstance(spec, str):
        return []
    try:
        tree = ast.parse(spec.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return list(dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name)))


# --------------------------------------------------------------------------- helpers


def _superseded(doc: Document, version: str, docs: Sequence[Document]) -> Document | None:
    """The version ``doc`` supersedes: among ``docs`` in its directory, else the file next to it."""
    folder = Path(doc.path).parent
    scheme = dict_of(doc.data).get("scheme")
    for other in docs:
        data = dict_of(other.data)
        if Path(other.path).parent == folder and data.get("scheme") == scheme and _text(data.get("version")) == version:
            return other
    for suffix in (".yaml", ".yml"):
        path = folder / f"{version}{suffix}"
        if path.is_file() and path != Path(doc.path):
            try:
                other = load_path(path)
            except SchemeLoadError:
                return None
            data = dict_of(other.data)
            return other if data.get("scheme") == scheme and _text(data.get("version")) == version else None
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _line(doc: Document, pointer: str) -> int | None:
    position = doc.values.get(pointer)
    return position[0] if position else None


def _change_text(c: Change) -> str:
    if c.old is not None and c.new is not None:
        return f"{c.path} {show(c.old)} → {show(c.new)}"
    return _("{path} removed", path=c.path) if c.new is None else _("{path} added", path=c.path)
