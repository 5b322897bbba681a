"""The diff as text, Markdown or JSON: three formats of the same Change list and Impact.

Renderers only format: every figure they print was computed by the differ or by
:func:`~qualiscore.diff.impact.impact`. Text output is plain unless the caller passes
a ``style`` function (the command passes ``click.style``; click drops the colours when
the output is not a terminal).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._display import display_width, fmt_number
from .._plain import dict_of
from ..i18n import N_, _
from ..loader import Document
from .changelog import ChangelogReview
from .changes import CATEGORIES, Change
from .impact import NO_GRADE, TOP_MOVES, Impact
from .values import show

Style = Callable[..., str]
"""``style(text, fg=..., bold=..., dim=...)``: the signature of ``click.style``."""


def _plain(text: str, **_: Any) -> str:
    return text


def _side_facts(doc: Document) -> dict[str, Any]:
    """``id``, ``version`` and ``path`` of one side, as every format names it."""
    data = dict_of(doc.data)
    return {"id": data.get("scheme"), "version": None if data.get("version") is None else str(data["version"]),
            "path": doc.path}


def _line_span(c: Change) -> str:
    """The lines of a change as ``old → new``; "—" where it has no place in that file."""
    a = "—" if c.old_line is None else str(c.old_line)
    b = "—" if c.new_line is None else str(c.new_line)
    return f"{a} → {b}"


def _sign(c: Change) -> str:
    """+ added, - removed, > moved, ~ changed."""
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


def _heading(category: str) -> str:
    """A category's heading in the current language."""
    return _(CATEGORIES[category]) if category in CATEGORIES else category


def _grade(grade: str | None) -> str:
    """A grade as shown: its name, or "(none)" in the current language."""
    return _(NO_GRADE) if grade is None or grade == NO_GRADE else grade


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


def _from_to(old: float | None, new: float | None, decimals: int) -> str:
    return f"{fmt_number(old, decimals)} → {fmt_number(new, decimals)}"


def _signed(x: float | None, decimals: int = 2) -> str:
    return "—" if x is None else f"{x:+.{decimals}f}"


def _title(o: Mapping[str, Any], n: Mapping[str, Any]) -> str:
    if o["id"] == n["id"]:
        return f"{o['id']} {o['version']} → {n['version']}"
    return f"{o['id']} {o['version']} → {n['id']} {n['version']}"


def render_text(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None, *,
                style: Style = _plain, changelog: ChangelogReview | None = None) -> str:
    """Plain text, one line per change grouped by category, then the new changelog read against them;
    ``style`` colours it (e.g. ``click.style``)."""
    o, n = _side_facts(old), _side_facts(new)
    out = [style(f"qualiscore diff: {_title(o, n)}", bold=True),
           "  " + _("old: {path}", path=o["path"]), "  " + _("new: {path}", path=n["path"])]
    if not changes:
        out.append(style(_("no semantic differences: the two versions are equivalent"), fg="green"))
    else:
        out.append(style(_("{n} change(s)", n=len(changes)), fg="yellow", bold=True))
    for cat, items in _grouped(changes):
        out.append("")
        out.extend(_group_text(cat, items, style))
    if changelog is not None:
        out.append("")
        out.extend(_changelog_text(changelog, style))
    if impact is not None:
        out.append("")
        out.extend(_impact_text(impact, style))
    return "\n".join(out) + "\n"


def change_lines(changes: Sequence[Change], style: Style = _plain) -> list[str]:
    """The changes as `qualiscore diff` prints them, grouped by category, without the blank lines between groups
    (``verify`` shows them under a discrepancy)."""
    return [line for cat, items in _grouped(changes) for line in _group_text(cat, items, style)]


_COLOURS = {"+": "green", "-": "red", "~": "yellow", ">": "cyan"}


