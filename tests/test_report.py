"""`qualiscore report`: the self-contained HTML page and the Markdown summary of an output directory.

Fast checks on the generated text; tests/test_report_browser.py opens the page in a
headless browser. Output directories are made once per module, with absolute paths,
so that breakdowns can be recomputed from the run's inputs wherever pytest runs.
"""

from __future__ import annotations

import ast
import base64
import gzip
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore import __version__
from qualiscore._install import install_hint
from qualiscore.cli import cli
from qualiscore.errors import DamagedOutputError
from qualiscore.explain import explain_text
from qualiscore.report import HEADINGS, build_report, heading, load_run, write_report

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "cs-quality"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"
SAMPLE_Q1Q2 = ROOT / "data" / "sample" / "interactions-q1q2.csv"
EVIL = "<script>alert(1)</script>"
EVIL_ID = "<img src=x onerror=alert(2)>"
GRADES = ("优秀", "良好", "合格", "不合格")


def html_report(outdir: Path, **kwargs: object) -> str:
    pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")
    return build_report(outdir, **kwargs)


def evaluate(scheme: Path, data: Path, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(cli, ["evaluate", str(scheme), str(data), "-o", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out


def run_report(*args: str) -> object:
    return CliRunner().invoke(cli, ["report", *args], color=False)


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evaluate(RULES / "2026Q2.yaml", SAMPLE, tmp_path_factory.mktemp("run") / "out")


@pytest.fixture(scope="module")
def page(outdir: Path) -> str:
    return html_report(outdir)


@pytest.fixture(scope="module")
def cards(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def evil_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scheme whose title is a script, an agent id that is a script, record ids that are HTML."""
    base = tmp_path_factory.mktemp("evil")
    text = (RULES / "2026Q2.yaml").read_text(encoding="utf-8")
    text = text.replace("title: 客服服务质量评价方案（2026年第二季度）", f'title: "{EVIL} 客服方案"')
    text = text[: text.index("\ntests:")] + "\n"
    (base / "2026Q2.yaml").write_text(text, encoding="utf-8")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for n, line in enumerate(lines[1:300]):
        if ",A004," in line:
            line = line.replace(",A004,", f",{EVIL},", 1)
            if n < 40:  # an unauthorised promise: the veto lists these record ids as evidence
                rid = line.split(",", 1)[0]
                line = f"{EVIL_ID}{n}" + line[len(rid):].rsplit(",", 1)[0] + ",true"
        out.append(line)
    (base / "data.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return evaluate(base / "2026Q2.yaml", base / "data.csv", base / "out")


class _Tags(HTMLParser):
    """Every start tag with its attributes; text inside <script>/<style> is not parsed as tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def unpacked(page: str) -> dict[str, dict[str, str]]:
    """The explanations the page carries, by anchor (gzipped JSON in base64, unpacked by the page's script)."""
    data = re.search(r'<script type="application/gzip\+base64" id="explanations-data">([^<]*)</script>', page)
    assert data is not None
    return json.loads(gzip.decompress(base64.b64decode(data.group(1))))


def section(text: str, sid: str) -> str:
    start = text.index(f'<section id="{sid}">')
    return text[start: text.index("</section>", start)]


# --------------------------------------------------------------------------- HTML content


def test_every_section_heading_in_order(page: str) -> None:
    positions = [page.index(f"<h2>{html.escape(heading(sid))}</h2>") for sid in HEADINGS]
    assert positions == sorted(positions)
    for sid in HEADINGS:
        assert f'<section id="{sid}">' in page
        assert f'href="#{sid}"' in page  # table of contents


def test_run_facts(page: str, outdir: Path) -> None:
    manifest_sha = hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest()
    run = section(page, "run")
    for fact in ("cs-quality", "2026Q2", "客服服务质量评价方案（2026年第二季度）", "服务质量委员会, 2026-03-20",
                 "read 3,000 = scored 2,970 + rejected 30", manifest_sha, f"qualiscore {__version__}",
                 "2026-04-01 – 2026-06-30"):
        assert fact in run, fact
    assert "Data period</dt><dd>2026-04 – 2026-06</dd>" in run
    assert "match their SHA-256 in manifest.json" in run


def test_header_cards(page: str) -> None:
    hero = page[page.index('<header class="hero">'): page.index('<nav class="toc"')]
    for number in ("3,000", "2,970", "30", "72", "61.10"):
        assert f'<div class="num">{number}</div>' in hero, number


def test_every_grade_with_its_colour(page: str) -> None:
    grades = section(page, "grades")
    colours = {"优秀": "#16a34a", "良好": "#2563eb", "合格": "#f59e0b", "不合格": "#dc2626"}
    for grade, colour in colours.items():
        assert f'<span class="badge" style="background:{colour}">{grade}</span>' in grades
    # in scheme order, in the chart data too
    x = re.search(r'"x":\[("[^\]]*")\]', grades)
    assert x and json.loads(f"[{x.group(1)}]") == list(GRADES)


def test_grades_are_coloured_by_rank_whatever_their_names() -> None:
    from qualiscore.report.colours import NO_GRADE_COLOUR, grade_colours

    english = grade_colours(["Excellent", "Good", "Pass", "Fail", "(none)"], "(none)")
    assert english == {"Excellent": "#16a34a", "Good": "#2563eb", "Pass": "#f59e0b", "Fail": "#dc2626",
                       "(none)": NO_GRADE_COLOUR}
    assert grade_colours(["Pass", "Fail"], "(none)") == {"Pass": "#16a34a", "Fail": "#dc2626"}
    assert list(grade_colours(["A", "B", "C"], "(none)").values()) == ["#16a34a", "#f59e0b", "#dc2626"]
    six = list(grade_colours(list("ABCDEF"), "(none)").values())
    assert len(set(six)) == 6 and six[0] != six[-1]


def test_the_vetoes_card_says_how_many_triggered_and_how_many_changed_the_grade(page: str,
                                                                                 cards: list[dict]) -> None:
    hero = page[page.index('<header class="hero">'): page.index('<nav class="toc"')]
    triggered = sum(1 for c in cards if c["vetoes"])
    changed = sum(1 for c in cards if c["decided_by"].startswith("veto:"))
    assert f"vetoes: {triggered} triggered · {changed} changed the grade" in hero


def test_chinese_text_and_fonts(page: str, outdir: Path, tmp_path: Path) -> None:
    path = write_report(outdir, tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    raw = path.read_bytes()
    assert raw.decode("utf-8") == page
    assert '<meta charset="utf-8">' in page
    for font in ('"PingFang SC"', '"Microsoft YaHei"', '"Noto Sans CJK SC"', '"WenQuanYi Micro Hei"', "sans-serif"):
        assert font in page
    for text in ("客户满意度", "首次解决率", "超权限承诺", "一票否决"):
        assert text in page
        assert text.encode("utf-8") in raw


def test_self_contained(page: str) -> None:
    found = tags(page)
    for tag, attrs in found:
        for name in ("src", "href", "data", "action", "srcset", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        if tag == "script":
            assert "src" not in attrs
    style = page[page.index("<style>"): page.index("</style>")]
    assert "@import" not in style and "url(" not in style
    # plotly.js is inlined exactly once, and each chart is a plotly graph
    assert page.count("* plotly.js (basic - minified) v") == 1
    charts = int(re.search(r'data-charts-expected="(\d+)"', page).group(1))
    assert charts >= 8
    assert page.count('class="plotly-graph-div"') == charts
    assert "svg" not in {t for t, _ in found}  # no hand-drawn SVG: plotly draws the charts


def test_links_to_explanations(page: str, cards: list[dict]) -> None:
    ids = {a.get("id") for _, a in tags(page) if a.get("id")}
    links = [a["href"][1:] for _, a in tags(page) if (a.get("href") or "").startswith("#")]
    assert links and all(target in ids for target in links)
    extremes = section(page, "extremes")
    subjects = re.findall(r'<a href="#(sc-\d+)"><span class="subject">([^<]*)</span></a>', extremes)
    assert len(subjects) == 20
    explanations, trees = section(page, "explanations"), unpacked(page)
    for anchor, subject in subjects:
        card = cards[int(anchor[3:])]
        assert html.unescape(subject) == card["subject"]
        assert f'<details class="expl" id="{anchor}">' in explanations
        assert trees[anchor]["tree"] == explain_text(card, card["decimals"])
    # lowest first: the first link of the lowest table is the lowest score
    lowest = min((c for c in cards if c["score"] is not None), key=lambda c: (c["score"], c["subject"]))
    assert html.unescape(subjects[0][1]) == lowest["subject"]


def test_indicator_targets_from_scorecards(page: str, cards: list[dict]) -> None:
    body = section(page, "indicators")
    targets = {i["id"]: i["target"] for d in cards[0]["dimensions"] for i in d["indicators"]}
    assert targets["fcr"] == 0.85 and targets["aht"] == 300
    row = body[body.index("<code>fcr</code>"):]
    row = row[: row.index("</tr>")]
    assert "≥ 85.0%" in row
    row = body[body.index("<code>aht</code>"):]
    assert "≤ 300.0" in row[: row.index("</tr>")]
    values = [i["value"] for c in cards for d in c["dimensions"] for i in d["indicators"]
              if i["id"] == "fcr" and i["status"] == "scored"]
    assert f"{100 * sum(values) / len(values):.1f}%" in body


def test_vetoes_with_evidence(page: str, cards: list[dict]) -> None:
    body = section(page, "vetoes")
    vetoed = [c for c in cards if c["vetoes"]]
    assert vetoed
    for c in vetoed:
        assert html.escape(c["subject"]) in body
        for rid in c["vetoes"][0]["evidence"][:20]:
            assert f"<code>{html.escape(rid)}</code>" in body


def test_rejects_summary(page: str, outdir: Path) -> None:
    body = section(page, "rejects")
    assert "30 of 3000 rows rejected" in body
    for code in ("not-boolean", "below-minimum", "bad-datetime", "not-in-enum", "above-maximum"):
        assert f"<code>{code}</code>" in body
    first = (outdir / "rejects.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    assert f"<td>{first[2]}</td>" in body  # the first row's record id
    assert body.count("<tr>") - body.count("<thead>") >= 20


def test_breakdowns_are_pooled_and_match_evaluate_by(outdir: Path, tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    team_dir = evaluate(RULES / "2026Q2.yaml", SAMPLE, tmp_path / "by-team", "--by", "team")
    recomputed = {b.field: b for b in load_run(outdir).breakdowns}
    assert set(recomputed) == {"team", "channel"}
    assert recomputed["team"].method == "pooled"
    given = load_run(outdir, by_dirs=[team_dir]).breakdowns
    from_dir = next(b for b in given if b.field == "team")
    assert "by-team" in from_dir.source
    key = [(r.value, r.period, r.score, r.grade, r.records) for r in recomputed["team"].rows]
    assert key == [(r.value, r.period, r.score, r.grade, r.records) for r in from_dir.rows]
    assert {r.value for r in from_dir.rows} == {"T1", "T2", "T3", "T4", "T5", "T6"}


def test_breakdown_section_and_trend(page: str) -> None:
    body = section(page, "breakdowns")
    assert "By team · 班组" in body and "By channel · 渠道" in body
    assert "recomputed from the run" in body
    trend = section(page, "trend")
    for period in ("2026-04", "2026-05", "2026-06"):
        assert period in trend
    assert "all subjects" in trend  # the population line (plotly JSON escapes non-ASCII)


def test_breakdowns_not_recomputable(outdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    shutil.copy(SAMPLE, data)
    out = evaluate(RULES / "2026Q2.yaml", data, tmp_path / "out")
    data.unlink()
    text = html_report(out)
    assert "cannot be recomputed: input" in text and "not found" in text
    assert "--by-dir out-team" in text
    assert "not recomputed (--no-recompute)" in html_report(outdir, recompute=False)


def test_breakdowns_read_the_inputs_as_the_run_did(tmp_path: Path) -> None:
    """The recorded --sheet (and encoding, as_of) choose what is read again: here the data is on the second sheet."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["this sheet holds no records"])
    data = book.create_sheet("data")
    for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:201]:
        data.append(line.split(","))
    book.save(tmp_path / "book.xlsx")
    out = evaluate(RULES / "2026Q2.yaml", tmp_path / "book.xlsx", tmp_path / "out", "--sheet", "data")
    run = load_run(out)
    assert run.breakdown_notes == ()
    team = next(b for b in run.breakdowns if b.field == "team")
    assert team.method == "pooled" and sum(r.records for r in team.rows) == run.manifest["rows"]["scored"]


def test_a_damaged_manifest_option_stops_the_report_naming_the_key(outdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(outdir, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["options"]["as_of"] = "last spring"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(DamagedOutputError) as raised:
        load_run(out)
    assert raised.value.exit_code == 16 and raised.value.code == "damaged-manifest"
    assert raised.value.location is not None and raised.value.location.pointer == "/options/as_of"
    assert '"last spring"' in raised.value.message


# --------------------------------------------------------------------------- escaping


def test_untrusted_text_is_escaped(evil_outdir: Path) -> None:
    text = html_report(evil_outdir)
    assert EVIL not in text
    assert "<img" not in text
    assert "alert(2)" in text  # the ids are shown, as text
    assert html.escape(EVIL) + " 客服方案" in section(text, "run")
    assert html.escape(EVIL) + "/2026-04" in section(text, "extremes")
    assert html.escape(EVIL_ID) in section(text, "vetoes")
    assert not [t for t, _ in tags(text) if t in ("img",)]
    # the only scripts are the report's own, and the explanations' data, which is not run
    scripts = [a for t, a in tags(text) if t == "script"]
    assert len(scripts) == 4 + int(re.search(r'data-charts-expected="(\d+)"', text).group(1))
    assert [a for a in scripts if a] == [{"type": "application/gzip+base64", "id": "explanations-data"}]
    # explanations are data set as text by the page's script (textContent), never parsed as markup
    explained = unpacked(text).values()
    assert any(EVIL in x["tree"] for x in explained)
    assert not any(EVIL in x["table"] or "<img" in x["table"] for x in explained)


def test_untrusted_text_is_escaped_in_markdown(evil_outdir: Path) -> None:
    text = build_report(evil_outdir, fmt="md")
    assert EVIL not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text


# --------------------------------------------------------------------------- Markdown


def test_markdown_shape(outdir: Path) -> None:
    text = build_report(outdir, fmt="md")
    assert text.startswith("# Quality report · cs-quality 2026Q2\n")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Grade distribution", "## Indicator averages vs target", "## Lowest 10",
                        "## Highest 10", "## Grades that may change with more data", "## Vetoes",
                        "## Rejects by code"]
    manifest_sha = hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest()
    assert f"`{manifest_sha}`" in text
    assert "| Data period | 2026-04 – 2026-06 |" in text
    for grade in GRADES:
        assert re.search(rf"^\| {grade} \| \d+ \| [\d.]+% \|$", text, re.M), grade
    # every table row has as many cells as its header
    for block in re.findall(r"((?:^\|.*\|\n)+)", text, re.M):
        rows = block.strip("\n").split("\n")
        widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, rows
    assert re.search(r"\| 首次解决率 \(fcr\) \| 77\.0% \[\d+\.\d%, \d+\.\d%\] \| ≥ 85\.0% \|",
                     text.replace("服务结果 | ", ""))
    lowest = text[text.index("## Lowest 10"): text.index("## Highest 10")]
    assert len(re.findall(r"^\| \d+ \|", lowest, re.M)) == 10
    assert "| not-in-enum | 6 | channel (6) |" in text


def test_markdown_needs_no_plotly(outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)
    assert build_report(outdir, fmt="md", recompute=False).startswith("# Quality report")


# --------------------------------------------------------------------------- several versions


def test_multi_version_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = evaluate(RULES, SAMPLE_Q1Q2, tmp_path_factory.mktemp("q1q2") / "out")
    text = html_report(out)
    run = section(text, "run")
    assert "客服服务质量评价方案（2026年第一季度）" in run and "客服服务质量评价方案（2026年第二季度）" in run
    assert "2026Q1" in run and "2026Q2" in run
    assert "2026-02 – 2026-05" in run
    indicators = section(text, "indicators")
    assert "≥ 70.0%" in indicators and "≥ 85.0%" in indicators  # the FCR target of each version
    assert "2026Q2 in force" in section(text, "trend")
    md = build_report(out, fmt="md")
    assert "| Version | Dimension | Indicator |" in md
    assert "# Quality report · cs-quality 2026Q1, 2026Q2" in md
    # one mean score everywhere (its exact value, 65.455, is a rounding tie)
    card = re.search(r'Mean score</div><div class="num">([\d.]+)<', text).group(1)
    table = re.search(r'<td>Mean</td><td class="n">([\d.]+)<', section(text, "scores")).group(1)
    assert card == table == re.search(r"^\| Mean score \| ([\d.]+) \|$", md, re.M).group(1)


# --------------------------------------------------------------------------- CLI


def test_cli_writes_default_file(outdir: Path, tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    copy = tmp_path / "out"
    shutil.copytree(outdir, copy)
    result = run_report(str(copy))
    assert result.exit_code == 0, result.output
    assert (copy / "report.html").is_file()
    assert f"report: {copy / 'report.html'}" in result.output
    assert sorted(p.name for p in copy.iterdir()) == ["manifest.json", "rejects.csv", "report.html",
                                                      "reports.json", "row-digests.bin", "scorecards.csv",
                                                      "scorecards.jsonl"]
    result = run_report(str(copy), "--format", "md")
    assert result.exit_code == 0, result.output
    assert (copy / "report.md").read_text(encoding="utf-8").startswith("# Quality report")


def test_cli_output_file_and_by_dir(outdir: Path, tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    team_dir = evaluate(RULES / "2026Q2.yaml", SAMPLE, tmp_path / "out-team", "--by", "team")
    target = tmp_path / "sub" / "review.html"
    result = run_report(str(outdir), "-o", str(target), "--by-dir", str(team_dir), "--no-recompute")
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert f"from {html.escape(str(team_dir))} (evaluate --by team)" in text
    assert "Breakdowns by channel were not recomputed" in text
    assert not list(target.parent.glob(".*tmp"))  # the temporary file was renamed, not left behind


def test_cli_missing_outdir(tmp_path: Path) -> None:
    result = run_report(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_not_an_output_dir(tmp_path: Path) -> None:
    result = run_report(str(tmp_path))
    assert result.exit_code == 6
    assert "is not a qualiscore output directory" in result.output
    assert "Traceback" not in result.output


def test_cli_damaged_scorecards(outdir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "out"
    shutil.copytree(outdir, copy)
    (copy / "scorecards.jsonl").write_text("{not json\n", encoding="utf-8")
    result = run_report(str(copy))
    assert result.exit_code == 16 and "error[damaged-output]" in result.output
    assert "cannot read" in result.output and "scorecards.jsonl" in result.output


def test_cli_file_as_outdir(outdir: Path) -> None:
    result = run_report(str(outdir / "manifest.json"))
    assert result.exit_code == 2
    assert "is a file" in result.output


def test_cli_bad_format(outdir: Path) -> None:
    result = run_report(str(outdir), "--format", "pdf")
    assert result.exit_code == 2


def test_missing_plotly_is_a_clear_usage_error(outdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)
    result = run_report(str(outdir), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert install_hint("report") in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_library_does_not_import_click() -> None:
    package = Path(__file__).resolve().parents[1] / "src" / "qualiscore" / "report"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "click"], path.name


def test_module_does_not_import_plotly() -> None:
    code = "import sys, qualiscore.cli, qualiscore.report; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vendored_plotly_js_reads_the_figures_plotly_writes() -> None:
    """The inlined bundle is the vendored basic one, of the plotly.js major version plotly.py writes JSON for."""
    pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")
    from plotly.offline import get_plotlyjs

    from qualiscore.report.charts import plotly_js, plotly_js_version

    full = re.search(r"\* plotly\.js v(\d+)\.", get_plotlyjs()[:200])
    assert full is not None
    assert plotly_js_version().split(".")[0] == full.group(1), (
        "refresh src/qualiscore/report/vendor/ as its README.md says")
    vendor = ROOT / "src" / "qualiscore" / "report" / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    assert f"**{plotly_js_version()}**" in readme
    assert hashlib.sha256((vendor / "plotly-basic.min.js").read_bytes()).hexdigest() in readme
    assert len(plotly_js()) < 1_300_000
