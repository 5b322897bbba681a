"""qualiscore.score: files or a table in memory in, frames, a summary and the output directory out.

The frames must be scorecards.csv and rejects.csv as written; a table must be typed as the
same table written to a Parquet file is; and every engine must give the same result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

import qualiscore as qs  # noqa: E402
from conftest import Cli, Engine  # noqa: E402
from qualiscore.analysis import Result  # noqa: E402
from qualiscore.errors import NothingScoredError, OutputError, QualiscoreError, UsageError  # noqa: E402
from qualiscore.manifest import read_manifest, render_outputs  # noqa: E402
from qualiscore.records.arrow import MEMORY, table_of  # noqa: E402
from qualiscore.verify import verify  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"
COMPARED = ("scorecards.jsonl", "scorecards.csv", "rejects.csv")


@pytest.fixture(scope="module")
def calls() -> Any:
    """The sample quarter as an analyst loads it: every column as text, as in the CSV."""
    return pl.read_csv(SAMPLE, infer_schema=False)


@pytest.fixture(scope="module")
def scheme() -> Any:
    return qs.load_scheme(SCHEME)


def outputs(result: Result) -> dict[str, bytes]:
    """The files a run renders, the engine's name left out so that engines compare."""
    run = dataclasses.replace(result.run, options={**result.run.options, "engine": None})
    return render_outputs(run)


# --------------------------------------------------------------------------- sources


def test_a_table_scores_as_its_file(scheme: Any, calls: Any) -> None:
    """The same rows give the same scorecards; rejects name the table's positions, one less than CSV rows."""
    table, files = qs.score(scheme, calls), qs.score(scheme, SAMPLE)
    assert table.run.scorecards == files.run.scorecards
    assert [(p.row + 1, p.field, p.code, p.value) for p in table.run.problems] == [
        (p.row, p.field, p.code, p.value) for p in files.run.problems]  # a CSV's header is its row 1
    assert {p.source for p in table.run.problems} == {MEMORY}
    (entry,) = table.run.dataset.inputs
    assert (entry.path, entry.format, entry.encoding, entry.rows_read, entry.sha256) == (
        MEMORY, "arrow", "", calls.height, table_of(calls).sha256)
    assert table.summary == files.summary
    assert table.run.rows_read == table.run.rows_scored + table.run.rows_rejected == 3000


def test_the_result_is_the_same_on_every_engine(engine: Engine, scheme: Any, calls: Any) -> None:
    got = qs.score(scheme, calls, engine=engine.name)  # type: ignore[arg-type]
    assert got.run.options["engine"] == engine.name
    assert outputs(got) == outputs(qs.score(scheme, calls, engine=engine.reference.name))  # type: ignore[arg-type]


def test_options_regroup_and_choose_the_version(calls: Any) -> None:
    by_team = qs.score(SCHEME, calls, by="team")
    assert by_team.run.group_by == ("team",) and by_team.scorecards_frame().columns[:3] == ["subject", "team", "period"]
    assert qs.score(SCHEME, calls, by=["team"]).run.scorecards == by_team.run.scorecards
    versions = qs.score(SCHEME.parent, pl.read_csv(ROOT / "data" / "sample" / "interactions-q1q2.csv",
                                                   infer_schema=False))
    assert {c.scheme_version for c in versions.scorecards} == {"2026Q1", "2026Q2"}
    q1 = qs.score(SCHEME.parent, calls, as_of=dt.date(2026, 2, 1))
    assert {c.scheme_version for c in q1.scorecards} == {"2026Q1"}


