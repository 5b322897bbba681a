"""The HTML page: markup for every section of a :class:`ReportView`, charts by :mod:`.charts`.

The page needs no network: CSS, JavaScript (the basic plotly.js bundle, inlined once)
and data are all in the file. Every text that comes from a scheme, a data file or an
output file is escaped, since titles, subject keys and record ids are not trusted; the
scorecards' explanations travel gzipped and the page's script sets them as text.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping, Sequence

from .._display import fmt_number
from ..i18n import N_, _, language
from .assets import CSS, ERROR_RECORDER, PAGE_SCRIPT
from .charts import Charts, plotly_js, plotly_js_version
from .colours import NO_GRADE_COLOUR, grade_colours
from .formatting import escape, fmt_interval, fmt_measure, fmt_target, grade_label, pct
from .run import NO_GRADE, Signature
from .view import (
    EVIDENCE_SHOWN,
    REJECT_ROWS,
    TOP_N,
    UNCERTAIN_ROWS,
    ReportView,
    SubjectCard,
    SubjectIndicator,
)

VETO_ROWS = 200  # vetoed scorecards listed
VERIFY = "<code>qualiscore verify</code>"
EXPLAIN = "<code>qualiscore explain</code>"

# The sections in page order: (id, heading). Headings are translated where they are shown ({n}: TOP_N).
SECTIONS = (
    ("run", N_("Run")),
    ("grades", N_("Grade distribution")),
    ("scores", N_("Score distribution")),
    ("indicators", N_("Dimensions and indicators vs target")),
    ("breakdowns", N_("Breakdowns")),
    ("trend", N_("Trend over periods")),
    ("extremes", N_("Lowest and highest {n}")),
    ("uncertain", N_("Grades that may change with more data")),
    ("vetoes", N_("Vetoes")),
    ("rejects", N_("Rejected rows")),
    ("explanations", N_("Scorecard explanations")),
)
HEADINGS = dict(SECTIONS)
# An indicator's status as the report shows it; other statuses as written, "_" read as a space.
STATUSES = {"not_applicable": N_("not applicable")}
# The rejects.csv columns listed in the rejects section, with the heading each gets there.
REJECT_COLUMNS = (("source", N_("Source")), ("row", N_("Row")), ("record_id", N_("Record id")),
                  ("field", N_("Field")), ("value", N_("Value")), ("code", N_("Code")), ("reason", N_("Reason")))


def _muted(text: str) -> str:
    return '<span class="muted">' + text + "</span>"


def _h3(text: str) -> str:
    return "<h3>" + text + "</h3>"


def heading(sid: str) -> str:
    """The heading of section ``sid`` in the current language."""
    return _(HEADINGS[sid], n=TOP_N)


def _no_script() -> str:
    return ('<noscript><div class="note">'
            + _("The explanations are unpacked by the page's script: {command} gives each.",
                command="<code>qualiscore explain OUTDIR --subject ID</code>")
            + "</div></noscript>")


def _badge(grade: str | None, colours: Mapping[str, str]) -> str:
    g = grade or NO_GRADE
    return (f'<span class="badge" style="background:{colours.get(g, NO_GRADE_COLOUR)}">'
            f"{escape(grade_label(g))}</span>")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = (),
           row_class: Sequence[str] | None = None) -> str:
    num = set(numeric)
    th = "".join(f'<th class="n">{h}</th>' if i in num else f"<th>{h}</th>" for i, h in enumerate(head))
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{row_class[r]}"' if row_class and row_class[r] else ""
        tds = "".join(f'<td class="n">{c}</td>' if i in num else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _section(sid: str, lead: str, body: str) -> str:
    return (f'<section id="{sid}"><h2>{escape(heading(sid))}</h2>'
            + (f'<p class="lead">{lead}</p>' if lead else "") + body + "</section>")


def _anchor(card: SubjectCard) -> str:
    return f"sc-{card.index}"


def _subject_link(card: SubjectCard) -> str:
    text = f'<span class="subject">{escape(card.subject)}</span>'
    return f'<a href="#{_anchor(card)}">{text}</a>' if card.explained else text


def _packed(trees: Mapping[str, Mapping[str, str]]) -> str:
    """The explanations by anchor as gzipped JSON in base64: a tenth of their size, so every scorecard fits."""
    data = json.dumps(trees, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


def _status(status: str) -> str:
    return _(STATUSES[status]) if status in STATUSES else status.replace("_", " ")


def _indicator_rows(indicators: Sequence[SubjectIndicator]) -> str:
    """One scorecard's indicators as a table: value [interval], a bar with the interval and the target, points."""
    rows = []
    for i in indicators:
        if i.status != "scored" or i.value is None:
            value, bar = f'<span class="muted">{escape(_status(i.status))}</span>', ""
        else:
            value, bar = fmt_interval(i.value, i.low, i.high, i.share_like), _range_bar(i)
        rows.append([f"{escape(i.name)} <code>{escape(i.id)}</code>", value, bar,
                     fmt_measure(i.target, i.share_like) if i.target is not None else "—", fmt_number(i.points)])
    return _table([escape(_("Indicator")), escape(_("Value [interval]")), "", escape(_("Target")),
                   escape(_("Points"))], rows, numeric=[1, 3, 4])