def _group_text(category: str, items: Sequence[Change], style: Style) -> list[str]:
    out = [style(_("{category} ({n})", category=_heading(category), n=len(items)), bold=True)]
    for c in items:
        sign = _sign(c)
        if c.old is not None and c.new is not None:
            what = f"{show(c.old)} → {show(c.new)}"
        else:
            what = show(c.new if c.new is not None else c.old)
        out.append(f"  {style(sign, fg=_COLOURS[sign], bold=True)} {c.path}: {what}"
                   + style("  " + _("[{kind}; lines {lines}]", kind=c.kind, lines=_line_span(c)), dim=True))
        if c.note:
            out.append(style(f"      {c.note}", dim=True))
    return out


def _changelog_heading(review: ChangelogReview) -> str:
    if review.supersedes:
        return _("Changelog of {version} (changes from {supersedes}; {n} line(s))", version=review.version,
                 supersedes=review.supersedes, n=len(review.lines))
    return _("Changelog of {version} (no superseded version; {n} line(s))", version=review.version,
             n=len(review.lines))


def _changelog_text(review: ChangelogReview, style: Style) -> list[str]:
    out = [style(_changelog_heading(review), bold=True)]
    if not review.lines:
        out.append("  " + _("(no changelog lines)"))
    for text, line in zip(review.lines, review.line_numbers):
        out.append(f"  {'—' if line is None else line:>4}  {text}")
    for i in review.placeholders:
        line = review.line_numbers[i]
        if review.supersedes:
            warning = _("! line {line} is a placeholder: replace it with the changes from {supersedes}", line=line,
                        supersedes=review.supersedes)
        else:
            warning = _("! line {line} is a placeholder: replace it with the changes", line=line)
        out.append(style("  " + warning, fg="yellow"))
    if not review.checked:
        out.append(style("  " + _("not checked against this diff: {reason}", reason=review.reason), dim=True))
        return out
    for item in review.unmentioned:
        if item.line:
            warning = _("! no changelog line names {what} (line {line})", what=item.what, line=item.line)
        else:
            warning = _("! no changelog line names {what} (removed)", what=item.what)
        out.append(style("  " + warning, fg="yellow"))
        out.extend(f"      {c.path}: {_what(c)}" for c in item.changes)
        out.append(style("      " + _("name {terms} in a changelog line", terms=item.named_by()), dim=True))
    if not review.rules_changed:
        out.append(style("  " + _("no rule changed"), fg="green"))
    elif not review.unmentioned:
        out.append(style("  " + _("every rule change above is named by a changelog line"), fg="green"))
    return out


def _what(c: Change) -> str:
    if c.old is not None and c.new is not None:
        return f"{show(c.old)} → {show(c.new)}"
    if c.old is None:
        return _("{value} (added)", value=show(c.new))
    return _("{value} (removed)", value=show(c.old))


UNCERTAIN_SHOWN = 20


