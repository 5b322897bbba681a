"""The next version of a scheme, written from the current one (``qualiscore revise``).

A quality committee revises its scheme every quarter. Copying the file by hand means
remembering a dozen edits besides the rule changes: the version and title, the
effective dates, ``supersedes``, a fresh changelog, the approval that does not exist
yet, and tests whose records must move into the new period. :func:`revise` does
those edits and nothing else, so the committee starts from a draft that validates
and passes its tests, and only has to change rules and write the changelog.

What the draft contains:

* ``version`` and the title (when it names the old version: ``2026Q2``, ``2026 Q2``,
  ``2026年第二季度``…) and the header comments name the new version; ``supersedes``
  names the old one.
* ``effective_from`` is the day after the old ``effective_to``; ``effective_to``
  keeps the old period's length: the same number of whole calendar months when the
  old period was whole months (a quarter gives the next quarter), else the same
  number of days.
* ``changelog`` holds one placeholder line (``TODO …``): a changelog lists the
  changes *of this version*, so the old lines stay in the old file. Validation warns
  while the placeholder is there (``changelog-placeholder``).
* ``approved_by`` and ``approved_on`` become comments, to fill in on approval.
* Test dates move into the new period: by whole calendar months when both periods
  start on the first of a month, so each record stays in the matching month and
  subjects such as ``A001/2026-04`` become ``A001/2026-07``; by whole weeks (a Monday
  stays a Monday) when the scheme counts working days or has weekly periods. A test's
  ``records_file`` is copied with its dates moved next to the new version, and the
  test points at the copy.

The file is edited as text at the positions the YAML parser gives for each value, so
comments, order, quoting and layout survive. The result is checked twice before
anything is written: loading it must give exactly the intended document, and it must
validate among the other versions of its directory.
"""

from __future__ import annotations

import calendar
import copy
import csv
import datetime as dt
import io
import json
import posixpath
import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._plain import dict_of, list_of
from .diff.changelog import PLACEHOLDER_PREFIX, changelog_findings
from .engine.subjects import period_bounds
from .errors import Location, QualiscoreError, SchemeLoadError, SchemeValidationError, UsageError
from .i18n import _, ngettext
from .loader import Document, load_path, load_text
from .validation import Finding, iter_findings, iter_version_findings, scheme_files