def _range_bar(i: SubjectIndicator) -> str:
    """The value (dot) with its interval (band) and target (tick), from 0 to past the largest (100% for a share)."""
    ends = [x for x in (i.value, i.low, i.high, i.target) if x is not None]
    lo, hi = min(0.0, *ends), max(ends) * 1.15 or 1.0
    if i.share_like and hi > 0.6:
        hi = 1.0
    if hi <= lo:
        return ""

    def at(x: float) -> str:
        return f"{100 * (min(max(x, lo), hi) - lo) / (hi - lo):.1f}%"

    band = (f'<i class="ci" style="left:{at(i.low)};right:calc(100% - {at(i.high)})"></i>'
            if i.low is not None and i.high is not None else "")
    target = f'<i class="t" style="left:{at(i.target)}"></i>' if i.target is not None else ""
    return f'<div class="range">{band}{target}<i class="v" style="left:{at(i.value or 0.0)}"></i></div>'


def _may_change() -> str:
    """The mark of a grade that may change with more data."""
    return '<span class="unsure">' + _("may change") + "</span>"


def _unsure(card: SubjectCard) -> str:
    """The mark of a grade that may change with more data, with its stability."""
    if not card.uncertain:
        return ""
    mark = _("may change")
    if card.stability is None:
        title = _("the grade may change with more data")
        return f'<span class="unsure" title="{escape(title)}">{escape(mark)}</span>'
    share = f"{card.stability * 100:.0f}%"
    title = _("the grade may change with more data: {share} of plausible draws keep it", share=share)
    return f'<span class="unsure" title="{escape(title)}">{escape(mark)} · {share}</span>'


def _kpi(label: str, num: str, small: str = "", colour: str = "var(--accent)") -> str:
    return (f'<div class="card" style="border-top-color:{colour}"><div class="label">{label}</div>'
            f'<div class="num">{num}</div><div class="small">{small}</div></div>')


def _signature(signature: Signature | None) -> str:
    """The signature as manifest.json.sig states it; verify, not the report, checks it and its key."""
    if signature is None:
        return _muted(_("not signed"))
    if signature.unreadable is not None or signature.fingerprint is None:
        return _("manifest.json.sig present but not readable as a signature ({reason}) — check it with {verify}",
                 reason=escape(signature.unreadable or ""), verify=VERIFY)
    key = f'<span class="mono">{escape(signature.fingerprint)}</span>'
    if signature.signed_at is None:  # the run's own report: the signature is written after it
        return _("signed with key {key}; manifest.json.sig, beside the manifest, records when and by whom "
                 "— check it with {verify}", key=key, verify=VERIFY)
    return _("key {key}, {signed_at} by {operator}, as manifest.json.sig states — {verify} checks the signature "
             "and whether the key is trusted", key=key, signed_at=escape(signature.signed_at),
             operator=escape(signature.operator or ""), verify=VERIFY)


