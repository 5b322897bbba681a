"""Schemes with several record sources: the format, lookups, measures per source, and every engine.

Every test of semantics runs on each engine through the ``engine`` fixture (conftest), and
the differential test at the end proves the columnar engine gives the reference engine's bytes
on random data with unmatched keys, duplicate ids, empty sources and disjoint periods.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Engine
from qualiscore.errors import SchemeValidationError, UsageError
from qualiscore.loader import load_text
from qualiscore.model import Scheme
from qualiscore.schemes import load_scheme
from qualiscore.validation import iter_findings

SCHEME = """\
format: qualiscore/v1
scheme: ms
version: "2026Q3"
effective_from: 2026-07-01
subject:
  group_by: [agent_id]
  period: {field: started_at, every: month}
  breakdowns: [team]
sources:
  interactions:
    id: interaction_id
    timezone: Asia/Shanghai
    fields:
      interaction_id: {type: string}
      agent_id: {type: string}
      team: {type: string}
      started_at: {type: datetime}
      resolved: {type: boolean}
  surveys:
    id: survey_id
    timezone: Asia/Shanghai
    fields:
      survey_id: {type: string}
      interaction_id: {type: string, nullable: true}
      csat: {type: integer, minimum: 1, maximum: 5}
    lookup:
      - {from: interactions, key: interaction_id, fields: [agent_id, team, started_at]}
  complaints:
    id: ticket_id
    timezone: UTC
    period: filed_at
    fields:
      ticket_id: {type: string}
      agent_id: {type: string}
      team: {type: string}
      filed_at: {type: datetime}
      serious: {type: boolean}
dimensions:
  - id: all
    weight: 1
    indicators:
      - id: fcr
        measure: {share: resolved}
        scoring: {linear: {from: 0.5, to: 1}}
        weight: 1
      - id: csat
        measure: {mean: csat, source: surveys}
        scoring: {linear: {from: 1, to: 5}}
        weight: 1
      - id: complaint_rate
        measure: {ratio: {numerator: {count: true, source: complaints}, denominator: {count: true}}}
        min_sample: 2
        scoring: {linear: {from: 0.5, to: 0}}
        weight: 1
vetoes:
  - id: serious_complaint
    when: {any: serious, source: complaints}
    effect: {grade: 不合格}
  - id: complaints_cap
    indicator: complaint_rate
    above: 0.3
    effect: {cap: 合格}
grades:
  - {name: 优秀, min: 90}
  - {name: 合格, min: 60}
  - {name: 不合格, min: 0}
