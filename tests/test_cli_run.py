"""`qualiscore evaluate` and `qualiscore explain` end to end, through click's CliRunner.

Every test works in its own copy of rules/ and of small slices of data/sample/ under
tmp_path (the current directory during the test), so the relative paths recorded in
the manifest are those a user would see, and nothing in the repository is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Cli
from qualiscore import __version__

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SAMPLE = ROOT / "data" / "sample"

Q2 = "rules/cs-quality/2026Q2.yaml"
VERSIONS = "rules/cs-quality/"
OUTPUTS = ("scorecards.jsonl", "scorecards.csv", "rejects.csv", "row-digests.bin", "manifest.json")
SUMMARY = re.compile(r"^rows read (\d+) = scored (\d+) \+ rejected (\d+)$", re.M)


# --------------------------------------------------------------------------- helpers


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_rows(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((header + "".join(rows)).encode(encoding))
    return path


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory, with rules/ and data slices:

    data/head.csv    the first 300 rows of interactions.csv (April; 3 dirty rows)
    data/spread.csv  every 10th row of interactions.csv (300 rows, April–June; 4 dirty rows)
    data/q1q2.csv    every 5th row of interactions-q1q2.csv (400 rows, February–May; clean)
    """
    shutil.copytree(RULES, tmp_path / "rules")
    cs = lines_of(SAMPLE / "interactions.csv")
    q = lines_of(SAMPLE / "interactions-q1q2.csv")
    write_rows(tmp_path / "data" / "head.csv", cs[0], cs[1:301])
    write_rows(tmp_path / "data" / "spread.csv", cs[0], cs[1::10])
    write_rows(tmp_path / "data" / "q1q2.csv", q[0], q[1::5])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def shuffled_copy(src: Path, dst: Path, seed: int = 20260401) -> Path:
    lines = lines_of(src)
    body = lines[1:]
    random.Random(seed).shuffle(body)
    assert body != lines[1:]
    return write_rows(dst, lines[0], body)


def evaluate(cli: Cli, scheme: str, data: str | list[str], out: str, *extra: str) -> Result:
    files = [data] if isinstance(data, str) else data
    result = cli("evaluate", scheme, *files, "-o", out, *extra)
    assert result.exit_code == 0, result.output
    return result


def manifest(out: str | Path) -> dict:
    return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))


def cards(out: str | Path) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]


def csv_rows(path: str | Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def summary_counts(output: str) -> tuple[int, int, int]:
    m = SUMMARY.search(output)
    assert m, output
    return int(m[1]), int(m[2]), int(m[3])


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith((f".{name}.tmp-", f".{name}.old-")))


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


# --------------------------------------------------------------------------- evaluate: a plain run


def test_evaluate_prints_reconciled_counts_and_writes_its_files(cli: Cli, work: Path) -> None:
    result = evaluate(cli, Q2, "data/head.csv", "out")
    read, scored, rejected = summary_counts(result.output)
    assert read == scored + rejected
    assert (read, rejected) == (300, 3)  # the first 300 sample rows hold 3 dirty ones
    for name in OUTPUTS:
        assert (work / "out" / name).is_file(), name
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(OUTPUTS)
    assert "rejects:" in result.output and "manifest:" in result.output


def test_evaluate_prints_the_grade_distribution(cli: Cli, work: Path) -> None:
    result = evaluate(cli, Q2, "data/spread.csv", "out")
    m = re.search(r"^(\d+) scorecard\(s\) by cs-quality 2026Q2: (.+)$", result.output, re.M)
    assert m, result.output
    printed = {name: int(n) for name, n in (part.rsplit(" ", 1) for part in m[2].split(", "))}
    from_csv = Counter(row["grade"] for row in csv_rows(work / "out" / "scorecards.csv"))
    assert printed == dict(from_csv)
    assert sum(printed.values()) == int(m[1]) == len(cards("out"))
    assert manifest("out")["grades"] == printed
    # in the order of the scheme's grades, best first
    order = ["优秀", "良好", "合格", "不合格"]
    assert list(printed) == [g for g in order if g in printed]