class _Page:
    """Writes the page of one view; ``charts`` numbers the figures in the order they are embedded."""

    def __init__(self, view: ReportView) -> None:
        self.view = view
        self.colours = grade_colours(view.grade_order, NO_GRADE)
        self.charts = Charts(self.colours)

    def badge(self, grade: str | None) -> str:
        return _badge(grade, self.colours)

    # ----------------------------------------------------------------- page

    def render(self) -> str:
        view, facts = self.view, self.view.facts
        body = "".join([
            self.run_section(), self.grades_section(), self.scores_section(), self.indicators_section(),
            self.breakdowns_section(), self.trend_section(), self.extremes_section(), self.uncertain_section(),
            self.vetoes_section(), self.rejects_section(), self.explanations_section(),
        ])
        title = _("{schemes} {versions} · quality report", schemes=", ".join(facts.scheme_ids),
                  versions=", ".join(view.versions))
        toc = "".join(f'<a href="#{sid}">{escape(heading(sid))}</a>' for sid, _h in SECTIONS)
        version = escape(facts.engine_version)
        generated = (_("Generated by qualiscore {version} from {outdir}/ (one of the run's outputs: manifest.json "
                       "lists this page with its SHA-256).", version=version, outdir=escape(facts.outdir_name))
                     if facts.in_run else
                     _("Generated by qualiscore {version} from {outdir}/ (manifest SHA-256 {sha256}).",
                       version=version, outdir=escape(facts.outdir_name),
                       sha256='<span class="mono">' + escape(facts.manifest_sha256) + "</span>"))
        inlined = _("Self-contained: charts by plotly.js {version} (basic bundle, MIT), inlined.",
                    version=plotly_js_version())
        sections = _("sections")
        return (
            f'<!DOCTYPE html>\n<html lang="{escape(language())}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="qualiscore {version}">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n"
            f"<script>{ERROR_RECORDER}</script>\n"
            f"<script>{plotly_js()}</script>\n</head>\n"
            f'<body data-charts-expected="{self.charts.count}">\n'
            f"{self.hero()}\n"
            f'<main class="wrap">\n{self.cards()}<nav class="toc" aria-label="{escape(sections)}">{toc}</nav>\n'
            f"{body}\n"
            f"<footer>{generated} {inlined}</footer>\n"
            "</main>\n"
            f"<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n"
        )

    def hero(self) -> str:
        view, facts = self.view, self.view.facts
        head = facts.titles[0] if facts.titles else " / ".join(facts.scheme_ids)
        what = _("quality report")
        period = _("Data period: {period}", period=escape(facts.data_period))
        scorecards = _("{n} scorecards", n=view.scorecards)
        return (
            '<header class="hero"><div class="wrap">'
            f'<div class="eyebrow">qualiscore · {escape(what)}</div>'
            f"<h1>{escape(head)}</h1>"
            f'<div class="sub"><span>{escape(" / ".join(facts.scheme_ids))} · '
            f"{escape(', '.join(view.versions))}</span>"
            f"<span>{period}</span>"
            f"<span>{escape(scorecards)}</span></div>"
            "</div></header>"
        )

    def cards(self) -> str:
        view = self.view
        rows, scores = view.facts.rows, view.scores
        read, scored, rejected = rows.read, rows.scored, rows.rejected
        n_read, n_scored, n_rejected = f"{read:,}", f"{scored:,}", f"{rejected:,}"
        out = [
            _kpi(escape(_("Scorecards")), str(view.scorecards),
                 escape(_("{n} period(s)", n=len(view.periods) or "—"))),
            _kpi(escape(_("Rows read")), n_read,
                 escape(_("scored {scored} + rejected {rejected}", scored=n_scored, rejected=n_rejected))),
            _kpi(escape(_("Rows scored")), n_scored, escape(_("{share} of rows read", share=pct(scored, read))),
                 "#0d9488"),
            _kpi(escape(_("Rows rejected")), n_rejected,
                 escape(_("{share} of rows read", share=pct(rejected, read))), "#dc2626" if rejected else "#16a34a"),
            _kpi(escape(_("Mean score")), fmt_number(scores.mean),
                 escape(_("median {median}", median=fmt_number(scores.median))), "#7c3aed"),
        ]
        best, worst = view.best_grade, view.worst_grade
        if best is not None:
            out.append(_kpi(escape(grade_label(best.grade)), str(best.scorecards),
                            pct(best.scorecards, view.scorecards), self.colours.get(best.grade, "#16a34a")))
        if worst is not None:
            changed = sum(1 for c in view.vetoed if (c.decided_by or "").startswith("veto:"))
            vetoes = _("vetoes: {triggered} triggered · {changed} changed the grade", triggered=len(view.vetoed),
                       changed=changed)
            out.append(_kpi(escape(grade_label(worst.grade)), str(worst.scorecards),
                            f"{pct(worst.scorecards, view.scorecards)} · {escape(vetoes)}",
                            self.colours.get(worst.grade, "#dc2626")))
        stability = view.stability
        if stability.estimated:
            out.append(_kpi(escape(_("May change")), str(len(stability.uncertain)),
                            escape(_("of {graded} graded · {share}", graded=stability.estimated,
                                     share=pct(len(stability.uncertain), stability.estimated))),
                            "#d97706"))
        return f'<div class="cards">{"".join(out)}</div>\n'

    # ----------------------------------------------------------------- run facts

    def run_section(self) -> str:
        view, facts = self.view, self.view.facts
        multi = view.multi_version
        rows = facts.rows
        out: list[tuple[str, str]] = []
        out.append((_("Scheme"), " / ".join(f"<code>{escape(i)}</code>" for i in facts.scheme_ids)))
        vers = []
        for entry in facts.entries:
            rng = f"{entry.effective_from} – {entry.effective_to or '…'}"
            n = _("{n} scorecards", n=entry.scorecards)
            vers.append(f"<code>{escape(entry.version)}</code> <span class=\"muted\">{escape(rng)} · "
                        f"{escape(n)} · sha256 {escape(entry.sha256[:12])}…</span>")
        out.append((_("Version(s)"), "<br>".join(vers) or "—"))
        titles = [f"{escape(s.title)}" + (f' <span class="muted">({escape(s.version)})</span>' if multi else "")
                  for s in facts.schemes]
        out.append((_("Title"), "<br>".join(titles) or _muted(_("scheme file not available"))))
        approvals = []
        for a in facts.approvals:
            text = escape(a.text(label=False))
            if a.state != "committed":
                text = f'<span class="bad">{text}</span>'
            approvals.append(text + (f' <span class="muted">({escape(a.version)})</span>' if multi else ""))
        out.append((_("Approved by"), "<br>".join(approvals) or _muted(_("not recorded"))))
        out.append((_("Data period"), escape(facts.data_period)))
        out.append((_("Rows"), "<br>".join([escape(str(rows)), *(f"<code>{escape(name)}</code> {escape(str(counts))}"
                                                                 for name, counts in facts.sources)])))
        codes = ", ".join("<code>" + escape(g) + "</code>" for g in facts.group_by)
        grouped = (_("{n} · grouped by {fields}", n=view.scorecards, fields=codes) if facts.group_by
                   else _("{n} · grouped by record", n=view.scorecards))
        out.append((_("Subjects"), grouped))
        inputs = []
        for i in facts.inputs:
            n = _("{n} rows", n=i.rows_read)
            inputs.append(f"<code>{escape(i.path)}</code> <span class=\"muted\">{escape(n)} · "
                          f"{escape(i.format)}/{escape(i.encoding)} · sha256 {escape(i.sha256[:12])}…</span>")
        out.append((_("Inputs"), "<br>".join(inputs) or "—"))
        out.append((_("Manifest SHA-256"),
                    _("this report is one of the run's outputs: manifest.json lists its SHA-256")
                    if facts.in_run else f'<span class="mono">{escape(facts.manifest_sha256)}</span>'))
        out.append((_("Engine"), escape(_("qualiscore {version} · engine {engine}", version=facts.engine_version,
                                          engine=facts.engine_name))))
        options = [f"--by {escape(','.join(facts.option_by))}" if facts.option_by else "",
                   f"--as-of {escape(facts.option_as_of)}" if facts.option_as_of else "",
                   f"--encoding {escape(facts.option_encoding)}" if facts.option_encoding else ""]
        if any(options):
            out.append((_("Options"), " ".join(x for x in options if x)))
        out.append((_("Signature"), _signature(facts.signature)))
        half = (len(out) + 1) // 2
        cols = "".join(
            "<dl>" + "".join(f'<div class="f"><dt>{escape(k)}</dt><dd>{v}</dd></div>' for k, v in part) + "</dl>"
            for part in (out[:half], out[half:])
        )
        body = f'<div class="facts">{cols}</div>'
        if facts.output_problems:
            body += ('<div class="alert">'
                     + _("{heading} {problems}. What this report shows may have been edited after the run.",
                         heading="<strong>" + _("Outputs do not match the manifest:") + "</strong>",
                         problems="; ".join(escape(p) for p in facts.output_problems))
                     + "</div>")
        else:
            body += ('<div class="good">'
                     + _("{files} match their SHA-256 in manifest.json.", files=escape(", ".join(facts.outputs)))
                     + ' <span class="muted">'
                     + _("For a full audit (scheme, inputs, recomputation) run {command}.", command=VERIFY)
                     + "</span></div>")
        body += "".join(f'<div class="note">{escape(n)}</div>' for n in facts.notes)
        if not view.scorecards:
            body += ('<div class="note">' + escape(_("This run produced no scorecards: the charts below are empty."))
                     + "</div>")
        if facts.changelog:
            body += (_h3(_("Changelog")) + "<ul>"
                     + "".join(f"<li><code>{escape(v)}</code> {escape(c)}</li>" for v, c in facts.changelog)
                     + "</ul>")
        return _section("run", "", body)

    # ----------------------------------------------------------------- grades

    def grades_section(self) -> str:
        view = self.view
        total = view.scorecards
        versions = view.versions if view.multi_version else ()
        head = [_("Grade"), _("Scorecards"), _("Share"), *([f"<code>{escape(v)}</code>" for v in versions])]
        rows = []
        for g in view.grades:
            n = g.scorecards
            width = 100 * n / total if total else 0
            share = (f'<div style="display:flex;gap:8px;align-items:center"><div class="bar" style="flex:1">'
                     f'<i style="width:{width:.1f}%;background:{self.colours[g.grade]}"></i>'
                     f"</div><span>{pct(n, total)}</span></div>")
            cells = [self.badge(g.grade), f"{n}" + (" " + _muted(_("({n} by veto)", n=g.by_veto)) if g.by_veto else ""),
                     share]
            cells += [str(count) for count in g.by_version[:len(versions)]]
            rows.append(cells)
        bands = ""
        if view.grade_bands_version is not None:
            high_first = sorted(view.grade_bands, key=lambda g: -g.min)
            listed = " · ".join(f"{escape(g.name)} ≥ {g.min:g}" for g in high_first)
            bands = _("Grade bands ({version}): {bands}.", version=escape(view.grade_bands_version), bands=listed) + " "
        lead = bands + _("Grades in scheme order; a veto can override the grade the score gives.")
        body = (f'<div class="grid2"><div>{self.charts.embed(self.charts.grades(view), "grades")}</div>'
                f"<div>{_table(head, rows, numeric=[1, *range(3, 3 + len(versions))])}</div></div>")
        return _section("grades", lead, body)

    # ----------------------------------------------------------------- scores

    def scores_section(self) -> str:
        s = self.view.scores
        stats = [
            (_("Scored"), f"{s.scored}"),
            (_("No score"), f"{s.unscored}"),
            (_("Mean"), fmt_number(s.mean)),
            (_("Median"), fmt_number(s.median)),
            ("P10 / P90", f"{fmt_number(s.p10)} / {fmt_number(s.p90)}"),
            (_("Min / Max"), f"{fmt_number(s.lowest)} / {fmt_number(s.highest)}"),
        ]
        table = _table([_("Statistic"), _("Value")], [[k, v] for k, v in stats], numeric=[1])
        lead = _("Histogram of total scores, coloured by the final grade (a vetoed high score shows in the veto's "
                 "colour).")
        body = f'<div class="grid2 wide">' \
               f'<div>{self.charts.embed(self.charts.scores(self.view), "scores")}</div><div>{table}</div></div>'
        return _section("scores", lead, body)

    # ----------------------------------------------------------------- indicators

    def indicators_section(self) -> str:
        view = self.view
        multi = view.multi_version
        head = [_("Dimension / indicator"), *([_("Version")] if multi else []), _("Scored / N/A"),
                _("Mean value"), _("Target"), _("Subjects meeting target"), _("Mean points")]
        rows, classes = [], []
        for v in view.versions:
            for (did, dname) in view.dimension_order:
                d = next((x for x in view.dimensions if x.version == v and x.id == did), None)
                if d is None:
                    continue
                rows.append([f"{escape(dname)} <code>{escape(did)}</code>", *([escape(v)] if multi else []),
                             f"{d.counted} / {d.subjects - d.counted}", "", "", "",
                             f"<strong>{fmt_number(d.mean)}</strong>"])
                classes.append("dim")
                for i in (x for x in view.indicators if x.version == v and x.dim_id == did):
                    if i.met_share is None:
                        met_text = '<span class="muted">—</span>'
                    else:
                        met_text = f'{i.met_share * 100:.0f}% <span class="muted">({i.met}/{i.valued})</span>'
                        if i.undecided:
                            title = _("subjects whose interval holds the target")
                            close = _("{n} too close to tell", n=i.undecided)
                            met_text += f'<br><span class="muted" title="{escape(title)}">{close}</span>'
                    mean_text = fmt_interval(i.mean_value, i.mean_low, i.mean_high, i.share_like)
                    if i.mean_meets_target is not None:
                        mean_text = f'<span class="{"ok" if i.mean_meets_target else "bad"}">{mean_text}</span>'
                    rows.append([f"&nbsp;&nbsp;&nbsp;{escape(i.name)} <code>{escape(i.id)}</code>",
                                 *([escape(v)] if multi else []),
                                 f"{i.scored} / {i.subjects - i.scored}", mean_text,
                                 fmt_target(i.target, i.lower_better, i.share_like), met_text,
                                 fmt_number(i.mean_points)])
                    classes.append("")
        first = 2 if multi else 1
        table = _table(head, rows, numeric=range(first, first + 5), row_class=classes)
        lead = _("Means over scorecards where the indicator was scored (not-applicable indicators are left out). "
                 "Targets are each indicator's {target} as recorded in scorecards.jsonl; "
                 "green meets the target, red does not (direction from the scheme's scoring).",
                 target="<code>target</code>")
        intervals, whiskers = self._interval_words(), ""
        if intervals:
            lead += " " + _("In brackets, the mean of the subjects' {intervals} of the value: how far a subject's "
                            "measured value may be from what more data would show. \"Too close to tell\": subjects "
                            "whose interval holds the target.", intervals=intervals)
            whiskers = _("; whiskers: the mean of the subjects' {intervals}", intervals=intervals)
        charts = self.charts
        dimensions = charts.embed(charts.dimensions(view), "dimensions")
        points = charts.embed(charts.indicator_points(view), "indicator-points")
        targets = charts.embed(charts.indicator_targets(view), "indicator-targets")
        body = ('<div class="grid2"><div>' + _h3(_("Dimension mean score")) + dimensions + "</div>"
                + "<div>" + _h3(_("Indicator mean points")) + points + "</div></div>"
                + _h3(_("Mean value against target")) + '<p class="lead">'
                + _("Bar: mean value over subjects (green meets the target, red misses it, grey has no target)"
                    "{whiskers}; black line: the target.", whiskers=whiskers)
                + f"</p>{targets}{table}")
        return _section("indicators", lead, body)

    def _interval_words(self) -> str:
        """``95% confidence intervals`` when some indicator has intervals, else empty."""
        if not any(i.mean_low is not None for i in self.view.indicators):
            return ""
        level = self.view.stability.level
        if level is None:
            return _("confidence intervals")
        percent = f"{level * 100:g}"
        return _("{level}% confidence intervals", level=percent)

    # ----------------------------------------------------------------- breakdowns

    def breakdowns_section(self) -> str:
        view, run = self.view, self.view.run
        parts = []
        for table in view.breakdowns:
            b = table.breakdown
            head = [escape(b.label), *[escape(p) if p else _("all") for p in table.periods]]
            rows = []
            for v in table.values:
                cells = [f"<strong>{escape(v)}</strong>"]
                for p in table.periods:
                    r = table.cells.get((v, p))
                    if r is None:
                        cells.append('<span class="muted">—</span>')
                        continue
                    extra = " " + (_muted(_("{n} subj.", n=r.subjects)) if r.subjects is not None
                                   else _muted(_("{n} rec.", n=r.records)))
                    cells.append(f"{fmt_number(r.score)} " + (self.badge(r.grade) if r.grade else "") + extra)
                rows.append(cells)
            how = _("score of the pooled records") if b.method == "pooled" else _("mean of subject scores")
            chart = self.charts.embed(self.charts.breakdown(table, view.grade_bands), "breakdown-" + b.field)
            parts.append(_h3(_("By {field}", field=escape(b.label)))
                         + '<p class="lead">' + _("{method} — {source}.", method=how, source=escape(b.source)) + "</p>"
                         + chart + _table(head, rows, numeric=range(1, len(head))))
        notes = "".join(f'<div class="note">{escape(n)}</div>' for n in run.breakdown_notes)
        if not run.breakdowns:
            fields = ", ".join(run.breakdown_fields) or "team"
            notes += ('<div class="note">'
                      + _("No breakdown could be shown. Breakdowns ({fields}) are scored from the pooled records of "
                          "each group: run {evaluate} and pass {by_dir} to {report}, or keep the run's scheme and "
                          "input files where the manifest says they are.", fields=escape(fields),
                          evaluate="<code>qualiscore evaluate SCHEME DATA -o out-team --by team</code>",
                          by_dir="<code>--by-dir out-team</code>", report="<code>qualiscore report</code>")
                      + "</div>")
        fields = ", ".join(f"<code>{escape(f)}</code>" for f in run.breakdown_fields)
        group_by = view.facts.group_by
        if group_by:
            lead = _("Scorecards are per {fields}; a group's score is the scheme applied to all of the group's "
                     "records (pooled), not an average of its subjects' scores.", fields=escape(", ".join(group_by)))
        else:
            lead = _("Scorecards are per record; a group's figure is the mean score of its records.")
        lead += " " + _("The scheme lists breakdowns {fields}.", fields=fields) if fields else ""
        return _section("breakdowns", lead, notes + "".join(parts))

    # ----------------------------------------------------------------- trend

    def trend_section(self) -> str:
        view, trend = self.view, self.view.trend
        if trend is None:
            only = _("The data covers a single period ({period}): no trend to show.",
                     period=escape(view.periods[0] if view.periods else "—"))
            return _section("trend", "", f'<p class="muted">{only}</p>')
        head = [_("Period"), _("Version"), _("Subjects"), _("Mean score"),
                *[self.badge(g) for g in view.grade_order]]
        rows = [[escape(p.period), f"<code>{escape(p.versions)}</code>", str(p.subjects), fmt_number(p.mean),
                 *[str(n) for n in p.grades]] for p in trend.periods]
        series = trend.series
        who = (_("; thin lines: {field} ({method})", field=escape(series.label),
                 method=_("pooled records") if series.method == "pooled" else _("mean of subjects"))
               if series is not None else "")
        lead = _("Mean subject score per period (thick line){series}.", series=who)
        return _section("trend", lead, self.charts.embed(self.charts.trend(trend), "trend")
                        + _table(head, rows, numeric=range(2, len(head))))

    # ----------------------------------------------------------------- extremes

    def _ranked_table(self, cards: Sequence[SubjectCard]) -> str:
        multi = self.view.multi_version
        rows = []
        for rank, c in enumerate(cards, 1):
            decided = c.decided_by or ""
            if decided == "score":
                how = _muted(_("score"))
            elif c.deciding_veto is not None:
                how = (f'<span class="pill" title="{escape(decided)}">'
                       + _("veto · {name}", name=escape(c.deciding_veto)) + "</span>")
            else:
                how = escape(decided)
            rows.append([str(rank), _subject_link(c), fmt_number(c.score), self.badge(c.grade) + _unsure(c), how,
                         *([f"<code>{escape(c.version)}</code>"] if multi else [])])
        head = ["#", _("Subject"), _("Score"), _("Grade"), _("Decided by"), *([_("Version")] if multi else [])]
        return _table(head, rows, numeric=[0, 2])

    def extremes_section(self) -> str:
        lead = _("Click a subject for its full explanation (the same tree as {command}).", command=EXPLAIN)
        body = ('<div class="grid2"><div>' + _h3(_("Lowest {n}", n=TOP_N)) + self._ranked_table(self.view.lowest)
                + "</div><div>" + _h3(_("Highest {n}", n=TOP_N)) + self._ranked_table(self.view.highest)
                + "</div></div>")
        return _section("extremes", lead, body)

    # ----------------------------------------------------------------- uncertain grades

    def uncertain_section(self) -> str:
        view, stability = self.view, self.view.stability
        if not stability.estimated:
            none = _("No scorecard of this run has a stability figure: its scheme measures no estimate (a share, a "
                     "mean, a rate…) or the run was made before qualiscore estimated them.")
            return _section("uncertain", "", f'<p class="muted">{none}</p>')
        threshold = (f"{stability.stable_at * 100:g}%" if stability.stable_at is not None
                     else _("the scheme's {key}", key="<code>confidence.stable_at</code>"))
        lead = _("A grade's stability is the share of plausible draws of the scorecard's indicators — each from its "
                 "sampling distribution — that give the same grade. Below {threshold} the grade is marked {mark}: it "
                 "rests on too few records to be sure of, and more data may move it.",
                 threshold=threshold, mark=_may_change())
        if not stability.uncertain:
            stable = _("Every grade is stable: all {n} graded scorecards keep their grade in at least {threshold} of "
                       "draws.", n=stability.estimated, threshold=threshold)
            return _section("uncertain", lead, f'<p class="ok">{stable}</p>')
        multi = view.multi_version
        rows = [[str(rank), _subject_link(c), escape(c.period or "—"), fmt_number(c.score), self.badge(c.grade),
                 "—" if c.stability is None else f"{c.stability * 100:.0f}%",
                 *([f"<code>{escape(c.version)}</code>"] if multi else [])]
                for rank, c in enumerate(stability.uncertain[:UNCERTAIN_ROWS], 1)]
        lead += " " + _("{n} of {graded} graded scorecards ({share}), least stable first.",
                        n=len(stability.uncertain), graded=stability.estimated,
                        share=pct(len(stability.uncertain), stability.estimated))
        if len(stability.uncertain) > UNCERTAIN_ROWS:
            lead += " " + _("The first {n} are listed; scorecards.csv has the column {column}.", n=UNCERTAIN_ROWS,
                            column="<code>uncertain</code>")
        head = ["#", _("Subject"), _("Period"), _("Score"), _("Grade"), _("Stability"),
                *([_("Version")] if multi else [])]
        return _section("uncertain", lead, _table(head, rows, numeric=[0, 3, 5]))

    # ----------------------------------------------------------------- vetoes

    def vetoes_section(self) -> str:
        view = self.view
        if not view.vetoed:
            return _section("vetoes", "", '<p class="ok">' + _("No veto was triggered.") + "</p>")
        summary = [[f"{escape(s.name)} <code>{escape(s.id)}</code>",
                    _("grade {grade}", grade=self.badge(s.grade)) if s.effect == "grade"
                    else _("cap at {grade}", grade=self.badge(s.grade)),
                    str(s.scorecards), str(s.records)] for s in view.veto_summary]
        rows = []
        for c in view.vetoed[:VETO_ROWS]:
            for v in c.vetoes:
                shown = "".join(f"<code>{escape(x)}</code>" for x in v.evidence[:EVIDENCE_SHOWN])
                more = (" " + _muted(_("… and {n} more", n=len(v.evidence) - EVIDENCE_SHOWN))
                        if len(v.evidence) > EVIDENCE_SHOWN else "")
                if v.measured is not None:
                    shown, more = f"<code>{escape(v.measured)}</code>", ""
                rows.append([_subject_link(c), escape(c.period or "—"),
                             f"{fmt_number(c.score)} " + self.badge(c.score_grade) + " → " + self.badge(c.grade)
                             + _unsure(c),
                             f"{escape(v.name)} <code>{escape(v.id)}</code><br><span class=\"muted\">"
                             f"{escape(v.reason)}</span>",
                             f'<span class="evidence">{shown}{more}</span>'])
        lead = _("{n} scorecard(s) decided or capped by a veto; evidence lists the record ids that triggered it.",
                 n=len(view.vetoed))
        measured = any(v.measured is not None for c in view.vetoed for v in c.vetoes)
        if measured:
            lead += " " + _("A veto on a measured value shows the value and the threshold it passed.")
        if len(view.vetoed) > VETO_ROWS:
            lead += " " + _("The first {n} are listed; all are in scorecards.jsonl.", n=VETO_ROWS)
        evidence = _("Evidence (record ids, or value and threshold)") if measured else _("Evidence (record ids)")
        body = (_table([_("Veto"), _("Effect"), _("Scorecards"), _("Evidence records")], summary, numeric=[2, 3])
                + _h3(_("Triggered vetoes"))
                + _table([_("Subject"), _("Period"), _("Score → grade"), _("Veto"), evidence], rows))
        return _section("vetoes", lead, body)

    # ----------------------------------------------------------------- rejects

    def rejects_section(self) -> str:
        view, rejects = self.view, self.view.rejects
        read, rejected = view.facts.rows.read, view.facts.rows.rejected
        if not rejects.problems:
            msg = _("No row was rejected.") if not rejected else _("rejects.csv lists no problems.")
            return _section("rejects", "", f'<p class="ok">{msg}</p>')
        by_code = _table([_("Code"), _("Problems"), _("Fields")],
                         [[f"<code>{escape(r.code)}</code>", str(r.problems),
                           ", ".join(f"{escape(f)} ({k})" for f, k in r.fields)] for r in rejects.by_code],
                         numeric=[1])
        by_field = _table([_("Field"), _("Problems")], [[f"<code>{escape(f)}</code>", str(n)]
                                                        for f, n in rejects.by_field], numeric=[1])
        first = [[escape(r.get(k, "")) if k != "code" else f"<code>{escape(r.get(k, ''))}</code>"
                  for k, _h in REJECT_COLUMNS] for r in rejects.first]
        lead = _("{rejected} of {read} rows rejected ({share}), {problems} problem(s) in rejects.csv. Rejected rows "
                 "are not scored.", rejected=rejected, read=read, share=pct(rejected, read),
                 problems=rejects.problems)
        body = ('<div class="grid2"><div>' + _h3(_("By code")) + by_code + "</div>"
                + "<div>" + _h3(_("By field")) + by_field + "</div></div>"
                + _h3(_("First {n} rows of rejects.csv", n=min(REJECT_ROWS, rejects.problems)))
                + _table([_(h) for _k, h in REJECT_COLUMNS], first, numeric=[1]))
        return _section("rejects", lead, body)

    # ----------------------------------------------------------------- explanations

    def explanations_section(self) -> str:
        view = self.view
        listed, total = len(view.explanations), view.scorecards
        only = ('<label><input type="checkbox" id="subject-unsure"> ' + _("only grades that may change") + "</label>"
                if any(x.card.uncertain for x in view.explanations) else "")
        template = _("{shown} of {total}", shown="{shown}", total="{total}")  # the page's script fills it
        count = _("{shown} of {total}", shown=listed, total=listed)
        find, placeholder = _("find a scorecard"), _("Subject, period or grade")
        finder = (f'<div class="finder"><input type="search" id="subject-filter" aria-label="{escape(find)}" '
                  f'placeholder="{escape(placeholder)}">'
                  f'{only}<span id="subject-count" class="muted" data-template="{escape(template)}">'
                  f"{count}</span></div>")
        how = _("the same tree as {command}: each indicator's value, points, weight and contribution, and what "
                "decided the grade", command=EXPLAIN)
        lead = _("Every scorecard ({n}): click one for its explanation, {how}.", n=total, how=how)
        if listed < total:
            lead = _("{total} scorecards, more than a page should carry: the {listed} that most need a look are "
                     "listed — the lowest and highest {top}, the vetoed, those whose grade may change, then the "
                     "lowest scores — with their explanation, {how}. scorecards.csv has all {total}; {command} "
                     "explains any.", total=total, listed=listed, top=TOP_N, how=how,
                     command="<code>qualiscore explain " + escape(view.facts.outdir_name) + " --subject ID</code>")
        items = "".join(self._explanation(x.card) for x in view.explanations)
        trees = _packed({_anchor(x.card): {"tree": x.tree, "table": _indicator_rows(x.indicators)}
                         for x in view.explanations})
        unsupported = _("This browser cannot unpack the explanation: qualiscore explain gives it.")
        return _section("explanations", lead, finder + _no_script()
                        + f'<div id="subject-list" data-unsupported="{escape(unsupported)}">{items}</div>'
                        f'<script type="application/gzip+base64" id="explanations-data">{trees}</script>')

    def _explanation(self, c: SubjectCard) -> str:
        """One scorecard as a <details>; the page's script puts its indicators in the <div>, its tree in the <pre>."""
        about = _("{version} · {n} records", version=escape(c.version), n=escape(c.records))
        return (f'<details class="expl" id="{_anchor(c)}"><summary><span class="subject">{escape(c.subject)}</span>'
                f"{self.badge(c.grade)}<span>{fmt_number(c.score)}</span>{_unsure(c)}"
                f'<span class="muted">{about}</span></summary><div class="ind"></div><pre></pre></details>')


def render_html(view: ReportView) -> str:
    """The self-contained page of ``view``."""
    return _Page(view).render()
