"""The report's plotly figures, each drawn from the view model and embedded as a <div>.

Plotly is an optional dependency (``pip install 'qualiscore[report]'``), imported
only when an HTML page is built; it writes the figures' JSON. The page draws them with
the basic plotly.js bundle vendored in ``vendor/`` (bar, scatter and pie: a quarter of
the full bundle plotly ships), so a report stays small. Labels inside figures are
escaped, since plotly draws some of them as HTML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from .._display import fmt_number
from ..errors import UsageError
from ..i18n import _
from .colours import PERIOD_COLOURS, SERIES_COLOURS
from .formatting import escape, fmt_interval, fmt_measure, grade_label, pct
from .run import NO_GRADE
from .stats import IndicatorStats
from .view import SCORE_BIN, BreakdownTable, GradeBand, ReportView, Trend

PLOTLY_JS = "plotly-basic.min.js"  # in vendor/, with its licence and how to refresh it
PLOT_FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'


def _missing_plotly() -> UsageError:
    from .._install import install_hint

    return UsageError(
        _("the HTML report needs the plotly package, which is not installed"),
        hint=_("{install}, or write a Markdown summary with --format md", install=install_hint("report")),
    )


def plotly_modules() -> tuple[Any, Any, Any]:
    """plotly's modules, imported here only: it is an optional dependency."""
    try:
        import plotly.graph_objects as go
        import plotly.io as pio
        from plotly.subplots import make_subplots
    except ImportError:
        raise _missing_plotly() from None
    return go, pio, make_subplots


@cache
def plotly_js() -> str:
    """The vendored plotly.js bundle, safe to inline in a <script> element."""
    js = (files("qualiscore.report") / "vendor" / PLOTLY_JS).read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


def plotly_js_version() -> str:
    """The version the vendored bundle states in its banner, e.g. ``4.1.1``."""
    found = re.search(r"\* plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", plotly_js()[:400])
    return found.group(1) if found else "?"


def _grade_lines(bands: Sequence[GradeBand]) -> list[GradeBand]:
    """The grade thresholds worth a line on a 0–100 axis."""
    return [g for g in bands if 0 < g.min < 100]


def _whiskers(stats: Sequence[IndicatorStats]) -> dict[str, Any] | None:
    """Error bars from each bar's mean value to the mean ends of the subjects' intervals; None without intervals."""
    if all(i.mean_low is None or i.mean_value is None for i in stats):
        return None
    up = [None if i.mean_high is None or i.mean_value is None else max(i.mean_high - i.mean_value, 0.0)
          for i in stats]
    down = [None if i.mean_low is None or i.mean_value is None else max(i.mean_value - i.mean_low, 0.0)
            for i in stats]
    return {"type": "data", "symmetric": False, "array": up, "arrayminus": down, "color": "#334155",
            "thickness": 1.5, "width": 8}


