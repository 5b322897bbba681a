"""cs-quality 2026Q3 on its four sources agrees with one flat table joined by hand.

The bundled data/sample/q3 tables are joined here without the engine's lookups: one row
per interaction, carrying its survey answers and its inspection's findings (each
interaction has at most one of each), and ``complaints_filed``, the number of complaint
tickets filed against the agent in the month, on the first accepted interaction of that
agent-month (0 elsewhere). Each source is typed against its own contract by
``read_records``, so a row the sources run rejects is left out of the join too.

The single-table scheme is the Q3 document with ``records:`` instead of ``sources:`` and
each indicator in its one-table form:

* csat, nps, conformance, qa_score and the promise veto: the same measure on the joined
  column; an interaction without a survey or an inspection has nulls there, which these
  measures skip, so they see exactly the surveys and inspections.
* survey_response_rate (surveys with a csat ÷ interactions): ``share: csat is not None``.
* complaint_rate (tickets filed in the month ÷ interactions of the month):
  ``ratio: {numerator: complaints_filed, denominator: 1}``; the complaint-rate cap tests
  that indicator, so it carries over unchanged.

The formulation needs every agent-month with a complaint to have an interaction (else the
sources run has a scorecard the flat table cannot have); the test asserts the data has that.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qualiscore.engine import evaluate
from qualiscore.loader import load_path
from qualiscore.options import RunOptions
from qualiscore.records import read_records
from qualiscore.schemes import load_scheme
from qualiscore.scorecard import Scorecard

ROOT = Path(__file__).resolve().parents[1]
Q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
DATA = ROOT / "data" / "sample" / "q3"
TABLES = ("interactions", "surveys", "inspections", "complaints")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Columns the joined table adds to the interactions, typed as their sources type them but nullable:
# an interaction without a survey, or without an inspection, has none of them.
JOINED_FIELDS: dict[str, dict[str, Any]] = {
    "csat": {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True},
    "nps": {"type": "integer", "minimum": 0, "maximum": 10, "nullable": True},
    "qa_score": {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True},
    "forbidden_phrase": {"type": "boolean", "nullable": True},
    "unauthorised_promise": {"type": "boolean", "nullable": True},
    "complaints_filed": {"type": "integer", "minimum": 0},
}
# Each indicator's measure on the joined table; the others keep theirs, without `source`.
ONE_TABLE_MEASURES: dict[str, dict[str, Any]] = {
    "survey_response_rate": {"share": "csat is not None"},
    "complaint_rate": {"ratio": {"numerator": "complaints_filed", "denominator": "1"}},
    "qa_score": {"mean": "qa_score"},
}


def one_table_document() -> dict[str, Any]:
    """The Q3 document as a scheme reading the joined table."""
    doc = load_path(Q3).data
    sources = doc.pop("sources")
    records = dict(sources["interactions"])
    records["fields"] = {**records["fields"], **JOINED_FIELDS}
    doc["records"] = records
    for key in ("tests", "changelog", "supersedes", "sampling"):  # the sampling plan plays no part in scoring
        doc.pop(key, None)
    for dim in doc["dimensions"]:
        for ind in dim["indicators"]:
            ind["measure"] = ONE_TABLE_MEASURES.get(ind["id"], {k: v for k, v in ind["measure"].items()
                                                               if k != "source"})
    for veto in doc["vetoes"]:
        if "when" in veto:
            veto["when"] = {k: v for k, v in veto["when"].items() if k != "source"}
    return doc


def rows(table: str) -> list[dict[str, str]]:
    with open(DATA / f"{table}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def accepted_ids(table: str, contract: Any) -> dict[str, dict[str, Any]]:
    """The typed records a source keeps when read against its own contract, by id."""
    data = read_records(DATA / f"{table}.csv", contract)
    return {r[contract.id]: r for r in data.records}


def joined_rows(scheme: Any) -> Iterator[dict[str, str]]:
    contracts = {s.name: s.contract for s in scheme.sources}
    kept = {t: accepted_ids(t, contracts[t]) for t in TABLES}
    interactions = kept["interactions"]
    by_interaction: dict[str, dict[str, dict[str, str]]] = {"surveys": {}, "inspections": {}}
    for table, id_field in (("surveys", "survey_id"), ("inspections", "inspection_id")):
        for row in rows(table):
            if row[id_field] in kept[table] and row["interaction_id"] in interactions:
                assert row["interaction_id"] not in by_interaction[table], "one survey/inspection per interaction"
                by_interaction[table][row["interaction_id"]] = row
    complaints = Counter((r["agent_id"], month(r["filed_at"])) for r in kept["complaints"].values())
    agent_months = {(r["agent_id"], month(r["started_at"])) for r in interactions.values()}
    assert set(complaints) <= agent_months, "a complaint in an agent-month without interactions"
    placed: set[tuple[str, str]] = set()
    for row in rows("interactions"):
        survey = by_interaction["surveys"].get(row["interaction_id"], {})
        inspection = by_interaction["inspections"].get(row["interaction_id"], {})
        typed = interactions.get(row["interaction_id"])
        filed = 0
        if typed is not None:
            key = (typed["agent_id"], month(typed["started_at"]))
            if key not in placed:
                placed.add(key)
                filed = complaints[key]
        yield {**row, "csat": survey.get("csat", ""), "nps": survey.get("nps", ""),
               "qa_score": inspection.get("score", ""), "forbidden_phrase": inspection.get("forbidden_phrase", ""),
               "unauthorised_promise": inspection.get("unauthorised_promise", ""), "complaints_filed": str(filed)}


def facts(card: Scorecard) -> tuple[Any, ...]:
    """What must agree: subject, score, grade, vetoes, dimension scores, and each indicator's value and points."""
    return (card.subject, card.score, card.grade, tuple(v.id for v in card.vetoes),
            tuple((d.id, d.score) for d in card.dimensions),
            tuple((i.id, i.status, i.value, i.points) for i in card.indicators))


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The one-table scheme and the hand-joined table."""
    base = tmp_path_factory.mktemp("q3flat")
    scheme_path = base / "2026Q3.yaml"
    scheme_path.write_text(json.dumps(one_table_document(), ensure_ascii=False, indent=1), encoding="utf-8")
    joined = list(joined_rows(load_scheme(Q3)))
    table = base / "joined.csv"
    with open(table, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(joined[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(joined)
    return scheme_path, table


@pytest.mark.parametrize("engine", ["rows", "columnar"])
def test_sources_equal_hand_joined_table(engine: str, flat: tuple[Path, Path]) -> None:
    scheme_path, table = flat
    sources = evaluate(load_scheme(Q3), {t: [str(DATA / f"{t}.csv")] for t in TABLES}, RunOptions(engine=engine))
    one = evaluate(load_scheme(scheme_path), [str(table)], RunOptions(engine=engine))
    assert [facts(c) for c in sources.scorecards] == [facts(c) for c in one.scorecards]
    # the comparison means something: several grades, both vetoes, indicators not applicable
    assert len(sources.scorecards) == 72
    assert len({c.grade for c in sources.scorecards}) == 4
    assert {v.id for c in sources.scorecards for v in c.vetoes} == {"unauthorised_promise", "complaint_rate_cap"}
    assert any(i.status != "scored" for c in sources.scorecards for i in c.indicators if i.id == "qa_score")
    # the interactions rejected are the same rows in both runs
    assert sources.rows_rejected > one.rows_rejected == 30


def test_rows_read_scored_rejected_per_source() -> None:
    run = evaluate(load_scheme(Q3), {t: [str(DATA / f"{t}.csv")] for t in TABLES}, RunOptions(engine="rows"))
    per_source = {i.source: (i.rows_read, i.rows_rejected) for i in run.dataset.inputs}
    assert per_source == {"interactions": (3000, 30), "surveys": (997, 24), "inspections": (420, 10),
                          "complaints": (76, 2)}
    assert run.rows_read == run.rows_scored + run.rows_rejected == 4493
    codes = Counter((p.source.rsplit("/", 1)[-1], p.code) for p in run.problems)
    assert codes[("surveys.csv", "lookup-unmatched")] > 0 and codes[("inspections.csv", "lookup-unmatched")] > 0