"""

INTERACTIONS = [
    {"interaction_id": "I1", "agent_id": "A1", "team": "T", "started_at": "2026-07-01T10:00:00", "resolved": True},
    {"interaction_id": "I2", "agent_id": "A1", "team": "T", "started_at": "2026-07-02T10:00:00", "resolved": False},
    {"interaction_id": "I3", "agent_id": "A2", "team": "T", "started_at": "2026-07-03T10:00:00", "resolved": True},
    {"interaction_id": "I4", "agent_id": "A2", "team": "T", "started_at": "2026-07-31T23:30:00", "resolved": "maybe"},
    {"interaction_id": "I5", "agent_id": "A2", "team": "T", "started_at": "2026-07-05T10:00:00", "resolved": True},
]
SURVEYS = [
    {"survey_id": "S1", "interaction_id": "I1", "csat": 5},
    {"survey_id": "S2", "interaction_id": "I2", "csat": 3},
    {"survey_id": "S3", "interaction_id": "I3", "csat": 4},
    {"survey_id": "S4", "interaction_id": "I9", "csat": 4},  # matches nothing
    {"survey_id": "S5", "interaction_id": "I4", "csat": 2},  # its interaction was rejected
    {"survey_id": "S6", "interaction_id": None, "csat": 2},  # no key
]
COMPLAINTS = [
    # 2026-07-31T17:00Z is 2026-08-01 01:00 in Shanghai, but this source's own zone is UTC: July.
    {"ticket_id": "T1", "agent_id": "A1", "team": "T", "filed_at": "2026-07-31T17:00:00Z", "serious": False},
    {"ticket_id": "T2", "agent_id": "A3", "team": "U", "filed_at": "2026-07-06T09:00:00Z", "serious": True},
]


def scheme(text: str = SCHEME) -> Scheme:
    return load_scheme_text(text)


def load_scheme_text(text: str) -> Scheme:
    from qualiscore.model import compile_document

    doc = load_text(text, "ms.yaml")
    errors = [f for f in iter_findings(doc) if f.severity == "error"]
    if errors:
        raise SchemeValidationError(errors, "ms.yaml")
    return compile_document(doc)


def data(**replace: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {"interactions": INTERACTIONS, "surveys": SURVEYS, "complaints": COMPLAINTS, **replace}


def cards(run: Any) -> dict[str, Any]:
    return {c.subject: c for c in run.scorecards}


# --------------------------------------------------------------------------- semantics, on every engine


def test_lookups_measures_and_counts_per_source(engine: Engine) -> None:
    run = engine(scheme(), data())
    by = cards(run)
    assert sorted(by) == ["A1/2026-07", "A2/2026-07", "A3/2026-07"]
    a1 = {i.id: i for i in by["A1/2026-07"].indicators}
    assert (a1["fcr"].value, a1["csat"].value, a1["csat"].sample) == (0.5, 4.0, 2)
    assert (a1["complaint_rate"].value, a1["complaint_rate"].numerator, a1["complaint_rate"].denominator) == (
        0.5, 1.0, 2.0)
    assert by["A1/2026-07"].records == 2 + 2 + 1  # interactions, surveys and complaints of A1 in July
    # 0.5 is above the cap's 0.3, but the score (25) already gives the lower grade.
    assert [v.id for v in by["A1/2026-07"].vetoes] == ["complaints_cap"]
    assert by["A1/2026-07"].vetoes[0].measured is not None and by["A1/2026-07"].vetoes[0].measured.value == 0.5
    assert by["A1/2026-07"].grade == "不合格" and by["A1/2026-07"].decided_by == "score"
    a2 = {i.id: i for i in by["A2/2026-07"].indicators}
    assert (a2["fcr"].value, a2["csat"].value, a2["complaint_rate"].value) == (1.0, 4.0, 0.0)
    # An agent with complaints but no interactions: the interaction measures have nothing to measure.
    a3 = by["A3/2026-07"]
    assert a3.score is None and a3.grade == "不合格" and [v.id for v in a3.vetoes] == ["serious_complaint"]
    assert a3.vetoes[0].evidence == ("T2",)
    assert run.by_source() == {"interactions": (5, 4, 1), "surveys": (6, 3, 3), "complaints": (2, 2, 0)}
    assert run.rows_read == run.rows_scored + run.rows_rejected == 13


def test_unmatched_keys_are_rejected_with_their_reason(engine: Engine) -> None:
    run = engine(scheme(), data())
    lookups = {p.record_id: p for p in run.problems if p.code == "lookup-unmatched"}
    assert sorted(lookups) == ["S4", "S5", "S6"]
    assert lookups["S4"].field == "interaction_id" and lookups["S4"].value == "I9"
    assert "matches no interactions record" in lookups["S4"].reason
    assert "was rejected" in lookups["S5"].reason
    assert "is empty" in lookups["S6"].reason and lookups["S6"].value is None


def test_a_duplicated_id_of_the_other_source_matches_nothing(engine: Engine) -> None:
    twice = [*INTERACTIONS, dict(INTERACTIONS[0], agent_id="A9")]
    run = engine(scheme(), data(interactions=twice))
    refused = {p.record_id: p.code for p in run.problems}
    assert refused["I1"] == "duplicate-id" and refused["S1"] == "lookup-unmatched"
    assert run.rows_read == run.rows_scored + run.rows_rejected


def test_empty_sources_and_disjoint_periods(engine: Engine) -> None:
    august = [dict(c, filed_at="2026-08-02T09:00:00Z") for c in COMPLAINTS]
    run = engine(scheme(), data(surveys=[], complaints=august))
    by = cards(run)
    assert sorted(by) == ["A1/2026-07", "A1/2026-08", "A2/2026-07", "A3/2026-08"]
    aug = {i.id: i for i in by["A1/2026-08"].indicators}
    assert aug["fcr"].sample == 0 and aug["complaint_rate"].value is None and by["A1/2026-08"].score is None
    assert {i.id: i.value for i in by["A1/2026-07"].indicators}["csat"] is None


def test_looked_up_datetimes_are_cut_in_the_sources_own_zone(engine: Engine) -> None:
    text = SCHEME.replace("    id: survey_id\n    timezone: Asia/Shanghai", "    id: survey_id\n    timezone: UTC")
    late = [{"survey_id": "S1", "interaction_id": "I1", "csat": 5}]
    run = engine(scheme(text), data(surveys=late, complaints=[], interactions=[
        dict(INTERACTIONS[0], started_at="2026-08-01T01:00:00")]))  # Shanghai 1 a.m. is still July in UTC
    csat = {c.subject: {i.id: i.value for i in c.indicators}["csat"] for c in run.scorecards}
    assert csat == {"A1/2026-07": 5.0, "A1/2026-08": None}  # the survey in July (UTC), its interaction in August


def test_regrouping_by_a_field_every_source_has(engine: Engine) -> None:
    run = engine(scheme(), data(), by=["team"])
    by = cards(run)
    assert sorted(by) == ["T/2026-07", "U/2026-07"]
    assert {i.id: i.value for i in by["T/2026-07"].indicators}["csat"] == pytest.approx(4.0)


def test_one_source_scheme_takes_its_input_unnamed(engine: Engine, tmp_path: Path) -> None:
    # interactions alone, measured by fcr alone
    head, rest = SCHEME.split("  surveys:")
    one = head + "dimensions:" + rest.split("dimensions:")[1].split("      - id: csat")[0] + "grades:" + \
        rest.split("grades:")[1]
    path = tmp_path / "i.csv"
    path.write_text("interaction_id,agent_id,team,started_at,resolved\nI1,A1,T,2026-07-01T10:00:00,true\n",
                    encoding="utf-8")
    run = engine(scheme(one), path)
    assert [c.subject for c in run.scorecards] == ["A1/2026-07"]
    assert [i.source for i in run.dataset.inputs] == ["interactions"]


# --------------------------------------------------------------------------- validation locates every mistake


def findings(text: str) -> list[tuple[str, str, int]]:
    doc = load_text(textwrap.dedent(text), "ms.yaml")
    return [(f.code, f.message, f.location.line or 0) for f in iter_findings(doc) if f.severity == "error"]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "code", "needle"), [
    ("{mean: csat, source: surveys}", "{mean: csat, source: survey}", "unknown-reference", "source: survey}"),
    ("{from: interactions, key: interaction_id",
     "{from: interaction, key: interaction_id", "unknown-reference", "{from: interaction,"),
    ("      interaction_id: {type: string, nullable: true}", "      interaction_id: {type: integer}",
     "key-type", "lookup:\n"),
    ("{mean: csat, source: surveys}", "{mean: csat}", "unknown-name", "{mean: csat}"),
    ("{share: resolved}", "{share: resolved, source: complaints}", "unknown-name", "source: complaints}"),
    ("      agent_id: {type: string}\n      team: {type: string}\n      filed_at",
     "      agent: {type: string}\n      team: {type: string}\n      filed_at", "unknown-field", "  complaints:"),
    ("    period: filed_at", "    period: serious", "field-type", "period: serious"),
    ("numerator: {count: true, source: complaints}", "numerator: {any: serious, source: complaints}",
     "ratio-terms", "numerator: {any"),
    ("numerator: {count: true, source: complaints}", "numerator: complaints", "ratio-terms", "numerator: complaints"),
])
def test_validation_locates_mistakes(old: str, new: str, code: str, needle: str) -> None:
    assert old in SCHEME
    text = SCHEME.replace(old, new)
    found = findings(text)
    lines = [line for c, _, line in found if c == code]
    assert lines, found
    want = line_of(text, needle.rstrip("\n")) + (1 if needle.endswith("\n") else 0)
    assert want in lines, (found, want)


def test_validation_finds_a_lookup_cycle() -> None:
    text = SCHEME.replace("      serious: {type: boolean}\n", "      serious: {type: boolean}\n      survey_id: "
                          "{type: string}\n    lookup:\n      - {from: surveys, key: survey_id, fields: [csat]}\n")
    text = text.replace("  interactions:\n    id: interaction_id\n", "  interactions:\n    id: interaction_id\n"
                        "    lookup:\n      - {from: complaints, key: interaction_id, fields: [serious]}\n")
    text = text.replace("{from: complaints, key: interaction_id", "{from: complaints, key: agent_id")
    text = text.replace("      - {from: surveys, key: survey_id, fields: [csat]}",
                        "      - {from: surveys, key: survey_id, fields: [csat]}\n")
    found = findings(text)
    assert any(c == "lookup-cycle" and "→" in m for c, m, _ in found), found


def test_a_measure_source_in_a_one_table_scheme_is_refused() -> None:
    text = (Path(__file__).resolve().parents[1] / "rules/cs-quality/2026Q2.yaml").read_text(encoding="utf-8")
    text = text.replace("measure: {share: resolved_first_contact}",
                        "measure: {share: resolved_first_contact, source: calls}")
    assert [c for c, _, _ in findings(text)] == ["unknown-source"]


def test_versions_with_different_sources_are_not_routed_together() -> None:
    from qualiscore.engine import evaluate

    later = scheme(SCHEME.replace('version: "2026Q3"', 'version: "2026Q4"').replace(
        "effective_from: 2026-07-01", "effective_from: 2026-10-01").replace(
        "{from: interactions, key: interaction_id, fields: [agent_id, team, started_at]}",
        "{from: interactions, key: interaction_id, fields: [agent_id, team, started_at, resolved]}"))
    with pytest.raises(UsageError, match="read different record sources"):
        evaluate([scheme(), later], {"interactions": [], "surveys": [], "complaints": []})


# --------------------------------------------------------------------------- the command line


def write_inputs(tmp: Path) -> dict[str, Path]:
    out = {}
    for name, rows in data().items():
        path = tmp / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        out[name] = path
    return out


def test_cli_evaluate_verify_validate_and_test(cli: Any, tmp_path: Path) -> None:
    scheme_file = tmp_path / "2026Q3.yaml"
    scheme_file.write_text(SCHEME, encoding="utf-8")
    inputs = write_inputs(tmp_path)
    named = [f"{n}={p}" for n, p in inputs.items()]
    out = tmp_path / "out"
    result = cli("evaluate", str(scheme_file), *named, "-o", str(out), "--engine", "rows")
    assert "surveys       read 6 = scored 3 + rejected 3" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [i["source"] for i in manifest["inputs"]] == ["interactions", "surveys", "complaints"]
    assert manifest["sources"]["surveys"] == {"read": 6, "scored": 3, "rejected": 3}
    assert manifest["options"]["data"] == named
    assert "verified" in cli("verify", str(out)).output
    # Each indicator names the source it measured; explain says so.
    card = json.loads((out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()[0])
    sources = {i["id"]: i["source"] for d in card["dimensions"] for i in d["indicators"]}
    assert sources == {"fcr": "interactions", "csat": "surveys", "complaint_rate": "complaints ÷ interactions"}
    explained = cli("explain", str(out), "--subject", "A1/2026-07").output
    assert "sample 2 · complaints ÷ interactions" in explained and "· surveys" in explained
    # The columnar engine publishes the same bytes.
    out2 = tmp_path / "out2"
    cli("evaluate", str(scheme_file), *named, "-o", str(out2), "--engine", "columnar", "-q")
    for name in ("scorecards.jsonl", "scorecards.csv", "rejects.csv"):
        assert (out / name).read_bytes() == (out2 / name).read_bytes()
    # A changed survey export is found, and its line named.
    with inputs["surveys"].open("a", encoding="utf-8") as f:
        f.write(json.dumps({"survey_id": "S7", "interaction_id": "I3", "csat": 1}) + "\n")
    changed = cli("verify", str(out), catch=True)
    assert changed.exit_code == 11 and "surveys.jsonl line 7 was added" in changed.output
    checked = cli("validate", str(scheme_file), "--data", f"complaints={inputs['complaints']}")
    assert "2 row(s) checked, 2 would be scored" in checked.output


def test_cli_names_each_input(cli: Any, tmp_path: Path) -> None:
    scheme_file = tmp_path / "2026Q3.yaml"
    scheme_file.write_text(SCHEME, encoding="utf-8")
    inputs = write_inputs(tmp_path)
    unnamed = cli("evaluate", str(scheme_file), str(inputs["interactions"]), "-o", str(tmp_path / "o"), catch=True)
    assert unnamed.exit_code == 2 and "does not say which source it is" in unnamed.output
    typo = cli("evaluate", str(scheme_file), f"interaction={inputs['interactions']}", "-o", str(tmp_path / "o"),
               catch=True)
    assert "did you mean interactions=" in typo.output
    missing = cli("evaluate", str(scheme_file), f"interactions={inputs['interactions']}", "-o",
                  str(tmp_path / "o"), catch=True)
    assert missing.exit_code == 2 and "no input was given for the sources surveys, complaints" in missing.output


def test_scheme_tests_by_source(cli: Any, tmp_path: Path) -> None:
    text = SCHEME + textwrap.dedent("""\
        tests:
          - name: one complaint over two interactions
            subject: A1/2026-07
            records:
              interactions:
                - {interaction_id: I1, agent_id: A1, team: T, started_at: "2026-07-01T10:00:00", resolved: true}
                - {interaction_id: I2, agent_id: A1, team: T, started_at: "2026-07-02T10:00:00", resolved: false}
              surveys:
                - {survey_id: S1, interaction_id: I1, csat: 5}
                - {survey_id: S2, interaction_id: I9, csat: 1}
              complaints:
                - {ticket_id: T1, agent_id: A1, team: T, filed_at: "2026-07-05T09:00:00Z", serious: false}
            expect:
              rejected: 1
              score: 33.33
              grade: 不合格
              vetoes: [complaints_cap]
              indicators:
                csat: {value: 5, points: 100}
                fcr: {value: 0.5, points: 0}
                complaint_rate: {value: 0.5, points: 0}
        """)
    path = tmp_path / "2026Q3.yaml"
    path.write_text(text, encoding="utf-8")
    assert "1 passed, 0 failed" in cli("test", str(path)).output
    wrong = text.replace("      surveys:\n        - {survey_id", "      survey:\n        - {survey_id")
    assert wrong != text
    path.write_text(wrong, encoding="utf-8")
    result = cli("validate", str(path), catch=True)
    assert result.exit_code == 1 and "'survey' is not a source of this scheme" in result.output


# --------------------------------------------------------------------------- differential: every engine, same bytes

MEASURES = {  # (source, measure) an indicator may use
    "interactions": ["{share: resolved}", "{count: resolved}", "{mean: handle_s}", "{median: handle_s}",
                     "{max: handle_s, where: resolved}"],
    "surveys": ["{mean: csat, source: surveys}", "{share: csat >= 4, source: surveys}",
                "{percentile: csat, p: 90, source: surveys}"],
    "complaints": ["{count: true, source: complaints}", "{sum: cost, source: complaints}"],
}
RATIOS = ["{ratio: {numerator: {count: true, source: complaints}, denominator: {count: true}}}",
          "{ratio: {numerator: {count: true, source: surveys}, denominator: {count: true, where: resolved}}}",
          "{ratio: {numerator: {sum: cost, source: complaints}, denominator: {mean: csat, source: surveys}}}"]


def random_scheme(rnd: Any) -> str:
    chosen = rnd.sample([m for ms in MEASURES.values() for m in ms] + RATIOS, rnd.randint(1, 5))
    indicators = "".join(
        f"      - id: i{k}\n        measure: {m}\n        min_sample: {rnd.choice([1, 1, 2])}\n"
        f"        scoring: {{bands: [{{min: {rnd.choice([0.25, 0.5, 1])}, points: 100}}, {{points: {rnd.choice([0, 40])}}}]}}\n"
        f"        weight: {rnd.randint(1, 3)}\n" for k, m in enumerate(chosen))
    vetoes = rnd.choice(["", "vetoes:\n  - {id: v, when: {any: serious, source: complaints}, effect: {grade: C}}\n",
                         "vetoes:\n  - {id: v, indicator: i0, at_least: 1, effect: {cap: B}}\n"])
    by = rnd.choice(["[agent_id]", "[agent_id, team]"])
    lookup = rnd.choice(["[agent_id, team, started_at]", "[agent_id, team, started_at, resolved]"])
    return textwrap.dedent(f"""\
        format: qualiscore/v1
        scheme: diff
        version: v1
        effective_from: 2026-01-01
        subject:
          group_by: {by}
          period: {{field: started_at, every: {rnd.choice(["month", "week"])}}}
        sources:
          interactions:
            id: interaction_id
            timezone: Asia/Shanghai
            fields:
              interaction_id: {{type: string}}
              agent_id: {{type: string}}
              team: {{type: string}}
              started_at: {{type: datetime}}
              resolved: {{type: boolean, nullable: true}}
              handle_s: {{type: number, nullable: true, minimum: 0}}
          surveys:
            id: survey_id
            timezone: {rnd.choice(["Asia/Shanghai", "UTC"])}
            fields:
              survey_id: {{type: string}}
              interaction_id: {{type: string, nullable: true}}
              csat: {{type: integer, minimum: 1, maximum: 5, nullable: true}}
            lookup:
              - {{from: interactions, key: interaction_id, fields: {lookup}}}
          complaints:
            id: ticket_id
            timezone: UTC
            period: filed_at
            fields:
              ticket_id: {{type: string}}
              agent_id: {{type: string}}
              team: {{type: string}}
              filed_at: {{type: datetime}}
              serious: {{type: boolean}}
              cost: {{type: number, nullable: true}}
        dimensions:
          - id: d
            weight: 1
            indicators:
        """) + textwrap.indent(indicators, "  ")[2:].replace("\n  ", "\n") + vetoes + textwrap.dedent("""\
        grades:
          - {name: A, min: 80}
          - {name: B, min: 50}
          - {name: C, min: 0}
        """)


def random_tables(rnd: Any) -> dict[str, list[dict[str, Any]]]:
    agents = [f"A{k}" for k in range(rnd.randint(1, 4))]
    months = rnd.sample(["2026-03", "2026-04", "2026-05"], rnd.randint(1, 2))
    interactions = []
    for k in range(rnd.randint(0, 25)):
        day = f"{rnd.choice(months)}-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:30:00"
        interactions.append({
            "interaction_id": f"I{rnd.randint(0, 30) if rnd.random() < 0.1 else k}",  # some duplicate ids
            "agent_id": rnd.choice(agents), "team": rnd.choice(["T", "U"]),
            "started_at": day if rnd.random() > 0.05 else "not a date",
            "resolved": rnd.choice([True, False, None]), "handle_s": rnd.choice([None, 0, 12.5, 300, 90])})
    ids = [r["interaction_id"] for r in interactions] or ["I0"]
    surveys = [{"survey_id": f"S{k}",
                "interaction_id": rnd.choice([*ids, *ids, "I999", None]),  # unmatched keys and empty keys
                "csat": rnd.choice([1, 3, 4, 5, None, 7])} for k in range(rnd.randint(0, 20))]
    complaint_months = rnd.choice([months, ["2026-06"]])  # sometimes a period no other source has
    complaints = [{"ticket_id": f"T{k}", "agent_id": rnd.choice([*agents, "Z9"]), "team": rnd.choice(["T", "U"]),
                   "filed_at": f"{rnd.choice(complaint_months)}-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:00Z",
                   "serious": rnd.random() < 0.2, "cost": rnd.choice([None, 10, 2.5])}
                  for k in range(rnd.randint(0, 8))]
    return {"interactions": interactions, "surveys": surveys, "complaints": complaints}


def write_tables(tables: dict[str, list[dict[str, Any]]], tmp: Path, rnd: Any) -> dict[str, list[str]]:
    import csv

    out = {}
    for name, rows in tables.items():
        kind = rnd.choice(["csv", "jsonl", "parquet"])
        path = tmp / f"{name}.{kind}"
        if kind == "jsonl":
            path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        else:
            header = list(rows[0]) if rows else list(TABLE_FIELDS[name])
            text_rows = [{k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                          for k, v in r.items()} for r in rows]
            if kind == "csv":
                with path.open("w", encoding="utf-8", newline="") as f:
                    writer = csv.DictWriter(f, header)
                    writer.writeheader()
                    writer.writerows(text_rows)
            else:
                pl = pytest.importorskip("polars")
                pl.DataFrame({k: [r[k] for r in text_rows] for k in header},
                             schema={k: pl.String for k in header}).write_parquet(path)
        out[name] = [str(path)]
    return out


TABLE_FIELDS = {
    "interactions": ("interaction_id", "agent_id", "team", "started_at", "resolved", "handle_s"),
    "surveys": ("survey_id", "interaction_id", "csat"),
    "complaints": ("ticket_id", "agent_id", "team", "filed_at", "serious", "cost"),
}


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("QUALISCORE_DIFF_EXAMPLES", "40")) // 2))
def test_engines_agree_on_random_sources(tmp_path: Path, seed: int) -> None:
    import random

    pytest.importorskip("polars")
    from test_engine_differential import assert_same

    rnd = random.Random(seed)
    text = random_scheme(rnd)
    path = tmp_path / "v1.yaml"
    path.write_text(text, encoding="utf-8")
    schemes = [load_scheme(path)]
    inputs = write_tables(random_tables(rnd), tmp_path, rnd)
    run = assert_same(schemes, inputs)  # type: ignore[arg-type]
    if run is not None:
        assert run.rows_read == run.rows_scored + run.rows_rejected
        assert sum(read for read, _, _ in run.by_source().values()) == run.rows_read
    if rnd.random() < 0.3:
        assert_same(schemes, inputs, by=["team"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- diff and the library


def test_diff_names_each_sources_changes(cli: Any, tmp_path: Path) -> None:
    old = tmp_path / "2026Q3.yaml"
    old.write_text(SCHEME, encoding="utf-8")
    new = tmp_path / "new" / "2026Q3.yaml"
    new.parent.mkdir()
    new.write_text(SCHEME.replace("csat: {type: integer, minimum: 1, maximum: 5}", "csat: {type: integer, minimum: 1, "
                                  "maximum: 10}").replace("fields: [agent_id, team, started_at]}",
                                                          "fields: [agent_id, started_at]}").replace(
        "denominator: {count: true}}", "denominator: {count: true, source: surveys}}"), encoding="utf-8")
    text = cli("diff", str(old), str(new), catch=True).output
    assert "sources.surveys.fields.csat.maximum: 5 → 10  [field-range-changed" in text
    assert ("sources.surveys.lookup: [agent_id, team, started_at from interactions by interaction_id] → "
            "[agent_id, started_at from interactions by interaction_id]  [lookup-changed") in text
    assert "indicators.complaint_rate.measure.ratio.denominator.source: surveys  [measure-changed" in text
    inputs = write_inputs(tmp_path)
    impact = cli("diff", str(old), str(old), *(a for n, p in inputs.items() for a in ("--data", f"{n}={p}")))
    assert "0 subject(s) change grade" in impact.output


def test_library_takes_each_source_as_a_table(engine: Engine) -> None:
    pl = pytest.importorskip("polars")
    import qualiscore as qs

    frames = {name: pl.DataFrame(rows, infer_schema_length=None) for name, rows in data().items()}
    result = qs.score(scheme(), frames, engine="rows" if engine.is_reference else "columnar")
    assert result.run.by_source() == {"interactions": (5, 4, 1), "surveys": (6, 3, 3), "complaints": (2, 2, 0)}
    rejects = result.rejects_frame()
    assert sorted(set(rejects.get_column("source").to_list())) == ["<memory:interactions>", "<memory:surveys>"]
    assert result.scorecards_frame().height == 3


def test_revise_moves_each_sources_test_dates(cli: Any, tmp_path: Path) -> None:
    text = SCHEME.replace("effective_from: 2026-07-01\n", "effective_from: 2026-07-01\neffective_to: 2026-09-30\n")
    text += textwrap.dedent("""\
        tests:
          - name: one month
            subject: A1/2026-07
            records:
              interactions:
                - {interaction_id: I1, agent_id: A1, team: T, started_at: "2026-07-01T10:00:00", resolved: true}
              complaints:
                - {ticket_id: T1, agent_id: A1, team: T, filed_at: "2026-07-05T09:00:00Z", serious: false}
            expect: {indicators: {fcr: {value: 1}, complaint_rate: {value: 1}}}
        """)
    (tmp_path / "2026Q3.yaml").write_text(text, encoding="utf-8")
    result = cli("revise", str(tmp_path / "2026Q3.yaml"), "2026Q4")
    assert "2 record date(s) moved" in result.output
    assert "--data interactions=LAST_QUARTER_INTERACTIONS.csv" in result.output
    new = (tmp_path / "2026Q4.yaml").read_text(encoding="utf-8")
    assert 'started_at: "2026-10-01T10:00:00"' in new and 'filed_at: "2026-10-05T09:00:00Z"' in new
    assert "subject: A1/2026-10" in new
    assert "1 passed, 0 failed" in cli("test", str(tmp_path / "2026Q4.yaml")).output


def test_regrouping_needs_the_field_in_every_source(engine: Engine) -> None:
    text = SCHEME.replace("      team: {type: string}\n      filed_at", "      filed_at")
    with pytest.raises(UsageError, match="--by team: the source complaints has no field team"):
        engine(scheme(text), data(complaints=[]), by=["team"])


def test_diff_data_refuses_a_table_and_sources_together(cli: Any) -> None:
    root = Path(__file__).resolve().parents[1]
    result = cli("diff", str(root / "rules/cs-quality/2026Q2.yaml"), str(root / "rules/cs-quality/2026Q3.yaml"),
                 "--data", str(root / "data/sample/interactions.csv"), catch=True)
    assert result.exit_code == 2 and "2026Q2 reads one table and 2026Q3 reads the record sources" in result.output