class Charts:
    """Figures as <div>s sharing one inlined plotly.js; ``count`` is how many were embedded."""

    def __init__(self, colours: Mapping[str, str]) -> None:
        self.go, self.pio, self.make_subplots = plotly_modules()
        self.colours = colours
        self.count = 0

    def layout(self, height: int, **extra: Any) -> dict[str, Any]:
        axis = {"gridcolor": "#eef0f4", "zerolinecolor": "#d1d5db", "linecolor": "#d1d5db", "automargin": True,
                "tickfont": {"size": 12}}
        base: dict[str, Any] = {
            "template": "none", "height": height, "autosize": True,
            "font": {"family": PLOT_FONT, "size": 13, "color": "#1f2937"},
            "margin": {"l": 56, "r": 20, "t": 36, "b": 44},
            "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
            "hoverlabel": {"font": {"family": PLOT_FONT}},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 12}},
            "xaxis": dict(axis), "yaxis": dict(axis),
        }
        for k, v in extra.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                base[k] = {**base[k], **v}
            else:
                base[k] = v
        return base

    def embed(self, fig: Any, name: str) -> str:
        self.count += 1
        height = fig.layout.height or 360
        div_id = f"chart-{self.count}"
        snippet = self.pio.to_html(
            fig, full_html=False, include_plotlyjs=False, div_id=div_id, default_width="100%",
            default_height=f"{int(height)}px",
            config={"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                    "toImageButtonOptions": {"filename": f"qualiscore-{name}", "scale": 2}},
        )
        return f'<div class="chart" data-chart="{escape(name)}">{snippet}</div>'

    # ----------------------------------------------------------------- figures

    def grades(self, view: ReportView) -> Any:
        go, grades, total = self.go, view.grades, view.scorecards
        fig = go.Figure(go.Bar(
            x=[escape(grade_label(g.grade)) for g in grades], y=[g.scorecards for g in grades],
            marker={"color": [self.colours[g.grade] for g in grades]},
            text=[f"{g.scorecards} · {pct(g.scorecards, total)}" for g in grades], textposition="outside",
            cliponaxis=False, hovertemplate=_("{x}: {y} scorecards", x="%{x}", y="%{y}") + "<extra></extra>",
        ))
        top = max([g.scorecards for g in grades] + [1])
        fig.update_layout(**self.layout(340, showlegend=False, bargap=0.35,
                                        yaxis={"title": {"text": _("scorecards")}, "range": [0, top * 1.18]},
                                        xaxis={"type": "category"}))
        return fig

    def scores(self, view: ReportView) -> Any:
        go = self.go
        edges = list(range(0, 100, SCORE_BIN))
        fig = go.Figure()
        for g, counts in view.scores.histogram:
            fig.add_trace(go.Bar(
                x=[lo + SCORE_BIN / 2 for lo in edges], y=list(counts), width=[SCORE_BIN * 0.96] * len(edges),
                name=escape(grade_label(g)), marker={"color": self.colours[g]},
                customdata=[f"{lo}–{lo + SCORE_BIN}" for lo in edges],
                hovertemplate=_("{grade} · score {range}: {n}", grade=escape(grade_label(g)), range="%{customdata}",
                                n="%{y}") + "<extra></extra>",
            ))
        shapes, notes = [], []
        for gr in _grade_lines(view.grade_bands):
            shapes.append({"type": "line", "x0": gr.min, "x1": gr.min, "yref": "paper", "y0": 0, "y1": 1,
                           "line": {"color": "#64748b", "width": 1, "dash": "dot"}})
            notes.append({"x": gr.min, "yref": "paper", "y": 1.0, "text": f"{escape(gr.name)} ≥ {gr.min:g}",
                          "showarrow": False, "xanchor": "left", "yanchor": "top", "font": {"size": 11,
                                                                                           "color": "#475569"}})
        fig.update_layout(**self.layout(
            360, barmode="stack", bargap=0, shapes=shapes, annotations=notes, legend={"traceorder": "normal"},
            xaxis={"title": {"text": _("score (bins of {n})", n=SCORE_BIN)}, "range": [0, 100], "dtick": 10},
            yaxis={"title": {"text": _("scorecards")}},
        ))
        return fig

    def _dimension_colours(self, view: ReportView) -> dict[str, str]:
        return {d: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, (d, _) in enumerate(view.dimension_order)}

    def _version_colours(self, view: ReportView) -> dict[str, str]:
        return {v: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, v in enumerate(view.versions)}

    def dimensions(self, view: ReportView) -> Any:
        go, multi = self.go, view.multi_version
        vcolour, dcolour = self._version_colours(view), self._dimension_colours(view)
        fig = go.Figure()
        for v in view.versions:
            ds = [d for d in view.dimensions if d.version == v]
            if not ds:
                continue
            fig.add_trace(go.Bar(
                x=[escape(d.name) for d in ds], y=[d.mean for d in ds], name=escape(v),
                marker={"color": vcolour[v] if multi else [dcolour[d.id] for d in ds]},
                text=[fmt_number(d.mean, 1) for d in ds], textposition="outside", cliponaxis=False,
                hovertemplate=_("{x}: mean score {y}", x="%{x}", y="%{y:.2f}") + "<extra>" + escape(v) + "</extra>",
            ))
        fig.update_layout(**self.layout(360, barmode="group", showlegend=multi,
                                        yaxis={"range": [0, 110], "dtick": 20}))
        return fig

    def indicator_points(self, view: ReportView) -> Any:
        go, multi, order = self.go, view.multi_version, view.indicator_order
        vcolour, dcolour = self._version_colours(view), self._dimension_colours(view)
        fig = go.Figure()
        for v in view.versions:
            vi = {i.id: i for i in view.indicators if i.version == v}
            if not vi:
                continue
            fig.add_trace(go.Bar(
                y=[escape(name) for (_, _, name) in order],
                x=[vi[iid].mean_points if iid in vi else None for (_, iid, _) in order],
                orientation="h", name=escape(v),
                marker={"color": vcolour[v] if multi else [dcolour[d] for (d, _, _) in order]},
                text=[fmt_number(vi[iid].mean_points, 1) if iid in vi else "" for (_, iid, _) in order],
                textposition="outside", cliponaxis=False,
                hovertemplate=_("{y}: mean points {x}", y="%{y}", x="%{x:.2f}") + "<extra>" + escape(v) + "</extra>",
            ))
        fig.update_layout(**self.layout(
            max(320, 44 + 30 * len(order) * max(1, len(view.versions) if multi else 1)), barmode="group",
            showlegend=multi, margin={"l": 10}, xaxis={"range": [0, 112], "dtick": 20},
            yaxis={"autorange": "reversed", "type": "category"}))
        return fig

    def indicator_targets(self, view: ReportView) -> Any:
        """Mean value against target, one small panel per indicator (one bar per version)."""
        go, panels = self.go, view.indicator_order
        cols = 3 if len(panels) >= 3 else max(1, len(panels))
        nrows = max(1, math.ceil(len(panels) / cols))
        fig = self.make_subplots(rows=nrows, cols=cols, subplot_titles=[escape(n) for (_, _, n) in panels],
                                 horizontal_spacing=0.09, vertical_spacing=min(0.5 / nrows, 0.16))
        for k, (_dim, iid, _name) in enumerate(panels):
            r, col = k // cols + 1, k % cols + 1
            stats = [i for i in view.indicators if i.id == iid]
            share = any(i.share_like for i in stats)
            xs = [escape(i.version) for i in stats]
            whiskers = _whiskers(stats)
            colours = ["#94a3b8" if i.mean_meets_target is None else "#16a34a" if i.mean_meets_target else "#dc2626"
                       for i in stats]
            fig.add_trace(go.Bar(
                x=xs, y=[i.mean_value for i in stats], marker={"color": colours}, showlegend=False, width=0.5,
                text=[fmt_measure(i.mean_value, share) for i in stats], textposition="inside",
                insidetextanchor="end" if whiskers is None else "start", textfont={"color": "#ffffff"},
                error_y=whiskers,
                customdata=[fmt_interval(i.mean_value, i.mean_low, i.mean_high, share) for i in stats],
                hovertemplate=_("mean {value}", value="%{customdata}") + "<extra>%{x}</extra>"), row=r, col=col)
            targets = [i.target for i in stats]
            if any(t is not None for t in targets):
                fig.add_trace(go.Scatter(
                    x=xs, y=targets, mode="markers", showlegend=False, name=_("target"),
                    marker={"symbol": "line-ew", "size": 46, "line": {"width": 3, "color": "#111827"}},
                    customdata=[fmt_measure(t, share) for t in targets],
                    hovertemplate=_("target {value}", value="%{customdata}") + "<extra>%{x}</extra>"), row=r, col=col)
            yaxis: dict[str, Any] = {"rangemode": "tozero", "gridcolor": "#eef0f4", "automargin": True}
            seen = [x for x in [*(i.mean_value for i in stats), *(i.mean_high for i in stats), *targets]
                    if x is not None]
            top = max(seen, default=1.0)
            if share:
                yaxis.update(tickformat=".0%" if top > 0.2 else ".1%", range=[0, 1.08 if top > 0.6 else top * 1.3])
            elif seen and min(seen) >= 0:
                yaxis.update(range=[0, top * 1.2])
            fig.update_yaxes(row=r, col=col, **yaxis)
            fig.update_xaxes(row=r, col=col, type="category", showticklabels=view.multi_version)
        for ann in fig.layout.annotations:
            ann.font = {"size": 13}
        fig.update_layout(**self.layout(
            max(300, 230 * nrows + 60), bargap=0.3, margin={"t": 60, "b": 24}, showlegend=False))
        return fig

    def breakdown(self, table: BreakdownTable, bands: Sequence[GradeBand]) -> Any:
        go, b, periods, values = self.go, table.breakdown, table.periods, table.values
        fig = go.Figure()
        for k, p in enumerate(periods):
            pr = {v: table.cells[(v, p)] for v in values if (v, p) in table.cells}
            colour = (PERIOD_COLOURS[round(k * (len(PERIOD_COLOURS) - 1) / (len(periods) - 1))]
                      if len(periods) > 1 else "#2563eb")
            marker: dict[str, Any] = {"color": colour}
            if len(periods) == 1 and b.method == "pooled":
                marker = {"color": [self.colours.get(pr[v].grade or NO_GRADE, "#2563eb") if v in pr else "#2563eb"
                                    for v in values]}
            fig.add_trace(go.Bar(
                x=[escape(v) for v in values], y=[pr[v].score if v in pr else None for v in values],
                name=escape(p) if p else _("all"), marker=marker,
                customdata=[[escape(pr[v].grade or "") if v in pr else "", pr[v].records if v in pr else 0]
                            for v in values],
                hovertemplate=f"%{{x}} · {escape(p)}: %{{y:.2f}} %{{customdata[0]}} · "
                              + _("{n} records", n="%{customdata[1]}") + "<extra></extra>",
                text=[fmt_number(pr[v].score, 1) if v in pr else "" for v in values] if len(values) * len(periods)
                <= 40 else None, textposition="outside", cliponaxis=False, textfont={"size": 11},
            ))
        shapes, marks = [], []
        for gr in _grade_lines(bands):
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": gr.min, "y1": gr.min,
                           "line": {"color": self.colours.get(gr.name, "#94a3b8"), "width": 1, "dash": "dot"}})
            marks.append({"xref": "paper", "x": 1, "y": gr.min, "text": f"{escape(gr.name)} ≥ {gr.min:g}",
                          "showarrow": False, "xanchor": "right", "yanchor": "bottom",
                          "font": {"size": 10, "color": self.colours.get(gr.name, "#64748b")}})
        fig.update_layout(**self.layout(
            360, barmode="group", bargap=0.22, showlegend=len(periods) > 1, shapes=shapes, annotations=marks,
            yaxis={"range": [0, 108], "title": {"text": _("score")}, "dtick": 20},
            xaxis={"type": "category", "title": {"text": escape(b.label)}}))
        return fig

    def trend(self, trend: Trend) -> Any:
        go = self.go
        periods = [p.period for p in trend.periods]
        fig = go.Figure()
        for k, (v, scores) in enumerate(trend.series_scores):
            fig.add_trace(go.Scatter(
                x=periods, y=list(scores), mode="lines+markers", name=escape(v),
                line={"width": 1.6, "color": SERIES_COLOURS[(k + 1) % len(SERIES_COLOURS)]},
                marker={"size": 6}, opacity=0.85, connectgaps=False,
                hovertemplate=f"{escape(v)} · %{{x}}: %{{y:.2f}}<extra></extra>"))
        means = [p.mean for p in trend.periods]
        fig.add_trace(go.Scatter(
            x=periods, y=means, mode="lines+markers+text", name=_("all subjects"),
            line={"width": 4, "color": "#0f172a"}, marker={"size": 9},
            text=[fmt_number(m, 1) for m in means], textposition="top center",
            customdata=[escape(p.versions) for p in trend.periods],
            hovertemplate=_("all · {x}: {y} ({versions})", x="%{x}", y="%{y:.2f}", versions="%{customdata}")
            + "<extra></extra>"))
        shapes, notes = [], []
        for k, p in enumerate(trend.periods):
            if p.version_changed:
                shapes.append({"type": "line", "x0": k - 0.5, "x1": k - 0.5, "yref": "paper", "y0": 0, "y1": 1,
                               "line": {"color": "#64748b", "dash": "dash", "width": 1}})
                notes.append({"x": k - 0.5, "yref": "paper", "y": 1, "text": _("{versions} in force", versions=escape(p.versions)),
                              "showarrow": False, "xanchor": "left", "yanchor": "top",
                              "font": {"size": 11, "color": "#475569"}})
        fig.update_layout(**self.layout(
            380, shapes=shapes, annotations=notes, xaxis={"type": "category", "title": {"text": _("period")}},
            yaxis={"title": {"text": _("score")}, "range": [0, 105], "dtick": 20}))
        return fig
