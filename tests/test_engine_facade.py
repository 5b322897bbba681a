"""The engine façade and protocol: one evaluate for every source and engine, engines loaded by name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qualiscore.engine import (
    ENGINE_NAMES,
    Engine,
    Run,
    engine_named,
    evaluate,
    evaluate_versions,
    resolve_engine,
)
from qualiscore.engine.protocol import source_paths
from qualiscore.engine.rows import ENGINE, RowsEngine
from qualiscore.errors import UsageError
from qualiscore.model import Scheme
from qualiscore.options import RunOptions
from qualiscore.records import Dataset, read_records
from qualiscore.records.arrow import MEMORY, table_of
from qualiscore.schemes import load_scheme, load_versions
from qualiscore.scorecard import scorecard_dict

ROOT = Path(__file__).resolve().parent.parent
HAS_POLARS = importlib.util.find_spec("polars") is not None
needs_polars = pytest.mark.skipif(not HAS_POLARS, reason="needs polars (qualiscore[fast])")


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return load_scheme(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 300 sample rows, with a few that break the contract."""
    lines = (ROOT / "data" / "sample" / "interactions.csv").read_text(encoding="utf-8").splitlines()[:301]
    path = tmp_path_factory.mktemp("data") / "head.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dataset(scheme: Scheme, data: Path) -> Dataset:
    ds = read_records([data], scheme.records)
    assert ds.records and ds.problems
    return ds


def cards(run: Run) -> list[dict[str, Any]]:
    return [scorecard_dict(c) for c in run.scorecards]


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("form", ["str", "path", "list"])
def test_the_rows_engine_reads_paths(scheme: Scheme, data: Path, dataset: Dataset, form: str) -> None:
    source: Any = {"str": str(data), "path": data, "list": [data]}[form]
    run = ENGINE.evaluate([scheme], source, RunOptions(engine="rows"))
    legacy = evaluate(scheme, dataset)
    assert cards(run) == cards(legacy)
    assert run.problems == legacy.problems and run.dataset == legacy.dataset
    assert run.options == RunOptions(engine="rows").manifest_dict("rows")


def test_the_rows_engine_scores_a_dataset_as_it_is(scheme: Scheme, dataset: Dataset) -> None:
    run = ENGINE.evaluate([scheme], dataset, RunOptions())
    assert run.dataset is dataset
    assert cards(run) == cards(evaluate(scheme, dataset))


class ArrowOnly:
    """Arrow data with nothing but the PyCapsule stream, as another library hands it over."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._data.__arrow_c_stream__(requested_schema)


@needs_polars
@pytest.mark.parametrize("wrap", [False, True])
def test_the_rows_engine_reads_arrow_data(scheme: Scheme, dataset: Dataset, wrap: bool) -> None:
    from qualiscore._polars import pl

    frame = pl.DataFrame(list(dataset.records))
    assert frame.schema["started_at"] == pl.Datetime("us", "Asia/Shanghai")
    run = ENGINE.evaluate([scheme], ArrowOnly(frame) if wrap else frame, RunOptions(engine="rows"))
    assert cards(run) == cards(evaluate(scheme, dataset))
    assert [(i.path, i.sha256, i.format, i.rows_read) for i in run.dataset.inputs] == [
        (MEMORY, table_of(frame).sha256, "arrow", len(dataset.records))]


@needs_polars
def test_arrow_rows_are_typed_against_the_contract(scheme: Scheme) -> None:
    from qualiscore._polars import pl

    frame = pl.DataFrame({"interaction_id": ["I1"], "agent_id": ["A1"], "csat": [9]})
    run = ENGINE.evaluate([scheme], frame, RunOptions(engine="rows"))
    assert not run.scorecards
    assert {(p.source, p.row, p.field, p.code) for p in run.problems} >= {
        (MEMORY, 1, "csat", "above-maximum"), (MEMORY, 1, "channel", "missing-column")}


def test_source_paths() -> None:
    assert source_paths("a.csv") == ("a.csv",)
    assert source_paths(Path("a.csv")) == ("a.csv",)
    assert source_paths(["a.csv", Path("b.csv")]) == ("a.csv", "b.csv")
    assert source_paths(Dataset((), (), (), ())) is None
    assert source_paths(ArrowOnly(None)) is None


def test_the_rows_engine_needs_no_polars_for_paths_and_datasets(data: Path) -> None:
    code = f"""
