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
from .assets import CSS, ERROR_RECORDER, PAGE_SCRIPT
from .charts import Charts, plotly_js, plotly_js_version
from .colours import NO_GRADE_COLOUR, grade_colours
from .formatting import escape, fmt_interval, fmt_measure, fmt_target, pct
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
NO_SCRIPT = ('<noscript><div class="note">The explanations are unpacked by the page\'s script: '
             "<code>qualiscore explain OUTDIR --subject ID</code> gives each.</div></noscript>")

# Why a scheme's approved_by is not shown as an approval, in the report's second language.
NOT_APPROVED = {"uncommitted": "运行时有未提交的修改，非批准版本", "untracked": "运行时不在规则仓库中"}

SECTIONS = (
    ("run", "Run · 运行概况"),
    ("grades", "Grade distribution · 等级分布"),
    ("scores", "Score distribution · 得分分布"),
    ("indicators", "Dimensions and indicators vs target · 维度与指标达标"),
    ("breakdowns", "Breakdowns · 分组对比"),
    ("trend", "Trend over periods · 趋势"),
    ("extremes", "Lowest and highest 10 · 最低与最高 10 名"),
    ("uncertain", "Grades that may change with more data · 可能随数据变化的等级"),
    ("vetoes", "Vetoes · 一票否决"),
    ("rejects", "Rejected rows · 拒收记录"),
    ("explanations", "Scorecard explanations · 评分明细"),
)
HEADINGS = dict(SECTIONS)


