"""The `validate` and `init` commands through click's CliRunner: exit codes, output, golden files.

Golden files live next to their schemes in tests/fixtures/validate/: <name>.txt is the text
output of `qualiscore validate <name>.yaml`, <name>.json that of `--format json`. Run with
QUALISCORE_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Cli, assert_golden
from qualiscore import __version__
from qualiscore.starter import starter_scheme

HERE = Path(__file__).parent
VALIDATE = HERE / "fixtures" / "validate"
RULES = HERE.parent / "rules"
CLEAN = (VALIDATE / "clean.yaml").read_text(encoding="utf-8")

FINDING_KEYS = {"severity", "code", "message", "hint", "file", "line", "column", "pointer"}


def run_json(cli: Cli, *args: str) -> tuple[Result, dict]:
    result = cli("validate", "--format", "json", *args)
    return result, json.loads(result.stdout)


# --------------------------------------------------------------------------- golden output

GOLDEN = [("clean", 0), ("warnings-only", 0), ("several-mistakes", 1)]


@pytest.mark.parametrize(("name", "exit_code"), GOLDEN)
def test_golden_text(cli: Cli, name: str, exit_code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALIDATE)  # relative paths in the output
    result = cli("validate", f"{name}.yaml")
    assert result.exit_code == exit_code, result.output
    assert "\x1b[" not in result.output  # no colour codes
    assert_golden(VALIDATE / f"{name}.txt", result.output)


@pytest.mark.parametrize(("name", "exit_code"), GOLDEN)
def test_golden_json(cli: Cli, name: str, exit_code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALIDATE)
    result = cli("validate", "--format", "json", f"{name}.yaml")
    assert result.exit_code == exit_code, result.output
    json.loads(result.stdout)  # stdout alone is valid JSON
    assert_golden(VALIDATE / f"{name}.json", result.stdout)


# --------------------------------------------------------------------------- exit codes


def test_clean_file_exits_0(cli: Cli) -> None:
    result = cli("validate", str(VALIDATE / "clean.yaml"))
    assert result.exit_code == 0, result.output
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in result.output


def test_warnings_only_exits_0(cli: Cli) -> None:
    result = cli("validate", str(VALIDATE / "warnings-only.yaml"))
    assert result.exit_code == 0, result.output
    assert "warning[unused-field]" in result.output
    assert "0 error(s), 2 warning(s)" in result.output


def test_warnings_with_strict_exit_1(cli: Cli) -> None:
    result = cli("validate", "--strict", str(VALIDATE / "warnings-only.yaml"))
    assert result.exit_code == 1, result.output
    assert "0 error(s), 2 warning(s)" in result.output


def test_strict_on_clean_file_exits_0(cli: Cli) -> None:
    assert cli("validate", "--strict", str(VALIDATE / "clean.yaml")).exit_code == 0


def test_errors_exit_1(cli: Cli) -> None:
    result = cli("validate", str(VALIDATE / "several-mistakes.yaml"))
    assert result.exit_code == 1, result.output
    assert "5 error(s)" in result.output


def test_load_error_exits_1(cli: Cli) -> None:
    result = cli("validate", str(HERE / "fixtures" / "broken" / "yaml-empty.yaml"))
    assert result.exit_code == 1, result.output
    assert "error[yaml-empty]" in result.output


def test_errors_in_one_of_several_files_exit_1(cli: Cli) -> None:
    result = cli("validate", str(VALIDATE / "clean.yaml"), str(VALIDATE / "several-mistakes.yaml"))
    assert result.exit_code == 1, result.output
    assert "2 file(s) checked: 5 error(s)" in result.output


def test_missing_path_exits_2(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = cli("validate", str(missing))
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output


def test_missing_path_among_good_ones_exits_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", str(VALIDATE / "clean.yaml"), str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2, result.output


def test_no_arguments_exits_2(cli: Cli) -> None:
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert "Missing argument" in result.output


@pytest.mark.parametrize("args", [["--bogus"], ["--format", "xml"], ["--strict=yes"]])
def test_bad_option_exits_2(cli: Cli, args: list[str]) -> None:
    result = cli("validate", *args, str(VALIDATE / "clean.yaml"))
    assert result.exit_code == 2, result.output


def test_unknown_command_exits_2(cli: Cli) -> None:
    assert cli("valdate", str(VALIDATE / "clean.yaml")).exit_code == 2


# --------------------------------------------------------------------------- --format json


def test_json_shape(cli: Cli) -> None:
    path = str(VALIDATE / "several-mistakes.yaml")
    result, data = run_json(cli, path)
    assert result.exit_code == 1
    assert set(data) == {"files", "errors", "warnings", "findings"}
    assert data["files"] == [path]
    assert data["errors"] == 5 and data["warnings"] == 0
    assert len(data["findings"]) == data["errors"] + data["warnings"]
    for finding in data["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in ("error", "warning")
        assert finding["file"] == path
        assert isinstance(finding["line"], int) and finding["line"] >= 1
        assert isinstance(finding["column"], int) and finding["column"] >= 1
        assert finding["pointer"].startswith("/")
        assert finding["message"]
    assert [f["code"] for f in data["findings"]] == [
        "unknown-key", "unknown-name", "non-positive-weight", "duplicate-id", "grades-overlap",
    ]


def test_json_clean_and_warnings_counts(cli: Cli) -> None:
    clean, data = run_json(cli, str(VALIDATE / "clean.yaml"))
    assert clean.exit_code == 0
    assert data["errors"] == 0 and data["warnings"] == 0 and data["findings"] == []
    warned, data = run_json(cli, "--strict", str(VALIDATE / "warnings-only.yaml"))
    assert warned.exit_code == 1
    assert data["errors"] == 0 and data["warnings"] == 2
    assert {f["severity"] for f in data["findings"]} == {"warning"}


def test_json_directory_lists_every_file(cli: Cli) -> None:
    result, data = run_json(cli, str(RULES))
    assert result.exit_code == 0, result.output
    expected = sorted(str(p) for p in RULES.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert sorted(data["files"]) == expected and len(expected) >= 3
    assert data["errors"] == 0


# --------------------------------------------------------------------------- directories of versions


def version_text(version: str, start: str, end: str | None = None, supersedes: str | None = None) -> str:
    text = CLEAN.replace("version: clean\n", f"version: {version}\n")
    text = text.replace("effective_from: 2026-01-01\n", f"effective_from: {start}\n")
    text = text.replace("effective_to: 2026-12-31\n", f"effective_to: {end}\n" if end else "")
    text = text.replace("day: 2026-03-01", f"day: {start}")  # the test's record within the version
    if supersedes:
        text = text.replace("title: Demo quality\n", f"title: Demo quality\nsupersedes: {supersedes}\n")
    return text


def write_versions(root: Path, *versions: tuple[str, str]) -> Path:
    folder = root / "demo"
    folder.mkdir()
    for version, text in versions:
        (folder / f"{version}.yaml").write_text(text, encoding="utf-8")
    return folder


def codes(data: dict) -> list[str]:
    return [f["code"] for f in data["findings"]]


def test_directory_clean_pair_exits_0(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q1", version_text("2026Q1", "2026-01-01", "2026-03-31")),
        ("2026Q2", version_text("2026Q2", "2026-04-01", supersedes="2026Q1")),
    )
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 0, result.output
    assert data["findings"] == [] and len(data["files"]) == 2


def test_directory_versions_overlap(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q1", version_text("2026Q1", "2026-01-01", "2026-03-31")),
        ("2026Q2", version_text("2026Q2", "2026-03-15", supersedes="2026Q1")),
    )
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 1
    assert codes(data) == ["versions-overlap"]
    finding = data["findings"][0]
    assert finding["file"] == str(folder / "2026Q2.yaml")
    assert finding["pointer"] == "/effective_from"
    assert (finding["line"], finding["column"]) == (6, 17)  # after the added supersedes line
    # The advice moves the new version, never the approved one it supersedes.
    assert finding["hint"] == "start 2026Q2 on 2026-04-01, the day after 2026Q1 ends"


def test_directory_versions_overlap_moves_the_unapproved_version(cli: Cli, tmp_path: Path) -> None:
    """When the earlier version is the unapproved one, it is the one to end sooner."""
    q1 = version_text("2026Q1", "2026-01-01", "2026-03-31").replace("title: Demo quality\n",
                                                                   "title: Demo quality\nsupersedes: 2026Q2\n")
    folder = write_versions(tmp_path, ("2026Q1", q1), ("2026Q2", version_text("2026Q2", "2026-03-15")))
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 1
    finding = next(f for f in data["findings"] if f["code"] == "versions-overlap")
    assert finding["file"] == str(folder / "2026Q1.yaml")
    assert finding["pointer"] == "/effective_to"
    assert finding["hint"] == "end 2026Q1 on 2026-03-14, the day before 2026Q2 starts"


def test_directory_open_ended_version_overlaps_the_next(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q1", version_text("2026Q1", "2026-01-01")),
        ("2026Q2", version_text("2026Q2", "2026-04-01", supersedes="2026Q1")),
    )
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 1
    assert codes(data) == ["versions-overlap"]
    assert "open-ended" in data["findings"][0]["message"]
    assert data["findings"][0]["hint"] == (
        "2026Q1 has no effective_to, so every later start overlaps it; 2026Q1 needs an end date "
        "(2026-03-31, the day before 2026Q2 starts), which is a change to approve")


def test_directory_versions_gap(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q1", version_text("2026Q1", "2026-01-01", "2026-03-31")),
        ("2026Q2", version_text("2026Q2", "2026-04-10", supersedes="2026Q1")),
    )
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 1
    assert codes(data) == ["versions-gap"]
    assert "2026-04-01 to 2026-04-09" in data["findings"][0]["message"]
    assert data["findings"][0]["file"] == str(folder / "2026Q2.yaml")


def test_directory_unknown_supersedes(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q1", version_text("2026Q1", "2026-01-01", "2026-03-31")),
        ("2026Q2", version_text("2026Q2", "2026-04-01", supersedes="2025Q4")),
    )
    result, data = run_json(cli, str(folder))
    assert result.exit_code == 1
    assert codes(data) == ["unknown-supersedes"]
    finding = data["findings"][0]
    assert finding["pointer"] == "/supersedes"
    assert (finding["line"], finding["column"]) == (5, 13)


def test_single_file_skips_cross_version_checks(cli: Cli, tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path,
        ("2026Q2", version_text("2026Q2", "2026-04-01", supersedes="2025Q4")),
    )
    assert cli("validate", str(folder / "2026Q2.yaml")).exit_code == 0
    assert cli("validate", str(folder)).exit_code == 1


def test_bundled_rules_validate(cli: Cli) -> None:
    result = cli("validate", str(RULES))
    assert result.exit_code == 0, result.output
    count = len([p for p in RULES.rglob("*") if p.suffix in (".yaml", ".yml")])
    assert f"{count} file(s) checked: 0 error(s)" in result.output


# --------------------------------------------------------------------------- init


def test_init_writes_a_scheme_that_validates_clean(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "rules" / "my-scheme" / "2026Q3.yaml"
    result = cli("init", str(target))
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output
    text = target.read_text(encoding="utf-8")
    assert text == starter_scheme("my-scheme", "2026Q3")
    assert "scheme: my-scheme" in text and "version: 2026Q3" in text
    checked = cli("validate", "--strict", str(target))
    assert checked.exit_code == 0, checked.output
    assert "0 error(s), 0 warning(s)" in checked.output


def test_init_scheme_option(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "2026Q3.yaml"
    assert cli("init", "--scheme", "Support", str(target)).exit_code == 0
    assert "scheme: support " in target.read_text(encoding="utf-8")
    assert cli("validate", str(target)).exit_code == 0


def test_init_refuses_to_overwrite(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "demo" / "2026Q3.yaml"
    target.parent.mkdir()
    target.write_text("# mine\n", encoding="utf-8")
    result = cli("init", str(target))
    assert result.exit_code == 2, result.output
    assert "--force" in result.output
    assert target.read_text(encoding="utf-8") == "# mine\n"


def test_init_force_overwrites(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "demo" / "2026Q3.yaml"
    target.parent.mkdir()
    target.write_text("# mine\n", encoding="utf-8")
    result = cli("init", "--force", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == starter_scheme("demo", "2026Q3")
    assert cli("validate", str(target)).exit_code == 0


# --------------------------------------------------------------------------- --version, --help


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output == f"qualiscore, version {__version__}\n"


def test_help_has_examples(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "qualiscore validate rules/" in result.output
    assert "qualiscore init rules/my-scheme/2026Q3.yaml" in result.output


def test_validate_help_has_examples_and_exit_codes(cli: Cli) -> None:
    result = cli("validate", "--help")
    assert result.exit_code == 0
    assert "qualiscore validate rules/cs-quality/2026Q2.yaml" in result.output
    assert "qualiscore validate rules/ --format json --strict" in result.output
    assert "Exit status: 0 clean, 1 errors" in result.output
    assert "-h" in result.output


def test_init_help_has_example(cli: Cli) -> None:
    result = cli("init", "--help")
    assert result.exit_code == 0
    assert "qualiscore init rules/my-scheme/2026Q3.yaml" in result.output


def test_the_caret_stands_under_the_column(cli: Cli, tmp_path: Path) -> None:
    """In any language, under the character that line:column names in the excerpt."""
    for lang in ("en", "zh-CN"):
        result = cli("validate", "tests/fixtures/broken/unknown-key-typo.yaml", "--lang", lang)
        lines = result.output.splitlines()
        source, caret = lines[1], lines[2]
        column = int(lines[0].split(":")[2])
        assert source[caret.index("^")] == "titel: Demo quality"[column - 1] == "t"