import sys
sys.modules["polars"] = None  # importing polars now fails
from qualiscore.engine import evaluate
from qualiscore.options import RunOptions
from qualiscore.errors import UsageError
from qualiscore.records import read_records
from qualiscore.schemes import load_scheme
scheme = load_scheme({str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")!r})
run = evaluate(scheme, {str(data)!r}, RunOptions(engine="auto"))
same = evaluate(scheme, read_records([{str(data)!r}], scheme.records), RunOptions(engine="rows"))
assert run.scorecards == same.scorecards and run.options["engine"] == "rows"
class Arrow:
    def __arrow_c_stream__(self, requested_schema=None):
        raise AssertionError("not read")
try:
    evaluate(scheme, Arrow(), RunOptions(engine="rows"))
except UsageError as exc:
    print(exc.message)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "reading a table in memory needs polars" in out.stdout


# --------------------------------------------------------------------------- choosing the engine


def test_importing_the_engine_loads_no_engine() -> None:
    code = ("import sys, json; import qualiscore.engine; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('polars', 'qualiscore.engine.')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not any(m.startswith("polars") for m in loaded)
    assert "qualiscore.engine.rows" not in loaded and "qualiscore.engine.columnar" not in loaded


def test_the_reference_engine_never_loads_the_columnar_one(scheme: Scheme, data: Path) -> None:
    code = f"""
import sys
from qualiscore.engine import evaluate
from qualiscore.options import RunOptions
from qualiscore.schemes import load_scheme
evaluate(load_scheme({str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")!r}), {str(data)!r}, RunOptions(engine="rows"))
print("qualiscore.engine.columnar" in sys.modules, "polars" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_auto_is_columnar_when_polars_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ENGINE_NAMES == ("rows", "columnar", "spark")
    assert resolve_engine("rows") == "rows" and resolve_engine("columnar") == "columnar"
    assert resolve_engine("auto") == ("columnar" if HAS_POLARS else "rows")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert resolve_engine("auto") == "rows"


def test_an_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="there is no engine 'dask'") as err:
        engine_named("dask")
    assert err.value.hint == "choose from: auto, rows, columnar, spark"


@needs_polars
def test_engines_meet_the_protocol() -> None:
    from qualiscore.engine import columnar

    engines: list[Engine] = [engine_named(n) for n in ENGINE_NAMES]
    assert [e.name for e in engines] == list(ENGINE_NAMES)
    assert isinstance(engines[0], RowsEngine) and engines[0] is ENGINE
    assert isinstance(engines[1], columnar.ColumnarEngine) and engines[1] is columnar.ENGINE


@needs_polars
@pytest.mark.parametrize("engine", ["auto", "rows", "columnar"])
def test_every_engine_gives_the_same_run(scheme: Scheme, data: Path, engine: str) -> None:
    options = RunOptions(engine=engine, by=("team",), data=(str(data),))  # type: ignore[arg-type]
    run = evaluate(scheme, [data], options)
    reference = evaluate(scheme, read_records([data], scheme.records), by=["team"])
    assert cards(run) == cards(reference) and run.problems == reference.problems
    assert run.group_by == ("team",)
    assert run.options == options.manifest_dict(resolve_engine(engine))


def no_fallback(caplog: pytest.LogCaptureFixture) -> None:
    """The columnar engine answered itself: it did not hand the run to the reference code."""
    assert not [r.message for r in caplog.records if "reference code" in r.message]


@needs_polars
@pytest.mark.parametrize("by", [None, ("team",)])
def test_the_columnar_engine_scores_a_dataset_as_the_reference_does(
        scheme: Scheme, dataset: Dataset, by: tuple[str, ...] | None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    options = RunOptions(engine="columnar", by=by)
    run = evaluate(scheme, dataset, options)
    reference = evaluate(scheme, dataset, dataclasses.replace(options, engine="rows"))
    no_fallback(caplog)
    assert run.options == options.manifest_dict("columnar")
    assert run.dataset is dataset
    assert dataclasses.replace(run, options=reference.options) == reference


@needs_polars
@pytest.mark.parametrize("wrap", [False, True])
def test_the_columnar_engine_reads_arrow_data_as_the_reference_does(
        scheme: Scheme, dataset: Dataset, wrap: bool, caplog: pytest.LogCaptureFixture) -> None:
    from qualiscore._polars import pl

    caplog.set_level("INFO")
    frame = pl.DataFrame(list(dataset.records))
    run = engine_named("columnar").evaluate([scheme], ArrowOnly(frame) if wrap else frame, RunOptions())
    reference = ENGINE.evaluate([scheme], ArrowOnly(frame) if wrap else frame, RunOptions())
    no_fallback(caplog)
    assert run.options == RunOptions().manifest_dict("columnar")
    assert cards(run) == cards(reference) and run.problems == reference.problems
    assert dataclasses.replace(run.dataset, records=(), origins=()) == dataclasses.replace(
        reference.dataset, records=(), origins=())
    assert run.group_by == reference.group_by and run.schemes == reference.schemes


@needs_polars
def test_the_columnar_engine_routes_records_in_hand_as_the_reference_does(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    schemes = [s for s in load_versions(ROOT / "rules" / "cs-quality") if not s.sources]  # the one-table versions
    dataset = read_records([ROOT / "data" / "sample" / "interactions-q1q2.csv"], schemes[-1].records)
    run = evaluate(schemes, dataset, RunOptions(engine="columnar"))
    reference = evaluate(schemes, dataset, RunOptions(engine="rows"))
    no_fallback(caplog)
    assert {c.scheme_version for c in run.scorecards} == {"2026Q1", "2026Q2"}
    assert dataclasses.replace(run, options=reference.options) == reference


@needs_polars
def test_records_in_hand_not_typed_by_their_contract_go_to_the_reference(
        scheme: Scheme, dataset: Dataset, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    first = {**dataset.records[0], "handle_time_s": 300}  # an int where the contract types a duration as float
    odd = dataclasses.replace(dataset, records=(first, *dataset.records[1:]))
    run = evaluate(scheme, odd, RunOptions(engine="columnar"))
    assert [r.message for r in caplog.records if "reference code" in r.message]
    assert dataclasses.replace(run, options={}) == dataclasses.replace(
        evaluate(scheme, odd, RunOptions(engine="rows")), options={})


def test_versions_are_routed_and_as_of_chooses_one() -> None:
    schemes = load_versions(ROOT / "rules" / "cs-quality")
    path = ROOT / "data" / "sample" / "interactions-q1q2.csv"
    routed = evaluate(schemes, path, RunOptions(engine="rows"))
    assert {c.scheme_version for c in routed.scorecards} == {"2026Q1", "2026Q2"}
    assert [s.version for s in routed.schemes] == ["2026Q1", "2026Q2"]
    one = evaluate(schemes[::-1], path, RunOptions(engine="rows", as_of=dt.date(2026, 5, 1)))
    assert {c.scheme_version for c in one.scorecards} == {"2026Q2"}
    assert one.options["as_of"] == "2026-05-01"


# --------------------------------------------------------------------------- the forms callers used before


def test_without_options_it_is_the_reference_engine_with_by_alone(scheme: Scheme, dataset: Dataset) -> None:
    done: list[int] = []
    run = evaluate(scheme, dataset, by=["team"], progress=done.append)
    assert run.options == {"by": ["team"]} and run.group_by == ("team",)
    assert sum(done) == run.rows_scored == sum(c.records for c in run.scorecards)
    assert evaluate(scheme, dataset).options == {"by": None}


def test_by_goes_in_the_options_when_there_are_options(scheme: Scheme, dataset: Dataset) -> None:
    with pytest.raises(TypeError, match=r"RunOptions\.by"):
        evaluate(scheme, dataset, RunOptions(), by=["team"])


def test_evaluate_versions_keeps_its_form(scheme: Scheme, dataset: Dataset) -> None:
    run = evaluate_versions([scheme], lambda contract: dataset, by=None, as_of=dt.date(2026, 5, 1))
    assert run.options == {"by": None, "as_of": "2026-05-01"}
    assert dataclasses.replace(run, options={"by": None}) == evaluate(scheme, dataset)
