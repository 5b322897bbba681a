"""Confidence intervals and grade stability in the report: whiskers, value [low, high], grades that may change.

The figures are written into a copy of a run's scorecards.jsonl, so that what the page
shows can be checked against known numbers whatever the engine estimates (the page then
also says the outputs no longer match the manifest, which is beside the point here).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore.cli import cli
from qualiscore.report import build_report

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"

pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")


def section(page: str, sid: str) -> str:
    start = page.index(f'<section id="{sid}">')
    return page[start: page.index("</section>", start)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A run whose fcr values have the interval value ± 0.05 and whose every third grade is uncertain."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(SCHEME), str(SAMPLE), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    path = out / "scorecards.jsonl"
    cards = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for k, card in enumerate(cards):
        for d in card["dimensions"]:
            for i in d["indicators"]:
                fixed = i["id"] == "fcr" and i["value"] is not None
                i["interval"] = [round(i["value"] - 0.05, 4), round(i["value"] + 0.05, 4)] if fixed else None
        card["stability"] = round(0.5 + k / 200, 3)
        card["uncertain"] = k % 3 == 0
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cards), encoding="utf-8")
    return out, cards


@pytest.fixture(scope="module")
def page(run: tuple[Path, list[dict]]) -> str:
    return build_report(run[0])


def test_mean_value_with_the_mean_interval(page: str, run: tuple[Path, list[dict]]) -> None:
    values = [i["value"] for c in run[1] for d in c["dimensions"] for i in d["indicators"]
              if i["id"] == "fcr" and i["status"] == "scored"]
    mean = sum(values) / len(values)
    body = section(page, "indicators")
    row = body[body.index("<code>fcr</code>"):]
    row = row[: row.index("</tr>")]
    assert f"{mean * 100:.1f}% [{(mean - 0.05) * 100:.1f}%, {(mean + 0.05) * 100:.1f}%]" in row
    assert "too close to tell" in row  # some subjects' intervals hold the target 0.85
    aht = body[body.index("<code>aht</code>"):]
    assert "[" not in aht[: aht.index("</tr>")]  # no interval, no brackets
    assert "whiskers: the mean of the subjects' 95% confidence intervals" in body


def test_whiskers_on_the_indicator_targets_chart(page: str) -> None:
    body = section(page, "indicators")
    targets = body[body.index('data-chart="indicator-targets"'):]
    bars = re.findall(r'"error_y":\{"array":\[([^\]]*)\],"arrayminus":\[([^\]]*)\]', targets)
    assert len(bars) == 1  # fcr only
    up, down = (json.loads(f"[{x}]") for x in bars[0])
    assert up[0] == pytest.approx(0.05, abs=1e-4) and down[0] == pytest.approx(0.05, abs=1e-4)


def test_grades_that_may_change(page: str, run: tuple[Path, list[dict]]) -> None:
    cards = run[1]
    body = section(page, "uncertain")
    uncertain = [c for k, c in enumerate(cards) if k % 3 == 0]
    assert f"{len(uncertain)} of {len(cards)} graded scorecards" in body
    listed = re.findall(r'<a href="#sc-(\d+)">', body)
    assert [int(i) for i in listed] == [k for k in range(len(cards)) if k % 3 == 0]  # least stable first
    assert "<td class=\"n\">50%</td>" in body  # the first one's stability
    hero = page[page.index('<header class="hero">'): page.index('<nav class="toc"')]
    assert "May change" in hero and f'<div class="num">{len(uncertain)}</div>' in hero
    first = page[page.index('<details class="expl" id="sc-0">'):]
    assert '<span class="unsure"' in first[: first.index("</summary>")]
    second = page[page.index('<details class="expl" id="sc-1">'):]
    assert '<span class="unsure"' not in second[: second.index("</summary>")]
    assert '<input type="checkbox" id="subject-unsure">' in page


def test_each_scorecard_shows_its_values_with_their_interval(page: str, run: tuple[Path, list[dict]]) -> None:
    data = re.search(r'id="explanations-data">([^<]*)</script>', page)
    assert data is not None
    tables = {k: v["table"] for k, v in json.loads(gzip.decompress(base64.b64decode(data.group(1)))).items()}
    card = run[1][0]
    fcr = next(i for d in card["dimensions"] for i in d["indicators"] if i["id"] == "fcr")
    low, high = fcr["interval"]
    assert f"{fcr['value'] * 100:.1f}% [{low * 100:.1f}%, {high * 100:.1f}%]" in tables["sc-0"]
    assert tables["sc-0"].count('<i class="ci"') == 1 and tables["sc-0"].count('<div class="range">') >= 8


def test_markdown_has_them_too(run: tuple[Path, list[dict]]) -> None:
    text = build_report(run[0], fmt="md")
    assert "## Grades that may change with more data" in text
    assert re.search(r"\| 首次解决率 \(fcr\) \| \d+\.\d% \[\d+\.\d%, \d+\.\d%\] \|", text)


def test_a_run_without_estimates_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(SCHEME), str(SAMPLE), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    path = out / "scorecards.jsonl"
    cards = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for card in cards:
        card["stability"], card["uncertain"] = None, False
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cards), encoding="utf-8")
    page = build_report(out)
    assert "No scorecard of this run has a stability figure" in section(page, "uncertain")
    assert "May change" not in page[: page.index('<nav class="toc"')]


def test_the_run_s_own_estimates(tmp_path: Path) -> None:
    """Unchanged outputs: the engine's intervals and stabilities, the scheme's level and threshold."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(SCHEME), str(SAMPLE), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    cards = [json.loads(line) for line in (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]
    uncertain = [c for c in cards if c["uncertain"]]
    assert uncertain and len(uncertain) < len(cards)
    page = build_report(out)
    body = section(page, "uncertain")
    assert "Below 80% the grade is marked" in body
    assert f"{len(uncertain)} of {sum(c['stability'] is not None for c in cards)} graded scorecards" in body
    assert len(re.findall(r'<a href="#sc-\d+">', body)) == len(uncertain)
    assert "95% confidence intervals" in section(page, "indicators")
    assert page.count('<span class="unsure"') >= len(uncertain) + 1  # the list, the marks, the lead
