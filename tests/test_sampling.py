"""The inspection sample: reproducible whatever the row order or file split, stratified, weighted, verifiable."""

from __future__ import annotations

import csv
import json
import random
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli
from qualiscore.loader import load_text
from qualiscore.model import compile_document
from qualiscore.records import records_from_dicts
from qualiscore.sampling import _quotas, draw
from qualiscore.validation import iter_findings

ROOT = Path(__file__).resolve().parents[1]
Q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
CALLS = ROOT / "data" / "sample" / "q3" / "interactions.csv"

SCHEME = """\
format: qualiscore/v1
scheme: s
version: v1
effective_from: 2026-01-01
subject:
  group_by: [agent_id]
  period: {field: day, every: month}
records:
  id: id
  fields:
    id: {type: string}
    agent_id: {type: string}
    channel: {type: string}
    day: {type: date}
    seconds: {type: integer}
    risky: {type: boolean}
dimensions:
  - id: d
    weight: 1
    indicators:
      - {id: i, weight: 1, measure: {share: risky}, scoring: {linear: {from: 0, to: 1}}}
sampling:
  every: week
  rate: 0.2
  strata: [channel]
  min_per_stratum: 3
  exclude: seconds < 30
  oversample:
    - {when: risky, weight: 5}
  fields: [id, agent_id, channel, day]
grades:
  - {name: A, min: 50}
  - {name: B, min: 0}
"""


def scheme(text: str = SCHEME) -> Any:
    doc = load_text(text, "s.yaml")
    errors = [f.format() for f in iter_findings(doc) if f.severity == "error"]
    assert not errors, errors
    return compile_document(doc)


def records(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [{"id": f"R{k:05d}", "agent_id": f"A{k % 7}", "channel": rnd.choice(["chat", "chat", "phone", "email"]),
             "day": f"2026-04-{6 + k % 7:02d}", "seconds": rnd.choice([10, 60, 300, 900]),
             "risky": rnd.random() < 0.1} for k in range(n)]


def sample_of(rows: list[dict[str, Any]], text: str = SCHEME, period: str = "2026-W15") -> Any:
    s = scheme(text)
    return draw(s, period, records_from_dicts(rows, s.records, source="in"))


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in r.items()} for r in rows)
    return path


# --------------------------------------------------------------------------- the draw


