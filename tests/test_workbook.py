"""scorecards.xlsx at a glance: filters, frozen headers, number formats by measure, widths, grades by rank.

The workbook is opened with openpyxl as Excel would read it. Two schemes: the Chinese
fixture of test_formats (优秀 … 不合格) and one with English grade names and a measure of
every kind the formats tell apart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from qualiscore.engine import Run, evaluate
from qualiscore.formats import (
    COUNT,
    DATE,
    DATETIME,
    MAX_WIDTH,
    NPS,
    NUMBER,
    PERCENT,
    value_format,
    workbook_xlsx,
)
from qualiscore.grade_colours import NO_GRADE_COLOUR, RANKED_COLOURS
from qualiscore.manifest import manifest_dict
from qualiscore.records import read_records, records_from_dicts
from qualiscore.schemes import load_scheme

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
TABLES = ("scorecards", "indicators", "rejects", "manifest")

ENGLISH = """\
format: qualiscore/v1
scheme: en-demo
version: v1
title: Contact centre quality (English grade names)
effective_from: 2026-04-01
changelog: [First version]
rounding: {decimals: 1}
subject:
  group_by: [agent_id]
  period: {field: started_at, every: month}
records:
  id: interaction_id
  timezone: Europe/London
  fields:
    interaction_id: {type: string}
    agent_id: {type: string}
    started_at: {type: datetime}
    resolved: {type: boolean}
    complaint: {type: boolean}
    nps: {type: integer, minimum: 0, maximum: 10, nullable: true}
    handle_time_s: {type: number, minimum: 0}
dimensions:
  - id: outcome
    name: Outcome
    weight: 50
    indicators:
      - id: fcr
        name: First contact resolution
        measure: {share: resolved}
        target: 0.85
        scoring: {linear: {from: 0, to: 1}}
        weight: 100
  - id: context
    name: Context (always full points)
    weight: 50
    indicators:
      - id: complaint_rate
        name: Complaints per contact
        measure: {ratio: {numerator: "1 if complaint else 0", denominator: 1}}
        target: 0.02
        scoring: {bands: [{max: 0.5, points: 100}, {points: 100}]}
        weight: 1
      - id: seconds_per_contact
        name: Handling seconds per contact
        measure: {ratio: {numerator: handle_time_s, denominator: 1}}
        scoring: {bands: [{max: 600, points: 100}, {points: 100}]}
        weight: 1
      - id: contacts
        name: Contacts
        measure: {count: true}
        scoring: {bands: [{points: 100}]}
        weight: 1
      - id: nps
        name: Net promoter score
        measure: {nps: nps}
        scoring: {bands: [{points: 100}]}
        weight: 1
      - id: aht
        name: Average handling time
        measure: {mean: handle_time_s}
        scoring: {bands: [{points: 100}]}
        weight: 1
      - id: longest
        name: Longest contact (seconds)
        measure: {max: handle_time_s}
        scoring: {bands: [{points: 100}]}
        weight: 1
      - id: any_complaint
        name: Any complaint
        measure: {any: complaint}
        scoring: {bands: [{points: 100}]}
        weight: 1
grades:
  - {name: Excellent, min: 90}
  - {name: Good, min: 75}
  - {name: Pass, min: 60}
  - {name: Fail, min: 0}
