"""What a run promises about its outputs, end to end: no silent pass, verify covers every file, no file lost.

The hostile-input harness of tests/test_hostile_inputs.py (a subprocess under memory, CPU
and wall-clock limits; no traceback and only documented exit statuses) runs each case of
OUTPUT_CASES, which records the exit status it must give and what must hold afterwards:

* a run that scores nothing, or reads past a column the contract names, fails (exit 15)
  and publishes nothing, unless --allow-empty / --allow-missing-columns say otherwise;
* ``evaluate -o DIR`` replaces only an earlier run's output (exit 6 otherwise), never the
  current, home or root directory or one holding its inputs, follows a symbolic link,
  and leaves no temporary file behind whatever happens (a full disk included);
* ``verify``, ``report`` and ``explain`` on a damaged manifest give exit 16 and say which
  key is wrong; ``verify`` accounts for every file of the directory (reports too).

Concurrency, interruption and the engines' agreement have tests of their own below.
"""

from __future__ import annotations

import dataclasses
import fcntl
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import HAS_POLARS, Cli
from qualiscore.publish import Stage
from test_hostile_inputs import (
    SCHEME,
    Completed,
    check_completed,
    posix_only,
    run_all,
    run_limited,
    sandbox_env,
    snapshot,
    spawn_limited,
    write_small_csv,
)

OUTPUTS = ["manifest.json", "rejects.csv", "row-digests.bin", "scorecards.csv", "scorecards.jsonl"]
HAS_CRYPTO = importlib.util.find_spec("cryptography") is not None
HAS_PLOTLY = importlib.util.find_spec("plotly") is not None


# --------------------------------------------------------------------------- building blocks


def scheme_with(path: Path, **columns: str) -> Path:
    """The bundled scheme with ``column:`` set for some fields (field name -> column)."""
    text = SCHEME.read_text(encoding="utf-8")
    for field, column in columns.items():
        head = f"    {field}: {{type:"
        assert head in text, field
        text = text.replace(head, f"    {field}: {{column: {column}, type:", 1)
    path.write_text(text, encoding="utf-8")
    return path


def renamed_csv(path: Path, rows: int = 20, **renames: str) -> Path:
    """A slice of the sample with some header names changed (old -> new)."""
    write_small_csv(path, rows)
    lines = path.read_text(encoding="utf-8").split("\n", 1)
    header = [renames.get(h, h) for h in lines[0].split(",")]
    path.write_text(",".join(header) + "\n" + lines[1], encoding="utf-8")
    return path


def good_run(tmp_path: Path, out: str = "out", *extra: str) -> Path:
    write_small_csv(tmp_path / "data.csv")
    res = run_limited(["evaluate", SCHEME, "data.csv", "-o", out, "-q", *extra], tmp_path, timeout=60)
    assert res.returncode == 0, res.output
    return tmp_path / out


def leftovers(directory: Path) -> list[str]:
    """Hidden files a run leaves beside its output: stages, moved-aside outputs, lock files."""
    return sorted(p.name for p in directory.iterdir() if re.match(r"\..*\.(tmp-|old-|lock$)", p.name))


def edit_manifest(out: Path, change: Callable[[dict], object]) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    result = change(manifest)
    path.write_text(result if isinstance(result, str) else json.dumps(manifest), encoding="utf-8")


# --------------------------------------------------------------------------- the corpus


@dataclasses.dataclass(frozen=True)
class OutputCase:
    """One hostile situation: ``setup`` prepares tmp_path and returns the command's arguments."""

    id: str
    setup: Callable[[Path], list[str | Path]]
    exit: int
    message: str | None = None  # regex the output must match
    check: Callable[[Path, Completed], None] | None = None


def _misspelt_required(tmp: Path) -> list[str | Path]:
    renamed_csv(tmp / "data.csv", channel="Channel Type")
    return ["evaluate", scheme_with(tmp / "s.yaml", channel="Chanel Type"), "data.csv", "-o", "out"]


def _misspelt_nullable(tmp: Path) -> list[str | Path]:
    renamed_csv(tmp / "data.csv", csat="CSAT Score")
    return ["evaluate", scheme_with(tmp / "s.yaml", csat="CSAT Scor"), "data.csv", "-o", "out"]