__all__ = ["FixtureCopy", "Revision", "Shift", "revise", "scalar_text", "write_revision"]

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # the schema's pattern for `version`
_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_CHINESE_DIGITS = "一二三四"
_ISO_DATE = re.compile(r"(\d{4})([-/])(\d{2})\2(\d{2})")
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")
_METADATA = ("format", "scheme", "version", "title", "description", "effective_from", "effective_to",
             "supersedes", "approved_by", "approved_on", "changelog")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Shift:
    """How far test dates move: whole calendar months, or days (a multiple of 7 keeps weekdays)."""

    months: int = 0
    days: int = 0

    def apply(self, day: dt.date) -> dt.date:
        if not self.months:
            return day + dt.timedelta(days=self.days)
        month0 = day.year * 12 + day.month - 1 + self.months
        year, month = divmod(month0, 12)
        return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))

    def describe(self) -> str:
        if self.months:
            return ngettext("{n} month", "{n} months", self.months)
        if self.days % 7 == 0 and self.days:
            return ngettext("{n} day ({weeks} weeks)", "{n} days ({weeks} weeks)", self.days, weeks=self.days // 7)
        return ngettext("{n} day", "{n} days", self.days)


@dataclass(frozen=True, slots=True)
class FixtureCopy:
    """A test's records file, copied next to the new version with its dates moved."""

    source: Path
    path: Path
    data: bytes = field(repr=False)
    moved: int  # date values moved
    kept: int  # date values that could not be read, left as they were


@dataclass(frozen=True, slots=True)
class Revision:
    """The next version of a scheme, ready to write: its text, its fixture copies and what was done."""

    source: Path
    path: Path
    text: str = field(repr=False)
    scheme: str
    old_version: str
    version: str
    effective_from: dt.date
    effective_to: dt.date
    shift: Shift
    weekday_aligned: bool
    tests: int
    dates_moved: int  # date values moved in inline test records
    dates_kept: int  # inline date values that could not be read, left as they were
    fixtures: tuple[FixtureCopy, ...]
    fixtures_kept: tuple[str, ...]  # records files left as they were (not CSV or JSON Lines)
    findings: tuple[Finding, ...]  # the warnings the new version validates with
    sources: tuple[str, ...] = ()  # the record sources' names, in a scheme with several

    @property
    def targets(self) -> tuple[Path, ...]:
        """Every file :func:`write_revision` writes."""
        return (self.path, *(f.path for f in self.fixtures))


def placeholder_line(old_version: str) -> str:
    """The changelog line a new version starts with, for the committee to replace."""
    return f"{PLACEHOLDER_PREFIX}: " + _("list every change from {version}, one line per change", version=old_version)


# --------------------------------------------------------------------------- the revision


def revise(source: str | Path, version: str, *, start: dt.date | None = None, end: dt.date | None = None,
           output: str | Path | None = None) -> Revision:
    """The next version of the scheme in ``source``, named ``version``; nothing is written.

    ``start``/``end`` override the computed ``effective_from``/``effective_to``;
    ``output`` is the new file (default: ``<version>.yaml`` next to ``source``).
    Raises :class:`UsageError` for a bad version, dates or source period and
    :class:`SchemeValidationError` when ``source`` has errors.
    """
    source = Path(source)
    _check_version(version)
    doc = load_path(source)
    findings = list(iter_findings(doc))
    if any(f.severity == "error" for f in findings):
        raise SchemeValidationError(findings, str(source))
    data = dict_of(doc.data)
    old_version = str(data["version"])
    if version == old_version:
        raise UsageError(_("VERSION {version} is the version of {source} itself", version=version, source=source),
                         location=doc.locate("/version"), hint=_("name the next version, e.g. 2026Q3 after 2026Q2"))
    old_from = dt.date.fromisoformat(data["effective_from"])
    if data.get("effective_to") is None:
        raise UsageError(_("{version} has no effective_to: it is in force with no end, so a next version would "
                           "overlap it", version=old_version), location=doc.locate("/effective_from"),
                         hint=_("an approved version is not edited: give {version} an end date only if the "
                                "committee agrees, then revise it", version=old_version))
    old_to = dt.date.fromisoformat(data["effective_to"])
    new_from = start or old_to + dt.timedelta(days=1)
    new_to = end or _same_length(old_from, old_to, new_from)
    if new_to < new_from:
        raise UsageError(_("--to {end} is before the new version starts ({start})", end=new_to, start=new_from),
                         hint=_("give an end date on or after effective_from"))
    weekly = _counts_weekdays(data)
    shift = _shift(old_from, new_from, weekly)
    path = Path(output) if output is not None else source.with_name(f"{version}{source.suffix or '.yaml'}")
    if path.resolve() == source.resolve():
        raise UsageError(_("-o {path} is the old version itself, which is never edited", path=path),
                         location=Location(file=str(source)),
                         hint=_("write the new version to its own file, e.g. VERSION.yaml next to it"))
    editor = _Editor(doc, source, path, old_version, version, shift)
    editor.metadata(new_from, new_to)
    editor.tests()
    text = editor.result()
    new_doc = _reload(text, path, editor.expected)
    problems = _validate(new_doc, path, doc)
    errors = [f for f in problems if f.severity == "error"]
    if errors:
        raise UsageError(_("{path} would not validate, so nothing was written: {errors}", path=path,
                           errors=_("; ").join(f.message for f in errors)),
                         location=Location(file=str(path)),
                         hint=_("; ").join(filter(None, [errors[0].hint,
                                                          _("or choose other dates with --from and --to")])))
    return Revision(source, path, text, str(data["scheme"]), old_version, version, new_from, new_to, shift, weekly,
                    editor.test_count, editor.moved, editor.kept, tuple(editor.fixtures.values()),
                    tuple(editor.fixtures_kept), tuple(problems), tuple(map(str, dict_of(data.get("sources")))))


def write_revision(revision: Revision, *, force: bool = False) -> None:
    """Write the new version and its fixture copies; an existing file is replaced only with ``force``."""
    if not force:
        existing = [str(p) for p in revision.targets if p.exists()]
        if existing:
            raise UsageError(ngettext("{files} already exists; nothing was written",
                                      "{files} already exist; nothing was written", len(existing),
                                      files=", ".join(existing)),
                             hint=_("use --force to replace, or -o to write the new version elsewhere"))
    for fixture in revision.fixtures:
        fixture.path.parent.mkdir(parents=True, exist_ok=True)
        fixture.path.write_bytes(fixture.data)
    revision.path.parent.mkdir(parents=True, exist_ok=True)
    revision.path.write_bytes(revision.text.encode("utf-8"))


def _check_version(version: str) -> None:
    if not _VERSION.fullmatch(version) or len(version) > 64:
        raise UsageError(_("VERSION {version!r} is not a version name: letters, digits, '.', '_' and '-', starting "
                           "with a letter or digit, at most 64 characters", version=version), hint=_("e.g. 2026Q3"))


def _same_length(old_from: dt.date, old_to: dt.date, new_from: dt.date) -> dt.date:
    """The end of a period as long as the old one: whole calendar months when it was whole months, else days."""
    whole_months = old_from.day == 1 and old_to == _month_end(old_to) and new_from.day == 1
    if whole_months:
        months = (old_to.year - old_from.year) * 12 + old_to.month - old_from.month + 1
        return _month_end(Shift(months=months - 1).apply(new_from))
    return new_from + (old_to - old_from)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _counts_weekdays(data: Mapping[str, Any]) -> bool:
    """Whether a test's meaning depends on weekdays: working days counted, or weekly periods."""
    if dict_of(dict_of(data.get("subject")).get("period")).get("every") == "week":
        return True
    return any("business_days_between" in text for key in ("derive", "dimensions", "vetoes")
               for text in _strings(data.get(key)))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _shift(old_from: dt.date, new_from: dt.date, weekly: bool) -> Shift:
    if not weekly and old_from.day == 1 and new_from.day == 1:
        return Shift(months=(new_from.year - old_from.year) * 12 + new_from.month - old_from.month)
    days = (new_from - old_from).days
    return Shift(days=7 * round(days / 7) if weekly else days)


def _reload(text: str, path: Path, expected: Any) -> Document:
    """The new text as a document, which must be exactly the document intended."""
    try:
        doc = load_text(text, str(path))
    except SchemeLoadError as exc:
        raise _internal(path, exc.message) from None
    if doc.data != expected:
        raise _internal(path, _("the edited text does not read back as the intended document"))
    return doc


def _internal(path: Path, why: str) -> QualiscoreError:
    return QualiscoreError(_("could not write {path} by editing the old version in place: {why}", path=path, why=why),
                           location=Location(file=str(path)), code="revise-failed",
                           hint=_("nothing was written; copy the file by hand, and please report this with the file"))


def _validate(doc: Document, path: Path, source: Document) -> list[Finding]:
    """Findings of the new version, with the other versions of its directory and the one it supersedes."""
    others: list[Document] = [source]
    folder = path.parent
    if folder.is_dir():
        for file in scheme_files(folder):
            if file.parent != folder or file.resolve() in (path.resolve(), Path(source.path).resolve()):
                continue
            try:
                other = load_path(file)
            except SchemeLoadError:
                continue
            if dict_of(other.data).get("scheme") == dict_of(doc.data).get("scheme"):
                others.append(other)
    findings = list(iter_findings(doc))
    before = {(f.code, f.location, f.message) for f in iter_version_findings(others)}
    findings += [f for f in iter_version_findings([*others, doc]) if (f.code, f.location, f.message) not in before]
    findings += [f for f in changelog_findings([*others, doc]) if f.location.file == doc.path]
    return findings


# --------------------------------------------------------------------------- editing the text


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    text: str


class _Editor:
    """Edits of the old version's text, each at a position the YAML parser gives, and the document they make."""

    def __init__(self, doc: Document, source: Path, path: Path, old_version: str, version: str,
                 shift: Shift) -> None:
        self.doc, self.source, self.path = doc, source, path
        self.text = doc.text
        self.nl = "\r\n" if "\r\n" in self.text else "\n"
        self.old_version, self.version, self.shift = old_version, version, shift
        self.data = dict_of(doc.data)
        self.expected: dict[str, Any] = copy.deepcopy(self.data)
        self.edits: list[_Edit] = []
        root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        if not isinstance(root, yaml.MappingNode) or root.flow_style:
            raise UsageError(_("{source} is written as one {{…}} mapping; revise edits schemes written as "
                               "`key: value` lines", source=source), location=Location(file=str(source), line=1),
                             hint=_("write the top level as one `key: value` line per key"))
        self.top = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
        superseded = self.data.get("supersedes")
        self.renames = _renames(old_version, version, None if superseded is None else str(superseded))
        # Each contract's time zone and date fields (by column), to move a test's dates: the one of
        # `records:` under "", each of `sources:` under its name.
        contracts = ({"": self.data.get("records")} if "sources" not in self.data
                     else dict(dict_of(self.data.get("sources"))))
        self.contracts = {str(name): (_zone(dict_of(rec).get("timezone")), _date_fields(dict_of(rec)))
                          for name, rec in contracts.items()}
        self.zone, self.dates = next(iter(self.contracts.values()), (_zone(None), {}))
        subject = dict_of(self.data.get("subject"))
        every = dict_of(subject.get("period")).get("every")
        self.every = every if list_of(subject.get("group_by")) and isinstance(every, str) else None
        self.test_count = self.moved = self.kept = 0
        self.fixtures: dict[Path, FixtureCopy] = {}
        self.fixtures_kept: list[str] = []

    # -- metadata

    def metadata(self, new_from: dt.date, new_to: dt.date) -> None:
        self.scalar("version", self.version)
        title = self.data.get("title")
        if isinstance(title, str) and _rename(title, self.renames) != title:
            self.scalar("title", _rename(title, self.renames))
        self.scalar("effective_from", new_from.isoformat())
        self.scalar("effective_to", new_to.isoformat())
        anchor = self.line_after(self.top["effective_to"][1])
        inserted: list[str] = []
        if "supersedes" in self.top:
            self.scalar("supersedes", self.old_version)
        else:
            inserted.append(f"supersedes: {scalar_text(self.old_version, None)}")
            self.expected["supersedes"] = self.old_version
        approval = self.approval_comment()
        present = [key for key in ("approved_by", "approved_on") if key in self.top]
        for i, key in enumerate(present):
            k, v = self.top[key]
            self.edits.append(_Edit(self.line_start(k.start_mark.index), self.line_after(v),
                                    "" if i else self.lines(approval)))
            del self.expected[key]
        if not present:
            inserted += approval
        placeholder = placeholder_line(self.old_version)
        self.expected["changelog"] = [placeholder]
        if "changelog" in self.top:
            node = self.top["changelog"][1]
            if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
                end = self.end(node.value[-1])
                self.edits.append(_Edit(node.start_mark.index, end, f"- {scalar_text(placeholder, None)}"))
            else:
                self.edits.append(_Edit(node.start_mark.index, self.end(node), f"[{scalar_text(placeholder, None)}]"))
        else:
            inserted += ["changelog:", f"  - {scalar_text(placeholder, None)}"]
        if inserted:
            self.edits.append(_Edit(anchor, anchor, self.lines(inserted)))
        self.comments(max(self.end(v) for key, (_k, v) in self.top.items() if key in _METADATA))

    def approval_comment(self) -> list[str]:
        who = self.data.get("approved_by")
        return ["# " + _("Not approved yet. When the committee approves this version, fill in and uncomment:"),
                f"# approved_by: {who if isinstance(who, str) and who.strip() else '…'}",
                "# approved_on: YYYY-MM-DD"]

    def comments(self, end: int) -> None:
        """Version names in the comment lines of the header and the metadata, moved on by one version.

        A line that already names the new version is left alone: it spoke of the old
        version and the next one (``diff 2026Q1.yaml 2026Q2.yaml`` in 2026Q1), which
        is still true in the new file.
        """
        position = 0
        for line in self.text[:end].splitlines(keepends=True):
            start, position = position, position + len(line)
            body = line.rstrip("\r\n")
            if _names(body, self.version):
                continue
            if body.lstrip().startswith("#") and not any(e.start <= start < e.end for e in self.edits):
                renamed = _rename(body, self.renames)
                if renamed != body:
                    self.edits.append(_Edit(start, start + len(body), renamed))

    # -- tests

    def tests(self) -> None:
        if "tests" not in self.top:
            return
        node = self.top["tests"][1]
        tests = list_of(self.expected.get("tests"))
        if not isinstance(node, yaml.SequenceNode):
            return
        for index, (item, test) in enumerate(zip(node.value, tests)):
            if not isinstance(item, yaml.MappingNode) or not isinstance(test, dict):
                continue
            self.test_count += 1
            entries = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            files = entries.get("records_file")
            if isinstance(files, yaml.MappingNode):  # one file per source
                named = {k.value: v for k, v in files.value if isinstance(k, yaml.ScalarNode)}
                if not all(self.fixture(v, test, index, name) for name, v in named.items()):
                    continue
            elif files is not None and not self.fixture(files, test, index):
                continue  # records not moved: the test keeps its subject too
            if self.every and isinstance(test.get("subject"), str) and isinstance(entries.get("subject"),
                                                                                   yaml.ScalarNode):
                moved = self.subject(test["subject"])
                if moved != test["subject"]:
                    self.replace(entries["subject"], moved)
                    test["subject"] = moved
            records = entries.get("records")
            if isinstance(records, yaml.SequenceNode):
                self.records(records, list_of(test.get("records")), "")
            elif isinstance(records, yaml.MappingNode):  # records by source
                by_source = dict_of(test.get("records"))
                for k, v in records.value:
                    if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.SequenceNode):
                        self.records(v, list_of(by_source.get(k.value)), k.value)

    def records(self, node: yaml.SequenceNode, records: list[Any], source: str) -> None:
        for rnode, record in zip(node.value, records):
            if isinstance(rnode, yaml.MappingNode) and isinstance(record, dict):
                self.record(rnode, record, source)

    def record(self, node: yaml.MappingNode, record: dict[str, Any], source: str) -> None:
        zone, dates = self.contracts.get(source, (self.zone, {}))
        for k, v in node.value:
            spec = dates.get(k.value) if isinstance(k, yaml.ScalarNode) else None
            value = record.get(k.value) if spec is not None else None
            if spec is None or not isinstance(value, str) or not isinstance(v, yaml.ScalarNode):
                continue
            moved = _move_date(value, spec, zone, self.shift)
            if moved is None:
                self.kept += 1
            elif moved != value:
                self.replace(v, moved)
                record[k.value] = moved
                self.moved += 1

    def subject(self, subject: str) -> str:
        key, sep, label = subject.rpartition("/")
        assert self.every is not None
        first = _label_start(label, self.every) if sep else None
        if first is None:
            return subject
        return f"{key}/{period_bounds(self.shift.apply(first), self.every)[0]}"

    def fixture(self, node: yaml.Node, test: dict[str, Any], index: int, source: str = "") -> bool:
        """Copy a test's records file (of ``source``, in a scheme with several) with its dates moved and point the
        test at it; False when left as is."""
        files = test.get("records_file")
        name = dict_of(files).get(source) if source else files
        if not isinstance(name, str) or not isinstance(node, yaml.ScalarNode):
            return False
        zone, dates = self.contracts.get(source, (self.zone, self.dates))
        kind = _table_kind(name)
        if kind is None:
            self.fixtures_kept.append(name)
            return False
        original = self.source.parent / name
        try:
            raw = original.read_bytes()
        except OSError as exc:
            raise UsageError(_("cannot read the records file of test {name!r}: {reason}", name=test.get("name"),
                               reason=exc.strerror or exc),
                             location=self.doc.locate(f"/tests/{index}/records_file"),
                             hint=_("fix records_file in the old version, or give the file")) from None
        new_name = posixpath.join(posixpath.dirname(name), _fixture_name(posixpath.basename(name), self.old_version,
                                                                         self.version, self.shift))
        target = self.path.parent / new_name
        if target not in self.fixtures:
            data, moved, kept = _move_table(raw, kind, dates, zone, self.shift)
            self.fixtures[target] = FixtureCopy(original, target, data, moved, kept)
        self.replace(node, new_name)
        if source:
            test["records_file"] = {**dict_of(files), source: new_name}
        else:
            test["records_file"] = new_name
        return True

    # -- positions

    def scalar(self, key: str, value: str) -> None:
        self.replace(self.top[key][1], value)
        self.expected[key] = value

    def replace(self, node: yaml.Node, value: str) -> None:
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        self.edits.append(_Edit(node.start_mark.index, self.end(node), scalar_text(value, style)))

    def end(self, node: yaml.Node) -> int:
        """Where a node's own text ends: a block collection's end mark lies after the comments that follow
        it, a block scalar's after its last line break."""
        if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
            return self.end(node.value[-1])
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
            return self.end(node.value[-1][1])
        end = int(node.end_mark.index)
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            while end > node.start_mark.index and self.text[end - 1] in "\r\n ":
                end -= 1
        return end

    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def line_after(self, node: yaml.Node) -> int:
        """The start of the line after the one a node ends on."""
        end = self.end(node)
        nxt = self.text.find("\n", end)
        return len(self.text) if nxt < 0 else nxt + 1

    def lines(self, lines: Sequence[str]) -> str:
        return "".join(line + self.nl for line in lines)

    def result(self) -> str:
        text = self.text
        ordered = sorted(self.edits, key=lambda e: (e.start, e.end), reverse=True)
        limit = len(text)
        for edit in ordered:
            if edit.end > limit:
                raise _internal(self.path, _("two edits overlap at character {index}", index=edit.start))
            if edit.start == edit.end and edit.start < len(text) and text[edit.start - 1:edit.start] not in (
                    "\n", ""):
                raise _internal(self.path, _("an insertion falls inside a line"))
            if edit.start == edit.end == len(text) and text and not text.endswith("\n"):
                text += self.nl
            text = text[:edit.start] + edit.text + text[edit.end:]
            limit = edit.start
        return text


