"""The run report: one self-contained HTML page (or a Markdown summary) of an output directory.

The page needs no network: CSS, JavaScript (plotly.js, inlined once) and data are all
in the file. Every text that comes from a scheme, a data file or an output file is
escaped, since titles, subject keys and record ids are not trusted.

Breakdowns per team or channel are never averaged from agent scorecards when the
records are at hand: the scheme is applied again to the pooled records of each team
(``evaluate --by team``), from the run's own inputs, after checking their SHA-256
against the manifest. Directories written by ``evaluate --by FIELD`` can be given
instead (``--by-dir``).

Plotly is an optional dependency (``pip install 'qualiscore[report]'``) and is only
imported when an HTML report is built; this module itself imports only the standard
library and click, so registering the command keeps ``qualiscore --help`` fast.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

FORMATS = ("html", "md")
INSTALL_HINT = "pip install 'qualiscore[report]'"
TOP_N = 10
REJECT_ROWS = 20
EVIDENCE_SHOWN = 20
MAX_EXPLANATIONS = 300
VETO_ROWS = 200

FONT_STACK = ('-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Microsoft YaHei", '
              '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif')
PLOT_FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
MONO_STACK = ('ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", '
              '"WenQuanYi Micro Hei Mono", monospace')

GRADE_COLOURS = {"优秀": "#16a34a", "良好": "#2563eb", "合格": "#f59e0b", "不合格": "#dc2626"}
OTHER_COLOURS = ("#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569")
NO_GRADE = "(none)"
NO_GRADE_COLOUR = "#9ca3af"
SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f",
                  "#ff9da7", "#bab0ac")
PERIOD_COLOURS = ("#9ec5fb", "#74a9f6", "#4f8ff0", "#2f74e0", "#1d5fc9", "#1a4ca6", "#173b82", "#142c60")

SECTIONS = (
    ("run", "Run · 运行概况"),
    ("grades", "Grade distribution · 等级分布"),
    ("scores", "Score distribution · 得分分布"),
    ("indicators", "Dimensions and indicators vs target · 维度与指标达标"),
    ("breakdowns", "Breakdowns · 分组对比"),
    ("trend", "Trend over periods · 趋势"),
    ("extremes", "Lowest and highest 10 · 最低与最高 10 名"),
    ("vetoes", "Vetoes · 一票否决"),
    ("rejects", "Rejected rows · 拒收记录"),
    ("explanations", "Scorecard explanations · 评分明细"),
)
HEADINGS = dict(SECTIONS)


# --------------------------------------------------------------------------- errors


def _missing_plotly() -> Exception:
    from .errors import UsageError

    return UsageError(
        "the HTML report needs the plotly package, which is not installed",
        hint=f"{INSTALL_HINT}, or write a Markdown summary with --format md",
    )


def _plotly() -> tuple[Any, Any, Any, Any]:
    """plotly's modules, imported here only: it is an optional dependency."""
    try:
        import plotly.graph_objects as go
        import plotly.io as pio
        import plotly.offline as offline
        from plotly.subplots import make_subplots
    except ImportError:
        raise _missing_plotly() from None
    return go, pio, offline, make_subplots


# --------------------------------------------------------------------------- reading a run


@dataclass
class _BRow:
    """One value of a breakdown field in one period."""

    value: str
    period: str | None
    version: str | None
    score: float | None
    grade: str | None
    records: int
    subjects: int | None = None  # when the score is a mean of subject scores


@dataclass
class _Breakdown:
    field: str
    label: str
    method: str  # "pooled" | "mean"
    source: str
    rows: list[_BRow]


@dataclass
class _Run:
    outdir: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    cards: list[dict[str, Any]]
    rejects: list[dict[str, str]]
    schemes: list[Any]  # compiled schemes whose files still match the manifest
    grade_order: list[str]
    notes: list[str] = field(default_factory=list)
    output_problems: list[str] = field(default_factory=list)
    breakdowns: list[_Breakdown] = field(default_factory=list)
    breakdown_notes: list[str] = field(default_factory=list)
    breakdown_fields: list[str] = field(default_factory=list)
    field_descriptions: dict[str, str] = field(default_factory=dict)
    signed: bool = False


def _read_cards(outdir: Path) -> list[dict[str, Any]]:
    from .errors import OutputError

    path = outdir / "scorecards.jsonl"
    cards = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                card = json.loads(line)
                if not isinstance(card, dict) or "subject" not in card or "dimensions" not in card:
                    raise OutputError(f"{path}:{n} is not a scorecard", hint="re-run evaluate")
                cards.append(card)
    except FileNotFoundError:
        raise OutputError(f"{outdir} has no scorecards.jsonl", hint="give the -o directory of `qualiscore evaluate`") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}", hint="the file is damaged; re-run evaluate") from None
    return cards


def _read_rejects(outdir: Path, notes: list[str]) -> list[dict[str, str]]:
    path = outdir / "rejects.csv"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return [dict(r) for r in csv.DictReader(f)]
    except FileNotFoundError:
        notes.append("rejects.csv is missing from the output directory: rejected rows cannot be listed.")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        notes.append(f"rejects.csv cannot be read ({exc}): rejected rows cannot be listed.")
    return []


def _candidates(path: str, outdir: Path) -> list[Path]:
    p = Path(path)
    if p.is_absolute():
        return [p]
    return list(dict.fromkeys([Path.cwd() / p, outdir.resolve().parent / p]))


def _locate(path: str, digest: str | None, outdir: Path) -> tuple[Path | None, str]:
    """The file a manifest names, only if its SHA-256 is still the recorded one."""
    from .manifest import sha256_file

    seen = False
    for c in _candidates(path, outdir):
        if c.is_file():
            seen = True
            if digest is None or sha256_file(c) == digest:
                return c, ""
    return None, "changed since the run (SHA-256 differs)" if seen else "not found"


def _load_schemes(manifest: Mapping[str, Any], outdir: Path, notes: list[str]) -> list[Any]:
    from .errors import QualiscoreError
    from .schemes import load_scheme

    out = []
    for s in manifest.get("schemes", []):
        path, why = _locate(str(s.get("path", "")), s.get("sha256"), outdir)
        if path is None:
            notes.append(f"scheme file {s.get('path')} ({s.get('id')} {s.get('version')}) is {why}: "
                         "its title, approver, grade bands and target directions are not shown.")
            continue
        try:
            out.append(load_scheme(path))
        except QualiscoreError as exc:
            notes.append(f"scheme file {s.get('path')} cannot be loaded: {exc.message}")
    return sorted(out, key=lambda s: s.effective_from)


def _grade_order(schemes: Sequence[Any], cards: Sequence[Mapping[str, Any]]) -> list[str]:
    order: list[str] = []
    for s in reversed(schemes):
        order += [g.name for g in sorted(s.grades, key=lambda g: -g.min)]
    if not order:  # no scheme file: order grades by the best score that earned them
        best: dict[str, float] = {}
        for c in cards:
            if c.get("grade") and c.get("score") is not None and c.get("decided_by") == "score":
                best[c["grade"]] = max(best.get(c["grade"], -math.inf), float(c["score"]))
        known = list(GRADE_COLOURS)
        order = sorted(best, key=lambda g: (-best[g], g))
        order = sorted(order, key=lambda g: known.index(g) if g in known else len(known) + order.index(g))
    for c in cards:
        if c.get("grade") and c["grade"] not in order:
            order.append(c["grade"])
    order = list(dict.fromkeys(order))
    if any(not c.get("grade") for c in cards):
        order.append(NO_GRADE)
    return order


def _grade_colours(order: Sequence[str]) -> dict[str, str]:
    colours: dict[str, str] = {}
    spare = iter(OTHER_COLOURS * 10)
    for g in order:
        colours[g] = GRADE_COLOURS.get(g) or (NO_GRADE_COLOUR if g == NO_GRADE else next(spare))
    return colours


def _check_outputs(manifest: Mapping[str, Any], outdir: Path) -> list[str]:
    from .manifest import sha256_file

    problems = []
    for name, digest in sorted(manifest.get("outputs", {}).items()):
        path = outdir / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name} does not match its SHA-256 in manifest.json")
    return problems


def load_run(outdir: str | Path, *, by_dirs: Sequence[str | Path] = (), recompute: bool = True) -> _Run:
    """Everything the report shows, read from ``outdir`` (and the run's inputs for breakdowns)."""
    from .errors import OutputError
    from .manifest import MANIFEST, read_manifest, sha256_bytes
    from .signing import SIGNATURE_FILE

    out = Path(outdir)
    if not out.is_dir():
        raise OutputError(f"{out} is not a directory", hint="give the -o directory of `qualiscore evaluate`")
    manifest = read_manifest(out)
    digest = sha256_bytes((out / MANIFEST).read_bytes())
    notes: list[str] = []
    cards = _read_cards(out)
    rejects = _read_rejects(out, notes)
    schemes = _load_schemes(manifest, out, notes)
    run = _Run(out, manifest, digest, cards, rejects, schemes, _grade_order(schemes, cards), notes)
    run.output_problems = _check_outputs(manifest, out)
    run.signed = (out / SIGNATURE_FILE).is_file()
    run.field_descriptions = _field_descriptions(schemes)
    _add_breakdowns(run, [Path(d) for d in by_dirs], recompute)
    return run


# --------------------------------------------------------------------------- breakdowns