class ArrowOnly:
    """Arrow data with nothing but the PyCapsule stream, as another library hands it over."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._data.__arrow_c_stream__(requested_schema)


def forms(frame: Any) -> dict[str, Any]:
    """The same table in every form a caller may hand over (pyarrow and pandas when installed)."""
    out: dict[str, Any] = {"polars": frame, "lazy": frame.lazy(), "capsule": ArrowOnly(frame)}
    try:
        import pyarrow as pa
    except ImportError:
        return out
    table = pa.table(frame.to_arrow())
    out.update({"pyarrow-table": table, "pyarrow-batch": table.combine_chunks().to_batches()[0],
                "pyarrow-reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches())})
    try:
        import pandas  # noqa: F401
    except ImportError:
        return out
    out["pandas"] = table.to_pandas()
    return out


@pytest.mark.parametrize("form", ["polars", "lazy", "capsule", "pyarrow-table", "pyarrow-batch", "pyarrow-reader",
                                  "pandas"])
def test_every_form_of_a_table_gives_the_same_result(scheme: Any, calls: Any, form: str) -> None:
    head = calls.head(400)
    given_form = forms(head).get(form)
    if given_form is None:
        pytest.skip(f"{form} needs a package that is not installed")
    got, expected = outputs(qs.score(scheme, given_form)), outputs(qs.score(scheme, head))
    assert {name: got[name] for name in COMPARED} == {name: expected[name] for name in COMPARED}


def test_a_typed_table_follows_the_contract_of_files(scheme: Any, tmp_path: Path) -> None:
    """Typed timestamps (aware and naive), booleans, integers as text, nulls: as the Parquet file of the same table."""
    zone = "Asia/Shanghai"
    frame = pl.DataFrame({
        "interaction_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
        "agent_id": ["A1", "A1", "A1", "A2", "A2", None],
        "team": ["T1"] * 6,
        "channel": ["chat", "phone", "email", "chat", "fax", "chat"],
        "started_at": pl.Series([dt.datetime(2026, 4, 1, 9), dt.datetime(2026, 4, 2, 10), None,
                                 dt.datetime(2026, 4, 3, 11), dt.datetime(2026, 4, 4, 12),
                                 dt.datetime(2026, 4, 5, 13)]).dt.replace_time_zone(zone),
        "first_response_s": [10, None, 20, -1, 5, 5],
        "handle_time_s": ["00:02:00", "90", None, "60", "60", "60"],
        "resolved_first_contact": [True, False, True, None, True, True],
        "repeat_contact_7d": [False] * 6,
        "complaint": [False] * 6,
        "csat": ["4", "5", "x", "3", None, "9"],
        "nps": [9, None, 7, 10, 0, 5],
        "transcript": [None, "hello", "", "不清楚", "ok", "ok"],
        "unauthorised_promise": [False, True, False, False, False, False],
    })
    naive = frame.with_columns(pl.col("started_at").dt.replace_time_zone(None))  # read in the contract's zone
    frame.write_parquet(tmp_path / "calls.parquet")
    from_file = qs.score(scheme, tmp_path / "calls.parquet", engine="rows")
    for table in (frame, naive):
        for engine in ("rows", "columnar"):
            got = qs.score(scheme, table, engine=engine)  # type: ignore[arg-type]
            assert got.run.scorecards == from_file.run.scorecards
            assert [dataclasses.replace(p, source="") for p in got.run.problems] == [
                dataclasses.replace(p, source="") for p in from_file.run.problems]
            assert got.run.rows_read == got.run.rows_scored + got.run.rows_rejected == 6
    assert {(p.row, p.field, p.code) for p in from_file.run.problems} == {
        (3, "started_at", "missing-value"), (3, "csat", "not-integer"), (4, "first_response_s", "below-minimum"),
        (4, "resolved_first_contact", "missing-value"), (5, "channel", "not-in-enum"), (6, "agent_id", "missing-value"),
        (6, "csat", "above-maximum")}  # row numbers: 1-based positions in the table


def test_columns_are_matched_as_in_a_parquet_file(scheme: Any, calls: Any) -> None:
    """A header with spaces is matched trimmed; a missing nullable column is noted, a required one rejects."""
    spaced = calls.head(50).rename({"team": " team "}).drop("nps", "channel")
    got = qs.score(scheme, spaced)
    assert (MEMORY, "nps") in got.run.dataset.missing_columns
    assert {p.code for p in got.run.problems if p.field == "channel"} == {"missing-column"}
    assert not [p for p in got.run.problems if p.field == "team"]
    with pytest.raises(NothingScoredError, match="'channel'"):
        got.write(Path("unused"))


# --------------------------------------------------------------------------- frames are the CSV outputs


def test_the_frames_are_the_csv_files_written(scheme: Any, calls: Any, tmp_path: Path) -> None:
    result = qs.score(scheme, calls, by="team")
    out = result.write(tmp_path / "out")
    cards, rejects = result.scorecards_frame(), result.rejects_frame()
    assert cards.height == len(result.scorecards) and rejects.height == len(result.run.problems)
    assert cards.equals(pl.read_csv(out / "scorecards.csv", schema=cards.schema))
    assert rejects.equals(pl.read_csv(out / "rejects.csv", schema=rejects.schema))
    assert cards.schema["records"] == pl.Int64 and cards.schema["score"] == pl.Float64
    assert rejects.schema["row"] == pl.Int64 and set(rejects["source"]) == {MEMORY}


def test_the_outputs_are_the_command_lines(cli: Cli, tmp_path: Path) -> None:
    """Files scored by the library and written are the bytes `qualiscore evaluate` writes, the manifest included."""
    cli("evaluate", str(SCHEME), str(SAMPLE), "-o", str(tmp_path / "cli"), "-q", "--engine", "rows")
    written = qs.score(str(SCHEME), [str(SAMPLE)], engine="rows").write(tmp_path / "lib")
    for name in (*COMPARED, "row-digests.bin", "manifest.json"):
        assert (written / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_indicator_values_are_typed_by_the_values(calls: Any) -> None:
    """Numbers are numbers, booleans booleans; text stays the CSV's text (an id such as 007 is not 7)."""
    from qualiscore.analysis import _typed

    frame = qs.score(SCHEME, calls.head(200)).scorecards_frame()
    assert frame.schema["csat.value"] == pl.Float64 and frame.schema["csat.points"] == pl.Float64
    texts = pl.DataFrame({"a": ["true", None, "false"], "b": ["3", "-2", None], "c": ["007", "x", None]},
                         schema=dict.fromkeys("abc", pl.String))
    typed = texts.select(_typed(pl, "a", [True, None, False]), _typed(pl, "b", [3, -2, None]),
                         _typed(pl, "c", ["007", "x", None]))
    assert typed.to_dict(as_series=False) == {"a": [True, None, False], "b": [3, -2, None], "c": ["007", "x", None]}


