"""Who may sign a run: trusted-keys.yaml, and what `qualiscore verify` says of a signer.

The story these tests tell: the committee makes a key (`keygen --owner`), pastes the
entry it prints into trusted-keys.yaml in its rules repository, signs runs with
`evaluate --sign-key --operator`; an auditor runs `verify`. Someone who edits an input
and re-signs with a key of their own gets exit 17 (signer not checked) without trusted
keys and exit 9 with them; a key is trusted only on the days its entry gives.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Cli

pytest.importorskip("cryptography")

from qualiscore import signing
from qualiscore.errors import SchemeLoadError, UsageError
from qualiscore.trust import (
    TrustedKeysError,
    check_signer,
    find_trusted_keys,
    load_trusted_keys,
)
from qualiscore.verify import verify as verify_run

ROOT = Path(__file__).resolve().parent.parent
Q2 = "rules/cs-quality/2026Q2.yaml"
OWNER = "服务质量委员会"
HEADER = "format: qualiscore-trusted-keys/v1\nkeys:\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory and the root of a git repository (so no trusted-keys.yaml above it
    is found), with rules/ and data/head.csv (100 April rows)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    lines = (ROOT / "data" / "sample" / "interactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "head.csv").write_text("".join(lines[:101]), encoding="utf-8")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def keygen(cli: Cli, name: str, owner: str = OWNER) -> tuple[str, str]:
    """A key pair NAME.pem / NAME.pub.pem: its fingerprint and the trusted-keys entry keygen printed."""
    result = cli("keygen", name, "--owner", owner)
    assert result.exit_code == 0, result.output
    fingerprint = re.search(r"fingerprint (SHA256:\S+)", result.output)[1]  # type: ignore[index]
    entry = result.output[result.output.index("  - owner:"):]
    return fingerprint, entry


def trusted_keys(path: str | Path, *entries: str) -> Path:
    path = Path(path)
    path.write_text(HEADER + "".join(entries), encoding="utf-8")
    return path


def with_dates(entry: str, valid_from: str, valid_to: str | None = None) -> str:
    entry = re.sub(r"valid_from: \S+", f"valid_from: {valid_from}", entry)
    return entry + (f"    valid_to: {valid_to}\n" if valid_to else "")


def evaluate(cli: Cli, *args: str, out: str = "out", data: str = "data/head.csv") -> Path:
    result = cli("evaluate", Q2, data, "-o", out, "-q", *args)
    assert result.exit_code == 0, result.output
    return Path(out)


def signed_at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Sign as if it were ``when`` (UTC)."""
    moment = dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc)
    monkeypatch.setattr(signing, "_now", lambda: moment)


def verify(cli: Cli, *args: str) -> Result:
    return cli("verify", *args)


# --------------------------------------------------------------------------- keygen's entry


def test_keygen_prints_an_entry_that_reads_back(cli: Cli, work: Path) -> None:
    fingerprint, entry = keygen(cli, "committee")
    assert entry.startswith(f'  - owner: "{OWNER}"\n    fingerprint: "{fingerprint}"\n    public_key: |\n'
                            "      -----BEGIN PUBLIC KEY-----\n")
    assert f"    valid_from: {dt.date.today().isoformat()}\n" in entry
    keys = load_trusted_keys(trusted_keys("trusted-keys.yaml", entry))
    (key,) = keys.keys
    assert (key.owner, key.fingerprint, key.valid_from, key.valid_to) == (OWNER, fingerprint, dt.date.today(), None)
    assert str(key.location) == "trusted-keys.yaml:3:5"


def test_keygen_owner_defaults_to_the_key_name_and_is_quoted_for_yaml(cli: Cli, work: Path) -> None:
    result = cli("keygen", "ops")
    assert '  - owner: "ops"\n' in result.output
    _, entry = keygen(cli, "odd", owner='QA: "night" shift #2')
    (key,) = load_trusted_keys(trusted_keys("t.yaml", entry)).keys
    assert key.owner == 'QA: "night" shift #2'
    assert cli("keygen", "blank", "--owner", " ").exit_code == 2


# --------------------------------------------------------------------------- mistakes in trusted-keys.yaml