def _field_descriptions(schemes: Sequence[Any]) -> dict[str, str]:
    """Field descriptions from the scheme files (the compiled contract does not keep them)."""
    import yaml

    out: dict[str, str] = {}
    for s in schemes:
        try:
            doc = yaml.safe_load(Path(s.path).read_text(encoding="utf-8-sig"))
            fields = doc["records"]["fields"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
            continue
        if isinstance(fields, dict):
            for name, spec in fields.items():
                if isinstance(spec, dict) and isinstance(spec.get("description"), str):
                    out[str(name)] = spec["description"]
    return out


def _field_label(run: _Run, name: str) -> str:
    text = run.field_descriptions.get(name, "")
    for sep in ("：", ":", "（", "(", "，", ",", ";", "；"):
        text = text.split(sep)[0]
    text = text.strip()
    return f"{name} · {text}" if text and len(text) <= 12 else name


def _rows_from_cards(cards: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> list[_BRow]:
    rows = []
    for c in cards:
        keys = c.get("keys") or {}
        value = "/".join(str(keys.get(f, "")) for f in fields)
        rows.append(_BRow(value, c.get("period"), (c.get("scheme") or {}).get("version"), _float(c.get("score")),
                          c.get("grade"), int(c.get("records") or 0)))
    return rows


def _mean_rows(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[_BRow]:
    """Mean subject score per (value, period): for record-level schemes or composite subject keys."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for value, c in pairs:
        groups[(value, c.get("period") or "")].append(c)
    rows = []
    for (value, period), cs in sorted(groups.items()):
        scores = [float(c["score"]) for c in cs if c.get("score") is not None]
        versions = sorted({(c.get("scheme") or {}).get("version") or "" for c in cs})
        rows.append(_BRow(value, period or None, ", ".join(versions), sum(scores) / len(scores) if scores else None,
                          None, sum(int(c.get("records") or 0) for c in cs), len(cs)))
    return rows


def _by_dir(run: _Run, d: Path) -> _Breakdown | None:
    from .errors import QualiscoreError
    from .manifest import read_manifest

    try:
        m = read_manifest(d)
        cards = _read_cards(d)
    except QualiscoreError as exc:
        run.breakdown_notes.append(f"--by-dir {d}: {exc.message}")
        return None
    fields = [str(f) for f in m.get("group_by") or []]
    if not fields:
        run.breakdown_notes.append(f"--by-dir {d}: the run has no group_by fields; give a directory made with "
                                   "`evaluate --by FIELD`.")
        return None
    same_schemes = {s.get("sha256") for s in m.get("schemes", [])} == {
        s.get("sha256") for s in run.manifest.get("schemes", [])}
    same_inputs = {i.get("sha256") for i in m.get("inputs", [])} == {
        i.get("sha256") for i in run.manifest.get("inputs", [])}
    source = f"from {d} (evaluate --by {','.join(fields)})"
    if not (same_schemes and same_inputs):
        what = " and ".join(w for w, same in (("scheme versions", same_schemes), ("inputs", same_inputs)) if not same)
        run.breakdown_notes.append(f"--by-dir {d} was made from other {what} than this run (SHA-256 differ).")
        source += " — other " + what + " than this run"
    label = " + ".join(_field_label(run, f) for f in fields)
    return _Breakdown(",".join(fields), label, "pooled", source, _rows_from_cards(cards, fields))


def _recompute_sources(run: _Run) -> tuple[list[Path] | None, str]:
    """The run's inputs, if they are all on disk and unchanged."""
    m = run.manifest
    if not run.schemes or len(run.schemes) != len(m.get("schemes", [])):
        return None, "the run's scheme files are not all available unchanged"
    paths = []
    for i in m.get("inputs", []):
        path, why = _locate(str(i.get("path", "")), i.get("sha256"), run.outdir)
        if path is None:
            return None, f"input {i.get('path')} is {why}"
        paths.append(path)
    if not paths:
        return None, "the manifest lists no input files"
    return paths, ""


def _add_breakdowns(run: _Run, by_dirs: Sequence[Path], recompute: bool) -> None:
    import datetime as dt

    from .errors import QualiscoreError

    fields = list(dict.fromkeys(f for s in run.schemes for f in s.subject.breakdowns))
    run.breakdown_fields = fields
    done: set[str] = set()
    for d in by_dirs:
        b = _by_dir(run, d)
        if b is not None:
            run.breakdowns.append(b)
            done.add(b.field)
    group_by = [str(f) for f in run.manifest.get("group_by") or []]
    todo = [f for f in fields if f not in done]
    if not todo:
        return
    # The run itself is grouped by exactly this field: its scorecards are the breakdown.
    for f in list(todo):
        if group_by == [f]:
            run.breakdowns.append(_Breakdown(f, _field_label(run, f), "pooled", "this run's scorecards",
                                             _rows_from_cards(run.cards, [f])))
            todo.remove(f)
        elif f in group_by:
            pairs = [(str((c.get("keys") or {}).get(f, "")), c) for c in run.cards]
            run.breakdowns.append(_Breakdown(f, _field_label(run, f), "mean",
                                             "mean of this run's subject scores", _mean_rows(pairs)))
            todo.remove(f)
    if not todo:
        return
    if not recompute:
        run.breakdown_notes.append(f"Breakdowns by {', '.join(todo)} were not recomputed (--no-recompute).")
        return
    paths, why = _recompute_sources(run)
    if paths is None:
        run.breakdown_notes.append(f"Breakdowns by {', '.join(todo)} cannot be recomputed: {why}.")
        return
    from .engine import evaluate_versions
    from .records import read_records
    from .scorecard import scorecard_dict

    opts = run.manifest.get("options") or {}
    cache: dict[int, Any] = {}

    def read(contract: Any) -> Any:
        if id(contract) not in cache:
            cache[id(contract)] = read_records([str(p) for p in paths], contract, encoding=opts.get("encoding"))
        return cache[id(contract)]

    record_level = not group_by
    as_of = dt.date.fromisoformat(opts["as_of"]) if opts.get("as_of") else None
    for f in todo:
        label = _field_label(run, f)
        try:
            if record_level:
                # One scorecard per record: a group's figure is the mean of its records' scores.
                values: dict[str, str] = {}
                for s in run.schemes:
                    ds = read(s.records)
                    for rec in ds.records:
                        values.setdefault(str(rec.get(s.records.id)), "" if rec.get(f) is None else str(rec.get(f)))
                pairs = [(values.get(str(c.get("subject")), "(unknown)"), c) for c in run.cards]
                run.breakdowns.append(_Breakdown(f, label, "mean", "mean of record scores, records read from the "
                                                 "run's inputs (SHA-256 checked)", _mean_rows(pairs)))
                continue
            fresh = evaluate_versions(run.schemes, read, by=[f], as_of=as_of)
        except QualiscoreError as exc:
            run.breakdown_notes.append(f"Breakdown by {f} cannot be recomputed: {exc.message}")
            continue
        if fresh.rows_read != (run.manifest.get("rows") or {}).get("read", fresh.rows_read):
            run.breakdown_notes.append(f"Breakdown by {f}: {fresh.rows_read} rows read, but the run read "
                                       f"{run.manifest['rows']['read']}.")
        cards = [scorecard_dict(c) for c in fresh.scorecards]
        run.breakdowns.append(_Breakdown(f, label, "pooled", "recomputed from the run's inputs (SHA-256 checked): "
                                         "the scheme applied to the pooled records of each group",
                                         _rows_from_cards(cards, [f])))


# --------------------------------------------------------------------------- statistics


def _float(x: Any) -> float | None:
    if x is None or isinstance(x, str):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


@dataclass
class _IndStat:
    version: str
    dim_id: str
    dim_name: str
    id: str
    name: str
    measure: str
    target: float | None
    lower_better: bool | None
    subjects: int = 0
    scored: int = 0
    values: list[float] = field(default_factory=list)
    points: list[float] = field(default_factory=list)
    met: int = 0
    boolean: bool = False  # values were true/false

    @property
    def mean_value(self) -> float | None:
        return _mean(self.values)

    @property
    def mean_points(self) -> float | None:
        return _mean(self.points)

    @property
    def met_share(self) -> float | None:
        if self.target is None or self.lower_better is None or not self.values:
            return None
        return self.met / len(self.values)

    @property
    def share_like(self) -> bool:
        return self.measure in ("share", "any", "all") or self.boolean


@dataclass
class _DimStat:
    version: str
    id: str
    name: str
    scores: list[float] = field(default_factory=list)
    subjects: int = 0

    @property
    def mean(self) -> float | None:
        return _mean(self.scores)


def _lower_is_better(ind: Any) -> bool | None:
    sc = ind.scoring
    if sc.kind == "linear" and sc.start is not None and sc.end is not None:
        return sc.start > sc.end
    if sc.kind == "bands" and sc.bands:
        return any(b.max is not None for b in sc.bands) and all(b.min is None for b in sc.bands)
    if sc.kind == "pass":
        return sc.pass_max is not None and sc.pass_min is None
    return None


def _indicator_stats(run: _Run) -> tuple[list[_DimStat], list[_IndStat]]:
    direction: dict[tuple[str, str], bool | None] = {}
    for s in run.schemes:
        for ind in s.indicators:
            direction[(s.version, ind.id)] = _lower_is_better(ind)
    dims: dict[tuple[str, str], _DimStat] = {}
    inds: dict[tuple[str, str], _IndStat] = {}
    for c in run.cards:
        version = (c.get("scheme") or {}).get("version") or ""
        for d in c.get("dimensions", []):
            ds = dims.setdefault((version, d["id"]), _DimStat(version, d["id"], d.get("name") or d["id"]))
            ds.subjects += 1
            if d.get("counted") and _float(d.get("score")) is not None:
                ds.scores.append(float(d["score"]))
            for i in d.get("indicators", []):
                key = (version, i["id"])
                st = inds.get(key)
                if st is None:
                    st = inds[key] = _IndStat(version, d["id"], d.get("name") or d["id"], i["id"], i.get("name") or i["id"],
                                              str(i.get("measure") or ""), _float(i.get("target")),
                                              direction.get(key))
                if st.target is None and _float(i.get("target")) is not None:
                    st.target = float(i["target"])
                st.subjects += 1
                if i.get("status") != "scored":
                    continue
                st.scored += 1
                v = i.get("value")
                if isinstance(v, bool):
                    st.boolean = True
                    v = 1.0 if v else 0.0
                fv = _float(v)
                if fv is not None:
                    st.values.append(fv)
                    if st.target is not None and st.lower_better is not None and (
                            fv <= st.target if st.lower_better else fv >= st.target):
                        st.met += 1
                p = _float(i.get("points"))
                if p is not None:
                    st.points.append(p)
    return list(dims.values()), list(inds.values())


def _versions(run: _Run) -> list[str]:
    seen = [(c.get("scheme") or {}).get("version") or "" for c in run.cards]
    listed = [str(s.get("version")) for s in run.manifest.get("schemes", [])]
    return list(dict.fromkeys([*listed, *seen]))


def _periods(cards: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({c["period"] for c in cards if c.get("period")})


def _scored(cards: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [c for c in cards if _float(c.get("score")) is not None]


def _ranked(run: _Run) -> tuple[list[int], list[int]]:
    """Indexes of the lowest and the highest TOP_N scorecards by score."""
    idx = [i for i, c in enumerate(run.cards) if _float(c.get("score")) is not None]
    low = sorted(idx, key=lambda i: (float(run.cards[i]["score"]), str(run.cards[i]["subject"])))[:TOP_N]
    high = sorted(idx, key=lambda i: (-float(run.cards[i]["score"]), str(run.cards[i]["subject"])))[:TOP_N]
    return low, high


def _vetoed(run: _Run) -> list[int]:
    return [i for i, c in enumerate(run.cards) if c.get("vetoes")]


def _data_period(run: _Run) -> str:
    periods = _periods(run.cards)
    if not periods:
        return "—"
    return periods[0] if len(periods) == 1 else f"{periods[0]} – {periods[-1]}"


def _fmt_num(x: float | None, decimals: int = 2) -> str:
    if x is None:
        return "—"
    return f"{x:.{decimals}f}"


def _fmt_measure(x: float | None, share: bool) -> str:
    if x is None:
        return "—"
    if share:
        return f"{x * 100:.1f}%"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "—"


# --------------------------------------------------------------------------- HTML


def e(x: Any) -> str:
    """Escaped text for HTML element content and attribute values."""
    return html.escape("" if x is None else str(x), quote=True)


CSS = """
:root{--bg:#f4f6fb;--card:#fff;--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#2563eb;
--ok:#16a34a;--warn:#f59e0b;--bad:#dc2626}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font-family:@FONT@;font-size:15px;line-height:1.6}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:@MONO@}
code{font-size:.88em;background:#f1f5f9;border-radius:4px;padding:0 4px}
.hero{background:linear-gradient(135deg,#0f2a5c 0%,#1d4ed8 60%,#3b82f6 100%);color:#fff;
padding:32px 0 84px}
.wrap{max-width:1240px;margin:0 auto;padding:0 clamp(12px,3vw,32px)}
.hero .eyebrow{opacity:.8;font-size:13px;letter-spacing:.08em;text-transform:uppercase}
.hero h1{margin:6px 0 6px;font-size:clamp(22px,3vw,32px);line-height:1.25;font-weight:700}
.hero .sub{opacity:.92;font-size:15px}
.hero .sub span{display:inline-block;margin-right:18px}
main.wrap{margin-top:-64px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:14px;margin-bottom:18px}
.card{background:var(--card);border-radius:14px;padding:14px 18px;box-shadow:0 1px 2px rgba(15,23,42,.06),
0 6px 20px rgba(15,23,42,.06);border-top:4px solid var(--accent)}
.card .label{color:var(--muted);font-size:13px}
.card .num{font-size:28px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.25}
.card .small{color:var(--muted);font-size:12.5px}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 8px;margin:0 0 18px}
nav.toc a{background:var(--card);border:1px solid var(--line);border-radius:999px;padding:3px 12px;font-size:13px;
color:var(--text)}
nav.toc a:hover{border-color:var(--accent);color:var(--accent);text-decoration:none}
section{background:var(--card);border-radius:16px;padding:22px clamp(14px,2.4vw,28px);margin:0 0 18px;
box-shadow:0 1px 2px rgba(15,23,42,.05),0 6px 24px rgba(15,23,42,.05)}
section h2{margin:0 0 4px;font-size:20px;line-height:1.35}
section h3{margin:18px 0 6px;font-size:16px}
.lead{color:var(--muted);margin:0 0 14px;font-size:14px}
.grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px;align-items:start}
.grid2>*{min-width:0}
.grid2.wide{grid-template-columns:minmax(0,3fr) minmax(240px,1fr)}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,330px),1fr));gap:0 28px}
.facts dl{margin:0}
.facts div.f{display:grid;grid-template-columns:140px 1fr;gap:10px;padding:6px 0;border-bottom:1px solid var(--line)}
.facts dt{color:var(--muted);font-size:13.5px}
.facts dd{margin:0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;margin:6px 0 4px}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th{background:#f8fafc;color:#374151;font-weight:600;text-align:left;border-bottom:1px solid var(--line);
padding:7px 10px;white-space:nowrap}
td{padding:6px 10px;border-bottom:1px solid #f0f2f5;vertical-align:top}
tr:hover td{background:#fafbff}
td.n,th.n{text-align:right;white-space:nowrap}
td code,td .subject,td.nw{white-space:nowrap}
tr.dim td{background:#f8fafc;font-weight:600}
.badge{display:inline-block;padding:0 9px;border-radius:999px;color:#fff;font-size:12.5px;font-weight:600;
line-height:20px;white-space:nowrap}
.pill{display:inline-block;padding:0 8px;border-radius:999px;font-size:12.5px;line-height:20px;white-space:nowrap;
background:#eef2ff;color:#3730a3}
.ok{color:var(--ok)}.bad{color:var(--bad)}.muted{color:var(--muted)}
.bar{position:relative;height:8px;background:#eef2f7;border-radius:6px;min-width:80px;overflow:hidden}
.bar>i{position:absolute;left:0;top:0;bottom:0;border-radius:6px}
.note{background:#fffbeb;border:1px solid #fde68a;color:#78350f;border-radius:10px;padding:10px 14px;
margin:10px 0;font-size:14px}
.alert{background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;border-radius:10px;padding:10px 14px;margin:10px 0}
.good{background:#f0fdf4;border:1px solid #bbf7d0;color:#14532d;border-radius:10px;padding:10px 14px;margin:10px 0}
.chart{min-height:120px}
.evidence code{display:inline-block;margin:1px 2px}
details.expl{border:1px solid var(--line);border-radius:10px;margin:8px 0;background:#fff}
details.expl>summary{cursor:pointer;padding:8px 14px;list-style:none;display:flex;gap:10px;align-items:center;
flex-wrap:wrap}
details.expl>summary::-webkit-details-marker{display:none}
details.expl>summary:before{content:"▸";color:var(--muted);transition:transform .15s}
details.expl[open]>summary:before{transform:rotate(90deg)}
details.expl:target,details.expl.hit{box-shadow:0 0 0 3px #93c5fd}
details.expl pre{margin:0;border-radius:0 0 10px 10px}
pre{background:#0f172a;color:#e2e8f0;padding:14px 16px;overflow-x:auto;font-size:12.5px;line-height:1.55}
.subject{font-weight:600}
footer{color:var(--muted);font-size:13px;padding:8px 0 40px}
@media (max-width:900px){.grid2,.grid2.wide{grid-template-columns:minmax(0,1fr)}}
@media (max-width:640px){.facts div.f{grid-template-columns:1fr;gap:0}.hero{padding-bottom:76px}}
@media print{.hero{background:#1d4ed8;-webkit-print-color-adjust:exact;print-color-adjust:exact}
section{box-shadow:none;border:1px solid var(--line);break-inside:avoid}nav.toc{display:none}}
""".replace("@FONT@", FONT_STACK).replace("@MONO@", MONO_STACK)

ERROR_RECORDER = """
(function () {
  var errors = [];
  function flush() {
    if (document.body) { document.body.setAttribute("data-js-errors", JSON.stringify(errors)); }
  }
  function record(message) { errors.push(String(message).slice(0, 500)); flush(); }
  window.__qualiscoreErrors = errors;
  window.addEventListener("error", function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) { record("resource failed: " + (t.src || t.href)); return; }
    record((ev.message || "error") + (ev.filename ? " at " + ev.filename + ":" + ev.lineno : ""));
  }, true);
  window.addEventListener("unhandledrejection", function (ev) {
    var r = ev.reason; record("unhandled rejection: " + (r && r.message ? r.message : r));
  });
  var original = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", flush);
})();
"""

PAGE_SCRIPT = """
(function () {
  function reveal() {
    var id = location.hash ? decodeURIComponent(location.hash.slice(1)) : "";
    var el = id && document.getElementById(id);
    if (!el) { return; }
    var d = el.tagName === "DETAILS" ? el : el.closest("details");
    while (d) { d.open = true; d = d.parentElement ? d.parentElement.closest("details") : null; }
    el.classList.add("hit");
    el.scrollIntoView({block: "start"});
  }
  window.addEventListener("hashchange", reveal);
  document.addEventListener("DOMContentLoaded", reveal);
  function count() {
    var plots = document.querySelectorAll(".js-plotly-plot");
    var drawn = 0;
    plots.forEach(function (p) { if (p.querySelector(".main-svg")) { drawn += 1; } });
    document.body.setAttribute("data-charts-rendered", String(drawn));
    document.body.setAttribute("data-page-height", String(document.documentElement.scrollHeight));
  }
  window.addEventListener("load", function () { count(); setTimeout(count, 500); });
})();
"""


class _Charts:
    """Plotly figures as <div>s sharing one inlined plotly.js."""

    def __init__(self) -> None:
        self.go, self.pio, self.offline, self.make_subplots = _plotly()
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

    def html(self, fig: Any, name: str) -> str:
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
        return f'<div class="chart" data-chart="{e(name)}">{snippet}</div>'

    def library(self) -> str:
        js = self.offline.get_plotlyjs()
        return js.replace("</script", "<\\/script")


def _badge(grade: str | None, colours: Mapping[str, str]) -> str:
    g = grade or NO_GRADE
    return f'<span class="badge" style="background:{colours.get(g, NO_GRADE_COLOUR)}">{e(g)}</span>'


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
    return (f'<section id="{sid}"><h2>{e(HEADINGS[sid])}</h2>'
            + (f'<p class="lead">{lead}</p>' if lead else "") + body + "</section>")


def _anchor(i: int) -> str:
    return f"sc-{i}"


def _subject_link(run: _Run, i: int, linked: set[int]) -> str:
    text = f'<span class="subject">{e(run.cards[i]["subject"])}</span>'
    return f'<a href="#{_anchor(i)}">{text}</a>' if i in linked else text


class _Html:
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.charts = _Charts()
        self.colours = _grade_colours(run.grade_order)
        self.low, self.high = _ranked(run)
        vetoed = _vetoed(run)
        linked = list(dict.fromkeys([*self.low, *self.high, *vetoed]))[:MAX_EXPLANATIONS]
        self.linked = set(linked)
        self.explained = sorted(linked)
        self.dims, self.inds = _indicator_stats(run)
        self.versions = _versions(run)
        self.multi = len(self.versions) > 1

    # ----------------------------------------------------------------- page

    def page(self) -> str:
        run = self.run
        body = "".join([
            self.run_section(), self.grades_section(), self.scores_section(), self.indicators_section(),
            self.breakdowns_section(), self.trend_section(), self.extremes_section(), self.vetoes_section(),
            self.rejects_section(), self.explanations_section(),
        ])
        m = run.manifest
        scheme_ids = ", ".join(dict.fromkeys(str(s.get("id")) for s in m.get("schemes", [])))
        title = f"{scheme_ids} {', '.join(self.versions)} · quality report"
        toc = "".join(f'<a href="#{sid}">{e(h)}</a>' for sid, h in SECTIONS)
        engine = m.get("engine") or {}
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="qualiscore {e(engine.get("version", ""))}">\n'
            f"<title>{e(title)}</title>\n<style>{CSS}</style>\n"
            f"<script>{ERROR_RECORDER}</script>\n"
            f"<script>{self.charts.library()}</script>\n</head>\n"
            f'<body data-charts-expected="{self.charts.count}">\n'
            f"{self.hero()}\n"
            f'<main class="wrap">\n{self.cards()}<nav class="toc" aria-label="sections">{toc}</nav>\n{body}\n'
            f'<footer>Generated by qualiscore {e(engine.get("version", ""))} from {e(run.outdir.name)}/ '
            f"(manifest SHA-256 <span class=\"mono\">{e(run.manifest_sha256)}</span>). "
            "Self-contained: charts by plotly.js (MIT), inlined.</footer>\n</main>\n"
            f"<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n"
        )

    def hero(self) -> str:
        run = self.run
        m = run.manifest
        titles = list(dict.fromkeys(s.title for s in reversed(run.schemes) if s.title))
        ids = list(dict.fromkeys(str(s.get("id")) for s in m.get("schemes", [])))
        head = titles[0] if titles else " / ".join(ids)
        return (
            '<header class="hero"><div class="wrap">'
            '<div class="eyebrow">qualiscore · quality report · 质量评价报告</div>'
            f"<h1>{e(head)}</h1>"
            f'<div class="sub"><span>{e(" / ".join(ids))} · {e(", ".join(self.versions))}</span>'
            f"<span>Data period 数据期间: {e(_data_period(run))}</span>"
            f"<span>{len(run.cards)} scorecards</span></div>"
            "</div></header>"
        )

    def cards(self) -> str:
        run = self.run
        rows = run.manifest.get("rows") or {}
        read, scored, rejected = rows.get("read", 0), rows.get("scored", 0), rows.get("rejected", 0)
        scores = [float(c["score"]) for c in _scored(run.cards)]
        grades = Counter(c.get("grade") or NO_GRADE for c in run.cards)
        best = run.grade_order[0] if run.grade_order else None
        worst = next((g for g in reversed(run.grade_order) if g != NO_GRADE), None)
        vetoed = len(_vetoed(run))

        def card(label: str, num: str, small: str = "", colour: str = "var(--accent)") -> str:
            return (f'<div class="card" style="border-top-color:{colour}"><div class="label">{label}</div>'
                    f'<div class="num">{num}</div><div class="small">{small}</div></div>')

        out = [
            card("Scorecards 评分卡", str(len(run.cards)), f"{len(_periods(run.cards)) or '—'} period(s)"),
            card("Rows read 读取", f"{read:,}", f"scored {scored:,} + rejected {rejected:,}"),
            card("Rows scored 计分", f"{scored:,}", _pct(scored, read) + " of rows read", "#0d9488"),
            card("Rows rejected 拒收", f"{rejected:,}", _pct(rejected, read) + " of rows read",
                 "#dc2626" if rejected else "#16a34a"),
            card("Mean score 平均分", _fmt_num(_mean(scores)), f"median {_fmt_num(_median(scores))}", "#7c3aed"),
        ]
        if best and best != NO_GRADE:
            out.append(card(f"{e(best)}", str(grades.get(best, 0)), _pct(grades.get(best, 0), len(run.cards)),
                            self.colours.get(best, "#16a34a")))
        if worst and worst != best:
            out.append(card(f"{e(worst)}", str(grades.get(worst, 0)), _pct(grades.get(worst, 0), len(run.cards))
                            + f" · {vetoed} by veto", self.colours.get(worst, "#dc2626")))
        return f'<div class="cards">{"".join(out)}</div>\n'

    # ----------------------------------------------------------------- run facts

    def run_section(self) -> str:
        run = self.run
        m = run.manifest
        rows = m.get("rows") or {}
        engine = m.get("engine") or {}
        facts: list[tuple[str, str]] = []
        ids = list(dict.fromkeys(str(s.get("id")) for s in m.get("schemes", [])))
        facts.append(("Scheme 方案", " / ".join(f"<code>{e(i)}</code>" for i in ids)))
        vers = []
        for s in m.get("schemes", []):
            rng = f"{s.get('effective_from')} – {s.get('effective_to') or '…'}"
            vers.append(f"<code>{e(s.get('version'))}</code> <span class=\"muted\">{e(rng)} · "
                        f"{e(s.get('scorecards'))} scorecards · sha256 {e(str(s.get('sha256', ''))[:12])}…</span>")
        facts.append(("Version(s) 版本", "<br>".join(vers) or "—"))
        titles = [f"{e(s.title)}" + (f' <span class="muted">({e(s.version)})</span>' if self.multi else "")
                  for s in run.schemes]
        facts.append(("Title 标题", "<br>".join(titles) or '<span class="muted">scheme file not available</span>'))
        approvals = []
        for s in run.schemes:
            if s.approved_by or s.approved_on:
                who = e(s.approved_by or "—") + (f", {e(s.approved_on)}" if s.approved_on else "")
                approvals.append(who + (f' <span class="muted">({e(s.version)})</span>' if self.multi else ""))
        facts.append(("Approved by 审批", "<br>".join(approvals) or '<span class="muted">not recorded</span>'))
        facts.append(("Data period 数据期间", e(_data_period(run))))
        facts.append(("Rows 记录", f"read {rows.get('read', 0):,} = scored {rows.get('scored', 0):,} + rejected "
                                   f"{rows.get('rejected', 0):,}"))
        facts.append(("Subjects 评价对象", f"{len(run.cards)} · grouped by "
                      + (", ".join(f"<code>{e(g)}</code>" for g in m.get("group_by") or []) or "record")))
        inputs = [f"<code>{e(i.get('path'))}</code> <span class=\"muted\">{e(i.get('rows_read'))} rows · "
                  f"{e(i.get('format'))}/{e(i.get('encoding'))} · sha256 {e(str(i.get('sha256', ''))[:12])}…</span>"
                  for i in m.get("inputs", [])]
        facts.append(("Inputs 输入", "<br>".join(inputs) or "—"))
        facts.append(("Manifest SHA-256", f'<span class="mono">{e(run.manifest_sha256)}</span>'))
        facts.append(("Engine 引擎", f"qualiscore {e(engine.get('version'))} · engine {e(engine.get('engine'))}"))
        opts = m.get("options") or {}
        extra = [f"--by {e(','.join(opts['by']))}" if opts.get("by") else "",
                 f"--as-of {e(opts['as_of'])}" if opts.get("as_of") else "",
                 f"--encoding {e(opts['encoding'])}" if opts.get("encoding") else ""]
        if any(extra):
            facts.append(("Options 选项", " ".join(x for x in extra if x)))
        facts.append(("Signature 签名", "manifest.json.sig present — check it with <code>qualiscore verify</code>"
                      if run.signed else '<span class="muted">not signed</span>'))
        half = (len(facts) + 1) // 2
        cols = "".join(
            "<dl>" + "".join(f'<div class="f"><dt>{k}</dt><dd>{v}</dd></div>' for k, v in part) + "</dl>"
            for part in (facts[:half], facts[half:])
        )
        body = f'<div class="facts">{cols}</div>'
        if run.output_problems:
            body += ('<div class="alert"><strong>Outputs do not match the manifest:</strong> '
                     + "; ".join(e(p) for p in run.output_problems)
                     + ". What this report shows may have been edited after the run.</div>")
        else:
            names = ", ".join(sorted(m.get("outputs", {})))
            body += (f'<div class="good">{e(names)} match their SHA-256 in manifest.json. '
                     '<span class="muted">For a full audit (scheme, inputs, recomputation) run '
                     "<code>qualiscore verify</code>.</span></div>")
        body += "".join(f'<div class="note">{e(n)}</div>' for n in run.notes)
        if not run.cards:
            body += '<div class="note">This run produced no scorecards: the charts below are empty.</div>'
        changelog = [(s.version, c) for s in run.schemes for c in s.changelog]
        if changelog:
            body += ("<h3>Changelog 变更记录</h3><ul>"
                     + "".join(f"<li><code>{e(v)}</code> {e(c)}</li>" for v, c in changelog) + "</ul>")
        return _section("run", "", body)

    # ----------------------------------------------------------------- grades

    def grades_section(self) -> str:
        run, go = self.run, self.charts.go
        counts = Counter(c.get("grade") or NO_GRADE for c in run.cards)
        order = [g for g in run.grade_order if counts.get(g) or g != NO_GRADE]
        total = len(run.cards)
        fig = go.Figure(go.Bar(
            x=[e(g) for g in order], y=[counts.get(g, 0) for g in order],
            marker={"color": [self.colours[g] for g in order]},
            text=[f"{counts.get(g, 0)} · {_pct(counts.get(g, 0), total)}" for g in order], textposition="outside",
            cliponaxis=False, hovertemplate="%{x}: %{y} scorecards<extra></extra>",
        ))
        top = max([counts.get(g, 0) for g in order] + [1])
        fig.update_layout(**self.charts.layout(340, showlegend=False, bargap=0.35,
                                               yaxis={"title": {"text": "scorecards 评分卡数"}, "range": [0, top * 1.18]},
                                               xaxis={"type": "category"}))
        versions = self.versions if self.multi else []
        head = ["Grade 等级", "Scorecards", "Share", *([f"<code>{e(v)}</code>" for v in versions])]
        by_version = Counter(((c.get("scheme") or {}).get("version"), c.get("grade") or NO_GRADE) for c in run.cards)
        vetoed = Counter(c.get("grade") or NO_GRADE for c in run.cards if str(c.get("decided_by", "")).startswith("veto:"))
        rows = []
        for g in order:
            n = counts.get(g, 0)
            share = (f'<div style="display:flex;gap:8px;align-items:center"><div class="bar" style="flex:1">'
                     f'<i style="width:{100 * n / total if total else 0:.1f}%;background:{self.colours[g]}"></i></div>'
                     f"<span>{_pct(n, total)}</span></div>")
            cells = [_badge(g, self.colours), f"{n}" + (f' <span class="muted">({vetoed[g]} by veto)</span>'
                                                         if vetoed.get(g) else ""), share]
            cells += [str(by_version.get((v, g), 0)) for v in versions]
            rows.append(cells)
        bands = ""
        latest = self.run.schemes[-1] if self.run.schemes else None
        if latest is not None:
            bands = " · ".join(f"{e(g.name)} ≥ {g.min:g}" for g in sorted(latest.grades, key=lambda g: -g.min))
            bands = f"Grade bands 等级划分 ({e(latest.version)}): {bands}. "
        lead = bands + "Grades in scheme order; a veto can override the grade the score gives."
        body = (f'<div class="grid2"><div>{self.charts.html(fig, "grades")}</div>'
                f"<div>{_table(head, rows, numeric=[1, *range(3, 3 + len(versions))])}</div></div>")
        return _section("grades", lead, body)

    # ----------------------------------------------------------------- scores

    def scores_section(self) -> str:
        run, go = self.run, self.charts.go
        scored = _scored(run.cards)
        width = 5
        edges = list(range(0, 100, width))
        fig = go.Figure()
        for g in run.grade_order:
            counts = [0] * len(edges)
            for c in scored:
                if (c.get("grade") or NO_GRADE) != g:
                    continue
                s = float(c["score"])
                counts[min(max(int(s // width), 0), len(edges) - 1)] += 1
            if not any(counts):
                continue
            fig.add_trace(go.Bar(
                x=[lo + width / 2 for lo in edges], y=counts, width=[width * 0.96] * len(edges), name=e(g),
                marker={"color": self.colours[g]},
                customdata=[f"{lo}–{lo + width}" for lo in edges],
                hovertemplate=f"{e(g)} · score %{{customdata}}: %{{y}}<extra></extra>",
            ))
        shapes, notes = [], []
        latest = run.schemes[-1] if run.schemes else None
        for gr in (latest.grades if latest else ()):
            if 0 < gr.min < 100:
                shapes.append({"type": "line", "x0": gr.min, "x1": gr.min, "yref": "paper", "y0": 0, "y1": 1,
                               "line": {"color": "#64748b", "width": 1, "dash": "dot"}})
                notes.append({"x": gr.min, "yref": "paper", "y": 1.0, "text": f"{e(gr.name)} ≥ {gr.min:g}",
                              "showarrow": False, "xanchor": "left", "yanchor": "top", "font": {"size": 11,
                                                                                               "color": "#475569"}})
        fig.update_layout(**self.charts.layout(
            360, barmode="stack", bargap=0, shapes=shapes, annotations=notes, legend={"traceorder": "normal"},
            xaxis={"title": {"text": "score 得分 (bins of 5)"}, "range": [0, 100], "dtick": 10},
            yaxis={"title": {"text": "scorecards 评分卡数"}},
        ))
        scores = sorted(float(c["score"]) for c in scored)
        stats = [
            ("Scored 有得分", f"{len(scores)}"),
            ("No score 无得分", f"{len(run.cards) - len(scores)}"),
            ("Mean 平均", _fmt_num(_mean(scores))),
            ("Median 中位数", _fmt_num(_median(scores))),
            ("P10 / P90", f"{_fmt_num(_quantile(scores, 0.1))} / {_fmt_num(_quantile(scores, 0.9))}"),
            ("Min / Max", f"{_fmt_num(scores[0] if scores else None)} / {_fmt_num(scores[-1] if scores else None)}"),
        ]
        table = _table(["Statistic", "Value"], [[k, v] for k, v in stats], numeric=[1])
        lead = "Histogram of total scores, coloured by the final grade (a vetoed high score shows in the veto's colour)."
        body = f'<div class="grid2 wide">' \
               f'<div>{self.charts.html(fig, "scores")}</div><div>{table}</div></div>'
        return _section("scores", lead, body)

    # ----------------------------------------------------------------- indicators

    def indicators_section(self) -> str:
        go, make_subplots = self.charts.go, self.charts.make_subplots
        dims, inds = self.dims, self.inds
        versions = self.versions
        vcolour = {v: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, v in enumerate(versions)}
        dim_order = list(dict.fromkeys((d.id, d.name) for d in dims))
        dcolour = {d: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, (d, _) in enumerate(dim_order)}
        # 1. dimension means
        fig_d = go.Figure()
        for v in versions:
            ds = [d for d in dims if d.version == v]
            if not ds:
                continue
            fig_d.add_trace(go.Bar(
                x=[e(d.name) for d in ds], y=[d.mean for d in ds], name=e(v),
                marker={"color": vcolour[v] if self.multi else [dcolour[d.id] for d in ds]},
                text=[_fmt_num(d.mean, 1) for d in ds], textposition="outside", cliponaxis=False,
                hovertemplate="%{x}: mean score %{y:.2f}<extra>" + e(v) + "</extra>",
            ))
        fig_d.update_layout(**self.charts.layout(360, barmode="group", showlegend=self.multi,
                                                 yaxis={"range": [0, 110], "dtick": 20}))
        # 2. indicator mean points
        ind_order = list(dict.fromkeys((i.dim_id, i.id, i.name) for i in inds))
        fig_p = go.Figure()
        for v in versions:
            vi = {i.id: i for i in inds if i.version == v}
            if not vi:
                continue
            ys = [e(name) for (_, iid, name) in ind_order]
            fig_p.add_trace(go.Bar(
                y=ys, x=[vi[iid].mean_points if iid in vi else None for (_, iid, _) in ind_order],
                orientation="h", name=e(v),
                marker={"color": vcolour[v] if self.multi else [dcolour[d] for (d, _, _) in ind_order]},
                text=[_fmt_num(vi[iid].mean_points, 1) if iid in vi else "" for (_, iid, _) in ind_order],
                textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: mean points %{x:.2f}<extra>" + e(v) + "</extra>",
            ))
        fig_p.update_layout(**self.charts.layout(
            max(320, 44 + 30 * len(ind_order) * max(1, len(versions) if self.multi else 1)), barmode="group",
            showlegend=self.multi, margin={"l": 10}, xaxis={"range": [0, 112], "dtick": 20},
            yaxis={"autorange": "reversed", "type": "category"}))
        # 3. mean value against target, one small panel per indicator
        panels = [k for k in ind_order]
        cols = 3 if len(panels) >= 3 else max(1, len(panels))
        nrows = max(1, math.ceil(len(panels) / cols))
        fig_t = make_subplots(rows=nrows, cols=cols, subplot_titles=[e(n) for (_, _, n) in panels],
                              horizontal_spacing=0.09, vertical_spacing=min(0.5 / nrows, 0.16))
        for k, (_, iid, _) in enumerate(panels):
            r, col = k // cols + 1, k % cols + 1
            stats = [i for i in inds if i.id == iid]
            share = any(i.share_like for i in stats)
            xs = [e(i.version) for i in stats]
            colours = []
            for i in stats:
                mv = i.mean_value
                if i.target is None or i.lower_better is None or mv is None:
                    colours.append("#94a3b8")
                else:
                    ok = mv <= i.target if i.lower_better else mv >= i.target
                    colours.append("#16a34a" if ok else "#dc2626")
            fig_t.add_trace(go.Bar(
                x=xs, y=[i.mean_value for i in stats], marker={"color": colours}, showlegend=False, width=0.5,
                text=[_fmt_measure(i.mean_value, share) for i in stats], textposition="inside",
                insidetextanchor="end", textfont={"color": "#ffffff"},
                hovertemplate="mean %{text}<extra>%{x}</extra>"), row=r, col=col)
            targets = [i.target for i in stats]
            if any(t is not None for t in targets):
                fig_t.add_trace(go.Scatter(
                    x=xs, y=targets, mode="markers", showlegend=False, name="target 目标",
                    marker={"symbol": "line-ew", "size": 46, "line": {"width": 3, "color": "#111827"}},
                    customdata=[_fmt_measure(t, share) for t in targets],
                    hovertemplate="target %{customdata}<extra>%{x}</extra>"), row=r, col=col)
            yaxis: dict[str, Any] = {"rangemode": "tozero", "gridcolor": "#eef0f4", "automargin": True}
            seen = [x for x in [*(i.mean_value for i in stats), *targets] if x is not None]
            top = max(seen, default=1.0)
            if share:
                yaxis.update(tickformat=".0%" if top > 0.2 else ".1%", range=[0, 1.08 if top > 0.6 else top * 1.3])
            elif seen and min(seen) >= 0:
                yaxis.update(range=[0, top * 1.2])
            fig_t.update_yaxes(row=r, col=col, **yaxis)
            fig_t.update_xaxes(row=r, col=col, type="category", showticklabels=self.multi)
        for ann in fig_t.layout.annotations:
            ann.font = {"size": 13}
        fig_t.update_layout(**self.charts.layout(
            max(300, 230 * nrows + 60), bargap=0.3, margin={"t": 60, "b": 24}, showlegend=False))
        # table
        head = ["Dimension / indicator 维度 / 指标", *(["Version"] if self.multi else []), "Scored / N/A",
                "Mean value 平均值", "Target 目标", "Subjects meeting target 达标占比", "Mean points 平均得分"]
        rows, classes = [], []
        for v in versions:
            for (did, dname) in dim_order:
                d = next((x for x in dims if x.version == v and x.id == did), None)
                if d is None:
                    continue
                rows.append([f"{e(dname)} <code>{e(did)}</code>", *([e(v)] if self.multi else []),
                             f"{len(d.scores)} / {d.subjects - len(d.scores)}", "", "", "",
                             f"<strong>{_fmt_num(d.mean)}</strong>"])
                classes.append("dim")
                for i in (x for x in inds if x.version == v and x.dim_id == did):
                    share = i.share_like
                    met = i.met_share
                    if met is None:
                        met_text = '<span class="muted">—</span>'
                    else:
                        met_text = f'{met * 100:.0f}% <span class="muted">({i.met}/{len(i.values)})</span>'
                    tgt = _fmt_measure(i.target, share)
                    if i.target is not None and i.lower_better is not None:
                        tgt = ("≤ " if i.lower_better else "≥ ") + tgt
                    mv = i.mean_value
                    mv_text = _fmt_measure(mv, share)
                    if mv is not None and i.target is not None and i.lower_better is not None:
                        ok = mv <= i.target if i.lower_better else mv >= i.target
                        mv_text = f'<span class="{"ok" if ok else "bad"}">{mv_text}</span>'
                    rows.append([f"&nbsp;&nbsp;&nbsp;{e(i.name)} <code>{e(i.id)}</code>",
                                 *([e(v)] if self.multi else []),
                                 f"{i.scored} / {i.subjects - i.scored}", mv_text, tgt, met_text,
                                 _fmt_num(i.mean_points)])
                    classes.append("")
        n0 = 2 if self.multi else 1
        table = _table(head, rows, numeric=range(n0, n0 + 5), row_class=classes)
        lead = ("Means over scorecards where the indicator was scored (not-applicable indicators are left out). "
                "Targets are each indicator's <code>target</code> as recorded in scorecards.jsonl; "
                "green meets the target, red does not (direction from the scheme's scoring).")
        body = (f'<div class="grid2"><div><h3>Dimension mean score 维度平均分</h3>'
                f'{self.charts.html(fig_d, "dimensions")}</div>'
                f'<div><h3>Indicator mean points 指标平均得分</h3>{self.charts.html(fig_p, "indicator-points")}'
                "</div></div>"
                f'<h3>Mean value against target 平均值与目标</h3><p class="lead">Bar: mean value over subjects '
                f'(green meets the target, red misses it, grey has no target); black line: the target.</p>'
                f'{self.charts.html(fig_t, "indicator-targets")}'
                f"{table}")
        return _section("indicators", lead, body)

    # ----------------------------------------------------------------- breakdowns

    def breakdowns_section(self) -> str:
        run, go = self.run, self.charts.go
        parts = []
        for b in run.breakdowns:
            periods = sorted({r.period or "" for r in b.rows})
            values = sorted({r.value for r in b.rows})
            fig = go.Figure()
            for k, p in enumerate(periods):
                pr = {r.value: r for r in b.rows if (r.period or "") == p}
                colour = (PERIOD_COLOURS[round(k * (len(PERIOD_COLOURS) - 1) / (len(periods) - 1))]
                          if len(periods) > 1 else "#2563eb")
                marker: dict[str, Any] = {"color": colour}
                if len(periods) == 1 and b.method == "pooled":
                    marker = {"color": [self.colours.get(pr[v].grade or NO_GRADE, "#2563eb") if v in pr else "#2563eb"
                                        for v in values]}
                fig.add_trace(go.Bar(
                    x=[e(v) for v in values], y=[pr[v].score if v in pr else None for v in values], name=e(p or "all"),
                    marker=marker,
                    customdata=[[e(pr[v].grade or "") if v in pr else "", pr[v].records if v in pr else 0]
                                for v in values],
                    hovertemplate=f"%{{x}} · {e(p)}: %{{y:.2f}} %{{customdata[0]}} · %{{customdata[1]}} records"
                                  "<extra></extra>",
                    text=[_fmt_num(pr[v].score, 1) if v in pr else "" for v in values] if len(values) * len(periods)
                    <= 40 else None, textposition="outside", cliponaxis=False, textfont={"size": 11},
                ))
            shapes, marks = [], []
            latest = run.schemes[-1] if run.schemes else None
            for gr in (latest.grades if latest else ()):
                if 0 < gr.min < 100:
                    shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": gr.min, "y1": gr.min,
                                   "line": {"color": self.colours.get(gr.name, "#94a3b8"), "width": 1,
                                            "dash": "dot"}})
                    marks.append({"xref": "paper", "x": 1, "y": gr.min, "text": f"{e(gr.name)} ≥ {gr.min:g}",
                                  "showarrow": False, "xanchor": "right", "yanchor": "bottom",
                                  "font": {"size": 10, "color": self.colours.get(gr.name, "#64748b")}})
            fig.update_layout(**self.charts.layout(
                360, barmode="group", bargap=0.22, showlegend=len(periods) > 1, shapes=shapes, annotations=marks,
                yaxis={"range": [0, 108], "title": {"text": "score 得分"}, "dtick": 20},
                xaxis={"type": "category", "title": {"text": e(b.label)}}))
            head = [e(b.label), *[e(p or "all") for p in periods]]
            rows = []
            for v in values:
                cells = [f"<strong>{e(v)}</strong>"]
                for p in periods:
                    r = next((r for r in b.rows if r.value == v and (r.period or "") == p), None)
                    if r is None:
                        cells.append('<span class="muted">—</span>')
                        continue
                    extra = (f' <span class="muted">{r.subjects} subj.</span>' if r.subjects is not None
                             else f' <span class="muted">{r.records} rec.</span>')
                    cells.append(f"{_fmt_num(r.score)} " + (_badge(r.grade, self.colours) if r.grade else "") + extra)
                rows.append(cells)
            how = ("score of the pooled records 合并记录得分" if b.method == "pooled"
                   else "mean of subject scores 对象平均分")
            parts.append(
                f'<h3>By {e(b.label)}</h3><p class="lead">{e(how)} — {e(b.source)}.</p>'
                f"{self.charts.html(fig, 'breakdown-' + b.field)}{_table(head, rows, numeric=range(1, len(head)))}"
            )
        notes = "".join(f'<div class="note">{e(n)}</div>' for n in run.breakdown_notes)
        if not run.breakdowns:
            fields = ", ".join(run.breakdown_fields) or "team"
            notes += (f'<div class="note">No breakdown could be shown. Breakdowns ({e(fields)}) are scored from the '
                      "pooled records of each group: run <code>qualiscore evaluate SCHEME DATA -o out-team --by "
                      "team</code> and pass <code>--by-dir out-team</code> to <code>qualiscore report</code>, or keep "
                      "the run's scheme and input files where the manifest says they are.</div>")
        fields = ", ".join(f"<code>{e(f)}</code>" for f in run.breakdown_fields)
        group_by = run.manifest.get("group_by") or []
        if group_by:
            lead = (f"Scorecards are per {e(', '.join(group_by))}; a group's score is the scheme applied to all of "
                    "the group's records (pooled), not an average of its subjects' scores.")
        else:
            lead = "Scorecards are per record; a group's figure is the mean score of its records."
        lead += f" The scheme lists breakdowns {fields}." if fields else ""
        return _section("breakdowns", lead, notes + "".join(parts))

    # ----------------------------------------------------------------- trend

    def trend_section(self) -> str:
        run, go = self.run, self.charts.go
        periods = _periods(run.cards)
        if len(periods) < 2:
            return _section("trend", "", '<p class="muted">The data covers a single period'
                            f" ({e(periods[0] if periods else '—')}): no trend to show.</p>")
        by_period: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for c in run.cards:
            if c.get("period"):
                by_period[c["period"]].append(c)
        means = [_mean([float(c["score"]) for c in _scored(by_period[p])]) for p in periods]
        versions = [", ".join(sorted({(c.get("scheme") or {}).get("version") or "" for c in by_period[p]}))
                    for p in periods]
        fig = go.Figure()
        team = next((b for b in run.breakdowns if b.field == "team"), None) or (
            run.breakdowns[0] if run.breakdowns else None)
        if team is not None:
            values = sorted({r.value for r in team.rows})
            for k, v in enumerate(values[:12]):
                pr = {r.period: r.score for r in team.rows if r.value == v}
                fig.add_trace(go.Scatter(
                    x=periods, y=[pr.get(p) for p in periods], mode="lines+markers", name=e(v),
                    line={"width": 1.6, "color": SERIES_COLOURS[(k + 1) % len(SERIES_COLOURS)]},
                    marker={"size": 6}, opacity=0.85, connectgaps=False,
                    hovertemplate=f"{e(v)} · %{{x}}: %{{y:.2f}}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=periods, y=means, mode="lines+markers+text", name="all subjects 全体平均",
            line={"width": 4, "color": "#0f172a"}, marker={"size": 9},
            text=[_fmt_num(m, 1) for m in means], textposition="top center",
            customdata=[e(v) for v in versions],
            hovertemplate="all · %{x}: %{y:.2f} (%{customdata})<extra></extra>"))
        shapes, notes = [], []
        for k in range(1, len(periods)):
            if versions[k] != versions[k - 1]:
                shapes.append({"type": "line", "x0": k - 0.5, "x1": k - 0.5, "yref": "paper", "y0": 0, "y1": 1,
                               "line": {"color": "#64748b", "dash": "dash", "width": 1}})
                notes.append({"x": k - 0.5, "yref": "paper", "y": 1, "text": f"{e(versions[k])} in force",
                              "showarrow": False, "xanchor": "left", "yanchor": "top",
                              "font": {"size": 11, "color": "#475569"}})
        fig.update_layout(**self.charts.layout(
            380, shapes=shapes, annotations=notes, xaxis={"type": "category", "title": {"text": "period 期间"}},
            yaxis={"title": {"text": "score 得分"}, "range": [0, 105], "dtick": 20}))
        head = ["Period 期间", "Version 版本", "Subjects", "Mean score", *[_badge(g, self.colours)
                                                                          for g in run.grade_order]]
        rows = []
        for p, m, v in zip(periods, means, versions):
            g = Counter(c.get("grade") or NO_GRADE for c in by_period[p])
            rows.append([e(p), f"<code>{e(v)}</code>", str(len(by_period[p])), _fmt_num(m),
                         *[str(g.get(x, 0)) for x in run.grade_order]])
        who = (f"; thin lines: {e(team.label)} ({'pooled records' if team.method == 'pooled' else 'mean of subjects'})"
               if team is not None else "")
        lead = f"Mean subject score per period (thick line){who}."
        return _section("trend", lead, self.charts.html(fig, "trend")
                        + _table(head, rows, numeric=range(2, len(head))))

    # ----------------------------------------------------------------- extremes

    def extremes_section(self) -> str:
        run = self.run

        def table(idx: list[int]) -> str:
            rows = []
            for rank, i in enumerate(idx, 1):
                c = run.cards[i]
                decided = str(c.get("decided_by") or "")
                names = {v.get("id"): v.get("name") for v in c.get("vetoes") or []}
                how = '<span class="muted">score</span>' if decided == "score" else (
                    f'<span class="pill" title="{e(decided)}">veto · {e(names.get(decided[5:]) or decided[5:])}</span>'
                    if decided.startswith("veto:") else e(decided))
                rows.append([str(rank), _subject_link(run, i, self.linked), _fmt_num(_float(c.get("score"))),
                             _badge(c.get("grade"), self.colours), how,
                             *([f"<code>{e((c.get('scheme') or {}).get('version'))}</code>"] if self.multi else [])])
            head = ["#", "Subject 对象", "Score", "Grade", "Decided by", *(["Version"] if self.multi else [])]
            return _table(head, rows, numeric=[0, 2])

        lead = "Click a subject for its full explanation (the same tree as <code>qualiscore explain</code>)."
        body = (f'<div class="grid2"><div><h3>Lowest 10 最低</h3>{table(self.low)}</div>'
                f'<div><h3>Highest 10 最高</h3>{table(self.high)}</div></div>')
        return _section("extremes", lead, body)

    # ----------------------------------------------------------------- vetoes

    def vetoes_section(self) -> str:
        run = self.run
        idx = _vetoed(run)
        if not idx:
            return _section("vetoes", "", '<p class="ok">No veto was triggered. 无一票否决。</p>')
        summary: dict[str, dict[str, Any]] = {}
        for i in idx:
            for v in run.cards[i]["vetoes"]:
                s = summary.setdefault(v["id"], {"name": v.get("name"), "effect": v.get("effect"),
                                                 "grade": v.get("grade"), "subjects": 0, "records": 0})
                s["subjects"] += 1
                s["records"] += len(v.get("evidence") or [])
        srows = [[f"{e(s['name'])} <code>{e(vid)}</code>",
                  ("grade " if s["effect"] == "grade" else "cap at ") + _badge(s["grade"], self.colours),
                  str(s["subjects"]), str(s["records"])] for vid, s in sorted(summary.items())]
        rows = []
        for i in idx[:VETO_ROWS]:
            c = run.cards[i]
            for v in c["vetoes"]:
                ev = list(v.get("evidence") or [])
                shown = "".join(f"<code>{e(x)}</code>" for x in ev[:EVIDENCE_SHOWN])
                more = f' <span class="muted">… and {len(ev) - EVIDENCE_SHOWN} more</span>' if len(ev) > EVIDENCE_SHOWN \
                    else ""
                rows.append([_subject_link(run, i, self.linked), e(c.get("period") or "—"),
                             f"{_fmt_num(_float(c.get('score')))} " + _badge(c.get("score_grade"), self.colours)
                             + " → " + _badge(c.get("grade"), self.colours),
                             f"{e(v.get('name'))} <code>{e(v.get('id'))}</code><br><span class=\"muted\">"
                             f"{e(v.get('reason'))}</span>",
                             f'<span class="evidence">{shown}{more}</span>'])
        lead = f"{len(idx)} scorecard(s) decided or capped by a veto; evidence lists the record ids that triggered it."
        if len(idx) > VETO_ROWS:
            lead += f" The first {VETO_ROWS} are listed; all are in scorecards.jsonl."
        body = (_table(["Veto 否决项", "Effect", "Scorecards", "Evidence records"], srows, numeric=[2, 3])
                + "<h3>Triggered vetoes 触发明细</h3>"
                + _table(["Subject 对象", "Period", "Score → grade", "Veto", "Evidence 证据 (record ids)"], rows))
        return _section("vetoes", lead, body)

    # ----------------------------------------------------------------- rejects

    def rejects_section(self) -> str:
        run = self.run
        rows = (run.manifest.get("rows") or {})
        rejected = rows.get("rejected", 0)
        if not run.rejects:
            msg = "No row was rejected. 无拒收记录。" if not rejected else "rejects.csv lists no problems."
            return _section("rejects", "", f'<p class="ok">{e(msg)}</p>')
        by_code = Counter(r.get("code", "") for r in run.rejects)
        fields_by_code: dict[str, Counter[str]] = defaultdict(Counter)
        for r in run.rejects:
            fields_by_code[r.get("code", "")][r.get("field") or "(row)"] += 1
        by_field = Counter(r.get("field") or "(row)" for r in run.rejects)
        t1 = _table(["Code 原因", "Problems", "Fields"],
                    [[f"<code>{e(c)}</code>", str(n), ", ".join(f"{e(f)} ({k})" for f, k in
                                                               fields_by_code[c].most_common())]
                     for c, n in by_code.most_common()], numeric=[1])
        t2 = _table(["Field 字段", "Problems"], [[f"<code>{e(f)}</code>", str(n)] for f, n in by_field.most_common()],
                    numeric=[1])
        cols = ["source", "row", "record_id", "field", "value", "code", "reason"]
        first = [[e(r.get(k, "")) if k != "code" else f"<code>{e(r.get(k, ''))}</code>" for k in cols]
                 for r in run.rejects[:REJECT_ROWS]]
        lead = (f"{rejected} of {rows.get('read', 0)} rows rejected ({_pct(rejected, rows.get('read', 0))}), "
                f"{len(run.rejects)} problem(s) in rejects.csv. Rejected rows are not scored.")
        body = (f'<div class="grid2"><div><h3>By code</h3>{t1}</div><div><h3>By field</h3>{t2}</div></div>'
                f"<h3>First {min(REJECT_ROWS, len(run.rejects))} rows of rejects.csv</h3>"
                + _table(cols, first, numeric=[1]))
        return _section("rejects", lead, body)

    # ----------------------------------------------------------------- explanations

    def explanations_section(self) -> str:
        from .explain import explain_text

        run = self.run
        items = []
        for i in self.explained:
            c = run.cards[i]
            try:
                tree = explain_text(c, int(c.get("decimals", 2)))
            except (KeyError, TypeError, ValueError) as exc:
                tree = f"(this scorecard cannot be explained: {exc!r})\n"
            items.append(
                f'<details class="expl" id="{_anchor(i)}"><summary><span class="subject">{e(c["subject"])}</span>'
                f"{_badge(c.get('grade'), self.colours)}<span>{_fmt_num(_float(c.get('score')))}</span>"
                f'<span class="muted">{e((c.get("scheme") or {}).get("version"))} · {e(c.get("records"))} records'
                f"</span></summary><pre>{e(tree)}</pre></details>"
            )
        lead = (f"{len(items)} scorecard(s): the lowest and highest {TOP_N} and "
                + ("every vetoed one. " if len(items) < MAX_EXPLANATIONS else f"vetoed ones (at most {MAX_EXPLANATIONS}). ")
                + "Every other subject: <code>qualiscore explain OUTDIR --subject ID</code>.")
        return _section("explanations", lead, "".join(items))


def _median(xs: Sequence[float]) -> float | None:
    return _quantile(sorted(xs), 0.5)


def _quantile(xs: Sequence[float], q: float) -> float | None:
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# --------------------------------------------------------------------------- Markdown


def _md(x: Any) -> str:
    """Untrusted text for a Markdown table cell: no table breaks, links, emphasis or raw HTML."""
    text = " ".join(("" if x is None else str(x)).split())
    text = html.escape(text, quote=False)
    for ch in "\\`*_[]|#":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_table(head: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    r = set(right)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i in r else "---" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _markdown(run: _Run) -> str:
    m = run.manifest
    rows = m.get("rows") or {}
    engine = m.get("engine") or {}
    versions = _versions(run)
    ids = list(dict.fromkeys(str(s.get("id")) for s in m.get("schemes", [])))
    titles = list(dict.fromkeys(s.title for s in reversed(run.schemes) if s.title))
    out = [f"# Quality report · {_md(' / '.join(ids))} {_md(', '.join(versions))}\n"]
    if titles:
        out.append(f"**{_md(titles[0])}**\n")
    approvals = [f"{_md(s.approved_by or '—')}{', ' + _md(s.approved_on) if s.approved_on else ''} ({_md(s.version)})"
                 for s in run.schemes if s.approved_by or s.approved_on]
    facts = [
        ("Scheme", _md(" / ".join(ids))),
        ("Version(s)", ", ".join(f"{_md(s.get('version'))} ({_md(s.get('effective_from'))} – "
                                 f"{_md(s.get('effective_to') or '…')}, {_md(s.get('scorecards'))} scorecards)"
                                 for s in m.get("schemes", []))),
        ("Approved by", "; ".join(approvals) or "—"),
        ("Data period", _md(_data_period(run))),
        ("Rows", f"read {rows.get('read', 0)} = scored {rows.get('scored', 0)} + rejected {rows.get('rejected', 0)}"),
        ("Scorecards", str(len(run.cards))),
        ("Mean score", _fmt_num(_mean([float(c["score"]) for c in _scored(run.cards)]))),
        ("Manifest SHA-256", f"`{run.manifest_sha256}`"),
        ("Engine", f"qualiscore {_md(engine.get('version'))} ({_md(engine.get('engine'))})"),
        ("Outputs vs manifest", "match" if not run.output_problems else _md("; ".join(run.output_problems))),
    ]
    out.append(_md_table(["Fact", "Value"], [[k, v] for k, v in facts]))
    for n in run.notes:
        out.append(f"> {_md(n)}\n")

    out.append("## Grade distribution\n")
    counts = Counter(c.get("grade") or NO_GRADE for c in run.cards)
    total = len(run.cards)
    out.append(_md_table(["Grade", "Scorecards", "Share"],
                         [[_md(g), str(counts.get(g, 0)), _pct(counts.get(g, 0), total)]
                          for g in run.grade_order if counts.get(g) or g != NO_GRADE], right=[1, 2]))

    out.append("## Indicator averages vs target\n")
    dims, inds = _indicator_stats(run)
    multi = len(versions) > 1
    trows = []
    for i in inds:
        share = i.share_like
        tgt = _fmt_measure(i.target, share)
        if i.target is not None and i.lower_better is not None:
            tgt = ("≤ " if i.lower_better else "≥ ") + tgt
        met = i.met_share
        trows.append([*([_md(i.version)] if multi else []), _md(i.dim_name), f"{_md(i.name)} ({_md(i.id)})",
                      _fmt_measure(i.mean_value, share), tgt,
                      "—" if met is None else f"{met * 100:.0f}% ({i.met}/{len(i.values)})", _fmt_num(i.mean_points)])
    n0 = 1 if multi else 0
    out.append(_md_table([*(["Version"] if multi else []), "Dimension", "Indicator", "Mean value", "Target",
                          "Meeting target", "Mean points"], trows, right=range(n0 + 2, n0 + 6)))
    out.append(_md_table([*(["Version"] if multi else []), "Dimension", "Mean score"],
                         [[*([_md(d.version)] if multi else []), f"{_md(d.name)} ({_md(d.id)})", _fmt_num(d.mean)]
                          for d in dims], right=[n0 + 1]))

    low, high = _ranked(run)
    for title, idx in ((f"Lowest {TOP_N}", low), (f"Highest {TOP_N}", high)):
        out.append(f"## {title}\n")
        out.append(_md_table(["#", "Subject", "Period", "Version", "Score", "Grade", "Decided by"], [
            [str(k), _md(run.cards[i]["subject"]), _md(run.cards[i].get("period") or "—"),
             _md((run.cards[i].get("scheme") or {}).get("version")), _fmt_num(_float(run.cards[i].get("score"))),
             _md(run.cards[i].get("grade") or NO_GRADE), _md(run.cards[i].get("decided_by"))]
            for k, i in enumerate(idx, 1)], right=[0, 4]))

    out.append("## Vetoes\n")
    vrows = []
    for i in _vetoed(run):
        c = run.cards[i]
        for v in c["vetoes"]:
            ev = list(v.get("evidence") or [])
            shown = ", ".join(_md(x) for x in ev[:EVIDENCE_SHOWN]) + (f" … (+{len(ev) - EVIDENCE_SHOWN})"
                                                                        if len(ev) > EVIDENCE_SHOWN else "")
            vrows.append([_md(c["subject"]), _md(c.get("period") or "—"), _fmt_num(_float(c.get("score"))),
                          f"{_md(c.get('score_grade') or '—')} → {_md(c.get('grade'))}",
                          f"{_md(v.get('name'))} ({_md(v.get('id'))})", shown])
    out.append(_md_table(["Subject", "Period", "Score", "Grade", "Veto", "Evidence (record ids)"], vrows, right=[2])
               if vrows else "No veto was triggered.\n")

    out.append("## Rejects by code\n")
    if run.rejects:
        by_code = Counter(r.get("code", "") for r in run.rejects)
        fields: dict[str, Counter[str]] = defaultdict(Counter)
        for r in run.rejects:
            fields[r.get("code", "")][r.get("field") or "(row)"] += 1
        out.append(_md_table(["Code", "Problems", "Fields"],
                             [[_md(c), str(n), ", ".join(f"{_md(f)} ({k})" for f, k in fields[c].most_common())]
                              for c, n in by_code.most_common()], right=[1]))
    else:
        out.append("No row was rejected.\n")
    out.append(f"\n_Generated by qualiscore {_md(engine.get('version'))} from the output directory "
               f"{_md(run.outdir.name)}; charts and explanations: `qualiscore report` (HTML)._\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- API


def build_report(outdir: str | Path, *, fmt: str = "html", by_dirs: Sequence[str | Path] = (),
                 recompute: bool = True) -> str:
    """The report of the output directory ``outdir`` as text: ``html`` (self-contained page) or ``md``.

    ``by_dirs`` are output directories of ``evaluate --by FIELD`` to chart as breakdowns;
    without them (and unless ``recompute`` is false) the scheme's breakdown fields are
    re-evaluated from the run's own inputs when they are on disk and unchanged.
    """
    from .errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if fmt == "html":
        _plotly()  # fail before any work when plotly is missing
    run = load_run(outdir, by_dirs=by_dirs, recompute=recompute)
    if fmt == "md":
        return _markdown(run)
    return _Html(run).page()


def write_report(outdir: str | Path, path: str | Path | None = None, fmt: str = "html", *,
                 by_dirs: Sequence[str | Path] = (), recompute: bool = True) -> Path:
    """Write the report (default ``OUTDIR/report.html`` or ``report.md``) atomically; return its path."""
    from .errors import OutputError

    text = build_report(outdir, fmt=fmt, by_dirs=by_dirs, recompute=recompute)
    target = Path(path) if path is not None else Path(outdir) / f"report.{fmt}"
    if target.is_dir():
        raise OutputError(f"{target} is a directory", hint="give a file name with -o, e.g. -o report.html")
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}", hint="check the path and permissions") \
            from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- CLI


@click.command("report")
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report file (default: OUTDIR/report.html or OUTDIR/report.md).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: one self-contained page with charts; md: a summary to paste in a review.")
@click.option("--by-dir", "by_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Output directory of `evaluate --by FIELD` to chart as a breakdown (repeatable).")
@click.option("--no-recompute", is_flag=True,
              help="Do not re-evaluate the scheme's breakdowns (team, channel…) from the run's inputs.")
def report_command(outdir: Path, path: Path | None, fmt: str, by_dirs: tuple[str, ...], no_recompute: bool) -> None:
    """Write a readable report of OUTDIR, an output directory of `evaluate`.

    The HTML page needs no network (charts, styles and data are inlined) and needs
    plotly: pip install 'qualiscore[report]'. Breakdowns per team and channel are
    scored from each group's pooled records: recomputed from the run's inputs when
    they are unchanged on disk, or read from --by-dir directories.

    \b
    Examples:
      qualiscore report out/
      qualiscore report out/ --format md -o review.md
      qualiscore report out/ --by-dir out-team --by-dir out-channel
    """
    from .errors import CommandError, QualiscoreError

    try:
        target = write_report(outdir, path, fmt, by_dirs=by_dirs, recompute=not no_recompute)
    except QualiscoreError as exc:
        raise CommandError(exc) from None
    click.echo(f"report: {target} ({target.stat().st_size:,} bytes)")


__all__ = ["build_report", "load_run", "report_command", "write_report"]
