"""A run's schemes and their rules repository: what the manifest records, what verify proves, what reports say.

Every test works in a real git repository made in tmp_path (the current directory):
rules/cs-quality/2026Q1.yaml and 2026Q2.yaml committed and tagged approved/2026Q2,
and data/head.csv (300 April rows) and data/q1q2.csv (every 10th row of February–May), which are not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import qualiscore.rulesrepo
from conftest import Cli
from qualiscore.rulesrepo import GitPlace, Repository, blob_id, locate

ROOT = Path(__file__).resolve().parent.parent
Q2 = "rules/cs-quality/2026Q2.yaml"
VERSIONS = "rules/cs-quality/"
TAG = "approved/2026Q2"
CHAT_60, CHAT_90 = "response_target_s: {chat: 60,", "response_target_s: {chat: 90,"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory: a rules repository with both versions committed and tagged."""
    for name, value in {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "committee",
                        "GIT_AUTHOR_EMAIL": "qs@example.invalid", "GIT_COMMITTER_NAME": "committee",
                        "GIT_COMMITTER_EMAIL": "qs@example.invalid"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    git("init", "-q", "-b", "main")
    shutil.copytree(ROOT / "rules" / "cs-quality", tmp_path / "rules" / "cs-quality")
    lines = (ROOT / "data/sample/interactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data/head.csv").write_text("".join(lines[:301]), encoding="utf-8")
    q1q2 = (ROOT / "data/sample/interactions-q1q2.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data/q1q2.csv").write_text(q1q2[0] + "".join(q1q2[1::10]), encoding="utf-8")
    git("add", "rules")
    git("commit", "-q", "-m", "2026Q1 and 2026Q2 as approved")
    git("tag", TAG)
    return tmp_path


def edit(path: str | Path, old: str, new: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    assert old in text, old
    Path(path).write_text(text.replace(old, new, 1), encoding="utf-8")


def evaluate(cli: Cli, *args: str, out: str = "out") -> dict[str, Any]:
    result = cli("evaluate", *args, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))


def verify_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("verify", *args, "--format", "json")
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return report


def write_manifest(out: str, manifest: dict[str, Any]) -> None:
    (Path(out) / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2)
                                             + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- locating a file


def test_blob_id_is_gits_without_git(repo: Path) -> None:
    data = Path(Q2).read_bytes()
    assert blob_id(data) == git("hash-object", Q2) == git("rev-parse", f"HEAD:{Q2}")
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_a_committed_file_records_its_last_commit(repo: Path) -> None:
    head = git("rev-parse", "HEAD")
    assert locate(Q2, Path(Q2).read_bytes()) == GitPlace(Q2, git("rev-parse", f"HEAD:{Q2}"), head, True)
    # an unrelated commit moves HEAD, not the commit that last changed the file
    Path("README").write_text("rules\n", encoding="utf-8")
    git("add", "README")
    git("commit", "-q", "-m", "readme")
    assert locate(Q2, Path(Q2).read_bytes()) == GitPlace(Q2, blob_id(Path(Q2).read_bytes()), head, True)


def test_an_edited_file_is_not_committed(repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    data = Path(Q2).read_bytes()
    assert locate(Q2, data) == GitPlace(Q2, blob_id(data), git("rev-parse", "HEAD"), False)


def test_a_staged_change_is_not_committed(repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    git("add", Q2)
    place = locate(Q2, Path(Q2).read_bytes())
    assert place is not None and not place.committed


def test_an_untracked_file_has_no_commit(repo: Path) -> None:
    shutil.copy(Q2, "rules/new.yaml")
    data = Path("rules/new.yaml").read_bytes()
    assert locate("rules/new.yaml", data) == GitPlace("rules/new.yaml", blob_id(data), None, False)


def test_the_path_is_relative_to_the_top_of_the_repository(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "rules")
    place = locate("cs-quality/2026Q2.yaml", (repo / Q2).read_bytes())
    assert place is not None and place.path == Q2 and place.committed


def test_outside_a_repository_or_without_git_there_is_no_place(repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path_factory.mktemp("plain") / "2026Q2.yaml"
    shutil.copy(Q2, elsewhere)
    assert locate(elsewhere, elsewhere.read_bytes()) is None
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-git")))
    assert locate(Q2, Path(Q2).read_bytes()) is None


def test_git_dir_in_the_environment_does_not_move_the_repository(repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path_factory.mktemp("other")
    git("init", "-q", cwd=other)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    place = locate(Q2, Path(Q2).read_bytes())
    assert place is not None and place.committed


# --------------------------------------------------------------------------- the manifest


def test_the_manifest_records_each_version_in_git(cli: Cli, repo: Path) -> None:
    manifest = evaluate(cli, VERSIONS, "data/q1q2.csv")
    head = git("rev-parse", "HEAD")
    assert [s["git"] for s in manifest["schemes"]] == [
        {"path": f"rules/cs-quality/{v}.yaml", "blob": git("rev-parse", f"HEAD:rules/cs-quality/{v}.yaml"),
         "commit": head, "committed": True} for v in ("2026Q1", "2026Q2")]


def test_outside_a_repository_the_manifest_records_null(cli: Cli, repo: Path) -> None:
    shutil.rmtree(".git")
    assert evaluate(cli, Q2, "data/head.csv")["schemes"][0]["git"] is None


def test_both_engines_record_the_same_schemes(cli: Cli, repo: Path) -> None:
    pytest.importorskip("polars")
    edit(Q2, CHAT_60, CHAT_90)
    rows = evaluate(cli, Q2, "data/head.csv", "--engine", "rows", out="rows")
    columnar = evaluate(cli, Q2, "data/head.csv", "--engine", "columnar", out="columnar")
    assert rows["schemes"] == columnar["schemes"] and rows["schemes"][0]["git"]["committed"] is False


def test_each_scheme_file_is_located_once_per_run(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counted(path: str | Path, data: bytes) -> GitPlace | None:
        calls.append(Path(path).name)
        return locate(path, data)

    monkeypatch.setattr(qualiscore.rulesrepo, "locate", counted)
    formats = ["--format", "xlsx"] if _has("openpyxl") else []
    report = ["--report"] if _has("plotly") else []
    evaluate(cli, VERSIONS, "data/head.csv", *formats, *report)
    assert sorted(calls) == ["2026Q1.yaml", "2026Q2.yaml", "2026Q3.yaml"]  # every version of the directory


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_validate_runs_no_git(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*_: object, **__: object) -> None:
        raise AssertionError("validate started a process")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    result = cli("validate", "rules/")
    assert result.exit_code == 0, result.output


def test_unrelated_commits_leave_the_manifest_unchanged(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv", out="before")
    Path("README").write_text("rules\n", encoding="utf-8")
    git("add", "README")
    git("commit", "-q", "-m", "readme")
    evaluate(cli, Q2, "data/head.csv", out="after")
    assert Path("before/manifest.json").read_bytes() == Path("after/manifest.json").read_bytes()


# --------------------------------------------------------------------------- verify: the recorded place


def test_a_committed_run_verifies_without_notes(cli: Cli, repo: Path) -> None:
    evaluate(cli, VERSIONS, "data/head.csv")
    report = verify_json(cli, "out")
    assert report["verified"] and report["notes"] == [] and report["approved"] == []


def test_the_recomputation_asks_git_nothing(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate(cli, Q2, "data/head.csv")
    git("mv", Q2, "rules/moved.yaml")  # the repository moves on: the file is still there, as copied below
    git("commit", "-q", "-m", "moved")
    shutil.copy("rules/moved.yaml", Q2)

    def no_git(*_: object) -> None:
        raise AssertionError("the recomputation located the scheme in git again")

    monkeypatch.setattr(qualiscore.rulesrepo, "locate", no_git)
    result = cli("verify", "out")
    assert result.exit_code == 0, result.output


def test_an_uncommitted_run_verifies_with_a_note(cli: Cli, repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    evaluate(cli, Q2, "data/head.csv")
    result = cli("verify", "out")
    assert result.exit_code == 0, result.output
    short = git("rev-parse", "HEAD")[:12]
    assert (f"  note: scheme-uncommitted: scheme cs-quality 2026Q2 was run with uncommitted changes to {Q2} "
            f"(last committed in {short}): the version that ran is not one its repository holds") in result.output
    [note] = verify_json(cli, "out")["notes"]
    assert (note["kind"], note["file"]) == ("scheme-uncommitted", Q2)


def test_a_never_committed_scheme_is_noted(cli: Cli, repo: Path) -> None:
    shutil.copy(Q2, "rules/draft.yaml")
    evaluate(cli, "rules/draft.yaml", "data/head.csv")
    [note] = verify_json(cli, "out")["notes"]
    assert "uncommitted changes to rules/draft.yaml (never committed)" in note["message"]


@pytest.mark.parametrize(("field", "value", "says"), [
    ("blob", "0" * 40, "it names blob 000000000000, but the scheme file that ran is blob "),
    ("commit", "1" * 40, "has no commit 1111111111111111111111111111111111111111"),
    ("path", "rules/cs-quality/2026Q1.yaml", "that commit holds blob "),
    ("committed", True, "that commit holds blob "),
], ids=["blob", "commit", "path", "committed"])
def test_a_forged_git_record_exits_14(cli: Cli, repo: Path, field: str, value: object, says: str) -> None:
    if field == "committed":
        edit(Q2, CHAT_60, CHAT_90)  # an uncommitted run forged as committed
    manifest = evaluate(cli, Q2, "data/head.csv")
    manifest["schemes"][0]["git"][field] = value
    write_manifest("out", manifest)
    report = verify_json(cli, "out")
    assert report["exit_code"] == 14
    wrong = [d["message"] for d in report["discrepancies"] if d["kind"] == "scheme-git-mismatch"]
    assert all(m.startswith(f"the manifest's git record of {Q2} is wrong: ") for m in wrong)
    assert says in wrong[0], wrong


def test_a_commit_not_in_this_repository_is_noted_when_there_is_none(cli: Cli, repo: Path,
                                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    evaluate(cli, Q2, "data/head.csv")
    copy = tmp_path_factory.mktemp("copy")
    for name in ("rules", "data", "out"):
        shutil.copytree(name, copy / name)
    result = cli("verify", str(copy / "out"), "--base", str(copy))
    assert result.exit_code == 0, result.output
    assert "note: scheme-git-unchecked: the commit recorded for scheme cs-quality 2026Q2" in result.output


# --------------------------------------------------------------------------- verify: a changed scheme


def test_a_scheme_changed_after_the_run_shows_what_changed(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv")
    edit(Q2, CHAT_60, CHAT_90)
    result = cli("verify", "out")
    assert result.exit_code == 10, result.output
    short = git("rev-parse", "HEAD")[:12]
    assert (f"  scheme-changed: scheme cs-quality 2026Q2 was changed after the run (SHA-256 differs)\n"
            f"      the version that ran is {Q2} at commit {short}; what changed since:\n"
            "      Constants (1)\n"
            "        ~ constants.response_target_s.chat: 60 → 90  [constant-changed; lines 125 → 125]\n"
            ) in result.output
    [changed] = verify_json(cli, "out")["discrepancies"]
    assert changed["details"][-1] == "  ~ constants.response_target_s.chat: 60 → 90  [constant-changed; lines 125 → 125]"


def test_a_scheme_run_uncommitted_then_changed_cannot_show_what_changed(cli: Cli, repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    evaluate(cli, Q2, "data/head.csv")
    edit(Q2, CHAT_90, "response_target_s: {chat: 120,")
    [changed] = verify_json(cli, "out")["discrepancies"]
    assert changed["details"] == ["what changed cannot be shown: it had uncommitted changes when run, so no commit "
                                  "holds the version that ran"]


def test_a_changed_scheme_of_a_run_outside_git_says_why_nothing_is_shown(cli: Cli, repo: Path) -> None:
    shutil.rmtree(".git")
    evaluate(cli, Q2, "data/head.csv")
    edit(Q2, CHAT_60, CHAT_90)
    [changed] = verify_json(cli, "out")["discrepancies"]
    assert changed["details"] == [f"what changed cannot be shown: {Q2} is not in a git repository here "
                                  "(see --rules-repo)"]


def test_only_a_layout_change_says_so(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv")
    with open(Q2, "a", encoding="utf-8") as f:
        f.write("# a comment added after the run\n")
    [changed] = verify_json(cli, "out")["discrepancies"]
    assert changed["details"][1:] == ["no semantic change: only layout or comments differ"]


# --------------------------------------------------------------------------- verify --rules-rev


def test_rules_rev_passes_for_the_approved_file(cli: Cli, repo: Path) -> None:
    evaluate(cli, VERSIONS, "data/q1q2.csv")
    result = cli("verify", "out", "--rules-rev", TAG)
    assert result.exit_code == 0, result.output
    short = git("rev-parse", TAG)[:12]
    assert f"  approved: scheme cs-quality 2026Q2 is {Q2} at {TAG} (commit {short})\n" in result.output
    assert len(verify_json(cli, "out", "--rules-rev", "main")["approved"]) == 2


def test_rules_rev_refuses_an_edit_run_without_commit(cli: Cli, repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    evaluate(cli, Q2, "data/head.csv")
    result = cli("verify", "out", "--rules-rev", TAG)
    assert result.exit_code == 10, result.output
    short = git("rev-parse", TAG)[:12]
    assert (f"  scheme-not-approved: scheme cs-quality 2026Q2 is not the file at {TAG}: the file that ran differs "
            f"from {Q2} at commit {short}\n"
            f"      what the run used differs from {Q2} at {TAG} by:\n"
            "      Constants (1)\n"
            "        ~ constants.response_target_s.chat: 60 → 90  [constant-changed; lines 125 → 125]\n"
            ) in result.output
    assert "note: scheme-uncommitted" in result.output


def test_rules_rev_refuses_a_version_committed_after_the_tag(cli: Cli, repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    git("commit", "-q", "-am", "chat 90, not approved")
    evaluate(cli, Q2, "data/head.csv")
    assert verify_json(cli, "out")["notes"] == []  # committed: nothing to note
    assert cli("verify", "out", "--rules-rev", "main").exit_code == 0
    report = verify_json(cli, "out", "--rules-rev", TAG)
    assert report["exit_code"] == 10
    [refused] = report["discrepancies"]
    assert refused["kind"] == "scheme-not-approved" and "60 → 90" in refused["details"][-1]


def test_rules_rev_refuses_a_file_the_revision_does_not_have(cli: Cli, repo: Path) -> None:
    shutil.copy(Q2, "rules/cs-quality/copy.yaml")
    git("add", "rules/cs-quality/copy.yaml")
    git("commit", "-q", "-m", "a copy")
    evaluate(cli, "rules/cs-quality/copy.yaml", "data/head.csv")
    [refused] = verify_json(cli, "out", "--rules-rev", TAG)["discrepancies"]
    assert refused["message"].endswith(f"rules/cs-quality/copy.yaml does not exist at commit "
                                       f"{git('rev-parse', TAG)[:12]}")


def test_rules_rev_unknown_to_the_repository(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv")
    [refused] = verify_json(cli, "out", "--rules-rev", "approved/2099Q1")["discrepancies"]
    assert refused["kind"] == "scheme-not-approved" and "has no revision 'approved/2099Q1'" in refused["message"]
    result = cli("verify", "out", "--rules-rev", "approved/2099Q1", "--rules-repo", ".")
    assert result.exit_code == 2 and "has no revision 'approved/2099Q1'" in result.output


def test_rules_repo_that_is_not_a_repository_is_a_usage_error(cli: Cli, repo: Path,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    evaluate(cli, Q2, "data/head.csv")
    result = cli("verify", "out", "--rules-rev", TAG, "--rules-repo", str(tmp_path_factory.mktemp("plain")))
    assert result.exit_code == 2 and "is not a git repository" in result.output


def test_rules_repo_a_clone_vouches_for_a_scheme_copied_out(cli: Cli, repo: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    evaluate(cli, Q2, "data/head.csv")
    clone = tmp_path_factory.mktemp("clone") / "rules-repo"
    git("clone", "-q", str(repo), str(clone))
    copy = tmp_path_factory.mktemp("copy")
    for name in ("rules", "data", "out"):
        shutil.copytree(name, copy / name)
    args = [str(copy / "out"), "--base", str(copy), "--rules-rev", TAG]
    assert verify_json(cli, *args)["exit_code"] == 10  # no repository holds the copy
    result = cli("verify", *args, "--rules-repo", str(clone))
    assert result.exit_code == 0, result.output
    assert "approved: scheme cs-quality 2026Q2" in result.output and "note" not in result.output


def test_rules_rev_with_a_scheme_never_in_git(cli: Cli, repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    plain = tmp_path_factory.mktemp("plain")
    shutil.copy(Q2, plain / "2026Q2.yaml")
    evaluate(cli, str(plain / "2026Q2.yaml"), "data/head.csv")
    [refused] = verify_json(cli, "out", "--rules-rev", TAG)["discrepancies"]
    assert "is not in a git repository here (pass --rules-repo)" in refused["message"]
    [refused] = verify_json(cli, "out", "--rules-rev", TAG, "--rules-repo", ".")["discrepancies"]
    assert "the run recorded no place in git" in refused["message"]


def test_a_changed_scheme_is_shown_against_the_rules_rev_that_holds_the_version_run(cli: Cli, repo: Path) -> None:
    shutil.rmtree(".git")  # a run outside git; the repository comes back, holding the version that ran
    evaluate(cli, Q2, "data/head.csv")
    git("init", "-q", "-b", "main")
    git("add", "rules")
    git("commit", "-q", "-m", "approved")
    git("tag", TAG)
    edit(Q2, CHAT_60, CHAT_90)
    report = verify_json(cli, "out", "--rules-rev", TAG)
    assert report["exit_code"] == 10 and [d["kind"] for d in report["discrepancies"]] == ["scheme-changed"]
    assert report["discrepancies"][0]["details"][0] == f"the version that ran is {Q2} at {TAG}; what changed since:"
    assert report["approved"] == [f"scheme cs-quality 2026Q2 is {Q2} at {TAG} (commit {git('rev-parse', TAG)[:12]})"]


# --------------------------------------------------------------------------- what reports and explain say


def approvals(cli: Cli) -> str:
    result = cli("report", "out", "--format", "md", "-o", "report.md")
    assert result.exit_code == 0, result.output
    line = next(x for x in Path("report.md").read_text(encoding="utf-8").splitlines() if x.startswith("| Approved"))
    return line


def explained(cli: Cli, *source: str) -> str:
    result = cli("explain", *source, "--subject", "A001/2026-04")
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[1]


def test_a_committed_scheme_is_shown_approved(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv")
    short = git("rev-parse", "HEAD")[:12]
    assert approvals(cli) == f"| Approved by | 服务质量委员会, 2026-03-20 (committed as {short}) (2026Q2) |"
    line = f"Approved by 服务质量委员会, 2026-03-20 (committed as {short})"
    assert explained(cli, "out") == line
    assert explained(cli, Q2, "data/head.csv") == line


def test_an_uncommitted_scheme_is_not_shown_approved(cli: Cli, repo: Path) -> None:
    edit(Q2, CHAT_60, CHAT_90)
    evaluate(cli, Q2, "data/head.csv")
    says = ("approved\\_by says 服务质量委员会, 2026-03-20, but the scheme file was not committed unchanged when run "
            "(not an approved version)")
    assert approvals(cli) == f"| Approved by | {says} (2026Q2) |"
    assert explained(cli, "out") == explained(cli, Q2, "data/head.csv") == says.replace("\\_", "_")


def test_a_scheme_outside_git_is_not_shown_approved(cli: Cli, repo: Path) -> None:
    shutil.rmtree(".git")
    evaluate(cli, Q2, "data/head.csv")
    says = ("approved_by says 服务质量委员会, 2026-03-20, but the scheme file was not in a rules repository when run "
            "(not shown to be approved)")
    assert explained(cli, "out") == says
    escaped = says.replace("_", "\\_")
    assert approvals(cli) == f"| Approved by | {escaped} (2026Q2) |"


def test_the_html_report_says_it_in_the_language_of_the_run(cli: Cli, repo: Path) -> None:
    pytest.importorskip("plotly")
    edit(Q2, CHAT_60, CHAT_90)
    evaluate(cli, Q2, "data/head.csv", "--report")
    page = Path("out/report.html").read_text(encoding="utf-8")
    assert ("approved_by says 服务质量委员会, 2026-03-20, but the scheme file was not committed unchanged when run "
            "(not an approved version)") in page
    evaluate(cli, Q2, "data/head.csv", "--report", "--lang", "zh-CN", out="out-zh")
    page = Path("out-zh/report.html").read_text(encoding="utf-8")
    assert "approved_by 写的是 服务质量委员会, 2026-03-20，但运行时方案文件有未提交的修改（不是已批准的版本）" in page


def test_a_changed_scheme_file_gives_no_approval_line(cli: Cli, repo: Path) -> None:
    evaluate(cli, Q2, "data/head.csv")
    edit(Q2, CHAT_60, CHAT_90)
    result = cli("explain", "out", "--subject", "A001/2026-04")
    assert result.exit_code == 0 and "pproved" not in result.output


def test_repository_reads_nothing_for_a_revision_starting_with_a_dash(repo: Path) -> None:
    found = Repository.at(repo)
    assert found is not None and found.commit("--all") is None and found.read("--all", Q2, limit=100) is None
    assert found.commit(TAG) == git("rev-parse", TAG)
