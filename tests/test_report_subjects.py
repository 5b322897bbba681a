"""The report's list of scorecards: every one findable and explained, up to a size a page can carry."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore.cli import cli
from qualiscore.explain import explain_text
from qualiscore.report import build_report, build_view, load_run
from qualiscore.report import view as report_view

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"

pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install 'qualiscore[report]'")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(SCHEME), str(SAMPLE), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def cards(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]


def explanations(page: str) -> str:
    start = page.index('<section id="explanations">')
    return page[start: page.index("</section>", start)]


def listed(page: str) -> dict[str, str]:
    """Each <details> of the list by its id: its summary line."""
    return dict(re.findall(r'<details class="expl" id="(sc-\d+)"><summary>(.*?)</summary>'
                           r'<div class="ind"></div><pre></pre></details>', explanations(page)))


def unpacked(page: str) -> dict[str, dict[str, str]]:
    """By anchor, the scorecard's explanation tree and its indicators' table (markup)."""
    data = re.search(r'<script type="application/gzip\+base64" id="explanations-data">([A-Za-z0-9+/=]*)</script>',
                     explanations(page))
    assert data is not None
    return json.loads(gzip.decompress(base64.b64decode(data.group(1))))


def test_every_scorecard_is_listed_with_its_explanation(outdir: Path, cards: list[dict]) -> None:
    page = build_report(outdir)
    found, trees = listed(page), unpacked(page)
    assert list(found) == list(trees) == [f"sc-{i}" for i in range(len(cards))] and len(cards) == 72
    for i, card in enumerate(cards):
        assert f'<span class="subject">{html.escape(card["subject"])}</span>' in found[f"sc-{i}"]
        assert trees[f"sc-{i}"]["tree"] == explain_text(card, card["decimals"])
    body = explanations(page)
    assert "Every scorecard (72)" in body
    assert 'id="subject-filter"' in body and ('<span id="subject-count" class="muted" data-template="{shown} of {total}">72 of 72</span>'
                                          in body)
    assert len(page.encode("utf-8")) < 1_400_000


def test_the_packed_explanations_are_the_same_bytes_every_time(outdir: Path) -> None:
    assert build_report(outdir) == build_report(outdir)


def test_a_large_run_lists_those_most_worth_a_look(outdir: Path, cards: list[dict],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_view, "MAX_EXPLANATIONS", 60)
    view = build_view(load_run(outdir))
    explained = [x.card.index for x in view.explanations]
    assert len(explained) == 60 and explained == sorted(explained)
    first = (*view.lowest, *view.highest, *view.vetoed, *view.stability.uncertain)
    must = {c.index for c in first}
    assert len(must) < 60  # room left for the lowest scores
    assert must <= set(explained) and all(c.explained for c in first)
    rest = sorted(set(range(72)) - must, key=lambda i: cards[i]["score"])
    assert set(explained) - must == set(rest[: 60 - len(must)])  # then the lowest scores
    page = build_report(outdir)
    assert len(listed(page)) == len(unpacked(page)) == 60
    assert "72 scorecards, more than a page should carry: the 60 that most need a look" in page
    assert "scorecards.csv has all 72" in page and "qualiscore explain out --subject ID" in page