def _badge(grade: str | None, colours: Mapping[str, str]) -> str:
    g = grade or NO_GRADE
    return f'<span class="badge" style="background:{colours.get(g, NO_GRADE_COLOUR)}">{escape(g)}</span>'


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
    return (f'<section id="{sid}"><h2>{escape(HEADINGS[sid])}</h2>'
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


def _indicator_rows(indicators: Sequence[SubjectIndicator]) -> str:
    """One scorecard's indicators as a table: value [interval], a bar with the interval and the target, points."""
    rows = []
    for i in indicators:
        if i.status != "scored" or i.value is None:
            value, bar = f'<span class="muted">{escape(i.status.replace("_", " "))}</span>', ""
        else:
            value, bar = fmt_interval(i.value, i.low, i.high, i.share_like), _range_bar(i)
        rows.append([f"{escape(i.name)} <code>{escape(i.id)}</code>", value, bar,
                     fmt_measure(i.target, i.share_like) if i.target is not None else "—", fmt_number(i.points)])
    return _table(["Indicator 指标", "Value [interval] 值", "", "Target 目标", "Points 得分"], rows,
                  numeric=[1, 3, 4])


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


def _unsure(card: SubjectCard) -> str:
    """The mark of a grade that may change with more data, with its stability."""
    if not card.uncertain:
        return ""
    if card.stability is None:
        return '<span class="unsure" title="the grade may change with more data">may change 可能变化</span>'
    share = f"{card.stability * 100:.0f}%"
    return (f'<span class="unsure" title="the grade may change with more data: {share} of plausible draws keep it">'
            f"may change 可能变化 · {share}</span>")


def _kpi(label: str, num: str, small: str = "", colour: str = "var(--accent)") -> str:
    return (f'<div class="card" style="border-top-color:{colour}"><div class="label">{label}</div>'
            f'<div class="num">{num}</div><div class="small">{small}</div></div>')


def _signature(signature: Signature | None) -> str:
    """The signature as manifest.json.sig states it; verify, not the report, checks it and its key."""
    verify = " — check it with <code>qualiscore verify</code>"
    if signature is None:
        return '<span class="muted">not signed</span>'
    if signature.unreadable is not None or signature.fingerprint is None:
        return f"manifest.json.sig present but not readable as a signature ({escape(signature.unreadable or '')})" \
               + verify
    key = f'key <span class="mono">{escape(signature.fingerprint)}</span>'
    if signature.signed_at is None:  # the run's own report: the signature is written after it
        return f"signed with {key}; manifest.json.sig, beside the manifest, records when and by whom" + verify
    return (f"{key}, {escape(signature.signed_at)} by {escape(signature.operator or '')}, as manifest.json.sig "
            "states — <code>qualiscore verify</code> checks the signature and whether the key is trusted")


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
        title = f"{', '.join(facts.scheme_ids)} {', '.join(view.versions)} · quality report"
        toc = "".join(f'<a href="#{sid}">{escape(h)}</a>' for sid, h in SECTIONS)
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="qualiscore {escape(facts.engine_version)}">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n"
            f"<script>{ERROR_RECORDER}</script>\n"
            f"<script>{plotly_js()}</script>\n</head>\n"
            f'<body data-charts-expected="{self.charts.count}">\n'
            f"{self.hero()}\n"
            f'<main class="wrap">\n{self.cards()}<nav class="toc" aria-label="sections">{toc}</nav>\n{body}\n'
            f'<footer>Generated by qualiscore {escape(facts.engine_version)} from {escape(facts.outdir_name)}/ '
            + ("(one of the run's outputs: manifest.json lists this page with its SHA-256). " if facts.in_run else
               f"(manifest SHA-256 <span class=\"mono\">{escape(facts.manifest_sha256)}</span>). ")
            + f"Self-contained: charts by plotly.js {plotly_js_version()} (basic bundle, MIT), inlined.</footer>\n"
            "</main>\n"
            f"<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n"
        )

    def hero(self) -> str:
        view, facts = self.view, self.view.facts
        head = facts.titles[0] if facts.titles else " / ".join(facts.scheme_ids)
        return (
            '<header class="hero"><div class="wrap">'
            '<div class="eyebrow">qualiscore · quality report · 质量评价报告</div>'
            f"<h1>{escape(head)}</h1>"
            f'<div class="sub"><span>{escape(" / ".join(facts.scheme_ids))} · '
            f"{escape(', '.join(view.versions))}</span>"
            f"<span>Data period 数据期间: {escape(facts.data_period)}</span>"
            f"<span>{view.scorecards} scorecards</span></div>"
            "</div></header>"
        )

    def cards(self) -> str:
        view = self.view
        rows, scores = view.facts.rows, view.scores
        read, scored, rejected = rows.read, rows.scored, rows.rejected
        out = [
            _kpi("Scorecards 评分卡", str(view.scorecards), f"{len(view.periods) or '—'} period(s)"),
            _kpi("Rows read 读取", f"{read:,}", f"scored {scored:,} + rejected {rejected:,}"),
            _kpi("Rows scored 计分", f"{scored:,}", pct(scored, read) + " of rows read", "#0d9488"),
            _kpi("Rows rejected 拒收", f"{rejected:,}", pct(rejected, read) + " of rows read",
                 "#dc2626" if rejected else "#16a34a"),
            _kpi("Mean score 平均分", fmt_number(scores.mean), f"median {fmt_number(scores.median)}", "#7c3aed"),
        ]
        best, worst = view.best_grade, view.worst_grade
        if best is not None:
            out.append(_kpi(f"{escape(best.grade)}", str(best.scorecards), pct(best.scorecards, view.scorecards),
                            self.colours.get(best.grade, "#16a34a")))
        if worst is not None:
            changed = sum(1 for c in view.vetoed if (c.decided_by or "").startswith("veto:"))
            out.append(_kpi(f"{escape(worst.grade)}", str(worst.scorecards), pct(worst.scorecards, view.scorecards)
                            + f" · vetoes: {len(view.vetoed)} triggered · {changed} changed the grade",
                            self.colours.get(worst.grade, "#dc2626")))
        stability = view.stability
        if stability.estimated:
            out.append(_kpi("May change 可能变化", str(len(stability.uncertain)),
                            f"of {stability.estimated} graded · {pct(len(stability.uncertain), stability.estimated)}",
                            "#d97706"))
        return f'<div class="cards">{"".join(out)}</div>\n'

    # ----------------------------------------------------------------- run facts

    def run_section(self) -> str:
        view, facts = self.view, self.view.facts
        multi = view.multi_version
        rows = facts.rows
        out: list[tuple[str, str]] = []
        out.append(("Scheme 方案", " / ".join(f"<code>{escape(i)}</code>" for i in facts.scheme_ids)))
        vers = []
        for entry in facts.entries:
            rng = f"{entry.effective_from} – {entry.effective_to or '…'}"
            vers.append(f"<code>{escape(entry.version)}</code> <span class=\"muted\">{escape(rng)} · "
                        f"{escape(entry.scorecards)} scorecards · sha256 {escape(entry.sha256[:12])}…</span>")
        out.append(("Version(s) 版本", "<br>".join(vers) or "—"))
        titles = [f"{escape(s.title)}" + (f' <span class="muted">({escape(s.version)})</span>' if multi else "")
                  for s in facts.schemes]
        out.append(("Title 标题", "<br>".join(titles) or '<span class="muted">scheme file not available</span>'))
        approvals = []
        for a in facts.approvals:
            text = escape(a.text(label=False))
            if a.state != "committed":
                text = f'<span class="bad">{text} · {NOT_APPROVED[a.state]}</span>'
            approvals.append(text + (f' <span class="muted">({escape(a.version)})</span>' if multi else ""))
        out.append(("Approved by 审批", "<br>".join(approvals) or '<span class="muted">not recorded</span>'))
        out.append(("Data period 数据期间", escape(facts.data_period)))
        out.append(("Rows 记录", "<br>".join([str(rows), *(f"<code>{escape(name)}</code> {counts}"
                                                          for name, counts in facts.sources)])))
        out.append(("Subjects 评价对象", f"{view.scorecards} · grouped by "
                    + (", ".join(f"<code>{escape(g)}</code>" for g in facts.group_by) or "record")))
        inputs = [f"<code>{escape(i.path)}</code> <span class=\"muted\">{escape(i.rows_read)} rows · "
                  f"{escape(i.format)}/{escape(i.encoding)} · sha256 {escape(i.sha256[:12])}…</span>"
                  for i in facts.inputs]
        out.append(("Inputs 输入", "<br>".join(inputs) or "—"))
        out.append(("Manifest SHA-256", "this report is one of the run's outputs: manifest.json lists its SHA-256"
                    if facts.in_run else f'<span class="mono">{escape(facts.manifest_sha256)}</span>'))
        out.append(("Engine 引擎",
                    f"qualiscore {escape(facts.engine_version)} · engine {escape(facts.engine_name)}"))
        options = [f"--by {escape(','.join(facts.option_by))}" if facts.option_by else "",
                   f"--as-of {escape(facts.option_as_of)}" if facts.option_as_of else "",
                   f"--encoding {escape(facts.option_encoding)}" if facts.option_encoding else ""]
        if any(options):
            out.append(("Options 选项", " ".join(x for x in options if x)))
        out.append(("Signature 签名", _signature(facts.signature)))
        half = (len(out) + 1) // 2
        cols = "".join(
            "<dl>" + "".join(f'<div class="f"><dt>{k}</dt><dd>{v}</dd></div>' for k, v in part) + "</dl>"
            for part in (out[:half], out[half:])
        )
        body = f'<div class="facts">{cols}</div>'
        if facts.output_problems:
            body += ('<div class="alert"><strong>Outputs do not match the manifest:</strong> '
                     + "; ".join(escape(p) for p in facts.output_problems)
                     + ". What this report shows may have been edited after the run.</div>")
        else:
            body += (f'<div class="good">{escape(", ".join(facts.outputs))} match their SHA-256 in manifest.json. '
                     '<span class="muted">For a full audit (scheme, inputs, recomputation) run '
                     "<code>qualiscore verify</code>.</span></div>")
        body += "".join(f'<div class="note">{escape(n)}</div>' for n in facts.notes)
        if not view.scorecards:
            body += '<div class="note">This run produced no scorecards: the charts below are empty.</div>'
        if facts.changelog:
            body += ("<h3>Changelog 变更记录</h3><ul>"
                     + "".join(f"<li><code>{escape(v)}</code> {escape(c)}</li>" for v, c in facts.changelog)
                     + "</ul>")
        return _section("run", "", body)

    # ----------------------------------------------------------------- grades

    def grades_section(self) -> str:
        view = self.view
        total = view.scorecards
        versions = view.versions if view.multi_version else ()
        head = ["Grade 等级", "Scorecards", "Share", *([f"<code>{escape(v)}</code>" for v in versions])]
        rows = []
        for g in view.grades:
            n = g.scorecards
            width = 100 * n / total if total else 0
            share = (f'<div style="display:flex;gap:8px;align-items:center"><div class="bar" style="flex:1">'
                     f'<i style="width:{width:.1f}%;background:{self.colours[g.grade]}"></i>'
                     f"</div><span>{pct(n, total)}</span></div>")
            cells = [self.badge(g.grade), f"{n}" + (f' <span class="muted">({g.by_veto} by veto)</span>'
                                                    if g.by_veto else ""), share]
            cells += [str(count) for count in g.by_version[:len(versions)]]
            rows.append(cells)
        bands = ""
        if view.grade_bands_version is not None:
            high_first = sorted(view.grade_bands, key=lambda g: -g.min)
            bands = " · ".join(f"{escape(g.name)} ≥ {g.min:g}" for g in high_first)
            bands = f"Grade bands 等级划分 ({escape(view.grade_bands_version)}): {bands}. "
        lead = bands + "Grades in scheme order; a veto can override the grade the score gives."
        body = (f'<div class="grid2"><div>{self.charts.embed(self.charts.grades(view), "grades")}</div>'
                f"<div>{_table(head, rows, numeric=[1, *range(3, 3 + len(versions))])}</div></div>")
        return _section("grades", lead, body)

    # ----------------------------------------------------------------- scores

    def scores_section(self) -> str:
        s = self.view.scores
        stats = [
            ("Scored 有得分", f"{s.scored}"),
            ("No score 无得分", f"{s.unscored}"),
            ("Mean 平均", fmt_number(s.mean)),
            ("Median 中位数", fmt_number(s.median)),
            ("P10 / P90", f"{fmt_number(s.p10)} / {fmt_number(s.p90)}"),
            ("Min / Max", f"{fmt_number(s.lowest)} / {fmt_number(s.highest)}"),
        ]
        table = _table(["Statistic", "Value"], [[k, v] for k, v in stats], numeric=[1])
        lead = "Histogram of total scores, coloured by the final grade (a vetoed high score shows in the veto's colour)."
        body = f'<div class="grid2 wide">' \
               f'<div>{self.charts.embed(self.charts.scores(self.view), "scores")}</div><div>{table}</div></div>'
        return _section("scores", lead, body)

    # ----------------------------------------------------------------- indicators

    def indicators_section(self) -> str:
        view = self.view
        multi = view.multi_version
        head = ["Dimension / indicator 维度 / 指标", *(["Version"] if multi else []), "Scored / N/A",
                "Mean value 平均值", "Target 目标", "Subjects meeting target 达标占比", "Mean points 平均得分"]
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
                            met_text += (f'<br><span class="muted" title="subjects whose interval holds the target">'
                                         f"{i.undecided} too close to tell</span>")
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
        lead = ("Means over scorecards where the indicator was scored (not-applicable indicators are left out). "
                "Targets are each indicator's <code>target</code> as recorded in scorecards.jsonl; "
                "green meets the target, red does not (direction from the scheme's scoring).")
        intervals, whiskers = self._interval_words(), ""
        if intervals:
            lead += (f" In brackets, the mean of the subjects' {intervals} of the value: how far a subject's measured "
                     "value may be from what more data would show. \"Too close to tell\": subjects whose interval "
                     "holds the target.")
            whiskers = f"; whiskers: the mean of the subjects' {intervals}"
        charts = self.charts
        dimensions = charts.embed(charts.dimensions(view), "dimensions")
        points = charts.embed(charts.indicator_points(view), "indicator-points")
        targets = charts.embed(charts.indicator_targets(view), "indicator-targets")
        body = (f'<div class="grid2"><div><h3>Dimension mean score 维度平均分</h3>{dimensions}</div>'
                f"<div><h3>Indicator mean points 指标平均得分</h3>{points}</div></div>"
                f'<h3>Mean value against target 平均值与目标</h3><p class="lead">Bar: mean value over subjects '
                f'(green meets the target, red misses it, grey has no target){whiskers}; black line: the target.</p>'
                f"{targets}{table}")
        return _section("indicators", lead, body)

    def _interval_words(self) -> str:
        """``95% confidence intervals`` when some indicator has intervals, else empty."""
        if not any(i.mean_low is not None for i in self.view.indicators):
            return ""
        level = self.view.stability.level
        return f"{level * 100:g}% confidence intervals" if level is not None else "confidence intervals"

    # ----------------------------------------------------------------- breakdowns

    def breakdowns_section(self) -> str:
        view, run = self.view, self.view.run
        parts = []
        for table in view.breakdowns:
            b = table.breakdown
            head = [escape(b.label), *[escape(p or "all") for p in table.periods]]
            rows = []
            for v in table.values:
                cells = [f"<strong>{escape(v)}</strong>"]
                for p in table.periods:
                    r = table.cells.get((v, p))
                    if r is None:
                        cells.append('<span class="muted">—</span>')
                        continue
                    extra = (f' <span class="muted">{r.subjects} subj.</span>' if r.subjects is not None
                             else f' <span class="muted">{r.records} rec.</span>')
                    cells.append(f"{fmt_number(r.score)} " + (self.badge(r.grade) if r.grade else "") + extra)
                rows.append(cells)
            how = ("score of the pooled records 合并记录得分" if b.method == "pooled"
                   else "mean of subject scores 对象平均分")
            chart = self.charts.embed(self.charts.breakdown(table, view.grade_bands), "breakdown-" + b.field)
            parts.append(f'<h3>By {escape(b.label)}</h3><p class="lead">{escape(how)} — {escape(b.source)}.</p>'
                         f"{chart}{_table(head, rows, numeric=range(1, len(head)))}")
        notes = "".join(f'<div class="note">{escape(n)}</div>' for n in run.breakdown_notes)
        if not run.breakdowns:
            fields = ", ".join(run.breakdown_fields) or "team"
            notes += (f'<div class="note">No breakdown could be shown. Breakdowns ({escape(fields)}) are scored from '
                      "the pooled records of each group: run <code>qualiscore evaluate SCHEME DATA -o out-team --by "
                      "team</code> and pass <code>--by-dir out-team</code> to <code>qualiscore report</code>, or keep "
                      "the run's scheme and input files where the manifest says they are.</div>")
        fields = ", ".join(f"<code>{escape(f)}</code>" for f in run.breakdown_fields)
        group_by = view.facts.group_by
        if group_by:
            lead = (f"Scorecards are per {escape(', '.join(group_by))}; a group's score is the scheme applied to all "
                    "of the group's records (pooled), not an average of its subjects' scores.")
        else:
            lead = "Scorecards are per record; a group's figure is the mean score of its records."
        lead += f" The scheme lists breakdowns {fields}." if fields else ""
        return _section("breakdowns", lead, notes + "".join(parts))

    # ----------------------------------------------------------------- trend

    def trend_section(self) -> str:
        view, trend = self.view, self.view.trend
        if trend is None:
            return _section("trend", "", '<p class="muted">The data covers a single period'
                            f" ({escape(view.periods[0] if view.periods else '—')}): no trend to show.</p>")
        head = ["Period 期间", "Version 版本", "Subjects", "Mean score",
                *[self.badge(g) for g in view.grade_order]]
        rows = [[escape(p.period), f"<code>{escape(p.versions)}</code>", str(p.subjects), fmt_number(p.mean),
                 *[str(n) for n in p.grades]] for p in trend.periods]
        series = trend.series
        who = (f"; thin lines: {escape(series.label)} "
               f"({'pooled records' if series.method == 'pooled' else 'mean of subjects'})"
               if series is not None else "")
        lead = f"Mean subject score per period (thick line){who}."
        return _section("trend", lead, self.charts.embed(self.charts.trend(trend), "trend")
                        + _table(head, rows, numeric=range(2, len(head))))

    # ----------------------------------------------------------------- extremes

    def _ranked_table(self, cards: Sequence[SubjectCard]) -> str:
        multi = self.view.multi_version
        rows = []
        for rank, c in enumerate(cards, 1):
            decided = c.decided_by or ""
            if decided == "score":
                how = '<span class="muted">score</span>'
            elif c.deciding_veto is not None:
                how = f'<span class="pill" title="{escape(decided)}">veto · {escape(c.deciding_veto)}</span>'
            else:
                how = escape(decided)
            rows.append([str(rank), _subject_link(c), fmt_number(c.score), self.badge(c.grade) + _unsure(c), how,
                         *([f"<code>{escape(c.version)}</code>"] if multi else [])])
        head = ["#", "Subject 对象", "Score", "Grade", "Decided by", *(["Version"] if multi else [])]
        return _table(head, rows, numeric=[0, 2])

    def extremes_section(self) -> str:
        lead = "Click a subject for its full explanation (the same tree as <code>qualiscore explain</code>)."
        body = (f'<div class="grid2"><div><h3>Lowest {TOP_N} 最低</h3>{self._ranked_table(self.view.lowest)}</div>'
                f'<div><h3>Highest {TOP_N} 最高</h3>{self._ranked_table(self.view.highest)}</div></div>')
        return _section("extremes", lead, body)

    # ----------------------------------------------------------------- uncertain grades

    def uncertain_section(self) -> str:
        view, stability = self.view, self.view.stability
        if not stability.estimated:
            return _section("uncertain", "", '<p class="muted">No scorecard of this run has a stability figure: its '
                            "scheme measures no estimate (a share, a mean, a rate…) or the run was made before "
                            "qualiscore estimated them.</p>")
        threshold = (f"{stability.stable_at * 100:g}%" if stability.stable_at is not None
                     else "the scheme's <code>confidence.stable_at</code>")
        lead = (f"A grade's stability is the share of plausible draws of the scorecard's indicators — each from its "
                f"sampling distribution — that give the same grade. Below {threshold} the grade is marked "
                '<span class="unsure">may change 可能变化</span>: it rests on too few records to be sure of, and '
                "more data may move it.")
        if not stability.uncertain:
            return _section("uncertain", lead, f'<p class="ok">Every grade is stable: all {stability.estimated} '
                            f"graded scorecards keep their grade in at least {threshold} of draws.</p>")
        multi = view.multi_version
        rows = [[str(rank), _subject_link(c), escape(c.period or "—"), fmt_number(c.score), self.badge(c.grade),
                 "—" if c.stability is None else f"{c.stability * 100:.0f}%",
                 *([f"<code>{escape(c.version)}</code>"] if multi else [])]
                for rank, c in enumerate(stability.uncertain[:UNCERTAIN_ROWS], 1)]
        lead += (f" {len(stability.uncertain)} of {stability.estimated} graded scorecards "
                 f"({pct(len(stability.uncertain), stability.estimated)}), least stable first.")
        if len(stability.uncertain) > UNCERTAIN_ROWS:
            lead += f" The first {UNCERTAIN_ROWS} are listed; scorecards.csv has the column <code>uncertain</code>."
        head = ["#", "Subject 对象", "Period", "Score", "Grade", "Stability 稳定度", *(["Version"] if multi else [])]
        return _section("uncertain", lead, _table(head, rows, numeric=[0, 3, 5]))

    # ----------------------------------------------------------------- vetoes

    def vetoes_section(self) -> str:
        view = self.view
        if not view.vetoed:
            return _section("vetoes", "", '<p class="ok">No veto was triggered. 无一票否决。</p>')
        summary = [[f"{escape(s.name)} <code>{escape(s.id)}</code>",
                    ("grade " if s.effect == "grade" else "cap at ") + self.badge(s.grade),
                    str(s.scorecards), str(s.records)] for s in view.veto_summary]
        rows = []
        for c in view.vetoed[:VETO_ROWS]:
            for v in c.vetoes:
                shown = "".join(f"<code>{escape(x)}</code>" for x in v.evidence[:EVIDENCE_SHOWN])
                more = (f' <span class="muted">… and {len(v.evidence) - EVIDENCE_SHOWN} more</span>'
                        if len(v.evidence) > EVIDENCE_SHOWN else "")
                if v.measured is not None:
                    shown, more = f"<code>{escape(v.measured)}</code>", ""
                rows.append([_subject_link(c), escape(c.period or "—"),
                             f"{fmt_number(c.score)} " + self.badge(c.score_grade) + " → " + self.badge(c.grade)
                             + _unsure(c),
                             f"{escape(v.name)} <code>{escape(v.id)}</code><br><span class=\"muted\">"
                             f"{escape(v.reason)}</span>",
                             f'<span class="evidence">{shown}{more}</span>'])
        lead = (f"{len(view.vetoed)} scorecard(s) decided or capped by a veto; evidence lists the record ids that "
                "triggered it.")
        measured = any(v.measured is not None for c in view.vetoed for v in c.vetoes)
        if measured:
            lead += " A veto on a measured value shows the value and the threshold it passed."
        if len(view.vetoed) > VETO_ROWS:
            lead += f" The first {VETO_ROWS} are listed; all are in scorecards.jsonl."
        body = (_table(["Veto 否决项", "Effect", "Scorecards", "Evidence records"], summary, numeric=[2, 3])
                + "<h3>Triggered vetoes 触发明细</h3>"
                + _table(["Subject 对象", "Period", "Score → grade", "Veto",
                          "Evidence 证据 (record ids, or value and threshold)" if measured
                          else "Evidence 证据 (record ids)"], rows))
        return _section("vetoes", lead, body)

    # ----------------------------------------------------------------- rejects

    def rejects_section(self) -> str:
        view, rejects = self.view, self.view.rejects
        read, rejected = view.facts.rows.read, view.facts.rows.rejected
        if not rejects.problems:
            msg = "No row was rejected. 无拒收记录。" if not rejected else "rejects.csv lists no problems."
            return _section("rejects", "", f'<p class="ok">{escape(msg)}</p>')
        by_code = _table(["Code 原因", "Problems", "Fields"],
                         [[f"<code>{escape(r.code)}</code>", str(r.problems),
                           ", ".join(f"{escape(f)} ({k})" for f, k in r.fields)] for r in rejects.by_code],
                         numeric=[1])
        by_field = _table(["Field 字段", "Problems"], [[f"<code>{escape(f)}</code>", str(n)]
                                                      for f, n in rejects.by_field], numeric=[1])
        cols = ["source", "row", "record_id", "field", "value", "code", "reason"]
        first = [[escape(r.get(k, "")) if k != "code" else f"<code>{escape(r.get(k, ''))}</code>" for k in cols]
                 for r in rejects.first]
        lead = (f"{rejected} of {read} rows rejected ({pct(rejected, read)}), "
                f"{rejects.problems} problem(s) in rejects.csv. Rejected rows are not scored.")
        body = (f'<div class="grid2"><div><h3>By code</h3>{by_code}</div><div><h3>By field</h3>{by_field}</div></div>'
                f"<h3>First {min(REJECT_ROWS, rejects.problems)} rows of rejects.csv</h3>"
                + _table(cols, first, numeric=[1]))
        return _section("rejects", lead, body)

    # ----------------------------------------------------------------- explanations

    def explanations_section(self) -> str:
        view = self.view
        listed, total = len(view.explanations), view.scorecards
        only = ('<label><input type="checkbox" id="subject-unsure"> only grades that may change</label>'
                if any(x.card.uncertain for x in view.explanations) else "")
        finder = ('<div class="finder"><input type="search" id="subject-filter" aria-label="find a scorecard" '
                  'placeholder="Subject, period or grade · 对象、期间或等级">'
                  f'{only}<span id="subject-count" class="muted">{listed} of {listed}</span></div>')
        how = ("the same tree as <code>qualiscore explain</code>: each indicator's value, points, weight and "
               "contribution, and what decided the grade")
        lead = f"Every scorecard ({total}): click one for its explanation, {how}."
        if listed < total:
            lead = (f"{total} scorecards, more than a page should carry: the {listed} that most need a look are "
                    f"listed — the lowest and highest {TOP_N}, the vetoed, those whose grade may change, then the "
                    f"lowest scores — with their explanation, {how}. scorecards.csv has all {total}; "
                    f"<code>qualiscore explain {escape(view.facts.outdir_name)} --subject ID</code> explains any.")
        items = "".join(self._explanation(x.card) for x in view.explanations)
        trees = _packed({_anchor(x.card): {"tree": x.tree, "table": _indicator_rows(x.indicators)}
                         for x in view.explanations})
        return _section("explanations", lead, finder + NO_SCRIPT + f'<div id="subject-list">{items}</div>'
                        f'<script type="application/gzip+base64" id="explanations-data">{trees}</script>')

    def _explanation(self, c: SubjectCard) -> str:
        """One scorecard as a <details>; the page's script puts its indicators in the <div>, its tree in the <pre>."""
        return (f'<details class="expl" id="{_anchor(c)}"><summary><span class="subject">{escape(c.subject)}</span>'
                f"{self.badge(c.grade)}<span>{fmt_number(c.score)}</span>{_unsure(c)}"
                f'<span class="muted">{escape(c.version)} · {escape(c.records)} records'
                f'</span></summary><div class="ind"></div><pre></pre></details>')


def render_html(view: ReportView) -> str:
    """The self-contained page of ``view``."""
    return _Page(view).render()
