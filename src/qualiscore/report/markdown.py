"""The Markdown summary: the facts of a :class:`ReportView` as tables to paste in a review.

Every cell is escaped: text from schemes and data can neither break a table nor
become a link, emphasis or raw HTML, and its control characters are shown as escapes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from .._display import fmt_number, visible
from ..i18n import _
from .formatting import fmt_interval, fmt_target, grade_label, pct
from .run import NO_GRADE
from .view import EVIDENCE_SHOWN, TOP_N, UNCERTAIN_ROWS, ReportView


def _cell(x: Any) -> str:
    """Untrusted text for a Markdown table cell: no table breaks, links, emphasis, raw HTML or control characters."""
    text = visible(" ".join(("" if x is None else str(x)).split()))
    text = html.escape(text, quote=False)
    for ch in "\\`*_[]|#":
        text = text.replace(ch, "\\" + ch)
    return text


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    r = set(right)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i in r else "---" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown(view: ReportView) -> str:
    """The Markdown summary of ``view``."""
    facts, rows = view.facts, view.facts.rows
    versions = view.versions
    ids = " / ".join(facts.scheme_ids)
    out = ["# " + _("Quality report · {schemes} {versions}", schemes=_cell(ids), versions=_cell(", ".join(versions)))
           + "\n"]
    if facts.titles:
        out.append(f"**{_cell(facts.titles[0])}**\n")
    approvals = [f"{_cell(a.text(label=False))} ({_cell(a.version)})" for a in facts.approvals]
    table = [
        (_("Scheme"), _cell(ids)),
        (_("Version(s)"), ", ".join(_("{version} ({start} – {end}, {n} scorecards)", version=_cell(s.version),
                                      start=_cell(s.effective_from), end=_cell(s.effective_to or "…"),
                                      n=_cell(s.scorecards))
                                    for s in facts.entries)),
        (_("Approved by"), "; ".join(approvals) or "—"),
        (_("Data period"), _cell(facts.data_period)),
        (_("Rows"), "; ".join([_("read {read} = scored {scored} + rejected {rejected}", read=rows.read,
                                 scored=rows.scored, rejected=rows.rejected),
                               *(f"{_cell(name)}: {counts}" for name, counts in facts.sources)])),
        (_("Scorecards"), str(view.scorecards)),
        (_("Mean score"), fmt_number(view.scores.mean)),
        (_("Manifest SHA-256"), _("one of the run's outputs, listed in manifest.json") if facts.in_run
         else f"`{facts.manifest_sha256}`"),
        (_("Engine"), f"qualiscore {_cell(facts.engine_version)} ({_cell(facts.engine_name)})"),
        (_("Outputs vs manifest"), _("match") if not facts.output_problems
         else _cell("; ".join(facts.output_problems))),
    ]
    out.append(_table([_("Fact"), _("Value")], [[k, v] for k, v in table]))
    for n in facts.notes:
        out.append(f"> {_cell(n)}\n")

    out.append("## " + _("Grade distribution") + "\n")
    out.append(_table([_("Grade"), _("Scorecards"), _("Share")],
                      [[_cell(grade_label(g.grade)), str(g.scorecards), pct(g.scorecards, view.scorecards)]
                       for g in view.grades], right=[1, 2]))

    out.append("## " + _("Indicator averages vs target") + "\n")
    multi = view.multi_version
    indicators = []
    for i in view.indicators:
        met = i.met_share
        indicators.append([*([_cell(i.version)] if multi else []), _cell(i.dim_name),
                           f"{_cell(i.name)} ({_cell(i.id)})",
                           fmt_interval(i.mean_value, i.mean_low, i.mean_high, i.share_like),
                           fmt_target(i.target, i.lower_better, i.share_like),
                           "—" if met is None else f"{met * 100:.0f}% ({i.met}/{i.valued})",
                           fmt_number(i.mean_points)])
    first = 1 if multi else 0
    version = [_("Version")] if multi else []
    out.append(_table([*version, _("Dimension"), _("Indicator"), _("Mean value"), _("Target"),
                       _("Meeting target"), _("Mean points")], indicators, right=range(first + 2, first + 6)))
    out.append(_table([*version, _("Dimension"), _("Mean score")],
                      [[*([_cell(d.version)] if multi else []), f"{_cell(d.name)} ({_cell(d.id)})",
                        fmt_number(d.mean)] for d in view.dimensions], right=[first + 1]))

    for title, cards in ((_("Lowest {n}", n=TOP_N), view.lowest), (_("Highest {n}", n=TOP_N), view.highest)):
        out.append(f"## {title}\n")
        out.append(_table(["#", _("Subject"), _("Period"), _("Version"), _("Score"), _("Grade"), _("Decided by")], [
            [str(k), _cell(c.subject), _cell(c.period or "—"), _cell(c.version), fmt_number(c.score),
             _cell(grade_label(c.grade or NO_GRADE)), _cell(c.decided_by)]
            for k, c in enumerate(cards, 1)], right=[0, 4]))

    stability = view.stability
    if stability.estimated:
        out.append("## " + _("Grades that may change with more data") + "\n")
        threshold = (_("the scheme's threshold") if stability.stable_at is None
                     else f"{stability.stable_at * 100:g}%")
        out.append(_("Stability: the share of plausible draws of the indicators that give the same grade; below "
                     "{threshold} the grade may change with more data. {n} of {graded} graded scorecards.",
                     threshold=threshold, n=len(stability.uncertain), graded=stability.estimated) + "\n")
        if stability.uncertain:
            out.append(_table([_("Subject"), _("Period"), _("Score"), _("Grade"), _("Stability")], [
                [_cell(c.subject), _cell(c.period or "—"), fmt_number(c.score),
                 _cell(grade_label(c.grade or NO_GRADE)), "—" if c.stability is None else f"{c.stability * 100:.0f}%"]
                for c in stability.uncertain[:UNCERTAIN_ROWS]], right=[2, 4]))
            if len(stability.uncertain) > UNCERTAIN_ROWS:
                out.append(_("The first {n} are listed; scorecards.csv has the column {column}.", n=UNCERTAIN_ROWS,
                             column="`uncertain`") + "\n")

    out.append("## " + _("Vetoes") + "\n")
    vetoes = []
    for c in view.vetoed:
        for v in c.vetoes:
            shown = ", ".join(_cell(x) for x in v.evidence[:EVIDENCE_SHOWN])
            if len(v.evidence) > EVIDENCE_SHOWN:
                shown += f" … (+{len(v.evidence) - EVIDENCE_SHOWN})"
            if v.measured is not None:
                shown = _cell(v.measured)
            vetoes.append([_cell(c.subject), _cell(c.period or "—"), fmt_number(c.score),
                           f"{_cell(c.score_grade or '—')} → {_cell(c.grade)}",
                           f"{_cell(v.name)} ({_cell(v.id)})", shown])
    measured = any(v.measured is not None for c in view.vetoed for v in c.vetoes)
    evidence = _("Evidence (record ids, or value and threshold)") if measured else _("Evidence (record ids)")
    out.append(_table([_("Subject"), _("Period"), _("Score"), _("Grade"), _("Veto"), evidence], vetoes, right=[2])
               if vetoes else _("No veto was triggered.") + "\n")

    out.append("## " + _("Rejects by code") + "\n")
    if view.rejects.problems:
        out.append(_table([_("Code"), _("Problems"), _("Fields")],
                          [[_cell(r.code), str(r.problems), ", ".join(f"{_cell(f)} ({k})" for f, k in r.fields)]
                           for r in view.rejects.by_code], right=[1]))
    else:
        out.append(_("No row was rejected.") + "\n")
    out.append("\n_" + _("Generated by qualiscore {version} from the output directory {outdir}; charts and "
                         "explanations: {command} (HTML).", version=_cell(facts.engine_version),
                         outdir=_cell(facts.outdir_name), command="`qualiscore report`") + "_\n")
    return "\n".join(out)