def test_manifest_pins_scheme_inputs_counts_and_outputs(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    m = manifest("out")
    assert m["format"] == "qualiscore-run/v1"
    assert m["engine"]["name"] == "qualiscore" and m["engine"]["version"] == __version__

    (scheme,) = m["schemes"]
    assert scheme["path"] == Q2
    assert scheme["sha256"] == sha256(Q2)
    assert (scheme["id"], scheme["version"]) == ("cs-quality", "2026Q2")
    assert (scheme["effective_from"], scheme["effective_to"]) == ("2026-04-01", "2026-06-30")

    (inp,) = m["inputs"]
    assert inp["path"] == "data/head.csv"
    assert inp["sha256"] == sha256("data/head.csv")
    assert inp["format"] == "csv" and inp["encoding"] == "utf-8"
    assert (inp["rows_read"], inp["rows_rejected"]) == (300, 3)

    rows = m["rows"]
    assert rows["read"] == rows["scored"] + rows["rejected"]
    assert (rows["read"], rows["rejected"]) == (300, 3)
    assert scheme["scorecards"] == m["subjects"] == len(cards("out"))
    assert sum(c["records"] for c in cards("out")) == rows["scored"]

    assert set(m["outputs"]) == {"scorecards.jsonl", "scorecards.csv", "rejects.csv", "row-digests.bin"}
    for name, digest in m["outputs"].items():
        assert sha256(work / "out" / name) == digest, name
    assert m["group_by"] == ["agent_id"]
    assert m["options"]["scheme_path"] == Q2 and m["options"]["data"] == ["data/head.csv"]


def test_rejects_csv_has_one_line_per_problem_with_its_row(cli: Cli, work: Path) -> None:
    head = lines_of(work / "data" / "head.csv")
    cells = head[5].rstrip("\n").split(",")
    cells[3], cells[10] = "wechat", "7"  # one row, two problems: channel and csat
    head[5] = ",".join(cells) + "\n"
    write_rows(work / "data" / "two.csv", head[0], head[1:])

    result = evaluate(cli, Q2, "data/two.csv", "out")
    read, scored, rejected = summary_counts(result.output)
    assert (read, scored, rejected) == (300, 296, 4)  # 3 dirty rows + the doubly broken one

    problems = csv_rows(work / "out" / "rejects.csv")
    assert len(problems) == 5  # one line per problem, not per row
    assert {(p["row"], p["field"]) for p in problems} >= {("6", "channel"), ("6", "csat")}
    assert len({p["row"] for p in problems}) == rejected == manifest("out")["rows"]["rejected"]
    source = lines_of(work / "data" / "two.csv")
    for p in problems:
        assert p["source"] == "data/two.csv"
        # row numbers count the header as row 1: the row is that line of the file
        assert source[int(p["row"]) - 1].startswith(p["record_id"] + ","), p
        assert p["code"] and p["reason"]
    assert [int(p["row"]) for p in problems] == sorted(int(p["row"]) for p in problems)


# --------------------------------------------------------------------------- evaluate: determinism


def test_two_runs_write_byte_identical_outputs(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/spread.csv", "out1")
    evaluate(cli, Q2, "data/spread.csv", "out2")
    assert snapshot(work / "out1") == snapshot(work / "out2")


@pytest.mark.parametrize(
    ("scheme", "data", "extra"),
    [
        (Q2, "data/head.csv", []),
        (Q2, "data/spread.csv", []),
        (Q2, "data/spread.csv", ["--by", "team"]),
        (VERSIONS, "data/q1q2.csv", []),
    ],
    ids=["head", "spread", "by-team", "versions"],
)
def test_shuffled_rows_give_byte_identical_scorecards(cli: Cli, work: Path, scheme: str, data: str, extra: list[str]) -> None:
    shuffled_copy(work / data, work / "data" / "shuffled.csv")
    evaluate(cli, scheme, data, "sorted", *extra)
    evaluate(cli, scheme, "data/shuffled.csv", "shuffled", *extra)
    # the inputs' own sha256 differ (other bytes), so only the scorecards are compared
    for name in ("scorecards.jsonl", "scorecards.csv"):
        assert (work / "sorted" / name).read_bytes() == (work / "shuffled" / name).read_bytes(), name
    assert manifest("sorted")["rows"] == manifest("shuffled")["rows"]


# --------------------------------------------------------------------------- evaluate: grouping and versions


def test_by_team_gives_one_scorecard_per_team_and_month(cli: Cli, work: Path) -> None:
    result = evaluate(cli, Q2, "data/spread.csv", "out", "--by", "team")
    _, scored, _ = summary_counts(result.output)
    rejected_rows = {p["row"] for p in csv_rows(work / "out" / "rejects.csv")}
    expected: Counter[str] = Counter()
    for i, row in enumerate(csv_rows(work / "data" / "spread.csv"), start=2):
        if str(i) not in rejected_rows:
            expected[f"{row['team']}/{row['started_at'][:7]}"] += 1

    got = cards("out")
    assert [c["subject"] for c in got] == sorted(expected)  # one per team and month, sorted
    assert len({c["subject"] for c in got}) == len(got) == 18  # 6 teams × 3 months
    for c in got:
        team, period = c["subject"].split("/")
        assert c["keys"] == {"team": team} and c["period"] == period
        assert c["records"] == expected[c["subject"]]
    assert sum(c["records"] for c in got) == scored
    m = manifest("out")
    assert m["group_by"] == ["team"] and m["options"]["by"] == ["team"]
    header = (work / "out" / "scorecards.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["subject", "team", "period"]


def test_directory_of_versions_routes_each_month_to_the_version_in_force(cli: Cli, work: Path) -> None:
    shutil.copy(SAMPLE / "interactions-q1q2.csv", work / "data" / "interactions-q1q2.csv")
    result = evaluate(cli, VERSIONS, "data/interactions-q1q2.csv", "out")
    read, scored, rejected = summary_counts(result.output)
    assert (read, scored, rejected) == (2000, 2000, 0)
    assert "by cs-quality 2026Q1, cs-quality 2026Q2:" in result.output

    got = cards("out")
    m = manifest("out")
    versions = {s["version"]: s for s in m["schemes"]}
    assert list(versions) == ["2026Q1", "2026Q2"]
    per_version = Counter(c["scheme"]["version"] for c in got)
    for v, s in versions.items():
        assert s["path"] == f"rules/cs-quality/{v}.yaml"
        assert s["sha256"] == sha256(s["path"])
        assert s["scorecards"] == per_version[v] > 0
    assert sum(s["scorecards"] for s in m["schemes"]) == m["subjects"] == len(got)

    expected = {"2026-02": "2026Q1", "2026-03": "2026Q1", "2026-04": "2026Q2", "2026-05": "2026Q2"}
    assert {c["period"] for c in got} == set(expected)
    for c in got:
        assert c["scheme"]["version"] == expected[c["period"]], c["subject"]
        assert c["scheme"]["sha256"] == versions[c["scheme"]["version"]]["sha256"]
    for row in csv_rows(work / "out" / "scorecards.csv"):
        assert row["scheme_version"] == expected[row["period"]], row["subject"]


def test_as_of_uses_one_version_for_every_record(cli: Cli, work: Path) -> None:
    evaluate(cli, VERSIONS, "data/q1q2.csv", "out", "--as-of", "2026-05-01")
    got = cards("out")
    assert {c["period"] for c in got} == {"2026-02", "2026-03", "2026-04", "2026-05"}
    assert {c["scheme"]["version"] for c in got} == {"2026Q2"}
    m = manifest("out")
    assert [(s["version"], s["scorecards"]) for s in m["schemes"]] == [("2026Q2", len(got))]
    assert m["options"]["as_of"] == "2026-05-01"


@pytest.mark.parametrize("day", ["2025-12-31", "2026-07-01"])
def test_as_of_a_date_no_version_covers_exits_2(cli: Cli, work: Path, day: str) -> None:
    result = cli("evaluate", VERSIONS, "data/q1q2.csv", "-o", "out", "--as-of", day)
    assert result.exit_code == 2, result.output
    assert f"no version is in force on {day}" in result.output
    assert "2026Q1" in result.output and "2026Q2" in result.output  # the hint lists the versions
    assert not (work / "out").exists()


def test_as_of_in_a_wrong_format_exits_2(cli: Cli, work: Path) -> None:
    result = cli("evaluate", VERSIONS, "data/q1q2.csv", "-o", "out", "--as-of", "2026/05/01")
    assert result.exit_code == 2, result.output
    assert not (work / "out").exists()


# --------------------------------------------------------------------------- evaluate: --max-rejects


def test_max_rejects_exceeded_exits_5_and_creates_nothing(cli: Cli, work: Path) -> None:
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--max-rejects", "0")
    assert result.exit_code == 5, result.output
    assert "3 of 300 rows (1.00%) were rejected" in result.output
    assert "nothing was written" in result.output
    assert not (work / "out").exists()
    assert leftovers(work, "out") == []


def test_max_rejects_exceeded_leaves_the_previous_output_untouched(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    before = snapshot(work / "out")
    result = cli("evaluate", Q2, "data/spread.csv", "-o", "out", "--max-rejects", "0")
    assert result.exit_code == 5, result.output
    assert snapshot(work / "out") == before
    assert leftovers(work, "out") == []


@pytest.mark.parametrize("limit", ["50%", "3", "1%", " 10 "])
def test_max_rejects_within_the_limit_publishes(cli: Cli, work: Path, limit: str) -> None:
    result = evaluate(cli, Q2, "data/head.csv", "out", "--max-rejects", limit)  # 3 of 300 rejected = 1 %
    assert summary_counts(result.output) == (300, 297, 3)
    assert manifest("out")["options"]["max_rejects"] == limit


@pytest.mark.parametrize("limit", ["2", "0.5%", "0%"])
def test_max_rejects_just_below_the_count_exits_5(cli: Cli, work: Path, limit: str) -> None:
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--max-rejects", limit)
    assert result.exit_code == 5, result.output
    assert not (work / "out").exists()


# nan%, inf% and -1 were accepted until a fix made while these tests were written: nan% published
# whatever the rejects, inf% never failed, -1 failed every run, even a clean one
# 1_000, +5, ٣ (an Arabic-Indic digit), 1e1% and 5 % were accepted by one of two parsers until
# --max-rejects had one grammar: digits 0-9, a count or a percentage from 0% to 100%
@pytest.mark.parametrize("limit", ["lots", "1.5", "%", "ten%", "5%%", "", "nan%", "inf%", "-1",
                                   "1_000", "+5", "٣", "101%", "1e1%", "5 %"])
def test_bad_max_rejects_text_exits_2(cli: Cli, work: Path, limit: str) -> None:
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--max-rejects", limit)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error[usage] --max-rejects {limit!r} is neither a number of rows")
    no_traceback(result)
    assert not (work / "out").exists()


def test_bad_max_rejects_text_is_refused_before_any_input_is_read(cli: Cli, work: Path) -> None:
    result = cli("evaluate", Q2, "data/missing.csv", "-o", "out", "--max-rejects", "lots")
    assert result.exit_code == 2, result.output  # not 4, the missing input


# --------------------------------------------------------------------------- evaluate: errors


def _broken_copy(work: Path, old: str, new: str) -> tuple[str, int]:
    """A copy of 2026Q2 with one mistake; returns its path and the line of the mistake."""
    text = (work / Q2).read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    before = text[: text.index(old)]
    path = work / "broken" / "2026Q2.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return "broken/2026Q2.yaml", before.count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("        weight: 50\n", "        weight: -50\n", "non-positive-weight"),
        ("measure: {share: resolved_first_contact}", "measure: {share: resolved_first_contact and}",
         "expression"),
        ("scoring: {linear: {from: 0.65, to: 0.85}}", "scoring: {linaer: {from: 0.65, to: 0.85}}", "unknown-key"),
        ("  - {name: 良好, min: 75}", "  - {name: 良好, min: 75, min: 70}", "yaml"),
    ],
    ids=["negative-weight", "expression-syntax", "key-typo", "duplicate-key"],
)
def test_invalid_scheme_exits_3_with_a_located_message(cli: Cli, work: Path, old: str, new: str, code: str) -> None:
    path, line = _broken_copy(work, old, new)
    result = cli("evaluate", path, "data/head.csv", "-o", "out")
    assert result.exit_code == 3, result.output
    no_traceback(result)
    assert re.search(rf"^{re.escape(path)}:{line}:\d+: error\[[a-z-]*{code.split('-')[0]}", result.output, re.M), \
        result.output
    assert not (work / "out").exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("  - {name: 良好, min: 75}", "  - {name: [良好], min: 75}"),
        ("    complaint: {type: boolean,", "    complaint: {type: boolean, true_values: [[是]], false_values: [否],"),
    ],
    ids=["grade-name-list", "true-values-nested-list"],
)
def test_scheme_with_a_list_instead_of_text_exits_3_without_traceback(cli: Cli, work: Path, old: str, new: str) -> None:
    # (a TypeError: unhashable type 'list' in validation until a fix made while these tests were written)
    path, line = _broken_copy(work, old, new)
    result = cli("evaluate", path, "data/head.csv", "-o", "out", catch=True)
    no_traceback(result)
    assert result.exit_code == 3, result.output
    assert re.search(rf"^{re.escape(path)}:{line}:\d+: error\[wrong-type\]", result.output, re.M), result.output
    assert not (work / "out").exists()


