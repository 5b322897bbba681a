"""runs.execute and runs.rerun: the one way to run a scheme, and to run a published one again."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

import qualiscore.engine
from qualiscore._install import install_hint
from qualiscore.errors import QualiscoreError, UsageError
from qualiscore.manifest import render_outputs
from qualiscore.model import RecordContract
from qualiscore.options import RejectLimit, RunOptions
from qualiscore.publish import write_outputs
from qualiscore.records import Dataset, records_from_dicts
from qualiscore.runs import execute, rerun
from qualiscore.schemes import load_scheme, load_versions

ROOT = Path(__file__).resolve().parents[1]
Q2 = "rules/cs-quality/2026Q2.yaml"
VERSIONS = "rules/cs-quality/"
HAS_POLARS = importlib.util.find_spec("polars") is not None


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory, with rules/, data/head.csv (300 April rows, 3 dirty)
    and data/q1q2.csv (every 10th row of interactions-q1q2.csv)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "data").mkdir()
    cs = (ROOT / "data/sample/interactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data/head.csv").write_text("".join(cs[:301]), encoding="utf-8")
    q = (ROOT / "data/sample/interactions-q1q2.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data/q1q2.csv").write_text(q[0] + "".join(q[1::10]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def options(**given: object) -> RunOptions:
    return RunOptions(**{"engine": "rows", "scheme_path": Q2, "data": ("data/head.csv",), **given})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- execute


def test_execute_records_the_options_and_the_engine_used(work: Path) -> None:
    opts = options(max_rejects=RejectLimit.parse("5"), formats=("xlsx",))
    run = execute(Q2, ["data/head.csv"], opts)
    assert run.options == opts.manifest_dict("rows")
    assert (run.rows_read, run.rows_rejected) == (300, 3)


@pytest.mark.skipif(not HAS_POLARS, reason="needs polars")
@pytest.mark.parametrize(("scheme", "data", "given"), [
    (Q2, "data/head.csv", {}),
    (Q2, "data/head.csv", {"by": ("team",)}),
    (VERSIONS, "data/q1q2.csv", {}),
    (VERSIONS, "data/q1q2.csv", {"as_of": dt.date(2026, 5, 1)}),
], ids=["single", "by-team", "versions", "as-of"])
def test_both_engines_give_the_same_outputs(work: Path, scheme: str, data: str, given: dict[str, object]) -> None:
    rows = execute(scheme, [data], options(scheme_path=scheme, data=(data,), **given))
    columnar = execute(scheme, [data], options(scheme_path=scheme, data=(data,), engine="columnar", **given))
    assert columnar.options["engine"] == "columnar" and rows.options["engine"] == "rows"
    a, b = render_outputs(rows), render_outputs(columnar)
    assert a.keys() == b.keys()
    for name in ("scorecards.jsonl", "scorecards.csv", "rejects.csv"):
        assert a[name] == b[name], name


def test_auto_is_columnar_when_polars_is_installed(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def engine_used(requested: str, progress: Bar | None = None) -> object:
        return execute(Q2, ["data/head.csv"], options(engine=requested), progress=progress).options["engine"]

    assert engine_used("rows") == "rows" and engine_used("rows", Bar()) == "rows"
    if HAS_POLARS:
        assert engine_used("columnar") == "columnar" and engine_used("columnar", Bar()) == "columnar"
    assert engine_used("auto") == engine_used("auto", Bar()) == ("columnar" if HAS_POLARS else "rows")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert engine_used("auto") == engine_used("auto", Bar()) == "rows"


def test_columnar_without_polars_is_a_usage_error(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(qualiscore.engine, "columnar", raising=False)
    monkeypatch.setitem(sys.modules, "qualiscore.engine.columnar", None)  # importing it fails
    with pytest.raises(UsageError, match=re.escape(f"--engine columnar needs polars: {install_hint('fast')}")):
        execute(Q2, ["data/head.csv"], options(engine="columnar"))


def test_execute_takes_a_path_a_scheme_or_versions_already_loaded(work: Path) -> None:
    from_path = execute(VERSIONS, ["data/q1q2.csv"], options())
    from_versions = execute(load_versions(VERSIONS), ["data/q1q2.csv"], options())
    assert render_outputs(from_path) == render_outputs(from_versions)
    one = load_scheme(Q2)
    assert render_outputs(execute(one, ["data/head.csv"], options())) == \
        render_outputs(execute(Q2, ["data/head.csv"], options()))


def test_execute_passes_every_reading_option(work: Path) -> None:
    text = (work / "data/head.csv").read_text(encoding="utf-8")
    (work / "data/head-gbk.csv").write_bytes(text.encode("gbk"))
    run = execute(Q2, ["data/head-gbk.csv"], options(encoding="gbk", by=("team",)))
    assert run.dataset.inputs[0].encoding == "gbk"
    assert run.group_by == ("team",)
    with pytest.raises(QualiscoreError):  # an encoding that does not fit the bytes
        execute(Q2, ["data/head-gbk.csv"], options(encoding="ascii"))


def test_records_in_hand_are_read_with_each_version_contract_by_the_reference_engine(work: Path) -> None:
    seen: list[RecordContract] = []

    def reader(contract: RecordContract) -> Dataset:
        seen.append(contract)
        return records_from_dicts([], contract, source="inline")

    run = execute(VERSIONS, reader, options(engine="columnar"))
    assert run.options["engine"] == "rows"
    # an unnamed input is read by the versions with one table (not 2026Q3, which reads several sources)
    assert len(seen) == len([v for v in load_versions(VERSIONS) if not v.sources]) == 2
    assert run.rows_read == 0


class Bar:
    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.done = 0

    def reset(self, total: int | None = None) -> None:
        self.totals.append(total)

    def update(self, n: int = 1) -> None:
        self.done += n


def test_progress_learns_the_total_then_every_record(work: Path) -> None:
    bar = Bar()
    run = execute(Q2, ["data/head.csv"], options(), progress=bar)
    assert bar.totals == [297] and bar.done == 297 == run.rows_scored


# --------------------------------------------------------------------------- rerun


def publish(run_options: RunOptions, out: str = "out") -> dict[str, object]:
    run = execute(run_options.scheme_path or Q2, list(run_options.data), run_options)
    write_outputs(render_outputs(run), out)
    return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))


def published(out: str = "out") -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(out).iterdir()}


@pytest.mark.parametrize("given", [
    {},
    {"by": ("team",)},
    {"max_rejects": RejectLimit.parse(" 10 ")},
    {"scheme_path": VERSIONS, "data": ("data/q1q2.csv",)},
    {"scheme_path": VERSIONS, "data": ("data/q1q2.csv",), "as_of": dt.date(2026, 4, 1)},
    pytest.param({"engine": "columnar"}, marks=pytest.mark.skipif(not HAS_POLARS, reason="needs polars")),
], ids=["plain", "by-team", "max-rejects", "versions", "as-of", "columnar"])
def test_rerun_renders_the_published_bytes(work: Path, given: dict[str, object]) -> None:
    manifest = publish(options(**given))
    again = rerun(manifest)
    assert again.options == manifest["options"]
    assert render_outputs(again) == published()


def test_rerun_resolves_relative_paths_against_base(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = publish(options())
    monkeypatch.chdir(work.parent)
    assert render_outputs(rerun(manifest, work)) == published(str(work / "out"))


def test_rerun_of_a_run_made_with_a_limit_of_an_older_grammar(work: Path) -> None:
    manifest = publish(options())
    manifest["options"] = {**manifest["options"], "max_rejects": "5 %"}  # type: ignore[dict-item]
    again = rerun(manifest)
    assert again.options["max_rejects"] == "5 %"


def test_rerun_of_a_damaged_option_is_an_error_not_a_crash(work: Path) -> None:
    manifest = publish(options())
    manifest["options"] = {**manifest["options"], "as_of": "someday"}  # type: ignore[dict-item]
    with pytest.raises(UsageError, match="options/as_of 'someday' is not a date"):
        rerun(manifest)


def test_rerun_without_scheme_path_uses_the_recorded_scheme(work: Path) -> None:
    manifest = publish(options())
    manifest["options"] = {k: v for k, v in manifest["options"].items() if k != "scheme_path"}  # type: ignore[union-attr]
    assert rerun(manifest).schemes[0].path == Q2