def scalar_text(value: str, style: str | None) -> str:
    """``value`` as a YAML scalar in the style it had (plain, quoted), if that style reads back as the same text."""
    if style is None and _plain_ok(value):
        return value
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or any(c in value for c in ",[]{}#\n\r\"'"):
        return False
    try:
        return load_text(f"k: {value}\n").data == {"k": value}
    except SchemeLoadError:
        return False


# --------------------------------------------------------------------------- version names


def _renames(old: str, new: str, superseded: str | None) -> dict[str, str]:
    """Each spelling of a version name → the same spelling of the next one (old → new, superseded → old)."""
    pairs = [(old, new)] + ([(superseded, old)] if superseded and superseded != new else [])
    out: dict[str, str] = {}
    for a, b in pairs:
        out[a] = b
        qa, qb = _QUARTER.fullmatch(a), _QUARTER.fullmatch(b)
        if qa and qb:
            out.update(zip(_quarter_spellings(*qa.groups()), _quarter_spellings(*qb.groups())))
    return out


def _quarter_spellings(year: str, quarter: str) -> list[str]:
    q = int(quarter)
    return [f"{year} Q{q}", f"{year}-Q{q}", f"Q{q} {year}", f"{year}年第{_CHINESE_DIGITS[q - 1]}季度",
            f"{year}年第{q}季度", f"{year}年{_CHINESE_DIGITS[q - 1]}季度"]