def _stability(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


_VETO_TITLES = (N_("Vetoes newly triggered"), N_("Vetoes cleared"))


def _impact_text(imp: Impact, style: Style) -> list[str]:
    d = imp.decimals
    grades = [_grade(g) for g in imp.grades]
    out = [style(_("Impact on {data}", data=", ".join(imp.data)), bold=True),
           "  " + _("rows read {rows}; rejected {old_rejected} by {old}, {new_rejected} by {new}", rows=imp.rows_read,
                    old_rejected=imp.old_rejected, old=imp.old_version, new_rejected=imp.new_rejected,
                    new=imp.new_version),
           "  " + _("{n} subject(s); mean score {scores}", n=imp.subjects,
                    scores=_from_to(imp.old_mean_score, imp.new_mean_score, d)),
           "",
           style("  " + _("Grade migration (rows: {old}, columns: {new})", old=imp.old_version, new=imp.new_version),
                 bold=True)]
    first = max([display_width(g) for g in grades] + [display_width(imp.old_version)]) + 2
    cols = [max(display_width(g), 5) + 2 for g in grades]
    out.append("  " + _pad("", first) + "".join(_pad(g, w, right=True) for g, w in zip(grades, cols)))
    for g, row in zip(grades, imp.matrix):
        cells = "".join(_pad(str(v) if v else "·", w, right=True) for v, w in zip(row, cols))
        out.append("  " + _pad(g, first) + cells)
    out.append("")
    out.append(style("  " + _("{n} subject(s) change grade", n=len(imp.grade_changes)), bold=True))
    for m in imp.grade_changes:
        uncertain = "  " + _("uncertain") if m.uncertain else ""
        out.append(f"    {m.subject}: {_grade(m.old_grade)} → {_grade(m.new_grade)}  "
                   f"({_from_to(m.old_score, m.new_score, d)}){uncertain}")
    out.append("")
    out.append(style("  " + _("{n} subject(s) with an uncertain grade (stability {old} → {new}; more records could "
                              "change it)", n=len(imp.uncertain), old=imp.old_version, new=imp.new_version),
                     bold=True))
    for m in imp.uncertain[:UNCERTAIN_SHOWN]:
        out.append(f"    {m.subject}: {_grade(m.old_grade)} {_stability(m.old_stability)} → "
                   f"{_grade(m.new_grade)} {_stability(m.new_stability)}")
    if len(imp.uncertain) > UNCERTAIN_SHOWN:
        out.append("    " + _("… and {n} more (--format json lists them all)", n=len(imp.uncertain) - UNCERTAIN_SHOWN))
    out.append("")
    out.append(style("  " + _("Largest score movements (top {n})", n=TOP_MOVES), bold=True))
    if not imp.movements:
        out.append("    " + _("none"))
    for m in imp.movements:
        causes = ", ".join(f"{c.id} {_signed(c.delta, d)}" for c in m.causes) or "—"
        out.append("    " + _("{subject}: {scores} ({delta})  {old_grade} → {new_grade}; by indicator: {causes}",
                              subject=m.subject, scores=_from_to(m.old_score, m.new_score, d),
                              delta=_signed(m.delta, d), old_grade=_grade(m.old_grade),
                              new_grade=_grade(m.new_grade), causes=causes))
    out.append("")
    out.append(style("  " + _("Indicator means over subjects (points; value)"), bold=True))
    width = max([display_width(i.id) for i in imp.indicators] + [4]) + 2
    for i in imp.indicators:
        out.append(f"    {_pad(i.id, width)}"
                   + _("points {points}   value {values}   (n {old_n} → {new_n})",
                       points=_from_to(i.old_points, i.new_points, d), values=_from_to(i.old_value, i.new_value, 4),
                       old_n=i.old_n, new_n=i.new_n))
    out.append("")
    out.append(style("  " + _("Dimension means over subjects (score)"), bold=True))
    width = max([display_width(x.id) for x in imp.dimensions] + [4]) + 2
    for x in imp.dimensions:
        out.append(f"    {_pad(x.id, width)}" + _("{scores}   (n {old_n} → {new_n})",
                                                  scores=_from_to(x.old_score, x.new_score, d), old_n=x.old_n,
                                                  new_n=x.new_n))
    out.append("")
    for title, pairs in zip(_VETO_TITLES, (imp.vetoes_triggered, imp.vetoes_cleared)):
        out.append(style("  " + _("{title}: {n}", title=_(title), n=len(pairs)), bold=True))
        out.extend(f"    {s}: {v}" for s, v in pairs)
    return out


def _md_cell(x: Any) -> str:
    """A value in a Markdown table cell: no pipes or line breaks that would split the row."""
    text = show(x) if not isinstance(x, str) else x
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _md_code(text: str) -> str:
    """``text`` as inline code, or as a plain cell when it holds a backtick."""
    return f"`{text}`" if "`" not in text else _md_cell(text)


def render_markdown(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None, *,
                    changelog: ChangelogReview | None = None) -> str:
    """A Markdown report to paste into a review: a heading, one table per category, the changelog."""
    o, n = _side_facts(old), _side_facts(new)
    out = [_("# Scheme diff: {title}", title=_md_cell(_title(o, n))), "",
           _("| | old | new |"), "|---|---|---|",
           _("| file | {old} | {new} |", old=_md_code(o["path"]), new=_md_code(n["path"])),
           _("| version | {old} | {new} |", old=_md_cell(o["version"]), new=_md_cell(n["version"])), ""]
    if not changes:
        out += [_("**No semantic differences: the two versions are equivalent.**"), ""]
    else:
        out += [_("**{n} change(s).**", n=len(changes)), ""]
    for cat, items in _grouped(changes):
        out += [f"## {_heading(cat)}", "", _("| change | path | old | new | lines (old → new) | note |"),
                "|---|---|---|---|---|---|"]
        for c in items:
            out.append(f"| {c.kind} | {_md_code(c.path)} | {_md_cell(c.old)} | {_md_cell(c.new)} | "
                       f"{_line_span(c)} | {_md_cell(c.note or '')} |")
        out.append("")
    if changelog is not None:
        out += _changelog_markdown(changelog)
    if impact is not None:
        out += _impact_markdown(impact)
    return "\n".join(out).rstrip("\n") + "\n"


def _changelog_markdown(review: ChangelogReview) -> list[str]:
    out = [f"## {_md_cell(_changelog_heading(review))}", ""]
    if review.lines:
        placeholder = " " + _("**(placeholder)**")
        out += [_("| line | changelog |"), "|---:|---|"]
        out += [f"| {'—' if n is None else n} | {_md_cell(t)}{placeholder if i in review.placeholders else ''} |"
                for i, (t, n) in enumerate(zip(review.lines, review.line_numbers))]
    else:
        out.append(_("No changelog lines."))
    out.append("")
    if not review.checked:
        return [*out, _("Not checked against this diff: {reason}.", reason=_md_cell(review.reason or "")), ""]
    if not review.rules_changed:
        return [*out, _("No rule changed."), ""]
    if not review.unmentioned:
        return [*out, _("Every rule change above is named by a changelog line."), ""]
    out += [_("**Rule changes no changelog line names ({n}).**", n=len(review.unmentioned)), "",
            _("| rule | changes | line | a changelog line should name |"), "|---|---|---:|---|"]
    out += [f"| {_md_cell(u.what)} | {_md_cell(u.summary())} | {u.line or '—'} | {_md_cell(u.named_by())} |"
            for u in review.unmentioned]
    return [*out, ""]


def _impact_markdown(imp: Impact) -> list[str]:
    d = imp.decimals
    none = _("None.")
    old, new = _md_cell(imp.old_version), _md_cell(imp.new_version)
    out = [_("## Impact on {data}", data=", ".join(_md_code(p) for p in imp.data)), "",
           _("Rows read: {rows}; rejected: {old_rejected} by {old}, {new_rejected} by {new}. Subjects: {subjects}. "
             "Mean score: {scores}.", rows=imp.rows_read, old_rejected=imp.old_rejected, old=old,
             new_rejected=imp.new_rejected, new=new, subjects=imp.subjects,
             scores=_from_to(imp.old_mean_score, imp.new_mean_score, d)), "",
           _("### Grade migration (rows: {old}, columns: {new})", old=old, new=new), "",
           _("| old \\ new | {grades} |", grades=" | ".join(_md_cell(_grade(g)) for g in imp.grades)),
           "|---|" + "---:|" * len(imp.grades)]
    for g, row in zip(imp.grades, imp.matrix):
        out.append(f"| **{_md_cell(_grade(g))}** | " + " | ".join(str(v) for v in row) + " |")
    out += ["", _("### Subjects whose grade changes ({n})", n=len(imp.grade_changes)), ""]
    if imp.grade_changes:
        out += [_("| subject | old grade | new grade | old score | new score |"), "|---|---|---|---:|---:|"]
        out += [f"| {_md_cell(m.subject)} | {_md_cell(_grade(m.old_grade))} | "
                f"{_md_cell(_grade(m.new_grade))} | {fmt_number(m.old_score, d)} | {fmt_number(m.new_score, d)} |"
                for m in imp.grade_changes]
    else:
        out.append(none)
    out += ["", _("### Subjects with an uncertain grade ({n})", n=len(imp.uncertain)), ""]
    if imp.uncertain:
        out += [_("More records could change these grades: the share of plausible values of the indicators that "
                  "keep each grade is below the scheme's threshold."), "",
                _("| subject | old grade | stability | new grade | stability |"), "|---|---|---:|---|---:|"]
        out += [f"| {_md_cell(m.subject)} | {_md_cell(_grade(m.old_grade))} | {_stability(m.old_stability)} | "
                f"{_md_cell(_grade(m.new_grade))} | {_stability(m.new_stability)} |" for m in imp.uncertain]
    else:
        out.append(none)
    out += ["", _("### Largest score movements (top {n})", n=TOP_MOVES), ""]
    if imp.movements:
        out += [_("| subject | old score | new score | change | grade | by indicator (contribution change) |"),
                "|---|---:|---:|---:|---|---|"]
        for m in imp.movements:
            causes = ", ".join(f"{c.id} {_signed(c.delta, d)}" for c in m.causes) or "—"
            out.append(f"| {_md_cell(m.subject)} | {fmt_number(m.old_score, d)} | {fmt_number(m.new_score, d)} | "
                       f"{_signed(m.delta, d)} | {_md_cell(_grade(m.old_grade))} → "
                       f"{_md_cell(_grade(m.new_grade))} | {_md_cell(causes)} |")
    else:
        out.append(none)
    out += ["", _("### Indicator means over subjects"), "",
            _("| indicator | dimension | points (old) | points (new) | value (old) | value (new) | n (old → new) |"),
            "|---|---|---:|---:|---:|---:|---|"]
    out += [f"| {_md_cell(i.id)} | {_md_cell(i.dimension)} | {fmt_number(i.old_points, d)} | "
            f"{fmt_number(i.new_points, d)} | {fmt_number(i.old_value, 4)} | {fmt_number(i.new_value, 4)} | "
            f"{i.old_n} → {i.new_n} |" for i in imp.indicators]
    out += ["", _("### Dimension means over subjects"), "",
            _("| dimension | score (old) | score (new) | n (old → new) |"), "|---|---:|---:|---|"]
    out += [f"| {_md_cell(x.id)} | {fmt_number(x.old_score, d)} | {fmt_number(x.new_score, d)} | "
            f"{x.old_n} → {x.new_n} |" for x in imp.dimensions]
    for title, pairs in zip(_VETO_TITLES, (imp.vetoes_triggered, imp.vetoes_cleared)):
        out += ["", _("### {title} ({n})", title=_(title), n=len(pairs)), ""]
        if pairs:
            out += [_("| subject | veto |"), "|---|---|"] + [f"| {_md_cell(s)} | {_md_cell(v)} |" for s, v in pairs]
        else:
            out.append(none)
    out.append("")
    return out


def render_json(old: Document, new: Document, changes: Sequence[Change], impact: Impact | None = None, *,
                changelog: ChangelogReview | None = None) -> str:
    """``{"old": {id, version, path}, "new": {...}, "equivalent", "changes": [...], "changelog": {...} | null,
    "impact": {...} | null}``."""
    doc = {
        "old": _side_facts(old),
        "new": _side_facts(new),
        "equivalent": not changes,
        "changes": [c.as_dict() for c in changes],
        "changelog": changelog.as_dict() if changelog is not None else None,
        "impact": impact.as_dict() if impact is not None else None,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"

