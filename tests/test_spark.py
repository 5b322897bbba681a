"""The spark engine end to end: inputs as files, directories and globs, ids repeated across files, the
command line, verify --engine spark and the notebook entry point, each against the reference's bytes.

The golden cases and the differential suite run on Spark through the ``engine`` and ``compared``
fixtures (conftest, test_engine_differential); this module covers what only this engine has.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import NO_SPARK, Cli
from qualiscore.engine import evaluate
from qualiscore.manifest import render_outputs
from qualiscore.options import RunOptions
from qualiscore.schemes import load_scheme

pytestmark = [pytest.mark.spark, pytest.mark.skipif(NO_SPARK is not None, reason=str(NO_SPARK))]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAME = ("scorecards.jsonl", "scorecards.csv", "rejects.csv", "row-digests.bin")


def _split(tmp: Path, parts: int, *, edit: Any = None) -> list[Path]:
    """The sample interactions as ``parts`` CSV files in ``tmp``/parts, rows dealt in turn; ``edit(k, row)``
    may change a row."""
    with open(SAMPLE / "interactions.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    folder = tmp / "parts"
    folder.mkdir()
    paths = [folder / f"part-{k}.csv" for k in range(parts)]
    dealt: list[list[list[str]]] = [[rows[0]] for _ in paths]
    for k, row in enumerate(rows[1:]):
        dealt[k % parts].append(edit(k, row) if edit else row)
    for path, part in zip(paths, dealt):
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(part)
    return paths


def _outputs(engine: str, paths: list[str], **options: Any) -> dict[str, bytes]:
    run = evaluate(load_scheme(SCHEME), paths, RunOptions(engine=engine, **options))  # type: ignore[arg-type]
    return render_outputs(run)


def _assert_same(paths: list[str], given: list[str] | None = None) -> dict[str, bytes]:
    """The reference on ``paths``, Spark on ``given`` (the same files as a directory or glob): the same bytes."""
    ref = _outputs("rows", paths)
    got = _outputs("spark", given or paths)
    for name in SAME:
        assert got[name] == ref[name], name
    manifests = [json.loads(m["manifest.json"]) for m in (ref, got)]
    assert manifests[0]["inputs"] == manifests[1]["inputs"]
    return got


def test_directory_and_glob_read_as_the_files_they_hold(spark: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _split(tmp_path, 3)
    (tmp_path / "parts" / "_SUCCESS").write_text("")  # what Spark jobs leave beside their files: not an input
    files = [f"parts/part-{k}.csv" for k in range(3)]
    _assert_same(files, ["parts"])
    _assert_same(files, ["parts/*.csv"])
    _assert_same(files, ["parts/part-[0-2].csv"])


def test_ids_repeated_across_files_reject_every_occurrence(spark: Any, tmp_path: Path) -> None:
    """An id in two files (one of them a row rejected for another reason) is found by Spark and worded as the
    reference words it, naming the other file and row."""
    def edit(k: int, row: list[str]) -> list[str]:
        if k in (4, 9, 300):  # parts 1, 0, 0: one id three times across two files
            row[0] = "I-DUP"
        if k == 300:
            row[10] = "nine"  # also a bad csat
        if k in (7, 8):  # parts 1 and 2
            row[0] = "I-TWICE"
        return row

    paths = [str(p) for p in _split(tmp_path, 3, edit=edit)]
    got = _assert_same(paths)
    rejects = got["rejects.csv"].decode()
    assert rejects.count("I-DUP") >= 3 and "part-1.csv row" in rejects and "I-TWICE" in rejects


def test_files_read_as_bytes_through_spark(spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """How files on HDFS or S3 are read (Spark's binaryFile, a copy on the executor): here local files, sent the
    same way; ids across files and an empty file (for which Spark plans no task) included."""
    from qualiscore.engine.spark import engine

    monkeypatch.setattr(engine._Job, "read_in_place", False)

    def edit(k: int, row: list[str]) -> list[str]:
        row[0] = "I-DUP" if k in (4, 9) else row[0]
        return row

    paths = [str(p) for p in _split(tmp_path, 2, edit=edit)]
    assert "part-0.csv row" in _assert_same(paths)["rejects.csv"].decode()
    empty = tmp_path / "parts" / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(Exception, match="empty"):
        _outputs("spark", [*paths, str(empty)])


def test_empty_and_header_only_files(spark: Any, tmp_path: Path) -> None:
    paths = [str(p) for p in _split(tmp_path, 2)]
    empty, header = tmp_path / "parts" / "empty.csv", tmp_path / "parts" / "header.csv"
    empty.write_bytes(b"")
    header.write_text(Path(paths[0]).read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="empty") as refused:
        _outputs("spark", [*paths, str(empty)])
    with pytest.raises(type(refused.value), match="empty"):
        _outputs("rows", [*paths, str(empty)])
    _assert_same([*paths, str(header)])


def test_missing_input_is_refused_with_its_name(spark: Any, cli: Cli, tmp_path: Path) -> None:
    result = cli("evaluate", str(SCHEME), str(tmp_path / "nope"), "-o", str(tmp_path / "out"), "--engine", "spark")
    assert result.exit_code == 4, result.output
    assert "nope" in result.output and "file-not-found" in result.output
    result = cli("evaluate", str(SCHEME), str(tmp_path / "*.csv"), "-o", str(tmp_path / "out"), "--engine", "spark")
    assert result.exit_code == 4 and "names no readable records file" in result.output


def test_command_line_run_and_verify(spark: Any, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _split(tmp_path, 2)
    out = tmp_path / "out"
    result = cli("evaluate", str(SCHEME), "parts", "-o", str(out), "--engine", "spark", "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert "rows read 3000 = scored 2970 + rejected 30" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["engine"] == "spark" and manifest["options"]["data"] == ["parts"]
    assert [i["path"] for i in manifest["inputs"]] == ["parts/part-0.csv", "parts/part-1.csv"]
    ref = tmp_path / "ref"
    assert cli("evaluate", str(SCHEME), "parts/part-0.csv", "parts/part-1.csv", "-o", str(ref), "-q").exit_code == 0
    for name in SAME:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    for engine in ("rows", "spark"):
        result = cli("verify", str(out), "--engine", engine)
        assert result.exit_code == 0, result.output
    # An input changed after the run: the executors' hash says so, and nothing is recomputed.
    with open(tmp_path / "parts" / "part-1.csv", "a", encoding="utf-8") as f:
        f.write("I9999999,A001,T1,chat,2026-04-30T10:00:00+08:00,5,60,true,false,false,5,,ok,false\n")
    result = cli("verify", str(out), "--engine", "spark")
    assert result.exit_code == 11, result.output
    assert "parts/part-1.csv" in result.output


def test_spark_master_needs_the_spark_engine(cli: Cli, tmp_path: Path) -> None:
    result = cli("evaluate", str(SCHEME), str(SAMPLE / "interactions.csv"), "-o", str(tmp_path / "out"),
                 "--spark-master", "local[1]")
    assert result.exit_code == 2 and "--engine spark" in result.output


def test_several_sources_on_spark(spark: Any) -> None:
    q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
    data = {t: [str(SAMPLE / "q3" / f"{t}.csv")] for t in ("interactions", "surveys", "inspections", "complaints")}
    ref = render_outputs(evaluate(load_scheme(q3), data, RunOptions(engine="rows")))
    got = render_outputs(evaluate(load_scheme(q3), data, RunOptions(engine="spark")))
    for name in SAME:
        assert got[name] == ref[name], name


def test_library_scores_a_spark_dataframe(spark: Any, tmp_path: Path) -> None:
    from qualiscore.engine.spark import score

    frame = spark.read.option("header", True).csv(str(SAMPLE / "interactions.csv")).coalesce(2)
    result = score(SCHEME, frame, spark=spark, staging=str(tmp_path / "staging"))
    facts = result.result.summary
    assert (facts.rows_read, facts.rows_scored, facts.rows_rejected) == (3000, 2970, 30)
    assert result.scorecards.count() == 72 and result.rejects.count() >= 30
    assert {"subject", "score", "grade"} <= set(result.scorecards.columns)
    assert result.rejects.filter("source like '<dataframe>/part-%'").count() == result.rejects.count()
    out = result.write(tmp_path / "out")
    assert (out / "manifest.json").is_file() and (out / "scorecards.csv").read_bytes().count(b"\n") == 73
    # Paths are read as evaluate --engine spark reads them: the same scorecards as the reference.
    by_path = score(SCHEME, [str(SAMPLE / "interactions.csv")], spark=spark)
    ref = render_outputs(evaluate(load_scheme(SCHEME), [str(SAMPLE / "interactions.csv")], RunOptions()))
    assert render_outputs(by_path.result.run)["scorecards.csv"] == ref["scorecards.csv"]


def test_copy_of_sample_under_a_uri(spark: Any, tmp_path: Path) -> None:
    """A file:// URI is listed by Spark itself, as hdfs:// and s3a:// are, and named by its URI."""
    shutil.copy(SAMPLE / "interactions.csv", tmp_path / "interactions.csv")
    uri = f"file://{tmp_path}"
    run = evaluate(load_scheme(SCHEME), [uri], RunOptions(engine="spark"))
    assert [i.path for i in run.dataset.inputs] == [f"file:{tmp_path}/interactions.csv"]
    ref = evaluate(load_scheme(SCHEME), [str(SAMPLE / "interactions.csv")], RunOptions(engine="rows"))
    assert render_outputs(run)["scorecards.csv"] == render_outputs(ref)["scorecards.csv"]
    assert run.dataset.inputs[0].sha256 == ref.dataset.inputs[0].sha256


def test_a_failed_spark_job_is_an_error_with_a_hint(spark: Any, cli: Cli, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Spark itself failing (here: a file it cannot read as the listing said) is exit 21, not a traceback."""
    from qualiscore.engine.spark import engine

    path = tmp_path / "interactions.csv"
    shutil.copy(SAMPLE / "interactions.csv", path)
    monkeypatch.setattr(engine._Job, "read_in_place", False)
    real = engine._Job._files

    def vanishing(job: Any, wanted: Any) -> Any:
        files = real(job, wanted)
        path.unlink()  # gone between listing and reading
        return files

    monkeypatch.setattr(engine._Job, "_files", vanishing)
    result = cli("evaluate", str(SCHEME), str(path), "-o", str(tmp_path / "out"), "--engine", "spark")
    assert result.exit_code == 21, result.output
    assert "error[spark-job] the Spark job failed" in result.output and "hint:" in result.output
