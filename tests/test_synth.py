"""Tests for qualiscore.synth: deterministic synthetic interaction records and QA forms."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from qualiscore import synth
from qualiscore.synth import COLUMNS, FORBIDDEN_PHRASES, QA_COLUMNS, generate, generate_qa

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
BEIJING = timezone(timedelta(hours=8))
BOOLS = {"true", "false"}


def problems(row: dict[str, str]) -> list[str]:
    """The cs-quality contract, checked independently of the engine: names of broken fields."""
    bad = []
    if row["channel"] not in synth.CHANNELS:
        bad.append("channel")
    try:
        datetime.fromisoformat(row["started_at"])
    except ValueError:
        bad.append("started_at")
    if row["first_response_s"] and float(row["first_response_s"]) < 0:
        bad.append("first_response_s")
    if row["csat"] and not 1 <= int(row["csat"]) <= 5:
        bad.append("csat")
    if row["nps"] and not 0 <= int(row["nps"]) <= 10:
        bad.append("nps")
    for k in ("resolved_first_contact", "repeat_contact_7d", "complaint", "unauthorised_promise"):
        if row[k] not in BOOLS:
            bad.append("boolean")
    return bad


def seconds(value: str) -> int:
    if ":" in value:
        h, m, s = value.split(":")
        return int(h) * 3600 + int(m) * 60 + int(s)
    return int(value)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate(5000, seed=11, start="2026-04-01", months=3, agents=24, dirty=0))


# --- determinism and files ---------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_different(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert synth.write_csv(a, 2000, seed=3, months=2) == 2000
    synth.write_csv(b, 2000, seed=3, months=2)
    synth.write_csv(c, 2000, seed=4, months=2)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    j1, j2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    synth.write_jsonl(j1, 500, seed=3)
    synth.write_jsonl(j2, 500, seed=3)
    assert j1.read_bytes() == j2.read_bytes()


def test_csv_file_matches_generator(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    written = synth.write_csv(path, 1234, seed=5, dirty=0.05)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(",".join(COLUMNS) + "\n")
    back = list(csv.DictReader(io.StringIO(text)))
    assert written == len(back) == 1234
    assert back == list(generate(1234, seed=5, dirty=0.05))


def test_row_count_unique_ids_and_column_order() -> None:
    got = list(generate(1500, seed=1))
    assert len(got) == 1500
    assert all(tuple(r) == COLUMNS for r in got)
    ids = [r["interaction_id"] for r in got]
    assert len(set(ids)) == 1500
    assert ids[0] == "I0000001" and ids[-1] == "I0001500"
    assert ids == sorted(ids)
    assert all(isinstance(v, str) for r in got for v in r.values())
    assert list(generate(0)) == []
    # ids widen to fit n
    assert next(generate(12_000_000, agents=5))["interaction_id"] == "I00000001"


def test_generation_is_lazy() -> None:
    # a billion rows: only the first is produced (streaming, no list of all rows)
    first = next(generate(10**9, agents=10))
    assert first["interaction_id"] == "I0000000001"


def test_default_agents_and_teams() -> None:
    assert {r["agent_id"] for r in generate(3000)} <= {f"A{k:03d}" for k in range(1, 8)}
    agents = Counter(r["agent_id"] for r in generate(4000, agents=24))
    assert len(agents) == 24
    team_of = {r["agent_id"]: r["team"] for r in generate(4000, agents=24)}
    assert set(team_of.values()) == {f"T{k}" for k in range(1, 7)}
    assert len({r["agent_id"] for r in generate(400)}) == 5
    assert len({r["agent_id"] for r in generate(8000)}) == 20


# --- shapes and rates --------------------------------------------------------------------------


def test_channel_shares(rows: list[dict[str, str]]) -> None:
    shares = Counter(r["channel"] for r in rows)
    for channel, expected in {"chat": 0.45, "phone": 0.30, "ticket": 0.15, "email": 0.10}.items():
        assert shares[channel] / len(rows) == pytest.approx(expected, abs=0.025)


def test_survey_answer_rates(rows: list[dict[str, str]]) -> None:
    n = len(rows)
    csat = [int(r["csat"]) for r in rows if r["csat"]]
    nps = [int(r["nps"]) for r in rows if r["nps"]]
    assert len(csat) / n == pytest.approx(0.30, abs=0.04)
    assert len(nps) / n == pytest.approx(0.12, abs=0.03)
    assert set(csat) == {1, 2, 3, 4, 5}
    assert min(nps) >= 0 and max(nps) <= 10
    assert 0.6 < sum(c >= 4 for c in csat) / len(csat) < 0.95


def test_outcome_rates(rows: list[dict[str, str]]) -> None:
    n = len(rows)
    fcr = [r["resolved_first_contact"] == "true" for r in rows]
    assert sum(fcr) / n == pytest.approx(0.75, abs=0.05)
    repeat_resolved = [r["repeat_contact_7d"] == "true" for r in rows if r["resolved_first_contact"] == "true"]
    repeat_unresolved = [r["repeat_contact_7d"] == "true" for r in rows if r["resolved_first_contact"] == "false"]
    assert sum(repeat_unresolved) / len(repeat_unresolved) > 3 * sum(repeat_resolved) / len(repeat_resolved)
    complaints = [r for r in rows if r["complaint"] == "true"]
    assert len(complaints) / n == pytest.approx(0.03, abs=0.015)
    low = [r["complaint"] == "true" for r in rows if r["csat"] in ("1", "2")]
    high = [r["complaint"] == "true" for r in rows if r["csat"] in ("4", "5")]
    assert sum(low) / len(low) > 3 * sum(high) / len(high)


def test_unauthorised_promises_rare_and_concentrated(rows: list[dict[str, str]]) -> None:
    promised = [r for r in rows if r["unauthorised_promise"] == "true"]
    assert 0.0005 < len(promised) / len(rows) < 0.008
    assert 1 <= len({r["agent_id"] for r in promised}) <= 2


def test_response_times_by_channel(rows: list[dict[str, str]]) -> None:
    n = len(rows)
    assert sum(r["first_response_s"] == "" for r in rows) / n == pytest.approx(0.02, abs=0.01)

    def values(channel: str) -> list[int]:
        return sorted(int(r["first_response_s"]) for r in rows if r["channel"] == channel and r["first_response_s"])

    chat, phone, ticket = values("chat"), values("phone"), sorted(values("ticket") + values("email"))
    assert 25 <= chat[len(chat) // 2] <= 50
    assert 10 <= phone[len(phone) // 2] <= 30
    assert 3000 <= ticket[len(ticket) // 2] <= 6000
    assert 0.05 < sum(v > 60 for v in chat) / len(chat) < 0.35  # a tail past 1 minute
    assert 0.005 < sum(v > 180 for v in chat) / len(chat) < 0.10  # and past 3 minutes
    assert 0.03 < sum(v > 30 for v in phone) / len(phone) < 0.25
    assert 0.03 < sum(v > 7200 for v in ticket) / len(ticket) < 0.25


def test_handle_times_include_hh_mm_ss(rows: list[dict[str, str]]) -> None:
    n = len(rows)
    values = [r["handle_time_s"] for r in rows]
    hms = [v for v in values if ":" in v]
    assert sum(v == "" for v in values) / n == pytest.approx(0.03, abs=0.012)
    assert len(hms) / n == pytest.approx(0.10, abs=0.02)
    assert all(len(v) == 8 and v[2] == v[5] == ":" for v in hms)
    secs = [seconds(v) for v in values if v]
    assert min(secs) > 0
    assert 250 < sum(secs) / len(secs) < 700


def test_transcripts(rows: list[dict[str, str]]) -> None:
    n = len(rows)
    texts = [r["transcript"] for r in rows]
    assert sum(t == "" for t in texts) / n == pytest.approx(0.05, abs=0.015)
    forbidden = [t for t in texts if any(p in t for p in FORBIDDEN_PHRASES)]
    assert len(forbidden) / n == pytest.approx(0.04, abs=0.015)
    assert {p for p in FORBIDDEN_PHRASES if any(p in t for t in forbidden)} == set(FORBIDDEN_PHRASES)
    assert sum("我会帮您" in t for t in texts) / n > 0.3
    assert all("\n" not in t for t in texts)


def test_clean_phrases_have_no_forbidden_phrase() -> None:
    pools: list[str] = [g for gs in synth._GREETINGS.values() for g in gs]
    for need, steps, action, way, offers in synth._TOPICS:
        pools += [need, *steps, action, way, *offers]
    pools += [*synth._RESTATE, *synth._STEP_LINKS, *synth._POSITIVE, *synth._EMPATHY, *synth._CLOSINGS,
              *synth._PROMISES]
    assert not [p for p in pools if any(f in p for f in FORBIDDEN_PHRASES)]
    assert all(any(f in s for f in FORBIDDEN_PHRASES) for s in synth._FORBIDDEN_SENTENCES)


def test_skill_spreads_agents(rows: list[dict[str, str]]) -> None:
    by_agent: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_agent.setdefault(r["agent_id"], []).append(r)
    fcr = {a: sum(r["resolved_first_contact"] == "true" for r in rs) / len(rs) for a, rs in by_agent.items()}
    forbidden = {a: sum(any(p in r["transcript"] for p in FORBIDDEN_PHRASES) for r in rs) / len(rs)
                 for a, rs in by_agent.items()}
    assert max(fcr.values()) - min(fcr.values()) > 0.25
    worst, best = min(fcr, key=fcr.__getitem__), max(fcr, key=fcr.__getitem__)
    assert forbidden[worst] > forbidden[best]


# --- time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "months", "end"), [
    ("2026-04-01", 3, "2026-07-01"),
    ("2026-02-01", 4, "2026-06-01"),
    ("2026-01-31", 1, "2026-02-28"),
    ("2025-12-01", 2, "2026-02-01"),
])
def test_timestamps_within_requested_months(start: str, months: int, end: str) -> None:
    got = list(generate(3000, start=start, months=months, dirty=0))
    stamps = [datetime.fromisoformat(r["started_at"]) for r in got]
    assert all(r["started_at"].endswith("+08:00") for r in got)
    lo = datetime.fromisoformat(start).replace(tzinfo=BEIJING)
    hi = datetime.fromisoformat(end).replace(tzinfo=BEIJING)
    assert all(lo <= t < hi for t in stamps)
    assert stamps == sorted(stamps)
    months_seen = {(t.year, t.month) for t in stamps}
    assert len(months_seen) == months + (0 if lo.day == 1 else 1)


def test_mostly_business_hours(rows: list[dict[str, str]]) -> None:
    stamps = [datetime.fromisoformat(r["started_at"]) for r in rows]
    assert sum(9 <= t.hour < 18 for t in stamps) / len(stamps) > 0.65
    weekday = sum(t.isoweekday() < 6 for t in stamps) / len(stamps)
    assert weekday > 5 / 7


# --- dirty rows --------------------------------------------------------------------------------


def test_dirty_fraction_and_kinds() -> None:
    got = list(generate(5000, seed=2, dirty=0.02))
    broken = [(r, problems(r)) for r in got if problems(r)]
    assert len(broken) == pytest.approx(100, abs=2)
    assert all(len(p) == 1 for _, p in broken)
    kinds = Counter(p[0] for _, p in broken)
    assert set(kinds) == {"channel", "first_response_s", "started_at", "csat", "boolean"}
    assert max(kinds.values()) - min(kinds.values()) <= 1
    values = {r["channel"] for r, p in broken if p == ["channel"]} | {
        r["started_at"] for r, p in broken if p == ["started_at"]}
    assert values == {"wechat", "2026-13-45 25:00"}


def test_clean_rows_do_not_depend_on_dirty() -> None:
    clean = list(generate(3000, seed=9, dirty=0))
    dirty = list(generate(3000, seed=9, dirty=0.01))
    assert not any(problems(r) for r in clean)
    differ = [i for i, (a, b) in enumerate(zip(clean, dirty)) if a != b]
    assert len(differ) == pytest.approx(30, abs=1)
    assert all(problems(dirty[i]) for i in differ)


@pytest.mark.parametrize("dirty", [0.03, 0.07, 0.37, 1.0])
def test_dirty_fraction_holds_for_any_period(dirty: float) -> None:
    got = list(generate(2000, seed=6, dirty=dirty))
    assert sum(bool(problems(r)) for r in got) == pytest.approx(2000 * dirty, abs=2)


@pytest.mark.parametrize("kw", [{"dirty": 1.5}, {"dirty": -0.1}, {"start": "April"}, {"months": 0}, {"agents": 0}])
def test_bad_arguments_refused_up_front(tmp_path: Path, kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate(10, **kw)  # type: ignore[arg-type]
    path = tmp_path / "never.csv"
    with pytest.raises(ValueError):
        synth.write_csv(path, 10, **kw)
    assert not path.exists()
    if "months" not in kw and "agents" not in kw:
        with pytest.raises(ValueError):
            generate_qa(10, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        generate(-1)
    with pytest.raises(TypeError):
        synth.write_csv(io.StringIO(), 10, colour="red")


# --- JSON Lines --------------------------------------------------------------------------------


def test_jsonl_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    assert synth.write_jsonl(path, 2000, seed=4, dirty=0.01) == 2000
    objs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(objs) == 2000 and all(tuple(o) == COLUMNS for o in objs)
    texts = list(generate(2000, seed=4, dirty=0.01))
    for o, t in zip(objs, texts):
        if problems(t):
            continue
        assert isinstance(o["resolved_first_contact"], bool) and isinstance(o["unauthorised_promise"], bool)
        assert o["csat"] is None or isinstance(o["csat"], int)
        assert o["nps"] is None or isinstance(o["nps"], int)
        assert o["first_response_s"] is None or isinstance(o["first_response_s"], int)
        assert (o["handle_time_s"] is None or isinstance(o["handle_time_s"], int)
                or (isinstance(o["handle_time_s"], str) and ":" in o["handle_time_s"]))
        assert o["transcript"] is None or o["transcript"] == t["transcript"]
    assert any(o["csat"] is None for o in objs) and any(o["transcript"] is None for o in objs)
    assert {o["channel"] for o in objs} >= {"wechat"}


# --- QA inspection forms -----------------------------------------------------------------------


def test_qa_basics(tmp_path: Path) -> None:
    got = list(generate_qa(600, seed=7, start="2026-04-01", dirty=0))
    assert len(got) == 600 and all(tuple(r) == QA_COLUMNS for r in got)
    ids = [r["interaction_id"] for r in got]
    assert len(set(ids)) == 600 and ids == sorted(ids)
    for k in ("greeting", "restated_need", "explained_clearly", "step_by_step", "positive_phrasing",
              "promise_beyond_authority"):
        assert {r[k] for r in got} == {"是", "否"}, k
    assert {r["empathy"] for r in got} == {"1", "2", "3", "4", "5"}
    assert {r["solution_options"] for r in got} == {"0", "1", "2", "3"}
    promises = sum(r["promise_beyond_authority"] == "是" for r in got)
    assert 0 < promises < 30
    days = [date.fromisoformat(r["inspected_on"]) for r in got]
    assert all(date(2026, 4, 1) <= d < date(2026, 5, 1) and d.isoweekday() < 6 for d in days)
    assert days == sorted(days)
    assert all(r["transcript"] for r in got)
    # the transcript agrees with the form
    for r in got:
        if r["positive_phrasing"] == "是":
            assert not any(p in r["transcript"] for p in FORBIDDEN_PHRASES)
        if r["step_by_step"] == "是":
            assert "首先" in r["transcript"]
    assert generate_qa.__name__ and list(generate_qa(50, seed=1)) == list(generate_qa(50, seed=1))
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert synth.write_qa_csv(a, 300) == 300
    synth.write_qa_csv(b, 300, seed=8)
    assert a.read_bytes() != b.read_bytes()
    assert a.read_text(encoding="utf-8").splitlines()[0] == ",".join(QA_COLUMNS)


def test_qa_dirty_rows() -> None:
    got = list(generate_qa(1000, seed=3, dirty=0.05))
    yes_no = ("greeting", "restated_need", "explained_clearly", "step_by_step", "positive_phrasing",
              "promise_beyond_authority")
    kinds: Counter[str] = Counter()
    for r in got:
        if r["channel"] not in synth.CHANNELS:
            kinds["channel"] += 1
        try:
            date.fromisoformat(r["inspected_on"])
        except ValueError:
            kinds["inspected_on"] += 1
        if not 1 <= int(r["empathy"]) <= 5:
            kinds["empathy"] += 1
        if not 0 <= int(r["solution_options"]) <= 3:
            kinds["solution_options"] += 1
        if any(r[k] not in ("是", "否") for k in yes_no):
            kinds["yes_no"] += 1
    assert set(kinds) == {"channel", "inspected_on", "empathy", "solution_options", "yes_no"}
    assert sum(kinds.values()) == pytest.approx(50, abs=2)


# --- command line and committed samples ----------------------------------------------------------


def test_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qualiscore.cli import cli

    runner = CliRunner()
    out = tmp_path / "cli.csv"
    result = runner.invoke(cli, ["synth", "cs", "-n", "300", "--seed", "5", "--months", "2", "--agents", "9",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = io.StringIO()
    synth.write_csv(expected, 300, seed=5, months=2, agents=9)
    assert out.read_text(encoding="utf-8") == expected.getvalue()
    assert "wrote 300 rows" in result.output
    result = runner.invoke(cli, ["synth", "qa", "-n", "20", "--format", "jsonl"])
    lines = result.output.splitlines()
    assert len(lines) == 20 and tuple(json.loads(lines[0])) == QA_COLUMNS
    assert runner.invoke(cli, ["synth", "qa", "-n", "20", "--months", "2"]).exit_code == 2


@pytest.mark.parametrize(("name", "kind", "n", "kw"), [
    ("interactions.csv", "cs", 3000, {"seed": 7, "start": "2026-04-01", "months": 3, "agents": 24, "dirty": 0.01}),
    ("interactions-q1q2.csv", "cs", 2000, {"seed": 7, "start": "2026-02-01", "months": 4, "agents": 12, "dirty": 0}),
    ("qa-inspections.csv", "qa", 300, {"seed": 7, "start": "2026-04-01", "dirty": 0.01}),
    ("qa-reviews.csv", "qa-reviews", 100, {"seed": 7, "start": "2026-04-01", "dirty": 0.01, "reviewers": 4}),
])
def test_committed_samples_are_reproducible(name: str, kind: str, n: int, kw: dict[str, object]) -> None:
    path = SAMPLE / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    buf = io.StringIO()
    writer = {"cs": synth.write_csv, "qa": synth.write_qa_csv, "qa-reviews": synth.write_qa_reviews_csv}[kind]
    writer(buf, n, **kw)
    assert path.read_bytes() == buf.getvalue().encode("utf-8")


# --- one run's four sources (cs-sources) ----------------------------------------------------------


def tables(n: int, **kw: object) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {t: [] for t in synth.SOURCE_TABLES}
    for table, row in synth.generate_sources(n, **kw):  # type: ignore[arg-type]
        out[table].append(row)
    return out


@pytest.fixture(scope="module")
def sources() -> dict[str, list[dict[str, str]]]:
    return tables(6000, seed=11, start="2026-07-01", months=3, agents=24, dirty=0)


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_sources_same_arguments_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts = synth.write_sources_csv(a, 2000, seed=3, months=2, dirty=0.02)
    assert synth.write_sources_csv(b, 2000, seed=3, months=2, dirty=0.02) == counts
    synth.write_sources_csv(c, 2000, seed=4, months=2, dirty=0.02)
    assert sorted(p.name for p in a.iterdir()) == sorted(f"{t}.csv" for t in synth.SOURCE_TABLES)
    for table in synth.SOURCE_TABLES:
        assert (a / f"{table}.csv").read_bytes() == (b / f"{table}.csv").read_bytes()
        assert (a / f"{table}.csv").read_bytes() != (c / f"{table}.csv").read_bytes()
        text = (a / f"{table}.csv").read_text(encoding="utf-8")
        assert text.startswith(",".join(synth.SOURCE_COLUMNS[table]) + "\n")
        assert len(text.splitlines()) == counts[table] + 1
    assert counts["interactions"] == 2000


def test_sources_interactions_are_the_cs_rows(sources: dict[str, list[dict[str, str]]]) -> None:
    cs = list(generate(6000, seed=11, start="2026-07-01", months=3, agents=24, dirty=0))
    columns = synth.SOURCE_COLUMNS["interactions"]
    assert sources["interactions"] == [{k: r[k] for k in columns} for r in cs]
    assert not {"csat", "nps", "complaint", "unauthorised_promise"} & set(columns)
    # the answers, complaints and QA findings moved to their own tables, where an interaction had them
    by_id = {r["interaction_id"]: r for r in cs}
    for s in sources["surveys"]:
        assert (s["csat"], s["nps"]) == (by_id[s["interaction_id"]]["csat"], by_id[s["interaction_id"]]["nps"])
    for q in sources["inspections"]:
        assert q["unauthorised_promise"] == by_id[q["interaction_id"]]["unauthorised_promise"]
        assert (q["forbidden_phrase"] == "true") == any(
            p in by_id[q["interaction_id"]]["transcript"] for p in FORBIDDEN_PHRASES)
    for c in sources["complaints"]:
        if c["interaction_id"]:
            assert by_id[c["interaction_id"]]["complaint"] == "true"
            assert by_id[c["interaction_id"]]["agent_id"] == c["agent_id"]


def test_sources_refer_to_earlier_interactions(sources: dict[str, list[dict[str, str]]]) -> None:
    started = {r["interaction_id"]: stamp(r["started_at"]) for r in sources["interactions"]}
    lo, hi = datetime.fromisoformat("2026-07-01T00:00:00+08:00"), datetime.fromisoformat("2026-10-01T00:00:00+08:00")
    for table, id_field, time_field in (("surveys", "survey_id", "answered_at"),
                                        ("inspections", "inspection_id", "inspected_at"),
                                        ("complaints", "ticket_id", "filed_at")):
        got = sources[table]
        ids = [r[id_field] for r in got]
        assert len(set(ids)) == len(ids) and ids == sorted(ids), table
        times = [stamp(r[time_field]) for r in got]
        assert times == sorted(times) and all(lo <= t < hi for t in times), table
        for r, t in zip(got, times):
            if r["interaction_id"]:
                assert started[r["interaction_id"]] < t, (table, r)
    assert len({r["interaction_id"] for r in sources["surveys"]}) == len(sources["surveys"])
    assert len({r["interaction_id"] for r in sources["inspections"]}) == len(sources["inspections"])
    # a complaint is sometimes filed in the month after its interaction
    later = [c for c in sources["complaints"] if c["interaction_id"]
             and stamp(c["filed_at"]).month != started[c["interaction_id"]].month]
    assert later


def test_sources_shapes(sources: dict[str, list[dict[str, str]]]) -> None:
    n = len(sources["interactions"])
    surveys, inspections, complaints = sources["surveys"], sources["inspections"], sources["complaints"]
    assert 0.25 < len(surveys) / n < 0.40
    assert all(s["csat"] or s["nps"] for s in surveys)
    assert {s["csat"] for s in surveys} == {"", "1", "2", "3", "4", "5"}
    assert {int(s["nps"]) for s in surveys if s["nps"]} <= set(range(11))
    assert 0.10 < len(inspections) / n < 0.20
    assert all(0 <= int(q["score"]) <= 100 for q in inspections)
    assert {q["reviewer_id"] for q in inspections} == {f"QA{k:02d}" for k in range(1, 7)}
    assert 0 < sum(q["unauthorised_promise"] == "true" for q in inspections) < 0.01 * len(inspections) + 10
    assert 0.005 < sum(q["forbidden_phrase"] == "true" for q in inspections) / len(inspections) < 0.15
    assert 0.01 < len(complaints) / n < 0.05
    assert {c["category"] for c in complaints} == set(synth.COMPLAINT_CATEGORIES)
    assert 0.1 < sum(not c["interaction_id"] for c in complaints) / len(complaints) < 0.35
    # skill shows in the inspection score: the agents with the fewest resolved contacts score lower
    scores: dict[str, list[int]] = {}
    agent_of = {r["interaction_id"]: r["agent_id"] for r in sources["interactions"]}
    for q in inspections:
        scores.setdefault(agent_of[q["interaction_id"]], []).append(int(q["score"]))
    mean = {a: sum(v) / len(v) for a, v in scores.items()}
    assert max(mean.values()) - min(mean.values()) > 10


def test_sources_dirty_rows() -> None:
    clean = tables(5000, seed=2, start="2026-07-01", months=2, agents=12, dirty=0)
    dirty = tables(5000, seed=2, start="2026-07-01", months=2, agents=12, dirty=0.03)
    known = {r["interaction_id"] for r in clean["interactions"]}
    for table in synth.SOURCE_TABLES:
        assert len(clean[table]) == len(dirty[table])
        differ = [(a, b) for a, b in zip(clean[table], dirty[table]) if a != b]
        # each dirty row breaks one field; the other rows are the clean rows
        assert len(differ) == pytest.approx(0.03 * len(clean[table]), abs=2), table
        assert all(sum(a[k] != b[k] for k in a) == 1 for a, b in differ), table
    # some surveys and inspections name an interaction no row has (rejected as lookup-unmatched)
    assert [b for b in dirty["surveys"] if b["interaction_id"] and b["interaction_id"] not in known]
    assert [b for b in dirty["inspections"] if b["interaction_id"] and b["interaction_id"] not in known]
    assert {b["channel"] for b in dirty["interactions"]} >= {"wechat"}
    assert any(b["csat"] == "7" for b in dirty["surveys"]) and any(b["score"] == "120" for b in dirty["inspections"])
    ids = [b["ticket_id"] for b in dirty["complaints"]]
    assert len(set(ids)) < len(ids) or "" in ids or any(not b["agent_id"] for b in dirty["complaints"])


def test_sources_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synth.generate_sources(10, months=0)
    with pytest.raises(ValueError):
        synth.write_sources_csv(tmp_path / "never", 10, dirty=2.0)
    assert not (tmp_path / "never").exists()
    with pytest.raises(TypeError):
        synth.write_sources_csv(tmp_path / "never", 10, colour="red")


def test_cli_cs_sources(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qualiscore.cli import cli

    runner = CliRunner()
    out = tmp_path / "q3"
    result = runner.invoke(cli, ["synth", "cs-sources", "-n", "400", "--seed", "5", "--start", "2026-07-01",
                                 "--months", "2", "--agents", "6", "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = tmp_path / "expected"
    counts = synth.write_sources_csv(expected, 400, seed=5, start="2026-07-01", months=2, agents=6)
    for table in synth.SOURCE_TABLES:
        assert (out / f"{table}.csv").read_bytes() == (expected / f"{table}.csv").read_bytes()
    assert f"wrote 400 interactions, {counts['surveys']} surveys" in result.output
    assert runner.invoke(cli, ["synth", "cs-sources", "-n", "10"]).exit_code == 2  # no directory
    assert runner.invoke(cli, ["synth", "cs-sources", "-n", "10", "--format", "jsonl", "-o", str(out)]).exit_code == 2


def test_committed_q3_sample_is_reproducible(tmp_path: Path) -> None:
    sample = SAMPLE / "q3"
    if not sample.exists():
        pytest.skip(f"{sample} not present")
    synth.write_sources_csv(tmp_path, 3000, seed=7, start="2026-07-01", months=3, agents=24, dirty=0.01)
    for table in synth.SOURCE_TABLES:
        assert (sample / f"{table}.csv").read_bytes() == (tmp_path / f"{table}.csv").read_bytes(), table