def findings(path: Path) -> list[str]:
    with pytest.raises(TrustedKeysError) as error:
        load_trusted_keys(path)
    assert error.value.exit_code == 3
    return error.value.format().splitlines()


def test_a_fingerprint_not_of_its_key_is_located(cli: Cli, work: Path) -> None:
    committee, entry = keygen(cli, "committee")
    stranger, _ = keygen(cli, "stranger")
    path = trusted_keys("trusted-keys.yaml", entry.replace(committee, stranger))
    assert findings(path) == [
        f"trusted-keys.yaml:4:19: error[key-fingerprint-mismatch] /keys/0/fingerprint: fingerprint {stranger} is "
        f"not that of this public key, which is {committee} — copy the fingerprint and the public key from the "
        "same `qualiscore keygen` output (or from the same .pub.pem file)"]


def test_dates_that_do_not_exist_or_are_reversed_are_located(cli: Cli, work: Path) -> None:
    _, first = keygen(cli, "first")
    _, second = keygen(cli, "second")
    path = trusted_keys("trusted-keys.yaml", with_dates(first, "2026-02-30"),
                        with_dates(second, "2026-06-01", "2026-05-31"))
    lines = findings(path)
    assert lines[0] == ("trusted-keys.yaml:9:17: error[key-bad-date] /keys/0/valid_from: 2026-02-30 is not a date "
                        "that exists — write the date as YYYY-MM-DD, e.g. 2026-12-31")
    assert re.match(r"trusted-keys\.yaml:19:15: error\[key-dates-reversed\] /keys/1/valid_to: valid_to 2026-05-31 "
                    r"is before valid_from 2026-06-01", lines[1]), lines
    assert len(lines) == 2


def test_a_key_listed_twice_is_located_at_the_second_entry(cli: Cli, work: Path) -> None:
    fingerprint, entry = keygen(cli, "committee")
    path = trusted_keys("trusted-keys.yaml", entry, entry.replace(OWNER, "另一个名字"))
    assert findings(path) == [
        f"trusted-keys.yaml:11:5: error[key-duplicate] /keys/1: the key {fingerprint} is listed already, at line 3 "
        "— list each key once; to change its owner or dates, edit its first entry"]


@pytest.mark.parametrize(("text", "expected"), [
    ("format: qualiscore-trusted-keys/v2\nkeys: []\n",
     "t.yaml:1:9: error[invalid-value] /format: 'qualiscore-trusted-keys/v2' must be 'qualiscore-trusted-keys/v1'"),
    ("format: qualiscore-trusted-keys/v1\n",
     "t.yaml:1:1: error[missing-key] missing required key 'keys' — add `keys:` here (see docs/auditing.md, "
     "\"Who signed, and when\")"),
    (HEADER + "  - owner: x\n    fingerprint: SHA256:abc\n    public_key: x\n    valid_from: 2026-01-01\n",
     "t.yaml:4:18: error[invalid-value] /keys/0/fingerprint: 'SHA256:abc' does not have the expected form — "
     "write the fingerprint as `qualiscore keygen` prints it"),
    (HEADER + "  - owner: x\n    fingerprint: SHA256:" + "A" * 43 + "\n    public_key: junk\n"
     "    valid_from: 2026-01-01\n",
     "t.yaml:5:17: error[key-unreadable] /keys/0/public_key: public_key is not a PEM public key"),
    (HEADER + "  - owner: x\n    fingerprint: SHA256:" + "A" * 43 + "\n    public_key: junk\n"
     "    valid_from: 20260101\n",
     "t.yaml:6:17: error[wrong-type] /keys/0/valid_from: 20260101 is not of type string — write the date as "
     "YYYY-MM-DD"),
    (HEADER + "  - owner: x\n    fingerprint: SHA256:" + "A" * 43 + "\n    public_key: junk\n"
     "    valid_form: 2026-01-01\n",
     "t.yaml:6:5: error[unknown-key] /keys/0/valid_form: unknown key 'valid_form' — did you mean 'valid_from'?"),
], ids=["format", "no-keys", "fingerprint-form", "public-key", "date-type", "misspelt-key"])
def test_schema_findings_are_located_with_a_hint(work: Path, text: str, expected: str) -> None:
    Path("t.yaml").write_text(text, encoding="utf-8")
    assert any(line.startswith(expected) for line in findings(Path("t.yaml"))), findings(Path("t.yaml"))


