"""The report and the workbook in both languages: the same figures, the words of the language asked for.

The HTML page is checked in headless Chromium (as test_report_browser does, skipped without
it): it renders without a JavaScript error in English and in Chinese, says which language it
is in ``<html lang>``, carries the Chinese headings only in Chinese, and shows the same
numbers in both. The workbook's summary sheet is in the run's language, whatever the
language in force when it is written or verified; its data sheets keep the machine column
names of scorecards.csv and rejects.csv.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import Cli
from qualiscore.i18n import using
from qualiscore.report import HEADINGS, build_report, heading

ROOT = Path(__file__).resolve().parent.parent
Q2 = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
DATA = ROOT / "data" / "sample" / "interactions.csv"

# What the Chinese page says and the English one must not (labels of the report, not of the scheme).
CHINESE = ("运行概况", "等级分布", "得分分布", "维度与指标达标情况", "分组对比", "最低与最高 10 名", "触发的一票否决",
           "被拒绝的行", "评分卡明细", "读取行数", "平均得分", "数据周期", "质量评价报告")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")
ENGLISH = ("Grade distribution", "Score distribution", "Rows read", "Mean score", "Data period", "quality report")


def _numbers(page: str) -> list[str]:
    """The figures a reader sees: the key figures, every numeric table cell, the hero's counts."""
    cards = re.findall(r'<div class="num">([^<]*)</div>', page)
    cells = re.findall(r'<td class="n">(.*?)</td>', page)
    return cards + [" ".join(NUMBER.findall(re.sub(r"<[^>]+>", " ", c))) for c in cells]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from qualiscore.cli import cli

    out = tmp_path_factory.mktemp("i18n-report") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(Q2), str(DATA), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def pages(run: Path) -> dict[str, str]:
    pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")
    out = {}
    for lang in ("en", "zh-CN"):
        with using(lang):
            out[lang] = build_report(run)
    return out


# --------------------------------------------------------------------------- the page, as text


def test_the_page_says_its_language(pages: dict[str, str]) -> None:
    assert '<html lang="en">' in pages["en"] and '<html lang="zh-CN">' in pages["zh-CN"]


def test_headings_and_labels_in_the_language_asked_for(pages: dict[str, str]) -> None:
    en, zh = pages["en"], pages["zh-CN"]
    for text in CHINESE:
        assert text in zh, text
        assert text not in en, text
    for text in ENGLISH:
        assert text in en, text
        assert text not in zh, text
    for sid in HEADINGS:
        with using("zh-CN"):
            assert f"<h2>{heading(sid)}</h2>" in zh
        with using("en"):
            assert f"<h2>{heading(sid)}</h2>" in en


def test_the_same_numbers_in_both_languages(pages: dict[str, str]) -> None:
    en, zh = _numbers(pages["en"]), _numbers(pages["zh-CN"])
    assert len(en) > 50 and en == zh
    # the explanations travel packed; both pages carry the same figures in them
    charts = [re.findall(r'"y":\[[^\]]*\]', p) for p in (pages["en"], pages["zh-CN"])]
    assert charts[0] and charts[0] == charts[1]


def test_the_page_script_counts_in_the_page_language(pages: dict[str, str]) -> None:
    assert 'data-template="{shown} / {total}"' in pages["zh-CN"]
    assert 'data-template="{shown} of {total}"' in pages["en"]


def test_markdown_in_both_languages(run: Path) -> None:
    with using("zh-CN"):
        zh = build_report(run, fmt="md")
    with using("en"):
        en = build_report(run, fmt="md")
    assert zh.startswith("# 质量评价报告 · cs-quality 2026Q2\n") and en.startswith("# Quality report · cs-quality 2026Q2\n")
    assert "## 等级分布" in zh and "| 等级 | 评分卡 | 占比 |" in zh and "## Grade distribution" not in zh
    # the same figures (a sentence may name them in another order)
    assert sorted(NUMBER.findall(zh.split("## 等级分布")[1])) == sorted(NUMBER.findall(en.split("## Grade distribution")[1]))


# --------------------------------------------------------------------------- the commands


