"""The verification record: `verify --format json|md|html` or `-o FILE`, confirmed later by `check-record`.

A record lists every check with what the run recorded and what verify found, is
sealed by the SHA-256 of its content (and signed with --record-key), and embeds
itself as data, so an edit anywhere in it — the readable verdict, a check, the data,
the seal — is found by `qualiscore check-record`.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import Cli

ROOT = Path(__file__).resolve().parent.parent
Q2 = "rules/cs-quality/2026Q2.yaml"


@pytest.fixture
def run(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An evaluated run of 300 sample rows in tmp_path (the current directory): out/."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    lines = (ROOT / "data" / "sample" / "interactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "head.csv").write_text("".join(lines[:301]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "-q")
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


def record(cli: Cli, name: str, *args: str, exit_code: int = 0) -> Path:
    result = cli("verify", "out", "-o", name, *args)
    assert result.exit_code == exit_code, result.output
    assert f"verification record: {name}" in result.output
    return Path(name)


def check(cli: Cli, path: Path, *args: str) -> tuple[int, str]:
    result = cli("check-record", str(path), *args)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.mark.parametrize("suffix", ["json", "md", "html"])
def test_a_record_lists_every_check_and_checks_out(cli: Cli, run: Path, suffix: str) -> None:
    path = record(cli, f"rec.{suffix}")
    code, output = check(cli, path)
    assert code == 0, output
    assert output.startswith(f"record intact: rec.{suffix} is the verification record as written")
    assert "it records: VERIFIED for out" in output
    text = path.read_text(encoding="utf-8")
    for digest in json.loads((run / "manifest.json").read_text(encoding="utf-8"))["outputs"].values():
        assert digest in text  # every hash is in the record, readable
    manifest = __import__("hashlib").sha256((run / "manifest.json").read_bytes()).hexdigest()
    assert manifest in text


def test_the_json_record_names_verifier_tool_checks_and_seal(cli: Cli, run: Path) -> None:
    result = cli("verify", "out", "--format", "json")
    data = json.loads(result.stdout)
    assert data["format"] == "qualiscore-verification/v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["verified_at"])
    assert set(data["verifier"]) == {"operator", "host", "qualiscore", "command"}
    assert data["verifier"]["command"] == ["qualiscore", "verify", "out", "--format", "json"]
    checks = {(c["check"], c["item"]): c for c in data["checks"]}
    assert checks[("input SHA-256", "data/head.csv")]["result"] == "pass"
    assert checks[("recomputation", "scorecards, rejects, manifest")]["result"] == "pass"
    assert {c["check"] for c in data["checks"]} >= {"signature", "engine version", "scheme SHA-256", "input SHA-256",
                                                   "output SHA-256", "nothing else in the directory"}
    assert re.fullmatch(r"[0-9a-f]{64}", data["seal"]["sha256"])


def test_a_failed_verification_is_recorded_with_the_failing_checks(cli: Cli, run: Path) -> None:
    text = (run / "scorecards.csv").read_text(encoding="utf-8")
    (run / "scorecards.csv").write_text(text.replace("优秀", "合格", 1), encoding="utf-8")
    path = record(cli, "rec.json", exit_code=13)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["verified"] is False and data["exit_code"] == 13
    failed = [(c["check"], c["item"]) for c in data["checks"] if c["result"] == "fail"]
    assert failed == [("output SHA-256", "scorecards.csv"), ("recomputation", "scorecards, rejects, manifest")]
    code, output = check(cli, path)
    assert code == 0 and "it records: NOT VERIFIED (exit 13) for out" in output
    assert "2 failed" in output


@pytest.mark.parametrize("suffix, old, new", [
    ("md", "| Verdict | VERIFIED |", "| Verdict | VERIFIED, with remarks |"),
    ("html", "<td class=\"pass\">pass</td>", "<td class=\"pass\">passed</td>"),
    ("md", "## Checks", "## Checks made"),
])
def test_an_edited_readable_text_is_found(cli: Cli, run: Path, suffix: str, old: str, new: str) -> None:
    path = record(cli, f"rec.{suffix}")
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, output = check(cli, path)
    assert code == 13
    assert re.search(r"line \d+ differs from the rendering of the sealed record", output)


@pytest.mark.parametrize("suffix", ["json", "md", "html"])
def test_edited_data_no_longer_matches_the_seal(cli: Cli, run: Path, suffix: str) -> None:
    path = record(cli, f"rec.{suffix}")
    text = path.read_text(encoding="utf-8")
    assert '"verified": true' in text
    path.write_text(text.replace('"verified_at": "', '"verified_at": "1', 1), encoding="utf-8")
    code, output = check(cli, path)
    assert code == 13 and "does not match its seal" in output


def test_a_resealed_forgery_is_caught_by_the_signature(cli: Cli, run: Path) -> None:
    assert cli("keygen", "auditor").exit_code == 0
    path = record(cli, "rec.json", "--record-key", "auditor.pem")
    code, output = check(cli, path)
    assert code == 0 and "signed by SHA256:" in output
    fingerprint = re.search(r"signed by (SHA256:\S+?)\)", output)[1]  # type: ignore[index]
    assert check(cli, path, "--signed-by", fingerprint)[0] == 0
    # Forge: change the verdict, recompute the seal as the program would; the signature no longer fits.
    from qualiscore import verdict

    data = json.loads(path.read_text(encoding="utf-8"))
    data["verified_at"] = "2020-01-01T00:00:00Z"
    data["seal"]["sha256"] = verdict._seal(data)
    path.write_bytes(verdict.render(data, "json"))
    code, output = check(cli, path)
    assert code == 9 and "signature is not valid" in output


def test_signed_by_another_key_or_unsigned_is_refused(cli: Cli, run: Path) -> None:
    path = record(cli, "rec.md")
    code, output = check(cli, path, "--signed-by", "SHA256:abc")
    assert code == 9 and "is not signed, not by SHA256:abc" in output


@pytest.mark.parametrize("content", [b"hello", b"{\"format\": \"other\", \"seal\": {}}", b"\xff\xfe", b"# Verification record\nno data"])
def test_a_file_that_is_no_record_is_exit_16(cli: Cli, run: Path, content: bytes) -> None:
    path = Path("not-a-record.md")
    path.write_bytes(content)
    code, output = check(cli, path)
    assert code == 16, output


def test_the_record_goes_to_standard_output_without_o(cli: Cli, run: Path) -> None:
    result = cli("verify", "out", "--format", "md")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Verification record\n")
    Path("stdout.md").write_text(result.stdout, encoding="utf-8")
    assert check(cli, Path("stdout.md"))[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--record-key", "k.pem"], "--record-key signs a verification record, and none is asked for"),
    (["-o", "rec.txt"], "a verification record is written as json, md or html"),
    (["-o", "rec.md", "--format", "text"], "a verification record is written as json, md or html"),
])
def test_record_usage_errors(cli: Cli, run: Path, args: list[str], message: str) -> None:
    Path("k.pem").write_text("x", encoding="utf-8")
    result = cli("verify", "out", *args)
    assert result.exit_code == 2 and message in result.output + result.stderr


def test_hostile_names_are_escaped_and_the_record_still_checks(cli: Cli, run: Path) -> None:
    weird = "out`</script><b>\u202e|x"
    shutil.copytree(run, weird)
    for suffix in ("md", "html"):
        result = cli("verify", weird, "-o", f"rec.{suffix}")
        assert result.exit_code == 0, result.output
        text = Path(f"rec.{suffix}").read_text(encoding="utf-8")
        assert "</script><b>" not in text and "\u202e" not in text
        assert check(cli, Path(f"rec.{suffix}"))[0] == 0


def test_the_html_record_is_well_formed(cli: Cli, run: Path) -> None:
    path = record(cli, "rec.html")

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in ("meta",):
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack.pop() == tag

    parser = Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    assert parser.stack == []


def test_a_signed_run_is_recorded_with_who_signed_it(cli: Cli, run: Path) -> None:
    """The record's Signature row says what verify found, not "not signed" for a signed run."""
    assert cli("keygen", "committee").exit_code == 0
    result = cli("evaluate", Q2, "data/head.csv", "-o", "out", "-q", "--force", "--sign-key", "committee.pem",
                 "--operator", "张三")
    assert result.exit_code == 0, result.output
    path = record(cli, "rec.md", "--public-key", "committee.pub.pem")
    row = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("| Signature |"))
    assert "signed with key SHA256:" in row or "signed by " in row
    assert "张三" in row and "not signed" not in row
    assert check(cli, path)[0] == 0