"""
# Half the score is first contact resolution, the other half full points: 10, 6, 3 and 0
# resolved contacts of 10 give 100, 80, 65 and 50, one grade each.
RESOLVED = {"A1": 10, "A2": 6, "A3": 3, "A4": 0}
EXPECTED_GRADES = {"A1": "Excellent", "A2": "Good", "A3": "Pass", "A4": "Fail"}


def tint(colour: str) -> str:
    """The grade fill of a colour of the report (30% on white), as openpyxl reads it back."""
    return "FF" + "".join(f"{round(255 - (255 - int(colour[k:k + 2], 16)) * 0.3):02X}" for k in (1, 3, 5))


def opened(run: Run) -> Any:
    return openpyxl.load_workbook(io.BytesIO(workbook_xlsx(run, manifest_dict(run, {}))))


def column(ws: Any, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Run:
    path = tmp_path_factory.mktemp("en") / "v1.yaml"
    path.write_text(ENGLISH, encoding="utf-8")
    scheme = load_scheme(path)
    rows = []
    for agent, resolved in RESOLVED.items():
        for n in range(10):
            rows.append({"interaction_id": f"{agent}-{n}", "agent_id": agent,
                         "started_at": f"2026-04-{n + 1:02d}T09:30:00", "resolved": n < resolved,
                         "complaint": agent == "A4" and n == 0, "nps": (n + 3) % 11, "handle_time_s": 100 + 7 * n})
    rows.append({**rows[0], "interaction_id": "bad", "handle_time_s": -1})  # rejects
    rows.append({**rows[0], "interaction_id": "#N/A", "nps": "#N/A"})
    return evaluate(scheme, records_from_dicts(rows, scheme.records))


@pytest.fixture(scope="module")
def chinese() -> Run:
    scheme = load_scheme(FIXTURES / "scheme.yaml")
    return evaluate(scheme, read_records([FIXTURES / "interactions.xlsx"], scheme.records))


@pytest.mark.parametrize("name", ["english", "chinese"])
def test_every_table_has_a_filter_and_a_frozen_header(name: str, request: pytest.FixtureRequest) -> None:
    wb = opened(request.getfixturevalue(name))
    for title in TABLES:
        ws = wb[title]
        assert ws.auto_filter.ref == f"A1:{get_column_letter(ws.max_column)}{ws.max_row}", title
        assert ws.freeze_panes in ("A2", "B2"), title
        assert all(c.font.bold for c in ws[1])
    assert wb["scorecards"].freeze_panes == "B2"  # the subject stays in view too
    assert wb["summary"].freeze_panes == "A2" and not wb["summary"].auto_filter.ref  # facts, not a table


def test_number_formats_follow_the_measure_and_keep_the_exact_number(english: Run) -> None:
    ws = opened(english)["scorecards"]
    card = english.scorecards[0]
    values = {i.id: i.value for i in card.indicators}
    row = {c.value: cell for c, cell in zip(ws[1], ws[2])}
    assert row["subject"].value == card.subject
    assert (row["records"].number_format, row["score"].number_format) == (COUNT, "0.0")  # the scheme's 1 decimal
    expected = {"fcr": PERCENT, "complaint_rate": PERCENT, "seconds_per_contact": NUMBER, "contacts": COUNT,
                "nps": NPS, "aht": NUMBER, "longest": "General"}
    for iid, number_format in expected.items():
        cell = row[f"{iid}.value"]
        assert cell.number_format == number_format, iid
        assert row[f"{iid}.points"].number_format == "0.0"
        assert cell.value == values[iid] and isinstance(cell.value, (int, float)), iid  # not rounded
    assert row["fcr.value"].value == 1.0 and row["nps.value"].value == values["nps"]
    assert row["any_complaint.value"].value is False
    # The indicators sheet formats each row by its indicator.
    ind = opened(english)["indicators"]
    at = {h: column(ind, h) for h in ("indicator", "value", "sample", "points", "effective_weight", "contribution")}
    formats = {r[at["indicator"] - 1].value: r[at["value"] - 1].number_format for r in ind.iter_rows(min_row=2)}
    assert formats == {**expected, "any_complaint": "General"}
    second = ind[2]
    assert second[at["sample"] - 1].number_format == COUNT and second[at["points"] - 1].number_format == "0.0"
    assert second[at["effective_weight"] - 1].number_format == '0.0"%"'
    assert second[at["contribution"] - 1].number_format == "0.0"


def test_value_format_reads_the_measure_kind(english: Run) -> None:
    formats = {i.id: value_format(i) for i in english.schemes[0].indicators}
    # A ratio is a rate when the scheme writes its target and thresholds within 0–1.
    assert formats == {"fcr": PERCENT, "complaint_rate": PERCENT, "seconds_per_contact": NUMBER, "contacts": COUNT,
                       "nps": NPS, "aht": NUMBER, "longest": None, "any_complaint": None}


def test_summary_counts_and_shares(chinese: Run) -> None:
    ws = opened(chinese)["summary"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2) if r[0].value}
    assert rows["rows read"][1].value == 24 and rows["rows read"][1].number_format == COUNT
    assert rows["良好"][1].number_format == COUNT
    assert rows["良好"][2].value == pytest.approx(1 / 3, abs=1e-4) and rows["良好"][2].number_format == PERCENT


def test_widths_come_from_headers_and_content_and_are_capped(chinese: Run) -> None:
    wb = opened(chinese)
    ind = wb["indicators"]
    width = {c.value: ind.column_dimensions[get_column_letter(c.column)].width for c in ind[1]}
    longest = max(len(i.name) for i in chinese.schemes[0].indicators)
    assert width["name"] >= 2 * longest  # a Chinese character is two columns wide
    assert width["subject"] >= len(chinese.scorecards[0].subject)
    assert width["effective_weight"] >= len("effective_weight") + 2  # room for the filter button
    assert all(6 <= w <= MAX_WIDTH for w in width.values())
    rejects = wb["rejects"]
    reason = column(rejects, "reason")
    assert rejects.column_dimensions[get_column_letter(reason)].width == MAX_WIDTH
    long = [r[reason - 1] for r in rejects.iter_rows(min_row=2) if len(r[reason - 1].value) > MAX_WIDTH]
    assert long and all(c.alignment.wrap_text for c in long)  # long text wraps instead of running on
    assert not rejects.cell(1, reason).alignment.wrap_text
    manifest = wb["manifest"]  # a key/value sheet: a SHA-256 fits on one line
    assert manifest.column_dimensions["B"].width == 64 + 1
    assert not any(c.alignment.wrap_text for c in manifest["B"] if len(str(c.value)) == 64)


@pytest.mark.parametrize(("name", "order"), [
    ("english", ("Excellent", "Good", "Pass", "Fail")),
    ("chinese", ("优秀", "良好", "合格", "不合格")),
])
def test_grades_are_filled_by_rank_whatever_their_names(name: str, order: tuple[str, ...],
                                                         request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(name)
    wb = opened(run)
    fill = dict(zip(order, (tint(c) for c in RANKED_COLOURS)))  # green, blue, amber, red
    summary = [r for r in wb["summary"].iter_rows(min_row=2) if r[0].value in order]
    assert [r[0].value for r in summary] == list(order)  # best first
    assert [r[0].fill.fgColor.rgb for r in summary] == [fill[g] for g in order]
    cards = wb["scorecards"]
    grade = column(cards, "grade")
    cells = [r[grade - 1] for r in cards.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [c.grade for c in run.scorecards]
    seen = {}
    for cell, card in zip(cells, run.scorecards):
        # The rank's colour fills the cell; an uncertain grade is hatched over it, in italics.
        background = cell.fill.bgColor.rgb if card.uncertain else cell.fill.fgColor.rgb
        assert cell.fill.fill_type == ("lightUp" if card.uncertain else "solid")
        assert cell.font.bold and cell.font.italic == card.uncertain
        seen[cell.value] = background
    assert seen and all(seen[g] == fill[g] for g in seen)
    if name == "english":
        assert {c.subject.split("/")[0]: c.grade for c in run.scorecards} == EXPECTED_GRADES
        assert seen["Fail"] == tint("#dc2626") and seen["Excellent"] == tint("#16a34a")


def test_a_scorecard_without_a_grade_is_grey_in_the_summary(english: Run) -> None:
    ungraded = dataclasses.replace(english.scorecards[0], grade=None)
    run = dataclasses.replace(english, scorecards=(ungraded, *english.scorecards[1:]))
    rows = {r[0].value: r[0] for r in opened(run)["summary"].iter_rows(min_row=2) if r[0].value}
    assert rows["(none)"].fill.fgColor.rgb == tint(NO_GRADE_COLOUR)


def test_dates_are_dates(english: Run) -> None:
    """A `value` measure of a record-level scheme may give a date or a date-time: a date cell, at the
    recorded wall-clock time (Excel has no time zones)."""
    card = english.scorecards[0]
    when = dt.datetime(2026, 4, 10, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    dims = [dataclasses.replace(d, indicators=tuple(
        dataclasses.replace(i, value={"fcr": when, "aht": dt.date(2026, 4, 10)}.get(i.id, i.value))
        for i in d.indicators)) for d in card.dimensions]
    run = dataclasses.replace(english, scorecards=(dataclasses.replace(card, dimensions=tuple(dims)),))
    wb = opened(run)
    row = {c.value: cell for c, cell in zip(wb["scorecards"][1], wb["scorecards"][2])}
    assert row["fcr.value"].value == dt.datetime(2026, 4, 10, 9, 30) and row["fcr.value"].number_format == DATETIME
    assert row["aht.value"].value == dt.datetime(2026, 4, 10) and row["aht.value"].number_format == DATE
    values = {r[2].value: r[4] for r in wb["indicators"].iter_rows(min_row=2)}
    assert values["fcr"].number_format == DATETIME and values["aht"].number_format == DATE


def test_intervals_beside_values_and_stability_beside_the_grade(english: Run) -> None:
    wb = opened(english)
    ws = wb["scorecards"]
    header = [c.value for c in ws[1]]
    at = header.index("grade")
    assert header[at:at + 5] == ["grade", "stability", "uncertain", "decided_by", "vetoes"]
    first = header.index("fcr.value")
    assert header[first:first + 4] == ["fcr.value", "fcr.low", "fcr.high", "fcr.points"]
    assert {c.uncertain for c in english.scorecards} == {True, False}  # both kinds are shown
    for card, row in zip(english.scorecards, ws.iter_rows(min_row=2)):
        cell = {h: c for h, c in zip(header, row)}
        assert cell["stability"].value == card.stability and cell["stability"].number_format == PERCENT
        assert cell["uncertain"].value is card.uncertain
        for ind in card.indicators:
            low, high = ind.interval or (None, None)
            assert (cell[f"{ind.id}.low"].value, cell[f"{ind.id}.high"].value) == (low, high), ind.id
            if ind.interval is not None:  # the interval reads like the value
                form = cell[f"{ind.id}.value"].number_format
                assert cell[f"{ind.id}.low"].number_format == cell[f"{ind.id}.high"].number_format == form
    fcr = next(i for i in english.scorecards[1].indicators if i.id == "fcr")
    assert fcr.interval is not None and fcr.interval[0] < fcr.value < fcr.interval[1]
    ind = wb["indicators"]
    header = [c.value for c in ind[1]]
    assert header[4:7] == ["value", "low", "high"]
    rows = [r for r in ind.iter_rows(min_row=2) if r[2].value == "fcr"]
    assert [(r[5].value, r[6].value) for r in rows] == [
        next(i.interval for i in c.indicators if i.id == "fcr") for c in english.scorecards]
    assert all(r[5].number_format == r[6].number_format == PERCENT for r in rows)


def test_text_that_looks_like_an_error_value_stays_text(english: Run) -> None:
    rejects = opened(english)["rejects"]
    cells = [c for row in rejects.iter_rows(min_row=2) for c in row if c.value == "#N/A"]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)  # record id and value, not Excel's #N/A