def test_evaluate_report_and_report_command_in_chinese_and_verify_in_both(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    result = cli("evaluate", str(Q2), str(DATA), "-o", str(out), "--report", "--format", "xlsx", "-q",
                 "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "<h2>运行概况</h2>" in page
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["options"]["language"] == "zh-CN"
    for lang in ("en", "zh-CN"):  # the workbook is recomputed in the run's language, the report taken as published
        result = cli("verify", str(out), "--lang", lang)
        assert result.exit_code == 0, result.output
    result = cli("report", str(out), "-o", str(out / "report-en.html"))
    assert result.exit_code == 0 and result.output.startswith("report: ")
    assert '<html lang="en">' in (out / "report-en.html").read_text(encoding="utf-8")
    result = cli("report", str(out), "--format", "md", "-o", str(out / "report-zh.md"), "--lang", "zh-CN")
    assert result.exit_code == 0 and result.output.startswith("报告：") and "字节" in result.output
    assert (out / "report-zh.md").read_text(encoding="utf-8").startswith("# 质量评价报告")
    assert cli("verify", str(out)).exit_code == 0  # reports written later are recorded, in any language


# --------------------------------------------------------------------------- the workbook


def _sheet(data: bytes, title: str) -> list[tuple[object, ...]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [tuple(r) for r in wb[title].iter_rows(values_only=True)]
    finally:
        wb.close()


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    pytest.importorskip("openpyxl")
    from click.testing import CliRunner

    from qualiscore.cli import cli

    base = tmp_path_factory.mktemp("i18n-workbook")
    out = {}
    for lang in ("en", "zh-CN"):
        result = CliRunner().invoke(cli, ["evaluate", str(Q2), str(DATA), "-o", str(base / lang), "--format", "xlsx",
                                          "-q", "--lang", lang])
        assert result.exit_code == 0, result.output
        out[lang] = (base / lang / "scorecards.xlsx").read_bytes()
    return out


def test_the_summary_sheet_is_in_the_run_language(workbooks: dict[str, bytes]) -> None:
    en, zh = _sheet(workbooks["en"], "summary"), _sheet(workbooks["zh-CN"], "summary")
    assert en[0] == ("item", "value", "count") and zh[0] == ("项目", "值", "数量")
    labels = {r[0]: r[1] for r in zh if r and r[0]}
    assert {"引擎", "评价方案", "读取行数", "已评分行数", "被拒绝行数", "评分卡数", "分组字段"} <= set(labels)
    assert ("等级", "评分卡数", "占比") in zh and ("grade", "scorecards", "share") in en
    # the same facts and counts, in the same rows; only the labels differ
    assert len(en) == len(zh) and [r[1:] for r in en[1:] if r and r[0] not in ("grade",)] == \
        [r[1:] for r in zh[1:] if r and r[0] not in ("等级",)]


def test_data_sheets_keep_their_machine_columns(workbooks: dict[str, bytes]) -> None:
    import openpyxl

    for sheet in ("scorecards", "indicators", "rejects", "manifest"):
        en, zh = _sheet(workbooks["en"], sheet), _sheet(workbooks["zh-CN"], sheet)
        assert en[0] == zh[0], sheet  # headers are the column names of scorecards.csv, rejects.csv, manifest.json
        if sheet == "scorecards":  # numbers and codes only (the indicators' rules are sentences, in the run's language)
            assert en == zh
    assert _sheet(workbooks["zh-CN"], "scorecards")[0][:2] == ("subject", "agent_id")
    assert openpyxl.load_workbook(io.BytesIO(workbooks["zh-CN"]), read_only=True).sheetnames == \
        ["summary", "scorecards", "indicators", "rejects", "manifest"]


def test_the_workbook_follows_the_run_not_the_language_in_force(run: Path) -> None:
    pytest.importorskip("openpyxl")
    import dataclasses

    from qualiscore.formats import workbook_xlsx
    from qualiscore.options import RunOptions
    from qualiscore.runs import execute

    with using("en"):
        scored = execute(Q2, [str(DATA)], RunOptions(data=(str(DATA),)))
    assert "language" not in scored.options  # an English run
    with using("zh-CN"):
        data = workbook_xlsx(scored, {})
    assert _sheet(data, "summary")[0] == ("item", "value", "count")
    chinese = dataclasses.replace(scored, options={**scored.options, "language": "zh-CN"})
    with using("en"):
        assert _sheet(workbook_xlsx(chinese, {}), "summary")[0] == ("项目", "值", "数量")


# --------------------------------------------------------------------------- the page, in a browser


class _Shown(HTMLParser):
    """The dumped DOM: <html lang>, <body> attributes, the text of each <h2>, and the charts drawn."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.body: dict[str, str | None] = {}
        self.h2: list[str] = []
        self.svgs = 0
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "body":
            self.body = a
        elif tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if "main-svg" in (a.get("class") or "").split():
            self.svgs += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_page_renders_in_a_browser_in_both_languages(pages: dict[str, str], lang: str, tmp_path: Path) -> None:
    from test_report_browser import CHROMIUM, chromium

    if CHROMIUM is None:
        pytest.skip("no chromium binary found (apt-get install -y chromium)")
    path = tmp_path / f"report-{lang}.html"
    path.write_text(pages[lang], encoding="utf-8")
    result = chromium(path.resolve().as_uri(), tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = _Shown()
    dom.feed(result.stdout)
    assert json.loads(dom.body.get("data-js-errors") or "null") == [], dom.body.get("data-js-errors")
    expected = int(dom.body["data-charts-expected"] or 0)
    assert expected >= 7 and dom.body.get("data-charts-rendered") == str(expected)
    assert dom.body.get("data-explanations") == "unpacked"
    assert dom.lang == lang
    with using(lang):
        assert dom.h2 == [heading(sid) for sid in HEADINGS]
    chinese = [h for h in dom.h2 if re.search(r"[\u4e00-\u9fff]", h)]
    assert chinese == (dom.h2 if lang == "zh-CN" else [])


def test_the_browser_shows_the_same_figures_in_both_languages(pages: dict[str, str], tmp_path: Path) -> None:
    """The subject list, filtered by the page's script, counts the same in both and in the page's words."""
    from test_report_browser import CHROMIUM, _Listed, chromium

    if CHROMIUM is None:
        pytest.skip("no chromium binary found (apt-get install -y chromium)")
    counts = {}
    for lang in ("en", "zh-CN"):
        path = tmp_path / f"report-{lang}.html"
        path.write_text(pages[lang], encoding="utf-8")
        result = chromium(path.resolve().as_uri() + "?find=a003%202026-05", tmp_path / f"profile-{lang}", "--dump-dom")
        assert result.returncode == 0, result.stderr[-2000:]
        dom = _Listed()
        dom.feed(result.stdout)
        assert [s for s, hidden in dom.items if not hidden] == ["A003/2026-05"]
        counts[lang] = dom.count
    assert counts == {"en": "1 of 72", "zh-CN": "1 / 72"}