def test_quotas_per_stratum_exclusions_and_strata_counts() -> None:
    got = sample_of(records(2000))
    by = {s.key: s for s in got.strata}
    assert set(by) == {"chat", "email", "phone"}
    for s in got.strata:
        assert s.population == s.excluded + s.eligible
        assert s.sampled == max(3, -(-s.eligible // 5))  # 20%, rounded up, at least 3
    assert sum(s.sampled for s in got.strata) == len(got.rows)
    assert all(row[0] in by for row in got.rows)
    sampled_ids = {row[1] for row in got.rows}
    short = {r["id"] for r in records(2000) if r["seconds"] < 30}
    assert not sampled_ids & short  # excluded records are never drawn
    assert got.in_period == sum(s.population for s in got.strata)


def test_risky_records_are_drawn_more_often() -> None:
    rows = records(5000)
    got = sample_of(rows)
    risky = {r["id"] for r in rows if r["risky"]}
    eligible = [r for r in rows if r["seconds"] >= 30 and r["day"] <= "2026-04-12"]
    share_population = sum(r["id"] in risky for r in eligible) / len(eligible)
    share_sample = sum(row[1] in risky for row in got.rows) / len(got.rows)
    assert share_sample > 2.5 * share_population  # weight 5: far more than their share


def test_count_is_shared_by_size_with_the_largest_remainder() -> None:
    from qualiscore.model import SamplingPlan

    plan = SamplingPlan("week", count=10, min_per_stratum=1)
    assert _quotas(plan, {"a": 50, "b": 30, "c": 20}) == {"a": 5, "b": 3, "c": 2}
    assert _quotas(plan, {"a": 1, "b": 1, "c": 98}) == {"a": 1, "b": 1, "c": 10}  # floors 0, 0, 9.8 → min 1; c 10
    assert _quotas(SamplingPlan("week", count=100), {"a": 3, "b": 4}) == {"a": 3, "b": 4}  # never more than there is
    assert _quotas(SamplingPlan("week", rate=0.1), {"a": 11}) == {"a": 2}  # 1.1 rounded up


def test_the_sample_does_not_depend_on_row_order_or_on_file_split(cli: Cli, tmp_path: Path) -> None:
    """The issue's "done when": shuffled rows, and the export split across files, give the same sample."""
    with CALLS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    random.Random(3).shuffle(rows)
    one = write_csv(tmp_path / "shuffled.csv", rows)
    parts = [write_csv(tmp_path / f"part{k}.csv", rows[k::3]) for k in range(3)]
    outs = []
    for name, inputs in (("original", [CALLS]), ("shuffled", [one]), ("split", parts)):
        out = tmp_path / name
        cli("sample", str(Q3), *(f"interactions={p}" for p in inputs), "--period", "2026-W28", "-o", str(out), "-q")
        outs.append(out)
    for name in ("sample.csv", "strata.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes()
    assert len((outs[0] / "sample.csv").read_text(encoding="utf-8").splitlines()) == 1 + 43


def test_both_engines_draw_the_same_bytes(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("polars")
    outs = []
    for engine in ("rows", "columnar"):
        out = tmp_path / engine
        cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-W30", "-o", str(out), "--engine", engine,
            "--format", "xlsx", "-q")
        outs.append(out)
    for name in ("sample.csv", "strata.csv", "rejects.csv", "sample.xlsx"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


# --------------------------------------------------------------------------- the command and verify


def test_sample_command_writes_files_and_verify_confirms_them(cli: Cli, tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_bytes(CALLS.read_bytes())
    out = tmp_path / "w28"
    result = cli("sample", str(Q3), f"interactions={calls}", "--period", "2026-W28", "-o", str(out))
    assert "rows read 3000 = kept 2970 + rejected 30; 209 in 2026-W28" in result.output
    assert "chat            94         0        94       19" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "qualiscore-sample/v1" and manifest["period"] == "2026-W28"
    assert manifest["rows"] == {"read": 3000, "rejected": 30, "in_period": 209, "sampled": 43}
    assert sorted(manifest["outputs"]) == ["rejects.csv", "sample.csv", "strata.csv"]
    assert cli("verify", str(out)).exit_code == 0
    record = cli("verify", str(out), "--format", "md")
    assert "| Rows | read 3000 = kept 2970 + rejected 30; 43 sampled in 2026-W28 |" in record.output

    edited = (out / "sample.csv").read_text(encoding="utf-8").replace("I0000191", "I0000190")
    (out / "sample.csv").write_text(edited, encoding="utf-8")
    tampered = cli("verify", str(out), catch=True)
    assert tampered.exit_code == 13 and "output-changed: sample.csv" in tampered.output

    cli("sample", str(Q3), f"interactions={calls}", "--period", "2026-W28", "-o", str(out), "-q")
    with calls.open("a", encoding="utf-8") as f:
        f.write("I0009999,A001,T1,chat,2026-07-07T10:00:00+08:00,10,300,true,false,\n")
    changed = cli("verify", str(out), catch=True)
    assert changed.exit_code == 11 and "input-changed" in changed.output


def test_usage_errors(cli: Cli, tmp_path: Path) -> None:
    bad = cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-07", "-o", str(tmp_path / "o"),
              catch=True)
    assert bad.exit_code == 2 and "--period '2026-07' is not a week" in bad.output and "2026-W14" in bad.output
    other = cli("sample", str(Q3), f"surveys={CALLS}", "--period", "2026-W28", "-o", str(tmp_path / "o"), catch=True)
    assert other.exit_code == 2 and "the plan samples interactions, not surveys" in other.output
    q2 = cli("sample", str(ROOT / "rules/cs-quality/2026Q2.yaml"), str(CALLS), "--period", "2026-W28", "-o",
             str(tmp_path / "o"), catch=True)
    assert q2.exit_code == 2 and "has no sampling plan" in q2.output


# --------------------------------------------------------------------------- validation


def errors(text: str) -> list[tuple[str, int]]:
    doc = load_text(textwrap.dedent(text), "s.yaml")
    return [(f.code, f.location.line or 0) for f in iter_findings(doc) if f.severity == "error"]


@pytest.mark.parametrize(("old", "new", "code"), [
    ("strata: [channel]", "strata: [chanel]", "unknown-field"),
    ("  fields: [id, agent_id, channel, day]", "  fields: [id, agent, channel, day]", "unknown-field"),
    ("exclude: seconds < 30", "exclude: secs < 30", "unknown-name"),
    ("  period: {field: day, every: month}\n", "", "sampling-period"),
    ("  rate: 0.2\n", "", "sampling-kind"),
])
def test_validation_locates_plan_mistakes(old: str, new: str, code: str) -> None:
    text = SCHEME.replace(old, new)
    assert text != SCHEME
    found = errors(text)
    # a key that is not there is located where the mapping that lacks it starts (the plan's first key)
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if (new.strip() or "every: week") in ln)
    assert (code, line) in found, (found, line)


# --------------------------------------------------------------------------- the week's reviews into scorecards

INSPECTION = ROOT / "rules" / "cs-inspection" / "2026Q3.yaml"
REVIEWS = ROOT / "data" / "sample" / "q3" / "reviews-2026-W28.csv"


def test_reviews_of_the_sample_score_agents_and_reject_what_the_form_refuses(cli: Cli, tmp_path: Path) -> None:
    drawn = tmp_path / "w28"
    cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-W28", "-o", str(drawn), "-q")
    again = tmp_path / "reviews.csv"
    cli("synth", "reviews", "--sample", str(drawn / "sample.csv"), "--dirty", "0.05", "-o", str(again))
    assert again.read_bytes() == REVIEWS.read_bytes()  # the bundled file is this week's, regenerated alike
    out = tmp_path / "scored"
    result = cli("evaluate", str(INSPECTION), f"sample={drawn / 'sample.csv'}", f"reviews={REVIEWS}", "-o", str(out))
    assert "sample   read 43 = scored 43 + rejected 0" in result.output
    assert "reviews  read 43 = scored 41 + rejected 2" in result.output
    rejects = (out / "rejects.csv").read_text(encoding="utf-8")
    assert "above-maximum" in rejects and "not-boolean" in rejects
    # A review of an interaction the sample does not hold is refused, with the reason.
    with REVIEWS.open(encoding="utf-8") as f:
        lines = f.read().splitlines()
    stray = tmp_path / "stray.csv"
    stray.write_text("\n".join([*lines, lines[1].replace(lines[1].split(",")[0], "I0000001", 1)]) + "\n",
                     encoding="utf-8")
    refused = cli("evaluate", str(INSPECTION), f"sample={drawn / 'sample.csv'}", f"reviews={stray}", "-o",
                  str(tmp_path / "stray-out"))
    assert "reviews  read 44 = scored 41 + rejected 3" in refused.output
    assert "interaction_id 'I0000001' matches no sample record" in (
        tmp_path / "stray-out" / "rejects.csv").read_text(encoding="utf-8")
    assert cli("verify", str(out)).exit_code == 0


def test_the_report_of_a_sample_shows_each_strata_coverage(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "w28"
    cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-W28", "-o", str(out), "-q")
    cli("report", str(out), "--format", "md", "-o", str(tmp_path / "coverage.md"))
    text = (tmp_path / "coverage.md").read_text(encoding="utf-8")
    assert "| chat | 94 | 0 | 94 | 19 | 20.2% |" in text and "| **all** | 209 | 0 | 209 | 43 | 20.6% |" in text
    cli("report", str(out))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Coverage per stratum" in page and "<td>ticket</td>" in page
    assert cli("verify", str(out)).exit_code == 0  # a report written into the sample is recorded, not extra


def test_a_column_the_form_does_not_know_stops_the_run(cli: Cli, tmp_path: Path) -> None:
    drawn = tmp_path / "w28"
    cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-W28", "-o", str(drawn), "-q")
    lines = REVIEWS.read_text(encoding="utf-8").splitlines()
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join([lines[0] + ",courtesy", *(line + ",5" for line in lines[1:])]) + "\n",
                     encoding="utf-8")
    ran = cli("evaluate", str(INSPECTION), f"sample={drawn / 'sample.csv'}", f"reviews={extra}", "-o",
              str(tmp_path / "o"), catch=True)
    assert ran.exit_code == 15 and "column 'courtesy'" in ran.output and "other_columns: refuse" in ran.output
    checked = cli("validate", str(INSPECTION), "--data", f"reviews={extra}", catch=True)
    assert checked.exit_code == 1 and "error[unknown-column]" in checked.output


def test_a_signed_sample_is_verified_with_its_signer(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    cli("keygen", str(tmp_path / "qa"), "--owner", "质检组")
    out = tmp_path / "w28"
    cli("sample", str(Q3), f"interactions={CALLS}", "--period", "2026-W28", "-o", str(out), "-q",
        "--sign-key", str(tmp_path / "qa.pem"), "--operator", "张三")
    assert (out / "manifest.json.sig").is_file()
    checked = cli("verify", str(out), "--public-key", str(tmp_path / "qa.pub.pem"))
    assert checked.exit_code == 0 and "signed by" in checked.output and "张三" in checked.output


@pytest.mark.parametrize("seed", range(8))
def test_engines_draw_the_same_sample_of_random_exports(cli: Cli, tmp_path: Path, seed: int) -> None:
    """Random exports (CSV, JSON Lines or Parquet; bad cells, duplicate ids, empty strata) and random plans:
    both engines draw the same bytes."""
    pl = pytest.importorskip("polars")
    rnd = random.Random(seed)
    plan = rnd.choice(["rate: 0.3", "count: 7", "rate: 1.0"])
    text = SCHEME.replace("  rate: 0.2\n", f"  {plan}\n").replace(
        "min_per_stratum: 3", f"min_per_stratum: {rnd.randint(0, 4)}")
    if rnd.random() < 0.5:
        text = text.replace("  strata: [channel]\n", "  strata: [channel, agent_id]\n")
    scheme_file = tmp_path / "v1.yaml"
    scheme_file.write_text(text, encoding="utf-8")
    rows = records(rnd.randint(0, 120), seed)
    for r in rows:
        if rnd.random() < 0.05:
            r["seconds"] = "many"
        if rnd.random() < 0.03:
            r["id"] = "R00001"
    kind = rnd.choice(["csv", "jsonl", "parquet"])
    path = tmp_path / f"data.{kind}"
    if not rows:
        path = write_csv(tmp_path / "data.csv", [dict.fromkeys(records(1)[0], "")])
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    elif kind == "csv":
        write_csv(path, rows)
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        pl.DataFrame([{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in r.items()} for r in rows],
                     schema=dict.fromkeys(rows[0], pl.String)).write_parquet(path)
    outs = []
    for engine in ("rows", "columnar"):
        out = tmp_path / engine
        result = cli("sample", str(scheme_file), str(path), "--period", "2026-W15", "-o", str(out), "--engine",
                     engine, "-q")
        assert result.exit_code == 0, result.output
        outs.append(out)
    for name in ("sample.csv", "strata.csv", "rejects.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert cli("verify", str(outs[1])).exit_code == 0


def test_a_sample_drawn_in_chinese_is_verified_in_either_language(cli: Cli, tmp_path: Path) -> None:
    """Its rejects are worded in Chinese, the manifest says so, and verify draws it again in Chinese."""
    calls = tmp_path / "calls.csv"
    calls.write_bytes(CALLS.read_bytes())
    out = tmp_path / "w28"
    cli("sample", str(Q3), f"interactions={calls}", "--period", "2026-W28", "-o", str(out), "-q", "--lang", "zh-CN")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["language"] == "zh-CN"
    assert re.search(r"[\u4e00-\u9fff]", (out / "rejects.csv").read_text(encoding="utf-8"))
    assert cli("verify", str(out)).exit_code == 0
    assert cli("verify", str(out), "--lang", "zh-CN").exit_code == 0