def _names(text: str, version: str) -> bool:
    """Whether ``text`` names ``version`` in one of its spellings."""
    return _rename(text, dict.fromkeys(_renames(version, version, None), "")) != text


def _rename(text: str, renames: Mapping[str, str]) -> str:
    """``text`` with every version spelling replaced at once (so 2026Q1 → 2026Q2 → 2026Q3 does not chain)."""
    if not renames:
        return text
    alternatives = "|".join(re.escape(k) for k in sorted(renames, key=len, reverse=True))
    return re.sub(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", lambda m: renames[m.group(0)], text)


# --------------------------------------------------------------------------- dates


def _date_fields(contract: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A contract's date and date-time fields, by the column a record (or a records file) names them by."""
    return {str(dict_of(spec).get("column") or name): dict_of(spec)
            for name, spec in dict_of(contract.get("fields")).items()
            if dict_of(spec).get("type") in ("date", "datetime")}


def _zone(name: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name if isinstance(name, str) else "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _move_date(value: str, spec: Mapping[str, Any], zone: zoneinfo.ZoneInfo, shift: Shift) -> str | None:
    """A date or date-time text moved by ``shift`` in the scheme's time zone, written as it was; None if unreadable.

    The day that moves is the record's local day (a ``…Z`` time late in the evening
    is the next day in Asia/Shanghai), so the record lands in the matching period.
    """
    fmt = spec.get("format")
    if isinstance(fmt, str):
        try:
            written = dt.datetime.strptime(value.strip(), fmt)
        except ValueError:
            return None
        local = written.astimezone(zone).date() if written.tzinfo else written.date()
        return (written + (shift.apply(local) - local)).strftime(fmt)
    match = _ISO_DATE.match(value)
    if match is None:
        return None
    try:
        literal = dt.date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None
    local = literal
    rest = value[match.end():]
    if rest:
        try:
            parsed: dt.datetime | None = dt.datetime.fromisoformat(
                f"{literal.isoformat()}{rest}".replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            local = parsed.astimezone(zone).date()
    day = literal + (shift.apply(local) - local)
    sep = match.group(2)
    return f"{day.year:04d}{sep}{day.month:02d}{sep}{day.day:02d}{rest}"


def _label_start(label: str, every: str) -> dt.date | None:
    """The first day of the period a subject's label names (``2026-04``, ``2026-Q2``, ``2026-W14``…)."""
    try:
        if every == "day":
            return dt.date.fromisoformat(label)
        if every == "week" and (m := re.fullmatch(r"(\d{4})-W(\d{2})", label)):
            return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        if every == "month" and (m := re.fullmatch(r"(\d{4})-(\d{2})", label)):
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        if every == "quarter" and (m := re.fullmatch(r"(\d{4})-Q([1-4])", label)):
            return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
        if every == "year" and re.fullmatch(r"\d{4}", label):
            return dt.date(int(label), 1, 1)
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------- records files


def _table_kind(name: str) -> str | None:
    suffix = posixpath.splitext(name)[1].lower()
    return {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".json": "jsonl"}.get(suffix)


def _fixture_name(name: str, old: str, new: str, shift: Shift) -> str:
    """The copy's file name: the version renamed, else a date in the name moved, else the version in front."""
    if re.search(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", name):
        return _rename(name, {old: new})
    match = _NAME_DATE.search(name)
    if match is not None:
        try:
            day = shift.apply(dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)))
        except ValueError:
            day = None
        if day is not None:
            text = f"{day:%Y-%m-%d}" if match.group(3) else f"{day:%Y-%m}"
            return name[:match.start()] + text + name[match.end():]
    return f"{new}-{name}"


def _decode(raw: bytes) -> tuple[str, str, bool]:
    """Text, its encoding and whether it had a byte order mark (UTF-8, else GB18030, as the readers accept)."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    try:
        return body.decode("utf-8"), "utf-8", bom
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace"), "gb18030", False


def _move_table(raw: bytes, kind: str, dates: Mapping[str, Mapping[str, Any]], zone: zoneinfo.ZoneInfo,
                shift: Shift) -> tuple[bytes, int, int]:
    text, encoding, bom = _decode(raw)
    moved = kept = 0

    def move(value: Any, spec: Mapping[str, Any]) -> Any:
        nonlocal moved, kept
        if not isinstance(value, str) or not value.strip():
            return value
        new = _move_date(value, spec, zone, shift)
        if new is None:
            kept += 1
            return value
        moved += new != value
        return new

    if kind == "jsonl":
        out_lines = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            try:
                obj = json.loads(body) if body.strip() else None
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                obj = {k: move(v, dates[k]) if k in dates else v for k, v in obj.items()}
                body = json.dumps(obj, ensure_ascii=False)
            out_lines.append(body + line[len(line.rstrip("\r\n")):])
        result = "".join(out_lines)
    else:
        delimiter = "\t" if kind == "tsv" else ","
        terminator = "\r\n" if "\r\n" in text else "\n"
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        header = rows[0] if rows else []
        columns = {i: dates[name.strip()] for i, name in enumerate(header) if name.strip() in dates}
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
        for r, row in enumerate(rows):
            writer.writerow([move(cell, columns[i]) if r and i in columns else cell for i, cell in enumerate(row)])
        result = buffer.getvalue()
        if not text.endswith(("\n", "\r")) and result.endswith(terminator):
            result = result[:-len(terminator)]
    data = result.encode(encoding)
    return (b"\xef\xbb\xbf" + data if bom else data), moved, kept
