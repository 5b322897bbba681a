"""The report's list of scorecards: every one findable, every one explained up to a size a page can carry."""

from __future__ import annotations

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


def details(body: str) -> dict[str, str]:
    """Each <details> of the list by its id."""
    return dict(re.findall(r'<details class="expl" id="(sc-\d+)">(.*?)</details>', body, re.S))


def test_every_scorecard_is_explained_in_the_page(outdir: Path, cards: list[dict]) -> None:
    body = explanations(build_report(outdir))
    found = details(body)
    assert list(found) == [f"sc-{i}" for i in range(len(cards))] and len(cards) == 72
    for i, card in enumerate(cards):
        block = found[f"sc-{i}"]
        assert f'<span class="subject">{html.escape(card["subject"])}</span>' in block
        assert f"<pre>{html.escape(explain_text(card, card['decimals']))}</pre>" in block
    assert "Every scorecard (72)" in body
    assert 'id="subject-filter"' in body and '<span id="subject-count" class="muted">72 of 72</span>' in body


def test_a_large_run_explains_those_most_worth_a_look_and_lists_the_others(
        outdir: Path, cards: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_view, "MAX_EXPLANATIONS", 30)
    view = build_view(load_run(outdir))
    explained = {x.card.index for x in view.explanations}
    assert len(explained) == 30 and len(view.listed) == 72
    must = {c.index for c in (*view.lowest, *view.highest, *view.vetoed)}
    assert must <= explained
    rest = sorted(set(range(72)) - must, key=lambda i: cards[i]["score"])
    assert explained - must == set(rest[: 30 - len(must)])  # then the lowest scores
    page = build_report(outdir)
    found = details(explanations(page))
    assert len(found) == 72
    other = next(i for i in range(72) if i not in explained)
    assert (f"Not explained in this page: <code>qualiscore explain out --subject {cards[other]['subject']}</code>"
            in found[f"sc-{other}"])
    assert "30 are explained here" in page and "The others show the command that explains them." in page


def test_a_very_large_run_lists_only_the_explained(outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_view, "MAX_EXPLANATIONS", 25)
    monkeypatch.setattr(report_view, "MAX_LISTED", 50)
    page = build_report(outdir)
    assert len(details(explanations(page))) == 25
    assert "scorecards.csv has all 72" in page and "qualiscore explain out --subject ID" in page