def test_invalid_version_in_a_directory_exits_3(cli: Cli, work: Path) -> None:
    q1 = work / "rules" / "cs-quality" / "2026Q1.yaml"
    q1.write_text(q1.read_text(encoding="utf-8").replace("weight: 30\n", "weight: 0\n", 1), encoding="utf-8")
    result = cli("evaluate", VERSIONS, "data/q1q2.csv", "-o", "out")
    assert result.exit_code == 3, result.output
    no_traceback(result)
    assert re.search(r"2026Q1\.yaml:\d+:\d+: error\[", result.output), result.output
    assert not (work / "out").exists()


def test_missing_data_file_exits_4(cli: Cli, work: Path) -> None:
    result = cli("evaluate", Q2, "data/nope.csv", "-o", "out")
    assert result.exit_code == 4, result.output
    no_traceback(result)
    assert "data/nope.csv" in result.output
    assert not (work / "out").exists()


def test_unknown_by_field_exits_2(cli: Cli, work: Path) -> None:
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--by", "tema")
    assert result.exit_code == 2, result.output
    assert "tema" in result.output and "team" in result.output  # the hint lists the fields


def test_output_path_that_is_a_file_is_refused(cli: Cli, work: Path) -> None:
    (work / "out").write_text("not a directory", encoding="utf-8")
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out")
    assert result.exit_code in (2, 6), result.output  # refused by click (file_okay=False) or by the writer
    assert (work / "out").read_text(encoding="utf-8") == "not a directory"