def test_hostile_yaml_is_refused_by_the_loader(work: Path) -> None:
    Path("t.yaml").write_text(HEADER + "  - &k {owner: x}\n  - *k\n", encoding="utf-8")
    with pytest.raises(SchemeLoadError) as error:
        load_trusted_keys("t.yaml")
    assert error.value.code == "yaml-alias" and str(error.value.location) == "t.yaml:3:5"


def test_verify_stops_at_a_broken_trusted_keys_file_with_exit_3(cli: Cli, work: Path) -> None:
    _, entry = keygen(cli, "committee")
    out = evaluate(cli, "--sign-key", "committee.pem")
    trusted_keys("rules/trusted-keys.yaml", entry, entry)
    for args in ([], ["--trusted-keys", "rules/trusted-keys.yaml"]):
        result = verify(cli, str(out), *args)
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith("rules/trusted-keys.yaml:11:5: error[key-duplicate]"), result.stderr
        assert "Traceback" not in result.output


# --------------------------------------------------------------------------- the scenario


def test_an_edited_input_resigned_with_another_key_is_caught(cli: Cli, work: Path) -> None:
    committee, entry = keygen(cli, "committee")
    stranger, _ = keygen(cli, "stranger")
    evaluate(cli, "--sign-key", "committee.pem", "--operator", "张三")
    # Someone changes a row of the input, runs again and signs with a key of their own.
    text = Path("data/head.csv").read_text(encoding="utf-8")
    Path("data/head.csv").write_text(text.replace(",true,", ",false,", 5), encoding="utf-8")
    evaluate(cli, "--sign-key", "stranger.pem", "--operator", "张三")

    result = verify(cli, "out")  # every hash matches the edited input: only the signer is wrong
    assert result.exit_code == 17, result.output
    assert result.output.startswith("signature valid, signer not checked: out is reproduced exactly")
    assert f"signed with key {stranger} at " in result.output and "by 张三 on " in result.output
    assert committee not in result.output

    trusted_keys("committee-keys.yaml", entry)
    result = verify(cli, "out", "--trusted-keys", "committee-keys.yaml")
    assert result.exit_code == 9, result.output
    assert re.search(rf"signature: the run was signed by {re.escape(stranger)} \(at \S+Z by 张三 on .*\), a key "
                     r"committee-keys\.yaml does not list: do not trust this run", result.output), result.output

    # The same file kept in the rules repository is found without being named.
    shutil.copy("committee-keys.yaml", "rules/trusted-keys.yaml")
    result = verify(cli, "out")
    assert result.exit_code == 9 and "a key rules/trusted-keys.yaml does not list" in result.output