def _misspelt_allowed(tmp: Path) -> list[str | Path]:
    return [*_misspelt_nullable(tmp), "--allow-missing-columns"]


def _every_row_rejected(tmp: Path) -> list[str | Path]:
    write_small_csv(tmp / "data.csv")
    text = (tmp / "data.csv").read_text(encoding="utf-8")
    for channel in ("phone", "chat", "ticket", "email"):
        text = text.replace(f",{channel},", ",fax,")
    (tmp / "data.csv").write_text(text, encoding="utf-8")
    return ["evaluate", SCHEME, "data.csv", "-o", "out"]


def _header_only(tmp: Path) -> list[str | Path]:
    write_small_csv(tmp / "data.csv", rows=0)
    return ["evaluate", SCHEME, "data.csv", "-o", "out"]


def _header_only_allowed(tmp: Path) -> list[str | Path]:
    return [*_header_only(tmp), "--allow-empty"]


def _nothing_published(tmp: Path, res: Completed) -> None:
    assert not (tmp / "out").exists()
    assert leftovers(tmp) == []


def _published(tmp: Path, res: Completed) -> None:
    assert sorted(p.name for p in (tmp / "out").iterdir()) == OUTPUTS
    manifest = json.loads((tmp / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["read"] == manifest["rows"]["scored"] + manifest["rows"]["rejected"]
    assert leftovers(tmp) == []


def _extension_folder(tmp: Path) -> list[str | Path]:
    ext = tmp / "ext"
    (ext / "src").mkdir(parents=True)
    (ext / "manifest.json").write_text('{"manifest_version": 3, "name": "x"}', encoding="utf-8")
    (ext / "background.js").write_text("chrome.runtime.onInstalled", encoding="utf-8")
    (ext / "src" / "popup.js").write_text("//", encoding="utf-8")
    write_small_csv(tmp / "data.csv")
    return ["evaluate", SCHEME, "data.csv", "-o", "ext"]


def _extension_untouched(tmp: Path, res: Completed) -> None:
    assert sorted(p.name for p in (tmp / "ext").iterdir()) == ["background.js", "manifest.json", "src"]
    assert (tmp / "ext" / "src" / "popup.js").is_file()
    assert leftovers(tmp) == []


def _output_with_a_note(tmp: Path) -> list[str | Path]:
    out = good_run(tmp)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    return ["evaluate", SCHEME, "data.csv", "-o", "out"]


def _output_with_a_note_forced(tmp: Path) -> list[str | Path]:
    return [*_output_with_a_note(tmp), "--force"]


def _note_kept(tmp: Path, res: Completed) -> None:
    assert (tmp / "out" / "notes.txt").read_text(encoding="utf-8") == "mine"


def _note_replaced(tmp: Path, res: Completed) -> None:
    assert sorted(p.name for p in (tmp / "out").iterdir()) == OUTPUTS
    assert leftovers(tmp) == []


def _dot_inside_an_output(tmp: Path) -> list[str | Path]:
    good_run(tmp)
    return ["evaluate", SCHEME, "../data.csv", "-o", ".", "--force"]


def _parent_of_the_input(tmp: Path) -> list[str | Path]:
    write_small_csv(tmp / "in" / "data.csv")
    return ["evaluate", SCHEME, "in/data.csv", "-o", "in", "--force"]


def _input_untouched(tmp: Path, res: Completed) -> None:
    assert sorted(p.name for p in (tmp / "in").iterdir()) == ["data.csv"]
    assert leftovers(tmp) == []


def _symlink(tmp: Path) -> list[str | Path]:
    good_run(tmp, "real")
    (tmp / "link").symlink_to("real")
    return ["evaluate", SCHEME, "data.csv", "-o", "link", "--by", "team"]


def _symlink_followed(tmp: Path, res: Completed) -> None:
    assert (tmp / "link").is_symlink() and os.readlink(tmp / "link") == "real"
    manifest = json.loads((tmp / "real" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["group_by"] == ["team"]  # the target was replaced in place
    assert leftovers(tmp) == []
    assert not [p for p in tmp.iterdir() if p.is_symlink() and p.name != "link"]


def _dangling_symlink(tmp: Path) -> list[str | Path]:
    write_small_csv(tmp / "data.csv")
    (tmp / "link").symlink_to("nowhere")
    return ["evaluate", SCHEME, "data.csv", "-o", "link"]


OUTPUT_CASES = [
    OutputCase("misspelt-required-column", _misspelt_required, 15,
               r"data\.csv: error\[missing-column\] field 'channel' reads column 'Chanel Type', which is not in the "
               r"header of data\.csv \(did you mean 'Channel Type'\?\): all 20 row\(s\) of data\.csv were rejected",
               _nothing_published),
    OutputCase("misspelt-nullable-column", _misspelt_nullable, 15,
               r"error\[missing-column\] field 'csat' reads column 'CSAT Scor'.*did you mean 'CSAT Score'.*nullable",
               _nothing_published),
    OutputCase("misspelt-column-allowed", _misspelt_allowed, 0, r"rows read 20 = scored 20 \+ rejected 0", _published),
    OutputCase("every-row-rejected", _every_row_rejected, 15,
               r"error\[nothing-scored\] no row was scored: rows read 20 = scored 0 \+ rejected 20; "
               r"most rejected: 20 × not-in-enum \(channel\)", _nothing_published),
    OutputCase("header-only", _header_only, 15, r"error\[nothing-scored\] .*no data rows", _nothing_published),
    OutputCase("header-only-allowed", _header_only_allowed, 0, r"rows read 0 = scored 0 \+ rejected 0", _published),
    OutputCase("foreign-manifest-json", _extension_folder, 6, r"error\[output\] ext holds a manifest\.json that is "
               r"not a valid run manifest.*refusing to replace it\n  hint: .*--force", _extension_untouched),
    OutputCase("earlier-output-plus-a-file", _output_with_a_note, 6,
               r"out holds what no run wrote \(notes\.txt\).*\n  hint: .*--force", _note_kept),
    OutputCase("earlier-output-plus-a-file-forced", _output_with_a_note_forced, 0, None, _note_replaced),
    OutputCase("dash-o-dot-forced", _dot_inside_an_output, 6,
               r"refusing to replace \.: it is the current directory"),
    OutputCase("parent-of-the-input-forced", _parent_of_the_input, 6,
               r"refusing to replace in: it is a parent of in/data\.csv, which this run reads", _input_untouched),
    OutputCase("symlink-to-an-output", _symlink, 0, None, _symlink_followed),
    OutputCase("dangling-symlink", _dangling_symlink, 6, r"link is a symbolic link to nowhere, which does not exist"),
]


@posix_only
@pytest.mark.parametrize("case", OUTPUT_CASES, ids=[c.id for c in OUTPUT_CASES])
def test_output_case(case: OutputCase, tmp_path: Path) -> None:
    args = case.setup(tmp_path)
    cwd = tmp_path / "out" if case.id == "dash-o-dot-forced" else tmp_path
    before = snapshot(cwd) if case.id == "dash-o-dot-forced" else None
    res = run_limited(args, cwd, timeout=60)
    assert res.returncode == case.exit, res.output[-3000:]
    if case.message is not None:
        assert re.search(case.message, res.output), res.output[-3000:]
    if case.check is not None:
        case.check(tmp_path, res)
    if before is not None:
        assert snapshot(cwd) == before and leftovers(tmp_path) == []


def test_output_corpus_records_every_status() -> None:
    assert {c.exit for c in OUTPUT_CASES} == {0, 6, 15}
    assert len({c.id for c in OUTPUT_CASES}) == len(OUTPUT_CASES)


@posix_only
def test_home_and_root_are_never_replaced(tmp_path: Path) -> None:
    write_small_csv(tmp_path / "work" / "data.csv")
    home = tmp_path / "users" / "me"
    home.mkdir(parents=True)
    env = {**sandbox_env(tmp_path / "work"), "HOME": str(home)}
    for target, why in ((home, "your home directory"), (home.parent, "a parent of your home directory"),
                        (Path("/"), "the root of the file system")):
        cmd = [sys.executable, "-m", "qualiscore", "evaluate", str(SCHEME), "data.csv", "-o", str(target), "--force"]
        res = spawn_limited(cmd, tmp_path / "work", timeout=60, env=env)
        check_completed(res, " ".join(cmd[2:]))
        assert res.returncode == 6 and why in res.stderr, res.output
    assert sorted(p.name for p in home.iterdir()) == []


@posix_only
def test_a_full_disk_leaves_the_previous_output_and_no_temporary_file(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes every write past 64 KiB fail with EFBIG, as a full disk fails with ENOSPC."""
    out = good_run(tmp_path)
    before = snapshot(out)
    write_small_csv(tmp_path / "big.csv", rows=2000)
    cmd = ["bash", "-c", 'ulimit -f 64 && exec "$0" -m qualiscore "$@"', sys.executable, "evaluate", str(SCHEME),
           "big.csv", "-o", "out"]
    res = spawn_limited(cmd, tmp_path, timeout=60)
    check_completed(res, "evaluate under ulimit -f 64")
    assert res.returncode == 6 and "File too large; nothing was published" in res.stderr, res.output
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- damaged manifests

# A well-formed git record of a scheme, for the damaged ones below.
GIT = {"path": "rules/a.yaml", "blob": "0" * 40, "commit": "1" * 40, "committed": True}

DAMAGE: list[tuple[str, Callable[[dict], object], str]] = [
    ("schemes-not-a-list", lambda m: m.update(schemes="x"), "/schemes"),
    ("rows-not-an-object", lambda m: m.update(rows=[1]), "/rows"),
    ("impossible-as-of", lambda m: m["options"].update(as_of="2026-02-30"), "/options/as_of"),
    ("count-is-text", lambda m: m["inputs"][0].update(rows_read="20"), "/inputs/0/rows_read"),
    ("sha-not-hex", lambda m: m["outputs"].update({"rejects.csv": "zz"}), "/outputs/rejects.csv"),
    ("output-outside-the-directory", lambda m: m["outputs"].update({"../../etc/passwd": "0" * 64}),
     "/outputs/..~1..~1etc~1passwd"),
    ("missing-key", lambda m: m.pop("inputs"), "/inputs"),
    ("engine-not-an-object", lambda m: m.update(engine="qualiscore"), "/engine"),
    ("not-an-object", lambda m: "[1, 2]", "/"),
    ("scheme-git-not-an-object", lambda m: m["schemes"][0].update(git="rules/a.yaml"), "/schemes/0/git"),
    ("scheme-git-blob-not-an-id", lambda m: m["schemes"][0].update(git=GIT | {"blob": "abc1234"}),
     "/schemes/0/git/blob"),
    ("scheme-git-commit-not-an-id", lambda m: m["schemes"][0].update(git=GIT | {"commit": 7}),
     "/schemes/0/git/commit"),
    ("scheme-git-committed-is-text", lambda m: m["schemes"][0].update(git=GIT | {"committed": "yes"}),
     "/schemes/0/git/committed"),
    ("scheme-git-path-out-of-the-repository", lambda m: m["schemes"][0].update(git=GIT | {"path": "../a.yaml"}),
     "/schemes/0/git/path"),
    ("scheme-git-path-missing", lambda m: m["schemes"][0].update(git={k: v for k, v in GIT.items() if k != "path"}),
     "/schemes/0/git/path"),
    ("deeply-nested", lambda m: '{"format": "qualiscore-run/v1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
     None),
    ("not-json", lambda m: '{"format": "qualiscore-run/v1",', None),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return good_run(tmp_path_factory.mktemp("published"))


@posix_only
@pytest.mark.parametrize(("name", "change", "pointer"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_manifest_is_one_clear_error_everywhere(name: str, change: Callable[[dict], object],
                                                        pointer: str | None, published: Path,
                                                        tmp_path: Path) -> None:
    shutil.copy(published.parent / "data.csv", tmp_path / "data.csv")
    out = tmp_path / "out"
    shutil.copytree(published, out)
    edit_manifest(out, change)
    results = run_all([["verify", "out"], ["report", "out", "--format", "md", "-o", "r.md"],
                       ["explain", "out", "--subject", "A001/2026-04"]], tmp_path, timeout=60)
    for res in results:
        assert res.returncode == 16, res.output[-3000:]
        assert "error[damaged-manifest]" in res.stderr
        if pointer is not None:
            assert f"] {pointer}: manifest.json is damaged here" in res.stderr, res.stderr
    assert not (tmp_path / "r.md").exists()


# --------------------------------------------------------------------------- damaged signature envelopes


def _edited(change: Callable[[dict], object]) -> Callable[[Path], None]:
    """Edit out/manifest.json.sig in place: ``change`` edits the parsed envelope (what it returns is ignored)."""
    def damage(out: Path) -> None:
        path = out / "manifest.json.sig"
        envelope = json.loads(path.read_text(encoding="utf-8"))
        change(envelope)
        path.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")

    return damage


def _replaced(content: Callable[[dict], str | bytes]) -> Callable[[Path], None]:
    """Replace out/manifest.json.sig with what ``content`` makes of the parsed envelope."""
    def damage(out: Path) -> None:
        path = out / "manifest.json.sig"
        data = content(json.loads(path.read_text(encoding="utf-8")))
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    return damage


def _as_directory(out: Path) -> None:
    (out / "manifest.json.sig").unlink()
    (out / "manifest.json.sig").mkdir()


ENVELOPE_DAMAGE: list[tuple[str, Callable[[Path], None], str]] = [
    ("not-json", _replaced(lambda e: '{"format": "qualiscore-signature/v2",'), r"is damaged: not valid JSON"),
    ("not-utf8", _replaced(lambda e: b'{"format": "\xff"}'), r"is damaged: not UTF-8 text"),
    ("not-an-object", _replaced(lambda e: "[1, 2]"), r"is damaged: expected a JSON object, found a JSON array"),
    ("deeply-nested", _replaced(lambda e: '{"payload": ' + "[" * 100_000 + "]" * 100_000 + "}"),
     r"is damaged: JSON nested too deeply"),
    ("too-large", _replaced(lambda e: " " * (1 << 20) + "{}"), r"is damaged: more than 1,048,576 bytes"),
    ("unknown-format", _edited(lambda e: e.update(format="qualiscore-signature/v3")),
     r"is damaged: /format: expected 'qualiscore-signature/v2', found \"qualiscore-signature/v3\""),
    ("payload-missing", _edited(lambda e: e.pop("payload")), r"is damaged: /payload: this key is missing"),
    ("payload-not-an-object", _edited(lambda e: e.update(payload="x")),
     r"is damaged: /payload: expected a JSON object, found \"x\""),
    ("signed-at-missing", _edited(lambda e: e["payload"].pop("signed_at")),
     r"is damaged: /payload/signed_at: this key is missing"),
    ("signed-at-impossible", _edited(lambda e: e["payload"].update(signed_at="2026-02-30T00:00:00Z")),
     r"is damaged: /payload/signed_at: expected a UTC time"),
    ("signed-at-local-time", _edited(lambda e: e["payload"].update(signed_at="2026-07-01T09:00:00+08:00")),
     r"is damaged: /payload/signed_at: expected a UTC time"),
    ("operator-a-number", _edited(lambda e: e["payload"].update(operator=42)),
     r"is damaged: /payload/operator: expected a name \(text, not blank\), found 42"),
    ("operator-lone-surrogate", _replaced(lambda e: json.dumps({**e, "payload": {**e["payload"], "operator": "@"}})
                                          .replace('"@"', '"\\ud800"')),
     r"is damaged: /payload/operator: expected a name"),
    ("host-a-list", _edited(lambda e: e["payload"].update(host=["a"])),
     r"is damaged: /payload/host: expected text, found a JSON array"),
    ("qualiscore-missing", _edited(lambda e: e["payload"].pop("qualiscore")),
     r"is damaged: /payload/qualiscore: this key is missing"),
    ("command-not-a-list", _edited(lambda e: e["payload"].update(command="qualiscore evaluate")),
     r"is damaged: /payload/command: expected a non-empty JSON array of texts"),
    ("command-of-numbers", _edited(lambda e: e["payload"].update(command=["qualiscore", 1])),
     r"is damaged: /payload/command: expected a non-empty JSON array of texts"),
    ("sha-not-hex", _edited(lambda e: e["payload"].update(manifest_sha256="zz")),
     r"is damaged: /payload/manifest_sha256: expected a SHA-256"),
    ("unexpected-payload-key", _edited(lambda e: e["payload"].update(owner="服务质量委员会")),
     r"is damaged: /payload/owner: unexpected key"),
    ("unexpected-key", _edited(lambda e: e.update(trusted=True)), r"is damaged: /trusted: unexpected key"),
    ("algorithm", _edited(lambda e: e.update(algorithm="rsa")),
     r"is damaged: /algorithm: expected 'ed25519', found \"rsa\""),
    ("signature-not-base64", _edited(lambda e: e.update(signature="%%%")),
     r"is damaged: /signature: expected an Ed25519 signature in base64"),
    ("public-key-short", _edited(lambda e: e.update(public_key="AAAA")),
     r"is damaged: /public_key: expected an Ed25519 public key in base64 \(32 bytes\)"),
    ("fingerprint-not-text", _edited(lambda e: e.update(fingerprint=None)),
     r"is damaged: /fingerprint: expected a fingerprint SHA256:…, found null"),
    ("fingerprint-not-the-keys", _edited(lambda e: e.update(fingerprint="SHA256:" + "A" * 43)),
     r"states the fingerprint SHA256:A{43}, but its public key is SHA256:"),
    ("signed-at-tampered", _edited(lambda e: e["payload"].update(signed_at="2020-01-01T00:00:00Z")),
     r"the signature in .*manifest\.json\.sig does not match its payload"),
    ("first-format", _replaced(lambda e: json.dumps({k: e[k] for k in ("algorithm", "public_key", "fingerprint",
                                                                     "signature")})),
     r"a signature of the old format \(qualiscore-signature/v1.*: re-sign the run"),
    ("a-directory", _as_directory, r"cannot read .*manifest\.json\.sig"),
]


@posix_only
def test_a_damaged_envelope_is_exit_9_naming_the_key(tmp_path: Path) -> None:
    """Every case of ENVELOPE_DAMAGE, each in its own copy of one signed run, verified side by side."""
    if not HAS_CRYPTO:
        pytest.skip("needs cryptography")
    assert run_limited(["keygen", "k"], tmp_path, timeout=60).returncode == 0
    signed = good_run(tmp_path, "signed", "--sign-key", "k.pem")
    for name, damage, _ in ENVELOPE_DAMAGE:
        shutil.copytree(signed, tmp_path / name)
        damage(tmp_path / name)
    commands = [["verify", name] for name, _, _ in ENVELOPE_DAMAGE]
    commands.append(["verify", "signed-at-tampered", "--public-key", "k.pub.pem"])
    if HAS_PLOTLY:  # the report says what the envelope states, or that it cannot be read
        commands += [["report", "not-json", "-o", "not-json.html"], ["report", "signed", "-o", "signed.html"]]
    results = run_all(commands, tmp_path, timeout=180)
    for (name, _, message), res in zip(ENVELOPE_DAMAGE, results):
        assert res.returncode == 9, (name, res.output[-3000:])
        assert re.search(r"\n  signature: .*" + message, res.stdout), (name, res.output[-3000:])
    assert results[len(ENVELOPE_DAMAGE)].returncode == 9
    if HAS_PLOTLY:
        assert [r.returncode for r in results[-2:]] == [0, 0]
        page = (tmp_path / "not-json.html").read_text(encoding="utf-8")
        assert "manifest.json.sig present but not readable as a signature" in page
        envelope = json.loads((signed / "manifest.json.sig").read_text(encoding="utf-8"))
        page = (tmp_path / "signed.html").read_text(encoding="utf-8")
        assert (f'key <span class="mono">{envelope["fingerprint"]}</span>, {envelope["payload"]["signed_at"]} by '
                f'{envelope["payload"]["operator"]}, as manifest.json.sig states') in page


def test_the_envelope_corpus_covers_every_key() -> None:
    from qualiscore.signing import _PAYLOAD, _TOP

    named = " ".join(message for _, _, message in ENVELOPE_DAMAGE)
    for key in (*_TOP, *_PAYLOAD):
        assert f"/{key}" in named, key


# --------------------------------------------------------------------------- verify covers every file


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_small_csv(tmp_path / "data.csv", rows=60)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.skipif(not (HAS_CRYPTO and HAS_PLOTLY), reason="needs cryptography and plotly")
def test_every_file_evaluate_writes_is_in_the_signed_manifest(cli: Cli, work: Path) -> None:
    assert cli("keygen", "k").exit_code == 0
    res = cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "--sign-key", "k.pem", "--report", "-q",
              *(["--format", "xlsx", "--format", "parquet"] if HAS_POLARS else []))
    assert res.exit_code == 0, res.output
    manifest = json.loads((work / "out" / "manifest.json").read_text(encoding="utf-8"))
    written = {p.name for p in (work / "out").iterdir()} - {"manifest.json", "manifest.json.sig"}
    assert set(manifest["outputs"]) == written and "report.html" in written
    page = (work / "out" / "report.html").read_text(encoding="utf-8")
    assert "manifest.json lists this page with its SHA-256" in page
    fingerprint = json.loads((work / "out" / "manifest.json.sig").read_text(encoding="utf-8"))["fingerprint"]
    assert f'signed with key <span class="mono">{fingerprint}</span>' in page
    assert cli("verify", "out", "--public-key", "k.pub.pem").exit_code == 0

    (work / "out" / "report.html").write_text(page.replace("</body>", "<script>alert(1)</script></body>"),
                                              encoding="utf-8")
    (work / "out" / "report.md").write_text("# all good\n", encoding="utf-8")
    res = cli("verify", "out", "--public-key", "k.pub.pem", "--format", "json")
    assert res.exit_code == 13
    kinds = {(d["kind"], d["file"]) for d in json.loads(res.output)["discrepancies"]}
    assert kinds == {("output-changed", "report.html"), ("output-extra", "report.md")}


@pytest.mark.skipif(not HAS_PLOTLY, reason="needs plotly")
def test_a_report_written_later_is_recorded_and_checked(cli: Cli, work: Path) -> None:
    assert cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q").exit_code == 0
    assert cli("report", "out").exit_code == 0
    assert cli("report", "out", "--format", "md").exit_code == 0
    record = json.loads((work / "out" / "reports.json").read_text(encoding="utf-8"))
    assert sorted(record["reports"]) == ["report.html", "report.md"]
    res = cli("verify", "out")
    assert res.exit_code == 0, res.output
    assert "report.md was written after the run by `qualiscore report`" in res.output
    assert "not covered by the manifest" in res.output

    (work / "out" / "report.md").write_text("# edited\n", encoding="utf-8")
    res = cli("verify", "out")
    assert res.exit_code == 13 and "report.md was changed after `qualiscore report` wrote it" in res.output
    # Never over a file of the run itself; never into a folder inside it.
    res = cli("report", "out", "--format", "md", "-o", "out/scorecards.csv")
    assert res.exit_code == 6 and "one of the run's own files" in res.output
    res = cli("report", "out", "--format", "md", "-o", "out/sub/r.md")
    assert res.exit_code == 6 and not (work / "out" / "sub").exists()
    # A new run replaces the directory whole: the reports go with it (verify stays clean).
    assert cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q", "--by", "team").exit_code == 0
    assert sorted(p.name for p in (work / "out").iterdir()) == OUTPUTS
    assert cli("verify", "out").exit_code == 0


def test_a_reports_record_of_another_run_is_reported(cli: Cli, work: Path) -> None:
    assert cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q").exit_code == 0
    (work / "out" / "report.md").write_text("# forged\n", encoding="utf-8")
    record = {"format": "qualiscore-reports/v1", "manifest_sha256": "0" * 64,
              "reports": {"report.md": "0" * 64}}
    (work / "out" / "reports.json").write_text(json.dumps(record), encoding="utf-8")
    res = cli("verify", "out")
    assert res.exit_code == 13
    assert "reports.json records reports of another manifest" in res.output
    assert "output-extra: report.md is not listed in the manifest" in res.output


def test_a_folder_in_the_output_is_extra(cli: Cli, work: Path) -> None:
    assert cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q").exit_code == 0
    (work / "out" / "src").mkdir()
    res = cli("verify", "out")
    assert res.exit_code == 13 and "output-extra: src/ is a folder the run did not write" in res.output


# --------------------------------------------------------------------------- the console and the engines


def test_summary_names_the_top_reject_reasons(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_small_csv(tmp_path / "data.csv", rows=200)  # the sample's first dirty rows are in here
    res = cli("evaluate", str(SCHEME), "data.csv", "-o", "out")
    assert res.exit_code == 0, res.output
    reasons = re.search(r"rejects:    out/rejects\.csv \(most rejected: (.*)\)", res.output)
    assert reasons, res.output
    first = re.match(r"(\d+) × ([a-z-]+)", reasons[1])
    assert first and int(first[1]) >= 1


@pytest.mark.parametrize("engine", ["rows", pytest.param("columnar", marks=pytest.mark.skipif(
    not HAS_POLARS, reason="polars is not installed"))])
def test_both_engines_refuse_alike(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    monkeypatch.chdir(tmp_path)
    args = _misspelt_required(tmp_path)
    res = cli(*map(str, args), "--engine", engine)
    assert res.exit_code == 15
    assert "field 'channel' reads column 'Chanel Type'" in res.output and "did you mean 'Channel Type'" in res.output
    res = cli(*map(str, _every_row_rejected(tmp_path)), "--engine", engine)
    assert res.exit_code == 15 and "most rejected: 20 × not-in-enum (channel)" in res.output
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- failures, interruption, concurrency


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_failed_write_removes_its_stage_and_keeps_the_previous_output(
        cli: Cli, work: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    assert cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q").exit_code == 0
    before = snapshot(work / "out")
    real = Stage.write

    def failing(self: Stage, files: dict[str, bytes]) -> None:
        real(self, dict(list(files.items())[:1]))
        raise error

    monkeypatch.setattr(Stage, "write", failing)
    res = cli("evaluate", str(SCHEME), "data.csv", "-o", "out", "-q", "--by", "team", catch=True)
    assert res.exit_code != 0
    assert snapshot(work / "out") == before
    assert leftovers(work) == []


@posix_only
def test_six_concurrent_runs_into_one_output_all_succeed(tmp_path: Path) -> None:
    write_small_csv(tmp_path / "data.csv", rows=100)
    runs = [["evaluate", SCHEME, "data.csv", "-o", "out", "-q", *(["--by", "team"] if i % 2 else [])]
            for i in range(6)]
    results = run_all(runs, tmp_path, timeout=120)
    assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == OUTPUTS
    assert leftovers(tmp_path) == []
    assert run_limited(["verify", "out"], tmp_path, timeout=60).returncode == 0


@posix_only
def test_a_run_waits_for_the_lock_of_another(tmp_path: Path) -> None:
    write_small_csv(tmp_path / "data.csv")
    with open(tmp_path / ".out.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen([sys.executable, "-m", "qualiscore", "evaluate", str(SCHEME), "data.csv", "-o",
                                 "out", "-q"], cwd=tmp_path, env=sandbox_env(tmp_path))
        time.sleep(3)
        assert proc.poll() is None and not (tmp_path / "out").exists()  # waiting, nothing published
        os.unlink(tmp_path / ".out.lock")  # as a finishing run does, while it still holds the lock
    assert proc.wait(timeout=60) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == OUTPUTS
    assert leftovers(tmp_path) == []


def test_what_was_allowed_is_recorded_and_verifies(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = [str(a) for a in _header_only(tmp_path)]
    assert cli(*args, "--allow-empty", "-q").exit_code == 0
    options = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))["options"]
    assert options["allow_empty"] is True and "allow_missing_columns" not in options
    assert cli("verify", "out").exit_code == 0
    assert cli(*map(str, _misspelt_allowed(tmp_path)), "-o", "out2", "-q").exit_code == 0
    options = json.loads((tmp_path / "out2" / "manifest.json").read_text(encoding="utf-8"))["options"]
    assert options["allow_missing_columns"] is True and "allow_empty" not in options
    assert cli("verify", "out2").exit_code == 0


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is None, reason="needs openpyxl")
def test_missing_column_names_the_input_that_lacks_it(cli: Cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    monkeypatch.chdir(tmp_path)
    write_small_csv(tmp_path / "a.csv", rows=10)
    renamed = renamed_csv(tmp_path / "b.csv", rows=20, channel="Channel Type").read_text(encoding="utf-8")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in renamed.splitlines()[:6]:
        sheet.append(line.split(",")[:13])
    book.save(tmp_path / "b.xlsx")
    res = cli("evaluate", str(SCHEME), "a.csv", "b.xlsx", "-o", "out")
    assert res.exit_code == 15, res.output
    assert "b.xlsx: error[missing-column] field 'channel' reads column 'channel', which is not in the header of " \
           "b.xlsx (did you mean 'Channel Type'?): all 5 row(s) of b.xlsx were rejected" in res.output
    assert not (tmp_path / "out").exists()
