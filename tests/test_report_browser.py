"""The HTML report in a real browser: every chart drawn, no JavaScript error, no network.

Headless Chromium is driven from the command line only (no extra Python package):
``--dump-dom`` gives the DOM after the page's scripts ran (plotly.js adds
``plot-container`` and ``main-svg`` elements to each chart it draws; the page's own
error recorder writes ``data-js-errors`` on <body>), and ``--screenshot`` gives a PNG.
Host names resolve nowhere, so a page that needed the network would show it.

Skipped only when no Chromium binary exists (`apt-get install -y chromium`). Set
QUALISCORE_SCREENSHOT=docs/report-screenshot.png to keep a copy of the screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore.cli import cli
from qualiscore.explain import explain_text
from qualiscore.report import HEADINGS, write_report

pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "cs-quality"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium")
WIDTH = 1280
MAX_BYTES = 1_500_000  # the demo's page, every chart and every scorecard's explanation included
SCREENSHOT_HEIGHT = 4000
ENGLISH = {"优秀": "Excellent", "良好": "Good", "合格": "Pass", "不合格": "Fail"}
RANKED = {"Excellent": "#16a34a", "Good": "#2563eb", "Pass": "#f59e0b", "Fail": "#dc2626"}


def _chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found (apt-get install -y chromium); "
                                                         "the browser checks of the HTML report are skipped")


def chromium(url: str, profile: Path, *args: str, height: int = 1000) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", f"--window-size={WIDTH},{height}",
        *args, url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


class _Dom(HTMLParser):
    """The dumped DOM: body attributes, sections, charts and what each chart contains."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.body: dict[str, str | None] = {}
        self.stack: list[tuple[str, set[str], str | None]] = []
        self.charts: dict[str, set[str]] = {}  # graph div id -> classes of elements inside it
        self.sections: dict[str, int] = {}  # section id -> number of elements inside it
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        self.tags.append(tag)
        if tag == "body":
            self.body = a
        for _, outer, ident in self.stack:
            if "plotly-graph-div" in outer and ident:
                self.charts[ident] |= classes | {tag}
        for t, _, ident in self.stack:
            if t == "section" and ident:
                self.sections[ident] += 1
        if "plotly-graph-div" in classes and a.get("id"):
            self.charts[a["id"]] = set()
        if tag == "section" and a.get("id"):
            self.sections[a["id"]] = 0
        if tag == "script":
            self._script = []
        if tag not in ("br", "meta", "img", "input", "hr", "link", "col", "wbr", "path", "rect", "line", "circle",
                       "stop", "use", "image", "source"):
            self.stack.append((tag, classes, a.get("id")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def dump(url: str, profile: Path) -> _Dom:
    result = chromium(url, profile, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<body" in result.stdout, result.stderr[-2000:]
    dom = _Dom()
    dom.feed(result.stdout)
    return dom


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    runs = {
        "q2": (RULES / "2026Q2.yaml", ROOT / "data" / "sample" / "interactions.csv"),
        "q1q2": (RULES, ROOT / "data" / "sample" / "interactions-q1q2.csv"),
        "qa": (ROOT / "rules" / "qa-form" / "2026Q2.yaml", ROOT / "data" / "sample" / "qa-inspections.csv"),
    }
    # English grade names: colours go by rank, so "Fail" is red whatever it is called
    english = (RULES / "2026Q2.yaml").read_text(encoding="utf-8")
    english = english[: english.index("\ntests:")] + "\n"
    for chinese, name in ENGLISH.items():
        english = english.replace(f"name: {chinese}, min", f"name: {name}, min").replace(
            f"grade: {chinese}}}", f"grade: {name}}}")
    (base / "english.yaml").write_text(english, encoding="utf-8")
    runs["english"] = (base / "english.yaml", ROOT / "data" / "sample" / "interactions.csv")
    out = {}
    for name, (scheme, data) in runs.items():
        result = CliRunner().invoke(cli, ["evaluate", str(scheme), str(data), "-o", str(base / name), "-q"])
        assert result.exit_code == 0, result.output
        out[name] = write_report(base / name, base / f"{name}.html")
    return out


@pytest.mark.parametrize("name", ["q2", "q1q2", "qa", "english"])
def test_every_chart_renders_without_errors(reports: dict[str, Path], name: str, tmp_path: Path) -> None:
    dom = dump(reports[name].resolve().as_uri(), tmp_path / "profile")
    errors = json.loads(dom.body.get("data-js-errors") or "null")
    assert errors == [], f"JavaScript errors in the report: {errors}"
    expected = int(dom.body["data-charts-expected"] or 0)
    assert expected >= 7
    assert len(dom.charts) == expected
    for chart, inside in sorted(dom.charts.items()):
        assert "plot-container" in inside, f"{chart} was not drawn"
        assert "main-svg" in inside, f"{chart} has no SVG"
        assert "svg" in inside
    assert dom.body.get("data-charts-rendered") == str(expected)
    if name == "q2":  # the estimates' intervals are drawn as whiskers on the indicators' mean values
        assert any("errorbar" in inside for inside in dom.charts.values())
    for sid in HEADINGS:
        # the sample quarter fills every section; elsewhere a section may only say there is nothing
        # (no rejected row, a single period), but it still says so
        assert dom.sections.get(sid, 0) >= (3 if name == "q2" else 2), f"section {sid} is empty"
    # escaping held in the browser too: the report's markup has no images, iframes or foreign scripts
    assert not {"img", "iframe", "object", "embed"} & set(dom.tags)
    # error recorder, plotly.js, page script, the explanations' data, one per chart
    assert len(dom.scripts) == expected + 4
    assert dom.body.get("data-explanations") == "unpacked"


def test_english_grade_names_are_coloured_by_rank(reports: dict[str, Path], tmp_path: Path) -> None:
    page = reports["english"].read_text(encoding="utf-8")
    assert not set(ENGLISH) & set(re.findall(r'<span class="badge"[^>]*>([^<]*)</span>', page))
    for grade, colour in RANKED.items():
        assert f'<span class="badge" style="background:{colour}">{grade}</span>' in page
    grades = page[page.index('<section id="grades">'):]
    bars = re.search(r'"marker":\{"color":\[([^\]]*)\]\}', grades)
    assert bars is not None and json.loads(f"[{bars.group(1)}]") == list(RANKED.values())
    assert reports["english"].stat().st_size < MAX_BYTES


def test_the_demo_page_is_light(reports: dict[str, Path]) -> None:
    """The basic plotly.js bundle, not the full one: the sample quarter's page stays under 1.5 MB."""
    size = reports["q2"].stat().st_size
    assert size < MAX_BYTES, f"report.html of the sample quarter is {size:,} bytes"


def test_anchor_opens_explanation(reports: dict[str, Path], tmp_path: Path) -> None:
    page = reports["q2"].read_text(encoding="utf-8")
    anchor = re.search(r'<h3>Lowest 10</h3>.*?<a href="#(sc-\d+)">', page, re.S).group(1)
    dom = _OpenDetails()
    result = chromium(reports["q2"].resolve().as_uri() + "#" + anchor, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom.feed(result.stdout)
    assert dom.open == [anchor]
    # the page's script unpacked the explanation into it: the tree `qualiscore explain` prints
    line = (reports["q2"].parent / "q2" / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()[int(anchor[3:])]
    card = json.loads(line)
    assert dom.text[anchor] == explain_text(card, card["decimals"])


def test_the_subject_list_finds_a_subject(reports: dict[str, Path], tmp_path: Path) -> None:
    """report.html?find=A003 opens with the list filtered to A003's scorecards, each with its explanation."""
    result = chromium(reports["q2"].resolve().as_uri() + "?find=a003%202026-05", tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = _Listed()
    dom.feed(result.stdout)
    assert len(dom.items) == 72
    shown = [subject for subject, hidden in dom.items if not hidden]
    assert shown == ["A003/2026-05"]
    assert dom.count == "1 of 72"


def test_the_subject_list_keeps_the_grades_that_may_change(reports: dict[str, Path], tmp_path: Path) -> None:
    result = chromium(reports["q2"].resolve().as_uri() + "?find=2026-06&unsure", tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = _Listed()
    dom.feed(result.stdout)
    cards = [json.loads(line) for line in
             (reports["q2"].parent / "q2" / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = [c["subject"] for c in cards if c["uncertain"] and c["period"] == "2026-06"]
    assert expected and [subject for subject, hidden in dom.items if not hidden] == expected
    assert dom.count == f"{len(expected)} of 72"


class _Listed(HTMLParser):
    """The subject list after the page's script filtered it: (subject, hidden) per scorecard."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, bool]] = []
        self.count = ""
        self._in: str | None = None
        self._hidden: bool | None = None  # None: not inside a <details> of the list

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "details" and "expl" in (a.get("class") or ""):
            self._hidden = "hidden" in a
        if tag == "span" and a.get("class") == "subject" and self._hidden is not None:
            self._in = "subject"
        if tag == "span" and a.get("id") == "subject-count":
            self._in = "count"

    def handle_data(self, data: str) -> None:
        if self._in == "subject":
            self.items.append((data, self._hidden))
        elif self._in == "count":
            self.count = data
        self._in = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._hidden = None


class _OpenDetails(HTMLParser):
    """The ids of the open <details>, and the text of each one's <pre>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: dict[str, str] = {}
        self._details = ""
        self._pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "details":
            self._details = a.get("id") or ""
            if "open" in a:
                self.open.append(self._details)
        self._pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._pre = False

    def handle_data(self, data: str) -> None:
        if self._pre:
            self.text[self._details] = self.text.get(self._details, "") + data


def test_screenshot(reports: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = chromium(reports["q2"].resolve().as_uri(), tmp_path / "profile", f"--screenshot={shot}",
                      height=SCREENSHOT_HEIGHT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert png_size(shot) == (WIDTH, SCREENSHOT_HEIGHT)
    assert shot.stat().st_size > 100_000  # a page of charts and tables, not a blank image
    keep = os.environ.get("QUALISCORE_SCREENSHOT")
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep)
