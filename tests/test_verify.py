"""`qualiscore verify`: a published run is either reproduced exactly, or the report says what differs.

Exit codes (most fundamental first): 0 verified, 9 signature, 10 scheme changed,
11 input changed, 12 engine version, 13 output edited, 14 recomputation differs,
17 signature valid but its signer not checked (who may sign: tests/test_trust.py).
Every test works in a copy of rules/ and a slice of data/sample/ under tmp_path.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
Q2 = "rules/cs-quality/2026Q2.yaml"
VERSIONS = "rules/cs-quality/"

DISCREPANCY_KEYS = {"kind", "file", "message", "subject", "field", "published", "recomputed", "details"}
REPORT_KEYS = {"outdir", "verified", "recomputed", "signer", "signature", "exit_code", "discrepancies",
               "later_reports", "notes", "approved", "checks",
               # the verification record's own: who verified, when, in which language, the run, the seal
               "format", "verified_at", "verifier", "language", "run", "seal"}
NOT_SIGNED = {"status": "not-signed", "owner": None, "fingerprint": None, "signed_at": None, "operator": None,
              "host": None, "qualiscore": None, "command": None, "manifest_sha256": None, "trusted_keys": []}


def _slice(src: Path, dst: Path, step: int, limit: int | None = None) -> None:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    body = lines[1::step][:limit]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(lines[0] + "".join(body), encoding="utf-8")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory with rules/, data/head.csv (300 April rows, 3 dirty)
    and data/q1q2.csv (every 5th row of interactions-q1q2.csv, February–May)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    _slice(SAMPLE / "interactions.csv", tmp_path / "data" / "head.csv", 1, 300)
    _slice(SAMPLE / "interactions-q1q2.csv", tmp_path / "data" / "q1q2.csv", 5)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def evaluate(cli: Cli, *args: str, out: str = "out") -> Path:
    result = cli("evaluate", *args, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    return Path(out)


def verify(cli: Cli, *args: str) -> Result:
    return cli("verify", *args)


def verify_json(cli: Cli, *args: str) -> dict:
    result = verify(cli, *args, "--format", "json")
    report = json.loads(result.stdout)
    assert set(report) == REPORT_KEYS
    for d in report["discrepancies"]:
        assert set(d) == DISCREPANCY_KEYS
    assert report["exit_code"] == result.exit_code
    assert report["verified"] == (result.exit_code == 0)
    return report


def kinds(report: dict) -> set[str]:
    return {d["kind"] for d in report["discrepancies"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- a fresh run


def test_fresh_run_verifies(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    result = verify(cli, str(out))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verified: out is reproduced exactly")
    assert "signed by" not in result.output and "\n  not signed\n" in result.output


def test_json_report_shape(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    report = verify_json(cli, str(out))
    record_only = {"format", "verified_at", "verifier", "language", "run", "seal", "checks"}
    assert {k: v for k, v in report.items() if k not in record_only} == {
        "outdir": "out", "verified": True, "recomputed": True, "signer": None, "exit_code": 0,
        "signature": NOT_SIGNED, "discrepancies": [], "later_reports": [], "notes": [], "approved": []}
    assert report["language"] == "en"
    assert report["format"] == "qualiscore-verification/v1"
    assert {c["result"] for c in report["checks"]} == {"pass"}


@pytest.mark.parametrize(
    "args",
    [
        [VERSIONS, "data/q1q2.csv"],
        [VERSIONS, "data/q1q2.csv", "--as-of", "2026-05-01"],
        [Q2, "data/head.csv", "--by", "team"],
        [Q2, "data/head.csv", "--max-rejects", "5%"],
        ["rules/qa-form/2026Q2.yaml", str(SAMPLE / "qa-inspections.csv")],  # an absolute input path
    ],
    ids=["versions", "as-of", "by-team", "max-rejects", "absolute-input"],
)
def test_runs_with_options_reproduce_exactly(cli: Cli, work: Path, args: list[str]) -> None:
    out = evaluate(cli, *args)
    result = verify(cli, str(out))
    assert result.exit_code == 0, result.output


def test_versions_run_is_recomputed_with_routing(cli: Cli, work: Path) -> None:
    out = evaluate(cli, VERSIONS, "data/q1q2.csv")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["version"] for s in manifest["schemes"]] == ["2026Q1", "2026Q2"]
    report = verify_json(cli, str(out))
    assert report["verified"] and report["recomputed"]


def test_gbk_input_reproduces_exactly(cli: Cli, work: Path) -> None:
    text = (work / "data" / "head.csv").read_text(encoding="utf-8")
    (work / "data" / "head-gbk.csv").write_bytes(text.encode("gbk"))
    out = evaluate(cli, Q2, "data/head-gbk.csv")
    assert verify(cli, str(out)).exit_code == 0


# --------------------------------------------------------------------------- edited outputs


def test_one_character_edit_in_scorecards_csv_exits_13_naming_subject_and_field(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    csv_path = out / "scorecards.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[3].rstrip("\n").split(",")
    subject, score = cells[0], cells[header.index("score")]
    cells[header.index("score")] = score[:-1] + ("1" if score[-1] != "1" else "2")  # one character
    lines[3] = ",".join(cells) + "\n"
    csv_path.write_text("".join(lines), encoding="utf-8")

    result = verify(cli, str(out))
    assert result.exit_code == 13, result.output
    assert result.output.startswith("NOT verified: out")
    assert "scorecards.csv" in result.output
    line = next(ln for ln in result.output.splitlines() if "not-reproduced" in ln)
    assert subject in line and "score" in line and repr(score) in line

    report = verify_json(cli, str(out))
    assert any(d["file"] == "scorecards.csv" and d["subject"] == subject and d["field"] == "score"
               for d in report["discrepancies"]), report


def test_grade_edit_in_scorecards_csv_names_the_grade_column(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    csv_path = out / "scorecards.csv"
    second = csv_path.read_text(encoding="utf-8").splitlines()[1]
    subject = second.split(",")[0]
    grade = next(g for g in ("不合格", "合格", "良好", "优秀") if f",{g}," in second)
    edit(csv_path, second, second.replace(f",{grade},", ",优秀," if grade != "优秀" else ",良好,", 1))
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 13
    assert any(d["subject"] == subject and d["field"] == "grade" for d in report["discrepancies"]), report


def test_edit_in_scorecards_jsonl_exits_13_naming_subject_and_json_path(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    path = out / "scorecards.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    card = json.loads(lines[2])
    ind = card["dimensions"][1]["indicators"][0]
    old = f'"id":"{ind["id"]}"'
    assert lines[2].count(old) == 1
    points = ind["points"]
    card["dimensions"][1]["indicators"][0]["points"] = (points or 0) + 1
    lines[2] = json.dumps(card, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    path.write_text("".join(lines), encoding="utf-8")

    result = verify(cli, str(out))
    assert result.exit_code == 13, result.output
    assert (f"{card['subject']} /dimensions/1/indicators/0/points: published {(points or 0) + 1!r}, "
            f"recomputed {points!r}") in result.output

    report = verify_json(cli, str(out))
    assert any(d["file"] == "scorecards.jsonl" and d["subject"] == card["subject"]
               and d["field"] == "/dimensions/1/indicators/0/points" for d in report["discrepancies"]), report


def test_edit_in_rejects_csv_exits_13(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit(out / "rejects.csv", "below-minimum", "below-minimun")
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 13
    assert any(d["file"] == "rejects.csv" and d["field"] == "code" for d in report["discrepancies"]), report


# --------------------------------------------------------------------------- pinpointed differences
# data/head.csv: A001/2026-04 scores 67.84 (合格); rows 93, 133 and 202 are rejected.


def not_reproduced(cli: Cli, out: Path) -> list[dict]:
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 13  # the edited file's hash outranks the recomputation
    return [d for d in report["discrepancies"] if d["kind"] == "not-reproduced"]


def edit_lines(path: Path, change: Callable[[list[str]], object]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    change(lines)
    path.write_text("".join(lines), encoding="utf-8")


def test_edited_grade_names_subject_pointer_and_both_values(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit(out / "scorecards.jsonl", '"grade":"合格"', '"grade":"优秀"')
    [d] = not_reproduced(cli, out)
    assert d == {"kind": "not-reproduced", "file": "scorecards.jsonl", "subject": "A001/2026-04",
                 "field": "/grade", "published": "优秀", "recomputed": "合格", "details": [],
                 "message": "A001/2026-04 /grade: published '优秀', recomputed '合格'"}
    assert "  not-reproduced: A001/2026-04 /grade: published '优秀', recomputed '合格'\n" in verify(cli, "out").output


def test_edited_score_names_subject_pointer_and_both_values(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit(out / "scorecards.jsonl", '"score":67.84', '"score":76.84')
    assert [d["message"] for d in not_reproduced(cli, out)] == [
        "A001/2026-04 /score: published 76.84, recomputed 67.84"]


def test_edited_grade_in_scorecards_csv_names_subject_column_and_both_values(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit(out / "scorecards.csv", ",67.84,合格,", ",67.84,优秀,")
    [d] = not_reproduced(cli, out)
    assert (d["subject"], d["field"], d["published"], d["recomputed"]) == ("A001/2026-04", "grade", "优秀", "合格")
    assert d["message"] == "A001/2026-04 grade: published '优秀', recomputed '合格'"


def test_removed_scorecard_line_is_recomputed_but_missing(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit_lines(out / "scorecards.jsonl", lambda lines: lines.pop(1))
    assert [d["message"] for d in not_reproduced(cli, out)] == [
        "the scorecard of A002/2026-04 is recomputed but missing from scorecards.jsonl"]


def test_added_scorecard_line_is_published_but_not_recomputed(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit_lines(out / "scorecards.jsonl", lambda lines: lines.append(lines[0].replace("A001/2026-04", "Z999/2026-04")))
    [d] = not_reproduced(cli, out)
    assert d["message"] == "the scorecard of Z999/2026-04 is published but not recomputed"
    assert d["subject"] == "Z999/2026-04"


def test_removed_reject_is_named_by_source_row_and_record(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit_lines(out / "rejects.csv", lambda lines: lines.pop(1))
    [d] = not_reproduced(cli, out)
    assert d["message"] == ("the reject of data/head.csv row 93 (I0000092, not-boolean resolved_first_contact) "
                            "is missing from rejects.csv")
    assert d["subject"] == "data/head.csv row 93"


def test_edited_reject_reason_shows_both_values(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    reason = "'-5' is below the minimum 0; correct the value or the contract"
    edit(out / "rejects.csv", reason, "a typo")
    [d] = not_reproduced(cli, out)
    assert d["message"] == f"the reject of data/head.csv row 133 (I0000132) reason: published 'a typo', recomputed {reason!r}"
    assert (d["field"], d["published"], d["recomputed"]) == ("reason", "a typo", reason)


def test_added_reject_is_a_row_the_recomputation_did_not_reject(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit_lines(out / "rejects.csv", lambda lines: lines.insert(1, "data/head.csv,12,I0000011,csat,5,not-integer,x\n"))
    assert [d["message"] for d in not_reproduced(cli, out)] == [
        "rejects.csv lists data/head.csv row 12 (I0000011, not-integer csat), which the recomputation did not reject"]


def test_many_differences_are_capped_with_a_count(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    edit_lines(out / "scorecards.jsonl", lambda lines: lines.clear())
    found = not_reproduced(cli, out)
    total = len((work / "out" / "scorecards.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert len(found) == 21 and total > 20
    assert found[-1]["message"] == f"… and {total - 20} more differences in scorecards.jsonl"


@pytest.mark.parametrize("name", ["scorecards.csv", "scorecards.jsonl", "rejects.csv"])
def test_deleted_output_exits_13(cli: Cli, work: Path, name: str) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    (out / name).unlink()
    result = verify(cli, str(out))
    assert result.exit_code == 13, result.output
    assert f"output-missing: {name} is missing" in result.output


@pytest.mark.parametrize(
    "extra",
    [
        "notes.txt",
        "scorecards.csv.bak",
        "manifest.json.orig",  # only manifest.json and manifest.json.sig belong there unlisted
    ],
)
def test_extra_file_in_output_dir_is_reported(cli: Cli, work: Path, extra: str) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    (out / extra).write_text("added by hand\n", encoding="utf-8")
    result = verify(cli, str(out))
    assert result.exit_code == 13, result.output
    assert f"output-extra: {extra} is not listed in the manifest" in result.output
    report = verify_json(cli, str(out))
    assert {"kind": "output-extra", "file": extra} in [{k: d[k] for k in ("kind", "file")}
                                                        for d in report["discrepancies"]]


# --------------------------------------------------------------------------- changed scheme, input, engine


def test_changed_input_exits_11_and_is_not_recomputed(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    with open("data/head.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    import qualiscore.verify

    def must_not_recompute(*_: object) -> list:
        raise AssertionError("recomputed although an input changed")

    monkeypatch.setattr(qualiscore.verify, "_recompute", must_not_recompute)
    result = verify(cli, str(out))
    assert result.exit_code == 11, result.output
    assert "input-changed: input data/head.csv was changed after the run" in result.output
    assert "not recomputed" in result.output
    report = verify_json(cli, str(out))
    assert report["recomputed"] is False and kinds(report) == {"input-changed"}


def test_missing_input_exits_11(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    Path("data/head.csv").unlink()
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 11 and kinds(report) == {"input-missing"} and not report["recomputed"]


def test_changed_scheme_exits_10(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    with open(Q2, "a", encoding="utf-8") as f:
        f.write("# a comment added after the run\n")
    result = verify(cli, str(out))
    assert result.exit_code == 10, result.output
    assert "scheme-changed: scheme cs-quality 2026Q2 was changed after the run" in result.output
    assert not verify_json(cli, str(out))["recomputed"]


def test_changed_version_in_a_directory_run_exits_10(cli: Cli, work: Path) -> None:
    out = evaluate(cli, VERSIONS, "data/q1q2.csv")
    edit(work / "rules" / "cs-quality" / "2026Q1.yaml", "scoring: {linear: {from: 0.50, to: 0.70}}",
         "scoring: {linear: {from: 0.55, to: 0.70}}")
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 10
    assert [d["file"] for d in report["discrepancies"]] == ["rules/cs-quality/2026Q1.yaml"]


def test_scheme_and_input_changed_reports_both_exit_10(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    with open(Q2, "a", encoding="utf-8") as f:
        f.write("# changed\n")
    with open("data/head.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 10
    assert kinds(report) == {"scheme-changed", "input-changed"}


def test_engine_version_edited_in_manifest_exits_12(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["engine"]["version"] = "0.0.0"
    # the manifest is not hashed by itself, so this edit breaks no hash
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
                                       encoding="utf-8")
    result = verify(cli, str(out))
    assert result.exit_code == 12, result.output
    assert "engine-version: the run was made by qualiscore 0.0.0" in result.output
    assert "output-changed" not in result.output and "output-missing" not in result.output


# --------------------------------------------------------------------------- --base


def test_base_resolves_relative_paths_from_another_cwd(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate(cli, VERSIONS, "data/q1q2.csv")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lost = verify_json(cli, str(work / "out"))
    assert lost["exit_code"] == 10 and not lost["recomputed"]
    assert kinds(lost) == {"scheme-missing", "input-missing"}

    result = verify(cli, str(work / "out"), "--base", str(work))
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(work.parent)
    result = verify(cli, f"{work.name}/out", "--base", work.name)  # a relative --base too
    assert result.exit_code == 0, result.output


def test_directory_without_manifest_is_an_error(cli: Cli, work: Path) -> None:
    (work / "empty").mkdir()
    result = cli("verify", "empty", catch=True)
    assert result.exit_code not in (0, 9, 10, 11, 12, 13, 14), result.output
    assert "no manifest.json" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- signatures


@pytest.fixture
def keys(cli: Cli, work: Path) -> dict[str, str]:
    """Two key pairs in work/ (committee.pem, stranger.pem), by fingerprint; work/ is the root of a git
    repository, so no trusted-keys.yaml above it is found."""
    pytest.importorskip("cryptography")
    (work / ".git").mkdir()
    fingerprints = {}
    for name in ("committee", "stranger"):
        result = cli("keygen", name)
        assert result.exit_code == 0, result.output
        fingerprints[name] = re.search(r"fingerprint (SHA256:\S+)", result.output)[1]  # type: ignore[index]
    return fingerprints


def test_signed_run_verifies_with_its_public_key(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem", "--operator", "张三")
    result = verify(cli, str(out), "--public-key", "committee.pub.pem")
    assert result.exit_code == 0, result.output
    assert re.search(rf"\n  signed by committee.pub.pem \({re.escape(keys['committee'])}\) at "
                     r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by 张三 on \S", result.output), result.output
    report = verify_json(cli, str(out), "--public-key", "committee.pub.pem")
    assert report["signer"] == keys["committee"] and report["verified"]
    signature = report["signature"]
    assert signature["status"] == "trusted" and signature["owner"] == "committee.pub.pem"
    assert signature["operator"] == "张三" and signature["trusted_keys"] == ["committee.pub.pem"]
    assert signature["command"] == ["qualiscore", "evaluate", Q2, "data/head.csv", "--sign-key", "committee.pem",
                                    "--operator", "张三", "-o", "out", "-q"]


def test_signed_run_without_trusted_keys_exits_17_and_names_the_signer(cli: Cli, work: Path,
                                                                       keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    result = verify(cli, str(out))
    assert result.exit_code == 17, result.output
    assert result.output.startswith("signature valid, signer not checked: out is reproduced exactly")
    assert f"signed with key {keys['committee']}" in result.output
    assert "signer-unchecked:" in result.output and "trusted-keys.yaml" in result.output
    report = verify_json(cli, str(out))
    assert report["signature"]["status"] == "unchecked" and report["signer"] == keys["committee"]
    assert kinds(report) == {"signer-unchecked"}


def test_signed_by_another_key_exits_9(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    result = verify(cli, str(out), "--public-key", "stranger.pub.pem")
    assert result.exit_code == 9, result.output
    assert keys["committee"] in result.output and keys["stranger"] in result.output


def test_manifest_edited_after_signing_exits_9(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    edit(out / "manifest.json", '"subjects": 24', '"subjects": 25')
    for args in ([], ["--public-key", "committee.pub.pem"]):
        result = verify(cli, str(out), *args)
        assert result.exit_code == 9, result.output
        assert "the manifest was changed after signing" in result.output


def test_resigned_by_another_key_exits_17_without_and_9_with_the_trusted_key(cli: Cli, work: Path,
                                                                             keys: dict[str, str]) -> None:
    evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    evaluate(cli, Q2, "data/head.csv", "--sign-key", "stranger.pem", out="forged")
    shutil.copy("forged/manifest.json.sig", "out/manifest.json.sig")
    result = verify(cli, "out")
    assert result.exit_code == 17, result.output  # a valid signature, by someone: named, not trusted
    assert keys["stranger"] in result.output
    assert verify(cli, "out", "--public-key", "committee.pub.pem").exit_code == 9


def test_unsigned_run_with_a_required_key_exits_9(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    result = verify(cli, str(out), "--public-key", "committee.pub.pem")
    assert result.exit_code == 9, result.output
    assert "not signed" in result.output


def test_damaged_signature_exits_9(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    (out / "manifest.json.sig").write_text("{}", encoding="utf-8")
    result = verify(cli, str(out))
    assert result.exit_code == 9, result.output
    assert "manifest.json.sig is damaged: /format: this key is missing" in result.output


def test_signature_outranks_other_discrepancies(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    (out / "rejects.csv").unlink()
    with open(Q2, "a", encoding="utf-8") as f:
        f.write("# changed\n")
    report = verify_json(cli, str(out), "--public-key", "stranger.pub.pem")
    assert report["exit_code"] == 9
    assert {"signature", "scheme-changed", "output-missing"} <= kinds(report)


# --------------------------------------------------------------------------- a changed input: which lines, which subjects


def input_changes(cli: Cli, out: Path) -> list[dict]:
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 11 and kinds(report) == {"input-changed"}
    return report["discrepancies"]


def test_changed_input_names_the_line_and_the_subjects_it_moves(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    lines = Path("data/head.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[96].split(",")  # line 97: I0000096
    agent = cells[1]
    cells[6] = "99999"  # its handle time
    lines[96] = ",".join(cells)
    Path("data/head.csv").write_text("".join(lines), encoding="utf-8")
    found = input_changes(cli, out)
    messages = [d["message"] for d in found]
    assert messages[0] == "input data/head.csv was changed after the run"
    assert messages[1].startswith("data/head.csv line 97 was changed; it now reads: I0000096,")
    assert found[1]["subject"] == "data/head.csv line 97"
    moved = [d for d in found[2:] if d["subject"]]
    assert [d["subject"] for d in moved] == [f"{agent}/2026-04"]
    before, after = moved[0]["published"], moved[0]["recomputed"]
    assert before["score"] != after["score"]
    assert f"{agent}/2026-04 moves: score {before['score']} → {after['score']}" in moved[0]["message"]
    text = verify(cli, str(out)).output
    assert "line 97 was changed" in text and f"{agent}/2026-04 moves" in text


def test_removed_and_added_lines_are_named_without_shifting_the_rest(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    lines = Path("data/head.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[49]  # line 50
    lines.insert(199, "I7777777," + lines[120].split(",", 1)[1])  # now line 200
    Path("data/head.csv").write_text("".join(lines), encoding="utf-8")
    found = input_changes(cli, out)
    named = [d["message"] for d in found if d["subject"] and "line" in d["subject"]]
    assert named == ["data/head.csv line 50 (as numbered at the run) was removed",
                     named[1]]
    assert named[1].startswith("data/head.csv line 200 was added; it now reads: I7777777,")


def test_an_edit_moving_no_subject_says_so(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    with open("data/head.csv", "a", encoding="utf-8") as f:
        f.write("\n")  # a blank line is not a record
    messages = [d["message"] for d in input_changes(cli, out)]
    assert "data/head.csv line 302 was added" in messages
    assert messages[-1] == "scored with the inputs as they are now, no subject's score or grade changes"


def test_changed_worksheet_row_is_named_by_its_row_number(cli: Cli, work: Path) -> None:
    import csv

    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    with open("data/head.csv", encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            ws.append(row)
    wb.save("data/head.xlsx")
    out = evaluate(cli, Q2, "data/head.xlsx")
    wb = load_workbook("data/head.xlsx")
    wb.active["G40"] = "88888"
    wb.save("data/head.xlsx")
    found = input_changes(cli, out)
    assert found[1]["message"] == "data/head.xlsx row 40 was changed"
    assert any("moves: score" in d["message"] for d in found[2:])


def test_parquet_lines_cannot_be_named_but_the_subjects_can(cli: Cli, work: Path) -> None:
    import polars as pl

    pl.read_csv("data/head.csv", infer_schema=False).write_parquet("data/head.parquet")
    out = evaluate(cli, Q2, "data/head.parquet")
    frame = pl.read_parquet("data/head.parquet")
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 10).then(pl.lit("77777"))
                               .otherwise(pl.col(frame.columns[6])).alias(frame.columns[6]))
    frame.write_parquet("data/head.parquet")
    messages = [d["message"] for d in input_changes(cli, out)]
    assert ("the lines of data/head.parquet that changed cannot be named: line digests are not recorded for "
            "parquet inputs") in messages
    assert any("moves: score" in m for m in messages)


def test_edited_digests_file_stops_naming_lines_but_not_subjects(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    digests = out / "row-digests.bin"
    digests.write_bytes(digests.read_bytes()[:-4])
    edit(Path("data/head.csv"), "I0000010,", "I0000010x,")
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 11 and kinds(report) == {"input-changed", "output-changed"}
    messages = [d["message"] for d in report["discrepancies"]]
    assert any(m.startswith("the lines of data/head.csv that changed cannot be named") for m in messages)


def test_many_changed_lines_are_capped_with_a_count(cli: Cli, work: Path) -> None:
    out = evaluate(cli, Q2, "data/head.csv")
    lines = Path("data/head.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1:60] = [line.replace(",true,", ",false,", 1) if ",true," in line else line + "\n" for line in lines[1:60]]
    Path("data/head.csv").write_text("".join(lines), encoding="utf-8")
    messages = [d["message"] for d in input_changes(cli, out)]
    assert sum(m.startswith("data/head.csv line ") for m in messages) == 20
    assert any(re.fullmatch(r"… and \d+ more changed lines in data/head.csv", m) for m in messages)


def test_an_unchecked_signer_hides_no_other_discrepancy(cli: Cli, work: Path, keys: dict[str, str]) -> None:
    out = evaluate(cli, Q2, "data/head.csv", "--sign-key", "committee.pem")
    edit(out / "scorecards.csv", "优秀", "合格")
    result = verify(cli, str(out))
    assert result.exit_code == 13, result.output
    assert result.output.startswith("NOT verified: out")
    assert "signer-unchecked:" in result.output and "output-changed: scorecards.csv" in result.output


def test_a_run_written_before_git_places_and_row_digests_is_still_a_run(cli: Cli, work: Path) -> None:
    """An output directory of an earlier qualiscore (no `git` per scheme, no row-digests.bin) is not damaged:
    a new run replaces it, and verify says what it lacks rather than refusing it."""
    out = evaluate(cli, Q2, "data/head.csv")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for scheme in manifest["schemes"]:
        del scheme["git"]
    del manifest["outputs"]["row-digests.bin"]
    (out / "row-digests.bin").unlink()
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
                                       encoding="utf-8")
    report = verify_json(cli, str(out))
    assert report["exit_code"] == 14 and kinds(report) == {"not-reproduced"}
    assert [d["file"] for d in report["discrepancies"]] == ["manifest.json"]
    assert evaluate(cli, Q2, "data/head.csv") == out  # replaced like any earlier run's output
    assert verify(cli, str(out)).exit_code == 0