# --------------------------------------------------------------------------- write, verify, explain


def test_write_records_a_table_and_verify_says_it_cannot_be_read_again(cli: Cli, calls: Any,
                                                                       tmp_path: Path) -> None:
    result = qs.score(SCHEME, calls)
    out = result.write(tmp_path / "out")
    (entry,) = read_manifest(out)["inputs"]
    assert entry == {"path": MEMORY, "sha256": table_of(calls).sha256, "format": "arrow", "encoding": "",
                     "rows_read": 3000, "rows_rejected": 30}
    report = verify(out)
    assert [d.kind for d in report.discrepancies] == ["input-in-memory"] and not report.recomputed
    assert report.exit_code == 11
    assert {(c.check, c.result) for c in report.checks if c.item == MEMORY} == {("input SHA-256", "not checked")}
    assert all(c.result == "pass" for c in report.checks if c.check == "output SHA-256")
    shown = cli("verify", str(out))
    assert shown.exit_code == 11 and "Traceback" not in shown.output
    assert "input-in-memory: input <memory> was a table in memory (3000 rows" in shown.output
    assert "save the table first" in shown.output
    assert "(not recomputed: an input was a table in memory, which no file holds)" in shown.output
    assert cli("explain", str(out), "--subject", "A001/2026-04").exit_code == 0


def test_a_run_of_files_written_by_the_library_verifies(tmp_path: Path) -> None:
    out = qs.score(str(SCHEME), str(SAMPLE)).write(tmp_path / "out", formats=["parquet"])
    assert "scorecards.parquet" in read_manifest(out)["outputs"]
    report = verify(out)
    assert report.ok and report.recomputed, report.discrepancies


def test_write_publishes_atomically_and_only_over_a_run(calls: Any, tmp_path: Path) -> None:
    result = qs.score(SCHEME, calls.head(100))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError):
        result.write(other)
    assert (other / "mine.txt").read_text(encoding="utf-8") == "keep"
    out = result.write(tmp_path / "out")
    assert result.write(out) == out  # an earlier run's output is replaced


def test_explain_shows_one_scorecard(calls: Any, cli: Cli) -> None:
    result = qs.score(str(SCHEME), str(SAMPLE), engine="rows")
    text = result.explain("A001/2026-04")
    shown = cli("explain", str(SCHEME), str(SAMPLE), "--subject", "A001/2026-04")
    assert text == shown.output
    with pytest.raises(UsageError, match="no scorecard for subject 'A001/2026-13'") as caught:
        result.explain("A001/2026-13")
    assert "'A001/2026-06'" in (caught.value.hint or "")


def test_the_summary_is_what_evaluate_prints(calls: Any) -> None:
    summary = qs.score(SCHEME, calls).summary
    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected, summary.scorecards) == (3000, 2970, 30, 72)
    assert list(summary.grades) == ["优秀", "良好", "合格", "不合格"]
    assert str(summary).splitlines()[:2] == ["rows read 3000 = scored 2970 + rejected 30",
                                             "72 scorecard(s) by cs-quality 2026Q2: 优秀 5, 良好 21, 合格 11, 不合格 35"]


# --------------------------------------------------------------------------- refusals


def test_what_is_not_a_source_is_refused(scheme: Any, calls: Any) -> None:
    with pytest.raises(UsageError, match=r"reads one table \(records:\), so its input is not named"):
        qs.score(scheme, {"interaction_id": ["I1"]})
    with pytest.raises(UsageError, match="apply to input files"):
        qs.score(scheme, calls, encoding="gbk")