def test_a_run_signed_by_a_trusted_key_verifies_and_says_who_when_where(cli: Cli, work: Path) -> None:
    fingerprint, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", entry)
    out = evaluate(cli, "--sign-key", "committee.pem", "--operator", "张三")
    result = verify(cli, str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "verified: out is reproduced exactly from its scheme and inputs (all hashes match)"
    assert re.fullmatch(rf"  signed by {OWNER} \({re.escape(fingerprint)}\) at \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                        r"by 张三 on \S.*", lines[1]), lines
    assert lines[2] == "  trusted keys: rules/trusted-keys.yaml"
    # A file nearer to the scheme is the one used; the JSON says so too.
    shutil.move("rules/trusted-keys.yaml", "rules/cs-quality/trusted-keys.yaml")
    report = json.loads(verify(cli, str(out), "--format", "json").output)
    assert report["signature"]["trusted_keys"] == ["rules/cs-quality/trusted-keys.yaml"]
    assert report["signature"]["owner"] == OWNER and report["exit_code"] == 0


def test_the_report_dataclass_carries_the_envelope(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fingerprint, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", entry)
    signed_at(monkeypatch, f"{dt.date.today().isoformat()}T08:30:00")
    out = evaluate(cli, "--sign-key", "committee.pem", "--operator", "张三")
    report = verify_run(out)
    assert report.exit_code == 0 and report.signature_status == "trusted"
    assert report.signer == fingerprint and report.signer_owner == OWNER
    assert report.envelope is not None and report.envelope.signed_at == f"{dt.date.today().isoformat()}T08:30:00Z"
    assert report.envelope.operator == "张三" and report.envelope.host
    assert report.envelope.command == ("qualiscore", "evaluate", Q2, "data/head.csv", "-o", "out", "-q",
                                       "--sign-key", "committee.pem", "--operator", "张三")
    assert report.trusted_keys == ("rules/trusted-keys.yaml",)


# --------------------------------------------------------------------------- the days a key may sign


@pytest.mark.parametrize(("when", "valid_from", "valid_to", "exit", "why"), [
    ("2026-12-31T23:59:59", "2026-01-01", "2026-12-31", 0, None),
    ("2027-01-01T00:00:00", "2026-01-01", "2026-12-31", 9, "its validity ended on 2026-12-31"),
    ("2026-06-30T12:00:00", "2026-07-01", None, 9, "it is valid only from 2026-07-01"),
    ("2026-07-01T00:00:00", "2026-07-01", None, 0, None),
], ids=["last-day", "expired", "not-yet-valid", "first-day"])
def test_a_key_is_trusted_only_on_its_days(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch, when: str,
                                          valid_from: str, valid_to: str | None, exit: int, why: str | None) -> None:
    fingerprint, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", with_dates(entry, valid_from, valid_to))
    signed_at(monkeypatch, when)
    out = evaluate(cli, "--sign-key", "committee.pem", "--operator", "张三")
    result = verify(cli, str(out))
    assert result.exit_code == exit, result.output
    if why is not None:
        assert f"signature: the run was signed by {OWNER} ({fingerprint}) at {when}Z by 张三 on " in result.output
        assert "but rules/trusted-keys.yaml:3:5 trusts that key " in result.output and why in result.output


def test_a_later_key_of_the_same_owner_takes_over(cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, old = keygen(cli, "old")
    _, new = keygen(cli, "new")
    trusted_keys("rules/trusted-keys.yaml", with_dates(old, "2026-01-01", "2026-06-30"), with_dates(new, "2026-07-01"))
    signed_at(monkeypatch, "2026-08-01T09:00:00")
    evaluate(cli, "--sign-key", "new.pem", out="new-run")
    evaluate(cli, "--sign-key", "old.pem", out="old-run")
    assert verify(cli, "new-run").exit_code == 0
    assert verify(cli, "old-run").exit_code == 9


# --------------------------------------------------------------------------- unsigned runs, tampered envelopes


def test_unsigned_run_needs_a_signature_when_trusted_keys_are_given_or_found(cli: Cli, work: Path) -> None:
    out = evaluate(cli)
    result = verify(cli, str(out))  # no trusted keys anywhere: nothing asks for a signature
    assert result.exit_code == 0 and "\n  not signed\n" in result.output, result.output
    _, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", entry)
    result = verify(cli, str(out))  # the committee keeps trusted keys: removing a signature must not pass
    assert result.exit_code == 9, result.output
    assert ("signature: out is not signed (no manifest.json.sig), but rules/trusted-keys.yaml lists the keys that "
            "sign the runs of these schemes") in result.output
    result = verify(cli, str(out), "--trusted-keys", "rules/trusted-keys.yaml")
    assert result.exit_code == 9, result.output
    assert "signature: out is not signed (no manifest.json.sig), but rules/trusted-keys.yaml was given" \
           in result.output


def test_trusted_keys_and_public_key_together_are_a_usage_error(cli: Cli, work: Path) -> None:
    _, entry = keygen(cli, "committee")
    out = evaluate(cli, "--sign-key", "committee.pem")
    trusted_keys("t.yaml", entry)
    result = verify(cli, str(out), "--trusted-keys", "t.yaml", "--public-key", "committee.pub.pem")
    assert result.exit_code == 2 and "give --trusted-keys or --public-key, not both" in result.output
    with pytest.raises(UsageError):
        check_signer(out, [], trusted_keys="t.yaml", public_key="committee.pub.pem")


def test_tampered_signed_at_fails_the_signature(cli: Cli, work: Path) -> None:
    _, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", with_dates(entry, "2020-01-01", "2020-12-31"))
    out = evaluate(cli, "--sign-key", "committee.pem")
    path = out / "manifest.json.sig"
    envelope = json.loads(path.read_text(encoding="utf-8"))
    envelope["payload"]["signed_at"] = "2020-06-01T09:00:00Z"  # into the key's days: the signature breaks
    path.write_text(json.dumps(envelope), encoding="utf-8")
    result = verify(cli, str(out))
    assert result.exit_code == 9, result.output
    assert "does not match its payload: the envelope was changed after signing" in result.output


def test_an_envelope_of_another_manifest_is_refused(cli: Cli, work: Path) -> None:
    _, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", entry)
    evaluate(cli, "--sign-key", "committee.pem")
    evaluate(cli, "--sign-key", "committee.pem", "--by", "team", out="other")
    shutil.copy("other/manifest.json.sig", "out/manifest.json.sig")  # validly signed, but for another manifest
    result = verify(cli, "out")
    assert result.exit_code == 9, result.output
    assert "the signature does not match manifest.json: the manifest was changed after signing" in result.output


def test_the_first_signature_format_is_refused_with_a_way_out(cli: Cli, work: Path) -> None:
    keygen(cli, "committee")
    out = evaluate(cli, "--sign-key", "committee.pem")
    envelope = json.loads((out / "manifest.json.sig").read_text(encoding="utf-8"))
    v1 = {k: envelope[k] for k in ("algorithm", "public_key", "fingerprint", "signature")}
    (out / "manifest.json.sig").write_text(json.dumps(v1), encoding="utf-8")
    result = verify(cli, str(out))
    assert result.exit_code == 9, result.output
    assert "a signature of the old format (qualiscore-signature/v1" in result.output
    assert "re-sign the run" in result.output


# --------------------------------------------------------------------------- finding trusted-keys.yaml


def test_the_nearest_file_up_to_the_git_root_is_found(tmp_path: Path) -> None:
    scheme = tmp_path / "repo" / "rules" / "cs" / "2026Q2.yaml"
    scheme.parent.mkdir(parents=True)
    (tmp_path / "trusted-keys.yaml").write_text(HEADER, encoding="utf-8")  # above the repository: never read
    (tmp_path / "repo" / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")  # a worktree's .git file
    assert find_trusted_keys([scheme]) == ()
    (tmp_path / "repo" / "trusted-keys.yaml").write_text(HEADER, encoding="utf-8")
    assert find_trusted_keys([scheme]) == (tmp_path / "repo" / "trusted-keys.yaml",)
    (tmp_path / "repo" / "rules" / "trusted-keys.yaml").write_text(HEADER, encoding="utf-8")
    other = tmp_path / "repo" / "rules" / "qa" / "2026Q2.yaml"
    assert find_trusted_keys([scheme, other]) == (tmp_path / "repo" / "rules" / "trusted-keys.yaml",)
    (tmp_path / "repo" / ".git").unlink()  # no repository: up to the root of the file system
    (tmp_path / "repo" / "trusted-keys.yaml").unlink()
    (tmp_path / "repo" / "rules" / "trusted-keys.yaml").unlink()
    assert find_trusted_keys([scheme]) == (tmp_path / "trusted-keys.yaml",)


# --------------------------------------------------------------------------- kept beside the schemes


def test_validate_on_the_rules_directory_checks_trusted_keys_as_trusted_keys(cli: Cli, work: Path) -> None:
    _, entry = keygen(cli, "committee")
    trusted_keys("rules/trusted-keys.yaml", entry)
    result = cli("validate", "rules/")
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert cli("evaluate", "rules/cs-quality/", "data/head.csv", "-o", "o2", "-q").exit_code == 0
    trusted_keys("rules/trusted-keys.yaml", with_dates(entry, "2026-02-30"))
    result = cli("validate", "rules/")
    assert result.exit_code == 1
    assert re.search(r"rules/trusted-keys\.yaml:\d+:\d+: error\[key-bad-date\]", result.output), result.output
    assert "missing-key" not in result.output  # not read as a scheme