# --------------------------------------------------------------------------- evaluate: output replacement


def test_previous_output_is_replaced_atomically(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    evaluate(cli, Q2, "data/spread.csv", "out")  # an earlier run's output: replaced
    assert manifest("out")["inputs"][0]["path"] == "data/spread.csv"
    (work / "out" / "stale.txt").write_text("added by hand", encoding="utf-8")
    refused = cli("evaluate", Q2, "data/head.csv", "-o", "out")  # no longer just a run's output
    assert refused.exit_code == 6 and "stale.txt" in refused.output and "--force" in refused.output
    evaluate(cli, Q2, "data/spread.csv", "out", "--force")
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(OUTPUTS)  # replaced, not merged
    assert manifest("out")["inputs"][0]["path"] == "data/spread.csv"
    assert leftovers(work, "out") == []
    assert sorted(p.name for p in work.iterdir()) == ["data", "out", "rules"]


def test_nested_output_directory_is_created(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "runs/2026-04/out")
    assert sorted(p.name for p in (work / "runs" / "2026-04" / "out").iterdir()) == sorted(OUTPUTS)
    assert leftovers(work / "runs" / "2026-04", "out") == []


# --------------------------------------------------------------------------- evaluate: encodings, signing


def test_gbk_input_gives_the_same_scorecards_as_utf8(cli: Cli, work: Path) -> None:
    utf8 = lines_of(work / "data" / "head.csv")
    write_rows(work / "data" / "head-gbk.csv", utf8[0], utf8[1:], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        (work / "data" / "head-gbk.csv").read_bytes().decode("utf-8")  # really not UTF-8
    evaluate(cli, Q2, "data/head.csv", "utf8")
    evaluate(cli, Q2, "data/head-gbk.csv", "detected")
    evaluate(cli, Q2, "data/head-gbk.csv", "declared", "--encoding", "gbk")
    for out in ("detected", "declared"):
        for name in ("scorecards.jsonl", "scorecards.csv"):
            assert (work / out / name).read_bytes() == (work / "utf8" / name).read_bytes(), (out, name)
        inp = manifest(out)["inputs"][0]
        assert inp["encoding"].lower() in ("gbk", "gb18030"), inp
        assert inp["sha256"] == sha256("data/head-gbk.csv")
    assert manifest("utf8")["rows"] == manifest("detected")["rows"]


def test_sign_key_writes_an_envelope_signing_the_manifest_and_who_ran_it(cli: Cli, work: Path) -> None:
    pytest.importorskip("cryptography")
    keygen = cli("keygen", "committee")
    assert keygen.exit_code == 0, keygen.output
    fingerprint = re.search(r"fingerprint (SHA256:\S+)", keygen.output)[1]  # type: ignore[index]
    evaluate(cli, Q2, "data/head.csv", "out", "--sign-key", "committee.pem", "--operator", "张三")
    sig_path = work / "out" / "manifest.json.sig"
    sig = json.loads(sig_path.read_text(encoding="utf-8"))
    assert set(sig) == {"format", "payload", "algorithm", "public_key", "fingerprint", "signature"}
    assert sig["format"] == "qualiscore-signature/v2"
    assert sig["algorithm"] == "ed25519" and sig["fingerprint"] == fingerprint
    payload = sig["payload"]
    assert payload["manifest_sha256"] == sha256(work / "out" / "manifest.json")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", payload["signed_at"])
    assert payload["operator"] == "张三" and payload["host"] and payload["qualiscore"] == __version__
    assert payload["command"] == ["qualiscore", "evaluate", Q2, "data/head.csv", "-o", "out",
                                  "--sign-key", "committee.pem", "--operator", "张三"]

    import base64

    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_public_key((work / "committee.pub.pem").read_bytes())
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    public.verify(base64.b64decode(sig["signature"]), canonical)  # type: ignore[union-attr,call-arg]
    # the signature is not an output the manifest lists (it signs the manifest)
    assert "manifest.json.sig" not in manifest("out")["outputs"]


def test_operator_defaults_to_the_login_name(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cryptography")
    assert cli("keygen", "k").exit_code == 0
    monkeypatch.setenv("LOGNAME", "auditor-1")
    evaluate(cli, Q2, "data/head.csv", "out", "--sign-key", "k.pem")
    assert json.loads((work / "out" / "manifest.json.sig").read_text("utf-8"))["payload"]["operator"] == "auditor-1"
    import getpass

    def no_login() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login)
    evaluate(cli, Q2, "data/head.csv", "out", "--sign-key", "k.pem")
    assert json.loads((work / "out" / "manifest.json.sig").read_text("utf-8"))["payload"]["operator"] == "(unknown)"


def test_operator_needs_a_sign_key_and_a_name(cli: Cli, work: Path) -> None:
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--operator", "张三")
    assert result.exit_code == 2 and "give --sign-key too" in result.output
    assert cli("keygen", "k").exit_code == 0
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "--sign-key", "k.pem", "--operator", " ")
    assert result.exit_code == 2 and "--operator must name" in result.output
    assert not (work / "out").exists()


def test_two_signed_runs_write_the_same_outputs_and_differ_only_in_their_envelopes(
        cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cryptography")
    import datetime as dt

    from qualiscore import signing

    pytest.importorskip("plotly")
    pytest.importorskip("openpyxl")
    assert cli("keygen", "k").exit_code == 0
    for out, hour in (("first", 9), ("second", 17)):  # into the same directory, which the report names
        moment = dt.datetime(2026, 7, 1, hour, 0, 0, tzinfo=dt.timezone.utc)
        monkeypatch.setattr(signing, "_now", lambda moment=moment: moment)
        evaluate(cli, Q2, "data/head.csv", "out", "--sign-key", "k.pem", "--report", "--format", "xlsx")
        (work / "out").rename(work / out)
    names = sorted(p.name for p in (work / "first").iterdir())
    assert names == sorted(p.name for p in (work / "second").iterdir()) and "report.html" in names
    for name in names:
        if name != "manifest.json.sig":
            assert (work / "first" / name).read_bytes() == (work / "second" / name).read_bytes(), name
    first, second = (json.loads((work / out / "manifest.json.sig").read_text("utf-8"))["payload"]
                     for out in ("first", "second"))
    assert (first["signed_at"], second["signed_at"]) == ("2026-07-01T09:00:00Z", "2026-07-01T17:00:00Z")
    assert first["manifest_sha256"] == second["manifest_sha256"]
    assert {k: v for k, v in first.items() if k not in ("signed_at", "command")} == \
           {k: v for k, v in second.items() if k not in ("signed_at", "command")}


# --------------------------------------------------------------------------- explain


def explain(cli: Cli, *args: str) -> Result:
    result = cli("explain", *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("scheme", "data", "extra", "subjects"),
    [
        (Q2, "data/head.csv", [], ["A001/2026-04", "A006/2026-04"]),
        (Q2, "data/spread.csv", ["--by", "team"], ["T4/2026-05", "T1/2026-06"]),
        (VERSIONS, "data/q1q2.csv", [], ["A003/2026-03", "A003/2026-04"]),
    ],
    ids=["single", "by-team", "versions"],
)
def test_explain_from_outdir_and_from_scheme_data_agree(
        cli: Cli, work: Path, scheme: str, data: str, extra: list[str], subjects: list[str]) -> None:
    evaluate(cli, scheme, data, "out", *extra)
    for subject in subjects:
        from_dir = explain(cli, "out", "--subject", subject)
        from_data = explain(cli, scheme, data, "--subject", subject, *extra)
        assert from_dir.output == from_data.output
        assert from_dir.output.startswith(subject + " · cs-quality ")
        json_dir = explain(cli, "out", "--subject", subject, "--format", "json")
        json_data = explain(cli, scheme, data, "--subject", subject, "--format", "json", *extra)
        assert json_dir.output == json_data.output


def test_explain_names_the_version_that_scored_the_month(cli: Cli, work: Path) -> None:
    evaluate(cli, VERSIONS, "data/q1q2.csv", "out")
    assert explain(cli, "out", "--subject", "A003/2026-03").output.startswith("A003/2026-03 · cs-quality 2026Q1 ")
    assert explain(cli, "out", "--subject", "A003/2026-04").output.startswith("A003/2026-04 · cs-quality 2026Q2 ")


def test_explain_json_is_the_scorecards_jsonl_line(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/spread.csv", "out")
    lines = (work / "out" / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 72  # 24 agents × 3 months
    for line in lines:
        card = json.loads(line)
        result = explain(cli, "out", "--subject", card["subject"], "--format", "json")
        shown = json.loads(result.stdout)
        assert shown == card
        assert json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":")) == line


def _check_explanation(text: str, card: dict) -> None:
    """The Total line adds up exactly, and so does every dimension from its indicators."""
    lines = text.splitlines()
    totals = [ln for ln in lines if ln.startswith("Total")]
    assert len(totals) == 1, text
    assert "(!)" not in text, text
    if card["score"] is None:
        assert totals[0].startswith("Total: no score"), text
        return
    m = re.fullmatch(r"Total (-?\d+\.\d+) = (-?\d+\.\d+(?: \+ -?\d+\.\d+)*)", totals[0])
    assert m, totals[0]
    total = Decimal(m[1])
    parts = [Decimal(p) for p in m[2].split(" + ")]
    assert sum(parts, Decimal(0)) == total, totals[0]
    d = card["decimals"]
    assert total == Decimal(str(card["score"])).quantize(Decimal(1).scaleb(-d)), (totals[0], card["score"])

    # each counted dimension's contribution is the sum of its indicators' contributions
    dims: list[tuple[Decimal | None, list[Decimal]]] = []
    for ln in lines:
        found = re.findall(r"contributes (-?\d+\.\d+)", ln)
        if ln.startswith(("├─ ", "└─ ")):  # a dimension
            dims.append((Decimal(found[0]) if found else None, []))
        elif found:  # an indicator that counts
            assert len(found) == 1, ln
            dims[-1][1].append(Decimal(found[0]))
    assert [c for c, _ in dims if c is not None] == parts
    for dim_total, inds in dims:
        if dim_total is None:
            assert inds == [], text
        else:
            assert sum(inds, Decimal(0)) == dim_total, text


@pytest.mark.parametrize(
    ("scheme", "data", "extra"),
    [
        (Q2, "data/spread.csv", []),
        (Q2, "data/spread.csv", ["--by", "team"]),
        (VERSIONS, "data/q1q2.csv", []),
    ],
    ids=["by-agent", "by-team", "versions"],
)
def test_explained_contributions_add_up_to_the_total_for_every_subject(
        cli: Cli, work: Path, scheme: str, data: str, extra: list[str]) -> None:
    evaluate(cli, scheme, data, "out", *extra)
    got = cards("out")
    assert got
    for card in got:
        result = explain(cli, "out", "--subject", card["subject"])
        _check_explanation(result.output, card)


def test_explain_qa_form_every_record(cli: Cli, work: Path) -> None:
    qa = lines_of(SAMPLE / "qa-inspections.csv")
    write_rows(work / "data" / "qa.csv", qa[0], qa[1:121])
    evaluate(cli, "rules/qa-form/2026Q2.yaml", "data/qa.csv", "out")
    for card in cards("out"):
        _check_explanation(explain(cli, "out", "--subject", card["subject"]).output, card)


@pytest.mark.parametrize("source", ["outdir", "scheme-data"])
def test_explain_unknown_subject_exits_2_with_a_suggestion(cli: Cli, work: Path, source: str) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    args = ["out"] if source == "outdir" else [Q2, "data/head.csv"]
    result = cli("explain", *args, "--subject", "A001/2026-4")
    assert result.exit_code == 2, result.output
    no_traceback(result)
    assert "no scorecard for subject 'A001/2026-4'" in result.output
    assert "did you mean A001/2026-04" in result.output


def test_explain_unknown_subject_without_close_match_points_to_the_csv(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    result = cli("explain", "out", "--subject", "zzzzzzzz")
    assert result.exit_code == 2, result.output
    assert "scorecards.csv" in result.output


def test_explain_directory_without_manifest_is_a_clear_error(cli: Cli, work: Path) -> None:
    (work / "empty").mkdir()
    result = cli("explain", "empty", "--subject", "A001/2026-04")
    assert result.exit_code != 0
    no_traceback(result)
    assert "no manifest.json" in result.output and "not a qualiscore output directory" in result.output


def test_explain_directory_with_a_damaged_manifest_is_a_clear_error(cli: Cli, work: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    (work / "out" / "manifest.json").write_text("{ not json", encoding="utf-8")
    result = cli("explain", "out", "--subject", "A001/2026-04")
    assert result.exit_code != 0
    no_traceback(result)
    assert "manifest.json" in result.output


def test_explain_a_scheme_without_data_is_a_usage_error(cli: Cli, work: Path) -> None:
    result = cli("explain", Q2, "--subject", "A001/2026-04")
    assert result.exit_code == 2, result.output
    no_traceback(result)


def test_running_out_of_memory_is_reported_and_keeps_the_previous_output(cli: Cli, work: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate(cli, Q2, "data/head.csv", "out")
    before = snapshot(work / "out")

    def exhausted(card: object) -> dict:
        raise MemoryError

    monkeypatch.setattr("qualiscore.scorecard.scorecard_dict", exhausted)
    result = cli("evaluate", Q2, "data/spread.csv", "-o", "out", catch=True)
    no_traceback(result)
    assert result.exit_code == 7
    assert "error[out-of-memory]" in result.output and "hint: allow the process more memory" in result.output
    assert snapshot(work / "out") == before