def test_without_polars_files_score_and_frames_say_what_to_install() -> None:
    code = f"""
import sys
sys.modules["polars"] = None  # importing polars now fails
import qualiscore as qs
from qualiscore.errors import UsageError
result = qs.score({str(SCHEME)!r}, {str(SAMPLE)!r})
assert result.run.options["engine"] == "rows" and result.summary.rows_read == 3000
for call in (result.scorecards_frame, result.rejects_frame, lambda: qs.score({str(SCHEME)!r}, Table())):
    try:
        call()
    except UsageError as exc:
        print(exc.message, exc.hint)
"""
    code = code.replace("Table()", "type('T', (), {'__arrow_c_stream__': lambda self, schema=None: None})()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and all("pip install" in line for line in lines), lines
    assert "data frames of a result need polars" in lines[0] and "a table in memory needs polars" in lines[2]


def test_importing_qualiscore_and_naming_score_loads_no_polars() -> None:
    code = ("import sys, json, qualiscore; qualiscore.score; qualiscore.Result; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('polars'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


# --------------------------------------------------------------------------- small random tables on both engines

CELLS = st.one_of(st.none(), st.sampled_from(["", " ", "x", "4", "-1", "1e3", "true", "no", "2026-04-02 10:00"]))


@st.composite
def tables(draw: st.DrawFn) -> Any:
    """A few rows of the sample contract's columns, typed or as text, with nulls and dirty cells."""
    n = draw(st.integers(0, 12))
    column: dict[str, Any] = {
        "interaction_id": draw(st.lists(st.sampled_from(["I1", "I2", "I3", "I4", "I5", "I6", "I7", None]),
                                        min_size=n, max_size=n)),
        "agent_id": draw(st.lists(st.sampled_from(["A1", "A2", "A3"]), min_size=n, max_size=n)),
        "team": ["T1"] * n,
        "channel": draw(st.lists(st.sampled_from(["chat", "phone", "email", "fax", None]), min_size=n, max_size=n)),
        "repeat_contact_7d": [False] * n,
        "complaint": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "unauthorised_promise": draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=n, max_size=n)),
    }
    days = draw(st.lists(st.one_of(st.none(), st.integers(0, 80)), min_size=n, max_size=n))
    stamps = [None if d is None else dt.datetime(2026, 4, 1, 8) + dt.timedelta(days=d, minutes=7 * d) for d in days]
    typed = draw(st.booleans())
    column["started_at"] = pl.Series(stamps, dtype=pl.Datetime("us")) if typed else \
        [None if s is None else s.isoformat() + "+08:00" for s in stamps]
    numbers = st.one_of(st.none(), st.integers(-2, 12))
    for name in ("csat", "nps", "first_response_s"):
        if draw(st.booleans()):
            column[name] = pl.Series(draw(st.lists(numbers, min_size=n, max_size=n)), dtype=pl.Int64)
        else:
            column[name] = draw(st.lists(CELLS, min_size=n, max_size=n))
    column["resolved_first_contact"] = draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=n, max_size=n)) \
        if draw(st.booleans()) else draw(st.lists(CELLS, min_size=n, max_size=n))
    column["handle_time_s"] = draw(st.lists(CELLS, min_size=n, max_size=n))
    column["transcript"] = draw(st.lists(st.sampled_from([None, "", "不清楚", "您好"]), min_size=n, max_size=n))
    return pl.DataFrame({name: (pl.Series(values, dtype=pl.String) if isinstance(values, list)
                                and all(v is None or isinstance(v, str) for v in values) else values)
                         for name, values in column.items()})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(frame=tables())
def test_small_tables_give_the_same_outputs_on_both_engines_and_as_parquet(frame: Any, scheme: Any,
                                                                          tmp_path: Path) -> None:
    results = []
    for engine in ("rows", "columnar"):
        try:
            results.append(outputs(qs.score(scheme, frame, engine=engine)))  # type: ignore[arg-type]
        except QualiscoreError as exc:
            results.append({"error": type(exc).__name__.encode()})
    assert results[0] == results[1]
    if "error" not in results[0]:
        path = tmp_path / "t.parquet"
        frame.write_parquet(path)
        from_file = outputs(qs.score(scheme, path, engine="rows"))
        assert from_file["scorecards.jsonl"] == results[0]["scorecards.jsonl"]
        assert from_file["rejects.csv"].replace(str(path).encode(), MEMORY.encode()) == results[0]["rejects.csv"]
